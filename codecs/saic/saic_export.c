/* saic_export.c - codec checkpoints from trained SAIC models (see saic_export.h). */
#include "saic_export.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "saic_density.h"

saic_export_opts saic_export_defaults(void) { return (saic_export_opts){1e-9, 4096}; }

static int check_opts(const saic_export_opts *o, nn_err *err) {
  if (!(o->tail_mass > 0 && o->tail_mass <= 0.01))
    return nn_err_set(err, NN_E_ARG, "export: tail_mass %g outside (0, 0.01]", o->tail_mass);
  if (o->max_half_range < 1 || o->max_half_range > 32768)
    return nn_err_set(err, NN_E_ARG, "export: max_half_range %d outside 1..32768",
                      o->max_half_range);
  return NN_OK;
}

/* ------------------------------------------------------------------ tables */

/* sigmoid without overflow for either sign. */
static double sigmoid(double z) {
  if (z >= 0)
    return 1.0 / (1.0 + exp(-z));
  double e = exp(z);
  return e / (1.0 + e);
}

/* Mass of channel c below x and above x. */
static double mass_below(const float *p, int c, double x) {
  return sigmoid(saic_density_logit(p, c, x));
}
static double mass_above(const float *p, int c, double x) {
  return sigmoid(-saic_density_logit(p, c, x));
}

int saic_export_num_rates(int levels) { return levels <= 1 ? 1 : SAIC_EXPORT_RATE_STEPS + 1; }

double saic_export_rate_value(int levels, int q) {
  return levels <= 1 ? 0.0 : (double)q * saic_model_knob_max(levels) / SAIC_EXPORT_RATE_STEPS;
}

int saic_export_tables(saic_model *m, const saic_export_opts *o_in, saic_cdf_set **out,
                       saic_export_info *info, nn_err *err) {
  *out = NULL;
  const saic_export_opts o = o_in ? *o_in : saic_export_defaults();
  int rc = check_opts(&o, err);
  if (rc != NN_OK)
    return rc;
  const int M = saic_model_config(m)->m, L = saic_model_config(m)->levels;
  const int Q = saic_export_num_rates(L);
  const float *p = saic_model_density(m);
  saic_cdf_set *set = saic_cdf_set_new(Q * M);
  float *pmf = malloc((2 * (size_t)o.max_half_range + 1) * sizeof *pmf);
  float *gain = malloc((size_t)M * sizeof *gain);
  double *med = malloc((size_t)M * sizeof *med);
  if (!set || !pmf || !gain || !med) {
    saic_cdf_set_free(set);
    free(pmf);
    free(gain);
    free(med);
    return nn_err_set(err, NN_E_NOMEM, "export: out of memory");
  }
  saic_export_info inf = {.channels = M, .rates = Q, .min_values = INT32_MAX};
  const int vmax = SAIC_CDF_VALUE_LIMIT - 1;
  const double side = o.tail_mass / 2;
  for (int c = 0; c < M; c++) {
    /* 1. median of the unscaled latent by bisection on the (increasing) logit. */
    double a = -(double)(SAIC_CDF_VALUE_LIMIT / 2), b = (double)(SAIC_CDF_VALUE_LIMIT / 2);
    if (!(saic_density_logit(p, c, a) < 0)) {
      med[c] = a;
    } else if (!(saic_density_logit(p, c, b) > 0)) {
      med[c] = b;
    } else {
      for (int it = 0; it < 100 && b - a > 1e-6; it++) {
        double mid = 0.5 * (a + b);
        if (saic_density_logit(p, c, mid) < 0)
          a = mid;
        else
          b = mid;
      }
      med[c] = 0.5 * (a + b);
    }
    if (!isfinite(med[c])) {
      rc = nn_err_set(err, NN_E_FORMAT, "export: channel %d: density is not finite", c);
      goto out;
    }
  }
  for (int q = 0; q < Q; q++) {
    saic_model_gains(m, saic_export_rate_value(L, q), gain, NULL);
    for (int c = 0; c < M; c++) {
      const double st = 1.0 / (double)gain[c];
      if (!(st > 0) || !isfinite(st)) {
        rc = nn_err_set(err, NN_E_FORMAT, "export: channel %d: gain %g at rate index %d", c,
                        (double)gain[c], q);
        goto out;
      }
      double mc = med[c] / st;
      long centre = mc < -vmax ? -vmax : mc > vmax ? vmax : lrint(mc);
      /* 2. range. */
      long lo = centre, hi = centre;
      while (lo > -vmax && centre - lo < o.max_half_range &&
             mass_below(p, c, ((double)lo - 0.5) * st) >= side)
        lo--;
      while (hi < vmax && hi - centre < o.max_half_range &&
             mass_above(p, c, ((double)hi + 0.5) * st) >= side)
        hi++;
      const double below = mass_below(p, c, ((double)lo - 0.5) * st);
      const double above = mass_above(p, c, ((double)hi + 0.5) * st);
      inf.capped += below >= side || above >= side;
      /* 3. pmf and tables. */
      const int n = (int)(hi - lo + 1);
      for (int k = 0; k < n; k++)
        pmf[k] = (float)saic_density_likelihood_step(p, c, (double)(lo + k), st);
      char cerr[256];
      if (saic_cdf_set_from_pmf(set, q * M + c, (int32_t)lo, pmf, n, (float)(below + above), cerr,
                                sizeof cerr) != SAIC_OK) {
        rc = nn_err_set(err, NN_E_FORMAT, "export: channel %d, rate index %d: %s", c, q, cerr);
        goto out;
      }
      inf.min_values = n < inf.min_values ? n : inf.min_values;
      inf.max_values = n > inf.max_values ? n : inf.max_values;
      inf.total_values += n;
    }
  }
  if (info)
    *info = inf;
  *out = set;
  set = NULL;
out:
  saic_cdf_set_free(set);
  free(pmf);
  free(gain);
  free(med);
  return rc;
}

/* ------------------------------------------------------------------ hash */

static int hash_net(EVP_MD_CTX *ctx, nn_net *net, const char *prefix) {
  int ok = 1;
  for (int i = 0; ok && i < nn_net_num_params(net); i++) {
    const nn_param *p = nn_net_param(net, i);
    char name[160];
    int nl = snprintf(name, sizeof name, "%s%s", prefix, p->name);
    if (nl < 0 || nl >= (int)sizeof name)
      return 0;
    const int all[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
    uint8_t head[2 + sizeof name + 1 + 16];
    size_t hl = 0;
    head[hl++] = (uint8_t)nl;
    head[hl++] = (uint8_t)(nl >> 8);
    memcpy(head + hl, name, (size_t)nl);
    hl += (size_t)nl;
    head[hl++] = (uint8_t)p->ndim;
    for (int d = 0; d < p->ndim && d < 4; d++)
      for (int k = 0; k < 4; k++)
        head[hl++] = (uint8_t)((uint32_t)all[d] >> (8 * k));
    ok = EVP_DigestUpdate(ctx, head, hl);
    const size_t numel = nn_tensor_numel(&p->value);
    uint8_t buf[1024];
    size_t used = 0;
    for (size_t k = 0; ok && k < numel; k++) {
      uint32_t u;
      memcpy(&u, &p->value.data[k], 4);
      for (int j = 0; j < 4; j++)
        buf[used++] = (uint8_t)(u >> (8 * j));
      if (used == sizeof buf || k + 1 == numel) {
        ok = EVP_DigestUpdate(ctx, buf, used);
        used = 0;
      }
    }
  }
  return ok;
}

int saic_export_hash(saic_model *m, const saic_cdf_set *tables, uint8_t sha256[32], nn_err *err) {
  uint8_t *blob = NULL;
  size_t blen = 0;
  char cerr[256];
  if (saic_cdf_set_serialize(tables, &blob, &blen, cerr, sizeof cerr) != SAIC_OK)
    return nn_err_set(err, NN_E_ARG, "model hash: %s", cerr);
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  ok = ok && hash_net(ctx, saic_model_encoder(m), "enc.");
  ok = ok && hash_net(ctx, saic_model_decoder(m), "dec.");
  ok = ok && EVP_DigestUpdate(ctx, blob, blen);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len == 32;
  EVP_MD_CTX_free(ctx);
  free(blob);
  if (!ok)
    return nn_err_set(err, NN_E_NOMEM, "model hash: SHA-256 failed");
  memcpy(sha256, md, 32);
  return NN_OK;
}

static void to_hex(const uint8_t *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * n] = '\0';
}

static int from_hex(const char *s, uint8_t *out, size_t n) {
  if (!s || strlen(s) != 2 * n)
    return -1;
  for (size_t i = 0; i < 2 * n; i++) {
    int v = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
            : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                                         : -1;
    if (v < 0)
      return -1;
    if (i % 2 == 0)
      out[i / 2] = (uint8_t)(v << 4);
    else
      out[i / 2] |= (uint8_t)v;
  }
  return 0;
}

/* ------------------------------------------------------------------ writing */

static int is_own_key(const char *k) {
  static const char *const own[] = {"arch",
                                    "created",
                                    "rng",
                                    SAIC_META_N,
                                    SAIC_META_M,
                                    SAIC_META_LEVELS,
                                    SAIC_META_SHA256,
                                    "codec_format",
                                    "tail_mass",
                                    "max_half_range",
                                    NULL};
  for (int i = 0; own[i]; i++)
    if (!strcmp(k, own[i]))
      return 1;
  return 0;
}

int saic_export_model(saic_model *m, const char *out_path, const nn_kv *meta, int nmeta,
                      const saic_export_opts *o_in, saic_export_info *info, nn_err *err) {
  const saic_export_opts o = o_in ? *o_in : saic_export_defaults();
  const saic_model_cfg *cfg = saic_model_config(m);
  if (cfg->levels > SAIC_EXPORT_MAX_LEVELS)
    return nn_err_set(err, NN_E_ARG, "export: %d levels; the codec supports at most %d",
                      cfg->levels, SAIC_EXPORT_MAX_LEVELS);
  saic_cdf_set *tables = NULL;
  saic_export_info inf;
  int rc = saic_export_tables(m, &o, &tables, &inf, err);
  if (rc != NN_OK)
    return rc;
  rc = saic_export_hash(m, tables, inf.sha256, err);
  const int M = cfg->m * saic_export_num_rates(cfg->levels); /* tables */
  float *range = malloc(2 * (size_t)M * sizeof *range);
  float *cdfv = malloc(((size_t)inf.total_values + (size_t)M) * sizeof *cdfv);
  nn_kv *kv = malloc(((size_t)(nmeta > 0 ? nmeta : 0) + 16) * sizeof *kv);
  if (rc == NN_OK && (!range || !cdfv || !kv))
    rc = nn_err_set(err, NN_E_NOMEM, "%s: out of memory", out_path);
  if (rc == NN_OK) {
    size_t k = 0;
    for (int c = 0; c < M; c++) {
      const saic_cdf *t = saic_cdf_set_get(tables, c);
      range[2 * c] = (float)t->min;
      range[2 * c + 1] = (float)t->nsym;
      for (uint32_t s = 1; s < t->nsym; s++)
        cdfv[k++] = (float)t->cdf[s];
    }
    char sn[16], sm[16], sl[16], hex[65], tail[32], half[16];
    snprintf(sn, sizeof sn, "%d", cfg->n);
    snprintf(sm, sizeof sm, "%d", cfg->m);
    snprintf(sl, sizeof sl, "%d", cfg->levels);
    snprintf(tail, sizeof tail, "%.17g", o.tail_mass);
    snprintf(half, sizeof half, "%d", o.max_half_range);
    to_hex(inf.sha256, 32, hex);
    int n = 0;
    kv[n++] = (nn_kv){"arch", SAIC_EXPORT_CODEC_ARCH};
    kv[n++] = (nn_kv){"codec_format", SAIC_EXPORT_FORMAT};
    kv[n++] = (nn_kv){SAIC_META_N, sn};
    kv[n++] = (nn_kv){SAIC_META_M, sm};
    kv[n++] = (nn_kv){SAIC_META_LEVELS, sl};
    kv[n++] = (nn_kv){SAIC_META_SHA256, hex};
    kv[n++] = (nn_kv){"tail_mass", tail};
    kv[n++] = (nn_kv){"max_half_range", half};
    for (int i = 0; i < nmeta; i++) {
      if (!meta[i].key || !meta[i].value || is_own_key(meta[i].key))
        continue;
      int dup = 0;
      for (int j = 0; j < n && !dup; j++)
        dup = !strcmp(kv[j].key, meta[i].key);
      if (!dup)
        kv[n++] = meta[i];
    }
    const nn_ckpt_part parts[2] = {{"enc.", saic_model_encoder(m)},
                                   {"dec.", saic_model_decoder(m)}};
    const nn_ckpt_extra ex[2] = {{SAIC_EXPORT_CDF_RANGE, 2, {M, 2, 1, 1}, range},
                                 {SAIC_EXPORT_CDF, 1, {(int)k, 1, 1, 1}, cdfv}};
    /* An all-certain model could have no cdf entries at all; a rank-1 tensor needs >= 1. */
    if (k == 0) {
      rc = nn_err_set(err, NN_E_ARG, "%s: every table has a single symbol", out_path);
    } else {
      rc = nn_ckpt_save_parts(out_path, parts, 2, ex, 2, kv, n, err);
    }
  }
  if (rc == NN_OK && info)
    *info = inf;
  free(range);
  free(cdfv);
  free(kv);
  saic_cdf_set_free(tables);
  return rc;
}

/* ------------------------------------------------------------------ reading */

static int meta_int(const nn_ckpt *ck, const char *key, int lo, int hi, int *out, nn_err *err) {
  const char *v = nn_ckpt_meta(ck, key);
  if (!v)
    return nn_err_set(err, NN_E_FORMAT, "%s: metadata \"%s\" missing", nn_ckpt_path(ck), key);
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (!*v || *end || errno || x < lo || x > hi)
    return nn_err_set(err, NN_E_FORMAT,
                      "%s: metadata \"%s\" = \"%.40s\" is not an integer in %d..%d",
                      nn_ckpt_path(ck), key, v, lo, hi);
  *out = (int)x;
  return NN_OK;
}

static int read_cfg(const nn_ckpt *ck, saic_model_cfg *cfg, nn_err *err) {
  int rc = meta_int(ck, SAIC_META_N, 1, SAIC_EXPORT_MAX_WIDTH, &cfg->n, err);
  if (rc == NN_OK)
    rc = meta_int(ck, SAIC_META_M, 1, SAIC_EXPORT_MAX_WIDTH, &cfg->m, err);
  if (rc == NN_OK)
    rc = meta_int(ck, SAIC_META_LEVELS, 1, SAIC_EXPORT_MAX_LEVELS, &cfg->levels, err);
  return rc;
}

/* Checks, before any network is built, that ck holds exactly the "enc." / "dec." tensors a
 * model of cfg has, with their shapes (saic_model_param_shapes), so that metadata declaring a
 * large n or m costs nothing unless the file really carries the parameters. */
static int check_param_shapes(const nn_ckpt *ck, const saic_model_cfg *cfg, nn_err *err) {
  static const char *const prefix[2] = {"enc.", "dec."};
  const char *path = nn_ckpt_path(ck);
  saic_model_param_shape want[SAIC_MODEL_NUM_PARAMS];
  saic_model_param_shapes(cfg, want);
  int expected[2] = {0, 0};
  for (int i = 0; i < SAIC_MODEL_NUM_PARAMS; i++) {
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix[want[i].net], want[i].name);
    expected[want[i].net]++;
    const int t = nn_ckpt_find_tensor(ck, name);
    if (t < 0)
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: tensor '%s' missing (a model with n %d, m %d, levels %d needs it)",
                        path, name, cfg->n, cfg->m, cfg->levels);
    const char *tn;
    int rank, dims[4];
    const float *data;
    nn_ckpt_tensor_at(ck, t, &tn, &rank, dims, &data);
    int same = rank == want[i].rank;
    for (int d = 0; d < 4 && same; d++)
      same = dims[d] == want[i].dims[d];
    if (!same)
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: tensor '%s' has shape [%d, %d, %d, %d] (rank %d); a model with n %d, "
                        "m %d, levels %d needs [%d, %d, %d, %d] (rank %d)",
                        path, name, dims[0], dims[1], dims[2], dims[3], rank, cfg->n, cfg->m,
                        cfg->levels, want[i].dims[0], want[i].dims[1], want[i].dims[2],
                        want[i].dims[3], want[i].rank);
  }
  /* Every expected tensor is present once (names are unique), so a surplus under a prefix is a
   * tensor the model lacks: name it. */
  int found[2] = {0, 0};
  for (int j = 0; j < nn_ckpt_num_tensors(ck); j++) {
    const char *tn;
    int rank, dims[4];
    const float *data;
    nn_ckpt_tensor_at(ck, j, &tn, &rank, dims, &data);
    for (int k = 0; k < 2; k++)
      found[k] += !strncmp(tn, prefix[k], strlen(prefix[k]));
  }
  for (int k = 0; k < 2; k++)
    if (found[k] != expected[k])
      for (int j = 0; j < nn_ckpt_num_tensors(ck); j++) {
        const char *tn;
        int rank, dims[4], known = 0;
        const float *data;
        nn_ckpt_tensor_at(ck, j, &tn, &rank, dims, &data);
        if (strncmp(tn, prefix[k], strlen(prefix[k])))
          continue;
        for (int i = 0; i < SAIC_MODEL_NUM_PARAMS && !known; i++)
          known = want[i].net == k && !strcmp(tn + strlen(prefix[k]), want[i].name);
        if (!known)
          return nn_err_set(err, NN_E_FORMAT, "%s: unexpected tensor '%s' (not in the network)",
                            path, tn);
      }
  return NN_OK;
}

/* Model of cfg at h x w with the parameters of ck. */
static int model_from_ckpt(const nn_ckpt *ck, const saic_model_cfg *cfg, int h, int w, int threads,
                           saic_model **out, nn_err *err) {
  *out = NULL;
  int rc = check_param_shapes(ck, cfg, err);
  if (rc != NN_OK)
    return rc;
  saic_model *m = saic_model_create(cfg, h, w, threads, 0, err);
  if (!m)
    return err ? err->code : NN_E_ARG;
  /* nn_ckpt_apply_part's messages already start with the path. */
  rc = nn_ckpt_apply_part(ck, saic_model_encoder(m), "enc.", err);
  if (rc == NN_OK)
    rc = nn_ckpt_apply_part(ck, saic_model_decoder(m), "dec.", err);
  if (rc != NN_OK) {
    saic_model_free(m);
    return rc;
  }
  *out = m;
  return NN_OK;
}

int saic_export_load_model(const char *path, int h, int w, int threads, saic_model **out,
                           nn_ckpt **ck_out, nn_err *err) {
  *out = NULL;
  if (ck_out)
    *ck_out = NULL;
  nn_ckpt *ck = NULL;
  int rc = nn_ckpt_read(path, &ck, err);
  if (rc != NN_OK)
    return rc;
  const char *arch = nn_ckpt_meta(ck, "arch");
  saic_model_cfg cfg;
  if (!arch || (strcmp(arch, SAIC_EXPORT_TRAIN_ARCH) && strcmp(arch, SAIC_EXPORT_CODEC_ARCH)))
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: architecture \"%s\" is not a SAIC model (expected \"%s\" or \"%s\")", path,
                    arch ? arch : "(none)", SAIC_EXPORT_TRAIN_ARCH, SAIC_EXPORT_CODEC_ARCH);
  if (rc == NN_OK)
    rc = read_cfg(ck, &cfg, err);
  if (rc == NN_OK)
    rc = model_from_ckpt(ck, &cfg, h, w, threads, out, err);
  if (rc == NN_OK && ck_out)
    *ck_out = ck;
  else
    nn_ckpt_free(ck);
  return rc;
}

int saic_export(const char *train_path, const char *out_path, const saic_export_opts *o,
                saic_export_info *info, nn_err *err) {
  saic_model *m = NULL;
  nn_ckpt *ck = NULL;
  int rc =
      saic_export_load_model(train_path, SAIC_MODEL_STRIDE, SAIC_MODEL_STRIDE, 1, &m, &ck, err);
  if (rc != NN_OK)
    return rc;
  const char *arch = nn_ckpt_meta(ck, "arch");
  if (strcmp(arch, SAIC_EXPORT_TRAIN_ARCH) != 0) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: already a codec checkpoint (arch \"%s\")", train_path,
                    arch);
  } else {
    const int nm = nn_ckpt_num_meta(ck);
    nn_kv *kv = malloc(((size_t)nm + 1) * sizeof *kv);
    if (!kv) {
      rc = nn_err_set(err, NN_E_NOMEM, "%s: out of memory", out_path);
    } else {
      int n = 0;
      kv[n++] = (nn_kv){"source", train_path};
      for (int i = 0; i < nm; i++) {
        const char *k, *v;
        if (nn_ckpt_meta_at(ck, i, &k, &v) == NN_OK && strcmp(k, "source") != 0)
          kv[n++] = (nn_kv){k, v};
      }
      rc = saic_export_model(m, out_path, kv, n, o, info, err);
      free(kv);
    }
  }
  saic_model_free(m);
  nn_ckpt_free(ck);
  return rc;
}

/* Exact small integer from a float32 tensor value, within [lo, hi]. */
static int float_int(float f, long lo, long hi, long *out) {
  if (!isfinite(f) || f != floorf(f) || f < (float)lo || f > (float)hi)
    return -1;
  *out = (long)f;
  return 0;
}

static int load_tables(const nn_ckpt *ck, int M, saic_cdf_set **out, nn_err *err) {
  *out = NULL;
  const char *path = nn_ckpt_path(ck);
  const int ir = nn_ckpt_find_tensor(ck, SAIC_EXPORT_CDF_RANGE);
  const int ic = nn_ckpt_find_tensor(ck, SAIC_EXPORT_CDF);
  if (ir < 0 || ic < 0)
    return nn_err_set(err, NN_E_FORMAT, "%s: tensor \"%s\" missing (not an exported codec?)", path,
                      ir < 0 ? SAIC_EXPORT_CDF_RANGE : SAIC_EXPORT_CDF);
  const char *name;
  int rank, dims[4], crank, cdims[4];
  const float *range, *cdfv;
  nn_ckpt_tensor_at(ck, ir, &name, &rank, dims, &range);
  nn_ckpt_tensor_at(ck, ic, &name, &crank, cdims, &cdfv);
  if (rank != 2 || dims[0] != M || dims[1] != 2)
    return nn_err_set(err, NN_E_FORMAT, "%s: \"%s\" has shape [%d, %d] (rank %d), expected [%d, 2]",
                      path, SAIC_EXPORT_CDF_RANGE, dims[0], dims[1], rank, M);
  if (crank != 1)
    return nn_err_set(err, NN_E_FORMAT, "%s: \"%s\" has rank %d, expected 1", path, SAIC_EXPORT_CDF,
                      crank);
  const size_t total = (size_t)cdims[0];
  saic_cdf_set *set = saic_cdf_set_new(M);
  uint32_t *cdf = malloc(((size_t)SAIC_CDF_MAX_SYMBOLS + 1) * sizeof *cdf);
  int rc = NN_OK;
  if (!set || !cdf) {
    rc = nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
    goto out;
  }
  size_t k = 0;
  for (int c = 0; c < M; c++) {
    long mn, ns;
    if (float_int(range[2 * c], -(SAIC_CDF_VALUE_LIMIT - 1), SAIC_CDF_VALUE_LIMIT - 1, &mn) ||
        float_int(range[2 * c + 1], 2, SAIC_CDF_MAX_SYMBOLS, &ns)) {
      rc = nn_err_set(err, NN_E_FORMAT, "%s: table %d: bad range entry (%g, %g)", path, c,
                      (double)range[2 * c], (double)range[2 * c + 1]);
      goto out;
    }
    if ((size_t)(ns - 1) > total - k) {
      rc = nn_err_set(err, NN_E_FORMAT, "%s: table %d: \"%s\" is too short", path, c,
                      SAIC_EXPORT_CDF);
      goto out;
    }
    cdf[0] = 0;
    for (long s = 1; s < ns; s++) {
      long v;
      if (float_int(cdfv[k++], 1, SAIC_RC_TOTAL - 1, &v)) {
        rc = nn_err_set(err, NN_E_FORMAT,
                        "%s: table %d: cdf entry %ld is not an integer in "
                        "1..65535",
                        path, c, s);
        goto out;
      }
      cdf[s] = (uint32_t)v;
    }
    cdf[ns] = SAIC_RC_TOTAL;
    char cerr[256];
    if (saic_cdf_set_from_cdf(set, c, (int32_t)mn, cdf, (uint32_t)ns, cerr, sizeof cerr) !=
        SAIC_OK) {
      rc = nn_err_set(err, NN_E_FORMAT, "%s: table %d: %s", path, c, cerr);
      goto out;
    }
  }
  if (k != total) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: \"%s\" has %zu entries, the tables use %zu", path,
                    SAIC_EXPORT_CDF, total, k);
    goto out;
  }
  *out = set;
  set = NULL;
out:
  saic_cdf_set_free(set);
  free(cdf);
  return rc;
}

int saic_codec_model_load(const char *path, int threads, saic_codec_model **out, nn_err *err) {
  *out = NULL;
  saic_codec_model *cm = calloc(1, sizeof *cm);
  if (!cm)
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
  nn_ckpt *ck = NULL;
  int rc = nn_ckpt_read(path, &ck, err);
  if (rc != NN_OK)
    goto out;
  const char *arch = nn_ckpt_meta(ck, "arch"), *fmt = nn_ckpt_meta(ck, "codec_format");
  if (arch && !strcmp(arch, SAIC_EXPORT_TRAIN_ARCH)) {
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: a training checkpoint, not a codec; run `saicbench export --model %s "
                    "--out CODEC.ckpt` first",
                    path, path);
    goto out;
  }
  if (!arch || strcmp(arch, SAIC_EXPORT_CODEC_ARCH)) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: architecture \"%s\", expected \"%s\"", path,
                    arch ? arch : "(none)", SAIC_EXPORT_CODEC_ARCH);
    goto out;
  }
  if (!fmt || strcmp(fmt, SAIC_EXPORT_FORMAT)) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: codec format \"%s\", this build reads \"%s\"", path,
                    fmt ? fmt : "(none)", SAIC_EXPORT_FORMAT);
    goto out;
  }
  uint8_t want[32];
  if (from_hex(nn_ckpt_meta(ck, SAIC_META_SHA256), want, 32)) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: metadata \"%s\" missing or not 64 hex digits", path,
                    SAIC_META_SHA256);
    goto out;
  }
  if ((rc = read_cfg(ck, &cm->cfg, err)) != NN_OK ||
      (rc = model_from_ckpt(ck, &cm->cfg, SAIC_MODEL_STRIDE, SAIC_MODEL_STRIDE, threads, &cm->model,
                            err)) != NN_OK ||
      (rc = load_tables(ck, cm->cfg.m * saic_export_num_rates(cm->cfg.levels), &cm->tables, err)) !=
          NN_OK ||
      (rc = saic_export_hash(cm->model, cm->tables, cm->sha256, err)) != NN_OK)
    goto out;
  if (memcmp(want, cm->sha256, 32) != 0) {
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: parameters and tables do not match model_sha256 (file edited?)", path);
    goto out;
  }
  *out = cm;
  cm = NULL;
out:
  nn_ckpt_free(ck);
  saic_codec_model_free(cm);
  return rc;
}

void saic_codec_model_free(saic_codec_model *cm) {
  if (!cm)
    return;
  saic_model_free(cm->model);
  saic_cdf_set_free(cm->tables);
  free(cm);
}
