/* train_loop.h - the epoch and step loop both trainers run (prefix train_loop_; internal to
 * sb_train).
 *
 * The classifier trainer and the SAIC codec trainer share everything around their step: the
 * per-epoch shuffle, assembling a batch, the augmentation, the learning-rate schedule, the
 * cadence of progress lines and checkpoints, the timing and the interruption point. The loop
 * owns that shell; a trainer supplies what differs through hooks (how an image becomes network
 * input, the step itself, its progress line, evaluation, its checkpoints).
 *
 * Determinism: the loop draws from the trainer's rng in a fixed order — the epoch's shuffle,
 * then per step the augmentation, then whatever the step hook draws — and keeps the epoch, step
 * and training-time counters in the trainer (train_loop_state), which saves them with its
 * checkpoints; a resumed run therefore replays the uninterrupted one exactly.
 *
 * Thread safety: no global state; one call works only on its arguments. */
#ifndef SB_TRAIN_LOOP_H
#define SB_TRAIN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The training data and the loop's settings. */
typedef struct train_loop_spec {
  const uint8_t *rgb; /* n packed RGB8 images of w x h pixels */
  const int *labels;  /* n labels, or NULL (the step then sees zeros) */
  size_t n;
  int w, h;
  int batch;            /* images per step; n / batch steps per epoch (the rest is dropped) */
  int epochs;           /* of the whole run */
  int log_every;        /* steps per progress line (and one at each epoch's last step) */
  int checkpoint_every; /* epochs between last.ckpt writes (and at the last epoch) */
  int crop_pad;         /* augmentation: random crop of the zero-padded image (0 = none) */
  bool flip;            /* augmentation: horizontal flip with probability 1/2 */
  const nn_lr_sched *sched;
  int stop_after_epoch; /* > 0: return after this epoch (interruption in tests) */
  FILE *log;            /* progress lines; NULL = silent */
} train_loop_spec;

/* The trainer's resumable counters, updated by the loop. */
typedef struct train_loop_state {
  nn_rng *rng;           /* shuffle and augmentation draw from it */
  int *epoch;            /* epochs completed */
  long *step;            /* optimiser steps completed; the step hook sees the index of its step */
  double *train_seconds; /* training and evaluation time of the completed epochs */
} train_loop_state;

/* Handed to the progress hook. */
typedef struct train_loop_progress {
  int epoch;         /* the epoch in progress, 1-based */
  long step;         /* steps completed */
  long total_steps;  /* of the whole run */
  long window_steps; /* steps since the previous progress line */
  float lr;          /* of the latest step */
  double img_per_s;  /* since this call's loop began */
  char elapsed[32];  /* training time so far, hh:mm:ss */
  char eta[32];      /* to the last step, hh:mm:ss */
} train_loop_progress;

/* Handed to the end-of-epoch hooks. */
typedef struct train_loop_epoch {
  int epoch;         /* epochs completed, this one included */
  bool last;         /* the run's final epoch */
  bool save_last;    /* the cadence asks for last.ckpt now (checkpoint_every, last, stop) */
  long steps;        /* steps per epoch */
  int batch;         /* images per step */
  double mean_loss;  /* mean of the step hook's losses over the epoch */
  double start;      /* train_util_now_s() when the epoch began */
  double train_time; /* the epoch's training seconds, evaluation excluded */
} train_loop_epoch;

typedef struct train_loop_hooks {
  /* One packed RGB8 image to the network's input, 3 x h x w floats (NCHW slice). */
  void (*load)(void *ctx, const uint8_t *rgb, float *out);
  /* Optional: an epoch begins (reset per-epoch sums). */
  void (*begin_epoch)(void *ctx);
  /* One optimiser step on batch x (labels: batch entries) at learning rate lr; *loss receives
   * the batch loss. *state.step is the step's index (the loop counts it afterwards). Nonzero
   * stops the run with that code (err set). */
  int (*step)(void *ctx, const nn_tensor *x, const int *labels, float lr, double *loss,
              nn_err *err);
  /* Prints the progress line of the last p->window_steps steps and resets its window. Called
   * only when spec->log is set. */
  void (*progress)(void *ctx, FILE *log, const train_loop_progress *p);
  /* Optional: the epoch's training is done; evaluate (its time counts as training time). */
  int (*evaluate)(void *ctx, const train_loop_epoch *e, nn_err *err);
  /* The epoch is complete (counters updated): log it and write the checkpoints the trainer
   * keeps (last.ckpt when e->save_last). */
  int (*end_epoch)(void *ctx, const train_loop_epoch *e, nn_err *err);
} train_loop_hooks;

/* Runs epochs from *st.epoch + 1 up to spec->epochs (or spec->stop_after_epoch). Returns NN_OK,
 * or the first hook's nonzero code, or NN_E_NOMEM / the augmentation's error, with err set. */
int train_loop_run(const train_loop_spec *spec, train_loop_state st, const train_loop_hooks *h,
                   void *ctx, nn_err *err);

#ifdef __cplusplus
}
#endif
#endif
