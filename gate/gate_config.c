/* The suite's `gate:` mapping: the grid, the baseline and the thresholds (gate_config). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "gate_internal.h"
#include "metrics.h"

#include "base.h"
#include "harness.h"

void gate_config_defaults(gate_config *c) {
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

void gate_config_free(gate_config *c) {
  free(c->knobs);
  free(c->bpps);
  free(c->baseline);
}

static int ynumber(sb_yaml_ctx *c, const yaml_node_t *n, const char *key, double lo, double hi,
                   double *out) {
  const char *s = sb_yaml_scalar(n);
  char *end = NULL;
  errno = 0;
  double v = sb_yaml_is_decimal(s) ? strtod(s, &end) : NAN;
  if (!s || !end || errno || *end || !isfinite(v) || v < lo || v > hi)
    return sb_yaml_fail(c, n, "gate.%s: expected a number from %g to %g, got '%s'", key, lo, hi,
                        s ? s : "(not a scalar)");
  *out = v;
  return 0;
}

static int ybool(sb_yaml_ctx *c, const yaml_node_t *n, const char *key, int *out) {
  const char *s = sb_yaml_scalar(n);
  if (sb_parse_bool(s, out))
    return sb_yaml_fail(c, n, "gate.%s: expected true or false, got '%s'", key,
                        s ? s : "(not a scalar)");
  return 0;
}

static int ygrid(sb_yaml_ctx *c, const yaml_node_t *n, const char *key, int positive, double **out,
                 size_t *count) {
  yaml_node_item_t *start = NULL, *top = NULL;
  if (n->type == YAML_SEQUENCE_NODE) {
    start = n->data.sequence.items.start;
    top = n->data.sequence.items.top;
  } else if (n->type != YAML_SCALAR_NODE) {
    return sb_yaml_fail(c, n, "gate.%s: expected a number or a list of numbers", key);
  }
  size_t k = start ? (size_t)(top - start) : 1;
  if (!k || k > METRICS_BD_MAX_POINTS)
    return sb_yaml_fail(c, n, "gate.%s: give 1 to %d values", key, METRICS_BD_MAX_POINTS);
  double *v = calloc(k, sizeof *v);
  if (!v)
    return sb_yaml_fail(c, n, "out of memory");
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
        return sb_yaml_fail(c, item, "gate.%s: value %g appears twice", key, dup);
      }
  }
  free(*out);
  *out = v;
  *count = k;
  return 0;
}

/* Parses the `gate:` mapping of the suite text. */
int gate_config_parse(const char *text, const char *file, gate_config *cfg, char *err,
                      size_t err_len) {
  yaml_document_t doc;
  /* The suite's limits (depth, one document, unique keys): usually reported by the suite
   * parser already, but the text may come from a database (runs.suite_text). */
  if (sb_yaml_load(text, strlen(text), file, &doc, err, err_len))
    return -1;
  sb_yaml_ctx c = {&doc, file, err, err_len};
  int rc = 0;
  const yaml_node_t *root = yaml_document_get_root_node(&doc), *gate = NULL;
  for (yaml_node_pair_t *p =
           root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
       p && p < root->data.mapping.pairs.top && !rc; p++) {
    const yaml_node_t *k = yaml_document_get_node(&doc, p->key);
    if (!sb_yaml_scalar(k) || strcmp(sb_yaml_scalar(k), "gate"))
      continue;
    if (gate)
      rc = sb_yaml_fail(&c, k, "'gate' given twice");
    gate = yaml_document_get_node(&doc, p->value);
  }
  if (!rc && !gate)
    rc = sb_yaml_fail(&c, NULL,
                      "no 'gate:' mapping: this is not a validation suite (see "
                      "suites/validate.yaml)");
  if (!rc && gate->type != YAML_MAPPING_NODE)
    rc = sb_yaml_fail(&c, gate, "gate: expected a mapping");
  for (yaml_node_pair_t *p = rc ? NULL : gate->data.mapping.pairs.start;
       p && p < gate->data.mapping.pairs.top && !rc; p++) {
    const yaml_node_t *k = yaml_document_get_node(&doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(&doc, p->value);
    const char *key = sb_yaml_scalar(k);
    double d;
    if (!key) {
      rc = sb_yaml_fail(&c, k, "gate: keys must be strings");
    } else if (!strcmp(key, "knob")) {
      rc = ygrid(&c, v, key, 0, &cfg->knobs, &cfg->n_knobs);
    } else if (!strcmp(key, "bpp")) {
      rc = ygrid(&c, v, key, 1, &cfg->bpps, &cfg->n_bpps);
    } else if (!strcmp(key, "baseline")) {
      if (!sb_yaml_scalar(v) || !*sb_yaml_scalar(v))
        rc = sb_yaml_fail(&c, v, "gate.baseline: expected a codec spec (NAME[:KEY=VAL]...)");
      else if (!(cfg->baseline = strdup(sb_yaml_scalar(v))))
        rc = sb_yaml_fail(&c, v, "out of memory");
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
      const char *s = sb_yaml_scalar(v);
      if (s && !strcmp(s, "fail"))
        cfg->not_comparable_fail = 1;
      else if (s && !strcmp(s, "warn"))
        cfg->not_comparable_fail = 0;
      else
        rc = sb_yaml_fail(&c, v, "gate.not_comparable: expected 'fail' or 'warn', got '%s'",
                          s ? s : "(not a scalar)");
    } else if (!strcmp(key, "determinism")) {
      rc = ybool(&c, v, key, &cfg->determinism);
    } else if (!strcmp(key, "determinism_images")) {
      rc = ynumber(&c, v, key, 1, GATE_MAX_DETERMINISM_IMAGES, &d);
      if (!rc && d != floor(d))
        rc = sb_yaml_fail(&c, v, "gate.determinism_images: expected an integer");
      cfg->determinism_images = (size_t)d;
    } else {
      rc = sb_yaml_fail(&c, k,
                        "gate: unknown key '%s' (known: baseline, knob, bpp, min_bpp, max_bpp, "
                        "tolerance_se, accuracy_floor, si_norm_tol, max_bd_rate, min_bd_accuracy, "
                        "not_comparable, determinism, determinism_images)",
                        key);
    }
  }
  if (!rc && !cfg->n_knobs && !cfg->n_bpps)
    rc = sb_yaml_fail(&c, gate, "gate: no grid (give 'knob:' values and/or 'bpp:' targets)");
  if (!rc && isfinite(cfg->min_bpp) && isfinite(cfg->max_bpp) && cfg->min_bpp > cfg->max_bpp)
    rc = sb_yaml_fail(&c, gate, "gate: min_bpp %g is above max_bpp %g", cfg->min_bpp, cfg->max_bpp);
  yaml_document_delete(&doc);
  return rc;
}
