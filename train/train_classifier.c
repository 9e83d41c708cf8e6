/* train_classifier.c - the classifier training loop and `saicbench train classifier`.
 *
 * Determinism: one xoshiro256** stream (seeded from cfg.seed) drives the per-epoch shuffle and
 * the augmentation, in that order; its state is saved with every checkpoint, which is always
 * written at the end of an epoch, so a resumed run replays exactly what the uninterrupted run
 * would have done (bit-identical with the same thread count, see nn/README.md). */
#include "train_classifier.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "classifier.h"
#include "data.h"
#include "nn.h"
#include "train_loop.h"

/* Softmax cross-entropy with label smoothing eps (target (1-eps) one-hot + eps/K uniform),
 * averaged over the batch; grad = (softmax - target) / N. Counts top-1 hits. */
static double smoothed_xent(const nn_tensor *logits, const int *labels, float eps, nn_tensor *grad,
                            int *correct) {
  const int n = logits->n, k = logits->c * logits->h * logits->w;
  double loss = 0;
  int hits = 0;
  for (int i = 0; i < n; i++) {
    const float *z = logits->data + (size_t)i * (size_t)k;
    float *g = grad->data + (size_t)i * (size_t)k;
    int arg = 0;
    float mx = z[0];
    for (int j = 1; j < k; j++)
      if (z[j] > mx)
        mx = z[j], arg = j;
    hits += arg == labels[i];
    double se = 0;
    for (int j = 0; j < k; j++)
      se += exp((double)(z[j] - mx));
    const double lse = log(se) + mx;
    double l = 0;
    for (int j = 0; j < k; j++) {
      double q = (j == labels[i] ? 1.0 - eps : 0.0) + eps / k;
      double p = exp((double)z[j] - lse);
      l -= q * ((double)z[j] - lse);
      g[j] = (float)((p - q) / n);
    }
    loss += l;
  }
  *correct = hits;
  return loss / n;
}

typedef struct trainer {
  const train_classifier_cfg *cfg;
  const classifier_arch *arch;
  nn_net *net, *eval_net;
  int logits, eval_logits;
  nn_optim *opt;
  nn_rng rng;
  float mean[3], std[3];
  int epoch; /* epochs completed */
  long step; /* optimiser steps completed */
  double train_seconds;
  double best_acc, last_acc;
  int best_epoch;
} trainer;

/* Metadata shared by last.ckpt and best.ckpt. Values point into `store`. */
typedef struct meta_set {
  nn_kv kv[20];
  int n;
  char store[12][128];
} meta_set;

static void build_meta(const trainer *t, const train_classifier_opts *o, double test_acc,
                       meta_set *m) {
  int s = 0;
  m->n = 0;
  m->kv[m->n++] = (nn_kv){"arch", t->arch->name};
  m->kv[m->n++] = (nn_kv){"task", "classification"};
  m->n += train_util_meta_opts(o, m->kv + m->n);
  classifier_format3(t->mean, m->store[s], 128);
  m->kv[m->n++] = (nn_kv){"norm_mean", m->store[s++]};
  classifier_format3(t->std, m->store[s], 128);
  m->kv[m->n++] = (nn_kv){"norm_std", m->store[s++]};
  snprintf(m->store[s], 128, "%.4f", test_acc);
  m->kv[m->n++] = (nn_kv){"test_accuracy", m->store[s++]};
  snprintf(m->store[s], 128, "%d", t->epoch);
  m->kv[m->n++] = (nn_kv){"epoch", m->store[s++]};
  snprintf(m->store[s], 128, "%ld", t->step);
  m->kv[m->n++] = (nn_kv){"step", m->store[s++]};
  snprintf(m->store[s], 128, "%ld", classifier_count_params(t->net));
  m->kv[m->n++] = (nn_kv){"params", m->store[s++]};
  snprintf(m->store[s], 128, "%.1f", t->train_seconds);
  m->kv[m->n++] = (nn_kv){"train_seconds", m->store[s++]};
  snprintf(m->store[s], 128, "%d", nn_net_threads(t->net));
  m->kv[m->n++] = (nn_kv){"threads", m->store[s++]};
}

static int save_last(trainer *t, const train_classifier_opts *o, const char *path, nn_err *err) {
  meta_set m;
  build_meta(t, o, t->last_acc, &m);
  char rng[80], best[64], best_ep[32];
  train_util_rng_to_hex(&t->rng, rng, sizeof rng);
  snprintf(best, sizeof best, "%.4f", t->best_acc);
  snprintf(best_ep, sizeof best_ep, "%d", t->best_epoch);
  m.kv[m.n++] = (nn_kv){"rng", rng};
  m.kv[m.n++] = (nn_kv){"best_test_accuracy", best};
  m.kv[m.n++] = (nn_kv){"best_epoch", best_ep};
  /* A parameter-only network carries the model tensors plus the optimiser state. */
  nn_net *sh = nn_net_create(t->arch->in_c, t->arch->in_h, t->arch->in_w, 1, err);
  if (!sh)
    return err ? err->code : NN_E_NOMEM;
  const int np = nn_net_num_params(t->net);
  for (int i = 0; i < np; i++) {
    const nn_param *p = nn_net_param(t->net, i);
    int dims[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
    char name[128];
    nn_net_add_param(sh, p->name, p->ndim, dims, true);
    for (int w = 0; w < 2; w++)
      if (nn_optim_state(t->opt, i, w)) {
        snprintf(name, sizeof name, "optim.%c.%s", w ? 'v' : 'm', p->name);
        nn_net_add_param(sh, name, p->ndim, dims, true);
      }
  }
  int rc = NN_OK;
  if (nn_net_error(sh)) {
    rc = nn_err_set(err, NN_E_ARG, "%s: %s", path, nn_net_error(sh));
  } else {
    int k = 0;
    for (int i = 0; i < np; i++) {
      const nn_param *p = nn_net_param(t->net, i);
      size_t bytes = sizeof(float) * nn_tensor_numel(&p->value);
      memcpy(nn_net_param(sh, k++)->value.data, p->value.data, bytes);
      for (int w = 0; w < 2; w++) {
        const float *st = nn_optim_state(t->opt, i, w);
        if (st)
          memcpy(nn_net_param(sh, k++)->value.data, st, bytes);
      }
    }
    rc = nn_ckpt_save(path, sh, m.kv, m.n, err);
  }
  nn_net_free(sh);
  return rc;
}

static int save_best(trainer *t, const train_classifier_opts *o, const char *path, nn_err *err) {
  meta_set m;
  build_meta(t, o, t->last_acc, &m);
  return nn_ckpt_save(path, t->net, m.kv, m.n, err);
}

static int restore_last(trainer *t, const char *path, const train_classifier_opts *o, nn_err *err) {
  nn_ckpt *ck = NULL;
  int rc = nn_ckpt_read(path, &ck, err);
  if (rc != NN_OK)
    return rc;
  const char *arch = nn_ckpt_meta(ck, "arch");
  if (!arch || strcmp(arch, t->arch->name) != 0) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: architecture \"%s\", the configuration says \"%s\"",
                    path, arch ? arch : "(none)", t->arch->name);
    goto out;
  }
  const char *ep = nn_ckpt_meta(ck, "epoch"), *stp = nn_ckpt_meta(ck, "step");
  const char *secs = nn_ckpt_meta(ck, "train_seconds"),
             *best = nn_ckpt_meta(ck, "best_test_accuracy");
  const char *best_ep = nn_ckpt_meta(ck, "best_epoch"), *last = nn_ckpt_meta(ck, "test_accuracy");
  if (!ep || !stp || train_util_rng_from_hex(nn_ckpt_meta(ck, "rng"), &t->rng) ||
      classifier_parse3(nn_ckpt_meta(ck, "norm_mean"), t->mean) ||
      classifier_parse3(nn_ckpt_meta(ck, "norm_std"), t->std)) {
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: not a resumable training checkpoint (epoch/step/rng/norm metadata "
                    "missing or malformed)",
                    path);
    goto out;
  }
  if ((rc = train_util_check_dataset(ck, o, path, "", err)) != NN_OK)
    goto out;
  train_util_warn_config(ck, o, path);
  if ((rc = classifier_apply_ckpt(ck, t->net, "optim.", err)) != NN_OK)
    goto out;
  for (int i = 0; i < nn_net_num_params(t->net); i++) {
    const nn_param *p = nn_net_param(t->net, i);
    for (int w = 0; w < 2; w++) {
      float *st = nn_optim_state(t->opt, i, w);
      char name[128];
      snprintf(name, sizeof name, "optim.%c.%s", w ? 'v' : 'm', p->name);
      if (!st && nn_ckpt_find_tensor(ck, name) >= 0) {
        rc = nn_err_set(err, NN_E_FORMAT,
                        "%s: optimiser state \"%s\" does not fit the "
                        "configured optimiser",
                        path, name);
        goto out;
      }
      if (st && (rc = train_util_restore_state(ck, name, st, nn_tensor_numel(&p->value), path, "",
                                               err)) != NN_OK)
        goto out;
    }
  }
  t->epoch = atoi(ep);
  t->step = atol(stp);
  t->train_seconds = secs ? atof(secs) : 0;
  t->best_acc = best ? atof(best) : -1;
  t->best_epoch = best_ep ? atoi(best_ep) : 0;
  t->last_acc = last ? atof(last) : -1;
  nn_optim_set_steps(t->opt, t->step);
out:
  nn_ckpt_free(ck);
  return rc;
}

/* Test accuracy (and mean CE loss) of the current weights, on a separate eval-mode network so
 * the training network keeps its planned batch size. */
static int evaluate(trainer *t, const train_classifier_data *d, double *acc, double *loss,
                    nn_err *err) {
  for (int i = 0; i < nn_net_num_params(t->net); i++) {
    const nn_param *p = nn_net_param(t->net, i);
    memcpy(nn_net_param(t->eval_net, i)->value.data, p->value.data,
           sizeof(float) * nn_tensor_numel(&p->value));
  }
  const int eb = t->cfg->eval_batch, k = t->arch->num_classes;
  const size_t per = (size_t)(3 * d->w * d->h);
  float *x = malloc(sizeof(float) * per * (size_t)eb);
  float *g = malloc(sizeof(float) * (size_t)eb * (size_t)k);
  if (!x || !g) {
    free(x);
    free(g);
    return nn_err_set(err, NN_E_NOMEM, "evaluate: out of memory");
  }
  long hits = 0;
  double lsum = 0;
  int rc = NN_OK;
  for (size_t i = 0; i < d->n; i += (size_t)eb) {
    int m = d->n - i < (size_t)eb ? (int)(d->n - i) : eb;
    classifier_normalise(d->rgb + i * (size_t)d->w * (size_t)d->h * 3, m, d->w, d->h, t->mean,
                         t->std, x);
    nn_tensor in = nn_tensor_view(x, m, 3, d->h, d->w);
    if (nn_net_forward(t->eval_net, &in, NN_EVAL) != NN_OK) {
      rc = nn_err_set(err, NN_E_BACKEND, "evaluate: %s", nn_net_error(t->eval_net));
      break;
    }
    nn_tensor gv = nn_tensor_view(g, m, k, 1, 1);
    int c;
    lsum +=
        smoothed_xent(nn_net_output(t->eval_net, t->eval_logits), d->labels + i, 0.f, &gv, &c) * m;
    hits += c;
  }
  free(x);
  free(g);
  *acc = d->n ? (double)hits / (double)d->n : 0;
  *loss = d->n ? lsum / (double)d->n : 0;
  return rc;
}

/* ---- the training loop's hooks (train_loop.h) ---- */

typedef struct classifier_run {
  trainer *t;
  const train_classifier_data *test;
  const train_classifier_opts *o;
  train_classifier_result *res;
  const char *last_path, *best_path;
  nn_tensor grad; /* d loss / d logits of one batch */
  long ep_hits;
  double win_loss;
  long win_hits;
  double test_acc, test_loss;
} classifier_run;

static void clf_load(void *ctx, const uint8_t *rgb, float *out) {
  const trainer *t = ((const classifier_run *)ctx)->t;
  classifier_normalise(rgb, 1, t->arch->in_w, t->arch->in_h, t->mean, t->std, out);
}

static void clf_begin_epoch(void *ctx) { ((classifier_run *)ctx)->ep_hits = 0; }

static int clf_step(void *ctx, const nn_tensor *x, const int *labels, float lr, double *loss,
                    nn_err *err) {
  classifier_run *r = ctx;
  trainer *t = r->t;
  nn_net_zero_grad(t->net);
  if (nn_net_forward(t->net, x, NN_TRAIN) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "forward: %s", nn_net_error(t->net));
  int hits;
  const double l = smoothed_xent(nn_net_output(t->net, t->logits), labels, t->cfg->label_smoothing,
                                 &r->grad, &hits);
  if (!isfinite(l))
    return nn_err_set(err, NN_E_STATE, "loss is %g at epoch %d step %ld (lr %g): training diverged",
                      l, t->epoch + 1, t->step, (double)lr);
  if (nn_net_backward(t->net, 1, &t->logits, &r->grad) != NN_OK ||
      nn_optim_step(t->opt, lr) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "backward: %s", nn_net_error(t->net));
  *loss = l;
  r->ep_hits += hits;
  r->win_loss += l;
  r->win_hits += hits;
  return NN_OK;
}

static void clf_progress(void *ctx, FILE *f, const train_loop_progress *p) {
  classifier_run *r = ctx;
  const double n = (double)p->window_steps;
  fprintf(f,
          "epoch %d/%d step %ld/%ld loss %.4f acc %.2f%% lr %.5f img/s %.0f elapsed %s "
          "eta %s\n",
          p->epoch, r->t->cfg->epochs, p->step, p->total_steps, r->win_loss / n,
          100.0 * (double)r->win_hits / (n * r->t->cfg->batch_size), (double)p->lr, p->img_per_s,
          p->elapsed, p->eta);
  fflush(f);
  r->win_loss = 0;
  r->win_hits = 0;
}

static int clf_evaluate(void *ctx, const train_loop_epoch *e, nn_err *err) {
  classifier_run *r = ctx;
  r->res->last_train_loss = e->mean_loss;
  r->res->last_train_acc = (double)r->ep_hits / ((double)e->steps * e->batch);
  r->test_acc = -1;
  r->test_loss = 0;
  if (r->test && r->test->n)
    return evaluate(r->t, r->test, &r->test_acc, &r->test_loss, err);
  return NN_OK;
}

static int clf_end_epoch(void *ctx, const train_loop_epoch *e, nn_err *err) {
  classifier_run *r = ctx;
  trainer *t = r->t;
  t->last_acc = r->test_acc;
  const bool improved = r->test_acc > t->best_acc;
  if (improved) {
    t->best_acc = r->test_acc;
    t->best_epoch = t->epoch;
  }
  if (r->o->log) {
    fprintf(r->o->log,
            "epoch %d/%d done: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | "
            "best %.2f%% (epoch %d) | %.1f s, %.0f img/s\n",
            t->epoch, t->cfg->epochs, r->res->last_train_loss, 100 * r->res->last_train_acc,
            r->test_loss, 100 * r->test_acc, 100 * t->best_acc, t->best_epoch,
            train_util_now_s() - e->start, (double)e->steps * e->batch / e->train_time);
    fflush(r->o->log);
  }
  int rc;
  if (improved && (rc = save_best(t, r->o, r->best_path, err)) != NN_OK)
    return rc;
  if (e->save_last && (rc = save_last(t, r->o, r->last_path, err)) != NN_OK)
    return rc;
  return NN_OK;
}

/* ---- the trainer ---- */

/* The architecture exists and takes the data's images; every label is a class of it. */
static int check_inputs(const train_classifier_cfg *cfg, const classifier_arch *arch,
                        const train_classifier_data *train, const train_classifier_data *test,
                        nn_err *err) {
  if (!arch)
    return nn_err_set(err, NN_E_ARG, "unknown architecture \"%s\"", cfg->arch);
  if (train->w != arch->in_w || train->h != arch->in_h ||
      (test && (test->w != arch->in_w || test->h != arch->in_h)))
    return nn_err_set(err, NN_E_SHAPE, "%s takes %dx%d images, the data has %dx%d", cfg->arch,
                      arch->in_w, arch->in_h, train->w, train->h);
  if (train->n < (size_t)cfg->batch_size)
    return nn_err_set(err, NN_E_ARG, "%zu training images, fewer than one batch (%d)", train->n,
                      cfg->batch_size);
  for (size_t i = 0; i < train->n; i++)
    if (train->labels[i] < 0 || train->labels[i] >= arch->num_classes)
      return nn_err_set(err, NN_E_ARG, "training label %d of item %zu is outside [0, %d)",
                        train->labels[i], i, arch->num_classes);
  for (size_t i = 0; test && i < test->n; i++)
    if (test->labels[i] < 0 || test->labels[i] >= arch->num_classes)
      return nn_err_set(err, NN_E_ARG, "test label %d of item %zu is outside [0, %d)",
                        test->labels[i], i, arch->num_classes);
  return NN_OK;
}

static nn_lr_sched make_schedule(const train_classifier_cfg *cfg, long steps_per_epoch) {
  nn_lr_sched sched;
  memset(&sched, 0, sizeof sched);
  sched.kind = cfg->sched == TRAIN_CLASSIFIER_SCHED_COSINE ? NN_LR_COSINE
               : cfg->sched == TRAIN_CLASSIFIER_SCHED_STEP ? NN_LR_STEP
                                                           : NN_LR_CONST;
  sched.base_lr = cfg->lr;
  sched.warmup_steps = (long)llround(cfg->warmup_epochs * (double)steps_per_epoch);
  sched.warmup_start = cfg->warmup_start;
  sched.step_size = (long)llround(cfg->step_epochs * (double)steps_per_epoch);
  if (sched.step_size < 1)
    sched.step_size = 1;
  sched.gamma = cfg->gamma;
  sched.total_steps = steps_per_epoch * cfg->epochs;
  sched.min_lr = cfg->min_lr;
  return sched;
}

/* The networks (training and evaluation copies), the optimiser and the random stream. */
static int build_model(trainer *t, const train_classifier_opts *o, nn_err *err) {
  const train_classifier_cfg *cfg = t->cfg;
  t->net = classifier_build_net(t->arch, o->threads, cfg->seed, &t->logits, err);
  t->eval_net =
      t->net ? classifier_build_net(t->arch, o->threads, cfg->seed, &t->eval_logits, err) : NULL;
  if (!t->net || !t->eval_net)
    return err ? err->code : NN_E_ARG;
  nn_optim_cfg oc = nn_optim_defaults(cfg->optim);
  oc.momentum = cfg->optim == NN_SGD ? cfg->momentum : 0.f;
  oc.nesterov = cfg->nesterov;
  oc.weight_decay = cfg->weight_decay;
  oc.beta1 = cfg->beta1;
  oc.beta2 = cfg->beta2;
  t->opt = nn_optim_create(t->net, &oc, err);
  if (!t->opt)
    return err ? err->code : NN_E_ARG;
  nn_rng_seed(&t->rng, cfg->seed ^ 0x5a1cbe9c4c1a55ULL);
  return NN_OK;
}

int train_classifier(const train_classifier_cfg *cfg, const train_classifier_data *train,
                     const train_classifier_data *test, const train_classifier_opts *o,
                     train_classifier_result *res, nn_err *err) {
  memset(res, 0, sizeof *res);
  res->last_test_acc = res->best_test_acc = -1;
  trainer t;
  memset(&t, 0, sizeof t);
  t.cfg = cfg;
  t.best_acc = t.last_acc = -1;
  t.arch = classifier_arch_find(cfg->arch);
  int rc = check_inputs(cfg, t.arch, train, test, err);
  if (rc != NN_OK || (rc = train_util_ensure_dir(o->out_dir, err)) != NN_OK)
    return rc;
  char last_path[4096], best_path[4096];
  snprintf(last_path, sizeof last_path, "%s/last.ckpt", o->out_dir);
  snprintf(best_path, sizeof best_path, "%s/best.ckpt", o->out_dir);
  const long steps_per_epoch = (long)(train->n / (size_t)cfg->batch_size);
  const nn_lr_sched sched = make_schedule(cfg, steps_per_epoch);
  classifier_run run = {
      .t = &t, .test = test, .o = o, .res = res, .last_path = last_path, .best_path = best_path};
  if ((rc = build_model(&t, o, err)) != NN_OK)
    goto done;
  classifier_channel_stats(train->rgb, train->n, train->w, train->h, t.mean, t.std);
  if (o->resume) {
    if ((rc = train_util_check_resume(last_path, err)) != NN_OK ||
        (rc = restore_last(&t, last_path, o, err)) != NN_OK)
      goto done;
    if (o->log)
      fprintf(o->log, "resumed from %s: epoch %d, step %ld, best test acc %.2f%% (epoch %d)\n",
              last_path, t.epoch, t.step, 100 * t.best_acc, t.best_epoch);
  }
  if (t.epoch >= cfg->epochs && o->log)
    fprintf(o->log, "nothing to do: %d of %d epochs done\n", t.epoch, cfg->epochs);
  if (o->log) {
    char m[96], s[96];
    classifier_format3(t.mean, m, sizeof m);
    classifier_format3(t.std, s, sizeof s);
    fprintf(o->log,
            "arch %s (%ld parameters), %zu train / %zu test images, batch %d, %ld steps/epoch, "
            "%d epochs, %d threads, normalisation mean %s std %s\n",
            t.arch->name, classifier_count_params(t.net), train->n, test ? test->n : 0,
            cfg->batch_size, steps_per_epoch, cfg->epochs, nn_net_threads(t.net), m, s);
    fflush(o->log);
  }
  if ((rc = nn_tensor_alloc(&run.grad, cfg->batch_size, t.arch->num_classes, 1, 1, err)) != NN_OK)
    goto done;
  const train_loop_spec spec = {.rgb = train->rgb,
                                .labels = train->labels,
                                .n = train->n,
                                .w = train->w,
                                .h = train->h,
                                .batch = cfg->batch_size,
                                .epochs = cfg->epochs,
                                .log_every = cfg->log_every,
                                .checkpoint_every = cfg->checkpoint_every,
                                .crop_pad = cfg->crop_pad,
                                .flip = cfg->flip,
                                .sched = &sched,
                                .stop_after_epoch = o->stop_after_epoch,
                                .log = o->log};
  const train_loop_hooks hooks = {.load = clf_load,
                                  .begin_epoch = clf_begin_epoch,
                                  .step = clf_step,
                                  .progress = clf_progress,
                                  .evaluate = clf_evaluate,
                                  .end_epoch = clf_end_epoch};
  rc = train_loop_run(&spec, (train_loop_state){&t.rng, &t.epoch, &t.step, &t.train_seconds},
                      &hooks, &run, err);
done:
  res->epochs_done = t.epoch;
  res->steps_done = t.step;
  res->last_test_acc = t.last_acc;
  res->best_test_acc = t.best_acc;
  res->best_epoch = t.best_epoch;
  res->train_seconds = t.train_seconds;
  nn_tensor_free(&run.grad);
  nn_optim_free(t.opt);
  nn_net_free(t.net);
  nn_net_free(t.eval_net);
  return rc;
}

/* ---- command line ---- */

int train_load_split(const char *root, const char *split, int want_w, int want_h, size_t limit,
                     int threads, train_split *out, char *msg, size_t len) {
  memset(out, 0, sizeof *out);
  dataset *ds = NULL;
  if (dataset_open(root, split, &ds, msg, len) != 0)
    return -1;
  const size_t total = dataset_size(ds);
  const size_t n = limit && limit < total ? limit : total;
  image_rgb8 first = {0};
  if (dataset_load(ds, 0, &first, msg, len) != 0) {
    dataset_close(ds);
    return -1;
  }
  const int w = want_w > 0 ? want_w : first.width, h = want_h > 0 ? want_h : first.height;
  image_free(&first);
  const size_t img = (size_t)w * (size_t)h * 3;
  out->n = n;
  out->w = w;
  out->h = h;
  out->rgb = malloc(n * img);
  out->labels = malloc(sizeof(int) * n);
  char(*hex)[33] = malloc(sizeof *hex * n);
  size_t *item = malloc(sizeof(size_t) * n);
  int failed = 0;
  char first_err[512] = "";
  if (!out->rgb || !out->labels || !hex || !item) {
    snprintf(msg, len, "%s: out of memory for %zu images", root, n);
    failed = 1;
  }
  for (size_t i = 0; !failed && i < n; i++)
    item[i] = n == total ? i : (size_t)((unsigned long long)i * total / n);
#pragma omp parallel for schedule(dynamic, 256) num_threads(threads) if (!failed)
  for (size_t i = 0; i < n; i++) {
    if (failed)
      continue;
    char e[512];
    image_rgb8 im = {0};
    int bad = 0;
    const size_t it = item[i];
    if (dataset_load(ds, it, &im, e, sizeof e) != 0)
      bad = 1;
    else if (im.width != w || im.height != h) {
      snprintf(e, sizeof e, "%s/%s: %dx%d image, expected %dx%d", dataset_root(ds),
               dataset_item_name(ds, it), im.width, im.height, w, h);
      bad = 1;
    } else if (dataset_item_label(ds, it) < 0) {
      snprintf(e, sizeof e, "%s/%s: no label", dataset_root(ds), dataset_item_name(ds, it));
      bad = 1;
    } else if (dataset_item_source_hash(ds, it, hex[i], e, sizeof e) != 0)
      bad = 1;
    if (!bad) {
      memcpy(out->rgb + i * img, im.rgb, img);
      out->labels[i] = dataset_item_label(ds, it);
    }
    image_free(&im);
    if (bad) {
#pragma omp critical(train_load_split_err)
      {
        if (!failed)
          snprintf(first_err, sizeof first_err, "%s", e);
        failed = 1;
      }
    }
  }
  if (failed && first_err[0])
    snprintf(msg, len, "%s", first_err);
  if (!failed) {
    XXH3_state_t *st = XXH3_createState();
    XXH3_128bits_reset(st);
    for (size_t i = 0; i < n; i++) {
      const char *name = dataset_item_name(ds, item[i]);
      XXH3_128bits_update(st, name, strlen(name) + 1);
      uint8_t lb[4];
      uint32_t l = (uint32_t)out->labels[i];
      for (int b = 0; b < 4; b++)
        lb[b] = (uint8_t)(l >> (8 * b));
      XXH3_128bits_update(st, lb, 4);
      uint8_t hb[16];
      for (int b = 0; b < 16; b++) {
        unsigned v;
        sscanf(hex[i] + 2 * b, "%2x", &v);
        hb[b] = (uint8_t)v;
      }
      XXH3_128bits_update(st, hb, 16);
    }
    XXH128_hash_t hh = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    snprintf(out->hash, sizeof out->hash, "%016llx%016llx", (unsigned long long)hh.high64,
             (unsigned long long)hh.low64);
  }
  free(hex);
  free(item);
  dataset_close(ds);
  if (failed) {
    free(out->rgb);
    free(out->labels);
    memset(out, 0, sizeof *out);
    return -1;
  }
  return 0;
}

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: saicbench train classifier --config FILE [--data DIR] [--out DIR] [--resume]\n"
      "                                  [--threads N]\n"
      "  --config FILE  training configuration (YAML), e.g. "
      "tasks/configs/classifier_resnet20.yaml\n"
      "  --data DIR     CIFAR-10 folder, or a folder holding cifar10/ (default $SAICBENCH_DATA)\n"
      "                 trains on its train split; the test split is only evaluated\n"
      "  --out DIR      output folder for last.ckpt / best.ckpt (default train-out/classifier)\n"
      "  --resume       continue from DIR/last.ckpt (same configuration and data)\n"
      "  --threads N    compute threads (default: all cores)\n");
}

int train_classifier_main(int argc, char **argv) {
  train_util_args a;
  int status;
  if (!train_util_parse_args(argc, argv, "train classifier", "train-out/classifier", usage, NULL,
                             NULL, &a, &status))
    return status;
  char msg[1024];
  train_classifier_cfg cfg;
  char *cfg_text = NULL;
  if (train_classifier_cfg_load(a.config, &cfg, &cfg_text, msg, sizeof msg) != 0) {
    fprintf(stderr, "train classifier: %s\n", msg);
    return 1;
  }
  const classifier_arch *arch = classifier_arch_find(cfg.arch);
  char root[4096], command[8192];
  train_util_data_root(a.data, root, sizeof root);
  train_util_command(argc, argv, command, sizeof command);
  double t0 = train_util_now_s();
  train_split tr, te;
  if (train_load_split(root, "train", arch->in_w, arch->in_h, 0, a.threads, &tr, msg, sizeof msg) !=
      0) {
    fprintf(stderr, "train classifier: train split: %s\n", msg);
    free(cfg_text);
    return 1;
  }
  if (train_load_split(root, "test", arch->in_w, arch->in_h, 0, a.threads, &te, msg, sizeof msg) !=
      0) {
    fprintf(stderr, "train classifier: test split: %s\n", msg);
    free(tr.rgb);
    free(tr.labels);
    free(cfg_text);
    return 1;
  }
  printf("data %s: %zu train images (hash %s), %zu test images, loaded in %.1f s\n", root, tr.n,
         tr.hash, te.n, train_util_now_s() - t0);
  printf("command: %s\n", command);
  fflush(stdout);
  train_classifier_data dtr = {tr.rgb, tr.labels, tr.n, arch->in_w, arch->in_h};
  train_classifier_data dte = {te.rgb, te.labels, te.n, arch->in_w, arch->in_h};
  train_classifier_opts opts = {.out_dir = a.out,
                                .resume = a.resume,
                                .threads = a.threads,
                                .command = command,
                                .config_text = cfg_text,
                                .dataset_hash = tr.hash,
                                .log = stdout};
  train_classifier_result res;
  nn_err err = {0};
  int rc = train_classifier(&cfg, &dtr, &dte, &opts, &res, &err);
  if (rc != NN_OK)
    fprintf(stderr, "train classifier: %s\n", err.msg);
  else
    printf("finished: %d epochs, %ld steps, final test acc %.2f%%, best %.2f%% (epoch %d), "
           "%.1f s training; checkpoints in %s\n",
           res.epochs_done, res.steps_done, 100 * res.last_test_acc, 100 * res.best_test_acc,
           res.best_epoch, res.train_seconds, a.out);
  free(tr.rgb);
  free(tr.labels);
  free(te.rgb);
  free(te.labels);
  free(cfg_text);
  return rc == NN_OK ? 0 : 1;
}
