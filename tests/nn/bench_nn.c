/* bench_nn.c - throughput of a ResNet-20-style CIFAR classifier (16/32/64 channels, 3x3 blocks,
 * 1x1 projection shortcuts, ~0.27 M parameters): training step (forward + CE + backward + SGD),
 * inference, and input gradient through the frozen network (GSW's use).
 * Usage: bench_nn [threads=2] [batch=128] [iters=5]. Not a test; keep runs short. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "nn.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int block(nn_net *net, int x, const char *name, int out_c, int stride) {
  char n[64];
  int c, h, w;
  nn_net_node_shape(net, x, &c, &h, &w);
  snprintf(n, sizeof n, "%s.conv1", name);
  int y = nn_conv2d(net, x, n, out_c, 3, stride, 1, false);
  snprintf(n, sizeof n, "%s.bn1", name);
  y = nn_relu(net, nn_batchnorm(net, y, n, 1e-5f, 0.1f));
  snprintf(n, sizeof n, "%s.conv2", name);
  y = nn_conv2d(net, y, n, out_c, 3, 1, 1, false);
  snprintf(n, sizeof n, "%s.bn2", name);
  y = nn_batchnorm(net, y, n, 1e-5f, 0.1f);
  int s = x;
  if (stride != 1 || c != out_c) {
    snprintf(n, sizeof n, "%s.shortcut.0", name);
    s = nn_conv2d(net, x, n, out_c, 1, stride, 0, false);
    snprintf(n, sizeof n, "%s.shortcut.1", name);
    s = nn_batchnorm(net, s, n, 1e-5f, 0.1f);
  }
  return nn_relu(net, nn_add(net, y, s));
}

static nn_net *resnet20(int threads) {
  nn_err err = {0};
  nn_net *net = nn_net_create(3, 32, 32, threads, &err);
  if (!net) {
    fprintf(stderr, "%s\n", err.msg);
    exit(1);
  }
  int x = nn_conv2d(net, 0, "conv1", 16, 3, 1, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "bn1", 1e-5f, 0.1f));
  const int widths[3] = {16, 32, 64};
  char name[32];
  for (int s = 0; s < 3; s++)
    for (int b = 0; b < 3; b++) {
      snprintf(name, sizeof name, "layer%d.%d", s + 1, b);
      x = block(net, x, name, widths[s], (s > 0 && b == 0) ? 2 : 1);
    }
  x = nn_global_avgpool(net, x);
  nn_linear(net, x, "fc", 10, true);
  if (nn_net_error(net)) {
    fprintf(stderr, "%s\n", nn_net_error(net));
    exit(1);
  }
  nn_net_init_params(net, 1);
  return net;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 2, batch = argc > 2 ? atoi(argv[2]) : 128;
  int iters = argc > 3 ? atoi(argv[3]) : 5;
  nn_net *net = resnet20(threads);
  long np = 0;
  for (int i = 0; i < nn_net_num_params(net); i++)
    if (!nn_net_param(net, i)->buffer)
      np += (long)nn_tensor_numel(&nn_net_param(net, i)->value);
  nn_tensor x, g;
  nn_tensor_alloc(&x, batch, 3, 32, 32, NULL);
  nn_tensor_alloc(&g, batch, 10, 1, 1, NULL);
  nn_rng rng;
  nn_rng_seed(&rng, 1);
  for (size_t i = 0; i < nn_tensor_numel(&x); i++)
    x.data[i] = (float)nn_rng_uniform(&rng);
  int *labels = malloc(sizeof(int) * (size_t)batch);
  for (int i = 0; i < batch; i++)
    labels[i] = (int)nn_rng_below(&rng, 10);
  nn_optim_cfg cfg = nn_optim_defaults(NN_SGD);
  cfg.weight_decay = 5e-4f;
  nn_optim *opt = nn_optim_create(net, &cfg, NULL);
  const int out = nn_net_last(net);
  double loss;
  printf("resnet20-ish: %ld parameters, batch %d, threads %d, %d iterations\n", np, batch, threads,
         iters);

  /* training step */
  double best = 1e30;
  for (int it = -1; it < iters; it++) {
    double t0 = now();
    nn_net_zero_grad(net);
    if (nn_net_forward(net, &x, NN_TRAIN) ||
        nn_softmax_xent(nn_net_output(net, out), labels, &loss, &g, NULL) ||
        nn_net_backward(net, 1, &out, &g) || nn_optim_step(opt, 0.05f)) {
      fprintf(stderr, "train step failed: %s\n", nn_net_error(net));
      return 1;
    }
    double t = now() - t0;
    if (it >= 0 && t < best)
      best = t;
  }
  printf("train step:     %8.1f img/s (best of %d, %.1f ms/step)\n", batch / best, iters,
         best * 1e3);

  /* inference */
  best = 1e30;
  for (int it = -1; it < iters; it++) {
    double t0 = now();
    nn_net_forward(net, &x, NN_EVAL);
    double t = now() - t0;
    if (it >= 0 && t < best)
      best = t;
  }
  printf("inference:      %8.1f img/s\n", batch / best);

  /* input gradient through the frozen network in eval mode */
  nn_net_set_frozen(net, true);
  nn_net_set_input_grad(net, true);
  best = 1e30;
  for (int it = -1; it < iters; it++) {
    double t0 = now();
    nn_net_forward(net, &x, NN_EVAL);
    nn_softmax_xent(nn_net_output(net, out), labels, &loss, &g, NULL);
    nn_net_backward(net, 1, &out, &g);
    double t = now() - t0;
    if (it >= 0 && t < best)
      best = t;
  }
  printf("input gradient: %8.1f img/s\n", batch / best);
  free(labels);
  nn_tensor_free(&x);
  nn_tensor_free(&g);
  nn_optim_free(opt);
  nn_net_free(net);
  return 0;
}
