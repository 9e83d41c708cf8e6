/* saic_coder.c - latent tensors through the range coder, with escapes (see saic_coder.h). */
#include "saic_coder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(char *err, size_t err_len, int code, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* Writes the low `nbits` (0..32) bits of v, top first, in bypass chunks of <= 16 bits. */
static int put_wide_bits(saic_rc_enc *enc, uint32_t v, int nbits) {
  while (nbits > 0) {
    int chunk = nbits > SAIC_RC_MAX_BITS ? SAIC_RC_MAX_BITS : nbits;
    nbits -= chunk;
    int rc = saic_rc_enc_put_bits(enc, (v >> nbits) & ((1u << chunk) - 1), chunk);
    if (rc != SAIC_OK)
      return rc;
  }
  return SAIC_OK;
}

static uint32_t get_wide_bits(saic_rc_dec *dec, int nbits) {
  uint32_t v = 0;
  while (nbits > 0) {
    int chunk = nbits > SAIC_RC_MAX_BITS ? SAIC_RC_MAX_BITS : nbits;
    nbits -= chunk;
    v = (v << chunk) | saic_rc_dec_get_bits(dec, chunk);
  }
  return v;
}

int saic_coder_put_value(saic_rc_enc *enc, const saic_cdf *t, int32_t value) {
  if (value <= -SAIC_CDF_VALUE_LIMIT || value >= SAIC_CDF_VALUE_LIMIT)
    return SAIC_E_RANGE;
  const int64_t min = t->min, max = (int64_t)t->min + (int64_t)t->nsym - 2;
  const uint32_t esc = t->nsym - 1;
  if (value >= min && value <= max)
    return saic_rc_enc_put(enc, t->cdf, t->nsym, (uint32_t)(value - min));
  int rc = saic_rc_enc_put(enc, t->cdf, t->nsym, esc);
  if (rc != SAIC_OK)
    return rc;
  /* |min|, |max|, |value| < 2^20, so u < 2^22 and u + 1 <= 2^22: n <= 22. */
  uint32_t u =
      value < min ? (uint32_t)(2 * (min - value - 1)) : (uint32_t)(2 * (value - max - 1) + 1);
  uint32_t g = u + 1;
  int n = 0;
  while ((g >> (n + 1)) != 0)
    n++;
  /* The split into put_bits calls must be the decoder's exactly (n + 1 single bits, then n
   * bits in chunks of 16 from the top): each call truncates the range on its own, so other
   * groupings of the same bits give other intervals. */
  for (int i = 0; i < n; i++)
    if ((rc = saic_rc_enc_put_bits(enc, 0, 1)) != SAIC_OK)
      return rc;
  if ((rc = saic_rc_enc_put_bits(enc, 1, 1)) != SAIC_OK) /* g's top bit ends the prefix */
    return rc;
  return put_wide_bits(enc, g, n);
}

int saic_coder_get_value(saic_rc_dec *dec, const saic_cdf *t, int32_t *value) {
  *value = 0;
  const uint32_t s = saic_rc_dec_get(dec, t->cdf, t->nsym);
  const int64_t min = t->min, max = (int64_t)t->min + (int64_t)t->nsym - 2;
  if (s != t->nsym - 1) {
    *value = (int32_t)(min + s);
    return SAIC_OK;
  }
  int n = 0;
  while (saic_rc_dec_get_bits(dec, 1) == 0)
    if (++n > SAIC_CODER_MAX_GAMMA)
      return SAIC_E_CORRUPT;
  uint32_t g = n > 0 ? (1u << n) | get_wide_bits(dec, n) : 1u;
  uint32_t u = g - 1;
  int64_t v = (u & 1) ? max + 1 + (int64_t)(u >> 1) : min - 1 - (int64_t)(u >> 1);
  if (v <= -SAIC_CDF_VALUE_LIMIT || v >= SAIC_CDF_VALUE_LIMIT)
    return SAIC_E_CORRUPT;
  *value = (int32_t)v;
  return SAIC_OK;
}

/* Checks the arguments both directions share; sets *count to C*H*W. */
static int check_args(const char *who, const saic_cdf_set *tables, const int32_t *table_index,
                      const void *symbols, int channels, int height, int width, size_t *count,
                      char *err, size_t err_len) {
  if (!tables || !table_index || !symbols)
    return fail(err, err_len, SAIC_E_ARG, "%s: NULL tables, table index or symbols", who);
  if (channels < 1 || height < 1 || width < 1)
    return fail(err, err_len, SAIC_E_ARG, "%s: shape %dx%dx%d is empty or negative", who, channels,
                height, width);
  size_t n = (size_t)channels;
  if (n > SAIC_CODER_MAX_SYMBOLS / (size_t)height ||
      n * (size_t)height > SAIC_CODER_MAX_SYMBOLS / (size_t)width)
    return fail(err, err_len, SAIC_E_ARG, "%s: shape %dx%dx%d exceeds %zu symbols", who, channels,
                height, width, SAIC_CODER_MAX_SYMBOLS);
  *count = n * (size_t)height * (size_t)width;
  char why[160];
  int rc = saic_cdf_set_check_complete(tables, why, sizeof why);
  if (rc != SAIC_OK)
    return fail(err, err_len, rc, "%s: %s", who, why);
  const int nt = saic_cdf_set_count(tables);
  for (int c = 0; c < channels; c++)
    if (table_index[c] < 0 || table_index[c] >= nt)
      return fail(err, err_len, SAIC_E_ARG, "%s: channel %d uses table %d, the set has 0..%d", who,
                  c, (int)table_index[c], nt - 1);
  return SAIC_OK;
}

int saic_coder_encode_channels(const saic_cdf_set *tables, const int32_t *table_index,
                               const int32_t *symbols, int channels, int height, int width,
                               uint8_t **out, size_t *out_len, char *err, size_t err_len) {
  static const char who[] = "saic_coder_encode_channels";
  if (!out || !out_len)
    return fail(err, err_len, SAIC_E_ARG, "%s: NULL output", who);
  *out = NULL;
  *out_len = 0;
  size_t count;
  int rc =
      check_args(who, tables, table_index, symbols, channels, height, width, &count, err, err_len);
  if (rc != SAIC_OK)
    return rc;
  const size_t plane = (size_t)height * (size_t)width;
  saic_rc_enc enc;
  saic_rc_enc_init(&enc);
  for (size_t i = 0; i < count; i++) {
    const int c = (int)(i / plane);
    rc = saic_coder_put_value(&enc, saic_cdf_set_get(tables, table_index[c]), symbols[i]);
    if (rc != SAIC_OK) {
      saic_rc_enc_free(&enc);
      if (rc == SAIC_E_RANGE)
        return fail(err, err_len, rc,
                    "%s: symbol %d at channel %d, position %zu is outside "
                    "|v| < %d",
                    who, (int)symbols[i], c, i % plane, SAIC_CDF_VALUE_LIMIT);
      return fail(err, err_len, rc, "%s: out of memory", who);
    }
  }
  if (saic_rc_enc_finish(&enc, out, out_len) != SAIC_OK)
    return fail(err, err_len, SAIC_E_NOMEM, "%s: out of memory", who);
  return SAIC_OK;
}

int saic_coder_decode_channels(const saic_cdf_set *tables, const int32_t *table_index,
                               const uint8_t *data, size_t len, int32_t *symbols, int channels,
                               int height, int width, char *err, size_t err_len) {
  static const char who[] = "saic_coder_decode_channels";
  size_t count;
  int rc =
      check_args(who, tables, table_index, symbols, channels, height, width, &count, err, err_len);
  if (rc != SAIC_OK)
    return rc;
  if (!data && len > 0)
    return fail(err, err_len, SAIC_E_ARG, "%s: NULL data with length %zu", who, len);
  if (len > 0 && data[len - 1] == 0)
    return fail(err, err_len, SAIC_E_CORRUPT,
                "%s: stream ends in a zero byte (an encoder strips those): not a SAIC stream", who);
  const size_t plane = (size_t)height * (size_t)width;
  saic_rc_dec dec;
  saic_rc_dec_init(&dec, data, len);
  for (size_t i = 0; i < count; i++) {
    const int c = (int)(i / plane);
    if (saic_coder_get_value(&dec, saic_cdf_set_get(tables, table_index[c]), &symbols[i]) !=
        SAIC_OK)
      return fail(err, err_len, SAIC_E_CORRUPT,
                  "%s: corrupt escape at channel %d, position %zu (value past |v| < %d)", who, c,
                  i % plane, SAIC_CDF_VALUE_LIMIT);
  }
  if (saic_rc_dec_consumed(&dec) < len)
    return fail(err, err_len, SAIC_E_CORRUPT,
                "%s: %zu bytes left over after the last symbol (stream has %zu)", who,
                len - saic_rc_dec_consumed(&dec), len);
  return SAIC_OK;
}
