/* nn_ref.c - plain double-precision reference of every layer (see nn_ref.h). Written for
 * obviousness, not speed: direct loops straight from each layer's definition. */
#include "nn_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

size_t nn_ref_numel(const nn_refnet *r, int node) {
  const nn_node *nd = &r->net->nodes[node];
  return (size_t)r->batch * nd->c * nd->h * nd->w;
}

void nn_ref_free(nn_refnet *r) {
  if (!r)
    return;
  for (int i = 0; i < r->net->nnodes; i++) {
    if (r->out)
      free(r->out[i]);
    if (r->grad)
      free(r->grad[i]);
    if (r->save)
      free(r->save[i]);
    if (r->idx)
      free(r->idx[i]);
    if (r->aff)
      free(r->aff[i]);
    if (r->agrad)
      free(r->agrad[i]);
  }
  free(r->aff), free(r->agrad);
  for (int i = 0; i < r->net->nparams; i++) {
    if (r->pval)
      free(r->pval[i]);
    if (r->pgrad)
      free(r->pgrad[i]);
  }
  free(r->out), free(r->grad), free(r->save), free(r->idx), free(r->pval), free(r->pgrad);
  free(r);
}

nn_refnet *nn_ref_create(nn_net *net, int batch, nn_err *err) {
  nn_refnet *r = calloc(1, sizeof *r);
  if (!r)
    goto nomem;
  r->net = net;
  r->batch = batch;
  int nn = net->nnodes, np = net->nparams;
  r->out = calloc((size_t)nn, sizeof *r->out);
  r->grad = calloc((size_t)nn, sizeof *r->grad);
  r->save = calloc((size_t)nn, sizeof *r->save);
  r->idx = calloc((size_t)nn, sizeof *r->idx);
  r->pval = calloc((size_t)np + 1, sizeof *r->pval);
  r->pgrad = calloc((size_t)np + 1, sizeof *r->pgrad);
  if (!r->out || !r->grad || !r->save || !r->idx || !r->pval || !r->pgrad)
    goto nomem;
  r->aff = calloc((size_t)nn, sizeof *r->aff);
  r->agrad = calloc((size_t)nn, sizeof *r->agrad);
  if (!r->aff || !r->agrad)
    goto nomem;
  for (int i = 0; i < nn; i++) {
    const nn_node *d = &net->nodes[i];
    if (d->op != NN_OP_CHAFFINE)
      continue;
    if (!(r->aff[i] = calloc(2 * (size_t)d->c, sizeof(double))) ||
        !(r->agrad[i] = calloc(2 * (size_t)d->c, sizeof(double))))
      goto nomem;
    for (int j = 0; j < 2 * d->c; j++)
      r->aff[i][j] = d->aff[j];
  }
  for (int i = 0; i < nn; i++) {
    size_t n = nn_ref_numel(r, i);
    if (!(r->out[i] = calloc(n, sizeof(double))) || !(r->grad[i] = calloc(n, sizeof(double))) ||
        !(r->save[i] = calloc(n + 2 * (size_t)net->nodes[i].c, sizeof(double))) ||
        !(r->idx[i] = calloc(n, sizeof(int))))
      goto nomem;
  }
  for (int i = 0; i < np; i++) {
    size_t n = nn_tensor_numel(&net->params[i].value);
    if (!(r->pval[i] = calloc(n, sizeof(double))) || !(r->pgrad[i] = calloc(n, sizeof(double))))
      goto nomem;
    for (size_t j = 0; j < n; j++)
      r->pval[i][j] = net->params[i].value.data[j];
  }
  return r;
nomem:
  if (r && r->out && r->grad && r->save && r->idx && r->pval && r->pgrad)
    nn_ref_free(r);
  else if (r) {
    free(r->out), free(r->grad), free(r->save), free(r->idx), free(r->pval), free(r->pgrad);
    free(r->aff), free(r->agrad);
    free(r);
  }
  nn_err_set(err, NN_E_NOMEM, "nn_ref_create: out of memory");
  return NULL;
}

/* ---- forward ---- */

static void conv_fwd(const nn_node *s, const nn_node *d, int N, const double *x, const double *w,
                     const double *b, double *y) {
  const int IC = s->c, H = s->h, W = s->w, OC = d->c, OH = d->h, OW = d->w, K = d->k;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < OC; o++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          double acc = b ? b[o] : 0.0;
          for (int i = 0; i < IC; i++)
            for (int kh = 0; kh < K; kh++)
              for (int kw = 0; kw < K; kw++) {
                int ih = oh * d->stride - d->pad + kh, iw = ow * d->stride - d->pad + kw;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                  acc += w[((o * IC + i) * K + kh) * K + kw] * x[((n * IC + i) * H + ih) * W + iw];
              }
          y[((n * OC + o) * OH + oh) * OW + ow] = acc;
        }
}

/* Transposed convolution as the scatter form of its definition: every input pixel spreads
 * W[i, o, :, :] onto the output at stride s, shifted by -pad. */
static void deconv_fwd(const nn_node *s, const nn_node *d, int N, const double *x, const double *w,
                       const double *b, double *y) {
  const int IC = s->c, H = s->h, W = s->w, OC = d->c, OH = d->h, OW = d->w, K = d->k;
  for (int n = 0; n < N; n++)
    for (int o = 0; o < OC; o++)
      for (int i = 0; i < OH * OW; i++)
        y[(n * OC + o) * OH * OW + i] = b ? b[o] : 0.0;
  for (int n = 0; n < N; n++)
    for (int i = 0; i < IC; i++)
      for (int ih = 0; ih < H; ih++)
        for (int iw = 0; iw < W; iw++)
          for (int o = 0; o < OC; o++)
            for (int kh = 0; kh < K; kh++)
              for (int kw = 0; kw < K; kw++) {
                int oh = ih * d->stride - d->pad + kh, ow = iw * d->stride - d->pad + kw;
                if (oh >= 0 && oh < OH && ow >= 0 && ow < OW)
                  y[((n * OC + o) * OH + oh) * OW + ow] +=
                      w[((i * OC + o) * K + kh) * K + kw] * x[((n * IC + i) * H + ih) * W + iw];
              }
}

static void gdn_effective(const nn_node *d, const double *pb, const double *pg, double *beta,
                          double *gamma) {
  for (int i = 0; i < d->c; i++)
    beta[i] = nn_gdn_reparam_fwd(pb[i], NN_GDN_BETA_MIN);
  for (int i = 0; i < d->c * d->c; i++)
    gamma[i] = nn_gdn_reparam_fwd(pg[i], 0.0);
}

int nn_ref_forward(nn_refnet *r, const double *x, nn_mode mode) {
  nn_net *net = r->net;
  const int N = r->batch;
  r->mode = mode;
  memcpy(r->out[0], x, nn_ref_numel(r, 0) * sizeof(double));
  for (int ni = 1; ni < net->nnodes; ni++) {
    const nn_node *d = &net->nodes[ni], *s = &net->nodes[d->in[0]];
    const double *xi = r->out[d->in[0]];
    double *y = r->out[ni];
    const int C = s->c, H = s->h, W = s->w, HW = H * W;
    const size_t nin = nn_ref_numel(r, d->in[0]), nout = nn_ref_numel(r, ni);
    double **pv = r->pval;
    switch (d->op) {
    case NN_OP_CONV: conv_fwd(s, d, N, xi, pv[d->p[0]], d->bias ? pv[d->p[1]] : NULL, y); break;
    case NN_OP_DECONV: deconv_fwd(s, d, N, xi, pv[d->p[0]], d->bias ? pv[d->p[1]] : NULL, y); break;
    case NN_OP_RELU:
      for (size_t i = 0; i < nout; i++)
        y[i] = xi[i] > 0 ? xi[i] : 0.0;
      break;
    case NN_OP_BN: {
      double *g = pv[d->p[0]], *b = pv[d->p[1]], *rm = pv[d->p[2]], *rv = pv[d->p[3]];
      double *mean = r->save[ni], *istd = r->save[ni] + C;
      const double M = (double)N * HW;
      for (int c = 0; c < C; c++) {
        double mu = 0, var = 0;
        if (mode == NN_TRAIN) {
          for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++)
              mu += xi[(n * C + c) * HW + i];
          mu /= M;
          for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++)
              var += (xi[(n * C + c) * HW + i] - mu) * (xi[(n * C + c) * HW + i] - mu);
          var /= M;
          rm[c] = (1 - d->momentum) * rm[c] + d->momentum * mu;
          rv[c] = (1 - d->momentum) * rv[c] + d->momentum * var * M / (M - 1);
        } else {
          mu = rm[c];
          var = rv[c];
        }
        mean[c] = mu;
        istd[c] = 1.0 / sqrt(var + d->eps);
        for (int n = 0; n < N; n++)
          for (int i = 0; i < HW; i++) {
            size_t k = (size_t)(n * C + c) * HW + i;
            y[k] = g[c] * (xi[k] - mu) * istd[c] + b[c];
          }
      }
      break;
    }
    case NN_OP_MAXPOOL:
    case NN_OP_AVGPOOL:
      for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
          for (int oh = 0; oh < d->h; oh++)
            for (int ow = 0; ow < d->w; ow++) {
              int h0 = oh * d->stride - d->pad, w0 = ow * d->stride - d->pad;
              /* avg divisor: window clipped to the padded input (PyTorch) */
              int hs = (h0 + d->k < H + d->pad ? h0 + d->k : H + d->pad) - h0;
              int ws = (w0 + d->k < W + d->pad ? w0 + d->k : W + d->pad) - w0;
              double best = -INFINITY, acc = 0;
              int bi = -1;
              for (int kh = 0; kh < d->k; kh++)
                for (int kw = 0; kw < d->k; kw++) {
                  int ih = h0 + kh, iw = w0 + kw;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                    continue;
                  double v = xi[(n * C + c) * HW + ih * W + iw];
                  acc += v;
                  if (bi < 0 || v > best)
                    best = v, bi = ih * W + iw;
                }
              size_t o = ((size_t)(n * C + c) * d->h + oh) * d->w + ow;
              y[o] = d->op == NN_OP_MAXPOOL ? best : acc / (hs * ws);
              r->idx[ni][o] = bi;
            }
      break;
    case NN_OP_GAP:
      for (int p = 0; p < N * C; p++) {
        double acc = 0;
        for (int i = 0; i < HW; i++)
          acc += xi[p * HW + i];
        y[p] = acc / HW;
      }
      break;
    case NN_OP_LINEAR: {
      const int I = C * HW, O = d->c;
      const double *w = pv[d->p[0]], *b = d->bias ? pv[d->p[1]] : NULL;
      for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
          double acc = b ? b[o] : 0.0;
          for (int i = 0; i < I; i++)
            acc += w[o * I + i] * xi[n * I + i];
          y[n * O + o] = acc;
        }
      break;
    }
    case NN_OP_ADD:
      for (size_t i = 0; i < nout; i++)
        y[i] = xi[i] + r->out[d->in[1]][i];
      break;
    case NN_OP_GDN: {
      double *beta = malloc(sizeof(double) * (size_t)(C + C * C));
      if (!beta)
        return nn_err_set(&net->err, NN_E_NOMEM, "nn_ref_forward: out of memory");
      double *gamma = beta + C;
      gdn_effective(d, pv[d->p[0]], pv[d->p[1]], beta, gamma);
      for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
          for (int i = 0; i < HW; i++) {
            double nm = beta[c];
            for (int j = 0; j < C; j++) {
              double xj = xi[(n * C + j) * HW + i];
              nm += gamma[c * C + j] * xj * xj;
            }
            size_t k = (size_t)(n * C + c) * HW + i;
            r->save[ni][k] = nm;
            y[k] = d->inverse ? xi[k] * sqrt(nm) : xi[k] / sqrt(nm);
          }
      free(beta);
      break;
    }
    case NN_OP_CHAFFINE:
      for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
          for (int i = 0; i < HW; i++) {
            size_t k = (size_t)(n * C + c) * HW + i;
            y[k] = xi[k] * r->aff[ni][c] + r->aff[ni][C + c];
          }
      break;
    case NN_OP_INPUT: break;
    }
    (void)nin;
  }
  return NN_OK;
}

/* ---- backward ---- */

int nn_ref_backward(nn_refnet *r, int nseeds, const int *nodes, const double *const *grads) {
  nn_net *net = r->net;
  const int N = r->batch;
  for (int i = 0; i < net->nnodes; i++)
    memset(r->grad[i], 0, nn_ref_numel(r, i) * sizeof(double));
  for (int i = 0; i < net->nparams; i++)
    memset(r->pgrad[i], 0, nn_tensor_numel(&net->params[i].value) * sizeof(double));
  for (int s = 0; s < nseeds; s++)
    for (size_t i = 0; i < nn_ref_numel(r, nodes[s]); i++)
      r->grad[nodes[s]][i] += grads[s][i];
  for (int ni = net->nnodes - 1; ni > 0; ni--) {
    const nn_node *d = &net->nodes[ni], *s = &net->nodes[d->in[0]];
    const double *xi = r->out[d->in[0]], *gy = r->grad[ni], *y = r->out[ni];
    double *gx = r->grad[d->in[0]];
    const int C = s->c, H = s->h, W = s->w, HW = H * W;
    const size_t nout = nn_ref_numel(r, ni);
    double **pv = r->pval, **pg = r->pgrad;
    switch (d->op) {
    case NN_OP_CONV: {
      const int OC = d->c, OH = d->h, OW = d->w, K = d->k;
      const double *w = pv[d->p[0]];
      double *gw = pg[d->p[0]], *gb = d->bias ? pg[d->p[1]] : NULL;
      for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++)
          for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
              double g = gy[((n * OC + o) * OH + oh) * OW + ow];
              if (gb)
                gb[o] += g;
              for (int i = 0; i < C; i++)
                for (int kh = 0; kh < K; kh++)
                  for (int kw = 0; kw < K; kw++) {
                    int ih = oh * d->stride - d->pad + kh, iw = ow * d->stride - d->pad + kw;
                    if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                      continue;
                    size_t xk = (size_t)((n * C + i) * H + ih) * W + iw;
                    size_t wk = (size_t)((o * C + i) * K + kh) * K + kw;
                    gx[xk] += w[wk] * g;
                    gw[wk] += xi[xk] * g;
                  }
            }
      break;
    }
    case NN_OP_DECONV: {
      const int OC = d->c, OH = d->h, OW = d->w, K = d->k;
      const double *w = pv[d->p[0]];
      double *gw = pg[d->p[0]], *gb = d->bias ? pg[d->p[1]] : NULL;
      if (gb)
        for (int n = 0; n < N; n++)
          for (int o = 0; o < OC; o++)
            for (int i = 0; i < OH * OW; i++)
              gb[o] += gy[(n * OC + o) * OH * OW + i];
      for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++)
          for (int ih = 0; ih < H; ih++)
            for (int iw = 0; iw < W; iw++)
              for (int o = 0; o < OC; o++)
                for (int kh = 0; kh < K; kh++)
                  for (int kw = 0; kw < K; kw++) {
                    int oh = ih * d->stride - d->pad + kh, ow = iw * d->stride - d->pad + kw;
                    if (oh < 0 || oh >= OH || ow < 0 || ow >= OW)
                      continue;
                    double g = gy[((n * OC + o) * OH + oh) * OW + ow];
                    size_t xk = (size_t)((n * C + i) * H + ih) * W + iw;
                    size_t wk = (size_t)((i * OC + o) * K + kh) * K + kw;
                    gx[xk] += w[wk] * g;
                    gw[wk] += xi[xk] * g;
                  }
      break;
    }
    case NN_OP_RELU:
      for (size_t i = 0; i < nout; i++)
        gx[i] += xi[i] > 0 ? gy[i] : 0.0;
      break;
    case NN_OP_BN: {
      const double *g = pv[d->p[0]], *mean = r->save[ni], *istd = r->save[ni] + C;
      double *gg = pg[d->p[0]], *gb = pg[d->p[1]];
      const double M = (double)N * HW;
      for (int c = 0; c < C; c++) {
        double sg = 0, sgx = 0;
        for (int n = 0; n < N; n++)
          for (int i = 0; i < HW; i++) {
            size_t k = (size_t)(n * C + c) * HW + i;
            sg += gy[k];
            sgx += gy[k] * (xi[k] - mean[c]) * istd[c];
          }
        gg[c] += sgx;
        gb[c] += sg;
        for (int n = 0; n < N; n++)
          for (int i = 0; i < HW; i++) {
            size_t k = (size_t)(n * C + c) * HW + i;
            double xh = (xi[k] - mean[c]) * istd[c];
            gx[k] += r->mode == NN_TRAIN ? g[c] * istd[c] * (gy[k] - sg / M - xh * sgx / M)
                                         : g[c] * istd[c] * gy[k];
          }
      }
      break;
    }
    case NN_OP_MAXPOOL:
      for (size_t o = 0; o < nout; o++) {
        size_t pl = o / ((size_t)d->h * d->w);
        gx[pl * HW + (size_t)r->idx[ni][o]] += gy[o];
      }
      break;
    case NN_OP_AVGPOOL:
      for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
          for (int oh = 0; oh < d->h; oh++)
            for (int ow = 0; ow < d->w; ow++) {
              int h0 = oh * d->stride - d->pad, w0 = ow * d->stride - d->pad;
              int hs = (h0 + d->k < H + d->pad ? h0 + d->k : H + d->pad) - h0;
              int ws = (w0 + d->k < W + d->pad ? w0 + d->k : W + d->pad) - w0;
              double g = gy[((size_t)(n * C + c) * d->h + oh) * d->w + ow] / (hs * ws);
              for (int kh = 0; kh < d->k; kh++)
                for (int kw = 0; kw < d->k; kw++) {
                  int ih = h0 + kh, iw = w0 + kw;
                  if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                    gx[(n * C + c) * HW + ih * W + iw] += g;
                }
            }
      break;
    case NN_OP_GAP:
      for (int p = 0; p < N * C; p++)
        for (int i = 0; i < HW; i++)
          gx[p * HW + i] += gy[p] / HW;
      break;
    case NN_OP_LINEAR: {
      const int I = C * HW, O = d->c;
      const double *w = pv[d->p[0]];
      double *gw = pg[d->p[0]], *gb = d->bias ? pg[d->p[1]] : NULL;
      for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++) {
          double g = gy[n * O + o];
          if (gb)
            gb[o] += g;
          for (int i = 0; i < I; i++) {
            gx[n * I + i] += w[o * I + i] * g;
            gw[o * I + i] += xi[n * I + i] * g;
          }
        }
      break;
    }
    case NN_OP_ADD:
      for (size_t i = 0; i < nout; i++) {
        gx[i] += gy[i];
        r->grad[d->in[1]][i] += gy[i];
      }
      break;
    case NN_OP_GDN: {
      double *beta = malloc(sizeof(double) * (size_t)(3 * C + 2 * C * C));
      if (!beta)
        return nn_err_set(&net->err, NN_E_NOMEM, "nn_ref_backward: out of memory");
      double *gamma = beta + C, *dbeta = gamma + C * C, *dgamma = dbeta + C, *dn = dgamma + C * C;
      memset(dbeta, 0, sizeof(double) * (size_t)(C + C * C));
      gdn_effective(d, pv[d->p[0]], pv[d->p[1]], beta, gamma);
      for (int n = 0; n < N; n++)
        for (int i = 0; i < HW; i++) {
          /* dL/dnorm_c for this pixel */
          for (int c = 0; c < C; c++) {
            size_t k = (size_t)(n * C + c) * HW + i;
            double nm = r->save[ni][k];
            dn[c] =
                d->inverse ? gy[k] * xi[k] * 0.5 / sqrt(nm) : -0.5 * gy[k] * xi[k] * pow(nm, -1.5);
            gx[k] += gy[k] * (d->inverse ? sqrt(nm) : 1.0 / sqrt(nm));
          }
          for (int c = 0; c < C; c++) {
            dbeta[c] += dn[c];
            for (int j = 0; j < C; j++) {
              size_t kj = (size_t)(n * C + j) * HW + i;
              dgamma[c * C + j] += dn[c] * xi[kj] * xi[kj];
              gx[kj] += dn[c] * gamma[c * C + j] * 2.0 * xi[kj];
            }
          }
        }
      for (int c = 0; c < C; c++)
        pg[d->p[0]][c] += nn_gdn_reparam_bwd(pv[d->p[0]][c], NN_GDN_BETA_MIN, dbeta[c]);
      for (int c = 0; c < C * C; c++)
        pg[d->p[1]][c] += nn_gdn_reparam_bwd(pv[d->p[1]][c], 0.0, dgamma[c]);
      free(beta);
      break;
    }
    case NN_OP_CHAFFINE:
      memset(r->agrad[ni], 0, 2 * (size_t)C * sizeof(double));
      for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
          for (int i = 0; i < HW; i++) {
            size_t k = (size_t)(n * C + c) * HW + i;
            gx[k] += gy[k] * r->aff[ni][c];
            r->agrad[ni][c] += gy[k] * xi[k];
            r->agrad[ni][C + c] += gy[k];
          }
      break;
    case NN_OP_INPUT: break;
    }
    (void)y;
  }
  return NN_OK;
}
