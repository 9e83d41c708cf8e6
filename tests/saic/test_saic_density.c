/* Factorized prior: gradients against central finite differences, likelihoods summing to one
 * over the integers, and thread-count independence. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saic.h"
#include "sb_test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double uniform01(void *ctx) {
  (void)ctx;
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

enum { C = 3, N = 2, HW = 5 };

/* Random, non-degenerate parameters: the initialisation plus noise on every entry. */
static void random_params(float *p) {
  saic_density_init(p, C, 10.0, uniform01, NULL);
  for (int i = 0; i < C * SAIC_DENSITY_NPARAM; i++)
    p[i] += (float)(0.6 * (uniform01(NULL) - 0.5));
}

static void test_gradients(void) {
  float p[C * SAIC_DENSITY_NPARAM], y[N * C * HW], gy[N * C * HW];
  float gp[C * SAIC_DENSITY_NPARAM] = {0};
  random_params(p);
  for (int i = 0; i < N * C * HW; i++)
    y[i] = (float)(6 * (uniform01(NULL) - 0.5));
  const double scale = 0.37;
  saic_density_bits(p, C, y, N, HW, scale, gy, gp, 1);
  double worst = 0;
  for (int i = 0; i < N * C * HW; i++) {
    float keep = y[i];
    float h = 1e-3f;
    y[i] = keep + h;
    double up = saic_density_bits(p, C, y, N, HW, 1, NULL, NULL, 1), hi = y[i];
    y[i] = keep - h;
    double dn = saic_density_bits(p, C, y, N, HW, 1, NULL, NULL, 1), lo = y[i];
    y[i] = keep;
    double fd = scale * (up - dn) / (hi - lo); /* the float step actually taken */
    double err = fabs(fd - gy[i]) / fmax(1e-2, fabs(fd));
    worst = fmax(worst, err);
    CHECK(err < 1e-4, "dbits/dy[%d]: analytic %.6g, finite difference %.6g", i, gy[i], fd);
  }
  for (int i = 0; i < C * SAIC_DENSITY_NPARAM; i++) {
    float keep = p[i];
    float h = 1e-3f;
    p[i] = keep + h;
    double up = saic_density_bits(p, C, y, N, HW, 1, NULL, NULL, 1), hi = p[i];
    p[i] = keep - h;
    double dn = saic_density_bits(p, C, y, N, HW, 1, NULL, NULL, 1), lo = p[i];
    p[i] = keep;
    double fd = scale * (up - dn) / (hi - lo);
    double err = fabs(fd - gp[i]) / fmax(1e-2, fabs(fd));
    worst = fmax(worst, err);
    CHECK(err < 1e-4, "dbits/dparam[%d]: analytic %.6g, finite difference %.6g", i, gp[i], fd);
  }
  printf("gradients: worst relative error vs finite differences %.2e\n", worst);
}

static void test_probabilities_sum_to_one(void) {
  float p[C * SAIC_DENSITY_NPARAM];
  random_params(p);
  for (int c = 0; c < C; c++) {
    double sum = 0;
    for (int q = -2000; q <= 2000; q++) {
      double l = saic_density_likelihood(p, c, q);
      CHECK(l >= 0 && l <= 1, "channel %d symbol %d: likelihood %g", c, q, l);
      sum += l;
    }
    CHECK(fabs(sum - 1) < 1e-6, "channel %d: likelihoods sum to %.9f", c, sum);
    /* The cumulative is increasing. */
    double prev = -INFINITY;
    for (double x = -50; x <= 50; x += 0.25) {
      double v = saic_density_logit(p, c, x);
      CHECK(v > prev, "channel %d: logit not increasing at %g", c, x);
      prev = v;
    }
  }
}

static void test_threads_identical(void) {
  enum { CC = 16, NN = 4, HH = 16 };
  float *p = malloc(sizeof(float) * CC * SAIC_DENSITY_NPARAM);
  float *y = malloc(sizeof(float) * NN * CC * HH);
  float *g1 = malloc(sizeof(float) * NN * CC * HH), *g2 = malloc(sizeof(float) * NN * CC * HH);
  float *p1 = calloc(CC * SAIC_DENSITY_NPARAM, sizeof(float));
  float *p2 = calloc(CC * SAIC_DENSITY_NPARAM, sizeof(float));
  saic_density_init(p, CC, 10.0, uniform01, NULL);
  for (int i = 0; i < NN * CC * HH; i++)
    y[i] = (float)(10 * (uniform01(NULL) - 0.5));
  double b1 = saic_density_bits(p, CC, y, NN, HH, 1, g1, p1, 1);
  double b2 = saic_density_bits(p, CC, y, NN, HH, 1, g2, p2, 2);
  CHECK(b1 == b2, "bits differ: %.17g vs %.17g", b1, b2);
  CHECK(!memcmp(g1, g2, sizeof(float) * NN * CC * HH), "grad_y differs across thread counts");
  CHECK(!memcmp(p1, p2, sizeof(float) * CC * SAIC_DENSITY_NPARAM),
        "grad_params differs across thread counts");
  /* A latent of zeros under the initial density: a plausible rate, not zero, not huge. */
  double bits0 = saic_density_bits(p, CC, (float[NN * CC * HH]){0}, NN, HH, 1, NULL, NULL, 1);
  CHECK(bits0 > 0 && bits0 / (NN * CC * HH) < 8, "bits per zero symbol %g", bits0);
  free(p);
  free(y);
  free(g1);
  free(g2);
  free(p1);
  free(p2);
}

/* With a bin width per channel (the density of the unscaled latent, saic_density.h): gradients
 * with respect to y, the parameters and the step against finite differences; step 1 equals the
 * plain function; the likelihoods of all symbols still sum to one. */
static void test_step(void) {
  float p[C * SAIC_DENSITY_NPARAM], y[N * C * HW], gy[N * C * HW];
  float gp[C * SAIC_DENSITY_NPARAM] = {0};
  float step[C] = {0.35f, 1.0f, 2.7f}, ones[C] = {1, 1, 1};
  double gs[C] = {0};
  random_params(p);
  for (int i = 0; i < N * C * HW; i++)
    y[i] = (float)(8 * (uniform01(NULL) - 0.5));
  CHECK(saic_density_bits_step(p, C, y, N, HW, ones, 1, NULL, NULL, NULL, 1) ==
            saic_density_bits(p, C, y, N, HW, 1, NULL, NULL, 1),
        "step 1 differs from the plain rate");
  const double scale = 0.61;
  saic_density_bits_step(p, C, y, N, HW, step, scale, gy, gp, gs, 1);
  double worst = 0;
  for (int i = 0; i < N * C * HW; i++) {
    float keep = y[i];
    y[i] = keep + 1e-3f;
    double up = saic_density_bits_step(p, C, y, N, HW, step, 1, NULL, NULL, NULL, 1), hi = y[i];
    y[i] = keep - 1e-3f;
    double dn = saic_density_bits_step(p, C, y, N, HW, step, 1, NULL, NULL, NULL, 1), lo = y[i];
    y[i] = keep;
    double fd = scale * (up - dn) / (hi - lo);
    double err = fabs(fd - gy[i]) / fmax(1e-2, fabs(fd));
    worst = fmax(worst, err);
    CHECK(err < 1e-4, "step: dbits/dy[%d]: analytic %.6g, finite difference %.6g", i, gy[i], fd);
  }
  for (int i = 0; i < C * SAIC_DENSITY_NPARAM; i++) {
    float keep = p[i];
    p[i] = keep + 1e-3f;
    double up = saic_density_bits_step(p, C, y, N, HW, step, 1, NULL, NULL, NULL, 1), hi = p[i];
    p[i] = keep - 1e-3f;
    double dn = saic_density_bits_step(p, C, y, N, HW, step, 1, NULL, NULL, NULL, 1), lo = p[i];
    p[i] = keep;
    double fd = scale * (up - dn) / (hi - lo);
    double err = fabs(fd - gp[i]) / fmax(1e-2, fabs(fd));
    worst = fmax(worst, err);
    CHECK(err < 1e-4, "step: dbits/dparam[%d]: analytic %.6g, finite difference %.6g", i, gp[i],
          fd);
  }
  for (int c = 0; c < C; c++) {
    float keep = step[c];
    step[c] = keep + 1e-4f;
    double up = saic_density_bits_step(p, C, y, N, HW, step, 1, NULL, NULL, NULL, 1), hi = step[c];
    step[c] = keep - 1e-4f;
    double dn = saic_density_bits_step(p, C, y, N, HW, step, 1, NULL, NULL, NULL, 1), lo = step[c];
    step[c] = keep;
    double fd = scale * (up - dn) / (hi - lo);
    double err = fabs(fd - gs[c]) / fmax(1e-2, fabs(fd));
    worst = fmax(worst, err);
    CHECK(err < 1e-3, "dbits/dstep[%d]: analytic %.6g, finite difference %.6g", c, gs[c], fd);
  }
  for (int c = 0; c < C; c++) {
    double sum = 0;
    for (int q = -4000; q <= 4000; q++)
      sum += saic_density_likelihood_step(p, c, q, step[c]);
    CHECK(fabs(sum - 1) < 1e-6, "step: channel %d: likelihoods sum to %.9f", c, sum);
  }
  printf("step: worst relative error vs finite differences %.2e\n", worst);
}

int main(void) {
  test_gradients();
  test_probabilities_sum_to_one();
  test_threads_identical();
  test_step();
  return sb_test_status("test_saic_density");
}
