/* test_nn_common.h - helpers shared by the nn tests (header-only, static); the checks are
 * sb_test.h's. */
#ifndef SB_TEST_NN_COMMON_H
#define SB_TEST_NN_COMMON_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn.h"
#include "sb_test.h"

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

#endif
