/* Example saicbench codec plugin: uniform scalar quantization of each RGB sample.
 *
 * It shows everything a plugin needs and nothing more: one source file, only
 * saicbench_codec.h and the C library, one exported entry point. Build it as a shared library
 * (CMake: add_library(... MODULE ...)) and load it with `saicbench --plugin PATH`.
 *
 * Codec "quantize": knob `bits`, integer 1..8: every 8-bit sample is mapped to one of 2^bits
 * uniformly spaced levels spanning 0..255 (q = round(v * (2^bits - 1) / 255), reconstruction
 * round(q * 255 / (2^bits - 1))); bits = 8 is lossless. No settings.
 *
 * File format (all integers little-endian):
 *   offset 0  "SBQ1"       magic
 *   offset 4  uint32       width  (>= 1)
 *   offset 8  uint32       height (>= 1)
 *   offset 12 uint8        bits   (1..8)
 *   offset 13 samples      width * height * 3 values of `bits` bits, row-major R,G,B, packed
 *                          most significant bit first; the last byte is padded with zero bits.
 * The file is exactly 13 + ceil(width * height * 3 * bits / 8) bytes. stream_bytes = the packed
 * samples (the file minus the 13-byte header).
 *
 * Decoding treats its input as hostile: the header is checked against the input size before
 * anything is allocated, so a damaged file fails with a reason instead of reading past the end
 * or allocating a huge image. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saicbench_codec.h"

#define QZ_NAME "quantize"
#define QZ_HEADER 13
#define QZ_MAX_PIXELS ((uint64_t)1 << 25) /* refuse absurd sizes before allocating */

static int qz_fail(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static const char *qz_version(void) { return "saicbench example quantize 1.0"; }

static int qz_create(const codec_option *options, size_t n_options, void **instance, char *err,
                     size_t err_len) {
  if (!instance)
    return qz_fail(err, err_len, QZ_NAME ": no instance pointer");
  *instance = NULL; /* no per-instance state */
  if (n_options > 0)
    return qz_fail(err, err_len, QZ_NAME ": unknown setting '%s' (this codec has none)",
                   options && options[0].key ? options[0].key : "?");
  return 0;
}

static void qz_destroy(void *instance) { (void)instance; }

static void put_le32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Payload bytes for n samples of `bits` bits; n <= 3 * QZ_MAX_PIXELS so nothing overflows. */
static uint64_t payload_bytes(uint64_t n, unsigned bits) { return (n * bits + 7) / 8; }

static int qz_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                     codec_encoded *out, char *err, size_t err_len) {
  (void)instance;
  if (!out)
    return qz_fail(err, err_len, QZ_NAME ": no output");
  memset(out, 0, sizeof *out);
  if (!rgb || width < 1 || height < 1 || (uint64_t)width * (uint64_t)height > QZ_MAX_PIXELS)
    return qz_fail(err, err_len, QZ_NAME ": invalid image %dx%d", width, height);
  if (!(knob >= 1 && knob <= 8)) /* also rejects NaN */
    return qz_fail(err, err_len, QZ_NAME ": bits %g outside [1, 8]", knob);
  unsigned bits = (unsigned)(knob + 0.5);
  unsigned maxq = (1u << bits) - 1;
  uint64_t n = (uint64_t)width * (uint64_t)height * 3;
  size_t size = QZ_HEADER + (size_t)payload_bytes(n, bits);
  uint8_t *d = calloc(1, size); /* zeroed: the packer ORs bits in, padding stays 0 */
  if (!d)
    return qz_fail(err, err_len, QZ_NAME ": out of memory");
  memcpy(d, "SBQ1", 4);
  put_le32(d + 4, (uint32_t)width);
  put_le32(d + 8, (uint32_t)height);
  d[12] = (uint8_t)bits;
  uint64_t bitpos = 0;
  for (uint64_t i = 0; i < n; i++) {
    unsigned q = (rgb[i] * maxq + 127) / 255;
    for (int b = (int)bits - 1; b >= 0; b--, bitpos++)
      if (q >> b & 1)
        d[QZ_HEADER + bitpos / 8] |= (uint8_t)(0x80 >> (bitpos % 8));
  }
  out->data = d;
  out->size = size;
  out->stream_bytes = size - QZ_HEADER;
  return 0;
}

static int qz_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                     int *width, int *height, char *err, size_t err_len) {
  (void)instance;
  if (!rgb || !width || !height)
    return qz_fail(err, err_len, QZ_NAME ": no output");
  *rgb = NULL;
  *width = *height = 0;
  if (!data || size < QZ_HEADER)
    return qz_fail(err, err_len, QZ_NAME ": %zu bytes is shorter than the %d-byte header", size,
                   QZ_HEADER);
  if (memcmp(data, "SBQ1", 4) != 0)
    return qz_fail(err, err_len, QZ_NAME ": bad magic (not a quantize file)");
  uint32_t w = get_le32(data + 4), h = get_le32(data + 8);
  unsigned bits = data[12];
  if (bits < 1 || bits > 8)
    return qz_fail(err, err_len, QZ_NAME ": bits %u outside [1, 8]", bits);
  /* Each factor is bounded before multiplying so the product cannot overflow. */
  if (w < 1 || h < 1 || w > QZ_MAX_PIXELS || h > QZ_MAX_PIXELS || (uint64_t)w * h > QZ_MAX_PIXELS ||
      w > (uint32_t)0x7fffffff || h > (uint32_t)0x7fffffff)
    return qz_fail(err, err_len, QZ_NAME ": image size %ux%u is not supported", (unsigned)w,
                   (unsigned)h);
  uint64_t n = (uint64_t)w * h * 3;
  uint64_t want = QZ_HEADER + payload_bytes(n, bits);
  if ((uint64_t)size != want)
    return qz_fail(err, err_len, QZ_NAME ": %zu bytes, a %ux%u %u-bit file has %llu", size,
                   (unsigned)w, (unsigned)h, bits, (unsigned long long)want);
  uint64_t used_bits = n * bits;
  if (used_bits % 8 && (data[size - 1] & (0xFF >> (used_bits % 8))))
    return qz_fail(err, err_len, QZ_NAME ": non-zero padding bits");
  uint8_t *pix = malloc((size_t)n);
  if (!pix)
    return qz_fail(err, err_len, QZ_NAME ": out of memory");
  unsigned maxq = (1u << bits) - 1;
  const uint8_t *p = data + QZ_HEADER;
  uint64_t bitpos = 0;
  for (uint64_t i = 0; i < n; i++) {
    unsigned q = 0;
    for (unsigned b = 0; b < bits; b++, bitpos++)
      q = q << 1 | (unsigned)(p[bitpos / 8] >> (7 - bitpos % 8) & 1);
    pix[i] = (uint8_t)((q * 255 + maxq / 2) / maxq);
  }
  *rgb = pix;
  *width = (int)w;
  *height = (int)h;
  return 0;
}

static const codec_vtable qz_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = QZ_NAME,
    .description = "example plugin: uniform quantization of RGB samples, packed bits; "
                   "stream_bytes = packed samples (no 13-byte header)",
    .knob = {.name = "bits",
             .description = "bits per sample 1..8 (8 is lossless)",
             .kind = CODEC_KNOB_INT,
             .min = 1,
             .max = 8,
             .rate_increases = 1},
    .library_version = qz_version,
    .settings_help = "",
    .create = qz_create,
    .destroy = qz_destroy,
    .encode = qz_encode,
    .decode = qz_decode,
};

SAICBENCH_CODEC_EXPORT const codec_vtable *saicbench_codec_plugin_v1(uint32_t host_abi_version) {
  /* A host with another ABI would misread the table: decline rather than guess. */
  return host_abi_version == CODEC_ABI_VERSION ? &qz_vtable : NULL;
}
