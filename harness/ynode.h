/* libyaml document helpers shared by the suite parser (suite.c) and the gate's parser of the
 * suite's `gate:` mapping (gate.c), so that both point at problems the same way:
 * "file:line:col: message". Thread-safety: reentrant (no shared state). */
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

#endif
