/* codec_config.c - YAML training configuration of the SAIC codec (see codec_config.h).
 *
 * The document is a mapping of scalars, nested mappings and (for the keys that take one) lists
 * of numbers; each value gets a dotted path ("loss.alpha") looked up in a key table, as in
 * train/classifier_config.c, with which it shares the YAML walk, file reading and scalar parsers
 * (train/config_yaml.h). Every message carries path:line:col (1-based). */
#include "codec_config.h"

#include <stdio.h>
#include <string.h>

#include "config_yaml.h"

void train_codec_cfg_defaults(train_codec_cfg *c) {
  memset(c, 0, sizeof *c);
  c->model = (saic_model_cfg){64, 96, 4, 0};
  c->epochs = 10;
  c->batch_size = 32;
  c->seed = 1;
  c->lr = 3e-4f;
  c->density_lr_mult = 10.f;
  c->gain_lr_mult = 10.f;
  c->film_lr_mult = 0.f; /* unset: as the gains (what recipe 6 trained with) */
  c->clip_grad_norm = 1.0;
  c->sched = TRAIN_CODEC_SCHED_COSINE;
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
  K_BOOL_INT, /* a boolean stored as int 0 / 1 */
  K_SCHED,
  K_QUANT,
  K_GSW_ON,
  K_SAMPLING,
  K_PATH,
  K_LIST /* numbers into a double[SAIC_TRAIN_MAX_LEVELS] at off, count (int) at off2 */
} key_type;

typedef struct key_def {
  const char *path;
  key_type type;
  size_t off, off2;
  double lo, hi; /* inclusive range for numbers (each element of a list) */
} key_def;

#define OFF(f) offsetof(train_codec_cfg, f)
#define CAP(f) sizeof(((train_codec_cfg *)0)->f) /* K_PATH: the char array's size, in off2 */
static const key_def keys[] = {
    {"model.n", K_INT, OFF(model.n), 0, 1, 1024},
    {"model.m", K_INT, OFF(model.m), 0, 1, 1024},
    {"model.levels", K_INT, OFF(model.levels), 0, 1, SAIC_TRAIN_MAX_LEVELS},
    {"model.film", K_BOOL_INT, OFF(model.film), 0, 0, 0},
    {"epochs", K_INT, OFF(epochs), 0, 1, 100000},
    {"batch_size", K_INT, OFF(batch_size), 0, 1, classifier_max_batch},
    {"seed", K_U64, OFF(seed), 0, 0, 0},
    {"lr", K_FLOAT, OFF(lr), 0, 1e-12, 1},
    {"density_lr_mult", K_FLOAT, OFF(density_lr_mult), 0, 1e-6, 1e6},
    {"gain_lr_mult", K_FLOAT, OFF(gain_lr_mult), 0, 1e-6, 1e6},
    {"film_lr_mult", K_FLOAT, OFF(film_lr_mult), 0, 1e-6, 1e6},
    {"clip_grad_norm", K_DOUBLE, OFF(clip_grad_norm), 0, 0, 1e9},
    {"schedule.kind", K_SCHED, OFF(sched), 0, 0, 0},
    {"schedule.warmup_epochs", K_FLOAT, OFF(warmup_epochs), 0, 0, 100000},
    {"schedule.warmup_start", K_FLOAT, OFF(warmup_start), 0, 0, 1},
    {"schedule.min_lr", K_FLOAT, OFF(min_lr), 0, 0, 1},
    {"lambdas", K_LIST, OFF(loss.lambda), OFF(loss.levels), 1e-12, 1e6},
    {"loss.alpha", K_DOUBLE, OFF(loss.alpha), 0, 0, 1},
    {"loss.gamma", K_DOUBLE, OFF(loss.gamma), 0, 0, 1e6},
    {"loss.beta", K_DOUBLE, OFF(loss.beta), 0, 0, 1e9},
    {"loss.beta_scale", K_LIST, OFF(loss.beta_scale), OFF(nbeta_scale), 1e-6, 1e6},
    {"loss.alpha_scale", K_LIST, OFF(loss.alpha_scale), OFF(nalpha_scale), 0, 1},
    {"knob_sampling", K_SAMPLING, OFF(continuous_knob), 0, 0, 0},
    {"loss.gsw_on", K_GSW_ON, OFF(loss.gsw_on_original), 0, 0, 0},
    {"loss.smooth", K_INT, OFF(loss.smooth), 0, 0, 31},
    {"loss.w_max", K_DOUBLE, OFF(loss.w_max), 0, 0, 1e6},
    {"quant", K_QUANT, OFF(loss.quant), 0, 0, 0},
    {"task_checkpoint", K_PATH, OFF(task_checkpoint), CAP(task_checkpoint), 0, 0},
    {"task_checkpoint_2", K_PATH, OFF(task_checkpoint_extra[0]), CAP(task_checkpoint_extra[0]), 0,
     0},
    {"task_checkpoint_3", K_PATH, OFF(task_checkpoint_extra[1]), CAP(task_checkpoint_extra[1]), 0,
     0},
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

/* A path relative to the configuration file's folder, into the char[cap] at dst. */
static int set_path(const config_yaml_node *n, char *dst, size_t cap, char *err, size_t len) {
  const char *cfg_path = n->file, *v = n->value;
  if (!v[0])
    return config_yaml_fail(err, len, cfg_path, n->mark, "%s: empty path", n->key);
  int k;
  const char *slash = strrchr(cfg_path, '/');
  if (v[0] == '/' || !slash)
    k = snprintf(dst, cap, "%s", v);
  else
    k = snprintf(dst, cap, "%.*s/%s", (int)(slash - cfg_path), cfg_path, v);
  if (k < 0 || (size_t)k >= cap)
    return config_yaml_fail(err, len, cfg_path, n->mark, "%s: path too long", n->key);
  return 0;
}

static int set_value(const key_def *k, const config_yaml_node *n, train_codec_cfg *cfg, char *err,
                     size_t len) {
  char *base = (char *)cfg + k->off;
  const char *v = n->value;
  switch (k->type) {
  case K_INT: return config_yaml_int(n, k->lo, k->hi, (int *)(void *)base, err, len);
  case K_U64: return config_yaml_u64(n, (uint64_t *)(void *)base, err, len);
  case K_FLOAT: return config_yaml_float(n, k->lo, k->hi, (float *)(void *)base, err, len);
  case K_DOUBLE: return config_yaml_double(n, k->lo, k->hi, (double *)(void *)base, err, len);
  case K_BOOL: return config_yaml_bool(n, (bool *)(void *)base, err, len);
  case K_BOOL_INT: {
    bool b = false;
    if (config_yaml_bool(n, &b, err, len))
      return -1;
    *(int *)(void *)base = b ? 1 : 0;
    return 0;
  }
  case K_SCHED:
    if (strcmp(v, "cosine") == 0)
      cfg->sched = TRAIN_CODEC_SCHED_COSINE;
    else if (strcmp(v, "const") == 0 || strcmp(v, "constant") == 0)
      cfg->sched = TRAIN_CODEC_SCHED_CONST;
    else
      return config_yaml_fail(err, len, n->file, n->mark,
                              "schedule.kind: expected cosine or const, got \"%s\"", v);
    return 0;
  case K_QUANT:
    if (strcmp(v, "noise") == 0)
      cfg->loss.quant = SAIC_QUANT_NOISE;
    else if (strcmp(v, "ste") == 0)
      cfg->loss.quant = SAIC_QUANT_STE;
    else
      return config_yaml_fail(err, len, n->file, n->mark,
                              "quant: expected noise or ste, got \"%s\"", v);
    return 0;
  case K_GSW_ON:
    if (strcmp(v, "x_hat") == 0)
      cfg->loss.gsw_on_original = 0;
    else if (strcmp(v, "x") == 0)
      cfg->loss.gsw_on_original = 1;
    else
      return config_yaml_fail(err, len, n->file, n->mark,
                              "loss.gsw_on: expected x_hat or x, got \"%s\"", v);
    return 0;
  case K_SAMPLING:
    if (strcmp(v, "levels") == 0)
      cfg->continuous_knob = false;
    else if (strcmp(v, "continuous") == 0)
      cfg->continuous_knob = true;
    else
      return config_yaml_fail(err, len, n->file, n->mark,
                              "knob_sampling: expected levels or continuous, got \"%s\"", v);
    return 0;
  case K_PATH: return set_path(n, base, k->off2, err, len);
  case K_LIST:
    return config_yaml_fail(
        err, len, n->file, n->mark, "%s: expected a list of numbers, e.g. [%s]", k->path,
        strcmp(k->path, "lambdas") == 0 ? "1.2e-4, 5e-4, 2e-3, 8e-3" : "0.1, 0.3, 0.7, 1.5");
  }
  return -1;
}

/* Walk state: the configuration being filled, which keys were given and where their values
 * start (for the cross-key checks), and the list being read. */
typedef struct parse_ctx {
  train_codec_cfg *cfg;
  bool seen[NKEYS];
  config_yaml_mark marks[NKEYS];
  int list_key, list_n;
} parse_ctx;

/* One element of the list of numbers keys[pc->list_key]. */
static int list_item(parse_ctx *pc, const config_yaml_node *n, char *err, size_t len) {
  const key_def *k = &keys[pc->list_key];
  if (!n->value)
    return config_yaml_fail(err, len, n->file, n->mark, "%s: expected a list of numbers", k->path);
  if (pc->list_n >= SAIC_TRAIN_MAX_LEVELS)
    return config_yaml_fail(err, len, n->file, n->mark, "%s: more than %d values", k->path,
                            SAIC_TRAIN_MAX_LEVELS);
  double x;
  if (config_yaml_double(n, k->lo, k->hi, &x, err, len))
    return -1;
  ((double *)(void *)((char *)pc->cfg + k->off))[pc->list_n++] = x;
  return 0;
}

/* config_yaml_walk callback. */
static int on_node(void *ctx, const config_yaml_node *n, char *err, size_t len) {
  parse_ctx *pc = ctx;
  if (n->event == CONFIG_YAML_ITEM)
    return list_item(pc, n, err, len);
  if (n->event == CONFIG_YAML_LIST_END) {
    *(int *)(void *)((char *)pc->cfg + keys[pc->list_key].off2) = pc->list_n;
    pc->list_key = -1;
    return 0;
  }
  int k = config_yaml_lookup(n, keys, NKEYS, sizeof keys[0], pc->seen, err, len);
  if (k < 0)
    return -1;
  pc->marks[k] = n->mark;
  if (n->event == CONFIG_YAML_SCALAR)
    return set_value(&keys[k], n, pc->cfg, err, len);
  if (keys[k].type != K_LIST)
    return config_yaml_fail(err, len, n->file, n->mark, "%s: a list is not allowed here", n->key);
  pc->list_key = k;
  pc->list_n = 0;
  return 0;
}

int train_codec_cfg_parse(const char *path, const char *text, size_t len, train_codec_cfg *cfg,
                          char *err, size_t err_len) {
  train_codec_cfg_defaults(cfg);
  parse_ctx pc = {.cfg = cfg, .list_key = -1};
  int rc = config_yaml_walk(path, text, len, on_node, &pc, err, err_len);
  if (rc)
    return rc;
  const bool *seen = pc.seen;
  const config_yaml_mark *marks = pc.marks;
  /* Cross-key checks, reported at the key that has to change. */
  int k_lambdas = -1, k_target = -1, k_levels = -1, k_smooth = -1, k_warm = -1, k_beta = -1,
      k_scale = -1, k_ascale = -1;
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
    else if (strcmp(keys[i].path, "loss.beta") == 0)
      k_beta = i;
    else if (strcmp(keys[i].path, "loss.beta_scale") == 0)
      k_scale = i;
    else if (strcmp(keys[i].path, "loss.alpha_scale") == 0)
      k_ascale = i;
  }
  const int L = cfg->model.levels;
  if (!seen[k_lambdas]) {
    snprintf(err, err_len, "%s: lambdas (one per level, model.levels = %d) is required", path, L);
    return -1;
  }
  if (cfg->loss.levels != L)
    return config_yaml_fail(err, err_len, path, marks[k_lambdas],
                            "lambdas: %d values, model.levels%s is %d", cfg->loss.levels,
                            seen[k_levels] ? "" : " (default)", L);
  if (seen[k_target] && cfg->nrate_targets != L)
    return config_yaml_fail(err, err_len, path, marks[k_target],
                            "rate_target: %d values, model.levels is %d", cfg->nrate_targets, L);
  for (int l = 1; seen[k_target] && l < L; l++)
    if (!(cfg->rate_target[l] > cfg->rate_target[l - 1]))
      return config_yaml_fail(err, err_len, path, marks[k_target],
                              "rate_target: targets must increase with the level (%g after %g)",
                              cfg->rate_target[l], cfg->rate_target[l - 1]);
  if (cfg->loss.smooth > 1 && cfg->loss.smooth % 2 == 0)
    return config_yaml_fail(
        err, err_len, path, marks[k_smooth],
        "loss.smooth: the box filter side must be odd (or 0/1 for none), got %d", cfg->loss.smooth);
  if (cfg->warmup_epochs > (float)cfg->epochs)
    return config_yaml_fail(err, err_len, path, marks[k_warm],
                            "schedule.warmup_epochs (%g) exceeds epochs (%d)",
                            (double)cfg->warmup_epochs, cfg->epochs);
  if (seen[k_scale] && cfg->nbeta_scale != L)
    return config_yaml_fail(err, err_len, path, marks[k_scale],
                            "loss.beta_scale: %d values, model.levels is %d", cfg->nbeta_scale, L);
  if (seen[k_scale] && !(cfg->loss.beta > 0))
    return config_yaml_fail(err, err_len, path, marks[k_scale],
                            "loss.beta_scale scales loss.beta, which is not set (> 0)");
  if (seen[k_ascale] && cfg->nalpha_scale != L)
    return config_yaml_fail(err, err_len, path, marks[k_ascale],
                            "loss.alpha_scale: %d values, model.levels is %d", cfg->nalpha_scale,
                            L);
  if (seen[k_ascale] && !(cfg->loss.alpha > 0))
    return config_yaml_fail(err, err_len, path, marks[k_ascale],
                            "loss.alpha_scale scales loss.alpha, which is not set (> 0)");
  cfg->loss.alpha_scaled = seen[k_ascale];
  if ((cfg->task_checkpoint_extra[0][0] || cfg->task_checkpoint_extra[1][0]) &&
      !cfg->task_checkpoint[0]) {
    snprintf(err, err_len,
             "%s: task_checkpoint_2/_3 add networks to task_checkpoint, which is "
             "not set",
             path);
    return -1;
  }
  if (cfg->task_checkpoint_extra[1][0] && !cfg->task_checkpoint_extra[0][0]) {
    snprintf(err, err_len, "%s: task_checkpoint_3 without task_checkpoint_2", path);
    return -1;
  }
  if (cfg->loss.beta > 0 && cfg->loss.gamma > 0)
    return config_yaml_fail(err, err_len, path, marks[k_beta],
                            "loss.beta: give either loss.beta (task weight = beta * lambda) or "
                            "loss.gamma (a fixed task weight), not both");
  if ((cfg->loss.alpha > 0 || cfg->loss.gamma > 0 || cfg->loss.beta > 0) &&
      !cfg->task_checkpoint[0]) {
    snprintf(
        err, err_len,
        "%s: task_checkpoint is required when loss.alpha, loss.beta or loss.gamma is > 0 (the GSW "
        "weights and the task loss come from the frozen task network)",
        path);
    return -1;
  }
  return 0;
}

/* config_yaml_load wants the parser with an untyped cfg. */
static int parse_untyped(const char *path, const char *text, size_t len, void *cfg, char *err,
                         size_t err_len) {
  return train_codec_cfg_parse(path, text, len, cfg, err, err_len);
}

int train_codec_cfg_load(const char *path, train_codec_cfg *cfg, char **text, char *err,
                         size_t err_len) {
  return config_yaml_load(path, parse_untyped, cfg, text, err, err_len);
}
