/* test_tasks_train.c - the classifier trainer on generated data (2 classes of 32x32 images):
 * the loss falls and test accuracy clearly beats chance; a run interrupted after epoch 1 and
 * resumed from last.ckpt ends bit-identical to an uninterrupted run (same thread count);
 * classifier_load + classifier_predict on the checkpoint equals a network rebuilt from the
 * checkpoint and run in eval mode, and its accuracy equals the trainer's test accuracy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classifier.h"
#include "nn.h"
#include "sb_test.h"
#include "train_classifier.h"

enum { W = 32, H = 32, NTRAIN = 256, NTEST = 200 };

/* Class 0: horizontal stripes, class 1: vertical stripes (period 4, random phase, colour and
 * contrast) under noise: local texture, so the label survives crop, flip and global pooling,
 * while the mean colour says nothing. */
static void make_data(nn_rng *r, size_t n, uint8_t *rgb, int *labels) {
  for (size_t i = 0; i < n; i++) {
    int y = (int)(i % 2);
    labels[i] = y;
    int phase = (int)nn_rng_below(r, 4), amp = 30 + (int)nn_rng_below(r, 50);
    int base[3];
    for (int c = 0; c < 3; c++)
      base[c] = 60 + (int)nn_rng_below(r, 80);
    uint8_t *img = rgb + i * W * H * 3;
    for (int py = 0; py < H; py++)
      for (int px = 0; px < W; px++) {
        int t = ((y ? px : py) + phase) % 4 < 2 ? amp : -amp;
        for (int c = 0; c < 3; c++) {
          int v = base[c] + t + (int)nn_rng_below(r, 60) - 30;
          img[(py * W + px) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
      }
  }
}

static void rm_run(const char *dir) {
  char p[512];
  const char *files[] = {"last.ckpt", "best.ckpt", "last.ckpt.tmp", "best.ckpt.tmp"};
  for (int i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
}

/* Every tensor and the training-state metadata of two checkpoints are identical. */
static int same_ckpt(const char *a, const char *b) {
  nn_ckpt *ca = NULL, *cb = NULL;
  nn_err err = {0};
  if (nn_ckpt_read(a, &ca, &err) || nn_ckpt_read(b, &cb, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    nn_ckpt_free(ca);
    return 0;
  }
  int same = nn_ckpt_num_tensors(ca) == nn_ckpt_num_tensors(cb);
  for (int i = 0; same && i < nn_ckpt_num_tensors(ca); i++) {
    const char *na, *nb;
    int ra, rb, da[4], db[4];
    const float *fa, *fb;
    nn_ckpt_tensor_at(ca, i, &na, &ra, da, &fa);
    nn_ckpt_tensor_at(cb, i, &nb, &rb, db, &fb);
    size_t cnt = (size_t)da[0] * da[1] * da[2] * da[3];
    same = strcmp(na, nb) == 0 && ra == rb && memcmp(da, db, sizeof da) == 0 &&
           memcmp(fa, fb, sizeof(float) * cnt) == 0;
    if (!same)
      fprintf(stderr, "tensor %s differs\n", na);
  }
  const char *keys[] = {"epoch", "step", "rng", "test_accuracy", "best_epoch", "norm_mean"};
  for (int k = 0; same && k < 6; k++) {
    const char *va = nn_ckpt_meta(ca, keys[k]), *vb = nn_ckpt_meta(cb, keys[k]);
    same = va && vb && strcmp(va, vb) == 0;
    if (!same)
      fprintf(stderr, "metadata %s differs: %s vs %s\n", keys[k], va ? va : "-", vb ? vb : "-");
  }
  nn_ckpt_free(ca);
  nn_ckpt_free(cb);
  return same;
}

int main(void) {
  uint8_t *train_rgb = malloc((size_t)NTRAIN * W * H * 3),
          *test_rgb = malloc((size_t)NTEST * W * H * 3);
  int train_lab[NTRAIN], test_lab[NTEST];
  nn_rng r;
  nn_rng_seed(&r, 7);
  make_data(&r, NTRAIN, train_rgb, train_lab);
  make_data(&r, NTEST, test_rgb, test_lab);
  train_classifier_data tr = {train_rgb, train_lab, NTRAIN, W, H};
  train_classifier_data te = {test_rgb, test_lab, NTEST, W, H};

  train_classifier_cfg cfg;
  train_classifier_cfg_defaults(&cfg);
  snprintf(cfg.arch, sizeof cfg.arch, "convnet-tiny");
  cfg.epochs = 25; /* 8 steps per epoch: 200 steps */
  cfg.batch_size = 32;
  cfg.lr = 0.05f;
  cfg.crop_pad = 2;
  cfg.eval_batch = NTEST;
  cfg.seed = 3;

  char base[] = "/tmp/test_tasks_train_XXXXXX";
  if (!mkdtemp(base)) {
    perror("mkdtemp");
    return 1;
  }
  char dir_a[600], dir_b[600], dir_c[600], path[700];
  snprintf(dir_a, sizeof dir_a, "%s/a", base);
  snprintf(dir_b, sizeof dir_b, "%s/b", base);
  snprintf(dir_c, sizeof dir_c, "%s/c", base);
  train_classifier_opts o = {.threads = 1,
                             .command = "test",
                             .config_text = "cfg",
                             .dataset_hash = "00112233445566778899aabbccddeeff"};
  nn_err err = {0};

  /* Uninterrupted run. */
  train_classifier_result ra, rb1, rb;
  o.out_dir = dir_a;
  int rc = train_classifier(&cfg, &tr, &te, &o, &ra, &err);
  CHECK(rc == 0);
  if (rc)
    fprintf(stderr, "train: %s\n", err.msg);
  CHECK(ra.epochs_done == 25 && ra.steps_done == 200);
  /* Interrupted after epoch 1, then resumed. */
  o.out_dir = dir_b;
  o.stop_after_epoch = 1;
  CHECK(train_classifier(&cfg, &tr, &te, &o, &rb1, &err) == 0);
  CHECK(rb1.epochs_done == 1 && rb1.steps_done == 8);
  o.stop_after_epoch = 0;
  o.resume = true;
  rc = train_classifier(&cfg, &tr, &te, &o, &rb, &err);
  CHECK(rc == 0);
  if (rc)
    fprintf(stderr, "resume: %s\n", err.msg);
  printf("epoch 1 train loss %.4f acc %.3f; epoch 25 train loss %.4f acc %.3f, test acc %.3f "
         "(best %.3f at epoch %d)\n",
         rb1.last_train_loss, rb1.last_train_acc, ra.last_train_loss, ra.last_train_acc,
         ra.last_test_acc, ra.best_test_acc, ra.best_epoch);
  /* Learning: the loss falls, and accuracy clearly beats chance (0.5). */
  CHECK(ra.last_train_loss < 0.5 * rb1.last_train_loss);
  CHECK(ra.last_test_acc >= 0.9);
  /* Resume = uninterrupted. */
  CHECK(rb.epochs_done == 25 && rb.steps_done == 200);
  CHECK(rb.last_test_acc == ra.last_test_acc && rb.last_train_loss == ra.last_train_loss);
  char pa[700], pb[700];
  snprintf(pa, sizeof pa, "%s/last.ckpt", dir_a);
  snprintf(pb, sizeof pb, "%s/last.ckpt", dir_b);
  CHECK(same_ckpt(pa, pb));
  /* Resuming a finished run does nothing and keeps the result. */
  CHECK(train_classifier(&cfg, &tr, &te, &o, &rb, &err) == 0 && rb.steps_done == 200);
  /* --resume without a checkpoint, and with different data, fail with a message. */
  o.out_dir = dir_c;
  CHECK(train_classifier(&cfg, &tr, &te, &o, &rb, &err) != 0 &&
        strstr(err.msg, "no checkpoint") != NULL);
  o.out_dir = dir_b;
  o.dataset_hash = "ffffffffffffffffffffffffffffffff";
  CHECK(train_classifier(&cfg, &tr, &te, &o, &rb, &err) != 0 && strstr(err.msg, "hash") != NULL);

  /* Inference from the checkpoint. */
  classifier *clf = NULL;
  CHECK(classifier_load(pa, 1, &clf, &err) == 0);
  if (clf) {
    CHECK(strcmp(classifier_get_arch(clf)->name, "convnet-tiny") == 0);
    CHECK(classifier_num_classes(clf) == 10);
    CHECK(classifier_meta(clf, "dataset_hash") &&
          strcmp(classifier_meta(clf, "dataset_hash"), "00112233445566778899aabbccddeeff") == 0);
    float *probs = malloc(sizeof(float) * NTEST * 10), *ref = malloc(sizeof(float) * NTEST * 10);
    CHECK(classifier_predict(clf, test_rgb, NTEST, W, H, probs, &err) == 0);
    int hits = 0;
    double worst_sum = 0;
    for (int i = 0; i < NTEST; i++) {
      int arg = 0;
      double s = 0;
      for (int k = 0; k < 10; k++) {
        s += probs[i * 10 + k];
        if (probs[i * 10 + k] > probs[i * 10 + arg])
          arg = k;
      }
      worst_sum = fmax(worst_sum, fabs(s - 1));
      hits += arg == test_lab[i];
    }
    CHECK(worst_sum < 1e-5);
    CHECK((double)hits / NTEST == ra.last_test_acc);
    /* Rebuilt network, same weights, eval mode: identical probabilities. */
    nn_ckpt *ck = NULL;
    int logits;
    nn_net *net = classifier_build_net(classifier_arch_find("convnet-tiny"), 1, 99, &logits, &err);
    CHECK(net && nn_ckpt_read(pa, &ck, &err) == 0);
    CHECK(classifier_apply_ckpt(ck, net, "optim.", &err) == 0);
    float mean[3], sd[3];
    CHECK(classifier_parse3(nn_ckpt_meta(ck, "norm_mean"), mean) == 0);
    CHECK(classifier_parse3(nn_ckpt_meta(ck, "norm_std"), sd) == 0);
    float *x = malloc(sizeof(float) * NTEST * 3 * W * H);
    classifier_normalise(test_rgb, NTEST, W, H, mean, sd, x);
    nn_tensor in = nn_tensor_view(x, NTEST, 3, H, W), pv = nn_tensor_view(ref, NTEST, 10, 1, 1);
    CHECK(nn_net_forward(net, &in, NN_EVAL) == 0);
    CHECK(nn_softmax(nn_net_output(net, logits), &pv, &err) == 0);
    CHECK(memcmp(ref, probs, sizeof(float) * NTEST * 10) == 0);
    /* The checkpoint without its optimiser state is refused by a strict apply. */
    CHECK(classifier_apply_ckpt(ck, net, NULL, &err) != 0 && strstr(err.msg, "optim.") != NULL);
    /* Wrong image size. */
    CHECK(classifier_predict(clf, test_rgb, 1, 16, 16, probs, &err) == NN_E_SHAPE);
    nn_ckpt_free(ck);
    nn_net_free(net);
    free(x);
    free(probs);
    free(ref);
    classifier_free(clf);
  }
  /* best.ckpt: model only, loads as well. */
  snprintf(path, sizeof path, "%s/best.ckpt", dir_a);
  CHECK(classifier_load(path, 1, &clf, &err) == 0);
  classifier_free(clf);
  CHECK(classifier_load("/nonexistent/none.ckpt", 1, &clf, &err) != 0 &&
        strstr(err.msg, "/nonexistent/none.ckpt") != NULL && clf == NULL);

  rm_run(dir_a);
  rm_run(dir_b);
  rm_run(dir_c);
  rmdir(base);
  free(train_rgb);
  free(test_rgb);
  return sb_test_status("test_tasks_train");
}
