/* libFuzzer target: the SAIC entropy decoder and CDF-table loader on arbitrary bytes.
 *
 * 1. Decoder: bytes 0..3 pick a latent shape (C 1..16, H and W 1..8) and how channels map onto
 *    a fixed set of tables (peaked, certain, single-value, wide uniform, 65535 values); the rest
 *    is the stream. Decoding must return values with |v| < 2^20 or SAIC_E_CORRUPT; decoded
 *    values must re-encode and decode back to themselves.
 * 2. Loader: the whole input as a serialised table set. Accepted sets must hold valid tables
 *    and serialise back to exactly the input (the format has one encoding per set).
 * Any violation aborts, which libFuzzer reports as a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "saic_coder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NTABLES 5
#define MAX_SYMBOLS (16 * 8 * 8)

/* Built once (libFuzzer runs inputs one after another in one process); never freed. */
static const saic_cdf_set *fixed_tables(void) {
  static saic_cdf_set *set;
  if (set)
    return set;
  set = saic_cdf_set_new(NTABLES);
  if (!set)
    abort();
  static const float peaked[9] = {0.001f, 0.01f, 0.05f, 0.2f, 0.45f, 0.2f, 0.05f, 0.01f, 0.001f};
  static const float certain[3] = {0.0f, 1.0f, 0.0f};
  static const float single[1] = {0.9f};
  static float uniform[300], flat[65535];
  for (int i = 0; i < 300; i++)
    uniform[i] = 1.0f / 300;
  for (int i = 0; i < 65535; i++)
    flat[i] = 1.0f / 65536;
  char err[256];
  if (saic_cdf_set_from_pmf(set, 0, -4, peaked, 9, 0.028f, err, sizeof err) ||
      saic_cdf_set_from_pmf(set, 1, -1, certain, 3, 0.0f, err, sizeof err) ||
      saic_cdf_set_from_pmf(set, 2, 7, single, 1, 0.1f, err, sizeof err) ||
      saic_cdf_set_from_pmf(set, 3, -150, uniform, 300, 0.01f, err, sizeof err) ||
      saic_cdf_set_from_pmf(set, 4, -32768, flat, 65535, 0.5f, err, sizeof err))
    abort();
  return set;
}

static void fuzz_decoder(const uint8_t *data, size_t size) {
  if (size < 4)
    return;
  const saic_cdf_set *set = fixed_tables();
  const int C = 1 + data[0] % 16, H = 1 + data[1] % 8, W = 1 + (data[1] >> 3) % 8;
  int32_t idx[16];
  for (int c = 0; c < C; c++)
    idx[c] = (int32_t)((data[2] + (unsigned)c * (1u + data[3] % 4)) % NTABLES);
  const uint8_t *stream = data + 4;
  const size_t len = size - 4;
  static int32_t sym[MAX_SYMBOLS], again[MAX_SYMBOLS];
  char err[256];
  int rc =
      saic_coder_decode_channels(set, idx, len ? stream : NULL, len, sym, C, H, W, err, sizeof err);
  if (rc == SAIC_E_CORRUPT)
    return;
  if (rc != SAIC_OK)
    abort();
  const size_t n = (size_t)C * H * W;
  for (size_t i = 0; i < n; i++)
    if (sym[i] <= -SAIC_CDF_VALUE_LIMIT || sym[i] >= SAIC_CDF_VALUE_LIMIT)
      abort();
  uint8_t *buf;
  size_t blen;
  if (saic_coder_encode_channels(set, idx, sym, C, H, W, &buf, &blen, err, sizeof err) != SAIC_OK)
    abort();
  if (saic_coder_decode_channels(set, idx, buf, blen, again, C, H, W, err, sizeof err) != SAIC_OK ||
      memcmp(sym, again, n * sizeof *sym) != 0)
    abort();
  free(buf);
}

static void fuzz_loader(const uint8_t *data, size_t size) {
  saic_cdf_set *set = NULL;
  char err[256];
  if (saic_cdf_set_deserialize(data, size, &set, err, sizeof err) != SAIC_OK) {
    if (set || err[0] == '\0')
      abort();
    return;
  }
  for (int t = 0; t < saic_cdf_set_count(set); t++) {
    const saic_cdf *tab = saic_cdf_set_get(set, t);
    if (!tab || tab->cdf[0] != 0 || tab->cdf[tab->nsym] != SAIC_RC_TOTAL)
      abort();
    for (uint32_t j = 0; j < tab->nsym; j++)
      if (tab->cdf[j + 1] <= tab->cdf[j])
        abort();
  }
  uint8_t *out;
  size_t out_len;
  if (saic_cdf_set_serialize(set, &out, &out_len, err, sizeof err) != SAIC_OK || out_len != size ||
      memcmp(out, data, size) != 0)
    abort();
  free(out);
  saic_cdf_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_decoder(data, size);
  fuzz_loader(data, size);
  return 0;
}
