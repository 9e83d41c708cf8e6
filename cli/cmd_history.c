/* `saicbench history`: a suite's runs with their changes against the previous complete run. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "results.h"

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
  results_run_summary *runs = NULL;
  size_t rows = 0;
  if (results_list_runs(st, suite_name, limit, &runs, &rows, err, sizeof err)) {
    store_close(st);
    return cli_fail("history: %s", err);
  }
  printf("%-6s %-20s %-11s %-20s %8s  %s\n", "run", "started", "status", "revision", "wall s",
         "vs previous complete run");
  int64_t prev = 0;
  int last_regressions = 0, status = 0;
  for (size_t i = 0; i < rows; i++) {
    const results_run_summary *r = &runs[i];
    char wall[32] = "-";
    if (r->wall_s >= 0)
      snprintf(wall, sizeof wall, "%lld", (long long)r->wall_s);
    printf("%-6lld %-20s %-11s %-20s %8s  ", (long long)r->id, r->started_at ? r->started_at : "?",
           r->status ? r->status : "?", r->git_revision ? r->git_revision : "?", wall);
    int complete = r->status && !strcmp(r->status, "complete");
    if (complete && prev) {
      compare_bounds bounds = COMPARE_DEFAULT_BOUNDS;
      compare_summary sum;
      if (report_compare_runs(st, prev, st, r->id, &bounds, NULL, NULL, &sum, err, sizeof err)) {
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
      prev = r->id;
  }
  results_runs_free(runs, rows);
  store_close(st);
  if (!rows)
    return cli_fail("history: no runs of suite '%s'", suite_name);
  return status ? status : last_regressions ? 1 : 0;
}
