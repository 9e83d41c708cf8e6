/* AVX-512F kernels (8 doubles per vector). Compiled with target attributes so that the build
 * needs no -mavx512f; only called after metrics_cpu_has_avx512() said yes. The sse_u8 entry is
 * left to the AVX2 set: byte arithmetic would need AVX-512BW and the loop is memory bound; so are
 * the down-sampling entries (a small share of the time, and exact in any set).
 * Scratch rows are 64-byte aligned and padded (metrics_internal.h), so loops run over whole
 * vectors without tails, except where they read image data or count results. */
#include "metrics_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX512_FN __attribute__((target("avx512f")))

static const double gauss_w[METRICS_WIN] = METRICS_GAUSS_WEIGHTS;

/* pshufb masks that gather every third byte of a 48-byte block (see the AVX2 file). */
static const int8_t deint3_mask[3][16] = {
    {0, 3, 6, 9, 12, 15, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128},
    {-128, -128, -128, -128, -128, -128, 2, 5, 8, 11, 14, -128, -128, -128, -128, -128},
    {-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, 1, 4, 7, 10, 13}};

AVX512_FN static inline __m128i deint3(const uint8_t *p) {
  const __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)p);
  const __m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
  const __m128i b2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
  const __m128i m0 = _mm_loadu_si128((const __m128i *)(const void *)deint3_mask[0]);
  const __m128i m1 = _mm_loadu_si128((const __m128i *)(const void *)deint3_mask[1]);
  const __m128i m2 = _mm_loadu_si128((const __m128i *)(const void *)deint3_mask[2]);
  return _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(b0, m0), _mm_shuffle_epi8(b1, m1)),
                      _mm_shuffle_epi8(b2, m2));
}

AVX512_FN static inline void store_moments(double *const out[METRICS_NMOM], int j, __m512d x,
                                           __m512d y) {
  _mm512_store_pd(out[0] + j, x);
  _mm512_store_pd(out[1] + j, y);
  _mm512_store_pd(out[2] + j, _mm512_mul_pd(x, x));
  _mm512_store_pd(out[3] + j, _mm512_mul_pd(y, y));
  _mm512_store_pd(out[4] + j, _mm512_mul_pd(x, y));
}

AVX512_FN static void prep_u8_avx512(const uint8_t *a, const uint8_t *b, int n,
                                     double *const out[METRICS_NMOM]) {
  int j = 0;
  /* j + 17 <= n keeps the 48-byte block read inside the row (see the AVX2 file). */
  for (; j + 17 <= n; j += 16) {
    const __m512i ia = _mm512_cvtepu8_epi32(deint3(a + 3 * j));
    const __m512i ib = _mm512_cvtepu8_epi32(deint3(b + 3 * j));
    store_moments(out, j, _mm512_cvtepi32_pd(_mm512_castsi512_si256(ia)),
                  _mm512_cvtepi32_pd(_mm512_castsi512_si256(ib)));
    store_moments(out, j + 8, _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(ia, 1)),
                  _mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(ib, 1)));
  }
  for (; j < n; j++) {
    const double x = a[3 * j], y = b[3 * j];
    out[0][j] = x;
    out[1][j] = y;
    out[2][j] = x * x;
    out[3][j] = y * y;
    out[4][j] = x * y;
  }
}

AVX512_FN static void prep_f64_avx512(const double *x, const double *y, int n,
                                      double *const out[METRICS_NMOM]) {
  int j = 0;
  for (; j + 8 <= n; j += 8)
    store_moments(out, j, _mm512_loadu_pd(x + j), _mm512_loadu_pd(y + j));
  for (; j < n; j++) {
    out[0][j] = x[j];
    out[1][j] = y[j];
    out[2][j] = x[j] * x[j];
    out[3][j] = y[j] * y[j];
    out[4][j] = x[j] * y[j];
  }
}

/* Elements k..k+7 of the 16-element concatenation lo:hi (valignq). */
#define SHIFT(hi, lo, k)                                                                           \
  _mm512_castsi512_pd(_mm512_alignr_epi64(_mm512_castpd_si512(hi), _mm512_castpd_si512(lo), (k)))

AVX512_FN static void hpass_avx512(const double *const in[METRICS_NMOM],
                                   double *const out[METRICS_NMOM], int n) {
  __m512d w[METRICS_WIN];
  for (int k = 0; k < METRICS_WIN; k++)
    w[k] = _mm512_set1_pd(gauss_w[k]);
  for (int m = 0; m < METRICS_NMOM; m++) {
    const double *s = in[m];
    double *d = out[m];
    /* Shifted windows come from 3 aligned loads and in-register shifts: unaligned 64-byte
     * loads would all split cache lines. Two partial sums shorten the FMA chains. */
    for (int i = 0; i < n; i += 8) {
      const __m512d a = _mm512_load_pd(s + i), b = _mm512_load_pd(s + i + 8);
      const __m512d c = _mm512_load_pd(s + i + 16);
      __m512d acc0 = _mm512_mul_pd(w[0], a);
      __m512d acc1 = _mm512_mul_pd(w[1], SHIFT(b, a, 1));
      acc0 = _mm512_fmadd_pd(w[2], SHIFT(b, a, 2), acc0);
      acc1 = _mm512_fmadd_pd(w[3], SHIFT(b, a, 3), acc1);
      acc0 = _mm512_fmadd_pd(w[4], SHIFT(b, a, 4), acc0);
      acc1 = _mm512_fmadd_pd(w[5], SHIFT(b, a, 5), acc1);
      acc0 = _mm512_fmadd_pd(w[6], SHIFT(b, a, 6), acc0);
      acc1 = _mm512_fmadd_pd(w[7], SHIFT(b, a, 7), acc1);
      acc0 = _mm512_fmadd_pd(w[8], b, acc0);
      acc1 = _mm512_fmadd_pd(w[9], SHIFT(c, b, 1), acc1);
      acc0 = _mm512_fmadd_pd(w[10], SHIFT(c, b, 2), acc0);
      _mm512_store_pd(d + i, _mm512_add_pd(acc0, acc1));
    }
  }
}

AVX512_FN static void vfilter_avx512(const double *const rows[METRICS_WIN], int n, double *out) {
  int i = 0;
  /* Four output vectors per step: enough independent FMA chains to cover the latency, and each
   * row pointer is loaded once per 32 outputs. */
  for (; i + 32 <= n; i += 32) {
    __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
    __m512d acc2 = _mm512_setzero_pd(), acc3 = _mm512_setzero_pd();
    for (int k = 0; k < METRICS_WIN; k++) {
      const __m512d w = _mm512_set1_pd(gauss_w[k]);
      const double *r = rows[k] + i;
      acc0 = _mm512_fmadd_pd(w, _mm512_load_pd(r), acc0);
      acc1 = _mm512_fmadd_pd(w, _mm512_load_pd(r + 8), acc1);
      acc2 = _mm512_fmadd_pd(w, _mm512_load_pd(r + 16), acc2);
      acc3 = _mm512_fmadd_pd(w, _mm512_load_pd(r + 24), acc3);
    }
    _mm512_store_pd(out + i, acc0);
    _mm512_store_pd(out + i + 8, acc1);
    _mm512_store_pd(out + i + 16, acc2);
    _mm512_store_pd(out + i + 24, acc3);
  }
  for (; i < n; i += 8) { /* whole vectors cover the rest (rows are padded to 8) */
    __m512d acc = _mm512_setzero_pd();
    for (int k = 0; k < METRICS_WIN; k++)
      acc = _mm512_fmadd_pd(_mm512_set1_pd(gauss_w[k]), _mm512_load_pd(rows[k] + i), acc);
    _mm512_store_pd(out + i, acc);
  }
}

AVX512_FN static void ssim_reduce_avx512(const double *const mom[METRICS_NMOM], int n,
                                         double *ssim_sum, double *cs_sum) {
  const __m512d two = _mm512_set1_pd(2.0);
  const __m512d c1 = _mm512_set1_pd(METRICS_C1), c2 = _mm512_set1_pd(METRICS_C2);
  __m512d ssim_acc = _mm512_setzero_pd(), cs_acc = _mm512_setzero_pd();
  for (int i = 0; i < n; i += 8) {
    /* Padding lanes (>= n) hold meaningless values: leave them out of the sums. */
    const __mmask8 keep = n - i >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n - i)) - 1u);
    const __m512d mx = _mm512_load_pd(mom[0] + i), my = _mm512_load_pd(mom[1] + i);
    const __m512d mxy = _mm512_mul_pd(mx, my);
    const __m512d sxx = _mm512_fnmadd_pd(mx, mx, _mm512_load_pd(mom[2] + i));
    const __m512d syy = _mm512_fnmadd_pd(my, my, _mm512_load_pd(mom[3] + i));
    const __m512d sxy = _mm512_sub_pd(_mm512_load_pd(mom[4] + i), mxy);
    const __m512d a1 = _mm512_fmadd_pd(two, mxy, c1);
    const __m512d b1 = _mm512_add_pd(_mm512_fmadd_pd(mx, mx, _mm512_mul_pd(my, my)), c1);
    const __m512d a2 = _mm512_fmadd_pd(two, sxy, c2);
    const __m512d b2 = _mm512_add_pd(_mm512_add_pd(sxx, syy), c2);
    const __m512d ssim = _mm512_div_pd(_mm512_mul_pd(a1, a2), _mm512_mul_pd(b1, b2));
    const __m512d cs = _mm512_div_pd(a2, b2);
    ssim_acc = _mm512_mask_add_pd(ssim_acc, keep, ssim_acc, ssim);
    cs_acc = _mm512_mask_add_pd(cs_acc, keep, cs_acc, cs);
  }
  *ssim_sum += _mm512_reduce_add_pd(ssim_acc);
  *cs_sum += _mm512_reduce_add_pd(cs_acc);
}

int metrics_cpu_has_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

void metrics_kernels_init_avx512(metrics_kernels *k) {
  k->name = "avx512";
  k->prep_u8 = prep_u8_avx512;
  k->prep_f64 = prep_f64_avx512;
  k->hpass = hpass_avx512;
  k->vfilter = vfilter_avx512;
  k->ssim_reduce = ssim_reduce_avx512;
}

#else /* not x86: no SIMD set */

int metrics_cpu_has_avx512(void) { return 0; }
void metrics_kernels_init_avx512(metrics_kernels *k) { (void)k; }

#endif
