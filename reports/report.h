/* saicbench report: turns one run of the result database (results/schema.sql, schema version 1
 * to 3) into CSV, CompressAI-style JSON and one self-contained HTML page. Reads nothing but the
 * database (through sb_results): the example images are thumbnails the run stored. Version-1
 * databases (no task tables) give the same CSV and JSON files as report v1; the task outputs below
 * appear only for datasets with task_aggregates rows of the run.
 *
 * Output files in out_dir (created with its parents if missing):
 *
 *   points_<dataset>.csv
 *     One row per codec x grid point that has an aggregates row for the dataset. RFC 4180:
 *     header line, CRLF line ends, UTF-8, a field quoted when it contains , " CR LF or a
 *     leading/trailing space; text starting with = + - @ TAB or CR is quoted with a leading
 *     apostrophe (spreadsheets would run it as a formula). Columns:
 *       codec, codec_name, point_kind, point_value, n, n_errors, n_unreachable, mean_knob, bpp,
 *       stream_bpp, psnr, psnr_of_mean_mse, ssim, ms_ssim, encode_ms, decode_ms
 *     then those of psnr_y, psnr_cb, psnr_cr, psnr_ycbcr, ciede2000, butteraugli_max,
 *     butteraugli_3norm (aggregates.mean_*, the opt-in metrics of docs/metrics.md) that some row
 *     of the dataset has, in this order: a run without them gives exactly the columns above.
 *     codec = codecs.label, codec_name = codecs.codec, point_kind = "knob" | "bpp",
 *     point_value = the knob value or the bpp target; the rest are aggregates columns (bpp =
 *     mean_bpp from file bytes, psnr = mean of per-image PSNR, times in ms per image). NULL is
 *     an empty field; numbers use the shortest form that parses back exactly. Sorted by codec
 *     label (bytewise), then kind (knob before bpp), then bpp (NULL last), then point_value.
 *
 *   tasks_<dataset>.csv  (only when the dataset has task rows)
 *     One row per task x codec x grid point with a task_aggregates row, same conventions as
 *     above. Columns:
 *       task, task_arch, codec, codec_name, point_kind, point_value, bpp, stream_bpp, n,
 *       n_labelled, accuracy, accuracy_se, ref_accuracy, agreement, h_a, si, si_norm, i_y_a,
 *       i_y_b, delta_i, mean_kl
 *     bpp/stream_bpp = aggregates.mean_bpp/mean_stream_bpp of the point (empty without an
 *     aggregates row); n = task_aggregates.n (decoded images scored); n_labelled = those with
 *     a label (task_results joined with images); accuracy_se = sqrt(p(1-p)/n_labelled), the
 *     binomial standard error of accuracy p; the rest are task_aggregates columns (fractions,
 *     information in bits). Sorted by task name, then as points_<dataset>.csv.
 *
 *   perclass_<dataset>.csv  (only when the dataset has task rows)
 *     Top-1 accuracy per class. Columns:
 *       task, codec, point_kind, point_value, bpp, class, class_name, n, correct, accuracy
 *     Per task (by name): first the originals (codec "original", point_kind, point_value and
 *     bpp empty; counts over task_refs), then every codec x grid point of tasks_<dataset>.csv
 *     (counts over task_results); each with one row per class 0..K-1, K = max(n_classes,
 *     1 + largest label). class_name = entry of datasets.class_names (a JSON array), empty
 *     when missing; n = labelled images of that class scored, correct = of those classified
 *     correctly, accuracy = correct/n (empty when n = 0).
 *
 *   paired_<dataset>.csv  (only when the dataset has task rows at bpp targets)
 *     Every codec against the reference codec (report_options.reference, default the BD
 *     anchor) at each bpp target both have, per task: the difference codec - reference of
 *     accuracy (fraction), SI_norm and mean PSNR (dB) on the images both scored without error,
 *     with its paired bootstrap interval (metrics/metrics.h: images resampled with
 *     replacement, percentile interval). Columns:
 *       task, reference, codec, bpp_target, n, d_accuracy, d_accuracy_lo, d_accuracy_hi,
 *       d_si_norm, d_si_norm_lo, d_si_norm_hi, d_psnr, d_psnr_lo, d_psnr_hi, level, rounds, seed
 *     Empty where undefined (no labels; a NULL PSNR, i.e. an identical image). Sorted by the
 *     task rows' order. report.html shows the same table per dataset.
 *
 *   compressai_<codec>_<dataset>.json      knob-grid points of one codec on one dataset
 *   compressai_<codec>_<dataset>_bpp.json  bpp-target points (only if the codec has them)
 *     {"name": <label, + " (bpp targets)" for _bpp>, "description": <dataset, run id, suite,
 *      codec settings, rate accounting>, "results": {"bpp": [...], "psnr-rgb": [...],
 *      "psnr": [...], "ms-ssim-rgb": [...], "ssim-rgb": [...], "encoding_time": [...],
 *      "decoding_time": [...], and the opt-in "psnr-y", "psnr-cb", "psnr-cr", "psnr-ycbcr",
 *      "ciede2000", "butteraugli-max", "butteraugli-3norm": [...]}}
 *     Equal-length arrays, one entry per grid point with a non-NULL mean bpp, sorted by bpp;
 *     times in seconds per image; numbers printed with 15 significant digits (the CSV is the
 *     exact copy). "results" never holds a null: a metric that is NULL at any of the file's
 *     points is left out entirely (e.g. "ms-ssim-rgb" on CIFAR-10, where MS-SSIM is undefined
 *     below 161 px, or a time the run did not record), because CompressAI's plot script
 *     (compressai/utils/plot) and similar tools turn every entry into a number and would fail,
 *     and a partial curve would mislead; the CSV keeps every value. "psnr" is a copy of
 *     "psnr-rgb": older CompressAI plot scripts default to `-m psnr`, newer ones to "psnr-rgb".
 *     The two grids are kept apart because they are different experiments (fixed knob vs.
 *     rate control), and a CompressAI-style plot draws one curve per file. A file is written
 *     only when it has at least one point.
 *     When tasks scored the dataset: a top-level "tasks" object {<task name>: {"accuracy": [...],
 *     "si": [...], "si_norm": [...]}} for each task with a row at any of the file's points
 *     (arrays aligned with "bpp", accuracy as a fraction, null where the point has no task row
 *     or the value is NULL; an array that would be all null is left out), and "accuracy" and
 *     "si_norm" in "results" for the first of them (by name), each only when it has no null.
 *
 *   report.html
 *     One self-contained page (inline CSS and SVG, no scripts, no external resources): run
 *     metadata, library versions (runs.library_versions parsed as a JSON object), codecs, then
 *     per dataset rate-PSNR, rate-SSIM and (when any value exists) rate-MS-SSIM, rate-PSNR-Y,
 *     rate-PSNR-YCbCr, rate-CIEDE2000, rate-Butteraugli (max) and rate-Butteraugli 3-norm
 *     plots (inline SVG, x = mean file bpp, log scale beyond an 8x range; per codec a solid
 *     knob-grid series and a dashed bpp-target series; hollow markers where n_unreachable > 0)
 *     and a table of the CSV's rows (n_unreachable > 0 highlighted); then per task that scored
 *     the dataset: a
 *     rate-accuracy plot (accuracy in %, the accuracy on the originals as a dashed line
 *     labelled "original", and on every point a vertical error bar of +-1 binomial standard
 *     error, sqrt(p(1-p)/n) over its n labelled images, clipped to 0..100 %; the plot's note
 *     says so), a rate-SI_norm plot (series as above), for each codec name shared by at least
 *     two codecs with 4 or more knob points (e.g. several SAIC models) a knob-accuracy plot
 *     (x = the knob value, linear; every codec of that name, +-1 SE bars: what rate control
 *     sees along the knob), a table of the task's aggregates
 *     (accuracy +- SE, ref. accuracy, agreement, SI, SI_norm, delta I, KL, N) and a per-class
 *     accuracy table (originals and every point; left to the CSV beyond 100 classes); then the
 *     list of files. Well-formed XML too.
 *     Plots are 760 x 420 px (taller when the legend needs it), the legend right of the plot
 *     area with one entry per codec and, when both kinds are drawn, a key to the line styles.
 *     Every codec has the same colour and marker shape in every plot (Tableau 10 colours and 8
 *     shapes by the codec's index, so no two codecs of a run below 40 share both). Above each
 *     dataset's plots, one ticked checkbox per codec with a plotted point: unticking it hides
 *     that codec's series in all plots of the dataset and fades its legend entries, by CSS
 *     alone (the checkboxes precede the dataset's content as siblings; `:checked ~` rules per
 *     codec index in the page's style sheet).
 *     BD table per dataset (with two codecs or more): every codec against the anchor
 *     (report_options.anchor): BD-rate at equal PSNR, at equal SSIM, BD-PSNR, BD-rate at equal
 *     PSNR-YCbCr (when the dataset has it) and, per task that
 *     scored the dataset, BD-rate at equal accuracy and BD-accuracy (percentage points). Curves
 *     are the knob-grid points only (bpp targets left out), x = mean file bpp, one point per
 *     distinct rate (the first by knob value), sorted by rate (metrics.h: PCHIP, overlap only). A
 *     value that cannot be computed reads "not comparable: " and the reason: "fewer than 4
 *     points (distinct rates: anchor N, this codec M)", "no overlap (anchor lo-hi, this codec
 *     lo-hi <unit>)", "not monotone (<which curve>...)" or "invalid input".
 *     Example images per dataset (after the task tables): up to strip_images of the images
 *     whose thumbnails the run stored (`saicbench run --strip-images N`: the first N images of
 *     each dataset; labelled ones that the first task by name classified correctly on the
 *     original first, one per class before a second of any class; else by index), each as the
 *     original and, per codec and grid point (in the CSV's order), the decoded image the run
 *     produced: inline base64 PNGs (<img src="data:image/png;base64,...">, the only src
 *     attributes), box-filtered down by a whole factor to at most 128 px wide by the runner,
 *     shown enlarged (pixelated) below 64 px. Captions: the grid point, the run's bpp and PSNR
 *     of that image, the first task's top-1 class (task_results) marked correct or wrong
 *     against the label. A run without thumbnails (from before they were stored, or made with
 *     --strip-images 0) gets a note instead. About 6 MiB of pictures at most per report; the
 *     strips are deterministic (same database, same bytes).
 *
 * <codec> and <dataset> in file names are the label/name with bytes outside [A-Za-z0-9._-]
 * replaced by '_' (at most 64 bytes, a leading '.' too); names that still collide (compared
 * case-insensitively) get "-2", "-3", ... before the extension, in the order datasets (by name)
 * and codecs (by label) are listed. Every string from the database is escaped for its
 * output format; invalid UTF-8 becomes U+FFFD. Non-finite numbers are written as NULL.
 *
 * Each file is written to <name>.tmp, fsync()ed and renamed, so a crash never leaves a partial
 * file under a final name. Files of earlier reports in out_dir are not removed.
 *
 * The database is read inside one read transaction (when the connection is not already in a
 * transaction), so a run being written concurrently is seen consistently. Runs that are still
 * 'running' or were interrupted may lack aggregates; the page says how many grid points lack
 * them per dataset.
 *
 * Errors: functions return 0 on success and non-zero on failure, writing a one-line message
 * naming the file or problem into err (err_len bytes; err may be NULL when err_len is 0).
 *
 * Thread-safety: no global state. Calls may run concurrently on different connections; a
 * connection must not be used by another thread during a call.
 */
#ifndef SAICBENCH_REPORT_H
#define SAICBENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "results.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options of report_write_opts. Zero-initialise ({0}) for the defaults. */
typedef struct report_options {
  /* Label of the codec every other codec is compared against in the BD tables. NULL: the codec
   * labelled "jpeg", else the first codec (in suite order) whose codec is jpeg, else the first
   * codec. A label that is not in the run is an error. (The saicbench command fills this and
   * `reference` from the suite's `report:` key when its options leave them out; the library
   * itself reads no suite.) */
  const char *anchor;
  /* 1: no example image strips. */
  int no_images;
  /* Images per dataset in the strips; 0: REPORT_DEFAULT_STRIP_IMAGES. */
  size_t strip_images;
  /* Label of the reference codec of the paired-difference intervals (paired_<dataset>.csv);
   * NULL: the BD anchor. A label that is not in the run is an error. */
  const char *reference;
  /* Bootstrap resamples of those intervals; 0: METRICS_PBOOT_DEFAULT_ROUNDS (2000); < 0: no
   * intervals. */
  int bootstrap_rounds;
} report_options;

#define REPORT_DEFAULT_STRIP_IMAGES 2

/* Writes the report of one run into out_dir (created if missing), with default options. */
int report_write(store *st, int64_t run_id, const char *out_dir, char *err, size_t err_len);
/* The same with options (opt may be NULL: defaults). */
int report_write_opts(store *st, int64_t run_id, const char *out_dir, const report_options *opt,
                      char *err, size_t err_len);

/* ---- Comparing two runs (report_compare_runs) ----
 *
 * Comparing two runs (nightly against the previous night, a candidate against a baseline).
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

typedef struct compare_bounds {
  double psnr_db;  /* default 0.01, also for the opt-in PSNR-Y and PSNR-YCbCr */
  double ssim;     /* default 1e-4, also for MS-SSIM */
  double bpp_rel;  /* default 0.001 */
  double time_rel; /* default 0.25 */
  double task_se;  /* task metrics: standard errors of the difference, default 2 */
  /* The opt-in distances where lower is better (CIEDE2000, Butteraugli max and 3-norm): a rise
   * beyond this fraction is a regression, a fall an improvement; default 0.001. */
  double distance_rel;
} compare_bounds;

#define COMPARE_DEFAULT_BOUNDS                                                                     \
  { 0.01, 1e-4, 0.001, 0.25, 2.0, 0.001 }

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
int report_compare_runs(store *db_a, int64_t run_a, store *db_b, int64_t run_b,
                        const compare_bounds *bounds, FILE *out, const char *json_path,
                        compare_summary *summary, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif
