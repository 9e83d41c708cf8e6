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

#include <stddef.h>
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

/* ================================================================ colour and perceptual metrics */

/* Opt-in metrics (suite key `metrics:`; docs/metrics.md#psnr-y-and-psnr-ycbcr, #ciede2000,
 * #butteraugli). Plain C in double precision (Butteraugli: libjxl), pure and thread-safe, same
 * argument rules as above (NAN and errno = EINVAL for invalid arguments). */

/* PSNR per plane of BT.601 full-range YCbCr (the JPEG/JFIF matrix, ITU-T T.871), computed in
 * double from the 8-bit RGB values, neither rounded nor clamped:
 *   Y  = 0.299 R + 0.587 G + 0.114 B
 *   Cb = 128 + (B - Y) / 1.772,   Cr = 128 + (R - Y) / 1.402
 * MSE_P = mean over pixels of (P_a - P_b)^2, psnr_P = metrics_psnr_from_mse(MSE_P) (capped at
 * METRICS_PSNR_CAP_DB), and psnr_ycbcr = (6 psnr_y + psnr_cb + psnr_cr) / 8, the 6:1:1
 * weighting of codec test conditions (docs/metrics.md says which and why). The plane differences
 * are integer combinations of the RGB differences divided by 1000, 1772 and 1402, so their squares
 * are summed exactly in integers: the values do not depend on summation order. */
#define METRICS_YCBCR_WEIGHT_Y 6.0
#define METRICS_YCBCR_WEIGHT_C 1.0 /* each of Cb and Cr; the weights sum to 8 */
typedef struct metrics_ycbcr {
  double mse_y, mse_cb, mse_cr;
  double psnr_y, psnr_cb, psnr_cr, psnr_ycbcr;
} metrics_ycbcr;
/* All fields NAN for invalid arguments. out must not be NULL. */
void metrics_ycbcr_rgb8(const uint8_t *a, const uint8_t *b, int width, int height,
                        metrics_ycbcr *out);

/* CIEDE2000 (Sharma, Wu, Dalal 2005) averaged over pixels. Each pixel goes sRGB (IEC 61966-2-1
 * transfer) -> linear RGB -> XYZ (D65) -> CIELAB with exactly scikit-image 0.19's constants
 * (docs/metrics.md#ciede2000), then dE00 with kL = kC = kH = 1. Equals
 * skimage.color.deltaE_ciede2000(rgb2lab(a), rgb2lab(b)).mean() to ~1e-12 (tests require 1e-9). */
double metrics_ciede2000_rgb8(const uint8_t *a, const uint8_t *b, int width, int height);
/* The pieces, exposed for tests: one 8-bit sRGB colour to L*a*b*, and dE00 of two Lab colours. */
void metrics_srgb8_to_lab(const uint8_t rgb[3], double lab[3]);
double metrics_ciede2000_lab(const double lab1[3], const double lab2[3]);

/* Butteraugli distance of libjxl's public API (jxl/butteraugli.h) between the original a and
 * the distorted b, both 8-bit sRGB: the maximum of the distance map (*max) and its 3-norm
 * (*pnorm3, JxlButteraugliResultGetDistance(result, 3)), with the settings of libjxl's
 * butteraugli_main tool, whose output it reproduces: display intensity target
 * METRICS_BUTTERAUGLI_INTENSITY_TARGET nits and hf_asymmetry METRICS_BUTTERAUGLI_HF_ASYMMETRY
 * (both set explicitly: the API's own defaults are 255 nits and 1.0). Single thread (no
 * parallel runner). Undefined (both NAN, return 0, errno untouched) below
 * METRICS_BUTTERAUGLI_MIN_SIDE px on a side, where libjxl returns a distance of 0 whatever the
 * images. Returns 0, or -1 with both NAN (invalid arguments: errno EINVAL; libjxl failed or out
 * of memory: errno ENOMEM). Slow: see docs/metrics.md#butteraugli for timings. */
#define METRICS_BUTTERAUGLI_INTENSITY_TARGET 80.0
#define METRICS_BUTTERAUGLI_HF_ASYMMETRY 0.8
#define METRICS_BUTTERAUGLI_MIN_SIDE 8
int metrics_butteraugli_rgb8(const uint8_t *a, const uint8_t *b, int width, int height, double *max,
                             double *pnorm3);
/* "libjxl X.Y.Z" as linked (the run's identity includes it when Butteraugli is computed). */
const char *metrics_butteraugli_version(void);

/* ================================================================ task metrics */

/* Task metrics over a set of predictions (docs/metrics.md#task-metrics): accuracy, agreement,
 * semantic mutual information SI = I(A;B) between the classifier's top-1 on the originals (A)
 * and on the decoded images (B), SI_norm = SI / H(A), the task information lost
 * ΔI = I(Y;A) - I(Y;B), and the mean KL divergence between the two output distributions. All in
 * bits.
 *
 * Pure functions, no global state, thread-safe. Empirical distributions are plug-in estimates
 * (counts / N); N is always reported with them because the plug-in mutual information is biased
 * upward for small N. */

typedef struct metrics_task_stats {
  size_t n;         /* predictions counted */
  double accuracy;  /* fraction with top-1 on decoded == label; NAN without labels */
  double agreement; /* fraction with top-1 on decoded == top-1 on original */
  double h_a;       /* H(A) */
  double si;        /* I(A;B) */
  double si_norm;   /* SI / H(A); NAN when H(A) == 0 (every original predicted the same) */
  double i_y_a;     /* I(Y;A); NAN without labels */
  double i_y_b;     /* I(Y;B); NAN without labels */
  double delta_i;   /* I(Y;A) - I(Y;B); NAN without labels */
  double mean_kl;   /* mean of the per-image KL values given; NAN if none were given */
} metrics_task_stats;

/* labels (may be NULL: unlabeled data), pred_orig, pred_dec: n class indices in [0, n_classes);
 * kl: n per-image KL values in bits (may be NULL). Returns 0, or -1 when an index is out of
 * range, n_classes < 1 or > 4096, or memory runs out (errno set). */
int metrics_task_stats_compute(const int *labels, const int *pred_orig, const int *pred_dec,
                               const double *kl, size_t n, int n_classes, metrics_task_stats *out);

/* Mutual information in bits of two paired discrete variables with values in [0, k). Returns
 * NAN on an out-of-range value, k out of [1, 4096], or no memory. */
double metrics_mutual_information(const int *x, const int *y, size_t n, int k);
/* Entropy in bits of a discrete variable with values in [0, k); NAN as above. */
double metrics_entropy(const int *x, size_t n, int k);
/* KL(p || q) in bits for two distributions over k classes. Terms with p = 0 contribute 0; q is
 * floored at 1e-30 so a zero where p > 0 gives a large finite value rather than infinity; a
 * negative sum (float rounding for nearly equal inputs) is returned as 0. */
double metrics_kl_bits(const float *p, const float *q, int k);

/* ================================================================ paired bootstrap */

/* Paired bootstrap confidence intervals for the difference between two codecs scored on the
 * same images (prefix metrics_pboot_).
 *
 * Two codecs A and B at one grid point are compared on the same n images, so their per-image
 * scores are paired: resampling images (not codecs) keeps the pairing and cancels the variance
 * the two share (hard images are hard for both). Each round draws n image indices uniformly
 * with replacement and computes, on that resample,
 *   d_acc  = accuracy(B) - accuracy(A)          (top-1 on the decoded images vs the labels),
 *   d_si   = SI_norm(B) - SI_norm(A)            (SI_norm = I(O;D) / H(O), O = top-1 on the
 *            originals, D = top-1 on the decoded images; plug-in estimates in bits, as in
 *            metrics.h),
 *   d_psnr = mean PSNR(B) - mean PSNR(A)        (dB, mean of per-image values).
 * The interval is the percentile interval of the rounds' values at `level` (e.g. 0.95: the
 * 2.5th and 97.5th percentiles, linear interpolation between order statistics as NumPy's
 * default percentile method). The point estimate is the difference on the full sample.
 *
 * Deterministic: the indices come from SplitMix64 seeded with `seed`; index = the high 64 bits
 * of (next() * n) (Lemire's multiply-shift, no modulo). The same inputs, rounds and seed give
 * the same interval on every machine; tests/bootstrap/ checks it against an independent NumPy
 * implementation that draws the same indices.
 *
 * Pure functions, no global state, thread-safe. */

#define METRICS_PBOOT_DEFAULT_ROUNDS 2000
#define METRICS_PBOOT_DEFAULT_SEED 20261206u
#define METRICS_PBOOT_MAX_CLASSES 4096

/* One codec's per-image scores at the grid point, indexed like the shared image list. Any of
 * the arrays may be NULL (that statistic is then NAN). */
typedef struct metrics_pboot_side {
  const int *pred;    /* top-1 class on the decoded image, in [0, n_classes) */
  const double *psnr; /* per-image PSNR in dB (finite) */
} metrics_pboot_side;

typedef struct metrics_pboot_input {
  size_t n;             /* paired images (>= 1) */
  int n_classes;        /* task classes (1..METRICS_PBOOT_MAX_CLASSES); 0 when no task */
  const int *labels;    /* true classes, or NULL (unlabeled: no accuracy) */
  const int *pred_orig; /* top-1 on the original images, or NULL (no SI_norm) */
  metrics_pboot_side a; /* the reference codec */
  metrics_pboot_side b; /* the codec compared against it */
} metrics_pboot_input;

typedef struct metrics_pboot_ci {
  double delta; /* B - A on the full sample; NAN when undefined */
  double lo;    /* lower end of the interval */
  double hi;    /* upper end */
} metrics_pboot_ci;

typedef struct metrics_pboot_result {
  metrics_pboot_ci accuracy; /* fraction (multiply by 100 for points) */
  metrics_pboot_ci si_norm;
  metrics_pboot_ci psnr; /* dB */
  int rounds;
  double level;
} metrics_pboot_result;

/* Computes the three intervals. rounds in [10, 1000000], level in (0, 1). Returns 0, or -1 on
 * bad arguments (a class index out of range, n = 0) or no memory (errno set). A statistic whose
 * inputs are missing, or that is undefined on the full sample or on some resample (SI_norm when
 * every original is predicted the same class), is NAN in all three fields. */
int metrics_pboot_compute(const metrics_pboot_input *in, int rounds, uint64_t seed, double level,
                          metrics_pboot_result *out);

/* The k-th index draw of a resample stream, exposed for tests: state is advanced. */
uint64_t metrics_pboot_next_index(uint64_t *state, uint64_t n);

/* ---- Bjøntegaard deltas (prefix metrics_bd_) ----
 *
 * Bjøntegaard deltas (docs/metrics.md#bd-rate-and-bd-accuracy): BD-rate and BD-metric between
 * two rate/quality curves, with piecewise cubic Hermite (PCHIP) interpolation over the
 * overlapping range.
 *
 * Uses: BD-rate at equal PSNR, at equal SSIM or at equal accuracy (metrics_bd_rate with that
 * metric); BD-PSNR and BD-accuracy, i.e. metric points at equal rate (metrics_bd_metric). Any codec
 * can be the anchor: pass its curve as the anchor. Swapping anchor and test negates
 * metrics_bd_metric and turns a BD-rate p into p' with (1 + p/100)(1 + p'/100) = 1 (up to
 * rounding).
 *
 * Definitions and choices:
 *  - Input. n points per curve, in any order; each curve is sorted by rate first. rate > 0 in any
 *    unit (bpp in saicbench; only ratios matter), metric any real (PSNR dB, SSIM, accuracy %).
 *    Higher metric must mean better; for a lower-is-better metric pass its negation.
 *  - Axes. x = log10(rate). metrics_bd_rate interpolates x as a function of the metric and
 * integrates over the metric axis; metrics_bd_metric interpolates the metric as a function of x and
 * integrates over the log-rate axis.
 *  - Interpolant. scipy.interpolate.PchipInterpolator exactly: interior slopes by the
 *    Fritsch–Carlson condition (0 where the neighbouring secants differ in sign or one is 0),
 *    otherwise the weighted harmonic mean of the secants (Fritsch–Butland weights
 *    w1 = 2h_k + h_{k-1}, w2 = h_k + 2h_{k-1}); end slopes by the one-sided three-point formula
 *    d = ((2h0+h1)m0 - h0 m1)/(h0+h1), set to 0 if its sign differs from m0's, and to 3 m0 if
 *    m0, m1 differ in sign and |d| > 3|m0| (Moler's pchiptx). Same coefficients as SciPy.
 *  - Interval. The overlap [max(lo_a, lo_t), min(hi_a, hi_t)] of the two curves' ranges on the
 *    integration axis. No extrapolation, ever. An empty or zero-length overlap (curves touching
 *    at one point) is METRICS_BD_NO_OVERLAP; any positive overlap gives a number, however short it
 * is: callers that want a minimum overlap check it themselves.
 *  - Integration. Exact: each cubic piece is integrated analytically (power form about the left
 *    knot, antiderivative evaluated at the clipped ends), pieces summed. No sampling.
 *  - Results. avg = (integral(test) - integral(anchor)) / (hi - lo).
 *    metrics_bd_rate:   *percent = (10^avg - 1) * 100  (negative = the test needs fewer bits).
 *    metrics_bd_metric: *delta   = avg, in metric units (positive = the test is better at equal
 * rate). Identical curves give exactly 0 (same arithmetic on the same numbers).
 *  - Monotonicity. Rates must be distinct (duplicate rates are METRICS_BD_NOT_MONOTONE for both
 *    functions: the curve is not a function of log-rate). metrics_bd_rate additionally needs the
 * metric strictly increasing with rate, since log-rate must be a function of the metric; ties or
 * any decrease are METRICS_BD_NOT_MONOTONE, never repaired (e.g. CIFAR JPEG 2000 curves whose
 * lowest points are flat because the headers dominate are "not comparable", not a bogus number).
 *    metrics_bd_metric accepts a non-monotone metric (noisy accuracy curves): PCHIP interpolates it
 *    shape-preservingly, exactly as SciPy does.
 *  - Validation order, first failure wins: output pointer NULL -> METRICS_BD_INVALID; n < 4 on
 * either curve -> METRICS_BD_TOO_FEW_POINTS; n > METRICS_BD_MAX_POINTS, NULL arrays, a non-finite
 * value or a rate
 *    <= 0 -> METRICS_BD_INVALID; then METRICS_BD_NOT_MONOTONE (also when two distinct rates round
 * to the same log10); then METRICS_BD_NO_OVERLAP; finally a non-finite result (overflow, only from
 * absurd magnitudes such as rates 1e-300 vs 1e300) -> METRICS_BD_INVALID. On any failure the output
 * (when not NULL) is set to NAN, so a forgotten status check cannot yield a plausible number.
 *
 * Pure functions: no I/O, no allocation (work arrays of METRICS_BD_MAX_POINTS on the stack, about
 * 12 KiB per call), no global state; thread-safe. Inputs are not modified. */

/* Most points per curve. Real rate/quality curves have 4-20; more is rejected as
 * METRICS_BD_INVALID. */
#define METRICS_BD_MAX_POINTS 256

typedef enum metrics_bd_status {
  METRICS_BD_OK = 0,
  METRICS_BD_TOO_FEW_POINTS, /* a curve has fewer than 4 points */
  METRICS_BD_NO_OVERLAP,     /* the ranges on the integration axis do not overlap (or only touch) */
  METRICS_BD_NOT_MONOTONE,   /* duplicate rates, or (metrics_bd_rate) metric not strictly increasing
                              */
  METRICS_BD_INVALID         /* NULL pointer, too many points, non-finite value or rate <= 0 */
} metrics_bd_status;

/* A static, human-readable text: "ok", "not comparable: fewer than 4 points", ... Unknown
 * values give "unknown metrics_bd_status". Never NULL. */
const char *metrics_bd_status_text(metrics_bd_status s);

/* BD-rate in percent: the average rate difference of test vs anchor at equal metric. */
metrics_bd_status metrics_bd_rate(const double *rate_anchor, const double *metric_anchor,
                                  size_t n_anchor, const double *rate_test,
                                  const double *metric_test, size_t n_test, double *percent);

/* BD-metric: the mean metric difference (test - anchor) over the overlapping log-rate range
 * (BD-PSNR in dB, BD-SSIM, BD-accuracy in accuracy points). */
metrics_bd_status metrics_bd_metric(const double *rate_anchor, const double *metric_anchor,
                                    size_t n_anchor, const double *rate_test,
                                    const double *metric_test, size_t n_test, double *delta);

#endif
