/* test_nn_fast.c - the fast paths (blocked nChw16c activations, fused chains) against the
 * plain path (NCHW everywhere, every node computed by its own kernel), which test_nn_grad
 * checks against the double reference.
 *
 * A network with 16/32-channel ResNet blocks (identity and projection shortcuts), a max-pool,
 * a conv -> ReLU chain with bias, an add without ReLU, a BN not preceded by a convolution, an
 * 8-channel (non-blocked) stretch, global average pooling and a linear layer is built twice
 * with the same parameters; one copy runs with the fast paths in a given combination, the
 * other with none (nn_net_set_fast_paths). For train mode, eval mode with trainable
 * parameters and eval mode frozen (GSW's input gradient), with gradients seeded at the logits
 * and at a blocked intermediate node and one blocked gradient kept, they must agree to
 * max|fast - plain| <= 1e-5 * max(max|plain|, 1e-3) per tensor: every node's output (read after
 * backward, which recomputes nodes a fused chain skipped), the input gradient, the kept gradient,
 * all parameter gradients and the BN running statistics. */
#include <string.h>

#include "nn_internal.h"
#include "test_nn_common.h"

static const double TOL = 1e-5;

enum { B = 4, IC = 3, IH = 16, IW = 16, K = 10 };

typedef struct {
  int out;    /* logits */
  int mid;    /* a blocked ReLU: second seed */
  int kept;   /* a blocked node whose gradient is kept */
  int nnodes; /* nodes */
} shape_ids;

static shape_ids build(nn_net *net) {
  shape_ids s;
  int x = nn_conv2d(net, 0, "stem", 16, 3, 1, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "stem_bn", 1e-5f, 0.1f));
  /* identity block */
  int y = nn_conv2d(net, x, "b1c1", 16, 3, 1, 1, false);
  y = nn_relu(net, nn_batchnorm(net, y, "b1bn1", 1e-5f, 0.1f));
  s.kept = y;
  y = nn_conv2d(net, y, "b1c2", 16, 3, 1, 1, false);
  y = nn_batchnorm(net, y, "b1bn2", 1e-5f, 0.1f);
  x = nn_relu(net, nn_add(net, y, x));
  s.mid = x;
  /* projection block */
  y = nn_conv2d(net, x, "b2c1", 32, 3, 2, 1, false);
  y = nn_relu(net, nn_batchnorm(net, y, "b2bn1", 1e-5f, 0.1f));
  y = nn_conv2d(net, y, "b2c2", 32, 3, 1, 1, false);
  y = nn_batchnorm(net, y, "b2bn2", 1e-5f, 0.1f);
  int sc = nn_conv2d(net, x, "b2sc", 32, 1, 2, 0, true); /* bias folded with the BN in eval */
  sc = nn_batchnorm(net, sc, "b2scbn", 1e-5f, 0.1f);
  x = nn_relu(net, nn_add(net, y, sc));
  x = nn_maxpool(net, x, 2, 2, 0);
  /* conv with bias -> ReLU (no BN), an add without ReLU, a BN after the add (no conv) */
  y = nn_relu(net, nn_conv2d(net, x, "c3", 32, 3, 1, 1, true));
  x = nn_add(net, x, y);
  x = nn_relu(net, nn_batchnorm(net, x, "bn3", 1e-5f, 0.1f));
  /* 8 channels: plain layout between blocked neighbours */
  y = nn_conv2d(net, x, "narrow", 8, 1, 1, 0, false);
  y = nn_relu(net, nn_batchnorm(net, y, "narrow_bn", 1e-5f, 0.1f));
  x = nn_conv2d(net, y, "wide", 32, 3, 1, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "wide_bn", 1e-5f, 0.1f));
  x = nn_global_avgpool(net, x);
  s.out = nn_linear(net, x, "fc", K, true);
  s.nnodes = nn_net_num_nodes(net);
  return s;
}

static nn_net *make(uint64_t seed, shape_ids *ids) {
  nn_err err = {0};
  nn_net *net = nn_net_create(IC, IH, IW, 2, &err);
  if (!net) {
    fprintf(stderr, "FATAL: %s\n", err.msg);
    exit(2);
  }
  *ids = build(net);
  REQUIRE_OK(nn_net_init_params(net, seed), net);
  nn_rng rng;
  nn_rng_seed(&rng, seed + 1);
  for (int i = 0; i < nn_net_num_params(net); i++) { /* BN off its identity */
    nn_param *p = nn_net_param(net, i);
    const char *dot = strrchr(p->name, '.');
    size_t n = nn_tensor_numel(&p->value);
    if (strcmp(dot, ".running_var") == 0)
      fill_uniform(&rng, p->value.data, n, 0.5, 2.0);
    else if (strcmp(dot, ".running_mean") == 0 || strcmp(dot, ".bias") == 0)
      fill_uniform(&rng, p->value.data, n, -0.3, 0.3);
    else if (strstr(p->name, "bn") && strcmp(dot, ".weight") == 0)
      fill_uniform(&rng, p->value.data, n, 0.5, 1.5);
  }
  return net;
}

/* max|f - r| / max|r| (max|r| floored at 1e-3) */
static double rel(const float *f, const float *r, size_t n) {
  double md = 0, mr = 1e-3;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)f[i] - r[i]);
    md = d > md ? d : md;
    mr = fabs(r[i]) > mr ? fabs(r[i]) : mr;
  }
  return md / mr;
}

/* One forward + backward of both nets; compares everything listed in the header. */
static void compare(bool blocked, bool fused, nn_mode mode, bool frozen, const char *label) {
  shape_ids ids, ids2;
  nn_net *fast = make(42, &ids), *plain = make(42, &ids2);
  nn_net_set_fast_paths(fast, blocked, fused);
  nn_net_set_fast_paths(plain, false, false);
  nn_rng rng;
  nn_rng_seed(&rng, 7);
  nn_tensor x, gout, gmid;
  int c, h, w;
  nn_net_node_shape(fast, ids.mid, &c, &h, &w);
  nn_tensor_alloc(&x, B, IC, IH, IW, NULL);
  nn_tensor_alloc(&gout, B, K, 1, 1, NULL);
  nn_tensor_alloc(&gmid, B, c, h, w, NULL);
  fill_uniform(&rng, x.data, nn_tensor_numel(&x), -1, 1);
  fill_uniform(&rng, gout.data, nn_tensor_numel(&gout), -1, 1);
  fill_uniform(&rng, gmid.data, nn_tensor_numel(&gmid), -0.1, 0.1);
  int seeds[2] = {ids.out, ids.mid};
  nn_tensor g[2] = {gout, gmid};
  nn_net *nets[2] = {fast, plain};
  for (int k = 0; k < 2; k++) {
    nn_net_set_frozen(nets[k], frozen);
    nn_net_set_input_grad(nets[k], true);
    REQUIRE_OK(nn_net_keep_grad(nets[k], ids.kept, true), nets[k]);
    nn_net_zero_grad(nets[k]);
    REQUIRE_OK(nn_net_forward(nets[k], &x, mode), nets[k]);
    REQUIRE_OK(nn_net_backward(nets[k], 2, seeds, g), nets[k]);
  }
  /* the fast configuration really took its fast paths (else this test would be vacuous) */
  int nblk = 0, nskip = 0;
  for (int i = 0; i < ids.nnodes; i++) {
    nblk += fast->nodes[i].blk;
    nskip += fast->nodes[i].ex[mode] == -2;
  }
  CHECK(blocked ? nblk >= 20 : nblk == 0, "%s: %d blocked nodes", label, nblk);
  CHECK(fused ? nskip >= (mode == NN_EVAL ? 15 : 8) : nskip == 0, "%s: %d fused-away nodes", label,
        nskip);
  double e, worst = 0;
  const nn_tensor *a = nn_net_grad(fast, 0), *b = nn_net_grad(plain, 0);
  CHECK(a && b, "%s: input gradient missing", label);
  if (a && b) {
    e = rel(a->data, b->data, nn_tensor_numel(b));
    worst = fmax(worst, e);
    CHECK(e <= TOL, "%s: input gradient differs by %.2e", label, e);
  }
  a = nn_net_grad(fast, ids.kept), b = nn_net_grad(plain, ids.kept);
  CHECK(a && b, "%s: kept gradient missing", label);
  if (a && b) {
    e = rel(a->data, b->data, nn_tensor_numel(b));
    worst = fmax(worst, e);
    CHECK(e <= TOL, "%s: kept gradient of node %d differs by %.2e", label, ids.kept, e);
  }
  for (int i = 0; i < nn_net_num_params(fast); i++) {
    nn_param *p = nn_net_param(fast, i), *q = nn_net_param(plain, i);
    size_t n = nn_tensor_numel(&p->value);
    if (p->buffer)
      e = rel(p->value.data, q->value.data, n);
    else if (mode == NN_TRAIN && strcmp(p->name, "b2sc.bias") == 0) {
      /* a conv bias feeding a train-mode BN has a zero gradient up to rounding noise: both
       * paths must give noise, not a comparable value */
      e = 0;
      for (size_t j = 0; j < n; j++)
        e = fmax(e, fmax(fabs(p->grad.data[j]), fabs(q->grad.data[j])) * 1e-2);
    } else if (frozen) {
      e = 0;
      for (size_t j = 0; j < n; j++)
        e = fmax(e, fabs(p->grad.data[j]));
    } else
      e = rel(p->grad.data, q->grad.data, n);
    worst = fmax(worst, e);
    CHECK(e <= TOL, "%s: %s %s differs by %.2e", label, p->name, p->buffer ? "value" : "gradient",
          e);
  }
  for (int i = 0; i < ids.nnodes; i++) {
    a = nn_net_output(fast, i), b = nn_net_output(plain, i);
    CHECK(a && b, "%s: output of node %d missing", label, i);
    if (!a || !b)
      continue;
    e = rel(a->data, b->data, nn_tensor_numel(b));
    worst = fmax(worst, e);
    CHECK(e <= TOL, "%s: output of node %d differs by %.2e", label, i, e);
  }
  printf("%s: %d blocked and %d fused-away nodes, worst relative difference %.2e\n", label, nblk,
         nskip, worst);
  nn_tensor_free(&x), nn_tensor_free(&gout), nn_tensor_free(&gmid);
  nn_net_free(fast);
  nn_net_free(plain);
}

/* Eval forward only (the classifier's and codec's inference): logits of the fused path read
 * before anything else, then a second forward with changed parameters (folded weights are
 * recomputed per forward, not cached). */
static void eval_only(void) {
  shape_ids ids, ids2;
  nn_net *fast = make(9, &ids), *plain = make(9, &ids2);
  nn_net_set_fast_paths(plain, false, false);
  nn_tensor x;
  nn_tensor_alloc(&x, B, IC, IH, IW, NULL);
  nn_rng rng;
  nn_rng_seed(&rng, 3);
  fill_uniform(&rng, x.data, nn_tensor_numel(&x), 0, 1);
  for (int round = 0; round < 2; round++) {
    if (round == 1) /* change a conv weight and a BN's running variance in both */
      for (int k = 0; k < 2; k++) {
        nn_net *n = k ? plain : fast;
        nn_net_find_param(n, "b1c2.weight")->value.data[3] += 0.25f;
        nn_net_find_param(n, "b2scbn.running_var")->value.data[1] *= 3.f;
      }
    REQUIRE_OK(nn_net_forward(fast, &x, NN_EVAL), fast);
    REQUIRE_OK(nn_net_forward(plain, &x, NN_EVAL), plain);
    const nn_tensor *a = nn_net_output(fast, ids.out), *b = nn_net_output(plain, ids.out);
    double e = rel(a->data, b->data, nn_tensor_numel(b));
    CHECK(e <= TOL, "eval only, round %d: logits differ by %.2e", round, e);
    printf("eval only, round %d: logits differ by %.2e\n", round, e);
  }
  nn_tensor_free(&x);
  nn_net_free(fast);
  nn_net_free(plain);
}

/* A codec-like network: strided convolutions, GDN, deconvolutions, inverse GDN. */
static int build_codec_like(nn_net *net) {
  int x = nn_conv2d(net, 0, "a1", 32, 5, 2, 2, true);
  x = nn_gdn(net, x, "g1", false);
  x = nn_conv2d(net, x, "a2", 16, 5, 2, 2, true);
  x = nn_gdn(net, x, "g2", false);
  x = nn_deconv2d(net, x, "s1", 32, 5, 2, 2, 1, true);
  x = nn_gdn(net, x, "ig1", true);
  return nn_deconv2d(net, x, "s2", IC, 5, 2, 2, 1, true);
}

/* A codec-like network on `threads` threads with parameters from `seed`; *out: its output node. */
static nn_net *make_codec_like(int threads, uint64_t seed, int *out) {
  nn_err err = {0};
  nn_net *net = nn_net_create(IC, IH, IW, threads, &err);
  if (!net) {
    fprintf(stderr, "FATAL: %s\n", err.msg);
    exit(2);
  }
  *out = build_codec_like(net);
  REQUIRE_OK(nn_net_init_params(net, seed), net);
  return net;
}

/* nn_net_set_inference_only: every node's eval output has the same bits as on a network
 * planned for training (it runs the same forward primitives), on every fast-path combination
 * and both network kinds; backward is refused until the flag is cleared again. */
static void inference_only(void) {
  for (int kind = 0; kind < 2; kind++)
    for (int p = 0; p < 4; p++) {
      const bool blocked = p & 1, fused = p & 2;
      nn_net *net[2];
      int nnodes = 0, out = 0;
      for (int k = 0; k < 2; k++) {
        if (kind == 0) {
          shape_ids ids;
          net[k] = make(21, &ids);
          out = ids.out;
        } else {
          net[k] = make_codec_like(2, 21, &out);
        }
        nnodes = nn_net_num_nodes(net[k]);
        nn_net_set_fast_paths(net[k], blocked, fused);
      }
      nn_net_set_inference_only(net[1], true);
      nn_tensor x;
      nn_tensor_alloc(&x, B, IC, IH, IW, NULL);
      nn_rng rng;
      nn_rng_seed(&rng, 4);
      fill_uniform(&rng, x.data, nn_tensor_numel(&x), 0, 1);
      for (int k = 0; k < 2; k++)
        REQUIRE_OK(nn_net_forward(net[k], &x, NN_EVAL), net[k]);
      int same = 0;
      for (int i = 0; i < nnodes; i++) {
        const nn_tensor *a = nn_net_output(net[0], i), *b = nn_net_output(net[1], i);
        same += a && b && nn_tensor_numel(a) == nn_tensor_numel(b) &&
                !memcmp(a->data, b->data, sizeof(float) * nn_tensor_numel(a));
      }
      CHECK(same == nnodes, "inference only (%s, blocked %d fused %d): %d of %d nodes the same",
            kind ? "codec-like" : "resnet", blocked, fused, same, nnodes);
      nn_tensor g;
      const nn_tensor *o = nn_net_output(net[1], out);
      nn_tensor_alloc(&g, o->n, o->c, o->h, o->w, NULL);
      fill_uniform(&rng, g.data, nn_tensor_numel(&g), -1, 1);
      CHECK(nn_net_backward(net[1], 1, &out, &g) != NN_OK &&
                strstr(nn_net_error(net[1]), "inference only"),
            "backward of an inference-only net: %s", nn_net_error(net[1]));
      nn_net_set_inference_only(net[1], false);
      REQUIRE_OK(nn_net_forward(net[1], &x, NN_EVAL), net[1]);
      REQUIRE_OK(nn_net_backward(net[1], 1, &out, &g), net[1]);
      printf("inference only (%s, blocked %d fused %d): %d of %d node outputs identical\n",
             kind ? "codec-like" : "resnet", blocked, fused, same, nnodes);
      nn_tensor_free(&g);
      nn_tensor_free(&x);
      nn_net_free(net[0]);
      nn_net_free(net[1]);
    }
}

/* GDN keeps its reparametrised gamma and beta between calls: after the raw parameters change in
 * place (as an optimiser step changes them), the next forward must use the new ones. Network 0
 * runs, has its GDN parameters changed and runs again; network 1 is built with the changed
 * parameters from the start. Every node's output must have the same bits. */
static void gdn_cache(void) {
  nn_net *net[2];
  int out = 0;
  for (int k = 0; k < 2; k++)
    net[k] = make_codec_like(1, 33, &out);
  nn_tensor x;
  nn_tensor_alloc(&x, B, IC, IH, IW, NULL);
  nn_rng rng;
  nn_rng_seed(&rng, 6);
  fill_uniform(&rng, x.data, nn_tensor_numel(&x), 0, 1);
  REQUIRE_OK(nn_net_forward(net[0], &x, NN_EVAL), net[0]);
  const float before = nn_net_output(net[0], out)->data[0];
  int changed = 0;
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(net[k]); i++) {
      nn_param *p = nn_net_param(net[k], i);
      if (p->name[0] != 'g' && p->name[0] != 'i')
        continue; /* only the GDN / IGDN layers (g1, g2, ig1) */
      for (size_t j = 0; j < nn_tensor_numel(&p->value); j++)
        p->value.data[j] = p->value.data[j] * 1.5f + 0.01f;
      changed += k == 0;
    }
  for (int k = 0; k < 2; k++)
    REQUIRE_OK(nn_net_forward(net[k], &x, NN_EVAL), net[k]);
  int same = 0, nnodes = nn_net_num_nodes(net[0]);
  for (int i = 0; i < nnodes; i++) {
    const nn_tensor *a = nn_net_output(net[0], i), *b = nn_net_output(net[1], i);
    same += a && b && !memcmp(a->data, b->data, sizeof(float) * nn_tensor_numel(a));
  }
  CHECK(changed == 6 && same == nnodes && nn_net_output(net[0], out)->data[0] != before,
        "GDN after a parameter change: %d parameters changed, %d of %d nodes the same", changed,
        same, nnodes);
  nn_tensor_free(&x);
  nn_net_free(net[0]);
  nn_net_free(net[1]);
}

/* The same bits for the same thread count (the fast kernels reduce in a fixed order). */
static void repeatable(void) {
  shape_ids ids;
  float out[2][B * K], gx[2][B * IC * IH * IW];
  for (int k = 0; k < 2; k++) {
    nn_net *net = make(5, &ids);
    nn_tensor x, g;
    nn_tensor_alloc(&x, B, IC, IH, IW, NULL);
    nn_tensor_alloc(&g, B, K, 1, 1, NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 11);
    fill_uniform(&rng, x.data, nn_tensor_numel(&x), 0, 1);
    fill_uniform(&rng, g.data, nn_tensor_numel(&g), -1, 1);
    nn_net_set_input_grad(net, true);
    REQUIRE_OK(nn_net_forward(net, &x, NN_TRAIN), net);
    REQUIRE_OK(nn_net_backward(net, 1, &ids.out, &g), net);
    memcpy(out[k], nn_net_output(net, ids.out)->data, sizeof out[k]);
    memcpy(gx[k], nn_net_grad(net, 0)->data, sizeof gx[k]);
    nn_tensor_free(&x), nn_tensor_free(&g);
    nn_net_free(net);
  }
  CHECK(memcmp(out[0], out[1], sizeof out[0]) == 0 && memcmp(gx[0], gx[1], sizeof gx[0]) == 0,
        "two identical runs differ");
}

/* Bits of every node's output (and, when grads, of the input gradient) on two networks. */
static int same_nodes(nn_net *a, nn_net *b, bool grads) {
  int same = 0, nnodes = nn_net_num_nodes(a);
  for (int i = 0; i < nnodes; i++) {
    const nn_tensor *u = nn_net_output(a, i), *v = nn_net_output(b, i);
    same += u && v && nn_tensor_numel(u) == nn_tensor_numel(v) &&
            !memcmp(u->data, v->data, sizeof(float) * nn_tensor_numel(u));
  }
  if (grads) {
    const nn_tensor *u = nn_net_grad(a, 0), *v = nn_net_grad(b, 0);
    if (!u || !v || memcmp(u->data, v->data, sizeof(float) * nn_tensor_numel(u)))
      same = -1;
  }
  return same;
}

/* nn_net_set_const_params: network 0 declares constant parameters (its convolutions keep the
 * reordered and BN-folded weights), network 1 does not; both have the same parameters. Outputs
 * and input gradients must have the same bits on repeated calls; after an optimiser step and a
 * train-mode forward (which move weights and BN statistics from inside nn/) too; a direct write
 * to the weights is not seen until the flag is set again - which shows the kept forms are the
 * ones used - and is seen after. */
static void const_params(void) {
  for (int kind = 0; kind < 2; kind++) {
    nn_net *net[2];
    int out = 0;
    for (int k = 0; k < 2; k++) {
      if (kind == 0) {
        shape_ids ids;
        net[k] = make(31, &ids);
        out = ids.out;
      } else {
        net[k] = make_codec_like(1, 31, &out);
      }
      nn_net_set_input_grad(net[k], true);
    }
    const int nnodes = nn_net_num_nodes(net[0]);
    nn_net_set_const_params(net[0], true);
    nn_tensor x, g;
    nn_tensor_alloc(&x, B, IC, IH, IW, NULL);
    nn_rng rng;
    nn_rng_seed(&rng, 8);
    fill_uniform(&rng, x.data, nn_tensor_numel(&x), 0, 1);
    REQUIRE_OK(nn_net_forward(net[0], &x, NN_EVAL), net[0]);
    const nn_tensor *o = nn_net_output(net[0], out);
    nn_tensor_alloc(&g, o->n, o->c, o->h, o->w, NULL);
    fill_uniform(&rng, g.data, nn_tensor_numel(&g), -1, 1);
    const char *kname = kind ? "codec-like" : "resnet";
    int same[5];
    for (int round = 0; round < 2; round++) { /* round 1 runs on the kept forms */
      for (int k = 0; k < 2; k++) {
        nn_net_zero_grad(net[k]);
        REQUIRE_OK(nn_net_forward(net[k], &x, NN_EVAL), net[k]);
        REQUIRE_OK(nn_net_backward(net[k], 1, &out, &g), net[k]);
      }
      same[round] = same_nodes(net[0], net[1], true);
    }
    /* an optimiser step (from the gradients of the last backward), then a train-mode forward */
    nn_optim_cfg cfg = nn_optim_defaults(NN_SGD);
    for (int k = 0; k < 2; k++) {
      nn_optim *opt = nn_optim_create(net[k], &cfg, NULL);
      REQUIRE_OK(opt ? nn_optim_step(opt, 0.05f) : NN_E_NOMEM, net[k]);
      nn_optim_free(opt);
      REQUIRE_OK(nn_net_forward(net[k], &x, NN_EVAL), net[k]);
    }
    same[2] = same_nodes(net[0], net[1], false);
    for (int k = 0; k < 2; k++) {
      REQUIRE_OK(nn_net_forward(net[k], &x, NN_TRAIN), net[k]);
      REQUIRE_OK(nn_net_forward(net[k], &x, NN_EVAL), net[k]);
    }
    same[3] = same_nodes(net[0], net[1], false);
    /* direct writes: unseen by network 0 until it is told */
    for (int k = 0; k < 2; k++)
      for (int i = 0; i < nn_net_num_params(net[k]); i++) {
        nn_param *p = nn_net_param(net[k], i);
        const char *dot = strrchr(p->name, '.');
        if (dot && strcmp(dot, ".weight") == 0 && p->value.h > 1) /* convolution kernels */
          for (size_t j = 0; j < nn_tensor_numel(&p->value); j++)
            p->value.data[j] = p->value.data[j] * 1.5f + 0.01f;
      }
    for (int k = 0; k < 2; k++)
      REQUIRE_OK(nn_net_forward(net[k], &x, NN_EVAL), net[k]);
    const size_t no = nn_tensor_numel(nn_net_output(net[1], out));
    const bool stale = memcmp(nn_net_output(net[0], out)->data, nn_net_output(net[1], out)->data,
                              sizeof(float) * no) != 0;
    nn_net_set_const_params(net[0], true);
    REQUIRE_OK(nn_net_forward(net[0], &x, NN_EVAL), net[0]);
    same[4] = same_nodes(net[0], net[1], false);
    CHECK(same[0] == nnodes && same[1] == nnodes && same[2] == nnodes && same[3] == nnodes &&
              same[4] == nnodes && stale,
          "const params (%s): nodes the same (of %d) first %d, repeated %d, after a step %d, after "
          "a train forward %d, after a direct write and set_const_params %d (-1: input gradient "
          "differs); direct write unseen before it: %d",
          kname, nnodes, same[0], same[1], same[2], same[3], same[4], stale);
    printf("const params (%s): nodes identical (of %d): %d %d %d %d %d; a direct write unseen "
           "until set_const_params: %d\n",
           kname, nnodes, same[0], same[1], same[2], same[3], same[4], stale);
    nn_tensor_free(&g);
    nn_tensor_free(&x);
    nn_net_free(net[0]);
    nn_net_free(net[1]);
  }
}

int main(void) {
  static const struct {
    bool blocked, fused;
    const char *name;
  } paths[] = {{true, true, "blocked+fused"}, {true, false, "blocked"}, {false, true, "fused"}};
  for (int p = 0; p < 3; p++) {
    char label[96];
    snprintf(label, sizeof label, "%s train", paths[p].name);
    compare(paths[p].blocked, paths[p].fused, NN_TRAIN, false, label);
    snprintf(label, sizeof label, "%s eval", paths[p].name);
    compare(paths[p].blocked, paths[p].fused, NN_EVAL, false, label);
    snprintf(label, sizeof label, "%s eval frozen", paths[p].name);
    compare(paths[p].blocked, paths[p].fused, NN_EVAL, true, label);
  }
  eval_only();
  inference_only();
  gdn_cache();
  const_params();
  repeatable();
  return sb_test_status("test_nn_fast");
}
