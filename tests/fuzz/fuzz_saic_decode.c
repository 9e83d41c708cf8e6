/* libFuzzer target: the whole SAIC decoder (saic_codec_decode: header, entropy decoding,
 * synthesis) on arbitrary bytes, with a fixed small model (n 8, m 8, 3 levels, seed 1, built and
 * exported into a temporary folder on the first input) and a 4096-pixel limit so every input
 * decodes quickly. Each input is decoded as given and, when its second byte is not the check
 * byte its other bytes call for (saic_codec_stream_check; format 2, saic_codec.h), once more with
 * the check byte patched in (so mutations get past the CRC to the size rules and the payload
 * decoder; the files of this corpus named by hash were found against format 1 and replay as
 * arbitrary inputs). A decode must fail with a message or return an image of the size its header
 * declares, and decoding is deterministic (a second decode gives the same pixels). Every input
 * goes through two such models: the plain one and one with a rate-conditioned decoder (FiLM,
 * saic.h; its streams differ only in the check byte, which is patched per model). Any violation
 * aborts, which libFuzzer reports as a crash.
 * Seed corpus: tests/fuzz/corpus/saic_decode (streams of this model at several sizes and rates;
 * regenerate with SAIC_FUZZ_WRITE_CORPUS=DIR set, which writes them on the first input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../saic/saic_codec_test_util.h"
#include "saic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void write_corpus(saic_codec *c, const char *dir) {
  const int sizes[][2] = {{32, 32}, {1, 1}, {33, 17}, {8, 8}, {64, 48}, {7, 40}};
  const double rates[] = {0, 1, 2};
  for (int s = 0; s < 6; s++)
    for (int r = 0; r < 3; r++) {
      uint8_t *img = sct_image(sizes[s][0], sizes[s][1], (uint64_t)(s * 3 + r)), *d;
      size_t n;
      char err[256], path[600];
      if (saic_codec_encode(c, img, sizes[s][0], sizes[s][1], rates[r], &d, &n, NULL, err,
                            sizeof err) == 0) {
        snprintf(path, sizeof path, "%s/seed_%dx%d_r%d", dir, sizes[s][0], sizes[s][1], r);
        FILE *f = fopen(path, "wb");
        if (f) {
          fwrite(d, 1, n, f);
          fclose(f);
        }
        free(d);
      }
      free(img);
    }
}

/* Built once per kind (libFuzzer runs inputs one after another in one process); never freed.
 * film 0: the plain model; 1: the same with a rate-conditioned decoder (FiLM tables non-zero). */
static saic_codec *fixed_codec(int film) {
  static saic_codec *cs[2];
  saic_codec **cp = &cs[film ? 1 : 0];
  if (*cp)
    return *cp;
  saic_codec *c = NULL;
  char dir[] = "/tmp/fuzz_saic_decode_XXXXXX", path[512], train[512], err[512];
  if (!mkdtemp(dir))
    abort();
  if (sct_make_codec_film(dir, "m", 8, 8, 3, 1, 1.2, film, path, sizeof path, err, sizeof err)) {
    fprintf(stderr, "fuzz_saic_decode: %s\n", err);
    abort();
  }
  saic_codec_opts o = {1, 4096};
  if (saic_codec_open(path, &o, &c, err, sizeof err)) {
    fprintf(stderr, "fuzz_saic_decode: %s\n", err);
    abort();
  }
  snprintf(train, sizeof train, "%s/m.train.ckpt", dir);
  remove(train);
  remove(path);
  rmdir(dir);
  const char *out = getenv("SAIC_FUZZ_WRITE_CORPUS");
  if (out && !film)
    write_corpus(c, out);
  return *cp = c;
}

static void decode_one(saic_codec *c, const uint8_t *data, size_t size) {
  uint8_t *px = NULL, *px2 = NULL;
  int w = -1, h = -1, w2, h2;
  char err[512] = "";
  if (saic_codec_decode(c, data, size, &px, &w, &h, err, sizeof err)) {
    if (px || w || h || !err[0])
      abort();
    return;
  }
  saic_stream_info info;
  if (!px || saic_codec_parse_header(c, data, size, &info, err, sizeof err) || info.width != w ||
      info.height != h || (size_t)w * (size_t)h > 4096)
    abort();
  if (saic_codec_decode(c, data, size, &px2, &w2, &h2, err, sizeof err) || w2 != w || h2 != h ||
      memcmp(px, px2, (size_t)w * (size_t)h * 3) != 0)
    abort();
  free(px);
  free(px2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (int film = 0; film < 2; film++) {
    saic_codec *c = fixed_codec(film);
    decode_one(c, size ? data : NULL, size);
    if (size >= 2 && data[1] != saic_codec_stream_check(c, data, size)) {
      uint8_t *copy = malloc(size);
      if (!copy)
        abort();
      memcpy(copy, data, size);
      copy[1] = saic_codec_stream_check(c, copy, size);
      decode_one(c, copy, size);
      free(copy);
    }
  }
  return 0;
}
