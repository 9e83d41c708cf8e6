/* nn.h - small CNN training/inference library for saicbench (public API, prefix nn_).
 *
 * Tensors are NCHW float32. A network (nn_net) is a DAG of nodes built in topological order;
 * node 0 is the input. Forward keeps every node's activation for backward; backward takes
 * gradients seeded at any nodes (so a codec can inject rate and distortion gradients at two
 * places) and produces parameter gradients (accumulated, as in PyTorch: call
 * nn_net_zero_grad between steps) and, when enabled, the gradient w.r.t. the input.
 *
 * Errors: every function that can fail returns a status (NN_OK == 0, negative on error) and
 * writes a message into an nn_err, or, for calls on a network, into the network's error message
 * (nn_net_error()). Builders return the new node id (>= 0) or a negative status; a builder
 * failure is sticky (every later builder, forward and backward call fails too), so a network
 * can be built with one check at the end. Run-time errors (e.g. a wrong input shape) are not
 * sticky.
 *
 * Threads and thread safety: no hidden global state (oneDNN's own primitive cache is process
 * wide and internally synchronised). Each network runs its kernels with the
 * thread count given at creation (OpenMP; 0 means omp_get_max_threads()). An nn_net, nn_optim
 * or nn_rng must be used by one thread at a time; distinct objects may be used concurrently.
 * Called from inside an OpenMP parallel region (nested parallelism off) a network runs on one
 * thread. Determinism: same seed + same thread count gives bit-identical results (tested);
 * across thread counts see nn/README.md.
 */
#ifndef SB_NN_H
#define SB_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum nn_status {
  NN_OK = 0,
  NN_E_NOMEM = -1,   /* allocation failed */
  NN_E_ARG = -2,     /* invalid argument */
  NN_E_SHAPE = -3,   /* tensor shape does not fit the layer / network */
  NN_E_BACKEND = -4, /* oneDNN refused or failed */
  NN_E_IO = -5,      /* file could not be read or written */
  NN_E_FORMAT = -6,  /* file content is invalid (checkpoints) */
  NN_E_STATE = -7    /* call out of order (e.g. backward before forward) */
};

typedef struct nn_err {
  int code;
  char msg[384];
} nn_err;

/* Records code and message in err (if not NULL) and returns code. */
int nn_err_set(nn_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- tensors ---- */

typedef struct nn_tensor {
  int n, c, h, w; /* NCHW; vectors use h = w = 1 */
  float *data;
  bool owned; /* data was allocated by nn_tensor_alloc and is freed by nn_tensor_free */
} nn_tensor;

/* Allocates a zero-filled, 64-byte aligned tensor. */
int nn_tensor_alloc(nn_tensor *t, int n, int c, int h, int w, nn_err *err);
/* A non-owning view of caller memory. */
nn_tensor nn_tensor_view(float *data, int n, int c, int h, int w);
void nn_tensor_free(nn_tensor *t); /* no-op for views; leaves t empty */
size_t nn_tensor_numel(const nn_tensor *t);

/* ---- networks ---- */

typedef struct nn_net nn_net;
typedef enum nn_mode { NN_EVAL = 0, NN_TRAIN = 1 } nn_mode;

/* A network whose input has in_c x in_h x in_w per sample; the batch size is taken from each
 * forward call. Returns NULL (message in err) on failure. */
nn_net *nn_net_create(int in_c, int in_h, int in_w, int threads, nn_err *err);
void nn_net_free(nn_net *net);
/* Message of the last error (builder, planning or run), or NULL if none occurred. */
const char *nn_net_error(const nn_net *net);
int nn_net_threads(const nn_net *net);

/* Builders. `in` is a node id; `name` prefixes parameter names ("<name>.weight"); NULL picks
 * one ("conv3"). Names follow PyTorch conventions so state dicts map one to one. */
int nn_conv2d(nn_net *net, int in, const char *name, int out_c, int k, int stride, int pad,
              bool bias);
/* Transposed convolution, PyTorch ConvTranspose2d semantics (weight [in_c, out_c, k, k]);
 * out = (in - 1) * stride - 2 * pad + k + out_pad; requires out_pad <= pad. */
int nn_deconv2d(nn_net *net, int in, const char *name, int out_c, int k, int stride, int pad,
                int out_pad, bool bias);
int nn_relu(nn_net *net, int in);
/* BatchNorm2d: train mode uses batch statistics (biased variance) and updates running stats
 * with `momentum` (PyTorch convention, running variance unbiased); eval mode uses running
 * stats. Parameters "<name>.weight/.bias", buffers "<name>.running_mean/.running_var". */
int nn_batchnorm(nn_net *net, int in, const char *name, float eps, float momentum);
int nn_maxpool(nn_net *net, int in, int k, int stride, int pad);
/* count_include_pad = true, ceil_mode = false (PyTorch defaults). */
int nn_avgpool(nn_net *net, int in, int k, int stride, int pad);
int nn_global_avgpool(nn_net *net, int in); /* -> [N, C, 1, 1] */
/* Flattens its input (C*H*W features) -> [N, out, 1, 1]; weight [out, in]. */
int nn_linear(nn_net *net, int in, const char *name, int out_features, bool bias);
int nn_add(nn_net *net, int a, int b); /* residual add, same shapes */
/* GDN (inverse: IGDN), Ballé et al.: y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2)
 * (IGDN multiplies by the sqrt). beta and gamma are stored reparametrised as in CompressAI's
 * NonNegativeParametrizer (parameters "<name>.beta", "<name>.gamma"): see nn/README.md. */
int nn_gdn(nn_net *net, int in, const char *name, bool inverse);
/* Per-channel affine y[n,c,h,w] = x[n,c,h,w] * scale[c] + shift[c] whose scale and shift are
 * inputs set from outside (nn_net_set_chaffine), not learned parameters: a conditioning signal
 * such as a codec's rate knob (FiLM) computes them per forward pass, the same for every sample
 * of the batch. They start at scale 1, shift 0 (identity). They are not nn_params, so optimisers,
 * weight decay, checkpoints and parameter lists never see them; backward accumulates their
 * gradients (sum over n, h, w of dy * x and of dy; read with nn_net_chaffine, zeroed by
 * nn_net_zero_grad), from which the caller derives its own parameters' gradients. */
int nn_chaffine(nn_net *net, int in, const char *name);
/* Sets the scale and shift (C floats each; NULL leaves that one unchanged) of chaffine node
 * `node`; takes effect at the next forward. NN_E_ARG if node is not a chaffine node. */
int nn_net_set_chaffine(nn_net *net, int node, const float *scale, const float *shift);
/* The current scale and shift, and their gradients accumulated since nn_net_zero_grad (each C
 * floats; pointers stay valid for the network's life; any may be NULL). NN_E_ARG if node is not
 * a chaffine node. */
int nn_net_chaffine(nn_net *net, int node, const float **scale, const float **shift,
                    const float **dscale, const float **dshift);

int nn_net_num_nodes(const nn_net *net);
int nn_net_last(const nn_net *net); /* id of the most recently added node */
/* Per-sample output shape of a node; returns NN_E_ARG for a bad id. */
int nn_net_node_shape(const nn_net *net, int node, int *c, int *h, int *w);

/* ---- parameters ---- */

enum { NN_MAX_GROUPS = 8 };

typedef struct nn_param {
  char name[96];
  nn_tensor value; /* conv: [out, in, k, k]; deconv: [in, out, k, k]; linear: [out, in, 1, 1];
                      vectors: [len, 1, 1, 1] */
  nn_tensor grad;  /* same shape; unused for buffers */
  int group;       /* optimizer parameter group (learning-rate multiplier), default 0 */
  bool frozen;     /* no gradient accumulation, not updated */
  bool buffer;     /* state, not a parameter (BN running stats): saved, never optimised */
  bool no_decay;   /* excluded from weight decay (biases, BN, GDN); set by the builders */
  int ndim;        /* PyTorch rank: the leading ndim of (n, c, h, w) form its shape */
} nn_param;

/* A trainable parameter that belongs to no layer (e.g. a codec's entropy-model densities,
 * computed by the caller's own code): it is zero-initialised, optimised, grouped, frozen and
 * checkpointed like the others; the caller reads value and accumulates into grad. Returns its
 * index (>= 0) or a negative status (sticky like the builders). Pointers from nn_net_param
 * stay valid until the next parameter is added. */
int nn_net_add_param(nn_net *net, const char *name, int ndim, const int *dims, bool no_decay);
int nn_net_num_params(const nn_net *net);
nn_param *nn_net_param(nn_net *net, int i);
nn_param *nn_net_find_param(nn_net *net, const char *name);
/* Deterministic initialisation from a seed: conv/linear weights He-uniform
 * U(+-sqrt(6/fan_in)), biases 0, BN weight 1 / bias 0, GDN beta 1, gamma 0.1*I. */
int nn_net_init_params(nn_net *net, uint64_t seed);
void nn_net_set_frozen(nn_net *net, bool frozen);
/* Assigns every parameter whose name starts with prefix to group; returns the count. */
int nn_net_set_group(nn_net *net, const char *prefix, int group);

/* ---- execution ---- */

/* Runs the network on x ([N, in_c, in_h, in_w]; copied, so x may change afterwards). The first
 * call and any change of batch size (re)plan buffers and backend primitives. Train mode updates
 * BN running statistics. */
int nn_net_forward(nn_net *net, const nn_tensor *x, nn_mode mode);
/* Activation of a node after forward (valid until the next forward), NCHW. Nodes a fused
 * kernel skipped, and NCHW copies of internally blocked activations, are computed on first
 * request; NULL if that fails (message in nn_net_error). */
const nn_tensor *nn_net_output(const nn_net *net, int node);
/* When on, backward also computes the gradient w.r.t. the input (node 0). Default off. */
void nn_net_set_input_grad(nn_net *net, bool on);
/* When on, the network is planned for forward passes only: no backward primitives, workspaces
 * or gradient buffers are made (a convolution then plans one primitive instead of three, and
 * the large backward temporaries are never allocated), and nn_net_backward fails. Outputs are
 * bit-identical to a network planned for training (the same forward primitives run). Default
 * off; changing it drops the current plan. For codecs and classifiers that only infer. */
void nn_net_set_inference_only(nn_net *net, bool on);
/* When on, the caller promises not to write parameter values through nn_net_param pointers:
 * forms derived from the convolution weights (oneDNN's blocked weight layout, BN folded into the
 * preceding convolution) are then computed once and reused across calls instead of on every
 * call, which matters for small inputs (a 32x32 image through the SAIC codec reordered ~1 MB of
 * weights per call). Writes made by nn/ itself (nn_optim_step,
 * checkpoint loads, nn_net_init_params, train-mode BN statistics) are always seen. After writing
 * parameters directly, call this again (with on) to drop the derived forms; without that call
 * the network keeps computing with the old values. Outputs are bit-identical to off (the
 * derived forms are the same bits). Default off. For frozen codecs and task networks. */
void nn_net_set_const_params(nn_net *net, bool on);
void nn_net_zero_grad(nn_net *net);
/* Backpropagates gradients seeded at nodes[i] (grads[i] shaped like that node's output),
 * through the mode of the last forward. Parameter gradients are accumulated (+=). */
int nn_net_backward(nn_net *net, int nseeds, const int *nodes, const nn_tensor *grads);
/* dLoss/d(node output) after backward, for node 0 (with input grad enabled) and for nodes marked
 * with nn_net_keep_grad; NULL otherwise. Other nodes' gradients share buffers by liveness and
 * are gone when backward returns. */
const nn_tensor *nn_net_grad(const nn_net *net, int node);
int nn_net_keep_grad(nn_net *net, int node, bool keep);

/* ---- losses ---- */

/* Softmax cross-entropy averaged over the batch. logits [N, K, 1, 1] (or any N x K flattening);
 * labels in [0, K). grad (optional, same shape as logits) receives dLoss/dlogits. */
int nn_softmax_xent(const nn_tensor *logits, const int *labels, double *loss, nn_tensor *grad,
                    nn_err *err);
/* Row-wise softmax probabilities (probs shaped like logits). */
int nn_softmax(const nn_tensor *logits, nn_tensor *probs, nn_err *err);

/* ---- optimisers and schedules ---- */

typedef enum nn_optim_kind { NN_SGD = 0, NN_ADAM = 1, NN_ADAMW = 2 } nn_optim_kind;

typedef struct nn_optim_cfg {
  nn_optim_kind kind;
  float momentum;                     /* SGD */
  bool nesterov;                      /* SGD */
  float beta1, beta2;                 /* Adam */
  float eps;                          /* Adam */
  float weight_decay;                 /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
  float group_lr_mult[NN_MAX_GROUPS]; /* 0 is read as 1 (so a zeroed cfg means "all 1") */
} nn_optim_cfg;

/* PyTorch-equivalent defaults for a kind (momentum 0.9, betas 0.9/0.999, eps 1e-8, wd 0). */
nn_optim_cfg nn_optim_defaults(nn_optim_kind kind);

typedef struct nn_optim nn_optim;
nn_optim *nn_optim_create(nn_net *net, const nn_optim_cfg *cfg, nn_err *err);
void nn_optim_free(nn_optim *opt);
/* One update of every non-frozen parameter with learning rate lr (times its group's
 * multiplier), PyTorch update rules (torch.optim.SGD / Adam / AdamW). */
int nn_optim_step(nn_optim *opt, float lr);
long nn_optim_steps(const nn_optim *opt);
/* Optimiser state, for checkpoints that resume training exactly: buffer `which` (0: SGD momentum
 * or Adam first moment, 1: Adam second moment) of parameter i, with as many floats as the
 * parameter's value; NULL where the optimiser keeps none (buffers, plain SGD, bad index). */
float *nn_optim_state(nn_optim *opt, int param, int which);
/* Sets the step count (bias corrections, SGD's first-step momentum) when resuming. */
void nn_optim_set_steps(nn_optim *opt, long steps);

typedef enum nn_lr_kind { NN_LR_CONST = 0, NN_LR_STEP = 1, NN_LR_COSINE = 2 } nn_lr_kind;

typedef struct nn_lr_sched {
  nn_lr_kind kind;
  float base_lr;
  long warmup_steps;  /* linear ramp from base_lr*warmup_start to base_lr over these steps */
  float warmup_start; /* fraction of base_lr at step 0 of warm-up */
  long step_size;     /* NN_LR_STEP: multiply by gamma every step_size steps after warm-up */
  float gamma;        /* NN_LR_STEP */
  long total_steps;   /* NN_LR_COSINE: steps (including warm-up) until min_lr is reached */
  float min_lr;       /* NN_LR_COSINE */
} nn_lr_sched;

float nn_lr_at(const nn_lr_sched *s, long step);

/* ---- random numbers and augmentation ---- */

/* xoshiro256** seeded through splitmix64; all state is in the struct. */
typedef struct nn_rng {
  uint64_t s[4];
} nn_rng;

void nn_rng_seed(nn_rng *r, uint64_t seed);
uint64_t nn_rng_next(nn_rng *r);
uint32_t nn_rng_below(nn_rng *r, uint32_t n); /* uniform in [0, n), unbiased; n > 0 */
double nn_rng_uniform(nn_rng *r);             /* [0, 1), 53 bits */
double nn_rng_normal(nn_rng *r);              /* standard normal (Box-Muller) */

/* Random crop with zero padding `pad` on each side (output same size as input) and, if flip,
 * horizontal flip with probability 1/2, per sample; consumes 3 draws per sample in order.
 * in and out must not alias. */
int nn_augment_crop_flip(nn_rng *r, const nn_tensor *in, nn_tensor *out, int pad, bool flip,
                         nn_err *err);

#ifdef __cplusplus
}
#endif
/* ================================================================ checkpoints */

/* Checkpoints - one file per model: parameters, buffers and metadata (prefix nn_ckpt_).
 *
 * Format version 1, all integers little-endian:
 *   0   char[8]  magic "SBNNCKPT"
 *   8   u32      format version (1)
 *   12  u32      flags (0; any other value is refused)
 *   16  u64      total file size in bytes, checksum included
 *   24  u32      metadata entry count, then per entry: u32 key length, key bytes,
 *                u32 value length, value bytes (UTF-8, no NUL)
 *       u32      tensor count, then per tensor: u16 name length, name bytes, u8 rank (1..4),
 *                u8 dtype (1 = float32), u32 dims[rank], float32 data (row-major)
 *   end-8 u64    XXH3-64 of every preceding byte
 * Metadata keys used by saicbench: "arch" (required; the loader compares it), "command",
 * "config", "dataset_hash", "scores", "created" (ISO 8601 UTC, filled in when absent).
 *
 * The reader treats the file as hostile: it checks size, magic, version, flags and checksum,
 * then bounds-checks every length while parsing (a crafted file can carry a valid checksum),
 * and refuses with a message that names the file and the problem. */

#define NN_CKPT_MAGIC "SBNNCKPT"
#define NN_CKPT_VERSION 1u
/* Files above this size are refused before reading (a classifier/codec is a few MB). */
#define NN_CKPT_MAX_BYTES ((uint64_t)1 << 32)

typedef struct nn_kv {
  const char *key, *value;
} nn_kv;

/* Writes every parameter and buffer of net plus the metadata (must contain "arch") to path,
 * through a temporary file renamed into place. */
int nn_ckpt_save(const char *path, nn_net *net, const nn_kv *meta, int nmeta, nn_err *err);

/* Several networks (and plain tensors) in one file, for models made of more than one network
 * (a codec's encoder and decoder): each part's parameters are stored under `prefix` + name.
 * Extra tensors (e.g. a codec's integer probability tables, stored as exact float32 integers)
 * are stored under their own names. Names must be unique across the file. */
typedef struct nn_ckpt_part {
  const char *prefix; /* e.g. "enc." ("" for none) */
  nn_net *net;
} nn_ckpt_part;
typedef struct nn_ckpt_extra {
  const char *name;
  int rank; /* 1..4 */
  int dims[4];
  const float *data;
} nn_ckpt_extra;
int nn_ckpt_save_parts(const char *path, const nn_ckpt_part *parts, int nparts,
                       const nn_ckpt_extra *extras, int nextras, const nn_kv *meta, int nmeta,
                       nn_err *err);

typedef struct nn_ckpt nn_ckpt;

/* Reads and validates a file (structure and checksum, not the architecture). */
int nn_ckpt_read(const char *path, nn_ckpt **out, nn_err *err);
void nn_ckpt_free(nn_ckpt *ck);
const char *nn_ckpt_path(const nn_ckpt *ck);
const char *nn_ckpt_meta(const nn_ckpt *ck, const char *key); /* NULL if absent */
int nn_ckpt_num_meta(const nn_ckpt *ck);
/* NN_E_ARG if i is out of range. */
int nn_ckpt_meta_at(const nn_ckpt *ck, int i, const char **key, const char **value);
int nn_ckpt_num_tensors(const nn_ckpt *ck);
/* name, rank, dims (4 entries, unused ones 1) and data of tensor i; NN_E_ARG if out of range. */
int nn_ckpt_tensor_at(const nn_ckpt *ck, int i, const char **name, int *rank, int dims[4],
                      const float **data);

/* Copies the checkpoint into net after checking: metadata "arch" equals expected_arch (unless
 * NULL), every parameter/buffer of net is present with the same shape, and the file has no
 * tensor the network lacks. Nothing is copied unless all checks pass. */
int nn_ckpt_apply(const nn_ckpt *ck, nn_net *net, const char *expected_arch, nn_err *err);
/* Copies the tensors named prefix + <parameter name> into net, with the checks of
 * nn_ckpt_apply restricted to that prefix (tensors outside it are left alone; a tensor under
 * the prefix that the network lacks is an error). Does not look at "arch". */
int nn_ckpt_apply_part(const nn_ckpt *ck, nn_net *net, const char *prefix, nn_err *err);
/* Index of the tensor with this exact name, or -1. */
int nn_ckpt_find_tensor(const nn_ckpt *ck, const char *name);
/* nn_ckpt_read + nn_ckpt_apply. */
int nn_ckpt_load(const char *path, nn_net *net, const char *expected_arch, nn_err *err);

#endif
