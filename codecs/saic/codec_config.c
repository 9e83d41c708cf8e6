/* codec_config.c - YAML training configuration of the SAIC codec (see codec_config.h).
 *
 * The document is a mapping of scalars, nested mappings and (for the keys that take one) lists
 * of numbers; each value gets a dotted path ("loss.alpha") looked up in a key table, as in
 * tasks/classifier_config.c. Every message carries path:line:col (1-based). */
#include "codec_config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

void saic_codec_cfg_defaults(saic_codec_cfg *c) {
  memset(c, 0, sizeof *c);
  c->model = (saic_model_cfg){64, 96, 4};
  c->epochs = 10;
  c->batch_size = 32;
  c->seed = 1;
  c->lr = 3e-4f;
  c->density_lr_mult = 10.f;
  c->gain_lr_mult = 10.f;
  c->clip_grad_norm = 1.0;
  c->sched = SAIC_CODEC_SCHED_COSINE;
  c->warmup_epochs = 0.f;
  c->warmup_start = 0.1f;
  c->min_lr = 0.f;
  c->loss.levels = 4;
  c->loss.quant = SAIC_QUANT_NOISE;
  c->flip = true;
  c->crop_pad = 0;
  c->checkpoint_every = 1;
  c->log_every = 100;
  c->eval_every = 1;
  c->eval_images = 1000;
  c->rate_gain = 0.005;
  c->rate_freeze_at = 0.75;
}

typedef enum {
  K_INT,
  K_U64,
  K_FLOAT,
  K_DOUBLE,
  K_BOOL,
  K_SCHED,
  K_QUANT,
  K_GSW_ON,
  K_PATH,
  K_LIST /* numbers into a double[SAIC_TRAIN_MAX_LEVELS] at off, count (int) at off2 */
} key_type;

typedef struct key_def {
  const char *path;
  key_type type;
  size_t off, off2;
  double lo, hi; /* inclusive range for numbers (each element of a list) */
} key_def;

#define OFF(f) offsetof(saic_codec_cfg, f)
#define CAP(f) sizeof(((saic_codec_cfg *)0)->f) /* K_PATH: the char array's size, in off2 */
static const key_def keys[] = {
    {"model.n", K_INT, OFF(model.n), 0, 1, 1024},
    {"model.m", K_INT, OFF(model.m), 0, 1, 1024},
    {"model.levels", K_INT, OFF(model.levels), 0, 1, SAIC_TRAIN_MAX_LEVELS},
    {"epochs", K_INT, OFF(epochs), 0, 1, 100000},
    {"batch_size", K_INT, OFF(batch_size), 0, 1, classifier_max_batch},
    {"seed", K_U64, OFF(seed), 0, 0, 0},
    {"lr", K_FLOAT, OFF(lr), 0, 1e-12, 1},
    {"density_lr_mult", K_FLOAT, OFF(density_lr_mult), 0, 1e-6, 1e6},
    {"gain_lr_mult", K_FLOAT, OFF(gain_lr_mult), 0, 1e-6, 1e6},
    {"clip_grad_norm", K_DOUBLE, OFF(clip_grad_norm), 0, 0, 1e9},
    {"schedule.kind", K_SCHED, OFF(sched), 0, 0, 0},
    {"schedule.warmup_epochs", K_FLOAT, OFF(warmup_epochs), 0, 0, 100000},
    {"schedule.warmup_start", K_FLOAT, OFF(warmup_start), 0, 0, 1},
    {"schedule.min_lr", K_FLOAT, OFF(min_lr), 0, 0, 1},
    {"lambdas", K_LIST, OFF(loss.lambda), OFF(loss.levels), 1e-12, 1e6},
    {"loss.alpha", K_DOUBLE, OFF(loss.alpha), 0, 0, 1},
    {"loss.gamma", K_DOUBLE, OFF(loss.gamma), 0, 0, 1e6},
    {"loss.gsw_on", K_GSW_ON, OFF(loss.gsw_on_original), 0, 0, 0},
    {"loss.smooth", K_INT, OFF(loss.smooth), 0, 0, 31},
    {"loss.w_max", K_DOUBLE, OFF(loss.w_max), 0, 0, 1e6},
    {"quant", K_QUANT, OFF(loss.quant), 0, 0, 0},
    {"task_checkpoint", K_PATH, OFF(task_checkpoint), CAP(task_checkpoint), 0, 0},
    {"init_checkpoint", K_PATH, OFF(init_checkpoint), CAP(init_checkpoint), 0, 0},
    {"augment.flip", K_BOOL, OFF(flip), 0, 0, 0},
    {"augment.crop_pad", K_INT, OFF(crop_pad), 0, 0, 16},
    {"checkpoint_every", K_INT, OFF(checkpoint_every), 0, 1, 100000},
    {"log_every", K_INT, OFF(log_every), 0, 1, 1000000},
    {"eval.every", K_INT, OFF(eval_every), 0, 0, 100000},
    {"eval.images", K_INT, OFF(eval_images), 0, 0, 10000000},
    {"rate_target", K_LIST, OFF(rate_target), OFF(nrate_targets), 1e-4, 64},
    {"rate_control.gain", K_DOUBLE, OFF(rate_gain), 0, 0, 1},
    {"rate_control.freeze_at", K_DOUBLE, OFF(rate_freeze_at), 0, 0, 1},
};
#undef OFF
enum { NKEYS = sizeof keys / sizeof keys[0] };

static int fail_at(char *err, size_t len, const char *path, yaml_mark_t m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static int fail_at(char *err, size_t len, const char *path, yaml_mark_t m, const char *fmt, ...) {
  if (err && len) {
    int k = snprintf(err, len, "%s:%zu:%zu: ", path, m.line + 1, m.column + 1);
    if (k >= 0 && (size_t)k < len) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + k, len - (size_t)k, fmt, ap);
      va_end(ap);
    }
  }
  return -1;
}

static bool parse_bool(const char *s, bool *out) {
  static const char *t[] = {"true", "yes", "on"}, *f[] = {"false", "no", "off"};
  for (int i = 0; i < 3; i++) {
    if (strcasecmp(s, t[i]) == 0)
      return *out = true, true;
    if (strcasecmp(s, f[i]) == 0)
      return *out = false, true;
  }
  return false;
}

static int parse_number(const char *path, const key_def *k, const char *v, yaml_mark_t m,
                        double *out, char *err, size_t len) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(x))
    return fail_at(err, len, path, m, "%s: expected a number, got \"%s\"", k->path, v);
  if (x < k->lo || x > k->hi)
    return fail_at(err, len, path, m, "%s: %g is out of range [%g, %g]", k->path, x, k->lo, k->hi);
  *out = x;
  return 0;
}

/* A path relative to the configuration file's folder, into the char[cap] at dst. */
static int set_path(const char *cfg_path, const char *key, const char *v, yaml_mark_t m, char *dst,
                    size_t cap, char *err, size_t len) {
  if (!v[0])
    return fail_at(err, len, cfg_path, m, "%s: empty path", key);
  int k;
  const char *slash = strrchr(cfg_path, '/');
  if (v[0] == '/' || !slash)
    k = snprintf(dst, cap, "%s", v);
  else
    k = snprintf(dst, cap, "%.*s/%s", (int)(slash - cfg_path), cfg_path, v);
  if (k < 0 || (size_t)k >= cap)
    return fail_at(err, len, cfg_path, m, "%s: path too long", key);
  return 0;
}

static int set_value(const char *path, const key_def *k, const char *v, yaml_mark_t m,
                     saic_codec_cfg *cfg, char *err, size_t len) {
  char *base = (char *)cfg + k->off, *end;
  switch (k->type) {
  case K_INT: {
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno)
      return fail_at(err, len, path, m, "%s: expected an integer, got \"%s\"", k->path, v);
    if (x < k->lo || x > k->hi)
      return fail_at(err, len, path, m, "%s: %ld is out of range [%g, %g]", k->path, x, k->lo,
                     k->hi);
    *(int *)(void *)base = (int)x;
    return 0;
  }
  case K_U64: {
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (end == v || *end || errno || v[0] == '-')
      return fail_at(err, len, path, m, "%s: expected a non-negative integer, got \"%s\"", k->path,
                     v);
    *(uint64_t *)(void *)base = (uint64_t)x;
    return 0;
  }
  case K_FLOAT:
  case K_DOUBLE: {
    double x;
    if (parse_number(path, k, v, m, &x, err, len))
      return -1;
    if (k->type == K_FLOAT)
      *(float *)(void *)base = (float)x;
    else
      *(double *)(void *)base = x;
    return 0;
  }
  case K_BOOL:
    if (!parse_bool(v, (bool *)(void *)base))
      return fail_at(err, len, path, m, "%s: expected true or false, got \"%s\"", k->path, v);
    return 0;
  case K_SCHED:
    if (strcmp(v, "cosine") == 0)
      cfg->sched = SAIC_CODEC_SCHED_COSINE;
    else if (strcmp(v, "const") == 0 || strcmp(v, "constant") == 0)
      cfg->sched = SAIC_CODEC_SCHED_CONST;
    else
      return fail_at(err, len, path, m, "schedule.kind: expected cosine or const, got \"%s\"", v);
    return 0;
  case K_QUANT:
    if (strcmp(v, "noise") == 0)
      cfg->loss.quant = SAIC_QUANT_NOISE;
    else if (strcmp(v, "ste") == 0)
      cfg->loss.quant = SAIC_QUANT_STE;
    else
      return fail_at(err, len, path, m, "quant: expected noise or ste, got \"%s\"", v);
    return 0;
  case K_GSW_ON:
    if (strcmp(v, "x_hat") == 0)
      cfg->loss.gsw_on_original = 0;
    else if (strcmp(v, "x") == 0)
      cfg->loss.gsw_on_original = 1;
    else
      return fail_at(err, len, path, m, "loss.gsw_on: expected x_hat or x, got \"%s\"", v);
    return 0;
  case K_PATH: return set_path(path, k->path, v, m, (char *)cfg + k->off, k->off2, err, len);
  case K_LIST:
    return fail_at(err, len, path, m, "%s: expected a list of numbers, e.g. [%s]", k->path,
                   strcmp(k->path, "lambdas") == 0 ? "1.2e-4, 5e-4, 2e-3, 8e-3"
                                                   : "0.1, 0.3, 0.7, 1.5");
  }
  return -1;
}

enum { MAX_DEPTH = 4 };

int saic_codec_cfg_parse(const char *path, const char *text, size_t len, saic_codec_cfg *cfg,
                         char *err, size_t err_len) {
  saic_codec_cfg_defaults(cfg);
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) {
    snprintf(err, err_len, "%s: cannot initialise the YAML parser", path);
    return -1;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  struct {
    char prefix[128];
    char key[128];
    bool want_key;
    yaml_mark_t key_mark;
  } st[MAX_DEPTH];
  int depth = 0, rc = 0, docs = 0;
  int list_key = -1, list_n = 0; /* the list being read */
  bool seen[NKEYS] = {false}, done = false;
  yaml_mark_t marks[NKEYS];
  memset(marks, 0, sizeof marks);
  while (!done && rc == 0) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = fail_at(err, err_len, path, p.problem_mark, "YAML syntax error: %s%s%s",
                   p.problem ? p.problem : "unknown", p.context ? " " : "",
                   p.context ? p.context : "");
      break;
    }
    yaml_mark_t m = ev.start_mark;
    if (list_key >= 0) { /* inside a list of numbers */
      const key_def *k = &keys[list_key];
      if (ev.type == YAML_SCALAR_EVENT) {
        double x;
        if (list_n >= SAIC_TRAIN_MAX_LEVELS)
          rc = fail_at(err, err_len, path, m, "%s: more than %d values", k->path,
                       SAIC_TRAIN_MAX_LEVELS);
        else if ((rc = parse_number(path, k, (const char *)ev.data.scalar.value, m, &x, err,
                                    err_len)) == 0)
          ((double *)(void *)((char *)cfg + k->off))[list_n++] = x;
      } else if (ev.type == YAML_SEQUENCE_END_EVENT) {
        *(int *)(void *)((char *)cfg + k->off2) = list_n;
        list_key = -1;
        st[depth - 1].want_key = true;
      } else {
        rc = fail_at(err, err_len, path, m, "%s: expected a list of numbers", k->path);
      }
      yaml_event_delete(&ev);
      continue;
    }
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = true; break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1)
        rc = fail_at(err, err_len, path, m, "more than one YAML document");
      break;
    case YAML_MAPPING_START_EVENT:
      if (depth == 0) {
        st[0].prefix[0] = '\0';
      } else if (st[depth - 1].want_key) {
        rc = fail_at(err, err_len, path, m, "a mapping cannot be a key");
        break;
      } else if (depth >= MAX_DEPTH) {
        rc = fail_at(err, err_len, path, m, "mappings nested too deeply");
        break;
      } else {
        const size_t lp = strlen(st[depth - 1].prefix), lk = strlen(st[depth - 1].key);
        if (lp + lk + 2 > sizeof st[0].prefix) {
          rc = fail_at(err, err_len, path, m, "key path too long");
          break;
        }
        memcpy(st[depth].prefix, st[depth - 1].prefix, lp);
        memcpy(st[depth].prefix + lp, st[depth - 1].key, lk);
        st[depth].prefix[lp + lk] = '.';
        st[depth].prefix[lp + lk + 1] = '\0';
      }
      st[depth].want_key = true;
      depth++;
      break;
    case YAML_MAPPING_END_EVENT:
      depth--;
      if (depth > 0)
        st[depth - 1].want_key = true;
      break;
    case YAML_SEQUENCE_START_EVENT: {
      if (depth == 0 || st[depth - 1].want_key) {
        rc = fail_at(err, err_len, path, m,
                     depth ? "a list cannot be a key" : "the configuration must be a mapping");
        break;
      }
      char full[256];
      snprintf(full, sizeof full, "%s%s", st[depth - 1].prefix, st[depth - 1].key);
      int k = -1;
      for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].path, full) == 0)
          k = i;
      if (k < 0)
        rc = fail_at(err, err_len, path, st[depth - 1].key_mark, "unknown key \"%s\"", full);
      else if (seen[k])
        rc = fail_at(err, err_len, path, st[depth - 1].key_mark, "duplicate key \"%s\"", full);
      else if (keys[k].type != K_LIST)
        rc = fail_at(err, err_len, path, m, "%s: a list is not allowed here", full);
      else {
        seen[k] = true;
        marks[k] = m;
        list_key = k;
        list_n = 0;
      }
      break;
    }
    case YAML_ALIAS_EVENT: rc = fail_at(err, err_len, path, m, "aliases are not supported"); break;
    case YAML_SCALAR_EVENT: {
      const char *v = (const char *)ev.data.scalar.value;
      if (depth == 0) {
        rc = fail_at(err, err_len, path, m, "the configuration must be a mapping");
        break;
      }
      if (st[depth - 1].want_key) {
        snprintf(st[depth - 1].key, sizeof st[depth - 1].key, "%s", v);
        st[depth - 1].key_mark = m;
        st[depth - 1].want_key = false;
        break;
      }
      char full[256];
      snprintf(full, sizeof full, "%s%s", st[depth - 1].prefix, st[depth - 1].key);
      int k = -1;
      for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].path, full) == 0)
          k = i;
      if (k < 0)
        rc = fail_at(err, err_len, path, st[depth - 1].key_mark, "unknown key \"%s\"", full);
      else if (seen[k])
        rc = fail_at(err, err_len, path, st[depth - 1].key_mark, "duplicate key \"%s\"", full);
      else {
        seen[k] = true;
        marks[k] = m;
        rc = set_value(path, &keys[k], v, m, cfg, err, err_len);
      }
      st[depth - 1].want_key = true;
      break;
    }
    default: break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  if (rc)
    return rc;
  if (docs == 0) {
    snprintf(err, err_len, "%s: empty configuration", path);
    return -1;
  }
  /* Cross-key checks, reported at the key that has to change. */
  int k_lambdas = -1, k_target = -1, k_levels = -1, k_smooth = -1, k_warm = -1;
  for (int i = 0; i < NKEYS; i++) {
    if (strcmp(keys[i].path, "lambdas") == 0)
      k_lambdas = i;
    else if (strcmp(keys[i].path, "rate_target") == 0)
      k_target = i;
    else if (strcmp(keys[i].path, "model.levels") == 0)
      k_levels = i;
    else if (strcmp(keys[i].path, "loss.smooth") == 0)
      k_smooth = i;
    else if (strcmp(keys[i].path, "schedule.warmup_epochs") == 0)
      k_warm = i;
  }
  const int L = cfg->model.levels;
  if (!seen[k_lambdas]) {
    snprintf(err, err_len, "%s: lambdas (one per level, model.levels = %d) is required", path, L);
    return -1;
  }
  if (cfg->loss.levels != L)
    return fail_at(err, err_len, path, marks[k_lambdas], "lambdas: %d values, model.levels%s is %d",
                   cfg->loss.levels, seen[k_levels] ? "" : " (default)", L);
  if (seen[k_target] && cfg->nrate_targets != L)
    return fail_at(err, err_len, path, marks[k_target],
                   "rate_target: %d values, model.levels is %d", cfg->nrate_targets, L);
  for (int l = 1; seen[k_target] && l < L; l++)
    if (!(cfg->rate_target[l] > cfg->rate_target[l - 1]))
      return fail_at(err, err_len, path, marks[k_target],
                     "rate_target: targets must increase with the level (%g after %g)",
                     cfg->rate_target[l], cfg->rate_target[l - 1]);
  if (cfg->loss.smooth > 1 && cfg->loss.smooth % 2 == 0)
    return fail_at(err, err_len, path, marks[k_smooth],
                   "loss.smooth: the box filter side must be odd (or 0/1 for none), got %d",
                   cfg->loss.smooth);
  if (cfg->warmup_epochs > (float)cfg->epochs)
    return fail_at(err, err_len, path, marks[k_warm],
                   "schedule.warmup_epochs (%g) exceeds epochs (%d)", (double)cfg->warmup_epochs,
                   cfg->epochs);
  if ((cfg->loss.alpha > 0 || cfg->loss.gamma > 0) && !cfg->task_checkpoint[0]) {
    snprintf(err, err_len,
             "%s: task_checkpoint is required when loss.alpha or loss.gamma is > 0 (the GSW "
             "weights and the task loss come from the frozen task network)",
             path);
    return -1;
  }
  return 0;
}

int saic_codec_cfg_load(const char *path, saic_codec_cfg *cfg, char **text, char *err,
                        size_t err_len) {
  if (text)
    *text = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (n < cap)
      break;
    if (cap >= ((size_t)1 << 20)) {
      snprintf(err, err_len, "%s: configuration larger than 1 MiB", path);
      free(buf);
      fclose(f);
      return -1;
    }
    char *nb = realloc(buf, cap * 2 + 1);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  bool rerr = ferror(f);
  fclose(f);
  if (!buf || rerr) {
    snprintf(err, err_len, "%s: %s", path, buf ? "read error" : "out of memory");
    free(buf);
    return -1;
  }
  buf[n] = '\0';
  int rc = saic_codec_cfg_parse(path, buf, n, cfg, err, err_len);
  if (rc == 0 && text)
    *text = buf;
  else
    free(buf);
  return rc;
}
