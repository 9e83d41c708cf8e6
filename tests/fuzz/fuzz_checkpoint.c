/* libFuzzer target: checkpoint files (nn/nn.h) and the loaders built on them -- a SAIC
 * codec or training checkpoint (saic_ckpt.h) and a classifier (classifier.h) -- on arbitrary
 * bytes. They must refuse bad input with a message, within bounded memory, never crash.
 * Seed corpus: tests/fuzz/corpus/checkpoint, a training checkpoint and its exported codec
 * checkpoint of a tiny random model (n 4, m 4, 1 level: one table set); regenerate with
 * SAIC_FUZZ_WRITE_CORPUS=DIR set, which writes them on the first input. */
#include <stddef.h>
#include <stdint.h>

#include "../saic/saic_codec_test_util.h"
#include "nn.h"
#include "classifier.h"
#include "fuzz_util.h"
#include "saic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int seeded;
  const char *corpus = getenv("SAIC_FUZZ_WRITE_CORPUS");
  if (corpus && !seeded) {
    char codec[512], err[512];
    seeded = 1;
    if (sct_make_codec(corpus, "seed", 4, 4, 1, 7, 1.0, codec, sizeof codec, err, sizeof err))
      fprintf(stderr, "fuzz_checkpoint: cannot write the seeds: %s\n", err);
  }
  char path[128];
  fuzz_write("input.ckpt", data, size, path, sizeof path);
  nn_err e;
  nn_ckpt *ck = NULL;
  if (nn_ckpt_read(path, &ck, &e) == NN_OK) {
    /* Walk what a caller would: metadata and every tensor. */
    for (int i = 0; i < nn_ckpt_num_meta(ck); i++) {
      const char *k, *v;
      nn_ckpt_meta_at(ck, i, &k, &v);
    }
    for (int i = 0; i < nn_ckpt_num_tensors(ck); i++) {
      const char *name;
      int rank, dims[4];
      const float *values;
      nn_ckpt_tensor_at(ck, i, &name, &rank, dims, &values);
    }
    nn_ckpt_free(ck);
  }
  saic_codec_model *cm = NULL;
  if (saic_ckpt_load_codec(path, 1, &cm, &e) == NN_OK)
    saic_ckpt_free_codec(cm);
  saic_model *m = NULL;
  if (saic_ckpt_load_model(path, 8, 8, 1, &m, NULL, &e) == NN_OK)
    saic_model_free(m);
  classifier *clf = NULL;
  if (classifier_load(path, 1, &clf, &e) == NN_OK)
    classifier_free(clf);
  return 0;
}
