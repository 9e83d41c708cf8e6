/* conv_dnnl.c - convolution and transposed convolution on oneDNN.
 *
 * Activations stay NCHW at the API; each primitive is created with format "any" so oneDNN
 * picks its blocked layout (nChw16c on AVX-512), which measured 2-4x faster than running it on
 * plain NCHW (nn/README.md). Reorders between the two are primitives created once per plan.
 * The blocked copy of the input is kept per node for backward-weights; every other temporary
 * lives in the network's shared workspace (net->ws) or scratchpad (net->scratch). */
#include <oneapi/dnnl/dnnl.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

struct nn_dnnl_ctx {
  dnnl_engine_t eng;
  dnnl_stream_t st;
};

/* A tensor seen in the user layout (NCHW/OIHW) and in a primitive's layout. */
typedef struct role {
  dnnl_memory_desc_t umd, pmd;
  bool reo;             /* layouts differ: a reorder is needed */
  bool to_prim;         /* reorder direction: user -> primitive (inputs) or back (outputs) */
  dnnl_primitive_t r;   /* the reorder, direction fixed at creation */
  dnnl_memory_t um, pm; /* memory objects; data handles set per execution */
  size_t pbytes;
} role;

/* A form of the weights derived from the parameters (a reorder, a BN fold) and the parameter
 * generation it was derived at; ok is false until it has been derived under const_params. */
typedef struct derived {
  bool ok;
  unsigned gen;
} derived;

/* Whether d still holds the current parameters' form (only ever with constant parameters). */
static bool derived_current(const nn_net *net, const derived *d) {
  return net->const_params && d->ok && d->gen == net->param_gen;
}

static void derived_mark(const nn_net *net, derived *d) {
  d->ok = net->const_params;
  d->gen = net->param_gen;
}

struct nn_conv_impl {
  dnnl_primitive_desc_t fpd, dpd, wpd;
  dnnl_primitive_t fwd, bwd_d, bwd_w;
  dnnl_memory_t scr_f, scr_d, scr_w, bias_m, dbias_m;
  role src_f, wei_f, dst_f;   /* forward */
  role ddst_d, wei_d, dsrc_d; /* backward data */
  role src_w, ddst_w, dwei_w; /* backward weights */
  float *src_p;               /* primitive-layout input kept for backward weights */
  bool src_ok;                /* src_p holds the input of the last forward */
  float *wei_fp, *wei_dp, *dwei_p, *dwei_u, *dbias_u;
  /* Eval-mode fused chain (nn_conv_forward_fused): an inference primitive writing the chain
   * tail's layout, with folded weights (user layout wfold) and bias bfold. */
  dnnl_primitive_desc_t ipd;
  dnnl_primitive_t inf;
  dnnl_memory_t scr_i, bias_i, other_i;
  role src_i, wei_i, dst_i;
  bool binary;   /* the residual operand is a binary post-op (else sum: copied into dst) */
  float *src_ip; /* src in the inference layout when that differs from src_p's */
  float *wfold, *bfold, *wei_ip;
  /* With constant parameters (nn_net_set_const_params), the weight forms above are kept across
   * calls: each records the parameter generation it was derived at. */
  derived wei_f_at, wei_d_at, fold_at;
  bool gemm; /* forward by deconv_gemm.c (few output channels); backward stays here */
};

#define DN(call)                                                                                   \
  do {                                                                                             \
    dnnl_status_t s_ = (call);                                                                     \
    if (s_ != dnnl_success)                                                                        \
      return nn_err_set(&net->err, NN_E_BACKEND, "oneDNN: %s failed (status %d) in node '%s'",     \
                        #call, (int)s_, nd->name);                                                 \
  } while (0)

int nn_dnnl_ctx_create(nn_net *net) {
  net->dnnl = calloc(1, sizeof *net->dnnl);
  if (!net->dnnl)
    return nn_err_set(&net->err, NN_E_NOMEM, "out of memory");
  if (dnnl_engine_create(&net->dnnl->eng, dnnl_cpu, 0) != dnnl_success ||
      dnnl_stream_create(&net->dnnl->st, net->dnnl->eng, dnnl_stream_default_flags) !=
          dnnl_success) {
    if (net->dnnl->eng)
      dnnl_engine_destroy(net->dnnl->eng);
    free(net->dnnl);
    net->dnnl = NULL;
    return nn_err_set(&net->err, NN_E_BACKEND, "oneDNN: cannot create CPU engine/stream");
  }
  return NN_OK;
}

void nn_dnnl_ctx_free(nn_net *net) {
  if (!net->dnnl)
    return;
  dnnl_stream_destroy(net->dnnl->st);
  dnnl_engine_destroy(net->dnnl->eng);
  free(net->dnnl);
  net->dnnl = NULL;
}

int nn_sgemm(nn_net *net, char ta, char tb, long m, long n, long k, float alpha, const float *a,
             long lda, const float *b, long ldb, float beta, float *c, long ldc) {
  dnnl_status_t s = dnnl_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (s != dnnl_success)
    return nn_err_set(&net->err, NN_E_BACKEND, "oneDNN: sgemm %ldx%ldx%ld failed (status %d)", m, n,
                      k, (int)s);
  return NN_OK;
}

static void role_release(role *r) {
  if (r->r)
    dnnl_primitive_destroy(r->r);
  if (r->um)
    dnnl_memory_destroy(r->um);
  if (r->pm)
    dnnl_memory_destroy(r->pm);
  memset(r, 0, sizeof *r);
}

/* to_prim: the reorder goes user -> primitive layout (inputs); otherwise back (outputs). */
static int role_init(nn_net *net, nn_node *nd, role *r, const dnnl_memory_desc_t *umd,
                     const dnnl_memory_desc_t *pmd, bool to_prim) {
  dnnl_engine_t eng = net->dnnl->eng;
  r->umd = *umd;
  r->pmd = *pmd;
  r->reo = !dnnl_memory_desc_equal(umd, pmd);
  r->to_prim = to_prim;
  r->pbytes = dnnl_memory_desc_get_size(pmd);
  DN(dnnl_memory_create(&r->pm, pmd, eng, DNNL_MEMORY_NONE));
  if (r->reo) {
    DN(dnnl_memory_create(&r->um, umd, eng, DNNL_MEMORY_NONE));
    dnnl_primitive_desc_t rpd;
    if (to_prim)
      DN(dnnl_reorder_primitive_desc_create(&rpd, umd, eng, pmd, eng, NULL));
    else
      DN(dnnl_reorder_primitive_desc_create(&rpd, pmd, eng, umd, eng, NULL));
    dnnl_status_t s = dnnl_primitive_create(&r->r, rpd);
    dnnl_primitive_desc_destroy(rpd);
    DN(s);
  }
  return NN_OK;
}

/* Runs the role's reorder between user and prim buffers (direction fixed at init). */
static int role_reorder(nn_net *net, nn_node *nd, role *r, void *user, void *prim) {
  DN(dnnl_memory_set_data_handle(r->um, user));
  DN(dnnl_memory_set_data_handle(r->pm, prim));
  dnnl_exec_arg_t a[2];
  const bool to_prim = r->to_prim;
  a[0].arg = DNNL_ARG_FROM;
  a[0].memory = to_prim ? r->um : r->pm;
  a[1].arg = DNNL_ARG_TO;
  a[1].memory = to_prim ? r->pm : r->um;
  DN(dnnl_primitive_execute(r->r, net->dnnl->st, 2, a));
  return NN_OK;
}

static const dnnl_memory_desc_t *q(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
  return dnnl_primitive_desc_query_md(pd, what, 0);
}

static int scratch_mem(nn_net *net, nn_node *nd, const_dnnl_primitive_desc_t pd, dnnl_memory_t *m) {
  const dnnl_memory_desc_t *smd = q(pd, dnnl_query_scratchpad_md);
  size_t sz = dnnl_memory_desc_get_size(smd);
  if (sz > net->scratch_size) {
    nn_aligned_free(net->scratch);
    net->scratch = nn_aligned_alloc(sz);
    net->scratch_size = net->scratch ? sz : 0;
    if (!net->scratch)
      return nn_err_set(&net->err, NN_E_NOMEM, "out of memory (oneDNN scratchpad)");
  }
  DN(dnnl_memory_create(m, smd, net->dnnl->eng, DNNL_MEMORY_NONE));
  return NN_OK;
}

void nn_conv_release(nn_node *nd) {
  struct nn_conv_impl *c = nd->conv;
  if (!c)
    return;
  dnnl_primitive_t prims[] = {c->fwd, c->bwd_d, c->bwd_w, c->inf};
  for (int i = 0; i < 4; i++)
    if (prims[i])
      dnnl_primitive_destroy(prims[i]);
  dnnl_primitive_desc_t pds[] = {c->fpd, c->dpd, c->wpd, c->ipd};
  for (int i = 0; i < 4; i++)
    if (pds[i])
      dnnl_primitive_desc_destroy(pds[i]);
  dnnl_memory_t ms[] = {c->scr_f,   c->scr_d, c->scr_w,  c->bias_m,
                        c->dbias_m, c->scr_i, c->bias_i, c->other_i};
  for (int i = 0; i < 8; i++)
    if (ms[i])
      dnnl_memory_destroy(ms[i]);
  role *roles[] = {&c->src_f, &c->wei_f,  &c->dst_f,  &c->ddst_d, &c->wei_d, &c->dsrc_d,
                   &c->src_w, &c->ddst_w, &c->dwei_w, &c->src_i,  &c->wei_i, &c->dst_i};
  for (int i = 0; i < 12; i++)
    role_release(roles[i]);
  float *bufs[] = {c->src_p,   c->wei_fp, c->wei_dp, c->dwei_p, c->dwei_u,
                   c->dbias_u, c->src_ip, c->wfold,  c->bfold,  c->wei_ip};
  for (int i = 0; i < 10; i++)
    nn_aligned_free(bufs[i]);
  free(c);
  nd->conv = NULL;
}

/* An inference primitive for the chain; binary: the residual operand as a binary post-op. */
static dnnl_status_t fused_pd(nn_net *net, nn_node *nd, const dnnl_memory_desc_t *as,
                              const dnnl_memory_desc_t *ub, const dnnl_memory_desc_t *tmd,
                              bool binary, dnnl_primitive_desc_t *pd) {
  const nn_node *src = &net->nodes[nd->in[0]];
  dnnl_dims_t wd = {nd->c, src->c, nd->k, nd->k};
  dnnl_dims_t strides = {nd->stride, nd->stride}, pads = {nd->pad, nd->pad};
  dnnl_memory_desc_t aw;
  dnnl_status_t s = dnnl_memory_desc_init_by_tag(&aw, 4, wd, dnnl_f32, dnnl_format_tag_any);
  dnnl_convolution_desc_t f;
  if (s == dnnl_success)
    s = dnnl_convolution_forward_desc_init(&f, dnnl_forward_inference, dnnl_convolution_direct, as,
                                           &aw, ub, tmd, strides, pads, pads);
  dnnl_primitive_attr_t attr = NULL;
  dnnl_post_ops_t po = NULL;
  if (s == dnnl_success)
    s = dnnl_primitive_attr_create(&attr);
  if (s == dnnl_success)
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  if (s == dnnl_success)
    s = dnnl_post_ops_create(&po);
  if (s == dnnl_success && nd->chain[NN_EVAL].add >= 0)
    s = binary ? dnnl_post_ops_append_binary(po, dnnl_binary_add, tmd)
               : dnnl_post_ops_append_sum(po, 1.f);
  if (s == dnnl_success && nd->chain[NN_EVAL].relu >= 0)
    s = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_relu, 0.f, 0.f);
  if (s == dnnl_success)
    s = dnnl_primitive_attr_set_post_ops(attr, po);
  if (s == dnnl_success)
    s = dnnl_primitive_desc_create(pd, &f, attr, net->dnnl->eng, NULL);
  if (po)
    dnnl_post_ops_destroy(po);
  if (attr)
    dnnl_primitive_attr_destroy(attr);
  return s;
}

/* Whether oneDNN answered with its reference (slow) implementation. */
static bool is_ref_impl(const_dnnl_primitive_desc_t pd) {
  const char *impl = NULL;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
    return true;
  return strncmp(impl, "ref", 3) == 0;
}

static int plan_fused(nn_net *net, nn_node *nd, const dnnl_memory_desc_t *as,
                      const dnnl_memory_desc_t *uw, const dnnl_memory_desc_t *ub) {
  struct nn_conv_impl *c = nd->conv;
  const nn_node *src = &net->nodes[nd->in[0]], *tail = &net->nodes[nd->chain[NN_EVAL].tail];
  dnnl_dims_t dd = {net->batch, nd->c, nd->h, nd->w};
  dnnl_memory_desc_t tmd, umd, us;
  /* A blocked tail is written in place (a residual operand, if any, has that layout too). A
   * plain one (channels not a multiple of 16; the chain has no add then) lets oneDNN choose:
   * forced NCHW output falls back to a gemm kernel ~10x slower than the blocked one plus a
   * reorder. */
  DN(dnnl_memory_desc_init_by_tag(&umd, 4, dd, dnnl_f32, tail->blk ? dnnl_nChw16c : dnnl_nchw));
  DN(dnnl_memory_desc_init_by_tag(&tmd, 4, dd, dnnl_f32,
                                  tail->blk ? dnnl_nChw16c : dnnl_format_tag_any));
  dnnl_dims_t sd = {net->batch, src->c, src->h, src->w};
  DN(dnnl_memory_desc_init_by_tag(&us, 4, sd, dnnl_f32, src->blk ? dnnl_nChw16c : dnnl_nchw));
  /* The binary post-op reads the residual operand in place; the sum post-op needs it copied
   * into the destination first. Prefer binary where oneDNN has a fast kernel for it. */
  c->binary = false;
  dnnl_status_t s = dnnl_runtime_error;
  if (nd->chain[NN_EVAL].add >= 0) {
    s = fused_pd(net, nd, as, ub, &tmd, true, &c->ipd);
    if (s == dnnl_success && is_ref_impl(c->ipd)) {
      dnnl_primitive_desc_destroy(c->ipd);
      c->ipd = NULL;
      s = dnnl_runtime_error;
    }
    c->binary = s == dnnl_success;
  }
  if (s != dnnl_success)
    s = fused_pd(net, nd, as, ub, &tmd, false, &c->ipd);
  if (s != dnnl_success)
    return nn_err_set(&net->err, NN_E_BACKEND,
                      "oneDNN: cannot create the fused inference primitive for node '%s' "
                      "(status %d)",
                      nd->name, (int)s);
  DN(dnnl_primitive_create(&c->inf, c->ipd));
  int rc;
  if ((rc = role_init(net, nd, &c->src_i, &us, q(c->ipd, dnnl_query_src_md), true)) ||
      (rc = role_init(net, nd, &c->wei_i, uw, q(c->ipd, dnnl_query_weights_md), true)) ||
      (rc = scratch_mem(net, nd, c->ipd, &c->scr_i)))
    return rc;
  if ((rc = role_init(net, nd, &c->dst_i, &umd, q(c->ipd, dnnl_query_dst_md), false)) ||
      (rc = nn_ws_reserve(net, 0, c->dst_i.pbytes)))
    return rc;
  if (c->dst_i.reo && nd->chain[NN_EVAL].add >= 0)
    return nn_err_set(&net->err, NN_E_BACKEND,
                      "oneDNN: fused primitive of node '%s' changed the destination layout",
                      nd->name);
  DN(dnnl_memory_create(&c->bias_i, ub, net->dnnl->eng, DNNL_MEMORY_NONE));
  if (c->binary)
    DN(dnnl_memory_create(&c->other_i, &tmd, net->dnnl->eng, DNNL_MEMORY_NONE));
  if (!(c->wfold = nn_aligned_alloc(dnnl_memory_desc_get_size(uw))) ||
      !(c->bfold = nn_aligned_alloc(sizeof(float) * (size_t)nd->c)) ||
      !(c->wei_ip = nn_aligned_alloc(c->wei_i.pbytes)))
    return nn_err_set(&net->err, NN_E_NOMEM, "out of memory planning node '%s'", nd->name);
  /* The inference src goes to src_p when the training primitive uses the same layout (then it
   * also serves backward-weights), else to its own buffer. */
  if (c->src_i.reo && !(c->src_f.reo && dnnl_memory_desc_equal(&c->src_i.pmd, &c->src_f.pmd)) &&
      !(c->src_ip = nn_aligned_alloc(c->src_i.pbytes)))
    return nn_err_set(&net->err, NN_E_NOMEM, "out of memory planning node '%s'", nd->name);
  return NN_OK;
}

static int conv_plan(nn_net *net, nn_node *nd) {
  struct nn_conv_impl *c = nd->conv;
  const nn_node *src = &net->nodes[nd->in[0]];
  const bool de = nd->op == NN_OP_DECONV;
  const int nb = net->batch;
  dnnl_dims_t sd = {nb, src->c, src->h, src->w}, dd = {nb, nd->c, nd->h, nd->w};
  dnnl_dims_t wd = {nd->c, src->c, nd->k, nd->k}, bd = {nd->c};
  dnnl_dims_t strides = {nd->stride, nd->stride}, pl = {nd->pad, nd->pad};
  dnnl_dims_t pr = {nd->pad - nd->out_pad, nd->pad - nd->out_pad};
  dnnl_memory_desc_t us, ud, uw, ub, as, ad, aw;
  /* user side: the nodes' own layouts (blocked nodes need no reorder when oneDNN picks the
   * same nChw16c, which it does on AVX-512 for channels that are multiples of 16) */
  DN(dnnl_memory_desc_init_by_tag(&us, 4, sd, dnnl_f32, src->blk ? dnnl_nChw16c : dnnl_nchw));
  DN(dnnl_memory_desc_init_by_tag(&ud, 4, dd, dnnl_f32, nd->blk ? dnnl_nChw16c : dnnl_nchw));
  /* PyTorch layouts: conv weight [out][in][k][k] = oihw; deconv weight [in][out][k][k] = iohw */
  DN(dnnl_memory_desc_init_by_tag(&uw, 4, wd, dnnl_f32, de ? dnnl_iohw : dnnl_oihw));
  DN(dnnl_memory_desc_init_by_tag(&ub, 1, bd, dnnl_f32, dnnl_x));
  DN(dnnl_memory_desc_init_by_tag(&as, 4, sd, dnnl_f32, dnnl_format_tag_any));
  DN(dnnl_memory_desc_init_by_tag(&ad, 4, dd, dnnl_f32, dnnl_format_tag_any));
  DN(dnnl_memory_desc_init_by_tag(&aw, 4, wd, dnnl_f32, dnnl_format_tag_any));
  const dnnl_memory_desc_t *pb = nd->bias ? &ub : NULL;
  /* oneDNN 2.6 adds a transposed convolution's bias in a separate scalar pass that converts
   * every element through a data-type switch: a third of a 32x32 SAIC decode. The forward
   * primitive gets no bias; nn_conv_forward adds it (the same float additions, so the same
   * bits). Backward-weights still computes the bias gradient. */
  const dnnl_memory_desc_t *pb_fwd = de ? NULL : pb;

  /* Inference only: the forward primitive alone (the same one training uses, so the outputs
   * are the same bits); the backward ones and their temporaries are not made. */
  const bool fwd_only = net->inference_only;
  dnnl_primitive_attr_t attr;
  DN(dnnl_primitive_attr_create(&attr));
  dnnl_status_t s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  if (s == dnnl_success && fwd_only) {
    if (de) {
      dnnl_deconvolution_desc_t f;
      s = dnnl_deconvolution_forward_desc_init(&f, dnnl_forward_training, dnnl_deconvolution_direct,
                                               &as, &aw, pb_fwd, &ad, strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->fpd, &f, attr, net->dnnl->eng, NULL);
    } else {
      dnnl_convolution_desc_t f;
      s = dnnl_convolution_forward_desc_init(&f, dnnl_forward_training, dnnl_convolution_direct,
                                             &as, &aw, pb, &ad, strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->fpd, &f, attr, net->dnnl->eng, NULL);
    }
  } else if (s == dnnl_success) {
    if (de) {
      dnnl_deconvolution_desc_t f, d, w;
      s = dnnl_deconvolution_forward_desc_init(&f, dnnl_forward_training, dnnl_deconvolution_direct,
                                               &as, &aw, pb_fwd, &ad, strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->fpd, &f, attr, net->dnnl->eng, NULL);
      if (s == dnnl_success)
        s = dnnl_deconvolution_backward_data_desc_init(&d, dnnl_deconvolution_direct, &as, &aw, &ad,
                                                       strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->dpd, &d, attr, net->dnnl->eng, c->fpd);
      if (s == dnnl_success)
        s = dnnl_deconvolution_backward_weights_desc_init(&w, dnnl_deconvolution_direct, &as, &aw,
                                                          pb, &ad, strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->wpd, &w, attr, net->dnnl->eng, c->fpd);
    } else {
      dnnl_convolution_desc_t f, d, w;
      s = dnnl_convolution_forward_desc_init(&f, dnnl_forward_training, dnnl_convolution_direct,
                                             &as, &aw, pb, &ad, strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->fpd, &f, attr, net->dnnl->eng, NULL);
      if (s == dnnl_success)
        s = dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &as, &aw, &ad,
                                                     strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->dpd, &d, attr, net->dnnl->eng, c->fpd);
      if (s == dnnl_success)
        s = dnnl_convolution_backward_weights_desc_init(&w, dnnl_convolution_direct, &as, &aw, pb,
                                                        &ad, strides, pl, pr);
      if (s == dnnl_success)
        s = dnnl_primitive_desc_create(&c->wpd, &w, attr, net->dnnl->eng, c->fpd);
    }
  }
  dnnl_primitive_attr_destroy(attr);
  if (s != dnnl_success)
    return nn_err_set(&net->err, NN_E_BACKEND,
                      "oneDNN: cannot create %s primitives for node '%s' (status %d)",
                      de ? "deconvolution" : "convolution", nd->name, (int)s);
  DN(dnnl_primitive_create(&c->fwd, c->fpd));
  int rc;
  if (fwd_only) {
    if ((rc = role_init(net, nd, &c->src_f, &us, q(c->fpd, dnnl_query_src_md), true)) ||
        (rc = role_init(net, nd, &c->wei_f, &uw, q(c->fpd, dnnl_query_weights_md), true)) ||
        (rc = role_init(net, nd, &c->dst_f, &ud, q(c->fpd, dnnl_query_dst_md), false)) ||
        (rc = scratch_mem(net, nd, c->fpd, &c->scr_f)))
      return rc;
    if (nd->bias && !de)
      DN(dnnl_memory_create(&c->bias_m, &ub, net->dnnl->eng, DNNL_MEMORY_NONE));
    if ((c->src_f.reo && !(c->src_p = nn_aligned_alloc(c->src_f.pbytes))) ||
        !(c->wei_fp = nn_aligned_alloc(c->wei_f.pbytes)))
      goto nomem;
    if (!de && nd->chain[NN_EVAL].tail >= 0 && (rc = plan_fused(net, nd, &as, &uw, &ub)))
      return rc;
    return nn_ws_reserve(net, 0, c->dst_f.pbytes);
  }
  DN(dnnl_primitive_create(&c->bwd_d, c->dpd));
  DN(dnnl_primitive_create(&c->bwd_w, c->wpd));
  if ((rc = role_init(net, nd, &c->src_f, &us, q(c->fpd, dnnl_query_src_md), true)) ||
      (rc = role_init(net, nd, &c->wei_f, &uw, q(c->fpd, dnnl_query_weights_md), true)) ||
      (rc = role_init(net, nd, &c->dst_f, &ud, q(c->fpd, dnnl_query_dst_md), false)) ||
      (rc = role_init(net, nd, &c->ddst_d, &ud, q(c->dpd, dnnl_query_diff_dst_md), true)) ||
      (rc = role_init(net, nd, &c->wei_d, &uw, q(c->dpd, dnnl_query_weights_md), true)) ||
      (rc = role_init(net, nd, &c->dsrc_d, &us, q(c->dpd, dnnl_query_diff_src_md), false)) ||
      (rc = role_init(net, nd, &c->src_w, &us, q(c->wpd, dnnl_query_src_md), true)) ||
      (rc = role_init(net, nd, &c->ddst_w, &ud, q(c->wpd, dnnl_query_diff_dst_md), true)) ||
      (rc = role_init(net, nd, &c->dwei_w, &uw, q(c->wpd, dnnl_query_diff_weights_md), false)))
    return rc;
  if ((rc = scratch_mem(net, nd, c->fpd, &c->scr_f)) ||
      (rc = scratch_mem(net, nd, c->dpd, &c->scr_d)) ||
      (rc = scratch_mem(net, nd, c->wpd, &c->scr_w)))
    return rc;
  if (nd->bias) {
    if (!de) /* a transposed convolution's forward adds its bias itself (add_bias) */
      DN(dnnl_memory_create(&c->bias_m, &ub, net->dnnl->eng, DNNL_MEMORY_NONE));
    DN(dnnl_memory_create(&c->dbias_m, &ub, net->dnnl->eng, DNNL_MEMORY_NONE));
    if (!(c->dbias_u = nn_aligned_alloc(sizeof(float) * (size_t)nd->c)))
      goto nomem;
  }
  if (c->src_f.reo && !(c->src_p = nn_aligned_alloc(c->src_f.pbytes)))
    goto nomem;
  if (!(c->wei_fp = nn_aligned_alloc(c->wei_f.pbytes)) ||
      !(c->wei_dp = nn_aligned_alloc(c->wei_d.pbytes)) ||
      !(c->dwei_p = nn_aligned_alloc(c->dwei_w.pbytes)) ||
      !(c->dwei_u = nn_aligned_alloc(dnnl_memory_desc_get_size(&uw))))
    goto nomem;
  /* Shared temporaries: ws0 dst / diff_src (prim layout), ws1 diff_dst for backward data,
   * ws2 diff_dst for backward weights and a re-laid-out src, ws3 diff_src in user layout. */
  size_t act_u = dnnl_memory_desc_get_size(&us);
  if (!de && nd->chain[NN_EVAL].tail >= 0 && (rc = plan_fused(net, nd, &as, &uw, &ub)))
    return rc;
  if ((rc = nn_ws_reserve(net, 0, c->dst_f.pbytes)) ||
      (rc = nn_ws_reserve(net, 0, c->dsrc_d.pbytes)) ||
      (rc = nn_ws_reserve(net, 1, c->ddst_d.pbytes)) ||
      (rc = nn_ws_reserve(net, 2, c->ddst_w.pbytes + c->src_w.pbytes + 128)) ||
      (rc = nn_ws_reserve(net, 3, act_u)))
    return rc;
  return NN_OK;
nomem:
  return nn_err_set(&net->err, NN_E_NOMEM, "out of memory planning node '%s'", nd->name);
}

int nn_conv_plan(nn_net *net, nn_node *nd) {
  nd->conv = calloc(1, sizeof *nd->conv);
  if (!nd->conv)
    return nn_err_set(&net->err, NN_E_NOMEM, "out of memory planning node '%s'", nd->name);
  int rc = conv_plan(net, nd);
  if (rc == NN_OK && net->use_blk && nn_deconv_gemm_fits(net, nd)) {
    nd->conv->gemm = true;
    rc = nn_ws_reserve(net, 0, nn_deconv_gemm_ws_bytes(net, nd));
  }
  if (rc != NN_OK)
    nn_conv_release(nd);
  return rc;
}

static int exec(nn_net *net, nn_node *nd, dnnl_primitive_t p, dnnl_memory_t scr, int n,
                dnnl_exec_arg_t *a) {
  DN(dnnl_memory_set_data_handle(scr, net->scratch));
  a[n].arg = DNNL_ARG_SCRATCHPAD;
  a[n].memory = scr;
  DN(dnnl_primitive_execute(p, net->dnnl->st, n + 1, a));
  return NN_OK;
}

/* The buffer a primitive reads for an input role: the user buffer itself or `prim` after a
 * reorder into it. */
static int role_in(nn_net *net, nn_node *nd, role *r, void *user, void *prim, void **out) {
  if (!r->reo) {
    *out = user;
    return NN_OK;
  }
  *out = prim;
  return role_reorder(net, nd, r, user, prim);
}

/* role_in for weights: with constant parameters a reordered copy already made is reused. */
static int weights_in(nn_net *net, nn_node *nd, role *r, derived *at, void *user, void *prim,
                      void **out) {
  if (r->reo && derived_current(net, at)) {
    *out = prim;
    return NN_OK;
  }
  int rc = role_in(net, nd, r, user, prim, out);
  if (rc == NN_OK)
    derived_mark(net, at);
  return rc;
}

/* y[n][c][p] += bias[c], y in NCHW (transposed convolutions write plain outputs: net.c). */
static void add_bias(nn_tensor *y, const float *bias, int thr) {
  const int N = y->n, C = y->c;
  const size_t HW = (size_t)y->h * (size_t)y->w;
#pragma omp parallel for collapse(2) schedule(static) num_threads(thr)
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++) {
      float *p = y->data + ((size_t)n * (size_t)C + (size_t)c) * HW;
      const float b = bias[c];
      for (size_t i = 0; i < HW; i++)
        p[i] += b;
    }
}

int nn_conv_forward(nn_net *net, nn_node *nd, const nn_tensor *x) {
  struct nn_conv_impl *c = nd->conv;
  nn_param *w = &net->params[nd->p[0]];
  if (c->gemm) {
    c->src_ok = false; /* src_p was not written: backward-weights reorders the input itself */
    return nn_deconv_gemm_forward(net, nd, x);
  }
  void *src, *wei, *dst = c->dst_f.reo ? (void *)net->ws[0] : (void *)nd->out.data;
  int rc;
  if ((rc = role_in(net, nd, &c->src_f, x->data, c->src_p, &src)))
    return rc;
  if ((rc = weights_in(net, nd, &c->wei_f, &c->wei_f_at, w->value.data, c->wei_fp, &wei)))
    return rc;
  DN(dnnl_memory_set_data_handle(c->src_f.pm, src));
  DN(dnnl_memory_set_data_handle(c->wei_f.pm, wei));
  DN(dnnl_memory_set_data_handle(c->dst_f.pm, dst));
  dnnl_exec_arg_t a[5] = {
      {DNNL_ARG_SRC, c->src_f.pm}, {DNNL_ARG_WEIGHTS, c->wei_f.pm}, {DNNL_ARG_DST, c->dst_f.pm}};
  int n = 3;
  const bool de = nd->op == NN_OP_DECONV;
  if (nd->bias && !de) {
    DN(dnnl_memory_set_data_handle(c->bias_m, net->params[nd->p[1]].value.data));
    a[n].arg = DNNL_ARG_BIAS;
    a[n++].memory = c->bias_m;
  }
  if ((rc = exec(net, nd, c->fwd, c->scr_f, n, a)))
    return rc;
  if (c->dst_f.reo && (rc = role_reorder(net, nd, &c->dst_f, nd->out.data, dst)))
    return rc;
  DN(dnnl_stream_wait(net->dnnl->st));
  if (nd->bias && de)
    add_bias(&nd->out, net->params[nd->p[1]].value.data, net->threads);
  c->src_ok = true;
  return NN_OK;
}

int nn_conv_forward_fused(nn_net *net, nn_node *nd, const nn_tensor *x) {
  struct nn_conv_impl *c = nd->conv;
  nn_node *tail = &net->nodes[nd->chain[NN_EVAL].tail];
  const float *w = net->params[nd->p[0]].value.data;
  const float *bias = nd->bias ? net->params[nd->p[1]].value.data : NULL;
  const int O = nd->c;
  const size_t per_o = (size_t)net->nodes[nd->in[0]].c * nd->k * nd->k;
  /* BN(conv(x, w) + bias) = conv(x, a w) + (a bias + b) with BN's per-channel a, b */
  nn_node *bn = nd->chain[NN_EVAL].bn >= 0 ? &net->nodes[nd->chain[NN_EVAL].bn] : NULL;
  const bool folded = derived_current(net, &c->fold_at); /* wfold, bfold and wei_ip are current */
  if (!folded) {
    if (bn)
      nn_k_bn_eval_coeffs(net, bn);
    for (int o = 0; o < O; o++) {
      const float a = bn ? bn->save[2 * O + o] : 1.f, b = bn ? bn->save[3 * O + o] : 0.f;
      for (size_t i = 0; i < per_o; i++)
        c->wfold[o * per_o + i] = bn ? a * w[o * per_o + i] : w[o * per_o + i];
      c->bfold[o] = bn ? (bias ? a * bias[o] + b : b) : (bias ? bias[o] : 0.f);
    }
  }
  const float *other =
      nd->chain[NN_EVAL].add >= 0 ? net->nodes[nd->chain[NN_EVAL].other].out.data : NULL;
  if (other && !c->binary)
    nn_k_add_into(other, tail->out.data, nn_tensor_numel(&tail->out), false, net->threads);
  void *src, *wei;
  float *sbuf = c->src_ip ? c->src_ip : c->src_p;
  int rc;
  if ((rc = role_in(net, nd, &c->src_i, x->data, sbuf, &src)))
    return rc;
  if (folded)
    wei = c->wei_i.reo ? (void *)c->wei_ip : (void *)c->wfold;
  else if ((rc = role_in(net, nd, &c->wei_i, c->wfold, c->wei_ip, &wei)))
    return rc;
  else
    derived_mark(net, &c->fold_at);
  /* src_p now holds this input in the training layout only if it was written here */
  c->src_ok = c->src_i.reo && sbuf == c->src_p;
  DN(dnnl_memory_set_data_handle(c->src_i.pm, src));
  DN(dnnl_memory_set_data_handle(c->wei_i.pm, wei));
  DN(dnnl_memory_set_data_handle(c->bias_i, c->bfold));
  void *dst = c->dst_i.reo ? (void *)net->ws[0] : (void *)tail->out.data;
  DN(dnnl_memory_set_data_handle(c->dst_i.pm, dst));
  dnnl_exec_arg_t a[6] = {{DNNL_ARG_SRC, c->src_i.pm},
                          {DNNL_ARG_WEIGHTS, c->wei_i.pm},
                          {DNNL_ARG_BIAS, c->bias_i},
                          {DNNL_ARG_DST, c->dst_i.pm}};
  int n = 4;
  if (other && c->binary) {
    DN(dnnl_memory_set_data_handle(c->other_i, (void *)other));
    a[n].arg = DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1;
    a[n++].memory = c->other_i;
  }
  if ((rc = exec(net, nd, c->inf, c->scr_i, n, a)))
    return rc;
  if (c->dst_i.reo && (rc = role_reorder(net, nd, &c->dst_i, tail->out.data, dst)))
    return rc;
  DN(dnnl_stream_wait(net->dnnl->st));
  return NN_OK;
}

int nn_conv_backward(nn_net *net, nn_node *nd, const nn_tensor *x, bool want_dx, nn_tensor *dx,
                     bool want_dw) {
  struct nn_conv_impl *c = nd->conv;
  nn_param *w = &net->params[nd->p[0]];
  int rc;
  const size_t nx = nn_tensor_numel(x);
  if (want_dx) {
    bool accum = net->nodes[nd->in[0]].grad_set;
    void *ddst, *wei;
    void *dsrc_u = accum ? (void *)net->ws[3] : (void *)dx->data;
    void *dsrc = c->dsrc_d.reo ? (void *)net->ws[0] : dsrc_u;
    if ((rc = role_in(net, nd, &c->ddst_d, nd->grad.data, net->ws[1], &ddst)) ||
        (rc = weights_in(net, nd, &c->wei_d, &c->wei_d_at, w->value.data, c->wei_dp, &wei)))
      return rc;
    DN(dnnl_memory_set_data_handle(c->ddst_d.pm, ddst));
    DN(dnnl_memory_set_data_handle(c->wei_d.pm, wei));
    DN(dnnl_memory_set_data_handle(c->dsrc_d.pm, dsrc));
    dnnl_exec_arg_t a[4] = {{DNNL_ARG_DIFF_DST, c->ddst_d.pm},
                            {DNNL_ARG_WEIGHTS, c->wei_d.pm},
                            {DNNL_ARG_DIFF_SRC, c->dsrc_d.pm}};
    if ((rc = exec(net, nd, c->bwd_d, c->scr_d, 3, a)))
      return rc;
    if (c->dsrc_d.reo && (rc = role_reorder(net, nd, &c->dsrc_d, dsrc_u, dsrc)))
      return rc;
    DN(dnnl_stream_wait(net->dnnl->st));
    if (accum)
      nn_k_add_into(net->ws[3], dx->data, nx, true, net->threads);
  }
  if (want_dw) {
    void *src, *ddst;
    char *ws2 = (char *)net->ws[2];
    void *src_tmp = ws2 + ((c->ddst_w.pbytes + 63) & ~(size_t)63);
    /* Backward weights usually wants the forward's layout of src: reuse the kept copy. */
    if (c->src_f.reo && c->src_ok && dnnl_memory_desc_equal(&c->src_f.pmd, &c->src_w.pmd))
      src = c->src_p;
    else if ((rc = role_in(net, nd, &c->src_w, x->data, src_tmp, &src)))
      return rc;
    if ((rc = role_in(net, nd, &c->ddst_w, nd->grad.data, ws2, &ddst)))
      return rc;
    bool wdirect = !c->dwei_w.reo;
    DN(dnnl_memory_set_data_handle(c->src_w.pm, src));
    DN(dnnl_memory_set_data_handle(c->ddst_w.pm, ddst));
    DN(dnnl_memory_set_data_handle(c->dwei_w.pm, wdirect ? c->dwei_u : c->dwei_p));
    dnnl_exec_arg_t a[5] = {{DNNL_ARG_SRC, c->src_w.pm},
                            {DNNL_ARG_DIFF_DST, c->ddst_w.pm},
                            {DNNL_ARG_DIFF_WEIGHTS, c->dwei_w.pm}};
    int n = 3;
    if (nd->bias) {
      DN(dnnl_memory_set_data_handle(c->dbias_m, c->dbias_u));
      a[n].arg = DNNL_ARG_DIFF_BIAS;
      a[n++].memory = c->dbias_m;
    }
    if ((rc = exec(net, nd, c->bwd_w, c->scr_w, n, a)))
      return rc;
    if (!wdirect && (rc = role_reorder(net, nd, &c->dwei_w, c->dwei_u, c->dwei_p)))
      return rc;
    DN(dnnl_stream_wait(net->dnnl->st));
    /* oneDNN overwrites; parameter gradients accumulate. Frozen parameters are skipped. */
    if (!w->frozen)
      nn_k_add_into(c->dwei_u, w->grad.data, nn_tensor_numel(&w->grad), true, net->threads);
    if (nd->bias && !net->params[nd->p[1]].frozen)
      nn_k_add_into(c->dbias_u, net->params[nd->p[1]].grad.data, (size_t)nd->c, true, 1);
  }
  return NN_OK;
}
