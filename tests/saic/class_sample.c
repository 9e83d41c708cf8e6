/* class_sample.c - see class_sample.h. */
#include "class_sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"

void class_sample_free(class_sample *s) {
  for (int i = 0; i < s->n; i++) {
    image_free(&s->img[i]);
    free(s->name[i]);
  }
  free(s->img);
  free(s->name);
  memset(s, 0, sizeof *s);
}

int class_sample_load(const char *path, const char *split, int want, class_sample *out, char *err,
                      size_t err_len) {
  memset(out, 0, sizeof *out);
  dataset *ds = NULL;
  if (dataset_open(path, split, &ds, err, err_len) != 0 &&
      dataset_open(path, NULL, &ds, err, err_len) != 0)
    return -1;
  const int nc = dataset_num_classes(ds);
  const size_t total = dataset_size(ds);
  if (nc <= 0) {
    snprintf(err, err_len, "%s: not a labelled dataset (no classes)", dataset_root(ds));
    dataset_close(ds);
    return -1;
  }
  /* Items are sorted by name, so each class's items appear in name order; next[c] walks them. */
  size_t *next = calloc((size_t)nc, sizeof *next);
  out->img = calloc(want > 0 ? (size_t)want : 1, sizeof *out->img);
  out->name = calloc(want > 0 ? (size_t)want : 1, sizeof *out->name);
  int rc = next && out->img && out->name ? 0 : -1;
  if (rc)
    snprintf(err, err_len, "out of memory");
  for (int any = 1; !rc && any && out->n < want;) {
    any = 0;
    for (int c = 0; c < nc && out->n < want && !rc; c++) {
      while (next[c] < total && dataset_item_label(ds, next[c]) != c)
        next[c]++;
      if (next[c] >= total)
        continue;
      any = 1;
      const size_t i = next[c]++;
      if (dataset_load(ds, i, &out->img[out->n], err, err_len) != 0) {
        rc = -1;
        break;
      }
      const size_t len = strlen(dataset_root(ds)) + strlen(dataset_item_name(ds, i)) + 2;
      out->name[out->n] = malloc(len);
      if (!out->name[out->n]) {
        image_free(&out->img[out->n]);
        snprintf(err, err_len, "out of memory");
        rc = -1;
        break;
      }
      snprintf(out->name[out->n], len, "%s/%s", dataset_root(ds), dataset_item_name(ds, i));
      out->n++;
    }
  }
  free(next);
  dataset_close(ds);
  if (rc)
    class_sample_free(out);
  return rc;
}
