/* `saicbench history`: a suite's runs with their changes against the previous complete run. */
#include <getopt.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "compare.h"
#include "store.h"

int cli_cmd_history(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                       {"suite", required_argument, 0, 's'},
                                       {"limit", required_argument, 0, 'l'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *db = NULL, *suite_name = NULL;
  long limit = 30;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 's': suite_name = optarg; break;
    case 'l':
      if (cli_parse_positive("--limit", optarg, 100000, &limit))
        return 2;
      break;
    case 'h':
      printf("usage: saicbench history --db PATH --suite NAME [--limit N]\n"
             "\n"
             "Lists the newest N (default 30) runs of a suite with their status, revision and\n"
             "wall time, and for each complete run the changes against the previous complete\n"
             "run (as `saicbench compare` counts them, task metrics included). Exit status:\n"
             "0 no regression, 1 the newest complete run has regressions (points or task\n"
             "metrics) against the one before it, 2 error.\n");
      return 0;
    default: fprintf(stderr, "saicbench history: see --help\n"); return 2;
    }
  }
  if (!db || !suite_name)
    return cli_fail("%s", "history: --db PATH and --suite NAME are required (see --help)");
  store *st;
  char err[1024];
  if (store_open_readonly(db, &st, err, sizeof err))
    return cli_fail("%s", err);
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(store_handle(st),
                         "SELECT id, started_at, ended_at, status, git_revision, "
                         "CAST(strftime('%s', ended_at) - strftime('%s', started_at) AS INTEGER) "
                         "FROM (SELECT * FROM runs WHERE suite_name = ?1 ORDER BY id DESC "
                         "LIMIT ?2) ORDER BY id",
                         -1, &q, NULL) != SQLITE_OK) {
    snprintf(err, sizeof err, "history: %s: %s", db, sqlite3_errmsg(store_handle(st)));
    store_close(st);
    return cli_fail("%s", err);
  }
  sqlite3_bind_text(q, 1, suite_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 2, limit);
  printf("%-6s %-20s %-11s %-20s %8s  %s\n", "run", "started", "status", "revision", "wall s",
         "vs previous complete run");
  int64_t prev = 0;
  int rows = 0, last_regressions = 0, status = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    rows++;
    int64_t id = sqlite3_column_int64(q, 0);
    const char *started = (const char *)sqlite3_column_text(q, 1);
    const char *run_status = (const char *)sqlite3_column_text(q, 3);
    const char *rev = (const char *)sqlite3_column_text(q, 4);
    char wall[32] = "-";
    if (sqlite3_column_type(q, 5) != SQLITE_NULL)
      snprintf(wall, sizeof wall, "%lld", (long long)sqlite3_column_int64(q, 5));
    printf("%-6lld %-20s %-11s %-20s %8s  ", (long long)id, started ? started : "?",
           run_status ? run_status : "?", rev ? rev : "?", wall);
    int complete = run_status && !strcmp(run_status, "complete");
    if (complete && prev) {
      compare_bounds bounds = COMPARE_DEFAULT_BOUNDS;
      compare_summary sum;
      if (compare_runs(store_handle(st), prev, store_handle(st), id, &bounds, NULL, NULL, &sum, err,
                       sizeof err)) {
        printf("error: %s\n", err);
        status = 2;
      } else {
        printf("%d regressions, %d improvements, %d task regressions, %d task improvements, "
               "%d slower, %d faster%s\n",
               sum.regressions, sum.improvements, sum.task_regressions, sum.task_improvements,
               sum.slower, sum.faster, sum.data_differs ? " (data differs)" : "");
        last_regressions = COMPARE_HAS_REGRESSION(&sum);
      }
    } else {
      printf("%s\n", complete ? "(first complete run)" : "");
    }
    if (complete)
      prev = id;
  }
  sqlite3_finalize(q);
  store_close(st);
  if (!rows)
    return cli_fail("history: no runs of suite '%s'", suite_name);
  return status ? status : last_regressions ? 1 : 0;
}
