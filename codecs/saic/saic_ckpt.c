/* saic_ckpt.c - SAIC checkpoints: the model hash and reading models and codec checkpoints
 * (see saic_ckpt.h). */
#include "saic.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

int saic_ckpt_num_rates(int levels) { return levels <= 1 ? 1 : SAIC_CKPT_RATE_STEPS + 1; }

double saic_ckpt_rate_value(int levels, int q) {
  return levels <= 1 ? 0.0 : (double)q * saic_model_knob_max(levels) / SAIC_CKPT_RATE_STEPS;
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

int saic_ckpt_hash(saic_model *m, const saic_cdf_set *tables, uint8_t sha256[32], nn_err *err) {
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
  int rc = meta_int(ck, SAIC_META_N, 1, SAIC_CKPT_MAX_WIDTH, &cfg->n, err);
  if (rc == NN_OK)
    rc = meta_int(ck, SAIC_META_M, 1, SAIC_CKPT_MAX_WIDTH, &cfg->m, err);
  if (rc == NN_OK)
    rc = meta_int(ck, SAIC_META_LEVELS, 1, SAIC_CKPT_MAX_LEVELS, &cfg->levels, err);
  cfg->film = 0; /* absent in files from before the FiLM option */
  if (rc == NN_OK && nn_ckpt_meta(ck, SAIC_META_FILM))
    rc = meta_int(ck, SAIC_META_FILM, 0, 1, &cfg->film, err);
  return rc;
}

/* Checks, before any network is built, that ck holds exactly the "enc." / "dec." tensors a
 * model of cfg has, with their shapes (saic_model_param_shapes), so that metadata declaring a
 * large n or m costs nothing unless the file really carries the parameters. */
static int check_param_shapes(const nn_ckpt *ck, const saic_model_cfg *cfg, nn_err *err) {
  static const char *const prefix[2] = {"enc.", "dec."};
  const char *path = nn_ckpt_path(ck);
  saic_model_param_shape want[SAIC_MODEL_MAX_PARAMS];
  const int np = saic_model_param_shapes(cfg, want);
  int expected[2] = {0, 0};
  for (int i = 0; i < np; i++) {
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix[want[i].net], want[i].name);
    expected[want[i].net]++;
    const int t = nn_ckpt_find_tensor(ck, name);
    if (t < 0)
      return nn_err_set(err, NN_E_FORMAT,
                        "%s: tensor '%s' missing (a model with n %d, m %d, levels %d%s needs it)",
                        path, name, cfg->n, cfg->m, cfg->levels, cfg->film ? ", film" : "");
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
                        "m %d, levels %d%s needs [%d, %d, %d, %d] (rank %d)",
                        path, name, dims[0], dims[1], dims[2], dims[3], rank, cfg->n, cfg->m,
                        cfg->levels, cfg->film ? ", film" : "", want[i].dims[0], want[i].dims[1],
                        want[i].dims[2], want[i].dims[3], want[i].rank);
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
        for (int i = 0; i < np && !known; i++)
          known = want[i].net == k && !strcmp(tn + strlen(prefix[k]), want[i].name);
        if (!known)
          return nn_err_set(err, NN_E_FORMAT, "%s: unexpected tensor '%s' (not in the network%s)",
                            path, tn,
                            !cfg->film && strstr(tn, "film.")
                                ? "; a FiLM tensor in a file without metadata film = 1"
                                : "");
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

int saic_ckpt_load_model(const char *path, int h, int w, int threads, saic_model **out,
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
  if (!arch || (strcmp(arch, SAIC_CKPT_TRAIN_ARCH) && strcmp(arch, SAIC_CKPT_CODEC_ARCH)))
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: architecture \"%s\" is not a SAIC model (expected \"%s\" or \"%s\")", path,
                    arch ? arch : "(none)", SAIC_CKPT_TRAIN_ARCH, SAIC_CKPT_CODEC_ARCH);
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

static int float_int(float f, long lo, long hi, long *out) {
  if (!isfinite(f) || f != floorf(f) || f < (float)lo || f > (float)hi)
    return -1;
  *out = (long)f;
  return 0;
}

static int load_tables(const nn_ckpt *ck, int M, saic_cdf_set **out, nn_err *err) {
  *out = NULL;
  const char *path = nn_ckpt_path(ck);
  const int ir = nn_ckpt_find_tensor(ck, SAIC_CKPT_CDF_RANGE);
  const int ic = nn_ckpt_find_tensor(ck, SAIC_CKPT_CDF);
  if (ir < 0 || ic < 0)
    return nn_err_set(err, NN_E_FORMAT, "%s: tensor \"%s\" missing (not an exported codec?)", path,
                      ir < 0 ? SAIC_CKPT_CDF_RANGE : SAIC_CKPT_CDF);
  const char *name;
  int rank, dims[4], crank, cdims[4];
  const float *range, *cdfv;
  nn_ckpt_tensor_at(ck, ir, &name, &rank, dims, &range);
  nn_ckpt_tensor_at(ck, ic, &name, &crank, cdims, &cdfv);
  if (rank != 2 || dims[0] != M || dims[1] != 2)
    return nn_err_set(err, NN_E_FORMAT, "%s: \"%s\" has shape [%d, %d] (rank %d), expected [%d, 2]",
                      path, SAIC_CKPT_CDF_RANGE, dims[0], dims[1], rank, M);
  if (crank != 1)
    return nn_err_set(err, NN_E_FORMAT, "%s: \"%s\" has rank %d, expected 1", path, SAIC_CKPT_CDF,
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
      rc =
          nn_err_set(err, NN_E_FORMAT, "%s: table %d: \"%s\" is too short", path, c, SAIC_CKPT_CDF);
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
                    SAIC_CKPT_CDF, total, k);
    goto out;
  }
  *out = set;
  set = NULL;
out:
  saic_cdf_set_free(set);
  free(cdf);
  return rc;
}

int saic_ckpt_load_codec(const char *path, int threads, saic_codec_model **out, nn_err *err) {
  *out = NULL;
  saic_codec_model *cm = calloc(1, sizeof *cm);
  if (!cm)
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
  nn_ckpt *ck = NULL;
  int rc = nn_ckpt_read(path, &ck, err);
  if (rc != NN_OK)
    goto out;
  const char *arch = nn_ckpt_meta(ck, "arch"), *fmt = nn_ckpt_meta(ck, "codec_format");
  if (arch && !strcmp(arch, SAIC_CKPT_TRAIN_ARCH)) {
    rc = nn_err_set(err, NN_E_FORMAT,
                    "%s: a training checkpoint, not a codec; run `saicbench export --model %s "
                    "--out CODEC.ckpt` first",
                    path, path);
    goto out;
  }
  if (!arch || strcmp(arch, SAIC_CKPT_CODEC_ARCH)) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: architecture \"%s\", expected \"%s\"", path,
                    arch ? arch : "(none)", SAIC_CKPT_CODEC_ARCH);
    goto out;
  }
  if (!fmt || strcmp(fmt, SAIC_CKPT_FORMAT)) {
    rc = nn_err_set(err, NN_E_FORMAT, "%s: codec format \"%s\", this build reads \"%s\"", path,
                    fmt ? fmt : "(none)", SAIC_CKPT_FORMAT);
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
      (rc = load_tables(ck, cm->cfg.m * saic_ckpt_num_rates(cm->cfg.levels), &cm->tables, err)) !=
          NN_OK ||
      (rc = saic_ckpt_hash(cm->model, cm->tables, cm->sha256, err)) != NN_OK)
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
  saic_ckpt_free_codec(cm);
  return rc;
}

void saic_ckpt_free_codec(saic_codec_model *cm) {
  if (!cm)
    return;
  saic_model_free(cm->model);
  saic_cdf_set_free(cm->tables);
  free(cm);
}
