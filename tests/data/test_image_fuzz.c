/* Robustness of image_decode_memory on damaged input: valid PNGs and JPEGs truncated at every
 * length and with random bytes flipped (fixed seed, so failures reproduce). The decoder must
 * never crash, hang or leak (run under ASan/UBSan in CI); it must either fail with a message
 * that starts with the file name, or return a sane image.
 *
 * Usage: test_data_image_fuzz [rounds-per-file] (default 4000). */
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "data_test_util.h"
#include "data.h"

static long n_ok, n_failed;

static void try_decode(const uint8_t *data, size_t size, const char *name) {
  image_rgb8 img;
  char err[512] = "";
  if (image_decode_memory(data, size, name, &img, err, sizeof err) == 0) {
    CHECK(img.rgb && img.width > 0 && img.height > 0 && img.width <= 32768 && img.height <= 32768,
          "%s: bad image %dx%d", name, img.width, img.height);
    /* Touch every byte so ASan sees a short buffer. */
    size_t n = (size_t)img.width * (size_t)img.height * 3;
    unsigned s = 0;
    for (size_t i = 0; i < n; i++)
      s += img.rgb[i];
    (void)s;
    image_free(&img);
    n_ok++;
  } else {
    CHECK(!strncmp(err, name, strlen(name)) && strlen(err) > strlen(name) + 2,
          "%s: message '%s' should start with the name", name, err);
    CHECK(img.rgb == NULL);
    n_failed++;
  }
}

static void fuzz(const uint8_t *valid, size_t size, const char *name, int rounds, uint64_t seed) {
  uint8_t *buf = malloc(size);
  /* Every prefix: exercises each "unexpected end" path. */
  for (size_t len = 0; len <= size; len++) {
    memcpy(buf, valid, len); /* a fresh copy, so reads past len are ASan errors */
    try_decode(buf, len, name);
  }
  /* Random damage: 1..8 random bytes, plus sometimes a cut. */
  uint64_t st = seed;
  for (int r = 0; r < rounds; r++) {
    size_t len = size;
    memcpy(buf, valid, size);
    int flips = 1 + (int)(dt_rand(&st) % 8);
    for (int k = 0; k < flips; k++) {
      /* Headers are where the interesting decisions are: bias half the flips to them. */
      size_t pos = (size_t)(dt_rand(&st) % (k % 2 ? size : (size < 200 ? size : 200)));
      uint64_t v = dt_rand(&st);
      buf[pos] = (v & 256) ? (uint8_t)v : (uint8_t)(buf[pos] ^ (1u << (v % 8)));
    }
    if (dt_rand(&st) % 4 == 0)
      len = (size_t)(dt_rand(&st) % size);
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    try_decode(exact, len, name);
    free(exact);
  }
  free(buf);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 4000;
  int w = 45, h = 37;
  uint8_t *rgb = dt_pattern_rgb(w, h, 11);

  /* PNG from image.c's own encoder (8-bit RGB), plus interlaced palette and 16-bit grey
   * variants written with libpng, to reach those code paths too. */
  image_rgb8 img = {w, h, rgb};
  uint8_t *png;
  size_t size;
  char err[256];
  if (image_encode_png(&img, &png, &size, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  fuzz(png, size, "fuzz.png", rounds, 1);
  free(png);

  uint8_t pal[4 * 3] = {0, 0, 0, 255, 0, 0, 0, 255, 0, 255, 255, 255};
  uint8_t idx[16 * 16];
  for (int i = 0; i < 16 * 16; i++)
    idx[i] = (uint8_t)((i / 3) % 4);
  dt_png_spec ps = {.width = 16,
                    .height = 16,
                    .color_type = PNG_COLOR_TYPE_PALETTE,
                    .bit_depth = 8,
                    .interlace = 1,
                    .samples = idx,
                    .palette = pal,
                    .n_palette = 4};
  png = dt_png_encode(&ps, &size);
  fuzz(png, size, "fuzz_pal.png", rounds / 2, 2);
  free(png);
  uint8_t deep[12 * 10 * 2];
  for (size_t i = 0; i < sizeof deep; i++)
    deep[i] = (uint8_t)(i * 29);
  dt_png_spec ds = {.width = 12,
                    .height = 10,
                    .color_type = PNG_COLOR_TYPE_GRAY,
                    .bit_depth = 16,
                    .samples = deep};
  png = dt_png_encode(&ds, &size);
  fuzz(png, size, "fuzz16.png", rounds / 2, 3);
  free(png);

  /* JPEG: baseline and progressive RGB, and grey. */
  uint8_t *jpg = dt_jpeg_encode(rgb, w, h, 3, 85, 0, &size);
  fuzz(jpg, size, "fuzz.jpg", rounds, 4);
  free(jpg);
  jpg = dt_jpeg_encode(rgb, w, h, 3, 85, 1, &size);
  fuzz(jpg, size, "fuzz_prog.jpg", rounds, 5);
  free(jpg);
  uint8_t grey[32 * 24];
  for (int i = 0; i < 32 * 24; i++)
    grey[i] = (uint8_t)(i * 3);
  jpg = dt_jpeg_encode(grey, 32, 24, 1, 80, 0, &size);
  fuzz(jpg, size, "fuzz_grey.jpg", rounds / 2, 6);
  free(jpg);

  free(rgb);
  printf("decoded %ld damaged inputs, refused %ld\n", n_ok, n_failed);
  CHECK(n_failed > 0 && n_ok > 0, "expected both outcomes");
  return sb_test_status("data_image_fuzz");
}
