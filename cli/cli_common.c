/* Helpers several subcommands share: messages, option values, plugins, the data folder, shards
 * and the stop flag that SIGINT/SIGTERM set. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "cli.h"
#include "codec_registry.h"
#include "harness.h"

/* The one piece of process-wide state: set by SIGINT/SIGTERM, read by the runner. A signal
 * handler can reach nothing else. */
volatile sig_atomic_t cli_stop;

void cli_on_signal(int sig) {
  if (cli_stop) { /* second Ctrl-C: leave now; committed results are safe in the database */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  cli_stop = 1;
}

int cli_fail(const char *fmt, const char *msg) {
  fprintf(stderr, "saicbench: ");
  fprintf(stderr, fmt, msg);
  fputc('\n', stderr);
  return 2;
}

char *cli_join_argv(int argc, char **argv) {
  sb_buf b = {0};
  for (int i = 0; i < argc; i++)
    sb_buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
  return sb_buf_take(&b);
}

int cli_parse_range(const char *opt, const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !*s || *end || v < min || v > max) {
    fprintf(stderr, "saicbench: %s: expected an integer from %ld to %ld, got '%s'\n", opt, min, max,
            s);
    return -1;
  }
  *out = v;
  return 0;
}

int cli_parse_positive(const char *opt, const char *s, long max, long *out) {
  return cli_parse_range(opt, s, 1, max, out);
}

/* Loads the plugins named on the command line into the registry. */
int cli_load_plugins(codec_registry *reg, char **paths, int n) {
  char err[512];
  for (int i = 0; i < n; i++)
    if (codec_registry_load_plugin(reg, paths[i], err, sizeof err)) {
      fprintf(stderr, "saicbench: %s\n", err);
      return -1;
    }
  return 0;
}

int cli_load_suite(const char *suite_file, codec_registry *reg, suite **out, char *err,
                   size_t err_len) {
  if (suite_load_file(suite_file, out, err, err_len))
    return -1;
  const suite *s = *out;
  for (size_t i = 0; i < s->n_plugins; i++) {
    char path[PATH_MAX];
    const char *slash = strrchr(suite_file, '/');
    if (s->plugins[i][0] == '/' || !slash)
      snprintf(path, sizeof path, "%s", s->plugins[i]);
    else
      snprintf(path, sizeof path, "%.*s/%s", (int)(slash - suite_file), suite_file, s->plugins[i]);
    if (codec_registry_load_plugin(reg, path, err, err_len))
      return -1;
  }
  /* After the plugins, so that a name clash is reported against the command codec. */
  return suite_register_command_codecs(s, reg, err, err_len);
}

const char *cli_default_data_root(char *buf, size_t len) {
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
int cli_parse_shard(const char *what, const char *text, unsigned *index, unsigned *count) {
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

/* Reads the shard from a batch scheduler when --shard is not given: Slurm job arrays
 * (SLURM_ARRAY_TASK_ID relative to SLURM_ARRAY_TASK_MIN, of SLURM_ARRAY_TASK_COUNT) or a
 * Kubernetes indexed Job (JOB_COMPLETION_INDEX, with the count in SAICBENCH_SHARD_COUNT because
 * Kubernetes does not export it). Returns 1 if found, 0 if not, -1 on malformed values. */
int cli_shard_from_environment(unsigned *index, unsigned *count, int quiet) {
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
