/* AVX2 + FMA kernels (4 doubles per vector). Compiled with target attributes so that the build
 * needs no -mavx2; only called after metrics_cpu_has_avx2() said yes. Scratch rows are 64-byte
 * aligned and padded (metrics_internal.h), so loops run over whole vectors without tails,
 * except where they read image data or count results. */
#include "metrics_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define AVX2_FN __attribute__((target("avx2,fma")))

static const double gauss_w[METRICS_WIN] = METRICS_GAUSS_WEIGHTS;

/* pshufb masks that gather every third byte of a 48-byte block: block q (16 bytes) supplies
 * output bytes i with 0 <= 3i - 16q < 16; the other lanes are zeroed (0x80). */
static const int8_t deint3_mask[3][16] = {
    {0, 3, 6, 9, 12, 15, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128},
    {-128, -128, -128, -128, -128, -128, 2, 5, 8, 11, 14, -128, -128, -128, -128, -128},
    {-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, 1, 4, 7, 10, 13}};

/* 16 bytes p[0], p[3], ..., p[45]. */
AVX2_FN static inline __m128i deint3(const uint8_t *p) {
  const __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)p);
  const __m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
  const __m128i b2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
  const __m128i m0 = _mm_loadu_si128((const __m128i *)(const void *)deint3_mask[0]);
  const __m128i m1 = _mm_loadu_si128((const __m128i *)(const void *)deint3_mask[1]);
  const __m128i m2 = _mm_loadu_si128((const __m128i *)(const void *)deint3_mask[2]);
  return _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(b0, m0), _mm_shuffle_epi8(b1, m1)),
                      _mm_shuffle_epi8(b2, m2));
}

/* The low 4 bytes of v as doubles. */
AVX2_FN static inline __m256d cvt4(__m128i v) { return _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(v)); }

AVX2_FN static inline void store_moments(double *const out[METRICS_NMOM], int j, __m256d x,
                                         __m256d y) {
  _mm256_store_pd(out[0] + j, x);
  _mm256_store_pd(out[1] + j, y);
  _mm256_store_pd(out[2] + j, _mm256_mul_pd(x, x));
  _mm256_store_pd(out[3] + j, _mm256_mul_pd(y, y));
  _mm256_store_pd(out[4] + j, _mm256_mul_pd(x, y));
}

AVX2_FN static void prep_u8_avx2(const uint8_t *a, const uint8_t *b, int n,
                                 double *const out[METRICS_NMOM]) {
  int j = 0;
  /* A block reads bytes 3j .. 3j+47 from the channel's byte; with that byte up to 2 past the
   * pixel start, j + 17 <= n keeps the read inside the row. */
  for (; j + 17 <= n; j += 16) {
    const __m128i va = deint3(a + 3 * j), vb = deint3(b + 3 * j);
    store_moments(out, j, cvt4(va), cvt4(vb));
    store_moments(out, j + 4, cvt4(_mm_srli_si128(va, 4)), cvt4(_mm_srli_si128(vb, 4)));
    store_moments(out, j + 8, cvt4(_mm_srli_si128(va, 8)), cvt4(_mm_srli_si128(vb, 8)));
    store_moments(out, j + 12, cvt4(_mm_srli_si128(va, 12)), cvt4(_mm_srli_si128(vb, 12)));
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

AVX2_FN static void prep_f64_avx2(const double *x, const double *y, int n,
                                  double *const out[METRICS_NMOM]) {
  int j = 0;
  for (; j + 4 <= n; j += 4)
    store_moments(out, j, _mm256_loadu_pd(x + j), _mm256_loadu_pd(y + j));
  for (; j < n; j++) {
    out[0][j] = x[j];
    out[1][j] = y[j];
    out[2][j] = x[j] * x[j];
    out[3][j] = y[j] * y[j];
    out[4][j] = x[j] * y[j];
  }
}

/* Windows shifted by 1, 2, 3 elements within the 8-element concatenation of x then y. */
AVX2_FN static inline void shifts3(__m256d x, __m256d y, __m256d *s1, __m256d *s2, __m256d *s3) {
  *s2 = _mm256_permute2f128_pd(x, y, 0x21); /* x2 x3 y0 y1 */
  *s1 = _mm256_shuffle_pd(x, *s2, 0x5);     /* x1 x2 x3 y0 */
  *s3 = _mm256_shuffle_pd(*s2, y, 0x5);     /* x3 y0 y1 y2 */
}

AVX2_FN static void hpass_avx2(const double *const in[METRICS_NMOM],
                               double *const out[METRICS_NMOM], int n) {
  __m256d w[METRICS_WIN];
  for (int k = 0; k < METRICS_WIN; k++)
    w[k] = _mm256_set1_pd(gauss_w[k]);
  for (int m = 0; m < METRICS_NMOM; m++) {
    const double *s = in[m];
    double *d = out[m];
    /* Two output vectors per step: independent FMA chains hide the latency. The 15 shifted
     * windows s[i+k .. i+k+3], k = 0..14, come from 5 aligned loads and in-register shifts:
     * unaligned loads at every k split a cache line 3 times in 8. (Reads reach s[i + 19] <
     * ROUND8(n) + 16, inside the padded input row.) */
    for (int i = 0; i < n; i += 8) {
      __m256d b[5], v[16]; /* v[k] = s[i+k .. i+k+3] */
      for (int q = 0; q < 5; q++)
        b[q] = _mm256_load_pd(s + i + 4 * q);
      for (int q = 0; q < 4; q++) {
        v[4 * q] = b[q];
        shifts3(b[q], b[q + 1], &v[4 * q + 1], &v[4 * q + 2], &v[4 * q + 3]);
      }
      __m256d acc0 = _mm256_mul_pd(w[0], v[0]);
      __m256d acc1 = _mm256_mul_pd(w[0], v[4]);
      for (int k = 1; k < METRICS_WIN; k++) {
        acc0 = _mm256_fmadd_pd(w[k], v[k], acc0);
        acc1 = _mm256_fmadd_pd(w[k], v[4 + k], acc1);
      }
      _mm256_store_pd(d + i, acc0);
      _mm256_store_pd(d + i + 4, acc1);
    }
  }
}

AVX2_FN static void vfilter_avx2(const double *const rows[METRICS_WIN], int n, double *out) {
  int i = 0;
  /* Four output vectors per step: independent FMA chains cover the latency. */
  for (; i + 16 <= n; i += 16) {
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    __m256d acc2 = _mm256_setzero_pd(), acc3 = _mm256_setzero_pd();
    for (int k = 0; k < METRICS_WIN; k++) {
      const __m256d w = _mm256_set1_pd(gauss_w[k]);
      const double *r = rows[k] + i;
      acc0 = _mm256_fmadd_pd(w, _mm256_load_pd(r), acc0);
      acc1 = _mm256_fmadd_pd(w, _mm256_load_pd(r + 4), acc1);
      acc2 = _mm256_fmadd_pd(w, _mm256_load_pd(r + 8), acc2);
      acc3 = _mm256_fmadd_pd(w, _mm256_load_pd(r + 12), acc3);
    }
    _mm256_store_pd(out + i, acc0);
    _mm256_store_pd(out + i + 4, acc1);
    _mm256_store_pd(out + i + 8, acc2);
    _mm256_store_pd(out + i + 12, acc3);
  }
  for (; i < n; i += 4) { /* whole vectors cover the rest (rows are padded to 8) */
    __m256d acc = _mm256_setzero_pd();
    for (int k = 0; k < METRICS_WIN; k++)
      acc = _mm256_fmadd_pd(_mm256_set1_pd(gauss_w[k]), _mm256_load_pd(rows[k] + i), acc);
    _mm256_store_pd(out + i, acc);
  }
}

/* SSIM and cs map values of 4 positions from their filtered moments. */
AVX2_FN static inline void ssim_cs4(const double *const mom[METRICS_NMOM], int i, __m256d *ssim,
                                    __m256d *cs) {
  const __m256d two = _mm256_set1_pd(2.0);
  const __m256d c1 = _mm256_set1_pd(METRICS_C1), c2 = _mm256_set1_pd(METRICS_C2);
  const __m256d mx = _mm256_load_pd(mom[0] + i), my = _mm256_load_pd(mom[1] + i);
  const __m256d mxy = _mm256_mul_pd(mx, my);
  const __m256d sxx = _mm256_fnmadd_pd(mx, mx, _mm256_load_pd(mom[2] + i));
  const __m256d syy = _mm256_fnmadd_pd(my, my, _mm256_load_pd(mom[3] + i));
  const __m256d sxy = _mm256_sub_pd(_mm256_load_pd(mom[4] + i), mxy);
  const __m256d a1 = _mm256_fmadd_pd(two, mxy, c1);
  const __m256d b1 = _mm256_add_pd(_mm256_fmadd_pd(mx, mx, _mm256_mul_pd(my, my)), c1);
  const __m256d a2 = _mm256_fmadd_pd(two, sxy, c2);
  const __m256d b2 = _mm256_add_pd(_mm256_add_pd(sxx, syy), c2);
  *ssim = _mm256_div_pd(_mm256_mul_pd(a1, a2), _mm256_mul_pd(b1, b2));
  *cs = _mm256_div_pd(a2, b2);
}

AVX2_FN static double hsum256(__m256d v) {
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
  return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

AVX2_FN static void ssim_reduce_avx2(const double *const mom[METRICS_NMOM], int n, double *ssim_sum,
                                     double *cs_sum) {
  __m256d ssim_acc = _mm256_setzero_pd(), cs_acc = _mm256_setzero_pd();
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256d ssim, cs;
    ssim_cs4(mom, i, &ssim, &cs);
    ssim_acc = _mm256_add_pd(ssim_acc, ssim);
    cs_acc = _mm256_add_pd(cs_acc, cs);
  }
  if (i < n) { /* padding lanes hold meaningless values: keep only lanes < n */
    const __m256d keep = _mm256_castsi256_pd(
        _mm256_cmpgt_epi64(_mm256_set1_epi64x(n - i), _mm256_setr_epi64x(0, 1, 2, 3)));
    __m256d ssim, cs;
    ssim_cs4(mom, i, &ssim, &cs);
    ssim_acc = _mm256_add_pd(ssim_acc, _mm256_and_pd(ssim, keep));
    cs_acc = _mm256_add_pd(cs_acc, _mm256_and_pd(cs, keep));
  }
  *ssim_sum += hsum256(ssim_acc);
  *cs_sum += hsum256(cs_acc);
}

/* Widen 8 x u32 partial sums into 4 x u64. */
AVX2_FN static inline __m256i widen_add(__m256i acc64, __m256i acc32) {
  acc64 = _mm256_add_epi64(acc64, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(acc32)));
  return _mm256_add_epi64(acc64, _mm256_cvtepu32_epi64(_mm256_extracti128_si256(acc32, 1)));
}

AVX2_FN static uint64_t sse_u8_avx2(const uint8_t *a, const uint8_t *b, size_t n) {
  __m256i acc64 = _mm256_setzero_si256();
  size_t i = 0;
  while (i + 32 <= n) {
    /* Each 32-bit lane gains at most 2 * 2 * 255^2 = 260100 per step, so 8192 steps stay
     * below 2^31; then the lanes are flushed into 64-bit sums. */
    const size_t steps = (n - i) / 32 < 8192 ? (n - i) / 32 : 8192;
    __m256i acc32 = _mm256_setzero_si256();
    for (size_t s = 0; s < steps; s++, i += 32) {
      const __m256i va = _mm256_loadu_si256((const __m256i *)(const void *)(a + i));
      const __m256i vb = _mm256_loadu_si256((const __m256i *)(const void *)(b + i));
      const __m256i dlo = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm256_castsi256_si128(va)),
                                           _mm256_cvtepu8_epi16(_mm256_castsi256_si128(vb)));
      const __m256i dhi = _mm256_sub_epi16(_mm256_cvtepu8_epi16(_mm256_extracti128_si256(va, 1)),
                                           _mm256_cvtepu8_epi16(_mm256_extracti128_si256(vb, 1)));
      acc32 = _mm256_add_epi32(acc32, _mm256_madd_epi16(dlo, dlo));
      acc32 = _mm256_add_epi32(acc32, _mm256_madd_epi16(dhi, dhi));
    }
    acc64 = widen_add(acc64, acc32);
  }
  uint64_t lanes[4];
  _mm256_storeu_si256((__m256i *)(void *)lanes, acc64);
  uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; i++) {
    const int d = (int)a[i] - (int)b[i];
    sum += (uint64_t)(d * d);
  }
  return sum;
}

/* 2x2 box average of one channel of two RGB8 rows, 16 outputs per step: the channel samples of
 * 32 pixels per row (two deint3 blocks), pairs summed by pmaddubsw (<= 510), the two rows added
 * in 16 bits (<= 1020), then converted and scaled by 0.25. Exact, like the scalar code. */
AVX2_FN static void down_u8_avx2(const uint8_t *r0, const uint8_t *r1, int n, double *out) {
  const __m128i ones = _mm_set1_epi8(1);
  const __m256d quarter = _mm256_set1_pd(0.25);
  int j = 0;
  /* A step reads bytes 6j .. 6j+95 from the channel's byte (up to 2 past the pixel start);
   * j + 17 <= n keeps that inside the 2n pixels (6n bytes) the rows are known to hold. */
  for (; j + 17 <= n; j += 16) {
    const uint8_t *p0 = r0 + 6 * j, *p1 = r1 + 6 * j;
    const __m128i lo =
        _mm_add_epi16(_mm_maddubs_epi16(deint3(p0), ones), _mm_maddubs_epi16(deint3(p1), ones));
    const __m128i hi = _mm_add_epi16(_mm_maddubs_epi16(deint3(p0 + 48), ones),
                                     _mm_maddubs_epi16(deint3(p1 + 48), ones));
    const __m256i lo32 = _mm256_cvtepi16_epi32(lo), hi32 = _mm256_cvtepi16_epi32(hi);
    _mm256_storeu_pd(out + j,
                     _mm256_mul_pd(quarter, _mm256_cvtepi32_pd(_mm256_castsi256_si128(lo32))));
    _mm256_storeu_pd(out + j + 4,
                     _mm256_mul_pd(quarter, _mm256_cvtepi32_pd(_mm256_extracti128_si256(lo32, 1))));
    _mm256_storeu_pd(out + j + 8,
                     _mm256_mul_pd(quarter, _mm256_cvtepi32_pd(_mm256_castsi256_si128(hi32))));
    _mm256_storeu_pd(out + j + 12,
                     _mm256_mul_pd(quarter, _mm256_cvtepi32_pd(_mm256_extracti128_si256(hi32, 1))));
  }
  for (; j < n; j++)
    out[j] = 0.25 * (double)(r0[6 * j] + r0[6 * j + 3] + r1[6 * j] + r1[6 * j + 3]);
}

/* 2x2 box average of two double rows, 4 outputs per step, in the scalar code's exact order
 * ((r0[2j] + r0[2j+1]) + r1[2j]) + r1[2j+1]: hadd gives the first sums for outputs (0, 2, 1, 3),
 * unpacklo / unpackhi the even / odd elements of row 1 in the same lane order, and a final
 * permute restores 0, 1, 2, 3. */
AVX2_FN static void down_f64_avx2(const double *r0, const double *r1, int n, double *out) {
  const __m256d quarter = _mm256_set1_pd(0.25);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m256d a0 = _mm256_loadu_pd(r0 + 2 * j), a1 = _mm256_loadu_pd(r0 + 2 * j + 4);
    const __m256d b0 = _mm256_loadu_pd(r1 + 2 * j), b1 = _mm256_loadu_pd(r1 + 2 * j + 4);
    __m256d s = _mm256_hadd_pd(a0, a1);
    s = _mm256_add_pd(s, _mm256_unpacklo_pd(b0, b1));
    s = _mm256_add_pd(s, _mm256_unpackhi_pd(b0, b1));
    _mm256_storeu_pd(out + j, _mm256_permute4x64_pd(_mm256_mul_pd(quarter, s), 0xd8));
  }
  for (; j < n; j++)
    out[j] = 0.25 * (r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1]);
}

int metrics_cpu_has_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

void metrics_kernels_init_avx2(metrics_kernels *k) {
  k->name = "avx2";
  k->prep_u8 = prep_u8_avx2;
  k->prep_f64 = prep_f64_avx2;
  k->hpass = hpass_avx2;
  k->vfilter = vfilter_avx2;
  k->ssim_reduce = ssim_reduce_avx2;
  k->sse_u8 = sse_u8_avx2;
  k->down_u8 = down_u8_avx2;
  k->down_f64 = down_f64_avx2;
}

#else /* not x86: no SIMD set */

int metrics_cpu_has_avx2(void) { return 0; }
void metrics_kernels_init_avx2(metrics_kernels *k) { (void)k; }

#endif
