/* Helpers shared by the codec tests: procedural images, PSNR and a PRNG; the checks are
 * sb_test.h's. */
#ifndef SAICBENCH_CODEC_TEST_UTIL_H
#define SAICBENCH_CODEC_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "saicbench_codec.h"
#include "sb_test.h"

typedef enum ctu_pattern {
  CTU_SMOOTH = 0,  /* low-frequency gradients and waves: easy to compress */
  CTU_TEXTURED = 1 /* waves + hard edges + mild noise: a natural-image stand-in */
} ctu_pattern;

/* malloc()ed packed RGB8 image, deterministic in (w, h, pattern, seed). Aborts on OOM. */
uint8_t *ctu_make_image(int w, int h, ctu_pattern pattern, uint64_t seed);

/* PSNR over all channels, docs/metrics.md#psnr: MSE = 0 gives 100 dB. */
double ctu_psnr(const uint8_t *a, const uint8_t *b, size_t n_bytes);

/* splitmix64: deterministic, independent streams per seed. */
uint64_t ctu_rand(uint64_t *state);

/* Monotonic clock in seconds. */
double ctu_now(void);

/* Reads every byte of a decoded image so ASan sees any short allocation; returns a checksum. */
uint32_t ctu_touch(const uint8_t *p, size_t n);

#endif
