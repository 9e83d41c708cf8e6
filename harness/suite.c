#include "harness.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base.h"
#include "data.h"
#include "suite_command.h"

#define SUITE_MAX_FILE_BYTES (4u << 20)
#define SUITE_MAX_GRID 1000

static int get_string(sb_yaml_ctx *c, const yaml_node_t *n, const char *what, char **out) {
  const char *s = sb_yaml_scalar(n);
  if (!s)
    return sb_yaml_fail(c, n, "%s: expected a string", what);
  free(*out);
  *out = strdup(s);
  if (!*out)
    return sb_yaml_fail(c, n, "out of memory");
  return 0;
}

/* Decimal only (sb_yaml_is_decimal): strtod would also read "0x32", "inf" and " 5". */
static int parse_number(const char *s, double *out) {
  if (!sb_yaml_is_decimal(s))
    return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || *end || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}

static int get_size(sb_yaml_ctx *c, const yaml_node_t *n, const char *what, size_t min,
                    size_t *out) {
  const char *s = sb_yaml_scalar(n);
  char *end;
  if (!s || !*s || strspn(s, "0123456789") != strlen(s))
    return sb_yaml_fail(c, n, "%s: expected a non-negative decimal integer, got '%s'", what,
                        s ? s : "(not a scalar)");
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v < min || v > (unsigned long long)SIZE_MAX / 2)
    return sb_yaml_fail(c, n, "%s: expected an integer >= %zu, got '%s'", what, min, s);
  *out = (size_t)v;
  return 0;
}

/* A number or a sequence of numbers, all > 0 for bpp and finite for knobs. */
static int get_grid(sb_yaml_ctx *c, const yaml_node_t *n, const char *what, int positive,
                    double **out, size_t *count) {
  yaml_node_item_t *start = NULL, *top = NULL;
  const yaml_node_t *single = NULL;
  if (n->type == YAML_SEQUENCE_NODE) {
    start = n->data.sequence.items.start;
    top = n->data.sequence.items.top;
  } else if (n->type == YAML_SCALAR_NODE) {
    single = n;
  } else {
    return sb_yaml_fail(c, n, "%s: expected a number or a list of numbers", what);
  }
  size_t k = single ? 1 : (size_t)(top - start);
  if (k == 0)
    return sb_yaml_fail(c, n, "%s: empty list", what);
  if (k > SUITE_MAX_GRID)
    return sb_yaml_fail(c, n, "%s: more than %d grid points", what, SUITE_MAX_GRID);
  double *v = malloc(k * sizeof *v);
  if (!v)
    return sb_yaml_fail(c, n, "out of memory");
  for (size_t i = 0; i < k; i++) {
    const yaml_node_t *item = single ? single : yaml_document_get_node(c->doc, start[i]);
    if (parse_number(sb_yaml_scalar(item), &v[i]) || (positive && v[i] <= 0)) {
      free(v);
      return sb_yaml_fail(c, item, "%s: expected a %snumber, got '%s'", what,
                          positive ? "positive " : "",
                          sb_yaml_scalar(item) ? sb_yaml_scalar(item) : "(not a scalar)");
    }
    for (size_t j = 0; j < i; j++)
      if (v[j] == v[i]) {
        free(v);
        return sb_yaml_fail(c, item, "%s: value %s appears twice", what, sb_yaml_scalar(item));
      }
  }
  free(*out);
  *out = v;
  *count = k;
  return 0;
}

/* The rules for dataset names, codec labels and task names (they become file names, CSV
 * cells and HTML text): 1 to 64 letters, digits, '-', '_' and '.'. NULL when s follows them. */
static const char *name_problem(const char *s) {
  if (!*s || strlen(s) > 64)
    return "must be 1 to 64 characters";
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '-' || *p == '_' || *p == '.'))
      return "use letters, digits, '-', '_' and '.' only";
  return NULL;
}

static int check_name(sb_yaml_ctx *c, const yaml_node_t *n, const char *what, const char *s) {
  const char *problem = name_problem(s);
  if (problem && !*s)
    return sb_yaml_fail(c, n, "%s: %s", what, problem);
  if (problem)
    return sb_yaml_fail(c, n, "%s '%s': %s", what, s, problem);
  return 0;
}

static int parse_dataset(sb_yaml_ctx *c, const yaml_node_t *n, suite_dataset *d) {
  if (n->type != YAML_MAPPING_NODE)
    return sb_yaml_fail(c, n, "datasets: each entry must be a mapping (name:, path:, ...)");
  d->stride = 1;
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
    const char *key = sb_yaml_scalar(k);
    int rc;
    if (!key)
      return sb_yaml_fail(c, k, "datasets: keys must be strings");
    if (!strcmp(key, "name"))
      rc = get_string(c, v, "datasets.name", &d->name);
    else if (!strcmp(key, "path"))
      rc = get_string(c, v, "datasets.path", &d->path);
    else if (!strcmp(key, "split"))
      rc = get_string(c, v, "datasets.split", &d->split);
    else if (!strcmp(key, "limit"))
      rc = get_size(c, v, "datasets.limit", 0, &d->limit);
    else if (!strcmp(key, "stride"))
      rc = get_size(c, v, "datasets.stride", 1, &d->stride);
    else if (!strcmp(key, "offset"))
      rc = get_size(c, v, "datasets.offset", 0, &d->offset);
    else
      return sb_yaml_fail(c, k,
                          "datasets: unknown key '%s' (known: name, path, split, limit, stride, "
                          "offset)",
                          key);
    if (rc)
      return rc;
  }
  if (!d->path)
    return sb_yaml_fail(c, n, "datasets: entry without 'path'");
  if (!d->name) {
    const char *base = strrchr(d->path, '/');
    base = base && base[1] ? base + 1 : d->path;
    sb_buf b = {0};
    sb_buf_puts(&b, base);
    if (d->split)
      sb_buf_printf(&b, "-%s", d->split);
    d->name = sb_buf_take(&b);
    if (!d->name)
      return sb_yaml_fail(c, n, "out of memory");
  }
  return check_name(c, n, "datasets.name", d->name);
}

/* The stem of a checkpoint path: "models/classifier_a.ckpt" -> "classifier_a". */
static char *path_stem(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  char *out = malloc(n + 1);
  if (out) {
    memcpy(out, base, n);
    out[n] = '\0';
  }
  return out;
}

static int parse_task(sb_yaml_ctx *c, const yaml_node_t *n, suite_task *t) {
  t->line = (int)n->start_mark.line + 1;
  t->column = (int)n->start_mark.column + 1;
  if (n->type == YAML_SCALAR_NODE) {
    if (get_string(c, n, "tasks", &t->checkpoint))
      return -1;
  } else if (n->type == YAML_MAPPING_NODE) {
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
      const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
      const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
      const char *key = sb_yaml_scalar(k);
      int rc;
      if (!key)
        return sb_yaml_fail(c, k, "tasks: keys must be strings");
      if (!strcmp(key, "name"))
        rc = get_string(c, v, "tasks.name", &t->name);
      else if (!strcmp(key, "checkpoint"))
        rc = get_string(c, v, "tasks.checkpoint", &t->checkpoint);
      else
        return sb_yaml_fail(c, k, "tasks: unknown key '%s' (known: name, checkpoint)", key);
      if (rc)
        return rc;
    }
  } else {
    return sb_yaml_fail(c, n,
                        "tasks: each entry is a checkpoint path or a mapping (name:, checkpoint:)");
  }
  if (!t->checkpoint || !*t->checkpoint)
    return sb_yaml_fail(c, n, "tasks: entry without 'checkpoint'");
  if (!t->name && !(t->name = path_stem(t->checkpoint)))
    return sb_yaml_fail(c, n, "out of memory");
  return check_name(c, n, "tasks.name", t->name);
}

static int parse_settings(sb_yaml_ctx *c, const yaml_node_t *n, suite_codec *cd) {
  if (n->type != YAML_MAPPING_NODE)
    return sb_yaml_fail(c, n, "codecs.settings: expected a mapping of key: value");
  size_t k = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
  cd->options = calloc(k ? k : 1, sizeof *cd->options);
  if (!cd->options)
    return sb_yaml_fail(c, n, "out of memory");
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    const char *key = sb_yaml_scalar(yaml_document_get_node(c->doc, p->key));
    const yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
    const char *val = sb_yaml_scalar(vn);
    if (!key || !val)
      return sb_yaml_fail(c, vn, "codecs.settings: keys and values must be scalars");
    for (size_t i = 0; i < cd->n_options; i++)
      if (!strcmp(cd->options[i].key, key))
        return sb_yaml_fail(c, vn, "codecs.settings: '%s' given twice", key);
    /* `key: !path FILE`: a file relative to the suite file's folder (resolved on load). */
    const bool is_file = vn->tag && !strcmp((const char *)vn->tag, "!path");
    if (vn->tag && !is_file && strncmp((const char *)vn->tag, "tag:yaml.org,2002:", 18))
      return sb_yaml_fail(c, vn, "codecs.settings: '%s': unknown tag '%s' (known: !path)", key,
                          (const char *)vn->tag);
    if (is_file && !*val)
      return sb_yaml_fail(c, vn, "codecs.settings: '%s': empty !path", key);
    if (is_file && !cd->option_is_file && !(cd->option_is_file = calloc(k ? k : 1, 1)))
      return sb_yaml_fail(c, n, "out of memory");
    char *ks = strdup(key), *vs = strdup(val);
    if (!ks || !vs) {
      free(ks);
      free(vs);
      return sb_yaml_fail(c, n, "out of memory");
    }
    if (is_file)
      cd->option_is_file[cd->n_options] = 1;
    cd->options[cd->n_options].key = ks;
    cd->options[cd->n_options].value = vs;
    cd->n_options++;
  }
  return 0;
}

static int parse_codec(sb_yaml_ctx *c, const yaml_node_t *n, suite_codec *cd) {
  if (n->type != YAML_MAPPING_NODE)
    return sb_yaml_fail(c, n, "codecs: each entry must be a mapping (codec:, knob:, bpp:, ...)");
  cd->line = (int)n->start_mark.line + 1;
  cd->column = (int)n->start_mark.column + 1;
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
    const char *key = sb_yaml_scalar(k);
    int rc;
    if (!key)
      return sb_yaml_fail(c, k, "codecs: keys must be strings");
    if (!strcmp(key, "codec"))
      rc = get_string(c, v, "codecs.codec", &cd->codec);
    else if (!strcmp(key, "label"))
      rc = get_string(c, v, "codecs.label", &cd->label);
    else if (!strcmp(key, "knob"))
      rc = get_grid(c, v, "codecs.knob", 0, &cd->knobs, &cd->n_knobs);
    else if (!strcmp(key, "bpp"))
      rc = get_grid(c, v, "codecs.bpp", 1, &cd->bpps, &cd->n_bpps);
    else if (!strcmp(key, "settings"))
      rc = cd->options ? sb_yaml_fail(c, k, "codecs: 'settings' given twice")
                       : parse_settings(c, v, cd);
    else
      return sb_yaml_fail(
          c, k, "codecs: unknown key '%s' (known: codec, label, settings, knob, bpp)", key);
    if (rc)
      return rc;
  }
  if (!cd->codec)
    return sb_yaml_fail(c, n, "codecs: entry without 'codec'");
  if (!cd->label && !(cd->label = strdup(cd->codec)))
    return sb_yaml_fail(c, n, "out of memory");
  if (!cd->n_knobs && !cd->n_bpps)
    return sb_yaml_fail(
        c, n, "codecs: '%s' has no grid (give 'knob:' values and/or 'bpp:' targets)", cd->label);
  return check_name(c, n, "codecs.label", cd->label);
}

/* `report:` {anchor: LABEL, reference: LABEL}; the labels are checked against the codecs once
 * the whole suite is read (check_report_label). */
static int parse_report(sb_yaml_ctx *c, const yaml_node_t *n, suite *s, const yaml_node_t **anchor,
                        const yaml_node_t **reference) {
  if (n->type != YAML_MAPPING_NODE)
    return sb_yaml_fail(c, n, "report: expected a mapping (anchor: LABEL, reference: LABEL)");
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
    const char *key = sb_yaml_scalar(k);
    int rc;
    if (!key)
      return sb_yaml_fail(c, k, "report: keys must be strings");
    if (!strcmp(key, "anchor")) {
      rc = *anchor ? sb_yaml_fail(c, k, "report: 'anchor' given twice")
                   : get_string(c, v, "report.anchor", &s->report_anchor);
      *anchor = v;
    } else if (!strcmp(key, "reference")) {
      rc = *reference ? sb_yaml_fail(c, k, "report: 'reference' given twice")
                      : get_string(c, v, "report.reference", &s->report_reference);
      *reference = v;
    } else {
      return sb_yaml_fail(c, k, "report: unknown key '%s' (known: anchor, reference)", key);
    }
    if (rc)
      return rc;
  }
  return 0;
}

/* A label of report: must name a codec of the suite. */
static int check_report_label(sb_yaml_ctx *c, const yaml_node_t *n, const char *what,
                              const char *label, const suite *s) {
  if (!label)
    return 0;
  for (size_t i = 0; i < s->n_codecs; i++)
    if (!strcmp(s->codecs[i].label, label))
      return 0;
  sb_buf b = {0};
  for (size_t i = 0; i < s->n_codecs; i++)
    sb_buf_printf(&b, "%s%s", i ? ", " : "", s->codecs[i].label);
  int rc = sb_yaml_fail(c, n, "%s: '%s' is not the label of a codec of this suite (labels: %s)",
                        what, label, sb_buf_failed(&b) ? "?" : sb_buf_str(&b));
  sb_buf_free(&b);
  return rc;
}

static const struct {
  const char *name;
  unsigned bit;
} k_metrics[] = {{"psnr", SUITE_METRIC_PSNR},
                 {"ssim", SUITE_METRIC_SSIM},
                 {"ms_ssim", SUITE_METRIC_MS_SSIM},
                 {"psnr_y", SUITE_METRIC_PSNR_Y},
                 {"psnr_ycbcr", SUITE_METRIC_PSNR_YCBCR},
                 {"ciede2000", SUITE_METRIC_CIEDE2000},
                 {"butteraugli", SUITE_METRIC_BUTTERAUGLI}};

static int metric_bit(const char *name, size_t len, unsigned *bit) {
  for (size_t i = 0; i < sizeof k_metrics / sizeof *k_metrics; i++)
    if (strlen(k_metrics[i].name) == len && !strncmp(name, k_metrics[i].name, len))
      return *bit = k_metrics[i].bit, 0;
  return -1;
}

int suite_parse_metrics(const char *list, unsigned *out, char *err, size_t err_len) {
  unsigned m = SUITE_METRIC_PSNR;
  const char *p = list ? list : "";
  for (;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    unsigned bit;
    if (metric_bit(p, len, &bit)) {
      snprintf(err, err_len, "--metrics: unknown metric '%.*s' (known: " SUITE_METRIC_NAMES ")",
               (int)(len > 64 ? 64 : len), p);
      return -1;
    }
    m |= bit;
    if (!e)
      break;
    p = e + 1;
  }
  *out = m;
  return 0;
}

/* The suite key `metrics: [psnr, ssim, ms_ssim]` (a non-empty list of metric names). */
static int parse_metrics(sb_yaml_ctx *c, const yaml_node_t *v, unsigned *out) {
  if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start)
    return sb_yaml_fail(c, v, "metrics: expected a list, e.g. [psnr, ssim, ms_ssim]");
  unsigned m = SUITE_METRIC_PSNR;
  for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
    const yaml_node_t *n = yaml_document_get_node(c->doc, *it);
    const char *name = sb_yaml_scalar(n);
    unsigned bit;
    if (!name || metric_bit(name, strlen(name), &bit))
      return sb_yaml_fail(c, n, "metrics: unknown metric '%s' (known: " SUITE_METRIC_NAMES ")",
                          name ? name : "(not a name)");
    if (m & bit && bit != SUITE_METRIC_PSNR)
      return sb_yaml_fail(c, n, "metrics: '%s' listed twice", name);
    m |= bit;
  }
  *out = m;
  return 0;
}

static int parse_root(sb_yaml_ctx *c, suite *s) {
  const yaml_node_t *root = yaml_document_get_root_node(c->doc);
  if (!root)
    return sb_yaml_fail(c, NULL, "empty suite file");
  if (root->type != YAML_MAPPING_NODE)
    return sb_yaml_fail(c, root, "the suite must be a mapping (name:, datasets:, codecs:)");
  const yaml_node_t *report = NULL, *anchor = NULL, *reference = NULL;
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
       p++) {
    const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
    const char *key = sb_yaml_scalar(k);
    int rc = 0;
    if (!key)
      return sb_yaml_fail(c, k, "keys must be strings");
    if (!strcmp(key, "name")) {
      rc = get_string(c, v, "name", &s->name);
    } else if (!strcmp(key, "description")) {
      rc = get_string(c, v, "description", &s->description);
    } else if (!strcmp(key, "max_encodes")) {
      size_t m;
      rc = get_size(c, v, "max_encodes", 2, &m);
      if (!rc && m > 64)
        rc = sb_yaml_fail(c, v, "max_encodes: at most 64");
      s->max_encodes = (int)m;
    } else if (!strcmp(key, "metrics")) {
      rc = parse_metrics(c, v, &s->metrics);
    } else if (!strcmp(key, "datasets") || !strcmp(key, "codecs") || !strcmp(key, "plugins") ||
               !strcmp(key, "tasks")) {
      if (v->type != YAML_SEQUENCE_NODE)
        return sb_yaml_fail(c, v, "%s: expected a list", key);
      size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
      if (!cnt)
        return sb_yaml_fail(c, v, "%s: empty list", key);
      if (!strcmp(key, "datasets")) {
        if (s->datasets)
          return sb_yaml_fail(c, k, "'datasets' given twice");
        if (!(s->datasets = calloc(cnt, sizeof *s->datasets)))
          return sb_yaml_fail(c, v, "out of memory");
        for (size_t i = 0; i < cnt && !rc; i++, s->n_datasets++)
          rc = parse_dataset(c, yaml_document_get_node(c->doc, v->data.sequence.items.start[i]),
                             &s->datasets[i]);
      } else if (!strcmp(key, "codecs")) {
        if (s->codecs)
          return sb_yaml_fail(c, k, "'codecs' given twice");
        if (!(s->codecs = calloc(cnt, sizeof *s->codecs)))
          return sb_yaml_fail(c, v, "out of memory");
        for (size_t i = 0; i < cnt && !rc; i++, s->n_codecs++)
          rc = parse_codec(c, yaml_document_get_node(c->doc, v->data.sequence.items.start[i]),
                           &s->codecs[i]);
      } else if (!strcmp(key, "tasks")) {
        if (s->tasks)
          return sb_yaml_fail(c, k, "'tasks' given twice");
        if (!(s->tasks = calloc(cnt, sizeof *s->tasks)))
          return sb_yaml_fail(c, v, "out of memory");
        for (size_t i = 0; i < cnt && !rc; i++, s->n_tasks++)
          rc = parse_task(c, yaml_document_get_node(c->doc, v->data.sequence.items.start[i]),
                          &s->tasks[i]);
      } else {
        if (s->plugins)
          return sb_yaml_fail(c, k, "'plugins' given twice");
        if (!(s->plugins = calloc(cnt, sizeof *s->plugins)))
          return sb_yaml_fail(c, v, "out of memory");
        for (size_t i = 0; i < cnt && !rc; i++, s->n_plugins++)
          rc = get_string(c, yaml_document_get_node(c->doc, v->data.sequence.items.start[i]),
                          "plugins", &s->plugins[i]);
      }
    } else if (!strcmp(key, "command_codecs")) {
      rc = suite_command_parse(c, v, s);
    } else if (!strcmp(key, "gate")) {
      /* Thresholds of `saicbench gate` (gate/gate_config.c parses them from the suite text); a
       * plain run ignores them. */
      if (v->type != YAML_MAPPING_NODE)
        return sb_yaml_fail(c, v, "gate: expected a mapping (see suites/validate.yaml)");
    } else if (!strcmp(key, "report")) {
      if (report)
        return sb_yaml_fail(c, k, "'report' given twice");
      report = v;
      rc = parse_report(c, v, s, &anchor, &reference);
    } else {
      return sb_yaml_fail(c, k,
                          "unknown key '%s' (known: name, description, max_encodes, metrics, "
                          "plugins, command_codecs, datasets, codecs, tasks, gate, report)",
                          key);
    }
    if (rc)
      return rc;
  }
  if (!s->name)
    return sb_yaml_fail(c, root, "the suite has no 'name'");
  if (!s->n_datasets)
    return sb_yaml_fail(c, root, "the suite has no 'datasets'");
  if (!s->n_codecs)
    return sb_yaml_fail(c, root, "the suite has no 'codecs'");
  for (size_t i = 0; i < s->n_datasets; i++)
    for (size_t j = 0; j < i; j++)
      if (!strcmp(s->datasets[i].name, s->datasets[j].name))
        return sb_yaml_fail(c, root, "dataset name '%s' used twice", s->datasets[i].name);
  for (size_t i = 0; i < s->n_codecs; i++)
    for (size_t j = 0; j < i; j++)
      if (!strcmp(s->codecs[i].label, s->codecs[j].label)) {
        snprintf(c->err, c->err_len,
                 "%s:%d:%d: codec label '%s' used twice (give each entry its own 'label')", c->file,
                 s->codecs[i].line, s->codecs[i].column, s->codecs[i].label);
        return -1;
      }
  for (size_t i = 0; i < s->n_tasks; i++)
    for (size_t j = 0; j < i; j++)
      if (!strcmp(s->tasks[i].name, s->tasks[j].name)) {
        snprintf(c->err, c->err_len,
                 "%s:%d:%d: task name '%s' used twice (give each entry its own 'name')", c->file,
                 s->tasks[i].line, s->tasks[i].column, s->tasks[i].name);
        return -1;
      }
  if (check_report_label(c, anchor, "report.anchor", s->report_anchor, s) ||
      check_report_label(c, reference, "report.reference", s->report_reference, s))
    return -1;
  return 0;
}

int suite_parse(const char *text, size_t len, const char *name_for_errors, suite **out, char *err,
                size_t err_len) {
  *out = NULL;
  yaml_document_t doc;
  if (sb_yaml_load(text, len, name_for_errors, &doc, err, err_len))
    return -1;
  suite *s = calloc(1, sizeof *s);
  int rc = -1;
  sb_yaml_ctx c = {&doc, name_for_errors, err, err_len};
  if (!s)
    snprintf(err, err_len, "%s: out of memory", name_for_errors);
  else if (!(s->text = malloc(len + 1)))
    snprintf(err, err_len, "%s: out of memory", name_for_errors);
  else {
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->max_encodes = SUITE_DEFAULT_MAX_ENCODES;
    s->metrics = SUITE_METRICS_DEFAULT;
    rc = parse_root(&c, s);
  }
  yaml_document_delete(&doc);
  if (rc) {
    suite_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

int suite_load_file(const char *path, suite **out, char *err, size_t err_len) {
  uint8_t *data;
  size_t size;
  *out = NULL;
  if (image_read_file(path, SUITE_MAX_FILE_BYTES, &data, &size, err, err_len))
    return -1;
  if (memchr(data, '\0', size)) {
    snprintf(err, err_len, "%s: not a text file (contains NUL bytes)", path);
    free(data);
    return -1;
  }
  int rc = suite_parse((const char *)data, size, path, out, err, err_len);
  free(data);
  if (rc)
    return rc;
  if (!((*out)->path = strdup(path)))
    goto oom;
  /* Checkpoints named in a suite file are relative to the file's folder, so a suite works
   * from any current directory. */
  const char *slash = strrchr(path, '/');
  for (size_t i = 0; slash && i < (*out)->n_tasks; i++) {
    suite_task *t = &(*out)->tasks[i];
    if (t->checkpoint[0] == '/')
      continue;
    sb_buf b = {0};
    sb_buf_printf(&b, "%.*s/%s", (int)(slash - path), path, t->checkpoint);
    char *resolved = sb_buf_take(&b);
    if (!resolved)
      goto oom;
    free(t->checkpoint);
    t->checkpoint = resolved;
  }
  for (size_t i = 0; slash && i < (*out)->n_codecs; i++) {
    suite_codec *cd = &(*out)->codecs[i];
    for (size_t j = 0; cd->option_is_file && j < cd->n_options; j++) {
      if (!cd->option_is_file[j] || cd->options[j].value[0] == '/')
        continue;
      sb_buf b = {0};
      sb_buf_printf(&b, "%.*s/%s", (int)(slash - path), path, cd->options[j].value);
      char *resolved = sb_buf_take(&b);
      if (!resolved)
        goto oom;
      free((char *)cd->options[j].value);
      cd->options[j].value = resolved;
    }
  }
  if (suite_command_resolve(*out, path))
    goto oom;
  return 0;
oom:
  suite_free(*out);
  *out = NULL;
  snprintf(err, err_len, "%s: out of memory", path);
  return -1;
}

suite *suite_new_adhoc(const char *name) {
  suite *s = calloc(1, sizeof *s);
  if (!s || !(s->name = strdup(name))) {
    free(s);
    return NULL;
  }
  s->max_encodes = SUITE_DEFAULT_MAX_ENCODES;
  s->metrics = SUITE_METRICS_DEFAULT;
  return s;
}

int suite_add_dataset(suite *s, const char *name, const char *path, const char *split,
                      size_t stride, size_t limit, char *err, size_t err_len) {
  suite_dataset *d = realloc(s->datasets, (s->n_datasets + 1) * sizeof *d);
  if (!d) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  s->datasets = d;
  d = &s->datasets[s->n_datasets];
  memset(d, 0, sizeof *d);
  d->name = strdup(name);
  d->path = strdup(path);
  d->split = sb_strdup(split);
  d->stride = stride ? stride : 1;
  d->limit = limit;
  s->n_datasets++;
  if (!d->name || !d->path || (split && !d->split)) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  return 0;
}

/* Splits "10,20,30" into a grid. */
static int parse_list(const char *spec, const char *key, const char *list, int positive,
                      double **out, size_t *count, char *err, size_t err_len) {
  size_t k = 1;
  for (const char *p = list; *p; p++)
    k += *p == ',';
  double *v = calloc(k, sizeof *v);
  char *copy = strdup(list);
  if (!v || !copy) {
    free(v);
    free(copy);
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  size_t n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (parse_number(tok, &v[n]) || (positive && v[n] <= 0)) {
      snprintf(err, err_len, "--codec %s: %s: '%s' is not a %snumber", spec, key, tok,
               positive ? "positive " : "");
      free(v);
      free(copy);
      return -1;
    }
    n++;
  }
  free(copy);
  if (!n) {
    snprintf(err, err_len, "--codec %s: %s: no values", spec, key);
    free(v);
    return -1;
  }
  free(*out);
  *out = v;
  *count = n;
  return 0;
}

int suite_add_codec_spec(suite *s, const char *spec, const char *knob_name, char *err,
                         size_t err_len) {
  suite_codec *arr = realloc(s->codecs, (s->n_codecs + 1) * sizeof *arr);
  if (!arr) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  s->codecs = arr;
  suite_codec *cd = &s->codecs[s->n_codecs];
  memset(cd, 0, sizeof *cd);
  s->n_codecs++; /* owned by s from here on, so suite_free cleans up on error */
  char *copy = strdup(spec);
  if (!copy) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  int rc = 0;
  char *save = NULL;
  char *tok = strtok_r(copy, ":", &save);
  if (!tok || !*tok) {
    snprintf(err, err_len, "--codec '%s': expected NAME[:KEY=VALUES]...", spec);
    free(copy);
    return -1;
  }
  cd->codec = strdup(tok);
  size_t n_tokens = 0;
  for (const char *p = spec; *p; p++)
    n_tokens += *p == ':';
  cd->options = calloc(n_tokens + 1, sizeof *cd->options);
  if (!cd->codec || !cd->options) {
    snprintf(err, err_len, "out of memory");
    free(copy);
    return -1;
  }
  while (!rc && (tok = strtok_r(NULL, ":", &save))) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok || !eq[1]) {
      snprintf(err, err_len, "--codec %s: '%s' is not KEY=VALUE", spec, tok);
      rc = -1;
      break;
    }
    *eq = '\0';
    const char *key = tok, *val = eq + 1;
    const int is_knob = !strcmp(key, "knob") || (knob_name && !strcmp(key, knob_name));
    if ((is_knob && cd->knobs) || (!strcmp(key, "bpp") && cd->bpps) ||
        (!strcmp(key, "label") && cd->label)) {
      snprintf(err, err_len, "--codec %s: '%s' given twice", spec, key);
      rc = -1;
      break;
    }
    if (is_knob)
      rc = parse_list(spec, key, val, 0, &cd->knobs, &cd->n_knobs, err, err_len);
    else if (!strcmp(key, "bpp"))
      rc = parse_list(spec, key, val, 1, &cd->bpps, &cd->n_bpps, err, err_len);
    else if (!strcmp(key, "label")) {
      /* The suite's rules: a label ends up in file names, CSV cells and the HTML report. */
      const char *problem = name_problem(val);
      if (problem) {
        snprintf(err, err_len, "--codec %s: label '%s': %s", spec, val, problem);
        rc = -1;
        break;
      }
      cd->label = strdup(val);
    } else {
      cd->options[cd->n_options].key = strdup(key);
      cd->options[cd->n_options].value = strdup(val);
      cd->n_options++;
    }
  }
  free(copy);
  if (rc)
    return rc;
  if (!cd->label)
    cd->label = strdup(cd->codec);
  if (!cd->n_knobs && !cd->n_bpps) {
    snprintf(err, err_len, "--codec %s: no grid: add :%s=V1,V2,... and/or :bpp=B1,B2,...", spec,
             knob_name ? knob_name : "knob");
    return -1;
  }
  for (size_t i = 0; i + 1 < s->n_codecs; i++) /* a spec that failed earlier has no label */
    if (s->codecs[i].label && !strcmp(s->codecs[i].label, cd->label)) {
      snprintf(err, err_len, "--codec %s: label '%s' used twice (add :label=NAME)", spec,
               cd->label);
      return -1;
    }
  return 0;
}

int suite_add_task_spec(suite *s, const char *spec, char *err, size_t err_len) {
  const char *eq = strchr(spec, '=');
  const char *path = eq ? eq + 1 : spec;
  if (!*path || (eq && eq == spec)) {
    snprintf(err, err_len, "--task %s: expected [NAME=]CHECKPOINT", spec);
    return -1;
  }
  suite_task *arr = realloc(s->tasks, (s->n_tasks + 1) * sizeof *arr);
  if (!arr) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  s->tasks = arr;
  suite_task *t = &s->tasks[s->n_tasks];
  memset(t, 0, sizeof *t);
  t->checkpoint = strdup(path);
  t->name = eq ? strndup(spec, (size_t)(eq - spec)) : path_stem(path);
  s->n_tasks++;
  if (!t->checkpoint || !t->name) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  for (const char *p = t->name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '-' || *p == '_' || *p == '.') ||
        strlen(t->name) > 64) {
      snprintf(err, err_len,
               "--task %s: name '%s': use 1 to 64 letters, digits, '-', '_' and '.' (or give "
               "NAME=CHECKPOINT)",
               spec, t->name);
      return -1;
    }
  for (size_t i = 0; i + 1 < s->n_tasks; i++)
    if (!strcmp(s->tasks[i].name, t->name)) {
      snprintf(err, err_len, "--task %s: task name '%s' used twice", spec, t->name);
      return -1;
    }
  if (!*t->name) {
    snprintf(err, err_len, "--task %s: empty task name", spec);
    return -1;
  }
  return 0;
}

void suite_free(suite *s) {
  if (!s)
    return;
  free(s->name);
  free(s->description);
  free(s->path);
  free(s->text);
  free(s->report_anchor);
  free(s->report_reference);
  for (size_t i = 0; i < s->n_datasets; i++) {
    free(s->datasets[i].name);
    free(s->datasets[i].path);
    free(s->datasets[i].split);
  }
  free(s->datasets);
  for (size_t i = 0; i < s->n_codecs; i++) {
    suite_codec *cd = &s->codecs[i];
    free(cd->label);
    free(cd->codec);
    for (size_t j = 0; j < cd->n_options; j++) {
      free((char *)cd->options[j].key);
      free((char *)cd->options[j].value);
    }
    free(cd->options);
    free(cd->option_is_file);
    free(cd->knobs);
    free(cd->bpps);
  }
  free(s->codecs);
  for (size_t i = 0; i < s->n_plugins; i++)
    free(s->plugins[i]);
  free(s->plugins);
  suite_command_free(s);
  for (size_t i = 0; i < s->n_tasks; i++) {
    free(s->tasks[i].name);
    free(s->tasks[i].checkpoint);
  }
  free(s->tasks);
  free(s);
}
