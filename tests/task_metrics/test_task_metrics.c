/* Task metrics on constructed cases with known exact values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb_test.h"
#include "metrics.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-12)

int main(void) {
  enum { N = 1000 };
  static int a[N], b[N], y[N];
  metrics_task_stats s;

  /* Identical predictions, 100 of each of 10 classes: SI = H(A) = log2(10), SI_norm = 1. */
  for (int i = 0; i < N; i++)
    a[i] = b[i] = y[i] = i % 10;
  CHECK(metrics_task_stats_compute(y, a, b, NULL, N, 10, &s) == 0);
  CHECK(s.n == N && NEAR(s.h_a, log2(10.0)) && NEAR(s.si, log2(10.0)) && NEAR(s.si_norm, 1.0));
  CHECK(NEAR(s.accuracy, 1.0) && NEAR(s.agreement, 1.0) && NEAR(s.delta_i, 0.0));
  CHECK(isnan(s.mean_kl));

  /* Independent: every (a, b) pair of 4 x 4 classes equally often -> exactly 0. */
  for (int i = 0; i < 16 * 5; i++) {
    a[i] = i % 4;
    b[i] = (i / 4) % 4;
  }
  CHECK(metrics_task_stats_compute(NULL, a, b, NULL, 80, 4, &s) == 0);
  CHECK(NEAR(s.si, 0.0) && NEAR(s.h_a, 2.0) && NEAR(s.si_norm, 0.0));
  CHECK(isnan(s.accuracy) && isnan(s.delta_i) && NEAR(s.agreement, 0.25));

  /* Random independent draws: close to 0 (plug-in bias ~ (k-1)^2 / (2 N ln 2)). */
  srand(7);
  static int ra[20000], rb[20000];
  for (int i = 0; i < 20000; i++) {
    ra[i] = rand() % 10;
    rb[i] = rand() % 10;
  }
  double mi = metrics_mutual_information(ra, rb, 20000, 10);
  CHECK(mi >= 0 && mi < 0.01);

  /* A known 2x2 joint: counts [[3,1],[1,3]] -> I = 3/4 log2(3/2) - 1/4 bits. */
  int ja[8] = {0, 0, 0, 0, 1, 1, 1, 1}, jb[8] = {0, 0, 0, 1, 1, 1, 1, 0};
  CHECK(NEAR(metrics_mutual_information(ja, jb, 8, 2), 0.75 * log2(1.5) - 0.25));
  /* The same with labels: Y = A, so I(Y;A) = H(A) = 1 and dI = 1 - I(A;B). */
  CHECK(metrics_task_stats_compute(ja, ja, jb, NULL, 8, 2, &s) == 0);
  CHECK(NEAR(s.i_y_a, 1.0) && NEAR(s.delta_i, 1.0 - (0.75 * log2(1.5) - 0.25)));
  CHECK(NEAR(s.accuracy, 0.75) && NEAR(s.agreement, 0.75));

  /* A constant decoded prediction carries no information: dI = I(Y;A). */
  for (int i = 0; i < N; i++)
    b[i] = 3, a[i] = y[i] = i % 10;
  CHECK(metrics_task_stats_compute(y, a, b, NULL, N, 10, &s) == 0);
  CHECK(NEAR(s.si, 0.0) && NEAR(s.i_y_b, 0.0) && NEAR(s.delta_i, log2(10.0)));
  CHECK(NEAR(s.accuracy, 0.1));

  /* H(A) = 0: SI_norm undefined. */
  for (int i = 0; i < 10; i++)
    a[i] = 2, b[i] = i % 3;
  CHECK(metrics_task_stats_compute(NULL, a, b, NULL, 10, 3, &s) == 0);
  CHECK(s.h_a == 0 && s.si == 0 && isnan(s.si_norm));

  /* Mean KL. */
  double kl[4] = {0.5, 1.5, 0.0, 2.0};
  CHECK(metrics_task_stats_compute(NULL, ja, jb, kl, 4, 2, &s) == 0 && NEAR(s.mean_kl, 1.0));
  float p1[2] = {1, 0}, q1[2] = {0.5f, 0.5f}, p2[3] = {0.2f, 0.3f, 0.5f};
  CHECK(NEAR(metrics_kl_bits(p1, q1, 2), 1.0));
  CHECK(metrics_kl_bits(p2, p2, 3) == 0);
  double big = metrics_kl_bits(q1, p1, 2);
  CHECK(isfinite(big) && big > 40);

  /* Bad input. */
  int bad[2] = {0, 5};
  CHECK(metrics_task_stats_compute(NULL, bad, bad, NULL, 2, 3, &s) == -1);
  CHECK(metrics_task_stats_compute(NULL, a, b, NULL, 2, 0, &s) == -1);
  CHECK(isnan(metrics_mutual_information(bad, bad, 2, 3)));
  CHECK(isnan(metrics_entropy(bad, 2, 3)));

  return sb_test_status("test_task_metrics");
}
