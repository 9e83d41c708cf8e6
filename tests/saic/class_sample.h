/* class_sample.h - test and benchmark helper (prefix class_sample_): the first `want` images of
 * a labelled dataset (data/data.h) taken round-robin over its classes -- the first image of
 * every class, then the second of every class, ... (items in name order) -- so that a small
 * sample covers every class. Used by bench_saic_codec and saic_determinism.
 *
 * Thread-safety: no shared state. */
#ifndef SAICBENCH_CLASS_SAMPLE_H
#define SAICBENCH_CLASS_SAMPLE_H

#include <stddef.h>

#include "data.h"

typedef struct class_sample {
  image_rgb8 *img; /* n decoded images */
  char **name;     /* dataset root + "/" + item name, e.g. ".../test/airplane/0001.jpg" */
  int n;
} class_sample;

/* Opens `path` with `split` (dataset_open; when that split does not exist, the folder itself)
 * and loads up to `want` images; out->n < want when the dataset is smaller. An unlabeled dataset
 * or an unreadable image is an error naming it (-1 and a message). */
int class_sample_load(const char *path, const char *split, int want, class_sample *out, char *err,
                      size_t err_len);
void class_sample_free(class_sample *s);

#endif
