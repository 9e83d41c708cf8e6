/* Internal interface of the metrics module: window constants and the DSP kernel table.
 * Not part of the public API; used by the metrics sources and by tests/metrics (which run
 * every kernel set against the reference, dav1d checkasm style). */
#ifndef SAICBENCH_METRICS_INTERNAL_H
#define SAICBENCH_METRICS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_WIN 11     /* window taps per axis */
#define METRICS_RADIUS 5   /* (METRICS_WIN - 1) / 2 */
#define METRICS_NMOM 5     /* moment maps: x, y, x*x, y*y, x*y */
#define METRICS_C1 6.5025  /* (0.01 * 255)^2 */
#define METRICS_C2 58.5225 /* (0.03 * 255)^2 */

/* Normalised 1-D Gaussian, sigma 1.5, taps k = -5..5, written as literals so that every kernel
 * (and the reference) uses bit-identical weights without any run-time initialisation. They are
 * the values scipy.ndimage's _gaussian_kernel1d(1.5, 0, 5) produces; tests/metrics checks them
 * against exp(-k^2/4.5)/sum. Index i holds the weight of offset i - 5 (symmetric). */
#define METRICS_GAUSS_W0 0.00102838008447911
#define METRICS_GAUSS_W1 0.007598758135239186
#define METRICS_GAUSS_W2 0.036000772128430815
#define METRICS_GAUSS_W3 0.10936068950970002
#define METRICS_GAUSS_W4 0.2130055377112537
#define METRICS_GAUSS_W5 0.26601172486179436
#define METRICS_GAUSS_WEIGHTS                                                                      \
  {                                                                                                \
    METRICS_GAUSS_W0, METRICS_GAUSS_W1, METRICS_GAUSS_W2, METRICS_GAUSS_W3, METRICS_GAUSS_W4,      \
        METRICS_GAUSS_W5, METRICS_GAUSS_W4, METRICS_GAUSS_W3, METRICS_GAUSS_W2, METRICS_GAUSS_W1,  \
        METRICS_GAUSS_W0                                                                           \
  }

/* Hot kernels. Rows are arrays of double; n counts elements.
 *
 * Scratch contract (set up by metrics.c): every row pointer handed to a kernel is 64-byte
 * aligned and its allocation extends to METRICS_ROUND8(n) elements (hpass inputs: to
 * METRICS_ROUND8(n) + 16), so SIMD kernels may read and write whole vectors past n; the values
 * there are finite but meaningless, and ssim_reduce leaves them out of its sums. The source
 * pixels of prep_u8 / prep_f64 (image data, not scratch) are read only within their n.
 *
 * prep_u8:  n pixels of one channel, a[3*j] and b[3*j] (a, b point at the channel's byte of
 *           the row's first pixel), to the 5 moment rows out = {x, y, x*x, y*y, x*y}.
 * prep_f64: the same from double rows x, y (copied into out[0], out[1]).
 * hpass:    horizontal 11-tap filter of the 5 moment rows; in[m] holds n + 10 elements:
 *           out[m][i] = sum_k w[k] * in[m][i + k], i < n.
 * vfilter:  vertical 11-tap filter of one moment: out[i] = sum_k w[k] * rows[k][i].
 * ssim_reduce: from the 5 filtered moment rows, adds the sum over i < n of the SSIM map to
 *           *ssim_sum and of the cs map to *cs_sum.
 * sse_u8:   exact sum of squared differences of n bytes (no alignment assumed).
 * down_u8:  one row of the 2x2 box average of one channel of RGB8 (MS-SSIM scale 2):
 *           out[j] = 0.25 * (double)(r0[6j] + r0[6j+3] + r1[6j] + r1[6j+3]), j < n (r0, r1 point
 *           at the channel's byte of the first pixel of two image rows, which hold >= 2n pixels).
 * down_f64: one row of the 2x2 box average of a double plane (scales 3..5), exactly
 *           out[j] = 0.25 * (((r0[2j] + r0[2j+1]) + r1[2j]) + r1[2j+1]), j < n (this order).
 *           The down kernels read only within the rows, assume no alignment and write only
 *           out[0..n-1]; their results are exact (u8) or order-fixed (f64), so every set gives
 *           bit-identical planes. */
#define METRICS_ROUND8(n) (((size_t)(n) + 7) & ~(size_t)7)

typedef void (*metrics_prep_u8_fn)(const uint8_t *a, const uint8_t *b, int n,
                                   double *const out[METRICS_NMOM]);
typedef void (*metrics_prep_f64_fn)(const double *x, const double *y, int n,
                                    double *const out[METRICS_NMOM]);
typedef void (*metrics_hpass_fn)(const double *const in[METRICS_NMOM],
                                 double *const out[METRICS_NMOM], int n);
typedef void (*metrics_vfilter_fn)(const double *const rows[METRICS_WIN], int n, double *out);
typedef void (*metrics_reduce_fn)(const double *const mom[METRICS_NMOM], int n, double *ssim_sum,
                                  double *cs_sum);
typedef uint64_t (*metrics_sse_fn)(const uint8_t *a, const uint8_t *b, size_t n);
typedef void (*metrics_down_u8_fn)(const uint8_t *r0, const uint8_t *r1, int n, double *out);
typedef void (*metrics_down_f64_fn)(const double *r0, const double *r1, int n, double *out);

typedef struct metrics_kernels {
  const char *name;
  metrics_prep_u8_fn prep_u8;
  metrics_prep_f64_fn prep_f64;
  metrics_hpass_fn hpass;
  metrics_vfilter_fn vfilter;
  metrics_reduce_fn ssim_reduce;
  metrics_sse_fn sse_u8;
  metrics_down_u8_fn down_u8;
  metrics_down_f64_fn down_f64;
} metrics_kernels;

/* Kernel sets. The scalar set is always available; the SIMD fillers upgrade entries of a table
 * (start from the scalar one) and must only be called when the CPU supports the instruction
 * set. On non-x86 builds they leave the table unchanged. */
void metrics_kernels_init_scalar(metrics_kernels *k);
void metrics_kernels_init_avx2(metrics_kernels *k);
void metrics_kernels_init_avx512(metrics_kernels *k);
/* Whether this build has the SIMD set and the running CPU (and OS) supports it. */
int metrics_cpu_has_avx2(void);
int metrics_cpu_has_avx512(void);

/* The dispatched table (filled once, thread-safely, on first use). */
const metrics_kernels *metrics_kernels_get(void);
/* Fill *k with a named set ("scalar", "avx2", "avx512"); returns 0, or -1 if the set is unknown
 * or unsupported here. For tests and benchmarks. */
int metrics_kernels_by_name(const char *name, metrics_kernels *k);

/* The fast paths with an explicit kernel table (the public functions pass the dispatched one). */
double metrics_mse_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                             int width, int height);
double metrics_ssim_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                              int width, int height);
double metrics_ms_ssim_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b,
                                 int width, int height);
struct metrics_full;
void metrics_full_rgb8_with(const metrics_kernels *k, const uint8_t *a, const uint8_t *b, int width,
                            int height, struct metrics_full *out);

/* MS-SSIM scale weights, and the argument check shared by all entry points (0 = ok). */
extern const double metrics_ms_ssim_weights[5];
int metrics_check_args(const uint8_t *a, const uint8_t *b, int width, int height);

/* Reference SSIM on one double plane pair with per-axis window radius (5, or 0 for an axis
 * shorter than the window at the last MS-SSIM scale). Writes the valid-region means of the
 * SSIM map and of the cs map. Plain direct 2-D windows; used by the *_ref functions and by the
 * fast MS-SSIM path for the (tiny) degenerate last scale. */
void metrics_ref_ssim_plane(const double *x, const double *y, int width, int height, int rx, int ry,
                            double *ssim_mean, double *cs_mean);

#endif
