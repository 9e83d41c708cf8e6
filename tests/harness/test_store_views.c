/* The store's flat views (results/schema.sql): created with a new file, added to a version-2
 * file written before them on its next read-write open (without a version change), never
 * written by a read-only open or into a foreign file, and no write at all when they are there.
 * test_views.py checks their contents and the ready queries of docs/schema.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results_internal.h"
#include "sb_test.h"

static const char *const views[] = {"result_rows", "task_result_rows", "point_summary",
                                    "task_point_summary"};
enum { N_VIEWS = sizeof views / sizeof views[0] };

static char dir[256];

static const char *tmp_path(const char *name) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static int int_query(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  int v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    return -1;
  }
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return v;
}

/* How many of the four views the file has. */
static int n_views(sqlite3 *db) {
  int n = 0;
  for (int i = 0; i < N_VIEWS; i++) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_master WHERE type='view' AND name='%s'",
             views[i]);
    n += int_query(db, sql) == 1;
  }
  return n;
}

static int n_views_in_file(const char *path) {
  sqlite3 *db;
  int n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
    n = n_views(db);
  sqlite3_close(db);
  return n;
}

static int exec_file(const char *path, const char *sql) {
  sqlite3 *db;
  int rc = sqlite3_open(path, &db) == SQLITE_OK ? sqlite3_exec(db, sql, 0, 0, 0) : SQLITE_ERROR;
  sqlite3_close(db);
  return rc;
}

int main(void) {
  char err[512];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/store_views_test_XXXXXX", tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  store *s = NULL;

  /* A new file has the views, and they answer (empty). */
  CHECK(store_open(tmp_path("v.db"), &s, err, sizeof err) == 0, "%s", err);
  if (!s)
    return sb_test_status("test_store_views");
  CHECK(n_views(store_db(s)) == N_VIEWS);
  for (int i = 0; i < N_VIEWS; i++) {
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", views[i]);
    CHECK(int_query(store_db(s), sql) == 0, "%s", views[i]);
  }
  store_close(s);

  /* A file of the current version written before the views (they came after version 2). */
  CHECK(exec_file(tmp_path("v.db"),
                  "DROP VIEW result_rows; DROP VIEW task_result_rows; "
                  "DROP VIEW point_summary; DROP VIEW task_point_summary;") == SQLITE_OK);
  CHECK(n_views_in_file(tmp_path("v.db")) == 0);

  /* A read-only open does not add them (and does not fail for their lack). */
  CHECK(store_open_readonly(tmp_path("v.db"), &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    CHECK(store_schema_version(s) == STORE_SCHEMA_VERSION);
    CHECK(n_views(store_db(s)) == 0);
    store_close(s);
  }
  CHECK(n_views_in_file(tmp_path("v.db")) == 0);

  /* A read-write open adds them, keeping the version; a watching connection sees the write. */
  sqlite3 *watch;
  CHECK(sqlite3_open(tmp_path("v.db"), &watch) == SQLITE_OK);
  int dv0 = int_query(watch, "PRAGMA data_version");
  CHECK(store_open(tmp_path("v.db"), &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    CHECK(n_views(store_db(s)) == N_VIEWS);
    store_close(s);
  }
  int dv1 = int_query(watch, "PRAGMA data_version");
  CHECK(dv1 != dv0);
  CHECK(n_views(watch) == N_VIEWS);
  CHECK(int_query(watch, "PRAGMA user_version") == STORE_SCHEMA_VERSION);

  /* With the views there, opening for writing writes nothing. */
  CHECK(store_open(tmp_path("v.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(int_query(watch, "PRAGMA data_version") == dv1);
  sqlite3_close(watch);

  /* One view missing is enough to add it. */
  CHECK(exec_file(tmp_path("v.db"), "DROP VIEW task_point_summary;") == SQLITE_OK);
  CHECK(store_open(tmp_path("v.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(n_views_in_file(tmp_path("v.db")) == N_VIEWS);

  /* A version-1 file gets them with its upgrade. */
  CHECK(exec_file(tmp_path("v1.db"), "") == SQLITE_OK);
  CHECK(store_open(tmp_path("v1.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  /* As version 1 had it: no views, no task tables, no version-3 metric columns. */
  char v1[2048] = "DROP VIEW result_rows; DROP VIEW task_result_rows; DROP VIEW point_summary; "
                  "DROP VIEW task_point_summary; DROP TABLE task_aggregates; "
                  "DROP TABLE task_results; DROP TABLE task_refs; DROP TABLE tasks; "
                  "PRAGMA user_version=1;";
  for (int i = 0; i < STORE_N_EXTRA_METRICS; i++) {
    const size_t n = strlen(v1);
    snprintf(v1 + n, sizeof v1 - n,
             " ALTER TABLE results DROP COLUMN %s; ALTER TABLE aggregates DROP COLUMN %s;",
             store_extra_metric_columns[i], store_v3_aggregates_columns[i]);
  }
  CHECK(exec_file(tmp_path("v1.db"), v1) == SQLITE_OK);
  CHECK(store_open(tmp_path("v1.db"), &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    CHECK(n_views(store_db(s)) == N_VIEWS);
    CHECK(store_schema_version(s) == STORE_SCHEMA_VERSION);
    CHECK(int_query(store_db(s), "SELECT count(*) FROM pragma_table_info('results') WHERE "
                                 "name = 'butteraugli_3norm'") == 1);
    store_close(s);
  }

  /* Someone else's database never gets them. */
  CHECK(exec_file(tmp_path("other.db"), "CREATE TABLE t(x); INSERT INTO t VALUES (1);") ==
        SQLITE_OK);
  CHECK(store_open(tmp_path("other.db"), &s, err, sizeof err) != 0);
  CHECK(n_views_in_file(tmp_path("other.db")) == 0);

  const char *names[] = {"v.db", "v1.db", "other.db"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char p[600];
    unlink(tmp_path(names[i]));
    snprintf(p, sizeof p, "%s-wal", tmp_path(names[i]));
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", tmp_path(names[i]));
    unlink(p);
  }
  rmdir(dir);
  return sb_test_status("test_store_views");
}
