/* train_util.c - helpers shared by the classifier and codec trainers (see train_util.h). */
#include "train_util.h"

#include <errno.h>
#include <inttypes.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

double train_util_now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void train_util_fmt_hms(double s, char *buf, size_t len) {
  if (!(s >= 0) || s > 1e8)
    s = 0;
  long t = (long)(s + 0.5);
  snprintf(buf, len, "%02ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
}

double train_util_progress(const train_util_clock *clk, long step, double now, double elapsed_s,
                           char *elapsed, char *eta, size_t len) {
  const double el = now - clk->start;
  const long done_steps = step - clk->start_step;
  /* Rates over this call only: steps replayed from a checkpoint took no time here. */
  const double rate = done_steps > 0 ? (double)done_steps * clk->batch / el : 0;
  const double left =
      done_steps > 0 ? el / (double)done_steps * (double)(clk->total_steps - step) : 0;
  train_util_fmt_hms(left, eta, len);
  train_util_fmt_hms(elapsed_s, elapsed, len);
  return rate;
}

void train_util_rng_to_hex(const nn_rng *r, char *buf, size_t len) {
  snprintf(buf, len, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, r->s[0], r->s[1],
           r->s[2], r->s[3]);
}

int train_util_rng_from_hex(const char *s, nn_rng *r) {
  if (!s || strlen(s) != 64)
    return -1;
  for (int i = 0; i < 4; i++) {
    char part[17];
    memcpy(part, s + 16 * i, 16);
    part[16] = '\0';
    char *end;
    errno = 0;
    r->s[i] = (uint64_t)strtoull(part, &end, 16);
    if (*end || errno)
      return -1;
  }
  return 0;
}

void train_util_shuffle(nn_rng *rng, uint32_t *perm, size_t n) {
  for (size_t i = 0; i < n; i++)
    perm[i] = (uint32_t)i;
  for (size_t i = n ? n - 1 : 0; i > 0; i--) {
    size_t j = nn_rng_below(rng, (uint32_t)(i + 1));
    uint32_t tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
}

int train_util_ensure_dir(const char *dir, nn_err *err) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", dir);
  for (char *p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return nn_err_set(err, NN_E_IO, "%s: cannot create: %s", buf, strerror(errno));
      *p = '/';
    }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST)
    return nn_err_set(err, NN_E_IO, "%s: cannot create: %s", buf, strerror(errno));
  return NN_OK;
}

int train_util_meta_opts(const train_util_opts *o, nn_kv *kv) {
  int n = 0;
  if (o->command)
    kv[n++] = (nn_kv){"command", o->command};
  if (o->config_text)
    kv[n++] = (nn_kv){"config", o->config_text};
  if (o->dataset_hash)
    kv[n++] = (nn_kv){"dataset_hash", o->dataset_hash};
  return n;
}

int train_util_check_resume(const char *last_path, nn_err *err) {
  struct stat sb;
  if (stat(last_path, &sb) != 0)
    return nn_err_set(err, NN_E_IO, "%s: --resume, but there is no checkpoint: %s", last_path,
                      strerror(errno));
  return NN_OK;
}

int train_util_check_dataset(const nn_ckpt *ck, const train_util_opts *o, const char *path,
                             const char *prefix, nn_err *err) {
  const char *dh = nn_ckpt_meta(ck, "dataset_hash");
  if (o->dataset_hash && dh && strcmp(o->dataset_hash, dh) != 0)
    return nn_err_set(err, NN_E_FORMAT, "%s%s: trained on data with hash %s, this data has hash %s",
                      prefix, path, dh, o->dataset_hash);
  return NN_OK;
}

void train_util_warn_config(const nn_ckpt *ck, const train_util_opts *o, const char *path) {
  const char *cfg = nn_ckpt_meta(ck, "config");
  if (o->log && o->config_text && cfg && strcmp(o->config_text, cfg) != 0)
    fprintf(o->log,
            "warning: %s was written with a different configuration; continuing with the "
            "current one\n",
            path);
}

int train_util_restore_state(const nn_ckpt *ck, const char *name, float *st, size_t numel,
                             const char *path, const char *prefix, nn_err *err) {
  const int j = nn_ckpt_find_tensor(ck, name);
  if (j < 0)
    return nn_err_set(err, NN_E_FORMAT, "%s%s: optimiser state \"%s\" missing", prefix, path, name);
  const char *tn;
  int rank, dims[4];
  const float *data;
  nn_ckpt_tensor_at(ck, j, &tn, &rank, dims, &data);
  const size_t cnt = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2] * (size_t)dims[3];
  if (cnt != numel)
    return nn_err_set(err, NN_E_FORMAT, "%s%s: optimiser state \"%s\" has the wrong size", prefix,
                      path, name);
  memcpy(st, data, sizeof(float) * cnt);
  return NN_OK;
}

/* ---- command line ---- */

int train_util_parse_count(const char *prog, const char *opt, const char *v, long lo, long hi,
                           long *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < lo || x > hi) {
    fprintf(stderr, "%s: %s wants a number in %ld..%ld, got \"%s\"\n", prog, opt, lo, hi, v);
    return -1;
  }
  *out = x;
  return 0;
}

bool train_util_parse_args(int argc, char **argv, const char *prog, const char *default_out,
                           void (*usage)(FILE *), train_util_opt_fn extra, void *ctx,
                           train_util_args *a, int *status) {
  memset(a, 0, sizeof *a);
  a->data = getenv("SAICBENCH_DATA");
  a->out = default_out;
  *status = 2;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    bool has_next = i + 1 < argc;
    if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
      usage(stdout);
      *status = 0;
      return false;
    } else if (strcmp(s, "--resume") == 0) {
      a->resume = true;
    } else if (has_next && strcmp(s, "--config") == 0) {
      a->config = argv[++i];
    } else if (has_next && strcmp(s, "--data") == 0) {
      a->data = argv[++i];
    } else if (has_next && strcmp(s, "--out") == 0) {
      a->out = argv[++i];
    } else if (has_next && strcmp(s, "--threads") == 0) {
      long v;
      if (train_util_parse_count(prog, s, argv[++i], 1, 1024, &v))
        return false;
      a->threads = (int)v;
    } else {
      const int r = extra ? extra(ctx, prog, argc, argv, &i) : 0;
      if (r < 0)
        return false;
      if (r == 0) {
        fprintf(stderr, "%s: unknown or incomplete option \"%s\"\n", prog, s);
        usage(stderr);
        return false;
      }
    }
  }
  if (!a->config) {
    fprintf(stderr, "%s: --config FILE is required\n", prog);
    usage(stderr);
    return false;
  }
  if (!a->data) {
    fprintf(stderr, "%s: no data folder: pass --data DIR or set SAICBENCH_DATA\n", prog);
    return false;
  }
  if (a->threads == 0)
    a->threads = omp_get_max_threads();
  *status = 0;
  return true;
}

void train_util_data_root(const char *data, char *root, size_t len) {
  struct stat sb;
  snprintf(root, len, "%s/cifar10", data);
  if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode))
    snprintf(root, len, "%s", data);
}

void train_util_command(int argc, char **argv, char *buf, size_t len) {
  snprintf(buf, len, "saicbench train");
  for (int i = 0; i < argc; i++) {
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, " %s", argv[i]);
  }
}
