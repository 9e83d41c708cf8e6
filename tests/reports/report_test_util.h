/* report_test_util.h - what the report tests share: they build their databases with SQL on a
 * raw connection, and the reports take a store (results.h), so each report opens the file
 * read-only as a store, as `saicbench report` does. */
#ifndef SAICBENCH_REPORT_TEST_UTIL_H
#define SAICBENCH_REPORT_TEST_UTIL_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "results.h"

/* The file of db opened as a read-only store; NULL with a message for an in-memory one. */
static inline store *open_store(sqlite3 *db, char *err, size_t err_len) {
  const char *path = db ? sqlite3_db_filename(db, "main") : NULL;
  store *s = NULL;
  if (!path || !*path) {
    snprintf(err, err_len, "no database file");
    return NULL;
  }
  return store_open_readonly(path, &s, err, err_len) == 0 ? s : NULL;
}

static inline int report_write_opts_db(sqlite3 *db, int64_t run, const char *out,
                                       const report_options *opt, char *err, size_t err_len) {
  store *s = open_store(db, err, err_len);
  if (!s)
    return -1;
  int rc = report_write_opts(s, run, out, opt, err, err_len);
  store_close(s);
  return rc;
}

static inline int report_write_db(sqlite3 *db, int64_t run, const char *out, char *err,
                                  size_t err_len) {
  return report_write_opts_db(db, run, out, NULL, err, err_len);
}

#endif
