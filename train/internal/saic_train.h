/* saic_train.h - one training step of the SAIC codec with the losses of docs/method.md
 * (prefix saic_train_).
 *
 *   L = R / N_px + lambda(r) * (255^2 * D + beta * CE(T(x_hat), y)),  averaged over the batch,
 *   D = mean over c,i,j of W[i,j] (x - x_hat)^2,  W = (1 - a) + a * w (clamped to w_max),
 *   a = alpha(r) = saic_train_alpha_at (alpha, times alpha_scale when set),
 *   w = s / mean(s), s[i,j] = sum_c |g[c,i,j]| (optionally box-smoothed),
 *   g = d CE(T(x_hat), y) / d x_hat  (or at x: gsw_on_original).
 * The task weight follows lambda (gamma(r) = beta * lambda(r)), so the task term keeps the same
 * pull against the distortion at every rate; a fixed weight (gamma, beta = 0) faded 5x when a
 * rate controller raised lambda. Rate knob r in [0, levels - 1]: the log gains and log lambda are
 * interpolated between the two neighbouring levels (saic_model_gains), and the gradient of the
 * mixed log gain is shared between their rows, so every knob value is a trained operating point.
 * alpha = task weight = 0 is the MSE codec; alpha > 0, gamma = 0 GSW-only; alpha = 0, gamma > 0
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
#include "saic.h"

enum { SAIC_TRAIN_MAX_LEVELS = 16, SAIC_TRAIN_MAX_TASKS = 4 };

typedef enum saic_quant { SAIC_QUANT_NOISE = 0, SAIC_QUANT_STE = 1 } saic_quant;

typedef struct saic_loss_cfg {
  int levels;                           /* = the model's levels */
  double lambda[SAIC_TRAIN_MAX_LEVELS]; /* per level */
  double alpha;                         /* GSW mix, [0, 1] */
  double gamma;                         /* fixed task-loss weight, >= 0 (used when beta = 0) */
  double beta;                          /* task weight per unit lambda, >= 0 (0: use gamma) */
  /* Per-level factor on beta (log-interpolated between levels like lambda); 0 everywhere (a
   * zeroed config): 1 at every level. Lets the task term fade at the high rates, where the MSE
   * codec already keeps what the classifier needs. */
  double beta_scale[SAIC_TRAIN_MAX_LEVELS];
  /* Per-level factor in [0, 1] on alpha (linearly interpolated between levels, since 0 is
   * allowed), used when alpha_scaled; else 1 at every level. Lets the saliency weighting fade at
   * the high rates, where it costs PSNR and the classifier no longer needs it. */
  double alpha_scale[SAIC_TRAIN_MAX_LEVELS];
  int alpha_scaled;
  int gsw_on_original; /* compute g at x instead of x_hat */
  int smooth;          /* box filter side for s (odd; 0 or 1: none) */
  double w_max;        /* clamp W to [0, w_max]; 0: no clamp */
  saic_quant quant;    /* what the decoder sees in training */
} saic_loss_cfg;

typedef struct saic_step_stats {
  double loss;       /* the batch loss L */
  double bpp;        /* rate estimate of the noisy latent, bits per pixel */
  double mse;        /* mean (x - x_hat)^2 in [0,1] units */
  double d_weighted; /* D (equals mse when alpha = 0) */
  double dist_term;  /* lambda(r) 255^2 D */
  double task_term;  /* task weight times mean CE; 0 without a task term */
  double ce;         /* mean CE(T(x_hat), y) in nats; NAN when no task network ran */
  double accuracy;   /* task top-1 on x_hat; NAN when no task network ran */
} saic_step_stats;

/* Zeroes the model's gradients, then runs forward and backward for n images x (NCHW floats in
 * [0,1], the model's size) with labels (used when alpha or the task weight > 0; task must then be
 * the frozen classifier for that input size), at rate knob `knob` in [0, levels - 1] (an integer
 * is a trained level). Leaves the gradients in the model's parameters for the caller's optimiser
 * step. rng draws the noise. */
int saic_train_step(saic_model *m, classifier *task, const saic_loss_cfg *cfg, const float *x,
                    const int *labels, int n, double knob, nn_rng *rng, saic_step_stats *st,
                    nn_err *err);

/* The same with several task networks (the seed's "several task networks" direction): the task
 * term is the mean of their cross-entropies, CE = (1/K) sum_j CE(T_j(x_hat), y), and the GSW
 * saliency g the mean of their input gradients. tasks[0] is T (its accuracy is reported); all
 * K <= SAIC_TRAIN_MAX_TASKS networks take the model's image size and have the same class count.
 * K = 1 is exactly saic_train_step. */
int saic_train_step_multi(saic_model *m, classifier *const *tasks, int n_tasks,
                          const saic_loss_cfg *cfg, const float *x, const int *labels, int n,
                          double knob, nn_rng *rng, saic_step_stats *st, nn_err *err);

/* The same with the noise given instead of drawn: noise holds saic_train_noise_count(m, n)
 * values in [-1/2, 1/2), laid out like the latent ([n][M][lh][lw]). saic_train_step_multi is
 * exactly saic_train_draw_noise then this. */
int saic_train_step_noise(saic_model *m, classifier *const *tasks, int n_tasks,
                          const saic_loss_cfg *cfg, const float *x, const int *labels, int n,
                          double knob, const float *noise, saic_step_stats *st, nn_err *err);
size_t saic_train_noise_count(const saic_model *m, int n);
void saic_train_draw_noise(nn_rng *rng, float *noise, size_t count);

/* Data-parallel step: at 32 x 32 one network on two threads was slower than on one (the per-layer
 * fork and join outweighs the work), so training on T threads runs T replicas of the model, each
 * on one thread with its own task networks, on contiguous slices of the batch. Replica 0's
 * parameters are copied to the others first; the noise is drawn for the whole batch from rng in
 * the order one replica would draw it; afterwards replica 0 holds the batch's gradients (the
 * slices' mean gradients weighted by their sizes) and st the batch's statistics, for the
 * caller's optimiser step on replica 0. One replica is exactly saic_train_step_multi; with more
 * the result differs from it only by float summation order. Models and classifiers must be
 * built with one thread each; n >= n_reps. */
enum { SAIC_TRAIN_MAX_REPLICAS = 16 };
typedef struct saic_train_replica {
  saic_model *model;
  classifier *tasks[SAIC_TRAIN_MAX_TASKS];
} saic_train_replica;
int saic_train_step_replicas(const saic_train_replica *reps, int n_reps, int n_tasks,
                             const saic_loss_cfg *cfg, const float *x, const int *labels, int n,
                             double knob, nn_rng *rng, saic_step_stats *st, nn_err *err);

/* lambda at knob: log-linear between the neighbouring levels' lambdas (all > 0). */
double saic_train_lambda_at(const saic_loss_cfg *cfg, double knob);
/* The task-loss weight at knob: beta * scale(knob) * lambda(knob) when beta > 0 (scale: the
 * per-level beta_scale, log-interpolated; 1 when unset), else gamma. */
double saic_train_task_weight(const saic_loss_cfg *cfg, double knob);

/* The GSW mix at knob: alpha * scale(knob) (scale: alpha_scale, linear between levels; 1 when
 * unset). */
double saic_train_alpha_at(const saic_loss_cfg *cfg, double knob);

/* The GSW weights for n saliency maps: s (n x h x w, overwritten by the smoothing) -> W
 * (n x h x w) as above. Public for tests. */
void saic_train_gsw_weights(float *s, int n, int h, int w, const saic_loss_cfg *cfg, float *W);

#endif
