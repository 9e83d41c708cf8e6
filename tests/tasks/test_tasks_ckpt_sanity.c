/* test_tasks_ckpt_sanity.c - classifier checkpoints that would load but cannot give meaningful
 * scores are refused at load, with a message naming the file and the tensor or metadata entry:
 * a NaN or infinite parameter, an infinite or negative batch-norm running variance, and a
 * normalisation std outside [CLASSIFIER_NORM_STD_MIN, CLASSIFIER_NORM_STD_MAX] (1e-45 used to
 * turn every input into +-inf and store accuracy 0 with agreement 1) or a huge mean. The intact
 * checkpoint loads, and the same checks apply to classifier_apply_ckpt (training resume). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classifier.h"
#include "nn.h"
#include "sb_test.h"

static char path[256];

/* Saves net with the given normalisation metadata; returns the load status and message. */
static int save_and_load(nn_net *net, const char *mean, const char *std, nn_err *err) {
  const nn_kv meta[] = {{"arch", "convnet-tiny"}, {"norm_mean", mean}, {"norm_std", std}};
  nn_err e = {0};
  if (nn_ckpt_save(path, net, meta, 3, &e) != NN_OK) {
    CHECK(0, "save: %s", e.msg);
    return -1;
  }
  classifier *clf = NULL;
  memset(err, 0, sizeof *err);
  const int rc = classifier_load(path, 1, &clf, err);
  CHECK((rc == 0) == (clf != NULL), "load returned %d with classifier %p", rc, (void *)clf);
  classifier_free(clf);
  return rc;
}

/* Refused, with the file and `want` in the message. */
static void refused(nn_net *net, const char *mean, const char *std, const char *want,
                    const char *what) {
  nn_err err;
  const int rc = save_and_load(net, mean, std, &err);
  printf("  %-28s %s\n", what, rc ? err.msg : "loaded");
  CHECK(rc != 0 && strstr(err.msg, path) && strstr(err.msg, want), "%s: %s", what, err.msg);
}

int main(void) {
  char dir[] = "/tmp/saicbench_clf_sanity_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(path, sizeof path, "%s/clf.ckpt", dir);
  nn_err err = {0};
  int logits;
  nn_net *net = classifier_build_net(classifier_arch_find("convnet-tiny"), 1, 7, &logits, &err);
  if (!net) {
    fprintf(stderr, "build: %s\n", err.msg);
    return 1;
  }
  const char *mean = "0.49,0.48,0.45", *std = "0.25,0.24,0.26";
  CHECK(save_and_load(net, mean, std, &err) == 0, "intact checkpoint: %s", err.msg);
  CHECK(save_and_load(net, mean, "1e-6,0.5,1000", &err) == 0, "limits inclusive: %s", err.msg);

  nn_param *w = nn_net_find_param(net, "conv2.weight"),
           *rv = nn_net_find_param(net, "bn1.running_var");
  CHECK(w && rv, "parameters of convnet-tiny");
  if (w && rv) {
    const float keep_w = w->value.data[5], keep_v = rv->value.data[2];
    w->value.data[5] = NAN;
    refused(net, mean, std, "tensor \"conv2.weight\" holds a non-finite value (element 5",
            "NaN weight");
    w->value.data[5] = -INFINITY;
    refused(net, mean, std, "tensor \"conv2.weight\" holds a non-finite value", "-inf weight");
    w->value.data[5] = keep_w;
    rv->value.data[2] = INFINITY;
    refused(net, mean, std, "tensor \"bn1.running_var\" holds a non-finite value", "inf variance");
    rv->value.data[2] = -0.5f;
    refused(net, mean, std, "tensor \"bn1.running_var\" holds a negative variance",
            "negative variance");
    rv->value.data[2] = keep_v;
  }
  refused(net, mean, "1e-45,0.24,0.26", "norm_std: channel 0 is 1.4013e-45", "std 1e-45");
  refused(net, mean, "0.25,0,0.26", "norm_std: channel 1 is 0", "std 0");
  refused(net, mean, "0.25,0.24,-0.26", "norm_std: channel 2 is -0.26", "negative std");
  refused(net, mean, "0.25,0.24,1e30", "norm_std: channel 2", "std 1e30");
  refused(net, "0.5,1e30,0.5", std, "norm_mean: channel 1", "mean 1e30");
  refused(net, mean, "nan,0.24,0.26", "norm_mean / norm_std missing or malformed", "std nan");
  refused(net, "inf,0.5,0.5", std, "norm_mean / norm_std missing or malformed", "mean inf");

  /* classifier_apply_ckpt (also the trainer's resume) refuses a NaN without touching the net. */
  if (w) {
    w->value.data[0] = NAN;
    const nn_kv meta[] = {{"arch", "convnet-tiny"}, {"norm_mean", mean}, {"norm_std", std}};
    CHECK(nn_ckpt_save(path, net, meta, 3, &err) == NN_OK, "%s", err.msg);
    nn_net *other = classifier_build_net(classifier_arch_find("convnet-tiny"), 1, 8, &logits, &err);
    nn_ckpt *ck = NULL;
    CHECK(other && nn_ckpt_read(path, &ck, &err) == NN_OK, "%s", err.msg);
    if (other && ck) {
      nn_param *ow = nn_net_find_param(other, "conv1.weight");
      const float before = ow->value.data[0];
      CHECK(classifier_apply_ckpt(ck, other, "optim.", &err) != NN_OK &&
                strstr(err.msg, "conv2.weight") && strstr(err.msg, "non-finite") &&
                ow->value.data[0] == before,
            "apply: %s", err.msg);
    }
    nn_ckpt_free(ck);
    nn_net_free(other);
  }
  nn_net_free(net);
  remove(path);
  rmdir(dir);
  return sb_test_status("test_tasks_ckpt_sanity");
}
