/* Unit tests of sb_base (base.h): the boolean spelling, the growable string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "sb_test.h"

static void test_parse_bool(void) {
  static const char *const yes[] = {"true", "TRUE", "True", "yes", "YES", "on", "On", "1"};
  static const char *const no[] = {"false", "FALSE", "no", "No", "off", "OFF", "0"};
  static const char *const bad[] = {"",  " true", "true ", "ture",      "2",  "-1",
                                    "y", "n",     "01",    "truefalse", "onn"};
  int v;
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
    CHECK(sb_parse_bool(yes[i], &v) == 0 && v == 1, "%s", yes[i]);
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    CHECK(sb_parse_bool(no[i], &v) == 0 && v == 0, "%s", no[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v = 42;
    CHECK(sb_parse_bool(bad[i], &v) == -1 && v == 42, "'%s'", bad[i]);
  }
  v = 42;
  CHECK(sb_parse_bool(NULL, &v) == -1 && v == 42);
}

static void test_buf(void) {
  sb_buf b = {0};
  CHECK(!strcmp(sb_buf_str(&b), ""));
  sb_buf_puts(&b, "ab");
  sb_buf_printf(&b, "%d-%s", 12, "x");
  sb_buf_append(&b, "yz!", 2);
  CHECK(!strcmp(sb_buf_str(&b), "ab12-xyz") && b.len == 8 && !sb_buf_failed(&b));
  sb_buf_reset(&b);
  CHECK(b.len == 0 && !strcmp(sb_buf_str(&b), ""));
  for (int i = 0; i < 10000; i++)
    sb_buf_puts(&b, "0123456789");
  CHECK(b.len == 100000 && b.data[99999] == '9' && b.data[100000] == '\0');
  char *s = sb_buf_take(&b);
  CHECK(s && strlen(s) == 100000 && b.data == NULL && b.len == 0);
  free(s);
  sb_buf_free(&b);
}

int main(void) {
  test_parse_bool();
  test_buf();
  return sb_test_status("test_base");
}
