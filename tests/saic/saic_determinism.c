/* saic_determinism - decode-determinism evidence for the SAIC codec (built, not a test; the
 * script scripts/saic_determinism.sh drives it across thread counts and -O0 / optimised builds).
 *
 *   saic_determinism run --out PREFIX [--model CODEC.ckpt] [--threads T] [--rates R1,R2,...]
 *                        [--cifar DIR --images N] [--synthetic N] [IMAGE ...]
 *     Encodes every image at every rate with a codec whose networks use T threads (default 1),
 *     decodes the stream to its symbols (saic_codec_decode_symbols) and to pixels, and writes
 *     PREFIX.txt (one line per (image, rate): stream length and SHA-256, symbol count and
 *     SHA-256, pixel SHA-256 and offset) and PREFIX.pix (the decoded RGB8 pixels of every entry,
 *     concatenated). Images: the IMAGE files (PNG or JPEG), then the first N CIFAR-10 test images
 *     (DIR/test/<class>/NNNN.jpg, or DIR/<class>/NNNN.jpg; classes and files in name order, taken
 *     round-robin over the classes as bench_saic_codec does), then N synthetic images of 32x32
 *     (sct_image). Without --model the random model of `model` below is made in a temporary
 *     folder; give --model to compare builds (the model's export is float code too).
 *   saic_determinism compare [--exact-pixels] A B
 *     Compares the dumps of two runs (PREFIXes A and B; same model, images and rates) and prints
 *     how many streams, symbol arrays and pixel arrays are identical and the largest absolute
 *     pixel difference. Exit 0 when streams and symbols are all identical (and, with
 *     --exact-pixels, the pixels too), 1 when any differ, 2 when the dumps cannot be compared.
 *   saic_determinism model OUT.ckpt [--n N --m M --levels L]
 *     Writes a random-initialised codec checkpoint (default n 64, m 96, levels 4, level gains
 *     e^(5 + 1.2 l), seed 1; OUT.train.ckpt is the training checkpoint it is exported from).
 *
 * Symbols are hashed as little-endian int32, pixels as the packed RGB8 bytes. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "class_sample.h"
#include "data.h"
#include "saic.h"
#include "saic_codec_test_util.h"

#ifndef SAIC_DET_BUILD_TYPE
#define SAIC_DET_BUILD_TYPE "unknown"
#endif
#ifdef __OPTIMIZE__
#define OPT_NOTE "optimised"
#else
#define OPT_NOTE "-O0"
#endif

#define DUMP_MAGIC "saic_determinism 1"
enum { MAX_RATES = 64 };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sha256_hex(const void *data, size_t len, char hex[65]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != 32) {
    fprintf(stderr, "saic_determinism: SHA-256 failed\n");
    exit(2);
  }
  for (unsigned i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* ------------------------------------------------------------------ images */

typedef struct named_image {
  char *name;
  image_rgb8 img;
} named_image;

typedef struct image_list {
  named_image *v;
  int n, cap;
} image_list;

static void add_image(image_list *l, const char *name, image_rgb8 img) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 32;
    l->v = realloc(l->v, (size_t)l->cap * sizeof *l->v);
    if (!l->v)
      abort();
  }
  l->v[l->n].name = strdup(name);
  l->v[l->n++].img = img;
}

/* The first `want` CIFAR-10 test images, round-robin over the classes (class_sample.h). */
static int load_cifar(const char *dir, int want, image_list *out) {
  class_sample cs;
  char err[1024];
  if (class_sample_load(dir, "test", want, &cs, err, sizeof err) != 0) {
    fprintf(stderr, "saic_determinism: %s\n", err);
    return -1;
  }
  const int got = cs.n;
  for (int i = 0; i < cs.n; i++) {
    add_image(out, cs.name[i], cs.img[i]); /* the list takes the pixels */
    cs.img[i].rgb = NULL;
  }
  class_sample_free(&cs);
  if (got < want) {
    fprintf(stderr, "saic_determinism: only %d CIFAR-10 images under %s\n", got, dir);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ model */

static int make_model(const char *out, int n, int m, int levels) {
  char dir[256], name[200], path[512], err[512];
  const char *slash = strrchr(out, '/'), *base = slash ? slash + 1 : out;
  const size_t dl = slash ? (size_t)(slash - out) : 0, bl = strlen(base);
  if (dl >= sizeof dir || bl >= sizeof name) {
    fprintf(stderr, "saic_determinism model: output path too long\n");
    return -1;
  }
  if (bl < 6 || strcmp(base + bl - 5, ".ckpt") != 0) {
    fprintf(stderr, "saic_determinism model: the output name must end in .ckpt\n");
    return -1;
  }
  if (slash)
    snprintf(dir, sizeof dir, "%.*s", dl ? (int)dl : 1, dl ? out : "/");
  else
    snprintf(dir, sizeof dir, ".");
  snprintf(name, sizeof name, "%.*s", (int)(bl - 5), base);
  if (sct_make_codec(dir, name, n, m, levels, 1, 1.2, path, sizeof path, err, sizeof err)) {
    fprintf(stderr, "saic_determinism model: %s\n", err);
    return -1;
  }
  return 0;
}

/* ------------------------------------------------------------------ run */

static int parse_rates(const char *s, double *rates, int *n) {
  *n = 0;
  while (*s) {
    char *end;
    errno = 0;
    double r = strtod(s, &end);
    if (end == s || errno || !(r >= 0 && r <= SAIC_CKPT_MAX_LEVELS - 1) || *n == MAX_RATES ||
        (*end && *end != ','))
      return -1;
    rates[(*n)++] = r;
    s = *end ? end + 1 : end;
  }
  return *n ? 0 : -1;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (end == s || *end || errno || v < lo || v > hi)
    return -1;
  *out = (int)v;
  return 0;
}

static int usage(void) {
  fprintf(stderr, "usage: saic_determinism run --out PREFIX [--model CODEC.ckpt] [--threads T]\n"
                  "                            [--rates R1,R2,...] [--cifar DIR --images N]\n"
                  "                            [--synthetic N] [IMAGE ...]\n"
                  "       saic_determinism compare [--exact-pixels] PREFIX_A PREFIX_B\n"
                  "       saic_determinism model OUT.ckpt [--n N --m M --levels L]\n");
  return 2;
}

static int cmd_run(int argc, char **argv) {
  const char *model = NULL, *out = NULL, *cifar = NULL, *rates_s = NULL;
  int threads = 1, ncifar = 0, nsynth = 0;
  image_list imgs = {0};
  const char **files = calloc((size_t)argc, sizeof *files);
  int nfiles = 0;
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (!strcmp(a, "--model") && v)
      model = v, i++;
    else if (!strcmp(a, "--out") && v)
      out = v, i++;
    else if (!strcmp(a, "--cifar") && v)
      cifar = v, i++;
    else if (!strcmp(a, "--rates") && v)
      rates_s = v, i++;
    else if (!strcmp(a, "--threads") && v)
      bad = parse_int(v, 1, 256, &threads), i++;
    else if (!strcmp(a, "--images") && v)
      bad = parse_int(v, 1, 10000, &ncifar), i++;
    else if (!strcmp(a, "--synthetic") && v)
      bad = parse_int(v, 1, 10000, &nsynth), i++;
    else if (a[0] == '-')
      bad = 1;
    else
      files[nfiles++] = a;
    if (bad) {
      free(files);
      return usage();
    }
  }
  if (!out || (cifar && !ncifar) || (!cifar && ncifar)) {
    free(files);
    return usage();
  }
  double rates[MAX_RATES];
  int nrates = 0;
  char tmpdir[] = "/tmp/saic_determinism_XXXXXX", mpath[512], err[512];
  saic_codec *c = NULL;
  int rc = 2;
  FILE *txt = NULL, *pix = NULL;
  if (!model) {
    if (!mkdtemp(tmpdir)) {
      perror("saic_determinism: mkdtemp");
      goto done;
    }
    snprintf(mpath, sizeof mpath, "%s/random.ckpt", tmpdir);
    if (make_model(mpath, 64, 96, 4))
      goto done;
    model = mpath;
  }
  saic_codec_opts o = {threads, 0};
  if (saic_codec_open(model, &o, &c, err, sizeof err)) {
    fprintf(stderr, "saic_determinism: %s\n", err);
    goto done;
  }
  const saic_codec_model *cm = saic_codec_get_model(c);
  if (rates_s) {
    if (parse_rates(rates_s, rates, &nrates)) {
      fprintf(stderr, "saic_determinism: --rates: expected numbers 0..%d separated by commas\n",
              SAIC_CKPT_MAX_LEVELS - 1);
      goto done;
    }
  } else {
    for (int l = 0; l < cm->cfg.levels && l < MAX_RATES; l++)
      rates[nrates++] = l;
  }
  for (int i = 0; i < nfiles; i++) {
    image_rgb8 img;
    if (image_load_file(files[i], &img, err, sizeof err)) {
      fprintf(stderr, "saic_determinism: %s\n", err);
      goto done;
    }
    add_image(&imgs, files[i], img);
  }
  if (cifar && load_cifar(cifar, ncifar, &imgs))
    goto done;
  for (int i = 0; i < nsynth; i++) {
    char name[64];
    snprintf(name, sizeof name, "synthetic-32x32-%d", i);
    add_image(&imgs, name, (image_rgb8){32, 32, sct_image(32, 32, (uint64_t)i)});
  }
  if (!imgs.n) {
    fprintf(stderr, "saic_determinism: no images (give IMAGE files, --cifar or --synthetic)\n");
    goto done;
  }
  char tp[1024], pp[1024], mhex[65] = {0};
  snprintf(tp, sizeof tp, "%s.txt", out);
  snprintf(pp, sizeof pp, "%s.pix", out);
  if (!(txt = fopen(tp, "w")) || !(pix = fopen(pp, "wb"))) {
    fprintf(stderr, "saic_determinism: cannot create %s: %s\n", txt ? pp : tp, strerror(errno));
    goto done;
  }
  for (int i = 0; i < 32; i++)
    snprintf(mhex + 2 * i, 3, "%02x", cm->sha256[i]);
  fprintf(txt, "%s\nmodel %s\nthreads %d\nbuild %s %s\n", DUMP_MAGIC, mhex, threads,
          SAIC_DET_BUILD_TYPE, OPT_NOTE);
  fprintf(txt, "# entry IMAGE RATE Q WIDTH HEIGHT STREAM_BYTES STREAM_SHA256 SYMBOLS "
               "SYMBOLS_SHA256 PIXELS_SHA256 PIX_OFFSET NAME\n");
  unsigned long long offset = 0;
  const double t0 = now();
  rc = 1;
  for (int i = 0; i < imgs.n; i++)
    for (int r = 0; r < nrates; r++) {
      const image_rgb8 *im = &imgs.v[i].img;
      uint8_t *s = NULL, *px = NULL, *le = NULL;
      int32_t *sym = NULL;
      size_t slen = 0, nsym = 0;
      saic_encode_stats st;
      saic_stream_info info;
      int w = 0, h = 0, ok = 0;
      if (saic_codec_encode(c, im->rgb, im->width, im->height, rates[r], &s, &slen, &st, err,
                            sizeof err) ||
          saic_codec_decode_symbols(c, s, slen, &sym, &nsym, &info, err, sizeof err) ||
          saic_codec_decode(c, s, slen, &px, &w, &h, err, sizeof err)) {
        fprintf(stderr, "saic_determinism: %s rate %g: %s\n", imgs.v[i].name, rates[r], err);
      } else if (w != im->width || h != im->height || info.rate_index != st.rate_index ||
                 nsym != (size_t)st.latent_c * (size_t)st.latent_h * (size_t)st.latent_w) {
        fprintf(stderr, "saic_determinism: %s rate %g: decoded shape disagrees with the encoder\n",
                imgs.v[i].name, rates[r]);
      } else if (!(le = malloc(4 * nsym + 1))) {
        fprintf(stderr, "saic_determinism: out of memory\n");
      } else {
        for (size_t k = 0; k < nsym; k++) {
          const uint32_t u = (uint32_t)sym[k];
          for (int b = 0; b < 4; b++)
            le[4 * k + (size_t)b] = (uint8_t)(u >> (8 * b));
        }
        char hs[65], hy[65], hp[65];
        const size_t npx = (size_t)w * (size_t)h * 3;
        sha256_hex(s, slen, hs);
        sha256_hex(le, 4 * nsym, hy);
        sha256_hex(px, npx, hp);
        fprintf(txt, "entry %d %.17g %d %d %d %zu %s %zu %s %s %llu %s\n", i, rates[r],
                st.rate_index, w, h, slen, hs, nsym, hy, hp, offset, imgs.v[i].name);
        ok = fwrite(px, 1, npx, pix) == npx;
        if (!ok)
          fprintf(stderr, "saic_determinism: %s: write failed\n", pp);
        offset += npx;
      }
      free(s);
      free(px);
      free(sym);
      free(le);
      if (!ok)
        goto done;
    }
  if (fclose(txt) | fclose(pix)) {
    txt = pix = NULL;
    fprintf(stderr, "saic_determinism: writing %s failed\n", out);
    goto done;
  }
  txt = pix = NULL;
  printf("saic_determinism: %d images x %d rates, threads %d, build %s (%s): %s.txt, %s.pix "
         "(%.1f s)\n",
         imgs.n, nrates, threads, SAIC_DET_BUILD_TYPE, OPT_NOTE, out, out, now() - t0);
  rc = 0;
done:
  if (txt)
    fclose(txt);
  if (pix)
    fclose(pix);
  saic_codec_close(c);
  for (int i = 0; i < imgs.n; i++) {
    free(imgs.v[i].name);
    free(imgs.v[i].img.rgb);
  }
  free(imgs.v);
  free(files);
  if (model == mpath) {
    char p[600];
    snprintf(p, sizeof p, "%s/random.train.ckpt", tmpdir);
    remove(p);
    remove(mpath);
    rmdir(tmpdir);
  }
  return rc;
}

/* ------------------------------------------------------------------ compare */

typedef struct entry {
  int image, q, w, h;
  double rate;
  size_t slen, nsym;
  char ssha[65], ysha[65], psha[65], name[1024];
  unsigned long long offset;
} entry;

typedef struct dump {
  char model[65], build[128];
  int threads;
  entry *e;
  int n;
  FILE *pix;
} dump;

static void chomp(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
}

static int load_dump(const char *prefix, dump *d) {
  memset(d, 0, sizeof *d);
  char p[1024], line[2048];
  snprintf(p, sizeof p, "%s.txt", prefix);
  FILE *f = fopen(p, "r");
  if (!f) {
    fprintf(stderr, "saic_determinism compare: cannot read %s: %s\n", p, strerror(errno));
    return -1;
  }
  int cap = 0, lineno = 0, rc = -1;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    chomp(line);
    if (lineno == 1) {
      if (strcmp(line, DUMP_MAGIC) != 0) {
        fprintf(stderr, "saic_determinism compare: %s is not a saic_determinism dump\n", p);
        goto out;
      }
      continue;
    }
    if (line[0] == '#' || !line[0])
      continue;
    if (!strncmp(line, "model ", 6)) {
      snprintf(d->model, sizeof d->model, "%.64s", line + 6);
    } else if (!strncmp(line, "threads ", 8)) {
      d->threads = atoi(line + 8);
    } else if (!strncmp(line, "build ", 6)) {
      snprintf(d->build, sizeof d->build, "%.127s", line + 6);
    } else if (!strncmp(line, "entry ", 6)) {
      if (d->n == cap) {
        cap = cap ? 2 * cap : 64;
        d->e = realloc(d->e, (size_t)cap * sizeof *d->e);
        if (!d->e)
          abort();
      }
      entry *e = &d->e[d->n];
      int used = 0;
      if (sscanf(line + 6, "%d %lf %d %d %d %zu %64s %zu %64s %64s %llu %n", &e->image, &e->rate,
                 &e->q, &e->w, &e->h, &e->slen, e->ssha, &e->nsym, e->ysha, e->psha, &e->offset,
                 &used) != 11 ||
          !line[6 + used] || e->w < 1 || e->h < 1) {
        fprintf(stderr, "saic_determinism compare: %s:%d: malformed entry\n", p, lineno);
        goto out;
      }
      snprintf(e->name, sizeof e->name, "%s", line + 6 + used);
      d->n++;
    } else {
      fprintf(stderr, "saic_determinism compare: %s:%d: unexpected line\n", p, lineno);
      goto out;
    }
  }
  snprintf(p, sizeof p, "%s.pix", prefix);
  if (!(d->pix = fopen(p, "rb"))) {
    fprintf(stderr, "saic_determinism compare: cannot read %s: %s\n", p, strerror(errno));
    goto out;
  }
  rc = 0;
out:
  fclose(f);
  return rc;
}

static int read_pixels(FILE *f, unsigned long long off, uint8_t *buf, size_t n) {
  return fseeko(f, (off_t)off, SEEK_SET) == 0 && fread(buf, 1, n, f) == n ? 0 : -1;
}

static int cmd_compare(int argc, char **argv) {
  int exact = 0, np = 0;
  const char *pre[2] = {NULL, NULL};
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--exact-pixels"))
      exact = 1;
    else if (argv[i][0] != '-' && np < 2)
      pre[np++] = argv[i];
    else
      return usage();
  }
  if (np != 2)
    return usage();
  dump a, b;
  int rc = 2;
  uint8_t *pa = NULL, *pb = NULL;
  if (load_dump(pre[0], &a) | load_dump(pre[1], &b))
    goto out;
  printf("A: %s (threads %d, build %s)\nB: %s (threads %d, build %s)\n", pre[0], a.threads, a.build,
         pre[1], b.threads, b.build);
  if (strcmp(a.model, b.model) != 0) {
    fprintf(stderr,
            "saic_determinism compare: the dumps are of different models (%.16s.., "
            "%.16s..)\n",
            a.model, b.model);
    goto out;
  }
  if (a.n != b.n || !a.n) {
    fprintf(stderr, "saic_determinism compare: %d entries against %d\n", a.n, b.n);
    goto out;
  }
  int same_s = 0, same_y = 0, same_p = 0, maxdiff = 0, shown = 0;
  unsigned long long values = 0, differ = 0;
  for (int i = 0; i < a.n; i++) {
    const entry *x = &a.e[i], *y = &b.e[i];
    if (x->image != y->image || x->rate != y->rate || x->w != y->w || x->h != y->h ||
        strcmp(x->name, y->name) != 0) {
      fprintf(stderr, "saic_determinism compare: entry %d is %s rate %g in A, %s rate %g in B\n", i,
              x->name, x->rate, y->name, y->rate);
      goto out;
    }
    const int ss = x->slen == y->slen && !strcmp(x->ssha, y->ssha);
    const int sy = x->nsym == y->nsym && !strcmp(x->ysha, y->ysha);
    const size_t n = (size_t)x->w * (size_t)x->h * 3;
    pa = realloc(pa, n);
    pb = realloc(pb, n);
    if (!pa || !pb || read_pixels(a.pix, x->offset, pa, n) ||
        read_pixels(b.pix, y->offset, pb, n)) {
      fprintf(stderr, "saic_determinism compare: cannot read the pixels of entry %d (%s)\n", i,
              x->name);
      goto out;
    }
    int md = 0;
    for (size_t k = 0; k < n; k++) {
      const int d = pa[k] > pb[k] ? pa[k] - pb[k] : pb[k] - pa[k];
      differ += d != 0;
      md = d > md ? d : md;
    }
    values += n;
    same_s += ss;
    same_y += sy;
    same_p += md == 0;
    maxdiff = md > maxdiff ? md : maxdiff;
    if ((!ss || !sy || md) && shown++ < 10)
      printf("  differs: %s rate %g (q %d):%s%s%s (largest pixel difference %d)\n", x->name,
             x->rate, x->q, ss ? "" : " stream", sy ? "" : " symbols", md ? " pixels" : "", md);
  }
  if (shown > 10)
    printf("  ... %d more differing entries\n", shown - 10);
  printf("entries compared:             %d\n", a.n);
  printf("streams identical:            %d / %d\n", same_s, a.n);
  printf("symbols identical:            %d / %d\n", same_y, a.n);
  printf("pixels identical:             %d / %d\n", same_p, a.n);
  printf("largest abs pixel difference: %d (%llu of %llu values differ)\n", maxdiff, differ,
         values);
  rc = same_s == a.n && same_y == a.n && (!exact || same_p == a.n) ? 0 : 1;
  printf("result: %s\n", rc ? "DIFFERENT" : "OK");
out:
  free(pa);
  free(pb);
  if (a.pix)
    fclose(a.pix);
  if (b.pix)
    fclose(b.pix);
  free(a.e);
  free(b.e);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "run"))
    return cmd_run(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "compare"))
    return cmd_compare(argc, argv);
  if (argc >= 3 && !strcmp(argv[1], "model")) {
    int n = 64, m = 96, levels = 4;
    for (int i = 3; i < argc; i += 2) {
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
      int bad = !v;
      if (!bad && !strcmp(argv[i], "--n"))
        bad = parse_int(v, 1, 1024, &n);
      else if (!bad && !strcmp(argv[i], "--m"))
        bad = parse_int(v, 1, 1024, &m);
      else if (!bad && !strcmp(argv[i], "--levels"))
        bad = parse_int(v, 1, SAIC_CKPT_MAX_LEVELS, &levels);
      else
        bad = 1;
      if (bad)
        return usage();
    }
    return make_model(argv[2], n, m, levels) ? 1 : 0;
  }
  return usage();
}
