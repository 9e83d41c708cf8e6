#include "data_test_util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

int dt_contains(const char *haystack, const char *needle) {
  return haystack && needle && strstr(haystack, needle) != NULL;
}

static void die(const char *what, const char *path) {
  fprintf(stderr, "test setup failed: %s %s: %s\n", what, path ? path : "", strerror(errno));
  exit(2);
}

void dt_make_tmpdir(char *out, size_t len, const char *tag) {
  const char *base = getenv("TMPDIR");
  if (!base || !*base)
    base = "/tmp";
  snprintf(out, len, "%s/saicbench-%s-XXXXXX", base, tag);
  if (!mkdtemp(out))
    die("mkdtemp", out);
}

static void remove_tree_rec(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode)) {
    chmod(path, 0700); /* tests may have made it unreadable */
    DIR *d = opendir(path);
    if (d) {
      struct dirent *de;
      while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
          continue;
        char *sub = dt_path("%s/%s", path, de->d_name);
        remove_tree_rec(sub);
        free(sub);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

void dt_remove_tree(const char *path) {
  if (getenv("SAICBENCH_KEEP_TMP")) {
    printf("kept %s\n", path);
    return;
  }
  remove_tree_rec(path);
}

char *dt_path(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (!s)
    die("malloc", NULL);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

void dt_mkdir(const char *path) {
  if (mkdir(path, 0755) != 0)
    die("mkdir", path);
}

void dt_write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
    die("write", path);
}

uint64_t dt_rand(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1DULL;
}

uint8_t *dt_pattern_rgb(int w, int h, uint32_t seed) {
  uint8_t *p = malloc((size_t)w * (size_t)h * 3);
  if (!p)
    die("malloc", NULL);
  uint64_t st = 0x9E3779B97F4A7C15ULL ^ seed;
  double ph = seed * 0.7;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *px = p + ((size_t)y * (size_t)w + (size_t)x) * 3;
      double v[3] = {128 + 90 * sin(x * 0.21 + ph), 128 + 80 * cos(y * 0.17 - ph),
                     120 + 70 * sin((x + y) * 0.11 + 2 * ph)};
      for (int c = 0; c < 3; c++) {
        int s = (int)v[c] + (int)(dt_rand(&st) % 5) - 2; /* mild noise: PNG tests see every value */
        px[c] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
      }
    }
  return p;
}

/* ---- PNG ---- */

typedef struct mem_out {
  uint8_t *buf;
  size_t len, cap;
} mem_out;

static void png_write_cb(png_structp png, png_bytep data, size_t n) {
  mem_out *m = png_get_io_ptr(png);
  if (m->len + n > m->cap) {
    size_t cap = m->cap ? m->cap : 1024;
    while (cap < m->len + n)
      cap *= 2;
    uint8_t *nb = realloc(m->buf, cap);
    if (!nb)
      png_error(png, "out of memory");
    m->buf = nb;
    m->cap = cap;
  }
  memcpy(m->buf + m->len, data, n);
  m->len += n;
}

static void png_flush_cb(png_structp png) { (void)png; }

static size_t png_row_bytes(const dt_png_spec *s) {
  int ch = s->color_type == PNG_COLOR_TYPE_RGB          ? 3
           : s->color_type == PNG_COLOR_TYPE_RGB_ALPHA  ? 4
           : s->color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                                                        : 1;
  return ((size_t)s->width * (size_t)ch * (size_t)s->bit_depth + 7) / 8;
}

/* Kept apart from dt_png_encode so that setjmp sees no changing locals. */
static int png_encode_run(png_structp png, png_infop info, const dt_png_spec *s, mem_out *m) {
  if (setjmp(png_jmpbuf(png)))
    return -1;
  png_set_write_fn(png, m, png_write_cb, png_flush_cb);
  png_set_IHDR(png, info, (png_uint_32)s->width, (png_uint_32)s->height, s->bit_depth,
               s->color_type, s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (s->palette) {
    png_color pal[256];
    for (int i = 0; i < s->n_palette; i++)
      pal[i] = (png_color){s->palette[3 * i], s->palette[3 * i + 1], s->palette[3 * i + 2]};
    png_set_PLTE(png, info, pal, s->n_palette);
  }
  if (s->trns && s->n_trns)
    png_set_tRNS(png, info, s->trns, s->n_trns, NULL);
  if (s->trns_key) {
    png_color_16 key = {0, 10, 20, 30, 10};
    png_set_tRNS(png, info, NULL, 0, &key);
  }
  png_write_info(png, info);
  size_t rb = png_row_bytes(s);
  int passes = png_set_interlace_handling(png);
  for (int p = 0; p < passes; p++)
    for (int y = 0; y < s->height; y++)
      png_write_row(png, s->samples + (size_t)y * rb);
  png_write_end(png, NULL);
  return 0;
}

uint8_t *dt_png_encode(const dt_png_spec *s, size_t *size) {
  mem_out m = {0};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info || png_encode_run(png, info, s, &m)) {
    fprintf(stderr, "test setup failed: PNG encoding\n");
    exit(2);
  }
  png_destroy_write_struct(&png, &info);
  *size = m.len;
  return m.buf;
}

/* ---- JPEG ---- */

uint8_t *dt_jpeg_encode(const uint8_t *pixels, int w, int h, int components, int quality,
                        int progressive, size_t *size) {
  /* Encoding our own well-formed input: libjpeg's default error_exit (exit) is acceptable. */
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  unsigned char *buf = NULL;
  unsigned long len = 0;
  jpeg_mem_dest(&c, &buf, &len);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = components;
  c.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (progressive)
    jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)c.next_scanline * (size_t)w * (size_t)components);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  *size = len;
  return buf;
}
