#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_yaml_fail(sb_yaml_ctx *c, const yaml_node_t *n, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n)
    snprintf(c->err, c->err_len, "%s:%zu:%zu: %s", c->file, n->start_mark.line + 1,
             n->start_mark.column + 1, msg);
  else
    snprintf(c->err, c->err_len, "%s: %s", c->file, msg);
  return -1;
}

const char *sb_yaml_scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

int sb_yaml_is_decimal(const char *s) {
  if (!s)
    return 0;
  if (*s == '+' || *s == '-')
    s++;
  size_t int_digits = strspn(s, "0123456789");
  s += int_digits;
  size_t frac_digits = 0;
  if (*s == '.') {
    frac_digits = strspn(s + 1, "0123456789");
    s += 1 + frac_digits;
  }
  if (!int_digits && !frac_digits)
    return 0;
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    size_t exp_digits = strspn(s, "0123456789");
    if (!exp_digits)
      return 0;
    s += exp_digits;
  }
  return *s == '\0';
}

static int fail_at(const char *file, yaml_mark_t m, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail_at(const char *file, yaml_mark_t m, char *err, size_t err_len, const char *fmt,
                   ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(err, err_len, "%s:%zu:%zu: %s", file, m.line + 1, m.column + 1, msg);
  return -1;
}

static int syntax_error(const yaml_parser_t *p, const char *file, char *err, size_t err_len) {
  return fail_at(file, p->problem_mark, err, err_len, "YAML syntax error: %s%s%s",
                 p->problem ? p->problem : "malformed document", p->context ? " " : "",
                 p->context ? p->context : "");
}

/* The event pass: nesting depth, number of documents, anchors and aliases, stopping at the
 * first excess, so libyaml's scanner (whose cost per token grows with the flow nesting depth)
 * never sees more than SB_YAML_MAX_DEPTH levels (plus its 1024-character look-ahead). */
static int check_events(const char *text, size_t len, const char *file, char *err, size_t err_len) {
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) {
    snprintf(err, err_len, "%s: cannot initialise the YAML parser", file);
    return -1;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  int rc = 0, depth = 0, docs = 0, anchors = 0, aliases = 0;
  for (int done = 0; !done && !rc;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = syntax_error(&p, file, err, err_len);
      break;
    }
    const yaml_char_t *anchor = NULL;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = 1; break;
    case YAML_DOCUMENT_START_EVENT:
      if (++docs > 1)
        rc = fail_at(file, ev.start_mark, err, err_len,
                     "a second YAML document ('---'); the file must hold one");
      break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
      anchor = ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                    : ev.data.mapping_start.anchor;
      if (++depth > SB_YAML_MAX_DEPTH)
        rc = fail_at(file, ev.start_mark, err, err_len, "nested more than %d levels deep",
                     SB_YAML_MAX_DEPTH);
      break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: depth--; break;
    case YAML_SCALAR_EVENT: anchor = ev.data.scalar.anchor; break;
    case YAML_ALIAS_EVENT:
      if (++aliases > SB_YAML_MAX_ALIASES)
        rc = fail_at(file, ev.start_mark, err, err_len, "more than %d aliases (*name)",
                     SB_YAML_MAX_ALIASES);
      break;
    default: break;
    }
    if (!rc && anchor && ++anchors > SB_YAML_MAX_ANCHORS)
      rc = fail_at(file, ev.start_mark, err, err_len, "more than %d anchors (&name)",
                   SB_YAML_MAX_ANCHORS);
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  return rc;
}

typedef struct key_ref {
  const char *key;
  const yaml_node_t *node;
  size_t order; /* position among the mapping's pairs */
} key_ref;

static int cmp_key(const void *a, const void *b) {
  const key_ref *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* A mapping key given twice (scalar keys): the second occurrence, first in document order. */
static int check_duplicate_keys(yaml_document_t *doc, const char *file, char *err, size_t err_len) {
  key_ref *keys = NULL;
  size_t cap = 0;
  int rc = 0;
  for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top && !rc; n++) {
    if (n->type != YAML_MAPPING_NODE)
      continue;
    size_t k = 0, count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count < 2)
      continue;
    if (count > cap) {
      key_ref *grown = realloc(keys, count * sizeof *keys);
      if (!grown) {
        snprintf(err, err_len, "%s: out of memory", file);
        rc = -1;
        break;
      }
      keys = grown;
      cap = count;
    }
    for (size_t i = 0; i < count; i++) {
      const yaml_node_t *kn = yaml_document_get_node(doc, n->data.mapping.pairs.start[i].key);
      const char *s = sb_yaml_scalar(kn);
      if (s)
        keys[k++] = (key_ref){s, kn, i};
    }
    qsort(keys, k, sizeof *keys, cmp_key); /* O(n log n): a mapping may have many keys */
    const key_ref *dup = NULL, *first = NULL;
    for (size_t i = 1; i < k; i++)
      if (!strcmp(keys[i].key, keys[i - 1].key) && (!dup || keys[i].order < dup->order)) {
        dup = &keys[i];
        first = &keys[i - 1];
        while (first > keys && !strcmp((first - 1)->key, dup->key))
          first--;
      }
    if (dup)
      rc =
          fail_at(file, dup->node->start_mark, err, err_len, "'%s' given twice (first at line %zu)",
                  dup->key, first->node->start_mark.line + 1);
  }
  free(keys);
  return rc;
}

int sb_yaml_load(const char *text, size_t len, const char *file, yaml_document_t *doc, char *err,
                 size_t err_len) {
  if (check_events(text, len, file, err, err_len))
    return -1;
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    snprintf(err, err_len, "%s: cannot initialise the YAML parser", file);
    return -1;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, doc)) {
    syntax_error(&parser, file, err, err_len);
    yaml_parser_delete(&parser);
    return -1;
  }
  yaml_parser_delete(&parser);
  if (check_duplicate_keys(doc, file, err, err_len)) {
    yaml_document_delete(doc);
    return -1;
  }
  return 0;
}
