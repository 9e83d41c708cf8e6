/* train_codec.c - the SAIC codec's training loop and `saicbench train codec` (see
 * train_codec.h; the structure mirrors train/train_classifier.c, and the helpers both share are
 * in train/train_util.c).
 *
 * Determinism: one xoshiro256** stream (seeded from cfg.seed) drives the per-epoch shuffle, the
 * augmentation and the training noise; its state and the controller's lambdas are saved with
 * every checkpoint, which is always written at the end of an epoch, so a resumed run replays
 * exactly what the uninterrupted run would have done (bit-identical with the same thread count).
 * Evaluation draws nothing from the stream and runs on a separate copy of the model. */
#include "train_codec.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base.h"
#include "classifier.h"
#include "data.h"
#include "nn.h"
#include "saic.h"
#include "saic_train.h"
#include "train_classifier.h"
#include "train_loop.h"

/* "a,b,c", each the shortest %g form that reads back to the same double. */
static void format_list(const double *v, int n, char *buf, size_t len) {
  buf[0] = '\0';
  for (int i = 0; i < n; i++) {
    char num[32];
    for (int prec = 6; prec <= 17; prec++) {
      snprintf(num, sizeof num, "%.*g", prec, v[i]);
      if (strtod(num, NULL) == v[i])
        break;
    }
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, "%s%s", i ? "," : "", num);
  }
}

static int parse_list(const char *s, double *v, int n) {
  if (!s)
    return -1;
  for (int i = 0; i < n; i++) {
    char *end;
    errno = 0;
    v[i] = strtod(s, &end);
    if (end == s || errno || !isfinite(v[i]) || *end != (i + 1 < n ? ',' : '\0'))
      return -1;
    s = end + 1;
  }
  return 0;
}

/* sb_sha256_file with the trainer's error type. */
static int sha256_file(const char *path, char out[65], nn_err *err) {
  char msg[512];
  if (sb_sha256_file(path, out, msg, sizeof msg))
    return nn_err_set(err, NN_E_IO, "%s", msg);
  return NN_OK;
}

/* n packed RGB8 images -> NCHW floats in [0, 1]. */
static void rgb_to_01(const uint8_t *rgb, int n, int w, int h, float *out) {
  const size_t hw = (size_t)w * (size_t)h;
  for (int i = 0; i < n; i++)
    for (size_t k = 0; k < hw; k++)
      for (int c = 0; c < 3; c++)
        out[((size_t)i * 3 + (size_t)c) * hw + k] =
            rgb[((size_t)i * hw + k) * 3 + (size_t)c] / 255.f;
}

typedef struct trainer {
  const train_codec_cfg *cfg;
  saic_model *model, *eval_model;
  classifier *task;
  classifier *task_extra[2]; /* task_checkpoint_2, _3 (NULL when not given) */
  int n_tasks;               /* 1 + the extra ones when task is set, else 0 */
  nn_optim *opt_enc, *opt_dec;
  nn_rng rng;
  int threads, w, h;
  /* threads >= 2: data-parallel replicas of one thread each (saic_train_step_replicas); rep[0]
   * is model with task and task_extra, the others are owned here. 1: model alone on threads. */
  int replicas;
  saic_train_replica rep[SAIC_TRAIN_MAX_REPLICAS];
  double lambda[SAIC_TRAIN_MAX_LEVELS];
  int epoch; /* epochs completed */
  long step; /* optimiser steps completed */
  double train_seconds;
  char task_sha[65];
  char task_extra_sha[2][65];
  char init_sha[65]; /* of cfg->init_checkpoint, when set */
  char eval_text[1024];
  int evaluated;
  train_codec_level_eval eval[SAIC_TRAIN_MAX_LEVELS];
} trainer;

/* Metadata of both checkpoints. Values point into `store` or the trainer. */
typedef struct meta_set {
  nn_kv kv[40];
  int n;
  char store[12][1024];
} meta_set;

static void build_meta(const trainer *t, const train_codec_opts *o, meta_set *m) {
  const train_codec_cfg *c = t->cfg;
  int s = 0;
  m->n = 0;
#define PUT(key, ...)                                                                              \
  do {                                                                                             \
    snprintf(m->store[s], sizeof m->store[s], __VA_ARGS__);                                        \
    m->kv[m->n++] = (nn_kv){key, m->store[s++]};                                                   \
  } while (0)
  m->kv[m->n++] = (nn_kv){"arch", SAIC_CODEC_ARCH};
  m->kv[m->n++] = (nn_kv){"task", "codec"};
  PUT("n", "%d", c->model.n);
  PUT("m", "%d", c->model.m);
  PUT("levels", "%d", c->model.levels);
  if (c->model.film) /* absent: the plain model (saic.h, SAIC_META_FILM) */
    m->kv[m->n++] = (nn_kv){SAIC_META_FILM, "1"};
  PUT("train_size", "%dx%d", t->w, t->h);
  format_list(t->lambda, c->model.levels, m->store[s], sizeof m->store[s]);
  m->kv[m->n++] = (nn_kv){"lambda", m->store[s++]};
  format_list(c->loss.lambda, c->model.levels, m->store[s], sizeof m->store[s]);
  m->kv[m->n++] = (nn_kv){"lambda_init", m->store[s++]};
  if (c->nrate_targets) {
    format_list(c->rate_target, c->nrate_targets, m->store[s], sizeof m->store[s]);
    m->kv[m->n++] = (nn_kv){"rate_target", m->store[s++]};
  }
  m->n += train_util_meta_opts(o, m->kv + m->n);
  if (t->task) {
    m->kv[m->n++] = (nn_kv){"task_checkpoint", c->task_checkpoint};
    m->kv[m->n++] = (nn_kv){"task_sha256", t->task_sha};
    m->kv[m->n++] = (nn_kv){"task_arch", classifier_get_arch(t->task)->name};
  }
  static const char *const extra_keys[2][2] = {{"task_2_checkpoint", "task_2_sha256"},
                                               {"task_3_checkpoint", "task_3_sha256"}};
  for (int j = 0; j < 2; j++)
    if (t->task_extra[j]) {
      m->kv[m->n++] = (nn_kv){extra_keys[j][0], c->task_checkpoint_extra[j]};
      m->kv[m->n++] = (nn_kv){extra_keys[j][1], t->task_extra_sha[j]};
    }
  if (c->init_checkpoint[0]) {
    m->kv[m->n++] = (nn_kv){"init_checkpoint", c->init_checkpoint};
    m->kv[m->n++] = (nn_kv){"init_sha256", t->init_sha};
  }
  if (t->evaluated)
    m->kv[m->n++] = (nn_kv){"eval", t->eval_text};
  PUT("epoch", "%d", t->epoch);
  PUT("step", "%ld", t->step);
  PUT("train_seconds", "%.1f", t->train_seconds);
  PUT("threads", "%d", t->threads);
#undef PUT
}

static const char *net_tag(int k) { return k ? "dec" : "enc"; }

/* Scales every gradient of the model by max_norm / norm when the global L2 norm (over both
 * networks, summed in parameter order in double) exceeds max_norm: a guard against the rare
 * huge step that made runs with small lambdas diverge (as CompressAI's training does). */
static void clip_gradients(saic_model *m, double max_norm) {
  nn_net *nets[2] = {saic_model_encoder(m), saic_model_decoder(m)};
  double ss = 0;
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(nets[k]); i++) {
      const nn_param *p = nn_net_param(nets[k], i);
      const size_t n = nn_tensor_numel(&p->grad);
      for (size_t j = 0; j < n; j++)
        ss += (double)p->grad.data[j] * (double)p->grad.data[j];
    }
  const double norm = sqrt(ss);
  if (!(norm > max_norm))
    return;
  const float f = (float)(max_norm / norm);
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(nets[k]); i++) {
      nn_param *p = nn_net_param(nets[k], i);
      const size_t n = nn_tensor_numel(&p->grad);
      for (size_t j = 0; j < n; j++)
        p->grad.data[j] *= f;
    }
}

static int save_ckpt(trainer *t, const train_codec_opts *o, const char *path, bool with_state,
                     nn_err *err) {
  meta_set m;
  build_meta(t, o, &m);
  char rng[80];
  if (with_state) {
    train_util_rng_to_hex(&t->rng, rng, sizeof rng);
    m.kv[m.n++] = (nn_kv){"rng", rng};
  }
  nn_net *nets[2] = {saic_model_encoder(t->model), saic_model_decoder(t->model)};
  nn_optim *opts[2] = {t->opt_enc, t->opt_dec};
  const nn_ckpt_part parts[2] = {{"enc.", nets[0]}, {"dec.", nets[1]}};
  const int cap = 2 * (nn_net_num_params(nets[0]) + nn_net_num_params(nets[1]));
  nn_ckpt_extra *ex = calloc((size_t)cap + 1, sizeof *ex);
  char(*names)[160] = calloc((size_t)cap + 1, sizeof *names);
  if (!ex || !names) {
    free(ex);
    free(names);
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
  }
  int ne = 0;
  for (int k = 0; with_state && k < 2; k++)
    for (int i = 0; i < nn_net_num_params(nets[k]); i++) {
      const nn_param *p = nn_net_param(nets[k], i);
      const int all[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
      const size_t numel = nn_tensor_numel(&p->value);
      for (int w = 0; w < 2; w++) {
        const float *st = nn_optim_state(opts[k], i, w);
        if (!st)
          continue;
        nn_ckpt_extra *e = &ex[ne];
        snprintf(names[ne], sizeof names[ne], "optim.%s.%c.%s", net_tag(k), w ? 'v' : 'm', p->name);
        e->name = names[ne];
        e->rank = p->ndim >= 1 && p->ndim <= 4 ? p->ndim : 1;
        size_t prod = 1;
        for (int d = 0; d < 4; d++) {
          e->dims[d] = d < e->rank ? all[d] : 1;
          prod *= d < e->rank ? (size_t)all[d] : 1;
        }
        if (prod != numel) {
          e->rank = 1;
          e->dims[0] = (int)numel;
        }
        e->data = st;
        ne++;
      }
    }
  int rc = nn_ckpt_save_parts(path, parts, 2, ex, ne, m.kv, m.n, err);
  free(ex);
  free(names);
  return rc;
}

/* Reads the training checkpoint at path, checks that it holds this run's model shape and loads
 * its networks (transforms, gains, densities) into t->model. Messages start with `what`. *out
 * (if not NULL) receives the open checkpoint for further reading; the caller frees it. */
static int load_model_ckpt(trainer *t, const char *path, const char *what, int accept_codec,
                           nn_ckpt **out, nn_err *err) {
  const train_codec_cfg *c = t->cfg;
  nn_ckpt *ck = NULL;
  nn_err e2 = {0};
  int rc = nn_ckpt_read(path, &ck, &e2);
  if (rc != NN_OK)
    return nn_err_set(err, rc, "%s: %s", what, e2.msg);
  const char *arch = nn_ckpt_meta(ck, "arch");
  const char *mn = nn_ckpt_meta(ck, "n"), *mm = nn_ckpt_meta(ck, "m");
  const char *ml = nn_ckpt_meta(ck, "levels"), *mf = nn_ckpt_meta(ck, SAIC_META_FILM);
  const int film = mf ? atoi(mf) : 0;
  /* Fine-tuning may also start from an exported codec file: its networks, gains and densities
   * are the training checkpoint's, stored under the same names (its CDF tables are ignored). */
  const int arch_ok = arch && (strcmp(arch, SAIC_CODEC_ARCH) == 0 ||
                               (accept_codec && strcmp(arch, SAIC_CKPT_CODEC_ARCH) == 0));
  if (!arch_ok)
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: %s: architecture \"%s\", expected a training checkpoint (\"%s\")%s", what,
                    path, arch ? arch : "(none)", SAIC_CODEC_ARCH,
                    accept_codec ? " or an exported codec (\"" SAIC_CKPT_CODEC_ARCH "\")" : "");
  else if (!mn || !mm || !ml || atoi(mn) != c->model.n || atoi(mm) != c->model.m ||
           atoi(ml) != c->model.levels)
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: %s: model n %s, m %s, levels %s; the configuration says n %d, m %d, "
                    "levels %d",
                    what, path, mn ? mn : "?", mm ? mm : "?", ml ? ml : "?", c->model.n, c->model.m,
                    c->model.levels);
  else if (film != c->model.film)
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: %s: model film %d; the configuration says model.film %s (the FiLM "
                    "tables exist only in film models)",
                    what, path, film, c->model.film ? "true" : "false");
  nn_net *nets[2] = {saic_model_encoder(t->model), saic_model_decoder(t->model)};
  for (int k = 0; rc == NN_OK && k < 2; k++) {
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%s.", net_tag(k));
    if ((rc = nn_ckpt_apply_part(ck, nets[k], prefix, &e2)) != NN_OK)
      rc = nn_err_set(err, rc, "%s: %s", what, e2.msg);
  }
  if (rc == NN_OK && out)
    *out = ck;
  else
    nn_ckpt_free(ck);
  return rc;
}

static int restore_last(trainer *t, const char *path, const train_codec_opts *o, nn_err *err) {
  const train_codec_cfg *c = t->cfg;
  nn_ckpt *ck = NULL;
  int rc = load_model_ckpt(t, path, "cannot resume", 0, &ck, err);
  if (rc != NN_OK)
    return rc;
  const char *ep = nn_ckpt_meta(ck, "epoch"), *stp = nn_ckpt_meta(ck, "step");
  const char *secs = nn_ckpt_meta(ck, "train_seconds");
  if (!ep || !stp || train_util_rng_from_hex(nn_ckpt_meta(ck, "rng"), &t->rng) ||
      parse_list(nn_ckpt_meta(ck, "lambda"), t->lambda, c->model.levels)) {
    rc = nn_err_set(err, NN_E_FORMAT,
                    "cannot resume: %s: not a resumable training checkpoint (epoch/step/rng/"
                    "lambda metadata missing or malformed; final.ckpt does not resume)",
                    path);
    goto out;
  }
  if ((rc = train_util_check_dataset(ck, o, path, "cannot resume: ", err)) != NN_OK)
    goto out;
  const char *th = nn_ckpt_meta(ck, "task_sha256");
  if ((th != NULL) != (t->task != NULL) || (th && strcmp(th, t->task_sha) != 0)) {
    rc = nn_err_set(err, NN_E_FORMAT,
                    "cannot resume: %s: trained with task network %s (sha256 %s), the "
                    "configuration gives %s (sha256 %s)",
                    path, th ? nn_ckpt_meta(ck, "task_checkpoint") : "(none)", th ? th : "-",
                    t->task ? c->task_checkpoint : "(none)", t->task ? t->task_sha : "-");
    goto out;
  }
  for (int j = 0; j < 2; j++) {
    const char *key = j ? "task_3_sha256" : "task_2_sha256", *eh = nn_ckpt_meta(ck, key);
    if ((eh != NULL) != (t->task_extra[j] != NULL) || (eh && strcmp(eh, t->task_extra_sha[j]))) {
      rc = nn_err_set(err, NN_E_FORMAT,
                      "cannot resume: %s: trained with another task network %d (%s) than the "
                      "configuration gives (%s)",
                      path, j + 2, eh ? eh : "none",
                      t->task_extra[j] ? t->task_extra_sha[j] : "none");
      goto out;
    }
  }
  const char *thr = nn_ckpt_meta(ck, "threads");
  if (o->log && thr && atoi(thr) != t->threads)
    fprintf(o->log,
            "warning: %s was written by a run on %s threads, this one has %d: the result will "
            "not be bit-identical to an uninterrupted run\n",
            path, thr, t->threads);
  train_util_warn_config(ck, o, path);
  nn_net *nets[2] = {saic_model_encoder(t->model), saic_model_decoder(t->model)};
  nn_optim *opts[2] = {t->opt_enc, t->opt_dec};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(nets[k]); i++) {
      const nn_param *p = nn_net_param(nets[k], i);
      for (int w = 0; w < 2; w++) {
        float *st = nn_optim_state(opts[k], i, w);
        if (!st)
          continue;
        char name[160];
        snprintf(name, sizeof name, "optim.%s.%c.%s", net_tag(k), w ? 'v' : 'm', p->name);
        if ((rc = train_util_restore_state(ck, name, st, nn_tensor_numel(&p->value), path,
                                           "cannot resume: ", err)) != NN_OK)
          goto out;
      }
    }
  t->epoch = atoi(ep);
  t->step = atol(stp);
  t->train_seconds = secs ? atof(secs) : 0;
  nn_optim_set_steps(t->opt_enc, t->step);
  nn_optim_set_steps(t->opt_dec, t->step);
out:
  nn_ckpt_free(ck);
  return rc;
}

/* Rounded-latent rate, 8-bit PSNR and task accuracy per level on every test image (see
 * train_codec.h), on the evaluation copy of the model. */
static int evaluate(trainer *t, const train_codec_data *d, nn_err *err) {
  const train_codec_cfg *c = t->cfg;
  const int L = c->model.levels, M = c->model.m, EB = 50;
  int rc = saic_model_copy_params(t->eval_model, t->model, err);
  if (rc != NN_OK)
    return rc;
  int lc, lh, lw;
  saic_model_latent_shape(t->eval_model, &lc, &lh, &lw);
  const size_t lhw = (size_t)lh * (size_t)lw, hw = (size_t)d->w * (size_t)d->h;
  const size_t nl = (size_t)EB * (size_t)M * lhw, nx = (size_t)EB * 3 * hw;
  const int K = t->task ? classifier_num_classes(t->task) : 1;
  float *x = malloc(nx * sizeof(float)), *ycopy = malloc(nl * sizeof(float));
  float *q = malloc(nl * sizeof(float)), *yin = malloc(nl * sizeof(float));
  float *gain = malloc((size_t)M * sizeof(float)), *ig = malloc((size_t)M * sizeof(float));
  float *step = malloc((size_t)M * sizeof(float));
  float *probs = malloc((size_t)EB * (size_t)K * sizeof(float));
  uint8_t *rec = malloc(nx);
  double bits[SAIC_TRAIN_MAX_LEVELS] = {0}, psnr[SAIC_TRAIN_MAX_LEVELS] = {0};
  long hits[SAIC_TRAIN_MAX_LEVELS] = {0};
  if (!x || !ycopy || !q || !yin || !gain || !ig || !step || !probs || !rec) {
    rc = nn_err_set(err, NN_E_NOMEM, "evaluate: out of memory");
    goto out;
  }
  for (size_t i0 = 0; i0 < d->n; i0 += EB) {
    const int n = d->n - i0 < (size_t)EB ? (int)(d->n - i0) : EB;
    const uint8_t *src = d->rgb + i0 * hw * 3;
    rgb_to_01(src, n, d->w, d->h, x);
    const float *y;
    if ((rc = saic_model_analysis(t->eval_model, x, n, &y, err)) != NN_OK)
      goto out;
    memcpy(ycopy, y, (size_t)n * (size_t)M * lhw * sizeof(float));
    for (int l = 0; l < L; l++) {
      saic_model_gains(t->eval_model, l, gain, ig);
      for (int i = 0; i < n; i++)
        for (int ch = 0; ch < M; ch++) {
          const size_t o = ((size_t)i * (size_t)M + (size_t)ch) * lhw;
          for (size_t k = 0; k < lhw; k++) {
            q[o + k] = rintf(ycopy[o + k] * gain[ch]);
            yin[o + k] = q[o + k] * ig[ch];
          }
        }
      for (int ch = 0; ch < M; ch++)
        step[ch] = 1.0f / gain[ch];
      bits[l] += saic_density_bits_step(saic_model_density(t->eval_model), M, q, n, lhw, step, 1.0,
                                        NULL, NULL, NULL, t->threads);
      const float *xh;
      saic_model_set_rate(t->eval_model, l); /* FiLM: g_s at level l (no-op otherwise) */
      if ((rc = saic_model_synthesis(t->eval_model, yin, n, &xh, err)) != NN_OK)
        goto out;
      for (int i = 0; i < n; i++) {
        double se = 0;
        for (size_t k = 0; k < hw; k++)
          for (int ch = 0; ch < 3; ch++) {
            float v = xh[((size_t)i * 3 + (size_t)ch) * hw + k] * 255.f;
            v = v < 0.f ? 0.f : v > 255.f ? 255.f : v;
            const uint8_t r8 = (uint8_t)lrintf(v);
            const size_t pos = ((size_t)i * hw + k) * 3 + (size_t)ch;
            rec[pos] = r8;
            const double diff = (double)r8 - (double)src[pos];
            se += diff * diff;
          }
        const double mse = se / (3.0 * (double)hw);
        psnr[l] += mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : 100.0;
      }
      if (t->task) {
        if ((rc = classifier_predict(t->task, rec, n, d->w, d->h, probs, err)) != NN_OK)
          goto out;
        for (int i = 0; i < n; i++) {
          int best = 0;
          for (int k = 1; k < K; k++)
            if (probs[(size_t)i * (size_t)K + (size_t)k] >
                probs[(size_t)i * (size_t)K + (size_t)best])
              best = k;
          hits[l] += d->labels && best == d->labels[i0 + (size_t)i];
        }
      }
    }
  }
  t->eval_text[0] = '\0';
  for (int l = 0; l < L; l++) {
    train_codec_level_eval *e = &t->eval[l];
    e->bpp = bits[l] / ((double)d->n * (double)hw);
    e->psnr = psnr[l] / (double)d->n;
    e->accuracy = t->task && d->labels ? (double)hits[l] / (double)d->n : -1;
    size_t u = strlen(t->eval_text);
    snprintf(t->eval_text + u, sizeof t->eval_text - u, "%sL%d bpp %.4f psnr %.2f", l ? "; " : "",
             l, e->bpp, e->psnr);
    if (e->accuracy >= 0) {
      u = strlen(t->eval_text);
      snprintf(t->eval_text + u, sizeof t->eval_text - u, " acc %.4f", e->accuracy);
    }
  }
  t->evaluated = 1;
out:
  free(x);
  free(ycopy);
  free(q);
  free(yin);
  free(gain);
  free(ig);
  free(step);
  free(probs);
  free(rec);
  return rc;
}

static void log_eval(const trainer *t, FILE *f) {
  for (int l = 0; l < t->cfg->model.levels; l++) {
    const train_codec_level_eval *e = &t->eval[l];
    fprintf(f, "  eval level %d: lambda %.4g  bpp %.4f  psnr %.2f dB", l, t->lambda[l], e->bpp,
            e->psnr);
    if (e->accuracy >= 0)
      fprintf(f, "  task acc %.2f%%", 100 * e->accuracy);
    if (t->cfg->nrate_targets)
      fprintf(f, "  (target %.4g bpp)", t->cfg->rate_target[l]);
    fputc('\n', f);
  }
}

/* ---- the training loop's hooks (train_loop.h) ---- */

/* What the hooks need beyond the trainer's state: the call's arguments and the sums of the
 * current progress window and epoch. */
typedef struct codec_run {
  trainer *t;
  const train_codec_data *test;
  const train_codec_opts *o;
  train_codec_result *res;
  const char *last_path, *final_path;
  long freeze_step;
  bool first_epoch;
  double ep_bpp, ep_mse;
  double win[5]; /* loss, bpp, mse, ce, accuracy */
  long win_task;
  double win_bpp[SAIC_TRAIN_MAX_LEVELS], win_dist[SAIC_TRAIN_MAX_LEVELS],
      win_taskt[SAIC_TRAIN_MAX_LEVELS];
  long win_nl[SAIC_TRAIN_MAX_LEVELS];
  bool evaluated_now;
  double eval_s;
} codec_run;

static void codec_load(void *ctx, const uint8_t *rgb, float *out) {
  const codec_run *r = ctx;
  rgb_to_01(rgb, 1, r->t->w, r->t->h, out);
}

static void codec_begin_epoch(void *ctx) {
  codec_run *r = ctx;
  r->ep_bpp = r->ep_mse = 0;
}

/* Rate controller: a nudge of log lambda toward the level's target. */
static void control_rate(trainer *t, int level, double bpp) {
  double r = log(bpp / t->cfg->rate_target[level]);
  r = r > 1 ? 1 : r < -1 ? -1 : r;
  const double lam = t->lambda[level] * exp(-t->cfg->rate_gain * r);
  t->lambda[level] = lam < 1e-9 ? 1e-9 : lam > 1e3 ? 1e3 : lam;
}

static int codec_step(void *ctx, const nn_tensor *x, const int *labels, float lr, double *loss,
                      nn_err *err) {
  codec_run *r = ctx;
  trainer *t = r->t;
  const train_codec_cfg *cfg = t->cfg;
  const int L = cfg->model.levels;
  /* Continuous sampling: even steps train level (step / 2) mod L (the rate controller's
   * anchors), odd steps a knob drawn uniformly from [0, L - 1], so the gains between levels
   * are trained operating points too. */
  int level;
  double knob;
  if (cfg->continuous_knob && L > 1) {
    level = t->step % 2 ? -1 : (int)((t->step / 2) % L);
    knob = level >= 0 ? level : nn_rng_uniform(&t->rng) * (L - 1);
  } else {
    level = (int)(t->step % L);
    knob = level;
  }
  saic_loss_cfg lc = cfg->loss;
  for (int l = 0; l < L; l++)
    lc.lambda[l] = t->lambda[l];
  saic_step_stats st;
  classifier *const tasks[3] = {t->task, t->task_extra[0], t->task_extra[1]};
  int rc = t->replicas > 1 && x->n >= t->replicas
               ? saic_train_step_replicas(t->rep, t->replicas, t->n_tasks, &lc, x->data, labels,
                                          x->n, knob, &t->rng, &st, err)
               : saic_train_step_multi(t->model, tasks, t->n_tasks, &lc, x->data, labels, x->n,
                                       knob, &t->rng, &st, err);
  if (rc != NN_OK)
    return rc;
  if (!isfinite(st.loss))
    return nn_err_set(err, NN_E_STATE,
                      "loss is %g at epoch %d step %ld (knob %.3f, lr %g): training diverged",
                      st.loss, t->epoch + 1, t->step, knob, (double)lr);
  if (cfg->clip_grad_norm > 0)
    clip_gradients(t->model, cfg->clip_grad_norm);
  if (nn_optim_step(t->opt_enc, lr) != NN_OK || nn_optim_step(t->opt_dec, lr) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "optimiser step failed");
  if (level >= 0 && cfg->nrate_targets && t->step < r->freeze_step && st.bpp > 0)
    control_rate(t, level, st.bpp);
  *loss = st.loss;
  r->ep_bpp += st.bpp;
  r->ep_mse += st.mse;
  r->win[0] += st.loss;
  r->win[1] += st.bpp;
  r->win[2] += st.mse;
  if (!isnan(st.ce)) {
    r->win[3] += st.ce;
    r->win[4] += st.accuracy;
    r->win_task++;
  }
  if (level >= 0) {
    r->win_bpp[level] += st.bpp;
    r->win_dist[level] += st.dist_term;
    r->win_taskt[level] += st.task_term;
    r->win_nl[level]++;
  }
  return NN_OK;
}

static void codec_progress(void *ctx, FILE *f, const train_loop_progress *p) {
  codec_run *r = ctx;
  const int L = r->t->cfg->model.levels;
  const double n = (double)p->window_steps;
  char task[64] = "", lv[256] = "", ratio[256] = "";
  if (r->win_task)
    snprintf(task, sizeof task, " ce %.4f acc %.2f%%", r->win[3] / (double)r->win_task,
             100 * r->win[4] / (double)r->win_task);
  for (int l = 0; l < L; l++) {
    size_t u = strlen(lv);
    snprintf(lv + u, sizeof lv - u, "%s%.3f", l ? "," : "",
             r->win_nl[l] ? r->win_bpp[l] / (double)r->win_nl[l] : NAN);
    /* The task term's pull against the distortion term per level (docs/method.md: ~2/3). */
    if (r->win_task) {
      u = strlen(ratio);
      snprintf(ratio + u, sizeof ratio - u, "%s%.3f", l ? "," : " task/dist [",
               r->win_dist[l] > 0 ? r->win_taskt[l] / r->win_dist[l] : NAN);
    }
  }
  if (r->win_task)
    strncat(ratio, "]", sizeof ratio - strlen(ratio) - 1);
  const double mse = r->win[2] / n;
  fprintf(f,
          "epoch %d/%d step %ld/%ld loss %.4f bpp %.4f [%s] mse %.6f (%.2f dB)%s%s lr %.2e "
          "img/s %.1f elapsed %s eta %s\n",
          p->epoch, r->t->cfg->epochs, p->step, p->total_steps, r->win[0] / n, r->win[1] / n, lv,
          mse, mse > 0 ? 10 * log10(1 / mse) : 100.0, task, ratio, (double)p->lr, p->img_per_s,
          p->elapsed, p->eta);
  fflush(f);
  memset(r->win, 0, sizeof r->win);
  memset(r->win_bpp, 0, sizeof r->win_bpp);
  memset(r->win_nl, 0, sizeof r->win_nl);
  memset(r->win_dist, 0, sizeof r->win_dist);
  memset(r->win_taskt, 0, sizeof r->win_taskt);
  r->win_task = 0;
}

static int codec_evaluate(void *ctx, const train_loop_epoch *e, nn_err *err) {
  codec_run *r = ctx;
  const train_codec_cfg *cfg = r->t->cfg;
  r->evaluated_now = r->test && r->test->n && cfg->eval_images > 0 &&
                     ((cfg->eval_every > 0 && e->epoch % cfg->eval_every == 0) || e->last);
  r->eval_s = 0;
  if (!r->evaluated_now)
    return NN_OK;
  const double e0 = train_util_now_s();
  const int rc = evaluate(r->t, r->test, err);
  r->eval_s = train_util_now_s() - e0;
  return rc;
}

static int codec_end_epoch(void *ctx, const train_loop_epoch *e, nn_err *err) {
  codec_run *r = ctx;
  trainer *t = r->t;
  if (r->first_epoch)
    r->res->first_epoch_loss = e->mean_loss;
  r->first_epoch = false;
  r->res->epochs_run++;
  r->res->last_epoch_loss = e->mean_loss;
  FILE *log = r->o->log;
  if (log) {
    fprintf(log, "epoch %d/%d done: loss %.4f bpp %.4f mse %.6f | %.1f s, %.1f img/s%s\n", e->epoch,
            t->cfg->epochs, e->mean_loss, r->ep_bpp / (double)e->steps,
            r->ep_mse / (double)e->steps, train_util_now_s() - e->start,
            (double)e->steps * e->batch / e->train_time,
            r->evaluated_now ? "" : " (no evaluation)");
    if (r->evaluated_now) {
      fprintf(log, "  evaluation on %zu test images (rounded latents, %.1f s):\n", r->test->n,
              r->eval_s);
      log_eval(t, log);
    }
    fflush(log);
  }
  int rc;
  if (e->save_last && (rc = save_ckpt(t, r->o, r->last_path, true, err)) != NN_OK)
    return rc;
  if (e->last && (rc = save_ckpt(t, r->o, r->final_path, false, err)) != NN_OK)
    return rc;
  return NN_OK;
}

/* ---- the trainer ---- */

/* Checks the configuration against the data before anything is loaded. */
static int check_inputs(const train_codec_cfg *cfg, const train_codec_data *train,
                        const train_codec_data *test, nn_err *err) {
  const int L = cfg->model.levels, B = cfg->batch_size;
  if (cfg->loss.levels != L || L < 1 || L > SAIC_TRAIN_MAX_LEVELS)
    return nn_err_set(err, NN_E_ARG, "%d lambdas for %d levels", cfg->loss.levels, L);
  if (train->w % SAIC_MODEL_STRIDE || train->h % SAIC_MODEL_STRIDE || train->w < 8 ||
      train->h < 8 || (test && test->n && (test->w != train->w || test->h != train->h)))
    return nn_err_set(err, NN_E_SHAPE,
                      "train and test images must share one size with sides a multiple of %d "
                      "(train %dx%d, test %dx%d)",
                      SAIC_MODEL_STRIDE, train->w, train->h, test ? test->w : 0,
                      test ? test->h : 0);
  if (train->n < (size_t)B)
    return nn_err_set(err, NN_E_ARG, "%zu training images, fewer than one batch (%d)", train->n, B);
  const bool need_task = cfg->loss.alpha > 0 || cfg->loss.gamma > 0 || cfg->loss.beta > 0;
  if (need_task && !cfg->task_checkpoint[0])
    return nn_err_set(err, NN_E_ARG, "loss.alpha, beta or gamma > 0 needs task_checkpoint");
  if (need_task && !train->labels)
    return nn_err_set(err, NN_E_ARG, "loss.alpha, beta or gamma > 0 needs labelled images");
  return NN_OK;
}

/* Threads of each network: one per replica when training data-parallel. */
static int net_threads(const trainer *t) { return t->replicas > 1 ? 1 : t->threads; }

/* The replicas beyond the first: their own one-thread model and task networks (the parameters
 * are copied from the first at every step). */
static int build_replicas(trainer *t, const train_codec_data *train, nn_err *err) {
  const train_codec_cfg *cfg = t->cfg;
  t->rep[0].model = t->model;
  t->rep[0].tasks[0] = t->task;
  t->rep[0].tasks[1] = t->task_extra[0];
  t->rep[0].tasks[2] = t->task_extra[1];
  for (int r = 1; r < t->replicas; r++) {
    if (!(t->rep[r].model = saic_model_create(&cfg->model, train->h, train->w, 1, cfg->seed, err)))
      return err ? err->code : NN_E_ARG;
    const char *paths[3] = {cfg->task_checkpoint, cfg->task_checkpoint_extra[0],
                            cfg->task_checkpoint_extra[1]};
    for (int j = 0; j < t->n_tasks; j++) {
      int rc = classifier_load(paths[j], 1, &t->rep[r].tasks[j], err);
      if (rc != NN_OK)
        return rc;
    }
  }
  return NN_OK;
}

static void free_replicas(trainer *t) {
  for (int r = 1; r < t->replicas; r++) {
    saic_model_free(t->rep[r].model);
    for (int j = 0; j < SAIC_TRAIN_MAX_TASKS; j++)
      classifier_free(t->rep[r].tasks[j]);
  }
}

/* Loads T (and the extra task networks) and checks them against the data. */
static int load_tasks(trainer *t, const train_codec_data *train, nn_err *err) {
  const train_codec_cfg *cfg = t->cfg;
  int rc;
  if ((rc = sha256_file(cfg->task_checkpoint, t->task_sha, err)) != NN_OK ||
      (rc = classifier_load(cfg->task_checkpoint, net_threads(t), &t->task, err)) != NN_OK)
    return rc;
  const classifier_arch *a = classifier_get_arch(t->task);
  if (a->in_w != train->w || a->in_h != train->h)
    return nn_err_set(err, NN_E_SHAPE,
                      "%s: the task network takes %dx%d images, the data has %dx%d",
                      cfg->task_checkpoint, a->in_w, a->in_h, train->w, train->h);
  t->n_tasks = 1;
  for (int j = 0; j < 2 && cfg->task_checkpoint_extra[j][0]; j++) {
    const char *ep = cfg->task_checkpoint_extra[j];
    if ((rc = sha256_file(ep, t->task_extra_sha[j], err)) != NN_OK ||
        (rc = classifier_load(ep, net_threads(t), &t->task_extra[j], err)) != NN_OK)
      return rc;
    const classifier_arch *ea = classifier_get_arch(t->task_extra[j]);
    if (ea->in_w != a->in_w || ea->in_h != a->in_h || ea->num_classes != a->num_classes)
      return nn_err_set(err, NN_E_SHAPE,
                        "%s: task network %d takes %dx%d images and %d classes, T takes %dx%d "
                        "and %d",
                        ep, j + 2, ea->in_w, ea->in_h, ea->num_classes, a->in_w, a->in_h,
                        a->num_classes);
    t->n_tasks++;
  }
  for (size_t i = 0; train->labels && i < train->n; i++)
    if (train->labels[i] < 0 || train->labels[i] >= a->num_classes)
      return nn_err_set(err, NN_E_ARG, "training label %d of item %zu is outside [0, %d)",
                        train->labels[i], i, a->num_classes);
  return NN_OK;
}

/* The networks, their optimisers and the random stream. */
static int build_model(trainer *t, const train_codec_data *train, nn_err *err) {
  const train_codec_cfg *cfg = t->cfg;
  t->model = saic_model_create(&cfg->model, train->h, train->w, net_threads(t), cfg->seed, err);
  t->eval_model =
      t->model ? saic_model_create(&cfg->model, train->h, train->w, t->threads, cfg->seed, err)
               : NULL;
  if (!t->model || !t->eval_model)
    return err ? err->code : NN_E_ARG;
  nn_optim_cfg oc = nn_optim_defaults(NN_ADAM);
  oc.group_lr_mult[SAIC_MODEL_GAIN_GROUP] = cfg->gain_lr_mult;
  oc.group_lr_mult[SAIC_MODEL_FILM_GROUP] =
      cfg->film_lr_mult > 0 ? cfg->film_lr_mult : cfg->gain_lr_mult;
  t->opt_enc = nn_optim_create(saic_model_encoder(t->model), &oc, err);
  oc.group_lr_mult[SAIC_MODEL_DENSITY_GROUP] = cfg->density_lr_mult;
  t->opt_dec = t->opt_enc ? nn_optim_create(saic_model_decoder(t->model), &oc, err) : NULL;
  if (!t->opt_enc || !t->opt_dec)
    return err ? err->code : NN_E_ARG;
  nn_rng_seed(&t->rng, cfg->seed ^ 0x5a1cc0dec0ffeeULL);
  return NN_OK;
}

static void log_header(const trainer *t, const train_codec_data *train,
                       const train_codec_data *test, long steps_per_epoch, FILE *f) {
  const train_codec_cfg *cfg = t->cfg;
  long np = 0;
  nn_net *nets[2] = {saic_model_encoder(t->model), saic_model_decoder(t->model)};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(nets[k]); i++)
      np += (long)nn_tensor_numel(&nn_net_param(nets[k], i)->value);
  char film_lr[48] = "";
  if (cfg->model.film)
    snprintf(film_lr, sizeof film_lr, ", film x%g",
             (double)(cfg->film_lr_mult > 0 ? cfg->film_lr_mult : cfg->gain_lr_mult));
  fprintf(f,
          "codec %s n %d m %d levels %d film %s (%ld parameters), loss alpha %g gamma %g beta %g "
          "gsw on "
          "%s smooth %d quant %s, task %s%s%s%s%s\n"
          "%zu train / %zu eval images %dx%d, batch %d, %ld steps/epoch, %d epochs, lr %g "
          "(density x%g, gains x%g%s, %s), %d threads%s, %s\n",
          SAIC_CODEC_ARCH, cfg->model.n, cfg->model.m, cfg->model.levels,
          cfg->model.film ? "on" : "off", np, cfg->loss.alpha, cfg->loss.gamma, cfg->loss.beta,
          cfg->loss.gsw_on_original ? "x" : "x_hat", cfg->loss.smooth,
          cfg->loss.quant == SAIC_QUANT_STE ? "ste" : "noise",
          t->task ? cfg->task_checkpoint : "none", t->task_extra[0] ? " + " : "",
          t->task_extra[0] ? cfg->task_checkpoint_extra[0] : "", t->task_extra[1] ? " + " : "",
          t->task_extra[1] ? cfg->task_checkpoint_extra[1] : "", train->n, test ? test->n : 0,
          train->w, train->h, cfg->batch_size, steps_per_epoch, cfg->epochs, (double)cfg->lr,
          (double)cfg->density_lr_mult, (double)cfg->gain_lr_mult, film_lr,
          cfg->sched == TRAIN_CODEC_SCHED_COSINE ? "cosine" : "const", t->threads,
          t->replicas > 1 ? " (data-parallel: one replica per thread)" : "",
          cfg->continuous_knob ? "levels round-robin on even steps, a uniform knob on odd steps"
                               : "levels round-robin");
  if (cfg->nbeta_scale || cfg->loss.alpha_scaled) { /* the per-level factors, when set */
    char bs[256] = "", as[256] = "";
    if (cfg->nbeta_scale)
      format_list(cfg->loss.beta_scale, cfg->model.levels, bs, sizeof bs);
    if (cfg->loss.alpha_scaled)
      format_list(cfg->loss.alpha_scale, cfg->model.levels, as, sizeof as);
    fprintf(f, "per level: beta scale [%s], alpha scale [%s]\n", cfg->nbeta_scale ? bs : "1",
            cfg->loss.alpha_scaled ? as : "1");
  }
  fflush(f);
}

/* Resume from last.ckpt, or start from init_checkpoint's networks, or from scratch. */
static int restore_or_init(trainer *t, const char *last_path, const train_codec_opts *o,
                           nn_err *err) {
  const train_codec_cfg *cfg = t->cfg;
  int rc;
  if (cfg->init_checkpoint[0] &&
      (rc = sha256_file(cfg->init_checkpoint, t->init_sha, err)) != NN_OK)
    return rc;
  if (o->resume) {
    if ((rc = train_util_check_resume(last_path, err)) != NN_OK ||
        (rc = restore_last(t, last_path, o, err)) != NN_OK)
      return rc;
    if (o->log)
      fprintf(o->log, "resumed from %s: epoch %d, step %ld\n", last_path, t->epoch, t->step);
  } else if (cfg->init_checkpoint[0]) {
    if ((rc = load_model_ckpt(t, cfg->init_checkpoint, "init_checkpoint", 1, NULL, err)) != NN_OK)
      return rc;
    if (o->log)
      fprintf(o->log, "starting from the networks of %s (sha256 %s)\n", cfg->init_checkpoint,
              t->init_sha);
  }
  return NN_OK;
}

int train_codec(const train_codec_cfg *cfg, const train_codec_data *train,
                const train_codec_data *test, const train_codec_opts *o, train_codec_result *res,
                nn_err *err) {
  memset(res, 0, sizeof *res);
  trainer t;
  memset(&t, 0, sizeof t);
  t.cfg = cfg;
  t.threads = o->threads > 0 ? o->threads : omp_get_max_threads();
  t.replicas = t.threads < cfg->batch_size ? t.threads : cfg->batch_size;
  if (t.replicas > SAIC_TRAIN_MAX_REPLICAS)
    t.replicas = SAIC_TRAIN_MAX_REPLICAS;
  if (t.replicas < 1)
    t.replicas = 1;
  t.w = train->w;
  t.h = train->h;
  const int L = cfg->model.levels;
  int rc = check_inputs(cfg, train, test, err);
  if (rc != NN_OK || (rc = train_util_ensure_dir(o->out_dir, err)) != NN_OK)
    return rc;
  char last_path[4096], final_path[4096];
  snprintf(last_path, sizeof last_path, "%s/last.ckpt", o->out_dir);
  snprintf(final_path, sizeof final_path, "%s/final.ckpt", o->out_dir);

  const long steps_per_epoch = (long)(train->n / (size_t)cfg->batch_size);
  const long total_steps = steps_per_epoch * cfg->epochs;
  nn_lr_sched sched;
  memset(&sched, 0, sizeof sched);
  sched.kind = cfg->sched == TRAIN_CODEC_SCHED_COSINE ? NN_LR_COSINE : NN_LR_CONST;
  sched.base_lr = cfg->lr;
  sched.warmup_steps = (long)llround(cfg->warmup_epochs * (double)steps_per_epoch);
  sched.warmup_start = cfg->warmup_start;
  sched.total_steps = total_steps;
  sched.min_lr = cfg->min_lr;
  for (int l = 0; l < L; l++)
    t.lambda[l] = cfg->loss.lambda[l];
  if ((cfg->task_checkpoint[0] && (rc = load_tasks(&t, train, err)) != NN_OK) ||
      (rc = build_model(&t, train, err)) != NN_OK ||
      (rc = build_replicas(&t, train, err)) != NN_OK ||
      (rc = restore_or_init(&t, last_path, o, err)) != NN_OK)
    goto done;
  if (t.epoch >= cfg->epochs && o->log)
    fprintf(o->log, "nothing to do: %d of %d epochs done\n", t.epoch, cfg->epochs);
  if (o->log)
    log_header(&t, train, test, steps_per_epoch, o->log);

  codec_run run = {.t = &t,
                   .test = test,
                   .o = o,
                   .res = res,
                   .last_path = last_path,
                   .final_path = final_path,
                   .freeze_step = (long)floor(cfg->rate_freeze_at * (double)total_steps),
                   .first_epoch = true};
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
  const train_loop_hooks hooks = {.load = codec_load,
                                  .begin_epoch = codec_begin_epoch,
                                  .step = codec_step,
                                  .progress = codec_progress,
                                  .evaluate = codec_evaluate,
                                  .end_epoch = codec_end_epoch};
  rc = train_loop_run(&spec, (train_loop_state){&t.rng, &t.epoch, &t.step, &t.train_seconds},
                      &hooks, &run, err);
done:
  res->epochs_done = t.epoch;
  res->steps_done = t.step;
  res->train_seconds = t.train_seconds;
  res->evaluated = t.evaluated;
  for (int l = 0; l < L && l < SAIC_TRAIN_MAX_LEVELS; l++) {
    res->lambda[l] = t.lambda[l];
    res->eval[l] = t.eval[l];
  }
  nn_optim_free(t.opt_enc);
  nn_optim_free(t.opt_dec);
  saic_model_free(t.model);
  saic_model_free(t.eval_model);
  classifier_free(t.task);
  classifier_free(t.task_extra[0]);
  classifier_free(t.task_extra[1]);
  free_replicas(&t);
  return rc;
}

/* ---- command line ---- */

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: saicbench train codec --config FILE [--data DIR] [--out DIR] [--resume]\n"
      "                             [--threads N] [--limit N] [--epochs N]\n"
      "  --config FILE  training configuration (YAML), e.g. codecs/saic/configs/saic_full.yaml\n"
      "  --data DIR     CIFAR-10 folder, or a folder holding cifar10/ (default $SAICBENCH_DATA)\n"
      "                 trains on its train split; eval.images test images are evaluated\n"
      "  --out DIR      output folder for last.ckpt / final.ckpt\n"
      "                 (default train-out/<config name>)\n"
      "  --resume       continue from DIR/last.ckpt (same configuration, data and threads)\n"
      "  --threads N    compute threads (default: all cores); N >= 2 trains data-parallel:\n"
      "                 N one-thread replicas of the networks on slices of each batch\n"
      "  --limit N      train on N evenly spaced training images only (smoke runs)\n"
      "  --epochs N     override the configuration's epochs (smoke runs)\n");
}

/* The codec trainer's own options (smoke runs): --limit N, --epochs N. */
typedef struct codec_args {
  long limit, epochs;
} codec_args;

static int codec_opt(void *ctx, const char *prog, int argc, char **argv, int *i) {
  codec_args *x = ctx;
  const char *a = argv[*i];
  if (*i + 1 >= argc)
    return 0;
  if (strcmp(a, "--limit") == 0)
    return train_util_parse_count(prog, a, argv[++*i], 1, 100000000, &x->limit) ? -1 : 1;
  if (strcmp(a, "--epochs") == 0)
    return train_util_parse_count(prog, a, argv[++*i], 1, 100000, &x->epochs) ? -1 : 1;
  return 0;
}

int train_codec_main(int argc, char **argv) {
  train_util_args a;
  codec_args x = {0, 0};
  int status;
  if (!train_util_parse_args(argc, argv, "train codec", NULL, usage, codec_opt, &x, &a, &status))
    return status;
  const char *config = a.config, *out = a.out;
  char msg[1024], outbuf[4096];
  train_codec_cfg cfg;
  char *cfg_text = NULL;
  if (train_codec_cfg_load(config, &cfg, &cfg_text, msg, sizeof msg) != 0) {
    fprintf(stderr, "train codec: %s\n", msg);
    return 1;
  }
  if (x.epochs > 0)
    cfg.epochs = (int)x.epochs;
  if (!out) { /* train-out/<config file name without .yaml> */
    const char *base = strrchr(config, '/');
    base = base ? base + 1 : config;
    size_t bl = strlen(base);
    if (bl > 5 && strcmp(base + bl - 5, ".yaml") == 0)
      bl -= 5;
    snprintf(outbuf, sizeof outbuf, "train-out/%.*s", (int)bl, base);
    out = outbuf;
  }
  char root[4096], command[8192];
  train_util_data_root(a.data, root, sizeof root);
  train_util_command(argc, argv, command, sizeof command);
  double t0 = train_util_now_s();
  train_split tr, te;
  memset(&te, 0, sizeof te);
  if (train_load_split(root, "train", 0, 0, (size_t)x.limit, a.threads, &tr, msg, sizeof msg) !=
      0) {
    fprintf(stderr, "train codec: train split: %s\n", msg);
    free(cfg_text);
    return 1;
  }
  if (cfg.eval_images > 0 && train_load_split(root, "test", 0, 0, (size_t)cfg.eval_images,
                                              a.threads, &te, msg, sizeof msg) != 0) {
    fprintf(stderr, "train codec: test split: %s\n", msg);
    free(tr.rgb);
    free(tr.labels);
    free(cfg_text);
    return 1;
  }
  printf("data %s: %zu train images (hash %s), %zu eval images, loaded in %.1f s\n", root, tr.n,
         tr.hash, te.n, train_util_now_s() - t0);
  printf("command: %s\n", command);
  fflush(stdout);
  train_codec_data dtr = {tr.rgb, tr.labels, tr.n, tr.w, tr.h};
  train_codec_data dte = {te.rgb, te.labels, te.n, te.w, te.h};
  train_codec_opts opts = {.out_dir = out,
                           .resume = a.resume,
                           .threads = a.threads,
                           .command = command,
                           .config_text = cfg_text,
                           .dataset_hash = tr.hash,
                           .log = stdout};
  train_codec_result res;
  nn_err err = {0};
  int rc = train_codec(&cfg, &dtr, te.n ? &dte : NULL, &opts, &res, &err);
  if (rc != NN_OK)
    fprintf(stderr, "train codec: %s\n", err.msg);
  else if (res.epochs_run == 0)
    printf("finished: nothing to do (%d epochs, %ld steps); checkpoints in %s\n", res.epochs_done,
           res.steps_done, out);
  else
    printf("finished: %d epochs, %ld steps, last epoch loss %.4f, %.1f s training; checkpoints "
           "in %s\n",
           res.epochs_done, res.steps_done, res.last_epoch_loss, res.train_seconds, out);
  free(tr.rgb);
  free(tr.labels);
  free(te.rgb);
  free(te.labels);
  free(cfg_text);
  return rc == NN_OK ? 0 : 1;
}
