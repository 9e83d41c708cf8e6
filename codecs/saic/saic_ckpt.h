/* saic_ckpt.h - SAIC checkpoints (prefix saic_ckpt_): the codec checkpoint format, the model
 * hash, and reading a model from a training or a codec checkpoint. Writing codec checkpoints
 * (`saicbench export`) is training-side: train/saic_export.h.
 *
 * Codec checkpoint (nn checkpoint format, nn.h):
 *   metadata  arch "saic-codec", codec_format SAIC_CKPT_FORMAT ("3"), n, m, levels (decimal),
 * model_sha256 (64 hex digits, below), tail_mass, max_half_range, source (the training checkpoint's
 *             path), plus the training checkpoint's metadata except arch, created and rng
 *             (lambda, eval, config, dataset_hash, task_*, epoch, step, ...);
 *   tensors   "enc." / "dec." + the networks' parameters (as in training);
 *             "codec.cdf_range" [rates * m, 2]: per table (min, nsym) (nsym counts the escape),
 *             and "codec.cdf" [sum(nsym - 1)]: per table in order its cdf[1..nsym-1]
 *             (cdf[0] = 0 and cdf[nsym] = 65536 implicit) -- float32 holding exact integers
 *             (all below 2^24 in magnitude). Channel c at rate index q is coded with table
 *             q * m + c.
 *
 * Model hash (model_sha256; it seeds the bitstream's check byte, saic_codec.h): SHA-256 over, in
 * this order, every parameter of the encoder then the decoder network (in network order: u16 name
 * length, name with its "enc."/"dec." prefix, u8 rank, rank x u32 dims, float32 data; integers
 * and floats little-endian), then the table set serialised by saic_cdf_set_serialize. So the
 * hash names exactly what encoding and decoding compute with, independent of metadata; the
 * loader recomputes it and refuses a file whose tensors do not match.
 *
 * Errors: nn_err (nn.h) codes with one-line messages naming the file and the problem.
 * Thread-safety: no global state; functions use only what they are given. */
#ifndef SAIC_CKPT_H
#define SAIC_CKPT_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "saic_cdf.h"
#include "saic_model.h"

#define SAIC_CKPT_TRAIN_ARCH "saic-fp" /* = SAIC_CODEC_ARCH of train_codec.h */
#define SAIC_CKPT_CODEC_ARCH "saic-codec"
#define SAIC_CKPT_FORMAT                                                                           \
  "3" /* 3: knob extrapolated past the top level; 2: one table set per                             \
         rate index up to the top level; 1: one per channel */
/* Metadata keys shared by training and codec checkpoints (decimal integers). */
#define SAIC_META_N "n"
#define SAIC_META_M "m"
#define SAIC_META_LEVELS "levels"
#define SAIC_META_SHA256 "model_sha256"
#define SAIC_CKPT_CDF_RANGE "codec.cdf_range"
#define SAIC_CKPT_CDF "codec.cdf"
/* The most levels a codec model may have (the trainer's SAIC_TRAIN_MAX_LEVELS); the codec's
 * rate knob spans 0 .. SAIC_CKPT_MAX_LEVELS - 1. */
#define SAIC_CKPT_MAX_LEVELS 16
/* Rate indices: the codec quantises its knob r in [0, K] (K = saic_model_knob_max(levels): the
 * trained levels 0..levels-1 and SAIC_MODEL_KNOB_EXTRA extrapolated ones) to
 * q = 0..SAIC_CKPT_RATE_STEPS (a single index 0 for a one-level model) and uses exactly
 * r_q = q K / STEPS. The density models the unscaled latent, so the tables depend on the gain
 * g(r_q): a model has saic_ckpt_num_rates(levels) sets of m tables, table q * m + c for channel
 * c at index q. For the shipped 4-level models that is 21 steps per level (index q of format 2
 * is the same knob value), ~6 % rate per step, fine enough for rate control. */
#define SAIC_CKPT_RATE_STEPS 77
int saic_ckpt_num_rates(int levels);
double saic_ckpt_rate_value(int levels, int q);

/* Largest n and m accepted from a checkpoint (a hostile file must not allocate without bound). */
#define SAIC_CKPT_MAX_WIDTH 1024

/* The model hash (definition above) of model m's parameters and the table set. */
int saic_ckpt_hash(saic_model *m, const saic_cdf_set *tables, uint8_t sha256[32], nn_err *err);

/* Reads the model of a training checkpoint (arch "saic-fp") or of a codec checkpoint (arch
 * "saic-codec") into a new model of size h x w (multiples of 8) running on `threads` threads.
 * *ck_out (may be NULL) receives the opened checkpoint (caller frees with nn_ckpt_free). */
int saic_ckpt_load_model(const char *path, int h, int w, int threads, saic_model **out,
                         nn_ckpt **ck_out, nn_err *err);

/* A codec checkpoint read back: the model (8 x 8 template: holds the parameters; sized copies
 * are made with saic_model_copy_params), its tables and its hash, all checked. */
typedef struct saic_codec_model {
  saic_model_cfg cfg;
  saic_model *model;
  saic_cdf_set *tables;
  uint8_t sha256[32];
} saic_codec_model;

/* Reads and validates a codec checkpoint: arch, format, sizes, tables (every check of
 * saic_cdf_set_from_cdf) and the recomputed hash against model_sha256. */
int saic_ckpt_load_codec(const char *path, int threads, saic_codec_model **out, nn_err *err);
void saic_ckpt_free_codec(saic_codec_model *cm);

#endif
