/* test_nn_common.h - tiny check helpers shared by the nn tests (header-only, static). */
#ifndef SB_TEST_NN_COMMON_H
#define SB_TEST_NN_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn.h"

static int g_failures = 0, g_checks = 0;

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    g_checks++;                                                                                    \
    if (!(cond)) {                                                                                 \
      g_failures++;                                                                                \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                         \
      fprintf(stderr, __VA_ARGS__);                                                                \
      fputc('\n', stderr);                                                                         \
    }                                                                                              \
  } while (0)

#define REQUIRE_OK(expr, net)                                                                      \
  do {                                                                                             \
    int rc_ = (expr);                                                                              \
    if (rc_ < 0) {                                                                                 \
      fprintf(stderr, "FATAL %s:%d: %s -> %d (%s)\n", __FILE__, __LINE__, #expr, rc_,              \
              (net) && nn_net_error(net) ? nn_net_error(net) : "");                                \
      exit(2);                                                                                     \
    }                                                                                              \
  } while (0)

static inline void fill_uniform(nn_rng *r, float *p, size_t n, double lo, double hi) {
  for (size_t i = 0; i < n; i++)
    p[i] = (float)(lo + (hi - lo) * nn_rng_uniform(r));
}

static inline int test_summary(const char *name) {
  printf("%s: %d checks, %d failures\n", name, g_checks, g_failures);
  return g_failures ? 1 : 0;
}

#endif
