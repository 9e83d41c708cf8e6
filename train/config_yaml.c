/* config_yaml.c - YAML plumbing shared by the training configurations (see config_yaml.h). */
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

enum { MAX_DEPTH = 4 };

/* One open mapping: the dotted prefix of its keys ("optimizer.") and the key last read. */
typedef struct level {
  char prefix[128];
  char key[128];
  bool want_key; /* the next scalar is a key (else the value of key) */
  yaml_mark_t key_mark;
} level;

/* The walk's state besides the libyaml parser. */
typedef struct walk {
  const char *file;
  config_yaml_fn fn;
  void *ctx;
  char *err;
  size_t err_len;
  level st[MAX_DEPTH];
  int depth;
  bool in_list; /* reading the elements of a list that fn accepted */
  char full[256];
} walk;

/* Calls fn for the value (or list event) of the current key. */
static int emit(walk *w, config_yaml_event e, const char *value, yaml_mark_t m) {
  const level *l = &w->st[w->depth - 1];
  snprintf(w->full, sizeof w->full, "%s%s", l->prefix, l->key);
  const config_yaml_node node = {e, w->file, w->full, value, mark_of(m), mark_of(l->key_mark)};
  return w->fn(w->ctx, &node, w->err, w->err_len);
}

/* Inside a list only scalars and its end are expected; anything else goes to fn as an element
 * without value, which fn reports in its own words. */
static int list_event(walk *w, const yaml_event_t *ev) {
  const yaml_mark_t m = ev->start_mark;
  if (ev->type == YAML_SCALAR_EVENT)
    return emit(w, CONFIG_YAML_ITEM, (const char *)ev->data.scalar.value, m);
  if (ev->type == YAML_SEQUENCE_END_EVENT) {
    w->in_list = false;
    w->st[w->depth - 1].want_key = true;
    return emit(w, CONFIG_YAML_LIST_END, NULL, m);
  }
  int rc = emit(w, CONFIG_YAML_ITEM, NULL, m);
  /* fn must stop here: the walk cannot follow structure nested in a list. */
  return rc ? rc
            : config_yaml_fail(w->err, w->err_len, w->file, mark_of(m),
                               "%s: list elements must be scalars", w->full);
}

static int mapping_start(walk *w, yaml_mark_t ym) {
  const config_yaml_mark m = mark_of(ym);
  const int d = w->depth;
  if (d == 0) {
    w->st[0].prefix[0] = '\0';
  } else if (w->st[d - 1].want_key) {
    return config_yaml_fail(w->err, w->err_len, w->file, m, "a mapping cannot be a key");
  } else if (d >= MAX_DEPTH) {
    return config_yaml_fail(w->err, w->err_len, w->file, m, "mappings nested too deeply");
  } else {
    const level *up = &w->st[d - 1];
    const size_t lp = strlen(up->prefix), lk = strlen(up->key);
    if (lp + lk + 2 > sizeof w->st[0].prefix)
      return config_yaml_fail(w->err, w->err_len, w->file, m, "key path too long");
    memcpy(w->st[d].prefix, up->prefix, lp);
    memcpy(w->st[d].prefix + lp, up->key, lk);
    w->st[d].prefix[lp + lk] = '.';
    w->st[d].prefix[lp + lk + 1] = '\0';
  }
  w->st[d].want_key = true;
  w->depth++;
  return 0;
}

static int scalar(walk *w, const char *v, yaml_mark_t m) {
  if (w->depth == 0)
    return config_yaml_fail(w->err, w->err_len, w->file, mark_of(m),
                            "the configuration must be a mapping");
  level *l = &w->st[w->depth - 1];
  if (l->want_key) {
    snprintf(l->key, sizeof l->key, "%s", v);
    l->key_mark = m;
    l->want_key = false;
    return 0;
  }
  l->want_key = true;
  return emit(w, CONFIG_YAML_SCALAR, v, m);
}

int config_yaml_walk(const char *file, const char *text, size_t len, config_yaml_fn fn, void *ctx,
                     char *err, size_t err_len) {
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) {
    snprintf(err, err_len, "%s: cannot initialise the YAML parser", file);
    return -1;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  walk w = {.file = file, .fn = fn, .ctx = ctx, .err = err, .err_len = err_len};
  int rc = 0, docs = 0;
  bool done = false;
  while (!done && rc == 0) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = config_yaml_fail(err, err_len, file, mark_of(p.problem_mark),
                            "YAML syntax error: %s%s%s", p.problem ? p.problem : "unknown",
                            p.context ? " " : "", p.context ? p.context : "");
      break;
    }
    const config_yaml_mark m = mark_of(ev.start_mark);
    if (w.in_list) {
      rc = list_event(&w, &ev);
      yaml_event_delete(&ev);
      continue;
    }
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = true; break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1)
        rc = config_yaml_fail(err, err_len, file, m, "more than one YAML document");
      break;
    case YAML_MAPPING_START_EVENT: rc = mapping_start(&w, ev.start_mark); break;
    case YAML_MAPPING_END_EVENT:
      w.depth--;
      if (w.depth > 0)
        w.st[w.depth - 1].want_key = true;
      break;
    case YAML_SEQUENCE_START_EVENT:
      if (w.depth == 0 || w.st[w.depth - 1].want_key)
        rc = config_yaml_fail(err, err_len, file, m,
                              w.depth ? "a list cannot be a key"
                                      : "the configuration must be a mapping");
      else if ((rc = emit(&w, CONFIG_YAML_LIST, NULL, ev.start_mark)) == 0)
        w.in_list = true;
      break;
    case YAML_ALIAS_EVENT:
      rc = config_yaml_fail(err, err_len, file, m, "aliases are not supported");
      break;
    case YAML_SCALAR_EVENT:
      rc = scalar(&w, (const char *)ev.data.scalar.value, ev.start_mark);
      break;
    default: break;
    }
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  if (rc == 0 && docs == 0) {
    snprintf(err, err_len, "%s: empty configuration", file);
    rc = -1;
  }
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
