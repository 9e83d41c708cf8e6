/* saic_train.c - the SAIC training step (see saic_train.h). */
#include "saic_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "saic.h"

/* Box filter of odd side k with edge clamping, per map, in double. */
static void box_smooth(float *s, int n, int h, int w, int k, float *tmp) {
  int r = k / 2;
  for (int i = 0; i < n; i++) {
    float *m = s + (size_t)i * (size_t)h * (size_t)w;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double acc = 0;
        for (int dx = -r; dx <= r; dx++) {
          int xx = x + dx < 0 ? 0 : x + dx >= w ? w - 1 : x + dx;
          acc += m[y * w + xx];
        }
        tmp[y * w + x] = (float)(acc / k);
      }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double acc = 0;
        for (int dy = -r; dy <= r; dy++) {
          int yy = y + dy < 0 ? 0 : y + dy >= h ? h - 1 : y + dy;
          acc += tmp[yy * w + x];
        }
        m[y * w + x] = (float)(acc / k);
      }
  }
}

void saic_train_gsw_weights(float *s, int n, int h, int w, const saic_loss_cfg *cfg, float *W) {
  const size_t hw = (size_t)h * (size_t)w;
  if (cfg->smooth > 1) {
    float *tmp = malloc(hw * sizeof *tmp);
    if (tmp) {
      box_smooth(s, n, h, w, cfg->smooth | 1, tmp);
      free(tmp);
    }
  }
  for (int i = 0; i < n; i++) {
    const float *si = s + (size_t)i * hw;
    float *Wi = W + (size_t)i * hw;
    double mean = 0;
    for (size_t k = 0; k < hw; k++)
      mean += si[k];
    mean /= (double)hw;
    for (size_t k = 0; k < hw; k++) {
      double wk = mean > 0 ? si[k] / mean : 1.0;
      double v = (1 - cfg->alpha) + cfg->alpha * wk;
      if (cfg->w_max > 0 && v > cfg->w_max)
        v = cfg->w_max;
      Wi[k] = (float)v;
    }
  }
}

typedef struct bufs {
  float *ys, *yt, *yd, *yin, *gy, *grate, *gx, *W, *s, *g, *gorig, *gtmp, *lg;
  double *gstep; /* d(rate)/d(bin width) per channel */
  int *top;
} bufs;

static void bufs_free(bufs *b) {
  free(b->ys);
  free(b->yt);
  free(b->yd);
  free(b->yin);
  free(b->gy);
  free(b->grate);
  free(b->gx);
  free(b->W);
  free(b->s);
  free(b->g);
  free(b->gorig);
  free(b->gtmp);
  free(b->gstep);
  free(b->lg);
}

double saic_train_lambda_at(const saic_loss_cfg *cfg, double knob) {
  int l0, l1;
  double t;
  saic_model_knob_split(cfg->levels, knob, &l0, &l1, &t);
  return exp((1 - t) * log(cfg->lambda[l0]) + t * log(cfg->lambda[l1]));
}

double saic_train_alpha_at(const saic_loss_cfg *cfg, double knob) {
  if (!cfg->alpha_scaled)
    return cfg->alpha;
  int l0, l1;
  double t;
  saic_model_knob_split(cfg->levels, knob, &l0, &l1, &t);
  return cfg->alpha * ((1 - t) * cfg->alpha_scale[l0] + t * cfg->alpha_scale[l1]);
}

double saic_train_task_weight(const saic_loss_cfg *cfg, double knob) {
  if (!(cfg->beta > 0))
    return cfg->gamma;
  int l0, l1;
  double t;
  saic_model_knob_split(cfg->levels, knob, &l0, &l1, &t);
  const double s0 = cfg->beta_scale[l0] > 0 ? cfg->beta_scale[l0] : 1;
  const double s1 = cfg->beta_scale[l1] > 0 ? cfg->beta_scale[l1] : 1;
  const double scale = exp((1 - t) * log(s0) + t * log(s1));
  return cfg->beta * scale * saic_train_lambda_at(cfg, knob);
}

/* The task term's loss and input gradient averaged over the networks: g = (1/K) sum_j
 * d CE_j / d x_in, losses[i] = (1/K) sum_j CE_j(i); probs: the first network's. tmp: nx floats
 * of scratch when K > 1. */
static int task_gradient(classifier *const *tasks, int n_tasks, const float *x_in,
                         const int *labels, int n, size_t nx, float *g, float *tmp, double *losses,
                         float *probs, nn_err *err) {
  int rc = classifier_input_gradient(tasks[0], x_in, labels, n, g, losses, probs, err);
  if (rc != NN_OK || n_tasks == 1)
    return rc;
  double *more = losses ? malloc((size_t)n * sizeof *more) : NULL;
  if (losses && !more)
    return nn_err_set(err, NN_E_NOMEM, "saic_train_step: out of memory");
  for (int j = 1; j < n_tasks && rc == NN_OK; j++) {
    rc = classifier_input_gradient(tasks[j], x_in, labels, n, tmp, more, NULL, err);
    for (size_t k = 0; rc == NN_OK && k < nx; k++)
      g[k] += tmp[k];
    for (int i = 0; rc == NN_OK && losses && i < n; i++)
      losses[i] += more[i];
  }
  free(more);
  const float inv = 1.0f / (float)n_tasks;
  for (size_t k = 0; rc == NN_OK && k < nx; k++)
    g[k] *= inv;
  for (int i = 0; rc == NN_OK && losses && i < n; i++)
    losses[i] /= n_tasks;
  return rc;
}

int saic_train_step(saic_model *m, classifier *task, const saic_loss_cfg *cfg, const float *x,
                    const int *labels, int n, double knob, nn_rng *rng, saic_step_stats *st,
                    nn_err *err) {
  classifier *tasks[1] = {task};
  return saic_train_step_multi(m, tasks, task ? 1 : 0, cfg, x, labels, n, knob, rng, st, err);
}

size_t saic_train_noise_count(const saic_model *m, int n) {
  int c, lh, lw;
  saic_model_latent_shape(m, &c, &lh, &lw);
  return (size_t)(n > 0 ? n : 0) * (size_t)c * (size_t)lh * (size_t)lw;
}

void saic_train_draw_noise(nn_rng *rng, float *noise, size_t count) {
  for (size_t k = 0; k < count; k++)
    noise[k] = (float)(nn_rng_uniform(rng) - 0.5);
}

int saic_train_step_multi(saic_model *m, classifier *const *tasks, int n_tasks,
                          const saic_loss_cfg *cfg, const float *x, const int *labels, int n,
                          double knob, nn_rng *rng, saic_step_stats *st, nn_err *err) {
  const size_t count = saic_train_noise_count(m, n);
  float *noise = malloc((count ? count : 1) * sizeof *noise);
  if (!noise) {
    memset(st, 0, sizeof *st);
    return nn_err_set(err, NN_E_NOMEM, "saic_train_step: out of memory");
  }
  saic_train_draw_noise(rng, noise, count);
  int rc = saic_train_step_noise(m, tasks, n_tasks, cfg, x, labels, n, knob, noise, st, err);
  free(noise);
  return rc;
}

int saic_train_step_noise(saic_model *m, classifier *const *tasks, int n_tasks,
                          const saic_loss_cfg *cfg, const float *x, const int *labels, int n,
                          double knob, const float *noise, saic_step_stats *st, nn_err *err) {
  memset(st, 0, sizeof *st);
  classifier *task = n_tasks > 0 ? tasks[0] : NULL;
  if (n_tasks < 0 || n_tasks > SAIC_TRAIN_MAX_TASKS)
    return nn_err_set(err, NN_E_ARG, "saic_train_step: %d task networks (at most %d)", n_tasks,
                      SAIC_TRAIN_MAX_TASKS);
  for (int j = 1; j < n_tasks; j++)
    if (!tasks[j] || classifier_num_classes(tasks[j]) != classifier_num_classes(task))
      return nn_err_set(err, NN_E_ARG,
                        "saic_train_step: task network %d missing or with "
                        "another class count",
                        j + 1);
  st->ce = st->accuracy = NAN;
  const saic_model_cfg *mc = saic_model_config(m);
  const int M = mc->m;
  if (!(knob >= 0 && knob <= mc->levels - 1) || mc->levels > SAIC_TRAIN_MAX_LEVELS ||
      cfg->levels != mc->levels || n < 1)
    return nn_err_set(err, NN_E_ARG, "saic_train_step: bad knob %g (levels %d) or batch %d", knob,
                      mc->levels, n);
  for (int l = 0; l < mc->levels; l++)
    if (!(cfg->lambda[l] > 0))
      return nn_err_set(err, NN_E_ARG, "saic_train_step: lambda[%d] = %g is not > 0", l,
                        cfg->lambda[l]);
  int l0, l1;
  double kt;
  saic_model_knob_split(mc->levels, knob, &l0, &l1, &kt);
  const double gamma = saic_train_task_weight(cfg, knob);
  saic_loss_cfg at_knob = *cfg; /* the GSW mix of this knob */
  at_knob.alpha = saic_train_alpha_at(cfg, knob);
  const double alpha = at_knob.alpha;
  const int need_task = alpha > 0 || gamma > 0;
  if (need_task && (!task || !labels))
    return nn_err_set(err, NN_E_ARG, "saic_train_step: alpha/gamma > 0 need the task network");
  int lc, lh, lw;
  saic_model_latent_shape(m, &lc, &lh, &lw);
  const size_t lhw = (size_t)lh * (size_t)lw, nl = (size_t)n * (size_t)M * lhw;
  const int h = lh * SAIC_MODEL_STRIDE, w = lw * SAIC_MODEL_STRIDE;
  const size_t hw = (size_t)h * (size_t)w, nx = (size_t)n * 3 * hw;
  const double npx = (double)hw;
  nn_net *enc = saic_model_encoder(m), *dec = saic_model_decoder(m);
  nn_param *G = nn_net_find_param(enc, "gain"), *I = nn_net_find_param(dec, "inv_gain");
  nn_net_zero_grad(enc);
  nn_net_zero_grad(dec);

  bufs b = {0};
  b.ys = malloc(nl * sizeof(float));
  b.yt = malloc(nl * sizeof(float));
  b.yd = malloc(nl * sizeof(float));
  b.yin = malloc(nl * sizeof(float));
  b.gy = malloc(nl * sizeof(float));
  b.grate = malloc(nl * sizeof(float));
  b.gx = malloc(nx * sizeof(float));
  b.W = malloc((size_t)n * hw * sizeof(float));
  b.s = malloc((size_t)n * hw * sizeof(float));
  b.g = malloc(nx * sizeof(float));
  b.gtmp = n_tasks > 1 ? malloc(nx * sizeof(float)) : NULL;
  b.gorig = cfg->gsw_on_original && alpha > 0 ? malloc(nx * sizeof(float)) : NULL;
  int rc = NN_OK;
  if (!b.ys || !b.yt || !b.yd || !b.yin || !b.gy || !b.grate || !b.gx || !b.W || !b.s || !b.g ||
      (cfg->gsw_on_original && alpha > 0 && !b.gorig) || (n_tasks > 1 && !b.gtmp)) {
    rc = nn_err_set(err, NN_E_NOMEM, "saic_train_step: out of memory");
    goto done;
  }

  /* Analysis, gain, noise, rounding. */
  const float *y;
  if ((rc = saic_model_analysis(m, x, n, &y, err)) != NN_OK)
    goto done;
  /* Log gains at the knob: the two neighbouring levels mixed as in saic_model_gains. */
  float *Gl = malloc(2 * (size_t)M * sizeof *Gl);
  if (!Gl) {
    rc = nn_err_set(err, NN_E_NOMEM, "saic_train_step: out of memory");
    goto done;
  }
  b.lg = Gl;
  float *Il = Gl + M;
  for (int c = 0; c < M; c++) {
    Gl[c] = (float)((1 - kt) * G->value.data[(size_t)l0 * M + c] +
                    kt * G->value.data[(size_t)l1 * M + c]);
    Il[c] = (float)((1 - kt) * I->value.data[(size_t)l0 * M + c] +
                    kt * I->value.data[(size_t)l1 * M + c]);
  }
  for (int i = 0; i < n; i++)
    for (int c = 0; c < M; c++) {
      const float gc = expf(Gl[c]), ic = expf(Il[c]);
      size_t o = ((size_t)i * (size_t)M + (size_t)c) * lhw;
      for (size_t k = 0; k < lhw; k++) {
        float ys = y[o + k] * gc;
        float yt = ys + noise[o + k];
        b.ys[o + k] = ys;
        b.yt[o + k] = yt;
        b.yd[o + k] = cfg->quant == SAIC_QUANT_STE ? rintf(ys) : yt;
        b.yin[o + k] = b.yd[o + k] * ic;
      }
    }
  /* Rate of the noisy latent; its gradient scaled to the loss's 1 / (n N_px). The density is
   * that of the unscaled latent: symbol x of channel c covers [(x -+ 1/2) / g_c], so the gain
   * sets the bin width (saic_density.h) and one density serves every level. */
  const double rscale = 1.0 / ((double)n * npx);
  float *step = malloc((size_t)M * sizeof *step);
  double *gstep = calloc((size_t)M, sizeof *gstep);
  if (!step || !gstep) {
    free(step);
    free(gstep);
    rc = nn_err_set(err, NN_E_NOMEM, "saic_train_step: out of memory");
    goto done;
  }
  for (int c = 0; c < M; c++)
    step[c] = expf(-Gl[c]);
  double bits =
      saic_density_bits_step(saic_model_density(m), M, b.yt, n, lhw, step, rscale, b.grate,
                             saic_model_density_grad(m), gstep, nn_net_threads(dec));
  free(step);
  b.gstep = gstep;
  if (!isfinite(bits)) {
    rc = nn_err_set(err, NN_E_STATE, "saic_train_step: rate is not finite");
    goto done;
  }
  st->bpp = bits / ((double)n * npx);

  /* Synthesis and the distortion / task terms. With FiLM, g_s at this knob: the tables' rows
   * l0 and l1 mixed with weights 1 - kt, kt (saic_model_set_rate splits the knob with
   * saic_model_knob_split like the loss weights). */
  saic_model_set_rate(m, knob);
  const float *xh;
  if ((rc = saic_model_synthesis(m, b.yin, n, &xh, err)) != NN_OK)
    goto done;
  const double lam = saic_train_lambda_at(cfg, knob) * 255.0 * 255.0;
  double ce_sum = 0;
  if (need_task) {
    double *losses = malloc((size_t)n * sizeof *losses);
    float *probs = malloc((size_t)n * (size_t)classifier_num_classes(task) * sizeof(float));
    if (!losses || !probs) {
      free(losses);
      free(probs);
      rc = nn_err_set(err, NN_E_NOMEM, "saic_train_step: out of memory");
      goto done;
    }
    rc = task_gradient(tasks, n_tasks, xh, labels, n, nx, b.g, b.gtmp, losses, probs, err);
    int correct = 0, K = classifier_num_classes(task);
    for (int i = 0; rc == NN_OK && i < n; i++) {
      ce_sum += losses[i];
      const float *p = probs + (size_t)i * (size_t)K;
      int best = 0;
      for (int k = 1; k < K; k++)
        if (p[k] > p[best])
          best = k;
      correct += best == labels[i];
    }
    free(losses);
    free(probs);
    if (rc != NN_OK)
      goto done;
    st->ce = ce_sum / n;
    st->accuracy = (double)correct / n;
    if (b.gorig && (rc = task_gradient(tasks, n_tasks, x, labels, n, nx, b.gorig, b.gtmp, NULL,
                                       NULL, err)) != NN_OK)
      goto done;
  }
  if (alpha > 0) {
    const float *gs = b.gorig ? b.gorig : b.g;
    for (int i = 0; i < n; i++)
      for (size_t k = 0; k < hw; k++) {
        const float *gi = gs + (size_t)i * 3 * hw;
        b.s[(size_t)i * hw + k] = fabsf(gi[k]) + fabsf(gi[hw + k]) + fabsf(gi[2 * hw + k]);
      }
    saic_train_gsw_weights(b.s, n, h, w, &at_knob, b.W);
  } else {
    for (size_t k = 0; k < (size_t)n * hw; k++)
      b.W[k] = 1.0f;
  }
  double se = 0, dw = 0;
  const double dscale = lam * 2.0 / (3.0 * npx * n);
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) {
      size_t o = ((size_t)i * 3 + (size_t)c) * hw;
      const float *Wi = b.W + (size_t)i * hw;
      for (size_t k = 0; k < hw; k++) {
        double d = (double)xh[o + k] - (double)x[o + k];
        se += d * d;
        dw += Wi[k] * d * d;
        double gxk = dscale * Wi[k] * d;
        if (gamma > 0)
          gxk += gamma * b.g[o + k] / n;
        b.gx[o + k] = (float)gxk;
      }
    }
  st->mse = se / (double)nx;
  st->d_weighted = dw / (double)nx;
  st->dist_term = lam * st->d_weighted;
  st->task_term = gamma > 0 ? gamma * ce_sum / n : 0;
  st->loss = st->bpp + st->dist_term + st->task_term;

  /* Backward: synthesis, inverse gain, quantisation proxy, rate, gain, analysis. */
  const float *gyin;
  if ((rc = saic_model_synthesis_backward(m, b.gx, &gyin, err)) != NN_OK)
    goto done;
  /* FiLM: the affine layers' scale / shift gradients to the table rows l0 (weight 1 - kt) and
   * l1 (kt); d/dS = d/da * a. */
  saic_model_film_backward(m);
  float *gG0 = G->grad.data + (size_t)l0 * (size_t)M, *gG1 = G->grad.data + (size_t)l1 * M;
  float *gI0 = I->grad.data + (size_t)l0 * (size_t)M, *gI1 = I->grad.data + (size_t)l1 * M;
  for (int c = 0; c < M; c++) {
    const float gc = expf(Gl[c]), ic = expf(Il[c]);
    double dI = 0, dG = 0;
    for (int i = 0; i < n; i++) {
      size_t o = ((size_t)i * (size_t)M + (size_t)c) * lhw;
      for (size_t k = 0; k < lhw; k++) {
        double gyd = (double)gyin[o + k] * ic;        /* d/d(decoder latent) */
        dI += (double)gyin[o + k] * b.yd[o + k] * ic; /* d/d(log ig) = d/dig * ig */
        double gys = gyd + b.grate[o + k];            /* noise or STE: identity to y_s */
        dG += gys * b.ys[o + k];                      /* d/d(log g) = d/dys * y * g */
        b.gy[o + k] = (float)(gys * gc);
      }
    }
    /* The bin width 1/g_c also depends on log g: d step / d log g = -step. */
    dG -= b.gstep[c] * (double)expf(-Gl[c]);
    /* The mixed log gain is (1 - t) G[l0] + t G[l1]: each row gets its share. */
    gI0[c] += (float)((1 - kt) * dI);
    gG0[c] += (float)((1 - kt) * dG);
    if (kt > 0) {
      gI1[c] += (float)(kt * dI);
      gG1[c] += (float)(kt * dG);
    }
  }
  rc = saic_model_analysis_backward(m, b.gy, err);
done:
  bufs_free(&b);
  return rc;
}

/* Adds w times src's parameter gradients to dst's (same configuration). */
static void add_grads(saic_model *dst, saic_model *src, float w) {
  nn_net *d[2] = {saic_model_encoder(dst), saic_model_decoder(dst)};
  nn_net *o[2] = {saic_model_encoder(src), saic_model_decoder(src)};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(d[k]); i++) {
      nn_param *pd = nn_net_param(d[k], i), *ps = nn_net_param(o[k], i);
      if (!pd->grad.data || !ps->grad.data)
        continue;
      const size_t len = nn_tensor_numel(&pd->grad);
      for (size_t j = 0; j < len; j++)
        pd->grad.data[j] += w * ps->grad.data[j];
    }
}

static void scale_grads(saic_model *m, float w) {
  nn_net *d[2] = {saic_model_encoder(m), saic_model_decoder(m)};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(d[k]); i++) {
      nn_param *p = nn_net_param(d[k], i);
      const size_t len = p->grad.data ? nn_tensor_numel(&p->grad) : 0;
      for (size_t j = 0; j < len; j++)
        p->grad.data[j] *= w;
    }
}

int saic_train_step_replicas(const saic_train_replica *reps, int n_reps, int n_tasks,
                             const saic_loss_cfg *cfg, const float *x, const int *labels, int n,
                             double knob, nn_rng *rng, saic_step_stats *st, nn_err *err) {
  memset(st, 0, sizeof *st);
  if (n_reps < 1 || n_reps > SAIC_TRAIN_MAX_REPLICAS || n < n_reps)
    return nn_err_set(err, NN_E_ARG, "saic_train_step: %d replicas for a batch of %d (1..%d)",
                      n_reps, n, SAIC_TRAIN_MAX_REPLICAS);
  saic_model *m0 = reps[0].model;
  for (int r = 1; r < n_reps; r++) {
    int rc = saic_model_copy_params(reps[r].model, m0, err);
    if (rc != NN_OK)
      return rc;
  }
  /* The whole batch's noise, drawn in the order one replica would draw it. */
  const size_t count = saic_train_noise_count(m0, n), per_image = count / (size_t)n;
  float *noise = malloc((count ? count : 1) * sizeof *noise);
  if (!noise)
    return nn_err_set(err, NN_E_NOMEM, "saic_train_step: out of memory");
  saic_train_draw_noise(rng, noise, count);
  int lc, lh, lw;
  saic_model_latent_shape(m0, &lc, &lh, &lw);
  const size_t image = 3 * (size_t)lh * (size_t)lw * SAIC_MODEL_STRIDE * SAIC_MODEL_STRIDE;
  int first[SAIC_TRAIN_MAX_REPLICAS + 1], rcs[SAIC_TRAIN_MAX_REPLICAS];
  saic_step_stats part[SAIC_TRAIN_MAX_REPLICAS];
  nn_err errs[SAIC_TRAIN_MAX_REPLICAS];
  /* Contiguous slices, the first n % n_reps one image larger. */
  first[0] = 0;
  for (int r = 0; r < n_reps; r++)
    first[r + 1] = first[r] + n / n_reps + (r < n % n_reps);
#pragma omp parallel for schedule(static, 1) num_threads(n_reps)
  for (int r = 0; r < n_reps; r++) {
    const int off = first[r], len = first[r + 1] - first[r];
    errs[r] = (nn_err){0};
    rcs[r] = saic_train_step_noise(reps[r].model, reps[r].tasks, n_tasks, cfg,
                                   x + (size_t)off * image, labels ? labels + off : NULL, len, knob,
                                   noise + (size_t)off * per_image, &part[r], &errs[r]);
  }
  free(noise);
  for (int r = 0; r < n_reps; r++)
    if (rcs[r] != NN_OK) {
      if (err)
        *err = errs[r];
      return rcs[r];
    }
  /* Each replica's gradients and statistics are means over its slice: the batch's are the
   * slices' means weighted by their sizes (replica 0 holds the result). */
  if (n_reps > 1) {
    scale_grads(m0, (float)((double)(first[1] - first[0]) / n));
    for (int r = 1; r < n_reps; r++)
      add_grads(m0, reps[r].model, (float)((double)(first[r + 1] - first[r]) / n));
  }
  for (int r = 0; r < n_reps; r++) {
    const double w = (double)(first[r + 1] - first[r]) / n;
    st->loss += w * part[r].loss;
    st->bpp += w * part[r].bpp;
    st->mse += w * part[r].mse;
    st->d_weighted += w * part[r].d_weighted;
    st->dist_term += w * part[r].dist_term;
    st->task_term += w * part[r].task_term;
    st->ce += w * part[r].ce; /* NAN throughout when no task network ran */
    st->accuracy += w * part[r].accuracy;
  }
  if (n_reps == 1)
    *st = part[0];
  return NN_OK;
}
