/* saic_density.h - the SAIC codec's factorized prior: one learned univariate density per latent
 * channel (Ballé et al. 2018, "Variational image compression with a scale hyperprior",
 * appendix 6.1; CompressAI's EntropyBottleneck with filters (3, 3, 3)).
 *
 * Per channel the cumulative is c(x) = sigmoid(f4(f3(f2(f1(x))))) with
 *   f_k(v) = softplus(H_k) v + b_k, followed for k < 4 by v + tanh(a_k) * tanh(v),
 * layer widths 1 -> 3 -> 3 -> 3 -> 1. The probability of an integer symbol q is
 * c(q + 1/2) - c(q - 1/2), and during training the same expression at a noisy value y gives the
 * likelihood of the noisy latent. Rate in bits = -sum log2 max(likelihood, 1e-9); the floor
 * passes gradients through (CompressAI's LowerBound does so for a loss that wants the likelihood
 * to grow).
 *
 * Parameters of channel c are SAIC_DENSITY_NPARAM consecutive floats at params + c *
 * SAIC_DENSITY_NPARAM (the layout below); the caller owns them (in the codec they are a
 * parameter of the nn network, so the optimiser and checkpoints handle them). Arithmetic is in
 * double. Channels are independent, so the work is split over channels with OpenMP and every
 * sum runs in a fixed order: results do not depend on the thread count.
 *
 * Thread-safety: pure functions of their arguments. */
#ifndef SAIC_DENSITY_H
#define SAIC_DENSITY_H

#include <stddef.h>

/* Layout of one channel's parameters (raw values; H is used through softplus, a through tanh). */
enum {
  SAIC_DENSITY_H1 = 0,                   /* 3 x 1 */
  SAIC_DENSITY_B1 = SAIC_DENSITY_H1 + 3, /* 3 */
  SAIC_DENSITY_A1 = SAIC_DENSITY_B1 + 3, /* 3 */
  SAIC_DENSITY_H2 = SAIC_DENSITY_A1 + 3, /* 3 x 3, row-major (out, in) */
  SAIC_DENSITY_B2 = SAIC_DENSITY_H2 + 9,
  SAIC_DENSITY_A2 = SAIC_DENSITY_B2 + 3,
  SAIC_DENSITY_H3 = SAIC_DENSITY_A2 + 3, /* 3 x 3 */
  SAIC_DENSITY_B3 = SAIC_DENSITY_H3 + 9,
  SAIC_DENSITY_A3 = SAIC_DENSITY_B3 + 3,
  SAIC_DENSITY_H4 = SAIC_DENSITY_A3 + 3, /* 1 x 3 */
  SAIC_DENSITY_B4 = SAIC_DENSITY_H4 + 3, /* 1 */
  SAIC_DENSITY_NPARAM = SAIC_DENSITY_B4 + 1
};

/* Likelihoods below this are counted as this (1e-9: at most 29.9 bits per symbol). */
#define SAIC_DENSITY_MIN_LIKELIHOOD 1e-9

/* CompressAI's initialisation with init_scale (10 there): H_k constant
 * log(expm1(1 / scale / width_out)) with scale = init_scale^(1/4), a_k = 0, and biases
 * uniform in [-1/2, 1/2) from the caller's generator (uniform01 returns [0, 1) draws). */
void saic_density_init(float *params, int channels, double init_scale, double (*uniform01)(void *),
                       void *rng);

/* Cumulative logit f4(...f1(x)) of channel `channel` (sigmoid of it is c(x)). */
double saic_density_logit(const float *params, int channel, double x);

/* Probability of the interval [x - 1/2, x + 1/2] under channel `channel`, computed in the
 * numerically stable form |sigmoid(s u) - sigmoid(s l)|, s = -sign(l + u). Not floored. */
double saic_density_likelihood(const float *params, int channel, double x);

/* Rate of a latent tensor y laid out [n][channels][hw]: returns the total bits
 * -sum log2 max(likelihood, floor). If grad_y is not NULL it receives scale * d(bits)/dy
 * (overwritten, same layout); if grad_params is not NULL scale * d(bits)/dparams is ADDED to it
 * (params layout). threads: OpenMP threads over channels (<= 1: serial). */
double saic_density_bits(const float *params, int channels, const float *y, int n, size_t hw,
                         double scale, float *grad_y, float *grad_params, int threads);

/* The same with a quantisation step per channel, for a density of the unscaled latent: symbol
 * (or noisy value) x stands for the interval [(x - 1/2) step, (x + 1/2) step] of the density's
 * variable. The codec's gain g gives step = 1/g, so one density serves every rate (the gain
 * only changes the bin width) instead of one density having to fit the symbols of all gains.
 * step NULL means 1 for every channel (= saic_density_bits). grad_step (if not NULL) receives
 * scale * d(bits)/d(step) ADDED per channel (double[channels]). */
double saic_density_likelihood_step(const float *params, int channel, double x, double step);
double saic_density_bits_step(const float *params, int channels, const float *y, int n, size_t hw,
                              const float *step, double scale, float *grad_y, float *grad_params,
                              double *grad_step, int threads);

#endif
