/* bench_saic.c - speed of the SAIC codec (codecs/saic/) for comparison with the same model in
 * PyTorch (bench_saic_torch.py, same architecture and measures; bench_saic_vs_torch.py runs
 * both interleaved and tabulates the ratios).
 *
 * Measures (label "c": the codec / the real training step; "c-net": the networks only):
 *   encode-32x32       images/s, one 32x32 image per call (as the harness calls a codec)
 *   decode-32x32       images/s, one stream per call
 *   encode-768x512-ms  ms for one 768x512 image, best of --big-reps after one warm-up call
 *   decode-768x512-ms  ms, the same
 *   train-b32          images/s of the training step at --batch (32), as the trainer runs it on
 *                      --threads (T > 1: T one-thread replicas on slices of the batch), with the
 *                      full SAIC loss (noise quantisation, factorized-prior rate, MSE weighted by
 *                      GSW on x_hat with alpha 0.5 and 3x3 box smoothing, gamma 0.03 times the
 *                      frozen classifier's CE, one classifier forward + backward to the pixels),
 *                      then the Adam steps of encoder and decoder (lr 3e-4, density and gains
 *                      x10), levels round-robin as in train_codec.c
 * "c" encode/decode are saic_codec_encode / saic_codec_decode: RGB8 in/out, padding, g_a, gain,
 * rounding AND range coding with the model's integer CDF tables (decode: range decoding, inverse
 * gain, g_s, crop, clamp, 8-bit rounding). "c-net" is what bench_saic_torch.py times: encode =
 * g_a + gain multiply + rounding on a float image, decode = inverse gain multiply + g_s.
 * The 32x32 measures run for --seconds each after 5 untimed calls; images are tiles of the 768x512
 * picture (--image, default Kodak's kodim01.png, else a synthetic one), the rate knob is
 * (levels - 1) / 2.
 *
 * Output: '#' lines for people, then one machine-readable line per item (as bench_classifier):
 *   c saic params N          (trainable parameters of g_a, g_s, gains and density)
 *   c saic n|m|levels V      (the model's configuration)
 *   c|c-net saic MEASURE VALUE
 *
 * usage: bench_saic [--model CODEC.ckpt] [--task CKPT] [--threads 2] [--image PNG]
 *                   [--seconds 1] [--big-reps 3] [--batch 32] [--steps 10] [--warmup 2]
 *                   [--n 64 --m 96 --levels 4] [--seed 1] [--no-train | --train-only]
 *        bench_saic --save-model DIR [--n 64 --m 96 --levels 4] [--seed 1]
 * Without --model a random model (n, m, levels; tests/saic/saic_codec_test_util.h, level gains
 * e^(5 + 1.2 l)) is written to a temporary folder and exported first: that takes ~10-30 s (the
 * export builds 78 x m CDF tables), so --save-model DIR writes DIR/random.ckpt (and
 * DIR/random.train.ckpt), prints its path and exits, for --model in later runs. --task defaults
 * to tasks/models/classifier_resnet32.ckpt and --image to ../shared/datasets/kodak/kodim01.png
 * (run from the repository root, or pass the paths). Not a test: run it on a quiet machine. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../saic/saic_codec_test_util.h"
#include "classifier.h"
#include "data.h"
#include "nn.h"
#include "saic.h"
#include "saic_export.h"
#include "saic_train.h"

enum { SMALL = 32, BIG_W = 768, BIG_H = 512, NTILES = (BIG_W / SMALL) * (BIG_H / SMALL) };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int die(const char *what, const char *msg) {
  fprintf(stderr, "bench_saic: %s: %s\n", what, msg);
  return 1;
}

/* Packed RGB8 tile k (row-major over the big image) copied into out (SMALL x SMALL x 3). */
static void tile_rgb(const uint8_t *big, int k, uint8_t *out) {
  const int tx = k % (BIG_W / SMALL), ty = k / (BIG_W / SMALL);
  for (int y = 0; y < SMALL; y++)
    memcpy(out + (size_t)y * SMALL * 3,
           big + ((size_t)(ty * SMALL + y) * BIG_W + (size_t)(tx * SMALL)) * 3, SMALL * 3);
}

/* Packed RGB8 (w x h) -> planar floats in [0, 1]. */
static void rgb_to_planar(const uint8_t *rgb, int w, int h, float *out) {
  const size_t hw = (size_t)w * (size_t)h;
  for (size_t i = 0; i < hw; i++)
    for (int c = 0; c < 3; c++)
      out[(size_t)c * hw + i] = rgb[i * 3 + (size_t)c] / 255.0f;
}

/* ---- networks only: what bench_saic_torch.py computes ---- */

typedef struct netbench {
  saic_model *m;
  int M, lhw;
  float *gain, *inv_gain, *sym, *yin;
} netbench;

static int net_open(netbench *b, const char *model, int h, int w, int threads, double rate,
                    nn_err *e) {
  memset(b, 0, sizeof *b);
  if (saic_ckpt_load_model(model, h, w, threads, &b->m, NULL, e) != NN_OK)
    return -1;
  saic_model_set_inference_only(b->m); /* as the codec runs them: forward only, constant weights */
  int c, lh, lw;
  saic_model_latent_shape(b->m, &c, &lh, &lw);
  b->M = c;
  b->lhw = lh * lw;
  const size_t nl = (size_t)c * (size_t)b->lhw;
  b->gain = malloc((size_t)c * sizeof(float));
  b->inv_gain = malloc((size_t)c * sizeof(float));
  b->sym = malloc(nl * sizeof(float));
  b->yin = malloc(nl * sizeof(float));
  if (!b->gain || !b->inv_gain || !b->sym || !b->yin)
    return nn_err_set(e, NN_E_NOMEM, "out of memory");
  saic_model_gains(b->m, rate, b->gain, b->inv_gain);
  return 0;
}

static void net_close(netbench *b) {
  saic_model_free(b->m);
  free(b->gain);
  free(b->inv_gain);
  free(b->sym);
  free(b->yin);
}

/* g_a, gain, rounding: symbols in b->sym. */
static int net_encode(netbench *b, const float *x, nn_err *e) {
  const float *y;
  if (saic_model_analysis(b->m, x, 1, &y, e) != NN_OK)
    return -1;
  for (int c = 0; c < b->M; c++)
    for (int k = 0; k < b->lhw; k++) {
      const size_t i = (size_t)c * (size_t)b->lhw + (size_t)k;
      b->sym[i] = rintf(y[i] * b->gain[c]);
    }
  return 0;
}

/* Inverse gain, g_s (the symbols of the last net_encode). */
static int net_decode(netbench *b, nn_err *e) {
  for (int c = 0; c < b->M; c++)
    for (int k = 0; k < b->lhw; k++) {
      const size_t i = (size_t)c * (size_t)b->lhw + (size_t)k;
      b->yin[i] = b->sym[i] * b->inv_gain[c];
    }
  const float *xh;
  return saic_model_synthesis(b->m, b->yin, 1, &xh, e) != NN_OK ? -1 : 0;
}

/* ---- one timed item ---- */

typedef struct ctx {
  saic_codec *codec;
  double rate;
  const uint8_t *tiles; /* NTILES packed 32x32 images */
  const float *ftiles;  /* the same, planar [0,1] */
  const uint8_t *big;
  const float *fbig;
  uint8_t *streams[NTILES];
  size_t lens[NTILES];
  size_t big_bytes;
  netbench n32, nbig;
  char err[512];
} ctx;

enum { CODEC_ENC, CODEC_DEC, NET_ENC, NET_DEC };

/* One call of kind `what` on tile k (k < 0: the big image). 0 on success. */
static int call(ctx *c, int what, int k) {
  nn_err e = {0};
  uint8_t *px = NULL;
  int w, h, rc = 0;
  switch (what) {
  case CODEC_ENC: {
    const int t = k < 0 ? 0 : k;
    free(c->streams[t]);
    c->streams[t] = NULL;
    rc = k < 0
             ? saic_codec_encode(c->codec, c->big, BIG_W, BIG_H, c->rate, &c->streams[0],
                                 &c->lens[0], NULL, c->err, sizeof c->err)
             : saic_codec_encode(c->codec, c->tiles + (size_t)k * SMALL * SMALL * 3, SMALL, SMALL,
                                 c->rate, &c->streams[k], &c->lens[k], NULL, c->err, sizeof c->err);
    if (!rc && k < 0)
      c->big_bytes = c->lens[0];
    break;
  }
  case CODEC_DEC: {
    const int t = k < 0 ? 0 : k;
    rc = saic_codec_decode(c->codec, c->streams[t], c->lens[t], &px, &w, &h, c->err, sizeof c->err);
    free(px);
    break;
  }
  case NET_ENC:
    rc = k < 0 ? net_encode(&c->nbig, c->fbig, &e)
               : net_encode(&c->n32, c->ftiles + (size_t)k * 3 * SMALL * SMALL, &e);
    break;
  default: rc = net_decode(k < 0 ? &c->nbig : &c->n32, &e); break;
  }
  if (rc && e.code)
    snprintf(c->err, sizeof c->err, "%s", e.msg);
  return rc;
}

/* images/s of `what` on the 32x32 tiles, round-robin, for `seconds` after 5 untimed calls. */
static double rate32(ctx *c, int what, double seconds) {
  for (int i = 0; i < 5; i++)
    if (call(c, what, i % NTILES))
      return -1;
  int reps = 0;
  const double t0 = now();
  double t;
  do {
    if (call(c, what, reps % NTILES))
      return -1;
    reps++;
    t = now() - t0;
  } while (t < seconds || reps < 10);
  return reps / t;
}

/* Best ms of `reps` calls of `what` on the big image, after one untimed call. */
static double ms_big(ctx *c, int what, int reps) {
  if (call(c, what, -1))
    return -1;
  double best = INFINITY;
  for (int i = 0; i < reps; i++) {
    const double t0 = now();
    if (call(c, what, -1))
      return -1;
    best = fmin(best, now() - t0);
  }
  return 1e3 * best;
}

/* ---- training step ---- */

static long count_params(saic_model *m) {
  long np = 0;
  nn_net *nets[2] = {saic_model_encoder(m), saic_model_decoder(m)};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nn_net_num_params(nets[k]); i++) {
      const nn_param *p = nn_net_param(nets[k], i);
      if (!p->buffer)
        np += (long)nn_tensor_numel(&p->value);
    }
  return np;
}

/* images/s of the training step + Adam at batch B on 32x32 tiles, as `saicbench train codec
 * --threads T` runs it: T = 1 one network on one thread, T > 1 T one-thread replicas on slices
 * of the batch (saic_train_step_replicas); -1 on failure (message in e). */
static double train_rate(const char *model, const char *task_path, int threads, int B, int steps,
                         int warmup, uint64_t seed, const float *ftiles, nn_err *e) {
  saic_train_replica rep[SAIC_TRAIN_MAX_REPLICAS] = {0};
  const int R =
      threads < B ? (threads < SAIC_TRAIN_MAX_REPLICAS ? threads : SAIC_TRAIN_MAX_REPLICAS) : B;
  nn_optim *oe = NULL, *od = NULL;
  float *x = NULL;
  int *labels = NULL;
  double result = -1;
  for (int r = 0; r < R; r++)
    if (saic_ckpt_load_model(model, SMALL, SMALL, 1, &rep[r].model, NULL, e) != NN_OK ||
        classifier_load(task_path, 1, &rep[r].tasks[0], e) != NN_OK)
      goto done;
  saic_model *m = rep[0].model;
  classifier *task = rep[0].tasks[0];
  const classifier_arch *a = classifier_get_arch(task);
  if (a->in_w != SMALL || a->in_h != SMALL) {
    nn_err_set(e, NN_E_SHAPE, "%s takes %dx%d images, not 32x32", task_path, a->in_w, a->in_h);
    goto done;
  }
  nn_optim_cfg oc = nn_optim_defaults(NN_ADAM);
  oc.group_lr_mult[SAIC_MODEL_GAIN_GROUP] = 10;
  oe = nn_optim_create(saic_model_encoder(m), &oc, e);
  oc.group_lr_mult[SAIC_MODEL_DENSITY_GROUP] = 10;
  od = oe ? nn_optim_create(saic_model_decoder(m), &oc, e) : NULL;
  const size_t img = (size_t)3 * SMALL * SMALL;
  x = malloc((size_t)B * img * sizeof *x);
  labels = malloc((size_t)B * sizeof *labels);
  if (!od || !x || !labels) {
    if (od)
      nn_err_set(e, NN_E_NOMEM, "out of memory");
    goto done;
  }
  nn_rng rng;
  nn_rng_seed(&rng, seed);
  for (int i = 0; i < B; i++) {
    memcpy(x + (size_t)i * img, ftiles + (size_t)(i % NTILES) * img, img * sizeof *x);
    labels[i] = (int)nn_rng_below(&rng, (uint32_t)a->num_classes);
  }
  const int L = saic_model_config(m)->levels;
  saic_loss_cfg lc = {0};
  lc.levels = L;
  for (int l = 0; l < L && l < SAIC_TRAIN_MAX_LEVELS; l++)
    lc.lambda[l] = 1.8e-4;
  lc.alpha = 0.5;
  lc.gamma = 0.03;
  lc.gsw_on_original = 0;
  lc.smooth = 3;
  lc.w_max = 0;
  lc.quant = SAIC_QUANT_NOISE;
  double t0 = 0;
  for (int s = 0; s < warmup + steps; s++) {
    if (s == warmup)
      t0 = now();
    saic_step_stats st;
    if (saic_train_step_replicas(rep, R, 1, &lc, x, labels, B, (double)(s % L), &rng, &st, e) !=
        NN_OK)
      goto done;
    if (!isfinite(st.loss)) {
      nn_err_set(e, NN_E_STATE, "loss is %g at step %d", st.loss, s);
      goto done;
    }
    if (nn_optim_step(oe, 3e-4f) != NN_OK || nn_optim_step(od, 3e-4f) != NN_OK) {
      nn_err_set(e, NN_E_BACKEND, "optimiser step failed");
      goto done;
    }
  }
  const double t = now() - t0;
  printf("# train: %d steps of %d images in %.3f s, %.2f ms/step, %d replica%s of one thread\n",
         steps, B, t, 1e3 * t / steps, R, R > 1 ? "s" : "");
  result = (double)B * steps / t;
done:
  free(x);
  free(labels);
  nn_optim_free(oe);
  nn_optim_free(od);
  for (int r = 0; r < R; r++) {
    classifier_free(rep[r].tasks[0]);
    saic_model_free(rep[r].model);
  }
  return result;
}

static void usage(void) {
  fprintf(stderr, "usage: bench_saic [--model CODEC.ckpt] [--task CKPT] [--threads 2] "
                  "[--image PNG] [--seconds 1] [--big-reps 3] [--batch 32] [--steps 10] "
                  "[--warmup 2] [--n 64 --m 96 --levels 4] [--seed 1] [--no-train | --train-only]\n"
                  "       bench_saic --save-model DIR [--n 64 --m 96 --levels 4] [--seed 1]\n");
}

typedef struct bench_opts {
  const char *model, *task, *image;
  int random_model, threads, big_reps, batch, steps, warmup, no_train;
  int train_only; /* only the training step (e.g. under a profiler) */
  double seconds;
  uint64_t seed;
} bench_opts;

/* Everything after the model exists; 0 on success (errors are printed). */
static int bench(const bench_opts *o) {
  char err[512];
  if (!o->no_train && access(o->task, R_OK) != 0) /* fail before the timings, not after */
    return die(o->task, strerror(errno));
  ctx c = {0};
  saic_codec_opts co = {o->threads, 0};
  if (saic_codec_open(o->model, &co, &c.codec, err, sizeof err))
    return die("codec", err);
  const saic_codec_model *cm = saic_codec_get_model(c.codec);
  c.rate = (cm->cfg.levels - 1) / 2.0;

  image_rgb8 img = {0};
  int synthetic = image_load_file(o->image, &img, err, sizeof err) != 0;
  if (!synthetic && (img.width < BIG_W || img.height < BIG_H)) {
    free(img.rgb);
    synthetic = 1;
  }
  uint8_t *big = synthetic ? sct_image(BIG_W, BIG_H, 1) : malloc((size_t)BIG_W * BIG_H * 3);
  if (!synthetic && big) { /* top-left 768x512 (Kodak landscape images are exactly that) */
    for (int y = 0; y < BIG_H; y++)
      memcpy(big + (size_t)y * BIG_W * 3, img.rgb + (size_t)y * (size_t)img.width * 3,
             (size_t)BIG_W * 3);
    free(img.rgb);
  }
  uint8_t *tiles = malloc((size_t)NTILES * SMALL * SMALL * 3);
  float *ftiles = malloc((size_t)NTILES * 3 * SMALL * SMALL * sizeof(float));
  float *fbig = malloc((size_t)3 * BIG_W * BIG_H * sizeof(float));
  if (!big || !tiles || !ftiles || !fbig)
    return die("setup", "out of memory");
  for (int k = 0; k < NTILES; k++) {
    tile_rgb(big, k, tiles + (size_t)k * SMALL * SMALL * 3);
    rgb_to_planar(tiles + (size_t)k * SMALL * SMALL * 3, SMALL, SMALL,
                  ftiles + (size_t)k * 3 * SMALL * SMALL);
  }
  rgb_to_planar(big, BIG_W, BIG_H, fbig);
  c.tiles = tiles;
  c.ftiles = ftiles;
  c.big = big;
  c.fbig = fbig;
  nn_err e = {0};
  if (o->train_only)
    goto train;
  if (net_open(&c.n32, o->model, SMALL, SMALL, o->threads, c.rate, &e) ||
      net_open(&c.nbig, o->model, BIG_H, BIG_W, o->threads, c.rate, &e))
    return die("networks", e.msg);
  const long np = count_params(c.n32.m);

  printf("# bench_saic (nn/ on oneDNN): model %s, n %d m %d levels %d, %ld parameters, "
         "threads %d, rate %g\n",
         o->random_model ? "random" : o->model, cm->cfg.n, cm->cfg.m, cm->cfg.levels, np,
         o->threads, c.rate);
  printf("# images: %s%s, 32x32 = its %d tiles; 32x32 items run %g s each, 768x512 items best "
         "of %d\n",
         synthetic ? "synthetic 768x512" : o->image, synthetic ? "" : " (top-left 768x512)", NTILES,
         o->seconds, o->big_reps);
  printf("# c: saic_codec_encode/decode, INCLUDING range coding with the integer CDF tables "
         "(RGB8 in/out); c-net: networks only (g_a + gain + rint; inverse gain + g_s)\n");
  printf("c saic params %ld\nc saic n %d\nc saic m %d\nc saic levels %d\n", np, cm->cfg.n,
         cm->cfg.m, cm->cfg.levels);
  fflush(stdout);

  static const char *const names32[] = {"encode-32x32", "decode-32x32", "encode-32x32",
                                        "decode-32x32"};
  static const char *const namesbig[] = {"encode-768x512-ms", "decode-768x512-ms",
                                         "encode-768x512-ms", "decode-768x512-ms"};
  for (int what = CODEC_ENC; what <= NET_DEC; what++) {
    const char *label = what <= CODEC_DEC ? "c" : "c-net";
    const double r = rate32(&c, what, o->seconds);
    if (r < 0)
      return die(names32[what], c.err);
    printf("%s saic %s %.1f\n", label, names32[what], r);
    fflush(stdout);
  }
  for (int what = CODEC_ENC; what <= NET_DEC; what++) {
    const char *label = what <= CODEC_DEC ? "c" : "c-net";
    const double ms = ms_big(&c, what, o->big_reps);
    if (ms < 0)
      return die(namesbig[what], c.err);
    if (what == CODEC_ENC)
      printf("# 768x512 stream: %zu bytes (%.4f bpp)\n", c.big_bytes,
             8.0 * (double)c.big_bytes / (BIG_W * BIG_H));
    printf("%s saic %s %.2f\n", label, namesbig[what], ms);
    fflush(stdout);
  }
  for (int k = 0; k < NTILES; k++)
    free(c.streams[k]);
  net_close(&c.n32);
  net_close(&c.nbig);
train:
  saic_codec_close(c.codec);

  int status = 0;
  if (!o->no_train) {
    printf("# train: batch %d, full SAIC loss (alpha 0.5, gamma 0.03, GSW on x_hat, smooth 3, "
           "noise), task %s, Adam lr 3e-4 (density, gains x10), %d timed steps after %d "
           "warm-up\n",
           o->batch, o->task, o->steps, o->warmup);
    const double r = train_rate(o->model, o->task, o->threads, o->batch, o->steps, o->warmup,
                                o->seed, ftiles, &e);
    if (r < 0)
      status = die("train", e.msg);
    else
      printf("c saic train-b%d %.1f\n", o->batch, r);
  }
  free(big);
  free(tiles);
  free(ftiles);
  free(fbig);
  return status;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"model", required_argument, 0, 'M'},      {"task", required_argument, 0, 'T'},
      {"threads", required_argument, 0, 't'},    {"image", required_argument, 0, 'i'},
      {"seconds", required_argument, 0, 'S'},    {"big-reps", required_argument, 0, 'R'},
      {"batch", required_argument, 0, 'b'},      {"steps", required_argument, 0, 's'},
      {"warmup", required_argument, 0, 'w'},     {"n", required_argument, 0, 'n'},
      {"m", required_argument, 0, 'm'},          {"levels", required_argument, 0, 'l'},
      {"seed", required_argument, 0, 'r'},       {"no-train", no_argument, 0, 'x'},
      {"train-only", no_argument, 0, 'y'},
      {"save-model", required_argument, 0, 'D'}, {0, 0, 0, 0}};
  const char *model = NULL, *save_dir = NULL, *task = "tasks/models/classifier_resnet32.ckpt",
             *image = "../shared/datasets/kodak/kodim01.png";
  int threads = 2, big_reps = 3, batch = 32, steps = 10, warmup = 2, n = 64, m = 96, levels = 4;
  int no_train = 0, train_only = 0, o;
  double seconds = 1.0;
  unsigned long long seed = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'M': model = optarg; break;
    case 'T': task = optarg; break;
    case 't': threads = atoi(optarg); break;
    case 'i': image = optarg; break;
    case 'S': seconds = atof(optarg); break;
    case 'R': big_reps = atoi(optarg); break;
    case 'b': batch = atoi(optarg); break;
    case 's': steps = atoi(optarg); break;
    case 'w': warmup = atoi(optarg); break;
    case 'n': n = atoi(optarg); break;
    case 'm': m = atoi(optarg); break;
    case 'l': levels = atoi(optarg); break;
    case 'r': seed = strtoull(optarg, NULL, 10); break;
    case 'x': no_train = 1; break;
    case 'y': train_only = 1; break;
    case 'D': save_dir = optarg; break;
    default: usage(); return 2;
    }
  }
  if (optind != argc || threads < 1 || big_reps < 1 || batch < 1 || batch > classifier_max_batch ||
      steps < 1 || warmup < 0 || !(seconds > 0) || n < 1 || m < 1 || levels < 1 ||
      levels > SAIC_CKPT_MAX_LEVELS || (no_train && train_only)) {
    usage();
    return 2;
  }

  char dir[] = "/tmp/bench_saic_XXXXXX", path[512], err[512];
  if (save_dir) { /* only write the random model (the export takes a while) */
    if (sct_make_codec(save_dir, "random", n, m, levels, seed, 1.2, path, sizeof path, err,
                       sizeof err))
      return die("random model", err);
    printf("%s\n", path);
    return 0;
  }
  bench_opts bo = {.model = model,
                   .task = task,
                   .image = image,
                   .random_model = model == NULL,
                   .threads = threads,
                   .big_reps = big_reps,
                   .batch = batch,
                   .steps = steps,
                   .warmup = warmup,
                   .no_train = no_train,
                   .train_only = train_only,
                   .seconds = seconds,
                   .seed = seed};
  int status = 0;
  if (bo.random_model) {
    const double t0 = now();
    if (!mkdtemp(dir))
      return die("temporary folder", "mkdtemp failed");
    if (sct_make_codec(dir, "random", n, m, levels, seed, 1.2, path, sizeof path, err, sizeof err))
      status = die("random model", err);
    else
      printf("# random model made and exported in %.1f s (--save-model DIR keeps one)\n",
             now() - t0);
    bo.model = path;
  }
  if (!status)
    status = bench(&bo);
  if (bo.random_model) {
    char p[600];
    snprintf(p, sizeof p, "%s/random.train.ckpt", dir);
    remove(p);
    remove(path);
    rmdir(dir);
  }
  return status;
}
