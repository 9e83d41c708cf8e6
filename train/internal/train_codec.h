/* train_codec.h - training the SAIC codec (prefix train_codec_).
 *
 * `saicbench train codec --config FILE ...` ends in train_codec_main. The pieces below are
 * public so tests can train on generated data: the configuration (codec_config.h) and the
 * training loop on images already in memory.
 *
 * Loop: every epoch shuffles the training images (one xoshiro256** stream seeded from the
 * config's seed drives the shuffle, the augmentation and the training noise, in that order);
 * each step trains ONE rate knob: with knob_sampling levels, a level chosen round-robin (level =
 * global step mod levels: every level gets the same number of steps and the same share of every
 * part of the schedule); with knob_sampling continuous, even steps train level (step / 2) mod
 * levels and odd steps a knob drawn uniformly from [0, levels - 1] (one draw from the stream),
 * so every knob rate control can pick between the levels is trained. Then saic_train_step, a
 * global gradient-norm clip (clip_grad_norm), and one Adam step on the encoder and one on the
 * decoder at the scheduled learning rate (the density parameters' group times
 * density_lr_mult). With rate_target, a level's lambda is nudged after each of its own steps
 * (codec_config.h) until the freeze point; knobs between levels use the log-interpolated
 * lambdas. The progress lines give each level's rate and, with a task term, its task/distortion
 * ratio (the task term's pull; docs/method.md#task-weight).
 *
 * Evaluation (every eval.every epochs and after the last): eval.images test images, evenly
 * spaced over the split (every k-th, k = floor(n / images); 1000 of CIFAR-10's 10000 are the
 * quick suite's selection), through the codec at every level with ROUNDED latents: the rate is
 * -sum log2 P(q) under the learned density at the integer symbols (what the entropy coder
 * achieves up to its table quantisation), the reconstruction is clamped and rounded to 8 bits;
 * PSNR is the mean of per-image PSNR (docs/metrics.md#psnr), and with a task network its top-1
 * accuracy on the reconstructions.
 *
 * Checkpoints in the output folder (each written to a temporary file and renamed; the model's
 * networks under the prefixes "enc." and "dec."):
 *   last.ckpt   model + Adam state (extra tensors "optim.enc.m.<param>", "optim.enc.v.<param>",
 *               "optim.dec.m.<param>", "optim.dec.v.<param>") + metadata epoch/step/rng/lambda:
 *               --resume continues exactly from it (same thread count: bit-identical to an
 *               uninterrupted run); written every checkpoint_every epochs and after the last;
 *   final.ckpt  model only, after the last epoch.
 * Metadata: arch "saic-fp", n, m, levels, film ("1" for a FiLM model, else absent), train_size,
 * lambda (current; shortest exact %g each), lambda_init, rate_target, command, config (the file's
 * text), dataset_hash, task_checkpoint, task_sha256, eval (last evaluation), epoch, step,
 * train_seconds, threads, created. */
#ifndef SAIC_TRAIN_CODEC_H
#define SAIC_TRAIN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "codec_config.h"
#include "nn.h"
#include "train.h"
#include "train_util.h"

#define SAIC_CODEC_ARCH "saic-fp"

/* Labelled images in memory (w, h multiples of 8; labels may be NULL when no task network is
 * used) and the options of one training call (train_util.h: shared with the classifier trainer). */
typedef train_util_data train_codec_data;
typedef train_util_opts train_codec_opts;

typedef struct train_codec_level_eval {
  double bpp;      /* rounded-latent rate estimate, bits per pixel */
  double psnr;     /* mean per-image PSNR of the 8-bit reconstruction, dB */
  double accuracy; /* task top-1 on the reconstructions; -1 without a task network */
} train_codec_level_eval;

typedef struct train_codec_result {
  int epochs_done; /* in all (resumed runs included) */
  long steps_done;
  int epochs_run;                       /* by this call */
  double first_epoch_loss;              /* mean training loss of the first epoch run by this call */
  double last_epoch_loss;               /* ... and of the last */
  double lambda[SAIC_TRAIN_MAX_LEVELS]; /* current lambdas (rate controller) */
  int evaluated;                        /* eval[] holds the last evaluation */
  train_codec_level_eval eval[SAIC_TRAIN_MAX_LEVELS];
  double train_seconds; /* including earlier runs when resumed */
} train_codec_result;

/* Trains the codec of cfg on train, evaluating on test (may be NULL). */
int train_codec(const train_codec_cfg *cfg, const train_codec_data *train,
                const train_codec_data *test, const train_codec_opts *opts, train_codec_result *res,
                nn_err *err);

/* train_codec_main: train.h. */

#endif
