/* `saicbench run`: runs a suite, or an ad-hoc set of codecs on one dataset, into a result
 * database. */
#include <getopt.h>
#include <limits.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "cli.h"
#include "codec_registry.h"
#include "harness.h"
#include "report.h"

#define DEFAULT_DB "saicbench.db"

/* Whether a codec's settings_help (one "key=values  description" line per setting) lists key. */
static int setting_listed(const char *help, const char *key) {
  size_t n = strlen(key);
  for (const char *p = help; p && *p;) {
    if (!strncmp(p, key, n) && p[n] == '=')
      return 1;
    p = strchr(p, '\n');
    p = p ? p + 1 : NULL;
  }
  return 0;
}

/* Checks the keys of a command-line codec spec before the spec is parsed into a grid, so that a
 * misspelt key (jpeg:qualty=50) is reported as such rather than as a spec without a grid. The
 * grid keys, label and the settings in the codec's settings_help pass; another key passes only
 * when the codec accepts it (an instance is created with the spec's settings to see). */
static int check_codec_spec_keys(const codec_vtable *vt, const char *spec, char *err,
                                 size_t err_len) {
  char *copy = strdup(spec);
  codec_option *opts = calloc(strlen(spec) + 1, sizeof *opts);
  size_t n = 0;
  const char *unknown = NULL;
  int rc = 0;
  if (!copy || !opts) {
    free(copy);
    free(opts);
    return 0; /* out of memory: the spec's own parsing reports it */
  }
  char *save = NULL, *tok = strtok_r(copy, ":", &save);
  while (tok && (tok = strtok_r(NULL, ":", &save))) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok)
      continue; /* malformed: left to suite_add_codec_spec */
    *eq = '\0';
    if (!strcmp(tok, "knob") || !strcmp(tok, vt->knob.name) || !strcmp(tok, "bpp") ||
        !strcmp(tok, "label"))
      continue;
    opts[n++] = (codec_option){tok, eq + 1};
    if (!unknown && !setting_listed(vt->settings_help, tok))
      unknown = tok;
  }
  void *inst = NULL;
  char cerr[512] = "";
  if (unknown && vt->create(opts, n, &inst, cerr, sizeof cerr)) {
    sb_buf known = {0};
    sb_buf_printf(&known, "%s, bpp, label", vt->knob.name);
    for (const char *p = vt->settings_help; p && *p;) {
      size_t len = strcspn(p, "=\n");
      if (p[len] == '=' && len)
        sb_buf_printf(&known, ", %.*s", (int)len, p);
      p = strchr(p, '\n');
      p = p ? p + 1 : NULL;
    }
    char *list = sb_buf_take(&known);
    snprintf(err, err_len, "--codec %s: unknown setting '%s' (known: %s)", spec, unknown,
             list ? list : "see `saicbench codecs`");
    free(list);
    rc = -1;
  } else if (inst) {
    vt->destroy(inst);
  }
  free(opts);
  free(copy);
  return rc;
}

static void usage_run(FILE *f) {
  fprintf(
      f,
      "usage: saicbench run SUITE_FILE [options]\n"
      "       saicbench run --data DATASET --codec SPEC [--codec SPEC ...] [options]\n"
      "\n"
      "Runs every image of the suite's datasets through every codec at every grid point,\n"
      "scores the decoded images (PSNR, SSIM, MS-SSIM) and stores one row per image and\n"
      "grid point in an SQLite database. Ctrl-C stops cleanly (finished work is kept);\n"
      "--resume then computes only what is missing.\n"
      "\n"
      "options:\n"
      "  --db PATH         result database (default %s; created if missing)\n"
      "  --data DIR        with a suite: the folder its dataset paths are relative to\n"
      "                    (default: $SAICBENCH_DATA, else ~/.local/share/saicbench/datasets);\n"
      "                    without a suite: the dataset folder itself\n"
      "  --split NAME      without a suite: open DIR/NAME, or that CIFAR-10 batch (test, train)\n"
      "  --codec SPEC      without a suite: NAME[:KNOB=V1,V2,...][:bpp=B1,B2,...][:KEY=VAL]\n"
      "                    e.g. jpeg:quality=10,50,90  webp:bpp=0.5,1:method=6\n"
      "                    (`saicbench codecs` lists names, knobs and settings; command-line\n"
      "                    codecs, programs as codecs, are defined in a suite's\n"
      "                    `command_codecs:` only)\n"
      "  --task [NAME=]CKPT without a suite: score every decoded image with this classifier\n"
      "                    checkpoint (accuracy, agreement, SI, KL; images of its input size\n"
      "                    only); repeatable. Suites name theirs under `tasks:`\n"
      "  --threads N       worker threads (default: OpenMP's default, %d here)\n"
      "  --resume          continue the newest unfinished run of the same plan\n"
      "  --limit N         at most N images per dataset\n"
      "  --report DIR      write the run's report into DIR when the run completes\n"
      "  --shard I/N       run only shard I of N (0-based; images go round-robin) into its own\n"
      "                    --db; combine the shards with `saicbench merge`. Taken from Slurm\n"
      "                    array or Kubernetes indexed-Job variables when not given\n"
      "  --plugin PATH     load a codec plugin (shared library); repeatable\n"
      "  --timing-repeats N  time each stored result's encode and decode N times and store the\n"
      "                    medians in results, every repeat in timing_repeats (default 1;\n"
      "                    other results do not change). Each worker\n"
      "                    also encodes and decodes once untimed before its first timed call\n"
      "                    per codec and image size, so start-up costs are not timed\n"
      "  --metrics LIST    image metrics to compute, comma-separated: psnr (always), ssim,\n"
      "                    ms_ssim (default all three; a suite's `metrics:` key; the\n"
      "                    ones left out are stored as NULL), e.g. --metrics psnr;\n"
      "                    opt-in: psnr_y, psnr_ycbcr, ciede2000, butteraugli (slow)\n"
      "  --strip-images N  store thumbnails of the first N images of each dataset (the\n"
      "                    original and every decoded image) for the report's example\n"
      "                    images (default %d; 0: none)\n"
      "  --no-analysis-reuse  encode every knob value from scratch: codecs whose knob acts\n"
      "                    after a knob-free analysis (saic) otherwise analyse each image\n"
      "                    once and code that at every grid point and rate-search probe;\n"
      "                    results are identical, only slower (for checking)\n"
      "  --quiet           no progress output\n"
      "  -h, --help        this help\n"
      "\n"
      "exit status: 0 complete (units that failed, e.g. unreadable images, are stored with\n"
      "their error and counted on stderr), 2 error, 130 interrupted\n",
      DEFAULT_DB, omp_get_max_threads(), RUNNER_DEFAULT_STRIP_IMAGES);
}

/* The suite of a run without a suite file: the folder `data` (or its split), the --codec specs
 * and the --task specs; its text (stored with the run) lists them. */
static int adhoc_suite(const char *data, const char *split, char **codec_specs, int n_specs,
                       char **task_specs, int n_tasks, const codec_registry *reg, suite **out,
                       char *err, size_t err_len) {
  suite *s = *out = suite_new_adhoc("adhoc");
  if (!s) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  const char *base = strrchr(data, '/');
  base = base && base[1] ? base + 1 : data;
  char dsname[80];
  snprintf(dsname, sizeof dsname, "%.60s%s%.15s", base, split ? "-" : "", split ? split : "");
  for (char *p = dsname; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '-' || *p == '_' || *p == '.'))
      *p = '_';
  if (suite_add_dataset(s, dsname, data, split, 1, 0, err, err_len))
    return -1;
  sb_buf text = {0};
  sb_buf_printf(&text, "adhoc data=%s split=%s", data, split ? split : "");
  for (int i = 0; i < n_specs; i++) {
    /* The knob's own name (quality=, ratio=) is accepted as the grid key. */
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(codec_specs[i], ":"), codec_specs[i]);
    const codec_vtable *vt = codec_registry_find(reg, name);
    if (!vt) {
      sb_buf_free(&text);
      snprintf(err, err_len, "run: unknown codec '%s' (see `saicbench codecs`)", name);
      return -1;
    }
    if (check_codec_spec_keys(vt, codec_specs[i], err, err_len) ||
        suite_add_codec_spec(s, codec_specs[i], vt->knob.name, err, err_len)) {
      sb_buf_free(&text);
      return -1;
    }
    sb_buf_printf(&text, " codec=%s", codec_specs[i]);
  }
  for (int i = 0; i < n_tasks; i++) {
    if (suite_add_task_spec(s, task_specs[i], err, err_len)) {
      sb_buf_free(&text);
      return -1;
    }
    sb_buf_printf(&text, " task=%s", task_specs[i]);
  }
  s->text = sb_buf_take(&text);
  return 0;
}

/* After runner_run: the summary line, the run id on stdout, the report when asked for. Returns
 * the exit status (130 when interrupted before the end). */
static int finish_run(const suite *s, const runner_summary *sum, const char *db, int quiet,
                      const char *report_dir) {
  if (sum->interrupted && sum->units_skipped + sum->units_stored < sum->units_total) {
    fprintf(stderr,
            "saicbench: interrupted: run %lld has %zu of %zu units stored; continue with "
            "`saicbench run ... --resume --db %s`\n",
            (long long)sum->run_id, sum->units_skipped + sum->units_stored, sum->units_total, db);
    return 130;
  }
  if (!quiet) {
    fprintf(stderr, "saicbench: run %lld complete: %zu units stored (%zu failed), %.1f s\n",
            (long long)sum->run_id, sum->units_stored, sum->units_failed, sum->wall_s);
    fprintf(stderr, "saicbench: encoder calls: %llu whole encodes",
            (unsigned long long)sum->whole_encodes);
    if (sum->analyses)
      fprintf(stderr, ", %llu analyses coded at %llu knob values (analysis reuse)",
              (unsigned long long)sum->analyses, (unsigned long long)sum->analyzed_encodes);
    fputc('\n', stderr);
  }
  printf("%lld\n", (long long)sum->run_id);
  if (!report_dir)
    return 0;
  /* The suite's `report:` anchor and reference (suite.h); NULL: the report's defaults. */
  const report_options run_ropt = {.anchor = s->report_anchor, .reference = s->report_reference};
  return cli_report_write_opts(db, sum->run_id, 0, report_dir, &run_ropt);
}

/* The options of `saicbench run`. */
typedef struct run_args {
  const char *db, *data, *split, *report_dir, *suite_file;
  unsigned metrics; /* 0: the suite's (or the default) */
  unsigned shard_index, shard_count;
  char **codec_specs, **plugins, **task_specs; /* argc + 1 entries each */
  int n_specs, n_plugins, n_tasks, resume, quiet, no_analysis_reuse;
  long threads, limit, timing_repeats, strip_images;
} run_args;

static void run_args_free(run_args *a) {
  free(a->codec_specs);
  free(a->plugins);
  free(a->task_specs);
}

/* Parses the command line into a: 0, 1 after --help (printed), -1 after a message. */
static int parse_run_args(int argc, char **argv, run_args *a) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                       {"data", required_argument, 0, 'D'},
                                       {"split", required_argument, 0, 's'},
                                       {"codec", required_argument, 0, 'c'},
                                       {"task", required_argument, 0, 'T'},
                                       {"threads", required_argument, 0, 't'},
                                       {"resume", no_argument, 0, 'r'},
                                       {"limit", required_argument, 0, 'l'},
                                       {"report", required_argument, 0, 'R'},
                                       {"plugin", required_argument, 0, 'p'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"shard", required_argument, 0, 'S'},
                                       {"timing-repeats", required_argument, 0, 'P'},
                                       {"strip-images", required_argument, 0, 'I'},
                                       {"metrics", required_argument, 0, 'M'},
                                       {"no-analysis-reuse", no_argument, 0, 'A'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  *a = (run_args){.db = DEFAULT_DB,
                  .threads = omp_get_max_threads(),
                  .timing_repeats = 1,
                  .strip_images = RUNNER_DEFAULT_STRIP_IMAGES};
  a->codec_specs = calloc((size_t)argc + 1, sizeof *a->codec_specs);
  a->plugins = calloc((size_t)argc + 1, sizeof *a->plugins);
  a->task_specs = calloc((size_t)argc + 1, sizeof *a->task_specs);
  if (!a->codec_specs || !a->plugins || !a->task_specs) {
    cli_fail("%s", "out of memory");
    return -1;
  }
  char err[512];
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case 'd': a->db = optarg; break;
    case 'D': a->data = optarg; break;
    case 's': a->split = optarg; break;
    case 'c': a->codec_specs[a->n_specs++] = optarg; break;
    case 'T': a->task_specs[a->n_tasks++] = optarg; break;
    case 't': bad = cli_parse_positive("--threads", optarg, 1024, &a->threads); break;
    case 'r': a->resume = 1; break;
    case 'l': bad = cli_parse_positive("--limit", optarg, LONG_MAX, &a->limit); break;
    case 'R': a->report_dir = optarg; break;
    case 'p': a->plugins[a->n_plugins++] = optarg; break;
    case 'q': a->quiet = 1; break;
    case 'A': a->no_analysis_reuse = 1; break;
    case 'S': bad = cli_parse_shard("--shard", optarg, &a->shard_index, &a->shard_count); break;
    case 'P': bad = cli_parse_positive("--timing-repeats", optarg, 1000, &a->timing_repeats); break;
    case 'I':
      bad = cli_parse_range("--strip-images", optarg, 0, RUNNER_MAX_STRIP_IMAGES, &a->strip_images);
      break;
    case 'M':
      if ((bad = suite_parse_metrics(optarg, &a->metrics, err, sizeof err)))
        cli_fail("%s", err);
      break;
    case 'h': usage_run(stdout); return 1;
    default: fprintf(stderr, "saicbench run: see --help\n"); return -1;
    }
    if (bad)
      return -1;
  }
  a->suite_file = optind < argc ? argv[optind] : NULL;
  if (optind + 1 < argc) {
    cli_fail("run: unexpected argument '%s' (one suite file at most)", argv[optind + 1]);
    return -1;
  }
  if (!a->suite_file && !a->n_specs) {
    cli_fail("%s", "run: give a suite file, or --data DIR and --codec SPEC (see --help)");
    return -1;
  }
  if (a->suite_file && (a->n_specs || a->n_tasks)) {
    cli_fail("run: --%s is for runs without a suite file; edit the suite instead",
             a->n_specs ? "codec" : "task");
    return -1;
  }
  return 0;
}

int cli_cmd_run(int argc, char **argv) {
  run_args a;
  int status = parse_run_args(argc, argv, &a);
  if (status) {
    run_args_free(&a);
    return status > 0 ? 0 : 2;
  }
  status = 2;
  suite *s = NULL;
  codec_registry *reg = NULL;
  char *command = cli_join_argv(argc, argv);
  char err[1024];
  const char *data = a.data;
  const int data_given = data != NULL; /* --data: dataset errors then need no hint about it */
  if (!command) {
    status = cli_fail("%s", "out of memory");
    goto out;
  }
  if (codec_registry_create(&reg, err, sizeof err)) {
    status = cli_fail("%s", err);
    goto out;
  }
  if (cli_load_plugins(reg, a.plugins, a.n_plugins))
    goto out;
  char data_buf[PATH_MAX];
  if (a.suite_file) {
    if (cli_load_suite(a.suite_file, reg, &s, err, sizeof err)) {
      status = cli_fail("%s", err);
      goto out;
    }
    if (!data)
      data = cli_default_data_root(data_buf, sizeof data_buf);
  } else {
    if (!data) {
      status = cli_fail("%s", "run: --codec needs --data DATASET_DIR (the images to run)");
      goto out;
    }
    if (adhoc_suite(data, a.split, a.codec_specs, a.n_specs, a.task_specs, a.n_tasks, reg, &s, err,
                    sizeof err)) {
      status = cli_fail("%s", err);
      goto out;
    }
    data = NULL; /* the dataset path is already complete */
  }
  if (a.metrics) /* the command line over the suite's `metrics:` */
    s->metrics = a.metrics;
  if (!a.shard_count && cli_shard_from_environment(&a.shard_index, &a.shard_count, a.quiet) < 0)
    goto out;
  signal(SIGINT, cli_on_signal);
  signal(SIGTERM, cli_on_signal);
  const char *kill_after = getenv("SAICBENCH_TEST_KILL_AFTER_UNITS");
  runner_options ro = {.db_path = a.db,
                       .data_root = data,
                       .threads = (int)a.threads,
                       .resume = a.resume,
                       .limit = (size_t)a.limit,
                       .quiet = a.quiet,
                       .command = command,
                       .stop = &cli_stop,
                       .kill_after_units = kill_after ? strtoull(kill_after, NULL, 10) : 0,
                       .shard_index = a.shard_index,
                       .shard_count = a.shard_count,
                       .timing_repeats = (int)a.timing_repeats,
                       .data_root_given = data_given,
                       .strip_images = (int)a.strip_images,
                       .no_analysis_reuse = a.no_analysis_reuse};
  runner_summary sum;
  if (runner_run(s, reg, &ro, &sum, err, sizeof err))
    status = cli_fail("%s", err);
  else
    status = finish_run(s, &sum, a.db, a.quiet, a.report_dir);
out:
  suite_free(s);
  codec_registry_destroy(reg);
  run_args_free(&a);
  free(command);
  return status;
}
