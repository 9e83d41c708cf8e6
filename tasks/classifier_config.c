/* classifier_config.c - YAML training configuration for the task classifier.
 *
 * The document is a mapping of scalars and nested mappings; each scalar gets a dotted path
 * ("optimizer.lr") looked up in a key table. Every message carries path:line:col (1-based). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "classifier.h"
#include "train_classifier.h"

void classifier_cfg_defaults(classifier_train_cfg *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->arch, sizeof c->arch, "resnet20-w16");
  c->epochs = 30;
  c->batch_size = 128;
  c->seed = 1;
  c->optim = NN_SGD;
  c->lr = 0.1f;
  c->momentum = 0.9f;
  c->nesterov = true;
  c->weight_decay = 5e-4f;
  c->beta1 = 0.9f;
  c->beta2 = 0.999f;
  c->sched = CLASSIFIER_SCHED_COSINE;
  c->warmup_epochs = 1.f;
  c->warmup_start = 0.1f;
  c->min_lr = 0.f;
  c->step_epochs = 10.f;
  c->gamma = 0.1f;
  c->crop_pad = 4;
  c->flip = true;
  c->label_smoothing = 0.f;
  c->checkpoint_every = 1;
  c->log_every = 50;
  c->eval_batch = 250;
}

typedef enum { K_INT, K_U64, K_FLOAT, K_BOOL, K_ARCH, K_OPTIM, K_SCHED } key_type;

typedef struct key_def {
  const char *path;
  key_type type;
  size_t off;
  double lo, hi; /* inclusive range for numbers */
} key_def;

#define OFF(f) offsetof(classifier_train_cfg, f)
static const key_def keys[] = {
    {"arch", K_ARCH, OFF(arch), 0, 0},
    {"epochs", K_INT, OFF(epochs), 1, 100000},
    {"batch_size", K_INT, OFF(batch_size), 1, 65536},
    {"seed", K_U64, OFF(seed), 0, 0},
    {"optimizer.kind", K_OPTIM, OFF(optim), 0, 0},
    {"optimizer.lr", K_FLOAT, OFF(lr), 0, 100},
    {"optimizer.momentum", K_FLOAT, OFF(momentum), 0, 0.999999},
    {"optimizer.nesterov", K_BOOL, OFF(nesterov), 0, 0},
    {"optimizer.weight_decay", K_FLOAT, OFF(weight_decay), 0, 1},
    {"optimizer.beta1", K_FLOAT, OFF(beta1), 0, 0.999999},
    {"optimizer.beta2", K_FLOAT, OFF(beta2), 0, 0.999999},
    {"schedule.kind", K_SCHED, OFF(sched), 0, 0},
    {"schedule.warmup_epochs", K_FLOAT, OFF(warmup_epochs), 0, 100000},
    {"schedule.warmup_start", K_FLOAT, OFF(warmup_start), 0, 1},
    {"schedule.min_lr", K_FLOAT, OFF(min_lr), 0, 100},
    {"schedule.step_epochs", K_FLOAT, OFF(step_epochs), 1e-6, 100000},
    {"schedule.gamma", K_FLOAT, OFF(gamma), 0, 1},
    {"augment.crop_pad", K_INT, OFF(crop_pad), 0, 16},
    {"augment.flip", K_BOOL, OFF(flip), 0, 0},
    {"label_smoothing", K_FLOAT, OFF(label_smoothing), 0, 0.999},
    {"checkpoint_every", K_INT, OFF(checkpoint_every), 1, 100000},
    {"log_every", K_INT, OFF(log_every), 1, 1000000},
    {"eval_batch", K_INT, OFF(eval_batch), 1, 4096},
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

static int set_value(const char *path, const key_def *k, const char *v, yaml_mark_t m,
                     classifier_train_cfg *cfg, char *err, size_t len) {
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
      return fail_at(err, len, path, m, "%s: expected a non-negative integer, got \"%s\"",
                     k->path, v);
    *(uint64_t *)(void *)base = (uint64_t)x;
    return 0;
  }
  case K_FLOAT: {
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(x))
      return fail_at(err, len, path, m, "%s: expected a number, got \"%s\"", k->path, v);
    if (x < k->lo || x > k->hi)
      return fail_at(err, len, path, m, "%s: %g is out of range [%g, %g]", k->path, x, k->lo,
                     k->hi);
    *(float *)(void *)base = (float)x;
    return 0;
  }
  case K_BOOL:
    if (!parse_bool(v, (bool *)(void *)base))
      return fail_at(err, len, path, m, "%s: expected true or false, got \"%s\"", k->path, v);
    return 0;
  case K_ARCH:
    if (!classifier_arch_find(v)) {
      char names[256] = "";
      for (int i = 0; i < classifier_num_archs(); i++) {
        size_t u = strlen(names);
        snprintf(names + u, sizeof names - u, "%s%s", i ? ", " : "", classifier_arch_at(i)->name);
      }
      return fail_at(err, len, path, m, "arch: unknown architecture \"%s\" (known: %s)", v,
                     names);
    }
    snprintf(cfg->arch, sizeof cfg->arch, "%s", v);
    return 0;
  case K_OPTIM:
    if (strcmp(v, "sgd") == 0)
      cfg->optim = NN_SGD;
    else if (strcmp(v, "adam") == 0)
      cfg->optim = NN_ADAM;
    else if (strcmp(v, "adamw") == 0)
      cfg->optim = NN_ADAMW;
    else
      return fail_at(err, len, path, m,
                     "optimizer.kind: expected sgd, adam or adamw, got \"%s\"", v);
    return 0;
  case K_SCHED:
    if (strcmp(v, "cosine") == 0)
      cfg->sched = CLASSIFIER_SCHED_COSINE;
    else if (strcmp(v, "step") == 0)
      cfg->sched = CLASSIFIER_SCHED_STEP;
    else if (strcmp(v, "const") == 0 || strcmp(v, "constant") == 0)
      cfg->sched = CLASSIFIER_SCHED_CONST;
    else
      return fail_at(err, len, path, m, "schedule.kind: expected cosine, step or const, got \"%s\"",
                     v);
    return 0;
  }
  return -1;
}

enum { MAX_DEPTH = 4 };

int classifier_cfg_parse(const char *path, const char *text, size_t len,
                         classifier_train_cfg *cfg, char *err, size_t err_len) {
  classifier_cfg_defaults(cfg);
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
  bool seen[NKEYS] = {false}, done = false;
  while (!done && rc == 0) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = fail_at(err, err_len, path, p.problem_mark, "YAML syntax error: %s%s%s",
                   p.problem ? p.problem : "unknown", p.context ? " " : "",
                   p.context ? p.context : "");
      break;
    }
    yaml_mark_t m = ev.start_mark;
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
    case YAML_SEQUENCE_START_EVENT:
      rc = fail_at(err, err_len, path, m,
                   depth ? "%s%s: lists are not supported here" : "%s%sthe configuration must be a mapping",
                   depth ? st[depth - 1].prefix : "", depth ? st[depth - 1].key : "");
      break;
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
  if (cfg->warmup_epochs > (float)cfg->epochs) {
    snprintf(err, err_len, "%s: schedule.warmup_epochs (%g) exceeds epochs (%d)", path,
             (double)cfg->warmup_epochs, cfg->epochs);
    return -1;
  }
  if (cfg->nesterov && (cfg->optim != NN_SGD || cfg->momentum <= 0)) {
    snprintf(err, err_len, "%s: optimizer.nesterov needs kind sgd with momentum > 0", path);
    return -1;
  }
  if (!(cfg->lr > 0)) {
    snprintf(err, err_len, "%s: optimizer.lr must be > 0", path);
    return -1;
  }
  return 0;
}

int classifier_cfg_load(const char *path, classifier_train_cfg *cfg, char **text, char *err,
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
  int rc = classifier_cfg_parse(path, buf, n, cfg, err, err_len);
  if (rc == 0 && text)
    *text = buf;
  else
    free(buf);
  return rc;
}
