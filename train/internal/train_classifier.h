/* train_classifier.h - training the task classifier (prefix train_classifier_).
 *
 * `saicbench train classifier --config FILE ...` ends in train_classifier_main. The
 * pieces below are public so tests can train on generated data: config parsing (YAML, with
 * file:line:col messages) and the training loop on images already in memory.
 *
 * Checkpoints in the output folder (each written to a temporary file and renamed):
 *   last.ckpt  model + optimiser state ("optim.m.<param>", "optim.v.<param>") + metadata
 *              epoch/step/rng: --resume continues exactly from it (same thread count gives
 *              bit-identical results to an uninterrupted run);
 *   best.ckpt  model only, the epoch with the highest test accuracy.
 * Both load with classifier_load. Metadata: arch, command, config (the file's text),
 * dataset_hash, norm_mean, norm_std, test_accuracy, epoch, step, params, train_seconds,
 * created. */
#ifndef SB_TASKS_TRAIN_CLASSIFIER_H
#define SB_TASKS_TRAIN_CLASSIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn.h"
#include "train.h"
#include "train_util.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum train_classifier_sched_kind {
  TRAIN_CLASSIFIER_SCHED_COSINE = 0, /* linear warm-up, then cosine to min_lr at the last step */
  TRAIN_CLASSIFIER_SCHED_STEP = 1,   /* warm-up, then lr *= gamma every step_epochs */
  TRAIN_CLASSIFIER_SCHED_CONST = 2
} train_classifier_sched_kind;

typedef struct train_classifier_cfg {
  char arch[64];
  int epochs;
  int batch_size;
  uint64_t seed;
  /* optimizer */
  nn_optim_kind optim;
  float lr, momentum, weight_decay, beta1, beta2;
  bool nesterov;
  /* schedule */
  train_classifier_sched_kind sched;
  float warmup_epochs, warmup_start, min_lr, step_epochs, gamma;
  /* augmentation */
  int crop_pad;
  bool flip;
  float label_smoothing;
  /* bookkeeping */
  int checkpoint_every; /* epochs */
  int log_every;        /* steps */
  int eval_batch;
} train_classifier_cfg;

void train_classifier_cfg_defaults(train_classifier_cfg *cfg);
/* Parses YAML text (a mapping; nested mappings for optimizer/schedule/augment; see
 * tasks/configs/classifier_resnet20.yaml). Unknown keys, duplicates, wrong types and values out of
 * range are errors "path:line:col: message". path is used only in messages. */
int train_classifier_cfg_parse(const char *path, const char *text, size_t len,
                               train_classifier_cfg *cfg, char *err, size_t err_len);
/* Reads and parses a file; *text (may be NULL) receives the malloc()ed file text. */
int train_classifier_cfg_load(const char *path, train_classifier_cfg *cfg, char **text, char *err,
                              size_t err_len);

/* Labelled images in memory and the options of one training call (train_util.h: shared with
 * the codec trainer). */
typedef train_util_data train_classifier_data;
typedef train_util_opts train_classifier_opts;

typedef struct train_classifier_result {
  int epochs_done;
  long steps_done;
  double last_train_loss, last_train_acc; /* last epoch */
  double last_test_acc, best_test_acc;    /* -1 without test data */
  int best_epoch;
  double train_seconds; /* including earlier runs when resumed */
} train_classifier_result;

/* Trains cfg->arch on train, evaluating on test (may be NULL; report only) after every epoch. */
int train_classifier(const train_classifier_cfg *cfg, const train_classifier_data *train,
                     const train_classifier_data *test, const train_classifier_opts *opts,
                     train_classifier_result *res, nn_err *err);

/* A labelled split decoded into memory (for the trainers). */
typedef struct train_split {
  uint8_t *rgb; /* n packed RGB8 images of w x h */
  int *labels;
  size_t n;
  int w, h;
  char hash[33]; /* the data hash below */
} train_split;

/* Decodes the selected images of split `split` under root: all of them (limit 0) or `limit`
 * evenly spaced ones (item floor(i * total / limit)), in parallel; every image must be want_w x
 * want_h (0: the size of the first) and labelled. The data hash is XXH3-128 over, per item in
 * index order, its name, a NUL, its label (int32 LE) and the XXH3-128 of its file bytes, so a
 * full split hashes the same for every trainer. Returns 0, or -1 with a message naming the file;
 * free rgb and labels. */
int train_load_split(const char *root, const char *split, int want_w, int want_h, size_t limit,
                     int threads, train_split *out, char *msg, size_t len);

/* train_classifier_main, train_codec_main: train.h. */

#ifdef __cplusplus
}
#endif
#endif
