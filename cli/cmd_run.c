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
#include "report.h"
#include "runner.h"
#include "suite.h"

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
      "                    (`saicbench codecs` lists names, knobs and settings)\n"
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
      "                    ones left out are stored as NULL), e.g. --metrics psnr\n"
      "  --strip-images N  store thumbnails of the first N images of each dataset (the\n"
      "                    original and every decoded image) for the report's example\n"
      "                    images (default %d; 0: none)\n"
      "  --quiet           no progress output\n"
      "  -h, --help        this help\n"
      "\n"
      "exit status: 0 complete (units that failed, e.g. unreadable images, are stored with\n"
      "their error and counted on stderr), 2 error, 130 interrupted\n",
      DEFAULT_DB, omp_get_max_threads(), RUNNER_DEFAULT_STRIP_IMAGES);
}

int cli_cmd_run(int argc, char **argv) {
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
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *db = DEFAULT_DB, *data = NULL, *split = NULL, *report_dir = NULL;
  unsigned metrics = 0; /* 0: the suite's (or the default) */
  unsigned shard_index = 0, shard_count = 0;
  char **codec_specs = calloc((size_t)argc + 1, sizeof *codec_specs);
  char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  char **task_specs = calloc((size_t)argc + 1, sizeof *task_specs);
  int n_specs = 0, n_plugins = 0, n_tasks = 0, resume = 0, quiet = 0, c, status = 2;
  long threads = omp_get_max_threads(), limit = 0, timing_repeats = 1,
       strip_images = RUNNER_DEFAULT_STRIP_IMAGES;
  suite *s = NULL;
  codec_registry *reg = NULL;
  char *command = cli_join_argv(argc, argv);
  char err[1024];
  if (!codec_specs || !plugins || !task_specs || !command) {
    status = cli_fail("%s", "out of memory");
    goto out;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'D': data = optarg; break;
    case 's': split = optarg; break;
    case 'c': codec_specs[n_specs++] = optarg; break;
    case 'T': task_specs[n_tasks++] = optarg; break;
    case 't':
      if (cli_parse_positive("--threads", optarg, 1024, &threads))
        goto out;
      break;
    case 'r': resume = 1; break;
    case 'l':
      if (cli_parse_positive("--limit", optarg, LONG_MAX, &limit))
        goto out;
      break;
    case 'R': report_dir = optarg; break;
    case 'p': plugins[n_plugins++] = optarg; break;
    case 'q': quiet = 1; break;
    case 'S':
      if (cli_parse_shard("--shard", optarg, &shard_index, &shard_count))
        goto out;
      break;
    case 'P':
      if (cli_parse_positive("--timing-repeats", optarg, 1000, &timing_repeats))
        goto out;
      break;
    case 'I':
      if (cli_parse_range("--strip-images", optarg, 0, RUNNER_MAX_STRIP_IMAGES, &strip_images))
        goto out;
      break;
    case 'M':
      if (suite_parse_metrics(optarg, &metrics, err, sizeof err)) {
        status = cli_fail("%s", err);
        goto out;
      }
      break;
    case 'h':
      usage_run(stdout);
      status = 0;
      goto out;
    default: fprintf(stderr, "saicbench run: see --help\n"); goto out;
    }
  }
  const char *suite_file = optind < argc ? argv[optind] : NULL;
  const int data_given = data != NULL; /* --data: dataset errors then need no hint about it */
  if (optind + 1 < argc) {
    status = cli_fail("run: unexpected argument '%s' (one suite file at most)", argv[optind + 1]);
    goto out;
  }
  if (!suite_file && !n_specs) {
    status = cli_fail("%s", "run: give a suite file, or --data DIR and --codec SPEC (see --help)");
    goto out;
  }
  if (suite_file && (n_specs || n_tasks)) {
    status = cli_fail("run: --%s is for runs without a suite file; edit the suite instead",
                      n_specs ? "codec" : "task");
    goto out;
  }
  if (codec_registry_create(&reg, err, sizeof err)) {
    status = cli_fail("%s", err);
    goto out;
  }
  if (cli_load_plugins(reg, plugins, n_plugins))
    goto out;
  char data_buf[PATH_MAX];
  if (suite_file) {
    if (suite_load_file(suite_file, &s, err, sizeof err)) {
      status = cli_fail("%s", err);
      goto out;
    }
    if (!data)
      data = cli_default_data_root(data_buf, sizeof data_buf);
    /* Suite plugins are relative to the suite file's folder. */
    for (size_t i = 0; i < s->n_plugins; i++) {
      char path[PATH_MAX];
      const char *slash = strrchr(suite_file, '/');
      if (s->plugins[i][0] == '/' || !slash)
        snprintf(path, sizeof path, "%s", s->plugins[i]);
      else
        snprintf(path, sizeof path, "%.*s/%s", (int)(slash - suite_file), suite_file,
                 s->plugins[i]);
      if (codec_registry_load_plugin(reg, path, err, sizeof err)) {
        status = cli_fail("%s", err);
        goto out;
      }
    }
  } else {
    if (!data) {
      status = cli_fail("%s", "run: --codec needs --data DATASET_DIR (the images to run)");
      goto out;
    }
    s = suite_new_adhoc("adhoc");
    if (!s) {
      status = cli_fail("%s", "out of memory");
      goto out;
    }
    const char *base = strrchr(data, '/');
    base = base && base[1] ? base + 1 : data;
    char dsname[80];
    snprintf(dsname, sizeof dsname, "%.60s%s%.15s", base, split ? "-" : "", split ? split : "");
    for (char *p = dsname; *p; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.'))
        *p = '_';
    if (suite_add_dataset(s, dsname, data, split, 1, 0, err, sizeof err)) {
      status = cli_fail("%s", err);
      goto out;
    }
    sb_buf text = {0};
    sb_buf_printf(&text, "adhoc data=%s split=%s", data, split ? split : "");
    for (int i = 0; i < n_specs; i++) {
      /* The knob's own name (quality=, ratio=) is accepted as the grid key. */
      char name[64];
      snprintf(name, sizeof name, "%.*s", (int)strcspn(codec_specs[i], ":"), codec_specs[i]);
      const codec_vtable *vt = codec_registry_find(reg, name);
      if (!vt) {
        sb_buf_free(&text);
        status = cli_fail("run: unknown codec '%s' (see `saicbench codecs`)", name);
        goto out;
      }
      if (check_codec_spec_keys(vt, codec_specs[i], err, sizeof err) ||
          suite_add_codec_spec(s, codec_specs[i], vt->knob.name, err, sizeof err)) {
        sb_buf_free(&text);
        status = cli_fail("%s", err);
        goto out;
      }
      sb_buf_printf(&text, " codec=%s", codec_specs[i]);
    }
    for (int i = 0; i < n_tasks; i++) {
      if (suite_add_task_spec(s, task_specs[i], err, sizeof err)) {
        sb_buf_free(&text);
        status = cli_fail("%s", err);
        goto out;
      }
      sb_buf_printf(&text, " task=%s", task_specs[i]);
    }
    s->text = sb_buf_take(&text);
    data = NULL; /* the dataset path is already complete */
  }
  if (metrics) /* the command line over the suite's `metrics:` */
    s->metrics = metrics;
  if (!shard_count && cli_shard_from_environment(&shard_index, &shard_count, quiet) < 0)
    goto out;
  signal(SIGINT, cli_on_signal);
  signal(SIGTERM, cli_on_signal);
  const char *kill_after = getenv("SAICBENCH_TEST_KILL_AFTER_UNITS");
  runner_options ro = {.db_path = db,
                       .data_root = data,
                       .threads = (int)threads,
                       .resume = resume,
                       .limit = (size_t)limit,
                       .quiet = quiet,
                       .command = command,
                       .stop = &cli_stop,
                       .kill_after_units = kill_after ? strtoull(kill_after, NULL, 10) : 0,
                       .shard_index = shard_index,
                       .shard_count = shard_count,
                       .timing_repeats = (int)timing_repeats,
                       .data_root_given = data_given,
                       .strip_images = (int)strip_images};
  runner_summary sum;
  if (runner_run(s, reg, &ro, &sum, err, sizeof err)) {
    status = cli_fail("%s", err);
    goto out;
  }
  if (sum.interrupted && sum.units_skipped + sum.units_stored < sum.units_total) {
    fprintf(stderr,
            "saicbench: interrupted: run %lld has %zu of %zu units stored; continue with "
            "`saicbench run ... --resume --db %s`\n",
            (long long)sum.run_id, sum.units_skipped + sum.units_stored, sum.units_total, db);
    status = 130;
    goto out;
  }
  if (!quiet)
    fprintf(stderr, "saicbench: run %lld complete: %zu units stored (%zu failed), %.1f s\n",
            (long long)sum.run_id, sum.units_stored, sum.units_failed, sum.wall_s);
  printf("%lld\n", (long long)sum.run_id);
  status = 0;
  if (report_dir) {
    /* The suite's `report:` anchor and reference (suite.h); NULL: the report's defaults. */
    const report_options run_ropt = {.anchor = s->report_anchor, .reference = s->report_reference};
    int rs = cli_report_write_opts(db, sum.run_id, 0, report_dir, &run_ropt);
    if (rs)
      status = rs;
  }
out:
  suite_free(s);
  codec_registry_destroy(reg);
  free(codec_specs);
  free(plugins);
  free(task_specs);
  free(command);
  return status;
}
