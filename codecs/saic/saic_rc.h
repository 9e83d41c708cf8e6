/* saic_rc.h - range coder over 16-bit integer CDF tables, plus equiprobable "bypass" bits
 * (prefix saic_rc_). The entropy-coding core of the SAIC codec (docs/method.md#rate:
 * R = -log2 P(z); the stream format is docs/stream-format.md).
 *
 * Integers only, so the bytes are identical on every machine and compiler. A CDF table for n
 * symbols is uint32_t cdf[n+1] with 0 = cdf[0] < cdf[1] < ... < cdf[n] = SAIC_RC_TOTAL (65536):
 * symbol s has probability (cdf[s+1] - cdf[s]) / 65536, so every symbol has frequency >= 1. The
 * coder does not validate tables (it is the inner loop): build them with saic_cdf.h, whose
 * constructors and loader guarantee that form. n = 1 is allowed (coding it costs nothing).
 *
 * How it works: the interval [low, low + range) lives in a 56-bit window (low in a uint64_t,
 * bit 56 catching the carry) and range is kept in [2^48, 2^56] by shifting out whole bytes, so
 * range >> 16 loses less than 2^-32 of the interval per symbol (negligible). The last symbol of a
 * table (and the all-ones bypass value) takes the rounding remainder, so nothing is wasted there.
 * A carry is propagated straight into the bytes already written (they are all in memory).
 *
 * Termination is near-optimal, because at 32x32 pixels 0.125 bpp is 16 bytes per image: finish
 * picks, inside the final interval, the value with the most trailing zero bits, writes only the
 * bytes up to its last non-zero byte, and strips trailing zero bytes. The decoder reads every
 * byte past the end of its input as 0, which restores them. So a stream never ends in 0x00 and
 * an empty message is 0 bytes.
 *
 * Measured overhead (tests/saic/test_saic_rc.c, 20,000 random messages of 1..2,000 symbols over
 * random tables, half with bypass bits; actual bytes minus the ideal sum of -log2 p / 8 under the
 * coder's own tables): mean 0.33 bytes, max 1.00 bytes (min -1.36: the length is not
 * self-delimiting, so an interval holding a point with many trailing zeros, e.g. near 0, comes
 * out shorter than its ideal). On 96x4x4 latents with Laplacian tables (test_saic_coder.c):
 * mean 0.31, max 0.98 bytes per tensor; against the float pmf, table quantisation included,
 * mean 0.76 bytes per 1,536 symbols. Termination is nearly all of it: at most 1 bit to name a
 * point in the interval plus the rounding up to whole bytes.
 *
 * Bypass bits: each put_bits call narrows the interval by its own truncated split, so the
 * grouping of bits into calls is part of the format; the decoder must use the same widths.
 *
 * Hostile input: the decoder never reads outside (data, len) and any byte string decodes to
 * some symbol sequence (the invariant code < range holds for every input), so there is nothing to
 * fail on here; checks that a stream is plausible belong to the caller (see saic_coder.h).
 *
 * Thread-safety: no global state. An encoder or decoder is used by one thread at a time;
 * different ones are independent. CDF tables are only read and may be shared between threads. */
#ifndef SAIC_RC_H
#define SAIC_RC_H

#include <stddef.h>
#include <stdint.h>

#define SAIC_RC_PRECISION 16
#define SAIC_RC_TOTAL (1u << SAIC_RC_PRECISION)
/* Most bits one saic_rc_enc_put_bits / saic_rc_dec_get_bits call moves. */
#define SAIC_RC_MAX_BITS 16

/* Return codes shared by the saic_rc_, saic_cdf_ and saic_coder_ modules. */
#define SAIC_OK 0
#define SAIC_E_ARG (-1)     /* invalid argument (a caller bug) */
#define SAIC_E_NOMEM (-2)   /* allocation failed or a size would overflow */
#define SAIC_E_CORRUPT (-3) /* hostile or damaged input was refused */
#define SAIC_E_RANGE (-4)   /* a value is outside what the format can represent */

/* Encoder. Fields are private (declared here so it can live on the stack). */
typedef struct saic_rc_enc {
  uint8_t *buf;
  size_t len, cap;
  uint64_t low, range;
  int failed; /* sticky: an allocation failed; finish reports it */
} saic_rc_enc;

void saic_rc_enc_init(saic_rc_enc *e);
/* Codes symbol s of the table cdf (n symbols, 0 <= s < n). SAIC_E_NOMEM if the output buffer
 * could not grow (the encoder then stays failed; later calls do nothing). */
int saic_rc_enc_put(saic_rc_enc *e, const uint32_t *cdf, uint32_t n, uint32_t s);
/* Codes the nbits (1..SAIC_RC_MAX_BITS) low bits of value as equiprobable bits; the decoder
 * must ask for the same nbits. Bits above nbits must be 0 (SAIC_E_ARG otherwise). */
int saic_rc_enc_put_bits(saic_rc_enc *e, uint32_t value, int nbits);
/* Terminates the stream and hands over its bytes: *out is malloc()ed (NULL when *out_len is 0)
 * and belongs to the caller. The encoder is reset to empty afterwards either way. Returns
 * SAIC_E_NOMEM (and no bytes) if any earlier call failed to allocate. */
int saic_rc_enc_finish(saic_rc_enc *e, uint8_t **out, size_t *out_len);
/* Releases the buffer of an encoder that is abandoned without finish (safe after finish too). */
void saic_rc_enc_free(saic_rc_enc *e);

/* Decoder over caller-owned bytes (they must outlive it). Fields are private. */
typedef struct saic_rc_dec {
  const uint8_t *data;
  size_t len, pos; /* pos may exceed len: bytes past the end read as 0 */
  uint64_t code, range;
} saic_rc_dec;

void saic_rc_dec_init(saic_rc_dec *d, const uint8_t *data, size_t len);
/* Decodes one symbol of the table cdf (n >= 1 symbols); always returns a value in [0, n). */
uint32_t saic_rc_dec_get(saic_rc_dec *d, const uint32_t *cdf, uint32_t n);
/* Decodes nbits (1..SAIC_RC_MAX_BITS) bypass bits; 0 if nbits is out of range. */
uint32_t saic_rc_dec_get_bits(saic_rc_dec *d, int nbits);
/* Bytes the decoder has consumed so far, counting the implicit zeros past the end. After the
 * last symbol of a stream from saic_rc_enc_finish this is >= the stream's length: a smaller
 * value means the input carries bytes the message did not need. */
size_t saic_rc_dec_consumed(const saic_rc_dec *d);

#endif
