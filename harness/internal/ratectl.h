/* Rate control: find the knob value whose bpp is the largest not above a target, by bisection
 * on the (assumed monotone) knob, with a bounded number of evaluations.
 *
 * Pure logic: the caller supplies the function that encodes at a knob and returns its bpp, so
 * the search is testable without codecs and the caller may cache encodes. Reentrant. */
#ifndef SAICBENCH_RATECTL_H
#define SAICBENCH_RATECTL_H

#include "saicbench_codec.h"

/* Encodes at `knob` and reports the file bpp. Returns 0, or non-zero with err filled. */
typedef int (*ratectl_bpp_fn)(void *ctx, double knob, double *bpp, char *err, size_t err_len);

typedef struct ratectl_result {
  double knob;     /* chosen knob value */
  double bpp;      /* its bpp */
  int unreachable; /* 1: even the lowest-rate knob is above the target; knob is that one */
  int n_evals;     /* evaluations made (cached or not): a deterministic cost measure */
} ratectl_result;

/* Integer knobs are searched over integers (the result is exact for a monotone curve); real
 * knobs spanning more than two decades with a positive minimum are searched in log space,
 * others linearly, and stop once the bpp is within 0.5% below the target or the bracket is
 * below 1e-4 of the range. Steps interpolate log(bpp) between the bracket ends, falling back to
 * bisection when that does not halve the bracket. At most max_evals (>= 2) evaluations; the
 * result always satisfies bpp <= target unless unreachable. */
int ratectl_search(const codec_knob *knob, double target_bpp, int max_evals, ratectl_bpp_fn fn,
                   void *ctx, ratectl_result *out, char *err, size_t err_len);

/* The same search, first narrowing the bracket with `hints`: knob values whose bpp the caller
 * has anyway (the suite's knob grid, encoded for its own rows). Each hint inside the range is
 * evaluated through fn but not counted in n_evals or against max_evals; the bracket becomes the
 * largest hint at or below the target and the smallest above it (the top of the range is then
 * not evaluated). Without the hints a knob range much wider than the codec's useful one (a
 * flat top) costs the interpolation steps it should save; with them the search starts between
 * two grid points. The result depends only on fn's values, not on what the caller cached. */
int ratectl_search_hinted(const codec_knob *knob, double target_bpp, int max_evals,
                          const double *hints, int n_hints, ratectl_bpp_fn fn, void *ctx,
                          ratectl_result *out, char *err, size_t err_len);

#endif
