/* Paired bootstrap confidence intervals for the difference between two codecs scored on the
 * same images (prefix metrics_pboot_).
 *
 * Two codecs A and B at one grid point are compared on the same n images, so their per-image
 * scores are paired: resampling images (not codecs) keeps the pairing and cancels the variance
 * the two share (hard images are hard for both). Each round draws n image indices uniformly
 * with replacement and computes, on that resample,
 *   d_acc  = accuracy(B) - accuracy(A)          (top-1 on the decoded images vs the labels),
 *   d_si   = SI_norm(B) - SI_norm(A)            (SI_norm = I(O;D) / H(O), O = top-1 on the
 *            originals, D = top-1 on the decoded images; plug-in estimates in bits, as in
 *            task_metrics.h),
 *   d_psnr = mean PSNR(B) - mean PSNR(A)        (dB, mean of per-image values).
 * The interval is the percentile interval of the rounds' values at `level` (e.g. 0.95: the
 * 2.5th and 97.5th percentiles, linear interpolation between order statistics as NumPy's
 * default percentile method). The point estimate is the difference on the full sample.
 *
 * Deterministic: the indices come from SplitMix64 seeded with `seed`; index = the high 64 bits
 * of (next() * n) (Lemire's multiply-shift, no modulo). The same inputs, rounds and seed give
 * the same interval on every machine; tests/bootstrap/ checks it against an independent NumPy
 * implementation that draws the same indices.
 *
 * Pure functions, no global state, thread-safe. */
#ifndef SAICBENCH_PAIRED_BOOTSTRAP_H
#define SAICBENCH_PAIRED_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_PBOOT_DEFAULT_ROUNDS 2000
#define METRICS_PBOOT_DEFAULT_SEED 20261206u
#define METRICS_PBOOT_MAX_CLASSES 4096

/* One codec's per-image scores at the grid point, indexed like the shared image list. Any of
 * the arrays may be NULL (that statistic is then NAN). */
typedef struct metrics_pboot_side {
  const int *pred;    /* top-1 class on the decoded image, in [0, n_classes) */
  const double *psnr; /* per-image PSNR in dB (finite) */
} metrics_pboot_side;

typedef struct metrics_pboot_input {
  size_t n;             /* paired images (>= 1) */
  int n_classes;        /* task classes (1..METRICS_PBOOT_MAX_CLASSES); 0 when no task */
  const int *labels;    /* true classes, or NULL (unlabeled: no accuracy) */
  const int *pred_orig; /* top-1 on the original images, or NULL (no SI_norm) */
  metrics_pboot_side a; /* the reference codec */
  metrics_pboot_side b; /* the codec compared against it */
} metrics_pboot_input;

typedef struct metrics_pboot_ci {
  double delta; /* B - A on the full sample; NAN when undefined */
  double lo;    /* lower end of the interval */
  double hi;    /* upper end */
} metrics_pboot_ci;

typedef struct metrics_pboot_result {
  metrics_pboot_ci accuracy; /* fraction (multiply by 100 for points) */
  metrics_pboot_ci si_norm;
  metrics_pboot_ci psnr; /* dB */
  int rounds;
  double level;
} metrics_pboot_result;

/* Computes the three intervals. rounds in [10, 1000000], level in (0, 1). Returns 0, or -1 on
 * bad arguments (a class index out of range, n = 0) or no memory (errno set). A statistic whose
 * inputs are missing, or that is undefined on the full sample or on some resample (SI_norm when
 * every original is predicted the same class), is NAN in all three fields. */
int metrics_pboot_compute(const metrics_pboot_input *in, int rounds, uint64_t seed, double level,
                          metrics_pboot_result *out);

/* The k-th index draw of a resample stream, exposed for tests: state is advanced. */
uint64_t metrics_pboot_next_index(uint64_t *state, uint64_t n);

#endif
