#include "codec_test_util.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

uint64_t ctu_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint8_t clamp8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5); }

uint8_t *ctu_make_image(int w, int h, ctu_pattern pattern, uint64_t seed) {
  uint8_t *img = malloc((size_t)w * (size_t)h * 3);
  if (!img) {
    fprintf(stderr, "out of memory\n");
    abort();
  }
  uint64_t st = seed;
  /* Frequencies are per image side, so small and large images look alike. */
  double sx = 6.2831853 / (w > 1 ? w : 2), sy = 6.2831853 / (h > 1 ? h : 2);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      double r = 128 + 90 * sin(1.3 * x * sx + 0.7 * y * sy);
      double g = 120 + 80 * cos(0.9 * x * sx - 1.1 * y * sy + 0.5);
      double b = 60 + 150.0 * (x + y) / (w + h);
      if (pattern == CTU_TEXTURED) {
        /* A disc and a bar with hard edges, finer waves and +-12 noise. */
        double dx = x - 0.6 * w, dy = y - 0.4 * h, rad = 0.25 * (w < h ? w : h);
        if (dx * dx + dy * dy < rad * rad) {
          r = 230 - r * 0.2;
          g *= 0.4;
        }
        if (x > w / 5 && x < w / 5 + 1 + w / 12)
          b = 20;
        r += 25 * sin(7.0 * x * sx) * cos(5.0 * y * sy);
        g += 20 * sin(11.0 * (x + y) * sx);
        r += (double)(ctu_rand(&st) % 25) - 12;
        g += (double)(ctu_rand(&st) % 25) - 12;
        b += (double)(ctu_rand(&st) % 25) - 12;
      }
      uint8_t *p = img + ((size_t)y * (size_t)w + (size_t)x) * 3;
      p[0] = clamp8(r);
      p[1] = clamp8(g);
      p[2] = clamp8(b);
    }
  }
  return img;
}

double ctu_psnr(const uint8_t *a, const uint8_t *b, size_t n) {
  double se = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - (double)b[i];
    se += d * d;
  }
  if (se == 0)
    return 100.0;
  return 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

double ctu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint32_t ctu_touch(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}
