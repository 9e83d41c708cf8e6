/* Full-reference image quality metrics on packed RGB8 images (docs/metrics.md).
 *
 * All functions are pure and thread-safe. The default entry points use the fastest kernel the
 * CPU supports (chosen once, on first use, in a thread-safe way); the *_ref versions are plain C
 * in double precision, kept as the reference the tests compare the fast kernels against.
 *
 * Images are width*height pixels of 3 interleaved bytes (R, G, B), rows packed without padding.
 * Both fast and reference paths filter and reduce in double precision, so they agree to about
 * 1e-12 (tests/metrics requires 1e-9); SSIM agrees with scikit-image 0.19 to about 1e-12 (the
 * oracle test requires 1e-4, the bound docs/metrics.md#ssim sets).
 *
 * Errors: functions that return double return NAN for invalid arguments (NULL image, width or
 * height <= 0, or a size too large to index; errno = EINVAL), for images below the metric's
 * minimum size (errno untouched), and when scratch memory cannot be allocated (errno = ENOMEM). */
#ifndef SAICBENCH_METRICS_H
#define SAICBENCH_METRICS_H

#include <stdint.h>

#define METRICS_PSNR_CAP_DB 100.0
#define METRICS_MS_SSIM_MIN_SIDE 161 /* MS-SSIM undefined below this (5 scales, 11x11 window) */

/* Mean squared error over all three channels of all pixels (the sum of squared differences is
 * accumulated exactly in integers, so fast and reference results are identical). */
double metrics_mse_rgb8(const uint8_t *a, const uint8_t *b, int width, int height);
double metrics_mse_rgb8_ref(const uint8_t *a, const uint8_t *b, int width, int height);
/* 10*log10(255^2/mse), capped at METRICS_PSNR_CAP_DB (mse == 0 gives the cap; so does any tiny
 * non-zero mse whose PSNR would exceed it). NAN for a NAN or negative mse. */
double metrics_psnr_from_mse(double mse);

/* SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, L 255, valid
 * region only, per channel, averaged over R, G, B. Returns NAN for images smaller than 11 px on
 * a side, or if scratch memory cannot be allocated (then errno is ENOMEM).
 *
 * Exactly: window weights g(k) = exp(-k^2 / (2 * 1.5^2)), k = -5..5, normalised to sum 1 (what
 * scipy.ndimage.gaussian_filter(sigma=1.5, truncate=3.5) uses); population (weighted) moments;
 * the SSIM map is averaged over the (width-10) x (height-10) positions whose window lies inside
 * the image. This equals skimage.metrics.structural_similarity(a, b, channel_axis=2,
 * gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255). */
double metrics_ssim_rgb8(const uint8_t *a, const uint8_t *b, int width, int height);
double metrics_ssim_rgb8_ref(const uint8_t *a, const uint8_t *b, int width, int height);

/* MS-SSIM (Wang et al. 2003): 5 scales with weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333),
 * 2x2 average down-sampling, per channel, averaged over R, G, B. Returns NAN when
 * min(width, height) < METRICS_MS_SSIM_MIN_SIDE or on allocation failure.
 *
 * Exactly, per channel: scale 1 is the channel itself; scale j+1 is the 2x2 box average of scale
 * j, odd sizes floored (the last row/column is dropped). At scales 1..4, cs_j is the mean of the
 * contrast-structure map (2*s_xy + C2) / (s_x^2 + s_y^2 + C2); at scale 5, ssim_5 is the mean SSIM
 * map; both over the valid region with the SSIM window above. The channel's value is
 *   prod_{j=1..4} max(cs_j, 0)^w_j * max(ssim_5, 0)^w_5
 * (negative means are clamped to 0 before the power, as pytorch_msssim and TensorFlow do, so the
 * result is always real, in [0, 1]), and the result is the mean over R, G, B.
 * A side of 161..175 px is 10 px at scale 5, shorter than the window: along such an axis the
 * scale-5 window degenerates to a single tap (no smoothing, nothing cropped), as pytorch_msssim
 * does ("skipping Gaussian smoothing"). */
double metrics_ms_ssim_rgb8(const uint8_t *a, const uint8_t *b, int width, int height);
double metrics_ms_ssim_rgb8_ref(const uint8_t *a, const uint8_t *b, int width, int height);

/* All four metrics of one image pair in one call, for callers that want them all (the benchmark
 * harness). SSIM and the first MS-SSIM scale filter the same five moment maps of the same
 * full-resolution channels, so this computes them once: the scale-1 pass yields both the SSIM
 * map mean (-> ssim) and the cs map mean (-> the first MS-SSIM factor); scales 2..5 follow as in
 * metrics_ms_ssim_rgb8. About as fast as metrics_ms_ssim_rgb8 alone.
 *
 * Every field is bit-identical to the separate calls (same kernels, same summation order):
 *   mse = metrics_mse_rgb8(a, b, width, height), psnr = metrics_psnr_from_mse(mse),
 *   ssim = metrics_ssim_rgb8(...), ms_ssim = metrics_ms_ssim_rgb8(...),
 * NAN rules included: all four are NAN for invalid arguments (errno = EINVAL); ssim and ms_ssim
 * are NAN below their minimum sizes (mse, psnr stay defined); on allocation failure the
 * affected values are NAN and errno = ENOMEM. out must not be NULL. The reference for the tests
 * is the separate *_ref calls. */
typedef struct metrics_full {
  double mse, psnr, ssim, ms_ssim;
} metrics_full;
void metrics_full_rgb8(const uint8_t *a, const uint8_t *b, int width, int height,
                       metrics_full *out);

/* Name of the kernel set in use ("avx2", "avx512", "scalar"), for logs and benchmarks. */
const char *metrics_kernel_name(void);

#endif
