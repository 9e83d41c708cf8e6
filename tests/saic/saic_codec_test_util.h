/* saic_codec_test_util.h - a small random-initialised SAIC model written as a training
 * checkpoint and exported as a codec checkpoint, plus synthetic images; shared by the codec's
 * test, benchmark and fuzz target (header-only, static). */
#ifndef SAIC_CODEC_TEST_UTIL_H
#define SAIC_CODEC_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "saic.h"
#include "saic_export.h"

/* Uniform [0, 1) draws for saic_density_init (a 64-bit LCG; test data only). */
static inline double sct_uniform01(void *state) {
  uint64_t *s = state;
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*s >> 11) * 0x1.0p-53;
}

/* Writes a training-style checkpoint (arch saic-fp, "enc."/"dec." parts, metadata n, m, levels)
 * of a random model from seed. Level l gets gain exp(5 + gain_step * l) and inverse gain
 * exp(-5 - gain_step * l) in every channel, so rate grows with the level as in a trained model.
 * A random model's latents are small (rms ~0.03), so the density of the unscaled latent is
 * re-initialised narrow (init scale 0.1) to be a plausible prior for them. */
/* film: a FiLM model (saic_model_cfg.film) whose tables get fixed non-zero values (log scales
 * in [-0.3, 0.3], shifts in [-0.1, 0.1], different per level and channel), metadata film "1". */
static inline int sct_write_train_ckpt_film(const char *path, int n, int m, int levels,
                                            uint64_t seed, double gain_step, int film, char *err,
                                            size_t err_len) {
  const saic_model_cfg cfg = {n, m, levels, film};
  nn_err e = {0};
  saic_model *md = saic_model_create(&cfg, 32, 32, 1, seed, &e);
  if (!md) {
    snprintf(err, err_len, "model: %s", e.msg);
    return -1;
  }
  uint64_t lcg = seed ^ 0x9e3779b97f4a7c15ull;
  saic_density_init(saic_model_density(md), m, 0.1, sct_uniform01, &lcg);
  nn_param *g = nn_net_find_param(saic_model_encoder(md), "gain");
  nn_param *ig = nn_net_find_param(saic_model_decoder(md), "inv_gain");
  for (int l = 0; l < levels; l++)
    for (int c = 0; c < m; c++) {
      g->value.data[l * m + c] = (float)(5 + gain_step * l);
      ig->value.data[l * m + c] = (float)(-5 - gain_step * l);
    }
  if (film) {
    nn_param *fs = nn_net_find_param(saic_model_decoder(md), SAIC_MODEL_FILM_SCALE);
    nn_param *fb = nn_net_find_param(saic_model_decoder(md), SAIC_MODEL_FILM_SHIFT);
    for (int i = 0; i < levels * 2 * n; i++) {
      fs->value.data[i] = 0.3f * (float)((i * 7 + 3) % 13 - 6) / 6.f;
      fb->value.data[i] = 0.1f * (float)((i * 5 + 1) % 11 - 5) / 5.f;
    }
  }
  char sn[16], sm[16], sl[16];
  snprintf(sn, sizeof sn, "%d", n);
  snprintf(sm, sizeof sm, "%d", m);
  snprintf(sl, sizeof sl, "%d", levels);
  const nn_kv meta[] = {
      {"arch", SAIC_CKPT_TRAIN_ARCH}, {"n", sn}, {"m", sm}, {"levels", sl}, {"lambda", "0.001"},
      {SAIC_META_FILM, "1"}};
  const nn_ckpt_part parts[2] = {{"enc.", saic_model_encoder(md)},
                                 {"dec.", saic_model_decoder(md)}};
  int rc = nn_ckpt_save_parts(path, parts, 2, NULL, 0, meta, film ? 6 : 5, &e);
  if (rc != NN_OK)
    snprintf(err, err_len, "save: %s", e.msg);
  saic_model_free(md);
  return rc == NN_OK ? 0 : -1;
}

static inline int sct_write_train_ckpt(const char *path, int n, int m, int levels, uint64_t seed,
                                       double gain_step, char *err, size_t err_len) {
  return sct_write_train_ckpt_film(path, n, m, levels, seed, gain_step, 0, err, err_len);
}

/* Training checkpoint dir/NAME.train.ckpt exported to dir/NAME.ckpt (path in codec_path); film:
 * a FiLM model with non-zero tables (sct_write_train_ckpt_film). */
static inline int sct_make_codec_film(const char *dir, const char *name, int n, int m, int levels,
                                      uint64_t seed, double gain_step, int film, char *codec_path,
                                      size_t len, char *err, size_t err_len) {
  char train[512];
  snprintf(train, sizeof train, "%s/%s.train.ckpt", dir, name);
  snprintf(codec_path, len, "%s/%s.ckpt", dir, name);
  if (sct_write_train_ckpt_film(train, n, m, levels, seed, gain_step, film, err, err_len))
    return -1;
  nn_err e = {0};
  if (saic_export(train, codec_path, NULL, NULL, &e) != NN_OK) {
    snprintf(err, err_len, "export: %s", e.msg);
    return -1;
  }
  return 0;
}

static inline int sct_make_codec(const char *dir, const char *name, int n, int m, int levels,
                                 uint64_t seed, double gain_step, char *codec_path, size_t len,
                                 char *err, size_t err_len) {
  return sct_make_codec_film(dir, name, n, m, levels, seed, gain_step, 0, codec_path, len, err,
                             err_len);
}

/* A w x h RGB8 test image: smooth gradients, a few edges and seeded noise (malloc()ed). */
static inline uint8_t *sct_image(int w, int h, uint64_t seed) {
  uint8_t *p = malloc((size_t)w * (size_t)h * 3);
  if (!p)
    abort();
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double v = 128 + 90 * sin(0.11 * (x + 3 * c) + 0.07 * y + (double)(seed % 7)) +
                   ((x / 9 + y / 7) % 2 ? 25 : -25) + (double)(s % 21) - 10;
        p[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] = (uint8_t)(v < 0     ? 0
                                                                           : v > 255 ? 255
                                                                                     : v);
      }
  return p;
}

#endif
