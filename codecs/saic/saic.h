/* saic.h - sb_saic's public interface: the SAIC learned codec for inference (docs/method.md,
 * docs/stream-format.md). Four parts, each with its own prefix:
 *   saic_model_    the networks (analysis, synthesis, gains) and the rate knob;
 *   saic_density_  the factorized prior of the latent;
 *   saic_ckpt_     the codec checkpoint file (networks + integer CDF tables + model hash);
 *   saic_codec_    streams: encoding an image, decoding a stream, header and check byte.
 * Training lives in sb_train (train/train.h); the codec_vtable "saic" in sb_codecs. The
 * sections below keep each part's own documentation. */
#ifndef SAIC_H
#define SAIC_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "saic_coder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======== saic_model ======== */
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

/* FiLM (cfg.film = 1, an experiment: issue 11): the synthesis transform depends on the rate.
 * One g_s serving every level is a compromise, and a semantic loss trained at the low levels
 * then costs PSNR at the high ones. With film, each IGDN of g_s (g_s.1 and g_s.3) is followed
 * by a per-channel affine (nn_chaffine; Choi et al. 2019, "Variable rate deep image compression
 * with a conditional autoencoder", per-lambda channel scale and shift):
 *   y[n, c, h, w] = x[n, c, h, w] exp(S(r)[c]) + B(r)[c],
 * with S and B interpolated at the knob like the log gains: S(r) = (1 - t) S[l] + t S[l + 1]
 * (l = floor(r), t = r - l), B likewise (linear), and above the top level (r > levels - 1) the
 * top level's S[levels - 1], B[levels - 1] (not extrapolated). The tables are two decoder
 * parameters of shape [levels, 2N]: SAIC_MODEL_FILM_SCALE ("film.log_scale", S) and
 * SAIC_MODEL_FILM_SHIFT ("film.shift", B); row l holds level l's values for the affine after
 * g_s.1 (columns 0..N-1) then after g_s.3 (columns N..2N-1). They start at 0 (the identity, so a
 * film model starts as the plain one), are in SAIC_MODEL_FILM_GROUP (their own learning rate)
 * and are excluded from weight decay. Only the decoder is modulated: the analysis g_a(x) does not
 * depend on the knob, so one analysis still serves every rate (saic_codec_encode_analysis).
 * film = 0 builds exactly the plain model (same parameters, same bits). */
typedef struct saic_model_cfg {
  int n;      /* transform width N */
  int m;      /* latent channels M */
  int levels; /* gain levels, >= 1 */
  int film;   /* 0: plain g_s; 1: rate-conditioned g_s (FiLM, above) */
} saic_model_cfg;

enum {
  SAIC_MODEL_STRIDE = 8,
  SAIC_MODEL_DENSITY_GROUP = 1,
  SAIC_MODEL_GAIN_GROUP = 2,
  SAIC_MODEL_FILM_GROUP = 3
};
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
/* 23 parameters in the plain model; a film model adds its two tables at the end of the decoder
 * ("film.log_scale", "film.shift"). */
enum { SAIC_MODEL_BASE_PARAMS = 23, SAIC_MODEL_MAX_PARAMS = 25 };
#define SAIC_MODEL_FILM_SCALE "film.log_scale"
#define SAIC_MODEL_FILM_SHIFT "film.shift"
/* The number of parameters of a model of cfg (23, or 25 with film). */
int saic_model_num_params(const saic_model_cfg *cfg);
/* Fills out[0 .. saic_model_num_params(cfg)) in the networks' parameter order; returns that
 * count. */
int saic_model_param_shapes(const saic_model_cfg *cfg,
                            saic_model_param_shape out[SAIC_MODEL_MAX_PARAMS]);

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
/* Plans both networks for forward passes only (nn_net_set_inference_only): the codec's
 * networks never train, and the backward primitives and workspaces were most of their memory.
 * Also declares the parameters constant (nn_net_set_const_params), so the convolutions keep
 * their reordered weights across calls: call it once the parameters are in place, and again
 * after changing them. */
void saic_model_set_inference_only(saic_model *m);
void saic_model_latent_shape(const saic_model *m, int *c, int *h, int *w);

/* The largest knob value: 0 for one level, else levels - 1 + SAIC_MODEL_KNOB_EXTRA. */
double saic_model_knob_max(int levels);
/* The neighbouring trained levels l0 <= l1 of knob r (clamped to [0, levels - 1]; NaN counts as
 * 0) and its fraction t: r = (1 - t) l0 + t l1. Every per-level quantity that is interpolated
 * at a knob (gains, FiLM tables, and in training lambda and the task weight) splits it here. */
void saic_model_knob_split(int levels, double r, int *l0, int *l1, double *t);
/* g(r) and ig(r) for r in [0, saic_model_knob_max(levels)] (clamped), M floats each. */
void saic_model_gains(const saic_model *m, double r, float *gain, float *inv_gain);

/* FiLM: writes the decoder's scale and shift at knob r (tables interpolated as described at
 * saic_model_cfg; r clamped to [0, levels - 1], so the extrapolated range uses the top level)
 * into its two affine layers; every later saic_model_synthesis uses them until the next call. A
 * no-op for film = 0. Call it before each synthesis at a new knob, and after changing the tables
 * (an optimiser step, saic_model_copy_params: the affine values are not parameters and are not
 * copied). A new model starts at r = 0. */
void saic_model_set_rate(saic_model *m, double r);
/* FiLM, training: adds the gradients the last synthesis backward(s) accumulated in the affine
 * layers' scale a and shift b (since nn_net_zero_grad of the decoder) to the tables' rows l0 and l1
 * of the last saic_model_set_rate, weighted 1 - t and t: d S[l][c] += w_l (dL/da[c]) a[c],
 * d B[l][c] += w_l dL/db[c]. Call it once per zero_grad, after the last backward. No-op for
 * film = 0. */
void saic_model_film_backward(saic_model *m);

/* g_a on n images (NCHW [0,1]); *y points at the latent [n, M, h/8, w/8] (valid until the next
 * analysis call). */
int saic_model_analysis(saic_model *m, const float *x, int n, const float **y, nn_err *err);
/* Gradient step of g_a: grad_y shaped like y; accumulates parameter gradients. */
int saic_model_analysis_backward(saic_model *m, const float *grad_y, nn_err *err);
/* g_s on n latents (already multiplied by ig); *x points at [n, 3, h, w]. With film, at the
 * knob of the last saic_model_set_rate. */
int saic_model_synthesis(saic_model *m, const float *y, int n, const float **x, nn_err *err);
/* Gradient step of g_s: grad_x shaped like x; *grad_y receives d/d(input) (valid until the next
 * synthesis call); accumulates parameter gradients. */
int saic_model_synthesis_backward(saic_model *m, const float *grad_x, const float **grad_y,
                                  nn_err *err);

/* ======== saic_density ======== */
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

/* ======== saic_ckpt ======== */
/* saic_ckpt.h - SAIC checkpoints (prefix saic_ckpt_): the codec checkpoint format, the model
 * hash, and reading a model from a training or a codec checkpoint. Writing codec checkpoints
 * (`saicbench export`) is training-side: train/saic_export.h.
 *
 * Codec checkpoint (nn checkpoint format, nn.h):
 *   metadata  arch "saic-codec", codec_format SAIC_CKPT_FORMAT ("3"), n, m, levels (decimal),
 *             film ("1" for a FiLM model, saic_model_cfg; absent: plain -- written only when 1,
 *             so plain files are unchanged and older builds refuse a FiLM file for its extra
 *             "dec.film.*" tensors),
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
 * and floats little-endian; a FiLM model's tables "dec.film.log_scale" and "dec.film.shift" are
 * decoder parameters, so they are covered), then the table set serialised by
 * saic_cdf_set_serialize. So the
 * hash names exactly what encoding and decoding compute with, independent of metadata; the
 * loader recomputes it and refuses a file whose tensors do not match.
 *
 * Errors: nn_err (nn.h) codes with one-line messages naming the file and the problem.
 * Thread-safety: no global state; functions use only what they are given. */

#define SAIC_CKPT_TRAIN_ARCH "saic-fp" /* = SAIC_CODEC_ARCH of train_codec.h */
#define SAIC_CKPT_CODEC_ARCH "saic-codec"
#define SAIC_CKPT_FORMAT                                                                           \
  "3" /* 3: knob extrapolated past the top level; 2: one table set per                             \
         rate index up to the top level; 1: one per channel */
/* Metadata keys shared by training and codec checkpoints (decimal integers). */
#define SAIC_META_N "n"
#define SAIC_META_M "m"
#define SAIC_META_LEVELS "levels"
/* "1" for a FiLM model (saic_model_cfg.film); absent (older files) or "0": the plain model. */
#define SAIC_META_FILM "film"
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

/* ======== saic_codec ======== */
/* saic_codec.h - the SAIC learned image codec (prefix saic_codec_), built in as codec "saic".
 *
 * Model: a codec checkpoint from `saicbench export` (saic_ckpt.h): networks g_a / g_s, gains,
 * and one integer CDF table per latent channel. Entropy coding uses only those integer tables
 * (saic_coder.h), so the symbols decode bit-exactly on every machine; the networks run in
 * float32 (oneDNN), single-threaded by default, so pixels are identical whatever the harness's
 * thread count (across CPUs with different vector units the float results may differ in the
 * last bits).
 *
 * Encode: the RGB8 image is padded to multiples of 8 on each side (at least 8; edges
 * replicated), scaled to [0, 1], y = g_a(x); the rate knob r is quantised to the index
 * q = round(r / K * STEPS) (K = saic_model_knob_max(levels), STEPS = SAIC_CODEC_RATE_STEPS;
 * q = 0 for one level) and the encoder uses exactly r_q = q * K / STEPS, as the decoder does;
 * symbols = rint(y * gain(r_q)) (float32, then clamped to |v| < 2^20), entropy-coded channel by
 * channel with table q * m + c (saic_ckpt.h). Decode: symbols * inv_gain(r_q) -> g_s -> crop ->
 * clamp(x * 255, 0, 255) -> lrint -> uint8. These are the trainer's evaluation steps
 * (train_codec.h), so its estimates carry over.
 *
 * Bitstream, format version 2 (the whole file; integers in LEB128 where noted):
 *   byte 0   bit 7: size flag (0: the image is 32 x 32; 1: an explicit size follows);
 *            bits 6..0: rate index q, 0..SAIC_CODEC_RATE_STEPS (77); 78..127 are reserved
 *   byte 1   check byte: CRC-8/SMBUS (saic_crc8.h) over, in this order, the model's 32-byte
 *            SHA-256 (saic_ckpt.h), one byte 2 (the format version), byte 0, the explicit size
 *            bytes if any and the whole payload -- that is, over the hash, 0x02, then every byte
 *            of the file except this one
 *   [flag 1] LEB128 (width - 1), LEB128 (height - 1): minimal encodings, sides 1..65535, never
 *            32 x 32 (which has the short form)
 *   rest     payload: the range-coder stream of the latent (saic_coder.h), to the end of file
 * Header: 2 bytes at 32 x 32 (0.016 bpp); 2 + 2..6 bytes otherwise (6 for 768 x 512). The
 * codec_vtable's stream_bytes is the payload (at least 1: an empty payload, possible when every
 * symbol is nearly certain, counts 1 because the interface wants 0 < stream_bytes).
 * There is no field of its own for the version or the model; the check byte covers both. A
 * truncated, extended or corrupted stream fails it with probability 255/256 (the payload decoder
 * then refuses some of the rest); every single-bit error fails it, and so does every error burst
 * of up to 8 bits that does not straddle byte 1 (the check byte is not part of the CRC's message,
 * so a burst across bytes 0/1 or 1/2 is caught with probability 255/256 like other errors). The
 * CRC is linear: under two models the check bytes of one stream differ by the CRC-8 of the XOR of
 * the two hashes, so if the models' hashes have different CRC-8s (255 pairs of models in 256; the
 * four shipped models do) no stream of one passes the other's check, and if they are equal every
 * stream does -- the odds of format 1's one-byte model tag. Format 1 (byte 0 = 001fllll, byte 1 =
 * the first byte of the model hash, byte 2 = q; saicbench before this format) is not read: such a
 * stream fails the check, and the message says so when its byte 1 is this model's old tag.
 * (tests/saic/test_saic_stream_check.c measures these rates.)
 *
 * The decoder refuses, with a one-line reason, in this order: fewer than 2 bytes, a reserved rate
 * index or one a one-level model cannot have, a truncated, over-long or non-canonical size, sizes
 * over the max_pixels limit (so a hostile size costs nothing), a failed check byte, a payload too
 * short for the size it claims (below), and whatever saic_coder refuses (bad escapes, a trailing
 * zero byte, bytes left after the last symbol). Other damage (about 1 in 256 of damaged streams)
 * decodes to some image; it never reads outside the input or allocates beyond what the (limited)
 * size needs.
 *
 * Payload bound: every header check above runs before any allocation, and the last one ties the
 * memory a stream can ask for to its length. The range coder narrows its interval, per symbol of
 * channel c at rate index q, by at least f_max / 65536 (f_max: the largest count of that channel's
 * table), so a latent of P positions takes at least B = P * sum_c -log2(f_max(c, q) / 65536) bits
 * (computed per rate index when the model is loaded; saic_codec_min_payload_bytes). Two things
 * let a valid stream come out shorter: termination (the coder writes the point of its final
 * interval with the most trailing zeros, which saves b bits with odds of about 2^-b) and a run of
 * symbol 0 (a table's lowest value) ending the latent, which costs nothing -- so the channels
 * coded last whose symbol 0 is their most probable value or has probability >= 1/1024 (dead
 * channels, with one-value tables) are left out of the sum, and SAIC_CODEC_PAYLOAD_SLACK bytes
 * (64 bits) are allowed for termination. A stream is refused when its payload is shorter than
 * floor((B - 8 * slack) / 8) bytes. Measured on the shipped saic_full model: of 50,544 encoder
 * streams (every rate index, sides 1, 8, 16, ..., 64, textured, noisy and flat images; the flat
 * ones sit right at B) none fell more than 12.7 bits below B; test_saic_codec checks a sweep of
 * sizes, rates and image kinds on a random model and on saic_full. A latent ending in a long run
 * of improbable lowest values could also fall below, which the networks do not produce. With the
 * shipped models B is 0.02 bpp at rate index 0 and 1.3 bpp at the top (saic_full),
 * so claiming 2^25 pixels takes a payload of at least ~85 KB instead of a few bytes.
 *
 * Thread-safety: a codec may be shared by any number of threads. It caches networks per padded
 * image size (created on first use, parameters copied from the loaded model), one per concurrent
 * call, behind a mutex; at most SAIC_CODEC_CACHE idle networks, of SAIC_CODEC_CACHE_IDLE_PIXELS
 * pixels together, are kept. Results do not depend on which cached network serves a call.
 * Memory: one network per concurrent call plus the idle ones (about 0.85 KB per padded pixel
 * each, see SAIC_CODEC_CACHE_IDLE_PIXELS). */

#define SAIC_CODEC_FORMAT_VERSION 2 /* covered by the check byte; no field of its own */
#define SAIC_CODEC_MIN_HEADER 2
#define SAIC_CODEC_MAX_SIDE 65535
/* Default and largest max_pixels: 2^25, the built-in codecs' limit (CODEC_MAX_PIXELS). */
#define SAIC_CODEC_MAX_PIXELS ((size_t)1 << 25)
/* The rate index q runs over 0..STEPS (= SAIC_CKPT_RATE_STEPS of saic_ckpt.h, checked there). */
#define SAIC_CODEC_RATE_STEPS 77
#define SAIC_CODEC_CACHE 8 /* idle networks kept per codec */
/* ... while their padded sizes sum to at most this many pixels (one idle network is always kept).
 * A network that has encoded and decoded holds both transforms' activations for its size: with
 * the shipped models (n 64, m 96), planned for inference only, about 0.85 KB per padded pixel
 * (measured: 160 MB for g_a and 180 MB for g_s at 768 x 512; 1.3 KB per pixel when planned
 * for training too). 2^19 keeps one idle Kodak-size network per codec, not one per worker and
 * orientation: with a budget of 2^22 the quick suite (four SAIC codecs, 2 threads) peaked at
 * 6.4 GB. */
#define SAIC_CODEC_CACHE_IDLE_PIXELS ((size_t)1 << 19)
/* Bytes a payload may fall short of the coder's lower bound (termination; see above). */
#define SAIC_CODEC_PAYLOAD_SLACK 8
/* Images (padded) below this many pixels run their networks on one thread whatever `threads`
 * says: at 32x32 two OpenMP threads decoded 3.5x slower than one (829 vs 2,908 img/s, the
 * per-layer fork/join dwarfs the work), at 768x512 they were 1.3x faster. */
#define SAIC_CODEC_MIN_PIXELS_MT 65536

typedef struct saic_codec saic_codec;
/* A loaded codec checkpoint (saic_ckpt.h). */
typedef struct saic_codec_model saic_codec_model;

typedef struct saic_codec_opts {
  int threads;       /* threads of the networks, >= 1 (default 1; SAIC_CODEC_MIN_PIXELS_MT) */
  size_t max_pixels; /* largest image (width * height) encoded or decoded; 0: 2^25 */
} saic_codec_opts;

/* Loads a codec checkpoint (saic_ckpt_load_codec). Errors name the file. */
int saic_codec_open(const char *model_path, const saic_codec_opts *o, saic_codec **out, char *err,
                    size_t err_len);
void saic_codec_close(saic_codec *c);
/* The loaded model (configuration, tables, SHA-256). */
const saic_codec_model *saic_codec_get_model(const saic_codec *c);

/* The rate index of knob r (clamped to 0..saic_model_knob_max(levels)) and the knob value of an
 * index. */
int saic_codec_rate_index(int levels, double r);
double saic_codec_rate_value(int levels, int q);

typedef struct saic_stream_info {
  int version, width, height; /* version: SAIC_CODEC_FORMAT_VERSION */
  uint8_t check;              /* the check byte (byte 1), verified */
  int rate_index;
  double rate;         /* saic_codec_rate_value(levels, rate_index) */
  size_t header_bytes; /* the payload starts here */
  size_t payload_bytes;
  size_t min_payload_bytes;         /* the payload bound for this size and rate (checked) */
  int latent_c, latent_h, latent_w; /* the coded latent: m x ceil8(height)/8 x ceil8(width)/8 */
} saic_stream_info;

/* Parses and checks a stream's header against this codec (every refusal above up to and
 * including the payload bound; the payload is not decoded). */
int saic_codec_parse_header(const saic_codec *c, const uint8_t *data, size_t len,
                            saic_stream_info *info, char *err, size_t err_len);

/* The payload bound above: the fewest payload bytes a stream of a width x height image at rate
 * index rate_index can have (0 for arguments out of range). */
size_t saic_codec_min_payload_bytes(const saic_codec *c, int rate_index, int width, int height);

/* The check byte that byte 1 of a stream of this codec's model must hold, computed from the other
 * bytes of data[0..len) (len >= 1; data[1], if present, is skipped): CRC-8 over the model's
 * SHA-256, SAIC_CODEC_FORMAT_VERSION, data[0] and data[2..len). For tests and fuzzers that build
 * streams by hand. */
uint8_t saic_codec_stream_check(const saic_codec *c, const uint8_t *data, size_t len);

typedef struct saic_encode_stats {
  size_t header_bytes, payload_bytes;
  double est_bits; /* -sum log2 p of the symbols under the float density (floored at 1e-9) */
  int latent_c, latent_h, latent_w;
  int rate_index;
} saic_encode_stats;

/* Encodes a packed RGB8 image (width * height * 3 bytes) at knob r (0 .. SAIC_CKPT_MAX_LEVELS
 * - 1; values above saic_model_knob_max(levels) act as that). *out is malloc()ed. st may be NULL;
 * est_bits is computed only when st is given. */
int saic_codec_encode(saic_codec *c, const uint8_t *rgb, int width, int height, double r,
                      uint8_t **out, size_t *out_len, saic_encode_stats *st, char *err,
                      size_t err_len);
/* saic_codec_encode without statistics (no density pass): *payload_bytes receives the bytes
 * after the header, the harness's stream_bytes (codecs/codec_saic.c). */
int saic_codec_encode_payload(saic_codec *c, const uint8_t *rgb, int width, int height, double r,
                              uint8_t **out, size_t *out_len, size_t *payload_bytes, char *err,
                              size_t err_len);
/* An encode in two halves, for encoding one image at many knobs (the harness's analysis reuse,
 * codec_analysis_vtable of saicbench_codec.h): saic_codec_analyze runs g_a once and keeps the
 * latent; saic_codec_encode_analysis quantises and codes it at knob r, as saic_codec_encode_payload
 * would. saic_codec_encode is exactly these two calls, so the streams are identical byte for
 * byte. An analysis belongs to the codec that made it (another one's is refused), is read-only
 * once made (any number of threads may encode from it) and is freed with
 * saic_codec_analysis_free (NULL is a no-op). */
typedef struct saic_analysis saic_analysis;
int saic_codec_analyze(saic_codec *c, const uint8_t *rgb, int width, int height,
                       saic_analysis **out, char *err, size_t err_len);
int saic_codec_encode_analysis(saic_codec *c, const saic_analysis *a, double r, uint8_t **out,
                               size_t *out_len, size_t *payload_bytes, char *err, size_t err_len);
void saic_codec_analysis_free(saic_analysis *a);
/* Decodes a whole stream into a malloc()ed packed RGB8 image. */
int saic_codec_decode(saic_codec *c, const uint8_t *data, size_t len, uint8_t **rgb, int *width,
                      int *height, char *err, size_t err_len);
/* The first half of saic_codec_decode: the stream's integer latent symbols, entropy-decoded only
 * (no networks run, so they are bit-exact on every machine, build and thread count). *symbols is
 * a malloc()ed array of *count = latent_c * latent_h * latent_w values in channel-major order
 * (saic_coder.h), the values the encoder coded; info (may be NULL) receives the parsed header.
 * It refuses exactly what saic_codec_decode refuses, with the same messages, and then leaves
 * *symbols NULL, *count 0 and info zeroed. */
int saic_codec_decode_symbols(const saic_codec *c, const uint8_t *data, size_t len,
                              int32_t **symbols, size_t *count, saic_stream_info *info, char *err,
                              size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
