/* net.c - network graph: builders, parameters, planning, forward/backward dispatch. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

/* ---- creation ---- */

nn_net *nn_net_create(int in_c, int in_h, int in_w, int threads, nn_err *err) {
  if (in_c <= 0 || in_h <= 0 || in_w <= 0 || threads < 0) {
    nn_err_set(err, NN_E_ARG, "nn_net_create: bad input shape %dx%dx%d or threads %d", in_c, in_h,
               in_w, threads);
    return NULL;
  }
  nn_net *net = calloc(1, sizeof *net);
  if (!net) {
    nn_err_set(err, NN_E_NOMEM, "nn_net_create: out of memory");
    return NULL;
  }
  net->threads = threads ? threads : omp_get_max_threads();
  net->use_blk = net->use_fuse = true;
  net->cap_nodes = 16;
  net->nodes = calloc((size_t)net->cap_nodes, sizeof *net->nodes);
  if (!net->nodes) {
    free(net);
    nn_err_set(err, NN_E_NOMEM, "nn_net_create: out of memory");
    return NULL;
  }
  nn_node *in = &net->nodes[0];
  in->op = NN_OP_INPUT;
  snprintf(in->name, sizeof in->name, "input");
  in->in[0] = in->in[1] = -1;
  in->c = in_c, in->h = in_h, in->w = in_w;
  for (int i = 0; i < NN_MAX_PSLOTS; i++)
    in->p[i] = -1;
  net->nnodes = 1;
  int rc = nn_dnnl_ctx_create(net);
  if (rc != NN_OK) {
    nn_err_set(err, rc, "nn_net_create: %s", net->err.msg);
    free(net->nodes);
    free(net);
    return NULL;
  }
  return net;
}

static void release_plan(nn_net *net) {
  for (int i = 0; i < net->nnodes; i++) {
    nn_node *nd = &net->nodes[i];
    nn_tensor_free(&nd->out);
    nn_tensor_free(&nd->grad);
    nn_tensor_free(&nd->plain);
    nn_tensor_free(&nd->gplain);
    nn_aligned_free(nd->save);
    nn_aligned_free(nd->idx);
    nn_aligned_free(nd->gdn_eff);
    nd->save = NULL;
    nd->idx = NULL;
    nd->gdn_eff = NULL;
    nn_conv_release(nd);
  }
  for (int i = 0; i < net->ngpool; i++)
    nn_aligned_free(net->gpool[i].p);
  free(net->gpool);
  net->gpool = NULL;
  net->ngpool = 0;
  for (int i = 0; i < 4; i++) {
    nn_aligned_free(net->ws[i]);
    net->ws[i] = NULL;
    net->ws_size[i] = 0;
  }
  nn_aligned_free(net->scratch);
  net->scratch = NULL;
  net->scratch_size = 0;
  net->batch = 0;
  net->have_forward = false;
}

void nn_net_free(nn_net *net) {
  if (!net)
    return;
  release_plan(net);
  for (int i = 0; i < net->nparams; i++) {
    nn_tensor_free(&net->params[i].value);
    nn_tensor_free(&net->params[i].grad);
  }
  free(net->params);
  for (int i = 0; i < net->nnodes; i++) {
    free(net->nodes[i].aff);
    free(net->nodes[i].aff_grad);
  }
  free(net->nodes);
  nn_dnnl_ctx_free(net);
  free(net);
}

const char *nn_net_error(const nn_net *net) { return net->err.code ? net->err.msg : NULL; }

int nn_net_threads(const nn_net *net) { return net->threads; }
int nn_net_num_nodes(const nn_net *net) { return net->nnodes; }
int nn_net_last(const nn_net *net) { return net->nnodes - 1; }

int nn_net_node_shape(const nn_net *net, int node, int *c, int *h, int *w) {
  if (node < 0 || node >= net->nnodes)
    return NN_E_ARG;
  *c = net->nodes[node].c, *h = net->nodes[node].h, *w = net->nodes[node].w;
  return NN_OK;
}

/* ---- builders ---- */

/* Builder failure: recorded once and sticky (net->broken), so later builders fail too. */
static int fail(nn_net *net, int code, const char *what, const char *why) {
  if (!net->broken)
    nn_err_set(&net->err, code, "%s (node %d): %s", what, net->nnodes, why);
  net->broken = true;
  return net->err.code;
}

static const char *op_prefix(nn_op op) {
  switch (op) {
  case NN_OP_CONV: return "conv";
  case NN_OP_DECONV: return "deconv";
  case NN_OP_RELU: return "relu";
  case NN_OP_BN: return "bn";
  case NN_OP_MAXPOOL: return "maxpool";
  case NN_OP_AVGPOOL: return "avgpool";
  case NN_OP_GAP: return "gap";
  case NN_OP_LINEAR: return "fc";
  case NN_OP_ADD: return "add";
  case NN_OP_GDN: return "gdn";
  case NN_OP_CHAFFINE: return "chaffine";
  default: return "input";
  }
}

/* Appends a node reading from in0 (and in1 if >= 0); NULL after recording an error. */
static nn_node *add_node(nn_net *net, nn_op op, const char *what, int in0, int in1,
                         const char *name) {
  if (net->broken)
    return NULL;
  if (net->batch) { /* planned networks keep their buffers; adding would invalidate them */
    release_plan(net);
  }
  if (in0 < 0 || in0 >= net->nnodes || (in1 != -1 && (in1 < 0 || in1 >= net->nnodes))) {
    fail(net, NN_E_ARG, what, "input node id out of range");
    return NULL;
  }
  if (name && (strlen(name) == 0 || strlen(name) >= 64)) {
    fail(net, NN_E_ARG, what, "name must have 1..63 characters");
    return NULL;
  }
  if (net->nnodes == net->cap_nodes) {
    nn_node *nn = realloc(net->nodes, (size_t)net->cap_nodes * 2 * sizeof *nn);
    if (!nn) {
      fail(net, NN_E_NOMEM, what, "out of memory");
      return NULL;
    }
    net->nodes = nn;
    net->cap_nodes *= 2;
  }
  nn_node *nd = &net->nodes[net->nnodes];
  memset(nd, 0, sizeof *nd);
  nd->op = op;
  nd->in[0] = in0, nd->in[1] = in1;
  nd->nin = in1 >= 0 ? 2 : 1;
  for (int i = 0; i < NN_MAX_PSLOTS; i++)
    nd->p[i] = -1;
  if (name)
    snprintf(nd->name, sizeof nd->name, "%s", name);
  else
    snprintf(nd->name, sizeof nd->name, "%s%d", op_prefix(op), net->nnodes);
  for (int i = 0; i < net->nnodes; i++)
    if (net->nodes[i].op != NN_OP_INPUT && strcmp(net->nodes[i].name, nd->name) == 0) {
      fail(net, NN_E_ARG, what, "duplicate node name");
      return NULL;
    }
  const nn_node *src = &net->nodes[in0];
  nd->c = src->c, nd->h = src->h, nd->w = src->w;
  return nd;
}

/* ndim: the PyTorch rank of the parameter (checkpoints store that shape). */
static int add_param(nn_net *net, nn_node *nd, int slot, const char *suffix, int ndim, int n, int c,
                     int h, int w, bool buffer, bool no_decay) {
  if (net->nparams == net->cap_params) {
    int cap = net->cap_params ? net->cap_params * 2 : 16;
    nn_param *np = realloc(net->params, (size_t)cap * sizeof *np);
    if (!np)
      return fail(net, NN_E_NOMEM, nd->name, "out of memory");
    net->params = np;
    net->cap_params = cap;
  }
  nn_param *p = &net->params[net->nparams];
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s.%s", nd->name, suffix);
  p->buffer = buffer;
  p->no_decay = no_decay;
  p->ndim = ndim;
  if (nn_tensor_alloc(&p->value, n, c, h, w, NULL) != NN_OK ||
      (!buffer && nn_tensor_alloc(&p->grad, n, c, h, w, NULL) != NN_OK)) {
    nn_tensor_free(&p->value);
    return fail(net, NN_E_NOMEM, nd->name, "out of memory for parameters");
  }
  nd->p[slot] = net->nparams++;
  return NN_OK;
}

static int commit(nn_net *net) { return net->broken ? net->err.code : net->nnodes++; }

int nn_net_add_param(nn_net *net, const char *name, int ndim, const int *dims, bool no_decay) {
  if (net->broken)
    return net->err.code;
  int d[4] = {1, 1, 1, 1};
  bool ok = name && strlen(name) > 0 && strlen(name) < sizeof net->params[0].name && ndim >= 1 &&
            ndim <= 4 && dims;
  for (int i = 0; ok && i < ndim; i++)
    ok = (d[i] = dims[i]) > 0;
  if (!ok)
    return fail(net, NN_E_ARG, "nn_net_add_param",
                "need a name (1..95 chars), rank 1..4, dims > 0");
  if (nn_net_find_param(net, name))
    return fail(net, NN_E_ARG, "nn_net_add_param", "duplicate parameter name");
  /* A parameter outside any node: a throw-away node record carries the name for add_param. */
  nn_node tmp;
  memset(&tmp, 0, sizeof tmp);
  int rc = add_param(net, &tmp, 0, "", ndim, d[0], d[1], d[2], d[3], false, no_decay);
  if (rc != NN_OK)
    return rc;
  nn_param *p = &net->params[tmp.p[0]];
  snprintf(p->name, sizeof p->name, "%s", name);
  return tmp.p[0];
}

int nn_conv2d(nn_net *net, int in, const char *name, int out_c, int k, int stride, int pad,
              bool bias) {
  nn_node *nd = add_node(net, NN_OP_CONV, "nn_conv2d", in, -1, name);
  if (!nd)
    return net->err.code;
  if (out_c <= 0 || k <= 0 || stride <= 0 || pad < 0 || pad >= k)
    return fail(net, NN_E_ARG, "nn_conv2d", "need out_c, k, stride > 0 and 0 <= pad < k");
  int ic = nd->c;
  int oh = (nd->h + 2 * pad - k) / stride + 1, ow = (nd->w + 2 * pad - k) / stride + 1;
  if (nd->h + 2 * pad < k || nd->w + 2 * pad < k)
    return fail(net, NN_E_SHAPE, "nn_conv2d", "kernel larger than padded input");
  nd->c = out_c, nd->h = oh, nd->w = ow;
  nd->k = k, nd->stride = stride, nd->pad = pad, nd->bias = bias;
  if (add_param(net, nd, 0, "weight", 4, out_c, ic, k, k, false, false) ||
      (bias && add_param(net, nd, 1, "bias", 1, out_c, 1, 1, 1, false, true)))
    return net->err.code;
  return commit(net);
}

int nn_deconv2d(nn_net *net, int in, const char *name, int out_c, int k, int stride, int pad,
                int out_pad, bool bias) {
  nn_node *nd = add_node(net, NN_OP_DECONV, "nn_deconv2d", in, -1, name);
  if (!nd)
    return net->err.code;
  if (out_c <= 0 || k <= 0 || stride <= 0 || pad < 0 || pad >= k || out_pad < 0 || out_pad > pad ||
      out_pad >= stride)
    return fail(net, NN_E_ARG, "nn_deconv2d",
                "need out_c, k, stride > 0, 0 <= pad < k, 0 <= out_pad <= pad, out_pad < stride");
  int ic = nd->c;
  nd->c = out_c;
  nd->h = (nd->h - 1) * stride - 2 * pad + k + out_pad;
  nd->w = (nd->w - 1) * stride - 2 * pad + k + out_pad;
  if (nd->h <= 0 || nd->w <= 0)
    return fail(net, NN_E_SHAPE, "nn_deconv2d", "empty output");
  nd->k = k, nd->stride = stride, nd->pad = pad, nd->out_pad = out_pad, nd->bias = bias;
  if (add_param(net, nd, 0, "weight", 4, ic, out_c, k, k, false, false) ||
      (bias && add_param(net, nd, 1, "bias", 1, out_c, 1, 1, 1, false, true)))
    return net->err.code;
  return commit(net);
}

int nn_relu(nn_net *net, int in) {
  nn_node *nd = add_node(net, NN_OP_RELU, "nn_relu", in, -1, NULL);
  return nd ? commit(net) : net->err.code;
}

int nn_batchnorm(nn_net *net, int in, const char *name, float eps, float momentum) {
  nn_node *nd = add_node(net, NN_OP_BN, "nn_batchnorm", in, -1, name);
  if (!nd)
    return net->err.code;
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    return fail(net, NN_E_ARG, "nn_batchnorm", "need eps > 0 and momentum in [0, 1]");
  nd->eps = eps, nd->momentum = momentum;
  int c = nd->c;
  if (add_param(net, nd, 0, "weight", 1, c, 1, 1, 1, false, true) ||
      add_param(net, nd, 1, "bias", 1, c, 1, 1, 1, false, true) ||
      add_param(net, nd, 2, "running_mean", 1, c, 1, 1, 1, true, true) ||
      add_param(net, nd, 3, "running_var", 1, c, 1, 1, 1, true, true))
    return net->err.code;
  return commit(net);
}

static int add_pool(nn_net *net, nn_op op, const char *what, int in, int k, int stride, int pad) {
  nn_node *nd = add_node(net, op, what, in, -1, NULL);
  if (!nd)
    return net->err.code;
  if (k <= 0 || stride <= 0 || pad < 0 || 2 * pad > k)
    return fail(net, NN_E_ARG, what, "need k, stride > 0 and 0 <= pad <= k/2");
  if (nd->h + 2 * pad < k || nd->w + 2 * pad < k)
    return fail(net, NN_E_SHAPE, what, "window larger than padded input");
  nd->h = (nd->h + 2 * pad - k) / stride + 1;
  nd->w = (nd->w + 2 * pad - k) / stride + 1;
  nd->k = k, nd->stride = stride, nd->pad = pad;
  return commit(net);
}

int nn_maxpool(nn_net *net, int in, int k, int stride, int pad) {
  return add_pool(net, NN_OP_MAXPOOL, "nn_maxpool", in, k, stride, pad);
}

int nn_avgpool(nn_net *net, int in, int k, int stride, int pad) {
  return add_pool(net, NN_OP_AVGPOOL, "nn_avgpool", in, k, stride, pad);
}

int nn_global_avgpool(nn_net *net, int in) {
  nn_node *nd = add_node(net, NN_OP_GAP, "nn_global_avgpool", in, -1, NULL);
  if (!nd)
    return net->err.code;
  nd->h = nd->w = 1;
  return commit(net);
}

int nn_linear(nn_net *net, int in, const char *name, int out_features, bool bias) {
  nn_node *nd = add_node(net, NN_OP_LINEAR, "nn_linear", in, -1, name);
  if (!nd)
    return net->err.code;
  if (out_features <= 0)
    return fail(net, NN_E_ARG, "nn_linear", "need out_features > 0");
  int nin = nd->c * nd->h * nd->w;
  nd->c = out_features, nd->h = nd->w = 1, nd->bias = bias;
  if (add_param(net, nd, 0, "weight", 2, out_features, nin, 1, 1, false, false) ||
      (bias && add_param(net, nd, 1, "bias", 1, out_features, 1, 1, 1, false, true)))
    return net->err.code;
  return commit(net);
}

int nn_add(nn_net *net, int a, int b) {
  nn_node *nd = add_node(net, NN_OP_ADD, "nn_add", a, b, NULL);
  if (!nd)
    return net->err.code;
  const nn_node *nb = &net->nodes[b];
  if (nb->c != nd->c || nb->h != nd->h || nb->w != nd->w)
    return fail(net, NN_E_SHAPE, "nn_add", "inputs have different shapes");
  return commit(net);
}

int nn_gdn(nn_net *net, int in, const char *name, bool inverse) {
  nn_node *nd = add_node(net, NN_OP_GDN, "nn_gdn", in, -1, name);
  if (!nd)
    return net->err.code;
  nd->inverse = inverse;
  int c = nd->c;
  if (add_param(net, nd, 0, "beta", 1, c, 1, 1, 1, false, true) ||
      add_param(net, nd, 1, "gamma", 2, c, c, 1, 1, false, true))
    return net->err.code;
  return commit(net);
}

int nn_chaffine(nn_net *net, int in, const char *name) {
  nn_node *nd = add_node(net, NN_OP_CHAFFINE, "nn_chaffine", in, -1, name);
  if (!nd)
    return net->err.code;
  const size_t c = (size_t)nd->c;
  nd->aff = calloc(2 * c, sizeof(float));
  nd->aff_grad = calloc(2 * c, sizeof(float));
  if (!nd->aff || !nd->aff_grad) {
    free(nd->aff), free(nd->aff_grad);
    nd->aff = nd->aff_grad = NULL;
    return fail(net, NN_E_NOMEM, "nn_chaffine", "out of memory");
  }
  for (size_t i = 0; i < c; i++)
    nd->aff[i] = 1.f;
  return commit(net);
}

static nn_node *chaffine_node(nn_net *net, int node, const char *what) {
  if (node <= 0 || node >= net->nnodes || net->nodes[node].op != NN_OP_CHAFFINE) {
    nn_err_set(&net->err, NN_E_ARG, "%s: node %d is not a chaffine node", what, node);
    return NULL;
  }
  return &net->nodes[node];
}

int nn_net_set_chaffine(nn_net *net, int node, const float *scale, const float *shift) {
  nn_node *nd = chaffine_node(net, node, "nn_net_set_chaffine");
  if (!nd)
    return NN_E_ARG;
  if (scale)
    memcpy(nd->aff, scale, sizeof(float) * (size_t)nd->c);
  if (shift)
    memcpy(nd->aff + nd->c, shift, sizeof(float) * (size_t)nd->c);
  return NN_OK;
}

int nn_net_chaffine(nn_net *net, int node, const float **scale, const float **shift,
                    const float **dscale, const float **dshift) {
  nn_node *nd = chaffine_node(net, node, "nn_net_chaffine");
  if (!nd)
    return NN_E_ARG;
  if (scale)
    *scale = nd->aff;
  if (shift)
    *shift = nd->aff + nd->c;
  if (dscale)
    *dscale = nd->aff_grad;
  if (dshift)
    *dshift = nd->aff_grad + nd->c;
  return NN_OK;
}

/* ---- parameters ---- */

int nn_net_num_params(const nn_net *net) { return net->nparams; }

nn_param *nn_net_param(nn_net *net, int i) {
  return (i >= 0 && i < net->nparams) ? &net->params[i] : NULL;
}

nn_param *nn_net_find_param(nn_net *net, const char *name) {
  for (int i = 0; i < net->nparams; i++)
    if (strcmp(net->params[i].name, name) == 0)
      return &net->params[i];
  return NULL;
}

void nn_net_set_frozen(nn_net *net, bool frozen) {
  for (int i = 0; i < net->nparams; i++)
    net->params[i].frozen = frozen;
}

int nn_net_set_group(nn_net *net, const char *prefix, int group) {
  if (group < 0 || group >= NN_MAX_GROUPS)
    return nn_err_set(&net->err, NN_E_ARG, "nn_net_set_group: group %d out of range", group);
  int count = 0;
  size_t len = strlen(prefix);
  for (int i = 0; i < net->nparams; i++)
    if (strncmp(net->params[i].name, prefix, len) == 0) {
      net->params[i].group = group;
      count++;
    }
  return count;
}

int nn_net_init_params(nn_net *net, uint64_t seed) {
  if (net->broken)
    return net->err.code;
  net->param_gen++;
  nn_rng rng;
  nn_rng_seed(&rng, seed);
  for (int ni = 1; ni < net->nnodes; ni++) {
    nn_node *nd = &net->nodes[ni];
    switch (nd->op) {
    case NN_OP_CONV:
    case NN_OP_DECONV:
    case NN_OP_LINEAR: {
      nn_param *w = &net->params[nd->p[0]];
      /* fan_in: conv [o,i,k,k] -> i*k*k; deconv [i,o,k,k] -> o*k*k (PyTorch's convention) */
      double fan_in = (double)w->value.c * w->value.h * w->value.w;
      double b = sqrt(6.0 / fan_in);
      size_t n = nn_tensor_numel(&w->value);
      for (size_t i = 0; i < n; i++)
        w->value.data[i] = (float)((2.0 * nn_rng_uniform(&rng) - 1.0) * b);
      if (nd->p[1] >= 0)
        memset(net->params[nd->p[1]].value.data, 0, sizeof(float) * (size_t)nd->c);
      break;
    }
    case NN_OP_BN: {
      for (int c = 0; c < nd->c; c++) {
        net->params[nd->p[0]].value.data[c] = 1.f;
        net->params[nd->p[1]].value.data[c] = 0.f;
        net->params[nd->p[2]].value.data[c] = 0.f;
        net->params[nd->p[3]].value.data[c] = 1.f;
      }
      break;
    }
    case NN_OP_GDN: {
      int c = nd->c;
      float *beta = net->params[nd->p[0]].value.data, *gamma = net->params[nd->p[1]].value.data;
      for (int i = 0; i < c; i++) {
        beta[i] = (float)nn_gdn_reparam_inv(1.0, NN_GDN_BETA_MIN);
        for (int j = 0; j < c; j++)
          gamma[i * c + j] = (float)nn_gdn_reparam_inv(i == j ? 0.1 : 0.0, 0.0);
      }
      break;
    }
    default: break;
    }
  }
  return NN_OK;
}

/* ---- GDN reparametrisation (CompressAI NonNegativeParametrizer, reparam_offset 2^-18) ---- */

double nn_gdn_reparam_fwd(double p, double minimum) {
  double bound = sqrt(minimum + NN_GDN_PEDESTAL);
  double b = p > bound ? p : bound;
  return b * b - NN_GDN_PEDESTAL;
}

double nn_gdn_reparam_bwd(double p, double minimum, double grad_out) {
  /* LowerBound's straight-through rule: pass the gradient where p >= bound, or where it
   * points downward in loss (grad < 0 means increasing p lowers the loss). */
  double bound = sqrt(minimum + NN_GDN_PEDESTAL);
  double b = p > bound ? p : bound;
  double g = 2.0 * b * grad_out;
  return (p >= bound || g < 0) ? g : 0.0;
}

double nn_gdn_reparam_inv(double v, double minimum) {
  (void)minimum;
  double t = v + NN_GDN_PEDESTAL;
  return sqrt(t > NN_GDN_PEDESTAL ? t : NN_GDN_PEDESTAL);
}

/* ---- planning: layouts and fusion ----
 *
 * Layouts. oneDNN's convolutions are fastest on the blocked layout nChw16c and the API is
 * NCHW; reordering at every convolution cost ~20 % of a ResNet step. So activations whose
 * producer and every consumer can work blocked stay blocked from one convolution to the
 * next: conv, BN, ReLU, residual add and max-pool produce blocked outputs (channels a multiple
 * of 16, inputs blocked), and those plus global average pooling read them. Everything else
 * (input, linear, GDN, transposed conv, avg-pool) stays NCHW, and oneDNN reorders at the
 * boundary as before. The API still sees NCHW: nn_net_output and nn_net_grad convert a
 * blocked node on request, seeds are converted on arrival.
 *
 * Fusion. Chains of single-consumer nodes are computed in one pass at the chain's tail:
 *  - eval mode: conv [-> BN] [-> add] [-> ReLU] is one oneDNN inference convolution with BN
 *    folded into weights and bias and the add and ReLU as post-ops;
 *  - otherwise (and in eval where no conv heads the chain): BN [-> add] [-> ReLU] and
 *    add -> ReLU are one pass (nn_k_bn_fwd / nn_k_add2 with the operand and ReLU flag).
 * Members other than the tail are not written ("stale"); their outputs are recomputed on
 * request (nn_net_output, or a backward that reads them) by materialize(). In backward, a
 * BN or add whose only consumer is a ReLU or an add reads that node's gradient (masked by the
 * ReLU's output) instead of a copy of it (assign_grads: vg, vm). The train-mode chains give
 * the same bits as the unfused kernels; the eval convolution chains differ by rounding. */

static bool blk_producer(nn_op op) {
  return op == NN_OP_CONV || op == NN_OP_BN || op == NN_OP_RELU || op == NN_OP_ADD ||
         op == NN_OP_MAXPOOL;
}

static bool blk_consumer(nn_op op) { return blk_producer(op) || op == NN_OP_GAP; }

/* Blocked where the node and all its consumers can be (fixpoint: demotions propagate). */
static void plan_layouts(nn_net *net) {
  const int T = net->nnodes;
  for (int i = 0; i < T; i++) {
    nn_node *nd = &net->nodes[i];
    nd->blk = net->use_blk && i > 0 && blk_producer(nd->op) && nd->c % 16 == 0;
  }
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = 1; i < T; i++) {
      nn_node *nd = &net->nodes[i];
      bool ok = true;
      /* element-wise and per-channel ops keep their input's layout */
      for (int j = 0; j < nd->nin && nd->op != NN_OP_CONV; j++)
        ok = ok && net->nodes[nd->in[j]].blk;
      if (nd->blk && !ok) {
        nd->blk = false;
        changed = true;
      }
      /* an input read by a consumer that needs NCHW, or by a plain add / BN / ReLU */
      for (int j = 0; j < nd->nin; j++) {
        nn_node *u = &net->nodes[nd->in[j]];
        bool fine =
            blk_consumer(nd->op) && (nd->op == NN_OP_CONV || nd->op == NN_OP_GAP || nd->blk);
        if (u->blk && !fine) {
          u->blk = false;
          changed = true;
        }
      }
    }
  }
}

/* The single consumer of node v, or -1. */
static int sole_use(const nn_net *net, int v) {
  if (net->nodes[v].nuse != 1)
    return -1;
  for (int i = v + 1; i < net->nnodes; i++)
    for (int j = 0; j < net->nodes[i].nin; j++)
      if (net->nodes[i].in[j] == v)
        return i;
  return -1;
}

/* Forms the chain headed by h in mode m from unclaimed nodes (ex[m] == -1) and claims it. */
static void plan_chain(nn_net *net, int h, int m) {
  nn_node *hd = &net->nodes[h];
  struct nn_chain ch = {-1, -1, -1, -1, -1};
  int t = h, j = sole_use(net, t);
#define FREE_NODE(j) ((j) >= 0 && net->nodes[j].ex[m] == -1)
  if (hd->op == NN_OP_CONV && FREE_NODE(j) && net->nodes[j].op == NN_OP_BN) {
    ch.bn = t = j;
    j = sole_use(net, t);
  }
  /* a residual add joins a convolution chain only in the blocked layout (plan_fused) */
  if (hd->op != NN_OP_ADD && !(hd->op == NN_OP_CONV && !hd->blk) && FREE_NODE(j) &&
      net->nodes[j].op == NN_OP_ADD) {
    const nn_node *a = &net->nodes[j];
    int o = a->in[0] == t ? a->in[1] : a->in[0];
    if (o != t && net->nodes[o].blk == a->blk) {
      ch.add = t = j;
      ch.other = o;
      j = sole_use(net, t);
    }
  }
  if (FREE_NODE(j) && net->nodes[j].op == NN_OP_RELU)
    ch.relu = t = j;
#undef FREE_NODE
  if (t == h)
    return;
  ch.tail = t;
  hd->chain[m] = ch;
  hd->ex[m] = -2;
  const int mem[3] = {ch.bn, ch.add, ch.relu};
  for (int k = 0; k < 3; k++)
    if (mem[k] >= 0)
      net->nodes[mem[k]].ex[m] = mem[k] == t ? h : -2;
}

static void plan_chains(nn_net *net) {
  const int T = net->nnodes;
  for (int i = 0; i < T; i++) {
    nn_node *nd = &net->nodes[i];
    nd->nuse = 0;
    for (int m = 0; m < 2; m++) {
      nd->ex[m] = -1;
      nd->chain[m] = (struct nn_chain){-1, -1, -1, -1, -1};
    }
  }
  for (int i = 1; i < T; i++)
    for (int j = 0; j < net->nodes[i].nin; j++)
      net->nodes[net->nodes[i].in[j]].nuse++;
  if (!net->use_fuse)
    return;
  /* eval: convolution chains first, then BN / add chains among the rest; train: the latter */
  for (int i = 1; i < T; i++)
    if (net->nodes[i].op == NN_OP_CONV && net->nodes[i].ex[NN_EVAL] == -1)
      plan_chain(net, i, NN_EVAL);
  for (int m = 0; m < 2; m++)
    for (int i = 1; i < T; i++) {
      nn_op op = net->nodes[i].op;
      if ((op == NN_OP_BN || op == NN_OP_ADD) && net->nodes[i].ex[m] == -1)
        plan_chain(net, i, m);
    }
}

static int plan(nn_net *net, int batch) {
  release_plan(net);
  plan_layouts(net);
  plan_chains(net);
  for (int i = 0; i < net->nnodes; i++) {
    nn_node *nd = &net->nodes[i];
    if (nn_tensor_alloc(&nd->out, batch, nd->c, nd->h, nd->w, NULL) != NN_OK)
      goto nomem;
    nd->grad = nn_tensor_view(NULL, batch, nd->c, nd->h, nd->w); /* buffer at backward */
    nd->stale = nd->plain_ok = nd->gplain_ok = false;
    size_t numel = nn_tensor_numel(&nd->out);
    switch (nd->op) {
    case NN_OP_BN:
      if (!(nd->save = nn_aligned_alloc(sizeof(float) * 4 * (size_t)nd->c)))
        goto nomem;
      if (nd->blk && nn_ws_reserve(net, 1, nn_k_bn_ws_bytes(batch, nd->c)) != NN_OK)
        goto nomem;
      break;
    case NN_OP_GDN:
      /* The norm is kept for backward; inference-only nets share one buffer (ws slot 2). */
      if (net->inference_only ? nn_ws_reserve(net, 2, sizeof(float) * numel) != NN_OK
                              : !(nd->save = nn_aligned_alloc(sizeof(float) * numel)))
        goto nomem;
      break;
    case NN_OP_MAXPOOL:
      if (!(nd->idx = nn_aligned_alloc(sizeof(int32_t) * numel)))
        goto nomem;
      break;
    case NN_OP_CONV:
    case NN_OP_DECONV: {
      net->batch = batch; /* conv planning reads it */
      int rc = nn_conv_plan(net, nd);
      if (rc != NN_OK) {
        release_plan(net);
        return rc;
      }
      break;
    }
    default: break;
    }
  }
  net->batch = batch;
  return NN_OK;
nomem:
  release_plan(net);
  return nn_err_set(&net->err, NN_E_NOMEM, "nn_net: out of memory planning batch %d", batch);
}

int nn_ws_reserve(nn_net *net, int slot, size_t bytes) {
  if (net->ws_size[slot] >= bytes)
    return NN_OK;
  nn_aligned_free(net->ws[slot]);
  net->ws[slot] = nn_aligned_alloc(bytes);
  net->ws_size[slot] = net->ws[slot] ? bytes : 0;
  return net->ws[slot] ? NN_OK
                       : nn_err_set(&net->err, NN_E_NOMEM, "nn_net: out of memory (workspace)");
}

/* ---- execution ---- */

/* Recomputes the output of a node a fused chain skipped (and of its skipped inputs) with the
 * unfused kernels; BN uses the affine saved by the forward, so no statistics change. */
static int materialize(nn_net *net, int v) {
  nn_node *nd = &net->nodes[v];
  if (!nd->stale)
    return NN_OK;
  int rc = NN_OK;
  for (int j = 0; j < nd->nin && rc == NN_OK; j++)
    rc = materialize(net, nd->in[j]);
  if (rc != NN_OK)
    return rc;
  const nn_tensor *x = &net->nodes[nd->in[0]].out;
  switch (nd->op) {
  case NN_OP_CONV: rc = nn_conv_forward(net, nd, x); break;
  case NN_OP_BN: nn_k_bn_replay(net, nd, x); break;
  case NN_OP_ADD:
    nn_k_add2(x->data, net->nodes[nd->in[1]].out.data, nd->out.data, nn_tensor_numel(x), false,
              net->threads);
    break;
  case NN_OP_RELU: nn_k_relu_fwd(x, &nd->out, net->threads); break;
  default:
    rc = nn_err_set(&net->err, NN_E_STATE, "nn_net: cannot recompute node '%s'", nd->name);
    break;
  }
  nd->stale = rc != NN_OK;
  return rc;
}

/* NCHW view of a node's output or (kept) gradient: the buffer itself, or for a blocked node a
 * copy made on first request after each forward / backward. */
static const nn_tensor *plain_view(nn_net *net, nn_node *nd, bool grad) {
  nn_tensor *src = grad ? &nd->grad : &nd->out, *dst = grad ? &nd->gplain : &nd->plain;
  bool *ok = grad ? &nd->gplain_ok : &nd->plain_ok;
  if (!nd->blk)
    return src;
  if (!*ok) {
    if (!dst->data && nn_tensor_alloc(dst, src->n, src->c, src->h, src->w, NULL) != NN_OK) {
      nn_err_set(&net->err, NN_E_NOMEM, "nn_net: out of memory for an NCHW copy");
      return NULL;
    }
    nn_k_blk_to_plain(src->data, dst->data, src->n, src->c, (size_t)src->h * src->w, net->threads);
    *ok = true;
  }
  return dst;
}

/* These two are logically const: they may fill caches (a stale output, an NCHW copy), which
 * the caller cannot observe otherwise. Every nn_net is allocated by nn_net_create, never
 * defined const, so writing through the cast pointer is well defined. A failure (out of
 * memory, backend) returns NULL with the message in nn_net_error. */
const nn_tensor *nn_net_output(const nn_net *cnet, int node) {
  if (node < 0 || node >= cnet->nnodes || !cnet->have_forward)
    return NULL;
  nn_net *net = (nn_net *)cnet;
  nn_node *nd = &net->nodes[node];
  if (!nd->stale && !nd->blk)
    return &nd->out;
  int saved_threads = omp_get_max_threads();
  omp_set_num_threads(net->threads);
  const nn_tensor *t = materialize(net, node) == NN_OK ? plain_view(net, nd, false) : NULL;
  omp_set_num_threads(saved_threads);
  return t;
}

const nn_tensor *nn_net_grad(const nn_net *cnet, int node) {
  if (node < 0 || node >= cnet->nnodes || !cnet->nodes[node].grad_set ||
      !(node == 0 || cnet->nodes[node].keep_grad))
    return NULL;
  nn_net *net = (nn_net *)cnet;
  return plain_view(net, &net->nodes[node], true);
}

int nn_net_keep_grad(nn_net *net, int node, bool keep) {
  if (node < 0 || node >= net->nnodes)
    return nn_err_set(&net->err, NN_E_ARG, "nn_net_keep_grad: node %d out of range", node);
  nn_node *nd = &net->nodes[node];
  if (!keep && nd->grad.owned)
    nn_tensor_free(&nd->grad);
  nd->keep_grad = keep;
  if (!nd->grad.owned)
    nd->grad = nn_tensor_view(NULL, net->batch, nd->c, nd->h, nd->w);
  return NN_OK;
}

/* Gives every node that will receive a gradient in this backward a buffer. Node v's gradient
 * is live from the step of its first writer (a consumer, or step 0 for a seed) to its own step
 * (step of node i = nnodes - 1 - i); buffers of dead gradients are reused, best fit first.
 * Node 0 and keep_grad nodes own theirs. The assignment depends only on the graph, the seeds
 * and the frozen/input-grad flags, so it is the same on every call. */
static int assign_grads(nn_net *net, int nseeds, const int *seeds) {
  const int T = net->nnodes;
  int *start = malloc(sizeof(int) * (size_t)T);
  if (!start)
    return nn_err_set(&net->err, NN_E_NOMEM, "nn_net_backward: out of memory");
  for (int v = 0; v < T; v++)
    start[v] = T; /* never written */
  for (int s = 0; s < nseeds; s++)
    start[seeds[s]] = 0;
  for (int c = T - 1; c > 0; c--) {
    const nn_node *nd = &net->nodes[c];
    if (!nd->needs_grad || start[c] == T)
      continue; /* processes nothing, so writes nothing upstream */
    for (int j = 0; j < nd->nin; j++)
      if (net->nodes[nd->in[j]].needs_grad && start[nd->in[j]] > T - 1 - c)
        start[nd->in[j]] = T - 1 - c;
  }
  /* Virtual gradients: a BN or add whose only consumer is a ReLU or an add gets exactly that
   * consumer's (masked) gradient, so it reads it there instead of from a copy. Not for seeded
   * or kept nodes (their gradient has other sources or must stay readable). The source
   * buffer then lives until the last reader (end[]). */
  int *end = malloc(sizeof(int) * (size_t)T);
  if (!end) {
    free(start);
    return nn_err_set(&net->err, NN_E_NOMEM, "nn_net_backward: out of memory");
  }
  for (int v = 0; v < T; v++) {
    net->nodes[v].vg = net->nodes[v].vm = -1;
    end[v] = T - 1 - v;
  }
  for (int c = T - 1; c > 0 && net->use_fuse; c--) {
    const nn_node *nd = &net->nodes[c];
    if (!nd->needs_grad || start[c] == T || !(nd->op == NN_OP_RELU || nd->op == NN_OP_ADD))
      continue;
    for (int j = 0; j < nd->nin; j++) {
      nn_node *u = &net->nodes[nd->in[j]];
      bool seeded = false;
      for (int s = 0; s < nseeds; s++)
        seeded = seeded || seeds[s] == nd->in[j];
      if (nd->in[j] == 0 || u->nuse != 1 || !u->needs_grad || u->keep_grad || seeded ||
          !(u->op == NN_OP_BN || u->op == NN_OP_ADD))
        continue;
      if (nd->op == NN_OP_RELU)
        u->vg = u->vm = c;
      else
        u->vg = nd->vg >= 0 ? nd->vg : c, u->vm = nd->vg >= 0 ? nd->vm : -1;
      if (end[u->vg] < T - 1 - nd->in[j])
        end[u->vg] = T - 1 - nd->in[j];
    }
  }
  int rc = NN_OK;
  for (int i = 0; i < net->ngpool; i++)
    net->gpool[i].end = -1;
  for (int t = 0; t < T && rc == NN_OK; t++)
    for (int v = T - 1; v >= 0; v--) {
      if (start[v] != t)
        continue;
      nn_node *nd = &net->nodes[v];
      size_t need = nn_tensor_numel(&nd->grad);
      if (nd->vg >= 0) {
        nd->grad.data = NULL;
        continue;
      }
      if (v == 0 || nd->keep_grad) {
        if (!nd->grad.owned &&
            nn_tensor_alloc(&nd->grad, net->batch, nd->c, nd->h, nd->w, NULL) != NN_OK)
          rc = nn_err_set(&net->err, NN_E_NOMEM, "nn_net_backward: out of memory");
        continue;
      }
      int best = -1;
      for (int i = 0; i < net->ngpool; i++)
        if (net->gpool[i].end < t && net->gpool[i].cap >= need &&
            (best < 0 || net->gpool[i].cap < net->gpool[best].cap))
          best = i;
      if (best < 0) {
        struct nn_gbuf *np = realloc(net->gpool, sizeof *np * (size_t)(net->ngpool + 1));
        float *p = np ? nn_aligned_alloc(need * sizeof(float)) : NULL;
        if (np)
          net->gpool = np;
        if (!p) {
          rc = nn_err_set(&net->err, NN_E_NOMEM, "nn_net_backward: out of memory");
          break;
        }
        best = net->ngpool++;
        net->gpool[best].p = p;
        net->gpool[best].cap = need;
      }
      net->gpool[best].end = v == 0 ? T : end[v];
      nd->grad.data = net->gpool[best].p;
    }
  free(start);
  free(end);
  return rc;
}

void nn_net_set_input_grad(nn_net *net, bool on) { net->input_grad = on; }

void nn_net_set_inference_only(nn_net *net, bool on) {
  if (net->inference_only == on)
    return;
  if (net->batch)
    release_plan(net);
  net->inference_only = on;
}

void nn_net_set_const_params(nn_net *net, bool on) {
  net->const_params = on;
  net->param_gen++;
}

void nn_net_set_fast_paths(nn_net *net, bool blocked, bool fused) {
  if (net->batch)
    release_plan(net);
  net->use_blk = blocked;
  net->use_fuse = fused;
}

void nn_net_zero_grad(nn_net *net) {
  for (int i = 0; i < net->nparams; i++)
    if (net->params[i].grad.data)
      memset(net->params[i].grad.data, 0, sizeof(float) * nn_tensor_numel(&net->params[i].grad));
  for (int i = 0; i < net->nnodes; i++)
    if (net->nodes[i].aff_grad)
      memset(net->nodes[i].aff_grad, 0, sizeof(float) * 2 * (size_t)net->nodes[i].c);
}

static bool node_trainable(const nn_net *net, const nn_node *nd) {
  if (nd->op == NN_OP_CHAFFINE) /* its scale and shift always get gradients */
    return true;
  for (int s = 0; s < NN_MAX_PSLOTS; s++)
    if (nd->p[s] >= 0 && !net->params[nd->p[s]].buffer && !net->params[nd->p[s]].frozen)
      return true;
  return false;
}

/* Runs the chain headed by node h (mode m) at its tail: writes the tail's out. */
static int run_chain(nn_net *net, nn_node *h, nn_mode m) {
  const struct nn_chain *ch = &h->chain[m];
  const nn_tensor *x = &net->nodes[h->in[0]].out;
  nn_node *tail = &net->nodes[ch->tail];
  if (h->op == NN_OP_CONV)
    return nn_conv_forward_fused(net, h, x);
  if (h->op == NN_OP_BN) {
    const float *z = ch->add >= 0 ? net->nodes[ch->other].out.data : NULL;
    nn_k_bn_fwd(net, h, x, m, z, ch->relu >= 0, tail->out.data);
    return NN_OK;
  }
  /* add -> ReLU */
  nn_k_add2(x->data, net->nodes[h->in[1]].out.data, tail->out.data, nn_tensor_numel(x), true,
            net->threads);
  return NN_OK;
}

int nn_net_forward(nn_net *net, const nn_tensor *x, nn_mode mode) {
  if (net->broken)
    return net->err.code;
  const nn_node *in = &net->nodes[0];
  if (!x || !x->data || x->n <= 0 || x->c != in->c || x->h != in->h || x->w != in->w)
    return nn_err_set(&net->err, NN_E_SHAPE,
                      "nn_net_forward: input must be [N, %d, %d, %d], got [%d, %d, %d, %d]", in->c,
                      in->h, in->w, x ? x->n : 0, x ? x->c : 0, x ? x->h : 0, x ? x->w : 0);
  int saved_threads = omp_get_max_threads();
  /* oneDNN (OpenMP runtime) uses omp_get_max_threads(); this ICV is per calling thread. */
  omp_set_num_threads(net->threads);
  int rc = NN_OK;
  if (net->batch != x->n) {
    rc = plan(net, x->n);
    if (rc != NN_OK)
      goto out;
  }
  const int thr = net->threads;
  for (int i = 0; i < net->nnodes; i++) {
    nn_node *nd = &net->nodes[i];
    nd->stale = nd->plain_ok = false;
  }
  nn_k_add_into(x->data, net->nodes[0].out.data, nn_tensor_numel(x), false, thr);
  for (int i = 1; i < net->nnodes && rc == NN_OK; i++) {
    nn_node *nd = &net->nodes[i];
    const nn_tensor *xi = &net->nodes[nd->in[0]].out;
    if (nd->ex[mode] == -2) { /* computed by the chain it belongs to, at the chain's tail */
      nd->stale = true;
      continue;
    }
    if (nd->ex[mode] >= 0) {
      rc = run_chain(net, &net->nodes[nd->ex[mode]], mode);
      continue;
    }
    switch (nd->op) {
    case NN_OP_CONV:
    case NN_OP_DECONV: rc = nn_conv_forward(net, nd, xi); break;
    case NN_OP_RELU: nn_k_relu_fwd(xi, &nd->out, thr); break;
    case NN_OP_BN: nn_k_bn_fwd(net, nd, xi, mode, NULL, false, nd->out.data); break;
    case NN_OP_MAXPOOL: nn_k_maxpool_fwd(nd, xi, thr); break;
    case NN_OP_AVGPOOL: nn_k_avgpool_fwd(nd, xi, thr); break;
    case NN_OP_GAP: nn_k_gap_fwd(xi, net->nodes[nd->in[0]].blk, &nd->out, thr); break;
    case NN_OP_LINEAR: rc = nn_k_linear_fwd(net, nd, xi); break;
    case NN_OP_ADD:
      nn_k_add2(xi->data, net->nodes[nd->in[1]].out.data, nd->out.data, nn_tensor_numel(xi), false,
                thr);
      break;
    case NN_OP_GDN: rc = nn_k_gdn_fwd(net, nd, xi); break;
    case NN_OP_CHAFFINE: nn_k_chaffine_fwd(nd, xi, thr); break;
    case NN_OP_INPUT: break;
    }
  }
  net->have_forward = rc == NN_OK;
  net->last_mode = mode;
  /* A train-mode forward moved the BN running statistics: BN-folded weights are out of date. */
  for (int i = 0; mode == NN_TRAIN && i < net->nnodes; i++)
    if (net->nodes[i].op == NN_OP_BN) {
      net->param_gen++;
      break;
    }
  for (int i = 0; i < net->nnodes; i++)
    net->nodes[i].grad_set = false;
out:
  omp_set_num_threads(saved_threads);
  return rc;
}

/* Delivers g (masked by mask > 0 unless NULL; in u's layout, or NCHW if plain) into node u's
 * gradient: copies on first arrival, adds afterwards. A virtual gradient (vg) is only marked:
 * its reader takes it from the source. */
static void deliver(nn_net *net, int u, const float *g, const float *mask, bool plain) {
  nn_node *nu = &net->nodes[u];
  if (nu->vg >= 0) {
    nu->grad_set = true;
    return;
  }
  const nn_tensor *t = &nu->grad;
  if (plain && nu->blk)
    nn_k_plain_to_blk(g, t->data, t->n, t->c, (size_t)t->h * t->w, nu->grad_set, net->threads);
  else
    nn_k_masked_into(g, mask, t->data, nn_tensor_numel(t), nu->grad_set, net->threads);
  nu->grad_set = true;
}

/* Whether node nd's backward reads its input's output (in[0]), so a stale input must be
 * recomputed first. */
static bool bwd_reads_input(const nn_node *nd, bool want_dp, nn_mode mode) {
  switch (nd->op) {
  case NN_OP_CONV:
  case NN_OP_DECONV:
  case NN_OP_LINEAR: return want_dp;
  case NN_OP_BN: return want_dp || mode == NN_TRAIN;
  case NN_OP_GDN:
  case NN_OP_CHAFFINE: return true;
  default: return false;
  }
}

int nn_net_backward(nn_net *net, int nseeds, const int *nodes, const nn_tensor *grads) {
  if (net->broken)
    return net->err.code;
  if (net->inference_only)
    return nn_err_set(&net->err, NN_E_STATE,
                      "nn_net_backward: the network is planned for inference only");
  if (!net->have_forward)
    return nn_err_set(&net->err, NN_E_STATE, "nn_net_backward: no forward pass to differentiate");
  for (int i = 0; i < net->nnodes; i++)
    net->nodes[i].grad_set = false;
  /* needs_grad: the node's output gradient is useful (trainable params at or upstream of it
   * through this node's inputs, or the network input when its gradient is wanted). */
  for (int i = 0; i < net->nnodes; i++) {
    nn_node *nd = &net->nodes[i];
    nd->needs_grad = i == 0 ? net->input_grad : node_trainable(net, nd);
    for (int j = 0; j < nd->nin && i > 0; j++)
      nd->needs_grad |= net->nodes[nd->in[j]].needs_grad;
  }
  for (int s = 0; s < nseeds; s++) {
    int u = nodes[s];
    if (u < 0 || u >= net->nnodes)
      return nn_err_set(&net->err, NN_E_ARG, "nn_net_backward: seed node %d out of range", u);
    const nn_tensor *o = &net->nodes[u].out;
    const nn_tensor *g = &grads[s];
    if (!g->data || g->n != o->n || g->c * g->h * g->w != o->c * o->h * o->w)
      return nn_err_set(&net->err, NN_E_SHAPE,
                        "nn_net_backward: seed %d for node %d has shape [%d, %d, %d, %d], "
                        "node output is [%d, %d, %d, %d]",
                        s, u, g->n, g->c, g->h, g->w, o->n, o->c, o->h, o->w);
  }
  int rc = assign_grads(net, nseeds, nodes);
  if (rc != NN_OK)
    return rc;
  int saved_threads = omp_get_max_threads();
  omp_set_num_threads(net->threads);
  for (int i = 0; i < net->nnodes; i++)
    net->nodes[i].gplain_ok = false;
  for (int s = 0; s < nseeds; s++)
    deliver(net, nodes[s], grads[s].data, NULL, true);
  const int thr = net->threads;
  const nn_mode mode = net->last_mode;
  for (int i = net->nnodes - 1; i > 0 && rc == NN_OK; i--) {
    nn_node *nd = &net->nodes[i];
    if (!nd->grad_set || !nd->needs_grad)
      continue;
    int u = nd->in[0];
    nn_node *nu = &net->nodes[u];
    bool want_dx = nu->needs_grad, accum = nu->grad_set;
    bool want_dp = node_trainable(net, nd);
    const nn_tensor *xi = &nu->out;
    if (bwd_reads_input(nd, want_dp, mode) && (rc = materialize(net, u)) != NN_OK)
      break;
    /* this node's output gradient: its own, or a virtual one (see assign_grads) */
    const float *dy = nd->vg >= 0 ? net->nodes[nd->vg].grad.data : nd->grad.data;
    const float *dmask = nd->vm >= 0 ? net->nodes[nd->vm].out.data : NULL;
    switch (nd->op) {
    case NN_OP_CONV:
    case NN_OP_DECONV: rc = nn_conv_backward(net, nd, xi, want_dx, &nu->grad, want_dp); break;
    case NN_OP_RELU:
      if (want_dx && nu->vg == i) /* the producer reads this gradient through the mask */
        break;
      if (want_dx)
        nn_k_relu_bwd(&nd->out, &nd->grad, &nu->grad, accum, thr);
      break;
    case NN_OP_BN:
      nn_k_bn_bwd(net, nd, xi, dy, dmask, want_dx, &nu->grad, accum, want_dp, mode);
      break;
    case NN_OP_MAXPOOL:
      if (want_dx)
        nn_k_maxpool_bwd(nd, &nu->grad, accum, thr);
      break;
    case NN_OP_AVGPOOL:
      if (want_dx)
        nn_k_avgpool_bwd(nd, &nu->grad, accum, thr);
      break;
    case NN_OP_GAP:
      if (want_dx)
        nn_k_gap_bwd(&nd->grad, &nu->grad, nu->blk, accum, thr);
      break;
    case NN_OP_LINEAR: rc = nn_k_linear_bwd(net, nd, xi, want_dx, &nu->grad, accum, want_dp); break;
    case NN_OP_ADD:
      if (want_dx)
        deliver(net, u, dy, dmask, false);
      if (net->nodes[nd->in[1]].needs_grad)
        deliver(net, nd->in[1], dy, dmask, false);
      want_dx = false; /* delivered above */
      break;
    case NN_OP_GDN: rc = nn_k_gdn_bwd(net, nd, xi, want_dx, &nu->grad, accum, want_dp); break;
    case NN_OP_CHAFFINE: nn_k_chaffine_bwd(nd, xi, dy, want_dx, &nu->grad, accum, thr); break;
    case NN_OP_INPUT: break;
    }
    if (want_dx)
      nu->grad_set = true;
  }
  omp_set_num_threads(saved_threads);
  return rc;
}
