/* Unit tests for metrics/: every kernel set this CPU supports against the double-precision
 * reference (dav1d checkasm style) on random and structured image pairs, plus closed-form
 * cases, identities, argument errors and concurrent first use of the dispatcher. */
#include "metrics.h"
#include "metrics_internal.h"
#include "sb_test.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fast vs reference tolerance. Both filter in double; differences come only from summation
 * order (observed ~1e-14), so 1e-9 leaves a wide margin while catching any real bug. */
#define FAST_VS_REF_TOL 1e-9

static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol; }

/* splitmix64: small deterministic generator, so failures reproduce. */
static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static int rng_int(uint64_t *s, int lo, int hi) { /* inclusive */
  return lo + (int)(rng_next(s) % (uint64_t)(hi - lo + 1));
}
static uint8_t clamp_u8(int v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

enum {
  PAIR_NOISE,      /* two independent uniform noise images */
  PAIR_NOISY_COPY, /* natural-ish image and a copy with +-12 noise */
  PAIR_GRADIENT,   /* smooth gradient and a slightly noisy copy */
  PAIR_BLOCKY,     /* image and its 8x8 block means (a JPEG-like artefact) */
  PAIR_QUANTIZED,  /* image and a copy quantized to 16 levels */
  PAIR_FLAT,       /* flat 255 vs flat 254: worst case for E[x^2] - mu^2 cancellation */
  PAIR_INVERTED,   /* image and 255 - image: negative cs, exercises the MS-SSIM clamp */
  PAIR_EXTREMES,   /* salt and pepper 0/255 and a copy with ~10% of the samples flipped */
  PAIR_STRIPES,    /* 1-px stripes vs checkerboard */
  PAIR_KINDS
};
static const char *const pair_names[PAIR_KINDS] = {"noise",    "noisy-copy", "gradient",
                                                   "blocky",   "quantized",  "flat",
                                                   "inverted", "extremes",   "stripes"};

static void make_pair(int kind, int w, int h, uint64_t seed, uint8_t *a, uint8_t *b) {
  uint64_t s = seed;
  for (int i = 0; i < h; i++) {
    for (int j = 0; j < w; j++) {
      for (int c = 0; c < 3; c++) {
        const size_t p = ((size_t)i * (size_t)w + (size_t)j) * 3 + (size_t)c;
        /* smooth base: low-frequency pattern per channel */
        const double base = 128.0 + 90.0 * sin(0.07 * (j + 13 * c)) * cos(0.05 * (i - 7 * c));
        int v;
        switch (kind) {
        case PAIR_NOISE:
          a[p] = (uint8_t)rng_int(&s, 0, 255);
          b[p] = (uint8_t)rng_int(&s, 0, 255);
          break;
        case PAIR_NOISY_COPY:
          v = (int)base + rng_int(&s, -20, 20);
          a[p] = clamp_u8(v);
          b[p] = clamp_u8(v + rng_int(&s, -12, 12));
          break;
        case PAIR_GRADIENT:
          v = (int)(255.0 * (double)(i + j) / (double)(w + h));
          a[p] = clamp_u8(v + c * 10);
          b[p] = clamp_u8(v + c * 10 + rng_int(&s, -3, 3));
          break;
        case PAIR_QUANTIZED:
          v = clamp_u8((int)base + rng_int(&s, -30, 30));
          a[p] = (uint8_t)v;
          b[p] = (uint8_t)((v & ~15) + 8);
          break;
        case PAIR_FLAT:
          a[p] = 255;
          b[p] = 254;
          break;
        case PAIR_INVERTED:
          v = clamp_u8((int)base + rng_int(&s, -40, 40));
          a[p] = (uint8_t)v;
          b[p] = (uint8_t)(255 - v);
          break;
        case PAIR_EXTREMES:
          a[p] = rng_int(&s, 0, 1) ? 255 : 0;
          b[p] = rng_int(&s, 0, 9) ? a[p] : (uint8_t)(255 - a[p]);
          break;
        case PAIR_STRIPES:
          a[p] = (j & 1) ? 255 : 0;
          b[p] = ((i + j) & 1) ? 250 : 5;
          break;
        default: /* PAIR_BLOCKY: a now, b below */
          a[p] = clamp_u8((int)base + rng_int(&s, -25, 25));
          b[p] = 0;
          break;
        }
      }
    }
  }
  if (kind == PAIR_BLOCKY) {
    for (int bi = 0; bi < h; bi += 8)
      for (int bj = 0; bj < w; bj += 8)
        for (int c = 0; c < 3; c++) {
          int sum = 0, cnt = 0;
          for (int i = bi; i < bi + 8 && i < h; i++)
            for (int j = bj; j < bj + 8 && j < w; j++, cnt++)
              sum += a[((size_t)i * (size_t)w + (size_t)j) * 3 + (size_t)c];
          for (int i = bi; i < bi + 8 && i < h; i++)
            for (int j = bj; j < bj + 8 && j < w; j++)
              b[((size_t)i * (size_t)w + (size_t)j) * 3 + (size_t)c] = (uint8_t)(sum / cnt);
        }
  }
}

/* ---- concurrent first use ------------------------------------------------------------------ */

typedef struct thread_job {
  const uint8_t *a, *b;
  double ssim;
} thread_job;

static void *thread_main(void *arg) {
  thread_job *job = arg;
  job->ssim = metrics_ssim_rgb8(job->a, job->b, 64, 48);
  return NULL;
}

/* Must run before anything else touches the dispatcher, so that the threads race on it. */
static void test_concurrent_first_use(void) {
  enum { NT = 4 };
  uint8_t *a = calloc(64 * 48 * 3, 1), *b = calloc(64 * 48 * 3, 1);
  make_pair(PAIR_NOISY_COPY, 64, 48, 42, a, b);
  pthread_t th[NT];
  thread_job jobs[NT];
  for (int t = 0; t < NT; t++) {
    jobs[t] = (thread_job){a, b, NAN};
    CHECK(pthread_create(&th[t], NULL, thread_main, &jobs[t]) == 0, "pthread_create");
  }
  for (int t = 0; t < NT; t++)
    pthread_join(th[t], NULL);
  const double want = metrics_ssim_rgb8_ref(a, b, 64, 48);
  for (int t = 0; t < NT; t++)
    CHECK(close_to(jobs[t].ssim, want, FAST_VS_REF_TOL), "thread %d: ssim %.17g vs ref %.17g", t,
          jobs[t].ssim, want);
  free(a);
  free(b);
}

/* ---- fast vs reference --------------------------------------------------------------------- */

/* Every kernel set the CPU supports; the reference runs once per pair (it is the slow part). */
static metrics_kernels g_sets[3];
static int g_nsets;
static double g_max_diff_ssim[3], g_max_diff_ms[3];

static void compare_pair(int kind, int w, int h, uint64_t seed) {
  const size_t n = (size_t)w * (size_t)h * 3;
  uint8_t *a = calloc(n, 1), *b = calloc(n, 1);
  make_pair(kind, w, h, seed, a, b);
  const double mse_r = metrics_mse_rgb8_ref(a, b, w, h);
  const double ssim_r = metrics_ssim_rgb8_ref(a, b, w, h);
  const double ms_r = metrics_ms_ssim_rgb8_ref(a, b, w, h);
  const int ms_defined = w >= METRICS_MS_SSIM_MIN_SIDE && h >= METRICS_MS_SSIM_MIN_SIDE;
  CHECK(isfinite(ssim_r) && ssim_r >= -1.0 && ssim_r <= 1.0, "%s %dx%d: ref ssim %g",
        pair_names[kind], w, h, ssim_r);
  if (ms_defined)
    CHECK(isfinite(ms_r) && ms_r >= 0.0 && ms_r <= 1.0, "%s %dx%d: ref ms-ssim %g",
          pair_names[kind], w, h, ms_r);
  else
    CHECK(isnan(ms_r), "%dx%d: ref ms-ssim should be NAN", w, h);

  for (int si = 0; si < g_nsets; si++) {
    const metrics_kernels *k = &g_sets[si];
    const double mse_f = metrics_mse_rgb8_with(k, a, b, w, h);
    CHECK(mse_f == mse_r, "%s %s %dx%d: mse %.17g vs ref %.17g", k->name, pair_names[kind], w, h,
          mse_f, mse_r);
    const double ssim_f = metrics_ssim_rgb8_with(k, a, b, w, h);
    CHECK(close_to(ssim_f, ssim_r, FAST_VS_REF_TOL), "%s %s %dx%d: ssim %.17g vs ref %.17g",
          k->name, pair_names[kind], w, h, ssim_f, ssim_r);
    if (fabs(ssim_f - ssim_r) > g_max_diff_ssim[si])
      g_max_diff_ssim[si] = fabs(ssim_f - ssim_r);
    const double ms_f = metrics_ms_ssim_rgb8_with(k, a, b, w, h);
    if (ms_defined) {
      CHECK(close_to(ms_f, ms_r, FAST_VS_REF_TOL), "%s %s %dx%d: ms-ssim %.17g vs ref %.17g",
            k->name, pair_names[kind], w, h, ms_f, ms_r);
      if (fabs(ms_f - ms_r) > g_max_diff_ms[si])
        g_max_diff_ms[si] = fabs(ms_f - ms_r);
    } else {
      CHECK(isnan(ms_f), "%s %dx%d: ms-ssim should be NAN", k->name, w, h);
    }
  }
  free(a);
  free(b);
}

/* ---- combined entry point vs the separate calls -------------------------------------------- */

/* Bit-identical, or both NAN. */
static int same_double(double x, double y) {
  return (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
}

static int g_full_pairs;

/* metrics_full_rgb8_with against the separate *_with calls for every kernel set, and the public
 * metrics_full_rgb8 against the public separate calls: every field bit-identical. */
static void check_full_pair(const uint8_t *a, const uint8_t *b, int w, int h, const char *what) {
  for (int si = 0; si < g_nsets; si++) {
    const metrics_kernels *k = &g_sets[si];
    const double mse = metrics_mse_rgb8_with(k, a, b, w, h);
    const double psnr = metrics_psnr_from_mse(mse);
    const double ssim = metrics_ssim_rgb8_with(k, a, b, w, h);
    const double ms = metrics_ms_ssim_rgb8_with(k, a, b, w, h);
    metrics_full f;
    errno = 0;
    metrics_full_rgb8_with(k, a, b, w, h, &f);
    CHECK(errno == 0, "%s %s %dx%d: full set errno %d", k->name, what, w, h, errno);
    CHECK(same_double(f.mse, mse), "%s %s %dx%d: full mse %.17g vs %.17g", k->name, what, w, h,
          f.mse, mse);
    CHECK(same_double(f.psnr, psnr), "%s %s %dx%d: full psnr %.17g vs %.17g", k->name, what, w, h,
          f.psnr, psnr);
    CHECK(same_double(f.ssim, ssim), "%s %s %dx%d: full ssim %.17g vs %.17g", k->name, what, w, h,
          f.ssim, ssim);
    CHECK(same_double(f.ms_ssim, ms), "%s %s %dx%d: full ms-ssim %.17g vs %.17g", k->name, what, w,
          h, f.ms_ssim, ms);
    /* The NAN pattern the sizes imply (mse and psnr are always defined here). */
    CHECK(!isnan(f.mse) && !isnan(f.psnr), "%s %dx%d: full mse/psnr NAN", k->name, w, h);
    CHECK(isnan(f.ssim) == (w < METRICS_WIN || h < METRICS_WIN), "%s %dx%d: full ssim NAN rule",
          k->name, w, h);
    CHECK(isnan(f.ms_ssim) == (w < METRICS_MS_SSIM_MIN_SIDE || h < METRICS_MS_SSIM_MIN_SIDE),
          "%s %dx%d: full ms-ssim NAN rule", k->name, w, h);
  }
  metrics_full f;
  metrics_full_rgb8(a, b, w, h, &f);
  const double mse = metrics_mse_rgb8(a, b, w, h);
  CHECK(same_double(f.mse, mse) && same_double(f.psnr, metrics_psnr_from_mse(mse)) &&
            same_double(f.ssim, metrics_ssim_rgb8(a, b, w, h)) &&
            same_double(f.ms_ssim, metrics_ms_ssim_rgb8(a, b, w, h)),
        "%s %dx%d: public metrics_full_rgb8 differs from the separate calls", what, w, h);
  g_full_pairs++;
}

static void test_full_vs_separate(void) {
  /* Below 11 px (SSIM and MS-SSIM NAN), 11..160 (MS-SSIM NAN), 161..175 (degenerate last
   * MS-SSIM scale), >= 176, odd sizes (floored down-sampling) and the Kodak size. */
  static const int sizes[][2] = {{1, 1},     {3, 2},     {10, 10},   {10, 11},   {11, 10},
                                 {5, 300},   {300, 7},   {11, 11},   {12, 19},   {32, 32},
                                 {33, 47},   {75, 20},   {160, 160}, {160, 400}, {400, 160},
                                 {161, 161}, {170, 300}, {300, 175}, {175, 175}, {176, 176},
                                 {200, 170}, {331, 177}, {353, 241}, {768, 512}};
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    const int w = sizes[z][0], h = sizes[z][1];
    const size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *a = malloc(n), *b = malloc(n);
    for (int kind = 0; kind < PAIR_KINDS; kind++) {
      make_pair(kind, w, h, 77000u + 100u * z + (uint64_t)kind, a, b);
      check_full_pair(a, b, w, h, pair_names[kind]);
    }
    check_full_pair(a, a, w, h, "identical"); /* PSNR at the cap, SSIM 1 */
    free(a);
    free(b);
  }
  uint64_t s = 11;
  for (int r = 0; r < 40; r++) { /* random sizes on both sides of every threshold */
    const int w = rng_int(&s, 1, 260), h = rng_int(&s, 1, 260),
              kind = rng_int(&s, 0, PAIR_KINDS - 1);
    const size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *a = malloc(n), *b = malloc(n);
    make_pair(kind, w, h, rng_next(&s), a, b);
    check_full_pair(a, b, w, h, pair_names[kind]);
    free(a);
    free(b);
  }
  /* Invalid arguments: all four NAN, errno EINVAL, as from the separate calls. */
  uint8_t px[3 * 16 * 16] = {0};
  static const int bad[][2] = {{0, 5}, {5, 0}, {-20, 20}, {20, -1}, {1 << 30, 1 << 30}};
  for (size_t z = 0; z < sizeof bad / sizeof bad[0] + 2; z++) {
    const int nul = z >= sizeof bad / sizeof bad[0];
    const int w = nul ? 16 : bad[z][0], h = nul ? 16 : bad[z][1];
    const uint8_t *a = nul && z % 2 ? NULL : px, *b = nul && z % 2 == 0 ? NULL : px;
    metrics_full f = {0.0, 0.0, 0.0, 0.0};
    errno = 0;
    metrics_full_rgb8(a, b, w, h, &f);
    CHECK(errno == EINVAL && isnan(f.mse) && isnan(f.psnr) && isnan(f.ssim) && isnan(f.ms_ssim),
          "full with invalid arguments (%p %p %dx%d): errno %d, %g %g %g %g", (const void *)a,
          (const void *)b, w, h, errno, f.mse, f.psnr, f.ssim, f.ms_ssim);
  }
  printf("combined metrics_full_rgb8: %d image pairs x %d kernel sets, bit-identical to the "
         "separate calls\n",
         g_full_pairs, g_nsets);
}

/* ---- down-sampling kernels ----------------------------------------------------------------- */

/* Every set's down_u8 / down_f64 against the scalar ones, bit for bit, on rows allocated to the
 * exact size the kernel contract promises (so ASan catches any read or write past it). */
static void test_down_kernels(void) {
  metrics_kernels scalar;
  metrics_kernels_init_scalar(&scalar);
  uint64_t s = 23;
  for (int n = 0; n <= 70; n++) {
    for (int c = 0; c < 3; c++) {
      /* Two rows of 2n RGB pixels; the kernel gets the channel's byte of their first pixel. */
      uint8_t *r0 = malloc(6 * (size_t)n + 1), *r1 = malloc(6 * (size_t)n + 1);
      double *f0 = malloc((n ? 2 * (size_t)n : 1) * sizeof *f0); /* exactly 2n */
      double *f1 = malloc((n ? 2 * (size_t)n : 1) * sizeof *f1);
      double *want = malloc(((size_t)n + 1) * sizeof *want);
      double *got = malloc(((size_t)n + 1) * sizeof *got);
      for (int i = 0; i < 6 * n; i++) {
        r0[i] = (uint8_t)rng_int(&s, 0, 255);
        r1[i] = (uint8_t)(rng_int(&s, 0, 3) ? rng_int(&s, 0, 255) : 255);
      }
      for (int i = 0; i < 2 * n; i++) { /* values whose sums round: order matters */
        f0[i] = (double)rng_next(&s) / 1e17 + 1e-3 * (double)rng_int(&s, 0, 255);
        f1[i] = (double)rng_int(&s, 0, 255) + (double)rng_next(&s) / 3e19;
      }
      scalar.down_f64(f0, f1, n, want);
      for (int j = 0; j < n; j++) /* the documented order */
        CHECK(same_double(want[j],
                          0.25 * (((f0[2 * j] + f0[2 * j + 1]) + f1[2 * j]) + f1[2 * j + 1])),
              "scalar down_f64 order, n %d j %d", n, j);
      for (int si = 0; si < g_nsets; si++) {
        memset(got, 0, ((size_t)n + 1) * sizeof *got);
        g_sets[si].down_f64(f0, f1, n, got);
        CHECK(memcmp(got, want, (size_t)n * sizeof *got) == 0 && got[n] == 0.0,
              "%s down_f64 n %d differs from scalar", g_sets[si].name, n);
      }
      if (n > 0) {
        /* Exactly 6n - c bytes from the channel's byte: shift the rows so they end at the end
         * of the allocation. */
        uint8_t *e0 = malloc(6 * (size_t)n - (size_t)c), *e1 = malloc(6 * (size_t)n - (size_t)c);
        memcpy(e0, r0 + c, 6 * (size_t)n - (size_t)c);
        memcpy(e1, r1 + c, 6 * (size_t)n - (size_t)c);
        scalar.down_u8(e0, e1, n, want);
        for (int j = 0; j < n; j++)
          CHECK(want[j] == 0.25 * (double)(e0[6 * j] + e0[6 * j + 3] + e1[6 * j] + e1[6 * j + 3]),
                "scalar down_u8, n %d j %d", n, j);
        for (int si = 0; si < g_nsets; si++) {
          memset(got, 0, ((size_t)n + 1) * sizeof *got);
          g_sets[si].down_u8(e0, e1, n, got);
          CHECK(memcmp(got, want, (size_t)n * sizeof *got) == 0 && got[n] == 0.0,
                "%s down_u8 n %d channel %d differs from scalar", g_sets[si].name, n, c);
        }
        free(e0);
        free(e1);
      }
      free(r0);
      free(r1);
      free(f0);
      free(f1);
      free(want);
      free(got);
    }
  }
}

static void test_fast_vs_ref(void) {
  static const int sizes[][2] = {{11, 11},   {32, 32},   {33, 47},   {47, 33},
                                 {12, 19},   {75, 20},   {200, 170}, {161, 161},
                                 {170, 300}, {300, 175}, {176, 176}, {331, 177}};
  static const char *const names[] = {"scalar", "avx2", "avx512"};
  for (size_t si = 0; si < sizeof names / sizeof names[0]; si++) {
    if (metrics_kernels_by_name(names[si], &g_sets[g_nsets]) == 0)
      g_nsets++;
    else
      printf("kernel set %s: not supported here, not tested\n", names[si]);
  }
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
    for (int kind = 0; kind < PAIR_KINDS; kind++)
      compare_pair(kind, sizes[z][0], sizes[z][1], 1000u * z + (uint64_t)kind);
  /* More random pairs at small sizes, where vector tails, strips and ring wrap-around vary. */
  uint64_t s = 7;
  for (int r = 0; r < 60; r++)
    compare_pair(rng_int(&s, 0, PAIR_KINDS - 1), rng_int(&s, 11, 90), rng_int(&s, 11, 40),
                 rng_next(&s));
  /* Kodak size: the reference is slow, so two kinds only. */
  compare_pair(PAIR_NOISY_COPY, 768, 512, 99);
  compare_pair(PAIR_BLOCKY, 768, 512, 98);
  for (int si = 0; si < g_nsets; si++)
    printf("kernel set %s: max |fast - ref| ssim %.3g, ms-ssim %.3g (tolerance %g)\n",
           g_sets[si].name, g_max_diff_ssim[si], g_max_diff_ms[si], FAST_VS_REF_TOL);
  printf("dispatched kernel set: %s\n", metrics_kernel_name());
}

/* ---- closed forms and identities ----------------------------------------------------------- */

static void test_gauss_weights(void) {
  static const double w[METRICS_WIN] = METRICS_GAUSS_WEIGHTS;
  double e[METRICS_WIN], sum = 0.0, wsum = 0.0;
  for (int k = 0; k < METRICS_WIN; k++) {
    const double x = k - METRICS_RADIUS;
    e[k] = exp(-x * x / (2.0 * 1.5 * 1.5));
    sum += e[k];
  }
  for (int k = 0; k < METRICS_WIN; k++) {
    CHECK(close_to(w[k], e[k] / sum, 1e-16), "weight %d: %.17g vs %.17g", k, w[k], e[k] / sum);
    wsum += w[k];
  }
  CHECK(close_to(wsum, 1.0, 1e-15), "weights sum to %.17g", wsum);
}

static void test_identical(void) {
  static const int sizes[][2] = {{11, 11}, {32, 32}, {200, 170}, {161, 170}, {768, 512}};
  for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
    const int w = sizes[z][0], h = sizes[z][1];
    const size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *a = calloc(n, 1), *b = calloc(n, 1);
    make_pair(PAIR_NOISY_COPY, w, h, 5 + z, a, b);
    CHECK(metrics_mse_rgb8(a, a, w, h) == 0.0, "mse of identical");
    CHECK(metrics_psnr_from_mse(metrics_mse_rgb8(a, a, w, h)) == METRICS_PSNR_CAP_DB,
          "psnr of identical");
    CHECK(close_to(metrics_ssim_rgb8(a, a, w, h), 1.0, 1e-12), "ssim of identical %dx%d: %.17g", w,
          h, metrics_ssim_rgb8(a, a, w, h));
    CHECK(close_to(metrics_ssim_rgb8_ref(a, a, w, h), 1.0, 1e-12), "ref ssim of identical");
    if (w >= METRICS_MS_SSIM_MIN_SIDE && h >= METRICS_MS_SSIM_MIN_SIDE) {
      CHECK(close_to(metrics_ms_ssim_rgb8(a, a, w, h), 1.0, 1e-12),
            "ms-ssim of identical %dx%d: %.17g", w, h, metrics_ms_ssim_rgb8(a, a, w, h));
      CHECK(close_to(metrics_ms_ssim_rgb8_ref(a, a, w, h), 1.0, 1e-12), "ref ms-ssim of identical");
    }
    /* symmetry */
    CHECK(close_to(metrics_ssim_rgb8(a, b, w, h), metrics_ssim_rgb8(b, a, w, h), 1e-14),
          "ssim symmetry");
    free(a);
    free(b);
  }
}

static void test_psnr_closed_form(void) {
  const int w = 37, h = 23;
  const size_t n = (size_t)w * (size_t)h * 3;
  uint8_t *a = calloc(n, 1), *b = calloc(n, 1);
  uint64_t s = 3;
  for (int d = 1; d <= 64; d *= 2) {
    for (size_t p = 0; p < n; p++) {
      a[p] = (uint8_t)rng_int(&s, 0, 255 - d);
      b[p] = (uint8_t)(a[p] + d);
    }
    const double want_psnr = 10.0 * log10(65025.0 / ((double)d * d));
    CHECK(metrics_mse_rgb8(a, b, w, h) == (double)d * d, "offset %d: mse %.17g", d,
          metrics_mse_rgb8(a, b, w, h));
    CHECK(metrics_mse_rgb8_ref(a, b, w, h) == (double)d * d, "offset %d: ref mse", d);
    CHECK(close_to(metrics_psnr_from_mse(metrics_mse_rgb8(a, b, w, h)), want_psnr, 1e-12),
          "offset %d: psnr %.17g vs %.17g", d, metrics_psnr_from_mse(metrics_mse_rgb8(a, b, w, h)),
          want_psnr);
  }
  /* One byte off by 3: MSE 9/n, exact in the integer SSE. */
  const int bw = 400, bh = 300;
  const size_t bn = (size_t)bw * (size_t)bh * 3;
  uint8_t *c = calloc(bn, 1), *e = calloc(bn, 1);
  e[bn / 2] = 3;
  CHECK(metrics_mse_rgb8(c, e, bw, bh) == 9.0 / (double)bn, "single byte mse");
  /* 10*log10(65025*n/9) = 94.2 dB < cap */
  CHECK(close_to(metrics_psnr_from_mse(metrics_mse_rgb8(c, e, bw, bh)),
                 10.0 * log10(65025.0 * (double)bn / 9.0), 1e-9),
        "single byte psnr");
  e[bn / 2] = 1; /* 103.7 dB: capped */
  CHECK(metrics_psnr_from_mse(metrics_mse_rgb8(c, e, bw, bh)) == METRICS_PSNR_CAP_DB,
        "tiny mse is capped");
  /* Largest possible error: all 0 vs all 255 (also exercises the 64-bit flush of the SIMD sum). */
  memset(e, 255, bn);
  CHECK(metrics_mse_rgb8(c, e, bw, bh) == 65025.0, "max mse %.17g", metrics_mse_rgb8(c, e, bw, bh));
  CHECK(metrics_psnr_from_mse(65025.0) == 0.0, "psnr at mse 255^2");
  CHECK(metrics_psnr_from_mse(0.0) == METRICS_PSNR_CAP_DB, "psnr cap");
  CHECK(isnan(metrics_psnr_from_mse(-1.0)), "psnr of negative mse");
  CHECK(isnan(metrics_psnr_from_mse(NAN)), "psnr of NAN mse");
  free(a);
  free(b);
  free(c);
  free(e);
}

/* Flat images have zero variance, so SSIM reduces to the luminance term exactly:
 * (2*u*v + C1) / (u^2 + v^2 + C1); MS-SSIM to that to the power w5 (cs = 1 at every scale). */
static void test_flat_closed_form(void) {
  static const int vals[][2] = {{255, 254}, {0, 1}, {0, 255}, {128, 100}, {7, 7}};
  const int w = 176, h = 180;
  const size_t n = (size_t)w * (size_t)h * 3;
  uint8_t *a = calloc(n, 1), *b = calloc(n, 1);
  for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
    const double u = vals[v][0], t = vals[v][1];
    memset(a, vals[v][0], n);
    memset(b, vals[v][1], n);
    const double lum = (2.0 * u * t + METRICS_C1) / (u * u + t * t + METRICS_C1);
    CHECK(close_to(metrics_ssim_rgb8(a, b, w, h), lum, 1e-12), "flat %g/%g: ssim %.17g vs %.17g", u,
          t, metrics_ssim_rgb8(a, b, w, h), lum);
    CHECK(close_to(metrics_ssim_rgb8_ref(a, b, w, h), lum, 1e-12), "flat ref ssim");
    CHECK(close_to(metrics_ms_ssim_rgb8(a, b, w, h), pow(lum, 0.1333), 1e-12),
          "flat %g/%g: ms-ssim %.17g vs %.17g", u, t, metrics_ms_ssim_rgb8(a, b, w, h),
          pow(lum, 0.1333));
  }
  free(a);
  free(b);
}

static void test_nan_cases(void) {
  uint8_t *a = calloc(400 * 400 * 3, 1), *b = calloc(400 * 400 * 3, 1);
  CHECK(isnan(metrics_ssim_rgb8(a, b, 10, 11)), "ssim 10x11");
  CHECK(isnan(metrics_ssim_rgb8(a, b, 11, 10)), "ssim 11x10");
  CHECK(isnan(metrics_ssim_rgb8_ref(a, b, 10, 11)), "ref ssim 10x11");
  CHECK(!isnan(metrics_ssim_rgb8(a, b, 11, 11)), "ssim 11x11 defined");
  CHECK(isnan(metrics_ms_ssim_rgb8(a, b, 160, 400)), "ms-ssim 160x400");
  CHECK(isnan(metrics_ms_ssim_rgb8(a, b, 400, 160)), "ms-ssim 400x160");
  CHECK(isnan(metrics_ms_ssim_rgb8_ref(a, b, 160, 161)), "ref ms-ssim 160x161");
  CHECK(!isnan(metrics_ms_ssim_rgb8(a, b, 161, 161)), "ms-ssim 161x161 defined");
  CHECK(isnan(metrics_ms_ssim_rgb8(a, b, 32, 32)), "ms-ssim 32x32");
  errno = 0;
  CHECK(isnan(metrics_ssim_rgb8(NULL, b, 32, 32)) && errno == EINVAL, "ssim NULL");
  errno = 0;
  CHECK(isnan(metrics_ms_ssim_rgb8(a, NULL, 200, 200)) && errno == EINVAL, "ms-ssim NULL");
  errno = 0;
  CHECK(isnan(metrics_mse_rgb8(a, b, 0, 5)) && errno == EINVAL, "mse width 0");
  errno = 0;
  CHECK(isnan(metrics_mse_rgb8_ref(a, b, 5, -1)) && errno == EINVAL, "ref mse height -1");
  errno = 0;
  CHECK(isnan(metrics_ssim_rgb8(a, b, -20, 20)) && errno == EINVAL, "ssim negative width");
  errno = 0;
  CHECK(isnan(metrics_ssim_rgb8_ref(a, b, 1 << 30, 1 << 30)) && errno == EINVAL,
        "ssim absurd size");
  free(a);
  free(b);
}

int main(void) {
  test_concurrent_first_use();
  test_gauss_weights();
  test_identical();
  test_psnr_closed_form();
  test_flat_closed_form();
  test_nan_cases();
  test_fast_vs_ref();
  test_full_vs_separate();
  test_down_kernels();
  return sb_test_status("test_metrics");
}
