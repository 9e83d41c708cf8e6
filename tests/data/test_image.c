/* Unit tests of data/image.c: PNG/JPEG decoding of every colour type we accept or refuse,
 * error messages, file reading, and PNG writing. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>

#include "data_test_util.h"
#include "data.h"

static char tmp[512];

/* Decodes and expects success with the given size. */
static int decode_ok(const uint8_t *data, size_t size, const char *name, image_rgb8 *img, int w,
                     int h) {
  char err[512] = "";
  int rc = image_decode_memory(data, size, name, img, err, sizeof err);
  CHECK(rc == 0, "%s: %s", name, err);
  if (rc)
    return -1;
  CHECK(img->width == w && img->height == h, "%s: %dx%d, expected %dx%d", name, img->width,
        img->height, w, h);
  return img->width == w && img->height == h ? 0 : -1;
}

/* Decodes and expects failure with a message that starts with the name and contains `what`. */
static void decode_fails(const uint8_t *data, size_t size, const char *name, const char *what) {
  char err[512] = "";
  image_rgb8 img = {7, 7, (uint8_t *)1};
  int rc = image_decode_memory(data, size, name, &img, err, sizeof err);
  CHECK(rc != 0, "%s: decoded but should fail (%s)", name, what);
  CHECK(!strncmp(err, name, strlen(name)) && dt_contains(err, what),
        "%s: message '%s' should start with the name and mention '%s'", name, err, what);
  CHECK(img.rgb == NULL && img.width == 0 && img.height == 0, "%s: output not cleared", name);
  if (!rc)
    image_free(&img);
}

static void test_png_round_trip(void) {
  static const int sizes[][2] = {{1, 1}, {37, 23}, {64, 3}, {3, 100}};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    int w = sizes[k][0], h = sizes[k][1];
    image_rgb8 src = {w, h, dt_pattern_rgb(w, h, (uint32_t)k)};
    uint8_t *png;
    size_t size;
    char err[512] = "";
    CHECK(image_encode_png(&src, &png, &size, err, sizeof err) == 0, "%s", err);
    image_rgb8 img;
    if (decode_ok(png, size, "rt.png", &img, w, h) == 0)
      CHECK(!memcmp(img.rgb, src.rgb, (size_t)w * (size_t)h * 3));
    image_free(&img);
    free(png);

    char *path = dt_path("%s/rt_%zu.png", tmp, k);
    CHECK(image_save_png(path, &src, err, sizeof err) == 0, "%s", err);
    CHECK(image_load_file(path, &img, err, sizeof err) == 0, "%s", err);
    CHECK(img.width == w && img.height == h && img.rgb &&
          !memcmp(img.rgb, src.rgb, (size_t)w * (size_t)h * 3));
    image_free(&img);
    CHECK(img.rgb == NULL && img.width == 0);
    image_free(&img); /* twice is harmless */
    free(path);
    free(src.rgb);
  }
  image_free(NULL);

  /* Writing fails cleanly. */
  char err[512] = "";
  image_rgb8 bad = {0, 5, NULL};
  uint8_t *data = (uint8_t *)1;
  size_t size = 1;
  CHECK(image_encode_png(&bad, &data, &size, err, sizeof err) != 0 && data == NULL && size == 0);
  CHECK(dt_contains(err, "invalid image"), "%s", err);
  image_rgb8 one = {1, 1, (uint8_t[]){1, 2, 3}};
  char *nowhere = dt_path("%s/no/such/dir/x.png", tmp);
  CHECK(image_save_png(nowhere, &one, err, sizeof err) != 0);
  CHECK(!strncmp(err, nowhere, strlen(nowhere)) && dt_contains(err, "No such file"), "%s", err);
  free(nowhere);
}

static void test_png_grey(void) {
  /* 8-bit grey: replicated into R, G, B. */
  enum { W = 19, H = 7 };
  uint8_t g[W * H];
  for (int i = 0; i < W * H; i++)
    g[i] = (uint8_t)(i * 37 + 5);
  dt_png_spec s = {
      .width = W, .height = H, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 8, .samples = g};
  size_t size;
  uint8_t *png = dt_png_encode(&s, &size);
  image_rgb8 img;
  if (decode_ok(png, size, "grey8.png", &img, W, H) == 0) {
    int ok = 1;
    for (int i = 0; i < W * H; i++)
      ok &= img.rgb[3 * i] == g[i] && img.rgb[3 * i + 1] == g[i] && img.rgb[3 * i + 2] == g[i];
    CHECK(ok, "grey PNG not replicated exactly");
  }
  image_free(&img);
  free(png);

  /* 1, 2 and 4-bit grey are scaled to the full 8-bit range (v * 255 / (2^d - 1)). */
  for (int depth = 1; depth <= 4; depth *= 2) {
    enum { WS = 13, HS = 3 };
    int maxv = (1 << depth) - 1, per_byte = 8 / depth;
    size_t rb = (WS * (size_t)depth + 7) / 8;
    uint8_t packed[HS * 8] = {0}, values[WS * HS];
    for (int y = 0; y < HS; y++)
      for (int x = 0; x < WS; x++) {
        int v = (x + y) % (maxv + 1);
        values[y * WS + x] = (uint8_t)v;
        int shift = 8 - depth * (x % per_byte + 1);
        packed[(size_t)y * rb + (size_t)(x / per_byte)] |= (uint8_t)(v << shift);
      }
    dt_png_spec sd = {.width = WS,
                      .height = HS,
                      .color_type = PNG_COLOR_TYPE_GRAY,
                      .bit_depth = depth,
                      .samples = packed};
    png = dt_png_encode(&sd, &size);
    if (decode_ok(png, size, "greylow.png", &img, WS, HS) == 0) {
      int ok = 1;
      for (int i = 0; i < WS * HS; i++) {
        uint8_t e = (uint8_t)(values[i] * 255 / maxv);
        ok &= img.rgb[3 * i] == e && img.rgb[3 * i + 1] == e && img.rgb[3 * i + 2] == e;
      }
      CHECK(ok, "%d-bit grey PNG not expanded as expected", depth);
    }
    image_free(&img);
    free(png);
  }
}

/* 16-bit samples are rounded to 8 bits: round(v * 255 / 65535). */
static void test_png_16bit(void) {
  static const uint16_t vals[] = {0,   65535, 257,    128 * 257, 511,  0x80FF,
                                  128, 129,   0x7F80, 0xFF7F,    1000, 40000};
  enum { N = sizeof vals / sizeof *vals };
  for (int grey = 0; grey <= 1; grey++) {
    int ch = grey ? 1 : 3, w = N, h = 2;
    uint8_t samples[2 * N * 3 * 2];
    uint8_t expect[2 * N * 3];
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int c = 0; c < ch; c++) {
          uint16_t v = vals[(x + c + y) % N];
          size_t i = ((size_t)y * (size_t)w + (size_t)x) * (size_t)ch + (size_t)c;
          samples[2 * i] = (uint8_t)(v >> 8); /* PNG is big-endian */
          samples[2 * i + 1] = (uint8_t)v;
          expect[i] = (uint8_t)lround(v * 255.0 / 65535.0);
        }
    dt_png_spec s = {.width = w,
                     .height = h,
                     .color_type = grey ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                     .bit_depth = 16,
                     .samples = samples};
    size_t size;
    uint8_t *png = dt_png_encode(&s, &size);
    image_rgb8 img;
    if (decode_ok(png, size, "deep.png", &img, w, h) == 0) {
      int ok = 1;
      for (int p = 0; p < w * h; p++)
        for (int c = 0; c < 3; c++) {
          uint8_t e = expect[(size_t)p * (size_t)ch + (size_t)(grey ? 0 : c)];
          if (img.rgb[3 * p + c] != e) {
            ok = 0;
            fprintf(stderr, "16-bit %s: pixel %d channel %d = %d, expected %d\n",
                    grey ? "grey" : "RGB", p, c, img.rgb[3 * p + c], e);
          }
        }
      CHECK(ok);
    }
    image_free(&img);
    free(png);
  }
}

static void test_png_palette_and_interlace(void) {
  uint8_t pal[16 * 3];
  for (int i = 0; i < 16; i++) {
    pal[3 * i] = (uint8_t)(i * 16);
    pal[3 * i + 1] = (uint8_t)(255 - i * 7);
    pal[3 * i + 2] = (uint8_t)(i * i);
  }
  enum { W = 11, H = 5 };
  for (int depth = 4; depth <= 8; depth += 4) {
    uint8_t idx[W * H], packed[W * H];
    size_t rb = depth == 8 ? W : (W + 1) / 2;
    memset(packed, 0, sizeof packed);
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        uint8_t v = (uint8_t)((x * 3 + y) % 16);
        idx[y * W + x] = v;
        if (depth == 8)
          packed[(size_t)y * rb + (size_t)x] = v;
        else
          packed[(size_t)y * rb + (size_t)x / 2] |= (uint8_t)(x % 2 ? v : v << 4);
      }
    dt_png_spec s = {.width = W,
                     .height = H,
                     .color_type = PNG_COLOR_TYPE_PALETTE,
                     .bit_depth = depth,
                     .samples = packed,
                     .palette = pal,
                     .n_palette = 16};
    size_t size;
    uint8_t *png = dt_png_encode(&s, &size);
    image_rgb8 img;
    if (decode_ok(png, size, "pal.png", &img, W, H) == 0) {
      int ok = 1;
      for (int i = 0; i < W * H; i++)
        ok &= !memcmp(img.rgb + 3 * i, pal + 3 * idx[i], 3);
      CHECK(ok, "%d-bit palette PNG not expanded exactly", depth);
    }
    image_free(&img);
    free(png);

    /* A palette with tRNS is transparency: refused. */
    uint8_t trns[2] = {255, 0};
    s.trns = trns;
    s.n_trns = 2;
    png = dt_png_encode(&s, &size);
    decode_fails(png, size, "paltrns.png", "alpha");
    free(png);
  }

  /* Adam7 interlacing is undone exactly. */
  int w = 33, h = 17;
  uint8_t *rgb = dt_pattern_rgb(w, h, 9);
  dt_png_spec s = {.width = w,
                   .height = h,
                   .color_type = PNG_COLOR_TYPE_RGB,
                   .bit_depth = 8,
                   .interlace = 1,
                   .samples = rgb};
  size_t size;
  uint8_t *png = dt_png_encode(&s, &size);
  image_rgb8 img;
  if (decode_ok(png, size, "adam7.png", &img, w, h) == 0)
    CHECK(!memcmp(img.rgb, rgb, (size_t)w * (size_t)h * 3));
  image_free(&img);
  free(png);
  free(rgb);
}

static void test_png_alpha_refused(void) {
  uint8_t px[8 * 8 * 4];
  memset(px, 200, sizeof px);
  dt_png_spec s = {.width = 8,
                   .height = 8,
                   .color_type = PNG_COLOR_TYPE_RGB_ALPHA,
                   .bit_depth = 8,
                   .samples = px};
  size_t size;
  uint8_t *png = dt_png_encode(&s, &size);
  decode_fails(png, size, "rgba.png", "alpha");
  free(png);
  s.color_type = PNG_COLOR_TYPE_GRAY_ALPHA;
  png = dt_png_encode(&s, &size);
  decode_fails(png, size, "greyalpha.png", "alpha");
  free(png);
  s.color_type = PNG_COLOR_TYPE_RGB; /* a tRNS colour key is transparency too */
  s.trns_key = 1;
  png = dt_png_encode(&s, &size);
  decode_fails(png, size, "rgbkey.png", "alpha");
  free(png);
  s.color_type = PNG_COLOR_TYPE_GRAY;
  png = dt_png_encode(&s, &size);
  decode_fails(png, size, "greykey.png", "alpha");
  free(png);
}

/* PNG chunk CRC (CRC-32, reflected, polynomial 0xEDB88320). */
static uint32_t crc_of(const uint8_t *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void test_png_damaged(void) {
  int w = 40, h = 30;
  image_rgb8 src = {w, h, dt_pattern_rgb(w, h, 3)};
  uint8_t *png;
  size_t size;
  char err[512];
  CHECK(image_encode_png(&src, &png, &size, err, sizeof err) == 0);
  free(src.rgb);

  decode_fails(png, size / 2, "half.png", "truncated PNG data (libpng: ");
  decode_fails(png, 8, "sigonly.png", "truncated");
  decode_fails(png, size - 12, "noiend.png", "truncated"); /* cut off right after the image */
  decode_fails(png, 0, "zero.png", "empty");

  /* A flipped bit in IHDR breaks its CRC: a critical chunk, so an error. */
  uint8_t *bad = malloc(size);
  memcpy(bad, png, size);
  bad[20] ^= 0x01;
  decode_fails(bad, size, "crc.png", "invalid PNG data (libpng: ");

  /* Absurd dimensions (with a valid CRC) are refused before any allocation. */
  memcpy(bad, png, size);
  put_be32(bad + 16, 40000); /* IHDR width */
  put_be32(bad + 29, crc_of(bad + 12, 17));
  decode_fails(bad, size, "wide.png", "too large");
  memcpy(bad, png, size);
  put_be32(bad + 16, 30000); /* 30000 x 30000 > 2^28 pixels */
  put_be32(bad + 20, 30000);
  put_be32(bad + 29, crc_of(bad + 12, 17));
  decode_fails(bad, size, "huge.png", "too large");
  free(bad);
  free(png);
}

static double mean_abs_diff(const uint8_t *a, const uint8_t *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += abs((int)a[i] - (int)b[i]);
  return s / (double)n;
}

static void test_jpeg(void) {
  int w = 48, h = 40;
  uint8_t *rgb = dt_pattern_rgb(w, h, 5);
  for (int progressive = 0; progressive <= 1; progressive++) {
    size_t size;
    uint8_t *jpg = dt_jpeg_encode(rgb, w, h, 3, 95, progressive, &size);
    image_rgb8 img;
    if (decode_ok(jpg, size, "rgb.jpg", &img, w, h) == 0) {
      double d = mean_abs_diff(img.rgb, rgb, (size_t)w * (size_t)h * 3);
      CHECK(d < 3.0, "JPEG q95 mean abs error %.2f", d);
    }
    image_free(&img);
    /* Truncated or damaged data is an error, not a grey-padded image. */
    decode_fails(jpg, size / 2, "cut.jpg", "invalid JPEG data (libjpeg: ");
    decode_fails(jpg, size - 2, "noeoi.jpg", "Premature end of JPEG file");
    decode_fails(jpg, 3, "magic.jpg", "invalid JPEG data");
    free(jpg);
  }

  /* Grey JPEG -> RGB with identical channels. */
  uint8_t *grey = malloc((size_t)w * (size_t)h);
  for (int i = 0; i < w * h; i++)
    grey[i] = rgb[3 * i + 1];
  size_t size;
  uint8_t *jpg = dt_jpeg_encode(grey, w, h, 1, 95, 0, &size);
  image_rgb8 img;
  if (decode_ok(jpg, size, "grey.jpg", &img, w, h) == 0) {
    int same = 1;
    double d = 0;
    for (int i = 0; i < w * h; i++) {
      same &= img.rgb[3 * i] == img.rgb[3 * i + 1] && img.rgb[3 * i] == img.rgb[3 * i + 2];
      d += abs((int)img.rgb[3 * i] - (int)grey[i]);
    }
    CHECK(same, "grey JPEG channels differ");
    CHECK(d / (w * h) < 3.0, "grey JPEG mean abs error %.2f", d / (w * h));
  }
  image_free(&img);
  free(jpg);
  free(grey);

  /* CMYK JPEG: refused. */
  uint8_t *cmyk = malloc((size_t)w * (size_t)h * 4);
  memset(cmyk, 77, (size_t)w * (size_t)h * 4);
  jpg = dt_jpeg_encode(cmyk, w, h, 4, 90, 0, &size);
  decode_fails(jpg, size, "cmyk.jpg", "CMYK");
  free(jpg);
  free(cmyk);

  /* A frame header claiming 60000 x 60000 is refused before allocating. */
  jpg = dt_jpeg_encode(rgb, w, h, 3, 90, 0, &size);
  for (size_t i = 2; i + 9 < size; i++)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0) { /* SOF0: FFC0 len(2) P(1) Y(2) X(2) */
      jpg[i + 5] = 0xEA;
      jpg[i + 6] = 0x60;
      jpg[i + 7] = 0xEA;
      jpg[i + 8] = 0x60;
      break;
    }
  decode_fails(jpg, size, "bigsof.jpg", "too large");
  free(jpg);
  free(rgb);
}

static void test_unknown_and_files(void) {
  static const uint8_t gif[] = "GIF89a\x01\x00\x01\x00";
  decode_fails(gif, sizeof gif - 1, "anim.gif", "unknown image format");
  /* The message shows the first 8 bytes (it once showed only the first). */
  decode_fails(gif, sizeof gif - 1, "anim.gif", "10 bytes starting 47 49 46 38 39 61 01 00)");
  decode_fails((const uint8_t *)"\x89PNG", 4, "short.png", "unknown image format");
  decode_fails((const uint8_t *)"\x89PNG", 4, "short.png", "4 bytes starting 89 50 4e 47)");
  decode_fails((const uint8_t *)"\xff\xd8", 2, "short.jpg", "unknown image format");
  char err[512] = "";
  image_rgb8 img;
  CHECK(image_decode_memory(gif, 3, NULL, &img, err, sizeof err) != 0);
  CHECK(dt_contains(err, "(memory)"), "%s", err);
  CHECK(image_decode_memory(gif, 3, "x", &img, NULL, 0) != 0); /* no message buffer: fine */

  uint8_t *data = (uint8_t *)1;
  size_t size = 1;
  char *missing = dt_path("%s/missing.png", tmp);
  CHECK(image_read_file(missing, 100, &data, &size, err, sizeof err) != 0 && data == NULL);
  CHECK(!strncmp(err, missing, strlen(missing)) && dt_contains(err, strerror(ENOENT)), "%s", err);
  CHECK(image_load_file(missing, &img, err, sizeof err) != 0 && img.rgb == NULL);
  CHECK(dt_contains(err, missing), "%s", err);

  char *dir = dt_path("%s/folder.png", tmp);
  dt_mkdir(dir);
  CHECK(image_load_file(dir, &img, err, sizeof err) != 0);
  CHECK(dt_contains(err, dir) && dt_contains(err, "not a regular file"), "%s", err);

  char *empty = dt_path("%s/empty.jpg", tmp);
  dt_write_file(empty, "", 0);
  CHECK(image_read_file(empty, 100, &data, &size, err, sizeof err) == 0 && data && size == 0);
  free(data);
  CHECK(image_load_file(empty, &img, err, sizeof err) != 0);
  CHECK(dt_contains(err, empty) && dt_contains(err, "empty"), "%s", err);

  char *text = dt_path("%s/notes.png", tmp);
  dt_write_file(text, "hello world\n", 12);
  CHECK(image_read_file(text, 12, &data, &size, err, sizeof err) == 0 && size == 12 &&
        !memcmp(data, "hello world\n", 12));
  free(data);
  CHECK(image_read_file(text, 11, &data, &size, err, sizeof err) != 0 && data == NULL);
  CHECK(dt_contains(err, text) && dt_contains(err, "too large"), "%s", err);
  CHECK(image_load_file(text, &img, err, sizeof err) != 0);
  CHECK(dt_contains(err, text) && dt_contains(err, "unknown image format"), "%s", err);

  /* A FIFO named like an image must not block. */
  char *fifo = dt_path("%s/pipe.png", tmp);
  if (mkfifo(fifo, 0600) == 0) {
    CHECK(image_load_file(fifo, &img, err, sizeof err) != 0);
    CHECK(dt_contains(err, "not a regular file"), "%s", err);
  }

  /* Unreadable file: only meaningful when not running as root. */
  if (geteuid() != 0) {
    char *locked = dt_path("%s/locked.png", tmp);
    dt_write_file(locked, "\x89PNG", 4);
    chmod(locked, 0);
    CHECK(image_load_file(locked, &img, err, sizeof err) != 0);
    CHECK(dt_contains(err, locked) && dt_contains(err, strerror(EACCES)), "%s", err);
    free(locked);
  } else {
    printf("(running as root: unreadable-file check skipped)\n");
  }
  free(fifo);
  free(text);
  free(empty);
  free(dir);
  free(missing);
}

int main(void) {
  dt_make_tmpdir(tmp, sizeof tmp, "image");
  test_png_round_trip();
  test_png_grey();
  test_png_16bit();
  test_png_palette_and_interlace();
  test_png_alpha_refused();
  test_png_damaged();
  test_jpeg();
  test_unknown_and_files();
  dt_remove_tree(tmp);
  return sb_test_status("data_image");
}
