/* encode_cache.h - internal to sb_harness: one worker's encodes of one image with one codec
 * (prefix encode_cache_).
 *
 * A worker keeps, per image and codec, every knob value it has encoded (the grid points and the
 * rate-control probes share them), measures an entry (decode, metrics, thumbnails, timing
 * repeats) only when a stored result needs it, and warms each codec up once per image size so
 * that the first image's timings are not a cold start. runner.c drives it.
 *
 * Thread-safety: a cache belongs to one worker thread. */
#ifndef SAICBENCH_HARNESS_ENCODE_CACHE_H
#define SAICBENCH_HARNESS_ENCODE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "plan.h"
#include "results.h"
#include "writer.h"

typedef struct cache_entry {
  double knob;
  codec_encoded enc;
  double encode_ms;
  int measured;
  double decode_ms, mse, psnr, ssim, ms_ssim;
  store_extra_metrics extra; /* the opt-in metrics (SUITE_METRICS_EXTRA); NAN when not computed */
  /* With timing repeats: every timed encode and decode in the order measured (the medians are
   * encode_ms, decode_ms); NULL and 0 otherwise. */
  double *encode_all, *decode_all;
  int n_encode_all, n_decode_all;
  uint8_t *decoded; /* kept for task inference when the cache keeps decoded images */
  thumb th;         /* of the decoded image, when the cache makes thumbnails */
  char *error;      /* encode or decode failure at this knob */
} cache_entry;

/* An image size a worker has warmed a codec up on (see warm_up). */
typedef struct warm_size {
  const plan_codec *pc;
  int width, height;
} warm_size;

/* Encoder calls, counted per worker (runner_summary sums them). */
typedef struct encode_counts {
  uint64_t whole, analyses, analyzed;
} encode_counts;

typedef struct encode_cache {
  const plan_codec *pc;
  const image_rgb8 *img;
  /* Analysis reuse (pc->an): the image's analysis, made by the first encode and kept until
   * encode_cache_clear; analysis_error when it failed (every knob then fails with it). */
  void *analysis;
  const plan_codec *analysis_pc;
  int analyzed;
  double analysis_ms;
  char *analysis_error;
  encode_counts counts;
  /* Thread time spent on the current codec since the runner last took it: encoding (every
   * encode, analysis, rate-search probe, timing repeat and warm-up) and measuring (decodes,
   * metrics, thumbnails), in ms. */
  double encode_ms, measure_ms;
  cache_entry *e;
  size_t n, cap;
  int keep_decoded;
  int thumbs;       /* make a thumbnail of each decoded image (an example image of the report) */
  unsigned metrics; /* SUITE_METRIC_* to compute */
  int repeats;      /* timed encodes and decodes per stored result (>= 1); the median is stored */
  warm_size *warm;  /* per worker, kept across images */
  size_t n_warm, cap_warm;
} encode_cache;

void encode_cache_clear(encode_cache *c);
/* Encodes at knob unless cached. Returns the entry, or NULL on allocation failure. With analysis
 * reuse the first call analyses the image and every call codes that analysis; the entry's
 * encode_ms is then the analysis time plus its own coding time, what a whole encode costs. */
cache_entry *encode_cache_encode(encode_cache *c, double knob);
/* Decodes and scores an encoded entry (once). With repeats, the encode and the decode are
 * timed that many times and the medians stored, with every timing. */
void encode_cache_measure(encode_cache *c, cache_entry *e);
/* Encodes and decodes the image once, untimed and unstored, the first time this worker runs
 * the codec on an image of this size (for the first RUNNER_WARMUP_SIZES sizes per codec): the
 * first timed call would otherwise carry one-time costs such as library and table set-up,
 * networks a codec builds per image size, and first-touch page faults. Codecs keep no state
 * between calls that changes their output, so results are the same with or without it. */
void encode_cache_warm_up(encode_cache *c);
int encode_cache_bpp_at(void *ctx, double knob, double *bpp, char *err, size_t err_len);
const cache_entry *encode_cache_lookup(const encode_cache *c, double knob);
/* Frees what encode_cache_clear leaves (the entry and warm-up arrays); the cache is then empty. */
void encode_cache_free(encode_cache *c);

#endif
