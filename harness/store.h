/* The SQLite result store (schema: harness/schema.sql, documented in README.md).
 *
 * One store = one connection. It is not thread-safe: the runner gives it to a single writer
 * thread. Writes go through prepared statements inside explicit transactions (batched by the
 * caller); the database is in WAL mode so readers (reports, sqlite3) never block the writer and
 * a crash loses at most the open transaction. */
#ifndef SAICBENCH_STORE_H
#define SAICBENCH_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 2 /* 2: task tables; version-1 files are upgraded on open */

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
} store_result;

/* saicbench's PRAGMA application_id ("SBDB"), set when a database is created (and on the next
 * write to one written before it had one); see docs/schema.md. */
#define STORE_APPLICATION_ID 0x53424442

/* Opens (creating if needed) the database at path; creates or checks the schema. Before
 * anything is written (the WAL switch included) the file is identified: an empty SQLite file is
 * initialised; a file with STORE_APPLICATION_ID and schema version 1..current, or one without
 * an application id whose runs/results tables have saicbench's columns (written before the id
 * existed), is used; anything else is refused naming the file ("not a saicbench database:
 * ..."), as are non-SQLite files, unknown, negative or newer versions and a file that fails
 * PRAGMA quick_check. An older saicbench file is upgraded in place (and gets the application
 * id), and one of the current version that lacks a table, index or view of the schema (the
 * timing_repeats table, the flat views result_rows, ...; added without a version change) gets
 * it. */
int store_open(const char *path, store **out, char *err, size_t err_len);
/* Opens an existing database read-only (reports, compare, history, gate, merge's shards), with
 * the same identification and PRAGMA quick_check as store_open; an empty file is refused.
 * Accepts schema versions 1..current; a version-1 file has no task tables (see
 * store_schema_version). Never writes: the timing_repeats table and the flat views may be
 * missing from a file no saicbench with them has written. A WAL-mode file whose -shm file
 * cannot be created (read-only folder) is opened with SQLite's immutable=1 when its -wal file
 * holds nothing, else refused with what to do. */
int store_open_readonly(const char *path, store **out, char *err, size_t err_len);
/* The schema version of the open file (1 for an old file opened read-only). */
int store_schema_version(const store *s);
void store_close(store *s);
sqlite3 *store_handle(store *s);

int store_begin(store *s, char *err, size_t err_len);
int store_commit(store *s, char *err, size_t err_len);
int store_rollback(store *s);

int store_create_run(store *s, const store_run_info *info, int64_t *run_id, char *err,
                     size_t err_len);
/* The newest run with this plan hash and shard (NULL: unsharded) that did not complete;
 * *run_id = 0 if none. */
int store_find_resumable_run(store *s, const char *suite_hash, const char *shard, int64_t *run_id,
                             char *err, size_t err_len);
/* status: running | interrupted | complete | failed. ended_at is set unless running. */
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

/* Calls fn for every (image_id, point_id) already stored for the run. */
int store_for_each_done_unit(store *s, int64_t run_id,
                             void (*fn)(int64_t image_id, int64_t point_id, void *ctx), void *ctx,
                             char *err, size_t err_len);
/* Recomputes the run's aggregates and task aggregates from its result rows (deterministic:
 * fixed summation order). */
int store_compute_aggregates(store *s, int64_t run_id, char *err, size_t err_len);

#endif
