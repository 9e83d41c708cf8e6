/* In-memory model of one run as the report writers need it, loaded from the database in one
 * go so the writers never touch SQLite. Internal to sb_reports. */
#ifndef SAICBENCH_REPORT_DATA_H
#define SAICBENCH_REPORT_DATA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "paired_bootstrap.h"

/* Text fields are NULL where the column is NULL. Real fields are NAN where the column is NULL
 * (SQLite itself stores NaN as NULL, so NAN never means anything else). */

typedef struct report_run {
  int64_t id;
  char *suite_name, *suite_path, *suite_hash, *command, *started_at, *ended_at, *status;
  char *git_revision, *host, *library_versions, *saicbench_version;
  int64_t threads;
  int has_threads;
} report_run;

typedef struct report_codec {
  int64_t id;
  char *label, *codec, *library_version, *settings, *knob_name, *plugin_path;
} report_codec;

/* One aggregates row joined with its grid point. */
typedef struct report_row {
  size_t codec; /* index into report_data.codecs */
  int64_t point_id;
  int is_bpp; /* points.kind: 0 'knob', 1 'bpp' */
  double value;
  int64_t n, n_errors, n_unreachable;
  double mean_knob, bpp, stream_bpp, psnr, psnr_of_mean_mse, ssim, ms_ssim, encode_ms, decode_ms;
} report_row;

#define REPORT_MAX_CLASSES 100000

/* A task network of the run (schema version 2; none for version 1). */
typedef struct report_task {
  int64_t id;
  char *name, *kind, *arch;
  int64_t num_classes;
} report_task;

/* One task_aggregates row joined with its grid point and (when there is one) the aggregates row
 * of the same point and dataset, which gives the rate. */
typedef struct report_task_row {
  size_t task;  /* index into report_data.tasks */
  size_t codec; /* index into report_data.codecs */
  size_t row;   /* index into report_dataset.rows, SIZE_MAX when the point has no aggregates */
  int64_t point_id;
  int is_bpp;
  double value;
  double bpp, stream_bpp; /* aggregates.mean_bpp / mean_stream_bpp (NAN without a row) */
  int64_t n;
  int64_t n_labelled; /* of the n, those with a label (the n of accuracy) */
  double accuracy, ref_accuracy, agreement, h_a, si, si_norm, i_y_a, i_y_b, delta_i, mean_kl;
  /* Per class c < report_dataset.n_class_cols over task_results joined with images.label:
   * decoded images scored and those classified correctly (0 where none). */
  int64_t *class_n, *class_correct;
} report_task_row;

/* The task's output on the dataset's originals (task_refs), per class. */
typedef struct report_task_ref {
  int64_t n, correct;               /* labelled originals scored, correct among them */
  int64_t *class_n, *class_correct; /* [n_class_cols] */
} report_task_ref;

/* One codec against the reference codec at one bpp target for one task, on the images both
 * scored without error (report_paired.c). */
typedef struct report_paired {
  size_t task, codec, ref; /* indices into report_data.tasks / codecs */
  double target;           /* the bpp target (points.value) */
  int64_t n;               /* paired images */
  metrics_pboot_result ci; /* codec - ref */
} report_paired;

typedef struct report_dataset {
  int64_t id;
  char *name, *path, *kind, *content_hash, *selection;
  char *class_names_json; /* datasets.class_names as stored */
  int64_t n_images, n_classes;
  int64_t n_missing; /* grid points of the run without an aggregates row for this dataset */
  report_row *rows;  /* sorted as the CSV (see report.h) */
  size_t n_rows;
  /* Task data (empty for version-1 databases and datasets no task scored). */
  report_task_row *task_rows; /* sorted by task name, then as rows */
  size_t n_task_rows;
  report_task_ref *task_refs; /* [report_data.n_tasks] when n_task_rows > 0, else NULL */
  char **class_names;         /* [n_class_cols]: string entries of datasets.class_names (NULL
                                 where missing or not a string); NULL without tasks */
  size_t n_class_cols;        /* max(n_classes, 1 + largest label scored), 0 without tasks;
                                 labels outside [0, REPORT_MAX_CLASSES) are not counted */
  report_paired *paired;      /* filled by report_paired_query; sorted by task, codec, target */
  size_t n_paired;
} report_dataset;

typedef struct report_data {
  report_run run;
  report_codec *codecs; /* sorted by label */
  size_t n_codecs;
  report_dataset *datasets; /* sorted by name */
  size_t n_datasets;
  report_task *tasks; /* sorted by name */
  size_t n_tasks;
} report_data;

/* Loads run_id. Schema versions 1 and 2 (task tables are read when they exist). "run N not found"
 * is an error. d is zeroed first; free with report_data_free also after a failure. */
int report_data_load(sqlite3 *db, int64_t run_id, report_data *d, char *err, size_t err_len);
void report_data_free(report_data *d);

/* Paired bootstrap intervals (metrics/paired_bootstrap.h) of every codec against codec `ref` at
 * each bpp target both have, per task and dataset, from the per-image rows (task_results,
 * task_refs, results, images). rounds = 0: nothing. Fills report_dataset.paired. */
int report_paired_query(sqlite3 *db, report_data *d, size_t ref, int rounds, char *err,
                        size_t err_len);

/* One side of a paired comparison: a task, a grid point and a dataset row (of any run). */
typedef struct report_paired_side {
  int64_t task_id, point_id, dataset_id;
} report_paired_side;

/* b - a on the images both sides scored without error, paired by images.idx (so a and b may be
 * different runs of the same data), with `rounds` bootstrap resamples. *n = 0 and nothing
 * computed when there is no common image or n_classes is out of range. */
int report_paired_compare(sqlite3 *db, const report_paired_side *a, const report_paired_side *b,
                          int n_classes, int rounds, metrics_pboot_result *out, int64_t *n,
                          char *err, size_t err_len);

#endif
