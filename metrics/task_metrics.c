#include "metrics.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#define TASK_MAX_CLASSES 4096

static int check(const int *v, size_t n, int k) {
  for (size_t i = 0; i < n; i++)
    if (v[i] < 0 || v[i] >= k)
      return -1;
  return 0;
}

double metrics_entropy(const int *x, size_t n, int k) {
  if (k < 1 || k > TASK_MAX_CLASSES || check(x, n, k))
    return NAN;
  if (!n)
    return 0.0;
  size_t *c = calloc((size_t)k, sizeof *c);
  if (!c)
    return NAN;
  for (size_t i = 0; i < n; i++)
    c[x[i]]++;
  double h = 0;
  for (int a = 0; a < k; a++)
    if (c[a]) {
      double p = (double)c[a] / (double)n;
      h -= p * log2(p);
    }
  free(c);
  return h;
}

double metrics_mutual_information(const int *x, const int *y, size_t n, int k) {
  if (k < 1 || k > TASK_MAX_CLASSES || check(x, n, k) || check(y, n, k))
    return NAN;
  if (!n)
    return 0.0;
  size_t kk = (size_t)k;
  size_t *joint = calloc(kk * kk + 2 * kk, sizeof *joint);
  if (!joint)
    return NAN;
  size_t *cx = joint + kk * kk, *cy = cx + kk;
  for (size_t i = 0; i < n; i++) {
    joint[(size_t)x[i] * kk + (size_t)y[i]]++;
    cx[x[i]]++;
    cy[y[i]]++;
  }
  /* I = sum p(a,b) log2(p(a,b) / (p(a) p(b))) = sum c_ab/N log2(c_ab N / (c_a c_b)). */
  double mi = 0, dn = (double)n;
  for (size_t a = 0; a < kk; a++)
    for (size_t b = 0; b < kk; b++) {
      size_t c = joint[a * kk + b];
      if (c)
        mi += (double)c / dn * log2((double)c * dn / ((double)cx[a] * (double)cy[b]));
    }
  free(joint);
  return mi > 0 ? mi : 0.0; /* rounding can leave -1e-17 for independent variables */
}

double metrics_kl_bits(const float *p, const float *q, int k) {
  double kl = 0;
  for (int i = 0; i < k; i++)
    if (p[i] > 0) {
      double qi = q[i] > 1e-30f ? (double)q[i] : 1e-30;
      kl += (double)p[i] * log2((double)p[i] / qi);
    }
  /* KL >= 0; two float32 softmax outputs that each sum to 1 only up to rounding can give
   * -1e-9 for (nearly) identical distributions. */
  return kl > 0 ? kl : 0.0;
}

int metrics_task_stats_compute(const int *labels, const int *pred_orig, const int *pred_dec,
                               const double *kl, size_t n, int n_classes, metrics_task_stats *out) {
  if (n_classes < 1 || n_classes > TASK_MAX_CLASSES || check(pred_orig, n, n_classes) ||
      check(pred_dec, n, n_classes) || (labels && check(labels, n, n_classes))) {
    errno = EINVAL;
    return -1;
  }
  out->n = n;
  size_t agree = 0, correct = 0;
  double kl_sum = 0;
  for (size_t i = 0; i < n; i++) {
    agree += pred_dec[i] == pred_orig[i];
    if (labels)
      correct += pred_dec[i] == labels[i];
    if (kl)
      kl_sum += kl[i];
  }
  out->agreement = n ? (double)agree / (double)n : NAN;
  out->accuracy = labels && n ? (double)correct / (double)n : NAN;
  out->mean_kl = kl && n ? kl_sum / (double)n : NAN;
  out->h_a = metrics_entropy(pred_orig, n, n_classes);
  out->si = metrics_mutual_information(pred_orig, pred_dec, n, n_classes);
  if (isnan(out->h_a) || isnan(out->si)) {
    errno = ENOMEM;
    return -1;
  }
  out->si_norm = out->h_a > 0 ? out->si / out->h_a : NAN;
  if (labels) {
    out->i_y_a = metrics_mutual_information(labels, pred_orig, n, n_classes);
    out->i_y_b = metrics_mutual_information(labels, pred_dec, n, n_classes);
    if (isnan(out->i_y_a) || isnan(out->i_y_b)) {
      errno = ENOMEM;
      return -1;
    }
    out->delta_i = out->i_y_a - out->i_y_b;
  } else {
    out->i_y_a = out->i_y_b = out->delta_i = NAN;
  }
  return 0;
}
