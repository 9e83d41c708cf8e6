/* SAIC codec trainer (train/train_codec.c, codec_config.c): a tiny model (n 8, m 8, two
 * levels) trained for two epochs on 16 synthetic 32x32 images with full SAIC (GSW on x_hat, task
 * loss through a random convnet-tiny classifier), augmentation and the rate controller on:
 *   - the mean training loss of epoch 2 is below that of epoch 1, the evaluation is sane;
 *   - stop after epoch 1 + --resume gives bit-identical final parameters, optimiser state, rng and
 *     lambdas to an uninterrupted run (1 thread);
 *   - configuration errors name file:line:col; task_checkpoint resolves against the file's folder;
 *   - a truncated last.ckpt is refused with a message naming the file and the problem;
 *   - init_checkpoint (fine-tuning) starts from another run's networks: at a negligible learning
 *     rate one epoch leaves them where they were, the checkpoint records the source and its
 *     SHA-256, and a source of another model shape is refused.
 * Set SAIC_TRAINER_TEST_VERBOSE=1 for the training log. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "classifier.h"
#include "codec_config.h"
#include "nn.h"
#include "sb_test.h"
#include "train.h"
#include "train_codec.h"

enum { NIMG = 16, S = 32 };

static char dir[64];

static const char *config_text = "# tiny trainer test\n"
                                 "model: {n: 8, m: 8, levels: 2}\n"
                                 "epochs: 2\n"
                                 "batch_size: 4\n"
                                 "seed: 3\n"
                                 "lr: 2.0e-3\n"
                                 "density_lr_mult: 10\n"
                                 "schedule:\n"
                                 "  kind: const\n"
                                 "  warmup_epochs: 0.5\n"
                                 "lambdas: [1.0e-3, 4.0e-3]\n"
                                 "loss:\n"
                                 "  alpha: 0.5\n"
                                 "  gamma: 0.03\n"
                                 "  gsw_on: x_hat\n"
                                 "  smooth: 3\n"
                                 "  w_max: 4\n"
                                 "quant: noise\n"
                                 "task_checkpoint: task.ckpt\n"
                                 "augment: {flip: true, crop_pad: 2}\n"
                                 "checkpoint_every: 1\n"
                                 "log_every: 2\n"
                                 "eval: {every: 1, images: 16}\n"
                                 "rate_target: [1.0, 2.0]\n"
                                 "rate_control: {gain: 0.01, freeze_at: 0.75}\n";

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(data, 1, n, f) == n, "cannot write %s", path);
  if (f)
    fclose(f);
}

/* Synthetic images: smooth colour gradients and a bright square whose position depends on the
 * label, plus a little hash noise. */
static void make_images(uint8_t *rgb, int *labels) {
  unsigned s = 12345;
  for (int i = 0; i < NIMG; i++) {
    labels[i] = i % 10;
    const int bx = 4 + (i % 4) * 6, by = 4 + (i / 4) * 6;
    for (int y = 0; y < S; y++)
      for (int x = 0; x < S; x++)
        for (int c = 0; c < 3; c++) {
          s = s * 1103515245u + 12345u;
          double v = 0.3 + 0.25 * sin(0.2 * x * (c + 1) + 0.15 * y + i) +
                     (x >= bx && x < bx + 8 && y >= by && y < by + 8 ? 0.35 : 0) +
                     0.05 * ((double)((s >> 16) & 0xff) / 255.0 - 0.5);
          v = v < 0 ? 0 : v > 1 ? 1 : v;
          rgb[((size_t)i * S * S + (size_t)y * S + (size_t)x) * 3 + (size_t)c] =
              (uint8_t)lrint(v * 255);
        }
  }
}

static int run(const train_codec_cfg *cfg, const train_codec_data *d, const char *out, bool resume,
               int stop_after, train_codec_result *res, nn_err *err) {
  train_codec_opts o = {.out_dir = out,
                        .resume = resume,
                        .threads = 1,
                        .stop_after_epoch = stop_after,
                        .command = "test_saic_trainer",
                        .config_text = config_text,
                        .dataset_hash = "synthetic",
                        .log = getenv("SAIC_TRAINER_TEST_VERBOSE") ? stdout : NULL};
  memset(err, 0, sizeof *err);
  return train_codec(cfg, d, d, &o, res, err);
}

/* Largest |a - b| / (|a| + 1e-3) over the network tensors ("enc." / "dec.") of a and b. */
static double max_rel_diff(const char *a, const char *b) {
  nn_ckpt *ca = NULL, *cb = NULL;
  nn_err e = {0};
  double worst = -1;
  if (nn_ckpt_read(a, &ca, &e) == NN_OK && nn_ckpt_read(b, &cb, &e) == NN_OK) {
    worst = 0;
    for (int i = 0; i < nn_ckpt_num_tensors(ca); i++) {
      const char *na;
      int ra, da[4], rb, db[4];
      const float *xa, *xb;
      nn_ckpt_tensor_at(ca, i, &na, &ra, da, &xa);
      if (strncmp(na, "enc.", 4) != 0 && strncmp(na, "dec.", 4) != 0)
        continue;
      const int j = nn_ckpt_find_tensor(cb, na);
      if (j < 0)
        return 1e30;
      nn_ckpt_tensor_at(cb, j, &na, &rb, db, &xb);
      if (memcmp(da, db, sizeof da) != 0)
        return 1e30;
      const size_t n = (size_t)da[0] * (size_t)da[1] * (size_t)da[2] * (size_t)da[3];
      for (size_t k = 0; k < n; k++) {
        const double r = fabs((double)xa[k] - xb[k]) / (fabs((double)xa[k]) + 1e-3);
        if (!(r <= worst))
          worst = r;
      }
    }
  } else {
    CHECK(0, "%s", e.msg);
  }
  nn_ckpt_free(ca);
  nn_ckpt_free(cb);
  return worst;
}

/* Every tensor of a and b (same names, in the same order) is bit-identical; prefix: only the
 * tensors whose name starts with it ("" = all). Returns the number compared. */
static int compare_ckpts(const char *a, const char *b, const char *prefix) {
  nn_ckpt *ca = NULL, *cb = NULL;
  nn_err e = {0};
  CHECK(nn_ckpt_read(a, &ca, &e) == NN_OK, "%s", e.msg);
  CHECK(nn_ckpt_read(b, &cb, &e) == NN_OK, "%s", e.msg);
  int compared = 0, differ = 0;
  if (ca && cb) {
    CHECK(nn_ckpt_num_tensors(ca) == nn_ckpt_num_tensors(cb), "%d vs %d tensors",
          nn_ckpt_num_tensors(ca), nn_ckpt_num_tensors(cb));
    for (int i = 0; i < nn_ckpt_num_tensors(ca) && i < nn_ckpt_num_tensors(cb); i++) {
      const char *na, *nb;
      int ra, rb, da[4], db[4];
      const float *xa, *xb;
      nn_ckpt_tensor_at(ca, i, &na, &ra, da, &xa);
      nn_ckpt_tensor_at(cb, i, &nb, &rb, db, &xb);
      if (strncmp(na, prefix, strlen(prefix)) != 0)
        continue;
      size_t n = (size_t)da[0] * (size_t)da[1] * (size_t)da[2] * (size_t)da[3];
      CHECK(strcmp(na, nb) == 0 && ra == rb && !memcmp(da, db, sizeof da), "tensor %d: %s vs %s", i,
            na, nb);
      if (strcmp(na, nb) == 0 && memcmp(xa, xb, n * sizeof(float)) != 0 && differ++ < 3)
        CHECK(0, "tensor %s differs between %s and %s", na, a, b);
      compared++;
    }
    CHECK(differ == 0, "%d tensors differ", differ);
    for (const char *const *k = (const char *const[]){"lambda", "rng", "step", "epoch", NULL}; *k;
         k++) {
      const char *va = nn_ckpt_meta(ca, *k), *vb = nn_ckpt_meta(cb, *k);
      CHECK((!va && !vb) || (va && vb && strcmp(va, vb) == 0), "metadata %s: %s vs %s", *k,
            va ? va : "(none)", vb ? vb : "(none)");
    }
  }
  nn_ckpt_free(ca);
  nn_ckpt_free(cb);
  return compared;
}

static void expect_error(const char *text, const char *want) {
  train_codec_cfg cfg;
  char err[512] = "";
  int rc = train_codec_cfg_parse("bad.yaml", text, strlen(text), &cfg, err, sizeof err);
  CHECK(rc != 0 && strstr(err, want), "config\n%s: got \"%s\", want \"%s\"", text, err, want);
}

static void test_config_errors(void) {
  expect_error("model:\n  n: 8\n  q: 1\nlambdas: [1, 2, 3, 4]\n",
               "bad.yaml:3:3: unknown key \"model.q\"");
  expect_error("model: {levels: 2}\nlambdas: [1.0e-3]\n",
               "bad.yaml:2:10: lambdas: 1 values, model.levels is 2");
  expect_error("epochs: two\n", "bad.yaml:1:9: epochs: expected an integer, got \"two\"");
  expect_error("quant: round\nlambdas: [1, 2, 3, 4]\n",
               "bad.yaml:1:8: quant: expected noise or ste");
  expect_error("lambdas: 0.5\n", "bad.yaml:1:10: lambdas: expected a list of numbers");
  expect_error("lambdas: [1, 2, x, 4]\n", "bad.yaml:1:17: lambdas: expected a number, got \"x\"");
  expect_error("loss:\n  alpha: 1.5\n", "bad.yaml:2:10: loss.alpha: 1.5 is out of range");
  expect_error("loss:\n  gsw_on: y\n", "bad.yaml:2:11: loss.gsw_on: expected x_hat or x");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {smooth: 4}\n",
               "bad.yaml:2:16: loss.smooth: the box filter side must be odd");
  expect_error("lambdas: [1, 2, 3, 4]\nrate_target: [0.1, 0.2]\n",
               "bad.yaml:2:14: rate_target: 2 values, model.levels is 4");
  expect_error("lambdas: [1, 2, 3, 4]\nepochs: 3\nepochs: 4\n",
               "bad.yaml:3:1: 'epochs' given twice (first at line 2)");
  expect_error("lambdas: [1, 2, 3, 4]\nseed: [1]\n", "bad.yaml:2:7: seed: a list is not allowed");
  expect_error("lambdas: [1, 2, 3, 4]\nepochs: 3: 4\n", "bad.yaml:2:10: YAML syntax error");
  expect_error(
      "lambdas: [1, 2, 3, 4]\nloss: {alpha: 0.5}\n",
      "bad.yaml: task_checkpoint is required when loss.alpha, loss.beta or loss.gamma is > 0");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {beta: 100, gamma: 0.1}\ntask_checkpoint: t.ckpt\n",
               "bad.yaml:2:14: loss.beta: give either loss.beta");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {beta: 100, beta_scale: [1, 0.5]}\n"
               "task_checkpoint: t.ckpt\n",
               "bad.yaml:2:31: loss.beta_scale: 2 values, model.levels is 4");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {alpha: 0.5, alpha_scale: [1, 0]}\n",
               "bad.yaml:2:33: loss.alpha_scale: 2 values, model.levels is 4");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {alpha_scale: [1, 1, 0.5, 0]}\n",
               "bad.yaml:2:21: loss.alpha_scale scales loss.alpha, which is not set");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {alpha: 0.5, alpha_scale: [1, 1, 1.5, 0]}\n",
               "loss.alpha_scale: 1.5 is out of range");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {beta_scale: [1, 1, 1, 0.5]}\n",
               "bad.yaml:2:20: loss.beta_scale scales loss.beta, which is not set");
  expect_error("lambdas: [1, 2, 3, 4]\nloss: {beta: 1, beta_scale: [1, 1, 0, 1]}\n"
               "task_checkpoint: t.ckpt\n",
               "bad.yaml:2:36: loss.beta_scale: 0 is out of range");
  expect_error("lambdas: [1, 2, 3, 4]\ntask_checkpoint_2: t2.ckpt\n",
               "bad.yaml: task_checkpoint_2/_3 add networks to task_checkpoint, which is not set");
  expect_error("lambdas: [1, 2, 3, 4]\ntask_checkpoint: t.ckpt\ntask_checkpoint_3: t3.ckpt\n",
               "bad.yaml: task_checkpoint_3 without task_checkpoint_2");
  expect_error("lambdas: [1, 2, 3, 4]\nknob_sampling: random\n",
               "bad.yaml:2:16: knob_sampling: expected levels or continuous");
  expect_error("epochs: 2\n", "bad.yaml: lambdas (one per level, model.levels = 4) is required");
  /* A good file: the task checkpoint is resolved against its folder. */
  train_codec_cfg cfg;
  char err[512] = "", path[128], want[256];
  const char *ok = "lambdas: [1, 2]\nmodel: {levels: 2}\ntask_checkpoint: sub/t.ckpt\n";
  CHECK(train_codec_cfg_parse("configs/x.yaml", ok, strlen(ok), &cfg, err, sizeof err) == 0, "%s",
        err);
  CHECK(strcmp(cfg.task_checkpoint, "configs/sub/t.ckpt") == 0, "resolved to %s",
        cfg.task_checkpoint);
  /* Messages from a file name the file. */
  snprintf(path, sizeof path, "%s/bad.yaml", dir);
  write_file(path, "lambdas: [1, 2, 3, 4]\nbatch_size: 0\n", 35);
  snprintf(want, sizeof want, "%s:2:13: batch_size: 0 is out of range", path);
  CHECK(train_codec_cfg_load(path, &cfg, NULL, err, sizeof err) != 0 && strstr(err, want),
        "got \"%s\", want \"%s\"", err, want);
  unlink(path);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/saicbench_trainer_XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_config_errors();

  /* The frozen task network: a random convnet-tiny. */
  char path[400], cfg_path[256];
  nn_err e = {0};
  int logits;
  nn_net *net = classifier_build_net(classifier_arch_find("convnet-tiny"), 1, 7, &logits, &e);
  nn_kv meta[] = {
      {"arch", "convnet-tiny"}, {"norm_mean", "0.5,0.5,0.5"}, {"norm_std", "0.25,0.25,0.25"}};
  snprintf(path, sizeof path, "%s/task.ckpt", dir);
  CHECK(net && nn_ckpt_save(path, net, meta, 3, &e) == NN_OK, "%s", e.msg);
  nn_net_free(net);
  snprintf(cfg_path, sizeof cfg_path, "%s/tiny.yaml", dir);
  write_file(cfg_path, config_text, strlen(config_text));
  train_codec_cfg cfg;
  char msg[512];
  int rc = train_codec_cfg_load(cfg_path, &cfg, NULL, msg, sizeof msg);
  CHECK(rc == 0, "%s", msg);
  CHECK(strcmp(cfg.task_checkpoint, path) == 0, "task checkpoint resolved to %s",
        cfg.task_checkpoint);
  if (rc != 0)
    return 1;

  uint8_t *rgb = malloc((size_t)NIMG * S * S * 3);
  int labels[NIMG];
  make_images(rgb, labels);
  train_codec_data d = {rgb, labels, NIMG, S, S};

  /* Uninterrupted. */
  char outA[256], outB[256], outC[256], a[300], b[300];
  snprintf(outA, sizeof outA, "%s/a", dir);
  snprintf(outB, sizeof outB, "%s/b", dir);
  snprintf(outC, sizeof outC, "%s/c", dir);
  train_codec_result ra, rb;
  rc = run(&cfg, &d, outA, false, 0, &ra, &e);
  CHECK(rc == NN_OK, "%s", e.msg);
  printf("uninterrupted: epoch 1 loss %.4f, epoch 2 loss %.4f, lambdas %.3g %.3g\n",
         ra.first_epoch_loss, ra.last_epoch_loss, ra.lambda[0], ra.lambda[1]);
  for (int l = 0; l < 2; l++)
    printf("  eval level %d: bpp %.3f psnr %.2f acc %.3f\n", l, ra.eval[l].bpp, ra.eval[l].psnr,
           ra.eval[l].accuracy);
  CHECK(ra.epochs_done == 2 && ra.steps_done == 8, "%d epochs, %ld steps", ra.epochs_done,
        ra.steps_done);
  CHECK(ra.last_epoch_loss < ra.first_epoch_loss, "loss did not decrease: %g -> %g",
        ra.first_epoch_loss, ra.last_epoch_loss);
  CHECK(ra.evaluated, "no evaluation");
  for (int l = 0; l < 2; l++)
    CHECK(ra.eval[l].bpp > 0 && ra.eval[l].bpp < 40 && ra.eval[l].psnr > 0 &&
              ra.eval[l].psnr < 100 && ra.eval[l].accuracy >= 0 && ra.eval[l].accuracy <= 1,
          "eval level %d: bpp %g psnr %g acc %g", l, ra.eval[l].bpp, ra.eval[l].psnr,
          ra.eval[l].accuracy);
  /* The controller moved the lambdas (the initial rate is far from the targets). */
  CHECK(ra.lambda[0] != cfg.loss.lambda[0] && ra.lambda[1] != cfg.loss.lambda[1],
        "lambdas unchanged: %g %g", ra.lambda[0], ra.lambda[1]);

  /* Interrupted after epoch 1, then resumed. */
  rc = run(&cfg, &d, outB, false, 1, &rb, &e);
  CHECK(rc == NN_OK && rb.epochs_done == 1, "%s (%d epochs)", e.msg, rb.epochs_done);
  snprintf(b, sizeof b, "%s/final.ckpt", outB);
  struct stat sb;
  CHECK(stat(b, &sb) != 0, "final.ckpt written by an interrupted run");
  /* Keep a copy of the epoch-1 checkpoint for the truncation test. */
  snprintf(b, sizeof b, "%s/last.ckpt", outB);
  FILE *f = fopen(b, "rb");
  long size = 0;
  unsigned char *bytes = NULL;
  if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
    bytes = malloc((size_t)size);
    if (bytes && fread(bytes, 1, (size_t)size, f) != (size_t)size)
      size = 0;
  }
  if (f)
    fclose(f);
  CHECK(bytes && size > 0, "cannot read %s", b);
  rc = run(&cfg, &d, outB, true, 0, &rb, &e);
  CHECK(rc == NN_OK && rb.epochs_done == 2 && rb.steps_done == 8, "%s (%d epochs)", e.msg,
        rb.epochs_done);
  snprintf(a, sizeof a, "%s/final.ckpt", outA);
  snprintf(b, sizeof b, "%s/final.ckpt", outB);
  int n = compare_ckpts(a, b, "");
  printf("resume: %d tensors of final.ckpt bit-identical\n", n);
  CHECK(n > 10, "only %d tensors compared", n);
  snprintf(a, sizeof a, "%s/last.ckpt", outA);
  snprintf(b, sizeof b, "%s/last.ckpt", outB);
  n = compare_ckpts(a, b, "optim.");
  CHECK(n > 20, "only %d optimiser tensors compared", n);
  CHECK(rb.lambda[0] == ra.lambda[0] && rb.lambda[1] == ra.lambda[1], "lambdas %g %g vs %g %g",
        rb.lambda[0], rb.lambda[1], ra.lambda[0], ra.lambda[1]);
  CHECK(rb.last_epoch_loss == ra.last_epoch_loss, "epoch 2 loss %.17g vs %.17g", rb.last_epoch_loss,
        ra.last_epoch_loss);

  /* A truncated last.ckpt is refused. */
  mkdir(outC, 0777);
  snprintf(path, sizeof path, "%s/last.ckpt", outC);
  if (bytes)
    write_file(path, bytes, (size_t)size / 2);
  free(bytes);
  rc = run(&cfg, &d, outC, true, 0, &rb, &e);
  printf("truncated: %s\n", e.msg);
  CHECK(rc != NN_OK && strstr(e.msg, "cannot resume") && strstr(e.msg, path) &&
            strstr(e.msg, "truncated"),
        "message: %s", e.msg);
  /* Resume with a different model is refused too. */
  train_codec_cfg other = cfg;
  other.model.n = 12;
  rc = run(&other, &d, outA, true, 0, &rb, &e);
  CHECK(rc != NN_OK && strstr(e.msg, "model n 8"), "message: %s", e.msg);

  /* Fine-tuning from run A's networks at a negligible learning rate. */
  char outD[256];
  snprintf(outD, sizeof outD, "%s/d", dir);
  train_codec_cfg ft = cfg;
  snprintf(a, sizeof a, "%s/final.ckpt", outA);
  snprintf(ft.init_checkpoint, sizeof ft.init_checkpoint, "%s", a);
  ft.lr = 1e-12f;
  ft.density_lr_mult = ft.gain_lr_mult = 1;
  ft.epochs = 1;
  rc = run(&ft, &d, outD, false, 0, &rb, &e);
  CHECK(rc == NN_OK, "%s", e.msg);
  snprintf(b, sizeof b, "%s/final.ckpt", outD);
  const double drift = max_rel_diff(a, b);
  printf("init_checkpoint: largest relative parameter change after one epoch at lr 1e-12: %.3g\n",
         drift);
  CHECK(drift >= 0 && drift < 1e-5, "parameters moved by %g", drift);
  /* ... while the same run without init_checkpoint stays at its random start, far from A. */
  char outE[256];
  snprintf(outE, sizeof outE, "%s/e", dir);
  train_codec_cfg fresh = ft;
  fresh.init_checkpoint[0] = '\0';
  rc = run(&fresh, &d, outE, false, 0, &rb, &e);
  CHECK(rc == NN_OK, "%s", e.msg);
  snprintf(b, sizeof b, "%s/final.ckpt", outE);
  CHECK(max_rel_diff(a, b) > 1e-2, "a fresh run ended at run A's parameters?");
  nn_ckpt *ck = NULL;
  snprintf(b, sizeof b, "%s/final.ckpt", outD);
  CHECK(nn_ckpt_read(b, &ck, &e) == NN_OK, "%s", e.msg);
  if (ck) {
    const char *src = nn_ckpt_meta(ck, "init_checkpoint"), *sha = nn_ckpt_meta(ck, "init_sha256");
    CHECK(src && strcmp(src, a) == 0 && sha && strlen(sha) == 64, "metadata %s %s", src ? src : "-",
          sha ? sha : "-");
    nn_ckpt_free(ck);
  }
  /* Fine-tuning may start from an exported codec file too (its networks are the training
   * checkpoint's): same negligible drift from A. */
  char codec_path[400], outG[256];
  snprintf(codec_path, sizeof codec_path, "%s/a_codec.ckpt", dir);
  CHECK(saic_export(a, codec_path, NULL, NULL, &e) == NN_OK, "%s", e.msg);
  snprintf(ft.init_checkpoint, sizeof ft.init_checkpoint, "%s", codec_path);
  snprintf(outG, sizeof outG, "%s/g", dir);
  rc = run(&ft, &d, outG, false, 0, &rb, &e);
  CHECK(rc == NN_OK, "%s", e.msg);
  snprintf(b, sizeof b, "%s/final.ckpt", outG);
  const double drift_codec = max_rel_diff(a, b);
  printf("init from the exported codec: largest relative parameter change %.3g\n", drift_codec);
  CHECK(drift_codec >= 0 && drift_codec < 1e-5, "parameters moved by %g", drift_codec);
  /* ... but a resume never takes one (it has no optimiser state). */
  snprintf(path, sizeof path, "%s/last.ckpt", outG);
  CHECK(saic_export(a, path, NULL, NULL, &e) == NN_OK, "%s", e.msg);
  rc = run(&ft, &d, outG, true, 0, &rb, &e);
  printf("resume from an exported codec: %s\n", e.msg);
  CHECK(rc != NN_OK && strstr(e.msg, "cannot resume") && strstr(e.msg, "saic-codec"), "message: %s",
        e.msg);
  snprintf(ft.init_checkpoint, sizeof ft.init_checkpoint, "%s", a);

  other = ft;
  other.model.n = 12;
  rc = run(&other, &d, outC, false, 0, &rb, &e);
  printf("init from another shape: %s\n", e.msg);
  CHECK(rc != NN_OK && strstr(e.msg, "init_checkpoint") && strstr(e.msg, a) &&
            strstr(e.msg, "model n 8"),
        "message: %s", e.msg);

  /* A second task network (task_checkpoint_2): trained with both, recorded in the metadata, and
   * a resume without it is refused. */
  char path2[400], outF[256];
  snprintf(path2, sizeof path2, "%s/task2.ckpt", dir);
  net = classifier_build_net(classifier_arch_find("convnet-tiny"), 1, 11, &logits, &e);
  CHECK(net && nn_ckpt_save(path2, net, meta, 3, &e) == NN_OK, "%s", e.msg);
  nn_net_free(net);
  snprintf(outF, sizeof outF, "%s/f", dir);
  train_codec_cfg two = cfg;
  snprintf(two.task_checkpoint_extra[0], sizeof two.task_checkpoint_extra[0], "%s", path2);
  rc = run(&two, &d, outF, false, 1, &rb, &e);
  CHECK(rc == NN_OK && rb.epochs_done == 1 && isfinite(rb.last_epoch_loss), "%s", e.msg);
  snprintf(b, sizeof b, "%s/last.ckpt", outF);
  ck = NULL;
  CHECK(nn_ckpt_read(b, &ck, &e) == NN_OK, "%s", e.msg);
  if (ck) {
    const char *p2 = nn_ckpt_meta(ck, "task_2_checkpoint"), *s2 = nn_ckpt_meta(ck, "task_2_sha256");
    CHECK(p2 && strcmp(p2, path2) == 0 && s2 && strlen(s2) == 64, "metadata %s %s", p2 ? p2 : "-",
          s2 ? s2 : "-");
    nn_ckpt_free(ck);
  }
  rc = run(&cfg, &d, outF, true, 0, &rb, &e);
  CHECK(rc != NN_OK && strstr(e.msg, "cannot resume") && strstr(e.msg, "task network 2"),
        "message: %s", e.msg);
  rc = run(&two, &d, outF, true, 0, &rb, &e);
  CHECK(rc == NN_OK && rb.epochs_done == 2, "%s", e.msg);

  free(rgb);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "warning: could not remove %s\n", dir);
  return sb_test_status("test_saic_trainer");
}
