#include "report_data.h"

#include "report_fs.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Highest schema version this reader understands (harness/schema.sql). 0 = not stamped yet. */
#define REPORT_SCHEMA_VERSION 1

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *what, char *err,
                   size_t err_len) {
  if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK)
    return report_errf(err, err_len, "cannot query %s: %s", what, sqlite3_errmsg(db));
  return 0;
}

/* Copies a text column (NULL stays NULL). Returns -1 only when out of memory. */
static int col_text(sqlite3_stmt *st, int i, char **out) {
  *out = NULL;
  const unsigned char *s = sqlite3_column_text(st, i);
  if (!s)
    return sqlite3_column_type(st, i) == SQLITE_NULL ? 0 : -1;
  size_t n = (size_t)sqlite3_column_bytes(st, i);
  char *d = malloc(n + 1);
  if (!d)
    return -1;
  memcpy(d, s, n);
  d[n] = '\0';
  *out = d;
  return 0;
}

static double col_real(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static int check_schema(sqlite3 *db, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db, "PRAGMA user_version", &st, "schema version", err, err_len))
    return -1;
  int rc = 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    int v = sqlite3_column_int(st, 0);
    if (v > REPORT_SCHEMA_VERSION)
      rc = report_errf(err, err_len,
                       "database schema version %d is newer than this report supports (%d)", v,
                       REPORT_SCHEMA_VERSION);
  } else {
    rc = report_errf(err, err_len, "cannot read schema version: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return rc;
}

static int load_run(sqlite3 *db, int64_t run_id, report_run *r, char *err, size_t err_len) {
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
    return report_errf(err, err_len, "run %" PRId64 " not found in database", run_id);
  }
  if (rc != SQLITE_ROW) {
    report_errf(err, err_len, "cannot read run %" PRId64 ": %s", run_id, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  r->id = run_id;
  char **text[] = {&r->suite_name, &r->suite_path,       &r->suite_hash,       &r->command,
                   &r->started_at, &r->ended_at,         &r->status,           &r->git_revision,
                   &r->host,       &r->library_versions, &r->saicbench_version};
  int bad = 0;
  for (int i = 0; i < (int)(sizeof text / sizeof text[0]); i++)
    bad |= col_text(st, i, text[i]);
  r->has_threads = sqlite3_column_type(st, 11) != SQLITE_NULL;
  r->threads = sqlite3_column_int64(st, 11);
  sqlite3_finalize(st);
  if (bad)
    return report_errf(err, err_len, "out of memory reading run %" PRId64, run_id);
  return 0;
}

static int load_codecs(sqlite3 *db, report_data *d, char *err, size_t err_len) {
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
    if (d->n_codecs == cap) {
      cap = cap ? 2 * cap : 8;
      report_codec *c = realloc(d->codecs, cap * sizeof *c);
      if (!c)
        goto oom;
      d->codecs = c;
    }
    report_codec *c = &d->codecs[d->n_codecs++];
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(st, 0);
    if (col_text(st, 1, &c->label) || col_text(st, 2, &c->codec) ||
        col_text(st, 3, &c->library_version) || col_text(st, 4, &c->settings) ||
        col_text(st, 5, &c->knob_name) || col_text(st, 6, &c->plugin_path))
      goto oom;
  }
  if (rc != SQLITE_DONE) {
    report_errf(err, err_len, "cannot read codecs of run %" PRId64 ": %s", d->run.id,
                sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
oom:
  sqlite3_finalize(st);
  return report_errf(err, err_len, "out of memory reading codecs of run %" PRId64, d->run.id);
}

static int load_datasets(sqlite3 *db, report_data *d, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT id, name, path, kind, content_hash, selection, n_images, n_classes "
              "FROM datasets WHERE run_id = ?1 ORDER BY name, id",
              &st, "datasets", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, d->run.id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (d->n_datasets == cap) {
      cap = cap ? 2 * cap : 4;
      report_dataset *ds = realloc(d->datasets, cap * sizeof *ds);
      if (!ds)
        goto oom;
      d->datasets = ds;
    }
    report_dataset *ds = &d->datasets[d->n_datasets++];
    memset(ds, 0, sizeof *ds);
    ds->id = sqlite3_column_int64(st, 0);
    if (col_text(st, 1, &ds->name) || col_text(st, 2, &ds->path) || col_text(st, 3, &ds->kind) ||
        col_text(st, 4, &ds->content_hash) || col_text(st, 5, &ds->selection))
      goto oom;
    ds->n_images = sqlite3_column_int64(st, 6);
    ds->n_classes = sqlite3_column_int64(st, 7);
  }
  if (rc != SQLITE_DONE) {
    report_errf(err, err_len, "cannot read datasets of run %" PRId64 ": %s", d->run.id,
                sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
oom:
  sqlite3_finalize(st);
  return report_errf(err, err_len, "out of memory reading datasets of run %" PRId64, d->run.id);
}

static size_t codec_index(const report_data *d, int64_t codec_id) {
  for (size_t i = 0; i < d->n_codecs; i++)
    if (d->codecs[i].id == codec_id)
      return i;
  return SIZE_MAX; /* cannot happen: the query joins codecs of this run */
}

/* The order of report.h: label (bytewise: SQLite's BINARY collation), knob before bpp, bpp
 * with NULL last, then the point value. */
static int load_rows(sqlite3 *db, report_data *d, report_dataset *ds, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(db,
              "SELECT p.codec_id, p.id, p.kind, p.value, a.n, a.n_errors, a.n_unreachable, "
              "a.mean_knob, a.mean_bpp, a.mean_stream_bpp, a.mean_psnr, a.psnr_of_mean_mse, "
              "a.mean_ssim, a.mean_ms_ssim, a.mean_encode_ms, a.mean_decode_ms "
              "FROM aggregates a JOIN points p ON p.id = a.point_id "
              "JOIN codecs c ON c.id = p.codec_id "
              "WHERE a.dataset_id = ?1 AND c.run_id = ?2 "
              "ORDER BY c.label, c.id, p.kind = 'bpp', a.mean_bpp IS NULL, a.mean_bpp, p.value",
              &st, "aggregates", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, ds->id);
  sqlite3_bind_int64(st, 2, d->run.id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (ds->n_rows == cap) {
      cap = cap ? 2 * cap : 32;
      report_row *r = realloc(ds->rows, cap * sizeof *r);
      if (!r) {
        sqlite3_finalize(st);
        return report_errf(err, err_len, "out of memory reading aggregates of dataset %" PRId64,
                           ds->id);
      }
      ds->rows = r;
    }
    report_row *r = &ds->rows[ds->n_rows++];
    r->codec = codec_index(d, sqlite3_column_int64(st, 0));
    r->point_id = sqlite3_column_int64(st, 1);
    const unsigned char *kind = sqlite3_column_text(st, 2);
    r->is_bpp = kind && strcmp((const char *)kind, "bpp") == 0;
    r->value = col_real(st, 3);
    r->n = sqlite3_column_int64(st, 4);
    r->n_errors = sqlite3_column_int64(st, 5);
    r->n_unreachable = sqlite3_column_int64(st, 6);
    double *reals[] = {&r->mean_knob,        &r->bpp,  &r->stream_bpp, &r->psnr,
                       &r->psnr_of_mean_mse, &r->ssim, &r->ms_ssim,    &r->encode_ms,
                       &r->decode_ms};
    for (int i = 0; i < 9; i++)
      *reals[i] = col_real(st, 7 + i);
  }
  if (rc != SQLITE_DONE) {
    report_errf(err, err_len, "cannot read aggregates of dataset %" PRId64 ": %s", ds->id,
                sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);

  if (prepare(db,
              "SELECT count(*) FROM points p JOIN codecs c ON c.id = p.codec_id "
              "WHERE c.run_id = ?1 AND NOT EXISTS (SELECT 1 FROM aggregates a "
              "WHERE a.point_id = p.id AND a.dataset_id = ?2)",
              &st, "missing aggregates", err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, d->run.id);
  sqlite3_bind_int64(st, 2, ds->id);
  if (sqlite3_step(st) != SQLITE_ROW) {
    report_errf(err, err_len, "cannot count missing aggregates: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  ds->n_missing = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return 0;
}

int report_data_load(sqlite3 *db, int64_t run_id, report_data *d, char *err, size_t err_len) {
  memset(d, 0, sizeof *d);
  if (check_schema(db, err, err_len) || load_run(db, run_id, &d->run, err, err_len) ||
      load_codecs(db, d, err, err_len) || load_datasets(db, d, err, err_len))
    return -1;
  for (size_t i = 0; i < d->n_datasets; i++)
    if (load_rows(db, d, &d->datasets[i], err, err_len))
      return -1;
  return 0;
}

void report_data_free(report_data *d) {
  report_run *r = &d->run;
  char *run_text[] = {r->suite_name, r->suite_path,       r->suite_hash,       r->command,
                      r->started_at, r->ended_at,         r->status,           r->git_revision,
                      r->host,       r->library_versions, r->saicbench_version};
  for (size_t i = 0; i < sizeof run_text / sizeof run_text[0]; i++)
    free(run_text[i]);
  for (size_t i = 0; i < d->n_codecs; i++) {
    report_codec *c = &d->codecs[i];
    free(c->label);
    free(c->codec);
    free(c->library_version);
    free(c->settings);
    free(c->knob_name);
    free(c->plugin_path);
  }
  free(d->codecs);
  for (size_t i = 0; i < d->n_datasets; i++) {
    report_dataset *ds = &d->datasets[i];
    free(ds->name);
    free(ds->path);
    free(ds->kind);
    free(ds->content_hash);
    free(ds->selection);
    free(ds->rows);
  }
  free(d->datasets);
  memset(d, 0, sizeof *d);
}
