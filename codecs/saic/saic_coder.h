/* saic_coder.h - entropy coding of a quantised latent tensor with per-channel CDF tables
 * (prefix saic_coder_).
 *
 * Order: channel-major (c, then row y, then column x), i.e. symbols[(c * height + y) * width + x],
 * the layout of one image's C x H x W latent. Channel c is coded with table table_index[c] of the
 * set (saic_cdf.h); several channels may share a table.
 *
 * A value v inside the table's range [min, max] is its symbol v - min. A value outside is the
 * escape symbol followed by bypass bits: u = 2 * (min - v - 1) when v < min, u = 2 * (v - max - 1)
 * + 1 when v > max, written as the Elias-gamma code of u + 1 (n zero bits, then the n + 1 bits of
 * u + 1 from the top, where n = floor(log2(u + 1))). Escaped values are rare (the tail mass is
 * tiny), so the simple code costs nothing measurable. Every value must satisfy
 * |v| < SAIC_CDF_VALUE_LIMIT (2^20), so n <= SAIC_CODER_MAX_GAMMA: the decoder refuses longer
 * codes and values past the limit, which bounds its work on hostile input.
 *
 * Hostile streams: decoding never reads outside (data, len), never overflows, and either
 * returns C*H*W values, all with |v| < 2^20, or SAIC_E_CORRUPT with a message. Besides bad
 * escapes it refuses two things an encoder output never has: a last byte of 0 (finish strips
 * them) and bytes left over after the last symbol (the decoder always consumes at least the
 * stream). Most damage still decodes to wrong values; integrity is the file format's job.
 *
 * Errors: SAIC_OK (0) or a negative SAIC_E_* (saic_rc.h), with a one-line reason in err (at most
 * err_len bytes; err may be NULL).
 *
 * Thread-safety: no global state; any number of threads may code with the same (complete) table
 * set at once, each with its own encoder/decoder and buffers. */
#ifndef SAIC_CODER_H
#define SAIC_CODER_H

#include <stddef.h>
#include <stdint.h>

#include "saic_cdf.h"
#include "saic_rc.h"

#define SAIC_CODER_MAX_GAMMA 22 /* longest Elias-gamma prefix a valid escape can have */
/* Most symbols one call codes (C * H * W); keeps sizes far from overflow everywhere. */
#define SAIC_CODER_MAX_SYMBOLS ((size_t)1 << 28)

/* One value with table t (escape included), appended to an open encoder. SAIC_E_RANGE if
 * |value| >= SAIC_CDF_VALUE_LIMIT; SAIC_E_NOMEM if the encoder could not grow. */
int saic_coder_put_value(saic_rc_enc *enc, const saic_cdf *t, int32_t value);
/* The inverse: SAIC_E_CORRUPT (and *value = 0) for an over-long or out-of-limit escape. */
int saic_coder_get_value(saic_rc_dec *dec, const saic_cdf *t, int32_t *value);

/* Encodes a whole C x H x W tensor into one terminated stream: *out is malloc()ed (NULL when
 * *out_len is 0, which happens when every symbol is nearly certain) and freed by the caller.
 * table_index has `channels` entries, each a table of the complete set `tables`. */
int saic_coder_encode_channels(const saic_cdf_set *tables, const int32_t *table_index,
                               const int32_t *symbols, int channels, int height, int width,
                               uint8_t **out, size_t *out_len, char *err, size_t err_len);
/* Decodes a stream from saic_coder_encode_channels with the same tables, indices and shape into
 * symbols (channels * height * width entries, written even on error, then unspecified). */
int saic_coder_decode_channels(const saic_cdf_set *tables, const int32_t *table_index,
                               const uint8_t *data, size_t len, int32_t *symbols, int channels,
                               int height, int width, char *err, size_t err_len);

#endif
