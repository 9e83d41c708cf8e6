/* Unit tests for metrics/bd.c (Bjøntegaard deltas): exact cases whose answer is known in closed
 * form, every "not comparable" status, point-order independence, symmetry, scale invariance and
 * thread-safety, and a few values pinned from SciPy. The full comparison with SciPy is
 * test_bd_oracle.py. */
#include "metrics.h"
#include "sb_test.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* A metrics_bd_status check (sb_test.h) that names both statuses. */
#define CHECK_STATUS(got, want)                                                                    \
  check_status(__FILE__, __LINE__, "CHECK_STATUS(" #got ", " #want ")", (got), (want))
static void check_status(const char *file, int line, const char *expr, metrics_bd_status got,
                         metrics_bd_status want) {
  sb_test_check_at(got == want, file, line, expr, "status \"%s\", want \"%s\"", metrics_bd_status_text(got),
                   metrics_bd_status_text(want));
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Kodak, 24 images, mean per-image PSNR (this project's runs). */
static const double JPEG_R[] = {0.327, 0.508, 0.660, 0.786, 0.906,
                                1.037, 1.239, 1.570, 2.346, 3.392};
static const double JPEG_P[] = {26.67, 29.14, 30.49, 31.42, 32.17,
                                32.91, 33.92, 35.37, 38.03, 40.56};
static const double WEBP_R[] = {0.109, 0.296, 0.407, 0.513, 0.621, 0.722,
                                0.824, 0.934, 1.216, 2.010, 2.928};
static const double WEBP_P[] = {25.85, 29.15, 30.41, 31.44, 32.42, 33.24,
                                33.97, 34.69, 36.37, 39.56, 41.76};
static const double J2K_R[] = {0.124, 0.249, 0.499, 0.999, 1.997, 3.997};
static const double J2K_P[] = {27.01, 29.25, 32.18, 36.00, 40.80, 47.06};

/* Both deltas of test vs anchor; asserts METRICS_BD_OK. */
static void both(const double *ra, const double *ma, size_t na, const double *rt, const double *mt,
                 size_t nt, double *rate, double *metric) {
  CHECK_STATUS(metrics_bd_rate(ra, ma, na, rt, mt, nt, rate), METRICS_BD_OK);
  CHECK_STATUS(metrics_bd_metric(ra, ma, na, rt, mt, nt, metric), METRICS_BD_OK);
}

static void test_identical(void) {
  double r = -1, m = -1;
  both(JPEG_R, JPEG_P, N_OF(JPEG_R), JPEG_R, JPEG_P, N_OF(JPEG_R), &r, &m);
  CHECK(r == 0.0);
  CHECK(m == 0.0);
  /* The same curve in another order is still exactly the same curve. */
  double rr[N_OF(WEBP_R)], mm[N_OF(WEBP_R)];
  for (size_t i = 0; i < N_OF(WEBP_R); i++) {
    rr[i] = WEBP_R[N_OF(WEBP_R) - 1 - i];
    mm[i] = WEBP_P[N_OF(WEBP_R) - 1 - i];
  }
  both(WEBP_R, WEBP_P, N_OF(WEBP_R), rr, mm, N_OF(WEBP_R), &r, &m);
  CHECK(r == 0.0);
  CHECK(m == 0.0);
}

/* Test = anchor with every rate multiplied by k (same metrics): BD-rate = (k-1)*100 exactly. */
static void test_rate_factor(void) {
  static const double ks[] = {0.25, 0.5, 0.8, 0.97, 1.03, 1.25, 2.0, 3.7};
  static const double *curves_r[] = {JPEG_R, WEBP_R, J2K_R};
  static const double *curves_p[] = {JPEG_P, WEBP_P, J2K_P};
  static const size_t curves_n[] = {N_OF(JPEG_R), N_OF(WEBP_R), N_OF(J2K_R)};
  for (size_t c = 0; c < 3; c++) {
    for (size_t i = 0; i < N_OF(ks); i++) {
      double rt[16], r = 0;
      for (size_t j = 0; j < curves_n[c]; j++)
        rt[j] = curves_r[c][j] * ks[i];
      CHECK_STATUS(metrics_bd_rate(curves_r[c], curves_p[c], curves_n[c], rt, curves_p[c], curves_n[c], &r),
                   METRICS_BD_OK);
      CHECK_NEAR(r, (ks[i] - 1.0) * 100.0, 1e-9);
    }
  }
}

/* Test = anchor with every metric + d (same rates): BD-metric = d exactly. */
static void test_metric_shift(void) {
  static const double ds[] = {-3.0, -0.37, 0.001, 0.5, 2.25};
  for (size_t i = 0; i < N_OF(ds); i++) {
    double mt[16], m = 0;
    for (size_t j = 0; j < N_OF(JPEG_R); j++)
      mt[j] = JPEG_P[j] + ds[i];
    CHECK_STATUS(metrics_bd_metric(JPEG_R, JPEG_P, N_OF(JPEG_R), JPEG_R, mt, N_OF(JPEG_R), &m), METRICS_BD_OK);
    CHECK_NEAR(m, ds[i], 1e-9);
  }
}

/* PCHIP reproduces straight lines, so for metric = a + b*log10(rate) sampled at different points
 * with a partial overlap, both deltas are known exactly: BD-metric = d and
 * BD-rate = (10^(-d/b) - 1)*100. This exercises clipped pieces at both ends of the overlap. */
static void test_linear_partial_overlap(void) {
  const double a = 30.0, b = 12.0, d = 0.8;
  double ra[7], ma[7], rt[5], mt[5];
  static const double la[7] = {-0.9, -0.6, -0.45, -0.1, 0.05, 0.3, 0.41};
  static const double lt[5] = {-0.7, -0.33, 0.0, 0.37, 0.72};
  for (size_t i = 0; i < 7; i++) {
    ra[i] = pow(10.0, la[i]);
    ma[i] = a + b * la[i];
  }
  for (size_t i = 0; i < 5; i++) {
    rt[i] = pow(10.0, lt[i]);
    mt[i] = a + d + b * lt[i];
  }
  double r = 0, m = 0;
  both(ra, ma, 7, rt, mt, 5, &r, &m);
  CHECK_NEAR(m, d, 1e-12);
  CHECK_NEAR(r, (pow(10.0, -d / b) - 1.0) * 100.0, 1e-10);
}

static void test_not_comparable(void) {
  double r = 0, m = 0;
  /* Fewer than 4 points, on either side; n = 0 with NULL arrays too. */
  CHECK_STATUS(metrics_bd_rate(JPEG_R, JPEG_P, 3, WEBP_R, WEBP_P, 11, &r), METRICS_BD_TOO_FEW_POINTS);
  CHECK_STATUS(metrics_bd_metric(JPEG_R, JPEG_P, 10, WEBP_R, WEBP_P, 3, &m), METRICS_BD_TOO_FEW_POINTS);
  CHECK_STATUS(metrics_bd_rate(NULL, NULL, 0, WEBP_R, WEBP_P, 11, &r), METRICS_BD_TOO_FEW_POINTS);
  CHECK(isnan(r) && isnan(m));
  CHECK_STATUS(metrics_bd_rate(JPEG_R, JPEG_P, 4, WEBP_R, WEBP_P, 4, &r), METRICS_BD_OK);

  /* No overlap: metric ranges apart (BD-rate), rate ranges apart (BD-metric). */
  static const double lo_r[] = {0.1, 0.2, 0.3, 0.4}, lo_p[] = {20, 21, 22, 23};
  static const double hi_r[] = {0.5, 0.6, 0.7, 0.8}, hi_p[] = {24, 25, 26, 27};
  CHECK_STATUS(metrics_bd_rate(lo_r, lo_p, 4, hi_r, hi_p, 4, &r), METRICS_BD_NO_OVERLAP);
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, hi_r, hi_p, 4, &m), METRICS_BD_NO_OVERLAP);
  CHECK(isnan(r) && isnan(m));
  /* Rates overlap but metrics do not: BD-metric has a number, BD-rate has none. */
  static const double mid_r[] = {0.25, 0.35, 0.45, 0.55}, mid_p[] = {30, 31, 32, 33};
  CHECK_STATUS(metrics_bd_rate(lo_r, lo_p, 4, mid_r, mid_p, 4, &r), METRICS_BD_NO_OVERLAP);
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, mid_r, mid_p, 4, &m), METRICS_BD_OK);
  /* Touching at one point is a zero-length overlap. */
  static const double touch_r[] = {0.4, 0.5, 0.6, 0.7}, touch_p[] = {23, 24, 25, 26};
  CHECK_STATUS(metrics_bd_rate(lo_r, lo_p, 4, touch_r, touch_p, 4, &r), METRICS_BD_NO_OVERLAP);
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, touch_r, touch_p, 4, &m), METRICS_BD_NO_OVERLAP);

  /* Duplicate rates: not a function of log-rate, for both. */
  static const double dup_r[] = {0.1, 0.2, 0.2, 0.4}, dup_p[] = {20, 21, 22, 23};
  CHECK_STATUS(metrics_bd_rate(dup_r, dup_p, 4, lo_r, lo_p, 4, &r), METRICS_BD_NOT_MONOTONE);
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, dup_r, dup_p, 4, &m), METRICS_BD_NOT_MONOTONE);
  /* Flat metric (CIFAR JPEG 2000-like: the lowest settings all decode to the same image because
   * the headers dominate): BD-rate is not comparable; BD-metric interpolates it. */
  static const double flat_r[] = {0.9, 1.0, 1.2, 1.6, 2.4}, flat_p[] = {18.2, 18.2, 19.5, 22, 25};
  static const double cif_r[] = {0.8, 1.1, 1.5, 2.0, 3.0}, cif_p[] = {17.5, 19.0, 21.0, 23, 27};
  CHECK_STATUS(metrics_bd_rate(cif_r, cif_p, 5, flat_r, flat_p, 5, &r), METRICS_BD_NOT_MONOTONE);
  CHECK(isnan(r));
  CHECK_STATUS(metrics_bd_metric(cif_r, cif_p, 5, flat_r, flat_p, 5, &m), METRICS_BD_OK);
  /* Metric decreasing somewhere (noisy accuracy): same split. */
  static const double noisy_p[] = {40, 55, 53, 61, 70};
  CHECK_STATUS(metrics_bd_rate(cif_r, cif_p, 5, cif_r, noisy_p, 5, &r), METRICS_BD_NOT_MONOTONE);
  CHECK_STATUS(metrics_bd_metric(cif_r, cif_p, 5, cif_r, noisy_p, 5, &m), METRICS_BD_OK);
  /* Distinct rates whose log10 round to the same double. */
  double close_r[4] = {1e10, nextafter(1e10, 2e10), 2e10, 3e10};
  CHECK(log10(close_r[0]) == log10(close_r[1]));
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, close_r, lo_p, 4, &m), METRICS_BD_NOT_MONOTONE);

  /* Invalid input. */
  const double nan_v = NAN, inf_v = INFINITY;
  double bad[4];
  memcpy(bad, lo_r, sizeof bad);
  bad[2] = 0.0;
  CHECK_STATUS(metrics_bd_rate(bad, lo_p, 4, lo_r, lo_p, 4, &r), METRICS_BD_INVALID);
  bad[2] = -0.3;
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, bad, lo_p, 4, &m), METRICS_BD_INVALID);
  bad[2] = nan_v;
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, bad, lo_p, 4, &m), METRICS_BD_INVALID);
  bad[2] = inf_v;
  CHECK_STATUS(metrics_bd_rate(bad, lo_p, 4, lo_r, lo_p, 4, &r), METRICS_BD_INVALID);
  memcpy(bad, lo_p, sizeof bad);
  bad[0] = nan_v;
  CHECK_STATUS(metrics_bd_rate(lo_r, bad, 4, lo_r, lo_p, 4, &r), METRICS_BD_INVALID);
  bad[0] = -inf_v;
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, lo_r, bad, 4, &m), METRICS_BD_INVALID);
  CHECK(isnan(r) && isnan(m));
  CHECK_STATUS(metrics_bd_rate(lo_r, lo_p, 4, lo_r, lo_p, 4, NULL), METRICS_BD_INVALID);
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, lo_r, lo_p, 4, NULL), METRICS_BD_INVALID);
  CHECK_STATUS(metrics_bd_rate(NULL, lo_p, 4, lo_r, lo_p, 4, &r), METRICS_BD_INVALID);
  CHECK_STATUS(metrics_bd_metric(lo_r, lo_p, 4, lo_r, NULL, 4, &m), METRICS_BD_INVALID);
  /* Overflowing result: rates 600 decades apart at equal metric. */
  static const double tiny_r[] = {1e-300, 2e-300, 3e-300, 4e-300};
  static const double huge_r[] = {1e300, 2e300, 3e300, 4e300};
  CHECK_STATUS(metrics_bd_rate(tiny_r, lo_p, 4, huge_r, lo_p, 4, &r), METRICS_BD_INVALID);
  CHECK(isnan(r));
  CHECK_STATUS(metrics_bd_rate(huge_r, lo_p, 4, tiny_r, lo_p, 4, &r), METRICS_BD_OK); /* -100%: representable */
  CHECK_NEAR(r, -100.0, 1e-9);

  /* Point limit. */
  static double many_r[METRICS_BD_MAX_POINTS + 1], many_p[METRICS_BD_MAX_POINTS + 1];
  for (size_t i = 0; i <= METRICS_BD_MAX_POINTS; i++) {
    many_r[i] = 0.05 * (double)(i + 1);
    many_p[i] = 20.0 + 10.0 * log10(many_r[i]);
  }
  CHECK_STATUS(metrics_bd_rate(many_r, many_p, METRICS_BD_MAX_POINTS, JPEG_R, JPEG_P, 10, &r), METRICS_BD_OK);
  CHECK_STATUS(metrics_bd_rate(many_r, many_p, METRICS_BD_MAX_POINTS + 1, JPEG_R, JPEG_P, 10, &r), METRICS_BD_INVALID);

  /* Texts. */
  static const metrics_bd_status all[] = {METRICS_BD_OK, METRICS_BD_TOO_FEW_POINTS, METRICS_BD_NO_OVERLAP, METRICS_BD_NOT_MONOTONE,
                                  METRICS_BD_INVALID};
  for (size_t i = 0; i < N_OF(all); i++) {
    CHECK(metrics_bd_status_text(all[i]) != NULL);
    for (size_t j = 0; j < i; j++)
      CHECK(strcmp(metrics_bd_status_text(all[i]), metrics_bd_status_text(all[j])) != 0);
  }
  CHECK(strcmp(metrics_bd_status_text(METRICS_BD_TOO_FEW_POINTS), "not comparable: fewer than 4 points") == 0);
  CHECK(strncmp(metrics_bd_status_text(METRICS_BD_NO_OVERLAP), "not comparable: ", 16) == 0);
  CHECK(strncmp(metrics_bd_status_text(METRICS_BD_NOT_MONOTONE), "not comparable: ", 16) == 0);
  CHECK(strcmp(metrics_bd_status_text((metrics_bd_status)42), "unknown metrics_bd_status") == 0);
}

/* Every permutation scheme gives the bit-identical result; the inputs are left untouched. */
static void test_order(void) {
  double r0, m0;
  both(JPEG_R, JPEG_P, N_OF(JPEG_R), WEBP_R, WEBP_P, N_OF(WEBP_R), &r0, &m0);
  const size_t n = N_OF(WEBP_R);
  for (unsigned seed = 1; seed <= 50; seed++) {
    size_t perm[N_OF(WEBP_R)];
    for (size_t i = 0; i < n; i++)
      perm[i] = i;
    unsigned s = seed * 2654435761u;
    for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates with a small LCG */
      s = s * 1103515245u + 12345u;
      size_t j = (s >> 8) % (i + 1);
      size_t t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    double rr[N_OF(WEBP_R)], mm[N_OF(WEBP_R)], r, m;
    for (size_t i = 0; i < n; i++) {
      rr[i] = WEBP_R[perm[i]];
      mm[i] = WEBP_P[perm[i]];
    }
    both(JPEG_R, JPEG_P, N_OF(JPEG_R), rr, mm, n, &r, &m);
    CHECK(r == r0);
    CHECK(m == m0);
    both(rr, mm, n, JPEG_R, JPEG_P, N_OF(JPEG_R), &r, &m);
    CHECK_NEAR(m, -m0, 1e-12); /* anchor and test swapped */
    CHECK_NEAR((1.0 + r / 100.0) * (1.0 + r0 / 100.0), 1.0, 1e-12);
  }
  CHECK(WEBP_R[0] == 0.109 && WEBP_P[10] == 41.76);
}

/* A change of rate unit (bpp -> bits per image) changes neither delta. */
static void test_scale_invariance(void) {
  double r0, m0, r1, m1, ra[16], rt[16];
  both(JPEG_R, JPEG_P, N_OF(JPEG_R), J2K_R, J2K_P, N_OF(J2K_R), &r0, &m0);
  for (size_t i = 0; i < N_OF(JPEG_R); i++)
    ra[i] = JPEG_R[i] * 768.0 * 512.0;
  for (size_t i = 0; i < N_OF(J2K_R); i++)
    rt[i] = J2K_R[i] * 768.0 * 512.0;
  both(ra, JPEG_P, N_OF(JPEG_R), rt, J2K_P, N_OF(J2K_R), &r1, &m1);
  CHECK_NEAR(r1, r0, 1e-9);
  CHECK_NEAR(m1, m0, 1e-9);
}

typedef struct thread_arg {
  double rate, metric;
  int mismatches;
} thread_arg;

static void *thread_main(void *p) {
  thread_arg *a = p;
  for (int i = 0; i < 2000; i++) {
    double r = 0, m = 0;
    metrics_bd_rate(JPEG_R, JPEG_P, N_OF(JPEG_R), WEBP_R, WEBP_P, N_OF(WEBP_R), &r);
    metrics_bd_metric(JPEG_R, JPEG_P, N_OF(JPEG_R), J2K_R, J2K_P, N_OF(J2K_R), &m);
    a->mismatches += r != a->rate || m != a->metric;
  }
  return NULL;
}

static void test_threads(void) {
  double r = 0, m = 0;
  CHECK_STATUS(metrics_bd_rate(JPEG_R, JPEG_P, N_OF(JPEG_R), WEBP_R, WEBP_P, N_OF(WEBP_R), &r), METRICS_BD_OK);
  CHECK_STATUS(metrics_bd_metric(JPEG_R, JPEG_P, N_OF(JPEG_R), J2K_R, J2K_P, N_OF(J2K_R), &m), METRICS_BD_OK);
  pthread_t th[4];
  thread_arg args[4];
  for (int i = 0; i < 4; i++) {
    args[i] = (thread_arg){r, m, 0};
    CHECK(pthread_create(&th[i], NULL, thread_main, &args[i]) == 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK(args[i].mismatches == 0);
  }
}

/* Values pinned from SciPy 1.10.1 (PchipInterpolator + PPoly.integrate, as test_bd_oracle.py
 * computes them), so this test checks the interpolant itself even where Python is absent. */
static void test_pinned(void) {
  double r, m;
  both(JPEG_R, JPEG_P, N_OF(JPEG_R), WEBP_R, WEBP_P, N_OF(WEBP_R), &r, &m);
  printf("Kodak, anchor JPEG: WebP      BD-rate %+.4f %%  BD-PSNR %+.4f dB\n", r, m);
  CHECK_NEAR(r, -37.151879744574835, 1e-9);
  CHECK_NEAR(m, 2.4437821927109873, 1e-9);
  both(JPEG_R, JPEG_P, N_OF(JPEG_R), J2K_R, J2K_P, N_OF(J2K_R), &r, &m);
  printf("Kodak, anchor JPEG: JPEG 2000 BD-rate %+.4f %%  BD-PSNR %+.4f dB\n", r, m);
  CHECK_NEAR(r, -46.65290636844558, 1e-9);
  CHECK_NEAR(m, 3.566487115032991, 1e-9);
  both(WEBP_R, WEBP_P, N_OF(WEBP_R), J2K_R, J2K_P, N_OF(J2K_R), &r, &m);
  CHECK_NEAR(r, -16.2505369570895, 1e-9);
  CHECK_NEAR(m, 0.9528179004671293, 1e-9);
  /* Four-point HEVC-style curves (kbps, dB). */
  static const double ar[] = {686.76, 309.58, 157.11, 85.95}, ap[] = {40.28, 37.18, 34.24, 31.42};
  static const double tr[] = {893.34, 407.8, 204.93, 112.75}, tp[] = {40.39, 37.21, 34.17, 31.24};
  both(ar, ap, 4, tr, tp, 4, &r, &m);
  CHECK_NEAR(r, 31.379878202397627, 1e-9);
  CHECK_NEAR(m, -1.183472404622454, 1e-9);
  /* A noisy accuracy curve (BD-metric only) whose end slopes use both shape-preserving rules:
   * left end 0 (three-point estimate of the wrong sign), right end 3*m0 (secants differ in sign
   * and the estimate exceeds 3|m0|); SciPy's slopes are 0, 1.98, 0, 0, 6. */
  static const double nr[] = {1.0, 1.2589254117941673, 1.5848931924611136, 1.9952623149688795,
                              2.51188643150958};
  static const double np[] = {50, 50.1, 60, 55, 55.2};
  static const double lr[] = {1.0, 1.5, 2.0, 2.5}, lp[] = {52.0, 54.0, 55.0, 55.5};
  CHECK_STATUS(metrics_bd_metric(lr, lp, 4, nr, np, 5, &m), METRICS_BD_OK);
  CHECK_NEAR(m, 0.3488640223528818, 1e-9);
  CHECK_STATUS(metrics_bd_rate(lr, lp, 4, nr, np, 5, &r), METRICS_BD_NOT_MONOTONE);
}

int main(void) {
  test_identical();
  test_rate_factor();
  test_metric_shift();
  test_linear_partial_overlap();
  test_not_comparable();
  test_order();
  test_scale_invariance();
  test_threads();
  test_pinned();
  return sb_test_status("bd");
}
