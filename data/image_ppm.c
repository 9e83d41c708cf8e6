/* Binary PPM (P6) and PGM (P5) images (see data.h): the exchange format between saicbench and
 * the programs of command-line codecs (codecs/codec_command_codec.c), which is why they live
 * apart from image.c's PNG and JPEG: no dataset is ever read from a PPM.
 *
 * The header is read token by token (netpbm: whitespace and '#' comments between the magic,
 * width, height and maxval, then exactly one whitespace byte before the samples), and the size
 * is checked against the caller's pixel limit before the pixel buffer is allocated, so a
 * hostile 20-byte header cannot ask for gigabytes. Samples are 1 byte when maxval < 256, else
 * 2 bytes big-endian; anything but maxval 255 is rescaled to 0..255 (rounded). Bytes after the
 * raster (netpbm allows several images in one file) are ignored. */
#include "data.h"

#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The limits of image.c's readers. */
#define PNM_MAX_SIDE 32768
#define PNM_MAX_PIXELS ((size_t)1 << 28)

static const char *pnm_name(const char *name) { return name ? name : "(memory)"; }

/* Skips whitespace and comments, then reads a decimal number of at most 9 digits. */
static int pnm_number(const uint8_t *d, size_t n, size_t *pos, unsigned long *out) {
  size_t p = *pos;
  for (;;) {
    while (p < n && (d[p] == ' ' || d[p] == '\t' || d[p] == '\n' || d[p] == '\r' || d[p] == '\v' ||
                     d[p] == '\f'))
      p++;
    if (p < n && d[p] == '#') {
      while (p < n && d[p] != '\n')
        p++;
      continue;
    }
    break;
  }
  unsigned long v = 0;
  size_t digits = 0;
  while (p < n && d[p] >= '0' && d[p] <= '9') {
    if (++digits > 9)
      return -1;
    v = v * 10 + (unsigned long)(d[p++] - '0');
  }
  if (!digits)
    return -1;
  *pos = p;
  *out = v;
  return 0;
}

/* Sample i of the raster (1 or 2 bytes) scaled to 0..255. */
static uint8_t pnm_sample(const uint8_t *raster, size_t i, unsigned long maxval) {
  unsigned long v =
      maxval < 256 ? raster[i] : (unsigned long)raster[2 * i] << 8 | raster[2 * i + 1];
  if (v > maxval) /* out of range: netpbm clamps too */
    v = maxval;
  return maxval == 255 ? (uint8_t)v : (uint8_t)((v * 255 + maxval / 2) / maxval);
}

int image_decode_pnm_max(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                         image_rgb8 *out, char *err, size_t err_len) {
  name = pnm_name(name);
  if (max_pixels == 0 || max_pixels > PNM_MAX_PIXELS)
    max_pixels = PNM_MAX_PIXELS;
  if (!out)
    return sb_errf(err, err_len, "%s: no output image given", name);
  memset(out, 0, sizeof *out);
  if (!data || size == 0)
    return sb_errf(err, err_len, "%s: empty file (0 bytes)", name);
  if (size < 2 || data[0] != 'P' || (data[1] != '6' && data[1] != '5'))
    return sb_errf(err, err_len, "%s: not a binary PPM or PGM (no P6 or P5 magic)", name);
  const size_t channels = data[1] == '6' ? 3 : 1;
  size_t pos = 2;
  unsigned long w, h, maxval;
  if (pnm_number(data, size, &pos, &w) || pnm_number(data, size, &pos, &h) ||
      pnm_number(data, size, &pos, &maxval) || pos >= size ||
      !(data[pos] == ' ' || data[pos] == '\t' || data[pos] == '\n' || data[pos] == '\r'))
    return sb_errf(err, err_len, "%s: damaged PPM header (want P6 WIDTH HEIGHT MAXVAL)", name);
  pos++; /* the one whitespace byte before the raster */
  if (maxval < 1 || maxval > 65535)
    return sb_errf(err, err_len, "%s: PPM maxval %lu outside 1..65535", name, maxval);
  if (w == 0 || h == 0)
    return sb_errf(err, err_len, "%s: PPM image has zero size (%lux%lu)", name, w, h);
  if (w > PNM_MAX_SIDE || h > PNM_MAX_SIDE || (size_t)w * h > max_pixels)
    return sb_errf(err, err_len,
                   "%s: PPM image too large (%lux%lu = %zu pixels; limit %d per side, %zu "
                   "pixels), refused before decoding",
                   name, w, h, (size_t)w * h, PNM_MAX_SIDE, max_pixels);
  const size_t n_samples = (size_t)w * h * channels, bytes = n_samples * (maxval < 256 ? 1 : 2);
  if (size - pos < bytes)
    return sb_errf(err, err_len, "%s: truncated PPM data (%zu of %zu raster bytes)", name,
                   size - pos, bytes);
  uint8_t *rgb = malloc((size_t)w * h * 3);
  if (!rgb)
    return sb_errf(err, err_len, "%s: out of memory for a %lux%lu image", name, w, h);
  const uint8_t *raster = data + pos;
  if (channels == 3 && maxval == 255) {
    memcpy(rgb, raster, n_samples);
  } else {
    for (size_t i = 0; i < (size_t)w * h; i++)
      for (size_t c = 0; c < 3; c++)
        rgb[3 * i + c] = pnm_sample(raster, channels == 3 ? 3 * i + c : i, maxval);
  }
  out->width = (int)w;
  out->height = (int)h;
  out->rgb = rgb;
  return 0;
}

int image_save_ppm(const char *path, const uint8_t *rgb, int width, int height, char *err,
                   size_t err_len) {
  char eb[128];
  if (!rgb || width < 1 || height < 1)
    return sb_errf(err, err_len, "%s: no image to write (%dx%d)", path, width, height);
  /* O_EXCL: the callers write into folders of their own; an existing file is a mistake. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  if (!f) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return sb_errf(err, err_len, "%s: cannot create: %s", path, sb_errno_text(e, eb, sizeof eb));
  }
  const size_t bytes = (size_t)width * (size_t)height * 3;
  int ok = fprintf(f, "P6\n%d %d\n255\n", width, height) > 0 && fwrite(rgb, 1, bytes, f) == bytes;
  int e = errno;
  if (fclose(f) != 0 && ok) {
    ok = 0;
    e = errno;
  }
  if (!ok) {
    remove(path); /* do not leave a truncated image behind */
    return sb_errf(err, err_len, "%s: write error: %s", path, sb_errno_text(e, eb, sizeof eb));
  }
  return 0;
}
