/* classifier.h - the downstream task network T: architecture registry, input normalisation,
 * checkpoint loading and batched inference (prefix classifier_).
 *
 * An architecture is an entry in a registry (classifier.c) keyed by name, e.g. "resnet20-w16";
 * a second architecture is one more entry. Networks take normalised float NCHW input:
 * x = (pixel / 255 - mean[c]) / std[c], with the per-channel mean/std of the training split,
 * stored in the checkpoint metadata ("norm_mean", "norm_std": three comma-separated numbers).
 *
 * Errors: functions return 0 on success and a negative status with a message (naming the file
 * where there is one) in err. Thread-safety: a classifier must be used by one thread at a time;
 * distinct classifiers may be used concurrently. */
#ifndef SB_TASKS_CLASSIFIER_H
#define SB_TASKS_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct classifier_arch {
  const char *name;        /* registry key, stored as checkpoint metadata "arch" */
  const char *description; /* one line */
  int in_c, in_h, in_w;    /* input shape per sample */
  int num_classes;
  /* Adds the layers to net (created with the input shape above); returns the logits node id or
   * a negative status (the network's error message says why). */
  int (*build)(nn_net *net, int num_classes);
} classifier_arch;

/* The registry: NULL if no architecture has that name. */
const classifier_arch *classifier_arch_find(const char *name);
int classifier_num_archs(void);
const classifier_arch *classifier_arch_at(int i); /* NULL when out of range */

/* Creates the network of an architecture (parameters initialised from seed). *logits receives
 * the id of the logits node. NULL on failure (message in err). */
nn_net *classifier_build_net(const classifier_arch *arch, int threads, uint64_t seed, int *logits,
                             nn_err *err);
/* Number of trainable parameters (buffers excluded). */
long classifier_count_params(nn_net *net);

/* Converts n packed RGB8 images (w x h, 3 bytes per pixel, row-major) to normalised NCHW
 * floats in out (n * 3 * h * w floats). */
void classifier_normalise(const uint8_t *rgb, int n, int w, int h, const float mean[3],
                          const float std[3], float *out);
/* Per-channel mean and standard deviation (population) of n packed RGB8 images, in [0, 1]
 * units, accumulated in double. */
void classifier_channel_stats(const uint8_t *rgb, size_t n, int w, int h, float mean[3],
                              float std[3]);
/* "a,b,c" <-> three floats; parse returns 0 on success, -1 on malformed text. */
void classifier_format3(const float v[3], char *buf, size_t len);
int classifier_parse3(const char *s, float v[3]);

/* Copies checkpoint tensors into net: every parameter/buffer of net must be present with the
 * same shape and hold finite values (batch-norm running variances also >= 0); tensors whose
 * name starts with skip_prefix (may be NULL) are ignored, any other extra tensor is an error.
 * Nothing is copied unless all checks pass; messages name the file and the tensor. */
int classifier_apply_ckpt(const nn_ckpt *ck, nn_net *net, const char *skip_prefix, nn_err *err);

/* The normalisation a checkpoint may carry: |mean| <= CLASSIFIER_NORM_MEAN_MAX and std in
 * [CLASSIFIER_NORM_STD_MIN, CLASSIFIER_NORM_STD_MAX] per channel (pixels are in [0, 1], so a
 * real std is at most 0.5; a std of 1e-45 turned every input into +-inf). 0 or NN_E_FORMAT with
 * a message naming path and the channel. */
#define CLASSIFIER_NORM_STD_MIN 1e-6
#define CLASSIFIER_NORM_STD_MAX 1e3
#define CLASSIFIER_NORM_MEAN_MAX 1e3
int classifier_check_norm(const char *path, const float mean[3], const float std[3], nn_err *err);

/* ---- inference ---- */

typedef struct classifier classifier;

/* Loads a checkpoint written by the trainer (architecture from its "arch" metadata, looked up
 * in the registry; normalisation from its metadata, checked by classifier_check_norm; tensors
 * checked by classifier_apply_ckpt). threads: 0 = omp_get_max_threads().
 * The network runs in eval mode (BN running statistics). */
int classifier_load(const char *path, int threads, classifier **out, nn_err *err);
void classifier_free(classifier *clf);
const classifier_arch *classifier_get_arch(const classifier *clf);
int classifier_num_classes(const classifier *clf);
/* Checkpoint metadata value (NULL if absent), e.g. "test_accuracy", "dataset_hash". */
const char *classifier_meta(const classifier *clf, const char *key);

/* Softmax probabilities for n packed RGB8 images of w x h pixels (must match the
 * architecture's input size): probs receives n * num_classes floats. Runs in chunks of at most
 * classifier_max_batch images. */
int classifier_predict(classifier *clf, const uint8_t *rgb_batch, int n, int w, int h,
                       float *probs, nn_err *err);
/* Same on already-normalised NCHW input (n * 3 * h * w floats). */
int classifier_predict_normalised(classifier *clf, const float *x, int n, float *probs,
                                  nn_err *err);
enum { classifier_max_batch = 256 };

/* The task loss and its gradient with respect to the pixels, through the frozen network in eval
 * mode (GSW and the codec's task loss): x01 holds n images as NCHW floats in [0, 1] units (not
 * normalised; n <= classifier_max_batch), labels n classes. Writes grad (same layout as x01)
 * = d(sum over the batch of CE(T(x), label)) / dx -- a sum, not a mean, so each image's gradient
 * does not depend on the batch size -- and, when not NULL, per-image losses (nats) and softmax
 * probabilities (n * num_classes). Parameter gradients are not accumulated. */
int classifier_input_gradient(classifier *clf, const float *x01, const int *labels, int n,
                              float *grad, double *losses, float *probs, nn_err *err);

#ifdef __cplusplus
}
#endif
#endif
