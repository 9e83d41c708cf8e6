/* PNG and JPEG reading/writing for RGB8 images (see data.h).
 *
 * Both libraries report fatal errors through a callback that must not return; we longjmp back
 * to the decoder. To keep setjmp well-defined, everything that changes after setjmp lives in a
 * "job" struct owned by the caller's frame and reached through a pointer (C11 7.13.2.1: only
 * non-volatile locals of the function that called setjmp become indeterminate). */
#include "data.h"

#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include <jerror.h> /* needs jpeglib.h first */

/* Limits checked before any pixel buffer is allocated, so a 100-byte hostile header cannot ask
 * for gigabytes. 2^28 pixels is 768 MiB of RGB8; no benchmark image is near that. */
#define IMAGE_MAX_SIDE 32768
#define IMAGE_MAX_PIXELS ((size_t)1 << 28)
/* image_load_file's cap on the file size (compressed data is always far below the pixels). */
#define IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)
/* A progressive JPEG may have any number of scans, each re-walking the whole image; hostile
 * files use that to burn CPU. Real encoders write about 10. */
#define IMAGE_JPEG_MAX_SCANS 500

static const char *display_name(const char *name) { return name ? name : "(memory)"; }

void image_free(image_rgb8 *img) {
  if (!img)
    return;
  free(img->rgb);
  img->rgb = NULL;
  img->width = img->height = 0;
}

/* max_pixels: the caller's limit (image_decode_memory_max), at most IMAGE_MAX_PIXELS. */
static int check_dimensions(const char *name, const char *fmt, size_t w, size_t h,
                            size_t max_pixels, char *err, size_t err_len) {
  if (w == 0 || h == 0) {
    sb_errf(err, err_len, "%s: %s image has zero size (%zux%zu)", name, fmt, w, h);
    return -1;
  }
  if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > max_pixels) {
    sb_errf(err, err_len,
            "%s: %s image too large (%zux%zu = %zu pixels; limit %d per side, %zu pixels), "
            "refused before decoding",
            name, fmt, w, h, w * h, IMAGE_MAX_SIDE, max_pixels);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* PNG decoding (full libpng API: the simplified API treats 16-bit files as linear light and
 * applies gAMA, which would change sample values; we want the stored samples unchanged). */

typedef struct png_job {
  const uint8_t *data;
  size_t size, pos, max_pixels;
  int truncated; /* the read callback ran out of data */
  char msg[256]; /* libpng's message for the last error */
  png_structp png;
  png_infop info;
  uint8_t *pixels;
  png_bytep *rows;
} png_job;

static void png_on_error(png_structp png, png_const_charp msg) {
  png_job *job = png_get_error_ptr(png);
  snprintf(job->msg, sizeof job->msg, "%s", msg ? msg : "unknown error");
  png_longjmp(png, 1);
}

/* Warnings (bad ancillary-chunk CRCs, unknown chunks) do not affect pixels; a library must not
 * print to stderr, so they are dropped. */
static void png_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg;
}

static void png_read_mem(png_structp png, png_bytep dst, size_t n) {
  png_job *job = png_get_io_ptr(png);
  if (n > job->size - job->pos) {
    job->truncated = 1;
    png_error(png, "unexpected end of data");
  }
  memcpy(dst, job->data + job->pos, n);
  job->pos += n;
}

static const char *png_color_type_name(int ct) {
  switch (ct) {
  case PNG_COLOR_TYPE_GRAY: return "grey";
  case PNG_COLOR_TYPE_GRAY_ALPHA: return "grey+alpha";
  case PNG_COLOR_TYPE_PALETTE: return "palette";
  case PNG_COLOR_TYPE_RGB: return "RGB";
  case PNG_COLOR_TYPE_RGB_ALPHA: return "RGBA";
  default: return "unknown";
  }
}

/* Runs after setjmp; all state it changes is in *job. Returns 0 or -1 with err set. */
static int png_decode_run(png_job *job, const char *name, image_rgb8 *out, char *err,
                          size_t err_len) {
  png_structp png = job->png;
  png_infop info = job->info;
  if (setjmp(png_jmpbuf(png))) {
    sb_errf(err, err_len, "%s: %s PNG data (libpng: %s)", name,
            job->truncated ? "truncated" : "invalid", job->msg);
    return -1;
  }
  png_set_read_fn(png, job, png_read_mem);
  png_read_info(png, info);

  png_uint_32 w = 0, h = 0;
  int depth = 0, ct = 0, interlace = 0;
  png_get_IHDR(png, info, &w, &h, &depth, &ct, &interlace, NULL, NULL);
  if (ct & PNG_COLOR_MASK_ALPHA) {
    sb_errf(err, err_len,
            "%s: PNG has an alpha channel (colour type %s); images with alpha are not supported",
            name, png_color_type_name(ct));
    return -1;
  }
  if (png_get_valid(png, info, PNG_INFO_tRNS)) {
    sb_errf(err, err_len,
            "%s: PNG has alpha (a tRNS transparency chunk, colour type %s); images with alpha "
            "are not supported",
            name, png_color_type_name(ct));
    return -1;
  }
  if (check_dimensions(name, "PNG", w, h, job->max_pixels, err, err_len))
    return -1;

  /* Stored samples, no colour management: gAMA/sRGB/iCCP are ignored on purpose. */
  if (ct == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (ct == PNG_COLOR_TYPE_GRAY) {
    if (depth < 8)
      png_set_expand_gray_1_2_4_to_8(png);
    png_set_gray_to_rgb(png);
  }
  if (depth == 16)
    png_set_scale_16(png); /* rounds v*255/65535 (png_set_strip_16 would truncate) */
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != 3 ||
      png_get_rowbytes(png, info) != (size_t)w * 3) {
    sb_errf(err, err_len, "%s: PNG could not be converted to 8-bit RGB", name);
    return -1;
  }

  size_t stride = (size_t)w * 3;
  job->pixels = malloc(stride * h);
  job->rows = malloc(sizeof *job->rows * h);
  if (!job->pixels || !job->rows) {
    sb_errf(err, err_len, "%s: out of memory decoding a %ux%u PNG", name, (unsigned)w, (unsigned)h);
    return -1;
  }
  for (png_uint_32 y = 0; y < h; y++)
    job->rows[y] = job->pixels + y * stride;
  png_read_image(png, job->rows);
  /* Reading up to IEND rejects files cut off after the image data. */
  png_read_end(png, NULL);

  out->width = (int)w;
  out->height = (int)h;
  out->rgb = job->pixels;
  job->pixels = NULL;
  return 0;
}

static int png_decode(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                      image_rgb8 *out, char *err, size_t err_len) {
  png_job job;
  memset(&job, 0, sizeof job);
  job.data = data;
  job.size = size;
  job.max_pixels = max_pixels;
  job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, png_on_error, png_on_warning);
  if (job.png)
    job.info = png_create_info_struct(job.png);
  int rc = -1;
  if (!job.png || !job.info)
    sb_errf(err, err_len, "%s: out of memory (libpng)", name);
  else
    rc = png_decode_run(&job, name, out, err, err_len);
  png_destroy_read_struct(job.png ? &job.png : NULL, job.info ? &job.info : NULL, NULL);
  free(job.rows);
  free(job.pixels);
  return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* JPEG decoding. libjpeg's default error_exit calls exit() and its warnings print to stderr;
 * both are replaced. Corrupt-data warnings (e.g. "Premature end of JPEG file", after which
 * libjpeg pads the image with grey) are treated as errors: a benchmark reference must be
 * exactly the encoded image, not a silently repaired one. */

typedef struct jpeg_guard {
  struct jpeg_error_mgr pub; /* first: libjpeg hands us a pointer to it */
  struct jpeg_progress_mgr progress;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX + 64];
} jpeg_guard;

typedef struct jpeg_job {
  struct jpeg_decompress_struct cinfo;
  jpeg_guard guard;
  int created;
  uint8_t *pixels;
} jpeg_job;

static void jpeg_on_error(j_common_ptr c) {
  jpeg_guard *g = (jpeg_guard *)c->err;
  (*c->err->format_message)(c, g->msg);
  longjmp(g->jb, 1);
}

static void jpeg_on_message(j_common_ptr c, int level) {
  if (level >= 0) /* trace messages */
    return;
  /* Warnings that do not mean damaged pixels. */
  if (c->err->msg_code == JWRN_JFIF_MAJOR || c->err->msg_code == JWRN_ADOBE_XFORM)
    return;
  jpeg_on_error(c);
}

static void jpeg_on_output(j_common_ptr c) { (void)c; }

static void jpeg_on_progress(j_common_ptr c) {
  if (!c->is_decompressor)
    return;
  j_decompress_ptr d = (j_decompress_ptr)c;
  if (d->input_scan_number > IMAGE_JPEG_MAX_SCANS) {
    jpeg_guard *g = (jpeg_guard *)c->err;
    snprintf(g->msg, sizeof g->msg, "more than %d progressive scans", IMAGE_JPEG_MAX_SCANS);
    longjmp(g->jb, 1);
  }
}

static int jpeg_decode_run(jpeg_job *job, const uint8_t *data, size_t size, const char *name,
                           size_t max_pixels, image_rgb8 *out, char *err, size_t err_len) {
  struct jpeg_decompress_struct *cinfo = &job->cinfo;
  cinfo->err = jpeg_std_error(&job->guard.pub);
  job->guard.pub.error_exit = jpeg_on_error;
  job->guard.pub.emit_message = jpeg_on_message;
  job->guard.pub.output_message = jpeg_on_output;
  job->guard.progress.progress_monitor = jpeg_on_progress;
  if (setjmp(job->guard.jb)) {
    sb_errf(err, err_len, "%s: invalid JPEG data (libjpeg: %s)", name, job->guard.msg);
    return -1;
  }
  jpeg_create_decompress(cinfo);
  job->created = 1;
  cinfo->progress = &job->guard.progress;
  jpeg_mem_src(cinfo, data, (unsigned long)size);
  jpeg_read_header(cinfo, TRUE);

  int grey = 0;
  switch (cinfo->jpeg_color_space) {
  case JCS_GRAYSCALE:
    /* Decoded as grey and replicated below: portable to libjpeg builds without grey->RGB. */
    grey = 1;
    cinfo->out_color_space = JCS_GRAYSCALE;
    break;
  case JCS_YCbCr:
  case JCS_RGB: cinfo->out_color_space = JCS_RGB; break;
  case JCS_CMYK:
  case JCS_YCCK:
    sb_errf(err, err_len, "%s: CMYK JPEG is not supported (only grey and RGB/YCbCr)", name);
    return -1;
  default:
    sb_errf(err, err_len, "%s: unsupported JPEG colour space (%d components)", name,
            cinfo->num_components);
    return -1;
  }
  if (check_dimensions(name, "JPEG", cinfo->image_width, cinfo->image_height, max_pixels, err,
                       err_len))
    return -1;
  /* Explicit defaults: the reference pixels must be identical on every machine, and ISLOW with
   * fancy upsampling is libjpeg-turbo's exact, SIMD-invariant path. */
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = TRUE;
  jpeg_start_decompress(cinfo);

  size_t w = cinfo->output_width, h = cinfo->output_height;
  if (w != cinfo->image_width || h != cinfo->image_height ||
      cinfo->output_components != (grey ? 1 : 3)) {
    sb_errf(err, err_len, "%s: unexpected JPEG decoder output (%zux%zu, %d components)", name, w, h,
            cinfo->output_components);
    return -1;
  }
  size_t stride = w * 3;
  job->pixels = malloc(stride * h);
  if (!job->pixels) {
    sb_errf(err, err_len, "%s: out of memory decoding a %zux%zu JPEG", name, w, h);
    return -1;
  }
  while (cinfo->output_scanline < h) {
    uint8_t *row = job->pixels + (size_t)cinfo->output_scanline * stride;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      /* Cannot happen with a memory source (it never suspends); guards against a loop. */
      sb_errf(err, err_len, "%s: JPEG decoder returned no data", name);
      return -1;
    }
    if (grey) /* in place, right to left: sample x goes to 3x..3x+2 >= x */
      for (size_t x = w; x-- > 0;)
        row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = row[x];
  }
  jpeg_finish_decompress(cinfo); /* reads to EOI: may still report corrupt trailing data */

  out->width = (int)w;
  out->height = (int)h;
  out->rgb = job->pixels;
  job->pixels = NULL;
  return 0;
}

static int jpeg_decode(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                       image_rgb8 *out, char *err, size_t err_len) {
#if SIZE_MAX > ULONG_MAX
  if (size > ULONG_MAX) { /* jpeg_mem_src takes an unsigned long */
    sb_errf(err, err_len, "%s: JPEG data too large", name);
    return -1;
  }
#endif
  jpeg_job job;
  memset(&job, 0, sizeof job);
  int rc = jpeg_decode_run(&job, data, size, name, max_pixels, out, err, err_len);
  if (job.created)
    jpeg_destroy_decompress(&job.cinfo);
  free(job.pixels);
  return rc;
}

/* ---------------------------------------------------------------------------------------- */

int image_decode_memory(const uint8_t *data, size_t size, const char *name, image_rgb8 *out,
                        char *err, size_t err_len) {
  return image_decode_memory_max(data, size, name, 0, out, err, err_len);
}

int image_decode_memory_max(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                            image_rgb8 *out, char *err, size_t err_len) {
  static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  name = display_name(name);
  if (max_pixels == 0 || max_pixels > IMAGE_MAX_PIXELS)
    max_pixels = IMAGE_MAX_PIXELS;
  if (!out) {
    sb_errf(err, err_len, "%s: no output image given", name);
    return -1;
  }
  memset(out, 0, sizeof *out);
  if (!data || size == 0) {
    sb_errf(err, err_len, "%s: empty file (0 bytes)", name);
    return -1;
  }
  if (size >= 8 && !memcmp(data, png_magic, 8))
    return png_decode(data, size, name, max_pixels, out, err, err_len);
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
    return jpeg_decode(data, size, name, max_pixels, out, err, err_len);

  char hex[3 * 8 + 1] = "";
  size_t used = 0;
  for (size_t i = 0; i < size && i < 8; i++)
    used += (size_t)snprintf(hex + used, sizeof hex - used, "%s%02x", i ? " " : "", data[i]);
  sb_errf(err, err_len, "%s: unknown image format (not PNG or JPEG; %zu bytes starting %s)", name,
          size, hex);
  return -1;
}

int image_read_file(const char *path, size_t max_size, uint8_t **data, size_t *size, char *err,
                    size_t err_len) {
  char eb[128];
  *data = NULL;
  *size = 0;
  if (max_size > SIZE_MAX / 2) /* keeps max_size + 1 and the doubling below from overflowing */
    max_size = SIZE_MAX / 2;
  /* O_NONBLOCK: opening a FIFO that happens to be named like an image must not hang; it is
   * then refused as not a regular file. No effect on regular files. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    sb_errf(err, err_len, "%s: cannot open: %s", path, sb_errno_text(errno, eb, sizeof eb));
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    sb_errf(err, err_len, "%s: cannot stat: %s", path, sb_errno_text(errno, eb, sizeof eb));
    close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    sb_errf(err, err_len, "%s: not a regular file%s", path,
            S_ISDIR(st.st_mode) ? " (a directory)" : "");
    close(fd);
    return -1;
  }
  if ((uintmax_t)st.st_size > max_size) {
    sb_errf(err, err_len, "%s: file too large (%jd bytes; limit %zu)", path, (intmax_t)st.st_size,
            max_size);
    close(fd);
    return -1;
  }
  FILE *f = fdopen(fd, "rb");
  if (!f) {
    sb_errf(err, err_len, "%s: cannot open: %s", path, sb_errno_text(errno, eb, sizeof eb));
    close(fd);
    return -1;
  }
  /* Read to EOF rather than trusting st_size: the file may change while we read it. One byte
   * of slack lets a file that grew past max_size be detected without a second pass. */
  size_t cap = (size_t)st.st_size + 1, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    sb_errf(err, err_len, "%s: out of memory reading %zu bytes", path, cap - 1);
    fclose(f);
    return -1;
  }
  for (;;) {
    if (len == cap) {
      size_t ncap = cap <= max_size / 2 ? cap * 2 : max_size + 1;
      uint8_t *nb = realloc(buf, ncap);
      if (!nb) {
        sb_errf(err, err_len, "%s: out of memory (reading %zu bytes)", path, len);
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
      cap = ncap;
    }
    size_t want = cap - len, got = fread(buf + len, 1, want, f);
    len += got;
    if (len > max_size) {
      sb_errf(err, err_len, "%s: file too large (limit %zu bytes)", path, max_size);
      free(buf);
      fclose(f);
      return -1;
    }
    if (got < want) { /* end of file or error */
      if (ferror(f)) {
        sb_errf(err, err_len, "%s: read error: %s", path, sb_errno_text(errno, eb, sizeof eb));
        free(buf);
        fclose(f);
        return -1;
      }
      break;
    }
  }
  fclose(f);
  *data = buf;
  *size = len;
  return 0;
}

int image_load_file(const char *path, image_rgb8 *out, char *err, size_t err_len) {
  return image_load_file_max(path, 0, out, err, err_len);
}

int image_load_file_max(const char *path, size_t max_pixels, image_rgb8 *out, char *err,
                        size_t err_len) {
  if (out)
    memset(out, 0, sizeof *out);
  uint8_t *data;
  size_t size;
  if (image_read_file(path, IMAGE_MAX_FILE_BYTES, &data, &size, err, err_len))
    return -1;
  int rc = image_decode_memory_max(data, size, path, max_pixels, out, err, err_len);
  free(data);
  return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* PNG encoding into a growing memory buffer. */

typedef struct png_wjob {
  uint8_t *buf;
  size_t len, cap;
  char msg[256];
  png_structp png;
  png_infop info;
} png_wjob;

static void png_write_mem(png_structp png, png_bytep src, size_t n) {
  png_wjob *job = png_get_io_ptr(png);
  if (n > job->cap - job->len) {
    size_t ncap = job->cap ? job->cap : 4096;
    while (ncap - job->len < n) {
      if (ncap > SIZE_MAX / 2)
        png_error(png, "output too large");
      ncap *= 2;
    }
    uint8_t *nb = realloc(job->buf, ncap);
    if (!nb)
      png_error(png, "out of memory");
    job->buf = nb;
    job->cap = ncap;
  }
  memcpy(job->buf + job->len, src, n);
  job->len += n;
}

static void png_flush_mem(png_structp png) { (void)png; }

static void png_on_write_error(png_structp png, png_const_charp msg) {
  png_wjob *job = png_get_error_ptr(png);
  snprintf(job->msg, sizeof job->msg, "%s", msg ? msg : "unknown error");
  png_longjmp(png, 1);
}

static int png_encode_run(png_wjob *job, const image_rgb8 *img, char *err, size_t err_len) {
  png_structp png = job->png;
  if (setjmp(png_jmpbuf(png))) {
    sb_errf(err, err_len, "PNG encoding failed (libpng: %s)", job->msg);
    return -1;
  }
  png_set_write_fn(png, job, png_write_mem, png_flush_mem);
  png_set_IHDR(png, job->info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, job->info);
  size_t stride = (size_t)img->width * 3;
  for (int y = 0; y < img->height; y++)
    png_write_row(png, img->rgb + (size_t)y * stride);
  png_write_end(png, NULL);
  return 0;
}

int image_encode_png(const image_rgb8 *img, uint8_t **data, size_t *size, char *err,
                     size_t err_len) {
  *data = NULL;
  *size = 0;
  if (!img || !img->rgb || img->width <= 0 || img->height <= 0 || img->width > IMAGE_MAX_SIDE ||
      img->height > IMAGE_MAX_SIDE || (size_t)img->width * (size_t)img->height > IMAGE_MAX_PIXELS) {
    sb_errf(err, err_len, "cannot encode PNG: invalid image (%dx%d%s)", img ? img->width : 0,
            img ? img->height : 0, img && img->rgb ? "" : ", no pixels");
    return -1;
  }
  png_wjob job;
  memset(&job, 0, sizeof job);
  job.png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, &job, png_on_write_error, png_on_warning);
  if (job.png)
    job.info = png_create_info_struct(job.png);
  int rc = -1;
  if (!job.png || !job.info)
    sb_errf(err, err_len, "PNG encoding failed: out of memory (libpng)");
  else
    rc = png_encode_run(&job, img, err, err_len);
  png_destroy_write_struct(job.png ? &job.png : NULL, job.info ? &job.info : NULL);
  if (rc) {
    free(job.buf);
    return -1;
  }
  *data = job.buf;
  *size = job.len;
  return 0;
}

int image_save_png(const char *path, const image_rgb8 *img, char *err, size_t err_len) {
  uint8_t *data;
  size_t size;
  char inner[512];
  if (image_encode_png(img, &data, &size, inner, sizeof inner)) {
    sb_errf(err, err_len, "%s: %s", path, inner);
    return -1;
  }
  char eb[128];
  FILE *f = fopen(path, "wbe"); /* e: close-on-exec (glibc), kept from programs spawned meanwhile */
  if (!f) {
    sb_errf(err, err_len, "%s: cannot create: %s", path, sb_errno_text(errno, eb, sizeof eb));
    free(data);
    return -1;
  }
  int ok = fwrite(data, 1, size, f) == size;
  int e = errno;
  if (fclose(f) != 0 && ok) {
    ok = 0;
    e = errno;
  }
  free(data);
  if (!ok) {
    sb_errf(err, err_len, "%s: write error: %s", path, sb_errno_text(e, eb, sizeof eb));
    remove(path); /* do not leave a truncated PNG behind */
    return -1;
  }
  return 0;
}

int image_thumbnail_png(const uint8_t *rgb, int width, int height, int max_w, uint8_t **png,
                        size_t *png_len, int *tw, int *th, int *scale, char *err, size_t err_len) {
  *png = NULL;
  *png_len = 0;
  if (!rgb || width <= 0 || height <= 0 || max_w < 1 || width > IMAGE_MAX_SIDE ||
      height > IMAGE_MAX_SIDE) {
    snprintf(err, err_len, "thumbnail: bad image %dx%d or width limit %d", width, height, max_w);
    return -1;
  }
  int f = (width + max_w - 1) / max_w;
  int w = width / f, h = height / f;
  if (h < 1) { /* a strip far wider than tall: keep it whole */
    f = 1;
    w = width;
    h = height;
  }
  image_rgb8 small = {w, h, malloc((size_t)w * (size_t)h * 3)};
  if (!small.rgb) {
    snprintf(err, err_len, "thumbnail: out of memory");
    return -1;
  }
  const uint32_t n = (uint32_t)f * (uint32_t)f;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) {
        uint32_t sum = 0;
        for (int dy = 0; dy < f; dy++) {
          const uint8_t *p = rgb + ((size_t)(y * f + dy) * (size_t)width + (size_t)x * f) * 3;
          for (int dx = 0; dx < f; dx++)
            sum += p[dx * 3 + c];
        }
        small.rgb[((size_t)y * w + x) * 3 + c] = (uint8_t)((sum + n / 2) / n);
      }
  int rc = image_encode_png(&small, png, png_len, err, err_len);
  free(small.rgb);
  if (rc == 0) {
    *tw = w;
    *th = h;
    *scale = f;
  }
  return rc;
}
