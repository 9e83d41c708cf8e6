/* bench_metrics: ms per call of the reference and fast metric paths (every kernel set the CPU
 * supports) at CIFAR (32x32) and Kodak (768x512) sizes. Not a test; run by hand:
 *
 *   bench_metrics [min-seconds-per-measurement]   (default 0.3)
 */
#include "metrics.h"
#include "metrics_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef double (*metric_fn)(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int w,
                            int h);

/* Reference versions behind the same signature (k unused). */
static double mse_ref(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int w, int h) {
  (void)k;
  return metrics_mse_rgb8_ref(a, b, w, h);
}
static double ssim_ref(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int w, int h) {
  (void)k;
  return metrics_ssim_rgb8_ref(a, b, w, h);
}
static double ms_ssim_ref(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int w,
                          int h) {
  (void)k;
  return metrics_ms_ssim_rgb8_ref(a, b, w, h);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Mean ms per call over batches that together last at least min_s (at least 3 calls). */
static double time_ms(metric_fn fn, const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                      int w, int h, double min_s, double *value) {
  *value = fn(k, a, b, w, h); /* warm-up: page faults, dispatcher init */
  long calls = 0;
  const double t0 = now_s();
  double t = t0;
  do {
    for (int r = 0; r < 3; r++)
      *value = fn(k, a, b, w, h);
    calls += 3;
    t = now_s();
  } while (t - t0 < min_s);
  return 1e3 * (t - t0) / (double)calls;
}

int main(int argc, char **argv) {
  const double min_s = argc > 1 ? atof(argv[1]) : 0.3;
  static const int sizes[][2] = {{32, 32}, {768, 512}};
  static const char *const sets[] = {"scalar", "avx2", "avx512"};
  static const struct {
    const char *name;
    metric_fn fast, ref;
  } metrics[] = {{"mse", metrics_mse_rgb8_with, mse_ref},
                 {"ssim", metrics_ssim_rgb8_with, ssim_ref},
                 {"ms-ssim", metrics_ms_ssim_rgb8_with, ms_ssim_ref}};
  printf("dispatched kernel set: %s\n", metrics_kernel_name());
  printf("%-8s %-8s %-8s %12s %12s %8s  %s\n", "size", "metric", "kernels", "ref ms", "fast ms",
         "ref/fast", "value");
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    const int w = sizes[z][0], h = sizes[z][1];
    const size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *a = malloc(n), *b = malloc(n);
    if (!a || !b)
      return 1;
    uint64_t s = 12345;
    for (size_t p = 0; p < n; p++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      const size_t pix = p / 3;
      const int base = (int)(128 + 100 * sin(0.05 * (double)(pix % (size_t)w)) *
                                       cos(0.03 * (double)(pix / (size_t)w)));
      a[p] = (uint8_t)base;
      const int v = base + (int)((s >> 33) % 17) - 8;
      b[p] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    char size_name[32];
    snprintf(size_name, sizeof size_name, "%dx%d", w, h);
    for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++) {
      double vref;
      const double ref_ms = time_ms(metrics[m].ref, NULL, a, b, w, h, min_s, &vref);
      for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
        metrics_kernels k;
        if (metrics_kernels_by_name(sets[si], &k) != 0)
          continue;
        double v;
        const double fast_ms = time_ms(metrics[m].fast, &k, a, b, w, h, min_s, &v);
        printf("%-8s %-8s %-8s %12.4f %12.4f %8.1f  %.10f (ref %.10f)\n", size_name,
               metrics[m].name, k.name, ref_ms, fast_ms, ref_ms / fast_ms, v, vref);
      }
    }
    free(a);
    free(b);
  }
  return 0;
}
