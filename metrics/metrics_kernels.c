/* Plain C kernels: the always-available entries of the kernel table (see metrics_internal.h).
 * Same separable algorithm as the SIMD sets, so they also serve as a readable model of them. */
#include "metrics_internal.h"

static const double gauss_w[METRICS_WIN] = METRICS_GAUSS_WEIGHTS;

static void prep_u8_scalar(const uint8_t *a, const uint8_t *b, int n,
                           double *const out[METRICS_NMOM]) {
  for (int j = 0; j < n; j++) {
    const double x = a[3 * j], y = b[3 * j];
    out[0][j] = x;
    out[1][j] = y;
    out[2][j] = x * x;
    out[3][j] = y * y;
    out[4][j] = x * y;
  }
}

static void prep_f64_scalar(const double *x, const double *y, int n,
                            double *const out[METRICS_NMOM]) {
  for (int j = 0; j < n; j++) {
    out[0][j] = x[j];
    out[1][j] = y[j];
    out[2][j] = x[j] * x[j];
    out[3][j] = y[j] * y[j];
    out[4][j] = x[j] * y[j];
  }
}

static void hpass_scalar(const double *const in[METRICS_NMOM], double *const out[METRICS_NMOM],
                         int n) {
  for (int m = 0; m < METRICS_NMOM; m++) {
    const double *src = in[m];
    double *dst = out[m];
    for (int i = 0; i < n; i++) {
      double acc = 0.0;
      for (int k = 0; k < METRICS_WIN; k++)
        acc += gauss_w[k] * src[i + k];
      dst[i] = acc;
    }
  }
}

static void vfilter_scalar(const double *const rows[METRICS_WIN], int n, double *out) {
  for (int i = 0; i < n; i++) {
    double acc = 0.0;
    for (int k = 0; k < METRICS_WIN; k++)
      acc += gauss_w[k] * rows[k][i];
    out[i] = acc;
  }
}

static void ssim_reduce_scalar(const double *const mom[METRICS_NMOM], int n, double *ssim_sum,
                               double *cs_sum) {
  double ssim_acc = 0.0, cs_acc = 0.0;
  for (int i = 0; i < n; i++) {
    const double mx = mom[0][i], my = mom[1][i];
    /* var = E[x^2] - E[x]^2 in double: the cancellation costs ~1e-11 absolute at 255^2, far
     * below C2 = 58.5 (float32 would leave ~1e-3). */
    const double sxx = mom[2][i] - mx * mx, syy = mom[3][i] - my * my;
    const double sxy = mom[4][i] - mx * my;
    const double a1 = 2.0 * mx * my + METRICS_C1, b1 = mx * mx + my * my + METRICS_C1;
    const double a2 = 2.0 * sxy + METRICS_C2, b2 = sxx + syy + METRICS_C2;
    ssim_acc += (a1 * a2) / (b1 * b2);
    cs_acc += a2 / b2;
  }
  *ssim_sum += ssim_acc;
  *cs_sum += cs_acc;
}

static uint64_t sse_u8_scalar(const uint8_t *a, const uint8_t *b, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    const int d = (int)a[i] - (int)b[i];
    sum += (uint64_t)(d * d);
  }
  return sum;
}

static void down_u8_scalar(const uint8_t *r0, const uint8_t *r1, int n, double *out) {
  for (int j = 0; j < n; j++, r0 += 6, r1 += 6)
    out[j] = 0.25 * (double)(r0[0] + r0[3] + r1[0] + r1[3]);
}

static void down_f64_scalar(const double *r0, const double *r1, int n, double *out) {
  for (int j = 0; j < n; j++, r0 += 2, r1 += 2)
    out[j] = 0.25 * (r0[0] + r0[1] + r1[0] + r1[1]);
}

void metrics_kernels_init_scalar(metrics_kernels *k) {
  k->name = "scalar";
  k->prep_u8 = prep_u8_scalar;
  k->prep_f64 = prep_f64_scalar;
  k->hpass = hpass_scalar;
  k->vfilter = vfilter_scalar;
  k->ssim_reduce = ssim_reduce_scalar;
  k->sse_u8 = sse_u8_scalar;
  k->down_u8 = down_u8_scalar;
  k->down_f64 = down_f64_scalar;
}
