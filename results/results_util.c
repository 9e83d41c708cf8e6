/* results_util.c - small helpers the files of sb_results share (results_internal.h). */
#include "results_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int results_col_text(sqlite3_stmt *st, int i, char **out) {
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

double results_col_real(sqlite3_stmt *st, int i) {
  return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}
