/* nn_internal.h - network representation shared by net.c, the kernels, the reference
 * executor (nn_ref.c) and the checkpoint code. Not installed, not part of the API. */
#ifndef SB_NN_INTERNAL_H
#define SB_NN_INTERNAL_H

#include "nn.h"

typedef enum nn_op {
  NN_OP_INPUT,
  NN_OP_CONV,
  NN_OP_DECONV,
  NN_OP_RELU,
  NN_OP_BN,
  NN_OP_MAXPOOL,
  NN_OP_AVGPOOL,
  NN_OP_GAP,
  NN_OP_LINEAR,
  NN_OP_ADD,
  NN_OP_GDN,
  NN_OP_CHAFFINE
} nn_op;

/* Parameter slots per op (indices into net->params, -1 if absent):
 * conv/deconv/linear: p[0] weight, p[1] bias; BN: p[0] weight, p[1] bias, p[2] running_mean,
 * p[3] running_var; GDN: p[0] beta, p[1] gamma. */
enum { NN_MAX_PSLOTS = 4 };

struct nn_conv_impl; /* oneDNN state, conv_dnnl.c */

typedef struct nn_node {
  nn_op op;
  char name[64];
  int in[2], nin;
  int c, h, w; /* per-sample output shape */
  /* hyper-parameters */
  int k, stride, pad, out_pad;
  bool bias, inverse;
  float eps, momentum;
  int p[NN_MAX_PSLOTS];
  /* per-plan buffers (batch-sized) */
  nn_tensor out;   /* batch-sized activation */
  nn_tensor grad;  /* batch-sized; a view into the shared gradient pool unless keep_grad or
                      node 0, which own their buffer (allocated at the first backward) */
  float *save;     /* BN: mean, invstd, a, b per channel (4C); GDN: norm (N*C*H*W) */
  int32_t *idx;    /* max-pool argmax (flat index into the input plane) */
  float *aff;      /* CHAFFINE: scale[C] then shift[C], set by nn_net_set_chaffine (owned by the
                      node, kept across plans, freed with the network) */
  float *aff_grad; /* CHAFFINE: d scale[C] then d shift[C], accumulated like parameter grads */
  float *gdn_eff;  /* GDN: effective gamma (C*C), beta (C), then the raw parameters they were
                      computed from (C*C, C): recomputed only when those change (layers.c) */
  bool needs_grad; /* some gradient must flow into this node's output */
  bool grad_set;   /* grad holds a value in the current backward */
  bool keep_grad;  /* grad gets its own buffer and stays readable after backward */
  struct nn_conv_impl *conv;
  /* Fast paths (net.c, "layouts and fusion"). out and grad of a blocked node are stored in
   * oneDNN's nChw16c layout so convolutions read and write them without reorders; the API
   * sees NCHW copies made on request (plain, gplain). A stale node's out was not written by
   * the last forward because a fused kernel skipped it; materialize() recomputes it. */
  bool blk;
  bool stale;
  bool plain_ok, gplain_ok; /* plain / gplain hold the current out / grad */
  nn_tensor plain, gplain;
  int nuse; /* number of consumers */
  /* Fusion chains, per mode ([NN_EVAL], [NN_TRAIN]): the chain this node heads (tail -1: none)
   * and what the forward does at this node: ex -1 runs it, -2 skips it (a chain member other
   * than the tail: stale), h >= 0 runs the chain headed by h (this node is its tail). */
  struct nn_chain {
    int bn, add, other, relu, tail; /* members after the head, -1 if absent; other: the add's
                                       second operand (computed before the tail) */
  } chain[2];
  int ex[2];
  /* Backward: the node's output gradient is not stored but read from node vg's gradient,
   * masked by node vm's output (> 0) where vm >= 0 (a ReLU seen through an ADD/BN); -1: own. */
  int vg, vm;
} nn_node;

struct nn_net {
  int threads;
  nn_node *nodes;
  int nnodes, cap_nodes;
  nn_param *params;
  int nparams, cap_params;
  nn_err err;  /* last error message */
  bool broken; /* a builder failed: the network is unusable */
  int batch;   /* planned batch size, 0 = not planned */
  bool input_grad;
  bool inference_only; /* nn_net_set_inference_only */
  bool const_params;   /* nn_net_set_const_params */
  /* Bumped by everything in nn/ that writes parameter values or buffers (optimiser step,
   * checkpoint load, initialisation, a train-mode forward's BN statistics, set_const_params):
   * weight forms derived at an older generation are recomputed. */
  unsigned param_gen;
  bool have_forward;
  nn_mode last_mode;
  /* shared workspace for backend temporaries (never live across nodes) */
  float *ws[4];
  size_t ws_size[4]; /* bytes */
  void *scratch;     /* oneDNN scratchpad shared by all primitives */
  /* Gradient buffers shared by nodes whose gradients are never live at the same time during
   * backward (assigned per backward call by liveness; buffers persist until re-planning). */
  struct nn_gbuf {
    float *p;
    size_t cap; /* floats */
    int end;    /* backward step after which the current owner is dead */
  } * gpool;
  int ngpool;
  size_t scratch_size;
  struct nn_dnnl_ctx *dnnl;
  bool use_blk;  /* blocked activations (default on; tests turn it off for the plain path) */
  bool use_fuse; /* fused kernels (default on; likewise) */
  bool any_stale;
};

/* GDN non-negative reparametrisation (CompressAI NonNegativeParametrizer). */
#define NN_GDN_PEDESTAL (3.637978807091713e-12) /* (2^-18)^2 */
#define NN_GDN_BETA_MIN 1e-6
double nn_gdn_reparam_fwd(double p, double minimum);                  /* bounded(p)^2 - pedestal */
double nn_gdn_reparam_bwd(double p, double minimum, double grad_out); /* d/dp, STE bound */
double nn_gdn_reparam_inv(double v, double minimum); /* value -> stored parameter */

/* Test hook: turns the blocked layout and the fused kernels off or on (both on by default);
 * takes effect at the next planning (it re-plans). The plain unfused path is the reference
 * the fast paths are compared with. */
void nn_net_set_fast_paths(nn_net *net, bool blocked, bool fused);

/* oneDNN-backed convolution (conv_dnnl.c). */
int nn_conv_plan(nn_net *net, nn_node *nd);
void nn_conv_release(nn_node *nd);
int nn_conv_forward(nn_net *net, nn_node *nd, const nn_tensor *x);
/* Eval-mode forward of a fusion chain headed by conv nd: BN folded into the weights and bias,
 * residual add as oneDNN's sum post-op (the other operand copied into the destination
 * first), ReLU as an eltwise post-op; writes the chain tail's out. */
int nn_conv_forward_fused(nn_net *net, nn_node *nd, const nn_tensor *x);
int nn_conv_backward(nn_net *net, nn_node *nd, const nn_tensor *x, bool want_dx, nn_tensor *dx,
                     bool want_dw);
/* Transposed convolution with fewer than 16 output channels on plain layouts: forward as one
 * sgemm and a gather (deconv_gemm.c); nn_conv_forward dispatches to it, using ws slot 0. */
bool nn_deconv_gemm_fits(const nn_net *net, const nn_node *nd);
size_t nn_deconv_gemm_ws_bytes(const nn_net *net, const nn_node *nd);
int nn_deconv_gemm_forward(nn_net *net, nn_node *nd, const nn_tensor *x);
int nn_dnnl_ctx_create(nn_net *net);
void nn_dnnl_ctx_free(nn_net *net);
/* C = alpha * op(A) op(B) + beta * C, row-major (oneDNN's sgemm). */
int nn_sgemm(nn_net *net, char ta, char tb, long m, long n, long k, float alpha, const float *a,
             long lda, const float *b, long ldb, float beta, float *c, long ldc);
int nn_ws_reserve(nn_net *net, int slot, size_t bytes);

/* Plain float kernels (layers.c). x is the node input, y its output. A blocked kernel
 * (nChw16c) is chosen by the node's blk flag; inputs of a blocked node are blocked too. */
void nn_k_relu_fwd(const nn_tensor *x, nn_tensor *y, int thr);
void nn_k_relu_bwd(const nn_tensor *y, const nn_tensor *dy, nn_tensor *dx, bool accum, int thr);
/* y = max(x + z, 0) if relu, else x + z (n floats, any layout). */
void nn_k_add2(const float *x, const float *z, float *y, size_t n, bool relu, int thr);
/* dst = (or +=) mask > 0 ? src : 0; mask NULL: plain copy / add. */
void nn_k_masked_into(const float *src, const float *mask, float *dst, size_t n, bool accum,
                      int thr);
/* BN forward. Computes the statistics (train) or takes the running ones (eval), saves
 * mean, invstd and the affine a = gamma*invstd, b = beta - a*mean (nd->save: 4C floats) and
 * writes y = act(a x + b + z): z (the other operand of a fused residual add) may be NULL,
 * act is ReLU if relu. y may be another node's buffer (fused chains). */
void nn_k_bn_fwd(nn_net *net, nn_node *nd, const nn_tensor *x, nn_mode mode, const float *z,
                 bool relu, float *y);
/* Eval mode: saves mean, invstd, a, b from the running statistics (also for folding). */
void nn_k_bn_eval_coeffs(nn_net *net, nn_node *nd);
/* nd->out = a x + b with the saved a, b (re-creating a BN output a fused chain skipped). */
void nn_k_bn_replay(nn_net *net, nn_node *nd, const nn_tensor *x);
/* BN backward; dy is the output gradient, masked by mask > 0 where mask is not NULL. */
void nn_k_bn_bwd(nn_net *net, nn_node *nd, const nn_tensor *x, const float *dy, const float *mask,
                 bool want_dx, nn_tensor *dx, bool accum, bool want_dp, nn_mode mode);
/* Workspace bytes (ws slot 1) nn_k_bn_* need for a blocked BN node. */
size_t nn_k_bn_ws_bytes(int n, int c);
void nn_k_maxpool_fwd(nn_node *nd, const nn_tensor *x, int thr);
void nn_k_maxpool_bwd(nn_node *nd, nn_tensor *dx, bool accum, int thr);
/* Layout conversion NCHW <-> nChw16c of an [n, c, hw] tensor (c % 16 == 0). */
void nn_k_blk_to_plain(const float *src, float *dst, int n, int c, size_t hw, int thr);
void nn_k_plain_to_blk(const float *src, float *dst, int n, int c, size_t hw, bool accum, int thr);
void nn_k_avgpool_fwd(nn_node *nd, const nn_tensor *x, int thr);
void nn_k_avgpool_bwd(nn_node *nd, nn_tensor *dx, bool accum, int thr);
void nn_k_gap_fwd(const nn_tensor *x, bool blk, nn_tensor *y, int thr);
void nn_k_gap_bwd(const nn_tensor *dy, nn_tensor *dx, bool blk, bool accum, int thr);
int nn_k_linear_fwd(nn_net *net, nn_node *nd, const nn_tensor *x);
int nn_k_linear_bwd(nn_net *net, nn_node *nd, const nn_tensor *x, bool want_dx, nn_tensor *dx,
                    bool accum, bool want_dp);
int nn_k_gdn_fwd(nn_net *net, nn_node *nd, const nn_tensor *x);
int nn_k_gdn_bwd(nn_net *net, nn_node *nd, const nn_tensor *x, bool want_dx, nn_tensor *dx,
                 bool accum, bool want_dp);
/* Per-channel affine y = x scale[c] + shift[c] (NCHW; scale, shift: nd->aff). Backward writes
 * (accum: adds) dx = dy scale[c] if want_dx and adds sum dy x and sum dy to nd->aff_grad. */
void nn_k_chaffine_fwd(nn_node *nd, const nn_tensor *x, int thr);
void nn_k_chaffine_bwd(nn_node *nd, const nn_tensor *x, const float *dy, bool want_dx,
                       nn_tensor *dx, bool accum, int thr);
void nn_k_add_into(const float *src, float *dst, size_t n, bool accum, int thr);

void *nn_aligned_alloc(size_t bytes); /* zeroed, 64-byte aligned; NULL on failure */
void nn_aligned_free(void *p);

#endif
