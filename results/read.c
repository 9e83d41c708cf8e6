/* read.c - the typed model of one run (results.h: results_load). */
#include "results_internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The reader understands schema versions up to STORE_SCHEMA_VERSION (0 = not stamped yet).
 * Version 2 only added the task tables, version 3 only columns of the opt-in metrics; whether
 * they exist is checked separately, so older databases read exactly as before. */

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *what, char *err,
                   size_t err_len) {
  if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot query %s: %s", what, sqlite3_errmsg(db));
  return 0;
}

/* Room for element n of an array with capacity *cap (doubling, `first` at the start): returns
 * the array, moved if it grew, or NULL when out of memory (the old array stays valid). */
static void *grow(void *v, size_t n, size_t *cap, size_t first, size_t size) {
  if (n < *cap)
    return v;
  size_t c = *cap ? 2 * *cap : first;
  void *p = c <= SIZE_MAX / size ? realloc(v, c * size) : NULL;
  if (p)
    *cap = c;
  return p;
}

/* rc of a row loop that stopped because memory ran out (SQLite's codes are never negative). */
#define ROWS_OOM (-1)

/* Ends a loop over sqlite3_step: rc is the last step's result or ROWS_OOM. Finalizes st and
 * returns 0 after SQLITE_DONE, else -1 with "out of memory reading WHAT" or "cannot read WHAT:
 * <SQLite's message>", WHAT formatted from fmt ("codecs of run 7"). */
__attribute__((format(printf, 6, 7))) static int
rows_end(sqlite3 *db, sqlite3_stmt *st, int rc, char *err, size_t err_len, const char *fmt, ...) {
  char what[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (rc == ROWS_OOM)
    sb_errf(err, err_len, "out of memory reading %s", what);
  else if (rc != SQLITE_DONE)
    sb_errf(err, err_len, "cannot read %s: %s", what, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

static int check_schema(sqlite3 *db, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db, "PRAGMA user_version", &st, "schema version", err, err_len))
    return -1;
  int rc = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    int v = sqlite3_column_int(st, 0);
    if (v > STORE_SCHEMA_VERSION)
      rc = sb_errf(err, err_len,
                   "database schema version %d is newer than this report supports (%d)", v,
                   STORE_SCHEMA_VERSION);
  } else {
    rc = sb_errf(err, err_len, "cannot read schema version: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return rc;
}

static int load_run(sqlite3 *db, int64_t run_id, results_run *r, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT suite_name, suite_path, suite_hash, command, started_at, ended_at, status, "
              "git_revision, host, library_versions, saicbench_version, threads "
              "FROM runs WHERE id = ?1",
              &st, "runs", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, run_id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    sqlite3_finalize(st);
    return sb_errf(err, err_len, "run %" PRId64 " not found in database", run_id);
  }
  if (rc != SQLITE_ROW) {
    sb_errf(err, err_len, "cannot read run %" PRId64 ": %s", run_id, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  r->id = run_id;
  char **text[] = {&r->suite_name, &r->suite_path,       &r->suite_hash,       &r->command,
                   &r->started_at, &r->ended_at,         &r->status,           &r->git_revision,
                   &r->host,       &r->library_versions, &r->saicbench_version};
  int bad = 0;
  for (int i = 0; i < (int)(sizeof text / sizeof text[0]); i++)
    bad |= results_col_text(st, i, text[i]);
  r->has_threads = sqlite3_column_type(st, 11) != SQLITE_NULL;
  r->threads = sqlite3_column_int64(st, 11);
  sqlite3_finalize(st);
  if (bad)
    return sb_errf(err, err_len, "out of memory reading run %" PRId64, run_id);
  return 0;
}

static int load_codecs(sqlite3 *db, results_data *d, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT id, label, codec, library_version, settings, knob_name, plugin_path "
              "FROM codecs WHERE run_id = ?1 ORDER BY label, id",
              &st, "codecs", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, d->run.id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    results_codec *v = grow(d->codecs, d->n_codecs, &cap, 8, sizeof *v);
    if (!v) {
      rc = ROWS_OOM;
      break;
    }
    d->codecs = v;
    results_codec *c = &d->codecs[d->n_codecs++];
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    if (results_col_text(st, 1, &c->label) || results_col_text(st, 2, &c->codec) ||
        results_col_text(st, 3, &c->library_version) || results_col_text(st, 4, &c->settings) ||
        results_col_text(st, 5, &c->knob_name) || results_col_text(st, 6, &c->plugin_path)) {
      rc = ROWS_OOM;
      break;
    }
  }
  return rows_end(db, st, rc, err, err_len, "codecs of run %" PRId64, d->run.id);
}

static int load_datasets(sqlite3 *db, results_data *d, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT id, name, path, kind, content_hash, selection, n_images, n_classes, "
              "class_names "
              "FROM datasets WHERE run_id = ?1 ORDER BY name, id",
              &st, "datasets", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, d->run.id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    results_dataset *v = grow(d->datasets, d->n_datasets, &cap, 4, sizeof *v);
    if (!v) {
      rc = ROWS_OOM;
      break;
    }
    d->datasets = v;
    results_dataset *ds = &d->datasets[d->n_datasets++];
    memset(ds, 0, sizeof *ds);
    ds->id = sqlite3_column_int64(st, 0);
    if (results_col_text(st, 1, &ds->name) || results_col_text(st, 2, &ds->path) ||
        results_col_text(st, 3, &ds->kind) || results_col_text(st, 4, &ds->content_hash) ||
        results_col_text(st, 5, &ds->selection) || results_col_text(st, 8, &ds->class_names_json)) {
      rc = ROWS_OOM;
      break;
    }
    ds->n_images = sqlite3_column_int64(st, 6);
    ds->n_classes = sqlite3_column_int64(st, 7);
  }
  return rows_end(db, st, rc, err, err_len, "datasets of run %" PRId64, d->run.id);
}

static size_t codec_index(const results_data *d, int64_t codec_id) {
  for (size_t i = 0; i < d->n_codecs; i++)
    if (d->codecs[i].id == codec_id)
      return i;
  return SIZE_MAX; /* cannot happen: the query joins codecs of this run */
}

/* The order of report.h: label (bytewise: SQLite's BINARY collation), knob before bpp, bpp
 * with NULL last, then the point value. */
static int load_rows(sqlite3 *db, results_data *d, results_dataset *ds, int has_v3, char *err,
                     size_t err_len) {
  sqlite3_stmt *st;
  /* Before version 3 the extra means are not there: NULL in their place. */
  char sql[1024];
  snprintf(sql, sizeof sql,
           "SELECT p.codec_id, p.id, p.kind, p.value, a.n, a.n_errors, a.n_unreachable, "
           "a.mean_knob, a.mean_bpp, a.mean_stream_bpp, a.mean_psnr, a.psnr_of_mean_mse, "
           "a.mean_ssim, a.mean_ms_ssim, a.mean_encode_ms, a.mean_decode_ms, %s "
           "FROM aggregates a JOIN points p ON p.id = a.point_id "
           "JOIN codecs c ON c.id = p.codec_id "
           "WHERE a.dataset_id = ?1 AND c.run_id = ?2 "
           "ORDER BY c.label, c.id, p.kind = 'bpp', a.mean_bpp IS NULL, a.mean_bpp, p.value",
           has_v3 ? "a.mean_psnr_y, a.mean_psnr_cb, a.mean_psnr_cr, a.mean_psnr_ycbcr, "
                    "a.mean_ciede2000, a.mean_butteraugli_max, a.mean_butteraugli_3norm"
                  : "NULL, NULL, NULL, NULL, NULL, NULL, NULL");
  if (prepare(db, sql, &st, "aggregates", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, ds->id);
  sqlite3_bind_int64(st, 2, d->run.id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    results_row *v = grow(ds->rows, ds->n_rows, &cap, 32, sizeof *v);
    if (!v) {
      rc = ROWS_OOM;
      break;
    }
    ds->rows = v;
    results_row *r = &ds->rows[ds->n_rows++];
    r->codec = codec_index(d, sqlite3_column_int64(st, 0));
    r->point_id = sqlite3_column_int64(st, 1);
    const unsigned char *kind = sqlite3_column_text(st, 2);
    r->is_bpp = kind && strcmp((const char *)kind, "bpp") == 0;
    r->value = results_col_real(st, 3);
    r->n = sqlite3_column_int64(st, 4);
    r->n_errors = sqlite3_column_int64(st, 5);
    r->n_unreachable = sqlite3_column_int64(st, 6);
    double *reals[] = {&r->mean_knob,        &r->bpp,  &r->stream_bpp, &r->psnr,
                       &r->psnr_of_mean_mse, &r->ssim, &r->ms_ssim,    &r->encode_ms,
                       &r->decode_ms};
    for (int i = 0; i < 9; i++)
      *reals[i] = results_col_real(st, 7 + i);
    store_extra_metrics *x = &r->extra;
    double *extra[] = {&x->psnr_y,    &x->psnr_cb,         &x->psnr_cr,          &x->psnr_ycbcr,
                       &x->ciede2000, &x->butteraugli_max, &x->butteraugli_3norm};
    for (int i = 0; i < 7; i++)
      *extra[i] = results_col_real(st, 16 + i);
  }
  if (rows_end(db, st, rc, err, err_len, "aggregates of dataset %" PRId64, ds->id))
    return -1;

  if (prepare(db,
              "SELECT count(*) FROM points p JOIN codecs c ON c.id = p.codec_id "
              "WHERE c.run_id = ?1 AND NOT EXISTS (SELECT 1 FROM aggregates a "
              "WHERE a.point_id = p.id AND a.dataset_id = ?2)",
              &st, "missing aggregates", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, d->run.id);
  sqlite3_bind_int64(st, 2, ds->id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    sb_errf(err, err_len, "cannot count missing aggregates: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  ds->n_missing = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return 0;
}

/* ---- tasks (schema version 2) ---- */

static int has_task_tables(sqlite3 *db, int *has, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
              "('tasks', 'task_refs', 'task_results', 'task_aggregates')",
              &st, "the schema", err, err_len))
    return -1;
  if (sqlite3_step(st) != SQLITE_ROW) {
    sb_errf(err, err_len, "cannot read the schema: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  *has = sqlite3_column_int(st, 0) == 4;
  sqlite3_finalize(st);
  return 0;
}

static int load_tasks(sqlite3 *db, results_data *d, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT id, name, kind, arch, num_classes FROM tasks WHERE run_id = ?1 "
              "ORDER BY name, id",
              &st, "tasks", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, d->run.id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    results_task *v = grow(d->tasks, d->n_tasks, &cap, 4, sizeof *v);
    if (!v) {
      rc = ROWS_OOM;
      break;
    }
    d->tasks = v;
    results_task *t = &d->tasks[d->n_tasks++];
    memset(t, 0, sizeof *t);
    t->id = sqlite3_column_int64(st, 0);
    if (results_col_text(st, 1, &t->name) || results_col_text(st, 2, &t->kind) ||
        results_col_text(st, 3, &t->arch)) {
      rc = ROWS_OOM;
      break;
    }
    t->num_classes = sqlite3_column_int64(st, 4);
  }
  return rows_end(db, st, rc, err, err_len, "tasks of run %" PRId64, d->run.id);
}

static size_t task_index(const results_data *d, int64_t task_id) {
  for (size_t i = 0; i < d->n_tasks; i++)
    if (d->tasks[i].id == task_id)
      return i;
  return SIZE_MAX;
}

static size_t row_index(const results_dataset *ds, int64_t point_id) {
  for (size_t i = 0; i < ds->n_rows; i++)
    if (ds->rows[i].point_id == point_id)
      return i;
  return SIZE_MAX;
}

/* task_aggregates of one dataset, in the order of report.h (task name, then as the rows). */
static int load_task_rows(sqlite3 *db, results_data *d, results_dataset *ds, char *err,
                          size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT ta.task_id, p.codec_id, p.id, p.kind, p.value, a.mean_bpp, "
              "a.mean_stream_bpp, ta.n, ta.accuracy, ta.ref_accuracy, ta.agreement, ta.h_a, "
              "ta.si, ta.si_norm, ta.i_y_a, ta.i_y_b, ta.delta_i, ta.mean_kl "
              "FROM task_aggregates ta JOIN tasks t ON t.id = ta.task_id "
              "JOIN points p ON p.id = ta.point_id JOIN codecs c ON c.id = p.codec_id "
              "LEFT JOIN aggregates a ON a.point_id = ta.point_id "
              "AND a.dataset_id = ta.dataset_id "
              "WHERE ta.dataset_id = ?1 AND t.run_id = ?2 AND c.run_id = ?2 "
              "ORDER BY t.name, t.id, c.label, c.id, p.kind = 'bpp', a.mean_bpp IS NULL, "
              "a.mean_bpp, p.value",
              &st, "task aggregates", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, ds->id);
  sqlite3_bind_int64(st, 2, d->run.id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    results_task_row *v = grow(ds->task_rows, ds->n_task_rows, &cap, 32, sizeof *v);
    if (!v) {
      rc = ROWS_OOM;
      break;
    }
    ds->task_rows = v;
    results_task_row *r = &ds->task_rows[ds->n_task_rows++];
    memset(r, 0, sizeof *r);
    r->task = task_index(d, sqlite3_column_int64(st, 0));
    r->codec = codec_index(d, sqlite3_column_int64(st, 1));
    r->point_id = sqlite3_column_int64(st, 2);
    r->row = row_index(ds, r->point_id);
    const unsigned char *kind = sqlite3_column_text(st, 3);
    r->is_bpp = kind && strcmp((const char *)kind, "bpp") == 0;
    r->value = results_col_real(st, 4);
    r->bpp = results_col_real(st, 5);
    r->stream_bpp = results_col_real(st, 6);
    r->n = sqlite3_column_int64(st, 7);
    double *reals[] = {&r->accuracy, &r->ref_accuracy, &r->agreement, &r->h_a,     &r->si,
                       &r->si_norm,  &r->i_y_a,        &r->i_y_b,     &r->delta_i, &r->mean_kl};
    for (int i = 0; i < 10; i++)
      *reals[i] = results_col_real(st, 8 + i);
  }
  return rows_end(db, st, rc, err, err_len, "task aggregates of dataset %" PRId64, ds->id);
}

/* One row of a grouped per-class count. point_id < 0: the originals (task_refs). */
typedef struct class_count {
  int64_t task_id, point_id, label, n, correct;
} class_count;

typedef struct class_counts {
  class_count *v;
  size_t n, cap;
} class_counts;

/* Runs one grouped count query (task, [point,] label, n, correct) and appends its rows. */
static int read_counts(sqlite3 *db, const char *sql, int with_point, const results_data *d,
                       const results_dataset *ds, class_counts *out, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db, sql, &st, "per-class task results", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, ds->id);
  sqlite3_bind_int64(st, 2, d->run.id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t label = sqlite3_column_int64(st, with_point ? 2 : 1);
    if (label < 0 || label >= RESULTS_MAX_CLASSES)
      continue;
    class_count *v = grow(out->v, out->n, &out->cap, 64, sizeof *v);
    if (!v) { /* not ROWS_OOM: this message names no dataset, like load_task_classes' own */
      sqlite3_finalize(st);
      return sb_errf(err, err_len, "out of memory reading per-class task results");
    }
    out->v = v;
    class_count *c = &out->v[out->n++];
    int col = 0;
    c->task_id = sqlite3_column_int64(st, col++);
    c->point_id = with_point ? sqlite3_column_int64(st, col++) : -1;
    c->label = sqlite3_column_int64(st, col++);
    c->n = sqlite3_column_int64(st, col++);
    c->correct = sqlite3_column_int64(st, col); /* sum() of no rows is NULL: 0 */
  }
  return rows_end(db, st, rc, err, err_len, "per-class task results of dataset %" PRId64, ds->id);
}

static int64_t *counts_new(size_t n) { return calloc(n ? n : 1, sizeof(int64_t)); }

/* Class names from the datasets.class_names JSON array (entries that are not strings, or a
 * column that is not an array, give no names). Returns -1 only when out of memory. */
static int load_class_names(results_dataset *ds) {
  ds->class_names = calloc(ds->n_class_cols ? ds->n_class_cols : 1, sizeof *ds->class_names);
  if (!ds->class_names)
    return -1;
  if (!ds->class_names_json)
    return 0;
  json_error_t jerr;
  json_t *arr = json_loads(ds->class_names_json, 0, &jerr);
  int rc = 0;
  if (json_is_array(arr))
    for (size_t i = 0; i < ds->n_class_cols && i < json_array_size(arr) && rc == 0; i++) {
      const char *s = json_string_value(json_array_get(arr, i));
      if (!s)
        continue;
      size_t n = strlen(s) + 1;
      ds->class_names[i] = malloc(n);
      if (ds->class_names[i])
        memcpy(ds->class_names[i], s, n);
      else
        rc = -1;
    }
  json_decref(arr);
  return rc;
}

/* Per-class counts of one dataset: one grouped query over task_results and one over task_refs
 * (never one per point: nightly databases hold millions of task_results rows). The joins start
 * from the run's tasks and the dataset's images, so the primary key (task_id, image_id, ...)
 * finds the rows. */
static int load_task_classes(sqlite3 *db, results_data *d, results_dataset *ds, char *err,
                             size_t err_len) {
  class_counts dec = {0}, ref = {0};
  int rc = read_counts(db,
                       "SELECT tr.task_id, tr.point_id, i.label, count(*), sum(tr.correct = 1) "
                       "FROM tasks t JOIN images i ON i.dataset_id = ?1 "
                       "JOIN task_results tr ON tr.task_id = t.id AND tr.image_id = i.id "
                       "WHERE t.run_id = ?2 AND i.label IS NOT NULL "
                       "GROUP BY tr.task_id, tr.point_id, i.label",
                       1, d, ds, &dec, err, err_len);
  if (rc == 0)
    rc = read_counts(db,
                     "SELECT rf.task_id, i.label, count(*), sum(rf.correct = 1) "
                     "FROM tasks t JOIN images i ON i.dataset_id = ?1 "
                     "JOIN task_refs rf ON rf.task_id = t.id AND rf.image_id = i.id "
                     "WHERE t.run_id = ?2 AND i.label IS NOT NULL "
                     "GROUP BY rf.task_id, i.label",
                     0, d, ds, &ref, err, err_len);
  if (rc) {
    free(dec.v);
    free(ref.v);
    return -1;
  }
  size_t k = ds->n_classes > 0 && ds->n_classes < RESULTS_MAX_CLASSES ? (size_t)ds->n_classes : 0;
  for (size_t i = 0; i < dec.n; i++)
    if ((size_t)dec.v[i].label >= k)
      k = (size_t)dec.v[i].label + 1;
  for (size_t i = 0; i < ref.n; i++)
    if ((size_t)ref.v[i].label >= k)
      k = (size_t)ref.v[i].label + 1;
  ds->n_class_cols = k;
  int oom = load_class_names(ds);
  ds->task_refs = calloc(d->n_tasks ? d->n_tasks : 1, sizeof *ds->task_refs);
  oom |= !ds->task_refs;
  for (size_t t = 0; t < d->n_tasks && !oom; t++) {
    ds->task_refs[t].class_n = counts_new(k);
    ds->task_refs[t].class_correct = counts_new(k);
    oom |= !ds->task_refs[t].class_n || !ds->task_refs[t].class_correct;
  }
  for (size_t i = 0; i < ds->n_task_rows && !oom; i++) {
    ds->task_rows[i].class_n = counts_new(k);
    ds->task_rows[i].class_correct = counts_new(k);
    oom |= !ds->task_rows[i].class_n || !ds->task_rows[i].class_correct;
  }
  for (size_t i = 0; i < ref.n && !oom; i++) {
    size_t t = task_index(d, ref.v[i].task_id);
    if (t == SIZE_MAX)
      continue;
    results_task_ref *r = &ds->task_refs[t];
    r->class_n[ref.v[i].label] += ref.v[i].n;
    r->class_correct[ref.v[i].label] += ref.v[i].correct;
    r->n += ref.v[i].n;
    r->correct += ref.v[i].correct;
  }
  /* Both lists are small (tasks x points x classes); rows of one (task, point) are adjacent
   * in neither, so each count looks its row up. */
  for (size_t i = 0; i < dec.n && !oom; i++) {
    size_t t = task_index(d, dec.v[i].task_id);
    for (size_t j = 0; j < ds->n_task_rows; j++) {
      results_task_row *r = &ds->task_rows[j];
      if (r->task != t || r->point_id != dec.v[i].point_id)
        continue;
      r->class_n[dec.v[i].label] += dec.v[i].n;
      r->class_correct[dec.v[i].label] += dec.v[i].correct;
      r->n_labelled += dec.v[i].n;
      break;
    }
  }
  free(dec.v);
  free(ref.v);
  if (oom)
    return sb_errf(err, err_len, "out of memory reading per-class task results");
  return 0;
}

int results_load(store *s, int64_t run_id, results_data *d, char *err, size_t err_len) {
  memset(d, 0, sizeof *d);
  sqlite3 *db = store_db(s);
  if (check_schema(db, err, err_len) || load_run(db, run_id, &d->run, err, err_len) ||
      load_codecs(db, d, err, err_len) || load_datasets(db, d, err, err_len))
    return -1;
  const int has_v3 = store_has_column(db, "main", "aggregates", store_v3_aggregates_columns[0]);
  if (has_v3 < 0)
    return sb_errf(err, err_len, "cannot read the schema: %s", sqlite3_errmsg(db));
  for (size_t i = 0; i < d->n_datasets; i++)
    if (load_rows(db, d, &d->datasets[i], has_v3, err, err_len))
      return -1;
  int tasks = 0;
  if (has_task_tables(db, &tasks, err, err_len))
    return -1;
  if (!tasks)
    return 0; /* schema version 1: no task data */
  if (load_tasks(db, d, err, err_len))
    return -1;
  for (size_t i = 0; i < d->n_datasets && d->n_tasks > 0; i++) {
    results_dataset *ds = &d->datasets[i];
    if (load_task_rows(db, d, ds, err, err_len) ||
        (ds->n_task_rows > 0 && load_task_classes(db, d, ds, err, err_len)))
      return -1;
  }
  return 0;
}

void results_data_free(results_data *d) {
  results_run *r = &d->run;
  char *run_text[] = {r->suite_name, r->suite_path,       r->suite_hash,       r->command,
                      r->started_at, r->ended_at,         r->status,           r->git_revision,
                      r->host,       r->library_versions, r->saicbench_version};
  for (size_t i = 0; i < sizeof run_text / sizeof run_text[0]; i++)
    free(run_text[i]);
  for (size_t i = 0; i < d->n_codecs; i++) {
    results_codec *c = &d->codecs[i];
    free(c->label);
    free(c->codec);
    free(c->library_version);
    free(c->settings);
    free(c->knob_name);
    free(c->plugin_path);
  }
  free(d->codecs);
  for (size_t i = 0; i < d->n_datasets; i++) {
    results_dataset *ds = &d->datasets[i];
    free(ds->name);
    free(ds->path);
    free(ds->kind);
    free(ds->content_hash);
    free(ds->selection);
    free(ds->class_names_json);
    free(ds->rows);
    for (size_t j = 0; j < ds->n_task_rows; j++) {
      free(ds->task_rows[j].class_n);
      free(ds->task_rows[j].class_correct);
    }
    free(ds->task_rows);
    free(ds->paired);
    for (size_t j = 0; ds->task_refs && j < d->n_tasks; j++) {
      free(ds->task_refs[j].class_n);
      free(ds->task_refs[j].class_correct);
    }
    free(ds->task_refs);
    for (size_t j = 0; ds->class_names && j < ds->n_class_cols; j++)
      free(ds->class_names[j]);
    free(ds->class_names);
  }
  free(d->datasets);
  for (size_t i = 0; i < d->n_tasks; i++) {
    free(d->tasks[i].name);
    free(d->tasks[i].kind);
    free(d->tasks[i].arch);
  }
  free(d->tasks);
  memset(d, 0, sizeof *d);
}
