/* bench_metrics: ms per call of the reference and fast metric paths (every kernel set the CPU
 * supports) at CIFAR (32x32) and Kodak (768x512) sizes, then the combined metrics_full_rgb8 call
 * against the four separate calls (mse, psnr, ssim, ms-ssim) it replaces. Not a test; run by hand:
 *
 *   bench_metrics [--combined-only] [min-seconds-per-measurement [repeats]]
 *
 * min-seconds defaults to 0.3. The combined-vs-separate table interleaves `repeats` (default 5)
 * measurements of each and prints their medians, since the machines it runs on are shared.
 */
#include "metrics.h"
#include "metrics_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- combined vs separate ----------------------------------------------------------------- */

typedef void (*full_fn)(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int w, int h,
                        metrics_full *out);

/* What a caller without metrics_full_rgb8 does: the four separate calls. */
static void separate_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int w,
                          int h, metrics_full *out) {
  out->mse = metrics_mse_rgb8_with(k, a, b, w, h);
  out->psnr = metrics_psnr_from_mse(out->mse);
  out->ssim = metrics_ssim_rgb8_with(k, a, b, w, h);
  out->ms_ssim = metrics_ms_ssim_rgb8_with(k, a, b, w, h);
}

static double time_full_ms(full_fn fn, const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                           int w, int h, double min_s, metrics_full *out) {
  fn(k, a, b, w, h, out); /* warm-up */
  long calls = 0;
  const double t0 = now_s();
  double t = t0;
  do {
    for (int r = 0; r < 3; r++)
      fn(k, a, b, w, h, out);
    calls += 3;
    t = now_s();
  } while (t - t0 < min_s);
  return 1e3 * (t - t0) / (double)calls;
}

static int cmp_double(const void *x, const void *y) {
  const double u = *(const double *)x, v = *(const double *)y;
  return (u > v) - (u < v);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int same_bits(double x, double y) {
  return (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
}

#define MAX_REPEATS 99

static void bench_combined(const uint8_t *a, const uint8_t *b, int w, int h, const char *size_name,
                           double min_s, int repeats) {
  static const char *const sets[] = {"scalar", "avx2", "avx512"};
  for (size_t si = 0; si < sizeof sets / sizeof sets[0]; si++) {
    metrics_kernels k;
    if (metrics_kernels_by_name(sets[si], &k) != 0)
      continue;
    double sep[MAX_REPEATS], comb[MAX_REPEATS], ratio[MAX_REPEATS];
    metrics_full fs, fc;
    for (int r = 0; r < repeats; r++) { /* interleaved, so drifting load hits both alike */
      sep[r] = time_full_ms(separate_with, &k, a, b, w, h, min_s, &fs);
      comb[r] = time_full_ms(metrics_full_rgb8_with, &k, a, b, w, h, min_s, &fc);
      ratio[r] = sep[r] / comb[r];
    }
    const int same = same_bits(fs.mse, fc.mse) && same_bits(fs.psnr, fc.psnr) &&
                     same_bits(fs.ssim, fc.ssim) && same_bits(fs.ms_ssim, fc.ms_ssim);
    const double mr = median(ratio, repeats), ms = median(sep, repeats);
    const double mc = median(comb, repeats);
    printf("%-8s %-8s %12.4f %12.4f %8.2f %8.2f  %s\n", size_name, k.name, ms, mc, ms / mc, mr,
           same ? "bit-identical" : "DIFFERENT");
  }
}

static void make_images(int w, int h, uint8_t *a, uint8_t *b) {
  const size_t n = (size_t)w * (size_t)h * 3;
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
}

int main(int argc, char **argv) {
  int arg = 1, combined_only = 0;
  if (argc > 1 && strcmp(argv[1], "--combined-only") == 0) {
    combined_only = 1;
    arg++;
  }
  const double min_s = argc > arg ? atof(argv[arg]) : 0.3;
  int repeats = argc > arg + 1 ? atoi(argv[arg + 1]) : 5;
  repeats = repeats < 1 ? 1 : repeats > MAX_REPEATS ? MAX_REPEATS : repeats;
  static const int sizes[][2] = {{32, 32}, {768, 512}};
  static const char *const sets[] = {"scalar", "avx2", "avx512"};
  static const struct {
    const char *name;
    metric_fn fast, ref;
  } metrics[] = {{"mse", metrics_mse_rgb8_with, mse_ref},
                 {"ssim", metrics_ssim_rgb8_with, ssim_ref},
                 {"ms-ssim", metrics_ms_ssim_rgb8_with, ms_ssim_ref}};
  printf("dispatched kernel set: %s\n", metrics_kernel_name());
  if (!combined_only)
    printf("%-8s %-8s %-8s %12s %12s %8s  %s\n", "size", "metric", "kernels", "ref ms", "fast ms",
           "ref/fast", "value");
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0] && !combined_only; z++) {
    const int w = sizes[z][0], h = sizes[z][1];
    const size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *a = malloc(n), *b = malloc(n);
    if (!a || !b)
      return 1;
    make_images(w, h, a, b);
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
  printf("\ncombined metrics_full_rgb8 vs separate mse + psnr + ssim + ms-ssim calls (ms per image "
         "pair, medians of %d interleaved runs)\n",
         repeats);
  printf("%-8s %-8s %12s %12s %8s %8s  %s\n", "size", "kernels", "separate ms", "combined ms",
         "sep/comb", "med.ratio", "results");
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    const int w = sizes[z][0], h = sizes[z][1];
    const size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *a = malloc(n), *b = malloc(n);
    if (!a || !b)
      return 1;
    make_images(w, h, a, b);
    char size_name[32];
    snprintf(size_name, sizeof size_name, "%dx%d", w, h);
    bench_combined(a, b, w, h, size_name, min_s, repeats);
    free(a);
    free(b);
  }
  return 0;
}
