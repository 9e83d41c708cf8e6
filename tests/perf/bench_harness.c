/* Harness overhead benchmark.
 *
 * Times a suite's units three ways, interleaved, and prints medians and ratios:
 *   bare     - the same encodes and decodes called directly in a loop over images already in
 *              memory (bpp targets use the same bisection with an encode cache): the limit;
 *   bare+m   - bare plus the metrics (MSE/PSNR, SSIM, MS-SSIM) on every decoded image;
 *   harness  - `saicbench run` on the same suite (runner_run into a fresh database): image
 *              loading, hashing, scheduling, metrics, SQLite writes included.
 * All with the same thread count (default 2).
 *
 * usage: bench_harness SUITE_FILE --data DIR [--threads N] [--limit N] [--repeat N]
 */
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec_registry.h"
#include "data.h"
#include "metrics.h"
#include "ratectl.h"
#include "harness.h"
#include "base.h"

typedef struct enc_cache {
  const codec_vtable *vt;
  const void *inst;
  const image_rgb8 *img;
  double knobs[128];
  codec_encoded enc[128];
  int decoded[128];
  int n;
} enc_cache;

static codec_encoded *cached_encode(enc_cache *c, double knob) {
  for (int i = 0; i < c->n; i++)
    if (c->knobs[i] == knob)
      return &c->enc[i];
  if (c->n == 128)
    return NULL;
  char err[256];
  int i = c->n++;
  c->knobs[i] = knob;
  c->decoded[i] = 0;
  memset(&c->enc[i], 0, sizeof c->enc[i]);
  if (c->vt->encode(c->inst, c->img->rgb, c->img->width, c->img->height, knob, &c->enc[i], err,
                    sizeof err))
    fprintf(stderr, "bench: encode failed: %s\n", err);
  return &c->enc[i];
}

static int bpp_fn(void *ctx, double knob, double *bpp, char *err, size_t err_len) {
  enc_cache *c = ctx;
  codec_encoded *e = cached_encode(c, knob);
  if (!e || !e->data) {
    snprintf(err, err_len, "encode failed");
    return -1;
  }
  *bpp = 8.0 * (double)e->size / ((double)c->img->width * c->img->height);
  return 0;
}

static volatile double sink; /* keeps metric calls from being optimised away */

static void decode_and_score(enc_cache *c, double knob, int with_metrics) {
  for (int i = 0; i < c->n; i++) {
    if (c->knobs[i] != knob || c->decoded[i] || !c->enc[i].data)
      continue;
    c->decoded[i] = 1;
    uint8_t *rgb = NULL;
    int w, h;
    char err[256];
    if (c->vt->decode(c->inst, c->enc[i].data, c->enc[i].size, &rgb, &w, &h, err, sizeof err)) {
      fprintf(stderr, "bench: decode failed: %s\n", err);
      return;
    }
    if (with_metrics) {
      metrics_full m;
      metrics_full_rgb8(c->img->rgb, rgb, w, h, &m);
      sink = m.psnr + m.ssim + m.ms_ssim;
    }
    free(rgb);
  }
}

static double run_bare(const suite *s, void *const *inst, const codec_vtable *const *vts,
                       image_rgb8 *imgs, size_t n_imgs, int threads, int with_metrics) {
  double t0 = sb_now_ms();
#pragma omp parallel num_threads(threads)
  {
    enc_cache *c = calloc(1, sizeof *c);
#pragma omp for schedule(dynamic, 1)
    for (size_t i = 0; i < n_imgs; i++) {
      for (size_t k = 0; k < s->n_codecs; k++) {
        const suite_codec *sc = &s->codecs[k];
        c->vt = vts[k];
        c->inst = inst[k];
        c->img = &imgs[i];
        c->n = 0;
        for (size_t p = 0; p < sc->n_knobs; p++) {
          cached_encode(c, sc->knobs[p]);
          decode_and_score(c, sc->knobs[p], with_metrics);
        }
        for (size_t p = 0; p < sc->n_bpps; p++) {
          ratectl_result r;
          char err[256];
          if (!ratectl_search(&vts[k]->knob, sc->bpps[p], s->max_encodes, bpp_fn, c, &r, err,
                              sizeof err))
            decode_and_score(c, r.knob, with_metrics);
        }
        for (int e = 0; e < c->n; e++)
          free(c->enc[e].data);
      }
    }
    free(c);
  }
  return (sb_now_ms() - t0) / 1000.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                       {"threads", required_argument, 0, 't'},
                                       {"limit", required_argument, 0, 'l'},
                                       {"repeat", required_argument, 0, 'r'},
                                       {0, 0, 0, 0}};
  const char *data = NULL;
  int threads = 2, repeat = 3, c;
  size_t limit = 0;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    if (c == 'd')
      data = optarg;
    else if (c == 't')
      threads = atoi(optarg);
    else if (c == 'l')
      limit = (size_t)atol(optarg);
    else if (c == 'r')
      repeat = atoi(optarg);
    else
      return 2;
  }
  if (optind >= argc || !data || threads < 1 || repeat < 1 || repeat > 50) {
    fprintf(stderr, "usage: bench_harness SUITE_FILE --data DIR [--threads N] [--limit N] "
                    "[--repeat N]\n");
    return 2;
  }
  char err[1024];
  suite *s;
  codec_registry *reg;
  if (suite_load_file(argv[optind], &s, err, sizeof err) ||
      codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "bench: %s\n", err);
    return 2;
  }
  void **inst = calloc(s->n_codecs, sizeof *inst);
  const codec_vtable **vts = calloc(s->n_codecs, sizeof *vts);
  for (size_t k = 0; k < s->n_codecs; k++) {
    vts[k] = codec_registry_find(reg, s->codecs[k].codec);
    if (!vts[k] ||
        vts[k]->create(s->codecs[k].options, s->codecs[k].n_options, &inst[k], err, sizeof err)) {
      fprintf(stderr, "bench: codec %s: %s\n", s->codecs[k].codec, vts[k] ? err : "unknown");
      return 2;
    }
  }
  /* Preload exactly the images the runner selects. */
  image_rgb8 *imgs = NULL;
  size_t n_imgs = 0, cap = 0;
  for (size_t d = 0; d < s->n_datasets; d++) {
    const suite_dataset *sd = &s->datasets[d];
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", data, sd->path);
    dataset *ds;
    if (dataset_open(path, sd->split, &ds, err, sizeof err)) {
      fprintf(stderr, "bench: %s\n", err);
      return 2;
    }
    size_t lim = sd->limit;
    if (limit && (!lim || limit < lim))
      lim = limit;
    size_t taken = 0;
    for (size_t i = sd->offset; i < dataset_size(ds) && (!lim || taken < lim);
         i += sd->stride, taken++) {
      if (n_imgs == cap) {
        cap = cap ? cap * 2 : 1024;
        imgs = realloc(imgs, cap * sizeof *imgs);
      }
      if (dataset_load(ds, i, &imgs[n_imgs], err, sizeof err) == 0)
        n_imgs++;
    }
    dataset_close(ds);
  }
  printf("bench_harness: %s, %zu images, %zu codecs, %d threads, metrics kernels %s\n",
         argv[optind], n_imgs, s->n_codecs, threads, metrics_kernel_name());

  double *tb = calloc((size_t)repeat, sizeof *tb), *tm = calloc((size_t)repeat, sizeof *tm),
         *th = calloc((size_t)repeat, sizeof *th);
  char dir[] = "/tmp/bench_harness_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 2;
  }
  for (int r = 0; r < repeat; r++) {
    tb[r] = run_bare(s, inst, vts, imgs, n_imgs, threads, 0);
    tm[r] = run_bare(s, inst, vts, imgs, n_imgs, threads, 1);
    char db[4200];
    snprintf(db, sizeof db, "%s/run%d.db", dir, r);
    runner_options ro = {.db_path = db,
                         .data_root = data,
                         .threads = threads,
                         .limit = limit,
                         .quiet = 1,
                         .command = "bench_harness"};
    runner_summary sum;
    if (runner_run(s, reg, &ro, &sum, err, sizeof err)) {
      fprintf(stderr, "bench: %s\n", err);
      return 2;
    }
    th[r] = sum.wall_s;
    printf("  round %d: bare %.3f s, bare+metrics %.3f s, harness %.3f s\n", r + 1, tb[r], tm[r],
           th[r]);
    fflush(stdout);
  }
  double mb = median(tb, repeat), mm = median(tm, repeat), mh = median(th, repeat);
  printf("median: bare %.3f s, bare+metrics %.3f s, harness %.3f s\n", mb, mm, mh);
  printf("ratio harness/bare = %.3f (goal <= 1.3); metrics share %.3f, rest of harness %.3f\n",
         mh / mb, (mm - mb) / mb, (mh - mm) / mb);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "bench: could not remove %s\n", dir);
  for (size_t i = 0; i < n_imgs; i++)
    image_free(&imgs[i]);
  free(imgs);
  for (size_t k = 0; k < s->n_codecs; k++)
    vts[k]->destroy(inst[k]);
  free(inst);
  free(vts);
  free(tb);
  free(tm);
  free(th);
  codec_registry_destroy(reg);
  suite_free(s);
  return 0;
}
