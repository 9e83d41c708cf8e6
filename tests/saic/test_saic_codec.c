/* The SAIC codec (codecs/saic/saic_codec.c, saic_export.c) on a small random model (n 8, m 8,
 * 3 levels, level gains e^(5 + 2 l)) written as a training checkpoint and exported here:
 *   - export: tables exist for every channel and match the float density; the codec checkpoint
 *     loads, a training checkpoint or a file whose tensors do not match model_sha256 is refused;
 *   - round trip: decode(encode(x)) equals the reconstruction computed directly through the
 *     model with rounded latents (sizes 1x1 .. 768x512, rates on and between levels), encodes
 *     are byte-identical when repeated and across instances, the payload is close to the
 *     density's estimate;
 *   - rate: mean file bytes over 12 images do not decrease as the knob grows; knobs above
 *     levels-1 act as levels-1;
 *   - header (format 2): 2 bytes at 32x32; another model's stream and a format-1 stream fail the
 *     check byte, reserved rate indices, non-canonical and impossible sizes are refused with a
 *     message; every single-bit flip is refused; truncations and appended bytes give an error or
 *     an image of the declared size, never a crash (their miss rates: test_saic_stream_check);
 *   - threads: a codec with threads=2 decodes to the same pixels as threads=1, and two threads
 *     sharing one instance produce what one thread does;
 *   - the registry lists "saic" and its settings errors name the setting.
 * SAIC_TEST_KEEP=1 keeps the temporary checkpoints (the folder is /tmp/saicbench_codec_*);
 * `test_saic_codec --write-train-ckpt PATH` writes the test's training checkpoint (for
 * test_saic_cli.py). */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "codec_registry.h"
#include "saic.h"
#include "saic_codec_test_util.h"
#include "sb_test.h"

enum { N = 8, M = 8, LEVELS = 3 };
static char dir[64], codec_a[512], codec_b[512], train_a[512];

/* The reconstruction computed directly through a model loaded from the codec checkpoint at
 * path: the latent quantised at rate index q, g_s at rate index q_dec (FiLM models; a plain g_s
 * ignores the rate). */
static uint8_t *reference_at(const char *path, const uint8_t *rgb, int w, int h, int q, int q_dec) {
  const int H = h < 8 ? 8 : (h + 7) / 8 * 8, W = w < 8 ? 8 : (w + 7) / 8 * 8;
  saic_model *m = NULL;
  nn_err e = {0};
  if (saic_ckpt_load_model(path, H, W, 1, &m, NULL, &e) != NN_OK) {
    CHECK(0, "reference model: %s", e.msg);
    return NULL;
  }
  const size_t hw = (size_t)H * W, lhw = hw / 64;
  float *x = malloc(3 * hw * sizeof *x), *yq = malloc(M * lhw * sizeof *yq);
  float g[M], ig[M];
  for (int y = 0; y < H; y++)
    for (int xx = 0; xx < W; xx++)
      for (int c = 0; c < 3; c++)
        x[c * hw + (size_t)y * W + xx] =
            rgb[((size_t)(y < h ? y : h - 1) * w + (xx < w ? xx : w - 1)) * 3 + c] / 255.f;
  const float *lat, *xh;
  saic_model_analysis(m, x, 1, &lat, &e);
  saic_model_gains(m, saic_codec_rate_value(LEVELS, q), g, ig);
  for (int c = 0; c < M; c++)
    for (size_t k = 0; k < lhw; k++)
      yq[c * lhw + k] = rintf(lat[c * lhw + k] * g[c]) * ig[c];
  saic_model_set_rate(m, saic_codec_rate_value(LEVELS, q_dec));
  saic_model_synthesis(m, yq, 1, &xh, &e);
  uint8_t *out = malloc((size_t)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int xx = 0; xx < w; xx++)
      for (int c = 0; c < 3; c++) {
        float v = xh[c * hw + (size_t)y * W + xx] * 255.f;
        v = v < 0.f ? 0.f : v > 255.f ? 255.f : v;
        out[((size_t)y * w + xx) * 3 + c] = (uint8_t)lrintf(v);
      }
  free(x);
  free(yq);
  saic_model_free(m);
  return out;
}

static uint8_t *reference(const uint8_t *rgb, int w, int h, int q) {
  return reference_at(codec_a, rgb, w, h, q, q);
}

static saic_codec *open_codec(const char *path, int threads, size_t max_pixels) {
  saic_codec *c = NULL;
  char err[512];
  saic_codec_opts o = {threads, max_pixels};
  if (saic_codec_open(path, &o, &c, err, sizeof err))
    CHECK(0, "open %s: %s", path, err);
  return c;
}

/* ------------------------------------------------------------------ export */

static void test_export(void) {
  saic_codec *c = open_codec(codec_a, 1, 0);
  if (!c)
    return;
  const saic_codec_model *cm = saic_codec_get_model(c);
  CHECK(cm->cfg.n == N && cm->cfg.m == M && cm->cfg.levels == LEVELS, "config");
  const int Q = saic_ckpt_num_rates(LEVELS);
  CHECK(saic_cdf_set_count(cm->tables) == Q * M, "%d tables", saic_cdf_set_count(cm->tables));
  /* Each table's symbol cost is close to the float density's at its mode and neighbours, with
   * the bin width 1/g of its rate index (the density models the unscaled latent). */
  float *gain = malloc(M * sizeof *gain);
  for (int q = 0; gain && q<Q; q += Q> 1 ? Q - 1 : 1)
    for (int ch = 0; ch < M; ch++) {
      saic_model_gains(cm->model, saic_codec_rate_value(LEVELS, q), gain, NULL);
      const saic_cdf *t = saic_cdf_set_get(cm->tables, q * M + ch);
      CHECK(t && t->nsym >= 3, "table %d of rate index %d", ch, q);
      if (!t)
        continue;
      double worst = 0;
      for (uint32_t s = 0; s + 1 < t->nsym; s++) {
        double p = saic_density_likelihood_step(saic_model_density(cm->model), ch, t->min + (int)s,
                                                1.0 / (double)gain[ch]);
        double pq = (t->cdf[s + 1] - t->cdf[s]) / 65536.0;
        if (p > 0.01)
          worst = fmax(worst, fabs(log2(p) - log2(pq)));
      }
      CHECK(worst < 0.01,
            "table %d, rate index %d: probable symbols cost %.4f bits off the density", ch, q,
            worst);
    }
  free(gain);
  saic_codec_close(c);

  char err[512];
  saic_codec *bad = NULL;
  CHECK(saic_codec_open(train_a, NULL, &bad, err, sizeof err) != 0 && strstr(err, "export"),
        "training checkpoint: %s", err);
  CHECK(saic_codec_open("/nonexistent/x.ckpt", NULL, &bad, err, sizeof err) != 0 &&
            strstr(err, "/nonexistent/x.ckpt"),
        "missing file: %s", err);
  /* Tables changed but metadata kept: the recomputed hash disagrees. */
  saic_model *m = NULL;
  nn_err e = {0};
  nn_ckpt *ck = NULL;
  if (saic_ckpt_load_model(codec_a, 8, 8, 1, &m, &ck, &e) != NN_OK) {
    CHECK(0, "%s", e.msg);
    return;
  }
  saic_cdf_set *tables = NULL;
  saic_export_opts o = saic_export_defaults();
  o.max_half_range = 3; /* different tables */
  saic_export_tables(m, &o, &tables, NULL, &e);
  const int nm = nn_ckpt_num_meta(ck);
  nn_kv *kv = calloc((size_t)nm, sizeof *kv);
  for (int i = 0; i < nm; i++)
    nn_ckpt_meta_at(ck, i, &kv[i].key, &kv[i].value);
  int total = 0;
  const int NT = M * saic_ckpt_num_rates(LEVELS); /* tables */
  for (int ch = 0; ch < NT; ch++)
    total += (int)saic_cdf_set_get(tables, ch)->nsym - 1;
  float *range = malloc(2 * NT * sizeof *range), *cdf = malloc((size_t)total * sizeof *cdf);
  int k = 0;
  for (int ch = 0; ch < NT; ch++) {
    const saic_cdf *t = saic_cdf_set_get(tables, ch);
    range[2 * ch] = (float)t->min;
    range[2 * ch + 1] = (float)t->nsym;
    for (uint32_t s = 1; s < t->nsym; s++)
      cdf[k++] = (float)t->cdf[s];
  }
  const nn_ckpt_part parts[2] = {{"enc.", saic_model_encoder(m)}, {"dec.", saic_model_decoder(m)}};
  const nn_ckpt_extra ex[2] = {{SAIC_CKPT_CDF_RANGE, 2, {NT, 2, 1, 1}, range},
                               {SAIC_CKPT_CDF, 1, {total, 1, 1, 1}, cdf}};
  char tampered[600];
  snprintf(tampered, sizeof tampered, "%s/tampered.ckpt", dir);
  CHECK(nn_ckpt_save_parts(tampered, parts, 2, ex, 2, kv, nm, &e) == NN_OK, "%s", e.msg);
  CHECK(saic_codec_open(tampered, NULL, &bad, err, sizeof err) != 0 && strstr(err, "model_sha256"),
        "tampered: %s", err);
  /* A table entry that is not an integer. */
  cdf[0] += 0.5f;
  CHECK(nn_ckpt_save_parts(tampered, parts, 2, ex, 2, kv, nm, &e) == NN_OK, "%s", e.msg);
  CHECK(saic_codec_open(tampered, NULL, &bad, err, sizeof err) != 0 && strstr(err, "table 0"),
        "non-integer cdf: %s", err);
  free(range);
  free(cdf);
  free(kv);
  saic_cdf_set_free(tables);
  nn_ckpt_free(ck);
  saic_model_free(m);
}

/* A checkpoint whose tensors do not fit the configuration its metadata declares is refused
 * before any network is built: a 222-byte codec checkpoint declaring n = m = 1024 used to build
 * ~860 MB of networks (8 s) before noticing the tensors were missing. Also: the shape list the
 * loaders check against (saic_model_param_shapes) is what saic_model_create builds, and messages
 * name the file once. */
static void test_checkpoint_shapes(void) {
  char path[600], err[512];
  nn_err e = {0};
  snprintf(path, sizeof path, "%s/declared_1024.ckpt", dir);
  const float one = 1;
  const nn_ckpt_extra ex[1] = {{"x", 1, {1, 1, 1, 1}, &one}};
  char hash[65];
  memset(hash, 'a', 64);
  hash[64] = 0;
  const nn_kv meta[] = {{"arch", SAIC_CKPT_CODEC_ARCH},
                        {"codec_format", SAIC_CKPT_FORMAT},
                        {"n", "1024"},
                        {"m", "1024"},
                        {"levels", "4"},
                        {"model_sha256", hash}};
  CHECK(nn_ckpt_save_parts(path, NULL, 0, ex, 1, meta, 6, &e) == NN_OK, "%s", e.msg);
  struct rusage ru0, ru1;
  struct timespec t0, t1;
  getrusage(RUSAGE_SELF, &ru0);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  saic_codec *bad = NULL;
  const int rc = saic_codec_open(path, NULL, &bad, err, sizeof err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  getrusage(RUSAGE_SELF, &ru1);
  const double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  const long grew_kb = ru1.ru_maxrss - ru0.ru_maxrss;
  printf("  n = m = 1024 declared, no tensors: refused in %.4f s, peak RSS +%ld KB: %s\n", secs,
         grew_kb, err);
  CHECK(rc != 0 && strstr(err, "tensor 'enc.g_a.0.weight' missing") && strstr(err, "n 1024"),
        "declared 1024: %s", err);
  CHECK(secs < 5 && grew_kb < 64 * 1024, "declared 1024: %.2f s, +%ld KB", secs, grew_kb);
  /* The path appears once in the message (it used to be "path: path: ..."). */
  const char *first = strstr(err, path);
  CHECK(first && !strstr(first + 1, path), "path repeated: %s", err);

  /* The shape list against built networks. */
  const saic_model_cfg cfgs[5] = {
      {N, M, LEVELS, 0}, {5, 3, 1, 0}, {64, 96, 4, 0}, {N, M, LEVELS, 1}, {5, 3, 1, 1}};
  for (int k = 0; k < 5; k++) {
    saic_model *m = saic_model_create(&cfgs[k], 8, 8, 1, 1, &e);
    if (!m) {
      CHECK(0, "%s", e.msg);
      continue;
    }
    saic_model_param_shape want[SAIC_MODEL_MAX_PARAMS];
    const int np = saic_model_param_shapes(&cfgs[k], want);
    CHECK(np == saic_model_num_params(&cfgs[k]) && np == (cfgs[k].film ? 25 : 23),
          "config %d: %d parameters in the list", k, np);
    nn_net *nets[2] = {saic_model_encoder(m), saic_model_decoder(m)};
    int i = 0;
    for (int net = 0; net < 2; net++)
      for (int j = 0; j < nn_net_num_params(nets[net]); j++, i++) {
        const nn_param *p = nn_net_param(nets[net], j);
        const int dims[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
        CHECK(i < np && want[i].net == net && !strcmp(want[i].name, p->name) &&
                  want[i].rank == p->ndim && !memcmp(want[i].dims, dims, sizeof dims),
              "config %d: parameter %d '%s' differs from the shape list", k, i, p->name);
      }
    CHECK(i == np, "config %d: %d parameters", k, i);
    saic_model_free(m);
  }

  /* A training checkpoint whose metadata says n 16 but whose tensors are n 8, and one with a
   * tensor the model lacks. */
  saic_model *m = saic_model_create(&cfgs[0], 8, 8, 1, 3, &e);
  const nn_ckpt_part parts[2] = {{"enc.", saic_model_encoder(m)}, {"dec.", saic_model_decoder(m)}};
  const nn_kv tmeta[] = {{"arch", SAIC_CKPT_TRAIN_ARCH}, {"n", "16"}, {"m", "8"}, {"levels", "3"}};
  snprintf(path, sizeof path, "%s/shape.ckpt", dir);
  CHECK(nn_ckpt_save_parts(path, parts, 2, NULL, 0, tmeta, 4, &e) == NN_OK, "%s", e.msg);
  saic_model *out = NULL;
  CHECK(saic_ckpt_load_model(path, 8, 8, 1, &out, NULL, &e) != NN_OK &&
            strstr(e.msg, "'enc.g_a.0.weight' has shape [8, 3, 5, 5]") &&
            strstr(e.msg, "needs [16, 3, 5, 5]") && strstr(e.msg, path) &&
            !strstr(strstr(e.msg, path) + 1, path),
        "wrong n: %s", e.msg);
  const nn_kv tmeta8[] = {{"arch", SAIC_CKPT_TRAIN_ARCH}, {"n", "8"}, {"m", "8"}, {"levels", "3"}};
  const nn_ckpt_extra extra[1] = {{"dec.extra", 1, {1, 1, 1, 1}, &one}};
  CHECK(nn_ckpt_save_parts(path, parts, 2, extra, 1, tmeta8, 4, &e) == NN_OK, "%s", e.msg);
  CHECK(saic_ckpt_load_model(path, 8, 8, 1, &out, NULL, &e) != NN_OK &&
            strstr(e.msg, "unexpected tensor 'dec.extra'"),
        "extra tensor: %s", e.msg);
  CHECK(nn_ckpt_save_parts(path, parts, 2, NULL, 0, tmeta8, 4, &e) == NN_OK, "%s", e.msg);
  CHECK(saic_ckpt_load_model(path, 8, 8, 1, &out, NULL, &e) == NN_OK, "intact: %s", e.msg);
  saic_model_free(out);
  saic_model_free(m);
  remove(path);
  snprintf(path, sizeof path, "%s/declared_1024.ckpt", dir);
  remove(path);
}

/* ------------------------------------------------------------------ round trips */

static void roundtrip(saic_codec *c, int w, int h, double rate, uint64_t seed, int verbose) {
  uint8_t *img = sct_image(w, h, seed);
  uint8_t *a = NULL, *b = NULL, *px = NULL;
  size_t la = 0, lb = 0;
  saic_encode_stats st;
  char err[512];
  int ow, oh;
  if (saic_codec_encode(c, img, w, h, rate, &a, &la, &st, err, sizeof err) ||
      saic_codec_encode(c, img, w, h, rate, &b, &lb, NULL, err, sizeof err)) {
    CHECK(0, "%dx%d rate %g: encode: %s", w, h, rate, err);
    goto out;
  }
  CHECK(la == lb && !memcmp(a, b, la), "%dx%d rate %g: repeated encodes differ", w, h, rate);
  CHECK(st.header_bytes + st.payload_bytes == la, "sizes");
  CHECK(st.header_bytes == ((w == 32 && h == 32) ? 2u : 2u + (w > 128) + (h > 128) + 2),
        "%dx%d: %zu header bytes", w, h, st.header_bytes);
  if (saic_codec_decode(c, a, la, &px, &ow, &oh, err, sizeof err)) {
    CHECK(0, "%dx%d rate %g: decode: %s", w, h, rate, err);
    goto out;
  }
  CHECK(ow == w && oh == h, "decoded size %dx%d", ow, oh);
  uint8_t *ref = reference(img, w, h, st.rate_index);
  CHECK(ref && !memcmp(ref, px, (size_t)w * h * 3),
        "%dx%d rate %g: decoded pixels differ from the direct reconstruction", w, h, rate);
  free(ref);
  /* The range coder is within a few bytes above the density's estimate (table quantisation +
   * termination). It may be well below: the estimate floors each likelihood at 1e-9 (29.9 bits),
   * while a value past a table's range costs the escape plus a short Elias-gamma code. This
   * random model's top-gain tables are wide and flat (hundreds of symbols, each floored at
   * 1/65536), which costs up to ~2.5 % on large images; trained models have narrow tables. */
  const double actual = 8.0 * (double)st.payload_bytes;
  CHECK(actual <= st.est_bits * 1.03 + 16 && actual >= st.est_bits * 0.75 - 16,
        "%dx%d: payload %zu bytes vs estimate %.1f bits", w, h, st.payload_bytes, st.est_bits);
  if (verbose)
    printf("  %4dx%-4d rate %-5g q %3d: %6zu bytes (header %zu), estimate %8.1f bits, actual "
           "%6.0f bits\n",
           w, h, rate, st.rate_index, la, st.header_bytes, st.est_bits, actual);
out:
  free(img);
  free(a);
  free(b);
  free(px);
}

static void test_roundtrips(void) {
  saic_codec *c = open_codec(codec_a, 1, 0);
  if (!c)
    return;
  const int sizes[][2] = {{32, 32}, {1, 1}, {33, 17}, {7, 5}, {8, 8}, {200, 136}, {129, 3}};
  const double rates[] = {0, 0.5, 1.37, 2};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t r = 0; r < 4; r++)
      roundtrip(c, sizes[s][0], sizes[s][1], rates[r], s * 4 + r, s == 0 || r == 3);
  roundtrip(c, 768, 512, 1, 99, 1); /* ~1 s under ASan with this small model */
  /* A second instance encodes the same bytes. */
  saic_codec *c2 = open_codec(codec_a, 1, 0);
  uint8_t *img = sct_image(32, 32, 5), *a = NULL, *b = NULL;
  size_t la, lb;
  char err[512];
  if (c2 && !saic_codec_encode(c, img, 32, 32, 1.2, &a, &la, NULL, err, sizeof err) &&
      !saic_codec_encode(c2, img, 32, 32, 1.2, &b, &lb, NULL, err, sizeof err))
    CHECK(la == lb && !memcmp(a, b, la), "instances encode differently");
  free(a);
  free(b);
  free(img);
  saic_codec_close(c2);
  saic_codec_close(c);
}

static void test_rate(void) {
  saic_codec *c = open_codec(codec_a, 1, 0);
  if (!c)
    return;
  enum { NI = 12, NR = 4 * (LEVELS - 1) + 3 }; /* 0 .. top (2 + 2/3) in quarters */
  double bytes[NR] = {0};
  char err[512];
  for (int i = 0; i < NI; i++) {
    uint8_t *img = sct_image(32, 32, 100 + i);
    for (int r = 0; r < NR; r++) {
      uint8_t *d;
      size_t len;
      if (saic_codec_encode(c, img, 32, 32, r * 0.25, &d, &len, NULL, err, sizeof err)) {
        CHECK(0, "%s", err);
        continue;
      }
      bytes[r] += (double)len / NI;
      free(d);
    }
    free(img);
  }
  printf("  mean bytes at 32x32, rate 0..%g step 0.25:", (NR - 1) / 4.0);
  for (int r = 0; r < NR; r++)
    printf(" %.1f", bytes[r]);
  printf("\n");
  for (int r = 1; r < NR; r++)
    CHECK(bytes[r] >= bytes[r - 1], "mean bytes fall from %.2f to %.2f at rate %g", bytes[r - 1],
          bytes[r], r * 0.25);
  CHECK(bytes[NR - 1] > bytes[0] * 1.5, "rate barely grows: %.1f -> %.1f", bytes[0], bytes[NR - 1]);
  /* Above the knob's top the knob acts as the top; the index is the same. */
  const double top = saic_model_knob_max(LEVELS);
  uint8_t *img = sct_image(40, 24, 7), *a = NULL, *b = NULL;
  size_t la, lb;
  if (!saic_codec_encode(c, img, 40, 24, top, &a, &la, NULL, err, sizeof err) &&
      !saic_codec_encode(c, img, 40, 24, 15, &b, &lb, NULL, err, sizeof err))
    CHECK(la == lb && !memcmp(a, b, la), "rate 15 differs from rate %g", top);
  free(b);
  CHECK(saic_codec_encode(c, img, 40, 24, 15.5, &b, &lb, NULL, err, sizeof err) != 0 &&
            strstr(err, "rate"),
        "rate 15.5: %s", err);
  /* 77 steps over the knob 0 .. 2 2/3 (levels 0..2 trained, 2/3 of a level extrapolated): 28.875
   * steps per level here, 21 for the shipped 4-level models. */
  CHECK(fabs(top - 8.0 / 3) < 1e-12 && SAIC_CODEC_RATE_STEPS == 77, "knob top %g, %d steps", top,
        SAIC_CODEC_RATE_STEPS);
  CHECK(saic_codec_rate_index(LEVELS, 1.0) == 29 && saic_codec_rate_index(LEVELS, 2) == 58 &&
            saic_codec_rate_index(LEVELS, top) == 77 && saic_codec_rate_index(LEVELS, 99) == 77 &&
            saic_codec_rate_index(LEVELS, -1) == 0 && saic_codec_rate_index(1, 0.7) == 0 &&
            fabs(saic_codec_rate_value(LEVELS, 77) - top) < 1e-12 &&
            fabs(saic_codec_rate_value(4, 21) - 1) < 1e-12,
        "rate index");
  /* Extrapolation past the top level (saic_model.h): continuous at levels - 1, log gain linear
   * with the top segment's slope, and g * ig held at the top level's value. */
  const saic_codec_model *cm = saic_codec_get_model(c);
  float g[4][M], ig[4][M];
  saic_model_gains(cm->model, LEVELS - 2, g[0], ig[0]);
  saic_model_gains(cm->model, LEVELS - 1, g[1], ig[1]);
  saic_model_gains(cm->model, LEVELS - 1 + 1e-9, g[2], ig[2]);
  saic_model_gains(cm->model, LEVELS - 0.5, g[3], ig[3]);
  for (int ch = 0; ch < M; ch++) {
    CHECK(fabsf(g[2][ch] - g[1][ch]) <= 1e-5f * g[1][ch] &&
              fabsf(ig[2][ch] - ig[1][ch]) <= 1e-5f * ig[1][ch],
          "channel %d: gains jump at the top level", ch);
    const double want = log(g[1][ch]) + 0.5 * (log(g[1][ch]) - log(g[0][ch]));
    CHECK(fabs(log(g[3][ch]) - want) < 1e-5, "channel %d: log gain %g, want %g", ch, log(g[3][ch]),
          want);
    CHECK(fabs((double)g[3][ch] * ig[3][ch] - (double)g[1][ch] * ig[1][ch]) <=
              1e-5 * g[1][ch] * ig[1][ch],
          "channel %d: g * ig %g, top level %g", ch, (double)g[3][ch] * ig[3][ch],
          (double)g[1][ch] * ig[1][ch]);
  }
  free(a);
  free(img);
  saic_codec_close(c);
}

/* ------------------------------------------------------------------ hostile streams */

static int try_decode(saic_codec *c, const uint8_t *d, size_t n, char *err, size_t err_len) {
  uint8_t *px = NULL;
  int w = -1, h = -1;
  err[0] = '\0';
  int rc = saic_codec_decode(c, d, n, &px, &w, &h, err, err_len);
  if (rc) {
    CHECK(!px && w == 0 && h == 0 && err[0], "failed decode left outputs or no message");
  } else {
    saic_stream_info info;
    char e2[256];
    CHECK(px && !saic_codec_parse_header(c, d, n, &info, e2, sizeof e2) && info.width == w &&
              info.height == h,
          "accepted stream with inconsistent size");
  }
  free(px);
  return rc;
}

static void test_hostile(void) {
  saic_codec *a = open_codec(codec_a, 1, 0), *b = open_codec(codec_b, 1, 0);
  if (!a || !b)
    return;
  const uint8_t *sha = saic_codec_get_model(a)->sha256;
  CHECK(memcmp(sha, saic_codec_get_model(b)->sha256, 32) != 0, "test models share a hash");
  char err[512];
  uint8_t *img = sct_image(32, 32, 3), *img2 = sct_image(45, 29, 4), *s = NULL, *s2 = NULL;
  size_t n = 0, n2 = 0;
  if (saic_codec_encode(a, img, 32, 32, 2, &s, &n, NULL, err, sizeof err) ||
      saic_codec_encode(a, img2, 45, 29, 1, &s2, &n2, NULL, err, sizeof err)) {
    CHECK(0, "%s", err);
    goto out;
  }
  printf("  32x32 stream %zu bytes, 45x29 stream %zu bytes\n", n, n2);
  CHECK(try_decode(a, s, n, err, sizeof err) == 0, "valid stream: %s", err);
  CHECK(s[0] == saic_codec_rate_index(LEVELS, 2) && s[1] == saic_codec_stream_check(a, s, n) &&
            s2[0] == (0x80 | saic_codec_rate_index(LEVELS, 1)),
        "byte 0 %02x / %02x, check byte %02x", s[0], s2[0], s[1]);
  /* Another model's stream (this pair of streams fails; the rate is test_saic_stream_check's). */
  char hex[16];
  snprintf(hex, sizeof hex, "%02x%02x%02x%02x", sha[0], sha[1], sha[2], sha[3]);
  CHECK(try_decode(b, s, n, err, sizeof err) != 0 && strstr(err, "check failed") &&
            strstr(err, "another model") && strstr(err, "truncated"),
        "another model: %s", err);
  CHECK(try_decode(b, s2, n2, err, sizeof err) != 0 && strstr(err, "check failed"),
        "another model (45x29): %s", err);
  uint8_t *buf = malloc(n2 + 64);
  /* Format 1 (byte 0 = 001 f llll, byte 1 = the model hash's first byte, byte 2 = q): refused with
   * a hint. Reserved rate indices 78..127, with either size flag. */
  buf[0] = (uint8_t)(0x20 | ((n - 2) & 15));
  buf[1] = sha[0];
  buf[2] = 58;
  memcpy(buf + 3, s + 2, n - 2);
  CHECK(try_decode(a, buf, n + 1, err, sizeof err) != 0 && strstr(err, "format-1") &&
            strstr(err, hex),
        "format 1: %s", err);
  for (int q = SAIC_CODEC_RATE_STEPS + 1; q < 256; q++) {
    if ((q & 0x7f) <= SAIC_CODEC_RATE_STEPS)
      continue;
    memcpy(buf, s2, n2);
    buf[0] = (uint8_t)q;
    CHECK(try_decode(a, buf, n2, err, sizeof err) != 0 && strstr(err, "reserved"),
          "byte 0 %02x: %s", q, err);
  }
  /* Truncation at every length and appended bytes: refused inside the header, otherwise an
   * error or an image of the declared size. */
  const uint8_t *streams[2] = {s, s2};
  const size_t lens[2] = {n, n2};
  for (int k = 0; k < 2; k++) {
    size_t refused = 0;
    for (size_t l = 0; l < lens[k]; l++) {
      int rc = try_decode(a, streams[k], l, err, sizeof err);
      refused += rc != 0;
      if (l < 2)
        CHECK(rc != 0 && strstr(err, "header"), "stream %d truncated to %zu bytes: %s", k, l, err);
    }
    printf("  stream %d: %zu of %zu truncations refused\n", k, refused, lens[k]);
  }
  size_t refused = 0;
  for (size_t extra = 1; extra <= 40; extra++) {
    memcpy(buf, s2, n2);
    for (size_t i = 0; i < extra; i++)
      buf[n2 + i] = (uint8_t)(0x5a + 37 * i);
    refused += try_decode(a, buf, n2 + extra, err, sizeof err) != 0;
  }
  printf("  appended 1..40 bytes: %zu of 40 refused\n", refused);
  /* Sizes: over-long, too large, non-canonical, truncated (all refused before the check byte is
   * looked at); a bad check byte; the header cut short. */
  const uint8_t hdr = 0x80; /* explicit size, rate index 0 */
  const struct {
    uint8_t b[8];
    size_t n;
    const char *msg;
  } bad[] = {
      {{hdr, 0, 0xff, 0xff, 0x03, 0x00}, 6, "size"},  /* width 65536 */
      {{hdr, 0, 0x80, 0x00, 0x00}, 5, "size"},        /* over-long zero */
      {{hdr, 0, 31, 31}, 4, "non-canonical"},         /* 32x32 explicitly */
      {{hdr, 0, 0xff, 0x7f, 0xff, 0x7f}, 6, "pixel"}, /* 16384 x 16384 */
      {{hdr, 0, 0x80}, 3, "truncated"},               /* varint cut */
      {{hdr, 0, 4}, 3, "truncated"},                  /* no height */
      {{hdr}, 1, "header"},                           /* too short */
      {{0x4e, 0, 1}, 3, "reserved"},                  /* rate index 78 */
      {{0x00, 0, 0x12, 0x34}, 4, "check failed"},     /* check byte 00: wrong for this stream */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memcpy(buf, bad[i].b, bad[i].n);
    if (i + 1 == sizeof bad / sizeof bad[0])
      buf[1] = (uint8_t)(saic_codec_stream_check(a, buf, bad[i].n) ^ 1);
    CHECK(try_decode(a, buf, bad[i].n, err, sizeof err) != 0 && strstr(err, bad[i].msg),
          "bad header %zu: %s", i, err);
  }
  /* A one-level model refuses a rate index other than 0: covered by the parse rule; a 3-level
   * model accepts every index. Every single-bit flip fails the check byte (CRC-8). */
  size_t flips = 0, accepted = 0;
  for (int k = 0; k < 2; k++)
    for (size_t p = 0; p < lens[k]; p++)
      for (int bit = 0; bit < 8; bit++) {
        memcpy(buf, streams[k], lens[k]);
        buf[p] ^= (uint8_t)(1u << bit);
        accepted += try_decode(a, buf, lens[k], err, sizeof err) == 0;
        flips++;
      }
  CHECK(accepted == 0, "%zu of %zu single-bit flips accepted", accepted, flips);
  printf("  %zu single-bit flips: %zu decoded to an image, the rest refused\n", flips, accepted);
  /* Random garbage behind a valid header prefix and a correct check byte, so that it reaches the
   * payload decoder: an error or an image, never a crash. */
  uint64_t r = 12345;
  size_t garbage_ok = 0;
  for (int t = 0; t < 300; t++) {
    size_t len = 2 + (size_t)(t % 40);
    for (size_t i = 0; i < len; i++) {
      r = r * 6364136223846793005ull + 1442695040888963407ull;
      buf[i] = (uint8_t)(r >> 56);
    }
    buf[0] = (uint8_t)(((t & 1) << 7) | (buf[0] % (SAIC_CODEC_RATE_STEPS + 1)));
    buf[1] = saic_codec_stream_check(a, buf, len);
    garbage_ok += try_decode(a, buf, len, err, sizeof err) == 0;
  }
  printf("  300 random payloads with a correct check byte: %zu decoded to an image\n", garbage_ok);
  free(buf);
out:
  free(img);
  free(img2);
  free(s);
  free(s2);
  saic_codec_close(a);
  saic_codec_close(b);
}

/* ------------------------------------------------------------------ payload bound */

/* Test images of several kinds: 0 textured (sct_image), 1 flat grey, 2 flat black, 3 noise, 4
 * noise with a black lower-right quarter. The flat ones code every position at (about) the
 * tables' most probable values, i.e. near the payload bound. */
static uint8_t *kind_image(int kind, int w, int h, uint64_t seed) {
  if (kind == 0)
    return sct_image(w, h, seed);
  uint8_t *p = malloc((size_t)w * (size_t)h * 3);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int ch = 0; ch < 3; ch++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        const uint8_t noise = (uint8_t)(s >> 56);
        p[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)ch] =
            kind == 1   ? 128
            : kind == 2 ? 0
            : kind == 3 ? noise
                        : (x >= w / 2 && y >= h / 2 ? 0 : noise);
      }
  return p;
}

/* Encodes every kind at every (w, h) of sizes and every rate index q = 0, qstep, ... and the top,
 * checks each stream's payload against saic_codec_min_payload_bytes and that the header accepts
 * it; returns the smallest payload - bound seen. */
static long bound_sweep(saic_codec *c, const int *sizes, int nsizes, int qstep, const char *what) {
  const int L = saic_codec_get_model(c)->cfg.levels, top = saic_ckpt_num_rates(L) - 1;
  long worst = LONG_MAX, worst_pos = LONG_MAX, n = 0; /* worst_pos: where the bound is > 0 */
  char err[512];
  for (int q = 0; q <= top; q = q == top ? top + 1 : q + qstep > top ? top : q + qstep)
    for (int a = 0; a < nsizes; a++)
      for (int b = 0; b < nsizes; b++)
        for (int kind = 0; kind < 5; kind++) {
          const int w = sizes[a], h = sizes[b];
          uint8_t *img = kind_image(kind, w, h, (uint64_t)(q * 7919 + w * 31 + h + kind)), *d;
          size_t len;
          saic_encode_stats st;
          if (saic_codec_encode(c, img, w, h, saic_codec_rate_value(L, q), &d, &len, &st, err,
                                sizeof err)) {
            CHECK(0, "%s: encode %dx%d q %d: %s", what, w, h, q, err);
            free(img);
            continue;
          }
          const size_t need = saic_codec_min_payload_bytes(c, q, w, h);
          saic_stream_info info;
          const int rc = saic_codec_parse_header(c, d, len, &info, err, sizeof err);
          CHECK(st.rate_index == q && rc == 0 && info.min_payload_bytes == need &&
                    st.payload_bytes >= need,
                "%s: %dx%d kind %d at rate index %d (stats index %d): payload %zu, bound %zu: %s",
                what, w, h, kind, q, st.rate_index, st.payload_bytes, need, rc ? err : "ok");
          const long margin = (long)st.payload_bytes - (long)need;
          worst = margin < worst ? margin : worst;
          if (need > 0 && margin < worst_pos)
            worst_pos = margin;
          n++;
          free(d);
          free(img);
        }
  printf("  %s: %ld streams, all at or above the bound; smallest margin %ld bytes (%ld where "
         "the bound is above 0)\n",
         what, n, worst, worst_pos);
  return worst;
}

/* A stream of this codec's model with an explicit size and the given payload, check byte set. */
static size_t craft(const saic_codec *c, int w, int h, int q, const uint8_t *payload, size_t plen,
                    uint8_t *out) {
  size_t n = 0;
  out[n++] = (uint8_t)(0x80 | q);
  out[n++] = 0;
  for (int k = 0; k < 2; k++) {
    uint32_t v = (uint32_t)(k ? h : w) - 1;
    do {
      out[n++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
      v >>= 7;
    } while (v);
  }
  if (plen)
    memcpy(out + n, payload, plen);
  n += plen;
  out[1] = saic_codec_stream_check(c, out, n);
  return n;
}

/* The payload bound (saic_codec.h): no stream the encoder writes falls below it (many sizes,
 * every rate index, flat images included), and a stream whose payload is too short for its
 * declared size is refused before anything is allocated. shipped: the shipped saic_full model
 * (may be NULL). */
static void test_payload_bound(const char *shipped) {
  saic_codec *c = open_codec(codec_a, 1, 0);
  if (!c)
    return;
  static const int sizes[] = {1, 7, 8, 9, 17, 33, 64};
  bound_sweep(c, sizes, 7, 4, "random model, sizes 1..64");
  static const int big[] = {512, 768};
  bound_sweep(c, big, 2, 77, "random model, 512/768 sides");
  char err[512];
  const int top = saic_ckpt_num_rates(LEVELS) - 1;
  /* The bound grows with the declared size. */
  const size_t b1 = saic_codec_min_payload_bytes(c, 0, 1024, 1024),
               b4 = saic_codec_min_payload_bytes(c, 0, 4096, 4096),
               bt = saic_codec_min_payload_bytes(c, top, 4096, 4096);
  printf("  random model bound: 1024x1024 q0 %zu bytes, 4096x4096 q0 %zu, q%d %zu\n", b1, b4, top,
         bt);
  CHECK(b1 > 100 && b4 >= 16 * b1 && bt > 100, "bounds %zu %zu %zu", b1, b4, bt);
  /* The bound decides exactly: need - 1 payload bytes are refused with the message, need pass. */
  uint8_t *buf = malloc(16 + 200000), *pay = malloc(200000);
  for (size_t i = 0; i < 200000; i++)
    pay[i] = (uint8_t)(0x35 + i * 13);
  const size_t need = saic_codec_min_payload_bytes(c, 5, 1500, 1200);
  CHECK(need > 10 && need < 200000, "need %zu", need);
  size_t n = craft(c, 1500, 1200, 5, pay, need - 1, buf);
  saic_stream_info info;
  CHECK(saic_codec_parse_header(c, buf, n, &info, err, sizeof err) != 0 &&
            strstr(err, "cannot hold a 1500x1200 image at rate index 5") && strstr(err, "payload"),
        "one byte short: %s", err);
  CHECK(try_decode(c, buf, n, err, sizeof err) != 0 && strstr(err, "cannot hold"),
        "one byte short, decode: %s", err);
  n = craft(c, 1500, 1200, 5, pay, need, buf);
  CHECK(saic_codec_parse_header(c, buf, n, &info, err, sizeof err) == 0 &&
            info.min_payload_bytes == need && info.payload_bytes == need,
        "exactly the bound: %s", err);
  /* The 9-byte stream of the finding: 5792 x 5792 (2^25 pixels) and 3 payload bytes. */
  const uint8_t three[3] = {0x12, 0x34, 0x56};
  n = craft(c, 5792, 5792, 0, three, 3, buf);
  CHECK(n == 9 && try_decode(c, buf, n, err, sizeof err) != 0 && strstr(err, "cannot hold"),
        "9-byte stream: %s", err);
  saic_codec *small = open_codec(codec_a, 1, (size_t)1 << 24);
  if (small) { /* max_pixels comes first */
    n = craft(small, 5792, 5792, 0, three, 3, buf);
    CHECK(try_decode(small, buf, n, err, sizeof err) != 0 && strstr(err, "16777216-pixel limit"),
          "max_pixels: %s", err);
    saic_codec_close(small);
  }
  saic_codec_close(c);
  if (shipped && (c = open_codec(shipped, 1, 0))) {
    static const int ssizes[] = {1, 24, 32, 64};
    bound_sweep(c, ssizes, 4, 7, "shipped model, sizes 1..64");
    const int stop = saic_ckpt_num_rates(saic_codec_get_model(c)->cfg.levels) - 1;
    const size_t s0 = saic_codec_min_payload_bytes(c, 0, 5792, 5792),
                 st = saic_codec_min_payload_bytes(c, stop, 5792, 5792);
    printf("  shipped model bound at 5792x5792: %zu bytes at q0, %zu at q%d\n", s0, st, stop);
    /* A model property (the least code length of each latent's tables, over 2^25 / 256 latent
     * positions): tens of kB at the lowest rate for every shipped set (45,011 for recipe 5's
     * saic_full), megabytes at the top; a 3-byte payload is far below either. */
    CHECK(s0 > 20000 && st > 3000000 && st > s0, "shipped bounds %zu %zu", s0, st);
    n = craft(c, 5792, 5792, 0, three, 3, buf);
    CHECK(try_decode(c, buf, n, err, sizeof err) != 0 && strstr(err, "cannot hold"),
          "shipped, 9-byte stream: %s", err);
    saic_codec_close(c);
  }
  free(buf);
  free(pay);
}

/* ------------------------------------------------------------------ threads */

typedef struct job {
  saic_codec *c;
  int seed;
  uint8_t *px;
  size_t bytes;
  int ok;
} job;

static void *worker(void *arg) {
  job *j = arg;
  char err[256];
  uint8_t *img = sct_image(40, 32, (uint64_t)j->seed), *d = NULL;
  size_t n;
  int w, h;
  j->ok = 0;
  for (int it = 0; it < 3; it++) {
    free(j->px);
    free(d);
    j->px = NULL;
    d = NULL;
    if (saic_codec_encode(j->c, img, 40, 32, 1.5, &d, &n, NULL, err, sizeof err) ||
        saic_codec_decode(j->c, d, n, &j->px, &w, &h, err, sizeof err))
      goto out;
  }
  j->bytes = n;
  j->ok = 1;
out:
  free(d);
  free(img);
  return NULL;
}

static void test_threads(void) {
  saic_codec *c1 = open_codec(codec_a, 1, 0), *c2 = open_codec(codec_a, 2, 0);
  if (!c1 || !c2)
    return;
  const int sizes[][2] = {{32, 32}, {33, 17}, {200, 136}};
  char err[512];
  for (int s = 0; s < 3; s++) {
    int w = sizes[s][0], h = sizes[s][1], w1, h1, w2, h2;
    uint8_t *img = sct_image(w, h, 40 + s), *d = NULL, *d2 = NULL, *p1 = NULL, *p2 = NULL;
    size_t n, n2;
    if (!saic_codec_encode(c1, img, w, h, 1.8, &d, &n, NULL, err, sizeof err) &&
        !saic_codec_encode(c2, img, w, h, 1.8, &d2, &n2, NULL, err, sizeof err) &&
        !saic_codec_decode(c1, d, n, &p1, &w1, &h1, err, sizeof err) &&
        !saic_codec_decode(c2, d, n, &p2, &w2, &h2, err, sizeof err)) {
      CHECK(!memcmp(p1, p2, (size_t)w * h * 3), "%dx%d: threads=2 decodes other pixels", w, h);
      printf("  %dx%d: threads 1 vs 2: same pixels %s, same stream %s\n", w, h,
             memcmp(p1, p2, (size_t)w * h * 3) ? "NO" : "yes",
             n == n2 && !memcmp(d, d2, n) ? "yes" : "no");
    } else {
      CHECK(0, "%s", err);
    }
    free(img);
    free(d);
    free(d2);
    free(p1);
    free(p2);
  }
  /* Two threads share one instance: same results as alone. */
  job solo[2] = {{c1, 1, NULL, 0, 0}, {c1, 2, NULL, 0, 0}};
  worker(&solo[0]);
  worker(&solo[1]);
  job par[4] = {{c1, 1, NULL, 0, 0}, {c1, 2, NULL, 0, 0}, {c1, 1, NULL, 0, 0}, {c1, 2, NULL, 0, 0}};
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, worker, &par[i]);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < 4; i++) {
    const job *ref = &solo[i % 2];
    CHECK(par[i].ok && ref->ok && par[i].bytes == ref->bytes &&
              !memcmp(par[i].px, ref->px, 40 * 32 * 3),
          "shared instance, thread %d differs", i);
    free(par[i].px);
  }
  free(solo[0].px);
  free(solo[1].px);
  saic_codec_close(c1);
  saic_codec_close(c2);
}

/* ------------------------------------------------------------------ analysis reuse */

/* saic_codec_analyze + saic_codec_encode_analysis give the whole encode's bytes at every knob,
 * also through the registry's analysis table; an analysis is refused by another instance. */
static void test_analysis_reuse(void) {
  saic_codec *c = open_codec(codec_a, 1, 0), *c2 = open_codec(codec_a, 1, 0);
  if (!c || !c2) {
    saic_codec_close(c);
    saic_codec_close(c2);
    return;
  }
  const int sizes[][2] = {{32, 32}, {1, 1}, {33, 17}, {200, 136}};
  const double rates[] = {0, 0.25, 0.5, 1, 1.37, 2, 2.5, SAIC_CKPT_MAX_LEVELS - 1};
  char err[512];
  int compared = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    const int w = sizes[s][0], h = sizes[s][1];
    uint8_t *img = sct_image(w, h, 60 + (int)s);
    saic_analysis *a = NULL;
    if (saic_codec_analyze(c, img, w, h, &a, err, sizeof err)) {
      CHECK(0, "analyze %dx%d: %s", w, h, err);
      free(img);
      continue;
    }
    for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
      uint8_t *whole = NULL, *part = NULL;
      size_t nw = 0, np = 0, payload = 0;
      saic_encode_stats st;
      if (saic_codec_encode(c, img, w, h, rates[r], &whole, &nw, &st, err, sizeof err) ||
          saic_codec_encode_analysis(c, a, rates[r], &part, &np, &payload, err, sizeof err)) {
        CHECK(0, "%dx%d rate %g: %s", w, h, rates[r], err);
      } else {
        CHECK(nw == np && !memcmp(whole, part, nw) && payload == st.payload_bytes,
              "%dx%d rate %g: the analysed encode differs (%zu vs %zu bytes)", w, h, rates[r], nw,
              np);
        compared++;
      }
      free(whole);
      free(part);
    }
    uint8_t *o = NULL;
    size_t no = 0;
    CHECK(saic_codec_encode_analysis(c2, a, 1, &o, &no, NULL, err, sizeof err) != 0 &&
              strstr(err, "another codec"),
          "another instance's analysis accepted: %s", err);
    CHECK(saic_codec_encode_analysis(c, a, NAN, &o, &no, NULL, err, sizeof err) != 0 &&
              strstr(err, "rate"),
          "NaN rate accepted: %s", err);
    free(o);
    saic_codec_analysis_free(a);
    free(img);
  }
  printf("  %d analysed encodes identical to whole encodes\n", compared);
  saic_codec_analysis_free(NULL);
  saic_codec_close(c);
  saic_codec_close(c2);

  /* The same through the registry's tables (codec_saic.c), stream_bytes included. */
  codec_registry *reg = NULL;
  if (codec_registry_create(&reg, err, sizeof err)) {
    CHECK(0, "%s", err);
    return;
  }
  const codec_vtable *vt = codec_registry_find(reg, "saic");
  const codec_analysis_vtable *an = vt ? codec_registry_analysis(reg, vt) : NULL;
  CHECK(an != NULL, "saic has no analysis table");
  CHECK(codec_registry_analysis(reg, codec_registry_find(reg, "jpeg")) == NULL,
        "jpeg has an analysis table");
  void *inst = NULL;
  codec_option ok[] = {{"model", codec_a}};
  if (an && !vt->create(ok, 1, &inst, err, sizeof err)) {
    uint8_t *img = sct_image(45, 29, 77);
    void *a = NULL;
    if (an->analyze(inst, img, 45, 29, &a, err, sizeof err)) {
      CHECK(0, "vtable analyze: %s", err);
    } else {
      for (double k = 0; k <= vt->knob.max; k += 0.75) {
        codec_encoded e1, e2;
        if (vt->encode(inst, img, 45, 29, k, &e1, err, sizeof err) ||
            an->encode_analyzed(inst, a, k, &e2, err, sizeof err)) {
          CHECK(0, "knob %g: %s", k, err);
          continue;
        }
        CHECK(e1.size == e2.size && e1.stream_bytes == e2.stream_bytes &&
                  !memcmp(e1.data, e2.data, e1.size),
              "vtable knob %g: analysed encode differs", k);
        free(e1.data);
        free(e2.data);
      }
      codec_encoded e;
      char err2[512];
      int r1 = vt->encode(inst, img, 45, 29, vt->knob.max + 1, &e, err, sizeof err);
      int r2 = an->encode_analyzed(inst, a, vt->knob.max + 1, &e, err2, sizeof err2);
      CHECK(r1 && r2 && !strcmp(err, err2), "out-of-range knob: '%s' vs '%s'", err, err2);
      an->free_analysis(inst, a);
    }
    CHECK(an->analyze(inst, NULL, 4, 4, &a, err, sizeof err) != 0, "NULL image analysed");
    free(img);
    vt->destroy(inst);
  }
  codec_registry_destroy(reg);
}

/* ------------------------------------------------------------------ FiLM */

static void film_ref(const char *path, const uint8_t *rgb, int q, int q_dec, uint8_t *out) {
  uint8_t *r = reference_at(path, rgb, 32, 32, q, q_dec);
  if (r)
    memcpy(out, r, 32 * 32 * 3);
  free(r);
}

/* FiLM (saic_model_cfg.film): a tiny film model with non-zero tables, written as a training
 * checkpoint and exported, decodes in the codec exactly as saic_model_synthesis after
 * saic_model_set_rate at the stream's knob does (and not as at another knob); the film flag and
 * tables survive export (and the hash covers the tables); a film file whose table has the wrong
 * shape, film tables without the flag, or the flag without the tables are refused with a
 * message naming the tensor; a plain file loads as film = 0. */
static void test_film(void) {
  char train[512], path[512], err[512];
  snprintf(train, sizeof train, "%s/film.train.ckpt", dir);
  snprintf(path, sizeof path, "%s/film.ckpt", dir);
  if (sct_write_train_ckpt_film(train, N, M, LEVELS, 7, 2.0, 1, err, sizeof err)) {
    CHECK(0, "%s", err);
    return;
  }
  nn_err e = {0};
  CHECK(saic_export(train, path, NULL, NULL, &e) == NN_OK, "film export: %s", e.msg);
  saic_codec *c = open_codec(path, 1, 0);
  saic_codec *plain = open_codec(codec_a, 1, 0);
  if (!c || !plain) {
    saic_codec_close(c);
    saic_codec_close(plain);
    return;
  }
  const saic_codec_model *cm = saic_codec_get_model(c);
  CHECK(cm->cfg.film == 1 && saic_codec_get_model(plain)->cfg.film == 0, "film flags %d / %d",
        cm->cfg.film, saic_codec_get_model(plain)->cfg.film);
  nn_param *fs = nn_net_find_param(saic_model_decoder(cm->model), SAIC_MODEL_FILM_SCALE);
  CHECK(fs && fs->value.data[1] != 0.f, "film tables lost in export");
  uint8_t *img = sct_image(32, 32, 5);
  uint8_t ref[32 * 32 * 3], other[32 * 32 * 3];
  int differ = 0;
  const int qs[4] = {0, 17, 40, SAIC_CODEC_RATE_STEPS};
  for (int i = 0; i < 4; i++) {
    const int q = qs[i];
    uint8_t *stream = NULL, *dec = NULL;
    size_t len = 0;
    int w = 0, h = 0;
    CHECK(saic_codec_encode(c, img, 32, 32, saic_codec_rate_value(LEVELS, q), &stream, &len, NULL,
                            err, sizeof err) == 0,
          "film encode: %s", err);
    CHECK(saic_codec_decode(c, stream, len, &dec, &w, &h, err, sizeof err) == 0, "film decode: %s",
          err);
    film_ref(path, img, q, q, ref);
    CHECK(dec && !memcmp(dec, ref, sizeof ref),
          "film: codec decode at q %d differs from "
          "saic_model_synthesis after set_rate",
          q);
    film_ref(path, img, q, q == 40 ? 10 : 40, other);
    differ += memcmp(ref, other, sizeof ref) != 0;
    free(stream);
    free(dec);
  }
  CHECK(differ == 4, "film: another knob's g_s decoded the same symbols identically (%d of 4)",
        differ);
  free(img);
  saic_codec_close(c);
  saic_codec_close(plain);

  /* Hand-made training checkpoints: a plain model's networks plus film tensors. */
  const saic_model_cfg pc = {N, M, LEVELS, 0};
  saic_model *pm = saic_model_create(&pc, 8, 8, 1, 3, &e);
  if (!pm) {
    CHECK(0, "%s", e.msg);
    return;
  }
  float tab[LEVELS * 2 * N] = {0};
  const nn_ckpt_part parts[2] = {{"enc.", saic_model_encoder(pm)},
                                 {"dec.", saic_model_decoder(pm)}};
  const nn_kv meta[] = {{"arch", SAIC_CKPT_TRAIN_ARCH},
                        {"n", "8"},
                        {"m", "8"},
                        {"levels", "3"},
                        {SAIC_META_FILM, "1"}};
  struct {
    int nextra, nmeta, scale_cols;
    const char *want;
  } cases[3] = {{2, 5, N,
                 "has shape [3, 8, 1, 1] (rank 2); a model with n 8, m 8, levels 3, film "
                 "needs [3, 16, 1, 1]"},
                {2, 4, 2 * N, "unexpected tensor 'dec.film.log_scale'"},
                {0, 5, 2 * N, "tensor 'dec.film.log_scale' missing"}};
  for (int k = 0; k < 3; k++) {
    const nn_ckpt_extra ex[2] = {
        {"dec." SAIC_MODEL_FILM_SCALE, 2, {LEVELS, cases[k].scale_cols, 1, 1}, tab},
        {"dec." SAIC_MODEL_FILM_SHIFT, 2, {LEVELS, 2 * N, 1, 1}, tab}};
    char bad[512];
    snprintf(bad, sizeof bad, "%s/film_bad%d.ckpt", dir, k);
    CHECK(nn_ckpt_save_parts(bad, parts, 2, ex, cases[k].nextra, meta, cases[k].nmeta, &e) == NN_OK,
          "%s", e.msg);
    saic_model *m = NULL;
    nn_err le = {0};
    CHECK(saic_ckpt_load_model(bad, 8, 8, 1, &m, NULL, &le) == NN_E_FORMAT &&
              strstr(le.msg, cases[k].want),
          "film case %d: %s", k, le.msg);
    saic_model_free(m);
    unlink(bad);
  }
  saic_model_free(pm);
  unlink(train);
  unlink(path);
}

/* ------------------------------------------------------------------ registry */

static void test_registry(void) {
  codec_registry *reg = NULL;
  char err[512];
  if (codec_registry_create(&reg, err, sizeof err)) {
    CHECK(0, "%s", err);
    return;
  }
  const codec_vtable *vt = codec_registry_find(reg, "saic");
  CHECK(vt != NULL, "saic not registered");
  if (!vt) {
    codec_registry_destroy(reg);
    return;
  }
  CHECK(!strcmp(vt->knob.name, "rate") && vt->knob.kind == CODEC_KNOB_REAL &&
            vt->knob.rate_increases == 1 && vt->knob.min == 0,
        "knob");
  void *inst = NULL;
  CHECK(vt->create(NULL, 0, &inst, err, sizeof err) != 0 && strstr(err, "model"), "no model: %s",
        err);
  codec_option bad_threads[] = {{"model", codec_a}, {"threads", "0"}};
  CHECK(vt->create(bad_threads, 2, &inst, err, sizeof err) != 0 && strstr(err, "threads"),
        "threads=0: %s", err);
  codec_option typo[] = {{"modle", codec_a}};
  CHECK(vt->create(typo, 1, &inst, err, sizeof err) != 0 && strstr(err, "modle"), "typo: %s", err);
  codec_option ok[] = {{"model", codec_a}, {"threads", "1"}};
  if (vt->create(ok, 2, &inst, err, sizeof err)) {
    CHECK(0, "create: %s", err);
  } else {
    uint8_t *img = sct_image(32, 32, 9), *px = NULL;
    codec_encoded e;
    int w, h;
    if (vt->encode(inst, img, 32, 32, 1, &e, err, sizeof err) ||
        vt->decode(inst, e.data, e.size, &px, &w, &h, err, sizeof err)) {
      CHECK(0, "vtable: %s", err);
    } else {
      CHECK(e.size == e.stream_bytes + 2 && e.stream_bytes > 0, "size %zu stream %zu", e.size,
            e.stream_bytes);
      free(e.data);
    }
    free(px);
    px = NULL;
    CHECK(vt->encode(inst, img, 32, 32, NAN, &e, err, sizeof err) != 0 && strstr(err, "rate"),
          "NaN: %s", err);
    CHECK(vt->decode(inst, img, 0, &px, &w, &h, err, sizeof err) != 0, "empty input accepted");
    free(px);
    free(img);
    vt->destroy(inst);
  }
  codec_registry_destroy(reg);
}

int main(int argc, char **argv) {
  /* Helper for test_saic_cli.py: write the test's training checkpoint and exit. */
  if (argc == 3 && !strcmp(argv[1], "--write-train-ckpt")) {
    char err[512];
    if (sct_write_train_ckpt(argv[2], N, M, LEVELS, 1, 2.0, err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
    return 0;
  }
  snprintf(dir, sizeof dir, "/tmp/saicbench_codec_XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char err[512];
  snprintf(train_a, sizeof train_a, "%s/a.train.ckpt", dir);
  if (sct_make_codec(dir, "a", N, M, LEVELS, 1, 2.0, codec_a, sizeof codec_a, err, sizeof err)) {
    fprintf(stderr, "setup: %s\n", err);
    return 1;
  }
  /* A second model (another seed, so another SHA-256). */
  if (sct_make_codec(dir, "b", N, M, LEVELS, 2, 2.0, codec_b, sizeof codec_b, err, sizeof err)) {
    fprintf(stderr, "setup: %s\n", err);
    return 1;
  }
  printf("checkpoint shapes\n");
  test_checkpoint_shapes();
  printf("export\n");
  test_export();
  printf("round trips\n");
  test_roundtrips();
  printf("rate\n");
  test_rate();
  printf("hostile streams\n");
  test_hostile();
  printf("payload bound\n");
  test_payload_bound(argc == 2 ? argv[1] : NULL);
  printf("threads\n");
  test_threads();
  printf("analysis reuse\n");
  test_analysis_reuse();
  printf("film\n");
  test_film();
  printf("registry\n");
  test_registry();
  const char *names[] = {"a.train.ckpt", "a.ckpt", "b.train.ckpt", "b.ckpt", "tampered.ckpt"};
  for (int i = 0; i < 5; i++) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    if (!getenv("SAIC_TEST_KEEP"))
      remove(p);
  }
  if (!getenv("SAIC_TEST_KEEP"))
    rmdir(dir);
  return sb_test_status("test_saic_codec");
}
