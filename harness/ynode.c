#include "ynode.h"

#include <stdarg.h>
#include <stdio.h>

int ynode_fail(ynode_ctx *c, const yaml_node_t *n, const char *fmt, ...) {
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

const char *ynode_scalar(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}
