/* layers.c - float kernels for everything except convolution: memory-bound element-wise and
 * per-channel work in plain C + OpenMP, the two matrix products (linear, GDN's channel mixing)
 * through oneDNN's sgemm. Parallel loops split over independent channels/planes and each
 * reduction runs in a fixed order inside one thread, so these kernels give the same bits for
 * any thread count. nn_ref.c holds the double-precision reference each one is tested against. */
#include <math.h>
#include <string.h>

#include "nn_internal.h"

static inline size_t plane(const nn_tensor *t) { return (size_t)t->h * (size_t)t->w; }

/* Element-wise loops below this size run on one thread (a parallel region costs more). */
#define PAR_MIN 65536

void nn_k_add2(const float *x, const float *z, float *y, size_t n, bool relu, int thr) {
  if (relu) {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) {
      float v = x[i] + z[i];
      y[i] = v > 0.f ? v : 0.f;
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++)
      y[i] = x[i] + z[i];
  }
}

void nn_k_masked_into(const float *src, const float *mask, float *dst, size_t n, bool accum,
                      int thr) {
  if (!mask) {
    if (accum) {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
      for (size_t i = 0; i < n; i++)
        dst[i] += src[i];
    } else {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
      for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
    }
  } else if (accum) {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) {
      float g = src[i];
      dst[i] += mask[i] > 0.f ? g : 0.f;
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) {
      float g = src[i];
      dst[i] = mask[i] > 0.f ? g : 0.f;
    }
  }
}

/* ---- blocked layout (nChw16c) ----
 * Element (n, c, p) of an [N, C, HW] tensor lies at ((n * C/16 + c/16) * HW + p) * 16 + c%16:
 * a unit (n, c/16) is HW vectors of 16 channels. Blocked kernels loop over units in parallel
 * and over the 16 lanes innermost (one vector register on AVX-512). */
enum { BLK = 16 };

void nn_k_blk_to_plain(const float *src, float *dst, int n, int c, size_t hw, int thr) {
  const int cb = c / BLK;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int u = 0; u < n * cb; u++) {
    const float *s = src + (size_t)u * hw * BLK;
    float *d = dst + (size_t)u * hw * BLK; /* the unit's 16 planes are contiguous in NCHW too */
    for (size_t i = 0; i < hw; i++)
      for (int l = 0; l < BLK; l++)
        d[l * hw + i] = s[i * BLK + l];
  }
}

void nn_k_plain_to_blk(const float *src, float *dst, int n, int c, size_t hw, bool accum, int thr) {
  const int cb = c / BLK;
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int u = 0; u < n * cb; u++) {
    const float *s = src + (size_t)u * hw * BLK;
    float *d = dst + (size_t)u * hw * BLK;
    for (size_t i = 0; i < hw; i++)
      for (int l = 0; l < BLK; l++)
        d[i * BLK + l] = accum ? d[i * BLK + l] + s[l * hw + i] : s[l * hw + i];
  }
}

/* A parallel copy: large activations and gradients are copied at memory bandwidth of all
 * threads, not one (memcpy). */
void nn_k_add_into(const float *src, float *dst, size_t n, bool accum, int thr) {
  nn_k_masked_into(src, NULL, dst, n, accum, thr);
}

void nn_k_relu_fwd(const nn_tensor *x, nn_tensor *y, int thr) {
  const size_t n = nn_tensor_numel(x);
  const float *a = x->data;
  float *b = y->data;
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
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
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) {
      float gv = g[i];
      d[i] += o[i] > 0.f ? gv : 0.f;
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(thr) if (n > PAR_MIN)
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

/* lane_sums with a masked: a[i] counts where mask[i] > 0 (a ReLU's gradient seen through
 * its output), 0 elsewhere; same lanes and order. */
static void lane_sums_masked(const float *a, const float *mask, const float *b, float c, size_t n,
                             double *sa, double *sab) {
  float acc[LANES] = {0}, accb[LANES] = {0};
  size_t i = 0;
  for (; i + LANES <= n; i += LANES)
    for (int l = 0; l < LANES; l++) {
      float g = a[i + l];
      g = mask[i + l] > 0.f ? g : 0.f;
      acc[l] += g;
      accb[l] += g * (b[i + l] - c);
    }
  double s = 0, sb = 0;
  for (int l = 0; l < LANES; l++)
    s += acc[l], sb += accb[l];
  for (; i < n; i++) {
    float g = mask[i] > 0.f ? a[i] : 0.f;
    s += g;
    sb += (double)g * (b[i] - c);
  }
  *sa += s;
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

/* Per channel: mean and biased variance (train) or the running statistics (eval) in double;
 * updates the running statistics in train mode and saves mean, invstd, a, b (see nn_k_bn_fwd
 * in nn_internal.h). */
static void bn_finish(nn_net *net, nn_node *nd, int c, double mean, double var, double M,
                      nn_mode mode) {
  float *gam = net->params[nd->p[0]].value.data, *bet = net->params[nd->p[1]].value.data;
  float *rm = net->params[nd->p[2]].value.data, *rv = net->params[nd->p[3]].value.data;
  const int C = nd->c;
  const double mom = nd->momentum;
  if (mode == NN_TRAIN) {
    rm[c] = (float)((1 - mom) * rm[c] + mom * mean);
    rv[c] = (float)((1 - mom) * rv[c] + mom * (M > 1 ? var * M / (M - 1) : var));
  }
  double istd = 1.0 / sqrt(var + nd->eps);
  nd->save[c] = (float)mean;
  nd->save[C + c] = (float)istd;
  nd->save[2 * C + c] = (float)(gam[c] * istd);
  nd->save[3 * C + c] = (float)(bet[c] - gam[c] * istd * mean);
}

/* y = act(a x + b + z) over n floats with one (a, b); the plain layout's per-plane loop. */
static void affine_plane(const float *x, const float *z, float a, float b, bool relu, float *y,
                         size_t n) {
  if (z && relu)
    for (size_t i = 0; i < n; i++) {
      float v = (a * x[i] + b) + z[i];
      y[i] = v > 0.f ? v : 0.f;
    }
  else if (z)
    for (size_t i = 0; i < n; i++)
      y[i] = (a * x[i] + b) + z[i];
  else if (relu)
    for (size_t i = 0; i < n; i++) {
      float v = a * x[i] + b;
      y[i] = v > 0.f ? v : 0.f;
    }
  else
    for (size_t i = 0; i < n; i++)
      y[i] = a * x[i] + b;
}

/* The same on one blocked unit: hw vectors of 16 channels with per-lane a, b. The order of
 * operations equals the plain loop's, so both layouts give the same bits. a, b are copied to
 * locals so the compiler sees they cannot alias y (else it does not vectorise). */
static void affine_unit(const float *x, const float *z, const float *a, const float *b, bool relu,
                        float *y, size_t hw) {
  float al[BLK], bl[BLK];
  for (int l = 0; l < BLK; l++)
    al[l] = a[l], bl[l] = b[l];
  const size_t n = hw * BLK;
  if (z && relu)
    for (size_t i = 0; i < n; i += BLK)
      for (int l = 0; l < BLK; l++) {
        float v = (al[l] * x[i + l] + bl[l]) + z[i + l];
        y[i + l] = v > 0.f ? v : 0.f;
      }
  else if (z)
    for (size_t i = 0; i < n; i += BLK)
      for (int l = 0; l < BLK; l++)
        y[i + l] = (al[l] * x[i + l] + bl[l]) + z[i + l];
  else if (relu)
    for (size_t i = 0; i < n; i += BLK)
      for (int l = 0; l < BLK; l++) {
        float v = al[l] * x[i + l] + bl[l];
        y[i + l] = v > 0.f ? v : 0.f;
      }
  else
    for (size_t i = 0; i < n; i += BLK)
      for (int l = 0; l < BLK; l++)
        y[i + l] = al[l] * x[i + l] + bl[l];
}

void nn_k_bn_eval_coeffs(nn_net *net, nn_node *nd) {
  const float *rm = net->params[nd->p[2]].value.data, *rv = net->params[nd->p[3]].value.data;
  for (int c = 0; c < nd->c; c++)
    bn_finish(net, nd, c, rm[c], rv[c], 0, NN_EVAL);
}

size_t nn_k_bn_ws_bytes(int n, int c) {
  return sizeof(double) * (3 * (size_t)n * (size_t)c + 4 * (size_t)c);
}

/* Blocked train-mode statistics. Per unit (sample, 16 channels), in parallel: the plane sum s
 * and the squared deviations q from the float-rounded plane mean m (two passes over 16 * HW
 * floats that stay in cache), accumulated in 4 x 16 float lanes. Then per channel, in sample
 * order (so the bits do not depend on the thread count), combined exactly in double:
 * sum (x - mu)^2 = sum_n [q + 2 (m - mu)(s - HW m) + HW (m - mu)^2]. */
static void bn_stats_blk(nn_net *net, nn_node *nd, const nn_tensor *x) {
  const int N = x->n, C = x->c, CB = C / BLK;
  const size_t HW = plane(x);
  double *part = (double *)net->ws[1];
#pragma omp parallel for schedule(static) num_threads(net->threads)
  for (int u = 0; u < N * CB; u++) {
    const float *p = x->data + (size_t)u * HW * BLK;
    float acc[4][BLK] = {{0}};
    size_t i = 0;
    for (; i + 4 <= HW; i += 4)
      for (int k = 0; k < 4; k++)
        for (int l = 0; l < BLK; l++)
          acc[k][l] += p[(i + k) * BLK + l];
    for (; i < HW; i++)
      for (int l = 0; l < BLK; l++)
        acc[0][l] += p[i * BLK + l];
    double s[BLK];
    float m[BLK];
    for (int l = 0; l < BLK; l++) {
      s[l] = ((double)acc[0][l] + acc[1][l]) + ((double)acc[2][l] + acc[3][l]);
      m[l] = (float)(s[l] / (double)HW);
    }
    float sq[4][BLK] = {{0}};
    for (i = 0; i + 4 <= HW; i += 4)
      for (int k = 0; k < 4; k++)
        for (int l = 0; l < BLK; l++) {
          float d = p[(i + k) * BLK + l] - m[l];
          sq[k][l] += d * d;
        }
    for (; i < HW; i++)
      for (int l = 0; l < BLK; l++) {
        float d = p[i * BLK + l] - m[l];
        sq[0][l] += d * d;
      }
    double *o = part + 3 * ((size_t)(u / CB) * C + (size_t)(u % CB) * BLK);
    for (int l = 0; l < BLK; l++) {
      o[3 * l] = s[l];
      o[3 * l + 1] = ((double)sq[0][l] + sq[1][l]) + ((double)sq[2][l] + sq[3][l]);
      o[3 * l + 2] = m[l];
    }
  }
  const double M = (double)N * (double)HW;
  for (int c = 0; c < C; c++) {
    double S = 0, V = 0;
    for (int n = 0; n < N; n++)
      S += part[3 * ((size_t)n * C + c)];
    const double mean = S / M;
    for (int n = 0; n < N; n++) {
      const double *o = part + 3 * ((size_t)n * C + c);
      double d = o[2] - mean;
      V += o[1] + 2 * d * (o[0] - (double)HW * o[2]) + (double)HW * d * d;
    }
    double var = V / M;
    bn_finish(net, nd, c, mean, var > 0 ? var : 0, M, NN_TRAIN);
  }
}

static void bn_apply(nn_net *net, nn_node *nd, const nn_tensor *x, const float *z, bool relu,
                     float *y) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x);
  const float *a = nd->save + 2 * C, *b = nd->save + 3 * C;
  if (nd->blk) {
    const int CB = C / BLK;
#pragma omp parallel for schedule(static) num_threads(net->threads)
    for (int u = 0; u < N * CB; u++) {
      const size_t o = (size_t)u * HW * BLK;
      const int c0 = (u % CB) * BLK;
      affine_unit(x->data + o, z ? z + o : NULL, a + c0, b + c0, relu, y + o, HW);
    }
  } else {
#pragma omp parallel for schedule(static) num_threads(net->threads)
    for (int pl = 0; pl < N * C; pl++) {
      const size_t o = (size_t)pl * HW;
      const int c = pl % C;
      affine_plane(x->data + o, z ? z + o : NULL, a[c], b[c], relu, y + o, HW);
    }
  }
}

void nn_k_bn_fwd(nn_net *net, nn_node *nd, const nn_tensor *x, nn_mode mode, const float *z,
                 bool relu, float *y) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x);
  const double M = (double)N * (double)HW;
  if (mode != NN_TRAIN) {
    nn_k_bn_eval_coeffs(net, nd);
    bn_apply(net, nd, x, z, relu, y);
    return;
  }
  if (nd->blk) {
    bn_stats_blk(net, nd, x);
    bn_apply(net, nd, x, z, relu, y);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(net->threads)
  for (int c = 0; c < C; c++) {
    /* Two passes (mean, then squared deviations): the one-pass formula loses digits. */
    double s = 0;
    for (int n = 0; n < N; n++)
      lane_sums(x->data + ((size_t)n * C + c) * HW, NULL, 0.f, HW, &s, NULL);
    const double mean = s / M;
    double v = 0;
    for (int n = 0; n < N; n++)
      v += lane_sqdev(x->data + ((size_t)n * C + c) * HW, (float)mean, HW);
    /* the deviation was taken from the float-rounded mean: correct for the offset */
    double dm = mean - (double)(float)mean;
    double var = v / M - dm * dm;
    bn_finish(net, nd, c, mean, var > 0 ? var : 0, M, mode);
    /* normalise the channel while its planes are still in cache */
    const float a = nd->save[2 * C + c], b = nd->save[3 * C + c];
    for (int n = 0; n < N; n++) {
      const size_t o = ((size_t)n * C + c) * HW;
      affine_plane(x->data + o, z ? z + o : NULL, a, b, relu, y + o, HW);
    }
  }
}

void nn_k_bn_replay(nn_net *net, nn_node *nd, const nn_tensor *x) {
  bn_apply(net, nd, x, NULL, false, nd->out.data);
}

/* Blocked backward sums per unit (sum dy, sum dy (x - mean) with dy masked), then per channel
 * in sample order, as bn_stats_blk. part: [N][C][2]. */
static void bn_bwd_sums_blk(nn_net *net, const nn_tensor *x, const float *dy, const float *mask,
                            const float *mean, double *sg, double *sgd) {
  const int N = x->n, C = x->c, CB = C / BLK;
  const size_t HW = plane(x);
  double *part = (double *)net->ws[1];
#pragma omp parallel for schedule(static) num_threads(net->threads)
  for (int u = 0; u < N * CB; u++) {
    const size_t o = (size_t)u * HW * BLK;
    const float *g = dy + o, *xp = x->data + o, *mk = mask ? mask + o : NULL;
    float mu[BLK];
    for (int l = 0; l < BLK; l++)
      mu[l] = mean[(u % CB) * BLK + l];
    /* two accumulator sets (even / odd pixels) for shorter float sums */
    float a0[BLK] = {0}, a1[BLK] = {0}, b0[BLK] = {0}, b1[BLK] = {0};
    size_t i = 0;
    for (; i + 2 <= HW; i += 2)
      for (int l = 0; l < BLK; l++) {
        const size_t j = i * BLK + l, j2 = j + BLK;
        float g0 = g[j], g1 = g[j2];
        if (mk) {
          g0 = mk[j] > 0.f ? g0 : 0.f;
          g1 = mk[j2] > 0.f ? g1 : 0.f;
        }
        a0[l] += g0;
        b0[l] += g0 * (xp[j] - mu[l]);
        a1[l] += g1;
        b1[l] += g1 * (xp[j2] - mu[l]);
      }
    for (; i < HW; i++)
      for (int l = 0; l < BLK; l++) {
        const size_t j = i * BLK + l;
        float g0 = g[j];
        if (mk)
          g0 = mk[j] > 0.f ? g0 : 0.f;
        a0[l] += g0;
        b0[l] += g0 * (xp[j] - mu[l]);
      }
    double *q = part + 2 * ((size_t)(u / CB) * C + (size_t)(u % CB) * BLK);
    for (int l = 0; l < BLK; l++) {
      q[2 * l] = (double)a0[l] + a1[l];
      q[2 * l + 1] = (double)b0[l] + b1[l];
    }
  }
  for (int c = 0; c < C; c++) {
    double s0 = 0, s1 = 0;
    for (int n = 0; n < N; n++) {
      s0 += part[2 * ((size_t)n * C + c)];
      s1 += part[2 * ((size_t)n * C + c) + 1];
    }
    sg[c] = s0;
    sgd[c] = s1;
  }
}

/* dx = (or +=) A g + B x + D per channel, g masked by mk > 0 (mk may be NULL); affine_only:
 * dx = A g (eval mode). One loop per variant with the condition outside, and every load
 * unconditional, so each loop vectorises (a conditional load inside would not). The lane
 * coefficients are locals so the compiler sees they cannot alias d. */
#define BN_DX_LOOP(n, step, A_, B_, D_)                                                            \
  do {                                                                                             \
    if (affine_only && !mk && !accum)                                                              \
      for (size_t i = 0; i < (n); i += (step))                                                     \
        for (int l = 0; l < (step); l++)                                                           \
          d[i + l] = A_ * g[i + l];                                                                \
    else if (affine_only && !mk)                                                                   \
      for (size_t i = 0; i < (n); i += (step))                                                     \
        for (int l = 0; l < (step); l++)                                                           \
          d[i + l] += A_ * g[i + l];                                                               \
    else if (affine_only && !accum)                                                                \
      for (size_t i = 0; i < (n); i += (step))                                                     \
        for (int l = 0; l < (step); l++) {                                                         \
          float gv = g[i + l];                                                                     \
          d[i + l] = A_ * (mk[i + l] > 0.f ? gv : 0.f);                                            \
        }                                                                                          \
    else if (affine_only)                                                                          \
      for (size_t i = 0; i < (n); i += (step))                                                     \
        for (int l = 0; l < (step); l++) {                                                         \
          float gv = g[i + l];                                                                     \
          d[i + l] += A_ * (mk[i + l] > 0.f ? gv : 0.f);                                           \
        }                                                                                          \
    else                                                                                           \
      for (size_t i = 0; i < (n); i += (step))                                                     \
        for (int l = 0; l < (step); l++) {                                                         \
          float gv = g[i + l];                                                                     \
          if (mk)                                                                                  \
            gv = mk[i + l] > 0.f ? gv : 0.f;                                                       \
          float v = A_ * gv + B_ * xp[i + l] + D_;                                                 \
          float old = d[i + l];                                                                    \
          d[i + l] = accum ? old + v : v;                                                          \
        }                                                                                          \
  } while (0)

static void bn_dx_unit(const float *g, const float *mk, const float *xp, const float *A,
                       const float *B, const float *D, bool affine_only, bool accum, float *d,
                       size_t hw) {
  float al[BLK], bl[BLK], dl[BLK];
  for (int l = 0; l < BLK; l++)
    al[l] = A[l], bl[l] = B[l], dl[l] = D[l];
  BN_DX_LOOP(hw * BLK, BLK, al[l], bl[l], dl[l]);
}

static void bn_dx_plane(const float *g, const float *mk, const float *xp, float A, float B, float D,
                        bool affine_only, bool accum, float *d, size_t n) {
  BN_DX_LOOP(n, 1, A, B, D);
}
#undef BN_DX_LOOP

void nn_k_bn_bwd(nn_net *net, nn_node *nd, const nn_tensor *x, const float *dy, const float *mask,
                 bool want_dx, nn_tensor *dx, bool accum, bool want_dp, nn_mode mode) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x);
  const double M = (double)N * (double)HW;
  nn_param *pg = &net->params[nd->p[0]], *pb = &net->params[nd->p[1]];
  const float *gam = pg->value.data;
  const float *mean_s = nd->save, *istd_s = nd->save + C;
  /* Eval mode without parameter gradients (a frozen net's input gradient) needs no sums, and
   * eval mode never reads x: dx = gamma invstd dy. */
  const bool sums = want_dp || mode == NN_TRAIN;
  if (nd->blk) {
    /* ws1: [N][C][2] partial sums, then per channel sg, sgd (double) and A, B, D (float) */
    double *sg = (double *)net->ws[1] + 2 * (size_t)N * C, *sgd = sg + C;
    float *A = (float *)(sgd + C), *B = A + C, *D = B + C;
    if (sums)
      bn_bwd_sums_blk(net, x, dy, mask, mean_s, sg, sgd);
    for (int c = 0; c < C; c++) {
      const double istd = istd_s[c], k = gam[c] * istd;
      const double s0 = sums ? sg[c] : 0, sgx = sums ? sgd[c] * istd : 0;
      if (want_dp) {
        if (!pg->frozen)
          pg->grad.data[c] += (float)sgx;
        if (!pb->frozen)
          pb->grad.data[c] += (float)s0;
      }
      const double ag = s0 / M, agx = sgx / M;
      A[c] = (float)k;
      B[c] = (float)(-k * agx * istd);
      D[c] = (float)(-k * ag + k * agx * istd * mean_s[c]);
    }
    if (!want_dx)
      return;
    const int CB = C / BLK;
    const bool train = mode == NN_TRAIN;
#pragma omp parallel for schedule(static) num_threads(net->threads)
    for (int u = 0; u < N * CB; u++) {
      const size_t o = (size_t)u * HW * BLK;
      const int c0 = (u % CB) * BLK;
      bn_dx_unit(dy + o, mask ? mask + o : NULL, x->data + o, A + c0, B + c0, D + c0, !train, accum,
                 dx->data + o, HW);
    }
    return;
  }
#pragma omp parallel for schedule(static) num_threads(net->threads)
  for (int c = 0; c < C; c++) {
    const double mean = mean_s[c], istd = istd_s[c];
    double sg = 0, sgd = 0; /* sum(dy), sum(dy * (x - mean)) */
    for (int n = 0; n < N && sums; n++) {
      const size_t o = ((size_t)n * C + c) * HW;
      if (mask)
        lane_sums_masked(dy + o, mask + o, x->data + o, mean_s[c], HW, &sg, &sgd);
      else
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
    const double ag = sg / M, agx = sgx / M;
    const float A = (float)k, B = (float)(-k * agx * istd),
                D = (float)(-k * ag + k * agx * istd * mean);
    for (int n = 0; n < N; n++) {
      const size_t o = ((size_t)n * C + c) * HW;
      bn_dx_plane(dy + o, mask ? mask + o : NULL, x->data + o, A, B, D, mode != NN_TRAIN, accum,
                  dx->data + o, HW);
    }
  }
}

/* ---- pooling ---- */

/* Blocked max-pool: per unit, the plain kernel's window scan for 16 lanes at once (same scan
 * order and strict comparison, so the same maxima and indices). */
static void maxpool_fwd_blk(nn_node *nd, const nn_tensor *x, int thr) {
  const int H = x->h, W = x->w, OH = nd->h, OW = nd->w, k = nd->k, s = nd->stride, pd = nd->pad;
  const int units = x->n * (x->c / BLK);
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int u = 0; u < units; u++) {
    const float *p = x->data + (size_t)u * H * W * BLK;
    float *q = nd->out.data + (size_t)u * OH * OW * BLK;
    int32_t *id = nd->idx + (size_t)u * OH * OW * BLK;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int h0 = oh * s - pd, w0 = ow * s - pd;
        int h1 = h0 + k < H ? h0 + k : H, w1 = w0 + k < W ? w0 + k : W;
        h0 = h0 > 0 ? h0 : 0;
        w0 = w0 > 0 ? w0 : 0;
        float best[BLK];
        int32_t bi[BLK];
        for (int l = 0; l < BLK; l++) {
          best[l] = p[(h0 * W + w0) * BLK + l];
          bi[l] = h0 * W + w0;
        }
        for (int ih = h0; ih < h1; ih++)
          for (int iw = w0; iw < w1; iw++)
            for (int l = 0; l < BLK; l++) {
              float v = p[(ih * W + iw) * BLK + l];
              bi[l] = v > best[l] ? ih * W + iw : bi[l];
              best[l] = v > best[l] ? v : best[l];
            }
        for (int l = 0; l < BLK; l++) {
          q[(oh * OW + ow) * BLK + l] = best[l];
          id[(oh * OW + ow) * BLK + l] = bi[l];
        }
      }
  }
}

void nn_k_maxpool_fwd(nn_node *nd, const nn_tensor *x, int thr) {
  if (nd->blk) {
    maxpool_fwd_blk(nd, x, thr);
    return;
  }
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
  if (nd->blk) { /* indices are per lane: scatter unit by unit */
#pragma omp parallel for schedule(static) num_threads(thr)
    for (int u = 0; u < planes / BLK; u++) {
      float *d = dx->data + (size_t)u * HW * BLK;
      const float *g = nd->grad.data + (size_t)u * OHW * BLK;
      const int32_t *id = nd->idx + (size_t)u * OHW * BLK;
      if (!accum)
        memset(d, 0, HW * BLK * sizeof *d);
      for (size_t i = 0; i < OHW; i++)
        for (int l = 0; l < BLK; l++)
          d[(size_t)id[i * BLK + l] * BLK + l] += g[i * BLK + l];
    }
    return;
  }
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

void nn_k_gap_fwd(const nn_tensor *x, bool blk, nn_tensor *y, int thr) {
  const size_t HW = plane(x);
  const int planes = x->n * x->c;
  if (blk) { /* each lane sums its plane in the plain order: the same bits */
#pragma omp parallel for schedule(static) num_threads(thr)
    for (int u = 0; u < planes / BLK; u++) {
      const float *p = x->data + (size_t)u * HW * BLK;
      float acc[BLK] = {0};
      for (size_t i = 0; i < HW; i++)
        for (int l = 0; l < BLK; l++)
          acc[l] += p[i * BLK + l];
      for (int l = 0; l < BLK; l++)
        y->data[u * BLK + l] = acc[l] / (float)HW;
    }
    return;
  }
#pragma omp parallel for schedule(static) num_threads(thr)
  for (int pl = 0; pl < planes; pl++) {
    const float *p = x->data + (size_t)pl * HW;
    float acc = 0.f;
    for (size_t i = 0; i < HW; i++)
      acc += p[i];
    y->data[pl] = acc / (float)HW;
  }
}

void nn_k_gap_bwd(const nn_tensor *dy, nn_tensor *dx, bool blk, bool accum, int thr) {
  const size_t HW = plane(dx);
  const int planes = dx->n * dx->c;
  if (blk) {
#pragma omp parallel for schedule(static) num_threads(thr)
    for (int u = 0; u < planes / BLK; u++) {
      float *d = dx->data + (size_t)u * HW * BLK;
      float v[BLK];
      for (int l = 0; l < BLK; l++)
        v[l] = dy->data[u * BLK + l] / (float)HW;
      for (size_t i = 0; i < HW; i++)
        for (int l = 0; l < BLK; l++)
          d[i * BLK + l] = accum ? d[i * BLK + l] + v[l] : v[l];
    }
    return;
  }
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

/* Effective (non-negative) gamma and beta: [C*C gamma][C beta] in the node's cache. The
 * reparametrisation costs C*C evaluations in double, a few percent of a 32x32 decode when done
 * on every call, so it is redone only when the raw parameters differ (bytewise) from the ones the
 * cache was computed from: training steps change them, inference never does. */
static int gdn_effective(nn_net *net, nn_node *nd, float **gam, float **bet) {
  const size_t C = (size_t)nd->c, n = C * C + C;
  const float *pg = net->params[nd->p[1]].value.data, *pb = net->params[nd->p[0]].value.data;
  int fresh = 0;
  if (!nd->gdn_eff) {
    if (!(nd->gdn_eff = nn_aligned_alloc(2 * n * sizeof(float))))
      return nn_err_set(&net->err, NN_E_NOMEM, "nn_net: out of memory (GDN parameters)");
    fresh = 1;
  }
  float *eff = nd->gdn_eff, *raw = nd->gdn_eff + n;
  if (fresh || memcmp(raw, pg, C * C * sizeof(float)) ||
      memcmp(raw + C * C, pb, C * sizeof(float))) {
    for (size_t i = 0; i < C * C; i++)
      eff[i] = (float)nn_gdn_reparam_fwd(pg[i], 0.0);
    for (size_t i = 0; i < C; i++)
      eff[C * C + i] = (float)nn_gdn_reparam_fwd(pb[i], NN_GDN_BETA_MIN);
    memcpy(raw, pg, C * C * sizeof(float));
    memcpy(raw + C * C, pb, C * sizeof(float));
  }
  *gam = eff;
  *bet = eff + C * C;
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
    float *norm = (nd->save ? nd->save : net->ws[2]) + n * CHW, *y = nd->out.data + n * CHW;
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

/* ---- per-channel affine (FiLM) ---- */

void nn_k_chaffine_fwd(nn_node *nd, const nn_tensor *x, int thr) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x);
  const float *a = nd->aff, *b = nd->aff + C;
  float *y = nd->out.data;
#pragma omp parallel for schedule(static) num_threads(thr) if ((size_t)N * C * HW > PAR_MIN)
  for (int nc = 0; nc < N * C; nc++) {
    const int c = nc % C;
    const float *xp = x->data + (size_t)nc * HW;
    float *yp = y + (size_t)nc * HW;
    for (size_t i = 0; i < HW; i++)
      yp[i] = xp[i] * a[c] + b[c];
  }
}

void nn_k_chaffine_bwd(nn_node *nd, const nn_tensor *x, const float *dy, bool want_dx,
                       nn_tensor *dx, bool accum, int thr) {
  const int N = x->n, C = x->c;
  const size_t HW = plane(x);
  const float *a = nd->aff;
  float *ga = nd->aff_grad, *gb = nd->aff_grad + C;
  /* One channel per iteration: the sums run over n, then i, in a fixed order (in double). */
#pragma omp parallel for schedule(static) num_threads(thr) if ((size_t)N * C * HW > PAR_MIN)
  for (int c = 0; c < C; c++) {
    double sa = 0, sb = 0;
    for (int n = 0; n < N; n++) {
      const size_t off = ((size_t)n * C + c) * HW;
      const float *xp = x->data + off, *g = dy + off;
      for (size_t i = 0; i < HW; i++) {
        sa += (double)g[i] * xp[i];
        sb += g[i];
      }
      if (want_dx) {
        float *d = dx->data + off;
        for (size_t i = 0; i < HW; i++)
          d[i] = accum ? d[i] + g[i] * a[c] : g[i] * a[c];
      }
    }
    ga[c] += (float)sa;
    gb[c] += (float)sb;
  }
}
