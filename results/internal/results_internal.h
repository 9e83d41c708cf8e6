/* results_internal.h - what the files of sb_results share; never included outside results/.
 * Thread-safety: as results.h (a store is used by one thread at a time). */
#ifndef SAICBENCH_RESULTS_INTERNAL_H
#define SAICBENCH_RESULTS_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "results.h"

extern const char store_schema_sql[]; /* results/schema.sql, embedded at build time */

/* The columns schema version 3 appended to results and aggregates (schema.sql), in table order.
 * The upgrade adds them (store_open.c), the checksum writes them only where they are not NULL
 * (checksum.c), merge copies them from shards that have them (merge.c). */
extern const char *const store_v3_aggregates_columns[STORE_N_EXTRA_METRICS];
/* Whether table (of schema `db_name`, "main" or an attached one) has column; -1 on error. */
int store_has_column(sqlite3 *db, const char *db_name, const char *table, const char *column);

struct store {
  sqlite3 *db;
  char *path;
  int version;
  sqlite3_stmt *insert_result, *update_image, *insert_task_ref, *insert_task_result;
  sqlite3_stmt *insert_repeats, *delete_repeats;
};

/* The connection of s (for the read side and merge, which run their own statements). */
sqlite3 *store_db(store *s);

/* "PATH: WHAT: SQLite's message (hint)" into err; returns -1. */
int store_fail(store *s, const char *what, char *err, size_t err_len);
/* Runs SQL without rows; the message names the file. */
int store_exec(store *s, const char *sql, char *err, size_t err_len);
int store_prepare(store *s, const char *sql, sqlite3_stmt **st, char *err, size_t err_len);
/* Binds text (NULL as NULL) / a real (non-finite as NULL). */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
void store_bind_real(sqlite3_stmt *st, int i, double v);
/* Steps a statement that returns no rows, then finalizes it. */
int store_step_done(store *s, sqlite3_stmt *st, const char *what, char *err, size_t err_len);

/* Copies a text column (NULL stays NULL). Returns -1 only when out of memory. */
int results_col_text(sqlite3_stmt *st, int i, char **out);
/* A real column, NAN for NULL. */
double results_col_real(sqlite3_stmt *st, int i);

#endif
