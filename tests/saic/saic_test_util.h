/* saic_test_util.h - a seeded RNG and table generators shared by the SAIC coder tests
 * (header-only, static; each test is one translation unit). The checks are sb_test.h's. */
#ifndef SAIC_TEST_UTIL_H
#define SAIC_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saic_coder.h"
#include "sb_test.h"

/* splitmix64: tiny, seeded, identical everywhere (the tests pin byte checksums with it). */
typedef struct trng {
  uint64_t s;
} trng;

static inline uint64_t trng_next(trng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [0, n), n >= 1 (the tiny modulo bias does not matter here). */
static inline uint32_t trng_below(trng *r, uint32_t n) { return (uint32_t)(trng_next(r) % n); }

/* Uniform double in [0, 1). */
static inline double trng_unit(trng *r) { return (double)(trng_next(r) >> 11) * 0x1p-53; }

/* FNV-1a 64 over bytes, chained through h (start with FNV_INIT). */
#define FNV_INIT 0xcbf29ce484222325ull
static inline uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* A random valid CDF over n symbols (cdf has n + 1 entries) of one of several shapes: random
 * frequencies, near-uniform, one dominant symbol, geometric decay, or all-but-one at frequency 1.
 * n <= 65536. Integer-only so tables are identical everywhere. */
static inline void random_cdf(trng *r, uint32_t *cdf, uint32_t n) {
  uint32_t *f = malloc(n * sizeof *f);
  if (!f)
    abort();
  uint32_t kind = trng_below(r, 5), total = 0;
  uint32_t budget = SAIC_RC_TOTAL - n; /* every symbol starts at 1 */
  for (uint32_t i = 0; i < n; i++)
    f[i] = 1;
  if (budget > 0) {
    if (kind == 0 || kind == 1) { /* random weights, or near-uniform */
      uint64_t *w = malloc(n * sizeof *w), wsum = 0;
      if (!w)
        abort();
      for (uint32_t i = 0; i < n; i++) {
        w[i] = kind == 0 ? 1 + trng_below(r, 1000) : 1000 + trng_below(r, 10);
        wsum += w[i];
      }
      for (uint32_t i = 0; i < n; i++) {
        uint32_t add = (uint32_t)(w[i] * budget / wsum);
        f[i] += add;
        total += add;
      }
      f[trng_below(r, n)] += budget - total;
      free(w);
    } else if (kind == 2 || kind == 4) { /* one symbol takes (nearly) everything */
      f[trng_below(r, n)] += budget;
    } else { /* geometric decay from a random mode */
      uint32_t mode = trng_below(r, n), left = budget;
      for (uint32_t d = 0; d < n && left > 0; d++) {
        uint32_t take = left / 2 + (left == 1);
        uint32_t i = (mode + d) % n;
        f[i] += take;
        left -= take;
      }
      f[mode] += left; /* whatever short tables could not spread */
    }
  }
  cdf[0] = 0;
  for (uint32_t i = 0; i < n; i++)
    cdf[i + 1] = cdf[i] + f[i];
  free(f);
}

/* Draws a symbol from the table's own distribution (so messages have realistic statistics). */
static inline uint32_t draw_symbol(trng *r, const uint32_t *cdf, uint32_t n) {
  uint32_t t = trng_below(r, SAIC_RC_TOTAL), lo = 0, hi = n;
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (cdf[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

/* A two-sided geometric pmf over n values peaking at index mode, decay decay/256 per step
 * (1..255), and a tail mass, with no libm call: integer weights and correctly rounded float
 * divisions, so the floats (and tables built from them) are identical on every machine. Used
 * wherever a test pins a checksum. */
static inline void geometric_pmf(float *pmf, int n, int mode, uint32_t decay, float *tail) {
  uint64_t *w = malloc((size_t)n * sizeof *w), sum = 0;
  if (!w)
    abort();
  for (int i = 0; i < n; i++) {
    int d = i > mode ? i - mode : mode - i;
    uint64_t x = (uint64_t)1 << 40;
    for (int k = 0; k < d && x > 0; k++)
      x = x * decay / 256;
    w[i] = x;
    sum += x;
  }
  uint64_t edge = w[0] > w[n - 1] ? w[0] : w[n - 1];
  for (int i = 0; i < n; i++)
    pmf[i] = (float)w[i] / (float)(sum + edge);
  *tail = (float)edge / (float)(sum + edge);
  free(w);
}

/* -log2 of the symbol's probability under the table. */
static inline double symbol_bits(const uint32_t *cdf, uint32_t s) {
  return -log2((double)(cdf[s + 1] - cdf[s]) / SAIC_RC_TOTAL);
}

#endif
