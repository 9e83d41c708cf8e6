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
 * Thread-safety: no global state; connections are used by the calling thread only. */
#ifndef SAICBENCH_COMPARE_H
#define SAICBENCH_COMPARE_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

typedef struct compare_bounds {
  double psnr_db;  /* default 0.01 */
  double ssim;     /* default 1e-4, also for MS-SSIM */
  double bpp_rel;  /* default 0.001 */
  double time_rel; /* default 0.25 */
} compare_bounds;

#define COMPARE_DEFAULT_BOUNDS                                                                     \
  { 0.01, 1e-4, 0.001, 0.25 }

typedef struct compare_summary {
  int points;       /* matched points */
  int regressions;  /* points with at least one regression */
  int improvements; /* points with at least one improvement and no regression */
  int missing;      /* points of A missing in B (counted as regressions too) */
  int added;        /* points only in B */
  int slower, faster;
  int data_differs; /* some dataset's content hash differs */
} compare_summary;

/* Compares run_b (candidate) against run_a (baseline), writing a table to `out` (may be NULL)
 * and, when json_path is not NULL, a JSON file of every point. */
int compare_runs(sqlite3 *db_a, int64_t run_a, sqlite3 *db_b, int64_t run_b,
                 const compare_bounds *bounds, FILE *out, const char *json_path,
                 compare_summary *summary, char *err, size_t err_len);

#endif
