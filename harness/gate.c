#include "gate.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml.h>

#include "base.h"
#include "bd.h"
#include "codec_registry.h"
#include "dataset.h"
#include "image.h"
#include "report_fs.h"
#include "results.h"
#include "runner.h"
#include "suite.h"
#include "ynode.h"

extern char **environ;

#define GATE_MAX_DETERMINISM_IMAGES 64

/* ------------------------------------------------------------------ configuration */

/* The suite's `gate:` mapping. Defaults in gate_config_defaults. */
typedef struct gate_config {
  double *knobs, *bpps; /* the grid applied to candidate and baseline */
  size_t n_knobs, n_bpps;
  char *baseline;          /* default baseline SPEC, or NULL */
  double min_bpp, max_bpp; /* the candidate's points must reach both (NAN: not checked) */
  double tolerance_se;     /* per-point tolerance in standard errors of the difference */
  double accuracy_floor;   /* ... but at least this (accuracy as a fraction) */
  double si_norm_tol;      /* ... and at least this for SI_norm */
  double max_bd_rate;      /* percent: BD-rate at equal accuracy at most this */
  double min_bd_accuracy;  /* accuracy points: BD-accuracy at least this */
  int not_comparable_fail; /* a BD value or point comparison that cannot be made: 1 fail, 0 warn */
  int determinism;         /* run check (b) */
  size_t determinism_images;
} gate_config;

static void gate_config_defaults(gate_config *c) {
  memset(c, 0, sizeof *c);
  c->min_bpp = c->max_bpp = NAN;
  c->tolerance_se = 2;
  c->accuracy_floor = 0.01;
  c->si_norm_tol = 0.02;
  c->max_bd_rate = 5;
  c->min_bd_accuracy = -1;
  c->not_comparable_fail = 1;
  c->determinism = 1;
  c->determinism_images = 4;
}

static void gate_config_free(gate_config *c) {
  free(c->knobs);
  free(c->bpps);
  free(c->baseline);
}

static int ynumber(ynode_ctx *c, const yaml_node_t *n, const char *key, double lo, double hi,
                   double *out) {
  const char *s = ynode_scalar(n);
  char *end = NULL;
  errno = 0;
  double v = ynode_is_decimal(s) ? strtod(s, &end) : NAN;
  if (!s || !end || errno || *end || !isfinite(v) || v < lo || v > hi)
    return ynode_fail(c, n, "gate.%s: expected a number from %g to %g, got '%s'", key, lo, hi,
                      s ? s : "(not a scalar)");
  *out = v;
  return 0;
}

static int ybool(ynode_ctx *c, const yaml_node_t *n, const char *key, int *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off",
                                                                              "0"};
  const char *s = ynode_scalar(n);
  for (int i = 0; s && i < 4; i++) {
    if (!strcmp(s, yes[i]))
      return *out = 1, 0;
    if (!strcmp(s, no[i]))
      return *out = 0, 0;
  }
  return ynode_fail(c, n, "gate.%s: expected true or false, got '%s'", key,
                    s ? s : "(not a scalar)");
}

static int ygrid(ynode_ctx *c, const yaml_node_t *n, const char *key, int positive, double **out,
                 size_t *count) {
  yaml_node_item_t *start = NULL, *top = NULL;
  if (n->type == YAML_SEQUENCE_NODE) {
    start = n->data.sequence.items.start;
    top = n->data.sequence.items.top;
  } else if (n->type != YAML_SCALAR_NODE) {
    return ynode_fail(c, n, "gate.%s: expected a number or a list of numbers", key);
  }
  size_t k = start ? (size_t)(top - start) : 1;
  if (!k || k > BD_MAX_POINTS)
    return ynode_fail(c, n, "gate.%s: give 1 to %d values", key, BD_MAX_POINTS);
  double *v = calloc(k, sizeof *v);
  if (!v)
    return ynode_fail(c, n, "out of memory");
  for (size_t i = 0; i < k; i++) {
    const yaml_node_t *item = start ? yaml_document_get_node(c->doc, start[i]) : n;
    if (ynumber(c, item, key, positive ? 1e-9 : -1e300, 1e300, &v[i])) {
      free(v);
      return -1;
    }
    for (size_t j = 0; j < i; j++)
      if (v[j] == v[i]) {
        double dup = v[i];
        free(v);
        return ynode_fail(c, item, "gate.%s: value %g appears twice", key, dup);
      }
  }
  free(*out);
  *out = v;
  *count = k;
  return 0;
}

/* Parses the `gate:` mapping of the suite text. */
static int gate_config_parse(const char *text, const char *file, gate_config *cfg, char *err,
                             size_t err_len) {
  yaml_document_t doc;
  /* The suite's limits (depth, one document, unique keys): usually reported by the suite
   * parser already, but the text may come from a database (runs.suite_text). */
  if (ynode_load(text, strlen(text), file, &doc, err, err_len))
    return -1;
  ynode_ctx c = {&doc, file, err, err_len};
  int rc = 0;
  const yaml_node_t *root = yaml_document_get_root_node(&doc), *gate = NULL;
  for (yaml_node_pair_t *p =
           root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
       p && p < root->data.mapping.pairs.top && !rc; p++) {
    const yaml_node_t *k = yaml_document_get_node(&doc, p->key);
    if (!ynode_scalar(k) || strcmp(ynode_scalar(k), "gate"))
      continue;
    if (gate)
      rc = ynode_fail(&c, k, "'gate' given twice");
    gate = yaml_document_get_node(&doc, p->value);
  }
  if (!rc && !gate)
    rc = ynode_fail(&c, NULL,
                    "no 'gate:' mapping: this is not a validation suite (see "
                    "suites/validate.yaml)");
  if (!rc && gate->type != YAML_MAPPING_NODE)
    rc = ynode_fail(&c, gate, "gate: expected a mapping");
  for (yaml_node_pair_t *p = rc ? NULL : gate->data.mapping.pairs.start;
       p && p < gate->data.mapping.pairs.top && !rc; p++) {
    const yaml_node_t *k = yaml_document_get_node(&doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(&doc, p->value);
    const char *key = ynode_scalar(k);
    double d;
    if (!key) {
      rc = ynode_fail(&c, k, "gate: keys must be strings");
    } else if (!strcmp(key, "knob")) {
      rc = ygrid(&c, v, key, 0, &cfg->knobs, &cfg->n_knobs);
    } else if (!strcmp(key, "bpp")) {
      rc = ygrid(&c, v, key, 1, &cfg->bpps, &cfg->n_bpps);
    } else if (!strcmp(key, "baseline")) {
      if (!ynode_scalar(v) || !*ynode_scalar(v))
        rc = ynode_fail(&c, v, "gate.baseline: expected a codec spec (NAME[:KEY=VAL]...)");
      else if (!(cfg->baseline = strdup(ynode_scalar(v))))
        rc = ynode_fail(&c, v, "out of memory");
    } else if (!strcmp(key, "min_bpp")) {
      rc = ynumber(&c, v, key, 1e-9, 1e6, &cfg->min_bpp);
    } else if (!strcmp(key, "max_bpp")) {
      rc = ynumber(&c, v, key, 1e-9, 1e6, &cfg->max_bpp);
    } else if (!strcmp(key, "tolerance_se")) {
      rc = ynumber(&c, v, key, 0, 100, &cfg->tolerance_se);
    } else if (!strcmp(key, "accuracy_floor")) {
      rc = ynumber(&c, v, key, 0, 1, &cfg->accuracy_floor);
    } else if (!strcmp(key, "si_norm_tol")) {
      rc = ynumber(&c, v, key, 0, 1, &cfg->si_norm_tol);
    } else if (!strcmp(key, "max_bd_rate")) {
      rc = ynumber(&c, v, key, -100, 1e6, &cfg->max_bd_rate);
    } else if (!strcmp(key, "min_bd_accuracy")) {
      rc = ynumber(&c, v, key, -100, 100, &cfg->min_bd_accuracy);
    } else if (!strcmp(key, "not_comparable")) {
      const char *s = ynode_scalar(v);
      if (s && !strcmp(s, "fail"))
        cfg->not_comparable_fail = 1;
      else if (s && !strcmp(s, "warn"))
        cfg->not_comparable_fail = 0;
      else
        rc = ynode_fail(&c, v, "gate.not_comparable: expected 'fail' or 'warn', got '%s'",
                        s ? s : "(not a scalar)");
    } else if (!strcmp(key, "determinism")) {
      rc = ybool(&c, v, key, &cfg->determinism);
    } else if (!strcmp(key, "determinism_images")) {
      rc = ynumber(&c, v, key, 1, GATE_MAX_DETERMINISM_IMAGES, &d);
      if (!rc && d != floor(d))
        rc = ynode_fail(&c, v, "gate.determinism_images: expected an integer");
      cfg->determinism_images = (size_t)d;
    } else {
      rc = ynode_fail(&c, k,
                      "gate: unknown key '%s' (known: baseline, knob, bpp, min_bpp, max_bpp, "
                      "tolerance_se, accuracy_floor, si_norm_tol, max_bd_rate, min_bd_accuracy, "
                      "not_comparable, determinism, determinism_images)",
                      key);
    }
  }
  if (!rc && !cfg->n_knobs && !cfg->n_bpps)
    rc = ynode_fail(&c, gate, "gate: no grid (give 'knob:' values and/or 'bpp:' targets)");
  if (!rc && isfinite(cfg->min_bpp) && isfinite(cfg->max_bpp) && cfg->min_bpp > cfg->max_bpp)
    rc = ynode_fail(&c, gate, "gate: min_bpp %g is above max_bpp %g", cfg->min_bpp, cfg->max_bpp);
  yaml_document_delete(&doc);
  return rc;
}

/* ------------------------------------------------------------------ codec specs */

/* "models/x.ckpt" (no '=') is shorthand for "saic:model=models/x.ckpt". malloc()ed. */
static char *expand_spec(const char *spec) {
  size_t n = strlen(spec);
  sb_buf b = {0};
  if (n > 5 && !strcmp(spec + n - 5, ".ckpt") && !strchr(spec, '='))
    sb_buf_printf(&b, "saic:model=%s", spec);
  else
    sb_buf_puts(&b, spec);
  return sb_buf_take(&b);
}

/* Whether the spec (NAME:KEY=VAL:...) names the key `key` (or `alt`, may be NULL). */
static int spec_has_key(const char *spec, const char *key, const char *alt) {
  const char *p = strchr(spec, ':');
  while (p) {
    p++;
    size_t n = strcspn(p, "=:");
    if ((strlen(key) == n && !strncmp(p, key, n)) ||
        (alt && strlen(alt) == n && !strncmp(p, alt, n)))
      return 1;
    p = strchr(p, ':');
  }
  return 0;
}

static void append_grid(sb_buf *b, const char *key, const double *v, size_t n) {
  sb_buf_printf(b, ":%s=", key);
  for (size_t i = 0; i < n; i++) {
    char num[32];
    sb_format_number(v[i], num);
    sb_buf_printf(b, "%s%s", i ? "," : "", num);
  }
}

/* One side of the gate: its spec and where its results are. */
typedef struct gate_side {
  const char *role; /* "candidate" or "baseline" */
  char *spec;       /* as given, .ckpt expanded; NULL for a baseline run */
  char *run_spec;   /* spec with the gate grid and label=ROLE, as run */
  const codec_vtable *vt;
  int64_t run_id;    /* the run holding its results */
  char *label;       /* its codec label in that run */
  results_data data; /* that run (the candidate's run loaded once even when shared) */
  int data_loaded;
  results_data *d; /* &data, or the other side's data when both are in one run */
  size_t codec;    /* index into d->codecs */
} gate_side;

/* Resolves a side's SPEC: codec known, knob grid within the codec's range. */
static int side_from_spec(gate_side *s, const char *spec_in, const gate_config *cfg,
                          const codec_registry *reg, char *err, size_t err_len) {
  if (!(s->spec = expand_spec(spec_in)))
    return snprintf(err, err_len, "out of memory"), -1;
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(s->spec, ":"), s->spec);
  if (!(s->vt = codec_registry_find(reg, name))) {
    snprintf(err, err_len, "%s '%s': unknown codec '%s' (see `saicbench codecs`)", s->role, spec_in,
             name);
    return -1;
  }
  int has_knob = spec_has_key(s->spec, "knob", s->vt->knob.name);
  int has_bpp = spec_has_key(s->spec, "bpp", NULL);
  sb_buf b = {0};
  sb_buf_puts(&b, s->spec);
  if (!has_knob && cfg->n_knobs)
    append_grid(&b, s->vt->knob.name, cfg->knobs, cfg->n_knobs);
  if (!has_bpp && cfg->n_bpps)
    append_grid(&b, "bpp", cfg->bpps, cfg->n_bpps);
  sb_buf_printf(&b, ":label=%s", s->role);
  if (!(s->run_spec = sb_buf_take(&b)) || !(s->label = strdup(s->role)))
    return snprintf(err, err_len, "out of memory"), -1;
  /* Check the grid here, so the message names the side rather than a suite line. */
  suite *tmp = suite_new_adhoc("gate");
  if (!tmp)
    return snprintf(err, err_len, "out of memory"), -1;
  char e[512];
  int rc = suite_add_codec_spec(tmp, s->run_spec, s->vt->knob.name, e, sizeof e);
  if (rc) {
    snprintf(err, err_len, "%s: %s", s->role, e);
  } else {
    const suite_codec *sc = &tmp->codecs[0];
    const codec_knob *kb = &s->vt->knob;
    for (size_t i = 0; i < sc->n_knobs && !rc; i++)
      if (sc->knobs[i] < kb->min || sc->knobs[i] > kb->max ||
          (kb->kind == CODEC_KNOB_INT && sc->knobs[i] != floor(sc->knobs[i]))) {
        snprintf(err, err_len,
                 "%s '%s': knob %s=%g outside %g..%g%s (the gate's knob grid is for another "
                 "codec: give this one's in its spec, e.g. %s:%s=...)",
                 s->role, spec_in, kb->name, sc->knobs[i], kb->min, kb->max,
                 kb->kind == CODEC_KNOB_INT ? " (integers)" : "", name, kb->name);
        rc = -1;
      }
  }
  suite_free(tmp);
  return rc;
}

static void side_free(gate_side *s) {
  free(s->spec);
  free(s->run_spec);
  free(s->label);
  if (s->data_loaded)
    results_data_free(&s->data);
}

static int find_codec(const results_data *d, const char *label, size_t *out) {
  for (size_t i = 0; i < d->n_codecs; i++)
    if (!strcmp(d->codecs[i].label, label))
      return *out = i, 0;
  return -1;
}

static int find_task(const results_data *d, const char *name, size_t *out) {
  for (size_t i = 0; i < d->n_tasks; i++)
    if (!strcmp(d->tasks[i].name, name))
      return *out = i, 0;
  return -1;
}

static const results_dataset *find_dataset(const results_data *d, const char *name) {
  for (size_t i = 0; i < d->n_datasets; i++)
    if (!strcmp(d->datasets[i].name, name))
      return &d->datasets[i];
  return NULL;
}

/* ------------------------------------------------------------------ verdict rows */

enum { ST_PASS, ST_WARN, ST_FAIL, ST_SKIP };
static const char *const st_name[] = {"pass", "warn", "FAIL", "skip"};
static const char *const st_json[] = {"pass", "warn", "fail", "skip"};

typedef struct gate_check {
  char check[40], dataset[72], task[72], point[40];
  char value[96], limit[96], detail[200];
  double num, limit_num; /* NAN where not a single number */
  double ci_lo, ci_hi;   /* paired bootstrap 95 % interval of num (accuracy, SI_norm); NAN: none */
  int status;
} gate_check;

typedef struct check_list {
  gate_check *v;
  size_t n, cap;
  int failed; /* out of memory */
} check_list;

__attribute__((format(printf, 9, 10))) static gate_check *
add_check(check_list *l, const char *check, const char *dataset_name, const char *task,
          const char *point, int status, double num, double limit_num, const char *detail_fmt,
          ...) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 32;
    gate_check *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->failed = 1;
      return NULL;
    }
    l->v = v;
    l->cap = cap;
  }
  gate_check *c = &l->v[l->n++];
  memset(c, 0, sizeof *c);
  snprintf(c->check, sizeof c->check, "%s", check);
  snprintf(c->dataset, sizeof c->dataset, "%s", dataset_name ? dataset_name : "");
  snprintf(c->task, sizeof c->task, "%s", task ? task : "");
  snprintf(c->point, sizeof c->point, "%s", point ? point : "");
  c->status = status;
  c->num = num;
  c->limit_num = limit_num;
  c->ci_lo = c->ci_hi = NAN;
  if (detail_fmt) {
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(c->detail, sizeof c->detail, detail_fmt, ap);
    va_end(ap);
  }
  return c;
}

static void point_text(int is_bpp, double value, char out[40]) {
  char num[32];
  sb_format_number(value, num);
  snprintf(out, 40, "%s %s", is_bpp ? "bpp" : "knob", num);
}

/* ------------------------------------------------------------------ checks (a), (c), (d) */

/* (a) The candidate's mean file bpp over its points must reach min_bpp and max_bpp; it may not
 * fail on more images than the baseline. */
static void check_rate_range(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                             check_list *l) {
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *ds = &cand->d->datasets[i];
    double lo = INFINITY, hi = -INFINITY;
    int64_t err_c = 0, err_b = 0;
    for (size_t k = 0; k < ds->n_rows; k++) {
      const results_row *r = &ds->rows[k];
      if (r->codec != cand->codec)
        continue;
      if (isfinite(r->bpp) && r->bpp > 0) {
        lo = r->bpp < lo ? r->bpp : lo;
        hi = r->bpp > hi ? r->bpp : hi;
      }
      err_c = r->n_errors > err_c ? r->n_errors : err_c;
    }
    const results_dataset *bds = find_dataset(base->d, ds->name);
    for (size_t k = 0; bds && k < bds->n_rows; k++)
      if (bds->rows[k].codec == base->codec && bds->rows[k].n_errors > err_b)
        err_b = bds->rows[k].n_errors;
    if (isfinite(cfg->min_bpp) || isfinite(cfg->max_bpp)) {
      int ok = isfinite(lo) && (!isfinite(cfg->min_bpp) || lo <= cfg->min_bpp) &&
               (!isfinite(cfg->max_bpp) || hi >= cfg->max_bpp);
      gate_check *c =
          add_check(l, "rate range", ds->name, NULL, NULL, ok ? ST_PASS : ST_FAIL, NAN, NAN, "%s",
                    ok ? "" : "the candidate's grid does not span the range");
      if (c) {
        if (isfinite(lo))
          snprintf(c->value, sizeof c->value, "%.4g..%.4g bpp", lo, hi);
        else
          snprintf(c->value, sizeof c->value, "no points");
        char a[32] = "-", b[32] = "-";
        if (isfinite(cfg->min_bpp))
          sb_format_number(cfg->min_bpp, a);
        if (isfinite(cfg->max_bpp))
          sb_format_number(cfg->max_bpp, b);
        snprintf(c->limit, sizeof c->limit, "reaches %s..%s", a, b);
        c->num = lo;
        c->limit_num = cfg->min_bpp;
      }
    }
    gate_check *c = add_check(l, "failed images", ds->name, NULL, NULL,
                              err_c <= err_b ? ST_PASS : ST_FAIL, (double)err_c, (double)err_b,
                              "%s", err_c <= err_b ? "" : "the candidate fails on more images");
    if (c) {
      snprintf(c->value, sizeof c->value, "%lld", (long long)err_c);
      snprintf(c->limit, sizeof c->limit, "<= %lld (baseline)", (long long)err_b);
    }
  }
}

static double diff_se(double pa, int64_t na, double pb, int64_t nb) {
  if (na <= 0 || nb <= 0)
    return NAN;
  return sqrt(pa * (1 - pa) / (double)na + pb * (1 - pb) / (double)nb);
}

static const results_row *point_row(const results_dataset *ds, const results_task_row *t) {
  return t->row != SIZE_MAX && t->row < ds->n_rows ? &ds->rows[t->row] : NULL;
}

/* Appends " paired 95 % CI [lo, hi]" to a row's detail and stores the interval. */
static void add_ci(gate_check *c, const metrics_pboot_ci *ci) {
  if (!c || !isfinite(ci->lo))
    return;
  c->ci_lo = ci->lo;
  c->ci_hi = ci->hi;
  size_t u = strlen(c->detail);
  snprintf(c->detail + u, sizeof c->detail - u, "%spaired 95%% CI [%+.4f, %+.4f]", u ? "; " : "",
           ci->lo, ci->hi);
}

/* (c) Accuracy and SI_norm at each grid point matched with the baseline. Where both sides scored
 * the same images (always: same database, content hashes checked), the row also gives the
 * paired bootstrap interval of the difference (metrics/paired_bootstrap.h); the verdict itself
 * stays the binomial rule of gate.h. */
static void check_points(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                         store *db, check_list *l) {
  int same_codec = !strcmp(cand->vt ? cand->vt->name : cand->d->codecs[cand->codec].codec,
                           base->d->codecs[base->codec].codec);
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *ds = &cand->d->datasets[i];
    const results_dataset *bds = find_dataset(base->d, ds->name);
    for (size_t t = 0; t < cand->d->n_tasks; t++) {
      const char *task = cand->d->tasks[t].name;
      size_t bt;
      int compared = 0, any = 0, knob_skipped = 0;
      if (!bds || find_task(base->d, task, &bt))
        continue;
      if (!same_codec)
        add_check(l, "points", ds->name, task, "knob *", ST_SKIP, NAN, NAN,
                  "knob values of different codecs (%s, %s) do not correspond: bpp targets only",
                  cand->d->codecs[cand->codec].codec, base->d->codecs[base->codec].codec);
      for (size_t k = 0; k < ds->n_task_rows; k++) {
        const results_task_row *rc = &ds->task_rows[k];
        if (rc->task != t || rc->codec != cand->codec)
          continue;
        any = 1;
        const results_task_row *rb = NULL;
        for (size_t j = 0; j < bds->n_task_rows && !rb; j++) {
          const results_task_row *x = &bds->task_rows[j];
          if (x->task == bt && x->codec == base->codec && x->is_bpp == rc->is_bpp &&
              x->value == rc->value)
            rb = x;
        }
        if (rb && !rc->is_bpp && !same_codec)
          knob_skipped = 1;
        if (!rb || (!rc->is_bpp && !same_codec))
          continue;
        char pt[40];
        point_text(rc->is_bpp, rc->value, pt);
        const results_row *ac = point_row(ds, rc), *ab = point_row(bds, rb);
        int64_t unreach_c = ac ? ac->n_unreachable : 0, unreach_b = ab ? ab->n_unreachable : 0;
        if (rc->is_bpp && (unreach_c || unreach_b)) {
          add_check(l, "point", ds->name, task, pt, ST_SKIP, NAN, NAN,
                    "target unreachable for %lld candidate / %lld baseline images: not "
                    "like-for-like",
                    (long long)unreach_c, (long long)unreach_b);
          continue;
        }
        compared = 1;
        /* Baseline first: the interval is of candidate - baseline. */
        const results_paired_side ps_b = {base->d->tasks[bt].id, rb->point_id, bds->id};
        const results_paired_side ps_c = {cand->d->tasks[t].id, rc->point_id, ds->id};
        metrics_pboot_result ci;
        int64_t n_paired = 0;
        char perr[256];
        const int64_t n_cls = cand->d->tasks[t].num_classes;
        if (results_paired_compare(db, &ps_b, &ps_c, n_cls > 0 && n_cls <= INT_MAX ? (int)n_cls : 0,
                                   METRICS_PBOOT_DEFAULT_ROUNDS, &ci, &n_paired, perr,
                                   sizeof perr) != 0)
          n_paired = 0; /* the rows still judge; only the interval is missing */
        if (isfinite(rc->accuracy) && isfinite(rb->accuracy)) {
          double se = diff_se(rc->accuracy, rc->n_labelled, rb->accuracy, rb->n_labelled);
          double tol = cfg->tolerance_se * se;
          tol = isfinite(tol) && tol > cfg->accuracy_floor ? tol : cfg->accuracy_floor;
          double d = rc->accuracy - rb->accuracy;
          gate_check *c =
              add_check(l, "accuracy", ds->name, task, pt, d >= -tol ? ST_PASS : ST_FAIL, d, -tol,
                        "%.4f vs %.4f (n %lld/%lld, SE %.4f)", rc->accuracy, rb->accuracy,
                        (long long)rc->n_labelled, (long long)rb->n_labelled, se);
          if (c) {
            snprintf(c->value, sizeof c->value, "%+.4f", d);
            snprintf(c->limit, sizeof c->limit, ">= %.4f", -tol);
          }
          if (n_paired > 0)
            add_ci(c, &ci.accuracy);
        }
        if (isfinite(rc->si_norm) && isfinite(rb->si_norm)) {
          double se = diff_se(rc->agreement, rc->n, rb->agreement, rb->n);
          double tol = cfg->tolerance_se * se;
          tol = isfinite(tol) && tol > cfg->si_norm_tol ? tol : cfg->si_norm_tol;
          double d = rc->si_norm - rb->si_norm;
          gate_check *c = add_check(l, "si_norm", ds->name, task, pt, d >= -tol ? ST_PASS : ST_FAIL,
                                    d, -tol, "%.4f vs %.4f", rc->si_norm, rb->si_norm);
          if (c) {
            snprintf(c->value, sizeof c->value, "%+.4f", d);
            snprintf(c->limit, sizeof c->limit, ">= %.4f", -tol);
          }
          if (n_paired > 0)
            add_ci(c, &ci.si_norm);
        }
      }
      if (any && !compared)
        add_check(l, "points", ds->name, task, NULL, cfg->not_comparable_fail ? ST_FAIL : ST_WARN,
                  NAN, NAN, "no grid point to compare with the baseline%s",
                  knob_skipped ? " (knob values of different codecs are not compared)" : "");
    }
  }
}

typedef struct curve_pt {
  double rate, acc;
} curve_pt;

static int curve_cmp(const void *a, const void *b) {
  double x = ((const curve_pt *)a)->rate, y = ((const curve_pt *)b)->rate;
  return (x > y) - (x < y);
}

/* A side's rate-accuracy curve (accuracy in points) for one dataset and task: its knob points,
 * or all its points when it has fewer than 4 knob points; sorted by rate, repeated rates
 * dropped. Returns the count. */
static size_t side_curve(const results_dataset *ds, size_t task, size_t codec, double *rate,
                         double *acc) {
  curve_pt pts[BD_MAX_POINTS];
  size_t n_knob = 0, n = 0;
  for (size_t k = 0; k < ds->n_task_rows; k++) {
    const results_task_row *r = &ds->task_rows[k];
    n_knob += r->task == task && r->codec == codec && !r->is_bpp && isfinite(r->bpp) &&
              r->bpp > 0 && isfinite(r->accuracy);
  }
  for (size_t k = 0; k < ds->n_task_rows && n < BD_MAX_POINTS; k++) {
    const results_task_row *r = &ds->task_rows[k];
    if (r->task == task && r->codec == codec && (n_knob < 4 || !r->is_bpp) && isfinite(r->bpp) &&
        r->bpp > 0 && isfinite(r->accuracy))
      pts[n++] = (curve_pt){r->bpp, 100 * r->accuracy};
  }
  qsort(pts, n, sizeof *pts, curve_cmp);
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (!m || pts[k].rate != rate[m - 1]) {
      rate[m] = pts[k].rate;
      acc[m++] = pts[k].acc;
    }
  return m;
}

/* (d) BD-accuracy and BD-rate at equal accuracy against the baseline. */
static void check_bd(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                     check_list *l) {
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *ds = &cand->d->datasets[i];
    const results_dataset *bds = find_dataset(base->d, ds->name);
    for (size_t t = 0; bds && t < cand->d->n_tasks; t++) {
      size_t bt;
      const char *task = cand->d->tasks[t].name;
      if (find_task(base->d, task, &bt))
        continue;
      double rc[BD_MAX_POINTS], ac[BD_MAX_POINTS], rb[BD_MAX_POINTS], ab[BD_MAX_POINTS];
      size_t nc = side_curve(ds, t, cand->codec, rc, ac);
      size_t nb = side_curve(bds, bt, base->codec, rb, ab);
      if (!nc && !nb)
        continue; /* this task does not score this dataset */
      int nc_status = cfg->not_comparable_fail ? ST_FAIL : ST_WARN;
      double v;
      bd_status s = bd_metric(rb, ab, nb, rc, ac, nc, &v);
      gate_check *c = s == BD_OK ? add_check(l, "BD-accuracy", ds->name, task, NULL,
                                             v >= cfg->min_bd_accuracy ? ST_PASS : ST_FAIL, v,
                                             cfg->min_bd_accuracy,
                                             "accuracy points at equal rate (%zu vs %zu "
                                             "points)",
                                             nc, nb)
                                 : add_check(l, "BD-accuracy", ds->name, task, NULL, nc_status, NAN,
                                             cfg->min_bd_accuracy, "%s (%zu vs %zu points)",
                                             bd_status_text(s), nc, nb);
      if (c) {
        snprintf(c->value, sizeof c->value, s == BD_OK ? "%+.3f points" : "-", v);
        snprintf(c->limit, sizeof c->limit, ">= %g", cfg->min_bd_accuracy);
      }
      s = bd_rate(rb, ab, nb, rc, ac, nc, &v);
      c = s == BD_OK
              ? add_check(l, "BD-rate", ds->name, task, NULL,
                          v <= cfg->max_bd_rate ? ST_PASS : ST_FAIL, v, cfg->max_bd_rate,
                          "at equal accuracy (%zu vs %zu points)", nc, nb)
              : add_check(l, "BD-rate", ds->name, task, NULL, nc_status, NAN, cfg->max_bd_rate,
                          "%s (%zu vs %zu points)", bd_status_text(s), nc, nb);
      if (c) {
        snprintf(c->value, sizeof c->value, s == BD_OK ? "%+.2f%%" : "-", v);
        snprintf(c->limit, sizeof c->limit, "<= %g%%", cfg->max_bd_rate);
      }
    }
  }
}

/* ------------------------------------------------------------------ check (b): determinism */

static char *path_join(const char *dir, const char *name) {
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

/* A binary PPM (P6): the decoded bytes behind a small header, viewable with any image tool. */
static int write_ppm(const char *path, const uint8_t *rgb, int w, int h, char *err,
                     size_t err_len) {
  FILE *f = fopen(path, "wb");
  size_t n = (size_t)w * (size_t)h * 3;
  int ok = f && fprintf(f, "P6\n%d %d\n255\n", w, h) > 0 && (!n || fwrite(rgb, 1, n, f) == n);
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

/* (b) Encode determinism (twice in-process) and decode determinism (two processes, 1 and
 * max(2, threads) threads). Failures of the candidate are verdict rows; errors of the harness
 * (cannot write files, cannot start a process) return -1 with err set. */
static int check_determinism(const gate_options *o, const gate_config *cfg, const suite *gs,
                             const gate_side *cand, check_list *l, char *err, size_t err_len) {
  const suite_dataset *sd = &gs->datasets[0];
  const suite_codec *sc = NULL;
  for (size_t i = 0; i < gs->n_codecs; i++)
    if (!strcmp(gs->codecs[i].label, cand->role))
      sc = &gs->codecs[i];
  char *dir = path_join(o->out_dir, "determinism");
  char *enc_dir = dir ? path_join(dir, "encoded") : NULL;
  char *dec_dir[2] = {dir ? path_join(dir, "decoded-1") : NULL, NULL};
  char *log[2] = {dir ? path_join(dir, "decode-1.log") : NULL, NULL};
  int threads[2] = {1, o->threads > 2 ? o->threads : 2};
  char name[32];
  snprintf(name, sizeof name, "decoded-%d", threads[1]);
  dec_dir[1] = dir ? path_join(dir, name) : NULL;
  snprintf(name, sizeof name, "decode-%d.log", threads[1]);
  log[1] = dir ? path_join(dir, name) : NULL;
  dataset *ds = NULL;
  void *inst = NULL;
  int rc = -1, created = 0;
  size_t n_files = 0, n_enc_diff = 0, n_images = 0;
  codec_encoded e1 = {0}, e2 = {0};
  image_rgb8 img = {0};
  char *ds_path = NULL;
  char e[512] = "";
  gate_check *c = NULL;
  int status[2];
  size_t n_diff = 0;
  double knobs[3];
  if (!sc || !dir || !enc_dir || !dec_dir[0] || !dec_dir[1] || !log[0] || !log[1]) {
    snprintf(err, err_len, "out of memory");
    goto out;
  }
  if (report_mkdirs(enc_dir, err, err_len) || report_mkdirs(dec_dir[0], err, err_len) ||
      report_mkdirs(dec_dir[1], err, err_len))
    goto out;
  ds_path =
      sd->path[0] == '/' || !o->data_root ? strdup(sd->path) : path_join(o->data_root, sd->path);
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
        add_check(l, "encode determinism", sd->name, NULL, NULL, ST_FAIL, NAN, NAN,
                  "encode failed on %s at %s=%g: %.100s", dataset_item_name(ds, k),
                  cand->vt->knob.name, knobs[q], e);
        rc = 0;
        goto out;
      }
      n_enc_diff += e1.size != e2.size || memcmp(e1.data, e2.data, e1.size);
      snprintf(name, sizeof name, "%03zu.bin", n_files++);
      char *p = path_join(enc_dir, name);
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
  if (!n_files) {
    snprintf(err, err_len, "determinism check: no readable image in dataset '%s'", sd->name);
    goto out;
  }
  c = add_check(l, "encode determinism", sd->name, NULL, NULL, n_enc_diff ? ST_FAIL : ST_PASS,
                (double)n_enc_diff, 0, "%zu images x %zu knob values, encoded twice", n_images,
                n_knobs);
  if (c) {
    snprintf(c->value, sizeof c->value, "%zu of %zu differ", n_enc_diff, n_files);
    snprintf(c->limit, sizeof c->limit, "identical bytes");
  }
  for (int t = 0; t < 2; t++)
    if ((status[t] = spawn_decoder(o, cand->run_spec, threads[t], n_files, enc_dir, dec_dir[t],
                                   log[t], err, err_len)) < 0)
      goto out;
  for (int t = 0; t < 2; t++)
    if (status[t]) {
      char line[160];
      first_line(log[t], line, sizeof line);
      add_check(l, "decode determinism", sd->name, NULL, NULL, ST_FAIL, NAN, NAN,
                "decoder process (%d threads) exited with %d: %s", threads[t], status[t], line);
      rc = 0;
      goto out;
    }
  for (size_t i = 0; i < n_files; i++) {
    snprintf(name, sizeof name, "%03zu.ppm", i);
    char *a = path_join(dec_dir[0], name), *b = path_join(dec_dir[1], name);
    int same = a && b ? same_file(a, b) : -1;
    free(a);
    free(b);
    if (same < 0) {
      snprintf(err, err_len, "determinism check: cannot read the decoded %s", name);
      goto out;
    }
    n_diff += !same;
  }
  c = add_check(l, "decode determinism", sd->name, NULL, NULL, n_diff ? ST_FAIL : ST_PASS,
                (double)n_diff, 0, "%zu files decoded in 2 processes, %d and %d threads", n_files,
                threads[0], threads[1]);
  if (c) {
    snprintf(c->value, sizeof c->value, "%zu of %zu differ", n_diff, n_files);
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
  free(dir);
  free(enc_dir);
  for (int t = 0; t < 2; t++) {
    free(dec_dir[t]);
    free(log[t]);
  }
  return rc;
}

/* ------------------------------------------------------------------ output */

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *verdict_json(const gate_options *o, const gate_config *cfg, const gate_side *cand,
                            const gate_side *base, const check_list *l, int pass,
                            const int counts[4]) {
  json_t *root = json_object();
  json_object_set_new(root, "verdict", json_string(pass ? "pass" : "fail"));
  json_object_set_new(root, "exit_status", json_integer(pass ? GATE_PASS : GATE_FAIL));
  json_object_set_new(root, "suite", json_string(o->suite_path));
  const gate_side *sides[2] = {cand, base};
  for (int i = 0; i < 2; i++) {
    const gate_side *s = sides[i];
    json_t *j = json_object();
    json_object_set_new(j, "spec", s->spec ? json_string(s->spec) : json_null());
    json_object_set_new(j, "codec", json_string(s->d->codecs[s->codec].codec));
    json_object_set_new(j, "run", json_integer(s->run_id));
    json_object_set_new(j, "label", json_string(s->label));
    json_object_set_new(root, s->role, j);
  }
  json_t *t = json_object();
  json_object_set_new(t, "min_bpp", jnum(cfg->min_bpp));
  json_object_set_new(t, "max_bpp", jnum(cfg->max_bpp));
  json_object_set_new(t, "tolerance_se", json_real(cfg->tolerance_se));
  json_object_set_new(t, "accuracy_floor", json_real(cfg->accuracy_floor));
  json_object_set_new(t, "si_norm_tol", json_real(cfg->si_norm_tol));
  json_object_set_new(t, "max_bd_rate", json_real(cfg->max_bd_rate));
  json_object_set_new(t, "min_bd_accuracy", json_real(cfg->min_bd_accuracy));
  json_object_set_new(t, "not_comparable", json_string(cfg->not_comparable_fail ? "fail" : "warn"));
  json_object_set_new(t, "determinism", json_boolean(cfg->determinism));
  json_object_set_new(t, "determinism_images", json_integer((json_int_t)cfg->determinism_images));
  json_object_set_new(root, "thresholds", t);
  json_t *sum = json_object();
  for (int s = 0; s < 4; s++)
    json_object_set_new(sum, st_json[s], json_integer(counts[s]));
  json_object_set_new(root, "summary", sum);
  json_t *arr = json_array();
  for (size_t i = 0; i < l->n; i++) {
    const gate_check *c = &l->v[i];
    json_t *j = json_object();
    json_object_set_new(j, "check", json_string(c->check));
    json_object_set_new(j, "dataset", *c->dataset ? json_string(c->dataset) : json_null());
    json_object_set_new(j, "task", *c->task ? json_string(c->task) : json_null());
    json_object_set_new(j, "point", *c->point ? json_string(c->point) : json_null());
    json_object_set_new(j, "status", json_string(st_json[c->status]));
    json_object_set_new(j, "value", jnum(c->num));
    json_object_set_new(j, "limit", jnum(c->limit_num));
    json_object_set_new(j, "ci95_lo", jnum(c->ci_lo));
    json_object_set_new(j, "ci95_hi", jnum(c->ci_hi));
    json_object_set_new(j, "value_text", json_string(c->value));
    json_object_set_new(j, "limit_text", json_string(c->limit));
    json_object_set_new(j, "detail", json_string(c->detail));
    json_array_append_new(arr, j);
  }
  json_object_set_new(root, "checks", arr);
  return root;
}

static void side_text(const gate_side *s, char *out, size_t len) {
  if (s->spec)
    snprintf(out, len, "%s (run %lld)", s->spec, (long long)s->run_id);
  else
    snprintf(out, len, "run %lld codec '%s' (%s)", (long long)s->run_id, s->label,
             s->d->codecs[s->codec].codec);
}

static void print_table(FILE *f, const gate_options *o, const gate_side *cand,
                        const gate_side *base, const check_list *l, int pass, const int counts[4]) {
  char a[512], b[512];
  side_text(cand, a, sizeof a);
  side_text(base, b, sizeof b);
  fprintf(f, "gate: candidate %s\n      baseline  %s\n      suite     %s\n\n", a, b, o->suite_path);
  fprintf(f, "%-18s %-14s %-12s %-10s %-18s %-20s %-6s %s\n", "check", "dataset", "task", "point",
          "value", "limit", "result", "detail");
  for (size_t i = 0; i < l->n; i++) {
    const gate_check *c = &l->v[i];
    fprintf(f, "%-18s %-14.14s %-12.12s %-10s %-18s %-20s %-6s %s\n", c->check,
            *c->dataset ? c->dataset : "-", *c->task ? c->task : "-", *c->point ? c->point : "-",
            *c->value ? c->value : "-", *c->limit ? c->limit : "-", st_name[c->status], c->detail);
  }
  fprintf(f, "\nverdict: %s (%d passed, %d warnings, %d failed, %d skipped); exit status %d\n",
          pass ? "PASS" : "FAIL", counts[ST_PASS], counts[ST_WARN], counts[ST_FAIL],
          counts[ST_SKIP], pass ? GATE_PASS : GATE_FAIL);
}

static char *verdict_markdown(const gate_options *o, const gate_side *cand, const gate_side *base,
                              const check_list *l, int pass, const int counts[4]) {
  sb_buf b = {0};
  char a[512], s[512];
  side_text(cand, a, sizeof a);
  side_text(base, s, sizeof s);
  sb_buf_printf(&b, "# Gate verdict: %s\n\n", pass ? "PASS" : "FAIL");
  sb_buf_printf(&b, "- candidate: `%s`\n- baseline: `%s`\n- suite: `%s`\n", a, s, o->suite_path);
  sb_buf_printf(&b, "- %d passed, %d warnings, %d failed, %d skipped\n\n", counts[ST_PASS],
                counts[ST_WARN], counts[ST_FAIL], counts[ST_SKIP]);
  sb_buf_puts(&b, "| check | dataset | task | point | value | limit | result | detail |\n"
                  "|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < l->n; i++) {
    const gate_check *c = &l->v[i];
    char detail[sizeof c->detail];
    snprintf(detail, sizeof detail, "%s", c->detail);
    for (char *p = detail; *p; p++)
      if (*p == '|')
        *p = '/';
    sb_buf_printf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", c->check,
                  *c->dataset ? c->dataset : "", *c->task ? c->task : "", c->point, c->value,
                  c->limit, c->status == ST_FAIL ? "**FAIL**" : st_json[c->status], detail);
  }
  return sb_buf_take(&b);
}

/* ------------------------------------------------------------------ gate_run */

static int all_digits(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

/* The suite the gate runs: the validation suite's datasets, tasks and settings, with the
 * candidate (and the baseline when it is a SPEC) as its codecs. */
static suite *gate_suite(const suite *vs, const gate_side *cand, const gate_side *base,
                         int64_t base_run, char *err, size_t err_len) {
  suite *g = suite_new_adhoc(vs->name);
  if (!g || !(g->path = strdup(vs->path)) ||
      (vs->description && !(g->description = strdup(vs->description)))) {
    suite_free(g);
    snprintf(err, err_len, "out of memory");
    return NULL;
  }
  g->max_encodes = vs->max_encodes;
  for (size_t i = 0; i < vs->n_datasets; i++) {
    const suite_dataset *d = &vs->datasets[i];
    if (suite_add_dataset(g, d->name, d->path, d->split, d->stride, d->limit, err, err_len))
      goto fail;
    g->datasets[i].offset = d->offset;
  }
  for (size_t i = 0; i < vs->n_tasks; i++) {
    sb_buf b = {0};
    sb_buf_printf(&b, "%s=%s", vs->tasks[i].name, vs->tasks[i].checkpoint);
    char *spec = sb_buf_take(&b);
    int rc = spec ? suite_add_task_spec(g, spec, err, err_len) : -1;
    if (!spec)
      snprintf(err, err_len, "out of memory");
    free(spec);
    if (rc)
      goto fail;
  }
  if (suite_add_codec_spec(g, cand->run_spec, cand->vt->knob.name, err, err_len))
    goto fail;
  if (base->run_spec && suite_add_codec_spec(g, base->run_spec, base->vt->knob.name, err, err_len))
    goto fail;
  sb_buf t = {0};
  sb_buf_puts(&t, vs->text);
  sb_buf_printf(&t, "\n# saicbench gate: candidate %s, baseline ", cand->run_spec);
  if (base->run_spec)
    sb_buf_puts(&t, base->run_spec);
  else
    sb_buf_printf(&t, "run %lld", (long long)base_run);
  sb_buf_puts(&t, "\n");
  if (!(g->text = sb_buf_take(&t))) {
    snprintf(err, err_len, "out of memory");
    goto fail;
  }
  return g;
fail:
  suite_free(g);
  return NULL;
}

/* A baseline given as a run: it must be complete, hold the codec and the same images. */
static int check_baseline_run(const gate_side *cand, gate_side *base, const char *label, char *err,
                              size_t err_len) {
  const results_data *d = base->d;
  if (!d->run.status || strcmp(d->run.status, "complete")) {
    snprintf(err, err_len, "baseline run %lld is %s, not complete", (long long)base->run_id,
             d->run.status ? d->run.status : "?");
    return -1;
  }
  if (label) {
    if (find_codec(d, label, &base->codec)) {
      snprintf(err, err_len, "baseline run %lld has no codec '%s'", (long long)base->run_id, label);
      return -1;
    }
  } else if (d->n_codecs == 1) {
    base->codec = 0;
  } else {
    sb_buf b = {0};
    for (size_t i = 0; i < d->n_codecs; i++)
      sb_buf_printf(&b, "%s%s", i ? ", " : "", d->codecs[i].label);
    char *labels = sb_buf_take(&b);
    snprintf(err, err_len,
             "baseline run %lld has %zu codecs (%s): choose one with "
             "--baseline-label",
             (long long)base->run_id, d->n_codecs, labels ? labels : "?");
    free(labels);
    return -1;
  }
  free(base->label);
  if (!(base->label = strdup(d->codecs[base->codec].label))) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  if (!cand)
    return 0;
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *cd = &cand->d->datasets[i];
    const results_dataset *bd = find_dataset(d, cd->name);
    if (!bd || !bd->content_hash || !cd->content_hash ||
        strcmp(bd->content_hash, cd->content_hash)) {
      snprintf(err, err_len,
               "baseline run %lld: dataset '%s' %s; the gate compares on the same images",
               (long long)base->run_id, cd->name, bd ? "holds other images" : "is missing");
      return -1;
    }
  }
  for (size_t i = 0; i < cand->d->n_tasks; i++) {
    size_t k;
    if (find_task(d, cand->d->tasks[i].name, &k)) {
      snprintf(err, err_len, "baseline run %lld has no task '%s'", (long long)base->run_id,
               cand->d->tasks[i].name);
      return -1;
    }
  }
  return 0;
}

int gate_run(const gate_options *o, FILE *out, char *err, size_t err_len) {
  gate_config cfg;
  gate_config_defaults(&cfg);
  gate_side cand = {.role = "candidate"}, base = {.role = "baseline"};
  suite *vs = NULL, *gs = NULL;
  codec_registry *reg = NULL;
  store *st = NULL;
  check_list l = {0};
  char *db_path = NULL, *md = NULL, *json_text = NULL;
  int status = GATE_ERROR;
  if (suite_load_file(o->suite_path, &vs, err, err_len) ||
      gate_config_parse(vs->text, o->suite_path, &cfg, err, err_len))
    goto out;
  if (!vs->n_tasks) {
    snprintf(err, err_len,
             "%s: the validation suite names no 'tasks' (the gate judges task "
             "accuracy)",
             o->suite_path);
    goto out;
  }
  if (codec_registry_create(&reg, err, err_len))
    goto out;
  for (size_t i = 0; i < vs->n_plugins; i++) {
    const char *slash = strrchr(o->suite_path, '/');
    sb_buf b = {0};
    if (vs->plugins[i][0] == '/' || !slash)
      sb_buf_puts(&b, vs->plugins[i]);
    else
      sb_buf_printf(&b, "%.*s/%s", (int)(slash - o->suite_path), o->suite_path, vs->plugins[i]);
    char *p = sb_buf_take(&b);
    int rc = p ? codec_registry_load_plugin(reg, p, err, err_len) : -1;
    if (!p)
      snprintf(err, err_len, "out of memory");
    free(p);
    if (rc)
      goto out;
  }
  for (size_t i = 0; i < o->n_plugins; i++)
    if (codec_registry_load_plugin(reg, o->plugins[i], err, err_len))
      goto out;
  if (side_from_spec(&cand, o->candidate, &cfg, reg, err, err_len))
    goto out;
  const char *bspec = o->baseline ? o->baseline : cfg.baseline;
  int base_is_run = bspec && all_digits(bspec);
  if (!bspec) {
    snprintf(err, err_len, "no baseline: give --baseline SPEC|RUN_ID or gate.baseline in %s",
             o->suite_path);
    goto out;
  }
  if (o->baseline_label && !base_is_run) {
    snprintf(err, err_len, "--baseline-label is for a baseline given as RUN_ID");
    goto out;
  }
  if (report_mkdirs(o->out_dir, err, err_len))
    goto out;
  if (!(db_path = o->db_path ? strdup(o->db_path) : path_join(o->out_dir, "gate.db"))) {
    snprintf(err, err_len, "out of memory");
    goto out;
  }
  if (base_is_run) {
    /* Read it before running anything: a wrong id fails in a second, not after the run. */
    base.run_id = strtoll(bspec, NULL, 10);
    char e[900];
    if (store_open_readonly(db_path, &st, e, sizeof e) ||
        results_load(st, base.run_id, &base.data, e, sizeof e)) {
      base.data_loaded = 1;
      snprintf(err, err_len, "baseline %s: %s", bspec, e);
      goto out;
    }
    base.data_loaded = 1;
    base.d = &base.data;
    if (check_baseline_run(NULL, &base, o->baseline_label, err, err_len))
      goto out;
    store_close(st);
    st = NULL;
  } else if (side_from_spec(&base, bspec, &cfg, reg, err, err_len)) {
    goto out;
  }
  if (!(gs = gate_suite(vs, &cand, &base, base.run_id, err, err_len)))
    goto out;

  runner_options ro = {.db_path = db_path,
                       .data_root = o->data_root,
                       .threads = o->threads,
                       .quiet = o->quiet,
                       .command = o->command,
                       .stop = o->stop};
  runner_summary rs;
  if (runner_run(gs, reg, &ro, &rs, err, err_len))
    goto out;
  if (rs.interrupted) {
    snprintf(err, err_len, "interrupted: run %lld is incomplete; the gate was not evaluated",
             (long long)rs.run_id);
    status = GATE_INTERRUPTED;
    goto out;
  }
  cand.run_id = rs.run_id;
  if (store_open_readonly(db_path, &st, err, err_len) ||
      results_load(st, cand.run_id, &cand.data, err, err_len)) {
    cand.data_loaded = 1;
    goto out;
  }
  cand.data_loaded = 1;
  cand.d = &cand.data;
  if (find_codec(cand.d, cand.label, &cand.codec)) {
    snprintf(err, err_len, "run %lld has no codec '%s'", (long long)cand.run_id, cand.label);
    goto out;
  }
  if (base_is_run) {
    if (check_baseline_run(&cand, &base, o->baseline_label, err, err_len))
      goto out;
  } else {
    base.run_id = cand.run_id;
    base.d = cand.d;
    if (find_codec(base.d, base.label, &base.codec)) {
      snprintf(err, err_len, "run %lld has no codec '%s'", (long long)cand.run_id, base.label);
      goto out;
    }
  }

  check_rate_range(&cfg, &cand, &base, &l);
  if (cfg.determinism) {
    if (check_determinism(o, &cfg, gs, &cand, &l, err, err_len))
      goto out;
  } else {
    add_check(&l, "determinism", NULL, NULL, NULL, ST_SKIP, NAN, NAN, "gate.determinism: false");
  }
  check_points(&cfg, &cand, &base, st, &l);
  check_bd(&cfg, &cand, &base, &l);
  if (l.failed) {
    snprintf(err, err_len, "out of memory");
    goto out;
  }

  int counts[4] = {0};
  for (size_t i = 0; i < l.n; i++)
    counts[l.v[i].status]++;
  int pass = counts[ST_FAIL] == 0;
  json_t *root = verdict_json(o, &cfg, &cand, &base, &l, pass, counts);
  json_text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
  json_decref(root);
  md = verdict_markdown(o, &cand, &base, &l, pass, counts);
  if (!json_text || !md) {
    snprintf(err, err_len, "out of memory");
    goto out;
  }
  if (report_write_file(o->out_dir, "verdict.json", json_text, strlen(json_text), err, err_len) ||
      report_write_file(o->out_dir, "verdict.md", md, strlen(md), err, err_len))
    goto out;
  if (out)
    print_table(out, o, &cand, &base, &l, pass, counts);
  status = pass ? GATE_PASS : GATE_FAIL;
out:
  free(json_text);
  free(md);
  free(l.v);
  store_close(st);
  side_free(&cand);
  side_free(&base);
  suite_free(gs);
  suite_free(vs);
  codec_registry_destroy(reg);
  gate_config_free(&cfg);
  free(db_path);
  return status;
}

/* ------------------------------------------------------------------ __gate-decode */

int gate_decode_main(int argc, char **argv) {
  static const struct option opts[] = {{"spec", required_argument, 0, 's'},
                                       {"threads", required_argument, 0, 't'},
                                       {"count", required_argument, 0, 'c'},
                                       {"in", required_argument, 0, 'i'},
                                       {"out", required_argument, 0, 'o'},
                                       {"plugin", required_argument, 0, 'p'},
                                       {0, 0, 0, 0}};
  const char *spec = NULL, *in = NULL, *outd = NULL;
  const char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  long threads = 1, count = -1;
  size_t n_plugins = 0;
  int c, status = 2;
  codec_registry *reg = NULL;
  suite *s = NULL;
  void *inst = NULL;
  const codec_vtable *vt = NULL;
  char err[1024] = "";
  if (!plugins) {
    fprintf(stderr, "saicbench __gate-decode: out of memory\n");
    return 2;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 's': spec = optarg; break;
    case 't': threads = strtol(optarg, NULL, 10); break;
    case 'c': count = strtol(optarg, NULL, 10); break;
    case 'i': in = optarg; break;
    case 'o': outd = optarg; break;
    case 'p': plugins[n_plugins++] = optarg; break;
    default: goto done;
    }
  }
  if (!spec || !in || !outd || threads < 1 || threads > 1024 || count < 0) {
    snprintf(err, sizeof err,
             "usage: saicbench __gate-decode --spec SPEC --threads N --count K "
             "--in DIR --out DIR [--plugin PATH]...");
    goto done;
  }
  omp_set_num_threads((int)threads);
  if (codec_registry_create(&reg, err, sizeof err))
    goto done;
  for (size_t i = 0; i < n_plugins; i++)
    if (codec_registry_load_plugin(reg, plugins[i], err, sizeof err))
      goto done;
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(spec, ":"), spec);
  if (!(vt = codec_registry_find(reg, name))) {
    snprintf(err, sizeof err, "unknown codec '%s'", name);
    goto done;
  }
  if (!(s = suite_new_adhoc("decode")) ||
      suite_add_codec_spec(s, spec, vt->knob.name, err, sizeof err))
    goto done;
  if (vt->create(s->codecs[0].options, s->codecs[0].n_options, &inst, err, sizeof err)) {
    vt = NULL; /* nothing to destroy */
    goto done;
  }
  for (long i = 0; i < count; i++) {
    char file[32];
    snprintf(file, sizeof file, "%03ld.bin", i);
    char *src = path_join(in, file);
    snprintf(file, sizeof file, "%03ld.ppm", i);
    char *dst = path_join(outd, file);
    uint8_t *data = NULL, *rgb = NULL;
    size_t size = 0;
    int w = 0, h = 0, rc = -1;
    char e[512] = "";
    if (!src || !dst)
      snprintf(err, sizeof err, "out of memory");
    else if (image_read_file(src, (size_t)1 << 30, &data, &size, err, sizeof err))
      ;
    else if (vt->decode(inst, data, size, &rgb, &w, &h, e, sizeof e))
      snprintf(err, sizeof err, "%s: decode failed: %s", src, e);
    else
      rc = write_ppm(dst, rgb, w, h, err, sizeof err);
    free(rgb);
    free(data);
    free(src);
    free(dst);
    if (rc)
      goto done;
  }
  status = 0;
done:
  if (status && *err)
    fprintf(stderr, "saicbench __gate-decode: %s\n", err);
  if (vt)
    vt->destroy(inst);
  suite_free(s);
  codec_registry_destroy(reg);
  free(plugins);
  return status;
}
