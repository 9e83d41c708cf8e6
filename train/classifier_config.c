/* classifier_config.c - YAML training configuration for the task classifier.
 *
 * The document is a mapping of scalars and nested mappings; each scalar gets a dotted path
 * ("optimizer.lr") looked up in a key table. Every message carries path:line:col (1-based). The
 * YAML walk, file reading and scalar parsers are shared with the codec's config (config_yaml.h). */
#include <stdio.h>
#include <string.h>

#include "classifier.h"
#include "config_yaml.h"
#include "train_classifier.h"

void train_classifier_cfg_defaults(train_classifier_cfg *c) {
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
  c->sched = TRAIN_CLASSIFIER_SCHED_COSINE;
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

#define OFF(f) offsetof(train_classifier_cfg, f)
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

/* Walk state: the configuration being filled and which keys were given. */
typedef struct parse_ctx {
  train_classifier_cfg *cfg;
  bool seen[NKEYS];
} parse_ctx;

static int set_value(const key_def *k, const config_yaml_node *n, train_classifier_cfg *cfg,
                     char *err, size_t len) {
  char *base = (char *)cfg + k->off;
  const char *v = n->value;
  switch (k->type) {
  case K_INT: return config_yaml_int(n, k->lo, k->hi, (int *)(void *)base, err, len);
  case K_U64: return config_yaml_u64(n, (uint64_t *)(void *)base, err, len);
  case K_FLOAT: return config_yaml_float(n, k->lo, k->hi, (float *)(void *)base, err, len);
  case K_BOOL: return config_yaml_bool(n, (bool *)(void *)base, err, len);
  case K_ARCH:
    if (!classifier_arch_find(v)) {
      char names[256] = "";
      for (int i = 0; i < classifier_num_archs(); i++) {
        size_t u = strlen(names);
        snprintf(names + u, sizeof names - u, "%s%s", i ? ", " : "", classifier_arch_at(i)->name);
      }
      return config_yaml_fail(err, len, n->file, n->mark,
                              "arch: unknown architecture \"%s\" (known: %s)", v, names);
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
      return config_yaml_fail(err, len, n->file, n->mark,
                              "optimizer.kind: expected sgd, adam or adamw, got \"%s\"", v);
    return 0;
  case K_SCHED:
    if (strcmp(v, "cosine") == 0)
      cfg->sched = TRAIN_CLASSIFIER_SCHED_COSINE;
    else if (strcmp(v, "step") == 0)
      cfg->sched = TRAIN_CLASSIFIER_SCHED_STEP;
    else if (strcmp(v, "const") == 0 || strcmp(v, "constant") == 0)
      cfg->sched = TRAIN_CLASSIFIER_SCHED_CONST;
    else
      return config_yaml_fail(err, len, n->file, n->mark,
                              "schedule.kind: expected cosine, step or const, got \"%s\"", v);
    return 0;
  }
  return -1;
}

/* config_yaml_walk callback: every value is a scalar here. */
static int on_node(void *ctx, const config_yaml_node *n, char *err, size_t len) {
  parse_ctx *pc = ctx;
  if (n->event != CONFIG_YAML_SCALAR)
    return config_yaml_fail(err, len, n->file, n->mark, "%s: lists are not supported here", n->key);
  int k = config_yaml_lookup(n, keys, NKEYS, sizeof keys[0], pc->seen, err, len);
  return k < 0 ? -1 : set_value(&keys[k], n, pc->cfg, err, len);
}

int train_classifier_cfg_parse(const char *path, const char *text, size_t len,
                               train_classifier_cfg *cfg, char *err, size_t err_len) {
  train_classifier_cfg_defaults(cfg);
  parse_ctx pc = {.cfg = cfg};
  int rc = config_yaml_walk(path, text, len, on_node, &pc, err, err_len);
  if (rc)
    return rc;
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

/* config_yaml_load wants the parser with an untyped cfg. */
static int parse_untyped(const char *path, const char *text, size_t len, void *cfg, char *err,
                         size_t err_len) {
  return train_classifier_cfg_parse(path, text, len, cfg, err, err_len);
}

int train_classifier_cfg_load(const char *path, train_classifier_cfg *cfg, char **text, char *err,
                              size_t err_len) {
  return config_yaml_load(path, parse_untyped, cfg, text, err, err_len);
}
