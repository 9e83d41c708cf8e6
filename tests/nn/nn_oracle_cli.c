/* nn_oracle_cli.c - runs the fixed oracle model for test_nn_oracle.py.
 *
 * usage: nn_oracle_cli OUTDIR
 * Writes OUTDIR/model.ckpt (initial parameters, checkpoint format) and OUTDIR/io.bin: a list of
 * records (u32 name length, name, u32 count, count little-endian float32) holding the input,
 * labels, and for a train-mode then an eval-mode pass: logits, loss, the input gradient, every
 * parameter gradient and the BN running statistics after the pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

enum { N = 4, CIN = 3, H = 16, W = 16, K = 10 };

static FILE *g_io;

static void rec(const char *name, const float *v, size_t n) {
  uint32_t l = (uint32_t)strlen(name), c = (uint32_t)n;
  fwrite(&l, 4, 1, g_io); /* x86-64 is little-endian; the oracle runs here only */
  fwrite(name, 1, l, g_io);
  fwrite(&c, 4, 1, g_io);
  fwrite(v, 4, n, g_io);
}

_Noreturn static void fail(const char *what, const char *msg) {
  fprintf(stderr, "nn_oracle_cli: %s: %s\n", what, msg ? msg : "");
  exit(1);
}

static void pass(nn_net *net, const nn_tensor *x, const int *labels, nn_mode mode,
                 const char *tag) {
  int out = nn_net_last(net);
  nn_tensor g;
  nn_err err = {0};
  nn_tensor_alloc(&g, N, K, 1, 1, NULL);
  nn_net_zero_grad(net);
  double loss = 0;
  if (nn_net_forward(net, x, mode) ||
      nn_softmax_xent(nn_net_output(net, out), labels, &loss, &g, &err) ||
      nn_net_backward(net, 1, &out, &g))
    fail(tag, err.msg[0] ? err.msg : nn_net_error(net));
  char name[160];
  float lf = (float)loss;
  snprintf(name, sizeof name, "%s.logits", tag);
  rec(name, nn_net_output(net, out)->data, N * K);
  snprintf(name, sizeof name, "%s.loss", tag);
  rec(name, &lf, 1);
  snprintf(name, sizeof name, "%s.grad.input", tag);
  rec(name, nn_net_grad(net, 0)->data, nn_tensor_numel(x));
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    snprintf(name, sizeof name, "%s.%s.%s", tag, p->buffer ? "value" : "grad", p->name);
    rec(name, p->buffer ? p->value.data : p->grad.data, nn_tensor_numel(&p->value));
  }
  nn_tensor_free(&g);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: nn_oracle_cli OUTDIR\n");
    return 2;
  }
  nn_err err = {0};
  nn_net *net = nn_net_create(CIN, H, W, 2, &err);
  if (!net)
    fail("create", err.msg);
  /* conv-BN-ReLU-maxpool, a codec-style strided conv + GDN + transposed conv + IGDN with a
   * residual add, then avg-pool and a linear classifier on the flattened features. */
  int x = nn_conv2d(net, 0, "conv1", 8, 3, 1, 1, true);
  x = nn_relu(net, nn_batchnorm(net, x, "bn1", 1e-5f, 0.1f));
  int p = nn_maxpool(net, x, 2, 2, 0);
  int y = nn_conv2d(net, p, "conv2", 8, 5, 2, 2, true);
  y = nn_gdn(net, y, "gdn", false);
  y = nn_deconv2d(net, y, "deconv", 8, 5, 2, 2, 1, true);
  y = nn_gdn(net, y, "igdn", true);
  x = nn_add(net, p, y);
  x = nn_avgpool(net, x, 2, 2, 0);
  nn_linear(net, x, "fc", K, true);
  if (nn_net_error(net))
    fail("build", nn_net_error(net));
  nn_net_init_params(net, 2024);
  nn_rng rng;
  nn_rng_seed(&rng, 99);
  /* move GDN and BN away from their identity-like initial values */
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *pp = nn_net_param(net, i);
    size_t n = nn_tensor_numel(&pp->value);
    const char *dot = strrchr(pp->name, '.');
    for (size_t k = 0; k < n; k++) {
      double u = nn_rng_uniform(&rng);
      if (!strcmp(dot, ".gamma"))
        pp->value.data[k] = (float)(0.05 + 0.4 * u);
      else if (!strcmp(dot, ".beta"))
        pp->value.data[k] = (float)(0.7 + 0.5 * u);
      else if (!strcmp(dot, ".running_var"))
        pp->value.data[k] = (float)(0.5 + u);
      else if (!strcmp(dot, ".running_mean") || !strcmp(dot, ".bias"))
        pp->value.data[k] = (float)(u - 0.5);
      else if (strstr(pp->name, "bn1.weight"))
        pp->value.data[k] = (float)(0.5 + u);
    }
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/model.ckpt", argv[1]);
  nn_kv meta[] = {{"arch", "oracle-v1"}};
  if (nn_ckpt_save(path, net, meta, 1, &err))
    fail("save", err.msg);
  snprintf(path, sizeof path, "%s/io.bin", argv[1]);
  g_io = fopen(path, "wb");
  if (!g_io)
    fail(path, "cannot create");
  nn_tensor in;
  nn_tensor_alloc(&in, N, CIN, H, W, NULL);
  for (size_t i = 0; i < nn_tensor_numel(&in); i++)
    in.data[i] = (float)nn_rng_uniform(&rng);
  int labels[N];
  float lab[N];
  for (int i = 0; i < N; i++)
    lab[i] = (float)(labels[i] = (int)nn_rng_below(&rng, K));
  rec("input", in.data, nn_tensor_numel(&in));
  rec("labels", lab, N);
  nn_net_set_input_grad(net, true);
  pass(net, &in, labels, NN_TRAIN, "train");
  pass(net, &in, labels, NN_EVAL, "eval");
  fclose(g_io);
  nn_tensor_free(&in);
  nn_net_free(net);
  return 0;
}
