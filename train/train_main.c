/* train_main.c - standalone tool for the task classifier, usable before the `saicbench train`
 * subcommand is wired:
 *   saicbench_train classifier --config FILE ...   same as `saicbench train classifier`
 *   saicbench_train codec --config FILE ...        same as `saicbench train codec`
 *   saicbench_train info CKPT                      checkpoint metadata, one "key: value" each
 *   saicbench_train eval CKPT --data DIR [--split S] [--threads N]
 *                                                  top-1 accuracy through classifier_predict */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "classifier.h"
#include "data.h"
#include "train.h"

static int info_main(const char *path) {
  nn_ckpt *ck = NULL;
  nn_err err = {0};
  if (nn_ckpt_read(path, &ck, &err) != NN_OK) {
    fprintf(stderr, "info: %s\n", err.msg);
    return 1;
  }
  for (int i = 0; i < nn_ckpt_num_meta(ck); i++) {
    const char *k, *v;
    nn_ckpt_meta_at(ck, i, &k, &v);
    printf("%s: %s\n", k, v);
  }
  printf("tensors: %d\n", nn_ckpt_num_tensors(ck));
  nn_ckpt_free(ck);
  return 0;
}

static int eval_main(int argc, char **argv) {
  const char *ckpt = argv[0], *data = getenv("SAICBENCH_DATA"), *split = "test";
  int threads = 0;
  for (int i = 1; i < argc; i++) {
    if (i + 1 < argc && strcmp(argv[i], "--data") == 0)
      data = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--split") == 0)
      split = argv[++i];
    else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0)
      threads = atoi(argv[++i]);
    else {
      fprintf(stderr, "eval: unknown or incomplete option \"%s\"\n", argv[i]);
      return 2;
    }
  }
  if (!data) {
    fprintf(stderr, "eval: pass --data DIR or set SAICBENCH_DATA\n");
    return 2;
  }
  char root[4096], msg[1024];
  struct stat sb;
  snprintf(root, sizeof root, "%s/cifar10", data);
  if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode))
    snprintf(root, sizeof root, "%s", data);
  classifier *clf = NULL;
  nn_err err = {0};
  if (classifier_load(ckpt, threads, &clf, &err) != NN_OK) {
    fprintf(stderr, "eval: %s\n", err.msg);
    return 1;
  }
  dataset *ds = NULL;
  if (dataset_open(root, split, &ds, msg, sizeof msg) != 0) {
    fprintf(stderr, "eval: %s\n", msg);
    classifier_free(clf);
    return 1;
  }
  const classifier_arch *a = classifier_get_arch(clf);
  const int k = classifier_num_classes(clf), chunk = 250;
  const size_t n = dataset_size(ds), img = (size_t)a->in_w * (size_t)a->in_h * 3;
  uint8_t *rgb = malloc(img * chunk);
  float *probs = malloc(sizeof(float) * (size_t)k * chunk);
  int labels[250];
  long hits = 0;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i += chunk) {
    int m = n - i < (size_t)chunk ? (int)(n - i) : chunk;
    for (int j = 0; j < m && rc == 0; j++) {
      image_rgb8 im = {0};
      if (dataset_load(ds, i + (size_t)j, &im, msg, sizeof msg) != 0 || im.width != a->in_w ||
          im.height != a->in_h) {
        fprintf(stderr, "eval: %s\n", im.rgb ? "image of the wrong size" : msg);
        rc = 1;
      } else
        memcpy(rgb + (size_t)j * img, im.rgb, img);
      labels[j] = dataset_item_label(ds, i + (size_t)j);
      image_free(&im);
    }
    if (rc == 0 && classifier_predict(clf, rgb, m, a->in_w, a->in_h, probs, &err) != NN_OK) {
      fprintf(stderr, "eval: %s\n", err.msg);
      rc = 1;
    }
    for (int j = 0; rc == 0 && j < m; j++) {
      int arg = 0;
      for (int c = 1; c < k; c++)
        if (probs[j * k + c] > probs[j * k + arg])
          arg = c;
      hits += arg == labels[j];
    }
  }
  if (rc == 0)
    printf("%s on %s (%s, %zu images): top-1 accuracy %.4f (%ld correct)\n", ckpt, dataset_root(ds),
           split, n, (double)hits / (double)n, hits);
  free(rgb);
  free(probs);
  dataset_close(ds);
  classifier_free(clf);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "classifier") == 0)
    return train_classifier_main(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "codec") == 0)
    return train_codec_main(argc - 1, argv + 1);
  if (argc == 3 && strcmp(argv[1], "info") == 0)
    return info_main(argv[2]);
  if (argc >= 3 && strcmp(argv[1], "eval") == 0)
    return eval_main(argc - 2, argv + 2);
  fprintf(stderr,
          "usage: %s classifier --config FILE [--data DIR] [--out DIR] [--resume] [--threads N]\n"
          "       %s codec --config FILE [--data DIR] [--out DIR] [--resume] [--threads N]\n"
          "       %s info CKPT\n"
          "       %s eval CKPT [--data DIR] [--split test] [--threads N]\n",
          argv[0], argv[0], argv[0], argv[0]);
  return 2;
}
