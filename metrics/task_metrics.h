/* Task metrics over a set of predictions (docs/metrics.md#task-metrics): accuracy, agreement,
 * semantic mutual information SI = I(A;B) between the classifier's top-1 on the originals (A)
 * and on the decoded images (B), SI_norm = SI / H(A), the task information lost
 * ΔI = I(Y;A) - I(Y;B), and the mean KL divergence between the two output distributions. All in
 * bits.
 *
 * Pure functions, no global state, thread-safe. Empirical distributions are plug-in estimates
 * (counts / N); N is always reported with them because the plug-in mutual information is biased
 * upward for small N. */
#ifndef SAICBENCH_TASK_METRICS_H
#define SAICBENCH_TASK_METRICS_H

#include <stddef.h>

typedef struct metrics_task_stats {
  size_t n;         /* predictions counted */
  double accuracy;  /* fraction with top-1 on decoded == label; NAN without labels */
  double agreement; /* fraction with top-1 on decoded == top-1 on original */
  double h_a;       /* H(A) */
  double si;        /* I(A;B) */
  double si_norm;   /* SI / H(A); NAN when H(A) == 0 (every original predicted the same) */
  double i_y_a;     /* I(Y;A); NAN without labels */
  double i_y_b;     /* I(Y;B); NAN without labels */
  double delta_i;   /* I(Y;A) - I(Y;B); NAN without labels */
  double mean_kl;   /* mean of the per-image KL values given; NAN if none were given */
} metrics_task_stats;

/* labels (may be NULL: unlabeled data), pred_orig, pred_dec: n class indices in [0, n_classes);
 * kl: n per-image KL values in bits (may be NULL). Returns 0, or -1 when an index is out of
 * range, n_classes < 1 or > 4096, or memory runs out (errno set). */
int metrics_task_stats_compute(const int *labels, const int *pred_orig, const int *pred_dec,
                               const double *kl, size_t n, int n_classes, metrics_task_stats *out);

/* Mutual information in bits of two paired discrete variables with values in [0, k). Returns
 * NAN on an out-of-range value, k out of [1, 4096], or no memory. */
double metrics_mutual_information(const int *x, const int *y, size_t n, int k);
/* Entropy in bits of a discrete variable with values in [0, k); NAN as above. */
double metrics_entropy(const int *x, size_t n, int k);
/* KL(p || q) in bits for two distributions over k classes. Terms with p = 0 contribute 0; q is
 * floored at 1e-30 so a zero where p > 0 gives a large finite value rather than infinity; a
 * negative sum (float rounding for nearly equal inputs) is returned as 0. */
double metrics_kl_bits(const float *p, const float *q, int k);

#endif
