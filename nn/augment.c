/* augment.c - seeded PRNG (splitmix64 -> xoshiro256**) and CIFAR-style augmentation. */
#include <math.h>
#include <string.h>

#include "nn_internal.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void nn_rng_seed(nn_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nn_rng_next(nn_rng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

uint32_t nn_rng_below(nn_rng *r, uint32_t n) {
  /* Lemire's multiply-shift with rejection: unbiased, usually one draw. */
  uint64_t m = (uint64_t)(uint32_t)(nn_rng_next(r) >> 32) * n;
  uint32_t l = (uint32_t)m;
  if (l < n) {
    uint32_t th = (uint32_t)(-n) % n;
    while (l < th) {
      m = (uint64_t)(uint32_t)(nn_rng_next(r) >> 32) * n;
      l = (uint32_t)m;
    }
  }
  return (uint32_t)(m >> 32);
}

double nn_rng_uniform(nn_rng *r) { return (double)(nn_rng_next(r) >> 11) * 0x1.0p-53; }

double nn_rng_normal(nn_rng *r) {
  double u1 = 1.0 - nn_rng_uniform(r), u2 = nn_rng_uniform(r); /* u1 in (0, 1] */
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

int nn_augment_crop_flip(nn_rng *r, const nn_tensor *in, nn_tensor *out, int pad, bool flip,
                         nn_err *err) {
  if (!in || !out || !in->data || !out->data || in->n != out->n || in->c != out->c ||
      in->h != out->h || in->w != out->w)
    return nn_err_set(err, NN_E_SHAPE, "nn_augment_crop_flip: input and output shapes differ");
  if (pad < 0 || pad > in->h || pad > in->w)
    return nn_err_set(err, NN_E_ARG, "nn_augment_crop_flip: pad %d out of range", pad);
  if (in->data == out->data)
    return nn_err_set(err, NN_E_ARG, "nn_augment_crop_flip: in and out alias");
  const int C = in->c, H = in->h, W = in->w;
  for (int n = 0; n < in->n; n++) {
    /* Offsets of the crop window inside the padded image; always three draws per sample so the
     * stream does not depend on the flip setting. */
    int oy = (int)nn_rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
    int ox = (int)nn_rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
    bool f = nn_rng_below(r, 2) && flip;
    for (int c = 0; c < C; c++) {
      const float *src = in->data + ((size_t)n * C + c) * H * W;
      float *dst = out->data + ((size_t)n * C + c) * H * W;
      for (int i = 0; i < H; i++) {
        int si = i + oy;
        for (int j = 0; j < W; j++) {
          int sj = (f ? W - 1 - j : j) + ox;
          dst[i * W + j] = (si >= 0 && si < H && sj >= 0 && sj < W) ? src[si * W + sj] : 0.f;
        }
      }
    }
  }
  return NN_OK;
}
