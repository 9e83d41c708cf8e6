#include "harness.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base.h"
#include "classifier.h"
#include "data.h"
#include "encode_cache.h"
#include "metrics.h"
#include "plan.h"
#include "ratectl.h"
#include "results.h"
#include "writer.h"

typedef struct image_work {
  uint32_t dataset, item; /* plan dataset index, index into its items */
} image_work;

/* Set of (image_id, point_id) pairs already stored; open addressing, power-of-two size. */
typedef struct done_set {
  uint64_t *keys; /* 0 = empty; key = (image_id << 32 | point_id) + 1 */
  size_t mask, count;
} done_set;

static uint64_t done_key(int64_t image_id, int64_t point_id) {
  return ((uint64_t)image_id << 32 | (uint32_t)point_id) + 1;
}

static int done_set_init(done_set *d, size_t expected) {
  size_t cap = 64;
  while (cap < expected * 2)
    cap *= 2;
  d->keys = calloc(cap, sizeof *d->keys);
  d->mask = cap - 1;
  d->count = 0;
  return d->keys ? 0 : -1;
}

static size_t done_slot(const done_set *d, uint64_t key) {
  return (size_t)(XXH3_64bits(&key, sizeof key) & d->mask);
}

static void done_set_add(int64_t image_id, int64_t point_id, void *ctx) {
  done_set *d = ctx;
  uint64_t key = done_key(image_id, point_id);
  if (d->count * 2 >= d->mask) /* never fuller than half: sized from the plan */
    return;
  for (size_t i = done_slot(d, key);; i = (i + 1) & d->mask) {
    if (d->keys[i] == key)
      return;
    if (!d->keys[i]) {
      d->keys[i] = key;
      d->count++;
      return;
    }
  }
}

static int done_set_has(const done_set *d, int64_t image_id, int64_t point_id) {
  uint64_t key = done_key(image_id, point_id);
  for (size_t i = done_slot(d, key);; i = (i + 1) & d->mask) {
    if (d->keys[i] == key)
      return 1;
    if (!d->keys[i])
      return 0;
  }
}

/* ---------------------------------------------------------------- per-image work */

/* Per-worker state for task inference on one image: distinct pixel arrays ("slots"; slot 0 is
 * the original) and the result messages waiting for their task rows. */
typedef struct task_scratch {
  uint8_t *pix; /* cap slots of w*h*3 bytes */
  uint64_t *hash;
  size_t n, cap, img_bytes;
  msg **pending;
  size_t *pending_slot;
  size_t n_pending, cap_pending;
  uint8_t *batch; /* TASK_BATCH images */
  float *probs;   /* slots rounded up to TASK_BATCH, times num_classes */
  size_t probs_cap;
} task_scratch;

static void scratch_free(task_scratch *t) {
  free(t->pix);
  free(t->hash);
  free(t->pending);
  free(t->pending_slot);
  free(t->batch);
  free(t->probs);
  memset(t, 0, sizeof *t);
}

/* Starts an image: slot 0 = the original. Returns -1 when out of memory. */
static int scratch_begin(task_scratch *t, const uint8_t *rgb, size_t img_bytes) {
  if (img_bytes != t->img_bytes) {
    free(t->pix);
    free(t->batch);
    t->pix = NULL;
    t->cap = 0;
    t->img_bytes = img_bytes;
    if (!(t->batch = malloc(TASK_BATCH * img_bytes)))
      return -1;
  }
  t->n = 0;
  t->n_pending = 0;
  if (!t->cap) {
    t->cap = 32;
    uint64_t *h = realloc(t->hash, t->cap * sizeof *h);
    if (h)
      t->hash = h;
    if (!h || !(t->pix = malloc(t->cap * img_bytes))) {
      t->cap = 0;
      return -1;
    }
  }
  memcpy(t->pix, rgb, img_bytes);
  t->hash[0] = XXH3_64bits(rgb, img_bytes);
  t->n = 1;
  return 0;
}

/* The slot holding these pixels, added if new: identical decoded images (a bpp target that
 * lands on a knob already scored, unreachable targets) are classified once. */
static long scratch_slot(task_scratch *t, const uint8_t *rgb) {
  uint64_t h = XXH3_64bits(rgb, t->img_bytes);
  for (size_t i = 0; i < t->n; i++)
    if (t->hash[i] == h && !memcmp(t->pix + i * t->img_bytes, rgb, t->img_bytes))
      return (long)i;
  if (t->n == t->cap) {
    size_t cap = 2 * t->cap;
    uint8_t *p = realloc(t->pix, cap * t->img_bytes);
    if (!p)
      return -1;
    t->pix = p;
    uint64_t *hh = realloc(t->hash, cap * sizeof *hh);
    if (!hh)
      return -1;
    t->hash = hh;
    t->cap = cap;
  }
  memcpy(t->pix + t->n * t->img_bytes, rgb, t->img_bytes);
  t->hash[t->n] = h;
  return (long)t->n++;
}

static int scratch_defer(task_scratch *t, msg *m, size_t slot) {
  if (t->n_pending == t->cap_pending) {
    size_t cap = t->cap_pending ? 2 * t->cap_pending : 32;
    msg **p = realloc(t->pending, cap * sizeof *p);
    if (!p)
      return -1;
    t->pending = p;
    size_t *ps = realloc(t->pending_slot, cap * sizeof *ps);
    if (!ps)
      return -1;
    t->pending_slot = ps;
    t->cap_pending = cap;
  }
  t->pending[t->n_pending] = m;
  t->pending_slot[t->n_pending] = slot;
  t->n_pending++;
  return 0;
}

static int im_label(const plan_dataset *pd, const image_work *t) {
  return dataset_item_label(pd->ds, pd->items[t->item]);
}

static msg *new_result(int64_t image_id, int64_t point_id) {
  msg *m = calloc(1, sizeof *m);
  if (m) {
    m->kind = MSG_RESULT;
    m->r.image_id = image_id;
    m->r.point_id = point_id;
  }
  return m;
}

static void fill_from_entry(msg *m, const encode_cache *c, const cache_entry *e) {
  double px = (double)c->img->width * c->img->height;
  m->r.knob = e->knob;
  m->r.bytes = (int64_t)e->enc.size;
  m->r.stream_bytes = (int64_t)e->enc.stream_bytes;
  m->r.bpp = 8.0 * (double)e->enc.size / px;
  m->r.stream_bpp = 8.0 * (double)e->enc.stream_bytes / px;
  m->r.mse = e->mse;
  m->r.psnr = e->psnr;
  m->r.ssim = e->ssim;
  m->r.ms_ssim = e->ms_ssim;
  m->r.has_extra = (c->metrics & SUITE_METRICS_EXTRA) != 0;
  m->r.extra = e->extra;
  m->r.encode_ms = e->encode_ms;
  m->r.decode_ms = e->decode_ms;
  /* The message owns copies: the entry may serve several rows and is freed with the cache. */
  double *enc = NULL, *dec = NULL;
  if (e->n_encode_all && (enc = malloc((size_t)e->n_encode_all * sizeof *enc)))
    memcpy(enc, e->encode_all, (size_t)e->n_encode_all * sizeof *enc);
  if (e->n_decode_all && (dec = malloc((size_t)e->n_decode_all * sizeof *dec)))
    memcpy(dec, e->decode_all, (size_t)e->n_decode_all * sizeof *dec);
  if ((e->n_encode_all && !enc) || (e->n_decode_all && !dec)) { /* timings only: go on */
    free(enc);
    free(dec);
    enc = dec = NULL;
  }
  m->r.encode_all = enc;
  m->r.n_encode_all = enc ? e->n_encode_all : 0;
  m->r.decode_all = dec;
  m->r.n_decode_all = dec ? e->n_decode_all : 0;
  if (e->th.png && (m->th.png = malloc(e->th.len))) {
    memcpy(m->th.png, e->th.png, e->th.len);
    m->th.len = e->th.len;
    m->th.w = e->th.w;
    m->th.h = e->th.h;
  }
}

typedef struct run_ctx {
  plan_dataset *pd;
  size_t n_pd;
  plan_codec *pc;
  size_t n_pc;
  plan_task *pt;
  size_t n_pt;
  const done_set *done;
  writer *w;
  int max_encodes;
  volatile sig_atomic_t *stop;
  int timing_repeats; /* >= 1 */
  int strip_images;   /* the first this many images of each dataset get thumbnails */
  unsigned metrics;   /* SUITE_METRIC_* */
} run_ctx;

static int should_stop(const run_ctx *ctx) {
  return (ctx->stop && *ctx->stop) || atomic_load(&ctx->w->failed) ||
         atomic_load(&ctx->w->task_failed);
}

static void task_fail(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void task_fail(writer *w, const char *fmt, ...) {
  int expected = 0;
  /* The flag is taken before the message is written; it is read after the workers joined. */
  if (!atomic_compare_exchange_strong(&w->task_failed, &expected, 1))
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->task_err, sizeof w->task_err, fmt, ap);
  va_end(ap);
}

static int argmax(const float *p, int k) {
  int best = 0;
  for (int i = 1; i < k; i++)
    if (p[i] > p[best])
      best = i;
  return best;
}

/* Runs every applicable task on the scratch slots and attaches the task rows: references to
 * the image message, per-result rows to the pending result messages. */
static int run_tasks(const run_ctx *ctx, task_scratch *ts, const unsigned char *applies, int label,
                     int thread, msg *im, double *task_ms) {
  int n_app = 0;
  for (size_t k = 0; k < ctx->n_pt; k++)
    n_app += applies[k];
  if (!(im->tasks = calloc((size_t)n_app, sizeof *im->tasks)))
    return -1;
  for (size_t i = 0; i < ts->n_pending; i++)
    if (!(ts->pending[i]->tasks = calloc((size_t)n_app, sizeof(task_row))))
      return -1;
  size_t padded = (ts->n + TASK_BATCH - 1) / TASK_BATCH * TASK_BATCH;
  for (size_t k = 0; k < ctx->n_pt; k++) {
    if (!applies[k])
      continue;
    const plan_task *pt = &ctx->pt[k];
    int K = pt->num_classes;
    if (padded * (size_t)K > ts->probs_cap) {
      float *p = realloc(ts->probs, padded * (size_t)K * sizeof *p);
      if (!p)
        return -1;
      ts->probs = p;
      ts->probs_cap = padded * (size_t)K;
    }
    const double t0 = sb_now_ms();
    for (size_t b = 0; b < ts->n; b += TASK_BATCH) {
      size_t m = ts->n - b < TASK_BATCH ? ts->n - b : TASK_BATCH;
      memcpy(ts->batch, ts->pix + b * ts->img_bytes, m * ts->img_bytes);
      memset(ts->batch + m * ts->img_bytes, 0, (TASK_BATCH - m) * ts->img_bytes);
      nn_err e = {0};
      if (classifier_predict(pt->clf[thread], ts->batch, TASK_BATCH, pt->in_w, pt->in_h,
                             ts->probs + b * (size_t)K, &e)) {
        task_fail(ctx->w, "task '%s' (%s): %s", pt->st->name, pt->st->checkpoint, e.msg);
        return -1;
      }
    }
    task_ms[k] += sb_now_ms() - t0;
    const float *ref = ts->probs;
    int ref_top1 = argmax(ref, K);
    task_row *r = &im->tasks[im->n_tasks++];
    r->task_id = pt->id;
    r->top1 = ref_top1;
    r->correct = label >= 0 ? ref_top1 == label : -1;
    r->num_classes = K;
    if (!(r->probs = malloc((size_t)K * sizeof *r->probs)))
      return -1;
    memcpy(r->probs, ref, (size_t)K * sizeof *r->probs);
    for (size_t i = 0; i < ts->n_pending; i++) {
      msg *m = ts->pending[i];
      const float *p = ts->probs + ts->pending_slot[i] * (size_t)K;
      task_row *t = &m->tasks[m->n_tasks++];
      t->task_id = pt->id;
      t->top1 = argmax(p, K);
      t->correct = label >= 0 ? t->top1 == label : -1;
      t->agree = t->top1 == ref_top1;
      t->kl = metrics_kl_bits(ref, p, K);
    }
  }
  return 0;
}

/* Loads item `item` of pd into img and records in im (the image message) its size and pixel
 * hash, or the error (also left in err for the image's result rows). Returns 1 when it failed. */
static int load_original(const plan_dataset *pd, size_t item, image_rgb8 *img, msg *im, char *err,
                         size_t err_len) {
  if (dataset_load(pd->ds, pd->items[item], img, err, err_len) != 0) {
    if (!err[0])
      snprintf(err, err_len, "cannot read the image");
    im->error = strdup(err); /* err keeps a copy: im belongs to the writer once pushed */
    return 1;
  }
  im->width = img->width;
  im->height = img->height;
  /* The pixel hash covers the size too, so a transposed image cannot collide. */
  XXH3_state_t *hs = XXH3_createState();
  if (hs) {
    uint32_t dims[2] = {(uint32_t)img->width, (uint32_t)img->height};
    XXH3_128bits_reset(hs);
    XXH3_128bits_update(hs, dims, sizeof dims);
    XXH3_128bits_update(hs, img->rgb, (size_t)img->width * img->height * 3);
    XXH128_hash_t h = XXH3_128bits_digest(hs);
    XXH3_freeState(hs);
    snprintf(im->hash, sizeof im->hash, "%016llx%016llx", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
  }
  return 0;
}

/* The result of one grid point of the cache's codec and image into m: an encode at the knob,
 * or for a bpp target the rate-control search (the codec's knob grid brackets it) and the
 * encode it picked; then the decode and the metrics (encode_cache_measure). */
static void run_point(const run_ctx *ctx, encode_cache *cache, const plan_codec *pc,
                      const plan_point *pt, msg *m) {
  ratectl_result res = {0};
  double knob = pt->value;
  if (pt->is_bpp) {
    char rerr[512] = "";
    double hints[64]; /* encoded for the grid rows anyway */
    int nh = 0;
    for (size_t q = 0; q < pc->n_points && nh < 64; q++)
      if (!pc->points[q].is_bpp)
        hints[nh++] = pc->points[q].value;
    int failed = ratectl_search_hinted(&pc->vt->knob, pt->value, ctx->max_encodes, hints, nh,
                                       encode_cache_bpp_at, cache, &res, rerr, sizeof rerr);
    m->r.n_encodes = res.n_evals;
    if (failed) {
      m->r.error = strdup(rerr);
      return;
    }
    knob = res.knob;
  } else {
    m->r.n_encodes = 1;
  }
  cache_entry *e = encode_cache_encode(cache, knob); /* a search's pick is cached already */
  if (e)
    encode_cache_measure(cache, e);
  if (!e)
    m->r.error = strdup("out of memory");
  else if (e->error)
    m->r.error = strdup(e->error);
  else {
    fill_from_entry(m, cache, e);
    m->r.target_unreachable = pt->is_bpp ? res.unreachable : 0;
  }
}

/* tm: this worker's thread time in ms, per codec c encoding (tm[2c]) and measuring (tm[2c + 1]),
 * then per task network k (tm[2 n_pc + k]). */
static void run_image(const run_ctx *ctx, const image_work *t, encode_cache *cache,
                      task_scratch *ts, int thread, double *tm) {
  const plan_dataset *pd = &ctx->pd[t->dataset];
  int64_t image_id = pd->image_ids[t->item];
  size_t missing = 0;
  for (size_t c = 0; c < ctx->n_pc; c++)
    for (size_t p = 0; p < ctx->pc[c].n_points; p++)
      missing += !done_set_has(ctx->done, image_id, ctx->pc[c].points[p].id);
  if (!missing)
    return;
  image_rgb8 img = {0};
  char err[512] = "";
  msg *im = calloc(1, sizeof *im);
  if (!im)
    return; /* out of memory: the unit stays missing and a resume redoes it */
  im->kind = MSG_IMAGE;
  im->image_id = image_id;
  const int load_failed = load_original(pd, t->item, &img, im, err, sizeof err);
  const int strip =
      !load_failed && t->item < (size_t)(ctx->strip_images > 0 ? ctx->strip_images : 0);
  if (strip) {
    int scale;
    char terr[256];
    if (image_thumbnail_png(img.rgb, img.width, img.height, RUNNER_THUMB_MAX_W, &im->th.png,
                            &im->th.len, &im->th.w, &im->th.h, &scale, terr, sizeof terr))
      im->th.png = NULL;
  }
  cache->thumbs = strip;
  /* Tasks score the images they fit (input size, class count); their rows wait until the
   * image's decoded versions have all been produced, then go through the network together. */
  unsigned char applies[64] = {0};
  int any_task = 0;
  for (size_t k = 0; !load_failed && k < ctx->n_pt && k < sizeof applies; k++) {
    const plan_task *pt = &ctx->pt[k];
    applies[k] = pd->task_ok[k] && img.width == pt->in_w && img.height == pt->in_h;
    any_task |= applies[k];
  }
  if (any_task && scratch_begin(ts, img.rgb, (size_t)img.width * img.height * 3)) {
    task_fail(ctx->w, "out of memory for task inference");
    any_task = 0;
  }
  cache->keep_decoded = any_task;
  if (!any_task)
    writer_push(ctx->w, im);

  for (size_t c = 0; c < ctx->n_pc && !should_stop(ctx); c++) {
    const plan_codec *pc = &ctx->pc[c];
    cache->pc = pc;
    cache->img = &img;
    cache->repeats = ctx->timing_repeats;
    cache->metrics = ctx->metrics;
    if (!load_failed)
      for (size_t p = 0; p < pc->n_points; p++)
        if (!done_set_has(ctx->done, image_id, pc->points[p].id)) {
          encode_cache_warm_up(cache);
          break;
        }
    for (size_t p = 0; p < pc->n_points && !should_stop(ctx); p++) {
      const plan_point *pt = &pc->points[p];
      if (done_set_has(ctx->done, image_id, pt->id))
        continue;
      msg *m = new_result(image_id, pt->id);
      if (!m)
        continue;
      if (load_failed)
        m->r.error = strdup(err);
      else
        run_point(ctx, cache, pc, pt, m);
      const cache_entry *kept =
          any_task && !m->r.error ? encode_cache_lookup(cache, m->r.knob) : NULL;
      long slot = kept && kept->decoded ? scratch_slot(ts, kept->decoded) : -1;
      if (slot >= 0 && !scratch_defer(ts, m, (size_t)slot))
        continue;
      if (kept) /* only when memory ran out */
        task_fail(ctx->w, "out of memory for task inference");
      writer_push(ctx->w, m);
    }
    tm[2 * c] += cache->encode_ms;
    tm[2 * c + 1] += cache->measure_ms;
    cache->encode_ms = cache->measure_ms = 0;
    encode_cache_clear(cache);
  }
  if (any_task) {
    /* Stopped midway: the deferred rows are dropped unstored (a resume redoes them); the image
     * message carries no task rows then, and task rows are never stored without their row. */
    int ok = !should_stop(ctx) &&
             !run_tasks(ctx, ts, applies, im_label(pd, t), thread, im, tm + 2 * ctx->n_pc);
    if (!ok) {
      if (!atomic_load(&ctx->w->task_failed) && !(ctx->stop && *ctx->stop) &&
          !atomic_load(&ctx->w->failed))
        task_fail(ctx->w, "out of memory for task inference");
      for (int k = 0; k < im->n_tasks; k++)
        free(im->tasks[k].probs);
      free(im->tasks);
      im->tasks = NULL;
      im->n_tasks = 0;
    }
    writer_push(ctx->w, im); /* before its results: a stored task row always has its reference */
    for (size_t i = 0; i < ts->n_pending; i++) {
      if (ok)
        writer_push(ctx->w, ts->pending[i]);
      else
        writer_free_msgs((ts->pending[i]->next = NULL, ts->pending[i]));
    }
    ts->n_pending = 0;
  }
  cache->keep_decoded = 0;
  cache->thumbs = 0;
  image_free(&img);
}

/* The workers: every image of this shard, dynamically scheduled over opt->threads. Their encoder
 * calls are summed into counts; worker w's thread time goes to tm + w * (2 n_pc + n_pt)
 * (run_image's layout, ms). */
static void run_workers(const run_ctx *ctx, const image_work *work, size_t n_work, int threads,
                        encode_counts *counts, double *tm) {
  const size_t n_tm = 2 * ctx->n_pc + ctx->n_pt;
#pragma omp parallel num_threads(threads)
  {
    encode_cache cache = {0};
    task_scratch scratch = {0};
    int thread = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
    for (size_t i = 0; i < n_work; i++)
      if (!should_stop(ctx))
        run_image(ctx, &work[i], &cache, &scratch, thread, tm + (size_t)thread * n_tm);
#pragma omp critical(saicbench_encode_counts)
    {
      counts->whole += cache.counts.whole;
      counts->analyses += cache.counts.analyses;
      counts->analyzed += cache.counts.analyzed;
    }
    encode_cache_free(&cache);
    scratch_free(&scratch);
  }
}

/* The images of this shard: numbered in plan order, they go round-robin to the shards, so
 * each shard gets a deterministic, balanced mix of every dataset. */
static size_t shard_images(const suite *s, const plan_dataset *pd, const runner_options *opt,
                           unsigned n_shards, image_work *work) {
  size_t nt = 0, g = 0;
  for (size_t i = 0; i < s->n_datasets; i++)
    for (size_t k = 0; k < pd[i].n; k++, g++)
      if (g % n_shards == opt->shard_index)
        work[nt++] = (image_work){(uint32_t)i, (uint32_t)k};
  return nt;
}

/* Entry k of tm summed over the workers, in seconds. */
static double tm_sum(const double *tm, int threads, size_t n_tm, size_t k) {
  double v = 0;
  for (int w = 0; w < threads; w++)
    v += tm[(size_t)w * n_tm + k] / 1000.0;
  return v;
}

/* Where the workers' time went (thread-seconds, all workers together): per codec its encoding
 * (every encode, analysis and rate-search probe) and its decoding and scoring, per task network
 * its inference. */
static void print_thread_time(const run_ctx *ctx, const double *tm, int threads) {
  const size_t n_tm = 2 * ctx->n_pc + ctx->n_pt;
  double total = 0;
  for (size_t k = 0; k < n_tm; k++)
    total += tm_sum(tm, threads, n_tm, k);
  if (!(total > 0))
    return;
  fprintf(stderr, "saicbench: thread time, all workers: %.1f s in codecs and task networks\n",
          total);
  for (size_t c = 0; c < ctx->n_pc; c++) {
    const double enc = tm_sum(tm, threads, n_tm, 2 * c), dec = tm_sum(tm, threads, n_tm, 2 * c + 1);
    fprintf(stderr, "  codec %-20s %8.1f s (%4.1f%%): encode %.1f s, decode and metrics %.1f s\n",
            ctx->pc[c].sc->label, enc + dec, 100.0 * (enc + dec) / total, enc, dec);
  }
  for (size_t k = 0; k < ctx->n_pt; k++) {
    const double v = tm_sum(tm, threads, n_tm, 2 * ctx->n_pc + k);
    fprintf(stderr, "  task  %-20s %8.1f s (%4.1f%%)\n", ctx->pt[k].st->name, v, 100.0 * v / total);
  }
}

/* After the workers: a failed run is marked failed; otherwise the aggregates are computed and the
 * run marked complete (sealed with its checksum) or interrupted. */
static int close_run(store *st, const writer *w, const runner_summary *sum, char *err,
                     size_t err_len) {
  if (atomic_load(&w->failed) || atomic_load(&w->task_failed)) {
    char aerr[512];
    snprintf(err, err_len, "%s (results stored before this are kept; fix it and use --resume)",
             atomic_load(&w->failed) ? w->err : w->task_err);
    store_set_run_status(st, sum->run_id, "failed", aerr, sizeof aerr);
    return -1;
  }
  if (store_compute_aggregates(st, sum->run_id, err, err_len))
    return -1;
  const int complete = sum->units_skipped + sum->units_stored == sum->units_total;
  return store_set_run_status(st, sum->run_id, complete ? "complete" : "interrupted", err, err_len);
}

int runner_run(const suite *s, const codec_registry *reg, const runner_options *opt,
               runner_summary *sum, char *err, size_t err_len) {
  memset(sum, 0, sizeof *sum);
  double t0 = sb_now_ms();
  int rc = -1;
  store *st = NULL;
  done_set done = {0};
  image_work *work = NULL;
  double *tm = NULL; /* per worker thread time, run_workers */
  char *libs = NULL;
  plan_dataset *pd = calloc(s->n_datasets, sizeof *pd);
  plan_codec *pc = calloc(s->n_codecs, sizeof *pc);
  plan_task *pt = calloc(s->n_tasks ? s->n_tasks : 1, sizeof *pt);
  char(*ds_hash)[33] = calloc(s->n_datasets ? s->n_datasets : 1, sizeof *ds_hash);
  if (!pd || !pc || !pt || !ds_hash) {
    snprintf(err, err_len, "out of memory");
    goto done;
  }
  if (plan_setup_codecs(s, reg, pc, err, err_len) ||
      plan_setup_datasets(s, opt, pd, err, err_len) ||
      plan_setup_tasks(s, opt, pd, s->n_datasets, pt, err, err_len))
    goto done;
  for (size_t i = 0; opt->no_analysis_reuse && i < s->n_codecs; i++)
    pc[i].an = NULL;
  size_t n_images = 0, points_per_image = 0;
  for (size_t i = 0; i < s->n_datasets; i++) {
    if (plan_dataset_hash(&pd[i], ds_hash[i], err, err_len))
      goto done;
    n_images += pd[i].n;
  }
  for (size_t i = 0; i < s->n_codecs; i++)
    points_per_image += pc[i].n_points;
  unsigned n_shards = opt->shard_count > 1 ? opt->shard_count : 1;
  char shard[32] = "";
  if (n_shards > 1)
    snprintf(shard, sizeof shard, "%u/%u", opt->shard_index, n_shards);
  sum->units_total =
      (n_images / n_shards + (opt->shard_index < n_images % n_shards)) * points_per_image;
  char phash[33];
  plan_hash(s, pd, ds_hash, pc, pt, phash); /* the same for every shard: merge checks it */
  libs = runner_library_versions_json(reg);
  if (libs && (s->metrics & SUITE_METRIC_BUTTERAUGLI))
    plan_add_butteraugli_version(&libs);
  if (store_open(opt->db_path, &st, err, err_len) ||
      plan_open_run(st, s, opt, phash, n_shards > 1 ? shard : NULL, libs, sum, err, err_len))
    goto done;
  const int64_t run_id = sum->run_id;
  if (plan_store(st, run_id, s, reg, pd, ds_hash, pc, pt, err, err_len))
    goto done;
  if (done_set_init(&done, sum->units_total + 1)) {
    snprintf(err, err_len, "out of memory");
    goto done;
  }
  if (store_for_each_done_unit(st, run_id, done_set_add, &done, err, err_len))
    goto done;
  sum->units_skipped = done.count;
  const size_t n_tm = 2 * s->n_codecs + s->n_tasks;
  if (!(work = malloc((n_images ? n_images : 1) * sizeof *work)) ||
      !(tm = calloc((size_t)opt->threads * n_tm + 1, sizeof *tm))) {
    snprintf(err, err_len, "out of memory");
    goto done;
  }
  const size_t n_work = shard_images(s, pd, opt, n_shards, work);

  writer w;
  pthread_t wt;
  if (writer_start(&w, &wt, st, opt, sum->units_total - sum->units_skipped, err, err_len))
    goto done;
  if (!opt->quiet)
    fprintf(stderr, "saicbench: run %lld (%s%s%s): %zu units, %zu already stored, %d threads\n",
            (long long)run_id, sum->resumed ? "resumed" : "new", shard[0] ? ", shard " : "", shard,
            sum->units_total, sum->units_skipped, opt->threads);
  const run_ctx ctx = {pd,
                       s->n_datasets,
                       pc,
                       s->n_codecs,
                       pt,
                       s->n_tasks,
                       &done,
                       &w,
                       s->max_encodes,
                       opt->stop,
                       opt->timing_repeats > 1 ? opt->timing_repeats : 1,
                       opt->strip_images,
                       s->metrics ? s->metrics : SUITE_METRICS_DEFAULT};
  encode_counts counts = {0};
  run_workers(&ctx, work, n_work, opt->threads, &counts, tm);
  writer_finish(&w, wt);
  if (!opt->quiet)
    print_thread_time(&ctx, tm, opt->threads);
  sum->whole_encodes = counts.whole;
  sum->analyses = counts.analyses;
  sum->analyzed_encodes = counts.analyzed;
  sum->units_stored = w.units_stored;
  sum->units_failed = w.units_failed;
  sum->interrupted = opt->stop && *opt->stop;

  rc = close_run(st, &w, sum, err, err_len);
done:
  sum->wall_s = (sb_now_ms() - t0) / 1000.0;
  plan_free(s, pd, pc, pt);
  free(ds_hash);
  free(work);
  free(tm);
  free(done.keys);
  free(libs);
  store_close(st);
  return rc;
}
