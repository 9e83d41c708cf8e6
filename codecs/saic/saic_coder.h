/* saic_coder.h - sb_saic_coder's public interface: the SAIC codec's entropy coding, bit-exact on
 * every machine (integers only). Four parts, each with its own prefix:
 *   saic_rc_     the range coder (16-bit CDFs, bypass bits) and the error codes SAIC_OK/SAIC_E_*;
 *   saic_cdf_    per-channel CDF tables built from probabilities, their serialised form;
 *   saic_coder_  coding a C x H x W tensor of integers with those tables (escapes for outliers);
 *   saic_crc8    the CRC-8 of a stream's check byte.
 * The sections below keep each part's own documentation. */
#ifndef SAIC_CODER_H
#define SAIC_CODER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======== saic_rc ======== */
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

/* ======== saic_cdf ======== */
/* saic_cdf.h - integer CDF tables for the range coder, built from a learned density's pmf, and
 * their serialisation (prefix saic_cdf_).
 *
 * A table codes the integer values min .. min + nvalues - 1 as symbols 0 .. nvalues - 1, plus
 * one escape symbol (index nvalues, the last) that carries the density's tail mass: a value
 * outside [min, max] is coded as the escape followed by its overflow in bypass bits (see
 * saic_coder.h). Like CompressAI's pmf_to_quantized_cdf, but with a documented procedure that
 * is exactly reproducible (integers only once the floats have been read).
 *
 * Quantisation (saic_cdf_quantize), for m = nvalues + 1 symbols with probabilities p[0..m-1]
 * (the pmf, then the tail mass):
 *   1. Each p must be finite and in [0, 1] (a pmf's entries; they need not sum to 1: only their
 *      ratios matter). It becomes the integer weight w = floor(p * 2^32), computed exactly
 *      (float -> double and the power-of-two scaling are exact). All w = 0 is refused.
 *   2. Symbols whose proportional share would fall below one count get exactly 1 (frequency
 *      >= 1 keeps every symbol codable): sort by (w ascending, index ascending) and take the
 *      smallest k such that the k-th symbol's share w_(k) * (65536 - k) / W_k >= 1, where W_k
 *      is the summed weight of the symbols from position k on; the k symbols before it get 1.
 *      This is the water-filling that minimises the expected code length up to rounding, and
 *      it matters: at 0.125 bpp most latents are the mode, whose cost is -log2 q(mode), so the
 *      mass handed to rare symbols is taken from rare symbols first, not from the mode.
 *   3. The other symbols share B = 65536 - k counts: each gets floor(w * B / W_k) (>= 1 by the
 *      choice of k), and the B - sum leftover counts go one each to the symbols with the
 *      largest remainders (w * B mod W_k), ties to the lower index (largest-remainder method).
 * The result sums to exactly 65536 with every frequency >= 1; requires m <= 65536.
 *
 * Serialised table set (format 1, all integers little-endian), e.g. for a checkpoint:
 *   0   char[8]  magic "SAICCDF1"
 *   8   u32      format version (1)
 *   12  u32      precision (16; anything else is refused)
 *   16  u32      table count T, 1 .. SAIC_CDF_MAX_TABLES
 *   20  T x {i32 min, u32 nsym}    nsym = nvalues + 1 (escape included), 2 .. 65536
 *       then, per table in order, u16 cdf[1 .. nsym-1] (cdf[0] = 0 and cdf[nsym] = 65536 are
 *       implicit), strictly increasing
 *   The byte count must match exactly. The loader treats the bytes as hostile: it checks every
 *   field and length before use and refuses with a message naming the table and the problem.
 *
 * Bounds: every representable value satisfies |v| < SAIC_CDF_VALUE_LIMIT (2^20), table ranges
 * included, so escape overflows stay small and bounded.
 *
 * Errors: fallible functions return SAIC_OK (0) or a negative SAIC_E_* code (saic_rc.h) and write
 * a one-line, NUL-terminated reason into err (at most err_len bytes; err may be NULL).
 *
 * Thread-safety: no global state. A set is built by one thread; once complete it is only read
 * (by the coder) and may be shared between any number of threads. */

#define SAIC_CDF_MAX_SYMBOLS 65536 /* per table, escape included */
#define SAIC_CDF_MAX_TABLES 65536
#define SAIC_CDF_VALUE_LIMIT (1 << 20) /* every coded value v has |v| < this */
#define SAIC_CDF_MAGIC "SAICCDF1"
#define SAIC_CDF_VERSION 1u

/* One table, read-only. Values min .. min + nsym - 2 are symbols 0 .. nsym - 2; symbol nsym - 1
 * is the escape. cdf has nsym + 1 entries in the form saic_rc.h requires. */
typedef struct saic_cdf {
  int32_t min;
  uint32_t nsym;
  const uint32_t *cdf;
} saic_cdf;

typedef struct saic_cdf_set saic_cdf_set; /* opaque: a numbered list of tables */

/* The pure quantiser (procedure above): pmf[0 .. nvalues-1] plus tail_mass for the escape ->
 * cdf_out[0 .. nvalues+1]. 1 <= nvalues <= SAIC_CDF_MAX_SYMBOLS - 1. */
int saic_cdf_quantize(const float *pmf, int nvalues, float tail_mass, uint32_t *cdf_out, char *err,
                      size_t err_len);

/* A set of ntables (1 .. SAIC_CDF_MAX_TABLES) tables, all unset; NULL if out of memory or
 * ntables is out of range. Every table must be set before the set is serialised or coded with. */
saic_cdf_set *saic_cdf_set_new(int ntables);
void saic_cdf_set_free(saic_cdf_set *s);
int saic_cdf_set_count(const saic_cdf_set *s);
/* Table i, or NULL if i is out of range or the table is unset. */
const saic_cdf *saic_cdf_set_get(const saic_cdf_set *s, int i);
/* SAIC_OK if every table is set; otherwise SAIC_E_ARG naming the first unset one. */
int saic_cdf_set_check_complete(const saic_cdf_set *s, char *err, size_t err_len);

/* Sets table i from a pmf over the values min .. min + nvalues - 1 and the tail mass (the
 * density's mass outside that range), by saic_cdf_quantize. The value range must lie within
 * (-SAIC_CDF_VALUE_LIMIT, SAIC_CDF_VALUE_LIMIT). Replaces an earlier table i. */
int saic_cdf_set_from_pmf(saic_cdf_set *s, int i, int32_t min, const float *pmf, int nvalues,
                          float tail_mass, char *err, size_t err_len);
/* Sets table i from a ready CDF (nsym + 1 entries, escape last), after validating it exactly as
 * the loader does. For tests and tools that build tables by other means. */
int saic_cdf_set_from_cdf(saic_cdf_set *s, int i, int32_t min, const uint32_t *cdf, uint32_t nsym,
                          char *err, size_t err_len);

/* Serialises a complete set (format above) into a malloc()ed buffer the caller frees. */
int saic_cdf_set_serialize(const saic_cdf_set *s, uint8_t **out, size_t *out_len, char *err,
                           size_t err_len);
/* Parses and validates serialised bytes (hostile). On success *out is a complete set. */
int saic_cdf_set_deserialize(const uint8_t *data, size_t len, saic_cdf_set **out, char *err,
                             size_t err_len);

/* ======== saic_coder ======== */
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

/* ======== saic_crc8 ======== */
/* saic_crc8.h - CRC-8/SMBUS (prefix saic_crc8_): polynomial x^8 + x^2 + x + 1 (0x07), initial
 * value 0x00, bits processed most significant first (no reflection), no final xor. Check value:
 * 0xF4 for the nine ASCII bytes "123456789". It detects every single-bit error and every error
 * burst of up to 8 bits in a message, and any other error with probability 255/256.
 * Used for the SAIC bitstream's check byte (saic_codec.h). Table-driven, no state. */

#define SAIC_CRC8_POLY 0x07
#define SAIC_CRC8_CHECK 0xF4 /* saic_crc8("123456789", 9) */

/* Continues a CRC: crc is the value over the bytes so far (0 before the first), data the next
 * len bytes (may be NULL when len is 0). saic_crc8_update(saic_crc8_update(0, a, n), b, m) is the
 * CRC of a followed by b. */
uint8_t saic_crc8_update(uint8_t crc, const void *data, size_t len);

/* The CRC of len bytes (saic_crc8_update from 0). */
uint8_t saic_crc8(const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
