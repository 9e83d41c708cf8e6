/* saic_train.h - one training step of the SAIC codec with the losses of DESIGN.md §2
 * (prefix saic_train_).
 *
 *   L = R / N_px + lambda_l * 255^2 * D + gamma * CE(T(x_hat), y),  averaged over the batch,
 *   D = mean over c,i,j of W[i,j] (x - x_hat)^2,  W = (1 - alpha) + alpha * w (clamped to w_max),
 *   w = s / mean(s), s[i,j] = sum_c |g[c,i,j]| (optionally box-smoothed),
 *   g = d CE(T(x_hat), y) / d x_hat  (or at x: gsw_on_original).
 * alpha = gamma = 0 is the MSE codec; alpha > 0, gamma = 0 GSW-only; alpha = 0, gamma > 0
 * task-loss-only; both > 0 full SAIC. One classifier backward serves both terms: the gradient
 * of gamma * CE with respect to x_hat is gamma * g. W is a constant in the backward pass.
 *
 * Rate: the latent y = g_a(x) is scaled by the level's gain, then additive uniform noise
 * U(-1/2, 1/2) gives the noisy latent whose likelihood under the factorized prior is the rate.
 * The decoder sees either that noisy latent (quant = noise) or the rounded one with a
 * straight-through gradient (quant = ste), times the level's inverse gain.
 *
 * Thread-safety: uses the model and classifier it is given; one step at a time per model. */
#ifndef SAIC_TRAIN_H
#define SAIC_TRAIN_H

#include "classifier.h"
#include "nn.h"
#include "saic_model.h"

enum { SAIC_TRAIN_MAX_LEVELS = 16 };

typedef enum saic_quant { SAIC_QUANT_NOISE = 0, SAIC_QUANT_STE = 1 } saic_quant;

typedef struct saic_loss_cfg {
  int levels;                           /* = the model's levels */
  double lambda[SAIC_TRAIN_MAX_LEVELS]; /* per level */
  double alpha;                         /* GSW mix, [0, 1] */
  double gamma;                         /* task-loss weight, >= 0 */
  int gsw_on_original;                  /* compute g at x instead of x_hat */
  int smooth;                           /* box filter side for s (odd; 0 or 1: none) */
  double w_max;                         /* clamp W to [0, w_max]; 0: no clamp */
  saic_quant quant;                     /* what the decoder sees in training */
} saic_loss_cfg;

typedef struct saic_step_stats {
  double loss;       /* the batch loss L */
  double bpp;        /* rate estimate of the noisy latent, bits per pixel */
  double mse;        /* mean (x - x_hat)^2 in [0,1] units */
  double d_weighted; /* D (equals mse when alpha = 0) */
  double ce;         /* mean CE(T(x_hat), y) in nats; NAN when no task network ran */
  double accuracy;   /* task top-1 on x_hat; NAN when no task network ran */
} saic_step_stats;

/* Zeroes the model's gradients, then runs forward and backward for n images x (NCHW floats in
 * [0,1], the model's size) with labels (used when alpha or gamma > 0; task must then be the
 * frozen classifier for that input size), training level `level`. Leaves the gradients in the
 * model's parameters for the caller's optimiser step. rng draws the noise. */
int saic_train_step(saic_model *m, classifier *task, const saic_loss_cfg *cfg, const float *x,
                    const int *labels, int n, int level, nn_rng *rng, saic_step_stats *st,
                    nn_err *err);

/* The GSW weights for n saliency maps: s (n x h x w, overwritten by the smoothing) -> W
 * (n x h x w) as above. Public for tests. */
void saic_train_gsw_weights(float *s, int n, int h, int w, const saic_loss_cfg *cfg, float *W);

#endif
