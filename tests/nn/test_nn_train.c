/* test_nn_train.c - optimisers against hand-computed updates, learning-rate schedules,
 * PRNG/augmentation properties, and determinism of short training runs. */
#include <string.h>
#include <unistd.h>

#include "nn.h"

#include "test_nn_common.h"

/* A network with one 2-element weight (linear 2 -> 1, no bias) whose gradient we set by hand. */
static nn_net *one_param_net(nn_param **w) {
  nn_net *net = nn_net_create(2, 1, 1, 1, NULL);
  REQUIRE_OK(nn_linear(net, 0, "fc", 1, false), net);
  *w = nn_net_find_param(net, "fc.weight");
  return net;
}

static bool near(double a, double b, double tol) { return fabs(a - b) <= tol; }

static void test_sgd(void) {
  nn_param *w;
  nn_net *net = one_param_net(&w);
  nn_optim_cfg cfg = nn_optim_defaults(NN_SGD); /* momentum 0.9 */
  nn_optim *o = nn_optim_create(net, &cfg, NULL);
  w->value.data[0] = 1.f, w->value.data[1] = -2.f;
  w->grad.data[0] = 0.5f, w->grad.data[1] = 0.25f;
  /* step 1: buf = g = (0.5, 0.25); w -= 0.1 * buf -> (0.95, -2.025) */
  nn_optim_step(o, 0.1f);
  CHECK(near(w->value.data[0], 0.95, 1e-6) && near(w->value.data[1], -2.025, 1e-6),
        "sgd step 1: %g %g", w->value.data[0], w->value.data[1]);
  /* step 2: buf = 0.9 * 0.5 + 0.5 = 0.95 -> 0.95 - 0.095 = 0.855; 0.9*0.25+0.25 = 0.475 ->
   * -2.025 - 0.0475 = -2.0725 */
  nn_optim_step(o, 0.1f);
  CHECK(near(w->value.data[0], 0.855, 1e-6) && near(w->value.data[1], -2.0725, 1e-6),
        "sgd step 2: %g %g", w->value.data[0], w->value.data[1]);
  nn_optim_free(o);

  /* Nesterov + weight decay 0.1: d = g + 0.1 w = 0.5 + 0.1 = 0.6 (w = 1); buf = 0.6;
   * update = d + 0.9 buf = 1.14; w = 1 - 0.1 * 1.14 = 0.886 */
  cfg.nesterov = true;
  cfg.weight_decay = 0.1f;
  o = nn_optim_create(net, &cfg, NULL);
  w->value.data[0] = 1.f;
  nn_optim_step(o, 0.1f);
  CHECK(near(w->value.data[0], 0.886, 1e-6), "sgd nesterov+wd: %g", w->value.data[0]);
  nn_optim_free(o);

  /* frozen parameters do not move; group multiplier scales the rate */
  cfg = nn_optim_defaults(NN_SGD);
  cfg.momentum = 0;
  cfg.group_lr_mult[3] = 10.f;
  o = nn_optim_create(net, &cfg, NULL);
  w->value.data[0] = 1.f;
  w->frozen = true;
  nn_optim_step(o, 0.1f);
  CHECK(w->value.data[0] == 1.f, "frozen parameter moved");
  w->frozen = false;
  CHECK(nn_net_set_group(net, "fc.", 3) == 1, "set_group count");
  nn_optim_step(o, 0.01f); /* 1 - 0.01 * 10 * 0.5 = 0.95 */
  CHECK(near(w->value.data[0], 0.95, 1e-6), "group lr multiplier: %g", w->value.data[0]);
  nn_optim_free(o);
  nn_net_free(net);
}

static void test_adam(void) {
  nn_param *w;
  nn_net *net = one_param_net(&w);
  nn_optim_cfg cfg = nn_optim_defaults(NN_ADAM);
  nn_optim *o = nn_optim_create(net, &cfg, NULL);
  w->value.data[0] = 1.f, w->value.data[1] = -2.f;
  w->grad.data[0] = 0.5f, w->grad.data[1] = -0.25f;
  /* step 1: m_hat = g, v_hat = g^2 -> w -= lr * g / (|g| + eps) = lr * sign(g) (eps ~ 2e-8) */
  nn_optim_step(o, 0.1f);
  CHECK(near(w->value.data[0], 0.9, 1e-6) && near(w->value.data[1], -1.9, 1e-6),
        "adam step 1: %g %g", w->value.data[0], w->value.data[1]);
  /* step 2 with gradient 0 for element 0: m = 0.9*0.05 = 0.045, v = 0.999*0.00025 = 2.4975e-4;
   * m_hat = 0.045/0.19 = 0.236842, v_hat = 2.4975e-4/0.001999 = 0.124937;
   * w = 0.9 - 0.1 * 0.236842 / 0.353464 = 0.9 - 0.0670059 = 0.8329941 */
  w->grad.data[0] = 0.f;
  nn_optim_step(o, 0.1f);
  CHECK(near(w->value.data[0], 0.8329941, 2e-6), "adam step 2: %.7f", w->value.data[0]);
  nn_optim_free(o);

  /* AdamW: decoupled decay w *= 1 - lr*wd before the Adam step: 1 * (1 - 0.1*0.5) - 0.1 */
  cfg = nn_optim_defaults(NN_ADAMW);
  cfg.weight_decay = 0.5f;
  o = nn_optim_create(net, &cfg, NULL);
  w->value.data[0] = 1.f;
  w->grad.data[0] = 0.5f;
  nn_optim_step(o, 0.1f);
  CHECK(near(w->value.data[0], 0.85, 1e-6), "adamw step 1: %g", w->value.data[0]);
  nn_optim_free(o);
  /* Adam (L2): g' = 0.5 + 0.5 * 1 = 1 -> still lr * sign on step 1 -> 0.9 */
  cfg.kind = NN_ADAM;
  o = nn_optim_create(net, &cfg, NULL);
  w->value.data[0] = 1.f;
  w->grad.data[0] = -0.25f; /* g' = -0.25 + 0.5 = 0.25 > 0 -> moves down */
  nn_optim_step(o, 0.1f);
  CHECK(near(w->value.data[0], 0.9, 1e-6), "adam L2 step 1: %g", w->value.data[0]);
  nn_optim_free(o);
  nn_err err = {0};
  cfg.beta1 = 1.5f;
  CHECK(nn_optim_create(net, &cfg, &err) == NULL && err.code == NN_E_ARG, "bad beta1 accepted");
  nn_net_free(net);
}

static void test_schedules(void) {
  nn_lr_sched s = {.kind = NN_LR_COSINE,
                   .base_lr = 1.f,
                   .warmup_steps = 10,
                   .warmup_start = 0.1f,
                   .total_steps = 110,
                   .min_lr = 0.f};
  CHECK(near(nn_lr_at(&s, 0), 0.1, 1e-7), "warmup start %g", nn_lr_at(&s, 0));
  CHECK(near(nn_lr_at(&s, 5), 0.55, 1e-6), "warmup mid %g", nn_lr_at(&s, 5));
  CHECK(near(nn_lr_at(&s, 10), 1.0, 1e-7), "cosine start %g", nn_lr_at(&s, 10));
  CHECK(near(nn_lr_at(&s, 60), 0.5, 1e-6), "cosine mid %g", nn_lr_at(&s, 60));
  CHECK(near(nn_lr_at(&s, 110), 0.0, 1e-7) && near(nn_lr_at(&s, 500), 0.0, 1e-7), "cosine end");
  nn_lr_sched st = {.kind = NN_LR_STEP, .base_lr = 0.1f, .step_size = 30, .gamma = 0.1f};
  CHECK(near(nn_lr_at(&st, 29), 0.1, 1e-8) && near(nn_lr_at(&st, 30), 0.01, 1e-8) &&
            near(nn_lr_at(&st, 65), 0.001, 1e-9),
        "step schedule %g %g %g", nn_lr_at(&st, 29), nn_lr_at(&st, 30), nn_lr_at(&st, 65));
  nn_lr_sched c = {.kind = NN_LR_CONST, .base_lr = 0.3f};
  CHECK(nn_lr_at(&c, 12345) == 0.3f, "const schedule");
}

static void test_rng_augment(void) {
  nn_rng a, b;
  nn_rng_seed(&a, 42);
  nn_rng_seed(&b, 42);
  bool same = true;
  for (int i = 0; i < 100; i++)
    same &= nn_rng_next(&a) == nn_rng_next(&b);
  CHECK(same, "rng not reproducible");
  /* pinned value: guards against silent changes to the generator (invalidates old runs) */
  nn_rng_seed(&a, 0);
  uint64_t v = nn_rng_next(&a);
  printf("rng(0) first value: 0x%016llx\n", (unsigned long long)v);
  CHECK(v == 0x99ec5f36cb75f2b4ULL, "rng(0) first value changed: 0x%016llx", (unsigned long long)v);
  int hist[5] = {0};
  for (int i = 0; i < 50000; i++)
    hist[nn_rng_below(&a, 5)]++;
  for (int k = 0; k < 5; k++)
    CHECK(hist[k] > 9500 && hist[k] < 10500, "rng_below bucket %d = %d", k, hist[k]);
  double s = 0, s2 = 0;
  for (int i = 0; i < 20000; i++) {
    double z = nn_rng_normal(&a);
    s += z, s2 += z * z;
  }
  CHECK(fabs(s / 20000) < 0.03 && fabs(s2 / 20000 - 1) < 0.05, "normal moments %g %g", s / 20000,
        s2 / 20000);

  nn_tensor in, out;
  nn_tensor_alloc(&in, 64, 3, 8, 8, NULL);
  nn_tensor_alloc(&out, 64, 3, 8, 8, NULL);
  for (size_t i = 0; i < nn_tensor_numel(&in); i++)
    in.data[i] = (float)(i % 997) + 1.f; /* non-zero so padding zeros are recognisable */
  nn_rng_seed(&a, 7);
  nn_augment_crop_flip(&a, &in, &out, 0, false, NULL);
  CHECK(memcmp(in.data, out.data, sizeof(float) * nn_tensor_numel(&in)) == 0,
        "pad 0, no flip is not the identity");
  /* every output sample is a shifted (and maybe mirrored) copy with zero fill */
  nn_augment_crop_flip(&a, &in, &out, 4, true, NULL);
  int flips = 0, bad = 0;
  for (int n = 0; n < 64; n++) {
    bool found = false;
    for (int f = 0; f < 2 && !found; f++)
      for (int oy = -4; oy <= 4 && !found; oy++)
        for (int ox = -4; ox <= 4 && !found; ox++) {
          bool ok = true;
          for (int c = 0; c < 3 && ok; c++)
            for (int i = 0; i < 8 && ok; i++)
              for (int j = 0; j < 8 && ok; j++) {
                int si = i + oy, sj = (f ? 7 - j : j) + ox;
                float e = (si >= 0 && si < 8 && sj >= 0 && sj < 8)
                              ? in.data[((n * 3 + c) * 8 + si) * 8 + sj]
                              : 0.f;
                ok = out.data[((n * 3 + c) * 8 + i) * 8 + j] == e;
              }
          if (ok) {
            found = true;
            flips += f;
          }
        }
    bad += !found;
  }
  CHECK(bad == 0, "augment: %d samples are not shifted/flipped copies", bad);
  CHECK(flips > 16 && flips < 48, "augment: %d of 64 flipped", flips);
  nn_err err = {0};
  CHECK(nn_augment_crop_flip(&a, &in, &in, 4, true, &err) == NN_E_ARG, "aliasing accepted");
  nn_tensor_free(&in);
  nn_tensor_free(&out);
}

/* A short training run: augmentation -> forward -> CE -> backward -> SGD, 3 steps, returns a
 * hash of all parameters and BN buffers. */
static uint64_t train_hash(int threads, uint64_t seed, bool convs, double *loss_out) {
  nn_err err = {0};
  nn_net *net = nn_net_create(3, 16, 16, threads, &err);
  int x = 0;
  if (!convs) { /* only the library's own kernels and the tiny linear sgemm */
    x = nn_relu(net, nn_batchnorm(net, 0, "bn0", 1e-5f, 0.1f));
    x = nn_gdn(net, nn_avgpool(net, x, 2, 2, 0), "gdn0", false);
    x = nn_global_avgpool(net, nn_maxpool(net, x, 2, 2, 0));
    x = nn_linear(net, x, "fc", 10, true);
    goto built;
  }
  x = nn_conv2d(net, 0, "c1", 16, 3, 1, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "bn1", 1e-5f, 0.1f));
  int y = nn_conv2d(net, x, "c2", 16, 3, 1, 1, false);
  y = nn_batchnorm(net, y, "bn2", 1e-5f, 0.1f);
  x = nn_relu(net, nn_add(net, x, y));
  x = nn_maxpool(net, x, 2, 2, 0);
  x = nn_conv2d(net, x, "c3", 32, 3, 2, 1, true);
  x = nn_gdn(net, x, "gdn", false);
  x = nn_global_avgpool(net, x);
  x = nn_linear(net, x, "fc", 10, true);
built:;
  int out = x;
  REQUIRE_OK(out, net);
  REQUIRE_OK(nn_net_init_params(net, seed), net);
  nn_optim_cfg cfg = nn_optim_defaults(NN_SGD);
  cfg.weight_decay = 5e-4f;
  nn_optim *o = nn_optim_create(net, &cfg, &err);
  nn_rng rng;
  nn_rng_seed(&rng, seed ^ 0x1234);
  nn_tensor in, aug, g;
  nn_tensor_alloc(&in, 32, 3, 16, 16, NULL);
  nn_tensor_alloc(&aug, 32, 3, 16, 16, NULL);
  nn_tensor_alloc(&g, 32, 10, 1, 1, NULL);
  int labels[32];
  double loss = 0;
  for (int step = 0; step < 3; step++) {
    fill_uniform(&rng, in.data, nn_tensor_numel(&in), 0, 1);
    for (int i = 0; i < 32; i++)
      labels[i] = (int)nn_rng_below(&rng, 10);
    REQUIRE_OK(nn_augment_crop_flip(&rng, &in, &aug, 4, true, &err), NULL);
    nn_net_zero_grad(net);
    REQUIRE_OK(nn_net_forward(net, &aug, NN_TRAIN), net);
    REQUIRE_OK(nn_softmax_xent(nn_net_output(net, out), labels, &loss, &g, &err), NULL);
    REQUIRE_OK(nn_net_backward(net, 1, &out, &g), net);
    REQUIRE_OK(nn_optim_step(o, 0.05f), net);
  }
  /* FNV-1a over the parameter bits */
  uint64_t h = 1469598103934665603ULL;
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    const unsigned char *b = (const unsigned char *)p->value.data;
    for (size_t k = 0; k < nn_tensor_numel(&p->value) * sizeof(float); k++)
      h = (h ^ b[k]) * 1099511628211ULL;
  }
  *loss_out = loss;
  nn_tensor_free(&in);
  nn_tensor_free(&aug);
  nn_tensor_free(&g);
  nn_optim_free(o);
  nn_net_free(net);
  return h;
}

static void test_determinism(void) {
  double l1, l2, l3, l4;
  uint64_t a = train_hash(2, 11, true, &l1), b = train_hash(2, 11, true, &l2);
  CHECK(a == b && l1 == l2, "2 threads, same seed: results differ (%016llx vs %016llx)",
        (unsigned long long)a, (unsigned long long)b);
  uint64_t c = train_hash(1, 11, true, &l3);
  uint64_t d = train_hash(1, 11, true, &l4);
  CHECK(c == d && l3 == l4, "1 thread, same seed: results differ");
  printf("determinism: 1 vs 2 threads %s (loss %.9g vs %.9g)\n",
         a == c ? "bit-identical" : "differ", l3, l1);
  CHECK(fabs(l1 - l3) <= 1e-4 * fabs(l3), "1 vs 2 threads: losses far apart %g %g", l1, l3);
  uint64_t e = train_hash(2, 12, true, &l2);
  CHECK(e != a, "different seeds give identical runs");
  /* without convolutions (oneDNN's conv kernels split reductions by thread) */
  uint64_t f1 = train_hash(1, 13, false, &l1), f2 = train_hash(2, 13, false, &l2);
  printf("determinism without convs: 1 vs 2 threads %s\n", f1 == f2 ? "bit-identical" : "differ");
  CHECK(f1 == f2 && l1 == l2, "no-conv net: 1 vs 2 threads differ (loss %.9g vs %.9g)", l1, l2);
}

/* A parameter outside any layer (entropy-model style): optimised with its group's rate and
 * checkpointed. */
static void test_free_param(void) {
  nn_param *w;
  nn_net *net = one_param_net(&w);
  int dims[2] = {4, 3};
  int id = nn_net_add_param(net, "entropy.h0", 2, dims, true);
  CHECK(id == 1, "free param index %d", id);
  CHECK(nn_net_add_param(net, "entropy.h0", 2, dims, true) < 0 && nn_net_error(net),
        "duplicate free param accepted");
  nn_net_free(net);
  net = one_param_net(&w);
  id = nn_net_add_param(net, "entropy.h0", 2, dims, true);
  nn_param *p = nn_net_param(net, id);
  CHECK(p && p->value.n == 4 && p->value.c == 3 && p->value.data[0] == 0.f, "free param shape");
  CHECK(nn_net_set_group(net, "entropy.", 1) == 1, "group");
  nn_optim_cfg cfg = nn_optim_defaults(NN_SGD);
  cfg.momentum = 0;
  cfg.group_lr_mult[1] = 10.f;
  nn_optim *o = nn_optim_create(net, &cfg, NULL);
  p->grad.data[0] = 1.f;
  nn_optim_step(o, 0.01f);
  CHECK(near(p->value.data[0], -0.1, 1e-7), "free param update %g", p->value.data[0]);
  char path[] = "/tmp/nn_free_param_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  close(fd);
  nn_kv meta[] = {{"arch", "free"}};
  nn_err err = {0};
  CHECK(nn_ckpt_save(path, net, meta, 1, &err) == NN_OK, "save: %s", err.msg);
  float saved = p->value.data[0];
  p->value.data[0] = 5.f;
  CHECK(nn_ckpt_load(path, net, "free", &err) == NN_OK && p->value.data[0] == saved,
        "free param round trip: %s", err.msg);
  remove(path);
  nn_optim_free(o);
  nn_net_free(net);
}

/* Independent networks used concurrently from an OpenMP parallel loop (the harness's pattern):
 * no shared state, and inside the region each network runs on one thread, so results equal a
 * sequential 1-thread run bit for bit. */
static void test_concurrent_nets(void) {
  enum { NETS = 4 };
  float seq[NETS][10], par[NETS][10];
  for (int pass = 0; pass < 2; pass++) {
#pragma omp parallel for num_threads(2) schedule(static) if (pass == 1)
    for (int k = 0; k < NETS; k++) {
      nn_net *net = nn_net_create(3, 16, 16, pass == 0 ? 1 : 2, NULL);
      int x = nn_conv2d(net, 0, "c1", 16, 3, 1, 1, true);
      x = nn_relu(net, nn_batchnorm(net, x, "bn", 1e-5f, 0.1f));
      x = nn_conv2d(net, x, "c2", 16, 3, 2, 1, true);
      x = nn_linear(net, nn_global_avgpool(net, x), "fc", 10, true);
      nn_net_init_params(net, 100 + (uint64_t)k);
      nn_tensor in;
      nn_tensor_alloc(&in, 8, 3, 16, 16, NULL);
      nn_rng r;
      nn_rng_seed(&r, (uint64_t)k);
      fill_uniform(&r, in.data, nn_tensor_numel(&in), 0, 1);
      nn_net_forward(net, &in, NN_TRAIN);
      memcpy(pass ? par[k] : seq[k], nn_net_output(net, x)->data, sizeof seq[k]);
      nn_tensor_free(&in);
      nn_net_free(net);
    }
  }
  CHECK(memcmp(seq, par, sizeof seq) == 0,
        "networks run concurrently differ from sequential 1-thread runs");
}

int main(void) {
  test_sgd();
  test_adam();
  test_schedules();
  test_rng_augment();
  test_determinism();
  test_concurrent_nets();
  test_free_param();
  return sb_test_status("test_nn_train");
}
