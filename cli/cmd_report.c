/* `saicbench report`: writes the report of a stored run (also used by `run --report`). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "results.h"
#include "harness.h"

static void usage_report(FILE *f) {
  fprintf(f, "usage: saicbench report --db PATH [--run ID | --latest] --out DIR\n"
             "                        [--anchor LABEL] [--reference LABEL]\n"
             "                        [--bootstrap-rounds N] [--no-images]\n"
             "\n"
             "Writes the report of one run from the database: points_<dataset>.csv (aggregated\n"
             "points), compressai_<codec>_<dataset>.json (CompressAI plotting layout) and\n"
             "report.html (self-contained, with rate-distortion plots). Default: --latest.\n"
             "  --anchor LABEL    codec the BD tables compare against (default: the suite's\n"
             "                    report: {anchor: ...}, else jpeg if present, else the first\n"
             "                    codec)\n"
             "  --reference LABEL codec the paired differences at each bpp target compare\n"
             "                    against: codec - reference of accuracy, SI_norm and PSNR on the\n"
             "                    same images with 95%% bootstrap intervals (paired_<dataset>.csv\n"
             "                    and the page; default: the suite's report: {reference: ...},\n"
             "                    else the BD anchor)\n"
             "  --bootstrap-rounds N  resamples for those intervals (default 2000; 0: none)\n"
             "  --no-images       no example image strips (the thumbnails the run stored with\n"
             "                    `saicbench run --strip-images N`)\n");
}

/* The `report:` labels of the suite a run was made with, parsed from runs.suite_text (nothing
 * new is stored); left NULL for ad-hoc runs (their text is not a suite file) and texts this
 * version cannot parse. */
static void stored_report_labels(store *st, int64_t run_id, char **anchor, char **reference) {
  char *text = NULL, err[512];
  size_t len = 0;
  if (results_run_suite_text(st, run_id, &text, &len, err, sizeof err) == 0 && text) {
    suite *s = NULL;
    if (suite_parse(text, len, "suite", &s, err, sizeof err) == 0) {
      *anchor = s->report_anchor;
      *reference = s->report_reference;
      s->report_anchor = s->report_reference = NULL;
    }
    suite_free(s);
  }
  free(text);
}

/* Writes the report of a run. Labels opt leaves NULL come from the suite's `report:` key (so
 * `saicbench report --anchor/--reference` override it), else the report's defaults. */
int cli_report_write_opts(const char *db_path, int64_t run_id, int latest, const char *out,
                          const report_options *opt) {
  store *st;
  char err[1024];
  if (store_open_readonly(db_path, &st, err, sizeof err))
    return cli_fail("%s", err);
  int status = 0;
  report_options o = opt ? *opt : (report_options){0};
  char *anchor = NULL, *reference = NULL;
  if (latest && results_latest_run(st, &run_id, err, sizeof err)) {
    status = cli_fail("%s", err);
  } else {
    if (!o.anchor || !o.reference)
      stored_report_labels(st, run_id, &anchor, &reference);
    o.anchor = o.anchor ? o.anchor : anchor;
    o.reference = o.reference ? o.reference : reference;
    if (report_write_opts(st, run_id, out, &o, err, sizeof err))
      status = cli_fail("%s", err);
    else
      fprintf(stderr, "saicbench: report of run %lld written to %s/report.html\n",
              (long long)run_id, out);
  }
  free(anchor);
  free(reference);
  store_close(st);
  return status;
}

int cli_cmd_report(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                       {"run", required_argument, 0, 'r'},
                                       {"latest", no_argument, 0, 'L'},
                                       {"out", required_argument, 0, 'o'},
                                       {"anchor", required_argument, 0, 'a'},
                                       {"no-images", no_argument, 0, 'N'},
                                       {"reference", required_argument, 0, 'R'},
                                       {"bootstrap-rounds", required_argument, 0, 'B'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *db = NULL, *out = NULL;
  report_options ropt = {0};
  long run = 0;
  int latest = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'r':
      if (cli_parse_positive("--run", optarg, LONG_MAX, &run))
        return 2;
      break;
    case 'L': latest = 1; break;
    case 'o': out = optarg; break;
    case 'a': ropt.anchor = optarg; break;
    case 'N': ropt.no_images = 1; break;
    case 'R': ropt.reference = optarg; break;
    case 'B': {
      long r = 0;
      if (strcmp(optarg, "0") != 0 && cli_parse_positive("--bootstrap-rounds", optarg, 1000000, &r))
        return 2;
      if (r > 0 && r < 10)
        return cli_fail("report: --bootstrap-rounds: %s is too few (at least 10, or 0 for none)",
                        optarg);
      ropt.bootstrap_rounds = r ? (int)r : -1;
      break;
    }
    case 'h': usage_report(stdout); return 0;
    default: fprintf(stderr, "saicbench report: see --help\n"); return 2;
    }
  }
  if (optind < argc)
    return cli_fail("report: unexpected argument '%s'", argv[optind]);
  if (!db || !out)
    return cli_fail("%s", "report: --db PATH and --out DIR are required (see --help)");
  if (run && latest)
    return cli_fail("%s", "report: give --run ID or --latest, not both");
  return cli_report_write_opts(db, run, !run, out, &ropt);
}
