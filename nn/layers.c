/* layers.c - float kernels for everything except convolution: memory-bound element-wise and
 * per-channel work in plain C + OpenMP, the two matrix products (linear, GDN's channel mixing)
 * through oneDNN's sgemm. Parallel loops split over independent channels/planes and each
 * reduction runs in a fixed order inside one thread, so these kernels give the same bits for
 * any thread count. nn_ref.c holds the double-precision reference each one is tested against. */
#include <math.h>
#include <string.h>

#include "nn_internal.h"

static inline size_t plane(const nn_tensor *t) { return (size_t)t->h * (size_t)t->w; }

void nn_k_add_into(const float *src, float *dst, size_t n, bool accum, int thr) {
  if (!accum) {
    memcpy(dst, src, n * sizeof *dst);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(thr) if (n > 65536)
  for (size_t i = 0; i < n; i++)
    dst[i] += src[i];
}

void nn_k_relu_fwd(const nn_tensor *x, nn_tensor *y, int thr) {
  const size_t n = nn_tensor_numel(x);
  const float *a = x->data;
  float *b = y->data;
#pragma omp parallel for schedule(static) num_threads(thr) if (n > 65536)
  for (size_t i = 0; i < n; i++)
    b[i] = a[i] > 0.f ? a[i] : 0.f;
}

void nn_k_relu_bwd(const nn_tensor *y, const nn_tensor *dy, nn_tensor *dx, bool accum, int thr) {
  const size_t n = nn_tensor_numel(y);
  const float *o = y->data, *g = dy->data;
  float *d = dx->data;
  /* y > 0 iff x > 0: the output is enough to know the mask. The gradient is loaded
   * unconditionally so the select vectorises (a conditional load would not). */
  if (accum) {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
      float gv = g[i];
      d[i] += o[i] > 0.f ? gv : 0.f;
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
      float gv = g[i];
      d[i] = o[i] > 0.f ? gv : 0.f;
    }
  }
}

/* ---- batch normalisation ---- */

enum { LANES = 16 };

/* sum(a) and sum(a * (b - c)) over n floats in LANES independent float accumulators: GCC
 * vectorises this without -ffast-math, and the summation order is fixed (deterministic).
 * b may be NULL (then only sum(a)). Per-plane partials are combined in double by the caller. */
static void lane_sums(const float *a, const float *b, float c, size_t n, double *sa, double *sab) {
  float acc[LANES] = {0}, accb[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int l = 0; l < LANES; l++) {
      acc[l] += a[i + l];
      if (b)
        accb[l] += a[i + l] * (b[i + l] - c);
    }
  double s = 0, sb = 0;
  for (int l = 0; l < LANES; l++)
    s += acc[l], sb += accb[l];
  for (; i < n; i++) {
    s += a[i];
    if (b)
      sb += (double)a[i] * (b[i] - c);
  }
  *sa += s;
  if (sab)
    *sab += sb;
}

/* sum((a - c)^2) with the same lane scheme. */
static double lane_sqdev(const float *a, float c, size_t n) {
  float acc[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int l = 0; l < LANES; l++) {
      float d = a[i + l] - c;
      acc[l] += d * d;
    }
  double s = 0;
  for (int l = 0; l < LANES; l++)
    s += acc[l];
  for (; i < n; i++)
    s += (double)(a[i] - c) * (a[i] - c);
  return s;
}

void nn_k_bn_fwd(nn_net *net, nn_node *nd, const nn_tensor *x, nn_mode mode) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x);
  const double M = (double)N * (double)HW;
  float *gam = net->params[nd->p[0]].value.data, *bet = net->params[nd->p[1]].value.data;
  float *rm = net->params[nd->p[2]].value.data, *rv = net->params[nd->p[3]].value.data;
  float *mean_s = nd->save, *istd_s = nd->save + C;
  const double mom = nd->momentum, eps = nd->eps;
#pragma omp parallel for schedule(static) num_threads(net->threads)
  for (int c = 0; c < C; c++) {
    double mean, var;
    if (mode == NN_TRAIN) {
      /* Two passes (mean, then squared deviations): the one-pass formula loses digits. */
      double s = 0;
      for (int n = 0; n < N; n++)
        lane_sums(x->data + ((size_t)n * C + c) * HW, NULL, 0.f, HW, &s, NULL);
      mean = s / M;
      double v = 0;
      for (int n = 0; n < N; n++)
        v += lane_sqdev(x->data + ((size_t)n * C + c) * HW, (float)mean, HW);
      /* the deviation was taken from the float-rounded mean: correct for the offset */
      double dm = mean - (double)(float)mean;
      var = v / M - dm * dm;
      var = var > 0 ? var : 0;
      rm[c] = (float)((1 - mom) * rm[c] + mom * mean);
      rv[c] = (float)((1 - mom) * rv[c] + mom * (M > 1 ? var * M / (M - 1) : var));
    } else {
      mean = rm[c];
      var = rv[c];
    }
    double istd = 1.0 / sqrt(var + eps);
    mean_s[c] = (float)mean;
    istd_s[c] = (float)istd;
    const float a = (float)(gam[c] * istd), b = (float)(bet[c] - gam[c] * istd * mean);
    for (int n = 0; n < N; n++) {
      const float *p = x->data + ((size_t)n * C + c) * HW;
      float *q = nd->out.data + ((size_t)n * C + c) * HW;
      for (size_t i = 0; i < HW; i++)
        q[i] = a * p[i] + b;
    }
  }
}

void nn_k_bn_bwd(nn_net *net, nn_node *nd, const nn_tensor *x, bool want_dx, nn_tensor *dx,
                 bool accum, bool want_dp, nn_mode mode) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x);
  const double M = (double)N * (double)HW;
  nn_param *pg = &net->params[nd->p[0]], *pb = &net->params[nd->p[1]];
  const float *gam = pg->value.data;
  const float *mean_s = nd->save, *istd_s = nd->save + C;
  const float *dy = nd->grad.data;
#pragma omp parallel for schedule(static) num_threads(net->threads)
  for (int c = 0; c < C; c++) {
    const double mean = mean_s[c], istd = istd_s[c];
    double sg = 0, sgd = 0; /* sum(dy), sum(dy * (x - mean)) */
    /* Eval mode without parameter gradients (a frozen net's input gradient) needs no sums. */
    for (int n = 0; n < N && (want_dp || mode == NN_TRAIN); n++) {
      const size_t o = ((size_t)n * C + c) * HW;
      lane_sums(dy + o, x->data + o, mean_s[c], HW, &sg, &sgd);
    }
    const double sgx = sgd * istd;
    if (want_dp) {
      if (!pg->frozen)
        pg->grad.data[c] += (float)sgx;
      if (!pb->frozen)
        pb->grad.data[c] += (float)sg;
    }
    if (!want_dx)
      continue;
    /* Train mode differentiates through the batch statistics; eval mode is affine:
     * dx = k (dy - sg/M - xhat sgx/M) = A dy + B x + D with xhat = (x - mean) istd. */
    const double k = gam[c] * istd;
    const double ag = mode == NN_TRAIN ? sg / M : 0.0, agx = mode == NN_TRAIN ? sgx / M : 0.0;
    const float A = (float)k, B = (float)(-k * agx * istd),
                D = (float)(-k * ag + k * agx * istd * mean);
    for (int n = 0; n < N; n++) {
      const size_t o = ((size_t)n * C + c) * HW;
      const float *xp = x->data + o, *g = dy + o;
      float *d = dx->data + o;
      if (accum)
        for (size_t i = 0; i < HW; i++)
          d[i] += A * g[i] + B * xp[i] + D;
      else
        for (size_t i = 0; i < HW; i++)
          d[i] = A * g[i] + B * xp[i] + D;
    }
  }
}

/* ---- pooling ---- */

void nn_k_maxpool_fwd(nn_node *nd, const nn_tensor *x, int thr) {
  const int H = x->h, W = x->w, OH = nd->h, OW = nd->w, k = nd->k, s = nd->stride, pd = nd->pad;
  const int planes = x->n * x->c;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int pl = 0; pl < planes; pl++) {
    const float *p = x->data + (size_t)pl * H * W;
    float *q = nd->out.data + (size_t)pl * OH * OW;
    int32_t *id = nd->idx + (size_t)pl * OH * OW;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int h0 = oh * s - pd, w0 = ow * s - pd;
        int h1 = h0 + k < H ? h0 + k : H, w1 = w0 + k < W ? w0 + k : W;
        h0 = h0 > 0 ? h0 : 0;
        w0 = w0 > 0 ? w0 : 0;
        int bi = h0 * W + w0;
        float best = p[bi];
        for (int ih = h0; ih < h1; ih++)
          for (int iw = w0; iw < w1; iw++)
            if (p[ih * W + iw] > best) { /* first maximum wins, as in PyTorch */
              best = p[ih * W + iw];
              bi = ih * W + iw;
            }
        q[oh * OW + ow] = best;
        id[oh * OW + ow] = bi;
      }
  }
}

void nn_k_maxpool_bwd(nn_node *nd, nn_tensor *dx, bool accum, int thr) {
  const size_t HW = plane(dx), OHW = (size_t)nd->h * nd->w;
  const int planes = dx->n * dx->c;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int pl = 0; pl < planes; pl++) {
    float *d = dx->data + (size_t)pl * HW;
    const float *g = nd->grad.data + (size_t)pl * OHW;
    const int32_t *id = nd->idx + (size_t)pl * OHW;
    if (!accum)
      memset(d, 0, HW * sizeof *d);
    for (size_t i = 0; i < OHW; i++)
      d[id[i]] += g[i];
  }
}

/* PyTorch's avg_pool2d window and divisor (count_include_pad = true, ceil_mode = false). */
static inline void avg_window(int o, int s, int pd, int k, int n, int *a, int *b, int *span) {
  int lo = o * s - pd, hi = lo + k < n + pd ? lo + k : n + pd;
  *span = hi - lo;
  *a = lo > 0 ? lo : 0;
  *b = hi < n ? hi : n;
}

void nn_k_avgpool_fwd(nn_node *nd, const nn_tensor *x, int thr) {
  const int H = x->h, W = x->w, OH = nd->h, OW = nd->w;
  const int planes = x->n * x->c;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int pl = 0; pl < planes; pl++) {
    const float *p = x->data + (size_t)pl * H * W;
    float *q = nd->out.data + (size_t)pl * OH * OW;
    for (int oh = 0; oh < OH; oh++) {
      int h0, h1, sh;
      avg_window(oh, nd->stride, nd->pad, nd->k, H, &h0, &h1, &sh);
      for (int ow = 0; ow < OW; ow++) {
        int w0, w1, sw;
        avg_window(ow, nd->stride, nd->pad, nd->k, W, &w0, &w1, &sw);
        float acc = 0.f;
        for (int ih = h0; ih < h1; ih++)
          for (int iw = w0; iw < w1; iw++)
            acc += p[ih * W + iw];
        q[oh * OW + ow] = acc / (float)(sh * sw);
      }
    }
  }
}

void nn_k_avgpool_bwd(nn_node *nd, nn_tensor *dx, bool accum, int thr) {
  const int H = dx->h, W = dx->w, OH = nd->h, OW = nd->w;
  const int planes = dx->n * dx->c;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int pl = 0; pl < planes; pl++) {
    float *d = dx->data + (size_t)pl * H * W;
    const float *g = nd->grad.data + (size_t)pl * OH * OW;
    if (!accum)
      memset(d, 0, (size_t)H * W * sizeof *d);
    for (int oh = 0; oh < OH; oh++) {
      int h0, h1, sh;
      avg_window(oh, nd->stride, nd->pad, nd->k, H, &h0, &h1, &sh);
      for (int ow = 0; ow < OW; ow++) {
        int w0, w1, sw;
        avg_window(ow, nd->stride, nd->pad, nd->k, W, &w0, &w1, &sw);
        float v = g[oh * OW + ow] / (float)(sh * sw);
        for (int ih = h0; ih < h1; ih++)
          for (int iw = w0; iw < w1; iw++)
            d[ih * W + iw] += v;
      }
    }
  }
}

void nn_k_gap_fwd(const nn_tensor *x, nn_tensor *y, int thr) {
  const size_t HW = plane(x);
  const int planes = x->n * x->c;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int pl = 0; pl < planes; pl++) {
    const float *p = x->data + (size_t)pl * HW;
    float acc = 0.f;
    for (size_t i = 0; i < HW; i++)
      acc += p[i];
    y->data[pl] = acc / (float)HW;
  }
}

void nn_k_gap_bwd(const nn_tensor *dy, nn_tensor *dx, bool accum, int thr) {
  const size_t HW = plane(dx);
  const int planes = dx->n * dx->c;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int pl = 0; pl < planes; pl++) {
    float *d = dx->data + (size_t)pl * HW;
    const float v = dy->data[pl] / (float)HW;
    for (size_t i = 0; i < HW; i++)
      d[i] = accum ? d[i] + v : v;
  }
}

/* ---- linear ---- */

int nn_k_linear_fwd(nn_net *net, nn_node *nd, const nn_tensor *x) {
  const long N = x->n, I = (long)(x->c * plane(x)), O = nd->c;
  const float *w = net->params[nd->p[0]].value.data;
  int rc = nn_sgemm(net, 'N', 'T', N, O, I, 1.f, x->data, I, w, I, 0.f, nd->out.data, O);
  if (rc == NN_OK && nd->bias) {
    const float *b = net->params[nd->p[1]].value.data;
    for (long n = 0; n < N; n++)
      for (long o = 0; o < O; o++)
        nd->out.data[n * O + o] += b[o];
  }
  return rc;
}

int nn_k_linear_bwd(nn_net *net, nn_node *nd, const nn_tensor *x, bool want_dx, nn_tensor *dx,
                    bool accum, bool want_dp) {
  const long N = x->n, I = (long)(x->c * plane(x)), O = nd->c;
  nn_param *pw = &net->params[nd->p[0]];
  const float *dy = nd->grad.data;
  int rc = NN_OK;
  if (want_dx)
    rc = nn_sgemm(net, 'N', 'N', N, I, O, 1.f, dy, O, pw->value.data, I, accum ? 1.f : 0.f,
                  dx->data, I);
  if (rc == NN_OK && want_dp && !pw->frozen)
    rc = nn_sgemm(net, 'T', 'N', O, I, N, 1.f, dy, O, x->data, I, 1.f, pw->grad.data, I);
  if (rc == NN_OK && want_dp && nd->bias && !net->params[nd->p[1]].frozen) {
    float *db = net->params[nd->p[1]].grad.data;
    for (long o = 0; o < O; o++) {
      float s = 0.f;
      for (long n = 0; n < N; n++)
        s += dy[n * O + o];
      db[o] += s;
    }
  }
  return rc;
}

/* ---- GDN / IGDN ----
 * norm_i = beta_i + sum_j gamma_ij x_j^2 is a 1x1 convolution of x^2: one sgemm per image
 * (gamma [C x C] times x^2 [C x HW]). With d_i = dL/dnorm_i:
 *   dx_k = dy_k * f(norm_k) + 2 x_k sum_i gamma_ik d_i,  dgamma = d (x^2)^T,  dbeta = sum d. */

/* Effective (non-negative) beta, gamma into ws slot 1: [C*C gamma][C beta]. */
static int gdn_effective(nn_net *net, nn_node *nd, float **gam, float **bet) {
  const int C = nd->c;
  int rc = nn_ws_reserve(net, 1, sizeof(float) * ((size_t)C * C + C));
  if (rc)
    return rc;
  *gam = net->ws[1];
  *bet = net->ws[1] + (size_t)C * C;
  const float *pg = net->params[nd->p[1]].value.data, *pb = net->params[nd->p[0]].value.data;
  for (size_t i = 0; i < (size_t)C * C; i++)
    (*gam)[i] = (float)nn_gdn_reparam_fwd(pg[i], 0.0);
  for (int i = 0; i < C; i++)
    (*bet)[i] = (float)nn_gdn_reparam_fwd(pb[i], NN_GDN_BETA_MIN);
  return NN_OK;
}

int nn_k_gdn_fwd(nn_net *net, nn_node *nd, const nn_tensor *x) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x), CHW = (size_t)C * HW;
  float *gam, *bet;
  int rc = gdn_effective(net, nd, &gam, &bet);
  if (rc || (rc = nn_ws_reserve(net, 0, sizeof(float) * CHW)))
    return rc;
  float *x2 = net->ws[0];
  const int thr = net->threads;
  for (int n = 0; n < N; n++) {
    const float *xp = x->data + n * CHW;
    float *norm = nd->save + n * CHW, *y = nd->out.data + n * CHW;
#pragma omp parallel for schedule(static) num_threads(thr)
    for (int c = 0; c < C; c++)
      for (size_t i = 0; i < HW; i++) {
        x2[c * HW + i] = xp[c * HW + i] * xp[c * HW + i];
        norm[c * HW + i] = bet[c];
      }
    if ((rc = nn_sgemm(net, 'N', 'N', C, (long)HW, C, 1.f, gam, C, x2, (long)HW, 1.f, norm,
                       (long)HW)))
      return rc;
    const bool inv = nd->inverse;
#pragma omp parallel for schedule(static) num_threads(thr)
    for (size_t i = 0; i < CHW; i++)
      y[i] = inv ? xp[i] * sqrtf(norm[i]) : xp[i] / sqrtf(norm[i]);
  }
  return NN_OK;
}

int nn_k_gdn_bwd(nn_net *net, nn_node *nd, const nn_tensor *x, bool want_dx, nn_tensor *dx,
                 bool accum, bool want_dp) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x), CHW = (size_t)C * HW, CC = (size_t)C * C;
  nn_param *pb = &net->params[nd->p[0]], *pg = &net->params[nd->p[1]];
  float *gam, *bet;
  int rc = gdn_effective(net, nd, &gam, &bet);
  /* ws0: x^2 | d | t (each C*HW), then dgamma_eff (C*C) and dbeta_eff (C) accumulators */
  if (rc || (rc = nn_ws_reserve(net, 0, sizeof(float) * (3 * CHW + CC + (size_t)C))))
    return rc;
  float *x2 = net->ws[0], *d = x2 + CHW, *t = d + CHW, *dg = t + CHW, *db = dg + CC;
  memset(dg, 0, sizeof(float) * (CC + (size_t)C));
  const bool inv = nd->inverse;
  const int thr = net->threads;
  for (int n = 0; n < N; n++) {
    const float *xp = x->data + n * CHW, *norm = nd->save + n * CHW;
    const float *dy = nd->grad.data + n * CHW;
#pragma omp parallel for schedule(static) num_threads(thr)
    for (size_t i = 0; i < CHW; i++) {
      float r = 1.f / sqrtf(norm[i]);
      /* GDN: y = x r, dy/dnorm = -x r^3 / 2; IGDN: y = x / r, dy/dnorm = x r / 2 */
      d[i] = inv ? 0.5f * dy[i] * xp[i] * r : -0.5f * dy[i] * xp[i] * r * r * r;
      x2[i] = xp[i] * xp[i];
    }
    if (want_dx) {
      if ((rc =
               nn_sgemm(net, 'T', 'N', C, (long)HW, C, 1.f, gam, C, d, (long)HW, 0.f, t, (long)HW)))
        return rc;
      float *g = dx->data + n * CHW;
#pragma omp parallel for schedule(static) num_threads(thr)
      for (size_t i = 0; i < CHW; i++) {
        float f = inv ? sqrtf(norm[i]) : 1.f / sqrtf(norm[i]);
        float v = dy[i] * f + 2.f * xp[i] * t[i];
        g[i] = accum ? g[i] + v : v;
      }
    }
    if (want_dp) {
      if ((rc =
               nn_sgemm(net, 'N', 'T', C, C, (long)HW, 1.f, d, (long)HW, x2, (long)HW, 1.f, dg, C)))
        return rc;
      for (int c = 0; c < C; c++) {
        float s = 0.f;
        for (size_t i = 0; i < HW; i++)
          s += d[c * HW + i];
        db[c] += s;
      }
    }
  }
  if (want_dp) {
    if (!pg->frozen)
      for (size_t i = 0; i < CC; i++)
        pg->grad.data[i] += (float)nn_gdn_reparam_bwd(pg->value.data[i], 0.0, dg[i]);
    if (!pb->frozen)
      for (int c = 0; c < C; c++)
        pb->grad.data[c] += (float)nn_gdn_reparam_bwd(pb->value.data[c], NN_GDN_BETA_MIN, db[c]);
  }
  return NN_OK;
}
