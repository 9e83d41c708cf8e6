/* saic_codec.h - the SAIC learned image codec (prefix saic_codec_), built in as codec "saic".
 *
 * Model: a codec checkpoint from `saicbench export` (saic_ckpt.h): networks g_a / g_s, gains,
 * and one integer CDF table per latent channel. Entropy coding uses only those integer tables
 * (saic_coder.h), so the symbols decode bit-exactly on every machine; the networks run in
 * float32 (oneDNN), single-threaded by default, so pixels are identical whatever the harness's
 * thread count (across CPUs with different vector units the float results may differ in the
 * last bits).
 *
 * Encode: the RGB8 image is padded to multiples of 8 on each side (at least 8; edges
 * replicated), scaled to [0, 1], y = g_a(x); the rate knob r is quantised to the index
 * q = round(r / K * STEPS) (K = saic_model_knob_max(levels), STEPS = SAIC_CODEC_RATE_STEPS;
 * q = 0 for one level) and the encoder uses exactly r_q = q * K / STEPS, as the decoder does;
 * symbols = rint(y * gain(r_q)) (float32, then clamped to |v| < 2^20), entropy-coded channel by
 * channel with table q * m + c (saic_ckpt.h). Decode: symbols * inv_gain(r_q) -> g_s -> crop ->
 * clamp(x * 255, 0, 255) -> lrint -> uint8. These are the trainer's evaluation steps
 * (train_codec.h), so its estimates carry over.
 *
 * Bitstream, format version 2 (the whole file; integers in LEB128 where noted):
 *   byte 0   bit 7: size flag (0: the image is 32 x 32; 1: an explicit size follows);
 *            bits 6..0: rate index q, 0..SAIC_CODEC_RATE_STEPS (77); 78..127 are reserved
 *   byte 1   check byte: CRC-8/SMBUS (saic_crc8.h) over, in this order, the model's 32-byte
 *            SHA-256 (saic_ckpt.h), one byte 2 (the format version), byte 0, the explicit size
 *            bytes if any and the whole payload -- that is, over the hash, 0x02, then every byte
 *            of the file except this one
 *   [flag 1] LEB128 (width - 1), LEB128 (height - 1): minimal encodings, sides 1..65535, never
 *            32 x 32 (which has the short form)
 *   rest     payload: the range-coder stream of the latent (saic_coder.h), to the end of file
 * Header: 2 bytes at 32 x 32 (0.016 bpp); 2 + 2..6 bytes otherwise (6 for 768 x 512). The
 * codec_vtable's stream_bytes is the payload (at least 1: an empty payload, possible when every
 * symbol is nearly certain, counts 1 because the interface wants 0 < stream_bytes).
 * There is no field of its own for the version or the model; the check byte covers both. A
 * truncated, extended or corrupted stream fails it with probability 255/256 (the payload decoder
 * then refuses some of the rest); every single-bit error fails it, and so does every error burst
 * of up to 8 bits that does not straddle byte 1 (the check byte is not part of the CRC's message,
 * so a burst across bytes 0/1 or 1/2 is caught with probability 255/256 like other errors). The
 * CRC is linear: under two models the check bytes of one stream differ by the CRC-8 of the XOR of
 * the two hashes, so if the models' hashes have different CRC-8s (255 pairs of models in 256; the
 * four shipped models do) no stream of one passes the other's check, and if they are equal every
 * stream does -- the odds of format 1's one-byte model tag. Format 1 (byte 0 = 001fllll, byte 1 =
 * the first byte of the model hash, byte 2 = q; saicbench before this format) is not read: such a
 * stream fails the check, and the message says so when its byte 1 is this model's old tag.
 * (tests/saic/test_saic_stream_check.c measures these rates.)
 *
 * The decoder refuses, with a one-line reason, in this order: fewer than 2 bytes, a reserved rate
 * index or one a one-level model cannot have, a truncated, over-long or non-canonical size, sizes
 * over the max_pixels limit (so a hostile size costs nothing), a failed check byte, a payload too
 * short for the size it claims (below), and whatever saic_coder refuses (bad escapes, a trailing
 * zero byte, bytes left after the last symbol). Other damage (about 1 in 256 of damaged streams)
 * decodes to some image; it never reads outside the input or allocates beyond what the (limited)
 * size needs.
 *
 * Payload bound: every header check above runs before any allocation, and the last one ties the
 * memory a stream can ask for to its length. The range coder narrows its interval, per symbol of
 * channel c at rate index q, by at least f_max / 65536 (f_max: the largest count of that channel's
 * table), so a latent of P positions takes at least B = P * sum_c -log2(f_max(c, q) / 65536) bits
 * (computed per rate index when the model is loaded; saic_codec_min_payload_bytes). Two things
 * let a valid stream come out shorter: termination (the coder writes the point of its final
 * interval with the most trailing zeros, which saves b bits with odds of about 2^-b) and a run of
 * symbol 0 (a table's lowest value) ending the latent, which costs nothing -- so the channels
 * coded last whose symbol 0 is their most probable value or has probability >= 1/1024 (dead
 * channels, with one-value tables) are left out of the sum, and SAIC_CODEC_PAYLOAD_SLACK bytes
 * (64 bits) are allowed for termination. A stream is refused when its payload is shorter than
 * floor((B - 8 * slack) / 8) bytes. Measured on the shipped saic_full model: of 50,544 encoder
 * streams (every rate index, sides 1, 8, 16, ..., 64, textured, noisy and flat images; the flat
 * ones sit right at B) none fell more than 12.7 bits below B; test_saic_codec checks a sweep of
 * sizes, rates and image kinds on a random model and on saic_full. A latent ending in a long run
 * of improbable lowest values could also fall below, which the networks do not produce. With the
 * shipped models B is 0.02 bpp at rate index 0 and 1.3 bpp at the top (saic_full),
 * so claiming 2^25 pixels takes a payload of at least ~85 KB instead of a few bytes.
 *
 * Thread-safety: a codec may be shared by any number of threads. It caches networks per padded
 * image size (created on first use, parameters copied from the loaded model), one per concurrent
 * call, behind a mutex; at most SAIC_CODEC_CACHE idle networks are kept. Results do not depend
 * on which cached network serves a call. */
#ifndef SAIC_CODEC_H
#define SAIC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define SAIC_CODEC_FORMAT_VERSION 2 /* covered by the check byte; no field of its own */
#define SAIC_CODEC_MIN_HEADER 2
#define SAIC_CODEC_MAX_SIDE 65535
/* The rate index q runs over 0..STEPS (= SAIC_CKPT_RATE_STEPS of saic_ckpt.h, checked there). */
#define SAIC_CODEC_RATE_STEPS 77
#define SAIC_CODEC_CACHE 8                           /* idle networks kept per codec */
/* Bytes a payload may fall short of the coder's lower bound (termination; see above). */
#define SAIC_CODEC_PAYLOAD_SLACK 8
/* Images (padded) below this many pixels run their networks on one thread whatever `threads`
 * says: at 32x32 two OpenMP threads decoded 3.5x slower than one (829 vs 2,908 img/s, the
 * per-layer fork/join dwarfs the work), at 768x512 they were 1.3x faster. */
#define SAIC_CODEC_MIN_PIXELS_MT 65536

typedef struct saic_codec saic_codec;
/* A loaded codec checkpoint (saic_ckpt.h). */
typedef struct saic_codec_model saic_codec_model;

typedef struct saic_codec_opts {
  int threads;       /* threads of the networks, >= 1 (default 1; SAIC_CODEC_MIN_PIXELS_MT) */
  size_t max_pixels; /* largest image (width * height) encoded or decoded; 0: 2^25 */
} saic_codec_opts;

/* Loads a codec checkpoint (saic_ckpt_load_codec). Errors name the file. */
int saic_codec_open(const char *model_path, const saic_codec_opts *o, saic_codec **out, char *err,
                    size_t err_len);
void saic_codec_close(saic_codec *c);
/* The loaded model (configuration, tables, SHA-256). */
const saic_codec_model *saic_codec_get_model(const saic_codec *c);

/* The rate index of knob r (clamped to 0..saic_model_knob_max(levels)) and the knob value of an
 * index. */
int saic_codec_rate_index(int levels, double r);
double saic_codec_rate_value(int levels, int q);

typedef struct saic_stream_info {
  int version, width, height; /* version: SAIC_CODEC_FORMAT_VERSION */
  uint8_t check;              /* the check byte (byte 1), verified */
  int rate_index;
  double rate;         /* saic_codec_rate_value(levels, rate_index) */
  size_t header_bytes; /* the payload starts here */
  size_t payload_bytes;
  size_t min_payload_bytes;         /* the payload bound for this size and rate (checked) */
  int latent_c, latent_h, latent_w; /* the coded latent: m x ceil8(height)/8 x ceil8(width)/8 */
} saic_stream_info;

/* Parses and checks a stream's header against this codec (every refusal above up to and
 * including the payload bound; the payload is not decoded). */
int saic_codec_parse_header(const saic_codec *c, const uint8_t *data, size_t len,
                            saic_stream_info *info, char *err, size_t err_len);

/* The payload bound above: the fewest payload bytes a stream of a width x height image at rate
 * index rate_index can have (0 for arguments out of range). */
size_t saic_codec_min_payload_bytes(const saic_codec *c, int rate_index, int width, int height);

/* The check byte that byte 1 of a stream of this codec's model must hold, computed from the other
 * bytes of data[0..len) (len >= 1; data[1], if present, is skipped): CRC-8 over the model's
 * SHA-256, SAIC_CODEC_FORMAT_VERSION, data[0] and data[2..len). For tests and fuzzers that build
 * streams by hand. */
uint8_t saic_codec_stream_check(const saic_codec *c, const uint8_t *data, size_t len);

typedef struct saic_encode_stats {
  size_t header_bytes, payload_bytes;
  double est_bits; /* -sum log2 p of the symbols under the float density (floored at 1e-9) */
  int latent_c, latent_h, latent_w;
  int rate_index;
} saic_encode_stats;

/* Encodes a packed RGB8 image (width * height * 3 bytes) at knob r (0 .. SAIC_CKPT_MAX_LEVELS
 * - 1; values above saic_model_knob_max(levels) act as that). *out is malloc()ed. st may be NULL;
 * est_bits is computed only when st is given. */
int saic_codec_encode(saic_codec *c, const uint8_t *rgb, int width, int height, double r,
                      uint8_t **out, size_t *out_len, saic_encode_stats *st, char *err,
                      size_t err_len);
/* Decodes a whole stream into a malloc()ed packed RGB8 image. */
int saic_codec_decode(saic_codec *c, const uint8_t *data, size_t len, uint8_t **rgb, int *width,
                      int *height, char *err, size_t err_len);
/* The first half of saic_codec_decode: the stream's integer latent symbols, entropy-decoded only
 * (no networks run, so they are bit-exact on every machine, build and thread count). *symbols is
 * a malloc()ed array of *count = latent_c * latent_h * latent_w values in channel-major order
 * (saic_coder.h), the values the encoder coded; info (may be NULL) receives the parsed header.
 * It refuses exactly what saic_codec_decode refuses, with the same messages, and then leaves
 * *symbols NULL, *count 0 and info zeroed. */
int saic_codec_decode_symbols(const saic_codec *c, const uint8_t *data, size_t len,
                              int32_t **symbols, size_t *count, saic_stream_info *info, char *err,
                              size_t err_len);

#endif
