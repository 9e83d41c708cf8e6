#include "ratectl.h"

#include <math.h>
#include <stdio.h>

#define RATECTL_REL_TOL 0.005
#define RATECTL_MAX_HINTS 64 /* hints beyond this many are ignored */

/* The search runs in "rate order" r, where a larger r always means more bytes: r = d * k for
 * linear knobs and r = d * log(k) for log-searched ones (d = rate direction). */
typedef struct space {
  int is_int, is_log, dir;
  double kmin, kmax;
} space;

static double to_knob(const space *sp, double r) {
  double k = sp->dir * r;
  k = sp->is_log ? exp(k) : k;
  return k < sp->kmin ? sp->kmin : k > sp->kmax ? sp->kmax : k; /* exp(log(x)) may drift */
}

static double to_r(const space *sp, double knob) {
  return sp->dir * (sp->is_log ? log(knob) : knob);
}

int ratectl_search(const codec_knob *knob, double target_bpp, int max_evals, ratectl_bpp_fn fn,
                   void *ctx, ratectl_result *out, char *err, size_t err_len) {
  return ratectl_search_hinted(knob, target_bpp, max_evals, NULL, 0, fn, ctx, out, err, err_len);
}

int ratectl_search_hinted(const codec_knob *knob, double target_bpp, int max_evals,
                          const double *hints, int n_hints, ratectl_bpp_fn fn, void *ctx,
                          ratectl_result *out, char *err, size_t err_len) {
  space sp = {knob->kind == CODEC_KNOB_INT, 0, knob->rate_increases >= 0 ? 1 : -1, 0, 0};
  double kmin = knob->min, kmax = knob->max;
  if (sp.is_int) {
    kmin = ceil(kmin);
    kmax = floor(kmax);
  } else if (kmin > 0 && kmax / kmin > 100) {
    sp.is_log = 1;
  }
  sp.kmin = kmin;
  sp.kmax = kmax;
  if (!(kmax >= kmin)) {
    snprintf(err, err_len, "knob '%s' has an empty range", knob->name);
    return -1;
  }
  if (max_evals < 2)
    max_evals = 2;
  double lo = to_r(&sp, kmin), hi = to_r(&sp, kmax);
  if (lo > hi) {
    double t = lo;
    lo = hi;
    hi = t;
  }
  double tol = (hi - lo) * 1e-4;
  double b_lo, b_hi, b;
  out->n_evals = 0;
  /* Lowest rate first: if even that is too big, the target cannot be reached. */
  if (fn(ctx, to_knob(&sp, lo), &b_lo, err, err_len))
    return -1;
  out->n_evals++;
  if (b_lo > target_bpp) {
    out->knob = to_knob(&sp, lo);
    out->bpp = b_lo;
    out->unreachable = 1;
    return 0;
  }
  out->unreachable = 0;
  /* Hints: the smallest one above the target bounds the bracket from above, then the largest
   * one at or below the target and below that bound from below (so a non-monotone curve cannot
   * cross them). Not counted: the caller has these encodes for other purposes. */
  double h_r[RATECTL_MAX_HINTS], h_b[RATECTL_MAX_HINTS];
  int nh = 0, have_hi = 0;
  for (int i = 0; hints && i < n_hints && nh < RATECTL_MAX_HINTS; i++) {
    const double k = hints[i];
    if (!(k >= kmin && k <= kmax) || (sp.is_int && k != floor(k)) || (sp.is_log && !(k > 0)))
      continue;
    const double r = to_r(&sp, k);
    if (!(r > lo && r < hi))
      continue;
    if (fn(ctx, k, &h_b[nh], err, err_len))
      return -1;
    h_r[nh++] = r;
  }
  for (int i = 0; i < nh; i++)
    if (h_b[i] > target_bpp && (!have_hi || h_r[i] < hi)) {
      hi = h_r[i];
      b_hi = h_b[i];
      have_hi = 1;
    }
  for (int i = 0; i < nh; i++)
    if (h_b[i] <= target_bpp && h_r[i] > lo && h_r[i] < hi) {
      lo = h_r[i];
      b_lo = h_b[i];
    }
  if (!have_hi) {
    if (fn(ctx, to_knob(&sp, hi), &b_hi, err, err_len))
      return -1;
    out->n_evals++;
  }
  if (b_hi <= target_bpp) {
    out->knob = to_knob(&sp, hi);
    out->bpp = b_hi;
    return 0;
  }
  /* Invariant: bpp(lo) <= target < bpp(hi). Safeguarded false position: interpolate in
   * (r, log bpp), where rate curves are close to straight lines, so smooth codecs converge in a
   * few encodes; an interpolation step that does not halve the bracket is followed by a
   * bisection step, so the worst case is twice plain bisection. Real knobs aim a little below
   * the target and stop once within RATECTL_REL_TOL of it. */
  int interpolate = 1;
  while (out->n_evals < max_evals) {
    double width = hi - lo, mid;
    if (sp.is_int ? width <= 1
                  : (width <= tol || target_bpp - b_lo <= RATECTL_REL_TOL * target_bpp))
      break;
    if (interpolate && b_lo > 0 && b_hi > b_lo) {
      double aim = sp.is_int ? target_bpp : target_bpp * (1 - RATECTL_REL_TOL / 2);
      double f = (log(aim) - log(b_lo)) / (log(b_hi) - log(b_lo));
      mid = lo + f * width;
      double margin = sp.is_int ? 1 : width * 1e-3;
      if (sp.is_int)
        mid = floor(mid + 0.5);
      if (mid < lo + margin)
        mid = lo + margin;
      if (mid > hi - margin)
        mid = hi - margin;
    } else {
      mid = sp.is_int ? lo + floor(width / 2) : lo + width / 2;
    }
    if (fn(ctx, to_knob(&sp, mid), &b, err, err_len))
      return -1;
    out->n_evals++;
    if (b <= target_bpp) {
      lo = mid;
      b_lo = b;
    } else {
      hi = mid;
      b_hi = b;
    }
    interpolate = !interpolate || hi - lo <= width / 2;
  }
  out->knob = to_knob(&sp, lo);
  out->bpp = b_lo;
  return 0;
}
