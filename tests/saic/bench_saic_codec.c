/* Benchmark of the SAIC codec (built, not a test):
 *   - header bytes at 32x32 and 768x512 (format 2: 2 and 6);
 *   - per rate, over the first N CIFAR-10 test images (classes in name order, images in name
 *     order, round-robin over the classes; run from the repository root for the default paths): the
 * density's estimate (-sum log2 p of the rounded symbols, float density) against the actual
 * payload, and the mean file size / bpp;
 *   - encode and decode images/s at 32x32 and ms for one 768x512 image (kodim01.png, else a
 *     synthetic image), single-threaded networks.
 * Usage: bench_saic_codec [--model CODEC.ckpt] [--cifar DIR] [--images N] [--kodak FILE.png]
 *                         [--n N --m M --levels L]   (random model when --model is absent)
 * Without --model a random model (default n 64, m 96, levels 4, level gains e^(5 + 1.2 l)) is
 * written to a temporary folder and exported first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "class_sample.h"
#include "data.h"
#include "saic.h"
#include "saic_codec_test_util.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *model = NULL, *cifar = "../shared/datasets/cifar10/test",
             *kodak = "../shared/datasets/kodak/kodim01.png";
  int want = 100, n = 64, m = 96, levels = 4;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--model") && v)
      model = v, i++;
    else if (!strcmp(a, "--cifar") && v)
      cifar = v, i++;
    else if (!strcmp(a, "--kodak") && v)
      kodak = v, i++;
    else if (!strcmp(a, "--images") && v)
      want = atoi(v), i++;
    else if (!strcmp(a, "--n") && v)
      n = atoi(v), i++;
    else if (!strcmp(a, "--m") && v)
      m = atoi(v), i++;
    else if (!strcmp(a, "--levels") && v)
      levels = atoi(v), i++;
    else {
      fprintf(stderr,
              "usage: %s [--model CODEC.ckpt] [--cifar DIR] [--images N] [--kodak PNG] "
              "[--n N --m M --levels L]\n",
              argv[0]);
      return 2;
    }
  }
  if (want < 1 || want > 10000)
    want = 100;
  char dir[] = "/tmp/bench_saic_codec_XXXXXX", path[512], err[512];
  if (!model) {
    if (!mkdtemp(dir) ||
        sct_make_codec(dir, "random", n, m, levels, 1, 1.2, path, sizeof path, err, sizeof err)) {
      fprintf(stderr, "random model: %s\n", err);
      return 1;
    }
    model = path;
    printf("model: random, n %d m %d levels %d (gains e^(5 + 1.2 l))\n", n, m, levels);
  } else {
    printf("model: %s\n", model);
  }
  saic_codec *c = NULL;
  saic_codec_opts o = {1, 0};
  if (saic_codec_open(model, &o, &c, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  const saic_codec_model *cm = saic_codec_get_model(c);
  long tv = 0;
  for (int i = 0; i < cm->cfg.m; i++)
    tv += (long)saic_cdf_set_get(cm->tables, i)->nsym - 1;
  printf("tables: %d, %ld values in all; model SHA-256 %02x%02x%02x%02x...; bitstream format %d\n",
         cm->cfg.m, tv, cm->sha256[0], cm->sha256[1], cm->sha256[2], cm->sha256[3],
         SAIC_CODEC_FORMAT_VERSION);

  class_sample sample;
  image_rgb8 *imgs;
  int ni;
  const int lrc = class_sample_load(cifar, "test", want, &sample, err, sizeof err);
  if (lrc != 0 || sample.n == 0) {
    printf("no CIFAR-10 images (%s): using %d synthetic 32x32 images\n",
           lrc ? err : "empty dataset", want);
    imgs = calloc((size_t)want, sizeof *imgs);
    for (ni = 0; imgs && ni < want; ni++)
      imgs[ni] = (image_rgb8){32, 32, sct_image(32, 32, (uint64_t)ni)};
  } else {
    imgs = sample.img;
    ni = sample.n;
    printf("%d CIFAR-10 test images from %s\n", ni, cifar);
  }
  printf("\n%-6s %5s %12s %12s %9s %11s %9s %8s\n", "rate", "q", "est bits", "actual bits",
         "act/est", "file bytes", "file bpp", "header");
  const int L = cm->cfg.levels;
  /* Every half level of the knob, the extrapolated range above levels - 1 included. */
  for (int r = 0; r <= (int)lrint(2 * saic_model_knob_max(L)); r++) {
    const double rate = r * 0.5;
    double est = 0, act = 0, file = 0;
    size_t head = 0;
    int q = 0;
    for (int i = 0; i < ni; i++) {
      uint8_t *d;
      size_t len;
      saic_encode_stats st;
      if (saic_codec_encode(c, imgs[i].rgb, imgs[i].width, imgs[i].height, rate, &d, &len, &st, err,
                            sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
      }
      est += st.est_bits;
      act += 8.0 * (double)st.payload_bytes;
      file += (double)len;
      head = st.header_bytes;
      q = st.rate_index;
      free(d);
    }
    printf("%-6g %5d %12.1f %12.1f %9.4f %11.2f %9.4f %8zu\n", rate, q, est / ni, act / ni,
           act / est, file / ni, 8 * file / ni / (32.0 * 32.0), head);
  }

  /* Speed at 32x32 (first image, repeated) and at 768x512. */
  const double rate = (L - 1) / 2.0;
  uint8_t *d = NULL, *px = NULL;
  size_t len = 0;
  int w, h, reps = 0;
  double t0 = now();
  while (now() - t0 < 1.5 || reps < 20) {
    free(d);
    if (saic_codec_encode(c, imgs[reps % ni].rgb, 32, 32, rate, &d, &len, NULL, err, sizeof err))
      return fprintf(stderr, "%s\n", err), 1;
    reps++;
  }
  const double enc32 = reps / (now() - t0);
  reps = 0;
  t0 = now();
  while (now() - t0 < 1.5 || reps < 20) {
    free(px);
    if (saic_codec_decode(c, d, len, &px, &w, &h, err, sizeof err))
      return fprintf(stderr, "%s\n", err), 1;
    reps++;
  }
  const double dec32 = reps / (now() - t0);
  free(d);
  free(px);
  image_rgb8 big = {0};
  const int synthetic = image_load_file(kodak, &big, err, sizeof err) != 0;
  if (synthetic)
    big = (image_rgb8){768, 512, sct_image(768, 512, 1)};
  double te = 1e9, td = 1e9;
  size_t big_len = 0, big_head = 0;
  for (int k = 0; k < 3; k++) {
    saic_encode_stats st;
    double t = now();
    if (saic_codec_encode(c, big.rgb, big.width, big.height, rate, &d, &len, &st, err, sizeof err))
      return fprintf(stderr, "%s\n", err), 1;
    te = fmin(te, now() - t);
    t = now();
    if (saic_codec_decode(c, d, len, &px, &w, &h, err, sizeof err))
      return fprintf(stderr, "%s\n", err), 1;
    td = fmin(td, now() - t);
    big_len = len;
    big_head = st.header_bytes;
    free(d);
    free(px);
  }
  printf("\nspeed (1 thread, rate %g): 32x32 encode %.0f img/s, decode %.0f img/s; %dx%d%s "
         "encode %.0f ms, decode %.0f ms (%zu bytes, header %zu)\n",
         rate, enc32, dec32, big.width, big.height, synthetic ? " (synthetic)" : "", te * 1e3,
         td * 1e3, big_len, big_head);
  free(big.rgb);
  if (imgs == sample.img) {
    class_sample_free(&sample);
  } else {
    for (int i = 0; i < ni; i++)
      free(imgs[i].rgb);
    free(imgs);
  }
  saic_codec_close(c);
  if (model == path) {
    char p[600];
    snprintf(p, sizeof p, "%s/random.train.ckpt", dir);
    remove(p);
    remove(path);
    rmdir(dir);
  }
  return 0;
}
