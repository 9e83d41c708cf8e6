/* saic_model.h - the SAIC codec's networks (prefix saic_model_): analysis transform g_a,
 * synthesis transform g_s, per-level gain vectors (the continuous rate knob) and the factorized
 * prior's parameters (saic_density.h).
 *
 *   g_a: conv5x5/2 (3 -> N), GDN, conv5x5/2 (N -> N), GDN, conv5x5/2 (N -> M)
 *   g_s: deconv5x5/2 (M -> N), IGDN, deconv5x5/2 (N -> N), IGDN, deconv5x5/2 (N -> 3)
 * Images are NCHW floats in [0, 1] with sides a multiple of 8 (the codec pads); latents are
 * M x h/8 x w/8. Rate knob r in [0, saic_model_knob_max(levels)]: the latent is multiplied by
 * g(r) = exp((1 - t) G[l] + t G[l + 1]) per channel (l = floor(r), t = r - l; G = "gain", log
 * domain) before rounding, and the rounded symbols by ig(r) (same from "inv_gain") before g_s
 * (Cui et al. 2021, "Asymmetric gained deep image compression with continuous rate
 * adaptation"). Level l is trained with its own lambda; between levels the rate interpolates.
 * Above the top level (r > levels - 1) the log gain continues the line through the top two
 * levels and the inverse gain falls by the same factor (g * ig stays the top level's): finer
 * bins, so more bits and less quantisation error, up to the transforms' own limit. Training never
 * goes there; the extrapolated range exists so one model spans the rates the harness asks for (1.5
 * bpp at 32x32), and reports show what it buys.
 *
 * Two nn networks hold the parameters: the encoder (g_a and "gain") and the decoder (g_s,
 * "inv_gain" and "density" [M, SAIC_DENSITY_NPARAM]; the density is in optimiser group 1 and
 * the gains in group 2 so each can have its own learning-rate multiplier). A model is created for
 * one image size; models of other sizes copy the parameters (saic_model_copy_params).
 *
 * Thread-safety: a model is used by one thread at a time. */
#ifndef SAIC_MODEL_H
#define SAIC_MODEL_H

#include <stdint.h>

#include "nn.h"

typedef struct saic_model_cfg {
  int n;      /* transform width N */
  int m;      /* latent channels M */
  int levels; /* gain levels, >= 1 */
} saic_model_cfg;

enum { SAIC_MODEL_STRIDE = 8, SAIC_MODEL_DENSITY_GROUP = 1, SAIC_MODEL_GAIN_GROUP = 2 };
/* Initial log gains: level l of L starts at SPREAD (l - (L - 1) / 2) ("gain") and its negative
 * ("inv_gain"), so the levels start apart instead of all at gain 1: at the transforms' learning
 * rate the gains moved too slowly to separate the levels' rates in a 20-epoch run. */
#define SAIC_MODEL_GAIN_SPREAD 1.0
/* Knob range past the top trained level, in levels (the extrapolation above): two thirds of a
 * level take the shipped CIFAR models from ~1 to ~2.2 bpp while their 16-bit tables still code
 * within 1 % of the estimate (a whole level reached 3.6 bpp, with escapes costing 38 %). */
#define SAIC_MODEL_KNOB_EXTRA (2.0 / 3.0)

typedef struct saic_model saic_model;

/* One parameter of the networks saic_model_create builds, derived from the configuration alone:
 * net 0 is the encoder ("enc." in checkpoints), 1 the decoder ("dec."); dims has rank entries
 * (the rest 1). Loaders compare a checkpoint's tensors with this list before building anything,
 * so a file that declares a huge n or m without carrying its tensors is refused at no cost
 * (test_saic_codec checks the list against built networks). */
typedef struct saic_model_param_shape {
  const char *name;
  int net, rank;
  int dims[4];
} saic_model_param_shape;
enum { SAIC_MODEL_NUM_PARAMS = 23 };
/* Fills out[0 .. SAIC_MODEL_NUM_PARAMS) in the networks' parameter order. */
void saic_model_param_shapes(const saic_model_cfg *cfg,
                             saic_model_param_shape out[SAIC_MODEL_NUM_PARAMS]);

/* h, w: image size (multiples of 8). Parameters initialised from seed (CompressAI-like:
 * transforms by the nn initialiser, GDN as in nn, gains 0 (= 1), density by saic_density_init).
 * threads: for the networks and the density. NULL on failure (err). */
saic_model *saic_model_create(const saic_model_cfg *cfg, int h, int w, int threads, uint64_t seed,
                              nn_err *err);
void saic_model_free(saic_model *m);
const saic_model_cfg *saic_model_config(const saic_model *m);
nn_net *saic_model_encoder(saic_model *m);
nn_net *saic_model_decoder(saic_model *m);
/* Copies every parameter of src into dst (same configuration, any size). */
int saic_model_copy_params(saic_model *dst, const saic_model *src, nn_err *err);
/* The density parameters (M * SAIC_DENSITY_NPARAM floats) and their gradient buffer. */
float *saic_model_density(saic_model *m);
float *saic_model_density_grad(saic_model *m);
void saic_model_latent_shape(const saic_model *m, int *c, int *h, int *w);

/* The largest knob value: 0 for one level, else levels - 1 + SAIC_MODEL_KNOB_EXTRA. */
double saic_model_knob_max(int levels);
/* g(r) and ig(r) for r in [0, saic_model_knob_max(levels)] (clamped), M floats each. */
void saic_model_gains(const saic_model *m, double r, float *gain, float *inv_gain);

/* g_a on n images (NCHW [0,1]); *y points at the latent [n, M, h/8, w/8] (valid until the next
 * analysis call). */
int saic_model_analysis(saic_model *m, const float *x, int n, const float **y, nn_err *err);
/* Gradient step of g_a: grad_y shaped like y; accumulates parameter gradients. */
int saic_model_analysis_backward(saic_model *m, const float *grad_y, nn_err *err);
/* g_s on n latents (already multiplied by ig); *x points at [n, 3, h, w]. */
int saic_model_synthesis(saic_model *m, const float *y, int n, const float **x, nn_err *err);
/* Gradient step of g_s: grad_x shaped like x; *grad_y receives d/d(input) (valid until the next
 * synthesis call); accumulates parameter gradients. */
int saic_model_synthesis_backward(saic_model *m, const float *grad_x, const float **grad_y,
                                  nn_err *err);

#endif
