/* tensor.c - tensors, errors and aligned memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

int nn_err_set(nn_err *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

void *nn_aligned_alloc(size_t bytes) {
  /* 64-byte alignment suits AVX-512 loads and oneDNN's preference. */
  size_t sz = (bytes + 63) & ~(size_t)63;
  if (sz == 0)
    sz = 64;
  void *p = aligned_alloc(64, sz);
  if (p)
    memset(p, 0, sz);
  return p;
}

void nn_aligned_free(void *p) { free(p); }

int nn_tensor_alloc(nn_tensor *t, int n, int c, int h, int w, nn_err *err) {
  memset(t, 0, sizeof *t);
  if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
    return nn_err_set(err, NN_E_ARG, "nn_tensor_alloc: bad shape [%d, %d, %d, %d]", n, c, h, w);
  size_t numel = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
  if (numel > ((size_t)1 << 40) / sizeof(float))
    return nn_err_set(err, NN_E_ARG, "nn_tensor_alloc: shape [%d, %d, %d, %d] too large", n, c, h,
                      w);
  t->data = nn_aligned_alloc(numel * sizeof(float));
  if (!t->data)
    return nn_err_set(err, NN_E_NOMEM, "nn_tensor_alloc: out of memory for %zu floats", numel);
  t->n = n, t->c = c, t->h = h, t->w = w;
  t->owned = true;
  return NN_OK;
}

nn_tensor nn_tensor_view(float *data, int n, int c, int h, int w) {
  nn_tensor t = {n, c, h, w, data, false};
  return t;
}

void nn_tensor_free(nn_tensor *t) {
  if (t->owned)
    nn_aligned_free(t->data);
  memset(t, 0, sizeof *t);
}

size_t nn_tensor_numel(const nn_tensor *t) {
  return (size_t)t->n * (size_t)t->c * (size_t)t->h * (size_t)t->w;
}
