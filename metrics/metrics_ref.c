/* Reference metrics: direct, obviously-correct double-precision code.
 *
 * No separable filtering, no SIMD, no running sums: every valid output position evaluates its
 * full 2-D window, first the weighted means, then the (co)variances in the centred form
 * sum w * (x - mu_x) * (y - mu_y), which does not suffer the cancellation of E[x^2] - mu^2.
 * Slow by design; the fast paths in metrics.c are tested against these. */
#include "metrics.h"
#include "metrics_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static const double gauss_w[METRICS_WIN] = METRICS_GAUSS_WEIGHTS;

void metrics_ref_ssim_plane(const double *x, const double *y, int width, int height, int rx, int ry,
                            double *ssim_mean, double *cs_mean) {
  /* Radius 0 along an axis means a single tap of weight 1 (no smoothing along it). */
  static const double one = 1.0;
  const double *wx = rx ? gauss_w : &one;
  const double *wy = ry ? gauss_w : &one;
  double ssim_sum = 0.0, cs_sum = 0.0;
  for (int i = ry; i < height - ry; i++) {
    for (int j = rx; j < width - rx; j++) {
      double mx = 0.0, my = 0.0;
      for (int u = -ry; u <= ry; u++) {
        for (int v = -rx; v <= rx; v++) {
          const double w = wy[u + ry] * wx[v + rx];
          const size_t p = (size_t)(i + u) * (size_t)width + (size_t)(j + v);
          mx += w * x[p];
          my += w * y[p];
        }
      }
      double sxx = 0.0, syy = 0.0, sxy = 0.0;
      for (int u = -ry; u <= ry; u++) {
        for (int v = -rx; v <= rx; v++) {
          const double w = wy[u + ry] * wx[v + rx];
          const size_t p = (size_t)(i + u) * (size_t)width + (size_t)(j + v);
          const double dx = x[p] - mx, dy = y[p] - my;
          sxx += w * dx * dx;
          syy += w * dy * dy;
          sxy += w * dx * dy;
        }
      }
      const double lum = (2.0 * mx * my + METRICS_C1) / (mx * mx + my * my + METRICS_C1);
      const double cs = (2.0 * sxy + METRICS_C2) / (sxx + syy + METRICS_C2);
      ssim_sum += lum * cs;
      cs_sum += cs;
    }
  }
  const double count = (double)(height - 2 * ry) * (double)(width - 2 * rx);
  *ssim_mean = ssim_sum / count;
  *cs_mean = cs_sum / count;
}

double metrics_mse_rgb8_ref(const uint8_t *a, const uint8_t *b, int width, int height) {
  if (metrics_check_args(a, b, width, height))
    return NAN;
  const size_t n = (size_t)width * (size_t)height * 3;
  double sum = 0.0; /* exact: every partial sum is an integer below 2^53 */
  for (size_t i = 0; i < n; i++) {
    const double d = (double)a[i] - (double)b[i];
    sum += d * d;
  }
  return sum / (double)n;
}

/* Channel c of an interleaved RGB8 image as a double plane. */
static void extract_channel(const uint8_t *img, size_t npix, int c, double *out) {
  for (size_t p = 0; p < npix; p++)
    out[p] = img[p * 3 + (size_t)c];
}

/* 2x2 box average, odd sizes floored. */
static void downsample(const double *in, int width, int height, double *out) {
  const int ow = width / 2, oh = height / 2;
  for (int i = 0; i < oh; i++) {
    for (int j = 0; j < ow; j++) {
      const double *p = in + (size_t)(2 * i) * (size_t)width + (size_t)(2 * j);
      out[(size_t)i * (size_t)ow + (size_t)j] = 0.25 * (p[0] + p[1] + p[width] + p[width + 1]);
    }
  }
}

double metrics_ssim_rgb8_ref(const uint8_t *a, const uint8_t *b, int width, int height) {
  if (metrics_check_args(a, b, width, height))
    return NAN;
  if (width < METRICS_WIN || height < METRICS_WIN)
    return NAN;
  const size_t npix = (size_t)width * (size_t)height;
  double *x = malloc(2 * npix * sizeof *x);
  if (!x) {
    errno = ENOMEM;
    return NAN;
  }
  double *y = x + npix;
  double total = 0.0;
  for (int c = 0; c < 3; c++) {
    extract_channel(a, npix, c, x);
    extract_channel(b, npix, c, y);
    double ssim, cs;
    metrics_ref_ssim_plane(x, y, width, height, METRICS_RADIUS, METRICS_RADIUS, &ssim, &cs);
    total += ssim;
  }
  free(x);
  return total / 3.0;
}

double metrics_ms_ssim_rgb8_ref(const uint8_t *a, const uint8_t *b, int width, int height) {
  if (metrics_check_args(a, b, width, height))
    return NAN;
  if (width < METRICS_MS_SSIM_MIN_SIDE || height < METRICS_MS_SSIM_MIN_SIDE)
    return NAN;
  const size_t npix = (size_t)width * (size_t)height;
  /* Two planes per image: current scale and next scale. */
  double *buf = malloc(4 * npix * sizeof *buf);
  if (!buf) {
    errno = ENOMEM;
    return NAN;
  }
  double total = 0.0;
  for (int c = 0; c < 3; c++) {
    double *x = buf, *y = buf + npix, *nx = buf + 2 * npix, *ny = buf + 3 * npix;
    extract_channel(a, npix, c, x);
    extract_channel(b, npix, c, y);
    int w = width, h = height;
    double value = 1.0;
    for (int s = 0; s < 5; s++) {
      const int rx = w >= METRICS_WIN ? METRICS_RADIUS : 0;
      const int ry = h >= METRICS_WIN ? METRICS_RADIUS : 0;
      double ssim, cs;
      metrics_ref_ssim_plane(x, y, w, h, rx, ry, &ssim, &cs);
      const double m = s < 4 ? cs : ssim;
      value *= pow(m > 0.0 ? m : 0.0, metrics_ms_ssim_weights[s]);
      if (s < 4) {
        downsample(x, w, h, nx);
        downsample(y, w, h, ny);
        double *t = x;
        x = nx;
        nx = t;
        t = y;
        y = ny;
        ny = t;
        w /= 2;
        h /= 2;
      }
    }
    total += value;
  }
  free(buf);
  return total / 3.0;
}
