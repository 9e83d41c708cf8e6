/* Test plugin for the harness's checks of the codec result contract (saicbench_codec.h):
 * codec "liar", a raw RGB container (knob `level` 1..8: high bits kept per sample) whose
 * setting `lie` breaks one rule of the contract on every call:
 *   none          keeps the contract (the control)
 *   stream_big    encode: stream_bytes = size + 1        (must be <= size)
 *   stream_zero   encode: stream_bytes = 0               (must be > 0)
 *   empty         encode: success with size 0            (must return data)
 *   decoded_size  decode: an image one column narrower   (must be the original's size)
 * tests/harness/test_hardening.py runs it; the harness must record each broken result as the
 * image's error ("codec liar broke its contract: ...") and store no numbers for it.
 *
 * File: "LIAR", width and height (uint32 little-endian), w*h*3 samples. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saicbench_codec.h"

#define LIAR_HEADER 12

enum { LIE_NONE, LIE_STREAM_BIG, LIE_STREAM_ZERO, LIE_EMPTY, LIE_DECODED_SIZE };

static int liar_fail(char *err, size_t err_len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
  return -1;
}

static const char *liar_version(void) { return "saicbench test liar 1.0"; }

static int liar_create(const codec_option *options, size_t n_options, void **instance, char *err,
                       size_t err_len) {
  static const char *const names[] = {"none", "stream_big", "stream_zero", "empty", "decoded_size"};
  int lie = LIE_NONE;
  for (size_t i = 0; i < n_options; i++) {
    if (strcmp(options[i].key, "lie"))
      return liar_fail(err, err_len, "liar: unknown setting '%s'", options[i].key);
    lie = -1;
    for (int k = 0; k < 5; k++)
      if (!strcmp(options[i].value, names[k]))
        lie = k;
    if (lie < 0)
      return liar_fail(err, err_len,
                       "liar: lie '%s' (none, stream_big, stream_zero, empty, "
                       "decoded_size)",
                       options[i].value);
  }
  int *p = malloc(sizeof *p);
  if (!p)
    return liar_fail(err, err_len, "liar: out of memory");
  *p = lie;
  *instance = p;
  return 0;
}

static void liar_destroy(void *instance) { free(instance); }

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int liar_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                       codec_encoded *out, char *err, size_t err_len) {
  int lie = *(const int *)instance;
  if (!(knob >= 1 && knob <= 8) || width < 2 || height < 1 || width > 4096 || height > 4096)
    return liar_fail(err, err_len, "liar: bad input");
  unsigned level = (unsigned)(knob + 0.5);
  size_t n = (size_t)width * (size_t)height * 3;
  uint8_t *d = malloc(LIAR_HEADER + n);
  if (!d)
    return liar_fail(err, err_len, "liar: out of memory");
  memcpy(d, "LIAR", 4);
  put32(d + 4, (uint32_t)width);
  put32(d + 8, (uint32_t)height);
  uint8_t mask = (uint8_t)(0xFF << (8 - level));
  for (size_t i = 0; i < n; i++)
    d[LIAR_HEADER + i] = rgb[i] & mask;
  out->data = d;
  out->size = LIAR_HEADER + n;
  out->stream_bytes = n;
  if (lie == LIE_STREAM_BIG)
    out->stream_bytes = out->size + 1;
  else if (lie == LIE_STREAM_ZERO)
    out->stream_bytes = 0;
  else if (lie == LIE_EMPTY)
    out->size = 0;
  return 0;
}

static int liar_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                       int *width, int *height, char *err, size_t err_len) {
  int lie = *(const int *)instance;
  if (size < LIAR_HEADER || memcmp(data, "LIAR", 4))
    return liar_fail(err, err_len, "liar: not a liar file");
  uint32_t w = get32(data + 4), h = get32(data + 8);
  if (w < 2 || h < 1 || w > 4096 || h > 4096 || size != LIAR_HEADER + (size_t)w * h * 3)
    return liar_fail(err, err_len, "liar: bad size");
  if (lie == LIE_DECODED_SIZE)
    w--;
  uint8_t *p = malloc((size_t)w * h * 3);
  if (!p)
    return liar_fail(err, err_len, "liar: out of memory");
  for (uint32_t y = 0; y < h; y++) /* row y of the (maybe narrower) image */
    memcpy(p + (size_t)y * w * 3, data + LIAR_HEADER + (size_t)y * get32(data + 4) * 3,
           (size_t)w * 3);
  *rgb = p;
  *width = (int)w;
  *height = (int)h;
  return 0;
}

static const codec_vtable liar_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = "liar",
    .description = "test plugin: raw RGB that breaks the result contract on request",
    .knob = {.name = "level",
             .description = "high bits kept per sample",
             .kind = CODEC_KNOB_INT,
             .min = 1,
             .max = 8,
             .rate_increases = 1},
    .library_version = liar_version,
    .settings_help = "lie=none|stream_big|stream_zero|empty|decoded_size  which rule to break",
    .create = liar_create,
    .destroy = liar_destroy,
    .encode = liar_encode,
    .decode = liar_decode,
};

SAICBENCH_CODEC_EXPORT const codec_vtable *saicbench_codec_plugin_v1(uint32_t host_abi_version) {
  return host_abi_version == CODEC_ABI_VERSION ? &liar_vtable : NULL;
}
