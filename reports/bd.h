/* Bjøntegaard deltas (docs/metrics.md#bd-rate-and-bd-accuracy): BD-rate and BD-metric between
 * two rate/quality curves, with piecewise cubic Hermite (PCHIP) interpolation over the
 * overlapping range.
 *
 * Uses: BD-rate at equal PSNR, at equal SSIM or at equal accuracy (bd_rate with that metric);
 * BD-PSNR and BD-accuracy, i.e. metric points at equal rate (bd_metric). Any codec can be the
 * anchor: pass its curve as the anchor. Swapping anchor and test negates bd_metric and turns a
 * BD-rate p into p' with (1 + p/100)(1 + p'/100) = 1 (up to rounding).
 *
 * Definitions and choices:
 *  - Input. n points per curve, in any order; each curve is sorted by rate first. rate > 0 in any
 *    unit (bpp in saicbench; only ratios matter), metric any real (PSNR dB, SSIM, accuracy %).
 *    Higher metric must mean better; for a lower-is-better metric pass its negation.
 *  - Axes. x = log10(rate). bd_rate interpolates x as a function of the metric and integrates
 *    over the metric axis; bd_metric interpolates the metric as a function of x and integrates
 *    over the log-rate axis.
 *  - Interpolant. scipy.interpolate.PchipInterpolator exactly: interior slopes by the
 *    Fritsch–Carlson condition (0 where the neighbouring secants differ in sign or one is 0),
 *    otherwise the weighted harmonic mean of the secants (Fritsch–Butland weights
 *    w1 = 2h_k + h_{k-1}, w2 = h_k + 2h_{k-1}); end slopes by the one-sided three-point formula
 *    d = ((2h0+h1)m0 - h0 m1)/(h0+h1), set to 0 if its sign differs from m0's, and to 3 m0 if
 *    m0, m1 differ in sign and |d| > 3|m0| (Moler's pchiptx). Same coefficients as SciPy.
 *  - Interval. The overlap [max(lo_a, lo_t), min(hi_a, hi_t)] of the two curves' ranges on the
 *    integration axis. No extrapolation, ever. An empty or zero-length overlap (curves touching
 *    at one point) is BD_NO_OVERLAP; any positive overlap gives a number, however short it is:
 *    callers that want a minimum overlap check it themselves.
 *  - Integration. Exact: each cubic piece is integrated analytically (power form about the left
 *    knot, antiderivative evaluated at the clipped ends), pieces summed. No sampling.
 *  - Results. avg = (integral(test) - integral(anchor)) / (hi - lo).
 *    bd_rate:   *percent = (10^avg - 1) * 100  (negative = the test needs fewer bits).
 *    bd_metric: *delta   = avg, in metric units (positive = the test is better at equal rate).
 *    Identical curves give exactly 0 (same arithmetic on the same numbers).
 *  - Monotonicity. Rates must be distinct (duplicate rates are BD_NOT_MONOTONE for both
 *    functions: the curve is not a function of log-rate). bd_rate additionally needs the metric
 *    strictly increasing with rate, since log-rate must be a function of the metric; ties or any
 *    decrease are BD_NOT_MONOTONE, never repaired (e.g. CIFAR JPEG 2000 curves whose lowest
 *    points are flat because the headers dominate are "not comparable", not a bogus number).
 *    bd_metric accepts a non-monotone metric (noisy accuracy curves): PCHIP interpolates it
 *    shape-preservingly, exactly as SciPy does.
 *  - Validation order, first failure wins: output pointer NULL -> BD_INVALID; n < 4 on either
 *    curve -> BD_TOO_FEW_POINTS; n > BD_MAX_POINTS, NULL arrays, a non-finite value or a rate
 *    <= 0 -> BD_INVALID; then BD_NOT_MONOTONE (also when two distinct rates round to the same
 *    log10); then BD_NO_OVERLAP; finally a non-finite result (overflow, only from absurd
 *    magnitudes such as rates 1e-300 vs 1e300) -> BD_INVALID. On any failure the output (when
 *    not NULL) is set to NAN, so a forgotten status check cannot yield a plausible number.
 *
 * Pure functions: no I/O, no allocation (work arrays of BD_MAX_POINTS on the stack, about 12 KiB
 * per call), no global state; thread-safe. Inputs are not modified. */
#ifndef SAICBENCH_BD_H
#define SAICBENCH_BD_H

#include <stddef.h>

/* Most points per curve. Real rate/quality curves have 4-20; more is rejected as BD_INVALID. */
#define BD_MAX_POINTS 256

typedef enum bd_status {
  BD_OK = 0,
  BD_TOO_FEW_POINTS, /* a curve has fewer than 4 points */
  BD_NO_OVERLAP,     /* the ranges on the integration axis do not overlap (or only touch) */
  BD_NOT_MONOTONE,   /* duplicate rates, or (bd_rate) metric not strictly increasing */
  BD_INVALID         /* NULL pointer, too many points, non-finite value or rate <= 0 */
} bd_status;

/* A static, human-readable text: "ok", "not comparable: fewer than 4 points", ... Unknown
 * values give "unknown bd_status". Never NULL. */
const char *bd_status_text(bd_status s);

/* BD-rate in percent: the average rate difference of test vs anchor at equal metric. */
bd_status bd_rate(const double *rate_anchor, const double *metric_anchor, size_t n_anchor,
                  const double *rate_test, const double *metric_test, size_t n_test,
                  double *percent);

/* BD-metric: the mean metric difference (test - anchor) over the overlapping log-rate range
 * (BD-PSNR in dB, BD-SSIM, BD-accuracy in accuracy points). */
bd_status bd_metric(const double *rate_anchor, const double *metric_anchor, size_t n_anchor,
                    const double *rate_test, const double *metric_test, size_t n_test,
                    double *delta);

#endif
