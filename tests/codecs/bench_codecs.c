/* Codec benchmark (not a test): file sizes across each knob range and encode/decode time per
 * call, at 32x32 and 768x512.
 *
 * Usage: bench_codecs [--cifar FILE.jpg] [--ppm FILE.ppm] [--plugin FILE.so] [--seconds S]
 *   --cifar: a 32x32 JPEG (e.g. a CIFAR-10 test image), decoded with the jpeg codec;
 *   --ppm:   a binary PPM (P6, maxval 255), e.g. a Kodak image converted from PNG;
 *   otherwise procedural images are used. Times are the mean over repeated calls for about
 *   S seconds (default 0.5) per measurement, single-threaded. */
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "codec_test_util.h"

typedef struct image {
  uint8_t *rgb;
  int w, h;
  const char *source;
} image;

static int load_ppm(const char *path, image *out) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  int w, h, maxval;
  int ok = fscanf(f, "P6 %d %d %d", &w, &h, &maxval) == 3 && maxval == 255 && w > 0 && h > 0 &&
           fgetc(f) != EOF;
  if (ok) {
    out->rgb = malloc((size_t)w * h * 3);
    ok = out->rgb && fread(out->rgb, 1, (size_t)w * h * 3, f) == (size_t)w * h * 3;
  }
  fclose(f);
  if (!ok)
    return -1;
  out->w = w;
  out->h = h;
  out->source = path;
  return 0;
}

static int load_jpeg(const codec_registry *reg, const char *path, image *out) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  uint8_t buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  const codec_vtable *vt = codec_registry_find(reg, "jpeg");
  char err[256];
  if (vt->decode(NULL, buf, n, &out->rgb, &out->w, &out->h, err, sizeof err)) {
    fprintf(stderr, "%s: %s\n", path, err);
    return -1;
  }
  out->source = path;
  return 0;
}

static void sweep(const codec_vtable *vt, void *inst, const image *im, const double *knobs,
                  size_t n) {
  char err[256];
  printf("  %-9s %s: ", vt->name, vt->knob.name);
  for (size_t i = 0; i < n; i++) {
    codec_encoded e;
    if (vt->encode(inst, im->rgb, im->w, im->h, knobs[i], &e, err, sizeof err)) {
      printf(" %g:ERR(%s)", knobs[i], err);
      continue;
    }
    uint8_t *px;
    int w, h;
    double p = -1;
    if (vt->decode(inst, e.data, e.size, &px, &w, &h, err, sizeof err) == 0) {
      p = ctu_psnr(im->rgb, px, (size_t)w * h * 3);
      free(px);
    }
    printf(" %g:%zuB/%zus/%.3fbpp/%.2fdB", knobs[i], e.size, e.stream_bytes,
           8.0 * (double)e.size / (im->w * im->h), p);
    free(e.data);
  }
  printf("\n");
}

static void timing(const codec_vtable *vt, void *inst, const image *im, double knob,
                   double seconds) {
  char err[256];
  codec_encoded e = {0};
  int n_enc = 0, n_dec = 0;
  double t0 = ctu_now(), t;
  do {
    free(e.data);
    if (vt->encode(inst, im->rgb, im->w, im->h, knob, &e, err, sizeof err)) {
      printf("  %s: encode failed: %s\n", vt->name, err);
      return;
    }
    n_enc++;
  } while ((t = ctu_now()) - t0 < seconds);
  double enc_s = (t - t0) / n_enc;
  t0 = ctu_now();
  double p = 0;
  do {
    uint8_t *px;
    int w, h;
    if (vt->decode(inst, e.data, e.size, &px, &w, &h, err, sizeof err)) {
      printf("  %s: decode failed: %s\n", vt->name, err);
      free(e.data);
      return;
    }
    if (n_dec == 0)
      p = ctu_psnr(im->rgb, px, (size_t)w * h * 3);
    free(px);
    n_dec++;
  } while ((t = ctu_now()) - t0 < seconds);
  double dec_s = (t - t0) / n_dec;
  printf("  %-9s %s=%-5g %7zu B %6.3f bpp %5.2f dB  encode %9.3f ms  decode %9.3f ms  (%d/%d "
         "calls)\n",
         vt->name, vt->knob.name, knob, e.size, 8.0 * (double)e.size / (im->w * im->h), p,
         1e3 * enc_s, 1e3 * dec_s, n_enc, n_dec);
  free(e.data);
}

int main(int argc, char **argv) {
  const char *cifar = NULL, *ppm = NULL, *plugin = NULL;
  double seconds = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--cifar"))
      cifar = argv[i + 1];
    else if (!strcmp(argv[i], "--ppm"))
      ppm = argv[i + 1];
    else if (!strcmp(argv[i], "--plugin"))
      plugin = argv[i + 1];
    else if (!strcmp(argv[i], "--seconds"))
      seconds = atof(argv[i + 1]);
  }
  codec_registry *reg;
  char err[512];
  if (codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (plugin && codec_registry_load_plugin(reg, plugin, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  image small = {0}, large = {0};
  if (!cifar || load_jpeg(reg, cifar, &small)) {
    small = (image){ctu_make_image(32, 32, CTU_TEXTURED, 1), 32, 32, "procedural 32x32"};
  }
  if (!ppm || load_ppm(ppm, &large)) {
    large = (image){ctu_make_image(768, 512, CTU_TEXTURED, 1), 768, 512, "procedural 768x512"};
  }
  const image *ims[2] = {&small, &large};
  for (int k = 0; k < 2; k++) {
    const image *im = ims[k];
    printf("== %s (%dx%d)\n", im->source, im->w, im->h);
    printf(" sizes (knob:file bytes/stream bytes/file bpp/PSNR):\n");
    for (size_t i = 0; i < codec_registry_count(reg); i++) {
      const codec_vtable *vt = codec_registry_at(reg, i);
      void *inst;
      if (vt->create(NULL, 0, &inst, err, sizeof err))
        continue;
      double jq[] = {vt->knob.min, 5, 10, 25, 50, 75, 90, 100};
      static const double jr[] = {1000, 100, 50, 24, 12, 8, 4, 2, 1};
      static const double qb[] = {1, 2, 3, 4, 6, 8};
      static const double aq[] = {63, 55, 45, 35, 25, 15, 5};
      static const double jd[] = {15, 8, 4, 2, 1, 0.5, 0.25, 0.1};
      if (!strcmp(vt->knob.name, "ratio"))
        sweep(vt, inst, im, jr, sizeof jr / sizeof jr[0]);
      else if (!strcmp(vt->knob.name, "quantizer"))
        sweep(vt, inst, im, aq, sizeof aq / sizeof aq[0]);
      else if (!strcmp(vt->knob.name, "distance"))
        sweep(vt, inst, im, jd, sizeof jd / sizeof jd[0]);
      else if (!strcmp(vt->knob.name, "bits"))
        sweep(vt, inst, im, qb, sizeof qb / sizeof qb[0]);
      else
        sweep(vt, inst, im, jq, sizeof jq / sizeof jq[0]);
      vt->destroy(inst);
    }
    /* Leanest settings (no optional metadata), for the smallest files at 32x32 */
    if (k == 0) {
      const codec_vtable *j = codec_registry_find(reg, "jpeg");
      codec_option lean[] = {{"optimize", "true"}, {"jfif", "false"}};
      void *inst;
      if (j->create(lean, 2, &inst, err, sizeof err) == 0) {
        static const double q[] = {1, 5, 10, 25, 50};
        printf(" jpeg with optimize=true jfif=false:\n");
        sweep(j, inst, im, q, sizeof q / sizeof q[0]);
        j->destroy(inst);
      }
      const codec_vtable *k2 = codec_registry_find(reg, "jpeg2000");
      codec_option nocom[] = {{"comment", "false"}};
      if (k2->create(nocom, 1, &inst, err, sizeof err) == 0) {
        static const double r[] = {1000, 24, 16, 12, 8};
        printf(" jpeg2000 with comment=false:\n");
        sweep(k2, inst, im, r, sizeof r / sizeof r[0]);
        k2->destroy(inst);
      }
    }
    printf(" time per call:\n");
    for (size_t i = 0; i < codec_registry_count(reg); i++) {
      const codec_vtable *vt = codec_registry_at(reg, i);
      void *inst;
      if (vt->create(NULL, 0, &inst, err, sizeof err))
        continue;
      double knob = !strcmp(vt->name, "jpeg")       ? 75
                    : !strcmp(vt->name, "webp")     ? 75
                    : !strcmp(vt->name, "jpeg2000") ? 24
                    : !strcmp(vt->name, "avif")     ? 35
                    : !strcmp(vt->name, "jxl")      ? 1.5
                                                    : vt->knob.max;
      timing(vt, inst, im, knob, seconds);
      vt->destroy(inst);
    }
  }
  free(small.rgb);
  free(large.rgb);
  codec_registry_destroy(reg);
  return 0;
}
