/* config_yaml.c - the training configurations' walk over sb_yaml_load's documents (base.h: the
 * one YAML layer of the product) and their scalar parsers (see config_yaml.h). */
#include "config_yaml.h"

#include "base.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

static config_yaml_mark mark_of(yaml_mark_t m) { return (config_yaml_mark){m.line, m.column}; }

int config_yaml_fail(char *err, size_t err_len, const char *file, config_yaml_mark m,
                     const char *fmt, ...) {
  if (err && err_len) {
    int k = snprintf(err, err_len, "%s:%zu:%zu: ", file, m.line + 1, m.column + 1);
    if (k >= 0 && (size_t)k < err_len) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + k, err_len - (size_t)k, fmt, ap);
      va_end(ap);
    }
  }
  return -1;
}

int config_yaml_read_file(const char *path, char **text, size_t *len, char *err, size_t err_len) {
  *text = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  /* Grow by doubling; a buffer filled at the cap means the file is too large. */
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  while (buf) {
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (n < cap)
      break;
    if (cap >= CONFIG_YAML_MAX_FILE) {
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
  *text = buf;
  *len = n;
  return 0;
}

int config_yaml_load(const char *path, config_yaml_parse_fn parse, void *cfg, char **text,
                     char *err, size_t err_len) {
  if (text)
    *text = NULL;
  char *buf;
  size_t n;
  if (config_yaml_read_file(path, &buf, &n, err, err_len))
    return -1;
  int rc = parse(path, buf, n, cfg, err, err_len);
  if (rc == 0 && text)
    *text = buf;
  else
    free(buf);
  return rc;
}

enum { MAX_DEPTH = 4, MAX_KEY_PATH = 127 };

/* The walk over a document loaded by sb_yaml_load (base.h: the product's one YAML layer, which
 * already refused syntax errors, several documents, excessive nesting or anchors and keys given
 * twice). What is left to check here is the shape of a configuration. */
typedef struct walk {
  const char *file;
  yaml_document_t *doc;
  config_yaml_fn fn;
  void *ctx;
  char *err;
  size_t err_len;
} walk;

static int emit(walk *w, config_yaml_event e, const char *key, const char *value, yaml_mark_t m,
                yaml_mark_t key_mark) {
  const config_yaml_node node = {e, w->file, key, value, mark_of(m), mark_of(key_mark)};
  return w->fn(w->ctx, &node, w->err, w->err_len);
}

/* A list value: LIST, one ITEM per element (value NULL for a non-scalar, which fn must refuse or
 * the walk does), LIST_END. */
static int walk_list(walk *w, const char *key, const yaml_node_t *list, yaml_mark_t key_mark) {
  int rc = emit(w, CONFIG_YAML_LIST, key, NULL, list->start_mark, key_mark);
  for (yaml_node_item_t *it = list->data.sequence.items.start;
       rc == 0 && it < list->data.sequence.items.top; it++) {
    const yaml_node_t *e = yaml_document_get_node(w->doc, *it);
    const char *v = sb_yaml_scalar(e);
    rc = emit(w, CONFIG_YAML_ITEM, key, v, e->start_mark, key_mark);
    if (rc == 0 && !v)
      rc = config_yaml_fail(w->err, w->err_len, w->file, mark_of(e->start_mark),
                            "%s: list elements must be scalars", key);
  }
  return rc ? rc : emit(w, CONFIG_YAML_LIST_END, key, NULL, list->end_mark, key_mark);
}

/* The pairs of mapping map, whose keys are prefix + key; depth: map's (the root is 1). */
static int walk_mapping(walk *w, const yaml_node_t *map, const char *prefix, int depth) {
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
    const char *key = sb_yaml_scalar(k);
    if (!key)
      return config_yaml_fail(w->err, w->err_len, w->file, mark_of(k->start_mark),
                              k->type == YAML_SEQUENCE_NODE ? "a list cannot be a key"
                                                            : "a mapping cannot be a key");
    char full[MAX_KEY_PATH + 2]; /* room for the '.' of a nested mapping's prefix */
    const size_t lp = strlen(prefix), lk = strlen(key);
    if (lp + lk > MAX_KEY_PATH)
      return config_yaml_fail(w->err, w->err_len, w->file, mark_of(k->start_mark),
                              "key path too long");
    memcpy(full, prefix, lp);
    memcpy(full + lp, key, lk + 1);
    int rc;
    if (v->type == YAML_MAPPING_NODE) {
      if (depth >= MAX_DEPTH)
        return config_yaml_fail(w->err, w->err_len, w->file, mark_of(v->start_mark),
                                "mappings nested too deeply");
      full[lp + lk] = '.';
      full[lp + lk + 1] = '\0';
      rc = walk_mapping(w, v, full, depth + 1);
    } else if (v->type == YAML_SEQUENCE_NODE) {
      rc = walk_list(w, full, v, k->start_mark);
    } else {
      rc = emit(w, CONFIG_YAML_SCALAR, full, sb_yaml_scalar(v), v->start_mark, k->start_mark);
    }
    if (rc)
      return rc;
  }
  return 0;
}

int config_yaml_walk(const char *file, const char *text, size_t len, config_yaml_fn fn, void *ctx,
                     char *err, size_t err_len) {
  yaml_document_t doc;
  if (sb_yaml_load(text, len, file, &doc, err, err_len))
    return -1;
  walk w = {.file = file, .doc = &doc, .fn = fn, .ctx = ctx, .err = err, .err_len = err_len};
  const yaml_node_t *root = yaml_document_get_root_node(&doc);
  int rc;
  if (!root)
    rc = (snprintf(err, err_len, "%s: empty configuration", file), -1);
  else if (root->type != YAML_MAPPING_NODE)
    rc = config_yaml_fail(err, err_len, file, mark_of(root->start_mark),
                          "the configuration must be a mapping");
  else
    rc = walk_mapping(&w, root, "", 1);
  yaml_document_delete(&doc);
  return rc;
}

int config_yaml_lookup(const config_yaml_node *node, const void *table, size_t count, size_t size,
                       bool *seen, char *err, size_t err_len) {
  /* Each entry starts with its key path: reading it through the entry's address is valid C
   * (a struct and its first member share the address), as with qsort-style tables. */
  int k = -1;
  for (size_t i = 0; i < count && k < 0; i++)
    if (strcmp(*(const char *const *)(const void *)((const char *)table + i * size), node->key) ==
        0)
      k = (int)i;
  if (k < 0)
    return config_yaml_fail(err, err_len, node->file, node->key_mark, "unknown key \"%s\"",
                            node->key);
  if (seen[k])
    return config_yaml_fail(err, err_len, node->file, node->key_mark, "duplicate key \"%s\"",
                            node->key);
  seen[k] = true;
  return k;
}

int config_yaml_int(const config_yaml_node *n, double lo, double hi, int *out, char *err,
                    size_t err_len) {
  char *end;
  errno = 0;
  long x = strtol(n->value, &end, 10);
  if (end == n->value || *end || errno)
    return config_yaml_fail(err, err_len, n->file, n->mark, "%s: expected an integer, got \"%s\"",
                            n->key, n->value);
  if (x < lo || x > hi)
    return config_yaml_fail(err, err_len, n->file, n->mark, "%s: %ld is out of range [%g, %g]",
                            n->key, x, lo, hi);
  *out = (int)x;
  return 0;
}

int config_yaml_u64(const config_yaml_node *n, uint64_t *out, char *err, size_t err_len) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(n->value, &end, 0);
  /* strtoull accepts "-1" (as ULLONG_MAX): refuse a sign explicitly. */
  if (end == n->value || *end || errno || n->value[0] == '-')
    return config_yaml_fail(err, err_len, n->file, n->mark,
                            "%s: expected a non-negative integer, got \"%s\"", n->key, n->value);
  *out = (uint64_t)x;
  return 0;
}

int config_yaml_double(const config_yaml_node *n, double lo, double hi, double *out, char *err,
                       size_t err_len) {
  char *end;
  errno = 0;
  double x = strtod(n->value, &end);
  if (end == n->value || *end || errno || !isfinite(x))
    return config_yaml_fail(err, err_len, n->file, n->mark, "%s: expected a number, got \"%s\"",
                            n->key, n->value);
  if (x < lo || x > hi)
    return config_yaml_fail(err, err_len, n->file, n->mark, "%s: %g is out of range [%g, %g]",
                            n->key, x, lo, hi);
  *out = x;
  return 0;
}

int config_yaml_float(const config_yaml_node *n, double lo, double hi, float *out, char *err,
                      size_t err_len) {
  double x = 0; /* gcc cannot prove that a 0 return always sets x */
  if (config_yaml_double(n, lo, hi, &x, err, err_len))
    return -1;
  *out = (float)x;
  return 0;
}

int config_yaml_bool(const config_yaml_node *n, bool *out, char *err, size_t err_len) {
  int v;
  if (sb_parse_bool(n->value, &v))
    return config_yaml_fail(err, err_len, n->file, n->mark,
                            "%s: expected true or false, got \"%s\"", n->key, n->value);
  *out = v != 0;
  return 0;
}
