/* Helpers for the tests of data/image.c and data/dataset.c (checks: sb_test.h): temporary
 * folders and PNG/JPEG writers that go straight to libpng/libjpeg (so the tests can produce formats
 * that image.c itself never writes: grey, 16-bit, palette, alpha, CMYK, progressive...). */
#ifndef SAICBENCH_DATA_TEST_UTIL_H
#define SAICBENCH_DATA_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sb_test.h"

/* strstr that tolerates NULL. */
int dt_contains(const char *haystack, const char *needle);

/* Creates a fresh folder under $TMPDIR (else /tmp); exits on failure. */
void dt_make_tmpdir(char *out, size_t len, const char *tag);
/* Removes a folder tree made by a test (does not follow symlinks). Kept when
 * SAICBENCH_KEEP_TMP is set, for debugging. */
void dt_remove_tree(const char *path);
/* snprintf into a fresh malloc()ed string; exits on allocation failure. */
char *dt_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dt_mkdir(const char *path);
void dt_write_file(const char *path, const void *data, size_t size);

/* Deterministic pseudo-random bytes (xorshift64*). */
uint64_t dt_rand(uint64_t *state);
/* w*h*3 bytes of a smooth pattern with some noise (compresses like a photo). */
uint8_t *dt_pattern_rgb(int w, int h, uint32_t seed);

/* Encodes a PNG in memory with libpng. `rows` holds height rows of packed samples in PNG's own
 * layout (big-endian 16-bit, sub-byte depths packed MSB first). palette: n_palette RGB triples;
 * trns: n_trns alpha values (palette) or one colour key (grey/RGB, as png_color_16). */
typedef struct dt_png_spec {
  int width, height, color_type, bit_depth, interlace;
  const uint8_t *samples; /* row-major, stride = row bytes */
  const uint8_t *palette;
  int n_palette;
  const uint8_t *trns;
  int n_trns;
  int trns_key; /* grey/RGB: write a tRNS colour key */
} dt_png_spec;
uint8_t *dt_png_encode(const dt_png_spec *spec, size_t *size);

/* Encodes a JPEG in memory with libjpeg: components 1 (grey), 3 (RGB) or 4 (CMYK). */
uint8_t *dt_jpeg_encode(const uint8_t *pixels, int w, int h, int components, int quality,
                        int progressive, size_t *size);

#endif
