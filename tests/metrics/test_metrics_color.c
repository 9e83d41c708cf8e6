/* Unit tests of the colour and perceptual metrics (metrics.h): CIEDE2000 on the 34 published
 * pairs of Sharma, Wu and Dalal (2005), closed-form PSNR of YCbCr planes, identities, argument
 * errors, and Butteraugli's basic properties (0 on identical images, growing with the noise).
 * scikit-image and NumPy check the same functions on random and real images in
 * test_metrics_color_oracle.py.
 *
 *   test_metrics_color SHARMA_DATA_FILE */
#include "metrics.h"
#include "sb_test.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static uint8_t clamp_u8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v)); }

/* The published table gives dE00 to 4 decimals: agreement to half a unit of the last one. */
static void test_sharma_pairs(const char *path) {
  FILE *f = fopen(path, "r");
  CHECK(f != NULL, "%s: %s", path, strerror(errno));
  if (!f)
    return;
  char line[256];
  int pairs = 0;
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#' || line[0] == '\n')
      continue;
    int id;
    double l1[3], l2[3], want;
    if (sscanf(line, "%d %lf %lf %lf %lf %lf %lf %lf", &id, &l1[0], &l1[1], &l1[2], &l2[0], &l2[1],
               &l2[2], &want) != 8) {
      CHECK(0, "%s: cannot read '%s'", path, line);
      continue;
    }
    const double got = metrics_ciede2000_lab(l1, l2);
    CHECK(fabs(got - want) <= 0.5e-4 + 1e-12, "pair %d: dE00 %.6f, published %.4f", id, got, want);
    /* The formula is symmetric in its two colours (every term is squared or a product of two
     * terms that both change sign). */
    CHECK_NEAR(metrics_ciede2000_lab(l2, l1), got, 1e-12);
    pairs++;
  }
  fclose(f);
  CHECK(pairs == 34, "%d pairs read from %s", pairs, path);
}

static void test_lab_anchors(void) {
  double lab[3];
  metrics_srgb8_to_lab((const uint8_t[3]){255, 255, 255}, lab);
  /* The matrix's Y row sums to 1, so white has L* = 100; a*, b* are small but not 0 (the
   * matrix and the white point are rounded independently, as in scikit-image). */
  CHECK_NEAR(lab[0], 100.0, 1e-9);
  CHECK(fabs(lab[1]) < 0.01 && fabs(lab[2]) < 0.01, "white: a* %g b* %g", lab[1], lab[2]);
  metrics_srgb8_to_lab((const uint8_t[3]){0, 0, 0}, lab);
  CHECK(lab[0] == 0.0 && lab[1] == 0.0 && lab[2] == 0.0);
  /* Mid grey 119 is close to L* = 50 (the usual sRGB "18 % grey" check). */
  metrics_srgb8_to_lab((const uint8_t[3]){119, 119, 119}, lab);
  CHECK(fabs(lab[0] - 50.0) < 0.1, "grey 119: L* %g", lab[0]);
  /* One pixel: the image function is the pair function on the converted colours. */
  const uint8_t a[3] = {200, 30, 90}, b[3] = {190, 45, 80};
  double la[3], lb[3];
  metrics_srgb8_to_lab(a, la);
  metrics_srgb8_to_lab(b, lb);
  CHECK_NEAR(metrics_ciede2000_rgb8(a, b, 1, 1), metrics_ciede2000_lab(la, lb), 1e-12);
}

/* PSNR of YCbCr in closed form: a grey shift of d changes Y by d and Cb, Cr not at all; a change
 * of d in R alone changes Y by 0.299 d, Cb by -0.299 d / 1.772 and Cr by 0.701 d / 1.402 = d/2. */
static void test_ycbcr_closed_form(void) {
  enum { W = 17, H = 9, N = W * H * 3 };
  uint8_t a[N], b[N];
  uint64_t s = 7;
  for (int i = 0; i < N; i++)
    a[i] = (uint8_t)(20 + rng_next(&s) % 200);
  for (int d = 1; d <= 20; d += 19) {
    for (int i = 0; i < N; i++)
      b[i] = (uint8_t)(a[i] + d);
    metrics_ycbcr y;
    metrics_ycbcr_rgb8(a, b, W, H, &y);
    CHECK_NEAR(y.mse_y, (double)d * d, 1e-9);
    CHECK(y.mse_cb == 0.0 && y.mse_cr == 0.0, "grey shift %d: mse_cb %g mse_cr %g", d, y.mse_cb,
          y.mse_cr);
    CHECK_NEAR(y.psnr_y, 10 * log10(255.0 * 255.0 / ((double)d * d)), 1e-9);
    CHECK(y.psnr_cb == METRICS_PSNR_CAP_DB && y.psnr_cr == METRICS_PSNR_CAP_DB);
    CHECK_NEAR(y.psnr_ycbcr, (6 * y.psnr_y + 2 * METRICS_PSNR_CAP_DB) / 8, 1e-12);

    memcpy(b, a, sizeof b);
    for (int p = 0; p < W * H; p++)
      b[3 * p] = (uint8_t)(a[3 * p] + d);
    metrics_ycbcr_rgb8(a, b, W, H, &y);
    CHECK_NEAR(y.mse_y, pow(0.299 * d, 2), 1e-9);
    CHECK_NEAR(y.mse_cb, pow(0.299 * d / 1.772, 2), 1e-9);
    CHECK_NEAR(y.mse_cr, pow(0.5 * d, 2), 1e-9);
    CHECK_NEAR(y.psnr_cr, 10 * log10(255.0 * 255.0 / pow(0.5 * d, 2)), 1e-9);
    CHECK_NEAR(y.psnr_ycbcr, (6 * y.psnr_y + y.psnr_cb + y.psnr_cr) / 8, 1e-12);
  }
}

static void test_identical_and_errors(void) {
  enum { W = 40, H = 33, N = W * H * 3 };
  static uint8_t a[N];
  uint64_t s = 11;
  for (int i = 0; i < N; i++)
    a[i] = (uint8_t)rng_next(&s);
  metrics_ycbcr y;
  metrics_ycbcr_rgb8(a, a, W, H, &y);
  CHECK(y.mse_y == 0 && y.mse_cb == 0 && y.mse_cr == 0);
  CHECK(y.psnr_y == METRICS_PSNR_CAP_DB && y.psnr_ycbcr == METRICS_PSNR_CAP_DB);
  CHECK(metrics_ciede2000_rgb8(a, a, W, H) == 0.0);
  double mx = -1, p3 = -1;
  CHECK(metrics_butteraugli_rgb8(a, a, W, H, &mx, &p3) == 0);
  CHECK(mx == 0.0 && p3 == 0.0, "identical images: butteraugli max %g, 3-norm %g", mx, p3);

  errno = 0;
  metrics_ycbcr_rgb8(NULL, a, W, H, &y);
  CHECK(isnan(y.psnr_y) && isnan(y.psnr_ycbcr) && isnan(y.mse_cr) && errno == EINVAL);
  errno = 0;
  CHECK(isnan(metrics_ciede2000_rgb8(a, a, 0, H)) && errno == EINVAL);
  errno = 0;
  CHECK(metrics_butteraugli_rgb8(a, NULL, W, H, &mx, &p3) == -1 && isnan(mx) && isnan(p3) &&
        errno == EINVAL);
  CHECK(!strncmp(metrics_butteraugli_version(), "libjxl ", 7), "%s", metrics_butteraugli_version());
}

/* Butteraugli on a smooth image and copies with uniform noise of growing amplitude: both the
 * max and the 3-norm must grow; small images. */
static void test_butteraugli_noise(void) {
  enum { W = 64, H = 48, N = W * H * 3 };
  static uint8_t a[N], b[N];
  for (int i = 0; i < H; i++)
    for (int j = 0; j < W; j++)
      for (int c = 0; c < 3; c++)
        a[(i * W + j) * 3 + c] =
            clamp_u8(128 + 80 * sin(0.11 * (j + 9 * c)) * cos(0.07 * (i - 5 * c)));
  double last_max = 0, last_p3 = 0;
  const int amps[] = {1, 2, 4, 8, 16, 32, 64};
  for (size_t k = 0; k < sizeof amps / sizeof amps[0]; k++) {
    uint64_t s = 99; /* the same noise pattern, scaled */
    for (int i = 0; i < N; i++) {
      const double u = (double)(rng_next(&s) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
      b[i] = clamp_u8(a[i] + amps[k] * u);
    }
    double mx = NAN, p3 = NAN;
    CHECK(metrics_butteraugli_rgb8(a, b, W, H, &mx, &p3) == 0);
    CHECK(mx > last_max && p3 > last_p3 && p3 <= mx,
          "noise +-%d: max %g (before %g), 3-norm %g (before %g)", amps[k], mx, last_max, p3,
          last_p3);
    last_max = mx;
    last_p3 = p3;
  }
  /* Below 8 px on a side libjxl returns 0 for any pair: undefined (NAN), not "identical"; at
   * 8 x 8 a difference shows. */
  for (int w = 7; w <= 8; w++) {
    double mx = 0, p3 = 0;
    CHECK(metrics_butteraugli_rgb8(b, a, w, 8, &mx, &p3) == 0);
    CHECK(w < 8 ? isnan(mx) && isnan(p3) : mx > 0 && p3 > 0, "%dx8: max %g, 3-norm %g", w, mx, p3);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_metrics_color SHARMA_DATA_FILE\n");
    return 2;
  }
  test_sharma_pairs(argv[1]);
  test_lab_anchors();
  test_ycbcr_closed_form();
  test_identical_and_errors();
  test_butteraugli_noise();
  return sb_test_status("test_metrics_color");
}
