/* The AVIF and JPEG XL codecs on real images: one Kodak image (768x512) and 20 CIFAR-10 test
 * images (32x32, from every class), over a few knob values each. For every image and codec:
 * the decoded image has the original's size; file size grows strictly and PSNR does not drop
 * (0.1 dB slack) as the knob moves toward more rate; the fixed part of the file (size -
 * stream_bytes) does not depend on the knob; the highest-rate point reaches a sane PSNR, per
 * image and on average. Prints bpp and PSNR per knob value and the time per call.
 *
 * Usage: test_codecs_real DATASETS_DIR  (the folder holding kodak/ and cifar10/) */
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "codec_test_util.h"
#include "data.h"

#define N_KNOBS 5
#define N_CIFAR 20

typedef struct real_case {
  const char *codec;
  double knobs[N_KNOBS]; /* in order of increasing rate */
  double kodak_min_psnr; /* at the last knob */
  double cifar_min_psnr, cifar_min_mean_psnr;
} real_case;

static const real_case cases[] = {
    {"avif", {50, 40, 30, 20, 10}, 40, 33, 40},
    {"jxl", {8, 4, 2, 1, 0.5}, 40, 33, 39},
};

typedef struct tally {
  double bpp[N_KNOBS], psnr[N_KNOBS];
  double enc_s, dec_s;
  int calls;
} tally;

/* Encodes and decodes img at every knob of c; checks one image; adds to t. */
static void run_image(const codec_vtable *vt, const void *inst, const real_case *c,
                      const image_rgb8 *img, const char *name, double min_psnr, tally *t) {
  size_t npix = (size_t)img->width * (size_t)img->height;
  size_t sizes[N_KNOBS] = {0}, fixed[N_KNOBS] = {0};
  double psnr[N_KNOBS] = {0};
  char err[512];
  for (int k = 0; k < N_KNOBS; k++) {
    codec_encoded e;
    double t0 = ctu_now();
    if (vt->encode(inst, img->rgb, img->width, img->height, c->knobs[k], &e, err, sizeof err)) {
      CHECK(0, "%s %s %s=%g: encode: %s", vt->name, name, vt->knob.name, c->knobs[k], err);
      continue;
    }
    double t1 = ctu_now();
    uint8_t *px = NULL;
    int w = 0, h = 0;
    int rc = vt->decode(inst, e.data, e.size, &px, &w, &h, err, sizeof err);
    t->enc_s += t1 - t0;
    t->dec_s += ctu_now() - t1;
    t->calls++;
    CHECK(rc == 0, "%s %s %s=%g: decode: %s", vt->name, name, vt->knob.name, c->knobs[k], err);
    CHECK(rc != 0 || (w == img->width && h == img->height), "%s %s: decoded %dx%d, not %dx%d",
          vt->name, name, w, h, img->width, img->height);
    if (rc == 0 && w == img->width && h == img->height)
      psnr[k] = ctu_psnr(img->rgb, px, npix * 3);
    sizes[k] = e.size;
    fixed[k] = e.size - e.stream_bytes;
    CHECK(e.stream_bytes > 0 && e.stream_bytes <= e.size, "%s %s: stream_bytes %zu of %zu",
          vt->name, name, e.stream_bytes, e.size);
    t->bpp[k] += 8.0 * (double)e.size / (double)npix;
    t->psnr[k] += psnr[k];
    free(px);
    free(e.data);
  }
  for (int k = 1; k < N_KNOBS; k++) {
    CHECK(sizes[k] > sizes[k - 1], "%s %s: %zu bytes at %s=%g, %zu at %g", vt->name, name, sizes[k],
          vt->knob.name, c->knobs[k], sizes[k - 1], c->knobs[k - 1]);
    CHECK(psnr[k] > psnr[k - 1] - 0.1, "%s %s: %.2f dB at %s=%g, %.2f at %g", vt->name, name,
          psnr[k], vt->knob.name, c->knobs[k], psnr[k - 1], c->knobs[k - 1]);
    CHECK(fixed[k] == fixed[0], "%s %s: %zu fixed bytes at %s=%g, %zu at %g", vt->name, name,
          fixed[k], vt->knob.name, c->knobs[k], fixed[0], c->knobs[0]);
  }
  CHECK(psnr[N_KNOBS - 1] > min_psnr, "%s %s: %.2f dB at %s=%g, want > %g", vt->name, name,
        psnr[N_KNOBS - 1], vt->knob.name, c->knobs[N_KNOBS - 1], min_psnr);
}

static void print_tally(const codec_vtable *vt, const real_case *c, const char *what,
                        const tally *t, int n_images) {
  printf("%-5s %-12s", vt->name, what);
  for (int k = 0; k < N_KNOBS; k++)
    printf("  %g: %.3f bpp %.2f dB", c->knobs[k], t->bpp[k] / n_images, t->psnr[k] / n_images);
  printf("\n%-5s %-12s  encode %.2f ms, decode %.2f ms per call (%d calls)\n", vt->name, what,
         1e3 * t->enc_s / t->calls, 1e3 * t->dec_s / t->calls, t->calls);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DATASETS_DIR\n", argv[0]);
    return 2;
  }
  char err[512], path[4096];
  image_rgb8 kodak = {0};
  snprintf(path, sizeof path, "%s/kodak/kodim01.png", argv[1]);
  if (image_load_file(path, &kodak, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  snprintf(path, sizeof path, "%s/cifar10", argv[1]);
  dataset *ds = NULL;
  if (dataset_open(path, "test", &ds, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  image_rgb8 cifar[N_CIFAR];
  size_t stride = dataset_size(ds) / N_CIFAR; /* class folders: every class gets two */
  for (int i = 0; i < N_CIFAR; i++)
    if (dataset_load(ds, (size_t)i * stride, &cifar[i], err, sizeof err)) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }

  codec_registry *reg = NULL;
  if (codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "registry: %s\n", err);
    return 1;
  }
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const real_case *c = &cases[ci];
    const codec_vtable *vt = codec_registry_find(reg, c->codec);
    void *inst = NULL;
    if (!vt || vt->create(NULL, 0, &inst, err, sizeof err)) {
      CHECK(0, "%s: %s", c->codec, vt ? err : "not registered");
      continue;
    }
    tally tk = {0}, tc = {0};
    run_image(vt, inst, c, &kodak, "kodim01", c->kodak_min_psnr, &tk);
    print_tally(vt, c, "kodim01", &tk, 1);
    for (int i = 0; i < N_CIFAR; i++)
      run_image(vt, inst, c, &cifar[i], dataset_item_name(ds, (size_t)i * stride),
                c->cifar_min_psnr, &tc);
    print_tally(vt, c, "cifar (20)", &tc, N_CIFAR);
    double mean = tc.psnr[N_KNOBS - 1] / N_CIFAR;
    CHECK(mean > c->cifar_min_mean_psnr, "%s: CIFAR mean %.2f dB at %s=%g, want > %g", vt->name,
          mean, vt->knob.name, c->knobs[N_KNOBS - 1], c->cifar_min_mean_psnr);
    vt->destroy(inst);
  }
  codec_registry_destroy(reg);
  for (int i = 0; i < N_CIFAR; i++)
    image_free(&cifar[i]);
  image_free(&kodak);
  dataset_close(ds);
  return sb_test_status("test_codecs_real");
}
