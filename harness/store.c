#include "store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "task_metrics.h"
#include "util.h"

extern const char store_schema_sql[]; /* harness/schema.sql, embedded at build time */

struct store {
  sqlite3 *db;
  char *path;
  int version;
  sqlite3_stmt *insert_result, *update_image, *insert_task_ref, *insert_task_result;
  sqlite3_stmt *insert_repeats, *delete_repeats;
};

/* What the user can act on for a failed write: SQLite's unix VFS does not always keep errno
 * (a file-size limit reads as a plain "disk I/O error"), so name the likely causes. */
static const char *write_hint(sqlite3 *db) {
  int sys = sqlite3_system_errno(db);
  if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CORRUPT)
    return "the database is damaged; restore it from a copy";
  switch (sqlite3_extended_errcode(db)) {
  case SQLITE_FULL:
  case SQLITE_IOERR_WRITE:
  case SQLITE_IOERR_FSYNC:
  case SQLITE_IOERR_TRUNCATE:
  case SQLITE_IOERR_SHMSIZE:
    return sys ? strerror(sys) : "writing failed: disk full, file size limit or I/O error";
  default: return sys ? strerror(sys) : NULL;
  }
}

static int db_fail(store *s, const char *what, char *err, size_t err_len) {
  const char *hint = write_hint(s->db);
  snprintf(err, err_len, "%s: %s: %s%s%s%s", s->path, what, sqlite3_errmsg(s->db), hint ? " (" : "",
           hint ? hint : "", hint ? ")" : "");
  return -1;
}

static int exec(store *s, const char *sql, char *err, size_t err_len) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    const char *hint = write_hint(s->db);
    snprintf(err, err_len, "%s: %s%s%s%s", s->path, msg ? msg : sqlite3_errmsg(s->db),
             hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static int prepare(store *s, const char *sql, sqlite3_stmt **st, char *err, size_t err_len) {
  if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
    return db_fail(s, "preparing a statement", err, err_len);
  return 0;
}

static int open_common(const char *path, int flags, store **out, char *err, size_t err_len) {
  *out = NULL;
  store *s = calloc(1, sizeof *s);
  if (!s || !(s->path = strdup(path))) {
    free(s);
    snprintf(err, err_len, "%s: out of memory", path);
    return -1;
  }
  if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
    snprintf(err, err_len, "%s: cannot open database: %s", path,
             s->db ? sqlite3_errmsg(s->db) : "out of memory");
    store_close(s);
    return -1;
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, 10000);
  *out = s;
  return 0;
}

/* One integer-valued PRAGMA (user_version, application_id). Reading the header is the first
 * real access: a non-database file fails here. */
static int read_pragma_int(store *s, const char *sql, int *value, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(s, "not a usable SQLite database", err, err_len);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(st);
    return db_fail(s, "not a usable SQLite database", err, err_len);
  }
  *value = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return 0;
}

/* Everything in the schema: tables, indexes, views, triggers. */
static int count_schema_objects(store *s, int *n, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(s, "SELECT count(*) FROM sqlite_master", &st, err, err_len))
    return -1;
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_finalize(st);
    return db_fail(s, "reading the schema", err, err_len);
  }
  *n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return 0;
}

/* The column names of a table of the main schema, in order, joined by ','; "" when there is
 * no such table. Returns -1 when the schema cannot be read. */
static int table_columns(sqlite3 *db, const char *table, char *out, size_t out_len) {
  sqlite3_stmt *st;
  out[0] = '\0';
  if (sqlite3_prepare_v2(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid", -1, &st,
                         NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  size_t used = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    int k = snprintf(out + used, out_len - used, "%s%s", used ? "," : "", name ? name : "");
    if (k < 0 || (size_t)k >= out_len - used) { /* too long to be ours */
      snprintf(out, out_len, "?");
      break;
    }
    used += (size_t)k;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Whether the file's runs and results tables have exactly the columns of this saicbench's
 * schema (both unchanged since version 1): how a saicbench database written before the
 * application id is recognised. The reference columns come from the embedded schema, run once
 * into an in-memory database. *match: 1 yes, 0 no. */
static int schema_matches(store *s, int *match, char *err, size_t err_len) {
  static const char *const tables[] = {"runs", "results"};
  sqlite3 *ref = NULL;
  *match = 0;
  if (sqlite3_open_v2(":memory:", &ref, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
      sqlite3_exec(ref, store_schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, err_len, "%s: cannot build the reference schema: %s", s->path,
             ref ? sqlite3_errmsg(ref) : "out of memory");
    sqlite3_close(ref);
    return -1;
  }
  int ok = 1;
  for (size_t i = 0; ok && i < sizeof tables / sizeof tables[0]; i++) {
    char want[1024], have[1024];
    if (table_columns(ref, tables[i], want, sizeof want)) {
      snprintf(err, err_len, "%s: reading the reference schema: %s", s->path, sqlite3_errmsg(ref));
      sqlite3_close(ref);
      return -1;
    }
    if (table_columns(s->db, tables[i], have, sizeof have)) {
      sqlite3_close(ref);
      return db_fail(s, "reading the schema", err, err_len);
    }
    ok = !strcmp(want, have);
  }
  sqlite3_close(ref);
  *match = ok;
  return 0;
}

enum { DB_NEW, DB_OURS, DB_LEGACY };

/* Decides what the open file is, before anything is written to it:
 *   DB_NEW     nothing in it (no schema object, user_version 0, application_id 0): initialise;
 *   DB_OURS    saicbench's application id and a known schema version;
 *   DB_LEGACY  application_id 0 but saicbench's runs/results tables and a known version: a
 *              saicbench database written before the application id (gets it on its next write).
 * Everything else is refused, naming the file: another program's database, an SQLite file with
 * other tables, an unknown, negative or newer schema version. */
static int identify(store *s, int *kind, int *version, char *err, size_t err_len) {
  int app = 0, n_objects = 0, match = 0;
  if (read_pragma_int(s, "PRAGMA user_version", version, err, err_len) ||
      read_pragma_int(s, "PRAGMA application_id", &app, err, err_len) ||
      count_schema_objects(s, &n_objects, err, err_len))
    return -1;
  const int v = *version;
  if (app != 0 && app != STORE_APPLICATION_ID) {
    snprintf(err, err_len,
             "not a saicbench database: %s (application id 0x%08x belongs to another program)",
             s->path, (unsigned)app);
    return -1;
  }
  if (app == 0 && v == 0 && n_objects == 0) {
    *kind = DB_NEW;
    return 0;
  }
  if (n_objects > 0 && schema_matches(s, &match, err, err_len))
    return -1;
  if (v > STORE_SCHEMA_VERSION && (app == STORE_APPLICATION_ID || match)) {
    snprintf(err, err_len,
             "%s: schema version %d is newer than this saicbench (%d); use a newer saicbench",
             s->path, v, STORE_SCHEMA_VERSION);
    return -1;
  }
  if (v < 1 || v > STORE_SCHEMA_VERSION) {
    snprintf(
        err, err_len, "not a saicbench database: %s (schema version %d; saicbench writes 1..%d)%s",
        s->path, v, STORE_SCHEMA_VERSION,
        v == 0 && n_objects > 0 ? "; it has tables of another program, refusing to touch it" : "");
    return -1;
  }
  if (!match) {
    snprintf(err, err_len, "not a saicbench database: %s (%s); refusing to touch it", s->path,
             app == STORE_APPLICATION_ID
                 ? "saicbench's application id, but its runs/results tables are not saicbench's"
                 : "its runs/results tables are not saicbench's");
    return -1;
  }
  *kind = app == STORE_APPLICATION_ID ? DB_OURS : DB_LEGACY;
  return 0;
}

/* PRAGMA quick_check: the b-tree structure, page and record formats, NOT NULL and CHECK
 * constraints (linear in the file size; about 0.2 s for 900,000 result rows, 100 MB). A damaged
 * file is refused before anything reads or writes its rows. */
static int check_integrity(store *s, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
    snprintf(err, err_len,
             "%s: the database is damaged (%s); restore it from a copy (or salvage it with "
             "`sqlite3 FILE .recover`)",
             s->path, sqlite3_errmsg(s->db));
    return -1;
  }
  int rc = sqlite3_step(st);
  const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
  if (!res || strcmp(res, "ok")) {
    snprintf(err, err_len,
             "%s: the database is damaged (PRAGMA quick_check: %s); restore it from a copy (or "
             "salvage it with `sqlite3 FILE .recover`)",
             s->path, res ? res : sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

/* Whether a table, index or view of the schema is missing from a file of the current version:
 * one written before it was added (timing_repeats, the flat views: additions that old readers
 * need not know about do not change the version). The names are read from the embedded schema
 * text (CREATE ... IF NOT EXISTS statements that start a line), so a new object needs no change
 * here. */
static int schema_objects_missing(store *s, int *missing, char *err, size_t err_len) {
  static const struct {
    const char *key, *type;
  } kinds[] = {{"CREATE TABLE IF NOT EXISTS ", "table"},
               {"CREATE INDEX IF NOT EXISTS ", "index"},
               {"CREATE VIEW IF NOT EXISTS ", "view"}};
  sqlite3_stmt *st;
  *missing = 0;
  if (prepare(s, "SELECT count(*) FROM sqlite_master WHERE type=?1 AND name=?2", &st, err, err_len))
    return -1;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && !*missing; k++) {
    const char *key = kinds[k].key;
    size_t key_len = strlen(key);
    sqlite3_bind_text(st, 1, kinds[k].type, -1, SQLITE_STATIC);
    for (const char *p = strstr(store_schema_sql, key); p && !*missing; p = strstr(p, key)) {
      int at_line_start = p == store_schema_sql || p[-1] == '\n';
      p += key_len;
      if (!at_line_start)
        continue;
      size_t n = strcspn(p, " \t\r\n(");
      sqlite3_bind_text(st, 2, p, (int)n, SQLITE_STATIC);
      if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return db_fail(s, "reading the schema", err, err_len);
      }
      *missing = sqlite3_column_int(st, 0) == 0;
      sqlite3_reset(st);
    }
  }
  sqlite3_finalize(st);
  return 0;
}

int store_open(const char *path, store **out, char *err, size_t err_len) {
  store *s;
  if (open_common(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s, err, err_len))
    return -1;
  /* What the file is, and whether it is intact, before the first write of any kind (the
   * journal-mode switch below is one): a foreign or damaged file is never modified. */
  int kind = DB_NEW, version = 0;
  if (identify(s, &kind, &version, err, err_len) ||
      (kind != DB_NEW && check_integrity(s, err, err_len)))
    goto fail;
  /* WAL: readers never block the writer; synchronous=NORMAL keeps every committed
   * transaction across a process crash (kill -9), at most the last ones on power loss. */
  if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err,
           err_len))
    goto fail;
  int add_missing = 0;
  if (version == STORE_SCHEMA_VERSION && schema_objects_missing(s, &add_missing, err, err_len))
    goto fail;
  if (version < STORE_SCHEMA_VERSION || add_missing || kind != DB_OURS) {
    /* New file, an upgrade, a current file without a later addition (timing_repeats, the
     * views) or one written before the application id: every statement of the schema is
     * CREATE ... IF NOT EXISTS and later versions only add tables, indexes and views, so
     * running it adds what is missing and keeps all rows. */
    char ver[96];
    snprintf(ver, sizeof ver, "PRAGMA user_version=%d; PRAGMA application_id=%d;",
             STORE_SCHEMA_VERSION, (int)STORE_APPLICATION_ID);
    if (exec(s, "BEGIN IMMEDIATE", err, err_len))
      goto fail;
    if (exec(s, store_schema_sql, err, err_len) || exec(s, ver, err, err_len) ||
        exec(s, "COMMIT", err, err_len)) {
      store_rollback(s);
      goto fail;
    }
  }
  s->version = STORE_SCHEMA_VERSION;
  if (prepare(s,
              "INSERT OR REPLACE INTO results (image_id, point_id, knob, bytes, stream_bytes, "
              "bpp, stream_bpp, mse, psnr, ssim, ms_ssim, encode_ms, decode_ms, n_encodes, "
              "target_unreachable, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
              &s->insert_result, err, err_len) ||
      prepare(s, "UPDATE images SET width=?, height=?, hash=?, error=? WHERE id=?",
              &s->update_image, err, err_len) ||
      prepare(s,
              "INSERT OR REPLACE INTO task_refs (task_id, image_id, top1, correct, probs) "
              "VALUES (?,?,?,?,?)",
              &s->insert_task_ref, err, err_len) ||
      prepare(s,
              "INSERT OR REPLACE INTO task_results (task_id, image_id, point_id, top1, correct, "
              "agree, kl) VALUES (?,?,?,?,?,?,?)",
              &s->insert_task_result, err, err_len) ||
      prepare(s,
              "INSERT OR REPLACE INTO timing_repeats (image_id, point_id, encode_ms, decode_ms) "
              "VALUES (?,?,?,?)",
              &s->insert_repeats, err, err_len) ||
      prepare(s, "DELETE FROM timing_repeats WHERE image_id=? AND point_id=?", &s->delete_repeats,
              err, err_len))
    goto fail;
  *out = s;
  return 0;
fail:
  store_close(s);
  *out = NULL;
  return -1;
}

/* Whether path is an SQLite file in WAL mode (header bytes 18 and 19 are 2). */
static int is_wal_file(const char *path) {
  unsigned char h[20];
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t n = fread(h, 1, sizeof h, f);
  fclose(f);
  return n == sizeof h && !memcmp(h, "SQLite format 3", 16) && h[18] == 2 && h[19] == 2;
}

/* A WAL-mode file opens read-only only where SQLite can open or create its -shm file, so not
 * in a read-only folder (a read-only mount) unless the -shm is already there. When the -wal
 * file is absent or holds no frames (the last writer checkpointed it, as saicbench's close
 * does), the main file alone is complete: open it with immutable=1, which reads it without
 * -shm, locks or -wal. The trade-off: SQLite then assumes that nobody changes the file while it
 * is open (a writer on another mount of the same disk would go unnoticed). With a -wal that
 * holds changes the main file alone is out of date: explain what to do instead. */
static int open_wal_readonly(const char *path, store **out, const char *first_err, char *err,
                             size_t err_len) {
  char wal[PATH_MAX + 8];
  struct stat st;
  snprintf(wal, sizeof wal, "%s-wal", path);
  if (stat(wal, &st) == 0 && st.st_size > 32) { /* 32: the WAL header, no frames */
    snprintf(err, err_len,
             "%s: cannot open it read-only: it is in WAL mode, its -wal file holds changes and "
             "its -shm file cannot be created (a read-only folder or mount?); copy the database "
             "with its -wal file to a writable folder, or checkpoint it there with "
             "`sqlite3 FILE 'PRAGMA journal_mode=DELETE'` (%s)",
             path, first_err);
    return -1;
  }
  /* file:ABSOLUTE-PATH?immutable=1, with the characters a URI gives meaning to escaped. */
  char real[PATH_MAX];
  const char *p = realpath(path, real) ? real : path;
  size_t cap = 3 * strlen(p) + 32;
  char *uri = malloc(cap);
  if (!uri) {
    snprintf(err, err_len, "%s: out of memory", path);
    return -1;
  }
  size_t n = (size_t)snprintf(uri, cap, "file:");
  for (const unsigned char *c = (const unsigned char *)p; *c; c++)
    n += (size_t)(*c == '%' || *c == '?' || *c == '#' || *c <= ' ' || *c >= 0x7f
                      ? snprintf(uri + n, cap - n, "%%%02X", *c)
                      : snprintf(uri + n, cap - n, "%c", *c));
  snprintf(uri + n, cap - n, "?immutable=1");
  store *s;
  int rc = open_common(uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, &s, err, err_len);
  free(uri);
  if (rc)
    return -1;
  free(s->path); /* messages name the file, not the URI */
  if (!(s->path = strdup(path))) {
    store_close(s);
    snprintf(err, err_len, "%s: out of memory", path);
    return -1;
  }
  *out = s;
  return 0;
}

int store_open_readonly(const char *path, store **out, char *err, size_t err_len) {
  store *s;
  *out = NULL;
  if (open_common(path, SQLITE_OPEN_READONLY, &s, err, err_len))
    return -1;
  int kind = DB_NEW, version = 0;
  /* The first access reads the header; for a WAL file it also needs the -shm file. */
  if (read_pragma_int(s, "PRAGMA user_version", &version, err, err_len)) {
    int code = sqlite3_extended_errcode(s->db) & 0xff;
    char first[256];
    snprintf(first, sizeof first, "%s", sqlite3_errmsg(s->db));
    store_close(s);
    if (!is_wal_file(path) || (code != SQLITE_CANTOPEN && code != SQLITE_READONLY))
      return -1;
    if (open_wal_readonly(path, &s, first, err, err_len))
      return -1;
  }
  if (identify(s, &kind, &version, err, err_len))
    goto fail;
  if (kind == DB_NEW) {
    snprintf(err, err_len, "not a saicbench database: %s (an empty SQLite database)", path);
    goto fail;
  }
  /* Reports, comparisons, the gate and merge read what is stored: refuse a damaged file. */
  if (check_integrity(s, err, err_len))
    goto fail;
  s->version = version;
  *out = s;
  return 0;
fail:
  store_close(s);
  *out = NULL;
  return -1;
}

void store_close(store *s) {
  if (!s)
    return;
  sqlite3_finalize(s->insert_result);
  sqlite3_finalize(s->update_image);
  sqlite3_finalize(s->insert_task_ref);
  sqlite3_finalize(s->insert_task_result);
  sqlite3_finalize(s->insert_repeats);
  sqlite3_finalize(s->delete_repeats);
  sqlite3_close(s->db);
  free(s->path);
  free(s);
}

sqlite3 *store_handle(store *s) { return s->db; }

int store_schema_version(const store *s) { return s->version; }

int store_begin(store *s, char *err, size_t err_len) {
  return exec(s, "BEGIN IMMEDIATE", err, err_len);
}
int store_commit(store *s, char *err, size_t err_len) { return exec(s, "COMMIT", err, err_len); }
int store_rollback(store *s) {
  if (sqlite3_get_autocommit(s->db))
    return 0;
  return sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v) {
  if (isfinite(v))
    sqlite3_bind_double(st, i, v);
  else
    sqlite3_bind_null(st, i);
}

/* Steps a statement that returns no rows, then finalizes it. */
static int step_done(store *s, sqlite3_stmt *st, const char *what, char *err, size_t err_len) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) {
    db_fail(s, what, err, err_len);
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

int store_create_run(store *s, const store_run_info *info, int64_t *run_id, char *err,
                     size_t err_len) {
  sqlite3_stmt *st;
  char now[32];
  util_iso8601_utc(now);
  if (prepare(s,
              "INSERT INTO runs (suite_name, suite_path, suite_hash, suite_text, command, "
              "started_at, status, git_revision, host, threads, library_versions, "
              "saicbench_version, shard) VALUES (?,?,?,?,?,?,'running',?,?,?,?,?,?)",
              &st, err, err_len))
    return -1;
  bind_text(st, 1, info->suite_name);
  bind_text(st, 2, info->suite_path);
  bind_text(st, 3, info->suite_hash);
  bind_text(st, 4, info->suite_text);
  bind_text(st, 5, info->command);
  bind_text(st, 6, now);
  bind_text(st, 7, info->git_revision);
  bind_text(st, 8, info->host);
  sqlite3_bind_int(st, 9, info->threads);
  bind_text(st, 10, info->library_versions);
  bind_text(st, 11, info->saicbench_version);
  bind_text(st, 12, info->shard);
  if (step_done(s, st, "creating the run", err, err_len))
    return -1;
  *run_id = sqlite3_last_insert_rowid(s->db);
  return 0;
}

int store_find_resumable_run(store *s, const char *suite_hash, const char *shard, int64_t *run_id,
                             char *err, size_t err_len) {
  sqlite3_stmt *st;
  *run_id = 0;
  if (prepare(s,
              "SELECT id FROM runs WHERE suite_hash=? AND shard IS ? AND status<>'complete' "
              "ORDER BY id DESC LIMIT 1",
              &st, err, err_len))
    return -1;
  bind_text(st, 1, suite_hash);
  bind_text(st, 2, shard);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *run_id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_fail(s, "looking for a run to resume", err, err_len);
  return 0;
}

int store_set_run_status(store *s, int64_t run_id, const char *status, char *err, size_t err_len) {
  sqlite3_stmt *st;
  char now[32];
  util_iso8601_utc(now);
  if (prepare(s, "UPDATE runs SET status=?, ended_at=? WHERE id=?", &st, err, err_len))
    return -1;
  bind_text(st, 1, status);
  if (strcmp(status, "running"))
    bind_text(st, 2, now);
  else
    sqlite3_bind_null(st, 2);
  sqlite3_bind_int64(st, 3, run_id);
  return step_done(s, st, "updating the run status", err, err_len);
}

/* Runs `insert` (INSERT OR IGNORE); then `select` binds the same leading key columns and
 * returns the id plus `n_check` columns compared with the expected text values. */
static int put_row(store *s, sqlite3_stmt *ins, sqlite3_stmt *sel, const char *what,
                   const char *const *expect, int n_check, int64_t *id, char *err, size_t err_len) {
  int rc = sqlite3_step(ins);
  sqlite3_finalize(ins);
  if (rc != SQLITE_DONE) {
    sqlite3_finalize(sel);
    return db_fail(s, what, err, err_len);
  }
  rc = sqlite3_step(sel);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(sel);
    return db_fail(s, what, err, err_len);
  }
  *id = sqlite3_column_int64(sel, 0);
  for (int i = 0; i < n_check; i++) {
    const char *have = (const char *)sqlite3_column_text(sel, i + 1);
    if (expect[i] && (!have || strcmp(have, expect[i]))) {
      snprintf(err, err_len,
               "%s: %s: the stored row differs from this run's plan (%s vs %s); start a new run "
               "instead of resuming",
               s->path, what, have ? have : "NULL", expect[i]);
      sqlite3_finalize(sel);
      return -1;
    }
  }
  sqlite3_finalize(sel);
  return 0;
}

int store_put_dataset(store *s, int64_t run_id, const char *name, const char *path,
                      const char *kind, const char *content_hash, int64_t n_images, int n_classes,
                      const char *class_names_json, const char *selection, int64_t *id, char *err,
                      size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (prepare(s,
              "INSERT OR IGNORE INTO datasets (run_id, name, path, kind, content_hash, n_images, "
              "n_classes, class_names, selection) VALUES (?,?,?,?,?,?,?,?,?)",
              &ins, err, err_len))
    return -1;
  if (prepare(s, "SELECT id, content_hash FROM datasets WHERE run_id=? AND name=?", &sel, err,
              err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, run_id);
  bind_text(ins, 2, name);
  bind_text(ins, 3, path);
  bind_text(ins, 4, kind);
  bind_text(ins, 5, content_hash);
  sqlite3_bind_int64(ins, 6, n_images);
  sqlite3_bind_int(ins, 7, n_classes);
  bind_text(ins, 8, class_names_json);
  bind_text(ins, 9, selection);
  sqlite3_bind_int64(sel, 1, run_id);
  bind_text(sel, 2, name);
  const char *expect[] = {content_hash};
  return put_row(s, ins, sel, "storing dataset", expect, 1, id, err, err_len);
}

int store_put_image(store *s, int64_t dataset_id, int64_t idx, const char *name, int label,
                    int64_t *id, char *err, size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (prepare(s, "INSERT OR IGNORE INTO images (dataset_id, idx, name, label) VALUES (?,?,?,?)",
              &ins, err, err_len))
    return -1;
  if (prepare(s, "SELECT id, name FROM images WHERE dataset_id=? AND idx=?", &sel, err, err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, dataset_id);
  sqlite3_bind_int64(ins, 2, idx);
  bind_text(ins, 3, name);
  if (label >= 0)
    sqlite3_bind_int(ins, 4, label);
  else
    sqlite3_bind_null(ins, 4);
  sqlite3_bind_int64(sel, 1, dataset_id);
  sqlite3_bind_int64(sel, 2, idx);
  const char *expect[] = {name};
  return put_row(s, ins, sel, "storing image", expect, 1, id, err, err_len);
}

int store_put_codec(store *s, int64_t run_id, const char *label, const char *codec,
                    const char *library_version, const char *settings_json, const char *knob_name,
                    const char *plugin_path, int64_t *id, char *err, size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (prepare(s,
              "INSERT OR IGNORE INTO codecs (run_id, label, codec, library_version, settings, "
              "knob_name, plugin_path) VALUES (?,?,?,?,?,?,?)",
              &ins, err, err_len))
    return -1;
  if (prepare(s, "SELECT id, codec, settings FROM codecs WHERE run_id=? AND label=?", &sel, err,
              err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, run_id);
  bind_text(ins, 2, label);
  bind_text(ins, 3, codec);
  bind_text(ins, 4, library_version);
  bind_text(ins, 5, settings_json);
  bind_text(ins, 6, knob_name);
  bind_text(ins, 7, plugin_path);
  sqlite3_bind_int64(sel, 1, run_id);
  bind_text(sel, 2, label);
  const char *expect[] = {codec, settings_json};
  return put_row(s, ins, sel, "storing codec", expect, 2, id, err, err_len);
}

int store_put_point(store *s, int64_t codec_id, const char *kind, double value, int64_t *id,
                    char *err, size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (prepare(s, "INSERT OR IGNORE INTO points (codec_id, kind, value) VALUES (?,?,?)", &ins, err,
              err_len))
    return -1;
  if (prepare(s, "SELECT id FROM points WHERE codec_id=? AND kind=? AND value=?", &sel, err,
              err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, codec_id);
  bind_text(ins, 2, kind);
  sqlite3_bind_double(ins, 3, value);
  sqlite3_bind_int64(sel, 1, codec_id);
  bind_text(sel, 2, kind);
  sqlite3_bind_double(sel, 3, value);
  return put_row(s, ins, sel, "storing grid point", NULL, 0, id, err, err_len);
}

int store_update_image(store *s, int64_t image_id, int width, int height, const char *hash,
                       const char *error, char *err, size_t err_len) {
  sqlite3_stmt *st = s->update_image;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (!error) {
    sqlite3_bind_int(st, 1, width);
    sqlite3_bind_int(st, 2, height);
    bind_text(st, 3, hash);
  }
  bind_text(st, 4, error);
  sqlite3_bind_int64(st, 5, image_id);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_fail(s, "updating image", err, err_len);
  return 0;
}

/* A JSON array of n numbers, each the shortest %.{15,16,17}g form that reads back as the same
 * double (so the median of the parsed values equals the stored median exactly); non-finite
 * values (never measured) become null. Returns a malloc'ed string, NULL when out of memory. */
static char *json_number_array(const double *v, int n) {
  size_t cap = (size_t)n * 32 + 3, used = 0;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  out[used++] = '[';
  for (int i = 0; i < n; i++) {
    char num[32];
    if (!isfinite(v[i]))
      snprintf(num, sizeof num, "null");
    else
      for (int prec = 15; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, v[i]);
        if (strtod(num, NULL) == v[i])
          break;
      }
    used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", num);
  }
  snprintf(out + used, cap - used, "]");
  return out;
}

/* The result's timing_repeats row: inserted when it has repeats and no error, else deleted (a
 * replaced result never keeps another measurement's repeats). */
static int store_repeats(store *s, const store_result *r, char *err, size_t err_len) {
  if (r->error || (r->n_encode_all < 1 && r->n_decode_all < 1)) {
    sqlite3_stmt *del = s->delete_repeats;
    sqlite3_reset(del);
    sqlite3_bind_int64(del, 1, r->image_id);
    sqlite3_bind_int64(del, 2, r->point_id);
    if (sqlite3_step(del) != SQLITE_DONE)
      return db_fail(s, "deleting timing repeats", err, err_len);
    return 0;
  }
  char *enc = json_number_array(r->encode_all, r->n_encode_all > 0 ? r->n_encode_all : 0);
  char *dec = json_number_array(r->decode_all, r->n_decode_all > 0 ? r->n_decode_all : 0);
  if (!enc || !dec) {
    free(enc);
    free(dec);
    snprintf(err, err_len, "%s: out of memory storing timing repeats", s->path);
    return -1;
  }
  sqlite3_stmt *st = s->insert_repeats;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, r->image_id);
  sqlite3_bind_int64(st, 2, r->point_id);
  sqlite3_bind_text(st, 3, enc, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, dec, -1, SQLITE_TRANSIENT);
  free(enc);
  free(dec);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_fail(s, "inserting timing repeats", err, err_len);
  return 0;
}

int store_insert_result(store *s, const store_result *r, char *err, size_t err_len) {
  sqlite3_stmt *st = s->insert_result;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, r->image_id);
  sqlite3_bind_int64(st, 2, r->point_id);
  if (!r->error) {
    bind_real(st, 3, r->knob);
    sqlite3_bind_int64(st, 4, r->bytes);
    sqlite3_bind_int64(st, 5, r->stream_bytes);
    bind_real(st, 6, r->bpp);
    bind_real(st, 7, r->stream_bpp);
    bind_real(st, 8, r->mse);
    bind_real(st, 9, r->psnr);
    bind_real(st, 10, r->ssim);
    bind_real(st, 11, r->ms_ssim);
    bind_real(st, 12, r->encode_ms);
    bind_real(st, 13, r->decode_ms);
  }
  sqlite3_bind_int(st, 14, r->n_encodes);
  sqlite3_bind_int(st, 15, r->target_unreachable);
  bind_text(st, 16, r->error);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_fail(s, "inserting a result", err, err_len);
  return store_repeats(s, r, err, err_len);
}

int store_put_task(store *s, int64_t run_id, const store_task_info *t, int64_t *id, char *err,
                   size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (prepare(s,
              "INSERT OR IGNORE INTO tasks (run_id, name, kind, checkpoint, checkpoint_sha256, "
              "arch, num_classes, input_width, input_height) VALUES (?,?,?,?,?,?,?,?,?)",
              &ins, err, err_len))
    return -1;
  if (prepare(s, "SELECT id, checkpoint_sha256, arch FROM tasks WHERE run_id=? AND name=?", &sel,
              err, err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, run_id);
  bind_text(ins, 2, t->name);
  bind_text(ins, 3, t->kind);
  bind_text(ins, 4, t->checkpoint);
  bind_text(ins, 5, t->checkpoint_sha256);
  bind_text(ins, 6, t->arch);
  sqlite3_bind_int(ins, 7, t->num_classes);
  sqlite3_bind_int(ins, 8, t->input_width);
  sqlite3_bind_int(ins, 9, t->input_height);
  sqlite3_bind_int64(sel, 1, run_id);
  bind_text(sel, 2, t->name);
  const char *expect[] = {t->checkpoint_sha256, t->arch};
  return put_row(s, ins, sel, "storing task", expect, 2, id, err, err_len);
}

static void bind_correct(sqlite3_stmt *st, int i, int correct) {
  if (correct >= 0)
    sqlite3_bind_int(st, i, correct);
  else
    sqlite3_bind_null(st, i);
}

int store_insert_task_ref(store *s, int64_t task_id, int64_t image_id, int top1, int correct,
                          const float *probs, int num_classes, char *err, size_t err_len) {
  if (num_classes < 1 || num_classes > 4096) {
    snprintf(err, err_len, "%s: task output with %d classes", s->path, num_classes);
    return -1;
  }
  /* Explicit little-endian bytes: the file reads the same on any machine. */
  unsigned char blob[4 * 4096];
  for (int c = 0; c < num_classes; c++) {
    uint32_t u;
    memcpy(&u, &probs[c], sizeof u);
    for (int b = 0; b < 4; b++)
      blob[4 * c + b] = (unsigned char)(u >> (8 * b));
  }
  sqlite3_stmt *st = s->insert_task_ref;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, task_id);
  sqlite3_bind_int64(st, 2, image_id);
  sqlite3_bind_int(st, 3, top1);
  bind_correct(st, 4, correct);
  sqlite3_bind_blob(st, 5, blob, 4 * num_classes, SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_fail(s, "inserting a task reference output", err, err_len);
  return 0;
}

int store_insert_task_result(store *s, int64_t task_id, int64_t image_id, int64_t point_id,
                             int top1, int correct, int agree, double kl_bits, char *err,
                             size_t err_len) {
  sqlite3_stmt *st = s->insert_task_result;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, task_id);
  sqlite3_bind_int64(st, 2, image_id);
  sqlite3_bind_int64(st, 3, point_id);
  sqlite3_bind_int(st, 4, top1);
  bind_correct(st, 5, correct);
  sqlite3_bind_int(st, 6, agree);
  sqlite3_bind_double(st, 7, kl_bits);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_fail(s, "inserting a task result", err, err_len);
  return 0;
}

int store_for_each_done_unit(store *s, int64_t run_id,
                             void (*fn)(int64_t image_id, int64_t point_id, void *ctx), void *ctx,
                             char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (prepare(s,
              "SELECT r.image_id, r.point_id FROM results r JOIN points p ON p.id=r.point_id "
              "JOIN codecs c ON c.id=p.codec_id WHERE c.run_id=?",
              &st, err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, run_id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    fn(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), ctx);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return db_fail(s, "reading stored results", err, err_len);
  return 0;
}

/* Running sums for one (point, dataset) group; means skip NULLs as SQL AVG does. */
typedef struct agg {
  int64_t n, n_errors, n_unreachable;
  double sum[9];
  int64_t cnt[9];
} agg;

enum { A_KNOB, A_BPP, A_SBPP, A_PSNR, A_MSE, A_SSIM, A_MSSSIM, A_ENC, A_DEC, A_COUNT };

static void agg_add(agg *a, int k, sqlite3_stmt *st, int col) {
  if (sqlite3_column_type(st, col) == SQLITE_NULL)
    return;
  a->sum[k] += sqlite3_column_double(st, col);
  a->cnt[k]++;
}

static void bind_mean(sqlite3_stmt *st, int i, const agg *a, int k) {
  if (a->cnt[k])
    sqlite3_bind_double(st, i, a->sum[k] / (double)a->cnt[k]);
  else
    sqlite3_bind_null(st, i);
}

static int flush_agg(store *s, sqlite3_stmt *ins, int64_t point_id, int64_t dataset_id,
                     const agg *a, char *err, size_t err_len) {
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  sqlite3_bind_int64(ins, 1, point_id);
  sqlite3_bind_int64(ins, 2, dataset_id);
  sqlite3_bind_int64(ins, 3, a->n);
  sqlite3_bind_int64(ins, 4, a->n_errors);
  sqlite3_bind_int64(ins, 5, a->n_unreachable);
  bind_mean(ins, 6, a, A_KNOB);
  bind_mean(ins, 7, a, A_BPP);
  bind_mean(ins, 8, a, A_SBPP);
  bind_mean(ins, 9, a, A_PSNR);
  if (a->cnt[A_MSE]) {
    double mse = a->sum[A_MSE] / (double)a->cnt[A_MSE];
    sqlite3_bind_double(ins, 10, mse > 0 ? fmin(10.0 * log10(255.0 * 255.0 / mse), 100.0) : 100.0);
  }
  bind_mean(ins, 11, a, A_SSIM);
  bind_mean(ins, 12, a, A_MSSSIM);
  bind_mean(ins, 13, a, A_ENC);
  bind_mean(ins, 14, a, A_DEC);
  if (sqlite3_step(ins) != SQLITE_DONE)
    return db_fail(s, "storing aggregates", err, err_len);
  return 0;
}

/* One (task, point, dataset) group of task rows, in image order. */
typedef struct task_group {
  int *labels, *ref, *dec, *ref_correct;
  double *kl;
  size_t n, cap;
  int labeled, num_classes;
} task_group;

static int task_group_push(task_group *g, int label, int ref, int ref_correct, int dec, double kl) {
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 1024;
    int *l = realloc(g->labels, cap * sizeof *l);
    if (l)
      g->labels = l;
    int *r = realloc(g->ref, cap * sizeof *r);
    if (r)
      g->ref = r;
    int *rc = realloc(g->ref_correct, cap * sizeof *rc);
    if (rc)
      g->ref_correct = rc;
    int *d = realloc(g->dec, cap * sizeof *d);
    if (d)
      g->dec = d;
    double *k = realloc(g->kl, cap * sizeof *k);
    if (k)
      g->kl = k;
    if (!l || !r || !rc || !d || !k)
      return -1;
    g->cap = cap;
  }
  g->labels[g->n] = label;
  g->ref[g->n] = ref;
  g->ref_correct[g->n] = ref_correct;
  g->dec[g->n] = dec;
  g->kl[g->n] = kl;
  g->n++;
  if (label < 0 || label >= g->num_classes)
    g->labeled = 0;
  return 0;
}

static int flush_task_group(store *s, sqlite3_stmt *ins, int64_t task, int64_t point, int64_t ds,
                            const task_group *g, char *err, size_t err_len) {
  metrics_task_stats st;
  if (metrics_task_stats_compute(g->labeled ? g->labels : NULL, g->ref, g->dec, g->kl, g->n,
                                 g->num_classes, &st)) {
    snprintf(err, err_len, "%s: task %lld: a stored prediction is outside its %d classes", s->path,
             (long long)task, g->num_classes);
    return -1;
  }
  double ref_acc = NAN;
  if (g->labeled && g->n) {
    size_t c = 0;
    for (size_t i = 0; i < g->n; i++)
      c += g->ref_correct[i] == 1;
    ref_acc = (double)c / (double)g->n;
  }
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  sqlite3_bind_int64(ins, 1, task);
  sqlite3_bind_int64(ins, 2, point);
  sqlite3_bind_int64(ins, 3, ds);
  sqlite3_bind_int64(ins, 4, (int64_t)st.n);
  bind_real(ins, 5, st.accuracy);
  bind_real(ins, 6, ref_acc);
  bind_real(ins, 7, st.agreement);
  bind_real(ins, 8, st.h_a);
  bind_real(ins, 9, st.si);
  bind_real(ins, 10, st.si_norm);
  bind_real(ins, 11, st.i_y_a);
  bind_real(ins, 12, st.i_y_b);
  bind_real(ins, 13, st.delta_i);
  bind_real(ins, 14, st.mean_kl);
  if (sqlite3_step(ins) != SQLITE_DONE)
    return db_fail(s, "storing task aggregates", err, err_len);
  return 0;
}

/* Task aggregates of a run; called inside store_compute_aggregates' transaction. */
static int compute_task_aggregates(store *s, int64_t run_id, char *err, size_t err_len) {
  sqlite3_stmt *del = NULL, *sel = NULL, *ins = NULL;
  task_group g;
  memset(&g, 0, sizeof g);
  int rc = -1;
  if (prepare(s,
              "DELETE FROM task_aggregates WHERE task_id IN (SELECT id FROM tasks WHERE run_id=?)",
              &del, err, err_len) ||
      prepare(s,
              "SELECT tr.task_id, tr.point_id, i.dataset_id, i.label, rf.top1, rf.correct, "
              "tr.top1, tr.kl, t.num_classes FROM task_results tr "
              "JOIN tasks t ON t.id=tr.task_id JOIN images i ON i.id=tr.image_id "
              "JOIN task_refs rf ON rf.task_id=tr.task_id AND rf.image_id=tr.image_id "
              "WHERE t.run_id=? ORDER BY tr.task_id, tr.point_id, i.dataset_id, i.idx",
              &sel, err, err_len) ||
      prepare(s,
              "INSERT INTO task_aggregates (task_id, point_id, dataset_id, n, accuracy, "
              "ref_accuracy, agreement, h_a, si, si_norm, i_y_a, i_y_b, delta_i, mean_kl) "
              "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
              &ins, err, err_len))
    goto done;
  sqlite3_bind_int64(del, 1, run_id);
  if (sqlite3_step(del) != SQLITE_DONE) {
    db_fail(s, "clearing task aggregates", err, err_len);
    goto done;
  }
  sqlite3_bind_int64(sel, 1, run_id);
  int64_t cur_task = -1, cur_point = -1, cur_ds = -1;
  int step;
  while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
    int64_t task = sqlite3_column_int64(sel, 0), point = sqlite3_column_int64(sel, 1),
            ds = sqlite3_column_int64(sel, 2);
    if (task != cur_task || point != cur_point || ds != cur_ds) {
      if (cur_task >= 0 && flush_task_group(s, ins, cur_task, cur_point, cur_ds, &g, err, err_len))
        goto done;
      g.n = 0;
      g.labeled = 1;
      g.num_classes = sqlite3_column_int(sel, 8);
      cur_task = task;
      cur_point = point;
      cur_ds = ds;
    }
    int label = sqlite3_column_type(sel, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(sel, 3);
    int ref_correct = sqlite3_column_type(sel, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(sel, 5);
    if (task_group_push(&g, label, sqlite3_column_int(sel, 4), ref_correct,
                        sqlite3_column_int(sel, 6), sqlite3_column_double(sel, 7))) {
      snprintf(err, err_len, "%s: out of memory computing task aggregates", s->path);
      goto done;
    }
  }
  if (step != SQLITE_DONE) {
    db_fail(s, "reading task results", err, err_len);
    goto done;
  }
  if (cur_task >= 0 && flush_task_group(s, ins, cur_task, cur_point, cur_ds, &g, err, err_len))
    goto done;
  rc = 0;
done:
  free(g.labels);
  free(g.ref);
  free(g.ref_correct);
  free(g.dec);
  free(g.kl);
  sqlite3_finalize(del);
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  return rc;
}

int store_compute_aggregates(store *s, int64_t run_id, char *err, size_t err_len) {
  sqlite3_stmt *del = NULL, *sel = NULL, *ins = NULL;
  int rc = -1;
  if (store_begin(s, err, err_len))
    return -1;
  if (prepare(s,
              "DELETE FROM aggregates WHERE point_id IN (SELECT p.id FROM points p JOIN codecs c "
              "ON c.id=p.codec_id WHERE c.run_id=?)",
              &del, err, err_len) ||
      prepare(s,
              /* Fixed order (point, dataset, image index): sums are bit-identical however
               * the rows were produced (thread count, resume). */
              "SELECT r.point_id, i.dataset_id, r.error IS NOT NULL, r.target_unreachable, "
              "r.knob, r.bpp, r.stream_bpp, r.psnr, r.mse, r.ssim, r.ms_ssim, r.encode_ms, "
              "r.decode_ms FROM results r JOIN images i ON i.id=r.image_id JOIN points p ON "
              "p.id=r.point_id JOIN codecs c ON c.id=p.codec_id WHERE c.run_id=? "
              "ORDER BY r.point_id, i.dataset_id, i.idx",
              &sel, err, err_len) ||
      prepare(s,
              "INSERT INTO aggregates (point_id, dataset_id, n, n_errors, n_unreachable, "
              "mean_knob, mean_bpp, mean_stream_bpp, mean_psnr, psnr_of_mean_mse, mean_ssim, "
              "mean_ms_ssim, mean_encode_ms, mean_decode_ms) VALUES "
              "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
              &ins, err, err_len))
    goto done;
  sqlite3_bind_int64(del, 1, run_id);
  if (sqlite3_step(del) != SQLITE_DONE) {
    db_fail(s, "clearing aggregates", err, err_len);
    goto done;
  }
  sqlite3_bind_int64(sel, 1, run_id);
  agg a;
  memset(&a, 0, sizeof a);
  int64_t cur_point = -1, cur_ds = -1;
  int step;
  while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
    int64_t point = sqlite3_column_int64(sel, 0), ds = sqlite3_column_int64(sel, 1);
    if (point != cur_point || ds != cur_ds) {
      if (cur_point >= 0 && flush_agg(s, ins, cur_point, cur_ds, &a, err, err_len))
        goto done;
      memset(&a, 0, sizeof a);
      cur_point = point;
      cur_ds = ds;
    }
    if (sqlite3_column_int(sel, 2)) {
      a.n_errors++;
      continue;
    }
    a.n++;
    a.n_unreachable += sqlite3_column_int(sel, 3);
    agg_add(&a, A_KNOB, sel, 4);
    agg_add(&a, A_BPP, sel, 5);
    agg_add(&a, A_SBPP, sel, 6);
    agg_add(&a, A_PSNR, sel, 7);
    agg_add(&a, A_MSE, sel, 8);
    agg_add(&a, A_SSIM, sel, 9);
    agg_add(&a, A_MSSSIM, sel, 10);
    agg_add(&a, A_ENC, sel, 11);
    agg_add(&a, A_DEC, sel, 12);
  }
  if (step != SQLITE_DONE) {
    db_fail(s, "reading results", err, err_len);
    goto done;
  }
  if (cur_point >= 0 && flush_agg(s, ins, cur_point, cur_ds, &a, err, err_len))
    goto done;
  if (compute_task_aggregates(s, run_id, err, err_len))
    goto done;
  rc = store_commit(s, err, err_len);
done:
  sqlite3_finalize(del);
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  if (rc)
    store_rollback(s);
  return rc;
}
