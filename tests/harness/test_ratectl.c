/* Rate-control search on synthetic, known rate curves. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ratectl.h"
#include "sb_test.h"

typedef struct curve {
  double (*f)(double);
  int calls;
  int fail_at_call; /* 0: never */
} curve;

static int eval(void *ctx, double knob, double *bpp, char *err, size_t err_len) {
  curve *c = ctx;
  c->calls++;
  if (c->fail_at_call && c->calls == c->fail_at_call) {
    snprintf(err, err_len, "synthetic failure");
    return -1;
  }
  *bpp = c->f(knob);
  return 0;
}

static double jpeg_like(double q) { return 0.2 + 0.03 * q; } /* 0.23 .. 3.2 */
static double ratio_like(double r) { return 24.0 / r; }      /* decreasing */
static double staircase(double q) { return floor(q / 10) * 0.1 + 0.05; }
/* A learned codec's knob: exponential in 0 .. 3.67 (0.06 .. ~2 bpp), flat above (the knob's
 * declared range is 0 .. 15), in steps of 3.67 / 77 like the SAIC rate index. */
static double flat_top(double k) {
  const double top = 11.0 / 3;
  double q = floor((k < top ? k : top) / top * 77 + 0.5);
  return 0.06 * exp(q / 77 * top * 0.95);
}

/* Random monotone curves over 1..100: cumulative sums of random positive steps, some huge. */
static double random_curve[101];
static double random_monotone(double q) { return random_curve[(int)q]; }
static void make_random_curve(unsigned seed) {
  double v = 0.01;
  for (int q = 1; q <= 100; q++) {
    seed = seed * 1103515245u + 12345u;
    unsigned r = (seed >> 8) % 1000;
    v += r < 950 ? r * 1e-5 : r * 1e-2; /* mostly small steps, a few cliffs */
    random_curve[q] = v;
  }
}

/* Brute force: the largest integer knob with f <= target. */
static double brute_int(double (*f)(double), double lo, double hi, double target) {
  double best = NAN;
  for (double k = lo; k <= hi; k++)
    if (f(k) <= target)
      best = k;
  return best;
}

int main(void) {
  char err[256];
  ratectl_result r;
  codec_knob qk = {"quality", "", CODEC_KNOB_INT, 1, 100, +1};
  /* Integer knob: the exact optimum, within the log2 budget. */
  for (double target = 0.25; target < 3.3; target += 0.137) {
    curve c = {jpeg_like, 0, 0};
    CHECK(ratectl_search(&qk, target, 12, eval, &c, &r, err, sizeof err) == 0);
    double want = brute_int(jpeg_like, 1, 100, target);
    CHECK(r.knob == want, "target %g: knob %g, want %g", target, r.knob, want);
    CHECK(r.bpp <= target && !r.unreachable);
    CHECK(r.n_evals == c.calls && r.n_evals <= 9);
  }
  /* Non-smooth staircase: still the largest feasible integer. */
  for (double target = 0.06; target < 1.2; target += 0.05) {
    curve c = {staircase, 0, 0};
    CHECK(ratectl_search(&qk, target, 12, eval, &c, &r, err, sizeof err) == 0);
    CHECK(r.knob == brute_int(staircase, 1, 100, target), "staircase target %g -> %g", target,
          r.knob);
  }
  /* Exact on arbitrary monotone curves, and never more than twice plain bisection (2 + 2*7). */
  for (unsigned seed = 1; seed <= 200; seed++) {
    make_random_curve(seed);
    for (int k = 0; k < 5; k++) {
      double target = random_curve[1] + (random_curve[100] - random_curve[1]) * (k + 0.5) / 5;
      curve c = {random_monotone, 0, 0};
      CHECK(ratectl_search(&qk, target, 16, eval, &c, &r, err, sizeof err) == 0);
      CHECK(r.knob == brute_int(random_monotone, 1, 100, target),
            "seed %u target %g: got %g want %g after %d evals", seed, target, r.knob,
            brute_int(random_monotone, 1, 100, target), r.n_evals);
      CHECK(r.n_evals <= 16);
    }
  }
  /* Unreachable: even the lowest knob is above the target. */
  curve c1 = {jpeg_like, 0, 0};
  CHECK(ratectl_search(&qk, 0.1, 12, eval, &c1, &r, err, sizeof err) == 0);
  CHECK(r.unreachable == 1 && r.knob == 1 && r.n_evals == 1);
  /* Target above the highest rate: the top of the range. */
  curve c2 = {jpeg_like, 0, 0};
  CHECK(ratectl_search(&qk, 10, 12, eval, &c2, &r, err, sizeof err) == 0);
  CHECK(r.knob == 100 && !r.unreachable && r.n_evals == 2);
  /* Budget respected. */
  curve c3 = {jpeg_like, 0, 0};
  CHECK(ratectl_search(&qk, 1.0, 4, eval, &c3, &r, err, sizeof err) == 0);
  CHECK(c3.calls == 4 && r.bpp <= 1.0);
  /* Decreasing real knob over three decades: log-space bisection lands close. */
  codec_knob rk = {"ratio", "", CODEC_KNOB_REAL, 1, 1000, -1};
  for (double target = 0.05; target < 20; target *= 1.7) {
    curve c = {ratio_like, 0, 0};
    CHECK(ratectl_search(&rk, target, 24, eval, &c, &r, err, sizeof err) == 0);
    CHECK(r.bpp <= target);
    CHECK(r.knob >= 1 && r.knob <= 1000);
    if (target >= 24.0 / 1000 && target <= 24.0) {
      /* Within 0.5% below the target, and interpolation makes that cheap on a smooth curve. */
      CHECK((target - r.bpp) / target <= 0.005, "ratio target %g got %g", target, r.bpp);
      CHECK(r.n_evals <= 5, "ratio target %g: %d evals", target, r.n_evals);
    }
  }
  /* Flat top: with 10 evaluations the plain search wastes its interpolation steps on the
   * plateau; the knob grid as hints brackets it, reaching the same answer as an exhaustive
   * search over the 78 indices, within the budget, with hints not counted (0 is the range end,
   * 20 outside it: four hints are evaluated). */
  codec_knob sk = {"rate", "", CODEC_KNOB_REAL, 0, 15, +1};
  const double grid[] = {0, 1, 2, 3, 3.5, 20 /* out of range: ignored */};
  int plain_worse = 0;
  for (double target = 0.1; target < 2.0; target *= 1.23) {
    double best = 0;
    for (int q = 0; q <= 77; q++)
      if (flat_top(q * (11.0 / 3) / 77) <= target)
        best = flat_top(q * (11.0 / 3) / 77);
    curve ch = {flat_top, 0, 0}, cp = {flat_top, 0, 0};
    ratectl_result rh, rp;
    CHECK(ratectl_search_hinted(&sk, target, 10, grid, 6, eval, &ch, &rh, err, sizeof err) == 0);
    CHECK(ratectl_search(&sk, target, 10, eval, &cp, &rp, err, sizeof err) == 0);
    CHECK(rh.bpp == best, "flat top, target %g: %g with hints, best %g", target, rh.bpp, best);
    CHECK(rh.n_evals <= 10 && ch.calls == rh.n_evals + 4, "target %g: %d evals, %d calls", target,
          rh.n_evals, ch.calls);
    plain_worse += rp.bpp < best;
  }
  CHECK(plain_worse > 0, "the plain search matched every target: the test shows nothing");
  /* Hints above the target only: the top of the range is not evaluated. */
  const double high[] = {3.5};
  curve c5 = {flat_top, 0, 0};
  CHECK(ratectl_search_hinted(&sk, 1.0, 10, high, 1, eval, &c5, &r, err, sizeof err) == 0);
  CHECK(r.bpp <= 1.0 && r.bpp > 0.97 * 1.0 * 0.9);
  /* Evaluation errors propagate. */
  curve c4 = {jpeg_like, 0, 3};
  CHECK(ratectl_search(&qk, 1.0, 12, eval, &c4, &r, err, sizeof err) != 0);
  CHECK(strstr(err, "synthetic failure") != NULL);
  return sb_test_status("test_ratectl");
}
