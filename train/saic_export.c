/* saic_export.c - codec checkpoints from trained SAIC models (see saic_export.h). */
#include "saic_export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saic.h"

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

int saic_export_tables(saic_model *m, const saic_export_opts *o_in, saic_cdf_set **out,
                       saic_export_info *info, nn_err *err) {
  *out = NULL;
  const saic_export_opts o = o_in ? *o_in : saic_export_defaults();
  int rc = check_opts(&o, err);
  if (rc != NN_OK)
    return rc;
  const int M = saic_model_config(m)->m, L = saic_model_config(m)->levels;
  const int Q = saic_ckpt_num_rates(L);
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
    saic_model_gains(m, saic_ckpt_rate_value(L, q), gain, NULL);
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

/* ------------------------------------------------------------------ writing */

static int is_own_key(const char *k) {
  static const char *const own[] = {"arch",         "created",        "rng",
                                    SAIC_META_N,    SAIC_META_M,      SAIC_META_LEVELS,
                                    SAIC_META_FILM, SAIC_META_SHA256, "codec_format",
                                    "tail_mass",    "max_half_range", NULL};
  for (int i = 0; own[i]; i++)
    if (!strcmp(k, own[i]))
      return 1;
  return 0;
}

int saic_export_model(saic_model *m, const char *out_path, const nn_kv *meta, int nmeta,
                      const saic_export_opts *o_in, saic_export_info *info, nn_err *err) {
  const saic_export_opts o = o_in ? *o_in : saic_export_defaults();
  const saic_model_cfg *cfg = saic_model_config(m);
  if (cfg->levels > SAIC_CKPT_MAX_LEVELS)
    return nn_err_set(err, NN_E_ARG, "export: %d levels; the codec supports at most %d",
                      cfg->levels, SAIC_CKPT_MAX_LEVELS);
  saic_cdf_set *tables = NULL;
  saic_export_info inf;
  int rc = saic_export_tables(m, &o, &tables, &inf, err);
  if (rc != NN_OK)
    return rc;
  rc = saic_ckpt_hash(m, tables, inf.sha256, err);
  const int M = cfg->m * saic_ckpt_num_rates(cfg->levels); /* tables */
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
    for (int i = 0; i < 32; i++)
      snprintf(hex + 2 * i, 3, "%02x", inf.sha256[i]);
    int n = 0;
    kv[n++] = (nn_kv){"arch", SAIC_CKPT_CODEC_ARCH};
    kv[n++] = (nn_kv){"codec_format", SAIC_CKPT_FORMAT};
    kv[n++] = (nn_kv){SAIC_META_N, sn};
    kv[n++] = (nn_kv){SAIC_META_M, sm};
    kv[n++] = (nn_kv){SAIC_META_LEVELS, sl};
    if (cfg->film) /* absent means plain: plain files stay as they were */
      kv[n++] = (nn_kv){SAIC_META_FILM, "1"};
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
    const nn_ckpt_extra ex[2] = {{SAIC_CKPT_CDF_RANGE, 2, {M, 2, 1, 1}, range},
                                 {SAIC_CKPT_CDF, 1, {(int)k, 1, 1, 1}, cdfv}};
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

int saic_export(const char *train_path, const char *out_path, const saic_export_opts *o,
                saic_export_info *info, nn_err *err) {
  saic_model *m = NULL;
  nn_ckpt *ck = NULL;
  int rc = saic_ckpt_load_model(train_path, SAIC_MODEL_STRIDE, SAIC_MODEL_STRIDE, 1, &m, &ck, err);
  if (rc != NN_OK)
    return rc;
  const char *arch = nn_ckpt_meta(ck, "arch");
  if (strcmp(arch, SAIC_CKPT_TRAIN_ARCH) != 0) {
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
