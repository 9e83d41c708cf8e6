/* saic_codec.c - the SAIC codec: streams from images and back (see saic_codec.h; its codec_vtable
 * "saic" is codecs/codec_saic.c). */
#include "saic.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saic_coder.h"

_Static_assert(SAIC_CODEC_RATE_STEPS == SAIC_CKPT_RATE_STEPS,
               "saic_codec.h and saic_ckpt.h disagree");

#define NAME "saic"
_Static_assert(SAIC_CODEC_RATE_STEPS <= 127, "the rate index must fit byte 0's 7 low bits");

/* A side padded as the networks need: a multiple of the stride, at least one stride. */
static int round8(int v) { return v < SAIC_MODEL_STRIDE ? SAIC_MODEL_STRIDE : (v + 7) / 8 * 8; }

typedef struct pool_entry {
  saic_model *m;
  int h, w, busy;
  uint64_t used;
} pool_entry;

struct saic_codec {
  saic_codec_model *cm;
  int threads;
  size_t max_pixels;
  int32_t *table_index;  /* channel c -> table c */
  double *position_bits; /* per rate index: payload bits a latent position needs at least */
  uint8_t crc_seed;      /* CRC-8 over the model's SHA-256 and the format version */
  pthread_mutex_t mu;
  pool_entry *pool;
  int npool, cap;
  uint64_t clock;
};

static int fail(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* The least number of payload bits one latent position (all m channels) can take at rate index
 * q, as saic_codec.h explains: each symbol of channel c narrows the coder's interval by at least
 * the factor f_max / 65536 of the most probable entry of its table (the top entry keeps the
 * rounding remainder, which adds less than 2^-16 of a count: counted as one), so a latent of P
 * positions needs at least P * sum_c -log2(f_max(c) / 65536) bits before termination -- except
 * that a run of symbol 0 (a table's lowest value) at the very end of the latent is free (the
 * interval keeps its low end, which the coder writes without its trailing zeros). The channels
 * coded last whose symbol 0 is the most probable entry or is not rare (>= 1/1024: dead channels,
 * whose table holds one value) are therefore left out of the sum. */
static double position_bits(const saic_cdf_set *tables, int q, int m) {
  int last = m - 1;
  for (; last >= 0; last--) {
    const saic_cdf *t = saic_cdf_set_get(tables, q * m + last);
    uint32_t fmax = 0;
    for (uint32_t s = 0; s < t->nsym; s++)
      fmax = t->cdf[s + 1] - t->cdf[s] > fmax ? t->cdf[s + 1] - t->cdf[s] : fmax;
    const uint32_t f0 = t->cdf[1] - t->cdf[0];
    if (f0 < SAIC_RC_TOTAL / 1024 && f0 < fmax)
      break;
  }
  double bits = 0;
  for (int ch = 0; ch <= last; ch++) {
    const saic_cdf *t = saic_cdf_set_get(tables, q * m + ch);
    uint32_t fmax = 0;
    for (uint32_t s = 0; s < t->nsym; s++) {
      const uint32_t f = t->cdf[s + 1] - t->cdf[s] + (s + 1 == t->nsym);
      fmax = f > fmax ? f : fmax;
    }
    if (fmax < SAIC_RC_TOTAL)
      bits -= log2((double)fmax / SAIC_RC_TOTAL);
  }
  return bits;
}

int saic_codec_open(const char *model_path, const saic_codec_opts *o, saic_codec **out, char *err,
                    size_t err_len) {
  if (!out)
    return fail(err, err_len, NAME ": no output pointer");
  *out = NULL;
  if (!model_path || !*model_path)
    return fail(err, err_len,
                NAME ": no model (give model=PATH, a checkpoint from `saicbench "
                     "export`)");
  const int threads = o && o->threads > 0 ? o->threads : 1;
  size_t maxpx = o && o->max_pixels ? o->max_pixels : SAIC_CODEC_MAX_PIXELS;
  if (maxpx > SAIC_CODEC_MAX_PIXELS)
    maxpx = SAIC_CODEC_MAX_PIXELS;
  saic_codec *c = calloc(1, sizeof *c);
  if (!c)
    return fail(err, err_len, NAME ": out of memory");
  nn_err e = {0};
  if (saic_ckpt_load_codec(model_path, threads, &c->cm, &e) != NN_OK) {
    free(c);
    return fail(err, err_len, NAME ": model: %s", e.msg);
  }
  c->threads = threads;
  c->max_pixels = maxpx;
  /* Channel c at rate index q uses table q * m + c (saic_ckpt.h). */
  const int ntab = c->cm->cfg.m * saic_ckpt_num_rates(c->cm->cfg.levels);
  c->table_index = malloc((size_t)ntab * sizeof *c->table_index);
  if (!c->table_index || pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c->table_index);
    saic_ckpt_free_codec(c->cm);
    free(c);
    return fail(err, err_len, NAME ": out of memory");
  }
  for (int i = 0; i < ntab; i++)
    c->table_index[i] = i;
  const int nrates = saic_ckpt_num_rates(c->cm->cfg.levels);
  if (!(c->position_bits = malloc((size_t)nrates * sizeof *c->position_bits))) {
    saic_codec_close(c);
    return fail(err, err_len, NAME ": out of memory");
  }
  for (int q = 0; q < nrates; q++)
    c->position_bits[q] = position_bits(c->cm->tables, q, c->cm->cfg.m);
  const uint8_t version = SAIC_CODEC_FORMAT_VERSION;
  c->crc_seed = saic_crc8_update(saic_crc8(c->cm->sha256, sizeof c->cm->sha256), &version, 1);
  *out = c;
  return 0;
}

void saic_codec_close(saic_codec *c) {
  if (!c)
    return;
  for (int i = 0; i < c->npool; i++)
    saic_model_free(c->pool[i].m);
  free(c->pool);
  pthread_mutex_destroy(&c->mu);
  free(c->table_index);
  free(c->position_bits);
  saic_ckpt_free_codec(c->cm);
  free(c);
}

size_t saic_codec_min_payload_bytes(const saic_codec *c, int rate_index, int width, int height) {
  if (!c || rate_index < 0 || rate_index >= saic_ckpt_num_rates(c->cm->cfg.levels) || width < 1 ||
      height < 1)
    return 0;
  const double positions =
      (double)(round8(height) / SAIC_MODEL_STRIDE) * (double)(round8(width) / SAIC_MODEL_STRIDE);
  /* (1 - 1e-9): the sum is a double; keep the bound on the safe side of its rounding. */
  const double bits =
      c->position_bits[rate_index] * positions * (1 - 1e-9) - 8.0 * SAIC_CODEC_PAYLOAD_SLACK;
  return bits > 0 ? (size_t)(bits / 8) : 0;
}

const saic_codec_model *saic_codec_get_model(const saic_codec *c) { return c->cm; }

/* ------------------------------------------------------------------ network cache */

static saic_model *acquire(saic_codec *c, int h, int w, char *err, size_t err_len) {
  pthread_mutex_lock(&c->mu);
  for (int i = 0; i < c->npool; i++)
    if (!c->pool[i].busy && c->pool[i].h == h && c->pool[i].w == w) {
      c->pool[i].busy = 1;
      saic_model *m = c->pool[i].m;
      pthread_mutex_unlock(&c->mu);
      return m;
    }
  pthread_mutex_unlock(&c->mu);
  /* Built outside the lock: other sizes and calls go on meanwhile. */
  nn_err e = {0};
  const int threads = (size_t)h * (size_t)w < SAIC_CODEC_MIN_PIXELS_MT ? 1 : c->threads;
  saic_model *m = saic_model_create(&c->cm->cfg, h, w, threads, 0, &e);
  if (!m) {
    fail(err, err_len, NAME ": cannot set up the networks for %dx%d: %s", w, h, e.msg);
    return NULL;
  }
  if (saic_model_copy_params(m, c->cm->model, &e) != NN_OK) {
    saic_model_free(m);
    fail(err, err_len, NAME ": %s", e.msg);
    return NULL;
  }
  saic_model_set_inference_only(m);
  pthread_mutex_lock(&c->mu);
  if (c->npool == c->cap) {
    int cap = c->cap ? 2 * c->cap : 8;
    pool_entry *p = realloc(c->pool, (size_t)cap * sizeof *p);
    if (!p) {
      pthread_mutex_unlock(&c->mu);
      saic_model_free(m);
      fail(err, err_len, NAME ": out of memory");
      return NULL;
    }
    c->pool = p;
    c->cap = cap;
  }
  c->pool[c->npool++] = (pool_entry){m, h, w, 1, 0};
  pthread_mutex_unlock(&c->mu);
  return m;
}

/* Returns a network to the cache, then drops least recently used idle ones beyond the limits
 * (count and summed pixels; the one just returned is kept if it is the only idle one). */
static void release(saic_codec *c, saic_model *m) {
  pthread_mutex_lock(&c->mu);
  for (int i = 0; i < c->npool; i++)
    if (c->pool[i].m == m) {
      c->pool[i].busy = 0;
      c->pool[i].used = ++c->clock;
    }
  for (;;) {
    int idle = 0, lru = -1;
    size_t px = 0;
    for (int i = 0; i < c->npool; i++)
      if (!c->pool[i].busy) {
        idle++;
        px += (size_t)c->pool[i].h * (size_t)c->pool[i].w;
        if (lru < 0 || c->pool[i].used < c->pool[lru].used)
          lru = i;
      }
    if (idle <= 1 || (idle <= SAIC_CODEC_CACHE && px <= SAIC_CODEC_CACHE_IDLE_PIXELS))
      break;
    saic_model_free(c->pool[lru].m);
    c->pool[lru] = c->pool[--c->npool];
  }
  pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------------ header */

int saic_codec_rate_index(int levels, double r) {
  if (levels <= 1 || !(r > 0))
    return 0;
  const double top = saic_model_knob_max(levels);
  if (r >= top)
    return SAIC_CODEC_RATE_STEPS;
  return (int)lrint(r / top * SAIC_CODEC_RATE_STEPS);
}

double saic_codec_rate_value(int levels, int q) { return saic_ckpt_rate_value(levels, q); }

static size_t put_leb(uint8_t *p, uint32_t v) {
  size_t n = 0;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
  } while (v);
  return n;
}

/* Reads a minimal LEB128 value <= max from data[*pos..len). 0, or -1 truncated, -2 bad. */
static int get_leb(const uint8_t *data, size_t len, size_t *pos, uint32_t max, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 3; i++) {
    if (*pos >= len)
      return -1;
    uint8_t b = data[(*pos)++];
    v |= (uint32_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      if (i > 0 && b == 0)
        return -2; /* over-long: a final zero group */
      if (v > max)
        return -2;
      *out = v;
      return 0;
    }
  }
  return -2;
}

uint8_t saic_codec_stream_check(const saic_codec *c, const uint8_t *data, size_t len) {
  uint8_t crc = saic_crc8_update(c->crc_seed, data, len ? 1 : 0);
  return len > 2 ? saic_crc8_update(crc, data + 2, len - 2) : crc;
}

int saic_codec_parse_header(const saic_codec *c, const uint8_t *data, size_t len,
                            saic_stream_info *info, char *err, size_t err_len) {
  memset(info, 0, sizeof *info);
  if (!data || len < SAIC_CODEC_MIN_HEADER)
    return fail(err, err_len, NAME ": %zu bytes is shorter than the %d-byte header (truncated?)",
                data ? len : 0, SAIC_CODEC_MIN_HEADER);
  const int explicit_size = data[0] >> 7, levels = c->cm->cfg.levels, q = data[0] & 0x7f;
  if (q > SAIC_CODEC_RATE_STEPS)
    return fail(err, err_len,
                NAME ": rate index %d out of range (0..%d; %d..127 are reserved): not a SAIC "
                     "format-%d stream, or a corrupt one",
                q, SAIC_CODEC_RATE_STEPS, SAIC_CODEC_RATE_STEPS + 1, SAIC_CODEC_FORMAT_VERSION);
  if (levels == 1 && q != 0)
    return fail(err, err_len, NAME ": rate index %d, but the model has a single level", q);
  size_t pos = SAIC_CODEC_MIN_HEADER;
  uint32_t w = 32, h = 32;
  if (explicit_size) {
    uint32_t wm1, hm1;
    int r = get_leb(data, len, &pos, SAIC_CODEC_MAX_SIDE - 1, &wm1);
    if (!r)
      r = get_leb(data, len, &pos, SAIC_CODEC_MAX_SIDE - 1, &hm1);
    if (r == -1)
      return fail(err, err_len, NAME ": header truncated inside the image size");
    if (r)
      return fail(err, err_len, NAME ": malformed image size in the header (sides are 1..%d)",
                  SAIC_CODEC_MAX_SIDE);
    w = wm1 + 1;
    h = hm1 + 1;
    if (w == 32 && h == 32)
      return fail(err, err_len, NAME ": non-canonical header (32x32 coded as an explicit size)");
  }
  if ((uint64_t)w * h > c->max_pixels)
    return fail(err, err_len, NAME ": image %ux%u exceeds the %zu-pixel limit", w, h,
                c->max_pixels);
  const uint8_t check = saic_codec_stream_check(c, data, len);
  if (data[1] != check) {
    const uint8_t *sha = c->cm->sha256;
    /* Format 1: byte 0 = 001 f llll, byte 1 = the model hash's first byte, byte 2 = q. */
    const int v1 =
        data[0] >> 5 == 1 && data[1] == sha[0] && len >= 3 && data[2] <= SAIC_CODEC_RATE_STEPS;
    return fail(err, err_len,
                NAME ": stream check failed (check byte %02x, computed %02x): the stream is "
                     "corrupt, truncated or extended, or was made with another model (this "
                     "model's SHA-256 begins %02x%02x%02x%02x) or in another format (this decoder "
                     "reads format %d)%s",
                data[1], check, sha[0], sha[1], sha[2], sha[3], SAIC_CODEC_FORMAT_VERSION,
                v1 ? "; it looks like a format-1 stream of this model (saicbench before format "
                     "2): encode the image again"
                   : "");
  }
  /* The payload must be able to hold the latent the size claims: otherwise a few bytes could
   * ask for the networks, latent and image of a 2^25-pixel image (~690 bytes per pixel). */
  const size_t need = saic_codec_min_payload_bytes(c, q, (int)w, (int)h);
  if (len - pos < need)
    return fail(err, err_len,
                NAME ": payload of %zu bytes cannot hold a %ux%u image at rate index %d (at least "
                     "%zu bytes): truncated, or a hostile size",
                len - pos, w, h, q, need);
  *info = (saic_stream_info){.version = SAIC_CODEC_FORMAT_VERSION,
                             .width = (int)w,
                             .height = (int)h,
                             .check = check,
                             .rate_index = q,
                             .rate = saic_codec_rate_value(levels, q),
                             .header_bytes = pos,
                             .payload_bytes = len - pos,
                             .min_payload_bytes = need,
                             .latent_c = c->cm->cfg.m,
                             .latent_h = round8((int)h) / SAIC_MODEL_STRIDE,
                             .latent_w = round8((int)w) / SAIC_MODEL_STRIDE};
  return 0;
}

/* ------------------------------------------------------------------ encode / decode */

struct saic_analysis {
  const saic_codec *codec; /* the codec that made it: another codec's latent is refused */
  int width, height;       /* the original image */
  int m, lh, lw;           /* latent shape */
  float y[];               /* g_a(x), m x lh x lw */
};

int saic_codec_analyze(saic_codec *c, const uint8_t *rgb, int width, int height,
                       saic_analysis **out, char *err, size_t err_len) {
  if (!out)
    return fail(err, err_len, NAME ": no output given to analyze");
  *out = NULL;
  if (!c || !rgb)
    return fail(err, err_len, NAME ": no codec or image given to encode");
  if (width < 1 || height < 1 || width > SAIC_CODEC_MAX_SIDE || height > SAIC_CODEC_MAX_SIDE ||
      (uint64_t)width * (uint64_t)height > c->max_pixels)
    return fail(err, err_len, NAME ": image size %dx%d outside 1..%d per side, %zu pixels", width,
                height, SAIC_CODEC_MAX_SIDE, c->max_pixels);
  const int M = c->cm->cfg.m;
  const int ph = round8(height), pw = round8(width), lh = ph / 8, lw = pw / 8;
  const size_t hw = (size_t)ph * (size_t)pw, lhw = (size_t)lh * (size_t)lw;
  float *x = malloc(3 * hw * sizeof *x);
  saic_analysis *a = malloc(sizeof *a + (size_t)M * lhw * sizeof *a->y);
  saic_model *m = NULL;
  int rc = -1;
  if (!x || !a) {
    fail(err, err_len, NAME ": out of memory for a %dx%d image", width, height);
    goto out;
  }
  /* Pad by replicating the last row and column. */
  for (int yy = 0; yy < ph; yy++) {
    const uint8_t *row = rgb + (size_t)(yy < height ? yy : height - 1) * (size_t)width * 3;
    for (int xx = 0; xx < pw; xx++) {
      const uint8_t *px = row + (size_t)(xx < width ? xx : width - 1) * 3;
      for (int ch = 0; ch < 3; ch++)
        x[(size_t)ch * hw + (size_t)yy * (size_t)pw + (size_t)xx] = px[ch] / 255.f;
    }
  }
  if (!(m = acquire(c, ph, pw, err, err_len)))
    goto out;
  nn_err e = {0};
  const float *y;
  if (saic_model_analysis(m, x, 1, &y, &e) != NN_OK) {
    fail(err, err_len, NAME ": %s", e.msg);
    goto out;
  }
  *a = (saic_analysis){c, width, height, M, lh, lw};
  memcpy(a->y, y, (size_t)M * lhw * sizeof *a->y);
  *out = a;
  a = NULL;
  rc = 0;
out:
  if (m)
    release(c, m);
  free(x);
  free(a);
  return rc;
}

void saic_codec_analysis_free(saic_analysis *a) { free(a); }

/* The second half of an encode: a's latent at knob r; the density estimate only when want_est
 * (it costs a density pass). */
static int encode_latent(saic_codec *c, const saic_analysis *a, double r, uint8_t **out,
                         size_t *out_len, saic_encode_stats *st, int want_est, char *err,
                         size_t err_len) {
  if (!out || !out_len)
    return fail(err, err_len, NAME ": no output given to encode");
  *out = NULL;
  *out_len = 0;
  if (!c || !a)
    return fail(err, err_len, NAME ": no codec or analysis given to encode");
  if (a->codec != c)
    return fail(err, err_len, NAME ": the analysis was made by another codec instance");
  if (!(r >= 0 && r <= SAIC_CKPT_MAX_LEVELS - 1))
    return fail(err, err_len, NAME ": rate %g outside [0, %d]", r, SAIC_CKPT_MAX_LEVELS - 1);
  const saic_model_cfg *cfg = &c->cm->cfg;
  const int M = a->m, q = saic_codec_rate_index(cfg->levels, r), lh = a->lh, lw = a->lw;
  const size_t lhw = (size_t)lh * (size_t)lw;
  int32_t *sym = malloc((size_t)M * lhw * sizeof *sym);
  float *gain = malloc((size_t)M * sizeof *gain);
  float *qf = want_est ? malloc((size_t)M * lhw * sizeof *qf) : NULL;
  uint8_t *payload = NULL;
  size_t plen = 0;
  int rc = -1;
  if (!sym || !gain || (want_est && !qf)) {
    fail(err, err_len, NAME ": out of memory for a %dx%d image", a->width, a->height);
    goto out;
  }
  /* The loaded model's gains and density are the cached networks' (saic_model_copy_params);
   * reading them needs no network of this size. */
  saic_model_gains(c->cm->model, saic_codec_rate_value(cfg->levels, q), gain, NULL);
  const float lim = (float)(SAIC_CDF_VALUE_LIMIT - 1);
  for (int ch = 0; ch < M; ch++)
    for (size_t k = 0; k < lhw; k++) {
      float v = rintf(a->y[(size_t)ch * lhw + k] * gain[ch]);
      if (!isfinite(v)) {
        fail(err, err_len, NAME ": the model produced a non-finite latent (channel %d)", ch);
        goto out;
      }
      v = v < -lim ? -lim : v > lim ? lim : v;
      sym[(size_t)ch * lhw + k] = (int32_t)v;
      if (qf)
        qf[(size_t)ch * lhw + k] = v;
    }
  double est = 0;
  if (want_est) {
    for (int ch = 0; ch < M; ch++)
      gain[ch] = 1.0f / gain[ch]; /* the bin width of the density (saic_density.h) */
    est = saic_density_bits_step(saic_model_density(c->cm->model), M, qf, 1, lhw, gain, 1.0, NULL,
                                 NULL, NULL, 1);
  }
  char cerr[256];
  if (saic_coder_encode_channels(c->cm->tables, c->table_index + (size_t)q * (size_t)M, sym, M, lh,
                                 lw, &payload, &plen, cerr, sizeof cerr) != SAIC_OK) {
    fail(err, err_len, NAME ": entropy coding: %s", cerr);
    goto out;
  }
  uint8_t head[2 + 6];
  size_t hl = 0;
  const int explicit_size = !(a->width == 32 && a->height == 32);
  head[hl++] = (uint8_t)((explicit_size << 7) | q);
  head[hl++] = 0; /* the check byte, once the rest is known */
  if (explicit_size) {
    hl += put_leb(head + hl, (uint32_t)a->width - 1);
    hl += put_leb(head + hl, (uint32_t)a->height - 1);
  }
  uint8_t *buf = malloc(hl + plen);
  if (!buf) {
    fail(err, err_len, NAME ": out of memory");
    goto out;
  }
  memcpy(buf, head, hl);
  if (plen)
    memcpy(buf + hl, payload, plen);
  buf[1] = saic_codec_stream_check(c, buf, hl + plen);
  *out = buf;
  *out_len = hl + plen;
  if (st) {
    memset(st, 0, sizeof *st);
    st->est_bits = est;
    st->header_bytes = hl;
    st->payload_bytes = plen;
    st->latent_c = M;
    st->latent_h = lh;
    st->latent_w = lw;
    st->rate_index = q;
  }
  rc = 0;
out:
  free(sym);
  free(gain);
  free(qf);
  free(payload);
  return rc;
}

int saic_codec_encode_analysis(saic_codec *c, const saic_analysis *a, double r, uint8_t **out,
                               size_t *out_len, size_t *payload_bytes, char *err, size_t err_len) {
  saic_encode_stats st;
  if (encode_latent(c, a, r, out, out_len, &st, 0, err, err_len))
    return -1;
  if (payload_bytes)
    *payload_bytes = st.payload_bytes;
  return 0;
}

/* A whole encode is exactly the two halves, so the harness's analysis reuse gives the same
 * streams. The knob is checked first, before the analysis is paid for. */
static int encode_impl(saic_codec *c, const uint8_t *rgb, int width, int height, double r,
                       uint8_t **out, size_t *out_len, saic_encode_stats *st, int want_est,
                       char *err, size_t err_len) {
  if (!out || !out_len)
    return fail(err, err_len, NAME ": no output given to encode");
  *out = NULL;
  *out_len = 0;
  if (!(r >= 0 && r <= SAIC_CKPT_MAX_LEVELS - 1))
    return fail(err, err_len, NAME ": rate %g outside [0, %d]", r, SAIC_CKPT_MAX_LEVELS - 1);
  saic_analysis *a;
  if (saic_codec_analyze(c, rgb, width, height, &a, err, err_len))
    return -1;
  int rc = encode_latent(c, a, r, out, out_len, st, want_est, err, err_len);
  saic_codec_analysis_free(a);
  return rc;
}

int saic_codec_encode(saic_codec *c, const uint8_t *rgb, int width, int height, double r,
                      uint8_t **out, size_t *out_len, saic_encode_stats *st, char *err,
                      size_t err_len) {
  return encode_impl(c, rgb, width, height, r, out, out_len, st, st != NULL, err, err_len);
}

int saic_codec_decode_symbols(const saic_codec *c, const uint8_t *data, size_t len,
                              int32_t **symbols, size_t *count, saic_stream_info *info, char *err,
                              size_t err_len) {
  saic_stream_info local;
  saic_stream_info *in = info ? info : &local;
  memset(in, 0, sizeof *in);
  if (!symbols || !count)
    return fail(err, err_len, NAME ": no output given to decode");
  *symbols = NULL;
  *count = 0;
  if (!c)
    return fail(err, err_len, NAME ": no codec");
  if (saic_codec_parse_header(c, data, len, in, err, err_len))
    return -1;
  const size_t n = (size_t)in->latent_c * (size_t)in->latent_h * (size_t)in->latent_w;
  int32_t *sym = malloc(n * sizeof *sym);
  if (!sym) {
    fail(err, err_len, NAME ": out of memory for a %dx%d image", in->width, in->height);
    memset(in, 0, sizeof *in);
    return -1;
  }
  char cerr[256];
  const uint8_t *payload = in->payload_bytes ? data + in->header_bytes : NULL;
  if (saic_coder_decode_channels(c->cm->tables,
                                 c->table_index + (size_t)in->rate_index * (size_t)in->latent_c,
                                 payload, in->payload_bytes, sym, in->latent_c, in->latent_h,
                                 in->latent_w, cerr, sizeof cerr) != SAIC_OK) {
    fail(err, err_len, NAME ": corrupt payload: %s", cerr);
    free(sym);
    memset(in, 0, sizeof *in);
    return -1;
  }
  *symbols = sym;
  *count = n;
  return 0;
}

int saic_codec_decode(saic_codec *c, const uint8_t *data, size_t len, uint8_t **rgb, int *width,
                      int *height, char *err, size_t err_len) {
  if (!rgb || !width || !height)
    return fail(err, err_len, NAME ": no output given to decode");
  *rgb = NULL;
  *width = *height = 0;
  saic_stream_info info;
  int32_t *sym = NULL;
  size_t nsym = 0;
  if (saic_codec_decode_symbols(c, data, len, &sym, &nsym, &info, err, err_len))
    return -1;
  const int M = info.latent_c, W = info.width, H = info.height;
  const int ph = round8(H), pw = round8(W);
  const size_t hw = (size_t)ph * (size_t)pw, lhw = nsym / (size_t)M;
  float *yin = malloc(nsym * sizeof *yin);
  float *ig = malloc((size_t)M * sizeof *ig);
  uint8_t *img = malloc((size_t)W * (size_t)H * 3);
  saic_model *m = NULL;
  int rc = -1;
  if (!yin || !ig || !img) {
    fail(err, err_len, NAME ": out of memory for a %dx%d image", W, H);
    goto out;
  }
  if (!(m = acquire(c, ph, pw, err, err_len)))
    goto out;
  saic_model_gains(m, info.rate, NULL, ig);
  for (int ch = 0; ch < M; ch++)
    for (size_t k = 0; k < lhw; k++)
      yin[(size_t)ch * lhw + k] = (float)sym[(size_t)ch * lhw + k] * ig[ch];
  nn_err e = {0};
  const float *xh;
  saic_model_set_rate(m, info.rate); /* FiLM: g_s at the stream's knob r_q (no-op otherwise) */
  if (saic_model_synthesis(m, yin, 1, &xh, &e) != NN_OK) {
    fail(err, err_len, NAME ": %s", e.msg);
    goto out;
  }
  for (int yy = 0; yy < H; yy++)
    for (int xx = 0; xx < W; xx++)
      for (int ch = 0; ch < 3; ch++) {
        float v = xh[(size_t)ch * hw + (size_t)yy * (size_t)pw + (size_t)xx] * 255.f;
        v = isnan(v) ? 0.f : v < 0.f ? 0.f : v > 255.f ? 255.f : v;
        img[((size_t)yy * (size_t)W + (size_t)xx) * 3 + (size_t)ch] = (uint8_t)lrintf(v);
      }
  *rgb = img;
  img = NULL;
  *width = W;
  *height = H;
  rc = 0;
out:
  if (m)
    release(c, m);
  free(sym);
  free(yin);
  free(ig);
  free(img);
  return rc;
}

int saic_codec_encode_payload(saic_codec *c, const uint8_t *rgb, int width, int height, double r,
                              uint8_t **out, size_t *out_len, size_t *payload_bytes, char *err,
                              size_t err_len) {
  saic_encode_stats st;
  if (encode_impl(c, rgb, width, height, r, out, out_len, &st, 0, err, err_len))
    return -1;
  *payload_bytes = st.payload_bytes;
  return 0;
}
