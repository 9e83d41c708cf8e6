/* saic_rc.c - the range coder (see saic_rc.h for the format and its invariants). */
#include "saic_coder.h"

#include <stdlib.h>
#include <string.h>

/* The coding window: low and range are 56-bit quantities; bit 56 of low is the carry. */
#define WIN_BITS 56
#define WIN_TOP ((uint64_t)1 << WIN_BITS)
#define WIN_MASK (WIN_TOP - 1)
/* range stays >= 2^48 between calls, so range >> 16 >= 2^32 and a frequency of 1 still leaves
 * an interval of 2^32 (at most 2 byte shifts per symbol restore the bound). */
#define RANGE_MIN ((uint64_t)1 << (WIN_BITS - 8))
#define WIN_BYTES (WIN_BITS / 8)

void saic_rc_enc_init(saic_rc_enc *e) {
  memset(e, 0, sizeof *e);
  e->low = 0;
  e->range = WIN_TOP;
}

void saic_rc_enc_free(saic_rc_enc *e) {
  free(e->buf);
  saic_rc_enc_init(e);
}

static int enc_reserve(saic_rc_enc *e, size_t extra) {
  if (e->failed)
    return SAIC_E_NOMEM;
  if (e->cap - e->len >= extra)
    return SAIC_OK;
  size_t cap = e->cap ? e->cap : 64;
  while (cap - e->len < extra) {
    if (cap > SIZE_MAX / 2) {
      e->failed = 1;
      return SAIC_E_NOMEM;
    }
    cap *= 2;
  }
  uint8_t *p = realloc(e->buf, cap);
  if (!p) {
    e->failed = 1;
    return SAIC_E_NOMEM;
  }
  e->buf = p;
  e->cap = cap;
  return SAIC_OK;
}

/* Adds the carry out of the window to the bytes already written. The coded value is always below
 * 1.0 (intervals only shrink inside [0, 1)), so the carry stops before running off the front;
 * the check is for safety only. */
static void enc_carry(saic_rc_enc *e) {
  size_t i = e->len;
  while (i > 0) {
    i--;
    if (++e->buf[i] != 0)
      return;
  }
  e->failed = 1; /* unreachable for a correct coder */
}

/* Restores range >= RANGE_MIN by moving the top byte of the window to the output. */
static int enc_normalize(saic_rc_enc *e) {
  if (e->low >= WIN_TOP) {
    enc_carry(e);
    e->low -= WIN_TOP;
  }
  while (e->range < RANGE_MIN) {
    if (enc_reserve(e, 1) != SAIC_OK)
      return SAIC_E_NOMEM;
    e->buf[e->len++] = (uint8_t)(e->low >> (WIN_BITS - 8));
    e->low = (e->low << 8) & WIN_MASK;
    e->range <<= 8;
  }
  return SAIC_OK;
}

/* Narrows the interval to [lo, hi) out of total = 2^shift; the top sub-interval (hi == total)
 * keeps the rounding remainder so the encoder and decoder agree on every split. */
static int enc_narrow(saic_rc_enc *e, uint32_t lo, uint32_t hi, int shift) {
  if (e->failed)
    return SAIC_E_NOMEM;
  uint64_t r = e->range >> shift;
  e->low += r * lo;
  if (hi == (1u << shift))
    e->range -= r * lo;
  else
    e->range = r * (hi - lo);
  return enc_normalize(e);
}

int saic_rc_enc_put(saic_rc_enc *e, const uint32_t *cdf, uint32_t n, uint32_t s) {
  if (s >= n)
    return SAIC_E_ARG;
  return enc_narrow(e, cdf[s], cdf[s + 1], SAIC_RC_PRECISION);
}

int saic_rc_enc_put_bits(saic_rc_enc *e, uint32_t value, int nbits) {
  if (nbits < 1 || nbits > SAIC_RC_MAX_BITS || (value >> nbits) != 0)
    return SAIC_E_ARG;
  return enc_narrow(e, value, value + 1, nbits);
}

int saic_rc_enc_finish(saic_rc_enc *e, uint8_t **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  if (e->failed || enc_reserve(e, WIN_BYTES) != SAIC_OK) {
    saic_rc_enc_free(e);
    return SAIC_E_NOMEM;
  }
  /* The point of [low, low + range) with the most trailing zero bits: the decoder, padding with
   * zeros, reads exactly this point, so every bit after its lowest 1 bit is free. hi < 2^57. */
  uint64_t hi = e->low + e->range - 1, v = e->low;
  for (int k = WIN_BITS + 1; k >= 0; k--) {
    uint64_t mask = ((uint64_t)1 << k) - 1;
    uint64_t c = (e->low + mask) & ~mask;
    if (c <= hi) {
      v = c;
      break;
    }
  }
  if (v >= WIN_TOP) {
    enc_carry(e);
    v -= WIN_TOP;
  }
  for (int i = WIN_BYTES - 1; i >= 0; i--)
    e->buf[e->len++] = (uint8_t)(v >> (8 * i));
  while (e->len > 0 && e->buf[e->len - 1] == 0)
    e->len--;
  if (e->failed) { /* a carry ran off the front: cannot happen, but never emit a wrong stream */
    saic_rc_enc_free(e);
    return SAIC_E_NOMEM;
  }
  if (e->len == 0) {
    saic_rc_enc_free(e);
    return SAIC_OK;
  }
  *out = e->buf;
  *out_len = e->len;
  saic_rc_enc_init(e); /* ownership passed to the caller */
  return SAIC_OK;
}

static uint8_t dec_byte(saic_rc_dec *d) {
  uint8_t b = d->pos < d->len ? d->data[d->pos] : 0;
  d->pos++;
  return b;
}

void saic_rc_dec_init(saic_rc_dec *d, const uint8_t *data, size_t len) {
  d->data = data;
  d->len = data ? len : 0;
  d->pos = 0;
  d->range = WIN_TOP;
  d->code = 0;
  /* code is (coded point - low) in window units; it starts below range = 2^56 for any bytes. */
  for (int i = 0; i < WIN_BYTES; i++)
    d->code = (d->code << 8) | dec_byte(d);
}

/* Mirrors enc_narrow for the sub-interval [lo, hi) the caller found from target. */
static void dec_narrow(saic_rc_dec *d, uint64_t r, uint32_t lo, uint32_t hi, int shift) {
  d->code -= r * lo;
  if (hi == (1u << shift))
    d->range -= r * lo;
  else
    d->range = r * (hi - lo);
  while (d->range < RANGE_MIN) {
    d->code = (d->code << 8) | dec_byte(d);
    d->range <<= 8;
  }
}

uint32_t saic_rc_dec_get(saic_rc_dec *d, const uint32_t *cdf, uint32_t n) {
  uint64_t r = d->range >> SAIC_RC_PRECISION;
  uint64_t t = d->code / r;
  uint32_t target = t >= SAIC_RC_TOTAL - 1 ? SAIC_RC_TOTAL - 1 : (uint32_t)t;
  /* The symbol s with cdf[s] <= target < cdf[s + 1] (binary search; cdf[0] = 0 <= target). */
  uint32_t lo = 0, hi = n;
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (cdf[mid] <= target)
      lo = mid;
    else
      hi = mid;
  }
  dec_narrow(d, r, cdf[lo], cdf[lo + 1], SAIC_RC_PRECISION);
  return lo;
}

uint32_t saic_rc_dec_get_bits(saic_rc_dec *d, int nbits) {
  if (nbits < 1 || nbits > SAIC_RC_MAX_BITS)
    return 0;
  uint64_t r = d->range >> nbits;
  uint64_t t = d->code / r, top = ((uint64_t)1 << nbits) - 1;
  uint32_t v = (uint32_t)(t > top ? top : t);
  dec_narrow(d, r, v, v + 1, nbits);
  return v;
}

size_t saic_rc_dec_consumed(const saic_rc_dec *d) { return d->pos; }
