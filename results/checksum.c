/* checksum.c - the content checksum of a complete run (results.h: run_checksums in schema.sql).
 *
 * SHA-256 over the run's rows, table by table in a fixed order and each table in primary-key
 * order, every value written with its type: 'n' (NULL); 'i' + 8 bytes (integer, little-endian);
 * 'f' + 8 bytes (IEEE double bits, little-endian); 't' or 'b' + 4-byte length + bytes (text,
 * blob); each table starts with "T" + its name + NUL, each row ends with 'r'. Tables missing
 * from the file (a version-1 database has no task tables) contribute nothing.
 *
 * The columns schema version 3 appended to results and aggregates are "extension" columns: one
 * contributes only when it is not NULL, as 'c' + its name + NUL + the value as above. A row with
 * all of them NULL hashes exactly as before version 3, so the checksum a run got when it
 * completed stays valid after its file is upgraded (which adds the columns, NULL); and a value
 * cannot move to another extension column unnoticed. */
#include "results_internal.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "base.h"

#define RUN_POINTS                                                                                 \
  "(SELECT p.id FROM points p JOIN codecs c ON c.id = p.codec_id WHERE c.run_id = ?1)"
#define RUN_TASKS "(SELECT id FROM tasks WHERE run_id = ?1)"
#define RUN_IMAGES                                                                                 \
  "(SELECT i.id FROM images i JOIN datasets d ON d.id = i.dataset_id WHERE d.run_id = ?1)"

static const struct {
  const char *table, *where, *order;
  const char *const *extension; /* STORE_N_EXTRA_METRICS names, or NULL */
} k_parts[] = {
    {"datasets", "run_id = ?1", "id", NULL},
    {"images", "dataset_id IN (SELECT id FROM datasets WHERE run_id = ?1)", "id", NULL},
    {"codecs", "run_id = ?1", "id", NULL},
    {"points", "codec_id IN (SELECT id FROM codecs WHERE run_id = ?1)", "id", NULL},
    {"results", "point_id IN " RUN_POINTS, "image_id, point_id", store_extra_metric_columns},
    {"timing_repeats", "point_id IN " RUN_POINTS, "image_id, point_id", NULL},
    {"thumbnails", "image_id IN " RUN_IMAGES, "image_id, point_id", NULL},
    {"aggregates", "point_id IN " RUN_POINTS, "point_id, dataset_id", store_v3_aggregates_columns},
    {"tasks", "run_id = ?1", "id", NULL},
    {"task_refs", "task_id IN " RUN_TASKS, "task_id, image_id", NULL},
    {"task_results", "task_id IN " RUN_TASKS, "task_id, image_id, point_id", NULL},
    {"task_aggregates", "task_id IN " RUN_TASKS, "task_id, point_id, dataset_id", NULL},
};

/* Whether column c of st is one of the part's extension columns. */
static int is_extension(const char *const *extension, sqlite3_stmt *st, int c) {
  const char *name = sqlite3_column_name(st, c);
  for (int i = 0; extension && name && i < STORE_N_EXTRA_METRICS; i++)
    if (!strcmp(name, extension[i]))
      return 1;
  return 0;
}

static int table_exists(sqlite3 *db, const char *name, int *exists) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1,
                         &st, NULL) != SQLITE_OK)
    return -1;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *exists = rc == SQLITE_ROW;
  sqlite3_finalize(st);
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static void put_u64(EVP_MD_CTX *ctx, char tag, uint64_t v) {
  unsigned char b[9];
  b[0] = (unsigned char)tag;
  for (int i = 0; i < 8; i++)
    b[1 + i] = (unsigned char)(v >> (8 * i));
  EVP_DigestUpdate(ctx, b, sizeof b);
}

static void put_bytes(EVP_MD_CTX *ctx, char tag, const void *p, int n) {
  unsigned char b[5];
  b[0] = (unsigned char)tag;
  for (int i = 0; i < 4; i++)
    b[1 + i] = (unsigned char)((uint32_t)n >> (8 * i));
  EVP_DigestUpdate(ctx, b, sizeof b);
  if (n > 0)
    EVP_DigestUpdate(ctx, p, (size_t)n);
}

/* Hashes the rows of one part; adds their count to *rows. */
static int hash_part(sqlite3 *db, EVP_MD_CTX *ctx, int part, int64_t run_id, int64_t *rows,
                     char *err, size_t err_len) {
  int exists = 0;
  if (table_exists(db, k_parts[part].table, &exists))
    return sb_errf(err, err_len, "checksum: cannot read the schema: %s", sqlite3_errmsg(db));
  if (!exists)
    return 0;
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE %s ORDER BY %s", k_parts[part].table,
           k_parts[part].where, k_parts[part].order);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "checksum: cannot read %s: %s", k_parts[part].table,
                   sqlite3_errmsg(db));
  sqlite3_bind_int64(st, 1, run_id);
  EVP_DigestUpdate(ctx, "T", 1);
  EVP_DigestUpdate(ctx, k_parts[part].table, strlen(k_parts[part].table) + 1);
  const int ncol = sqlite3_column_count(st);
  unsigned char ext[64] = {0}; /* ext[c]: column c is an extension column */
  if (ncol > (int)sizeof ext) {
    sqlite3_finalize(st);
    return sb_errf(err, err_len, "checksum: %s has %d columns, more than saicbench's",
                   k_parts[part].table, ncol);
  }
  for (int c = 0; c < ncol; c++)
    ext[c] = (unsigned char)is_extension(k_parts[part].extension, st, c);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    for (int c = 0; c < ncol; c++) {
      if (ext[c]) {
        if (sqlite3_column_type(st, c) == SQLITE_NULL)
          continue;
        const char *name = sqlite3_column_name(st, c);
        EVP_DigestUpdate(ctx, "c", 1);
        EVP_DigestUpdate(ctx, name, strlen(name) + 1);
      }
      switch (sqlite3_column_type(st, c)) {
      case SQLITE_INTEGER: put_u64(ctx, 'i', (uint64_t)sqlite3_column_int64(st, c)); break;
      case SQLITE_FLOAT: {
        double d = sqlite3_column_double(st, c);
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        put_u64(ctx, 'f', u);
        break;
      }
      case SQLITE_TEXT:
        put_bytes(ctx, 't', sqlite3_column_text(st, c), sqlite3_column_bytes(st, c));
        break;
      case SQLITE_BLOB:
        put_bytes(ctx, 'b', sqlite3_column_blob(st, c), sqlite3_column_bytes(st, c));
        break;
      default: EVP_DigestUpdate(ctx, "n", 1); break;
      }
    }
    EVP_DigestUpdate(ctx, "r", 1);
    (*rows)++;
  }
  if (rc != SQLITE_DONE) {
    sb_errf(err, err_len, "checksum: cannot read %s: %s", k_parts[part].table, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

int results_run_checksum(store *s, int64_t run_id, char hex[65], int64_t *n_rows, char *err,
                         size_t err_len) {
  sqlite3 *db = store_db(s);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
    EVP_MD_CTX_free(ctx);
    return sb_errf(err, err_len, "checksum: SHA-256 unavailable");
  }
  int64_t rows = 0;
  for (size_t i = 0; i < sizeof k_parts / sizeof k_parts[0]; i++)
    if (hash_part(db, ctx, (int)i, run_id, &rows, err, err_len)) {
      EVP_MD_CTX_free(ctx);
      return -1;
    }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  const int ok = EVP_DigestFinal_ex(ctx, md, &md_len) && md_len == 32;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return sb_errf(err, err_len, "checksum: SHA-256 failed");
  for (int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  if (n_rows)
    *n_rows = rows;
  return 0;
}

int store_seal_run(store *s, int64_t run_id, char *err, size_t err_len) {
  char hex[65], now[32];
  int64_t rows = 0;
  if (results_run_checksum(s, run_id, hex, &rows, err, err_len))
    return -1;
  sb_iso8601_utc(now);
  sqlite3_stmt *st;
  if (store_prepare(s,
                    "INSERT OR REPLACE INTO run_checksums (run_id, sha256, n_rows, computed_at) "
                    "VALUES (?1, ?2, ?3, ?4)",
                    &st, err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, run_id);
  sqlite3_bind_text(st, 2, hex, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, rows);
  sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
  return store_step_done(s, st, "storing the run checksum", err, err_len);
}

int results_verify_run(store *s, int64_t run_id, int *verified, char *err, size_t err_len) {
  *verified = 0;
  sqlite3 *db = store_db(s);
  int exists = 0;
  if (table_exists(db, "run_checksums", &exists))
    return sb_errf(err, err_len, "cannot read the schema: %s", sqlite3_errmsg(db));
  if (!exists)
    return 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "SELECT sha256, n_rows FROM run_checksums WHERE run_id = ?1", -1, &st,
                         NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot read run_checksums: %s", sqlite3_errmsg(db));
  sqlite3_bind_int64(st, 1, run_id);
  char want[65] = "";
  int64_t want_rows = -1;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
    snprintf(want, sizeof want, "%s", (const char *)sqlite3_column_text(st, 0));
    want_rows = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sb_errf(err, err_len, "cannot read run_checksums: %s", sqlite3_errmsg(db));
  if (rc == SQLITE_DONE)
    return 0; /* written before checksums existed */
  char got[65];
  int64_t rows = 0;
  if (results_run_checksum(s, run_id, got, &rows, err, err_len))
    return -1;
  if (strcmp(got, want) != 0)
    return sb_errf(err, err_len,
                   "the content of run %" PRId64 " (%" PRId64
                   " rows) does not match the checksum stored when it completed (%" PRId64
                   " rows, SHA-256 %.12s...): changed or damaged since",
                   run_id, rows, want_rows, want);
  *verified = 1;
  return 0;
}
