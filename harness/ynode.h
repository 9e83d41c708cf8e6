/* libyaml document helpers shared by the suite parser (suite.c) and the gate's parser of the
 * suite's `gate:` mapping (gate/gate_config.c), so that both load a document with the same
 * limits and point at problems the same way: "file:line:col: message". Thread-safety:
 * reentrant (no shared state). */
#ifndef SAICBENCH_YNODE_H
#define SAICBENCH_YNODE_H

#include <stddef.h>
#include <yaml.h>

/* A parse in progress: the document and where its errors go. */
typedef struct ynode_ctx {
  yaml_document_t *doc;
  const char *file; /* named in messages */
  char *err;
  size_t err_len;
} ynode_ctx;

/* Writes "file:line:col: message" (1-based position of n) into c->err, or "file: message" when
 * n is NULL. Always returns -1 so callers can `return ynode_fail(...)`. */
int ynode_fail(ynode_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The text of a scalar node; NULL when n is NULL or not a scalar. */
const char *ynode_scalar(const yaml_node_t *n);

/* Whether s is a decimal number: [+-] digits [. digits] [e|E [+-] digits] (".5" and "5." too).
 * Hexadecimal ("0x32"), "inf", "nan" and surrounding spaces, which strtod also reads, are not:
 * a suite value means what it says in decimal. */
int ynode_is_decimal(const char *s);

/* Limits of ynode_load: collections nested deeper than this (the root mapping is level 1),
 * more anchors (&name) or aliases (*name) than these are refused. libyaml's scanner costs
 * O(depth) per token and its loader O(anchors) per anchor and alias; with these bounds the
 * work is linear in the text's size. */
#define YNODE_MAX_DEPTH 64
#define YNODE_MAX_ANCHORS 64
#define YNODE_MAX_ALIASES 1024

/* Parses text (len bytes; file is named in messages) into *doc (free it with
 * yaml_document_delete), refusing with "file:line:col: ..." a YAML syntax error, a second
 * document, nesting deeper than YNODE_MAX_DEPTH, too many anchors or aliases, and a mapping
 * key given twice. An empty text gives a document without a root node. */
int ynode_load(const char *text, size_t len, const char *file, yaml_document_t *doc, char *err,
               size_t err_len);

#endif
