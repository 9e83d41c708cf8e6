/* train.h - sb_train's public interface: the two trainers behind `saicbench train` and the
 * export of a trained SAIC model into a codec checkpoint (prefixes train_, saic_export_).
 *
 * sb_train holds all training code, apart from the inference libraries it trains (the codecs
 * and the task networks), so that running the harness never links a trainer. Its internals
 * (configurations, the shared training loop, the SAIC training step, the export's tables) are
 * in train/internal/; the tests include them, the product does not.
 *
 * Training (docs/method.md, docs/development.md): a YAML configuration, a data folder holding
 * CIFAR-10, an output folder with last.ckpt (resumable, bit-identical with the same thread
 * count) and best.ckpt (classifier) or final.ckpt (codec).
 *
 * Export: `saicbench export --model TRAIN.ckpt --out CODEC.ckpt` takes the networks of a codec
 * training checkpoint and adds the integer CDF tables decoding needs; the file format and the
 * model hash are defined in codecs/saic/saic_ckpt.h and docs/stream-format.md.
 *
 * Errors: the command-line entries print one-line messages to stderr and return the process exit
 * status (0 ok, 1 failure, 2 usage); saic_export returns an nn_err code with a message naming
 * the file. Thread-safety: no global state; the entries read the environment and print. */
#ifndef SB_TRAIN_H
#define SB_TRAIN_H

#include <stdint.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `saicbench train classifier` (argv[0] = "classifier"). Returns the process exit status. */
int train_classifier_main(int argc, char **argv);

/* `saicbench train codec` (argv[0] = "codec"). Returns the process exit status. */
int train_codec_main(int argc, char **argv);

typedef struct saic_export_opts {
  double tail_mass;   /* total tail mass left to the escape, (0, 0.01]; default 1e-9 */
  int max_half_range; /* values on each side of the centre, 1 .. 32768; default 4096 */
} saic_export_opts;

/* Defaults: tail_mass 1e-9, max_half_range 4096. */
saic_export_opts saic_export_defaults(void);

typedef struct saic_export_info {
  uint8_t sha256[32];
  int channels;
  int rates;                  /* table sets (saic_ckpt_num_rates) */
  int min_values, max_values; /* smallest and largest table (values, escape not counted) */
  long total_values;          /* sum over the tables */
  int capped;                 /* tables whose range hit max_half_range or the value limit */
} saic_export_info;

/* saicbench export: reads a training checkpoint, writes a codec checkpoint. o may be NULL
 * (defaults); info may be NULL. */
int saic_export(const char *train_path, const char *out_path, const saic_export_opts *o,
                saic_export_info *info, nn_err *err);

#ifdef __cplusplus
}
#endif
#endif
