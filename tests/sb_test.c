/* sb_test.c - the counters and failure reports of sb_test.h. */
#include "sb_test.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int checks, failures;

int sb_test_count_(int ok) {
  checks++;
  return ok;
}

/* Length of the first argument in args, the text of a macro's argument list: up to the first
 * comma outside brackets and outside string and character literals. */
static size_t first_arg_len(const char *args) {
  int depth = 0;
  char quote = 0;
  size_t i = 0;
  for (; args[i]; i++) {
    char c = args[i];
    if (quote) {
      if (c == '\\' && args[i + 1])
        i++;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      depth++;
    } else if (c == ')' || c == ']' || c == '}') {
      depth--;
    } else if (c == ',' && depth == 0) {
      break;
    }
  }
  return i;
}

static void vfail(const char *file, int line, const char *expr, int expr_len, const char *fmt,
                  va_list ap) SB_TEST_PRINTF_(5, 0);
static void vfail(const char *file, int line, const char *expr, int expr_len, const char *fmt,
                  va_list ap) {
  failures++;
  fprintf(stderr, "%s:%d: check failed: %.*s", file, line, expr_len, expr);
  if (fmt) {
    fputs(": ", stderr);
    vfprintf(stderr, fmt, ap);
  }
  fputc('\n', stderr);
}

void sb_test_fail_(const char *file, int line, const char *args, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(file, line, args, (int)first_arg_len(args), fmt, ap);
  va_end(ap);
}

int sb_test_check_at(int ok, const char *file, int line, const char *expr, const char *fmt, ...) {
  if (sb_test_count_(ok))
    return ok;
  va_list ap;
  va_start(ap, fmt);
  vfail(file, line, expr, (int)strlen(expr), fmt, ap);
  va_end(ap);
  return ok;
}

void sb_test_near_(const char *file, int line, const char *expr, double got, double want,
                   double tol) {
  sb_test_check_at(fabs(got - want) <= tol, file, line, expr, "got %.17g, want %.17g (tol %g)", got,
                   want, tol);
}

void sb_test_str_(const char *file, int line, const char *expr, const char *got, const char *want) {
  sb_test_check_at(got && want && strcmp(got, want) == 0, file, line, expr,
                   "got \"%s\", want \"%s\"", got ? got : "(null)", want ? want : "(null)");
}

int sb_test_status(const char *name) {
  printf("%s: %d checks, %d failed\n", name, checks, failures);
  return failures ? 1 : 0;
}
