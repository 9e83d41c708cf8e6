/* The SQLite store: schema creation, refusals of foreign files, idempotent plan rows,
 * results and aggregates against values computed here by hand. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "results_internal.h"
#include "sb_test.h"

static char dir[256];

static const char *tmp_path(const char *name) {
  static char buf[512];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static void write_file(const char *path, const char *content) {
  FILE *f = fopen(path, "wb");
  if (f) {
    fputs(content, f);
    fclose(f);
  }
}

/* The whole file (malloc()ed, *len bytes), NULL if it cannot be read. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  *len = 0;
  if (!f)
    return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0;
  for (;;) {
    if (*len == cap) {
      unsigned char *g = realloc(buf, cap = cap ? 2 * cap : 65536);
      if (!g)
        break;
      buf = g;
    }
    size_t n = fread(buf + *len, 1, cap - *len, f);
    if (!n)
      break;
    *len += n;
  }
  fclose(f);
  return buf;
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static int exec_file(const char *path, const char *sql) {
  sqlite3 *db;
  int rc = sqlite3_open(path, &db) == SQLITE_OK ? sqlite3_exec(db, sql, 0, 0, 0) : SQLITE_ERROR;
  sqlite3_close(db);
  return rc;
}

static int int_query(const char *path, const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int v = -999;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return v;
}

/* The first column of the first row as text ("" if none), into out. */
static const char *text_query(const char *path, const char *sql, char *out, size_t out_len) {
  sqlite3 *db;
  sqlite3_stmt *st;
  out[0] = '\0';
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      snprintf(out, out_len, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

/* A file that is not saicbench's is refused by both opens, named, and left byte for byte as it
 * was (no WAL switch, no -wal file, no tables added). */
static void refused_untouched(const char *name, const char *sql, const char *want) {
  char err[512] = "", path[512], wal[600];
  snprintf(path, sizeof path, "%s", tmp_path(name));
  snprintf(wal, sizeof wal, "%s-wal", path);
  unlink(path);
  CHECK(exec_file(path, sql) == SQLITE_OK);
  size_t n0, n1;
  unsigned char *before = slurp(path, &n0);
  store *s = NULL;
  CHECK(store_open(path, &s, err, sizeof err) != 0, "%s", name);
  CHECK(strstr(err, want) && strstr(err, name), "%s: %s", name, err);
  store_close(s);
  s = NULL;
  CHECK(store_open_readonly(path, &s, err, sizeof err) != 0, "%s", name);
  CHECK(strstr(err, want) && strstr(err, name), "%s: %s", name, err);
  store_close(s);
  unsigned char *after = slurp(path, &n1);
  CHECK(before && after && n0 == n1 && !memcmp(before, after, n0), "%s changed", name);
  CHECK(!exists(wal), "%s: a -wal file appeared", name);
  CHECK(after && n1 > 19 && after[18] == 1 && after[19] == 1, "%s: switched to WAL", name);
  free(before);
  free(after);
}

/* Schema version 3: the opt-in metric columns. A row with has_extra stores them (NAN as NULL),
 * one without stores NULL; aggregates are their means with NULLs skipped; merge-free readers
 * (results_load) see them. Then the same file made a version-2 file, as saicbench wrote it
 * before (the columns dropped, an old-style view): read-only opens read it as it is, the next
 * read-write open upgrades it, keeping every row and the run's stored checksum valid. */
static void test_version3_metrics(void) {
  char err[512];
  store *s = NULL;
  CHECK(store_open(tmp_path("v3.db"), &s, err, sizeof err) == 0, "%s", err);
  if (!s)
    return;
  store_run_info info = {"t", NULL, "h3", "text", "cmd", "rev", "host", 1, "{}", "0", NULL};
  int64_t run = 0, ds = 0, img[3], codec = 0, pt = 0;
  CHECK(store_create_run(s, &info, &run, err, sizeof err) == 0);
  CHECK(store_put_dataset(s, run, "d", "/x", "plain-folder", "H", 3, 0, "[]", "", &ds, err,
                          sizeof err) == 0);
  for (int i = 0; i < 3; i++)
    CHECK(store_put_image(s, ds, i,
                          i == 0   ? "a"
                          : i == 1 ? "b"
                                   : "c",
                          -1, &img[i], err, sizeof err) == 0);
  CHECK(store_put_codec(s, run, "jpeg", "jpeg", "v", "{}", "quality", NULL, &codec, err,
                        sizeof err) == 0);
  CHECK(store_put_point(s, codec, "knob", 50, &pt, err, sizeof err) == 0);
  CHECK(store_begin(s, err, sizeof err) == 0);
  store_result r;
  memset(&r, 0, sizeof r);
  r.point_id = pt;
  r.knob = 50;
  r.bpp = 1;
  r.mse = 1;
  r.psnr = 48;
  r.ssim = r.ms_ssim = NAN;
  /* img 0: every extra metric; img 1: has_extra with Butteraugli undefined (NAN); img 2: none. */
  r.image_id = img[0];
  r.has_extra = 1;
  r.extra = (store_extra_metrics){40.0, 44.0, 45.0, 41.125, 1.5, 2.5, 1.25};
  CHECK(store_insert_result(s, &r, err, sizeof err) == 0, "%s", err);
  r.image_id = img[1];
  r.extra = (store_extra_metrics){30.0, 34.0, 35.0, 31.125, 2.5, NAN, NAN};
  CHECK(store_insert_result(s, &r, err, sizeof err) == 0, "%s", err);
  r.image_id = img[2];
  r.has_extra = 0;
  r.extra = (store_extra_metrics){1, 1, 1, 1, 1, 1, 1}; /* ignored without has_extra */
  CHECK(store_insert_result(s, &r, err, sizeof err) == 0, "%s", err);
  CHECK(store_commit(s, err, sizeof err) == 0);
  CHECK(store_compute_aggregates(s, run, err, sizeof err) == 0, "%s", err);
  CHECK(store_set_run_status(s, run, "complete", err, sizeof err) == 0, "%s", err);
  store_close(s);

  char db[512]; /* tmp_path's buffer is reused below */
  snprintf(db, sizeof db, "%s", tmp_path("v3.db"));
  char q[256];
  snprintf(q, sizeof q,
           "SELECT count(*) FROM results WHERE image_id=%lld AND psnr_y=40 AND psnr_cb=44 AND "
           "psnr_cr=45 AND psnr_ycbcr=41.125 AND ciede2000=1.5 AND butteraugli_max=2.5 AND "
           "butteraugli_3norm=1.25",
           (long long)img[0]);
  CHECK(int_query(db, q) == 1);
  snprintf(q, sizeof q,
           "SELECT count(*) FROM results WHERE image_id=%lld AND psnr_y=30 AND "
           "butteraugli_max IS NULL AND butteraugli_3norm IS NULL",
           (long long)img[1]);
  CHECK(int_query(db, q) == 1);
  snprintf(q, sizeof q,
           "SELECT count(*) FROM results WHERE image_id=%lld AND coalesce(psnr_y, psnr_cb, "
           "psnr_cr, psnr_ycbcr, ciede2000, butteraugli_max, butteraugli_3norm) IS NULL",
           (long long)img[2]);
  CHECK(int_query(db, q) == 1);
  /* Means over the rows that have a value: (40+30)/2, (1.5+2.5)/2, Butteraugli from img 0. */
  CHECK(int_query(db, "SELECT count(*) FROM aggregates WHERE n=3 AND mean_psnr_y=35 AND "
                      "mean_psnr_cb=39 AND mean_psnr_ycbcr=36.125 AND mean_ciede2000=2 AND "
                      "mean_butteraugli_max=2.5 AND mean_butteraugli_3norm=1.25") == 1);
  CHECK(int_query(db, "SELECT count(*) FROM result_rows WHERE psnr_ycbcr IS NOT NULL") == 2);
  CHECK(int_query(db, "SELECT count(*) FROM point_summary WHERE mean_ciede2000=2") == 1);
  CHECK(store_open_readonly(db, &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    results_data d;
    CHECK(results_load(s, run, &d, err, sizeof err) == 0, "%s", err);
    CHECK(d.n_datasets == 1 && d.datasets[0].n_rows == 1);
    if (d.n_datasets == 1 && d.datasets[0].n_rows == 1) {
      const store_extra_metrics *x = &d.datasets[0].rows[0].extra;
      CHECK(x->psnr_y == 35 && x->psnr_cr == 40 && x->ciede2000 == 2 &&
            x->butteraugli_3norm == 1.25);
    }
    results_data_free(&d);
    store_close(s);
  }
  char want_hex[65] = "";
  text_query(db, "SELECT sha256 FROM run_checksums", want_hex, sizeof want_hex);
  int64_t want_rows = int_query(db, "SELECT n_rows FROM run_checksums");

  /* The extension rule: a NULL extension column hashes like an absent one, a value does not. */
  CHECK(store_open(db, &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    char hex[65];
    int verified = 0;
    CHECK(results_verify_run(s, run, &verified, err, sizeof err) == 0 && verified == 1, "%s", err);
    CHECK(sqlite3_exec(store_db(s),
                       "SAVEPOINT t; UPDATE results SET ciede2000 = 9 WHERE "
                       "ciede2000 IS NULL",
                       NULL, NULL, NULL) == SQLITE_OK);
    CHECK(results_run_checksum(s, run, hex, NULL, err, sizeof err) == 0 && strcmp(hex, want_hex));
    CHECK(sqlite3_exec(store_db(s), "ROLLBACK TO t; RELEASE t", NULL, NULL, NULL) == SQLITE_OK);
    store_close(s);
  }

  /* Made version 2: without the run's extra values (a version-2 run has none), the columns,
   * the new views; with an old-style view in their place. */
  CHECK(exec_file(db, "UPDATE results SET psnr_y=NULL, psnr_cb=NULL, psnr_cr=NULL, "
                      "psnr_ycbcr=NULL, ciede2000=NULL, butteraugli_max=NULL, "
                      "butteraugli_3norm=NULL;") == SQLITE_OK);
  CHECK(store_open(db, &s, err, sizeof err) == 0, "%s", err);
  if (s) { /* recompute: means of nothing are NULL; checksum of a run without extras */
    CHECK(store_compute_aggregates(s, run, err, sizeof err) == 0, "%s", err);
    CHECK(store_seal_run(s, run, err, sizeof err) == 0, "%s", err);
    store_close(s);
  }
  text_query(db, "SELECT sha256 FROM run_checksums", want_hex, sizeof want_hex);
  want_rows = int_query(db, "SELECT n_rows FROM run_checksums");
  char v2[2048] = "DROP VIEW result_rows; DROP VIEW point_summary; ";
  for (int i = 0; i < STORE_N_EXTRA_METRICS; i++) {
    size_t n = strlen(v2);
    snprintf(v2 + n, sizeof v2 - n,
             "ALTER TABLE results DROP COLUMN %s; ALTER TABLE aggregates DROP COLUMN %s; ",
             store_extra_metric_columns[i], store_v3_aggregates_columns[i]);
  }
  size_t n = strlen(v2);
  snprintf(v2 + n, sizeof v2 - n,
           "CREATE VIEW result_rows AS SELECT image_id, point_id, psnr FROM results; "
           "PRAGMA user_version=2; PRAGMA journal_mode=DELETE;");
  CHECK(exec_file(db, v2) == SQLITE_OK, "%s", v2);
  CHECK(int_query(db, "SELECT count(*) FROM pragma_table_info('results') WHERE "
                      "name='psnr_y'") == 0);
  size_t n_before, n_after;
  unsigned char *before = slurp(db, &n_before);
  CHECK(store_open_readonly(db, &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    CHECK(store_schema_version(s) == 2);
    results_data d;
    CHECK(results_load(s, run, &d, err, sizeof err) == 0, "%s", err);
    CHECK(d.n_datasets == 1 && d.datasets[0].n_rows == 1 && d.datasets[0].rows[0].psnr == 48 &&
          isnan(d.datasets[0].rows[0].extra.psnr_y) &&
          isnan(d.datasets[0].rows[0].extra.butteraugli_3norm));
    results_data_free(&d);
    int verified = 0;
    CHECK(results_verify_run(s, run, &verified, err, sizeof err) == 0 && verified == 1, "%s", err);
    store_close(s);
  }
  unsigned char *after = slurp(db, &n_after);
  CHECK(before && after && n_before == n_after && !memcmp(before, after, n_before));
  /* The same file claiming version 3 is not saicbench's: version 3's results have the columns. */
  FILE *f = fopen(tmp_path("v3claim.db"), "wb");
  CHECK(f && after && fwrite(after, 1, n_after, f) == n_after);
  if (f)
    fclose(f);
  free(before);
  free(after);
  CHECK(exec_file(tmp_path("v3claim.db"), "PRAGMA user_version=3;") == SQLITE_OK);
  CHECK(store_open_readonly(tmp_path("v3claim.db"), &s, err, sizeof err) != 0 &&
            strstr(err, "not a saicbench database") && strstr(err, "v3claim.db"),
        "%s", err);
  CHECK(store_open(tmp_path("v3claim.db"), &s, err, sizeof err) != 0 &&
            strstr(err, "not a saicbench database"),
        "%s", err);

  /* The upgrade: version 3, the columns at the end (NULL), the views re-created with them, every
   * row kept, the checksum stored before still matching. */
  CHECK(store_open(db, &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    CHECK(store_schema_version(s) == STORE_SCHEMA_VERSION);
    int verified = 0;
    char hex[65];
    int64_t rows = 0;
    CHECK(results_verify_run(s, run, &verified, err, sizeof err) == 0 && verified == 1, "%s", err);
    CHECK(results_run_checksum(s, run, hex, &rows, err, sizeof err) == 0 &&
          !strcmp(hex, want_hex) && rows == want_rows);
    store_close(s);
  }
  CHECK(int_query(db, "PRAGMA user_version") == STORE_SCHEMA_VERSION);
  CHECK(int_query(db, "SELECT count(*) FROM results") == 3);
  CHECK(int_query(db, "SELECT count(*) FROM results WHERE psnr = 48 AND psnr_y IS NULL AND "
                      "butteraugli_3norm IS NULL") == 3);
  CHECK(int_query(db, "SELECT max(cid) FROM pragma_table_info('results') WHERE "
                      "name='butteraugli_3norm'") ==
        int_query(db, "SELECT count(*) - 1 FROM pragma_table_info('results')"));
  CHECK(int_query(db, "SELECT count(*) FROM pragma_table_info('result_rows') WHERE "
                      "name IN ('psnr_y', 'ciede2000', 'butteraugli_3norm')") == 3);
  CHECK(int_query(db, "SELECT count(*) FROM pragma_table_info('point_summary') WHERE "
                      "name = 'mean_psnr_ycbcr'") == 1);
  CHECK(int_query(db, "SELECT count(*) FROM result_rows") == 3);
  /* Upgraded, it takes version-3 rows again. */
  CHECK(store_open(db, &s, err, sizeof err) == 0, "%s", err);
  if (s) {
    CHECK(store_begin(s, err, sizeof err) == 0);
    r.image_id = img[2];
    r.has_extra = 1;
    r.extra = (store_extra_metrics){20, NAN, NAN, NAN, NAN, NAN, NAN};
    CHECK(store_insert_result(s, &r, err, sizeof err) == 0, "%s", err);
    CHECK(store_commit(s, err, sizeof err) == 0);
    store_close(s);
  }
  CHECK(int_query(db, "SELECT count(*) FROM results WHERE psnr_y = 20") == 1);
}

int main(void) {
  char err[512];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/store_test_XXXXXX", tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  store *s = NULL;

  /* A text file is not a database: refused, named, and left untouched. */
  write_file(tmp_path("notes.db"), "these are my notes, not a database\n");
  CHECK(store_open(tmp_path("notes.db"), &s, err, sizeof err) != 0);
  CHECK(strstr(err, "notes.db") != NULL, "%s", err);
  FILE *f = fopen(tmp_path("notes.db"), "rb");
  char line[64] = "";
  CHECK(f && fgets(line, sizeof line, f) && !strncmp(line, "these are my notes", 18));
  if (f)
    fclose(f);

  /* Someone else's SQLite database is not modified, whatever its user_version: identified by
   * application id and schema before any write (the WAL switch included). */
  refused_untouched("other.db", "CREATE TABLE t(x); INSERT INTO t VALUES (1);",
                    "not a saicbench database");
  refused_untouched("foreign1.db", "PRAGMA user_version=1; CREATE TABLE foo(x);",
                    "not a saicbench database");
  refused_untouched("foreign2.db", "PRAGMA user_version=2; CREATE TABLE foo(x);",
                    "not a saicbench database");
  refused_untouched("negative.db", "PRAGMA user_version=-1; CREATE TABLE foo(x);",
                    "not a saicbench database");
  refused_untouched("version7.db", "PRAGMA user_version=7;", "not a saicbench database");
  refused_untouched("otherapp.db", "PRAGMA application_id=1234; PRAGMA user_version=2;",
                    "application id 0x000004d2");
  /* Tables named like saicbench's but with other columns. */
  refused_untouched("lookalike.db",
                    "PRAGMA user_version=2; CREATE TABLE runs(id INTEGER PRIMARY KEY, name); "
                    "CREATE TABLE results(x);",
                    "not a saicbench database");

  /* A newer schema of saicbench's own is refused as newer. */
  char newer_sql[160];
  snprintf(newer_sql, sizeof newer_sql, "PRAGMA application_id=%d; PRAGMA user_version=99;",
           (int)STORE_APPLICATION_ID);
  refused_untouched("future.db", newer_sql, "newer than this saicbench");
  /* A saicbench id with an unknown version (0, negative) is refused too. */
  snprintf(newer_sql, sizeof newer_sql, "PRAGMA application_id=%d; PRAGMA user_version=-3;",
           (int)STORE_APPLICATION_ID);
  refused_untouched("ours_negative.db", newer_sql, "not a saicbench database");

  /* An empty file is initialised for writing (with the application id) but is no database to
   * read. */
  CHECK(exec_file(tmp_path("empty.db"), "") == SQLITE_OK);
  CHECK(store_open_readonly(tmp_path("empty.db"), &s, err, sizeof err) != 0);
  CHECK(strstr(err, "not a saicbench database") && strstr(err, "empty.db"), "%s", err);
  CHECK(store_open(tmp_path("empty.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(int_query(tmp_path("empty.db"), "PRAGMA application_id") == STORE_APPLICATION_ID);
  CHECK(int_query(tmp_path("empty.db"), "PRAGMA user_version") == STORE_SCHEMA_VERSION);
  s = NULL;

  /* A fresh store. */
  CHECK(store_open(tmp_path("r.db"), &s, err, sizeof err) == 0, "%s", err);
  if (!s)
    return sb_test_status("test_store");
  store_run_info info = {"t", NULL, "hash1", "text", "cmd", "rev", "host", 2, "{}", "0", NULL};
  int64_t run = 0, run2 = 0, ds = 0, ds2 = 0, img[3], codec = 0, codec2 = 0, p1 = 0, p2 = 0,
          p1b = 0;
  CHECK(store_create_run(s, &info, &run, err, sizeof err) == 0 && run > 0);
  CHECK(store_find_resumable_run(s, "hash1", NULL, &run2, err, sizeof err) == 0 && run2 == run);
  /* A shard's run is only resumed by the same shard. */
  CHECK(store_find_resumable_run(s, "hash1", "1/3", &run2, err, sizeof err) == 0 && run2 == 0);
  CHECK(store_find_resumable_run(s, "other", NULL, &run2, err, sizeof err) == 0 && run2 == 0);
  CHECK(store_put_dataset(s, run, "d", "/x", "plain-folder", "H", 3, 0, "[]", "", &ds, err,
                          sizeof err) == 0);
  CHECK(store_put_dataset(s, run, "d", "/x", "plain-folder", "H", 3, 0, "[]", "", &ds2, err,
                          sizeof err) == 0 &&
        ds2 == ds);
  /* Same name, other content: resuming must refuse. */
  CHECK(store_put_dataset(s, run, "d", "/x", "plain-folder", "CHANGED", 3, 0, "[]", "", &ds2, err,
                          sizeof err) != 0);
  CHECK(strstr(err, "differs") != NULL, "%s", err);
  for (int i = 0; i < 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "im%d", i);
    CHECK(store_put_image(s, ds, i, name, -1, &img[i], err, sizeof err) == 0);
  }
  CHECK(store_put_codec(s, run, "jpeg", "jpeg", "v", "{}", "quality", NULL, &codec, err,
                        sizeof err) == 0);
  CHECK(store_put_codec(s, run, "jpeg", "jpeg", "v", "{}", "quality", NULL, &codec2, err,
                        sizeof err) == 0 &&
        codec2 == codec);
  CHECK(store_put_codec(s, run, "jpeg", "jpeg", "v", "{\"a\":1}", "quality", NULL, &codec2, err,
                        sizeof err) != 0);
  CHECK(store_put_point(s, codec, "knob", 50, &p1, err, sizeof err) == 0);
  CHECK(store_put_point(s, codec, "bpp", 0.5, &p2, err, sizeof err) == 0 && p2 != p1);
  CHECK(store_put_point(s, codec, "knob", 50, &p1b, err, sizeof err) == 0 && p1b == p1);

  /* Results: two good rows and one error for point 1; one unreachable row for point 2. */
  CHECK(store_begin(s, err, sizeof err) == 0);
  store_result r = {img[0], p1, 50, 100, 80,   0.8,  0.64, 4.0, 0, 0.9, NAN,
                    1,      2,  1,  0,   NULL, NULL, NULL, 0,   0, 0,   {0, 0, 0, 0, 0, 0, 0}};
  r.psnr = 10 * log10(255.0 * 255.0 / 4.0);
  CHECK(store_insert_result(s, &r, err, sizeof err) == 0);
  r.image_id = img[1];
  r.mse = 16.0;
  r.psnr = 10 * log10(255.0 * 255.0 / 16.0);
  r.ssim = 0.7;
  r.bpp = 1.2;
  /* With timing repeats (values that need 15, 16 and 17 digits to read back exactly). */
  double enc3[3] = {0.1 + 0.2, 1.0 / 3.0, 2.5}, dec2[2] = {1e-5, 12.0};
  r.encode_all = enc3;
  r.n_encode_all = 3;
  r.decode_all = dec2;
  r.n_decode_all = 2;
  CHECK(store_insert_result(s, &r, err, sizeof err) == 0);
  r.encode_all = r.decode_all = NULL;
  r.n_encode_all = r.n_decode_all = 0;
  /* An error row never has repeats, even when given some. */
  store_result e = {img[2], p1,
                    0,      0,
                    0,      0,
                    0,      0,
                    0,      0,
                    0,      0,
                    0,      0,
                    0,      "cannot read",
                    enc3,   dec2,
                    3,      2,
                    0,      {0, 0, 0, 0, 0, 0, 0}};
  CHECK(store_insert_result(s, &e, err, sizeof err) == 0);
  /* A replaced row does not keep the repeats of the row it replaces. */
  store_result u = {img[0], p2, 1, 90, 70,   0.9,  0.7,  9.0, 38.6, 0.8, NAN,
                    1,      1,  1, 1,  NULL, enc3, dec2, 3,   2,    0,   {0, 0, 0, 0, 0, 0, 0}};
  CHECK(store_insert_result(s, &u, err, sizeof err) == 0);
  u.encode_all = u.decode_all = NULL;
  u.n_encode_all = u.n_decode_all = 0;
  CHECK(store_insert_result(s, &u, err, sizeof err) == 0);
  CHECK(store_update_image(s, img[2], 0, 0, NULL, "cannot read", err, sizeof err) == 0);
  CHECK(store_commit(s, err, sizeof err) == 0);

  int n_done = 0;
  CHECK(store_compute_aggregates(s, run, err, sizeof err) == 0);
  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(store_db(s),
                           "SELECT n, n_errors, n_unreachable, mean_bpp, mean_psnr, "
                           "psnr_of_mean_mse, mean_ssim, mean_ms_ssim FROM aggregates WHERE "
                           "point_id=?",
                           -1, &st, NULL) == SQLITE_OK);
  sqlite3_bind_int64(st, 1, p1);
  CHECK(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 2 && sqlite3_column_int(st, 1) == 1);
  CHECK(sqlite3_column_int(st, 2) == 0);
  CHECK(fabs(sqlite3_column_double(st, 3) - 1.0) < 1e-12);
  double want_mean_psnr = (10 * log10(255.0 * 255.0 / 4.0) + 10 * log10(255.0 * 255.0 / 16.0)) / 2;
  CHECK(fabs(sqlite3_column_double(st, 4) - want_mean_psnr) < 1e-9);
  CHECK(fabs(sqlite3_column_double(st, 5) - 10 * log10(255.0 * 255.0 / 10.0)) < 1e-9);
  CHECK(fabs(sqlite3_column_double(st, 6) - 0.8) < 1e-12);
  CHECK(sqlite3_column_type(st, 7) == SQLITE_NULL);
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, p2);
  CHECK(sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 2) == 1);
  sqlite3_finalize(st);
  (void)n_done;

  CHECK(store_set_run_status(s, run, "complete", err, sizeof err) == 0);
  CHECK(store_find_resumable_run(s, "hash1", NULL, &run2, err, sizeof err) == 0 && run2 == 0);

  /* The content checksum: stored with 'complete', verified; a changed value or a removed row is
   * caught; a run without a stored checksum (written before them) is accepted unverified. */
  {
    char hex[65];
    int64_t rows = 0;
    int verified = -1;
    CHECK(results_run_checksum(s, run, hex, &rows, err, sizeof err) == 0 && rows > 0, "%s", err);
    CHECK(results_verify_run(s, run, &verified, err, sizeof err) == 0 && verified == 1, "%s", err);
    const char *edits[] = {"UPDATE results SET psnr = psnr + 1e-9 WHERE psnr IS NOT NULL",
                           "DELETE FROM timing_repeats", "UPDATE images SET label = 7",
                           "UPDATE aggregates SET n = n + 1"};
    for (int i = 0; i < 4; i++) {
      CHECK(sqlite3_exec(store_db(s), "SAVEPOINT t", NULL, NULL, NULL) == SQLITE_OK);
      CHECK(sqlite3_exec(store_db(s), edits[i], NULL, NULL, NULL) == SQLITE_OK, "%s", edits[i]);
      err[0] = '\0';
      CHECK(results_verify_run(s, run, &verified, err, sizeof err) != 0 &&
                strstr(err, "does not match the checksum"),
            "%s: %s", edits[i], err);
      CHECK(sqlite3_exec(store_db(s), "ROLLBACK TO t; RELEASE t", NULL, NULL, NULL) == SQLITE_OK);
    }
    CHECK(results_verify_run(s, run, &verified, err, sizeof err) == 0 && verified == 1, "%s", err);
    CHECK(sqlite3_exec(store_db(s), "SAVEPOINT t; DELETE FROM run_checksums", NULL, NULL, NULL) ==
          SQLITE_OK);
    CHECK(results_verify_run(s, run, &verified, err, sizeof err) == 0 && verified == 0, "%s", err);
    CHECK(sqlite3_exec(store_db(s), "ROLLBACK TO t; RELEASE t", NULL, NULL, NULL) == SQLITE_OK);
  }
  store_close(s);

  /* One timing_repeats row: JSON arrays in the order given, each number read back exactly. */
  {
    char q[256], text[256];
    CHECK(int_query(tmp_path("r.db"), "SELECT count(*) FROM timing_repeats") == 1);
    snprintf(q, sizeof q,
             "SELECT encode_ms FROM timing_repeats WHERE image_id=%lld AND point_id=%lld",
             (long long)img[1], (long long)p1);
    text_query(tmp_path("r.db"), q, text, sizeof text);
    CHECK(!strcmp(text, "[0.30000000000000004,0.3333333333333333,2.5]"), "%s", text);
    text_query(tmp_path("r.db"), "SELECT decode_ms FROM timing_repeats", text, sizeof text);
    CHECK(!strcmp(text, "[1e-05,12]"), "%s", text);
  }

  /* A version-2 file without timing_repeats (written before it): a read-only open neither
   * needs nor adds it; the next read-write open adds it, keeping the version and the rows. */
  CHECK(exec_file(tmp_path("r.db"), "DROP TABLE timing_repeats;") == SQLITE_OK);
  CHECK(store_open_readonly(tmp_path("r.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(int_query(tmp_path("r.db"), "SELECT count(*) FROM sqlite_master WHERE "
                                    "name='timing_repeats'") == 0);
  CHECK(store_open(tmp_path("r.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(int_query(tmp_path("r.db"), "SELECT count(*) FROM timing_repeats") == 0);
  CHECK(int_query(tmp_path("r.db"), "PRAGMA user_version") == STORE_SCHEMA_VERSION);
  CHECK(int_query(tmp_path("r.db"), "SELECT count(*) FROM results") == 4);
  /* So does a missing index. */
  CHECK(exec_file(tmp_path("r.db"), "DROP INDEX results_point;") == SQLITE_OK);
  CHECK(store_open(tmp_path("r.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(int_query(tmp_path("r.db"), "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                                    "name='results_point'") == 1);

  /* Reopen: schema kept, data kept; read-only open works and refuses a text file. */
  CHECK(store_open(tmp_path("r.db"), &s, err, sizeof err) == 0);
  store_close(s);
  CHECK(store_open_readonly(tmp_path("r.db"), &s, err, sizeof err) == 0);
  store_close(s);
  CHECK(int_query(tmp_path("r.db"), "PRAGMA application_id") == STORE_APPLICATION_ID);

  /* A database written before the application id (id 0, saicbench's tables): read as it is,
   * and given the id by the next write. */
  CHECK(exec_file(tmp_path("r.db"), "PRAGMA application_id=0; PRAGMA journal_mode=DELETE;") ==
        SQLITE_OK);
  CHECK(int_query(tmp_path("r.db"), "PRAGMA application_id") == 0);
  size_t n_old, n_now;
  unsigned char *old_bytes = slurp(tmp_path("r.db"), &n_old);
  CHECK(store_open_readonly(tmp_path("r.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  unsigned char *now_bytes = slurp(tmp_path("r.db"), &n_now);
  CHECK(old_bytes && now_bytes && n_old == n_now && !memcmp(old_bytes, now_bytes, n_old));
  free(old_bytes);
  free(now_bytes);
  CHECK(store_open(tmp_path("r.db"), &s, err, sizeof err) == 0, "%s", err);
  store_close(s);
  CHECK(int_query(tmp_path("r.db"), "PRAGMA application_id") == STORE_APPLICATION_ID);
  CHECK(int_query(tmp_path("r.db"), "SELECT count(*) FROM results") == 4);

  /* A damaged file (one b-tree page overwritten) is refused by both opens, named. */
  {
    size_t n;
    unsigned char *bytes = slurp(tmp_path("r.db"), &n);
    int page_size = int_query(tmp_path("r.db"), "PRAGMA page_size");
    int root = int_query(tmp_path("r.db"), "SELECT rootpage FROM sqlite_master WHERE "
                                           "name='aggregates'");
    CHECK(bytes && page_size > 0 && root > 1 && (size_t)root * (size_t)page_size <= n);
    if (bytes && page_size > 0 && root > 1 && (size_t)root * (size_t)page_size <= n) {
      memset(bytes + (size_t)(root - 1) * (size_t)page_size, 0x5a, (size_t)page_size);
      FILE *out = fopen(tmp_path("damaged.db"), "wb");
      CHECK(out && fwrite(bytes, 1, n, out) == n);
      if (out)
        fclose(out);
      CHECK(store_open_readonly(tmp_path("damaged.db"), &s, err, sizeof err) != 0);
      CHECK(strstr(err, "damaged") && strstr(err, "damaged.db"), "%s", err);
      CHECK(store_open(tmp_path("damaged.db"), &s, err, sizeof err) != 0);
      CHECK(strstr(err, "quick_check"), "%s", err);
    }
    free(bytes);
  }
  CHECK(store_open_readonly(tmp_path("notes.db"), &s, err, sizeof err) != 0);
  CHECK(store_open_readonly(tmp_path("missing.db"), &s, err, sizeof err) != 0);
  CHECK(strstr(err, "missing.db") != NULL, "%s", err);

  test_version3_metrics();

  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "warning: could not remove %s\n", dir);
  return sb_test_status("test_store");
}
