/* Comparing two runs (nightly against the previous night, a candidate against a baseline).
 *
 * Points are matched by dataset name, codec label, grid kind and value. For every matched point
 * the change of each aggregate is computed and flagged when it exceeds a noise bound:
 *  - codecs here are deterministic, so for identical inputs and library versions every metric
 *    repeats exactly; the default bounds (PSNR 0.01 dB, SSIM/MS-SSIM 1e-4, bpp 0.1%) only absorb
 *    printing precision and tell a real change from none;
 *  - timings are noisy (shared machines): a change counts only beyond time_rel (default 25%),
 *    and is reported, not treated as a regression.
 * A regression is, at a knob point: more bytes, or lower PSNR, SSIM or MS-SSIM; at a bpp target:
 * lower PSNR, SSIM or MS-SSIM; anywhere: more failed images, or a point present in A and missing
 * in B. Improvements are the reverse. When the datasets' content hashes differ the comparison is
 * not like-for-like; it is still made, with a warning.
 *
 * Task metrics (schema version 2): task_aggregates rows are matched by dataset, task name, codec
 * label and grid point. Per row the changes of accuracy, agreement and SI_norm are computed (mean
 * KL is shown, not judged). The codecs are deterministic and so is the task network's inference
 * on one machine, so when both runs scored the same images the difference is exact: any change
 * is real. The bound guards against what is not exact: a different image selection (another
 * stride, limit or data copy), the task network's floating-point nondeterminism across
 * machines/thread counts/oneDNN kernels, and sampling noise when such runs are compared at all.
 * It is two binomial standard errors of the difference of two proportions,
 *     bound = max(task_se * sqrt(pA(1-pA)/nA + pB(1-pB)/nB), 1/min(nA, nB)),
 * with p the accuracy (n = labelled images) or the agreement (n = images scored); the floor of
 * one image keeps a single flipped prediction (and SE = 0 at p = 0 or 1) from counting.
 * SI_norm = I(A;B)/H(A) has no closed-form binomial SE; it uses the agreement's bound above. The
 * reason: SI_norm is a function of the joint table of top-1 predictions on the originals (A) and
 * the decoded images (B), and it moves with the agreement to first order (both are 1 when B = A;
 * k changed predictions move each by about k/n), so the agreement's standard error is the
 * delta-method scale of its sampling noise (conservative: the plug-in SI is biased up, not
 * noisier, for small n). A drop beyond the bound is a regression, a rise an improvement; a task
 * row of A missing in B counts as missing (a regression), as for points.
 *
 * When both runs are in one database and scored the same images (equal content hashes), each
 * matched task row also gets the paired bootstrap 95 % interval of B - A for accuracy and
 * SI_norm on the images both scored (metrics/metrics.h, images paired by their position
 * in the dataset): "ci95" in the JSON, and a line under each flagged row of the table. It is
 * information for the reader; the verdict is the bound above.
 *
 * Thread-safety: no global state; connections are used by the calling thread only. */
#ifndef SAICBENCH_COMPARE_H
#define SAICBENCH_COMPARE_H

#include <stdint.h>
#include <stdio.h>

#include "results.h"

typedef struct compare_bounds {
  double psnr_db;  /* default 0.01 */
  double ssim;     /* default 1e-4, also for MS-SSIM */
  double bpp_rel;  /* default 0.001 */
  double time_rel; /* default 0.25 */
  double task_se;  /* task metrics: standard errors of the difference, default 2 */
} compare_bounds;

#define COMPARE_DEFAULT_BOUNDS                                                                     \
  { 0.01, 1e-4, 0.001, 0.25, 2.0 }

typedef struct compare_summary {
  int points;       /* matched points */
  int regressions;  /* points with at least one regression */
  int improvements; /* points with at least one improvement and no regression */
  int missing;      /* points of A missing in B (counted as regressions too) */
  int added;        /* points only in B */
  int slower, faster;
  int data_differs; /* some dataset's content hash differs */
  /* Task metrics: rows of task_aggregates (task x codec x grid point x dataset). */
  int task_points;       /* matched rows */
  int task_regressions;  /* rows with a regression, missing rows included */
  int task_improvements; /* rows with an improvement and no regression */
  int task_missing;      /* rows of A missing in B */
  int task_added;        /* rows only in B */
} compare_summary;

/* What a nightly job acts on: any regression, of the points or of the task metrics. */
#define COMPARE_HAS_REGRESSION(s) ((s)->regressions > 0 || (s)->task_regressions > 0)

/* Compares run_b (candidate) against run_a (baseline), writing a table to `out` (may be NULL)
 * and, when json_path is not NULL, a JSON file of every point and task row (with "regression"
 * and "exit_status": 1 when there is a regression, else 0). Returns 0, or -1 with err set. */
int compare_runs(store *db_a, int64_t run_a, store *db_b, int64_t run_b,
                 const compare_bounds *bounds, FILE *out, const char *json_path,
                 compare_summary *summary, char *err, size_t err_len);

#endif
