/* encode_cache.c - one worker's encodes of one image with one codec (see internal/encode_cache.h).
 */
#include "encode_cache.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "metrics.h"

void encode_cache_clear(encode_cache *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->e[i].enc.data);
    free(c->e[i].decoded);
    free(c->e[i].th.png);
    free(c->e[i].error);
    free(c->e[i].encode_all);
    free(c->e[i].decode_all);
  }
  c->n = 0;
  if (c->analysis)
    c->analysis_pc->an->free_analysis(c->analysis_pc->instance, c->analysis);
  free(c->analysis_error);
  c->analysis = NULL;
  c->analysis_pc = NULL;
  c->analysis_error = NULL;
  c->analyzed = 0;
  c->analysis_ms = 0;
}

/* The cache's analysis of its image, made on first use; NULL with c->analysis_error set when
 * it failed. */
static const void *cached_analysis(encode_cache *c) {
  if (!c->analyzed) {
    const plan_codec *pc = c->pc;
    char err[512] = "";
    c->analyzed = 1;
    c->analysis_pc = pc;
    double t0 = sb_now_ms();
    int rc = pc->an->analyze(pc->instance, c->img->rgb, c->img->width, c->img->height, &c->analysis,
                             err, sizeof err);
    c->analysis_ms = sb_now_ms() - t0;
    c->encode_ms += c->analysis_ms;
    c->counts.analyses++;
    if (rc || !c->analysis) {
      if (c->analysis)
        pc->an->free_analysis(pc->instance, c->analysis);
      c->analysis = NULL;
      c->analysis_error = strdup(err[0] ? err : "analysis failed");
    }
  }
  return c->analysis;
}

/* One encode of the cache's image at knob into *out: from the cached analysis when the codec
 * has analysis reuse, else a whole encode. *ms: what a whole encode costs. */
static int encode_once(encode_cache *c, double knob, codec_encoded *out, double *ms, char *err,
                       size_t err_len) {
  const plan_codec *pc = c->pc;
  if (pc->an) {
    const void *a = cached_analysis(c);
    if (!a) {
      snprintf(err, err_len, "%s", c->analysis_error ? c->analysis_error : "out of memory");
      *ms = 0;
      return -1;
    }
    double t0 = sb_now_ms();
    int rc = pc->an->encode_analyzed(pc->instance, a, knob, out, err, err_len);
    const double coded = sb_now_ms() - t0;
    *ms = c->analysis_ms + coded;
    c->encode_ms += coded;
    c->counts.analyzed++;
    return rc;
  }
  double t0 = sb_now_ms();
  int rc = pc->vt->encode(pc->instance, c->img->rgb, c->img->width, c->img->height, knob, out, err,
                          err_len);
  *ms = sb_now_ms() - t0;
  c->encode_ms += *ms;
  c->counts.whole++;
  return rc;
}

/* Encodes at knob unless cached. Returns the entry, or NULL on allocation failure. */
cache_entry *encode_cache_encode(encode_cache *c, double knob) {
  for (size_t i = 0; i < c->n; i++)
    if (c->e[i].knob == knob)
      return &c->e[i];
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    cache_entry *e = realloc(c->e, cap * sizeof *e);
    if (!e)
      return NULL;
    c->e = e;
    c->cap = cap;
  }
  cache_entry *e = &c->e[c->n++];
  memset(e, 0, sizeof *e);
  e->knob = knob;
  char err[512] = "";
  int rc = encode_once(c, knob, &e->enc, &e->encode_ms, err, sizeof err);
  if (rc) {
    free(e->enc.data);
    memset(&e->enc, 0, sizeof e->enc);
    e->error = strdup(err[0] ? err : "encode failed");
  } else if (codec_check_encoded(c->pc->vt, &e->enc, err, sizeof err)) {
    /* Recorded as the image's error, never stored as a result. */
    free(e->enc.data);
    memset(&e->enc, 0, sizeof e->enc);
    e->error = strdup(err);
  }
  return e;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median of n > 0 values (sorts them). */
static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Keeps the n timings in measured order in *all (a copy: median sorts t), returns their median.
 * Out of memory: *all stays NULL and only the median is stored. */
static double keep_timings(double *t, int n, double **all, int *n_all) {
  free(*all);
  *n_all = 0;
  if ((*all = malloc((size_t)n * sizeof **all))) {
    memcpy(*all, t, (size_t)n * sizeof *t);
    *n_all = n;
  }
  return median(t, (size_t)n);
}

enum { MAX_TIMING_REPEATS = 1000 };

/* Encodes the entry's knob again until `repeats` encodes are timed (the one that produced the
 * entry is the first) and stores their median, keeping every timing. The extra streams are
 * discarded: the stored stream, and so every non-timing result, is the first one's. The repeats
 * are whole encodes, also with analysis reuse: they time what a user's encode costs. */
static void repeat_encode(encode_cache *c, cache_entry *e) {
  double t[MAX_TIMING_REPEATS];
  int n = c->repeats < MAX_TIMING_REPEATS ? c->repeats : MAX_TIMING_REPEATS;
  t[0] = e->encode_ms;
  for (int i = 1; i < n; i++) {
    codec_encoded enc = {0};
    char err[512];
    double t0 = sb_now_ms();
    int rc = c->pc->vt->encode(c->pc->instance, c->img->rgb, c->img->width, c->img->height, e->knob,
                               &enc, err, sizeof err);
    t[i] = sb_now_ms() - t0;
    c->encode_ms += t[i];
    c->counts.whole++;
    free(enc.data);
    if (rc) /* failed now but not the first time: keep the timings taken so far */
      n = i;
  }
  e->encode_ms = keep_timings(t, n, &e->encode_all, &e->n_encode_all);
}

/* The opt-in metrics of a decoded image b of the original a: those `want` names, NAN for the
 * others (stored as NULL). A Butteraugli that libjxl cannot compute is NULL as well. */
static void measure_extra(unsigned want, const uint8_t *a, const uint8_t *b, int w, int h,
                          store_extra_metrics *x) {
  *x = (store_extra_metrics){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
  if (want & (SUITE_METRIC_PSNR_Y | SUITE_METRIC_PSNR_YCBCR)) {
    metrics_ycbcr y;
    metrics_ycbcr_rgb8(a, b, w, h, &y);
    x->psnr_y = y.psnr_y;
    if (want & SUITE_METRIC_PSNR_YCBCR) {
      x->psnr_cb = y.psnr_cb;
      x->psnr_cr = y.psnr_cr;
      x->psnr_ycbcr = y.psnr_ycbcr;
    }
  }
  if (want & SUITE_METRIC_CIEDE2000)
    x->ciede2000 = metrics_ciede2000_rgb8(a, b, w, h);
  if (want & SUITE_METRIC_BUTTERAUGLI)
    metrics_butteraugli_rgb8(a, b, w, h, &x->butteraugli_max, &x->butteraugli_3norm);
}

/* Decodes and scores an encoded entry (once). With repeats, the encode and the decode are
 * timed that many times and the medians stored, with every timing. */
void encode_cache_measure(encode_cache *c, cache_entry *e) {
  if (e->measured || e->error)
    return;
  e->measured = 1;
  if (c->repeats > 1)
    repeat_encode(c, e);
  const double t_measure = sb_now_ms();
  char err[512] = "";
  uint8_t *rgb = NULL;
  int w = 0, h = 0;
  double t0 = sb_now_ms();
  int rc =
      c->pc->vt->decode(c->pc->instance, e->enc.data, e->enc.size, &rgb, &w, &h, err, sizeof err);
  e->decode_ms = sb_now_ms() - t0;
  if (!rc && c->repeats > 1) {
    double t[MAX_TIMING_REPEATS];
    int n = c->repeats < MAX_TIMING_REPEATS ? c->repeats : MAX_TIMING_REPEATS;
    t[0] = e->decode_ms;
    for (int i = 1; i < n; i++) {
      uint8_t *again = NULL;
      int w2 = 0, h2 = 0;
      char err2[512];
      double t1 = sb_now_ms();
      int rc2 = c->pc->vt->decode(c->pc->instance, e->enc.data, e->enc.size, &again, &w2, &h2, err2,
                                  sizeof err2);
      t[i] = sb_now_ms() - t1;
      free(again);
      if (rc2)
        n = i;
    }
    e->decode_ms = keep_timings(t, n, &e->decode_all, &e->n_decode_all);
  }
  if (rc) {
    e->error = strdup(err[0] ? err : "decode failed");
  } else if (codec_check_decoded(c->pc->vt, rgb, w, h, c->img->width, c->img->height, err,
                                 sizeof err)) {
    e->error = strdup(err);
  } else {
    const unsigned want = c->metrics;
    if ((want & SUITE_METRIC_SSIM) && (want & SUITE_METRIC_MS_SSIM)) {
      /* One call: SSIM and the first MS-SSIM scale share their filtering. */
      metrics_full m;
      metrics_full_rgb8(c->img->rgb, rgb, w, h, &m);
      e->mse = m.mse;
      e->psnr = m.psnr;
      e->ssim = m.ssim;
      e->ms_ssim = m.ms_ssim;
    } else { /* the metrics left out are stored as NULL */
      e->mse = metrics_mse_rgb8(c->img->rgb, rgb, w, h);
      e->psnr = metrics_psnr_from_mse(e->mse);
      e->ssim = want & SUITE_METRIC_SSIM ? metrics_ssim_rgb8(c->img->rgb, rgb, w, h) : NAN;
      e->ms_ssim = want & SUITE_METRIC_MS_SSIM ? metrics_ms_ssim_rgb8(c->img->rgb, rgb, w, h) : NAN;
    }
    measure_extra(want, c->img->rgb, rgb, w, h, &e->extra);
    if (c->thumbs) { /* no thumbnail (out of memory): the report shows the picture as missing */
      int scale;
      char terr[256];
      if (image_thumbnail_png(rgb, w, h, RUNNER_THUMB_MAX_W, &e->th.png, &e->th.len, &e->th.w,
                              &e->th.h, &scale, terr, sizeof terr))
        e->th.png = NULL;
    }
    if (c->keep_decoded) {
      e->decoded = rgb;
      rgb = NULL;
    }
  }
  free(rgb);
  c->measure_ms += sb_now_ms() - t_measure;
}

/* Encodes and decodes the image once, untimed and unstored, the first time this worker runs
 * the codec on an image of this size (for the first RUNNER_WARMUP_SIZES sizes per codec): the
 * first timed call would otherwise carry one-time costs such as library and table set-up,
 * networks a codec builds per image size, and first-touch page faults. Codecs keep no state
 * between calls that changes their output, so results are the same with or without it. */
void encode_cache_warm_up(encode_cache *c) {
  const plan_codec *pc = c->pc;
  size_t sizes = 0;
  for (size_t i = 0; i < c->n_warm; i++)
    if (c->warm[i].pc == pc) {
      if (c->warm[i].width == c->img->width && c->warm[i].height == c->img->height)
        return;
      sizes++;
    }
  if (sizes >= RUNNER_WARMUP_SIZES)
    return;
  if (c->n_warm == c->cap_warm) {
    size_t cap = c->cap_warm ? 2 * c->cap_warm : 8;
    warm_size *w = realloc(c->warm, cap * sizeof *w);
    if (!w)
      return; /* timings only: go on without */
    c->warm = w;
    c->cap_warm = cap;
  }
  c->warm[c->n_warm++] = (warm_size){pc, c->img->width, c->img->height};
  /* The first knob grid value (what the first timed encode uses), else the middle of the range. */
  const codec_knob *k = &pc->vt->knob;
  double knob = (k->min + k->max) / 2;
  if (k->kind == CODEC_KNOB_INT)
    knob = floor(knob);
  for (size_t i = 0; i < pc->n_points; i++)
    if (!pc->points[i].is_bpp) {
      knob = pc->points[i].value;
      break;
    }
  codec_encoded enc = {0};
  char err[512];
  const double t0 = sb_now_ms();
  c->counts.whole++;
  if (!pc->vt->encode(pc->instance, c->img->rgb, c->img->width, c->img->height, knob, &enc, err,
                      sizeof err) &&
      enc.data && enc.size) {
    uint8_t *rgb = NULL;
    int w = 0, h = 0;
    pc->vt->decode(pc->instance, enc.data, enc.size, &rgb, &w, &h, err, sizeof err);
    free(rgb);
  }
  free(enc.data);
  c->encode_ms += sb_now_ms() - t0;
}

int encode_cache_bpp_at(void *ctx, double knob, double *bpp, char *err, size_t err_len) {
  encode_cache *c = ctx;
  cache_entry *e = encode_cache_encode(c, knob);
  if (!e) {
    snprintf(err, err_len, "out of memory");
    return -1;
  }
  if (e->error) {
    snprintf(err, err_len, "at %s=%g: %s", c->pc->vt->knob.name, knob, e->error);
    return -1;
  }
  *bpp = 8.0 * (double)e->enc.size / ((double)c->img->width * c->img->height);
  return 0;
}

const cache_entry *encode_cache_lookup(const encode_cache *c, double knob) {
  for (size_t i = 0; i < c->n; i++)
    if (c->e[i].knob == knob)
      return &c->e[i];
  return NULL;
}

void encode_cache_free(encode_cache *c) {
  encode_cache_clear(c);
  free(c->e);
  free(c->warm);
  c->e = NULL;
  c->warm = NULL;
  c->cap = c->cap_warm = c->n_warm = 0;
}
