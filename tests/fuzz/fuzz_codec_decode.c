/* libFuzzer target: the decoders of the built-in avif and jxl codecs (codecs/codec_avif.c,
 * codec_jxl.c: libavif with dav1d, libjxl) on arbitrary bytes, through their codec tables as the
 * harness calls them. Every input goes to both decoders (each refuses the other's format at its
 * signature, so mutations of either kind of seed reach the decoder they belong to). A decode must
 * fail with a message and no image, or return an image of 1..CODEC_MAX_PIXELS pixels whose every
 * byte is readable; decoding is deterministic (a second decode gives the same pixels). Any
 * violation aborts, which libFuzzer reports as a crash. Note that libjxl and dav1d print their own
 * diagnostics to stderr on corrupt input.
 * Seed corpus: tests/fuzz/corpus/codec_decode (files of both codecs at a few sizes and rates;
 * regenerate with CODEC_FUZZ_WRITE_CORPUS=DIR set, which writes them on the first input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_codecs[] = {"avif", "jxl"};
#define N_FUZZ_CODECS (sizeof fuzz_codecs / sizeof fuzz_codecs[0])

/* A deterministic test picture with smooth and sharp parts. */
static uint8_t *fuzz_image(int w, int h, unsigned seed) {
  uint8_t *p = malloc((size_t)w * (size_t)h * 3);
  if (!p)
    abort();
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        p[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] =
            (uint8_t)((x * (3 + c) + y * (5 - c)) * 4 + ((x / 4 + y / 4 + seed) % 2) * 60);
  return p;
}

static void write_corpus(const codec_vtable *const *vt, void *const *inst, const char *dir) {
  const int sizes[][2] = {{1, 1}, {7, 5}, {32, 32}, {40, 24}};
  /* Three rates per codec, in knob units: avif quantizer, jxl distance. */
  const double knobs[N_FUZZ_CODECS][3] = {{55, 30, 5}, {8, 1.5, 0.3}};
  for (size_t c = 0; c < N_FUZZ_CODECS; c++)
    for (int s = 0; s < 4; s++)
      for (int r = 0; r < 3; r++) {
        uint8_t *img = fuzz_image(sizes[s][0], sizes[s][1], (unsigned)(s + r));
        codec_encoded e;
        char err[256], path[600];
        if (vt[c]->encode(inst[c], img, sizes[s][0], sizes[s][1], knobs[c][r], &e, err,
                          sizeof err) == 0) {
          snprintf(path, sizeof path, "%s/seed_%s_%dx%d_r%d", dir, vt[c]->name, sizes[s][0],
                   sizes[s][1], r);
          FILE *f = fopen(path, "wb");
          if (f) {
            fwrite(e.data, 1, e.size, f);
            fclose(f);
          }
          free(e.data);
        }
        free(img);
      }
}

/* Built once (libFuzzer runs inputs one after another in one process); never freed. */
static const codec_vtable *vts[N_FUZZ_CODECS];
static void *insts[N_FUZZ_CODECS];

static void setup(void) {
  static codec_registry *reg;
  if (reg)
    return;
  char err[512];
  if (codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "fuzz_codec_decode: %s\n", err);
    abort();
  }
  for (size_t c = 0; c < N_FUZZ_CODECS; c++) {
    vts[c] = codec_registry_find(reg, fuzz_codecs[c]);
    if (!vts[c] || vts[c]->create(NULL, 0, &insts[c], err, sizeof err)) {
      fprintf(stderr, "fuzz_codec_decode: %s: %s\n", fuzz_codecs[c], vts[c] ? err : "missing");
      abort();
    }
  }
  const char *out = getenv("CODEC_FUZZ_WRITE_CORPUS");
  if (out)
    write_corpus(vts, insts, out);
}

static void decode_one(const codec_vtable *vt, const void *inst, const uint8_t *data, size_t size) {
  uint8_t *px = NULL, *px2 = NULL;
  int w = -1, h = -1, w2, h2;
  char err[512] = "";
  if (vt->decode(inst, data, size, &px, &w, &h, err, sizeof err)) {
    if (px || w || h || !err[0])
      abort();
    return;
  }
  if (!px || w < 1 || h < 1 || (uint64_t)w * (uint64_t)h > CODEC_MAX_PIXELS)
    abort();
  size_t n = (size_t)w * (size_t)h * 3;
  volatile uint8_t sum = 0;
  for (size_t i = 0; i < n; i++) /* every byte must be there (ASan) */
    sum = (uint8_t)(sum + px[i]);
  if (vt->decode(inst, data, size, &px2, &w2, &h2, err, sizeof err) || w2 != w || h2 != h ||
      memcmp(px, px2, n) != 0)
    abort();
  free(px);
  free(px2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  for (size_t c = 0; c < N_FUZZ_CODECS; c++)
    decode_one(vts[c], insts[c], size ? data : NULL, size);
  return 0;
}
