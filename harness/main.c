/* saicbench command-line interface: one program, several subcommands. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "codec_registry.h"
#include "compare.h"
#include "gate.h"
#include "report.h"
#include "results.h"
#include "runner.h"
#include "saic_cli.h"
#include "suite.h"
#include "train_classifier.h"
#include "train_codec.h"

#ifndef SAICBENCH_VERSION
#define SAICBENCH_VERSION "unknown"
#endif

#define DEFAULT_DB "saicbench.db"

/* The one piece of process-wide state: set by SIGINT/SIGTERM, read by the runner. A signal
 * handler can reach nothing else. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  if (g_stop) { /* second Ctrl-C: leave now; committed results are safe in the database */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  g_stop = 1;
}

static int fail(const char *fmt, const char *msg) {
  fprintf(stderr, "saicbench: ");
  fprintf(stderr, fmt, msg);
  fputc('\n', stderr);
  return 2;
}

static char *join_argv(int argc, char **argv) {
  sb_buf b = {0};
  for (int i = 0; i < argc; i++)
    sb_buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
  return sb_buf_take(&b);
}

static int parse_positive(const char *opt, const char *s, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 1 || v > max) {
    fprintf(stderr, "saicbench: %s: expected an integer from 1 to %ld, got '%s'\n", opt, max, s);
    return -1;
  }
  *out = v;
  return 0;
}

/* Loads the plugins named on the command line into the registry. */
static int load_plugins(codec_registry *reg, char **paths, int n) {
  char err[512];
  for (int i = 0; i < n; i++)
    if (codec_registry_load_plugin(reg, paths[i], err, sizeof err)) {
      fprintf(stderr, "saicbench: %s\n", err);
      return -1;
    }
  return 0;
}

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

static const char *default_data_root(char *buf, size_t len) {
  const char *env = getenv("SAICBENCH_DATA");
  if (env && *env)
    return env;
  const char *home = getenv("HOME");
  if (!home)
    return NULL;
  snprintf(buf, len, "%s/.local/share/saicbench/datasets", home);
  return buf;
}

/* Parses "I/N" (0 <= I < N <= 100000). */
static int parse_shard(const char *what, const char *text, unsigned *index, unsigned *count) {
  char *end;
  errno = 0;
  unsigned long i = strtoul(text, &end, 10);
  if (!errno && end != text && *end == '/') {
    const char *p = end + 1;
    unsigned long n = strtoul(p, &end, 10);
    if (!errno && end != p && !*end && n >= 1 && n <= 100000 && i < n && text[0] != '-') {
      *index = (unsigned)i;
      *count = (unsigned)n;
      return 0;
    }
  }
  fprintf(stderr, "saicbench: %s: expected I/N with 0 <= I < N, got '%s'\n", what, text);
  return -1;
}

/* Reads the shard from a batch scheduler when --shard is not given: Slurm job arrays
 * (SLURM_ARRAY_TASK_ID relative to SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT) or a
 * Kubernetes indexed Job (JOB_COMPLETION_INDEX, with the count in SAICBENCH_SHARD_COUNT because
 * Kubernetes does not export it). Returns 1 if found, 0 if not, -1 on malformed values. */
/* Reads a scheduler variable holding a whole number from lo to hi (nothing else: no sign, no
 * spaces, no suffix). Prints an error naming the variable and its value when it is not. */
static int env_number(const char *name, const char *value, long lo, long hi, long *out) {
  char *end = NULL;
  errno = 0;
  long v = value[0] >= '0' && value[0] <= '9' ? strtol(value, &end, 10) : -1;
  if (v < lo || v > hi || errno || (end && *end)) {
    fprintf(stderr,
            "saicbench: %s='%s': expected a whole number from %ld to %ld (or pass "
            "--shard I/N)\n",
            name, value, lo, hi);
    return -1;
  }
  *out = v;
  return 0;
}

static int shard_from_environment(unsigned *index, unsigned *count, int quiet) {
  const char *id = getenv("SLURM_ARRAY_TASK_ID"), *n = getenv("SLURM_ARRAY_TASK_COUNT");
  const char *min = getenv("SLURM_ARRAY_TASK_MIN");
  const char *source = "Slurm";
  long i, k, lo = 0;
  if (id) {
    if (!n) {
      fprintf(stderr, "saicbench: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not "
                      "(pass --shard I/N, or --shard 0/1 to run the whole plan)\n");
      return -1;
    }
    if (env_number("SLURM_ARRAY_TASK_ID", id, 0, 1000000000, &i) ||
        env_number("SLURM_ARRAY_TASK_COUNT", n, 1, 100000, &k) ||
        (min && env_number("SLURM_ARRAY_TASK_MIN", min, 0, 1000000000, &lo)))
      return -1;
    if (i < lo || i - lo >= k) {
      fprintf(stderr,
              "saicbench: SLURM_ARRAY_TASK_ID=%s is not one of the %ld tasks from "
              "SLURM_ARRAY_TASK_MIN=%ld (an array of consecutive indices, e.g. "
              "--array=0-%ld, or pass --shard I/N)\n",
              id, k, lo, k - 1);
      return -1;
    }
    i -= lo;
  } else if ((id = getenv("JOB_COMPLETION_INDEX"))) {
    source = "Kubernetes";
    n = getenv("SAICBENCH_SHARD_COUNT");
    if (!n) {
      fprintf(stderr, "saicbench: JOB_COMPLETION_INDEX is set but SAICBENCH_SHARD_COUNT is not; "
                      "set it to the Job's completions (or pass --shard I/N)\n");
      return -1;
    }
    if (env_number("JOB_COMPLETION_INDEX", id, 0, 100000, &i) ||
        env_number("SAICBENCH_SHARD_COUNT", n, 1, 100000, &k))
      return -1;
    if (i >= k) {
      fprintf(stderr,
              "saicbench: JOB_COMPLETION_INDEX=%s is not below SAICBENCH_SHARD_COUNT=%s "
              "(set it to the Job's completions, or pass --shard I/N)\n",
              id, n);
      return -1;
    }
  } else {
    return 0;
  }
  *index = (unsigned)i;
  *count = (unsigned)k;
  if (!quiet)
    fprintf(stderr, "saicbench: shard %u/%u from %s\n", *index, *count, source);
  return 1;
}

/* ------------------------------------------------------------------ run */

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
      "  --quiet           no progress output\n"
      "  -h, --help        this help\n"
      "\n"
      "exit status: 0 complete (units that failed, e.g. unreadable images, are stored with\n"
      "their error and counted on stderr), 2 error, 130 interrupted\n",
      DEFAULT_DB, omp_get_max_threads());
}

static int cmd_report_write_opts(const char *db_path, int64_t run_id, int latest, const char *out,
                                 const report_options *opt);

static int cmd_run(int argc, char **argv) {
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
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *db = DEFAULT_DB, *data = NULL, *split = NULL, *report_dir = NULL;
  unsigned shard_index = 0, shard_count = 0;
  char **codec_specs = calloc((size_t)argc + 1, sizeof *codec_specs);
  char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  char **task_specs = calloc((size_t)argc + 1, sizeof *task_specs);
  int n_specs = 0, n_plugins = 0, n_tasks = 0, resume = 0, quiet = 0, c, status = 2;
  long threads = omp_get_max_threads(), limit = 0, timing_repeats = 1;
  suite *s = NULL;
  codec_registry *reg = NULL;
  char *command = join_argv(argc, argv);
  char err[1024];
  if (!codec_specs || !plugins || !task_specs || !command) {
    status = fail("%s", "out of memory");
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
      if (parse_positive("--threads", optarg, 1024, &threads))
        goto out;
      break;
    case 'r': resume = 1; break;
    case 'l':
      if (parse_positive("--limit", optarg, LONG_MAX, &limit))
        goto out;
      break;
    case 'R': report_dir = optarg; break;
    case 'p': plugins[n_plugins++] = optarg; break;
    case 'q': quiet = 1; break;
    case 'S':
      if (parse_shard("--shard", optarg, &shard_index, &shard_count))
        goto out;
      break;
    case 'P':
      if (parse_positive("--timing-repeats", optarg, 1000, &timing_repeats))
        goto out;
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
    status = fail("run: unexpected argument '%s' (one suite file at most)", argv[optind + 1]);
    goto out;
  }
  if (!suite_file && !n_specs) {
    status = fail("%s", "run: give a suite file, or --data DIR and --codec SPEC (see --help)");
    goto out;
  }
  if (suite_file && (n_specs || n_tasks)) {
    status = fail("run: --%s is for runs without a suite file; edit the suite instead",
                  n_specs ? "codec" : "task");
    goto out;
  }
  if (codec_registry_create(&reg, err, sizeof err)) {
    status = fail("%s", err);
    goto out;
  }
  if (load_plugins(reg, plugins, n_plugins))
    goto out;
  char data_buf[PATH_MAX];
  if (suite_file) {
    if (suite_load_file(suite_file, &s, err, sizeof err)) {
      status = fail("%s", err);
      goto out;
    }
    if (!data)
      data = default_data_root(data_buf, sizeof data_buf);
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
        status = fail("%s", err);
        goto out;
      }
    }
  } else {
    if (!data) {
      status = fail("%s", "run: --codec needs --data DATASET_DIR (the images to run)");
      goto out;
    }
    s = suite_new_adhoc("adhoc");
    if (!s) {
      status = fail("%s", "out of memory");
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
      status = fail("%s", err);
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
        status = fail("run: unknown codec '%s' (see `saicbench codecs`)", name);
        goto out;
      }
      if (check_codec_spec_keys(vt, codec_specs[i], err, sizeof err) ||
          suite_add_codec_spec(s, codec_specs[i], vt->knob.name, err, sizeof err)) {
        sb_buf_free(&text);
        status = fail("%s", err);
        goto out;
      }
      sb_buf_printf(&text, " codec=%s", codec_specs[i]);
    }
    for (int i = 0; i < n_tasks; i++) {
      if (suite_add_task_spec(s, task_specs[i], err, sizeof err)) {
        sb_buf_free(&text);
        status = fail("%s", err);
        goto out;
      }
      sb_buf_printf(&text, " task=%s", task_specs[i]);
    }
    s->text = sb_buf_take(&text);
    data = NULL; /* the dataset path is already complete */
  }
  if (!shard_count && shard_from_environment(&shard_index, &shard_count, quiet) < 0)
    goto out;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  const char *kill_after = getenv("SAICBENCH_TEST_KILL_AFTER_UNITS");
  runner_options ro = {.db_path = db,
                       .data_root = data,
                       .threads = (int)threads,
                       .resume = resume,
                       .limit = (size_t)limit,
                       .quiet = quiet,
                       .command = command,
                       .stop = &g_stop,
                       .kill_after_units = kill_after ? strtoull(kill_after, NULL, 10) : 0,
                       .shard_index = shard_index,
                       .shard_count = shard_count,
                       .timing_repeats = (int)timing_repeats,
                       .data_root_given = data_given};
  runner_summary sum;
  if (runner_run(s, reg, &ro, &sum, err, sizeof err)) {
    status = fail("%s", err);
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
    int rs = cmd_report_write_opts(db, sum.run_id, 0, report_dir, &run_ropt);
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

/* ------------------------------------------------------------------ report */

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
             "  --no-images       no example image strips (they re-encode a few images from the\n"
             "                    dataset files, which must still be at the stored paths)\n");
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
static int cmd_report_write_opts(const char *db_path, int64_t run_id, int latest, const char *out,
                                 const report_options *opt) {
  store *st;
  char err[1024];
  if (store_open_readonly(db_path, &st, err, sizeof err))
    return fail("%s", err);
  int status = 0;
  report_options o = opt ? *opt : (report_options){0};
  char *anchor = NULL, *reference = NULL;
  if (latest && results_latest_run(st, &run_id, err, sizeof err)) {
    status = fail("%s", err);
  } else {
    if (!o.anchor || !o.reference)
      stored_report_labels(st, run_id, &anchor, &reference);
    o.anchor = o.anchor ? o.anchor : anchor;
    o.reference = o.reference ? o.reference : reference;
    if (report_write_opts(st, run_id, out, &o, err, sizeof err))
      status = fail("%s", err);
    else
      fprintf(stderr, "saicbench: report of run %lld written to %s/report.html\n",
              (long long)run_id, out);
  }
  free(anchor);
  free(reference);
  store_close(st);
  return status;
}

static int cmd_report(int argc, char **argv) {
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
      if (parse_positive("--run", optarg, LONG_MAX, &run))
        return 2;
      break;
    case 'L': latest = 1; break;
    case 'o': out = optarg; break;
    case 'a': ropt.anchor = optarg; break;
    case 'N': ropt.no_images = 1; break;
    case 'R': ropt.reference = optarg; break;
    case 'B': {
      long r = 0;
      if (strcmp(optarg, "0") != 0 && parse_positive("--bootstrap-rounds", optarg, 1000000, &r))
        return 2;
      if (r > 0 && r < 10)
        return fail("report: --bootstrap-rounds: %s is too few (at least 10, or 0 for none)",
                    optarg);
      ropt.bootstrap_rounds = r ? (int)r : -1;
      break;
    }
    case 'h': usage_report(stdout); return 0;
    default: fprintf(stderr, "saicbench report: see --help\n"); return 2;
    }
  }
  if (optind < argc)
    return fail("report: unexpected argument '%s'", argv[optind]);
  if (!db || !out)
    return fail("%s", "report: --db PATH and --out DIR are required (see --help)");
  if (run && latest)
    return fail("%s", "report: give --run ID or --latest, not both");
  return cmd_report_write_opts(db, run, !run, out, &ropt);
}

/* ------------------------------------------------------------------ compare, history */

/* A run given as ID (in --db), PATH:ID, or PATH (its newest run). Opens the database. */
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

static int cmd_compare(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, 0, 'd'},
                                       {"json", required_argument, 0, 'j'},
                                       {"psnr-tol", required_argument, 0, 'P'},
                                       {"ssim-tol", required_argument, 0, 'S'},
                                       {"bpp-tol", required_argument, 0, 'B'},
                                       {"time-tol", required_argument, 0, 'T'},
                                       {"task-se", required_argument, 0, 'K'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
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
    case 'h':
      printf("usage: saicbench compare [--db PATH] BASELINE CANDIDATE [options]\n"
             "\n"
             "Compares two runs point by point (dataset, codec, grid point) and flags changes\n"
             "beyond noise. A run is ID (in --db), PATH:ID, or PATH (its newest run).\n"
             "Regressions: more bytes at a knob point; lower PSNR, SSIM or MS-SSIM; more failed\n"
             "images; points missing in the candidate. Speed changes are reported only.\n"
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
             "\n"
             "exit status: 0 no regression, 1 regression (points or task metrics), 2 error\n");
      return 0;
    default: fprintf(stderr, "saicbench compare: see --help\n"); return 2;
    }
  }
  if (argc - optind != 2)
    return fail("%s", "compare: give exactly two runs: BASELINE CANDIDATE (see --help)");
  store *sa = NULL, *sb = NULL;
  int64_t ra, rb;
  char err[1024];
  char real_a[PATH_MAX], real_b[PATH_MAX];
  if (open_run_spec(argv[optind], db, &sa, &ra, real_a, err, sizeof err) ||
      open_run_spec(argv[optind + 1], db, &sb, &rb, real_b, err, sizeof err)) {
    store_close(sa);
    return fail("%s", err);
  }
  if (strcmp(real_a, real_b) == 0) { /* one connection: paired intervals need both runs in it */
    store_close(sb);
    sb = sa;
  }
  compare_summary sum;
  int rc = compare_runs(sa, ra, sb, rb, &bounds, stdout, json, &sum, err, sizeof err);
  store_close(sa);
  if (sb != sa)
    store_close(sb);
  if (rc)
    return fail("%s", err);
  return COMPARE_HAS_REGRESSION(&sum) ? 1 : 0;
}

static int cmd_history(int argc, char **argv) {
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
      if (parse_positive("--limit", optarg, 100000, &limit))
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
    return fail("%s", "history: --db PATH and --suite NAME are required (see --help)");
  store *st;
  char err[1024];
  if (store_open_readonly(db, &st, err, sizeof err))
    return fail("%s", err);
  results_run_summary *runs = NULL;
  size_t rows = 0;
  if (results_list_runs(st, suite_name, limit, &runs, &rows, err, sizeof err)) {
    store_close(st);
    return fail("history: %s", err);
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
      if (compare_runs(st, prev, st, r->id, &bounds, NULL, NULL, &sum, err, sizeof err)) {
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
    return fail("history: no runs of suite '%s'", suite_name);
  return status ? status : last_regressions ? 1 : 0;
}

/* ------------------------------------------------------------------ gate */

static void usage_gate(FILE *f) {
  fprintf(f,
          "usage: saicbench gate --candidate SPEC [--baseline SPEC|RUN_ID] [options]\n"
          "\n"
          "Validates a codec against a baseline on a validation suite and says pass or fail.\n"
          "The suite's datasets and tasks are used; its codecs are replaced by the candidate\n"
          "and the baseline, both on the grid of the suite's `gate:` mapping (a SPEC naming\n"
          "its own knob or bpp grid keeps it). Checks: (a) the candidate's rates reach\n"
          "gate.min_bpp..max_bpp; (b) encoding twice gives the same bytes and decoding in two\n"
          "processes (1 and max(2, N) threads) gives the same pixels; (c) accuracy and SI_norm\n"
          "at each grid point are not below the baseline's beyond the tolerance; (d) BD-accuracy\n"
          "and BD-rate at equal accuracy against the baseline. Writes verdict.json and\n"
          "verdict.md into --out and prints the verdict table.\n"
          "\n"
          "  --candidate SPEC  codec spec as `run --codec` takes it, NAME[:KEY=VAL]..., e.g.\n"
          "                    jpeg:subsampling=444; a path ending in .ckpt is shorthand for\n"
          "                    saic:model=PATH\n"
          "  --baseline X      a codec SPEC (run with the candidate), or RUN_ID: a complete run\n"
          "                    in --db on the same images (default: the suite's gate.baseline)\n"
          "  --baseline-label L  with RUN_ID: the codec label in that run (default: its only one)\n"
          "  --suite FILE      validation suite (default suites/validate.yaml)\n"
          "  --db PATH         result database (default OUT/gate.db)\n"
          "  --out DIR         verdict folder (default gate-out)\n"
          "  --data DIR        the folder the suite's dataset paths are relative to (default:\n"
          "                    $SAICBENCH_DATA, else ~/.local/share/saicbench/datasets)\n"
          "  --threads N       worker threads (default %d)\n"
          "  --plugin PATH     load a codec plugin; repeatable\n"
          "  --quiet           no progress output\n"
          "\n"
          "exit status: 0 pass, 1 fail, 2 error (nothing judged), 130 interrupted\n",
          omp_get_max_threads());
}

static int cmd_gate(int argc, char **argv) {
  static const struct option opts[] = {{"candidate", required_argument, 0, 'c'},
                                       {"baseline", required_argument, 0, 'b'},
                                       {"baseline-label", required_argument, 0, 'L'},
                                       {"suite", required_argument, 0, 's'},
                                       {"db", required_argument, 0, 'd'},
                                       {"out", required_argument, 0, 'o'},
                                       {"data", required_argument, 0, 'D'},
                                       {"threads", required_argument, 0, 't'},
                                       {"plugin", required_argument, 0, 'p'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  gate_options go = {.suite_path = "suites/validate.yaml", .out_dir = "gate-out"};
  const char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  long threads = omp_get_max_threads();
  int c, status = 2;
  char data_buf[PATH_MAX], self[PATH_MAX], err[1024];
  char *command = join_argv(argc, argv);
  if (!plugins || !command) {
    status = fail("%s", "out of memory");
    goto out;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': go.candidate = optarg; break;
    case 'b': go.baseline = optarg; break;
    case 'L': go.baseline_label = optarg; break;
    case 's': go.suite_path = optarg; break;
    case 'd': go.db_path = optarg; break;
    case 'o': go.out_dir = optarg; break;
    case 'D': go.data_root = optarg; break;
    case 't':
      if (parse_positive("--threads", optarg, 1024, &threads))
        goto out;
      break;
    case 'p': plugins[go.n_plugins++] = optarg; break;
    case 'q': go.quiet = 1; break;
    case 'h':
      usage_gate(stdout);
      status = 0;
      goto out;
    default: fprintf(stderr, "saicbench gate: see --help\n"); goto out;
    }
  }
  if (optind < argc) {
    status = fail("gate: unexpected argument '%s'", argv[optind]);
    goto out;
  }
  if (!go.candidate) {
    status = fail("%s", "gate: --candidate SPEC is required (see --help)");
    goto out;
  }
  if (!go.data_root)
    go.data_root = default_data_root(data_buf, sizeof data_buf);
  /* The determinism check starts this program again; /proc/self/exe survives a relative
   * argv[0] and a changed PATH. */
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    self[n] = '\0';
  else
    snprintf(self, sizeof self, "%s", argv[-1]); /* main's argv[0]: the program */
  go.self_exe = self;
  go.threads = (int)threads;
  go.plugins = plugins;
  go.command = command;
  go.stop = &g_stop;
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  status = gate_run(&go, stdout, err, sizeof err);
  if (status != GATE_PASS && status != GATE_FAIL)
    fail("%s", err);
out:
  free(plugins);
  free(command);
  return status;
}

/* ------------------------------------------------------------------ merge */

static int cmd_merge(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: saicbench merge OUT_DB SHARD_DB...\n\n"
           "Combines the databases written by `saicbench run --shard I/N` (one complete run of\n"
           "the same plan in each, shards 0..N-1 all present) into one run in OUT_DB (created\n"
           "if missing; runs already there are kept) and recomputes its aggregates. Prints the\n"
           "merged run's id.\n");
    return 0;
  }
  if (argc < 3)
    return fail("%s", "merge: usage: saicbench merge OUT_DB SHARD_DB... (see --help)");
  char *command = join_argv(argc, argv);
  int64_t run_id = 0;
  size_t n_results = 0;
  char err[1024];
  int rc = merge_shards(argv[1], (const char *const *)argv + 2, (size_t)argc - 2, command, &run_id,
                        &n_results, err, sizeof err);
  free(command);
  if (rc)
    return fail("%s", err);
  fprintf(stderr, "saicbench: merged %d shards into run %lld of %s (%zu results)\n", argc - 2,
          (long long)run_id, argv[1], n_results);
  printf("%lld\n", (long long)run_id);
  return 0;
}

/* ------------------------------------------------------------------ train */

static int cmd_train(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "classifier"))
    return tasks_train_classifier_main(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "codec"))
    return saic_train_codec_main(argc - 1, argv + 1);
  FILE *f = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr;
  fprintf(f, "usage: saicbench train classifier --config FILE [--data DIR] [--out DIR] "
             "[--resume] [--threads N]\n"
             "       saicbench train codec --config FILE [--data DIR] [--out DIR] [--resume] "
             "[--threads N]\n"
             "\n"
             "Trains a model on a train split (see `saicbench train classifier --help`,\n"
             "`saicbench train codec --help`).\n");
  return f == stdout ? 0 : 2;
}

/* ------------------------------------------------------------------ codecs */

static int cmd_codecs(int argc, char **argv) {
  static const struct option opts[] = {
      {"plugin", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  int n_plugins = 0, c;
  if (!plugins)
    return fail("%s", "out of memory");
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'p') {
      plugins[n_plugins++] = optarg;
    } else if (c == 'h') {
      printf("usage: saicbench codecs [--plugin PATH]...\n\nLists the codecs: name, library "
             "version, the rate knob (range, direction, kind) and the settings each accepts.\n");
      free(plugins);
      return 0;
    } else {
      free(plugins);
      fprintf(stderr, "saicbench codecs: see --help\n");
      return 2;
    }
  }
  codec_registry *reg;
  char err[512];
  if (codec_registry_create(&reg, err, sizeof err)) {
    free(plugins);
    return fail("%s", err);
  }
  if (load_plugins(reg, plugins, n_plugins)) {
    codec_registry_destroy(reg);
    free(plugins);
    return 2;
  }
  for (size_t i = 0; i < codec_registry_count(reg); i++) {
    const codec_vtable *vt = codec_registry_at(reg, i);
    const char *plugin = codec_registry_plugin_path(reg, vt);
    printf("%s  (%s)%s%s\n  %s\n", vt->name, vt->library_version(), plugin ? "  plugin: " : "",
           plugin ? plugin : "", vt->description);
    printf("  knob %s: %s %g..%g, %s rate as it grows — %s\n", vt->knob.name,
           vt->knob.kind == CODEC_KNOB_INT ? "integer" : "real", vt->knob.min, vt->knob.max,
           vt->knob.rate_increases >= 0 ? "more" : "less", vt->knob.description);
    if (vt->settings_help && *vt->settings_help) {
      printf("  settings:\n");
      const char *p = vt->settings_help;
      while (*p) {
        size_t n = strcspn(p, "\n");
        printf("    %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
      }
    }
    printf("\n");
  }
  codec_registry_destroy(reg);
  free(plugins);
  return 0;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f) {
  fprintf(f,
          "saicbench %s — rate/distortion/accuracy benchmark for image codecs\n"
          "\n"
          "usage: saicbench COMMAND [options]   (saicbench COMMAND --help for details)\n"
          "\n"
          "commands:\n"
          "  run       run a suite (or an ad-hoc set of codecs) and store results in SQLite\n"
          "  report    write CSV, JSON and HTML reports of a stored run\n"
          "  codecs    list codecs, their rate knob and settings, and library versions\n"
          "  merge     combine the databases of a sharded run into one run\n"
          "  compare   compare two runs point by point; exit 1 on regressions\n"
          "  train     train a model (classifier: the CIFAR-10 task network; codec: SAIC)\n"
          "  export    turn a trained SAIC model into a codec checkpoint (integer tables)\n"
          "  encode    encode an image with the SAIC codec\n"
          "  decode    decode a SAIC stream into a PNG\n"
          "  history   list a suite's runs with their changes night over night\n"
          "  gate      validate a codec (checkpoint) against a baseline: pass or fail\n"
          "  version   print the version\n",
          SAICBENCH_VERSION);
}

int main(int argc, char **argv) {
  /* A file-size limit (ulimit -f) would otherwise kill the process with SIGXFSZ and no word;
   * ignored, the write fails with EFBIG and the usual message (run: "disk full, file size
   * limit or I/O error ... --resume") names the file. */
  signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "run"))
    return cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "report"))
    return cmd_report(argc - 1, argv + 1);
  if (!strcmp(cmd, "codecs"))
    return cmd_codecs(argc - 1, argv + 1);
  if (!strcmp(cmd, "merge"))
    return cmd_merge(argc - 1, argv + 1);
  if (!strcmp(cmd, "train"))
    return cmd_train(argc - 1, argv + 1);
  if (!strcmp(cmd, "compare"))
    return cmd_compare(argc - 1, argv + 1);
  if (!strcmp(cmd, "export"))
    return saic_cli_export_main(argc - 1, argv + 1);
  if (!strcmp(cmd, "encode"))
    return saic_cli_encode_main(argc - 1, argv + 1);
  if (!strcmp(cmd, "decode"))
    return saic_cli_decode_main(argc - 1, argv + 1);
  if (!strcmp(cmd, "history"))
    return cmd_history(argc - 1, argv + 1);
  if (!strcmp(cmd, "gate"))
    return cmd_gate(argc - 1, argv + 1);
  if (!strcmp(cmd, "__gate-decode")) /* hidden: the gate's decode-determinism child */
    return gate_decode_main(argc - 1, argv + 1);
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
    printf("saicbench %s\n", SAICBENCH_VERSION);
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "saicbench: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}
