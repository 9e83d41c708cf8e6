/* Test plugin for `saicbench gate`'s determinism check (tests/gate/test_gate.py): codec "flaky",
 * a raw RGB container whose knob `level` (1..8) keeps that many high bits of every sample.
 * Setting `defect`: none (default, deterministic), encode (every encode writes a different call
 * counter into the file) or decode (the decoded first sample depends on OMP_NUM_THREADS, as a
 * codec whose arithmetic depends on its thread count would).
 *
 * File: "FLK1", width and height (uint32 little-endian), level, counter byte, w*h*3 samples. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saicbench_codec.h"

#define FLK_HEADER 14

enum { DEFECT_NONE, DEFECT_ENCODE, DEFECT_DECODE };

static unsigned g_calls; /* the encode defect's counter (deliberately shared state) */

static int flk_fail(char *err, size_t err_len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
  return -1;
}

static const char *flk_version(void) { return "saicbench test flaky 1.0"; }

static int flk_create(const codec_option *options, size_t n_options, void **instance, char *err,
                      size_t err_len) {
  int defect = DEFECT_NONE;
  for (size_t i = 0; i < n_options; i++) {
    if (strcmp(options[i].key, "defect"))
      return flk_fail(err, err_len, "flaky: unknown setting '%s'", options[i].key);
    if (!strcmp(options[i].value, "none"))
      defect = DEFECT_NONE;
    else if (!strcmp(options[i].value, "encode"))
      defect = DEFECT_ENCODE;
    else if (!strcmp(options[i].value, "decode"))
      defect = DEFECT_DECODE;
    else
      return flk_fail(err, err_len, "flaky: defect '%s' (none, encode, decode)", options[i].value);
  }
  int *p = malloc(sizeof *p);
  if (!p)
    return flk_fail(err, err_len, "flaky: out of memory");
  *p = defect;
  *instance = p;
  return 0;
}

static void flk_destroy(void *instance) { free(instance); }

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int flk_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                      codec_encoded *out, char *err, size_t err_len) {
  int defect = *(const int *)instance;
  if (!(knob >= 1 && knob <= 8) || width < 1 || height < 1 || width > 4096 || height > 4096)
    return flk_fail(err, err_len, "flaky: bad input");
  unsigned level = (unsigned)(knob + 0.5);
  size_t n = (size_t)width * (size_t)height * 3;
  uint8_t *d = malloc(FLK_HEADER + n);
  if (!d)
    return flk_fail(err, err_len, "flaky: out of memory");
  memcpy(d, "FLK1", 4);
  put32(d + 4, (uint32_t)width);
  put32(d + 8, (uint32_t)height);
  d[12] = (uint8_t)level;
  d[13] = defect == DEFECT_ENCODE ? (uint8_t)__atomic_add_fetch(&g_calls, 1, __ATOMIC_RELAXED) : 0;
  uint8_t mask = (uint8_t)(0xFF << (8 - level));
  for (size_t i = 0; i < n; i++)
    d[FLK_HEADER + i] = rgb[i] & mask;
  out->data = d;
  out->size = FLK_HEADER + n;
  out->stream_bytes = n;
  return 0;
}

static int flk_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                      int *width, int *height, char *err, size_t err_len) {
  int defect = *(const int *)instance;
  if (size < FLK_HEADER || memcmp(data, "FLK1", 4))
    return flk_fail(err, err_len, "flaky: not a flaky file");
  uint32_t w = get32(data + 4), h = get32(data + 8);
  if (w < 1 || h < 1 || w > 4096 || h > 4096 || size != FLK_HEADER + (size_t)w * h * 3)
    return flk_fail(err, err_len, "flaky: bad size");
  size_t n = (size_t)w * h * 3;
  uint8_t *p = malloc(n);
  if (!p)
    return flk_fail(err, err_len, "flaky: out of memory");
  memcpy(p, data + FLK_HEADER, n);
  const char *threads = getenv("OMP_NUM_THREADS");
  if (defect == DEFECT_DECODE && threads)
    p[0] ^= (uint8_t)atoi(threads);
  *rgb = p;
  *width = (int)w;
  *height = (int)h;
  return 0;
}

static const codec_vtable flk_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = "flaky",
    .description = "test plugin: raw RGB, optionally nondeterministic",
    .knob = {.name = "level",
             .description = "high bits kept per sample",
             .kind = CODEC_KNOB_INT,
             .min = 1,
             .max = 8,
             .rate_increases = 1},
    .library_version = flk_version,
    .settings_help = "defect=none|encode|decode  which side is nondeterministic",
    .create = flk_create,
    .destroy = flk_destroy,
    .encode = flk_encode,
    .decode = flk_decode,
};

SAICBENCH_CODEC_EXPORT const codec_vtable *saicbench_codec_plugin_v1(uint32_t host_abi_version) {
  return host_abi_version == CODEC_ABI_VERSION ? &flk_vtable : NULL;
}
