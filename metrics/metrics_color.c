/* Colour metrics: PSNR of BT.601 YCbCr planes and CIEDE2000 (definitions in metrics.h and
 * docs/metrics.md).
 *
 * Both are per-pixel formulas with no filtering, cheap next to SSIM/MS-SSIM, so there is one
 * plain C implementation in double precision, checked against independent NumPy/scikit-image
 * code by tests/metrics/test_metrics_color_oracle.py rather than against a second C version. */
#include "metrics.h"
#include "metrics_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* ---- PSNR of YCbCr ------------------------------------------------------------------------- */

/* A 128-bit unsigned sum in two words: the squared integer plane differences reach 2^38 per
 * pixel, so a 64-bit sum could overflow on a large image (2^26 pixels and up). */
typedef struct sum128 {
  uint64_t lo, hi;
} sum128;

static void sum128_add(sum128 *s, uint64_t v) {
  s->lo += v;
  s->hi += s->lo < v;
}

/* sum / (scale^2 * npix) for an exact integer sum of squared differences scaled by `scale`. */
static double sum128_mse(const sum128 *s, double scale, size_t npix) {
  const double sum = ldexp((double)s->hi, 64) + (double)s->lo;
  return sum / (scale * scale) / (double)npix;
}

void metrics_ycbcr_rgb8(const uint8_t *a, const uint8_t *b, int width, int height,
                        metrics_ycbcr *out) {
  out->mse_y = out->mse_cb = out->mse_cr = NAN;
  out->psnr_y = out->psnr_cb = out->psnr_cr = out->psnr_ycbcr = NAN;
  if (metrics_check_args(a, b, width, height))
    return;
  const size_t npix = (size_t)width * (size_t)height;
  /* With integer RGB differences dr, dg, db the plane differences are exactly
   *   dY  = ( 299 dr + 587 dg + 114 db) / 1000
   *   dCb = (-299 dr - 587 dg + 886 db) / 1772   (= (dB - dY) / 1.772)
   *   dCr = ( 701 dr - 587 dg - 114 db) / 1402   (= (dR - dY) / 1.402)
   * so the numerators' squares are summed exactly and divided once at the end: no rounding
   * inside the sum, and the result does not depend on summation order. */
  sum128 sy = {0, 0}, scb = {0, 0}, scr = {0, 0};
  for (size_t p = 0; p < npix; p++) {
    const int64_t dr = (int64_t)a[3 * p] - b[3 * p];
    const int64_t dg = (int64_t)a[3 * p + 1] - b[3 * p + 1];
    const int64_t db = (int64_t)a[3 * p + 2] - b[3 * p + 2];
    const int64_t ny = 299 * dr + 587 * dg + 114 * db;
    const int64_t ncb = -299 * dr - 587 * dg + 886 * db;
    const int64_t ncr = 701 * dr - 587 * dg - 114 * db;
    sum128_add(&sy, (uint64_t)(ny * ny));
    sum128_add(&scb, (uint64_t)(ncb * ncb));
    sum128_add(&scr, (uint64_t)(ncr * ncr));
  }
  out->mse_y = sum128_mse(&sy, 1000.0, npix);
  out->mse_cb = sum128_mse(&scb, 1772.0, npix);
  out->mse_cr = sum128_mse(&scr, 1402.0, npix);
  out->psnr_y = metrics_psnr_from_mse(out->mse_y);
  out->psnr_cb = metrics_psnr_from_mse(out->mse_cb);
  out->psnr_cr = metrics_psnr_from_mse(out->mse_cr);
  out->psnr_ycbcr = (METRICS_YCBCR_WEIGHT_Y * out->psnr_y + METRICS_YCBCR_WEIGHT_C * out->psnr_cb +
                     METRICS_YCBCR_WEIGHT_C * out->psnr_cr) /
                    (METRICS_YCBCR_WEIGHT_Y + 2.0 * METRICS_YCBCR_WEIGHT_C);
}

/* ---- CIEDE2000 ----------------------------------------------------------------------------- */

/* scikit-image 0.19's constants (skimage/color/colorconv.py), so that anyone can reproduce the
 * values with rgb2lab + deltaE_ciede2000: the sRGB -> XYZ matrix (D65), the D65 2-degree white
 * and the CIELAB threshold and slope as written there (CIE: 216/24389 and 841/108). */
static const double k_xyz_from_rgb[3][3] = {
    {0.412453, 0.357580, 0.180423}, {0.212671, 0.715160, 0.072169}, {0.019334, 0.119193, 0.950227}};
static const double k_white[3] = {0.95047, 1.0, 1.08883};
#define LAB_EPSILON 0.008856
#define LAB_SLOPE 7.787

/* IEC 61966-2-1 sRGB transfer, inverted: an 8-bit code value to linear light in [0, 1]. */
static double srgb_to_linear(uint8_t v) {
  const double c = v / 255.0;
  return c > 0.04045 ? pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
}

static double lab_f(double t) { return t > LAB_EPSILON ? cbrt(t) : LAB_SLOPE * t + 16.0 / 116.0; }

/* Lab from linear RGB. */
static void linear_to_lab(const double rgb[3], double lab[3]) {
  double f[3];
  for (int i = 0; i < 3; i++) {
    const double v = k_xyz_from_rgb[i][0] * rgb[0] + k_xyz_from_rgb[i][1] * rgb[1] +
                     k_xyz_from_rgb[i][2] * rgb[2];
    f[i] = lab_f(v / k_white[i]);
  }
  lab[0] = 116.0 * f[1] - 16.0;
  lab[1] = 500.0 * (f[0] - f[1]);
  lab[2] = 200.0 * (f[1] - f[2]);
}

void metrics_srgb8_to_lab(const uint8_t rgb[3], double lab[3]) {
  const double lin[3] = {srgb_to_linear(rgb[0]), srgb_to_linear(rgb[1]), srgb_to_linear(rgb[2])};
  linear_to_lab(lin, lab);
}

#define PI 3.14159265358979323846
#define DEG (PI / 180.0)
#define POW25_7 6103515625.0 /* 25^7 */
/* cos and sin of 30, 6 and 63 degrees. */
#define COS30 0.86602540378443864676
#define SIN30 0.5
#define COS6 0.99452189536827333692
#define SIN6 0.10452846326765347140
#define COS63 0.45399049973954679156
#define SIN63 0.89100652418836786236

static double pow7(double x) {
  const double x3 = x * x * x;
  return x3 * x3 * x;
}

/* Hue angle in [0, 2 pi); 0 for the achromatic a = b = 0 (Sharma et al., eq. 4). */
static double hue(double b, double a) {
  if (a == 0.0 && b == 0.0)
    return 0.0;
  const double h = atan2(b, a);
  return h < 0.0 ? h + 2.0 * PI : h;
}

/* Sharma, Wu, Dalal, "The CIEDE2000 color-difference formula: implementation notes,
 * supplementary test data, and mathematical observations", Color Res. Appl. 30 (2005), eqs.
 * 1-22, with kL = kC = kH = 1. Angles in radians. */
double metrics_ciede2000_lab(const double lab1[3], const double lab2[3]) {
  const double L1 = lab1[0], a1 = lab1[1], b1 = lab1[2];
  const double L2 = lab2[0], a2 = lab2[1], b2 = lab2[2];
  /* a' = (1 + G) a: the a axis stretched near the neutral axis. */
  const double cbar = 0.5 * (sqrt(a1 * a1 + b1 * b1) + sqrt(a2 * a2 + b2 * b2));
  const double cbar7 = pow7(cbar);
  const double g = 0.5 * (1.0 - sqrt(cbar7 / (cbar7 + POW25_7)));
  const double a1p = (1.0 + g) * a1, a2p = (1.0 + g) * a2;
  const double c1p = sqrt(a1p * a1p + b1 * b1), c2p = sqrt(a2p * a2p + b2 * b2);
  const double h1p = hue(b1, a1p), h2p = hue(b2, a2p);
  const double cc = c1p * c2p;

  /* Differences. */
  const double dL = L2 - L1, dC = c2p - c1p;
  double dh = 0.0;
  if (cc != 0.0) {
    dh = h2p - h1p;
    if (dh > PI)
      dh -= 2.0 * PI;
    else if (dh < -PI)
      dh += 2.0 * PI;
  }
  const double dH = 2.0 * sqrt(cc) * sin(0.5 * dh);

  /* Means; the mean hue is taken on the shorter arc, and is the sum when a hue is undefined. */
  const double Lbar = 0.5 * (L1 + L2), Cbarp = 0.5 * (c1p + c2p);
  double hbar = h1p + h2p;
  if (cc != 0.0) {
    if (fabs(h1p - h2p) > PI)
      hbar += hbar < 2.0 * PI ? 2.0 * PI : -2.0 * PI;
    hbar *= 0.5;
  }
  /* T = 1 - 0.17 cos(h - 30) + 0.24 cos(2h) + 0.32 cos(3h + 6) - 0.20 cos(4h - 63) (degrees),
   * from one cosine and sine of h by the multiple-angle and sum formulas: the same value to a
   * few units in the last place, at a third of the cost (this runs per pixel). */
  const double c1 = cos(hbar), s1 = sin(hbar);
  const double c2 = c1 * c1 - s1 * s1, s2 = 2.0 * s1 * c1;
  const double c3 = c1 * c2 - s1 * s2, s3 = s1 * c2 + c1 * s2;
  const double c4 = c2 * c2 - s2 * s2, s4 = 2.0 * s2 * c2;
  const double t = 1.0 - 0.17 * (c1 * COS30 + s1 * SIN30) + 0.24 * c2 +
                   0.32 * (c3 * COS6 - s3 * SIN6) - 0.20 * (c4 * COS63 + s4 * SIN63);
  const double x = (hbar / DEG - 275.0) / 25.0;
  const double dtheta = 30.0 * DEG * exp(-x * x);
  const double cbarp7 = pow7(Cbarp);
  const double rc = 2.0 * sqrt(cbarp7 / (cbarp7 + POW25_7));
  const double l50 = (Lbar - 50.0) * (Lbar - 50.0);
  const double sl = 1.0 + 0.015 * l50 / sqrt(20.0 + l50);
  const double sc = 1.0 + 0.045 * Cbarp;
  const double sh = 1.0 + 0.015 * Cbarp * t;
  const double rt = -sin(2.0 * dtheta) * rc;
  const double tl = dL / sl, tc = dC / sc, th = dH / sh;
  const double d2 = tl * tl + tc * tc + th * th + rt * tc * th;
  return sqrt(d2 > 0.0 ? d2 : 0.0); /* a rounding-negative sum would otherwise give NaN */
}

double metrics_ciede2000_rgb8(const uint8_t *a, const uint8_t *b, int width, int height) {
  if (metrics_check_args(a, b, width, height))
    return NAN;
  /* The 256 linearised code values once per call (no global state): pow is the costliest part
   * of the conversion. */
  double lin[256];
  for (int v = 0; v < 256; v++)
    lin[v] = srgb_to_linear((uint8_t)v);
  const size_t npix = (size_t)width * (size_t)height;
  double sum = 0.0;
  for (size_t p = 0; p < npix; p++) {
    const uint8_t *pa = a + 3 * p, *pb = b + 3 * p;
    /* dE00 of a colour with itself is exactly 0 (every term is 0), so equal pixels, common
     * after a good codec, are skipped. */
    if (pa[0] == pb[0] && pa[1] == pb[1] && pa[2] == pb[2])
      continue;
    const double la_in[3] = {lin[pa[0]], lin[pa[1]], lin[pa[2]]};
    const double lb_in[3] = {lin[pb[0]], lin[pb[1]], lin[pb[2]]};
    double la[3], lb[3];
    linear_to_lab(la_in, la);
    linear_to_lab(lb_in, lb);
    sum += metrics_ciede2000_lab(la, lb);
  }
  return sum / (double)npix;
}
