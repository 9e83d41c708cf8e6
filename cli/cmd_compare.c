/* `saicbench compare`: two runs point by point; exit status 1 on regressions. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "results.h"

/* Opens the database of a run SPEC (ID with --db, PATH:ID, or PATH for its latest run); *real
 * (PATH_MAX bytes) receives the database's resolved path, so two specs of one file can share a
 * connection. */
static int open_run_spec(const char *spec, const char *default_db, store **st, int64_t *run_id,
                         char *real, char *err, size_t err_len) {
  char path[4096];
  const char *colon = strrchr(spec, ':');
  int all_digits = *spec != '\0';
  for (const char *p = spec; *p; p++)
    all_digits &= *p >= '0' && *p <= '9';
  int tail_digits = colon && colon[1];
  for (const char *p = colon ? colon + 1 : ""; *p; p++)
    tail_digits &= *p >= '0' && *p <= '9';
  *run_id = 0;
  if (all_digits) {
    if (!default_db) {
      snprintf(err, err_len, "run '%s': give --db PATH, or write it as PATH:ID", spec);
      return -1;
    }
    snprintf(path, sizeof path, "%s", default_db);
    *run_id = strtoll(spec, NULL, 10);
  } else if (tail_digits) {
    snprintf(path, sizeof path, "%.*s", (int)(colon - spec), spec);
    *run_id = strtoll(colon + 1, NULL, 10);
  } else {
    snprintf(path, sizeof path, "%s", spec);
  }
  if (store_open_readonly(path, st, err, err_len))
    return -1;
  if (!realpath(path, real))
    snprintf(real, PATH_MAX, "%s", path);
  if (!*run_id && results_latest_run(*st, run_id, err, err_len)) {
    store_close(*st);
    *st = NULL;
    return -1;
  }
  return 0;
}

static int parse_real(const char *opt, const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !(v >= 0)) {
    fprintf(stderr, "saicbench: %s: expected a non-negative number, got '%s'\n", opt, s);
    return -1;
  }
  *out = v;
  return 0;
}

int cli_cmd_compare(int argc, char **argv) {
  static const struct option opts[] = {
      {"db", required_argument, 0, 'd'},       {"json", required_argument, 0, 'j'},
      {"psnr-tol", required_argument, 0, 'P'}, {"ssim-tol", required_argument, 0, 'S'},
      {"bpp-tol", required_argument, 0, 'B'},  {"time-tol", required_argument, 0, 'T'},
      {"task-se", required_argument, 0, 'K'},  {"distance-tol", required_argument, 0, 'D'},
      {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
  const char *db = NULL, *json = NULL;
  compare_bounds bounds = COMPARE_DEFAULT_BOUNDS;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'j': json = optarg; break;
    case 'P':
      if (parse_real("--psnr-tol", optarg, &bounds.psnr_db))
        return 2;
      break;
    case 'S':
      if (parse_real("--ssim-tol", optarg, &bounds.ssim))
        return 2;
      break;
    case 'B':
      if (parse_real("--bpp-tol", optarg, &bounds.bpp_rel))
        return 2;
      break;
    case 'T':
      if (parse_real("--time-tol", optarg, &bounds.time_rel))
        return 2;
      break;
    case 'K':
      if (parse_real("--task-se", optarg, &bounds.task_se))
        return 2;
      break;
    case 'D':
      if (parse_real("--distance-tol", optarg, &bounds.distance_rel))
        return 2;
      break;
    case 'h':
      printf("usage: saicbench compare [--db PATH] BASELINE CANDIDATE [options]\n"
             "\n"
             "Compares two runs point by point (dataset, codec, grid point) and flags changes\n"
             "beyond noise. A run is ID (in --db), PATH:ID, or PATH (its newest run).\n"
             "Regressions: more bytes at a knob point; lower PSNR, SSIM or MS-SSIM; more failed\n"
             "images; points missing in the candidate. Where both runs computed them, the\n"
             "opt-in metrics count too: lower PSNR-Y or PSNR-YCbCr (--psnr-tol), higher\n"
             "CIEDE2000 or Butteraugli (--distance-tol). Speed changes are reported only.\n"
             "Task metrics (runs with tasks): per task, codec and grid point the change of\n"
             "accuracy, agreement and SI_norm (mean KL shown); a drop beyond K binomial standard\n"
             "errors of the difference, sqrt(pA(1-pA)/nA + pB(1-pB)/nB), and at least one image\n"
             "(1/n), is a regression (SI_norm uses the agreement's bound). The codecs are\n"
             "deterministic: on the same images a difference is exact; the bound guards against\n"
             "other image selections and task-network nondeterminism across machines.\n"
             "\n"
             "  --json FILE      also write every point and task row as JSON\n"
             "  --psnr-tol DB    PSNR bound (default 0.01 dB)\n"
             "  --ssim-tol X     SSIM and MS-SSIM bound (default 1e-4)\n"
             "  --bpp-tol R      relative bpp bound (default 0.001)\n"
             "  --time-tol R     relative time bound for speed changes (default 0.25)\n"
             "  --task-se K      task-metric bound in standard errors (default 2)\n"
             "  --distance-tol R relative bound for CIEDE2000 and Butteraugli (default 0.001)\n"
             "\n"
             "exit status: 0 no regression, 1 regression (points or task metrics), 2 error\n");
      return 0;
    default: fprintf(stderr, "saicbench compare: see --help\n"); return 2;
    }
  }
  if (argc - optind != 2)
    return cli_fail("%s", "compare: give exactly two runs: BASELINE CANDIDATE (see --help)");
  store *sa = NULL, *sb = NULL;
  int64_t ra, rb;
  char err[1024];
  char real_a[PATH_MAX], real_b[PATH_MAX];
  if (open_run_spec(argv[optind], db, &sa, &ra, real_a, err, sizeof err) ||
      open_run_spec(argv[optind + 1], db, &sb, &rb, real_b, err, sizeof err)) {
    store_close(sa);
    return cli_fail("%s", err);
  }
  if (strcmp(real_a, real_b) == 0) { /* one connection: paired intervals need both runs in it */
    store_close(sb);
    sb = sa;
  }
  compare_summary sum;
  int rc = report_compare_runs(sa, ra, sb, rb, &bounds, stdout, json, &sum, err, sizeof err);
  store_close(sa);
  if (sb != sa)
    store_close(sb);
  if (rc)
    return cli_fail("%s", err);
  return COMPARE_HAS_REGRESSION(&sum) ? 1 : 0;
}
