/* strbuf.c - the growable string of base.h. */
#include "base.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int buf_reserve(sb_buf *b, size_t extra) {
  if (b->failed)
    return -1;
  if (extra > SIZE_MAX / 2 - b->len - 1) {
    b->failed = 1;
    return -1;
  }
  if (b->len + extra + 1 <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *p = realloc(b->data, cap);
  if (!p) {
    b->failed = 1;
    return -1;
  }
  b->data = p;
  b->cap = cap;
  return 0;
}

void sb_buf_append(sb_buf *b, const char *s, size_t n) {
  if (buf_reserve(b, n))
    return;
  if (n)
    memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sb_buf_puts(sb_buf *b, const char *s) {
  if (s)
    sb_buf_append(b, s, strlen(s));
}

void sb_buf_printf(sb_buf *b, const char *fmt, ...) {
  if (b->failed)
    return;
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    sb_buf_append(b, small, (size_t)n);
    return;
  }
  if (buf_reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

int sb_buf_failed(const sb_buf *b) { return b->failed; }

const char *sb_buf_str(const sb_buf *b) { return b->data ? b->data : ""; }

void sb_buf_reset(sb_buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

char *sb_buf_take(sb_buf *b) {
  if (!b->data)
    sb_buf_append(b, "", 0); /* an empty buffer still yields a string to free */
  char *s = b->failed ? NULL : b->data;
  if (!s)
    free(b->data);
  *b = (sb_buf){0};
  return s;
}

void sb_buf_free(sb_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}

/* Length of the well-formed UTF-8 sequence starting at s (1..4), or 0 if the bytes there are
 * not one (RFC 3629 table: no overlongs, no surrogates, nothing above U+10FFFF). The string is
 * NUL-terminated, and NUL is never a continuation byte, so reading ahead stops in time. */
