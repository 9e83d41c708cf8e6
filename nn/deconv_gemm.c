/* deconv_gemm.c - transposed convolution with few output channels: one matrix product over the
 * input pixels, then a gather of the taps into the output (col2im).
 *
 * oneDNN runs a transposed convolution in its blocked layout with the output channels padded to
 * 16. For an image codec's last layer (64 -> 3 channels, 5x5, stride 2) that is 5.3x the
 * arithmetic plus a reorder of the padded result, and it measured as slow as the 64 -> 64 layer
 * before it (nn/README.md). Here, per band of input rows,
 *   cols[(o, ky, kx)][p] = sum_i W[i][o][ky][kx] x[i][p]        (one sgemm, M = O k k)
 *   y[o][iy s - pad + ky][ix s - pad + kx] += cols[(o, ky, kx)][(iy, ix)]
 * starting from the bias. The bands bound the workspace to NN_DECONV_GEMM_BAND_FLOATS whatever
 * the image size. Forward only: backward stays on oneDNN (conv_dnnl.c). */
#include <string.h>

#include "nn_internal.h"

/* cols of one band: 1 MB, about a core's L2, so the gather reads what the sgemm just wrote. */
#define NN_DECONV_GEMM_BAND_FLOATS ((size_t)1 << 18)

bool nn_deconv_gemm_fits(const nn_net *net, const nn_node *nd) {
  const nn_node *src = &net->nodes[nd->in[0]];
  return nd->op == NN_OP_DECONV && nd->c < 16 && !nd->blk && !src->blk;
}

/* Input rows per band (at least one). */
static int band_rows(const nn_net *net, const nn_node *nd) {
  const nn_node *src = &net->nodes[nd->in[0]];
  const size_t per_row = (size_t)nd->c * (size_t)nd->k * (size_t)nd->k * (size_t)src->w;
  size_t rows = NN_DECONV_GEMM_BAND_FLOATS / per_row;
  if (rows < 1)
    rows = 1;
  return rows < (size_t)src->h ? (int)rows : src->h;
}

size_t nn_deconv_gemm_ws_bytes(const nn_net *net, const nn_node *nd) {
  const nn_node *src = &net->nodes[nd->in[0]];
  return sizeof(float) * (size_t)nd->c * (size_t)nd->k * (size_t)nd->k *
         (size_t)band_rows(net, nd) * (size_t)src->w;
}

/* Adds the taps of input rows [r0, r1) (cols, laid out [(o, ky, kx)][(iy - r0) IW + ix]) into
 * output channel o of y (OH x OW). */
static void gather_band(const nn_node *nd, const float *cols, int r0, int r1, int IW, int o,
                        float *y) {
  const int k = nd->k, s = nd->stride, pad = nd->pad, OH = nd->h, OW = nd->w;
  const size_t P = (size_t)(r1 - r0) * (size_t)IW;
  for (int ky = 0; ky < k; ky++)
    for (int kx = 0; kx < k; kx++) {
      const float *cp = cols + ((size_t)(o * k + ky) * (size_t)k + (size_t)kx) * P;
      /* input columns whose tap kx lands inside the output: 0 <= ix s - pad + kx < OW */
      int ix0 = pad - kx > 0 ? (pad - kx + s - 1) / s : 0;
      const int last = OW - 1 + pad - kx; /* ix s <= last */
      int ix1 = last < 0 ? 0 : last / s + 1;
      if (ix1 > IW)
        ix1 = IW;
      for (int iy = r0; iy < r1; iy++) {
        const int oy = iy * s - pad + ky;
        if (oy < 0 || oy >= OH)
          continue;
        float *yr = y + (size_t)oy * (size_t)OW;
        const float *cr = cp + (size_t)(iy - r0) * (size_t)IW;
        for (int ix = ix0; ix < ix1; ix++)
          yr[ix * s - pad + kx] += cr[ix];
      }
    }
}

int nn_deconv_gemm_forward(nn_net *net, nn_node *nd, const nn_tensor *x) {
  const nn_node *src = &net->nodes[nd->in[0]];
  const int I = src->c, IH = src->h, IW = src->w, O = nd->c, k = nd->k;
  const long M = (long)O * k * k;
  const size_t OHW = (size_t)nd->h * (size_t)nd->w, IHW = (size_t)IH * (size_t)IW;
  const float *w = net->params[nd->p[0]].value.data; /* [I][O][k][k] = [I][M] */
  const float *bias = nd->bias ? net->params[nd->p[1]].value.data : NULL;
  const int rows = band_rows(net, nd), thr = net->threads;
  float *cols = net->ws[0];
  for (int n = 0; n < x->n; n++) {
    float *y = nd->out.data + (size_t)n * (size_t)O * OHW;
    const float *xn = x->data + (size_t)n * (size_t)I * IHW;
    for (int o = 0; o < O; o++) {
      const float b = bias ? bias[o] : 0.f;
      for (size_t i = 0; i < OHW; i++)
        y[(size_t)o * OHW + i] = b;
    }
    for (int r0 = 0; r0 < IH; r0 += rows) {
      const int r1 = r0 + rows < IH ? r0 + rows : IH;
      const long P = (long)(r1 - r0) * IW;
      int rc = nn_sgemm(net, 'T', 'N', M, P, I, 1.f, w, M, xn + (size_t)r0 * (size_t)IW, (long)IHW,
                        0.f, cols, P);
      if (rc != NN_OK)
        return rc;
        /* channels write disjoint planes */
#pragma omp parallel for schedule(static) num_threads(thr < O ? thr : O)
      for (int o = 0; o < O; o++)
        gather_band(nd, cols, r0, r1, IW, o, y + (size_t)o * OHW);
    }
  }
  return NN_OK;
}
