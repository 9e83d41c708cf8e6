/* queries.c - the small queries of the command line and the report: read transactions, the
 * newest run, a run's suite text, a suite's run history (results.h). */
#include "results_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *results_sqlite_version(void) { return sqlite3_libversion(); }

int results_begin_read(store *s, int *began, char *err, size_t err_len) {
  sqlite3 *db = store_db(s);
  *began = 0;
  if (!sqlite3_get_autocommit(db))
    return 0;
  if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot begin read transaction: %s", sqlite3_errmsg(db));
  *began = 1;
  return 0;
}

int results_end_read(store *s, int began, char *err, size_t err_len) {
  sqlite3 *db = store_db(s);
  if (!began)
    return 0;
  /* A read transaction has nothing to keep: COMMIT ends it; ROLLBACK if that fails. */
  if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    sb_errf(err, err_len, "cannot end read transaction: %s", sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

int results_latest_run(store *s, int64_t *run_id, char *err, size_t err_len) {
  if (!s || !run_id)
    return sb_errf(err, err_len, "results_latest_run: no %s", !s ? "database" : "output");
  sqlite3 *db = store_db(s);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT max(id) FROM runs", -1, &st, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot query runs: %s", sqlite3_errmsg(db));
  if (sqlite3_step(st) != SQLITE_ROW) {
    sb_errf(err, err_len, "cannot query runs: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  const int none = sqlite3_column_type(st, 0) == SQLITE_NULL;
  *run_id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return none ? sb_errf(err, err_len, "database has no runs") : 0;
}

int results_run_suite_text(store *s, int64_t run_id, char **text, size_t *len, char *err,
                           size_t err_len) {
  *text = NULL;
  *len = 0;
  sqlite3 *db = store_db(s);
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, "SELECT suite_text FROM runs WHERE id = ?1", -1, &q, NULL) !=
      SQLITE_OK)
    return sb_errf(err, err_len, "cannot query runs: %s", sqlite3_errmsg(db));
  sqlite3_bind_int64(q, 1, run_id);
  int rc = sqlite3_step(q), status = 0;
  if (rc == SQLITE_DONE) {
    status = sb_errf(err, err_len, "run %" PRId64 " not found in database", run_id);
  } else if (rc != SQLITE_ROW) {
    status = sb_errf(err, err_len, "cannot read run %" PRId64 ": %s", run_id, sqlite3_errmsg(db));
  } else if (sqlite3_column_type(q, 0) == SQLITE_TEXT) {
    if (results_col_text(q, 0, text))
      status = sb_errf(err, err_len, "out of memory reading run %" PRId64, run_id);
    else
      *len = (size_t)sqlite3_column_bytes(q, 0);
  }
  sqlite3_finalize(q);
  return status;
}

void results_runs_free(results_run_summary *runs, size_t n) {
  for (size_t i = 0; runs && i < n; i++) {
    free(runs[i].started_at);
    free(runs[i].status);
    free(runs[i].git_revision);
  }
  free(runs);
}

int results_list_runs(store *s, const char *suite_name, long limit, results_run_summary **out,
                      size_t *n, char *err, size_t err_len) {
  *out = NULL;
  *n = 0;
  sqlite3 *db = store_db(s);
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db,
                         "SELECT id, started_at, status, git_revision, "
                         "CAST(strftime('%s', ended_at) - strftime('%s', started_at) AS INTEGER) "
                         "FROM (SELECT * FROM runs WHERE suite_name = ?1 ORDER BY id DESC "
                         "LIMIT ?2) ORDER BY id",
                         -1, &q, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot query runs: %s", sqlite3_errmsg(db));
  sqlite3_bind_text(q, 1, suite_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 2, limit);
  results_run_summary *v = NULL;
  size_t cap = 0, k = 0;
  int rc, oom = 0;
  while (!oom && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (k == cap) {
      size_t nc = cap ? 2 * cap : 16;
      results_run_summary *p = realloc(v, nc * sizeof *p);
      if (!p) {
        oom = 1;
        break;
      }
      v = p;
      cap = nc;
    }
    results_run_summary *r = &v[k++];
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(q, 0);
    r->wall_s = sqlite3_column_type(q, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 4);
    oom = results_col_text(q, 1, &r->started_at) || results_col_text(q, 2, &r->status) ||
          results_col_text(q, 3, &r->git_revision);
  }
  int status = 0;
  if (oom)
    status = sb_errf(err, err_len, "out of memory reading runs");
  else if (rc != SQLITE_DONE)
    status = sb_errf(err, err_len, "cannot read runs: %s", sqlite3_errmsg(db));
  sqlite3_finalize(q);
  if (status) {
    results_runs_free(v, k);
    return status;
  }
  *out = v;
  *n = k;
  return 0;
}
