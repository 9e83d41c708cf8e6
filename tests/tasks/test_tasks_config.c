/* test_tasks_config.c - classifier training configuration: defaults, a full valid file, and
 * error messages with path:line:col. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb_test.h"
#include "train_classifier.h"

/* Parsing `text` must fail with exactly `want`. */
static void expect_error(const char *text, const char *want) {
  train_classifier_cfg cfg;
  char err[512] = "";
  int rc = train_classifier_cfg_parse("cfg.yaml", text, strlen(text), &cfg, err, sizeof err);
  CHECK(rc != 0 && strcmp(err, want) == 0, "config:\n%s\n  rc %d\n  got  \"%s\"\n  want \"%s\"",
        text, rc, err, want);
}

int main(void) {
  const char *full = "arch: convnet-tiny\n"
                     "epochs: 7\n"
                     "batch_size: 64\n"
                     "seed: 42\n"
                     "optimizer:\n"
                     "  kind: sgd\n"
                     "  lr: 0.2\n"
                     "  momentum: 0.8\n"
                     "  nesterov: false\n"
                     "  weight_decay: 1e-4\n"
                     "schedule:\n"
                     "  kind: step\n"
                     "  warmup_epochs: 0.5\n"
                     "  warmup_start: 0.0\n"
                     "  min_lr: 0.001\n"
                     "  step_epochs: 3\n"
                     "  gamma: 0.5\n"
                     "augment: {crop_pad: 2, flip: no}\n"
                     "label_smoothing: 0.1\n"
                     "checkpoint_every: 2\n"
                     "log_every: 10\n"
                     "eval_batch: 100\n";
  train_classifier_cfg c;
  char err[512] = "";
  CHECK(train_classifier_cfg_parse("full.yaml", full, strlen(full), &c, err, sizeof err) == 0);
  CHECK(strcmp(c.arch, "convnet-tiny") == 0);
  CHECK(c.epochs == 7 && c.batch_size == 64 && c.seed == 42);
  CHECK(c.optim == NN_SGD && c.lr == 0.2f && c.momentum == 0.8f && !c.nesterov);
  CHECK(c.weight_decay == 1e-4f);
  CHECK(c.sched == TRAIN_CLASSIFIER_SCHED_STEP && c.warmup_epochs == 0.5f && c.warmup_start == 0.f);
  CHECK(c.min_lr == 0.001f && c.step_epochs == 3.f && c.gamma == 0.5f);
  CHECK(c.crop_pad == 2 && !c.flip && c.label_smoothing == 0.1f);
  CHECK(c.checkpoint_every == 2 && c.log_every == 10 && c.eval_batch == 100);

  /* A JSON document is YAML flow style and parses too. */
  const char *json = "{\"arch\": \"resnet20-w16\", \"epochs\": 3, \"optimizer\": {\"lr\": 0.05}}";
  CHECK(train_classifier_cfg_parse("c.json", json, strlen(json), &c, err, sizeof err) == 0);
  CHECK(c.epochs == 3 && c.lr == 0.05f && c.batch_size == 128 && c.nesterov);

  /* Defaults for keys not given. */
  CHECK(train_classifier_cfg_parse("min.yaml", "epochs: 2\n", 10, &c, err, sizeof err) == 0);
  CHECK(strcmp(c.arch, "resnet20-w16") == 0 && c.epochs == 2 && c.crop_pad == 4 && c.flip);

  expect_error("epochs: 3\nbatchsize: 4\n", "cfg.yaml:2:1: unknown key \"batchsize\"");
  expect_error("optimizer:\n  lr: 0.1\n  lrr: 2\n", "cfg.yaml:3:3: unknown key \"optimizer.lrr\"");
  expect_error("epochs: three\n", "cfg.yaml:1:9: epochs: expected an integer, got \"three\"");
  expect_error("epochs: 0\n", "cfg.yaml:1:9: epochs: 0 is out of range [1, 100000]");
  expect_error("optimizer:\n  lr: fast\n",
               "cfg.yaml:2:7: optimizer.lr: expected a number, got \"fast\"");
  expect_error("augment:\n  flip: maybe\n",
               "cfg.yaml:2:9: augment.flip: expected true or false, got \"maybe\"");
  expect_error("epochs: 3\nepochs: 4\n", "cfg.yaml:2:1: 'epochs' given twice (first at line 1)");
  expect_error(
      "arch: vgg\n",
      "cfg.yaml:1:7: arch: unknown architecture \"vgg\" (known: resnet20-w16, resnet32-w16, "
      "vgg-s, convnet-tiny)");
  expect_error("optimizer:\n  kind: rmsprop\n",
               "cfg.yaml:2:9: optimizer.kind: expected sgd, adam or adamw, got \"rmsprop\"");
  expect_error("epochs: [1, 2]\n", "cfg.yaml:1:9: epochs: lists are not supported here");
  expect_error("- a\n- b\n", "cfg.yaml:1:1: the configuration must be a mapping");
  expect_error("epochs: 3\nlog_every: 2: 3\n",
               "cfg.yaml:2:13: YAML syntax error: mapping values are not allowed in this context");
  expect_error("epochs: 3\noptimizer: {lr: 0.1\n",
               "cfg.yaml:3:1: YAML syntax error: did not find expected ',' or '}' while "
               "parsing a flow mapping");
  expect_error("", "cfg.yaml: empty configuration");
  expect_error("epochs: 2\nschedule:\n  warmup_epochs: 5\n",
               "cfg.yaml: schedule.warmup_epochs (5) exceeds epochs (2)");
  expect_error("optimizer:\n  kind: adam\n",
               "cfg.yaml: optimizer.nesterov needs kind sgd with momentum > 0");

  /* Loading a missing file names it. */
  char *text = NULL;
  CHECK(train_classifier_cfg_load("/nonexistent/x.yaml", &c, &text, err, sizeof err) != 0);
  CHECK(strstr(err, "/nonexistent/x.yaml: cannot open") == err);
  CHECK(text == NULL);

  return sb_test_status("test_tasks_config");
}
