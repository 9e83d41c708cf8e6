/* classifier.c - architecture registry, normalisation, checkpoint loading, inference. */
#include "classifier.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- architectures ---- */

/* Basic residual block (He et al. 2016): conv3x3-BN-ReLU-conv3x3-BN + shortcut, ReLU; the
 * shortcut is a 1x1 conv + BN where the shape changes (PyTorch naming "layerS.B.*"). */
static int basic_block(nn_net *net, int x, const char *name, int out_c, int stride) {
  char n[64];
  int c = 0, h, w;
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

/* CIFAR ResNet: stem conv3x3, three stages of `blocks` basic blocks at widths w, 2w, 4w
 * (stride 2 at the start of stages 2 and 3), global average pool, linear. */
static int cifar_resnet(nn_net *net, int num_classes, int width, int blocks) {
  int x = nn_conv2d(net, 0, "conv1", width, 3, 1, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "bn1", 1e-5f, 0.1f));
  char name[32];
  for (int s = 0; s < 3; s++)
    for (int b = 0; b < blocks; b++) {
      snprintf(name, sizeof name, "layer%d.%d", s + 1, b);
      x = basic_block(net, x, name, width << s, (s > 0 && b == 0) ? 2 : 1);
    }
  x = nn_global_avgpool(net, x);
  return nn_linear(net, x, "fc", num_classes, true);
}

static int build_resnet20_w16(nn_net *net, int num_classes) {
  return cifar_resnet(net, num_classes, 16, 3);
}

static int build_resnet32_w16(nn_net *net, int num_classes) {
  return cifar_resnet(net, num_classes, 16, 5);
}

/* A few-thousand-parameter network for tests and smoke runs: two strided conv-BN-ReLU
 * stages (8, 16 channels), global average pool, linear. */
static int build_convnet_tiny(nn_net *net, int num_classes) {
  int x = nn_conv2d(net, 0, "conv1", 8, 3, 2, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "bn1", 1e-5f, 0.1f));
  x = nn_conv2d(net, x, "conv2", 16, 3, 2, 1, false);
  x = nn_relu(net, nn_batchnorm(net, x, "bn2", 1e-5f, 0.1f));
  x = nn_global_avgpool(net, x);
  return nn_linear(net, x, "fc", num_classes, true);
}

/* VGG-style plain network, no shortcuts (the held-out task model: a different family from the
 * ResNet the codecs train against): three stages of two conv3x3-BN-ReLU at 32/64/128 channels,
 * each followed by 2x2 max pooling, then global average pool and linear. */
static int build_vgg_s(nn_net *net, int num_classes) {
  static const int widths[3] = {32, 64, 128};
  char n[32];
  int x = 0;
  for (int s = 0; s < 3; s++) {
    for (int c = 0; c < 2; c++) {
      snprintf(n, sizeof n, "stage%d.conv%d", s + 1, c + 1);
      x = nn_conv2d(net, x, n, widths[s], 3, 1, 1, false);
      snprintf(n, sizeof n, "stage%d.bn%d", s + 1, c + 1);
      x = nn_relu(net, nn_batchnorm(net, x, n, 1e-5f, 0.1f));
    }
    x = nn_maxpool(net, x, 2, 2, 0);
  }
  x = nn_global_avgpool(net, x);
  return nn_linear(net, x, "fc", num_classes, true);
}

static const classifier_arch archs[] = {
    {"resnet20-w16",
     "CIFAR ResNet-20: conv3x3-16, 3x3 basic blocks at 16/32/64 channels, 1x1 projection "
     "shortcuts, BN, ReLU, global average pool, linear",
     3, 32, 32, 10, build_resnet20_w16},
    {"resnet32-w16",
     "CIFAR ResNet-32: conv3x3-16, 3x5 basic blocks at 16/32/64 channels, 1x1 projection "
     "shortcuts, BN, ReLU, global average pool, linear",
     3, 32, 32, 10, build_resnet32_w16},
    {"vgg-s",
     "VGG-style plain network: 2x conv3x3-BN-ReLU + maxpool2 at 32/64/128 channels, global "
     "average pool, linear (held-out task model)",
     3, 32, 32, 10, build_vgg_s},
    {"convnet-tiny", "tests and smoke runs only: conv3x3-8/2, conv3x3-16/2, BN, ReLU, GAP, linear",
     3, 32, 32, 10, build_convnet_tiny},
};

int classifier_num_archs(void) { return (int)(sizeof archs / sizeof archs[0]); }

const classifier_arch *classifier_arch_at(int i) {
  return i >= 0 && i < classifier_num_archs() ? &archs[i] : NULL;
}

const classifier_arch *classifier_arch_find(const char *name) {
  for (int i = 0; name && i < classifier_num_archs(); i++)
    if (strcmp(archs[i].name, name) == 0)
      return &archs[i];
  return NULL;
}

nn_net *classifier_build_net(const classifier_arch *arch, int threads, uint64_t seed, int *logits,
                             nn_err *err) {
  nn_net *net = nn_net_create(arch->in_c, arch->in_h, arch->in_w, threads, err);
  if (!net)
    return NULL;
  int out = arch->build(net, arch->num_classes);
  if (out < 0 || nn_net_error(net) || nn_net_init_params(net, seed) != NN_OK) {
    nn_err_set(err, NN_E_ARG, "building %s: %s", arch->name,
               nn_net_error(net) ? nn_net_error(net) : "failed");
    nn_net_free(net);
    return NULL;
  }
  if (logits)
    *logits = out;
  return net;
}

long classifier_count_params(nn_net *net) {
  long np = 0;
  for (int i = 0; i < nn_net_num_params(net); i++)
    if (!nn_net_param(net, i)->buffer)
      np += (long)nn_tensor_numel(&nn_net_param(net, i)->value);
  return np;
}

/* ---- normalisation ---- */

void classifier_normalise(const uint8_t *rgb, int n, int w, int h, const float mean[3],
                          const float std[3], float *out) {
  const size_t plane = (size_t)w * (size_t)h;
  float scale[3], shift[3];
  for (int c = 0; c < 3; c++) {
    scale[c] = 1.f / (255.f * std[c]);
    shift[c] = -mean[c] / std[c];
  }
  for (int i = 0; i < n; i++) {
    const uint8_t *src = rgb + (size_t)i * plane * 3;
    float *dst = out + (size_t)i * plane * 3;
    for (size_t p = 0; p < plane; p++)
      for (int c = 0; c < 3; c++)
        dst[(size_t)c * plane + p] = (float)src[p * 3 + (size_t)c] * scale[c] + shift[c];
  }
}

void classifier_channel_stats(const uint8_t *rgb, size_t n, int w, int h, float mean[3],
                              float std[3]) {
  const size_t plane = (size_t)w * (size_t)h;
  double s[3] = {0, 0, 0}, s2[3] = {0, 0, 0};
  for (size_t i = 0; i < n; i++) {
    const uint8_t *src = rgb + i * plane * 3;
    uint64_t a[3] = {0, 0, 0}, a2[3] = {0, 0, 0}; /* exact per image */
    for (size_t p = 0; p < plane; p++)
      for (int c = 0; c < 3; c++) {
        uint64_t v = src[p * 3 + (size_t)c];
        a[c] += v;
        a2[c] += v * v;
      }
    for (int c = 0; c < 3; c++) {
      s[c] += (double)a[c];
      s2[c] += (double)a2[c];
    }
  }
  const double cnt = (double)n * (double)plane;
  for (int c = 0; c < 3; c++) {
    double m = cnt > 0 ? s[c] / cnt : 0, v = cnt > 0 ? s2[c] / cnt - m * m : 0;
    mean[c] = (float)(m / 255.0);
    std[c] = v > 0 ? (float)(sqrt(v) / 255.0) : 1.f;
  }
}

void classifier_format3(const float v[3], char *buf, size_t len) {
  snprintf(buf, len, "%.9g,%.9g,%.9g", (double)v[0], (double)v[1], (double)v[2]);
}

int classifier_parse3(const char *s, float v[3]) {
  if (!s)
    return -1;
  for (int i = 0; i < 3; i++) {
    char *end;
    double d = strtod(s, &end);
    if (end == s || !isfinite(d))
      return -1;
    v[i] = (float)d;
    s = end;
    if (i < 2) {
      if (*s != ',')
        return -1;
      s++;
    }
  }
  return *s == '\0' ? 0 : -1;
}

/* ---- checkpoints ---- */

/* nn_ckpt_find_tensor is a binary search, so a file with many tensors costs n log n here. */
static int find_tensor(const nn_ckpt *ck, const char *name) {
  return nn_ckpt_find_tensor(ck, name);
}

/* A parameter or buffer a network can run with: finite, and a batch-norm running variance not
 * negative. A NaN weight used to load and score every image wrong (accuracy 0, agreement 1). */
static int check_values(const char *path, const char *name, const float *data, size_t n,
                        nn_err *err) {
  const size_t len = strlen(name), suffix = strlen(".running_var");
  const bool variance = len > suffix && !strcmp(name + len - suffix, ".running_var");
  for (size_t k = 0; k < n; k++) {
    if (!isfinite(data[k]))
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: tensor \"%s\" holds a non-finite value (element %zu is %g)", path,
                        name, k, (double)data[k]);
    if (variance && data[k] < 0)
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: tensor \"%s\" holds a negative variance (element %zu is %g)", path,
                        name, k, (double)data[k]);
  }
  return NN_OK;
}

int classifier_check_norm(const char *path, const float mean[3], const float std[3], nn_err *err) {
  for (int c = 0; c < 3; c++) {
    /* compared as floats: the limits are what the metadata text "1e-06" etc. parses to */
    if (!(fabsf(mean[c]) <= (float)CLASSIFIER_NORM_MEAN_MAX))
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: metadata norm_mean: channel %d is %g, outside [-%g, %g]", path, c,
                        (double)mean[c], CLASSIFIER_NORM_MEAN_MAX, CLASSIFIER_NORM_MEAN_MAX);
    if (!(std[c] >= (float)CLASSIFIER_NORM_STD_MIN && std[c] <= (float)CLASSIFIER_NORM_STD_MAX))
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: metadata norm_std: channel %d is %g, outside [%g, %g]", path, c,
                        (double)std[c], CLASSIFIER_NORM_STD_MIN, CLASSIFIER_NORM_STD_MAX);
  }
  return NN_OK;
}

int classifier_apply_ckpt(const nn_ckpt *ck, nn_net *net, const char *skip_prefix, nn_err *err) {
  const char *path = nn_ckpt_path(ck);
  const size_t skip_len = skip_prefix ? strlen(skip_prefix) : 0;
  /* No extra tensors. */
  for (int i = 0; i < nn_ckpt_num_tensors(ck); i++) {
    const char *tn;
    int rank, dims[4];
    const float *data;
    nn_ckpt_tensor_at(ck, i, &tn, &rank, dims, &data);
    if (skip_len && strncmp(tn, skip_prefix, skip_len) == 0)
      continue;
    if (!nn_net_find_param(net, tn))
      return nn_err_set(err, NN_E_FORMAT, "%s: unexpected tensor \"%s\" (not in the network)", path,
                        tn);
  }
  /* Every parameter present with its shape. */
  for (int i = 0; i < nn_net_num_params(net); i++) {
    const nn_param *p = nn_net_param(net, i);
    int t = find_tensor(ck, p->name);
    if (t < 0)
      return nn_err_set(err, NN_E_FORMAT, "%s: missing tensor \"%s\"", path, p->name);
    const char *tn;
    int rank, dims[4];
    const float *data;
    nn_ckpt_tensor_at(ck, t, &tn, &rank, dims, &data);
    const int want[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
    bool same = rank == p->ndim;
    for (int d = 0; same && d < 4; d++)
      same = dims[d] == want[d];
    if (!same)
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: tensor \"%s\" has shape %dx%dx%dx%d (rank %d), the network wants "
                        "%dx%dx%dx%d (rank %d)",
                        path, tn, dims[0], dims[1], dims[2], dims[3], rank, want[0], want[1],
                        want[2], want[3], p->ndim);
    int rc = check_values(path, tn, data, nn_tensor_numel(&p->value), err);
    if (rc != NN_OK)
      return rc;
  }
  for (int i = 0; i < nn_net_num_params(net); i++) {
    nn_param *p = nn_net_param(net, i);
    int t = find_tensor(ck, p->name);
    const char *tn;
    int rank, dims[4];
    const float *data;
    nn_ckpt_tensor_at(ck, t, &tn, &rank, dims, &data);
    memcpy(p->value.data, data, sizeof(float) * nn_tensor_numel(&p->value));
  }
  return NN_OK;
}

/* ---- inference ---- */

struct classifier {
  const classifier_arch *arch;
  nn_net *net;
  int logits;
  float mean[3], std[3];
  nn_ckpt *ck; /* kept for its metadata */
  float *xbuf; /* classifier_max_batch normalised images */
  nn_tensor probs;
  int grad_ready; /* frozen, input gradient on */
};

void classifier_free(classifier *clf) {
  if (!clf)
    return;
  nn_net_free(clf->net);
  nn_ckpt_free(clf->ck);
  free(clf->xbuf);
  nn_tensor_free(&clf->probs);
  free(clf);
}

int classifier_load(const char *path, int threads, classifier **out, nn_err *err) {
  *out = NULL;
  classifier *clf = calloc(1, sizeof *clf);
  if (!clf)
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
  int rc = nn_ckpt_read(path, &clf->ck, err);
  if (rc != NN_OK)
    goto fail;
  const char *arch = nn_ckpt_meta(clf->ck, "arch");
  clf->arch = classifier_arch_find(arch);
  if (!clf->arch) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: unknown classifier architecture \"%s\"", path,
                    arch ? arch : "(none)");
    goto fail;
  }
  if (classifier_parse3(nn_ckpt_meta(clf->ck, "norm_mean"), clf->mean) ||
      classifier_parse3(nn_ckpt_meta(clf->ck, "norm_std"), clf->std)) {
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: metadata norm_mean / norm_std missing or malformed (want \"a,b,c\", "
                    "finite numbers)",
                    path);
    goto fail;
  }
  if ((rc = classifier_check_norm(path, clf->mean, clf->std, err)) != NN_OK)
    goto fail;
  clf->net = classifier_build_net(clf->arch, threads, 0, &clf->logits, err);
  if (!clf->net) {
    rc = err ? err->code : NN_E_ARG;
    goto fail;
  }
  /* Trainer checkpoints (last.ckpt) also carry optimiser state under "optim.". */
  if ((rc = classifier_apply_ckpt(clf->ck, clf->net, "optim.", err)) != NN_OK)
    goto fail;
  /* A loaded classifier never changes: its convolutions keep BN-folded, reordered weights. */
  nn_net_set_const_params(clf->net, true);
  const classifier_arch *a = clf->arch;
  clf->xbuf =
      malloc(sizeof(float) * (size_t)classifier_max_batch * (size_t)(a->in_c * a->in_h * a->in_w));
  if (!clf->xbuf) {
    rc = nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
    goto fail;
  }
  *out = clf;
  return NN_OK;
fail:
  classifier_free(clf);
  return rc ? rc : NN_E_ARG;
}

const classifier_arch *classifier_get_arch(const classifier *clf) { return clf->arch; }
int classifier_num_classes(const classifier *clf) { return clf->arch->num_classes; }
const char *classifier_meta(const classifier *clf, const char *key) {
  return nn_ckpt_meta(clf->ck, key);
}

static int predict_chunk(classifier *clf, const float *x, int n, float *probs, nn_err *err) {
  const classifier_arch *a = clf->arch;
  nn_tensor in = nn_tensor_view((float *)x, n, a->in_c, a->in_h, a->in_w);
  if (nn_net_forward(clf->net, &in, NN_EVAL) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "classifier_predict: %s", nn_net_error(clf->net));
  nn_tensor p = nn_tensor_view(probs, n, a->num_classes, 1, 1);
  return nn_softmax(nn_net_output(clf->net, clf->logits), &p, err);
}

int classifier_predict_normalised(classifier *clf, const float *x, int n, float *probs,
                                  nn_err *err) {
  const classifier_arch *a = clf->arch;
  const size_t per = (size_t)(a->in_c * a->in_h * a->in_w);
  if (n < 0 || (n > 0 && (!x || !probs)))
    return nn_err_set(err, NN_E_ARG, "classifier_predict: bad arguments");
  for (int i = 0; i < n; i += classifier_max_batch) {
    int m = n - i < classifier_max_batch ? n - i : classifier_max_batch;
    int rc =
        predict_chunk(clf, x + (size_t)i * per, m, probs + (size_t)i * (size_t)a->num_classes, err);
    if (rc != NN_OK)
      return rc;
  }
  return NN_OK;
}

int classifier_predict(classifier *clf, const uint8_t *rgb_batch, int n, int w, int h, float *probs,
                       nn_err *err) {
  const classifier_arch *a = clf->arch;
  if (w != a->in_w || h != a->in_h)
    return nn_err_set(err, NN_E_SHAPE, "classifier_predict: %s takes %dx%d images, got %dx%d",
                      a->name, a->in_w, a->in_h, w, h);
  if (n < 0 || (n > 0 && (!rgb_batch || !probs)))
    return nn_err_set(err, NN_E_ARG, "classifier_predict: bad arguments");
  const size_t img = (size_t)w * (size_t)h * 3;
  for (int i = 0; i < n; i += classifier_max_batch) {
    int m = n - i < classifier_max_batch ? n - i : classifier_max_batch;
    classifier_normalise(rgb_batch + (size_t)i * img, m, w, h, clf->mean, clf->std, clf->xbuf);
    int rc = predict_chunk(clf, clf->xbuf, m, probs + (size_t)i * (size_t)a->num_classes, err);
    if (rc != NN_OK)
      return rc;
  }
  return NN_OK;
}

int classifier_input_gradient(classifier *clf, const float *x01, const int *labels, int n,
                              float *grad, double *losses, float *probs, nn_err *err) {
  const classifier_arch *a = clf->arch;
  const int K = a->num_classes, hw = a->in_h * a->in_w;
  if (n < 1 || n > classifier_max_batch || !x01 || !labels || !grad)
    return nn_err_set(err, NN_E_ARG, "classifier_input_gradient: bad arguments");
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= K)
      return nn_err_set(err, NN_E_ARG, "classifier_input_gradient: label %d outside 0..%d",
                        labels[i], K - 1);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < a->in_c; c++) {
      const float m = clf->mean[c], inv = 1.0f / clf->std[c];
      const float *src = x01 + ((size_t)i * (size_t)a->in_c + (size_t)c) * (size_t)hw;
      float *dst = clf->xbuf + ((size_t)i * (size_t)a->in_c + (size_t)c) * (size_t)hw;
      for (int k = 0; k < hw; k++)
        dst[k] = (src[k] - m) * inv;
    }
  if (!clf->grad_ready) {
    nn_net_set_frozen(clf->net, true);
    nn_net_set_input_grad(clf->net, true);
    clf->grad_ready = 1;
  }
  nn_tensor in = nn_tensor_view(clf->xbuf, n, a->in_c, a->in_h, a->in_w);
  if (nn_net_forward(clf->net, &in, NN_EVAL) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "classifier_input_gradient: %s", nn_net_error(clf->net));
  const nn_tensor *logits = nn_net_output(clf->net, clf->logits);
  float *glog = malloc(sizeof(float) * (size_t)n * (size_t)K);
  float *p = probs ? probs : malloc(sizeof(float) * (size_t)n * (size_t)K);
  if (!glog || !p) {
    free(glog);
    if (!probs)
      free(p);
    return nn_err_set(err, NN_E_NOMEM, "classifier_input_gradient: out of memory");
  }
  nn_tensor pt = nn_tensor_view(p, n, K, 1, 1);
  int rc = nn_softmax(logits, &pt, err);
  if (rc == NN_OK) {
    /* d(sum CE)/dlogits = softmax - onehot. */
    for (int i = 0; i < n; i++) {
      const float *pi = p + (size_t)i * (size_t)K;
      for (int k = 0; k < K; k++)
        glog[(size_t)i * (size_t)K + (size_t)k] = pi[k] - (k == labels[i] ? 1.0f : 0.0f);
      if (losses)
        losses[i] = -log(fmax((double)pi[labels[i]], 1e-30));
    }
    nn_tensor g = nn_tensor_view(glog, n, K, 1, 1);
    if (nn_net_backward(clf->net, 1, &clf->logits, &g) != NN_OK)
      rc = nn_err_set(err, NN_E_BACKEND, "classifier_input_gradient: %s", nn_net_error(clf->net));
  }
  if (rc == NN_OK) {
    const nn_tensor *gx = nn_net_grad(clf->net, 0);
    for (int i = 0; i < n; i++)
      for (int c = 0; c < a->in_c; c++) {
        const float inv = 1.0f / clf->std[c];
        const float *src = gx->data + ((size_t)i * (size_t)a->in_c + (size_t)c) * (size_t)hw;
        float *dst = grad + ((size_t)i * (size_t)a->in_c + (size_t)c) * (size_t)hw;
        for (int k = 0; k < hw; k++)
          dst[k] = src[k] * inv;
      }
  }
  free(glog);
  if (!probs)
    free(p);
  return rc;
}
