/* Bjøntegaard deltas with PCHIP interpolation; definitions and choices in bd.h. */
#include "metrics.h"

#include <math.h>

/* One curve on the integration axis: knots x (strictly increasing), values y, PCHIP slopes d. */
typedef struct bd_curve {
  size_t n;
  double x[METRICS_BD_MAX_POINTS];
  double y[METRICS_BD_MAX_POINTS];
  double d[METRICS_BD_MAX_POINTS];
} bd_curve;

/* Which quantity is integrated over which axis. */
typedef enum bd_kind { BD_KIND_RATE, BD_KIND_METRIC } bd_kind;

const char *metrics_bd_status_text(metrics_bd_status s) {
  switch (s) {
  case METRICS_BD_OK: return "ok";
  case METRICS_BD_TOO_FEW_POINTS: return "not comparable: fewer than 4 points";
  case METRICS_BD_NO_OVERLAP: return "not comparable: the curves do not overlap";
  case METRICS_BD_NOT_MONOTONE:
    return "not comparable: duplicate rates or metric not increasing with rate";
  case METRICS_BD_INVALID:
    return "invalid input: NULL, too many points, non-finite value or rate <= 0";
  }
  return "unknown metrics_bd_status";
}

/* -1, 0 or +1, as numpy.sign for finite values. */
static int sign_of(double v) { return (v > 0.0) - (v < 0.0); }

static int values_valid(const double *rate, const double *metric, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(rate[i]) || !(rate[i] > 0.0) || !isfinite(metric[i]))
      return 0;
  return 1;
}

/* Copies the points into c sorted by rate (insertion sort: n <= METRICS_BD_MAX_POINTS, and stable),
 * then maps them to the integration axis. Returns METRICS_BD_NOT_MONOTONE on duplicate rates, on
 * knots that are not strictly increasing after the mapping, or (BD-rate) on a metric that is not
 * strictly increasing with rate. */
static metrics_bd_status load_curve(bd_curve *c, const double *rate, const double *metric, size_t n,
                                    bd_kind kind) {
  /* Sorted (rate, metric) pairs, held in x (rate) and y (metric) for now. */
  c->n = n;
  for (size_t i = 0; i < n; i++) {
    double r = rate[i], m = metric[i];
    size_t j = i;
    while (j > 0 && c->x[j - 1] > r) {
      c->x[j] = c->x[j - 1];
      c->y[j] = c->y[j - 1];
      j--;
    }
    c->x[j] = r;
    c->y[j] = m;
  }
  for (size_t i = 1; i < n; i++) {
    if (!(c->x[i] > c->x[i - 1]))
      return METRICS_BD_NOT_MONOTONE;
    if (kind == BD_KIND_RATE && !(c->y[i] > c->y[i - 1]))
      return METRICS_BD_NOT_MONOTONE;
  }
  for (size_t i = 0; i < n; i++) {
    double lr = log10(c->x[i]);
    if (kind == BD_KIND_RATE) {
      c->x[i] = c->y[i]; /* knots: metric */
      c->y[i] = lr;      /* values: log10(rate) */
    } else {
      c->x[i] = lr; /* knots: log10(rate); values: metric (already in y) */
    }
  }
  /* Distinct rates can still give equal log10 values when they differ in the last bits. */
  for (size_t i = 1; i < n; i++)
    if (!(c->x[i] > c->x[i - 1]))
      return METRICS_BD_NOT_MONOTONE;
  return METRICS_BD_OK;
}

/* PCHIP end slope (SciPy's PchipInterpolator._edge_case, after Moler's pchiptx). */
static double edge_slope(double h0, double h1, double m0, double m1) {
  double d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
  if (sign_of(d) != sign_of(m0))
    return 0.0;
  if (sign_of(m0) != sign_of(m1) && fabs(d) > 3.0 * fabs(m0))
    return 3.0 * m0;
  return d;
}

/* PCHIP slopes at the knots (SciPy's PchipInterpolator._find_derivatives), n >= 3. */
static void pchip_slopes(bd_curve *c) {
  size_t n = c->n;
  for (size_t k = 1; k + 1 < n; k++) {
    double hl = c->x[k] - c->x[k - 1], hr = c->x[k + 1] - c->x[k];
    double ml = (c->y[k] - c->y[k - 1]) / hl, mr = (c->y[k + 1] - c->y[k]) / hr;
    if (sign_of(ml) != sign_of(mr) || ml == 0.0 || mr == 0.0) {
      c->d[k] = 0.0;
    } else {
      double w1 = 2.0 * hr + hl, w2 = hr + 2.0 * hl;
      c->d[k] = 1.0 / ((w1 / ml + w2 / mr) / (w1 + w2));
    }
  }
  double h0 = c->x[1] - c->x[0], h1 = c->x[2] - c->x[1];
  double m0 = (c->y[1] - c->y[0]) / h0, m1 = (c->y[2] - c->y[1]) / h1;
  c->d[0] = edge_slope(h0, h1, m0, m1);
  double he = c->x[n - 1] - c->x[n - 2], hf = c->x[n - 2] - c->x[n - 3];
  double me = (c->y[n - 1] - c->y[n - 2]) / he, mf = (c->y[n - 2] - c->y[n - 3]) / hf;
  c->d[n - 1] = edge_slope(he, hf, me, mf);
}

/* Exact integral of the interpolant over [lo, hi], a sub-interval of [x[0], x[n-1]]. Each piece
 * is the cubic c0 + c1 s + c2 s^2 + c3 s^3 in s = x - x[k] (SciPy's PPoly coefficients), whose
 * antiderivative is evaluated at the clipped ends of the piece. */
static double integrate(const bd_curve *c, double lo, double hi) {
  double sum = 0.0;
  for (size_t k = 0; k + 1 < c->n; k++) {
    double a = c->x[k] > lo ? c->x[k] : lo;
    double b = c->x[k + 1] < hi ? c->x[k + 1] : hi;
    if (!(b > a))
      continue;
    double h = c->x[k + 1] - c->x[k];
    double m = (c->y[k + 1] - c->y[k]) / h;
    double t = (c->d[k] + c->d[k + 1] - 2.0 * m) / h;
    double c3 = t / h, c2 = (m - c->d[k]) / h - t, c1 = c->d[k], c0 = c->y[k];
    double sa = a - c->x[k], sb = b - c->x[k];
    double fb = sb * (c0 + sb * (c1 / 2.0 + sb * (c2 / 3.0 + sb * (c3 / 4.0))));
    double fa = sa * (c0 + sa * (c1 / 2.0 + sa * (c2 / 3.0 + sa * (c3 / 4.0))));
    sum += fb - fa;
  }
  return sum;
}

/* Shared body of metrics_bd_rate and metrics_bd_metric: validates, interpolates, integrates over
 * the overlap and stores (integral(test) - integral(anchor)) / length in *avg. */
static metrics_bd_status bd_average(const double *rate_a, const double *metric_a, size_t n_a,
                                    const double *rate_t, const double *metric_t, size_t n_t,
                                    bd_kind kind, double *avg) {
  if (n_a < 4 || n_t < 4)
    return METRICS_BD_TOO_FEW_POINTS;
  if (n_a > METRICS_BD_MAX_POINTS || n_t > METRICS_BD_MAX_POINTS || !rate_a || !metric_a ||
      !rate_t || !metric_t)
    return METRICS_BD_INVALID;
  if (!values_valid(rate_a, metric_a, n_a) || !values_valid(rate_t, metric_t, n_t))
    return METRICS_BD_INVALID;
  bd_curve ca, ct;
  metrics_bd_status s = load_curve(&ca, rate_a, metric_a, n_a, kind);
  if (s == METRICS_BD_OK)
    s = load_curve(&ct, rate_t, metric_t, n_t, kind);
  if (s != METRICS_BD_OK)
    return s;
  double lo = fmax(ca.x[0], ct.x[0]);
  double hi = fmin(ca.x[n_a - 1], ct.x[n_t - 1]);
  if (!(hi > lo))
    return METRICS_BD_NO_OVERLAP;
  if (!isfinite(hi - lo))
    return METRICS_BD_INVALID;
  pchip_slopes(&ca);
  pchip_slopes(&ct);
  *avg = (integrate(&ct, lo, hi) - integrate(&ca, lo, hi)) / (hi - lo);
  return isfinite(*avg) ? METRICS_BD_OK : METRICS_BD_INVALID;
}

metrics_bd_status metrics_bd_rate(const double *rate_anchor, const double *metric_anchor,
                                  size_t n_anchor, const double *rate_test,
                                  const double *metric_test, size_t n_test, double *percent) {
  if (!percent)
    return METRICS_BD_INVALID;
  *percent = NAN;
  double avg = 0.0;
  metrics_bd_status s = bd_average(rate_anchor, metric_anchor, n_anchor, rate_test, metric_test,
                                   n_test, BD_KIND_RATE, &avg);
  if (s != METRICS_BD_OK)
    return s;
  double p = (pow(10.0, avg) - 1.0) * 100.0;
  if (!isfinite(p))
    return METRICS_BD_INVALID;
  *percent = p;
  return METRICS_BD_OK;
}

metrics_bd_status metrics_bd_metric(const double *rate_anchor, const double *metric_anchor,
                                    size_t n_anchor, const double *rate_test,
                                    const double *metric_test, size_t n_test, double *delta) {
  if (!delta)
    return METRICS_BD_INVALID;
  *delta = NAN;
  double avg = 0.0;
  metrics_bd_status s = bd_average(rate_anchor, metric_anchor, n_anchor, rate_test, metric_test,
                                   n_test, BD_KIND_METRIC, &avg);
  if (s != METRICS_BD_OK)
    return s;
  *delta = avg;
  return METRICS_BD_OK;
}
