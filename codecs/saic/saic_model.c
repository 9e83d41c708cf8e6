/* saic_model.c - the SAIC codec's networks (see saic_model.h). */
#include "saic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct saic_model {
  saic_model_cfg cfg;
  int h, w, threads;
  nn_net *enc, *dec;
  int enc_out, dec_out;
  nn_param *gain, *inv_gain, *density;
  /* FiLM (cfg.film): the two chaffine nodes of g_s, the tables and the knob split of the last
   * saic_model_set_rate (levels l0, l1 with weights 1 - t, t). */
  int film_node[2];
  nn_param *film_s, *film_b;
  float *film_vec; /* 4N: scale (2N) then shift (2N) at the knob */
  int film_l0, film_l1;
  double film_t;
};

static int build_encoder(nn_net *net, int n, int m) {
  int x = nn_conv2d(net, 0, "g_a.0", n, 5, 2, 2, true);
  x = nn_gdn(net, x, "g_a.1", false);
  x = nn_conv2d(net, x, "g_a.2", n, 5, 2, 2, true);
  x = nn_gdn(net, x, "g_a.3", false);
  return nn_conv2d(net, x, "g_a.4", m, 5, 2, 2, true);
}

/* film: a chaffine node after each IGDN (ids in film_node[0..1]); they own no parameters, so
 * the parameter list is that of the plain decoder. */
static int build_decoder(nn_net *net, int n, int film, int film_node[2]) {
  int x = nn_deconv2d(net, 0, "g_s.0", n, 5, 2, 2, 1, true);
  x = nn_gdn(net, x, "g_s.1", true);
  if (film)
    x = film_node[0] = nn_chaffine(net, x, "film.1");
  x = nn_deconv2d(net, x, "g_s.2", n, 5, 2, 2, 1, true);
  x = nn_gdn(net, x, "g_s.3", true);
  if (film)
    x = film_node[1] = nn_chaffine(net, x, "film.3");
  return nn_deconv2d(net, x, "g_s.4", 3, 5, 2, 2, 1, true);
}

int saic_model_num_params(const saic_model_cfg *cfg) {
  return SAIC_MODEL_BASE_PARAMS + (cfg && cfg->film ? 2 : 0);
}

int saic_model_param_shapes(const saic_model_cfg *cfg,
                            saic_model_param_shape out[SAIC_MODEL_MAX_PARAMS]) {
  const int N = cfg->n, M = cfg->m, L = cfg->levels, K = 5;
  /* conv weights are [out, in, k, k], deconv weights [in, out, k, k]; GDN: beta [C], gamma
   * [C, C] (nn/net.c). Order: build_encoder, "gain"; build_decoder, "inv_gain", "density". */
  const saic_model_param_shape s[SAIC_MODEL_MAX_PARAMS] = {
      {"g_a.0.weight", 0, 4, {N, 3, K, K}},
      {"g_a.0.bias", 0, 1, {N, 1, 1, 1}},
      {"g_a.1.beta", 0, 1, {N, 1, 1, 1}},
      {"g_a.1.gamma", 0, 2, {N, N, 1, 1}},
      {"g_a.2.weight", 0, 4, {N, N, K, K}},
      {"g_a.2.bias", 0, 1, {N, 1, 1, 1}},
      {"g_a.3.beta", 0, 1, {N, 1, 1, 1}},
      {"g_a.3.gamma", 0, 2, {N, N, 1, 1}},
      {"g_a.4.weight", 0, 4, {M, N, K, K}},
      {"g_a.4.bias", 0, 1, {M, 1, 1, 1}},
      {"gain", 0, 2, {L, M, 1, 1}},
      {"g_s.0.weight", 1, 4, {M, N, K, K}},
      {"g_s.0.bias", 1, 1, {N, 1, 1, 1}},
      {"g_s.1.beta", 1, 1, {N, 1, 1, 1}},
      {"g_s.1.gamma", 1, 2, {N, N, 1, 1}},
      {"g_s.2.weight", 1, 4, {N, N, K, K}},
      {"g_s.2.bias", 1, 1, {N, 1, 1, 1}},
      {"g_s.3.beta", 1, 1, {N, 1, 1, 1}},
      {"g_s.3.gamma", 1, 2, {N, N, 1, 1}},
      {"g_s.4.weight", 1, 4, {N, 3, K, K}},
      {"g_s.4.bias", 1, 1, {3, 1, 1, 1}},
      {"inv_gain", 1, 2, {L, M, 1, 1}},
      {"density", 1, 2, {M, SAIC_DENSITY_NPARAM, 1, 1}},
      {SAIC_MODEL_FILM_SCALE, 1, 2, {L, 2 * N, 1, 1}},
      {SAIC_MODEL_FILM_SHIFT, 1, 2, {L, 2 * N, 1, 1}},
  };
  const int count = saic_model_num_params(cfg);
  memcpy(out, s, (size_t)count * sizeof s[0]);
  return count;
}

/* splitmix64 as the density initialiser's uniform source. */
static double uniform01(void *ctx) {
  uint64_t *s = ctx;
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

saic_model *saic_model_create(const saic_model_cfg *cfg, int h, int w, int threads, uint64_t seed,
                              nn_err *err) {
  if (!cfg || cfg->n < 1 || cfg->m < 1 || cfg->levels < 1 || cfg->levels > 64 || h < 8 || w < 8 ||
      h % SAIC_MODEL_STRIDE || w % SAIC_MODEL_STRIDE || cfg->film < 0 || cfg->film > 1) {
    nn_err_set(err, NN_E_ARG, "saic_model_create: bad configuration or size %dx%d", w, h);
    return NULL;
  }
  saic_model *m = calloc(1, sizeof *m);
  if (!m) {
    nn_err_set(err, NN_E_NOMEM, "saic_model_create: out of memory");
    return NULL;
  }
  m->cfg = *cfg;
  m->h = h;
  m->w = w;
  m->threads = threads > 0 ? threads : 1;
  m->enc = nn_net_create(3, h, w, m->threads, err);
  m->dec =
      m->enc ? nn_net_create(cfg->m, h / SAIC_MODEL_STRIDE, w / SAIC_MODEL_STRIDE, m->threads, err)
             : NULL;
  if (!m->dec)
    goto fail;
  m->enc_out = build_encoder(m->enc, cfg->n, cfg->m);
  m->dec_out = build_decoder(m->dec, cfg->n, cfg->film, m->film_node);
  const int gdims[2] = {cfg->levels, cfg->m};
  const int ddims[2] = {cfg->m, SAIC_DENSITY_NPARAM};
  const int fdims[2] = {cfg->levels, 2 * cfg->n};
  int gi = nn_net_add_param(m->enc, "gain", 2, gdims, true);
  int ii = nn_net_add_param(m->dec, "inv_gain", 2, gdims, true);
  int di = nn_net_add_param(m->dec, "density", 2, ddims, true);
  int fs = cfg->film ? nn_net_add_param(m->dec, SAIC_MODEL_FILM_SCALE, 2, fdims, true) : 0;
  int fb = cfg->film ? nn_net_add_param(m->dec, SAIC_MODEL_FILM_SHIFT, 2, fdims, true) : 0;
  if (m->enc_out < 0 || m->dec_out < 0 || gi < 0 || ii < 0 || di < 0 || fs < 0 || fb < 0 ||
      nn_net_error(m->enc) || nn_net_error(m->dec)) {
    nn_err_set(err, NN_E_ARG, "saic_model_create: %s",
               nn_net_error(m->enc) ? nn_net_error(m->enc) : nn_net_error(m->dec));
    goto fail;
  }
  if (nn_net_init_params(m->enc, seed) != NN_OK ||
      nn_net_init_params(m->dec, seed ^ 0x5a1c0dec0ull) != NN_OK) {
    nn_err_set(err, NN_E_ARG, "saic_model_create: initialisation failed");
    goto fail;
  }
  /* PyTorch's default convolution initialisation (what CompressAI's reference models start
   * from): weights U(+-1/sqrt(fan_in)) instead of nn's He-uniform U(+-sqrt(6/fan_in)); with
   * GDN the larger scale leaves the untrained decoder's output far off and slows the start. */
  nn_net *nets[2] = {m->enc, m->dec};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(nets[k]); i++) {
      nn_param *p = nn_net_param(nets[k], i);
      size_t len = strlen(p->name);
      if (len > 7 && !strcmp(p->name + len - 7, ".weight") && !strncmp(p->name, "g_", 2))
        for (size_t j = 0; j < nn_tensor_numel(&p->value); j++)
          p->value.data[j] *= (float)(1.0 / sqrt(6.0));
    }
  nn_net_set_group(m->dec, "density", SAIC_MODEL_DENSITY_GROUP);
  nn_net_set_group(m->enc, "gain", SAIC_MODEL_GAIN_GROUP);
  nn_net_set_group(m->dec, "inv_gain", SAIC_MODEL_GAIN_GROUP);
  m->gain = nn_net_param(m->enc, gi);
  m->inv_gain = nn_net_param(m->dec, ii);
  for (int l = 0; l < cfg->levels; l++)
    for (int c = 0; c < cfg->m; c++) {
      const float g = (float)(SAIC_MODEL_GAIN_SPREAD * (l - 0.5 * (cfg->levels - 1)));
      m->gain->value.data[(size_t)l * (size_t)cfg->m + (size_t)c] = g;
      m->inv_gain->value.data[(size_t)l * (size_t)cfg->m + (size_t)c] = -g;
    }
  m->density = nn_net_param(m->dec, di);
  if (cfg->film) { /* zero tables (nn_net_add_param): the identity, the plain decoder */
    nn_net_set_group(m->dec, "film.", SAIC_MODEL_FILM_GROUP);
    m->film_s = nn_net_param(m->dec, fs);
    m->film_b = nn_net_param(m->dec, fb);
    if (!(m->film_vec = malloc(4 * (size_t)cfg->n * sizeof(float)))) {
      nn_err_set(err, NN_E_NOMEM, "saic_model_create: out of memory");
      goto fail;
    }
    saic_model_set_rate(m, 0);
  }
  uint64_t s = seed ^ 0xde45171700ull;
  saic_density_init(m->density->value.data, cfg->m, 10.0, uniform01, &s);
  nn_net_set_input_grad(m->dec, true);
  return m;
fail:
  saic_model_free(m);
  return NULL;
}

void saic_model_free(saic_model *m) {
  if (!m)
    return;
  nn_net_free(m->enc);
  nn_net_free(m->dec);
  free(m->film_vec);
  free(m);
}

const saic_model_cfg *saic_model_config(const saic_model *m) { return &m->cfg; }
nn_net *saic_model_encoder(saic_model *m) { return m->enc; }
nn_net *saic_model_decoder(saic_model *m) { return m->dec; }
float *saic_model_density(saic_model *m) { return m->density->value.data; }
float *saic_model_density_grad(saic_model *m) { return m->density->grad.data; }

void saic_model_latent_shape(const saic_model *m, int *c, int *h, int *w) {
  *c = m->cfg.m;
  *h = m->h / SAIC_MODEL_STRIDE;
  *w = m->w / SAIC_MODEL_STRIDE;
}

static int copy_net(nn_net *dst, nn_net *src, nn_err *err) {
  if (nn_net_num_params(dst) != nn_net_num_params(src))
    return nn_err_set(err, NN_E_ARG, "saic_model_copy_params: different networks");
  for (int i = 0; i < nn_net_num_params(src); i++) {
    const nn_param *a = nn_net_param(src, i);
    nn_param *b = nn_net_param(dst, i);
    size_t n = nn_tensor_numel(&a->value);
    if (strcmp(a->name, b->name) || n != nn_tensor_numel(&b->value))
      return nn_err_set(err, NN_E_ARG, "saic_model_copy_params: parameter %s differs", a->name);
    memcpy(b->value.data, a->value.data, n * sizeof(float));
  }
  return NN_OK;
}

int saic_model_copy_params(saic_model *dst, const saic_model *src, nn_err *err) {
  if (dst->cfg.n != src->cfg.n || dst->cfg.m != src->cfg.m || dst->cfg.levels != src->cfg.levels ||
      dst->cfg.film != src->cfg.film)
    return nn_err_set(err, NN_E_ARG, "saic_model_copy_params: different configurations");
  int rc = copy_net(dst->enc, src->enc, err);
  return rc == NN_OK ? copy_net(dst->dec, src->dec, err) : rc;
}

double saic_model_knob_max(int levels) {
  return levels <= 1 ? 0.0 : levels - 1 + SAIC_MODEL_KNOB_EXTRA;
}

void saic_model_set_inference_only(saic_model *m) {
  nn_net_set_inference_only(m->enc, true);
  nn_net_set_inference_only(m->dec, true);
  nn_net_set_const_params(m->enc, true);
  nn_net_set_const_params(m->dec, true);
}

void saic_model_knob_split(int levels, double r, int *l0, int *l1, double *t) {
  if (levels <= 1 || !(r > 0)) { /* one level, or the bottom (NaN too) */
    *l0 = 0, *l1 = levels > 1 ? 1 : 0, *t = 0;
  } else if (r >= levels - 1) { /* the top level, and the extrapolated range above it */
    *l0 = levels - 2, *l1 = levels - 1, *t = 1;
  } else {
    *l0 = (int)floor(r), *l1 = *l0 + 1, *t = r - *l0;
  }
}

void saic_model_gains(const saic_model *m, double r, float *gain, float *inv_gain) {
  int L = m->cfg.levels, M = m->cfg.m;
  if (!(r >= 0))
    r = 0;
  if (r > saic_model_knob_max(L))
    r = saic_model_knob_max(L);
  const float *G = m->gain->value.data, *I = m->inv_gain->value.data;
  if (L > 1 && r > L - 1) {
    /* Extrapolation: the gain continues its top segment's slope d; the inverse gain falls by
     * the same factor, so g * ig -- the scale the synthesis transform sees -- stays that of the
     * top trained level and only the bins get finer. (Continuing ig's own line instead feeds
     * g_s latents at a scale it never saw: 5 dB PSNR at r = 3.25 on CIFAR.) */
    const double e = r - (L - 1);
    const float *Gt = G + (size_t)(L - 1) * M, *Gb = G + (size_t)(L - 2) * M,
                *It = I + (size_t)(L - 1) * M;
    for (int c = 0; c < M; c++) {
      const double d = (double)Gt[c] - Gb[c];
      if (gain)
        gain[c] = (float)exp(Gt[c] + e * d);
      if (inv_gain)
        inv_gain[c] = (float)exp(It[c] - e * d);
    }
    return;
  }
  int l, l2;
  double t;
  saic_model_knob_split(L, r, &l, &l2, &t);
  for (int c = 0; c < M; c++) {
    if (gain)
      gain[c] = (float)exp((1 - t) * G[l * M + c] + t * G[l2 * M + c]);
    if (inv_gain)
      inv_gain[c] = (float)exp((1 - t) * I[l * M + c] + t * I[l2 * M + c]);
  }
}

void saic_model_set_rate(saic_model *m, double r) {
  if (!m->cfg.film)
    return;
  const int L = m->cfg.levels, N = m->cfg.n;
  int l0, l1;
  double t;
  saic_model_knob_split(L, r, &l0, &l1, &t);
  m->film_l0 = l0, m->film_l1 = l1, m->film_t = t;
  const float *S = m->film_s->value.data, *B = m->film_b->value.data;
  float *av = m->film_vec, *bv = m->film_vec + 2 * (size_t)N;
  for (int j = 0; j < 2 * N; j++) {
    const size_t i0 = (size_t)l0 * 2 * N + (size_t)j, i1 = (size_t)l1 * 2 * N + (size_t)j;
    av[j] = (float)exp((1 - t) * S[i0] + t * S[i1]);
    bv[j] = (float)((1 - t) * B[i0] + t * B[i1]);
  }
  for (int k = 0; k < 2; k++)
    nn_net_set_chaffine(m->dec, m->film_node[k], av + (size_t)k * N, bv + (size_t)k * N);
}

void saic_model_film_backward(saic_model *m) {
  if (!m->cfg.film)
    return;
  const int N = m->cfg.n;
  const double w[2] = {1 - m->film_t, m->film_t};
  const int lv[2] = {m->film_l0, m->film_l1};
  for (int k = 0; k < 2; k++) {
    const float *a, *da, *db;
    nn_net_chaffine(m->dec, m->film_node[k], &a, NULL, &da, &db);
    for (int e = 0; e < 2; e++) {
      if (w[e] == 0)
        continue;
      float *gS = m->film_s->grad.data + (size_t)lv[e] * 2 * N + (size_t)k * N;
      float *gB = m->film_b->grad.data + (size_t)lv[e] * 2 * N + (size_t)k * N;
      for (int c = 0; c < N; c++) {
        gS[c] += (float)(w[e] * (double)da[c] * a[c]); /* d/dS = d/da * a (a = exp S) */
        gB[c] += (float)(w[e] * (double)db[c]);
      }
    }
  }
}

int saic_model_analysis(saic_model *m, const float *x, int n, const float **y, nn_err *err) {
  nn_tensor in = nn_tensor_view((float *)x, n, 3, m->h, m->w);
  if (nn_net_forward(m->enc, &in, NN_TRAIN) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "saic analysis: %s", nn_net_error(m->enc));
  *y = nn_net_output(m->enc, m->enc_out)->data;
  return NN_OK;
}

int saic_model_analysis_backward(saic_model *m, const float *grad_y, nn_err *err) {
  const nn_tensor *out = nn_net_output(m->enc, m->enc_out);
  nn_tensor g = nn_tensor_view((float *)grad_y, out->n, out->c, out->h, out->w);
  if (nn_net_backward(m->enc, 1, &m->enc_out, &g) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "saic analysis backward: %s", nn_net_error(m->enc));
  return NN_OK;
}

int saic_model_synthesis(saic_model *m, const float *y, int n, const float **x, nn_err *err) {
  nn_tensor in =
      nn_tensor_view((float *)y, n, m->cfg.m, m->h / SAIC_MODEL_STRIDE, m->w / SAIC_MODEL_STRIDE);
  if (nn_net_forward(m->dec, &in, NN_TRAIN) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "saic synthesis: %s", nn_net_error(m->dec));
  *x = nn_net_output(m->dec, m->dec_out)->data;
  return NN_OK;
}

int saic_model_synthesis_backward(saic_model *m, const float *grad_x, const float **grad_y,
                                  nn_err *err) {
  const nn_tensor *out = nn_net_output(m->dec, m->dec_out);
  nn_tensor g = nn_tensor_view((float *)grad_x, out->n, out->c, out->h, out->w);
  if (nn_net_backward(m->dec, 1, &m->dec_out, &g) != NN_OK)
    return nn_err_set(err, NN_E_BACKEND, "saic synthesis backward: %s", nn_net_error(m->dec));
  *grad_y = nn_net_grad(m->dec, 0)->data;
  return NN_OK;
}
