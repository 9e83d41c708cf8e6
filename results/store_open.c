/* store_open.c - opening and identifying a result database, its schema and upgrades, and
 * the transaction calls (results.h). */
#include "results_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base.h"

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

int store_fail(store *s, const char *what, char *err, size_t err_len) {
  const char *hint = write_hint(s->db);
  snprintf(err, err_len, "%s: %s: %s%s%s%s", s->path, what, sqlite3_errmsg(s->db), hint ? " (" : "",
           hint ? hint : "", hint ? ")" : "");
  return -1;
}

int store_exec(store *s, const char *sql, char *err, size_t err_len) {
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

int store_prepare(store *s, const char *sql, sqlite3_stmt **st, char *err, size_t err_len) {
  if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
    return store_fail(s, "preparing a statement", err, err_len);
  return 0;
}

const char *const store_extra_metric_columns[STORE_N_EXTRA_METRICS] = {
    "psnr_y",    "psnr_cb",         "psnr_cr",          "psnr_ycbcr",
    "ciede2000", "butteraugli_max", "butteraugli_3norm"};
const char *const store_v3_aggregates_columns[STORE_N_EXTRA_METRICS] = {
    "mean_psnr_y",    "mean_psnr_cb",         "mean_psnr_cr",          "mean_psnr_ycbcr",
    "mean_ciede2000", "mean_butteraugli_max", "mean_butteraugli_3norm"};

int store_has_column(sqlite3 *db, const char *db_name, const char *table, const char *column) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1, ?2) WHERE name = ?3", -1,
                         &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, db_name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, column, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) > 0 : -1;
  sqlite3_finalize(st);
  return rc;
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
    return store_fail(s, "not a usable SQLite database", err, err_len);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(st);
    return store_fail(s, "not a usable SQLite database", err, err_len);
  }
  *value = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return 0;
}

/* Everything in the schema: tables, indexes, views, triggers. */
static int count_schema_objects(store *s, int *n, char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (store_prepare(s, "SELECT count(*) FROM sqlite_master", &st, err, err_len))
    return -1;
  if (sqlite3_step(st) != SQLITE_ROW) {
    sqlite3_finalize(st);
    return store_fail(s, "reading the schema", err, err_len);
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
 * schema for its version: runs is unchanged since version 1, results until version 3, which
 * appended its metric columns (a file of versions 1 and 2 has the list without them): how a
 * saicbench database is recognised, also one written before the application id. The reference
 * columns come from the embedded schema, run once into an in-memory database. *match: 1 yes,
 * 0 no. */
static int schema_matches(store *s, int version, int *match, char *err, size_t err_len) {
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
      return store_fail(s, "reading the schema", err, err_len);
    }
    if (!strcmp(tables[i], "results") && version < 3) {
      /* A version-1 or -2 file: the reference list up to the first version-3 column. */
      char v2[1024];
      snprintf(v2, sizeof v2, "%s", want);
      char key[64];
      snprintf(key, sizeof key, ",%s,", store_extra_metric_columns[0]);
      char *cut = strstr(v2, key);
      if (cut)
        *cut = '\0';
      ok = !strcmp(v2, have);
    } else {
      ok = !strcmp(want, have);
    }
  }
  sqlite3_close(ref);
  *match = ok;
  return 0;
}

enum { DB_NEW, DB_OURS, DB_LEGACY };

/* Version 3 (called inside the upgrade's transaction, before the schema runs): appends the
 * metric columns to results and aggregates, which keeps every row (the new columns are NULL;
 * a CREATE TABLE IF NOT EXISTS would not add them to an existing table), and drops the two
 * views that show them so that the schema re-creates them with the new columns. */
static int upgrade_to_v3(store *s, char *err, size_t err_len) {
  static const struct {
    const char *table;
    const char *const *columns;
  } add[] = {{"results", store_extra_metric_columns}, {"aggregates", store_v3_aggregates_columns}};
  for (size_t t = 0; t < sizeof add / sizeof add[0]; t++)
    for (int c = 0; c < STORE_N_EXTRA_METRICS; c++) {
      const int has = store_has_column(s->db, "main", add[t].table, add[t].columns[c]);
      if (has < 0)
        return store_fail(s, "reading the schema", err, err_len);
      char sql[160];
      snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s REAL", add[t].table,
               add[t].columns[c]);
      if (!has && store_exec(s, sql, err, err_len))
        return -1;
    }
  return store_exec(s, "DROP VIEW IF EXISTS result_rows; DROP VIEW IF EXISTS point_summary;", err,
                    err_len);
}

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
  if (n_objects > 0 && schema_matches(s, v, &match, err, err_len))
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

/* identify() on one snapshot of the file: its three reads in one read transaction. Concurrent
 * runs starting on one new file create the schema while the others look at it; read one by one,
 * a file caught between its creator's commit and the reads looked like another program's
 * (schema version 0 read before the commit, tables counted after it). The soak test caught it. */
static int identify_snapshot(store *s, int *kind, int *version, char *err, size_t err_len) {
  if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
    return store_fail(s, "not a usable SQLite database", err, err_len);
  const int rc = identify(s, kind, version, err, err_len);
  sqlite3_exec(s->db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
  return rc;
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
  if (store_prepare(s, "SELECT count(*) FROM sqlite_master WHERE type=?1 AND name=?2", &st, err,
                    err_len))
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
        return store_fail(s, "reading the schema", err, err_len);
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
  if (identify_snapshot(s, &kind, &version, err, err_len) ||
      (kind != DB_NEW && check_integrity(s, err, err_len)))
    goto fail;
  /* WAL: readers never block the writer; synchronous=NORMAL keeps every committed
   * transaction across a process crash (kill -9), at most the last ones on power loss. */
  if (store_exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                 err, err_len))
    goto fail;
  int add_missing = 0;
  if (version == STORE_SCHEMA_VERSION && schema_objects_missing(s, &add_missing, err, err_len))
    goto fail;
  if (version < STORE_SCHEMA_VERSION || add_missing || kind != DB_OURS) {
    /* New file, an upgrade, a current file without a later addition (timing_repeats, the
     * views) or one written before the application id: every statement of the schema is
     * CREATE ... IF NOT EXISTS and later versions only add tables, indexes, views and (version
     * 3, upgrade_to_v3) columns at the end of a table, so running it adds what is missing and
     * keeps all rows. */
    char ver[96];
    snprintf(ver, sizeof ver, "PRAGMA user_version=%d; PRAGMA application_id=%d;",
             STORE_SCHEMA_VERSION, (int)STORE_APPLICATION_ID);
    if (store_exec(s, "BEGIN IMMEDIATE", err, err_len))
      goto fail;
    /* Again under the write lock: another run may have created or upgraded the file since the
     * first look (its schema statements then add nothing). */
    if (identify(s, &kind, &version, err, err_len) ||
        (kind != DB_NEW && version < 3 && upgrade_to_v3(s, err, err_len)) ||
        store_exec(s, store_schema_sql, err, err_len) || store_exec(s, ver, err, err_len) ||
        store_exec(s, "COMMIT", err, err_len)) {
      store_rollback(s);
      goto fail;
    }
  }
  s->version = STORE_SCHEMA_VERSION;
  if (store_prepare(
          s,
          "INSERT OR REPLACE INTO results (image_id, point_id, knob, bytes, stream_bytes, "
          "bpp, stream_bpp, mse, psnr, ssim, ms_ssim, encode_ms, decode_ms, n_encodes, "
          "target_unreachable, error, psnr_y, psnr_cb, psnr_cr, psnr_ycbcr, ciede2000, "
          "butteraugli_max, butteraugli_3norm) "
          "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
          &s->insert_result, err, err_len) ||
      store_prepare(s, "UPDATE images SET width=?, height=?, hash=?, error=? WHERE id=?",
                    &s->update_image, err, err_len) ||
      store_prepare(s,
                    "INSERT OR REPLACE INTO task_refs (task_id, image_id, top1, correct, probs) "
                    "VALUES (?,?,?,?,?)",
                    &s->insert_task_ref, err, err_len) ||
      store_prepare(
          s,
          "INSERT OR REPLACE INTO task_results (task_id, image_id, point_id, top1, correct, "
          "agree, kl) VALUES (?,?,?,?,?,?,?)",
          &s->insert_task_result, err, err_len) ||
      store_prepare(
          s,
          "INSERT OR REPLACE INTO timing_repeats (image_id, point_id, encode_ms, decode_ms) "
          "VALUES (?,?,?,?)",
          &s->insert_repeats, err, err_len) ||
      store_prepare(s, "DELETE FROM timing_repeats WHERE image_id=? AND point_id=?",
                    &s->delete_repeats, err, err_len))
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
  if (identify_snapshot(s, &kind, &version, err, err_len))
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

int store_schema_version(const store *s) { return s->version; }

int store_begin(store *s, char *err, size_t err_len) {
  return store_exec(s, "BEGIN IMMEDIATE", err, err_len);
}
int store_commit(store *s, char *err, size_t err_len) {
  return store_exec(s, "COMMIT", err, err_len);
}
int store_rollback(store *s) {
  if (sqlite3_get_autocommit(s->db))
    return 0;
  return sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

sqlite3 *store_db(store *s) { return s->db; }
