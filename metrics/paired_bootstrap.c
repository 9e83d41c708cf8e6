/* paired_bootstrap.c - paired bootstrap intervals (see metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t metrics_pboot_next_index(uint64_t *state, uint64_t n) {
  return (uint64_t)(((unsigned __int128)splitmix64(state) * n) >> 64);
}

/* Plug-in SI_norm = I(O;D) / H(O) from a k x k joint count table over `total` images; NAN when
 * H(O) = 0. Entropies from counts: H = log2(N) - sum c log2(c) / N. */
static double si_norm_from_counts(const uint32_t *joint, const uint32_t *ro, const uint32_t *rd,
                                  int k, double total) {
  double h_o = 0, h_d = 0, h_od = 0;
  for (int i = 0; i < k; i++) {
    if (ro[i])
      h_o -= ro[i] * log2(ro[i]);
    if (rd[i])
      h_d -= rd[i] * log2(rd[i]);
  }
  for (size_t i = 0; i < (size_t)k * (size_t)k; i++)
    if (joint[i])
      h_od -= joint[i] * log2(joint[i]);
  const double lt = log2(total);
  h_o = lt + h_o / total;
  h_d = lt + h_d / total;
  h_od = lt + h_od / total;
  if (!(h_o > 1e-12))
    return NAN;
  double mi = h_o + h_d - h_od;
  return (mi < 0 ? 0 : mi) / h_o;
}

/* Per-codec scratch for SI_norm: joint table and marginals. */
typedef struct si_acc {
  uint32_t *joint, *ro, *rd;
} si_acc;

static double si_norm_of(const int *orig, const int *dec, const uint32_t *idx, size_t n, int k,
                         si_acc *s) {
  memset(s->joint, 0, (size_t)k * (size_t)k * sizeof *s->joint);
  memset(s->ro, 0, (size_t)k * sizeof *s->ro);
  memset(s->rd, 0, (size_t)k * sizeof *s->rd);
  for (size_t j = 0; j < n; j++) {
    size_t i = idx ? idx[j] : j;
    s->joint[(size_t)orig[i] * (size_t)k + (size_t)dec[i]]++;
    s->ro[orig[i]]++;
    s->rd[dec[i]]++;
  }
  return si_norm_from_counts(s->joint, s->ro, s->rd, k, (double)n);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* NumPy's default ("linear") percentile of sorted v[0..r-1] at fraction q. */
static double percentile_sorted(const double *v, int r, double q) {
  double pos = q * (r - 1);
  int lo = (int)floor(pos);
  if (lo >= r - 1)
    return v[r - 1];
  double f = pos - lo;
  return v[lo] + (v[lo + 1] - v[lo]) * f;
}

static void finish(metrics_pboot_ci *ci, double full, double *vals, int rounds, int defined,
                   double level) {
  if (!defined || isnan(full)) {
    ci->delta = ci->lo = ci->hi = NAN;
    return;
  }
  qsort(vals, (size_t)rounds, sizeof *vals, cmp_double);
  ci->delta = full;
  ci->lo = percentile_sorted(vals, rounds, (1 - level) / 2);
  ci->hi = percentile_sorted(vals, rounds, 1 - (1 - level) / 2);
}

static int valid_classes(const int *v, size_t n, int k) {
  for (size_t i = 0; v && i < n; i++)
    if (v[i] < 0 || v[i] >= k)
      return 0;
  return 1;
}

int metrics_pboot_compute(const metrics_pboot_input *in, int rounds, uint64_t seed, double level,
                          metrics_pboot_result *out) {
  const size_t n = in->n;
  const int k = in->n_classes;
  if (n == 0 || n > UINT32_MAX || rounds < 10 || rounds > 1000000 || !(level > 0 && level < 1) ||
      k < 0 || k > METRICS_PBOOT_MAX_CLASSES) {
    errno = EINVAL;
    return -1;
  }
  const int do_acc = k > 0 && in->labels && in->a.pred && in->b.pred;
  const int do_si = k > 0 && in->pred_orig && in->a.pred && in->b.pred;
  const int do_psnr = in->a.psnr && in->b.psnr;
  if ((k > 0 && (!valid_classes(in->labels, n, k) || !valid_classes(in->pred_orig, n, k) ||
                 !valid_classes(in->a.pred, n, k) || !valid_classes(in->b.pred, n, k))) ||
      (k == 0 && (in->a.pred || in->b.pred))) {
    errno = EINVAL;
    return -1;
  }
  uint32_t *idx = malloc(n * sizeof *idx);
  double *vals = malloc(3 * (size_t)rounds * sizeof *vals);
  /* Per image: accuracy difference in {-1, 0, 1}, PSNR difference. */
  int8_t *dacc = do_acc ? malloc(n) : NULL;
  double *dpsnr = do_psnr ? malloc(n * sizeof *dpsnr) : NULL;
  const size_t kk = (size_t)(k > 0 ? k : 1);
  uint32_t *tables = do_si ? calloc(2 * (kk * kk + 2 * kk), sizeof *tables) : NULL;
  if (!idx || !vals || (do_acc && !dacc) || (do_psnr && !dpsnr) || (do_si && !tables)) {
    free(idx);
    free(vals);
    free(dacc);
    free(dpsnr);
    free(tables);
    errno = ENOMEM;
    return -1;
  }
  si_acc sa = {0}, sb = {0};
  if (do_si) {
    sa = (si_acc){tables, tables + kk * kk, tables + kk * kk + kk};
    sb = (si_acc){tables + kk * kk + 2 * kk, tables + 2 * kk * kk + 2 * kk,
                  tables + 2 * kk * kk + 3 * kk};
  }
  double full_acc = NAN, full_psnr = NAN, full_si = NAN;
  long sum_acc = 0;
  double sum_psnr = 0;
  for (size_t i = 0; i < n; i++) {
    if (do_acc) {
      dacc[i] = (int8_t)((in->b.pred[i] == in->labels[i]) - (in->a.pred[i] == in->labels[i]));
      sum_acc += dacc[i];
    }
    if (do_psnr) {
      dpsnr[i] = in->b.psnr[i] - in->a.psnr[i];
      sum_psnr += dpsnr[i];
    }
  }
  if (do_acc)
    full_acc = (double)sum_acc / (double)n;
  if (do_psnr)
    full_psnr = sum_psnr / (double)n;
  if (do_si)
    full_si = si_norm_of(in->pred_orig, in->b.pred, NULL, n, k, &sb) -
              si_norm_of(in->pred_orig, in->a.pred, NULL, n, k, &sa);
  int si_defined = do_si && !isnan(full_si);
  double *va = vals, *vs = vals + rounds, *vp = vals + 2 * (size_t)rounds;
  uint64_t state = seed;
  for (int r = 0; r < rounds; r++) {
    long acc = 0;
    double ps = 0;
    for (size_t j = 0; j < n; j++) {
      uint32_t i = (uint32_t)metrics_pboot_next_index(&state, n);
      idx[j] = i;
      if (do_acc)
        acc += dacc[i];
      if (do_psnr)
        ps += dpsnr[i];
    }
    va[r] = (double)acc / (double)n;
    vp[r] = ps / (double)n;
    if (si_defined) {
      vs[r] = si_norm_of(in->pred_orig, in->b.pred, idx, n, k, &sb) -
              si_norm_of(in->pred_orig, in->a.pred, idx, n, k, &sa);
      if (isnan(vs[r]))
        si_defined = 0;
    }
  }
  finish(&out->accuracy, full_acc, va, rounds, do_acc, level);
  finish(&out->si_norm, full_si, vs, rounds, si_defined, level);
  finish(&out->psnr, full_psnr, vp, rounds, do_psnr, level);
  out->rounds = rounds;
  out->level = level;
  free(idx);
  free(vals);
  free(dacc);
  free(dpsnr);
  free(tables);
  return 0;
}
