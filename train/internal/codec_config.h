/* codec_config.h - the SAIC codec's training configuration (prefix train_codec_cfg_).
 *
 * A YAML mapping (nested mappings for model/schedule/loss/augment/eval/rate_control, flow lists
 * for lambdas and rate_target); every key is documented in codecs/saic/configs/saic_full.yaml.
 * Unknown keys, duplicates, wrong types, values out of range and inconsistent combinations are
 * errors "path:line:col: message" (1-based). task_checkpoint and init_checkpoint are resolved
 * against the folder of the configuration file. */
#ifndef SAIC_CODEC_CONFIG_H
#define SAIC_CODEC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saic.h"
#include "saic_train.h"

typedef enum train_codec_sched {
  TRAIN_CODEC_SCHED_CONST = 0, /* linear warm-up, then the base rate */
  TRAIN_CODEC_SCHED_COSINE = 1 /* linear warm-up, then cosine to min_lr at the last step */
} train_codec_sched;

typedef struct train_codec_cfg {
  saic_model_cfg model; /* n, m, levels (1..SAIC_TRAIN_MAX_LEVELS), film (model.film: true/false,
                           default false: the rate-conditioned g_s of saic.h) */
  int epochs;
  int batch_size;
  uint64_t seed;
  float lr;              /* Adam learning rate of the transforms and gains */
  float density_lr_mult; /* the density parameters' multiplier (docs/method.md: about 10) */
  float gain_lr_mult;    /* the gains' multiplier (they must move by log-factors) */
  float film_lr_mult;    /* the FiLM tables' multiplier (model.film); <= 0: gain_lr_mult */
  double clip_grad_norm; /* clip the global gradient norm to this; 0: no clipping */
  train_codec_sched sched;
  float warmup_epochs, warmup_start, min_lr;
  /* loss.levels = model.levels; loss.lambda[] = the lambdas list (initial values when a rate
   * target is set); alpha, gamma, gsw_on_original, smooth, w_max, quant. */
  saic_loss_cfg loss;
  /* knob_sampling: false (levels) trains the levels round-robin; true (continuous) alternates a
   * round-robin level step with a step at a knob drawn uniformly from [0, levels - 1]. */
  bool continuous_knob;
  char task_checkpoint[4096]; /* resolved path; "" = none (then alpha = gamma = 0) */
  /* task_checkpoint_2, task_checkpoint_3: more task networks whose cross-entropies and input
   * gradients are averaged with T's in the loss (saic_train_step_multi); "" = none. T
   * (task_checkpoint) alone scores the trainer's evaluation. */
  char task_checkpoint_extra[2][4096];
  /* resolved path of a training checkpoint (arch saic-fp, same n, m, levels) whose networks,
   * gains and densities a new run starts from (fine-tuning; the optimiser starts fresh); "" =
   * random initialisation. Ignored by --resume, which continues its own last.ckpt. */
  char init_checkpoint[4096];
  bool flip;
  int crop_pad;
  int checkpoint_every; /* epochs */
  int log_every;        /* steps */
  int eval_every;       /* epochs; 0 = only after the last epoch */
  int eval_images;      /* test images evaluated (evenly spaced over the split) */
  /* Rate controller (docs/method.md#rate-controller): with rate_target (one bpp per level),
   * after each step of level l: log lambda_l -= rate_gain * clamp(log(bpp / target_l), -1, 1),
   * bpp being that batch's training rate estimate; frozen from rate_freeze_at * total steps on. */
  int nbeta_scale;   /* values of loss.beta_scale; 0 = not given (1 at every level) */
  int nalpha_scale;  /* values of loss.alpha_scale; 0 = not given (1 at every level) */
  int nrate_targets; /* 0 = no controller */
  double rate_target[SAIC_TRAIN_MAX_LEVELS];
  double rate_gain;
  double rate_freeze_at;
} train_codec_cfg;

void train_codec_cfg_defaults(train_codec_cfg *cfg);
/* Parses YAML text; path names the file in messages and is the base of task_checkpoint. */
int train_codec_cfg_parse(const char *path, const char *text, size_t len, train_codec_cfg *cfg,
                          char *err, size_t err_len);
/* Reads and parses a file (at most 1 MiB); *text (may be NULL) receives the malloc()ed text. */
int train_codec_cfg_load(const char *path, train_codec_cfg *cfg, char **text, char *err,
                         size_t err_len);

#endif
