/* results.h - sb_results, the result database: the only code that speaks SQL.
 *
 * One SQLite file per run database (--db PATH); the schema is results/schema.sql, embedded at
 * build time and documented in docs/schema.md. This library owns everything that touches it:
 *   store      opening and identifying a database, creating or upgrading its schema, and the
 *              writes of a run (runs, datasets, images, codecs, points, results, tasks)
 *              (store_open.c, store_write.c);
 *   aggregates the per-point aggregates and task aggregates of a run (aggregates.c);
 *   checksum   the content checksum of a complete run, stored and verified (checksum.c);
 *   merge      shard databases into one run (merge.c);
 *   read       a typed, in-memory model of one run for reports, compare and gate (read.c),
 *              paired per-image comparisons (paired.c), example-strip picks (strips.c) and the
 *              small queries of the command line (queries.c).
 * Callers above (harness, reports, gate, cli) hold a `store *` and never see SQLite.
 *
 * Errors: functions return 0 (or the documented value) on success and non-zero with a one-line
 * message naming the file and the problem in err (err_len bytes) otherwise.
 * Thread-safety: a store is one connection and is not thread-safe: use it from one thread at a
 * time (the runner gives it to a single writer thread). Separate stores on the same file may be
 * used from separate threads and processes (SQLite's WAL locking). No global state. */
#ifndef SAICBENCH_RESULTS_H
#define SAICBENCH_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* ================================================================ store: open, write */

/* The store (schema: results/schema.sql, documented in docs/schema.md).
 *
 * One store = one connection. It is not thread-safe: the runner gives it to a single writer
 * thread. Writes go through prepared statements inside explicit transactions (batched by the
 * caller); the database is in WAL mode so readers (reports, sqlite3) never block the writer and
 * a crash loses at most the open transaction. */

/* 2: task tables; 3: the opt-in image metrics' columns. Older files are upgraded on open. */
#define STORE_SCHEMA_VERSION 3

typedef struct store store;

typedef struct store_run_info {
  const char *suite_name;
  const char *suite_path; /* may be NULL */
  const char *suite_hash;
  const char *suite_text; /* may be NULL */
  const char *command;
  const char *git_revision;
  const char *host;
  int threads;
  const char *library_versions; /* JSON object */
  const char *saicbench_version;
  const char *shard; /* "I/N" or NULL */
} store_run_info;

/* The opt-in metric columns of results (schema version 3), in store_extra_metrics order; the
 * aggregates table has them with a "mean_" prefix. The report's CSV uses the same names. */
#define STORE_N_EXTRA_METRICS 7
extern const char *const store_extra_metric_columns[STORE_N_EXTRA_METRICS];

/* The opt-in image metrics of a result row (schema version 3; metrics.h, docs/metrics.md). */
typedef struct store_extra_metrics {
  double psnr_y, psnr_cb, psnr_cr, psnr_ycbcr; /* dB */
  double ciede2000;                            /* mean dE00 */
  double butteraugli_max, butteraugli_3norm;
} store_extra_metrics;

typedef struct store_result {
  int64_t image_id, point_id;
  double knob;
  int64_t bytes, stream_bytes;
  double bpp, stream_bpp;
  double mse, psnr, ssim, ms_ssim; /* NAN -> NULL */
  double encode_ms, decode_ms;
  int n_encodes;
  int target_unreachable;
  const char *error; /* NULL on success; then the numeric fields other than ids are ignored */
  /* Every timed repeat of the final encode and decode (ms, in the order measured; encode_ms and
   * decode_ms are their medians), stored in timing_repeats. n_*_all = 0: none (no row). */
  const double *encode_all, *decode_all;
  int n_encode_all, n_decode_all;
  /* has_extra = 0 (what a zeroed struct says): every extra column NULL; else extra's fields,
   * NAN -> NULL. */
  int has_extra;
  store_extra_metrics extra;
} store_result;

/* saicbench's PRAGMA application_id ("SBDB"), set when a database is created (and on the next
 * write to one written before it had one); see docs/schema.md. */
#define STORE_APPLICATION_ID 0x53424442

/* Opens (creating if needed) the database at path; creates or checks the schema. Before
 * anything is written (the WAL switch included) the file is identified: an empty SQLite file is
 * initialised; a file with STORE_APPLICATION_ID and schema version 1..current, or one without
 * an application id whose runs/results tables have saicbench's columns (those of its version;
 * written before the id existed), is used; anything else is refused naming the file ("not a
 * saicbench database:
 * ..."), as are non-SQLite files, unknown, negative or newer versions and a file that fails
 * PRAGMA quick_check. An older saicbench file is upgraded in place (and gets the application
 * id; version 3 appends its metric columns to results and aggregates, rows kept), and one of the
 * current version that lacks a table, index or view of the schema (the timing_repeats table, the
 * flat views result_rows, ...; added without a version change) gets it. */
int store_open(const char *path, store **out, char *err, size_t err_len);
/* Opens an existing database read-only (reports, compare, history, gate, merge's shards), with
 * the same identification and PRAGMA quick_check as store_open; an empty file is refused.
 * Accepts schema versions 1..current; a version-1 file has no task tables, a version-1 or -2
 * file no version-3 metric columns (see store_schema_version). Never writes: the timing_repeats
 * table and the flat views may be missing from a file no saicbench with them has written. A
 * WAL-mode file whose -shm file cannot be created (read-only folder) is opened with SQLite's
 * immutable=1 when its -wal file holds nothing, else refused with what to do. */
int store_open_readonly(const char *path, store **out, char *err, size_t err_len);
/* The schema version of the open file (1 for an old file opened read-only). */
int store_schema_version(const store *s);
void store_close(store *s);

int store_begin(store *s, char *err, size_t err_len);
int store_commit(store *s, char *err, size_t err_len);
int store_rollback(store *s);

int store_create_run(store *s, const store_run_info *info, int64_t *run_id, char *err,
                     size_t err_len);
/* The newest run with this plan hash and shard (NULL: unsharded) that did not complete;
 * *run_id = 0 if none. */
int store_find_resumable_run(store *s, const char *suite_hash, const char *shard, int64_t *run_id,
                             char *err, size_t err_len);
/* status: running | interrupted | complete | failed. ended_at is set unless running. On
 * 'complete' the run's content checksum is stored too (store_seal_run), so set it after the
 * aggregates. */
int store_set_run_status(store *s, int64_t run_id, const char *status, char *err, size_t err_len);

/* Insert-or-find helpers: they return the existing row's id when it already exists (resume),
 * after checking that it describes the same thing. */
int store_put_dataset(store *s, int64_t run_id, const char *name, const char *path,
                      const char *kind, const char *content_hash, int64_t n_images, int n_classes,
                      const char *class_names_json, const char *selection, int64_t *id, char *err,
                      size_t err_len);
int store_put_image(store *s, int64_t dataset_id, int64_t idx, const char *name, int label,
                    int64_t *id, char *err, size_t err_len);
int store_put_codec(store *s, int64_t run_id, const char *label, const char *codec,
                    const char *library_version, const char *settings_json, const char *knob_name,
                    const char *plugin_path, int64_t *id, char *err, size_t err_len);
int store_put_point(store *s, int64_t codec_id, const char *kind, double value, int64_t *id,
                    char *err, size_t err_len);

/* Records what was learned when an image was read: size and pixel hash, or the error. */
int store_update_image(store *s, int64_t image_id, int width, int height, const char *hash,
                       const char *error, char *err, size_t err_len);
/* Inserts (or replaces) one result row, and its timing_repeats row when it has no error and
 * carries repeats (else any earlier one is deleted). Call inside store_begin/store_commit. */
int store_insert_result(store *s, const store_result *r, char *err, size_t err_len);

/* ---- tasks (schema version 2) ---- */

typedef struct store_task_info {
  const char *name;       /* unique in the run */
  const char *kind;       /* "classifier" */
  const char *checkpoint; /* path */
  const char *checkpoint_sha256;
  const char *arch;
  int num_classes;
  int input_width, input_height;
} store_task_info;

/* Insert-or-find, like store_put_codec; a resumed run must name the same checkpoint bytes. */
int store_put_task(store *s, int64_t run_id, const store_task_info *t, int64_t *id, char *err,
                   size_t err_len);
/* The task's output on an original image. correct: 1, 0, or -1 (unlabeled -> NULL). probs:
 * num_classes probabilities, stored as float32 little-endian. Call inside a transaction. */
int store_insert_task_ref(store *s, int64_t task_id, int64_t image_id, int top1, int correct,
                          const float *probs, int num_classes, char *err, size_t err_len);
/* The task's output on a decoded image (one result row); correct as above. */
int store_insert_task_result(store *s, int64_t task_id, int64_t image_id, int64_t point_id,
                             int top1, int correct, int agree, double kl_bits, char *err,
                             size_t err_len);

/* Stores (or replaces) the thumbnail of an image: point_id 0 for the original, else the decoded
 * image at that point (schema.sql: thumbnails). Call inside a transaction. */
int store_insert_thumbnail(store *s, int64_t image_id, int64_t point_id, int width, int height,
                           const uint8_t *png, size_t png_len, char *err, size_t err_len);

/* Calls fn for every (image_id, point_id) already stored for the run. */
int store_for_each_done_unit(store *s, int64_t run_id,
                             void (*fn)(int64_t image_id, int64_t point_id, void *ctx), void *ctx,
                             char *err, size_t err_len);
/* Recomputes the run's aggregates and task aggregates from its result rows (deterministic:
 * fixed summation order). */
int store_compute_aggregates(store *s, int64_t run_id, char *err, size_t err_len);

/* ================================================================ checksums */

/* The content checksum of run_id (results/checksum.c; schema.sql, run_checksums) as 64 hex
 * digits; *n_rows (may be NULL) receives the rows it covers. */
int results_run_checksum(store *s, int64_t run_id, char hex[65], int64_t *n_rows, char *err,
                         size_t err_len);
/* Stores run_id's checksum in run_checksums (done by store_set_run_status on 'complete'). */
int store_seal_run(store *s, int64_t run_id, char *err, size_t err_len);
/* Recomputes run_id's checksum and compares it with the stored one: 0 with *verified = 1 when
 * they match, 0 with *verified = 0 when none is stored (a run written before checksums), -1 with
 * a message when they differ or cannot be computed. */
int results_verify_run(store *s, int64_t run_id, int *verified, char *err, size_t err_len);

/* ================================================================ merge */

/* Merging the shard databases of a partitioned run (`saicbench run --shard I/N`) into one run.
 *
 * Every shard must hold a complete run of the same plan (same plan hash), the shards must be
 * exactly 0..N-1 of one N, and no unit may appear twice. The merged run gets its own rows in
 * out_db (created if missing; existing runs there are kept) and aggregates recomputed from the
 * union of the results, which are then identical to those of a single-process run.
 * Not thread-safe with other writers of out_db beyond SQLite's own locking. */

int merge_shards(const char *out_db, const char *const *shard_dbs, size_t n_shards,
                 const char *command, int64_t *run_id, size_t *n_results, char *err,
                 size_t err_len);

/* ================================================================ read: the typed model */

/* In-memory model of one run as reports, compare and gate need it, loaded from the database in
 * one go so that they never touch SQLite. */
/* Text fields are NULL where the column is NULL. Real fields are NAN where the column is NULL
 * (SQLite itself stores NaN as NULL, so NAN never means anything else). */

typedef struct results_run {
  int64_t id;
  char *suite_name, *suite_path, *suite_hash, *command, *started_at, *ended_at, *status;
  char *git_revision, *host, *library_versions, *saicbench_version;
  int64_t threads;
  int has_threads;
} results_run;

typedef struct results_codec {
  int64_t id;
  char *label, *codec, *library_version, *settings, *knob_name, *plugin_path;
} results_codec;

/* One aggregates row joined with its grid point. */
typedef struct results_row {
  size_t codec; /* index into results_data.codecs */
  int64_t point_id;
  int is_bpp; /* points.kind: 0 'knob', 1 'bpp' */
  double value;
  int64_t n, n_errors, n_unreachable;
  double mean_knob, bpp, stream_bpp, psnr, psnr_of_mean_mse, ssim, ms_ssim, encode_ms, decode_ms;
  /* aggregates.mean_psnr_y ... mean_butteraugli_3norm (NAN when NULL or before version 3). */
  store_extra_metrics extra;
} results_row;

#define RESULTS_MAX_CLASSES 100000

/* A task network of the run (schema version 2; none for version 1). */
typedef struct results_task {
  int64_t id;
  char *name, *kind, *arch;
  int64_t num_classes;
} results_task;

/* One task_aggregates row joined with its grid point and (when there is one) the aggregates row
 * of the same point and dataset, which gives the rate. */
typedef struct results_task_row {
  size_t task;  /* index into results_data.tasks */
  size_t codec; /* index into results_data.codecs */
  size_t row;   /* index into results_dataset.rows, SIZE_MAX when the point has no aggregates */
  int64_t point_id;
  int is_bpp;
  double value;
  double bpp, stream_bpp; /* aggregates.mean_bpp / mean_stream_bpp (NAN without a row) */
  int64_t n;
  int64_t n_labelled; /* of the n, those with a label (the n of accuracy) */
  double accuracy, ref_accuracy, agreement, h_a, si, si_norm, i_y_a, i_y_b, delta_i, mean_kl;
  /* Per class c < results_dataset.n_class_cols over task_results joined with images.label:
   * decoded images scored and those classified correctly (0 where none). */
  int64_t *class_n, *class_correct;
} results_task_row;

/* The task's output on the dataset's originals (task_refs), per class. */
typedef struct results_task_ref {
  int64_t n, correct;               /* labelled originals scored, correct among them */
  int64_t *class_n, *class_correct; /* [n_class_cols] */
} results_task_ref;

/* One codec against the reference codec at one bpp target for one task, on the images both
 * scored without error (results_paired.c). */
typedef struct results_paired {
  size_t task, codec, ref; /* indices into results_data.tasks / codecs */
  double target;           /* the bpp target (points.value) */
  int64_t n;               /* paired images */
  metrics_pboot_result ci; /* codec - ref */
} results_paired;

typedef struct results_dataset {
  int64_t id;
  char *name, *path, *kind, *content_hash, *selection;
  char *class_names_json; /* datasets.class_names as stored */
  int64_t n_images, n_classes;
  int64_t n_missing; /* grid points of the run without an aggregates row for this dataset */
  results_row *rows; /* sorted as the CSV (see report.h) */
  size_t n_rows;
  /* Task data (empty for version-1 databases and datasets no task scored). */
  results_task_row *task_rows; /* sorted by task name, then as rows */
  size_t n_task_rows;
  results_task_ref *task_refs; /* [results_data.n_tasks] when n_task_rows > 0, else NULL */
  char **class_names;          /* [n_class_cols]: string entries of datasets.class_names (NULL
                                  where missing or not a string); NULL without tasks */
  size_t n_class_cols;         /* max(n_classes, 1 + largest label scored), 0 without tasks;
                                  labels outside [0, RESULTS_MAX_CLASSES) are not counted */
  results_paired *paired;      /* filled by results_paired_query; sorted by task, codec, target */
  size_t n_paired;
} results_dataset;

typedef struct results_data {
  results_run run;
  results_codec *codecs; /* sorted by label */
  size_t n_codecs;
  results_dataset *datasets; /* sorted by name */
  size_t n_datasets;
  results_task *tasks; /* sorted by name */
  size_t n_tasks;
} results_data;

/* Loads run_id. Schema versions 1 to 3 (task tables are read when they exist, the version-3
 * metric columns when the file has them). "run N not found" is an error. d is zeroed first; free
 * with results_data_free also after a failure. */
int results_load(store *s, int64_t run_id, results_data *d, char *err, size_t err_len);
void results_data_free(results_data *d);

/* Paired bootstrap intervals (metrics/metrics.h) of every codec against codec `ref` at
 * each bpp target both have, per task and dataset, from the per-image rows (task_results,
 * task_refs, results, images). rounds = 0: nothing. Fills results_dataset.paired. */
int results_paired_query(store *s, results_data *d, size_t ref, int rounds, char *err,
                         size_t err_len);

/* One side of a paired comparison: a task, a grid point and a dataset row (of any run). */
typedef struct results_paired_side {
  int64_t task_id, point_id, dataset_id;
} results_paired_side;

/* b - a on the images both sides scored without error, paired by images.idx (so a and b may be
 * different runs of the same data), with `rounds` bootstrap resamples. *n = 0 and nothing
 * computed when there is no common image or n_classes is out of range. */
int results_paired_compare(store *s, const results_paired_side *a, const results_paired_side *b,
                           int n_classes, int rounds, metrics_pboot_result *out, int64_t *n,
                           char *err, size_t err_len);

/* ================================================================ queries */

/* The SQLite library version in use (for the run's library_versions). */
const char *results_sqlite_version(void);

/* Read transactions: everything read between results_begin_read and results_end_read sees one
 * snapshot of the database (a concurrent writer's later commits are not seen). When a
 * transaction is already open (the caller's), nothing is begun (*began = 0) and that one gives
 * the same consistency; results_end_read ends only what was begun. */
int results_begin_read(store *s, int *began, char *err, size_t err_len);
int results_end_read(store *s, int began, char *err, size_t err_len);

/* The newest run of the database ("database has no runs" is an error). */
int results_latest_run(store *s, int64_t *run_id, char *err, size_t err_len);

/* The suite text a run was made with (runs.suite_text): *text (malloc'ed, caller frees) is NULL
 * when none was stored. "run N not found" is an error. */
int results_run_suite_text(store *s, int64_t run_id, char **text, size_t *len, char *err,
                           size_t err_len);

/* One line of `saicbench history`. */
typedef struct results_run_summary {
  int64_t id;
  char *started_at, *status, *git_revision; /* NULL where the column is NULL */
  int64_t wall_s;                           /* ended_at - started_at in seconds, -1 when unknown */
} results_run_summary;

/* The newest `limit` runs of suite `suite_name`, oldest first. Free with results_runs_free. */
int results_list_runs(store *s, const char *suite_name, long limit, results_run_summary **out,
                      size_t *n, char *err, size_t err_len);
void results_runs_free(results_run_summary *runs, size_t n);

/* A stored thumbnail (schema.sql: thumbnails); png NULL when there is none, or when the stored
 * one is not usable (empty, a size below 1, or over RESULTS_MAX_THUMBNAIL_BYTES). */
#define RESULTS_MAX_THUMBNAIL_BYTES (1 << 20)
typedef struct results_thumbnail {
  uint8_t *png;
  size_t png_len;
  int width, height;
} results_thumbnail;

/* Example-strip picks (report.html's image strips): per dataset, up to n_pick of the images
 * that have a stored thumbnail of their original (the runner makes them for the first few
 * images); with a task, labelled images that it classified correctly on the original come
 * first, one per class before a second of any class, else index order. For each pick, its
 * stored result and thumbnail at every row of the dataset (results_dataset.rows order). */
typedef struct results_strip_point {
  int has_result;         /* a results row exists for this image and point */
  double knob, bpp, psnr; /* NAN when NULL */
  int64_t bytes;          /* -1 when NULL */
  char *error;            /* results.error of the run, NULL when none */
  int top1;               /* the task's top-1 on the decoded image, -1 when none */
  results_thumbnail thumb;
} results_strip_point;

typedef struct results_strip_pick {
  int64_t image_id, idx;
  char *name, *hash;
  int label;                   /* -1 when unlabelled */
  int width, height;           /* as stored */
  int ref_top1;                /* the task's top-1 on the original, -1 when none */
  results_thumbnail original;  /* of the original image */
  results_strip_point *points; /* [n_points] = results_dataset.n_rows */
  size_t n_points;
} results_strip_pick;

/* Picks for dataset index ds of d, task index `task` (SIZE_MAX: none). *out (n entries; free
 * with results_strip_picks_free) may be empty: *stored (may be NULL) tells whether the dataset
 * has any thumbnail (0: a run written before thumbnails, or with --strip-images 0). */
int results_strip_picks(store *s, const results_data *d, size_t ds, size_t task, size_t n_pick,
                        results_strip_pick **out, size_t *n, int *stored, char *err,
                        size_t err_len);
void results_strip_picks_free(results_strip_pick *picks, size_t n);

#endif
