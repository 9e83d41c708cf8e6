/* saic_export.h - turning a trained SAIC model into a codec checkpoint (prefix saic_export_;
 * the options, the info and the file-to-file saic_export: train.h; the file format, the model hash
 * and reading: saic_ckpt.h).
 *
 * `saicbench export --model TRAIN.ckpt --out CODEC.ckpt` (or saic_export_model at the end of
 * training) takes the networks of a training checkpoint (train_codec.h: arch "saic-fp",
 * tensors "enc." + encoder parameters and "dec." + decoder parameters, metadata n, m, levels)
 * and adds what decoding needs besides the networks: per rate index q (SAIC_CKPT_RATE_STEPS,
 * saic_ckpt.h) and latent channel c an integer CDF table (saic_cdf.h) built from the learned
 * density of the unscaled latent (saic_density.h) with bin width s = 1 / g_c(r_q) (float gains, as
 * the codec computes them):
 *
 *   1. median: the x where the cumulative logit is 0 (bisection; the logit is increasing), in
 *      symbols: median / s;
 *   2. range lo .. hi, grown one value at a time outward from round(median / s) while the mass
 *      below (lo - 1/2) s (above (hi + 1/2) s) is still >= tail_mass / 2, at most
 *      max_half_range values on each side of the centre (and within the coder's value limit,
 *      |v| < 2^20);
 *   3. pmf[v] = saic_density_likelihood_step(v, s) for v in lo..hi, escape mass = both tails;
 *      saic_cdf_set_from_pmf quantises it (values outside lo..hi are coded as escapes).
 * The density is evaluated in double once, here; the codec only ever uses the stored integer
 * tables, so entropy decoding is bit-exact on every machine.
 *
 * The codec checkpoint format and the model hash: saic_ckpt.h.
 *
 * Errors: nn_err (nn.h) codes with one-line messages naming the file and the problem.
 * Thread-safety: no global state; functions use only what they are given. */
#ifndef SAIC_EXPORT_H
#define SAIC_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "saic.h"
#include "saic_coder.h"
#include "train.h"

/* Builds the per-channel tables of model m's density (procedure above). *out: complete set of
 * m channels; caller frees with saic_cdf_set_free. info may be NULL. */
int saic_export_tables(saic_model *m, const saic_export_opts *o, saic_cdf_set **out,
                       saic_export_info *info, nn_err *err);

/* Writes a codec checkpoint for the in-memory model m (e.g. the trainer's, after the last
 * epoch): tables, hash, the metadata of saic_ckpt.h plus `meta` (nmeta entries; "arch", "created"
 * and the keys this module writes are skipped there). o may be NULL (defaults); info may be NULL.
 */
int saic_export_model(saic_model *m, const char *out_path, const nn_kv *meta, int nmeta,
                      const saic_export_opts *o, saic_export_info *info, nn_err *err);

#endif
