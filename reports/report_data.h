/* In-memory model of one run as the report writers need it, loaded from the database in one
 * go so the writers never touch SQLite. Internal to sb_reports. */
#ifndef SAICBENCH_REPORT_DATA_H
#define SAICBENCH_REPORT_DATA_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

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

typedef struct report_dataset {
  int64_t id;
  char *name, *path, *kind, *content_hash, *selection;
  int64_t n_images, n_classes;
  int64_t n_missing; /* grid points of the run without an aggregates row for this dataset */
  report_row *rows;  /* sorted as the CSV (see report.h) */
  size_t n_rows;
} report_dataset;

typedef struct report_data {
  report_run run;
  report_codec *codecs; /* sorted by label */
  size_t n_codecs;
  report_dataset *datasets; /* sorted by name */
  size_t n_datasets;
} report_data;

/* Loads run_id. "run N not found" is an error. d is zeroed first; free with report_data_free
 * also after a failure. */
int report_data_load(sqlite3 *db, int64_t run_id, report_data *d, char *err, size_t err_len);
void report_data_free(report_data *d);

#endif
