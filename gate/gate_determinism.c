/* Check (b): encode determinism (twice in-process) and decode determinism (the candidate's files
 * decoded by two `saicbench __gate-decode` processes with different thread counts). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base.h"
#include "data.h"
#include "gate_internal.h"
#include "base.h"
#include "harness.h"

extern char **environ;

char *gate_path_join(const char *dir, const char *name) {
  sb_buf b = {0};
  sb_buf_printf(&b, "%s/%s", dir, name);
  return sb_buf_take(&b);
}

static int write_file(const char *path, const void *data, size_t size, char *err, size_t err_len) {
  FILE *f = fopen(path, "wb");
  int ok = f && (!size || fwrite(data, 1, size, f) == size);
  if (f && fclose(f))
    ok = 0;
  if (!ok)
    snprintf(err, err_len, "%s: %s", path, strerror(errno));
  return ok ? 0 : -1;
}

/* Spawns `self __gate-decode ...` with OMP_NUM_THREADS=threads, stderr to `log`. Returns the
 * child's exit status, or -1 with err set when it could not be started. */
static int spawn_decoder(const gate_options *o, const char *spec, int threads, size_t count,
                         const char *in_dir, const char *out_dir, const char *log, char *err,
                         size_t err_len) {
  char threads_s[16], count_s[24], omp_env[40];
  snprintf(threads_s, sizeof threads_s, "%d", threads);
  snprintf(count_s, sizeof count_s, "%zu", count);
  snprintf(omp_env, sizeof omp_env, "OMP_NUM_THREADS=%d", threads);
  size_t n_args = 12 + 2 * o->n_plugins, n_env = 0;
  while (environ && environ[n_env])
    n_env++;
  char **args = calloc(n_args + 1, sizeof *args), **env = calloc(n_env + 2, sizeof *env);
  if (!args || !env) {
    free(args);
    free(env);
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  size_t a = 0, e = 0;
  args[a++] = (char *)o->self_exe;
  args[a++] = "__gate-decode";
  args[a++] = "--spec";
  args[a++] = (char *)spec;
  args[a++] = "--threads";
  args[a++] = threads_s;
  args[a++] = "--count";
  args[a++] = count_s;
  args[a++] = "--in";
  args[a++] = (char *)in_dir;
  args[a++] = "--out";
  args[a++] = (char *)out_dir;
  for (size_t i = 0; i < o->n_plugins; i++) {
    args[a++] = "--plugin";
    args[a++] = (char *)o->plugins[i];
  }
  for (size_t i = 0; i < n_env; i++)
    if (strncmp(environ[i], "OMP_NUM_THREADS=", 16))
      env[e++] = environ[i];
  env[e++] = omp_env;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  int rc = posix_spawn(&pid, o->self_exe, &fa, NULL, args, env);
  posix_spawn_file_actions_destroy(&fa);
  free(args);
  free(env);
  if (rc) {
    snprintf(err, err_len, "cannot start %s: %s", o->self_exe, strerror(rc));
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      snprintf(err, err_len, "waiting for %s: %s", o->self_exe, strerror(errno));
      return -1;
    }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The first line of a child's log, for the verdict. */
static void first_line(const char *path, char *out, size_t len) {
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  if (fgets(out, (int)len, f))
    out[strcspn(out, "\n")] = '\0';
  fclose(f);
}

/* Files a and b have the same bytes: 1; differ: 0; unreadable: -1. */
static int same_file(const char *a, const char *b) {
  uint8_t *da = NULL, *db = NULL;
  size_t na = 0, nb = 0;
  char e[256];
  int rc = -1;
  if (!image_read_file(a, (size_t)1 << 30, &da, &na, e, sizeof e) &&
      !image_read_file(b, (size_t)1 << 30, &db, &nb, e, sizeof e))
    rc = na == nb && !memcmp(da, db, na);
  free(da);
  free(db);
  return rc;
}

/* The knob values the determinism check encodes at: up to three of the candidate's knob grid
 * (lowest, middle, highest), else the lowest, middle and highest of the codec's range. */
static size_t determinism_knobs(const suite_codec *sc, const codec_knob *kb, double out[3]) {
  double v[3];
  if (sc->n_knobs) {
    double *s = malloc(sc->n_knobs * sizeof *s);
    if (!s)
      return 0;
    memcpy(s, sc->knobs, sc->n_knobs * sizeof *s);
    for (size_t i = 1; i < sc->n_knobs; i++) /* insertion sort: grids are small */
      for (size_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
        double t = s[j];
        s[j] = s[j - 1];
        s[j - 1] = t;
      }
    v[0] = s[0];
    v[1] = s[sc->n_knobs / 2];
    v[2] = s[sc->n_knobs - 1];
    free(s);
  } else {
    v[0] = kb->min;
    v[1] = (kb->min + kb->max) / 2;
    v[2] = kb->max;
    if (kb->kind == CODEC_KNOB_INT)
      v[1] = floor(v[1]);
  }
  size_t n = 0;
  for (int i = 0; i < 3; i++)
    if (!n || v[i] != out[n - 1])
      out[n++] = v[i];
  return n;
}

/* The check's files under OUT/determinism: the encoded files, and per decoder process (1 and
 * max(2, threads) threads) its decoded files and its stderr. */
typedef struct det_paths {
  char *dir, *enc_dir, *dec_dir[2], *log[2];
  int threads[2];
} det_paths;

/* Fills p; 0, or -1 when out of memory (p is freed with det_paths_free either way). */
static int det_paths_init(det_paths *p, const char *out_dir, int threads) {
  char *dir = gate_path_join(out_dir, "determinism");
  p->dir = dir;
  p->enc_dir = dir ? gate_path_join(dir, "encoded") : NULL;
  p->dec_dir[0] = dir ? gate_path_join(dir, "decoded-1") : NULL;
  p->log[0] = dir ? gate_path_join(dir, "decode-1.log") : NULL;
  p->threads[0] = 1;
  p->threads[1] = threads > 2 ? threads : 2;
  char name[32];
  snprintf(name, sizeof name, "decoded-%d", p->threads[1]);
  p->dec_dir[1] = dir ? gate_path_join(dir, name) : NULL;
  snprintf(name, sizeof name, "decode-%d.log", p->threads[1]);
  p->log[1] = dir ? gate_path_join(dir, name) : NULL;
  return dir && p->enc_dir && p->dec_dir[0] && p->dec_dir[1] && p->log[0] && p->log[1] ? 0 : -1;
}

static void det_paths_free(det_paths *p) {
  free(p->dir);
  free(p->enc_dir);
  for (int t = 0; t < 2; t++) {
    free(p->dec_dir[t]);
    free(p->log[t]);
  }
}

/* Encodes up to cfg->determinism_images images of the suite's first dataset twice at each
 * determinism knob, writes the first encoding of each to enc_dir/NNN.bin (*n_files of them) and
 * adds the "encode determinism" row. Returns 0, 1 when the candidate failed to encode (a FAIL
 * row, nothing to decode), -1 with err set on errors of the harness. */
static int encode_twice(const gate_options *o, const gate_config *cfg, const suite_dataset *sd,
                        const suite_codec *sc, const gate_side *cand, const char *enc_dir,
                        gate_check_list *l, size_t *n_files, char *err, size_t err_len) {
  dataset *ds = NULL;
  void *inst = NULL;
  int rc = -1, created = 0;
  size_t n_enc_diff = 0, n_images = 0;
  codec_encoded e1 = {0}, e2 = {0};
  image_rgb8 img = {0};
  char *ds_path = NULL;
  char e[512] = "", name[32];
  double knobs[3];
  ds_path = sd->path[0] == '/' || !o->data_root ? strdup(sd->path)
                                                : gate_path_join(o->data_root, sd->path);
  if (!ds_path || dataset_open(ds_path, sd->split, &ds, e, sizeof e)) {
    snprintf(err, err_len, "determinism check: dataset '%s': %s", sd->name,
             ds_path ? e : "out of memory");
    goto out;
  }
  if (cand->vt->create(sc->options, sc->n_options, &inst, e, sizeof e)) {
    snprintf(err, err_len, "candidate: %s", e);
    goto out;
  }
  created = 1;
  size_t n_knobs = determinism_knobs(sc, &cand->vt->knob, knobs);
  size_t stride = sd->stride ? sd->stride : 1;
  for (size_t k = sd->offset, tries = 0;
       k < dataset_size(ds) && n_images < cfg->determinism_images && tries < 4 * 64;
       k += stride, tries++) {
    if (dataset_load(ds, k, &img, e, sizeof e))
      continue; /* unreadable images are the run's business, not this check's */
    n_images++;
    for (size_t q = 0; q < n_knobs; q++) {
      if (cand->vt->encode(inst, img.rgb, img.width, img.height, knobs[q], &e1, e, sizeof e) ||
          cand->vt->encode(inst, img.rgb, img.width, img.height, knobs[q], &e2, e, sizeof e)) {
        gate_add_check(l, "encode determinism", sd->name, NULL, NULL, ST_FAIL, NAN, NAN,
                       "encode failed on %s at %s=%g: %.100s", dataset_item_name(ds, k),
                       cand->vt->knob.name, knobs[q], e);
        rc = 1;
        goto out;
      }
      n_enc_diff += e1.size != e2.size || memcmp(e1.data, e2.data, e1.size);
      snprintf(name, sizeof name, "%03zu.bin", (*n_files)++);
      char *p = gate_path_join(enc_dir, name);
      int wrc = p ? write_file(p, e1.data, e1.size, err, err_len) : -1;
      if (!p)
        snprintf(err, err_len, "out of memory");
      free(p);
      free(e1.data);
      free(e2.data);
      e1.data = e2.data = NULL;
      if (wrc)
        goto out;
    }
    image_free(&img);
  }
  if (!*n_files) {
    snprintf(err, err_len, "determinism check: no readable image in dataset '%s'", sd->name);
    goto out;
  }
  gate_check *c = gate_add_check(l, "encode determinism", sd->name, NULL, NULL,
                                 n_enc_diff ? ST_FAIL : ST_PASS, (double)n_enc_diff, 0,
                                 "%zu images x %zu knob values, encoded twice", n_images, n_knobs);
  if (c) {
    snprintf(c->value, sizeof c->value, "%zu of %zu differ", n_enc_diff, *n_files);
    snprintf(c->limit, sizeof c->limit, "identical bytes");
  }
  rc = 0;
out:
  free(e1.data);
  free(e2.data);
  image_free(&img);
  if (created)
    cand->vt->destroy(inst);
  dataset_close(ds);
  free(ds_path);
  return rc;
}

/* Decodes the n_files encoded files in two `__gate-decode` processes and compares their output:
 * the "decode determinism" row. Returns 0, or -1 with err set on errors of the harness. */
static int decode_twice(const gate_options *o, const suite_dataset *sd, const gate_side *cand,
                        const det_paths *p, size_t n_files, gate_check_list *l, char *err,
                        size_t err_len) {
  int status[2];
  size_t n_diff = 0;
  char name[32];
  for (int t = 0; t < 2; t++)
    if ((status[t] = spawn_decoder(o, cand->run_spec, p->threads[t], n_files, p->enc_dir,
                                   p->dec_dir[t], p->log[t], err, err_len)) < 0)
      return -1;
  for (int t = 0; t < 2; t++)
    if (status[t]) {
      char line[160];
      first_line(p->log[t], line, sizeof line);
      gate_add_check(l, "decode determinism", sd->name, NULL, NULL, ST_FAIL, NAN, NAN,
                     "decoder process (%d threads) exited with %d: %s", p->threads[t], status[t],
                     line);
      return 0;
    }
  for (size_t i = 0; i < n_files; i++) {
    snprintf(name, sizeof name, "%03zu.ppm", i);
    char *a = gate_path_join(p->dec_dir[0], name), *b = gate_path_join(p->dec_dir[1], name);
    int same = a && b ? same_file(a, b) : -1;
    free(a);
    free(b);
    if (same < 0) {
      snprintf(err, err_len, "determinism check: cannot read the decoded %s", name);
      return -1;
    }
    n_diff += !same;
  }
  gate_check *c = gate_add_check(
      l, "decode determinism", sd->name, NULL, NULL, n_diff ? ST_FAIL : ST_PASS, (double)n_diff, 0,
      "%zu files decoded in 2 processes, %d and %d threads", n_files, p->threads[0], p->threads[1]);
  if (c) {
    snprintf(c->value, sizeof c->value, "%zu of %zu differ", n_diff, n_files);
    snprintf(c->limit, sizeof c->limit, "identical bytes");
  }
  return 0;
}

/* (b) Encode determinism (twice in-process) and decode determinism (two processes, 1 and
 * max(2, threads) threads). Failures of the candidate are verdict rows; errors of the harness
 * (cannot write files, cannot start a process) return -1 with err set. */
int gate_check_determinism(const gate_options *o, const gate_config *cfg, const suite *gs,
                           const gate_side *cand, gate_check_list *l, char *err, size_t err_len) {
  const suite_dataset *sd = &gs->datasets[0];
  const suite_codec *sc = NULL;
  for (size_t i = 0; i < gs->n_codecs; i++)
    if (!strcmp(gs->codecs[i].label, cand->role))
      sc = &gs->codecs[i];
  det_paths p = {0};
  size_t n_files = 0;
  int rc = -1;
  if (det_paths_init(&p, o->out_dir, o->threads) || !sc) {
    snprintf(err, err_len, "out of memory");
    goto out;
  }
  if (sb_mkdirs(p.enc_dir, err, err_len) || sb_mkdirs(p.dec_dir[0], err, err_len) ||
      sb_mkdirs(p.dec_dir[1], err, err_len))
    goto out;
  rc = encode_twice(o, cfg, sd, sc, cand, p.enc_dir, l, &n_files, err, err_len);
  if (rc == 0)
    rc = decode_twice(o, sd, cand, &p, n_files, l, err, err_len);
  else if (rc > 0)
    rc = 0; /* the candidate failed to encode: a verdict row, nothing to decode */
out:
  det_paths_free(&p);
  return rc;
}
