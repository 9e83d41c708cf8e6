/* test_nn_grad.c - gradient verification for every layer and for whole small networks.
 *
 * Two steps per case:
 *  1. the double-precision reference (nn_ref.c) is checked against central finite differences
 *     in double (h = 1e-6): per element |analytic - numeric| <= 1e-6 * (|a| + |n|) + 1e-8,
 *     for the input and every parameter (all elements of small tensors, a sample of large).
 *     ReLU and max-pool make the loss piecewise smooth: a sample whose forward and backward
 *     one-sided differences disagree sits on a kink and is skipped (at most 1 in 8 may be);
 *  2. the fast float path (oneDNN + float kernels) is compared with the reference: output,
 *     input gradient, parameter gradients and BN running statistics must agree to
 *     max|fast - ref| <= 1e-4 * max|ref| (float accumulation error is ~1e-6 here).
 * The loss is L = sum(r * output) for a fixed random r, so every output element matters.
 * Whole networks: a small ResNet-style classifier (train and eval) and a small codec go
 * through both steps above; a frozen classifier's input gradient (GSW's use) is compared with
 * the reference; a smooth network gets float finite differences end to end
 * (test_float_fd_smooth explains why only a smooth one). */
#include <string.h>

#include "nn_ref.h"
#include "test_nn_common.h"

enum { FD_SAMPLES = 48 };
static const double FD_H = 1e-6, FD_REL = 1e-6, FD_ABS = 1e-8, FAST_REL = 1e-4;

typedef struct {
  nn_refnet *ref;
  int node;        /* output node */
  const double *r; /* projection */
  nn_mode mode;
  const double *x;
} fd_ctx;

static double ref_loss(fd_ctx *c) {
  nn_ref_forward(c->ref, c->x, c->mode);
  double l = 0;
  size_t n = nn_ref_numel(c->ref, c->node);
  for (size_t i = 0; i < n; i++)
    l += c->r[i] * c->ref->out[c->node][i];
  return l;
}

/* Finite-difference check of analytic gradient g for the values in v (length n). */
static void fd_check(fd_ctx *c, double *v, const double *g, size_t n, const char *what,
                     const char *layer, nn_rng *rng) {
  size_t count = n <= FD_SAMPLES ? n : FD_SAMPLES;
  double worst = 0;
  int bad = 0, kinks = 0;
  double l0 = ref_loss(c);
  for (size_t s = 0; s < count; s++) {
    size_t i = n <= FD_SAMPLES ? s : nn_rng_below(rng, (uint32_t)n);
    double keep = v[i];
    v[i] = keep + FD_H;
    double lp = ref_loss(c);
    v[i] = keep - FD_H;
    double lm = ref_loss(c);
    v[i] = keep;
    double fwd = (lp - l0) / FD_H, bwd = (l0 - lm) / FD_H;
    if (fabs(fwd - bwd) > 1e-4 * (fabs(fwd) + fabs(bwd)) + 1e-7) {
      kinks++;
      continue;
    }
    double num = (lp - lm) / (2 * FD_H);
    double err = fabs(num - g[i]);
    double tol = FD_REL * (fabs(num) + fabs(g[i])) + FD_ABS;
    if (err > tol && bad++ < 3)
      fprintf(stderr, "  %s %s[%zu]: analytic %.10g numeric %.10g\n", layer, what, i, g[i], num);
    double rel = err / (fabs(num) + fabs(g[i]) + 1e-12);
    worst = rel > worst ? rel : worst;
  }
  CHECK(bad == 0, "%s: finite differences disagree for %s (%d of %zu, worst rel %.2e)", layer, what,
        bad, count, worst);
  CHECK(kinks * 8 <= (int)count, "%s: %s: %d of %zu samples on kinks", layer, what, kinks, count);
}

/* max|f - r| / max|r| */
static double rel_diff(const float *f, const double *r, size_t n) {
  double md = 0, mr = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)f[i] - r[i]);
    md = d > md ? d : md;
    mr = fabs(r[i]) > mr ? fabs(r[i]) : mr;
  }
  return mr > 0 ? md / mr : md;
}

/* Randomises parameters beyond the default init so BN/GDN are exercised off their identity. */
static void randomise_params(nn_net *net, nn_rng *rng) {
  REQUIRE_OK(nn_net_init_params(net, nn_rng_next(rng)), net);
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    size_t n = nn_tensor_numel(&p->value);
    const char *dot = strrchr(p->name, '.');
    if (strcmp(dot, ".running_var") == 0)
      fill_uniform(rng, p->value.data, n, 0.5, 2.0);
    else if (strcmp(dot, ".running_mean") == 0 || strcmp(dot, ".bias") == 0)
      fill_uniform(rng, p->value.data, n, -0.5, 0.5);
    else if (strstr(p->name, "bn") && strcmp(dot, ".weight") == 0)
      fill_uniform(rng, p->value.data, n, 0.5, 1.5);
    else if (strcmp(dot, ".beta") == 0) /* GDN: stored sqrt-ish; effective ~[0.5, 1.5] */
      fill_uniform(rng, p->value.data, n, 0.7, 1.2);
    else if (strcmp(dot, ".gamma") == 0)
      fill_uniform(rng, p->value.data, n, 0.05, 0.5);
  }
}

/* A random input of `batch` images for net, the reference network, the input in double and a
 * random output seed r (double and float copies): what both gradient checks start from. */
typedef struct {
  nn_tensor x;
  nn_refnet *ref;
  double *xd, *r;
  float *rf;
  size_t nx, ny;
} probe;

static void probe_free(probe *p) {
  free(p->xd), free(p->r), free(p->rf);
  nn_ref_free(p->ref);
  nn_tensor_free(&p->x);
  memset(p, 0, sizeof *p);
}

/* 0 and a CHECK failure naming `label` when something cannot be allocated or built. */
static int probe_init(probe *p, nn_net *net, int batch, nn_rng *rng, const char *label) {
  memset(p, 0, sizeof *p);
  nn_err err = {0};
  int c, h, w;
  nn_net_node_shape(net, 0, &c, &h, &w);
  if (nn_tensor_alloc(&p->x, batch, c, h, w, &err) != NN_OK) {
    CHECK(0, "%s: %s", label, err.msg);
    return 0;
  }
  fill_uniform(rng, p->x.data, nn_tensor_numel(&p->x), -1.0, 1.0);
  if (!(p->ref = nn_ref_create(net, batch, &err))) {
    CHECK(0, "%s: %s", label, err.msg);
    probe_free(p);
    return 0;
  }
  p->nx = nn_tensor_numel(&p->x), p->ny = nn_ref_numel(p->ref, nn_net_last(net));
  p->xd = malloc(p->nx * sizeof *p->xd), p->r = malloc(p->ny * sizeof *p->r);
  p->rf = malloc(p->ny * sizeof *p->rf);
  if (!p->xd || !p->r || !p->rf) {
    CHECK(0, "%s: out of memory", label);
    probe_free(p);
    return 0;
  }
  for (size_t i = 0; i < p->nx; i++)
    p->xd[i] = p->x.data[i];
  for (size_t i = 0; i < p->ny; i++)
    p->rf[i] = (float)(p->r[i] = 2.0 * nn_rng_uniform(rng) - 1.0);
  return 1;
}

/* Runs both checks on net (output = last node) for a batch of `batch`. */
static void check_net(nn_net *net, int batch, nn_mode mode, const char *label, uint64_t seed) {
  nn_rng rng;
  nn_rng_seed(&rng, seed);
  randomise_params(net, &rng);
  int out = nn_net_last(net);
  probe pr;
  if (!probe_init(&pr, net, batch, &rng, label))
    return;
  nn_tensor x = pr.x;
  nn_refnet *ref = pr.ref;
  double *xd = pr.xd, *r = pr.r;
  float *rf = pr.rf;
  const size_t nx = pr.nx, ny = pr.ny;

  /* fast path first (the ref copies parameters at creation, before any running-stat update) */
  nn_net_set_input_grad(net, true);
  const int mid = nn_net_num_nodes(net) / 2; /* an intermediate gradient, kept on request */
  if (mid > 0)
    nn_net_keep_grad(net, mid, true);
  nn_net_zero_grad(net);
  REQUIRE_OK(nn_net_forward(net, &x, mode), net);
  nn_tensor g = nn_tensor_view(rf, batch, 0, 0, 0);
  const nn_tensor *o = nn_net_output(net, out);
  g.c = o->c, g.h = o->h, g.w = o->w;
  REQUIRE_OK(nn_net_backward(net, 1, &out, &g), net);

  REQUIRE_OK(nn_ref_forward(ref, xd, mode), NULL);
  const double *seeds[1] = {r};
  REQUIRE_OK(nn_ref_backward(ref, 1, &out, seeds), NULL);

  double e = rel_diff(o->data, ref->out[out], ny);
  CHECK(e <= FAST_REL, "%s: forward differs from reference by %.2e", label, e);
  const nn_tensor *gx = nn_net_grad(net, 0);
  CHECK(gx != NULL, "%s: no input gradient", label);
  if (gx) {
    e = rel_diff(gx->data, ref->grad[0], nx);
    CHECK(e <= FAST_REL, "%s: input gradient differs from reference by %.2e", label, e);
  }
  if (mid > 0 && mid != out) {
    const nn_tensor *gm = nn_net_grad(net, mid);
    CHECK(gm != NULL, "%s: kept gradient of node %d missing", label, mid);
    if (gm) {
      e = rel_diff(gm->data, ref->grad[mid], nn_ref_numel(ref, mid));
      CHECK(e <= FAST_REL, "%s: node %d gradient differs from reference by %.2e", label, mid, e);
    }
    if (mid + 1 < out)
      CHECK(nn_net_grad(net, mid + 1) == NULL, "%s: unkept gradient readable", label);
  }
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    size_t n = nn_tensor_numel(&p->value);
    if (p->buffer) /* running stats after one train forward (or unchanged in eval) */
      e = rel_diff(p->value.data, ref->pval[i], n);
    else
      e = rel_diff(p->grad.data, ref->pgrad[i], n);
    CHECK(e <= FAST_REL, "%s: %s %s differs from reference by %.2e", label, p->name,
          p->buffer ? "value" : "gradient", e);
  }

  /* finite differences on the reference; keep copies of its analytic gradients */
  fd_ctx fc = {ref, out, r, mode, xd};
  double *ag = malloc(nx * sizeof *ag);
  memcpy(ag, ref->grad[0], nx * sizeof *ag);
  fd_check(&fc, xd, ag, nx, "input", label, &rng);
  free(ag);
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    if (p->buffer)
      continue;
    size_t n = nn_tensor_numel(&p->value);
    double *pg = malloc(n * sizeof *pg);
    memcpy(pg, ref->pgrad[i], n * sizeof *pg);
    fd_check(&fc, ref->pval[i], pg, n, p->name, label, &rng);
    free(pg);
  }
  probe_free(&pr);
}

static nn_net *mk(int c, int h, int w) {
  nn_err err = {0};
  nn_net *net = nn_net_create(c, h, w, 2, &err);
  if (!net) {
    fprintf(stderr, "FATAL: %s\n", err.msg);
    exit(2);
  }
  return net;
}

static void done(nn_net *net, const char *label) {
  CHECK(nn_net_error(net) == NULL, "%s: %s", label, nn_net_error(net));
  nn_net_free(net);
}

#define LAYER_CASE(label, C, H, W, batch, mode, build)                                             \
  do {                                                                                             \
    nn_net *net = mk(C, H, W);                                                                     \
    int x0 = 0;                                                                                    \
    (void)x0;                                                                                      \
    build;                                                                                         \
    if (nn_net_error(net))                                                                         \
      CHECK(0, "%s: build failed: %s", label, nn_net_error(net));                                  \
    else                                                                                           \
      check_net(net, batch, mode, label, seed++);                                                  \
    done(net, label);                                                                              \
  } while (0)

static void test_layers(void) {
  uint64_t seed = 1000;
  LAYER_CASE("conv3x3 s1 p1 bias", 3, 8, 8, 2, NN_TRAIN, nn_conv2d(net, 0, "c", 4, 3, 1, 1, true));
  LAYER_CASE("conv3x3 s2 p1", 4, 9, 7, 2, NN_TRAIN, nn_conv2d(net, 0, "c", 5, 3, 2, 1, false));
  LAYER_CASE("conv5x5 s2 p2 bias", 3, 8, 8, 2, NN_TRAIN, nn_conv2d(net, 0, "c", 4, 5, 2, 2, true));
  LAYER_CASE("conv1x1", 6, 5, 5, 3, NN_TRAIN, nn_conv2d(net, 0, "c", 3, 1, 1, 0, true));
  LAYER_CASE("conv3x3 32ch (blocked)", 32, 6, 6, 2, NN_TRAIN,
             nn_conv2d(net, 0, "c", 32, 3, 1, 1, true));
  LAYER_CASE("deconv5x5 s2 p2 op1 bias", 4, 4, 4, 2, NN_TRAIN,
             nn_deconv2d(net, 0, "d", 3, 5, 2, 2, 1, true));
  LAYER_CASE("deconv3x3 s2 p1 op1", 3, 5, 4, 2, NN_TRAIN,
             nn_deconv2d(net, 0, "d", 4, 3, 2, 1, 1, false));
  LAYER_CASE("deconv4x4 s2 p1", 16, 3, 3, 2, NN_TRAIN,
             nn_deconv2d(net, 0, "d", 16, 4, 2, 1, 0, true));
  /* Fewer than 16 output channels run forward through deconv_gemm.c (sgemm + gather): bands of
   * input rows (15 x 25 x 64 floats per row: 10 rows per band here, so two bands), taps that fall
   * outside the output on both sides (stride 3 > k, pad > k / 2). */
  LAYER_CASE("deconv5x5 s2 p2 op1 15ch, two bands", 1, 11, 64, 1, NN_TRAIN,
             nn_deconv2d(net, 0, "d", 15, 5, 2, 2, 1, true));
  LAYER_CASE("deconv2x2 s3 p0", 3, 4, 5, 2, NN_TRAIN,
             nn_deconv2d(net, 0, "d", 5, 2, 3, 0, 0, true));
  LAYER_CASE("deconv3x3 s1 p2", 3, 6, 5, 2, NN_TRAIN,
             nn_deconv2d(net, 0, "d", 2, 3, 1, 2, 0, false));
  LAYER_CASE("relu", 3, 5, 5, 2, NN_TRAIN, nn_relu(net, 0));
  LAYER_CASE("batchnorm train", 4, 5, 5, 3, NN_TRAIN, nn_batchnorm(net, 0, "bn", 1e-5f, 0.1f));
  LAYER_CASE("batchnorm eval", 4, 5, 5, 3, NN_EVAL, nn_batchnorm(net, 0, "bn", 1e-5f, 0.1f));
  LAYER_CASE("maxpool 2/2", 3, 6, 6, 2, NN_TRAIN, nn_maxpool(net, 0, 2, 2, 0));
  LAYER_CASE("maxpool 3/2 p1", 3, 7, 6, 2, NN_TRAIN, nn_maxpool(net, 0, 3, 2, 1));
  LAYER_CASE("avgpool 2/2", 3, 6, 6, 2, NN_TRAIN, nn_avgpool(net, 0, 2, 2, 0));
  LAYER_CASE("avgpool 3/1 p1", 3, 5, 6, 2, NN_TRAIN, nn_avgpool(net, 0, 3, 1, 1));
  LAYER_CASE("avgpool 3/2 p1", 2, 6, 6, 2, NN_TRAIN, nn_avgpool(net, 0, 3, 2, 1));
  LAYER_CASE("global avgpool", 5, 4, 3, 3, NN_TRAIN, nn_global_avgpool(net, 0));
  LAYER_CASE("linear (flatten)", 3, 2, 2, 4, NN_TRAIN, nn_linear(net, 0, "fc", 5, true));
  LAYER_CASE("linear no bias", 7, 1, 1, 3, NN_TRAIN, nn_linear(net, 0, "fc", 2, false));
  LAYER_CASE("residual add (fan-out)", 3, 5, 5, 2, NN_TRAIN,
             nn_add(net, 0, nn_conv2d(net, 0, "c", 3, 3, 1, 1, true)));
  LAYER_CASE("gdn", 4, 5, 5, 2, NN_TRAIN, nn_gdn(net, 0, "gdn", false));
  LAYER_CASE("igdn", 4, 5, 5, 2, NN_TRAIN, nn_gdn(net, 0, "igdn", true));
  LAYER_CASE("gdn 16ch", 16, 4, 4, 2, NN_TRAIN, nn_gdn(net, 0, "gdn", false));
}

/* The per-channel affine with external scale and shift (nn_chaffine): in a conv -> chaffine
 * -> IGDN -> chaffine chain (4 and 16 channels, the latter after a convolution whose output
 * would be blocked) with random scale and shift, check_net covers the input and parameter
 * gradients flowing through it; then its scale and shift gradients (nn_net_chaffine) are
 * compared with the reference, which is checked against finite differences; a second backward
 * accumulates, nn_net_zero_grad clears, and the setters refuse other nodes. */
static void chaffine_case(int C, uint64_t seed) {
  char label[64];
  snprintf(label, sizeof label, "chaffine %dch", C);
  nn_net *net = mk(3, 5, 6);
  int x = nn_conv2d(net, 0, "c", C, 3, 1, 1, true);
  const int a1 = nn_chaffine(net, x, "film1");
  x = nn_gdn(net, a1, "ig", true);
  const int a2 = nn_chaffine(net, x, "film2");
  if (nn_net_error(net)) {
    CHECK(0, "%s: build failed: %s", label, nn_net_error(net));
    done(net, label);
    return;
  }
  nn_rng rng;
  nn_rng_seed(&rng, seed);
  const int nodes[2] = {a1, a2};
  float *sc = malloc(sizeof(float) * (size_t)C), *sh = malloc(sizeof(float) * (size_t)C);
  for (int k = 0; k < 2; k++) {
    fill_uniform(&rng, sc, (size_t)C, 0.5, 1.5);
    fill_uniform(&rng, sh, (size_t)C, -0.5, 0.5);
    REQUIRE_OK(nn_net_set_chaffine(net, nodes[k], sc, sh), net);
    const float *rs, *rh;
    REQUIRE_OK(nn_net_chaffine(net, nodes[k], &rs, &rh, NULL, NULL), net);
    CHECK(!memcmp(rs, sc, sizeof(float) * (size_t)C) && !memcmp(rh, sh, sizeof(float) * (size_t)C),
          "%s: scale/shift not stored", label);
  }
  free(sc), free(sh);
  check_net(net, 2, NN_TRAIN, label, seed + 1);

  /* scale / shift gradients: fast path against the reference, the reference against FD */
  const int batch = 2, out = nn_net_last(net);
  probe pr;
  if (!probe_init(&pr, net, batch, &rng, label)) {
    done(net, label);
    return;
  }
  nn_tensor xt = pr.x;
  nn_refnet *ref = pr.ref;
  double *xd = pr.xd, *r = pr.r;
  float *rf = pr.rf;
  nn_net_zero_grad(net);
  REQUIRE_OK(nn_net_forward(net, &xt, NN_TRAIN), net);
  nn_tensor g = nn_tensor_view(rf, batch, C, 5, 6);
  REQUIRE_OK(nn_net_backward(net, 1, &out, &g), net);
  REQUIRE_OK(nn_ref_forward(ref, xd, NN_TRAIN), NULL);
  const double *seeds[1] = {r};
  REQUIRE_OK(nn_ref_backward(ref, 1, &out, seeds), NULL);
  fd_ctx fc = {ref, out, r, NN_TRAIN, xd};
  float *d1 = malloc(sizeof(float) * 4 * (size_t)C);
  for (int k = 0; k < 2; k++) {
    const float *ds, *dh;
    REQUIRE_OK(nn_net_chaffine(net, nodes[k], NULL, NULL, &ds, &dh), net);
    double e = rel_diff(ds, ref->agrad[nodes[k]], (size_t)C);
    CHECK(e <= FAST_REL, "%s: node %d scale gradient differs from reference by %.2e", label,
          nodes[k], e);
    e = rel_diff(dh, ref->agrad[nodes[k]] + C, (size_t)C);
    CHECK(e <= FAST_REL, "%s: node %d shift gradient differs from reference by %.2e", label,
          nodes[k], e);
    memcpy(d1 + 2 * k * C, ds, sizeof(float) * (size_t)C);
    memcpy(d1 + (2 * k + 1) * C, dh, sizeof(float) * (size_t)C);
  }
  /* accumulation: a second identical backward doubles the gradients */
  REQUIRE_OK(nn_net_backward(net, 1, &out, &g), net);
  int bad = 0;
  for (int k = 0; k < 2; k++) {
    const float *ds, *dh;
    REQUIRE_OK(nn_net_chaffine(net, nodes[k], NULL, NULL, &ds, &dh), net);
    for (int c = 0; c < C; c++) {
      const float s1 = d1[2 * k * C + c], h1 = d1[(2 * k + 1) * C + c];
      bad += fabsf(ds[c] - 2.f * s1) > 1e-5f * (fabsf(s1) + 1e-3f) ||
             fabsf(dh[c] - 2.f * h1) > 1e-5f * (fabsf(h1) + 1e-3f);
    }
  }
  CHECK(bad == 0, "%s: second backward did not accumulate (%d channels)", label, bad);
  free(d1);
  for (int k = 0; k < 2; k++) {
    double *ag = malloc(sizeof(double) * 2 * (size_t)C);
    memcpy(ag, ref->agrad[nodes[k]], sizeof(double) * 2 * (size_t)C);
    fd_check(&fc, ref->aff[nodes[k]], ag, (size_t)C, k ? "film2.scale" : "film1.scale", label,
             &rng);
    fd_check(&fc, ref->aff[nodes[k]] + C, ag + C, (size_t)C, k ? "film2.shift" : "film1.shift",
             label, &rng);
    free(ag);
  }
  nn_net_zero_grad(net);
  const float *ds, *dh;
  REQUIRE_OK(nn_net_chaffine(net, a1, NULL, NULL, &ds, &dh), net);
  int nz = 0;
  for (int c = 0; c < C; c++)
    nz += ds[c] != 0.f || dh[c] != 0.f;
  CHECK(nz == 0, "%s: nn_net_zero_grad left %d channels", label, nz);
  CHECK(nn_net_set_chaffine(net, 1, NULL, NULL) == NN_E_ARG, "%s: set on a conv accepted", label);
  CHECK(nn_net_chaffine(net, 0, NULL, NULL, NULL, NULL) == NN_E_ARG,
        "%s: read of the input accepted", label);
  CHECK(nn_net_set_chaffine(net, 99, NULL, NULL) == NN_E_ARG, "%s: bad node accepted", label);
  probe_free(&pr);
  nn_net_free(net);
}

static void test_chaffine(void) {
  chaffine_case(4, 4000);
  chaffine_case(16, 4100);
  /* identity by default: a fresh chaffine node passes its input through */
  nn_net *net = mk(2, 3, 3);
  const int a = nn_chaffine(net, 0, NULL);
  nn_err err = {0};
  nn_tensor x;
  REQUIRE_OK(nn_tensor_alloc(&x, 1, 2, 3, 3, &err), NULL);
  for (int i = 0; i < 18; i++)
    x.data[i] = (float)i - 7.5f;
  REQUIRE_OK(nn_net_forward(net, &x, NN_EVAL), net);
  CHECK(!memcmp(nn_net_output(net, a)->data, x.data, sizeof(float) * 18),
        "chaffine: default is not the identity");
  nn_tensor_free(&x);
  done(net, "chaffine identity");
}

/* A small ResNet-style classifier and a small Ballé-style codec, both modes. */
static void build_resnet(nn_net *net) {
  int x = nn_conv2d(net, 0, "stem", 8, 3, 1, 1, false);
  x = nn_batchnorm(net, x, "stem_bn", 1e-5f, 0.1f);
  x = nn_relu(net, x);
  int y = nn_conv2d(net, x, "b1c1", 8, 3, 1, 1, false);
  y = nn_batchnorm(net, y, "b1bn1", 1e-5f, 0.1f);
  y = nn_relu(net, y);
  y = nn_conv2d(net, y, "b1c2", 8, 3, 1, 1, false);
  y = nn_batchnorm(net, y, "b1bn2", 1e-5f, 0.1f);
  x = nn_relu(net, nn_add(net, x, y));
  x = nn_maxpool(net, x, 2, 2, 0);
  x = nn_conv2d(net, x, "down", 12, 3, 2, 1, false);
  x = nn_batchnorm(net, x, "down_bn", 1e-5f, 0.1f);
  x = nn_relu(net, x);
  x = nn_global_avgpool(net, x);
  nn_linear(net, x, "fc", 5, true);
}

/* 16/32 channels: the blocked layout and the fused chains (nn/net.c) are exercised against
 * the reference (identity and projection shortcuts, max-pool and average pooling on blocked
 * activations). */
static void build_resnet16(nn_net *net) {
  int x = nn_conv2d(net, 0, "stem", 16, 3, 1, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "stem_bn", 1e-5f, 0.1f));
  int y = nn_conv2d(net, x, "b1c1", 16, 3, 1, 1, false);
  y = nn_relu(net, nn_batchnorm(net, y, "b1bn1", 1e-5f, 0.1f));
  y = nn_conv2d(net, y, "b1c2", 16, 3, 1, 1, false);
  y = nn_batchnorm(net, y, "b1bn2", 1e-5f, 0.1f);
  x = nn_relu(net, nn_add(net, y, x));
  x = nn_maxpool(net, x, 2, 2, 0);
  y = nn_conv2d(net, x, "b2c1", 32, 3, 2, 1, false);
  y = nn_relu(net, nn_batchnorm(net, y, "b2bn1", 1e-5f, 0.1f));
  int s = nn_conv2d(net, x, "b2sc", 32, 1, 2, 0, false);
  s = nn_batchnorm(net, s, "b2sc_bn", 1e-5f, 0.1f);
  x = nn_relu(net, nn_add(net, y, s));
  x = nn_global_avgpool(net, x);
  nn_linear(net, x, "fc", 5, true);
}

static void build_codec(nn_net *net) {
  int x = nn_conv2d(net, 0, "g_a0", 8, 5, 2, 2, true);
  x = nn_gdn(net, x, "g_a1", false);
  x = nn_conv2d(net, x, "g_a2", 6, 5, 2, 2, true);
  x = nn_deconv2d(net, x, "g_s0", 8, 5, 2, 2, 1, true);
  x = nn_gdn(net, x, "g_s1", true);
  nn_deconv2d(net, x, "g_s2", 3, 5, 2, 2, 1, true);
}

static void test_networks(void) {
  uint64_t seed = 5000;
  LAYER_CASE("resnet-ish train", 3, 12, 12, 3, NN_TRAIN, build_resnet(net));
  LAYER_CASE("resnet-ish eval", 3, 12, 12, 3, NN_EVAL, build_resnet(net));
  LAYER_CASE("codec-ish", 3, 12, 12, 2, NN_TRAIN, build_codec(net));
  LAYER_CASE("resnet-ish 16ch train", 3, 8, 8, 2, NN_TRAIN, build_resnet16(net));
  LAYER_CASE("resnet-ish 16ch eval", 3, 8, 8, 2, NN_EVAL, build_resnet16(net));
}

/* Frozen network: no parameter gradient accumulates, the input gradient is still produced
 * (GSW's use: dCE/dpixels through a frozen classifier in eval mode). */
static void test_frozen_input_grad(void) {
  nn_net *net = mk(3, 12, 12);
  build_resnet(net);
  nn_rng rng;
  nn_rng_seed(&rng, 77);
  randomise_params(net, &rng);
  nn_net_set_frozen(net, true);
  nn_net_set_input_grad(net, true);
  nn_net_zero_grad(net);
  nn_tensor x, g;
  nn_tensor_alloc(&x, 4, 3, 12, 12, NULL);
  nn_tensor_alloc(&g, 4, 5, 1, 1, NULL);
  fill_uniform(&rng, x.data, nn_tensor_numel(&x), 0, 1);
  int labels[4] = {0, 1, 2, 3};
  double loss;
  int out = nn_net_last(net);
  REQUIRE_OK(nn_net_forward(net, &x, NN_EVAL), net);
  REQUIRE_OK(nn_softmax_xent(nn_net_output(net, out), labels, &loss, &g, NULL), NULL);
  REQUIRE_OK(nn_net_backward(net, 1, &out, &g), net);
  const nn_tensor *gx = nn_net_grad(net, 0);
  double s = 0;
  for (size_t i = 0; gx && i < nn_tensor_numel(gx); i++)
    s += fabs(gx->data[i]);
  CHECK(gx && s > 0, "frozen: input gradient missing or zero");
  double gs = 0;
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    for (size_t j = 0; !p->buffer && j < nn_tensor_numel(&p->grad); j++)
      gs += fabs(p->grad.data[j]);
  }
  CHECK(gs == 0, "frozen: parameter gradients accumulated (%g)", gs);

  /* The same input gradient from the double reference (itself checked by finite differences
   * in test_networks), seeded with the same dCE/dlogits. */
  nn_refnet *ref = nn_ref_create(net, 4, NULL);
  size_t nx = nn_tensor_numel(&x), ng = nn_tensor_numel(&g);
  double *xd = malloc(nx * sizeof *xd), *gd = malloc(ng * sizeof *gd);
  for (size_t i = 0; i < nx; i++)
    xd[i] = x.data[i];
  for (size_t i = 0; i < ng; i++)
    gd[i] = g.data[i];
  const double *seeds[1] = {gd};
  REQUIRE_OK(nn_ref_forward(ref, xd, NN_EVAL), NULL);
  REQUIRE_OK(nn_ref_backward(ref, 1, &out, seeds), NULL);
  double e = rel_diff(gx->data, ref->grad[0], nx);
  CHECK(e <= FAST_REL, "frozen: input gradient differs from reference by %.2e", e);
  nn_ref_free(ref);
  free(xd);
  free(gd);
  nn_tensor_free(&x);
  nn_tensor_free(&g);
  nn_net_free(net);
}

/* End to end in float on a smooth network (conv, GDN, transposed conv, avg-pool, linear: no
 * kinks): directional finite differences (L(x + h d) - L(x - h d)) / 2h along random +-1
 * directions, h = 1e-2, loss accumulated in double, must match g.d to 1e-3 relative. With ReLU
 * and max-pool, float rounding (small h) and kinks (large h) leave no h that works, so those
 * networks are checked against the double reference instead. */
static void test_float_fd_smooth(void) {
  nn_net *net = mk(3, 16, 16);
  int x = nn_conv2d(net, 0, "g_a0", 8, 5, 2, 2, true);
  x = nn_gdn(net, x, "g_a1", false);
  x = nn_deconv2d(net, x, "g_s0", 6, 5, 2, 2, 1, true);
  x = nn_gdn(net, x, "g_s1", true);
  x = nn_avgpool(net, x, 2, 2, 0);
  int out = nn_linear(net, x, "fc", 10, true);
  REQUIRE_OK(out, net);
  nn_rng rng;
  nn_rng_seed(&rng, 4242);
  randomise_params(net, &rng);
  nn_tensor in, g;
  nn_tensor_alloc(&in, 2, 3, 16, 16, NULL);
  nn_tensor_alloc(&g, 2, 10, 1, 1, NULL);
  fill_uniform(&rng, in.data, nn_tensor_numel(&in), 0, 1);
  fill_uniform(&rng, g.data, nn_tensor_numel(&g), -1, 1);
  nn_net_set_input_grad(net, true);
  REQUIRE_OK(nn_net_forward(net, &in, NN_TRAIN), net);
  REQUIRE_OK(nn_net_backward(net, 1, &out, &g), net);
  const nn_tensor *gx = nn_net_grad(net, 0);
  size_t nx = nn_tensor_numel(&in), ny = nn_tensor_numel(&g);
  float *x0 = malloc(nx * sizeof *x0), *d = malloc(nx * sizeof *d);
  memcpy(x0, in.data, nx * sizeof *x0);
  for (int t = 0; t < 4; t++) {
    double gd = 0, l[2];
    for (size_t i = 0; i < nx; i++) {
      d[i] = nn_rng_below(&rng, 2) ? 1.f : -1.f;
      gd += (double)gx->data[i] * d[i];
    }
    for (int sgn = 0; sgn < 2; sgn++) {
      for (size_t i = 0; i < nx; i++)
        in.data[i] = x0[i] + (sgn ? -1e-2f : 1e-2f) * d[i];
      REQUIRE_OK(nn_net_forward(net, &in, NN_TRAIN), net);
      const nn_tensor *o = nn_net_output(net, out);
      l[sgn] = 0;
      for (size_t i = 0; i < ny; i++)
        l[sgn] += (double)g.data[i] * o->data[i];
    }
    double num = (l[0] - l[1]) / 2e-2;
    CHECK(fabs(num - gd) <= 1e-3 * fabs(gd) + 1e-6,
          "float fd smooth: direction %d: analytic %.8g numeric %.8g", t, gd, num);
  }
  free(x0);
  free(d);
  nn_tensor_free(&in);
  nn_tensor_free(&g);
  nn_net_free(net);
}

/* Softmax cross-entropy: gradient vs finite differences (double loss from float logits). */
static void test_softmax_xent(void) {
  nn_rng rng;
  nn_rng_seed(&rng, 9);
  nn_tensor z, g;
  nn_tensor_alloc(&z, 3, 7, 1, 1, NULL);
  nn_tensor_alloc(&g, 3, 7, 1, 1, NULL);
  fill_uniform(&rng, z.data, 21, -3, 3);
  int labels[3] = {0, 6, 3};
  double loss, lp, lm;
  REQUIRE_OK(nn_softmax_xent(&z, labels, &loss, &g, NULL), NULL);
  int bad = 0;
  for (int i = 0; i < 21; i++) {
    float keep = z.data[i];
    z.data[i] = keep + 1e-3f;
    double hp = (double)z.data[i] - keep;
    nn_softmax_xent(&z, labels, &lp, NULL, NULL);
    z.data[i] = keep - 1e-3f;
    double hm = keep - (double)z.data[i];
    nn_softmax_xent(&z, labels, &lm, NULL, NULL);
    z.data[i] = keep;
    double num = (lp - lm) / (hp + hm);
    if (fabs(num - g.data[i]) > 1e-4 * (fabs(num) + fabs(g.data[i])) + 1e-7)
      bad++;
  }
  CHECK(bad == 0, "softmax xent: %d gradient elements disagree with finite differences", bad);
  /* value: uniform logits give log(K) */
  for (int i = 0; i < 21; i++)
    z.data[i] = 0.5f;
  nn_softmax_xent(&z, labels, &loss, NULL, NULL);
  CHECK(fabs(loss - log(7.0)) < 1e-12, "softmax xent of uniform logits = %.15g", loss);
  nn_err err = {0};
  int badl[3] = {0, 7, 1};
  CHECK(nn_softmax_xent(&z, badl, &loss, NULL, &err) == NN_E_ARG && strstr(err.msg, "label 7"),
        "softmax xent accepts an out-of-range label");
  nn_tensor_free(&z);
  nn_tensor_free(&g);
}

/* Codec-style use: gradients seeded at two nodes (latent: rate term, output: distortion). */
static void test_two_seeds(void) {
  nn_net *net = mk(3, 12, 12);
  build_codec(net);
  nn_rng rng;
  nn_rng_seed(&rng, 321);
  randomise_params(net, &rng);
  int latent = 3, out = nn_net_last(net); /* g_a2 */
  int c, h, w;
  nn_net_node_shape(net, latent, &c, &h, &w);
  const int B = 2;
  nn_tensor x, gl, go;
  nn_tensor_alloc(&x, B, 3, 12, 12, NULL);
  nn_tensor_alloc(&gl, B, c, h, w, NULL);
  nn_tensor_alloc(&go, B, 3, 12, 12, NULL);
  fill_uniform(&rng, x.data, nn_tensor_numel(&x), 0, 1);
  fill_uniform(&rng, gl.data, nn_tensor_numel(&gl), -1, 1);
  fill_uniform(&rng, go.data, nn_tensor_numel(&go), -1, 1);
  nn_refnet *ref = nn_ref_create(net, B, NULL);
  nn_net_set_input_grad(net, true);
  nn_net_zero_grad(net);
  REQUIRE_OK(nn_net_forward(net, &x, NN_TRAIN), net);
  int seeds[2] = {latent, out};
  nn_tensor g[2] = {gl, go};
  REQUIRE_OK(nn_net_backward(net, 2, seeds, g), net);
  size_t nx = nn_tensor_numel(&x), nl = nn_tensor_numel(&gl), no = nn_tensor_numel(&go);
  double *xd = malloc(nx * sizeof *xd), *gld = malloc(nl * sizeof *gld);
  double *god = malloc(no * sizeof *god);
  for (size_t i = 0; i < nx; i++)
    xd[i] = x.data[i];
  for (size_t i = 0; i < nl; i++)
    gld[i] = gl.data[i];
  for (size_t i = 0; i < no; i++)
    god[i] = go.data[i];
  const double *gd[2] = {gld, god};
  nn_ref_forward(ref, xd, NN_TRAIN);
  nn_ref_backward(ref, 2, seeds, gd);
  double e = rel_diff(nn_net_grad(net, 0)->data, ref->grad[0], nx);
  CHECK(e <= FAST_REL, "two seeds: input gradient differs by %.2e", e);
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    e = rel_diff(p->grad.data, ref->pgrad[i], nn_tensor_numel(&p->value));
    CHECK(e <= FAST_REL, "two seeds: %s gradient differs by %.2e", p->name, e);
  }
  /* a second backward accumulates: parameter gradients double */
  nn_param *w0 = nn_net_find_param(net, "g_a0.weight");
  float before = w0->grad.data[5];
  REQUIRE_OK(nn_net_backward(net, 2, seeds, g), net);
  CHECK(fabsf(w0->grad.data[5] - 2 * before) <= 1e-6f * fabsf(before) + 1e-12f,
        "second backward did not accumulate: %g vs 2 * %g", w0->grad.data[5], before);
  free(xd), free(gld), free(god);
  nn_ref_free(ref);
  nn_tensor_free(&x), nn_tensor_free(&gl), nn_tensor_free(&go);
  nn_net_free(net);
}

/* Changing the batch size re-plans; results per sample do not depend on the batch (eval). */
static void test_replan(void) {
  nn_net *net = mk(3, 12, 12);
  build_resnet(net);
  nn_rng rng;
  nn_rng_seed(&rng, 55);
  randomise_params(net, &rng);
  nn_tensor x4, x2;
  nn_tensor_alloc(&x4, 4, 3, 12, 12, NULL);
  fill_uniform(&rng, x4.data, nn_tensor_numel(&x4), 0, 1);
  x2 = nn_tensor_view(x4.data, 2, 3, 12, 12);
  int out = nn_net_last(net);
  float a[20], b[10], c2[20];
  REQUIRE_OK(nn_net_forward(net, &x4, NN_EVAL), net);
  memcpy(a, nn_net_output(net, out)->data, sizeof a);
  REQUIRE_OK(nn_net_forward(net, &x2, NN_EVAL), net);
  memcpy(b, nn_net_output(net, out)->data, sizeof b);
  REQUIRE_OK(nn_net_forward(net, &x4, NN_EVAL), net);
  memcpy(c2, nn_net_output(net, out)->data, sizeof c2);
  double e = 0;
  for (int i = 0; i < 10; i++)
    e = fmax(e, fabs(a[i] - b[i]) / (fabs(a[i]) + 1e-3));
  CHECK(e < 1e-5, "batch 2 vs batch 4 outputs differ by %.2e", e);
  CHECK(memcmp(a, c2, sizeof a) == 0, "re-planning back to batch 4 changed the output");
  nn_tensor_free(&x4);
  nn_net_free(net);
}

static void test_errors(void) {
  nn_net *net = mk(3, 8, 8);
  int a = nn_conv2d(net, 0, "c", 4, 3, 1, 1, true);
  CHECK(a == 1, "first node id %d", a);
  int b = nn_add(net, 0, a); /* 3 vs 4 channels */
  CHECK(b == NN_E_SHAPE && nn_net_error(net) && strstr(nn_net_error(net), "nn_add"),
        "shape mismatch in add not reported (%d)", b);
  CHECK(nn_relu(net, a) < 0, "builder error is not sticky");
  nn_net_free(net);
  net = mk(3, 8, 8);
  nn_conv2d(net, 0, "c", 4, 3, 1, 1, true);
  nn_tensor x;
  nn_tensor_alloc(&x, 2, 4, 8, 8, NULL);
  CHECK(nn_net_forward(net, &x, NN_TRAIN) == NN_E_SHAPE, "wrong input shape accepted");
  CHECK(nn_net_backward(net, 0, NULL, NULL) == NN_E_STATE, "backward before forward accepted");
  nn_tensor_free(&x);
  CHECK(nn_conv2d(net, 0, "c", 4, 3, 1, 1, true) < 0 && strstr(nn_net_error(net), "duplicate"),
        "duplicate name accepted");
  nn_net_free(net);
}

int main(void) {
  test_layers();
  test_chaffine();
  test_networks();
  test_frozen_input_grad();
  test_float_fd_smooth();
  test_softmax_xent();
  test_two_seeds();
  test_replan();
  test_errors();
  return sb_test_status("test_nn_grad");
}
