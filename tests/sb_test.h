/* sb_test.h - the assertions of the C tests (link the CMake target sb_test).
 *
 *   CHECK(cond);                  one check: cond must be true
 *   CHECK(cond, fmt, ...);        the same, with a printf-style message for the failure
 *   CHECK_NEAR(got, want, tol);   |got - want| <= tol, as doubles (a NaN fails)
 *   CHECK_STR(got, want);         both non-NULL and strcmp(got, want) == 0
 *   return sb_test_status(name);  at the end of main(): prints "name: N checks, M failed" and
 *                                 returns the exit status, 1 if any check failed, else 0
 *
 * A failed check prints "file:line: check failed: <expression>[: <message>]" to stderr, counts a
 * failure and carries on. cond is evaluated once; the message's arguments only when it fails.
 * CHECK takes at most 32 arguments in all.
 *
 * The counters are defined once in sb_test.c, so the .c files of one test program count in the
 * same place; they are not atomic: check from one thread at a time (worker threads report back
 * to the main thread, which checks). Helpers that check on behalf of their caller, with the
 * caller's file and line, call sb_test_check_at(). */
#ifndef SB_TEST_H
#define SB_TEST_H

#if defined(__GNUC__)
#define SB_TEST_PRINTF_(f, a) __attribute__((format(printf, f, a)))
#else
#define SB_TEST_PRINTF_(f, a)
#endif

/* One check at file:line: counts it; when ok is 0 prints expr and the message (fmt may be NULL)
 * and counts a failure. Returns ok. */
int sb_test_check_at(int ok, const char *file, int line, const char *expr, const char *fmt, ...)
    SB_TEST_PRINTF_(5, 6);

/* Prints "name: N checks, M failed" to stdout; returns 1 if any check failed, else 0. */
int sb_test_status(const char *name);

/* The macros' helpers. sb_test_count_ counts one check and returns ok. sb_test_fail_ counts a
 * failure and prints it; args is the text of all of CHECK's arguments, of which it prints the
 * first (the condition as written: #__VA_ARGS__ is not macro-expanded). sb_test_near_ and
 * sb_test_str_ do a whole check and print expr as the expression. */
int sb_test_count_(int ok);
void sb_test_fail_(const char *file, int line, const char *args, const char *fmt, ...)
    SB_TEST_PRINTF_(4, 5);
void sb_test_near_(const char *file, int line, const char *expr, double got, double want,
                   double tol);
void sb_test_str_(const char *file, int line, const char *expr, const char *got, const char *want);

/* CHECK(cond) and CHECK(cond, fmt, ...) in standard C11 (a macro's "..." needs an argument): the
 * argument count picks SB_CHECK1_ or SB_CHECKF_. */
#define CHECK(...)                                                                                 \
  SB_CHECK_PICK_(__VA_ARGS__, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_,          \
                 SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_,           \
                 SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_,           \
                 SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_,           \
                 SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_, SB_CHECKF_,           \
                 SB_CHECKF_, SB_CHECKF_, SB_CHECK1_, SB_CHECK_NONE_)                               \
  (#__VA_ARGS__, __VA_ARGS__)
#define SB_CHECK_PICK_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, \
                       a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, a32,  \
                       name, ...)                                                                  \
  name
#define SB_CHECK1_(args, cond)                                                                     \
  do {                                                                                             \
    if (!sb_test_count_(!!(cond)))                                                                 \
      sb_test_fail_(__FILE__, __LINE__, args, NULL);                                               \
  } while (0)
#define SB_CHECKF_(args, cond, ...)                                                                \
  do {                                                                                             \
    if (!sb_test_count_(!!(cond)))                                                                 \
      sb_test_fail_(__FILE__, __LINE__, args, __VA_ARGS__);                                        \
  } while (0)

#define CHECK_NEAR(got, want, tol)                                                                 \
  sb_test_near_(__FILE__, __LINE__, "CHECK_NEAR(" #got ", " #want ", " #tol ")", (got), (want),    \
                (tol))
#define CHECK_STR(got, want)                                                                       \
  sb_test_str_(__FILE__, __LINE__, "CHECK_STR(" #got ", " #want ")", (got), (want))

#endif
