/* report_text.c - the text encoders of report_text.h. */
#include "report_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD in UTF-8 */

static size_t utf8_len(const unsigned char *s) {
  unsigned c = s[0];
  if (c < 0x80)
    return 1;
  unsigned lo = 0x80, hi = 0xBF;
  size_t n;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return n;
}

/* Characters HTML and XML 1.0 do not allow literally (or only with parse errors). */
static int html_forbidden(const unsigned char *s, size_t n) {
  if (n == 1)
    return (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n' && s[0] != '\r') || s[0] == 0x7F;
  if (n == 2)
    return s[0] == 0xC2 && s[1] <= 0x9F; /* C1 controls U+0080..U+009F */
  if (n == 3)
    return s[0] == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF); /* U+FFFE, U+FFFF */
  return 0;
}

void report_utf8_repair(sb_buf *b, const char *s) {
  if (!s)
    return;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    const unsigned char *run = p;
    size_t n;
    while (*p && (n = utf8_len(p)) > 0)
      p += n;
    sb_buf_append(b, (const char *)run, (size_t)(p - run));
    if (*p) {
      sb_buf_puts(b, k_replacement);
      p++;
    }
  }
}

void report_html_escape(sb_buf *b, const char *s) {
  if (!s)
    return;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = utf8_len(p);
    if (n == 0 || html_forbidden(p, n)) {
      sb_buf_puts(b, k_replacement);
      p += n ? n : 1; /* one U+FFFD per forbidden character, per invalid byte */
      continue;
    }
    switch (*p) {
    case '&': sb_buf_puts(b, "&amp;"); break;
    case '<': sb_buf_puts(b, "&lt;"); break;
    case '>': sb_buf_puts(b, "&gt;"); break;
    case '"': sb_buf_puts(b, "&quot;"); break;
    case '\'': sb_buf_puts(b, "&#39;"); break;
    default: sb_buf_append(b, (const char *)p, n);
    }
    p += n;
  }
}

void report_csv_field(sb_buf *b, const char *s) {
  if (!s)
    return;
  size_t len = strlen(s);
  /* A spreadsheet reads a cell that starts with = + - @ TAB or CR as a formula: such text (a
   * class name, a label) gets a leading apostrophe, which spreadsheets show as text and hide. */
  const int formula = len > 0 && strchr("=+-@\t\r", s[0]) != NULL;
  int quote =
      len == 0 || formula || s[0] == ' ' || s[len - 1] == ' ' || strpbrk(s, ",\"\r\n") != NULL;
  if (!quote) {
    report_utf8_repair(b, s);
    return;
  }
  sb_buf_puts(b, formula ? "\"'" : "\"");
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = utf8_len(p);
    if (n == 0) {
      sb_buf_puts(b, k_replacement);
      n = 1;
    } else if (*p == '"') {
      sb_buf_puts(b, "\"\"");
    } else {
      sb_buf_append(b, (const char *)p, n);
    }
    p += n;
  }
  sb_buf_puts(b, "\"");
}

void report_format_double(double v, char out[32]) {
  /* Formatted into a local and copied: GCC 12 with -fsanitize mis-reports snprintf(out, ...)
   * as writing through a null pointer. */
  char num[32] = "";
  if (isfinite(v)) {
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(num, sizeof num, "%.*g", prec, v);
      if (strtod(num, NULL) == v)
        break;
    }
    if (strcmp(num, "-0") == 0)
      strcpy(num, "0");
  }
  memcpy(out, num, sizeof num);
}

void report_file_component(sb_buf *b, const char *s, size_t max_len) {
  if (max_len == 0)
    max_len = 1;
  size_t n = 0;
  for (const char *p = s ? s : ""; *p && n < max_len; p++, n++) {
    char c = *p;
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || (c == '.' && n > 0);
    sb_buf_append(b, ok ? &c : "_", 1);
  }
  if (n == 0)
    sb_buf_puts(b, "_");
}
