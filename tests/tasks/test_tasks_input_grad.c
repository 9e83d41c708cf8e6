/* classifier_input_gradient: the pixel gradient of the summed task loss through the frozen
 * network, checked against central finite differences of the loss computed by a separate path
 * (classifier_predict_normalised's probabilities), on a small random-weight network saved and
 * loaded as a checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classifier.h"
#include "sb_test.h"

static const float MEAN[3] = {0.49f, 0.48f, 0.45f}, STD[3] = {0.25f, 0.24f, 0.26f};

/* Sum of CE over the batch from the inference path, in double. */
static double summed_loss(classifier *clf, const float *x01, const int *labels, int n) {
  float *xn = malloc(sizeof(float) * (size_t)n * 3 * 32 * 32);
  float probs[4 * 10];
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      for (int k = 0; k < 1024; k++) {
        size_t o = ((size_t)i * 3 + (size_t)c) * 1024 + (size_t)k;
        xn[o] = (x01[o] - MEAN[c]) / STD[c];
      }
  nn_err e = {0};
  CHECK(classifier_predict_normalised(clf, xn, n, probs, &e) == NN_OK, "%s", e.msg);
  free(xn);
  double s = 0;
  for (int i = 0; i < n; i++)
    s -= log((double)probs[i * 10 + labels[i]]);
  return s;
}

int main(void) {
  char path[] = "/tmp/saicbench_input_grad_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return 1;
  close(fd);
  nn_err e = {0};
  const classifier_arch *arch = classifier_arch_find("convnet-tiny");
  int logits;
  nn_net *net = classifier_build_net(arch, 1, 42, &logits, &e);
  CHECK(net != NULL, "%s", e.msg);
  char mean[64], std[64];
  classifier_format3(MEAN, mean, sizeof mean);
  classifier_format3(STD, std, sizeof std);
  nn_kv meta[] = {{"arch", "convnet-tiny"}, {"norm_mean", mean}, {"norm_std", std}};
  CHECK(nn_ckpt_save(path, net, meta, 3, &e) == NN_OK, "%s", e.msg);
  nn_net_free(net);

  classifier *clf = NULL;
  CHECK(classifier_load(path, 1, &clf, &e) == NN_OK, "%s", e.msg);
  if (!clf)
    return 1;
  enum { N = 3 };
  const int labels[N] = {1, 7, 4};
  float *x = malloc(sizeof(float) * N * 3 * 1024), *g = malloc(sizeof(float) * N * 3 * 1024);
  unsigned s = 12345;
  for (int i = 0; i < N * 3 * 1024; i++) {
    s = s * 1103515245u + 12345u;
    x[i] = (float)((s >> 8) & 0xffff) / 65536.0f;
  }
  double losses[N];
  CHECK(classifier_input_gradient(clf, x, labels, N, g, losses, NULL, &e) == NN_OK, "%s", e.msg);
  double total = losses[0] + losses[1] + losses[2];
  double ref = summed_loss(clf, x, labels, N);
  CHECK(fabs(total - ref) < 1e-4 * fabs(ref), "losses %.8g vs inference path %.8g", total, ref);
  /* Directional derivatives along random directions: the loss change aggregates thousands of
   * pixels, so float32 rounding in the network (about 1e-6 of the loss) does not swamp it. */
  double worst = 0;
  int checked = 0;
  float *v = malloc(sizeof(float) * N * 3 * 1024), *xp = malloc(sizeof(float) * N * 3 * 1024);
  for (int dir = 0; dir < 4; dir++) {
    double gv = 0;
    for (int i = 0; i < N * 3 * 1024; i++) {
      s = s * 1103515245u + 12345u;
      v[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
      gv += (double)g[i] * v[i];
    }
    const float h = 1e-4f; /* ReLU kinks make larger steps non-linear */
    for (int i = 0; i < N * 3 * 1024; i++)
      xp[i] = x[i] + h * v[i];
    double up = summed_loss(clf, xp, labels, N);
    for (int i = 0; i < N * 3 * 1024; i++)
      xp[i] = x[i] - h * v[i];
    double dn = summed_loss(clf, xp, labels, N);
    double fdiff = (up - dn) / (2.0 * h);
    double err = fabs(fdiff - gv) / fmax(fabs(fdiff), 1e-6);
    worst = fmax(worst, err);
    checked++;
    CHECK(err < 2e-2, "direction %d: analytic %.6g, finite difference %.6g", dir, gv, fdiff);
  }
  /* Single pixels with the largest gradients, with a larger step. */
  for (int rep = 0; rep < 8; rep++) {
    int best = 0;
    for (int i = 1; i < N * 3 * 1024; i++)
      if (fabsf(g[i]) > fabsf(g[best]) && g[i] == g[i] && i % 8 == rep)
        best = i;
    float keep = x[best];
    x[best] = keep + 1e-2f;
    double up = summed_loss(clf, x, labels, N), hi = x[best];
    x[best] = keep - 1e-2f;
    double dn = summed_loss(clf, x, labels, N), lo = x[best];
    x[best] = keep;
    double fdiff = (up - dn) / (hi - lo);
    double err = fabs(fdiff - g[best]) / fmax(fabs(fdiff), 1e-3);
    worst = fmax(worst, err);
    checked++;
    CHECK(err < 5e-2, "pixel %d: analytic %.6g, finite difference %.6g", best, g[best], fdiff);
  }
  free(v);
  free(xp);
  printf("input gradient: %d checks, worst relative error %.2e\n", checked, worst);
  /* The gradient of a batch does not depend on its companions (sum, not mean). */
  float *g1 = malloc(sizeof(float) * 3 * 1024);
  CHECK(classifier_input_gradient(clf, x + 3 * 1024, labels + 1, 1, g1, NULL, NULL, &e) == NN_OK,
        "%s", e.msg);
  double diff = 0;
  for (int k = 0; k < 3 * 1024; k++)
    diff = fmax(diff, fabs(g1[k] - g[3 * 1024 + k]));
  CHECK(diff < 1e-5, "single-image gradient differs from its batch row by %g", diff);
  int bad = 10;
  CHECK(classifier_input_gradient(clf, x, &bad, 1, g1, NULL, NULL, &e) != NN_OK,
        "label 10 accepted");
  free(g1);
  free(x);
  free(g);
  classifier_free(clf);
  unlink(path);
  return sb_test_status("test_tasks_input_grad");
}
