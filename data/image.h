/* RGB8 images in memory and the PNG/JPEG files they come from.
 * Thread-safety: all functions are reentrant; distinct images may be used from any thread. */
#ifndef SAICBENCH_IMAGE_H
#define SAICBENCH_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Packed, row-major, 3 bytes per pixel (R, G, B). rgb is malloc()ed; image_free releases. */
typedef struct image_rgb8 {
  int width, height;
  uint8_t *rgb;
} image_rgb8;

void image_free(image_rgb8 *img);

/* All functions return 0 on success and -1 on failure, with a message in err (err may be NULL)
 * of the form "<file>: <problem>", e.g. "kodim01.png: truncated PNG data (libpng: ...)". */

/* Decodes a PNG or JPEG (detected by magic bytes, not by name) from memory. Grey images become
 * RGB; 16-bit PNGs are reduced to 8 bits (rounded: v * 255 / 65535); palette PNGs are expanded.
 * Images with an alpha channel (including a PNG tRNS chunk) are refused (the benchmark must not
 * silently drop information); so are CMYK JPEGs, images over 32768 pixels on a side or 2^28
 * pixels in all (checked before allocating), and damaged data: truncated files and JPEGs that
 * libjpeg would only "repair" with a warning. Pixels are the stored samples: no gamma or ICC
 * conversion, no EXIF rotation. JPEGs use the exact ISLOW IDCT (same pixels as Pillow).
 * `name` (may be NULL) is used in messages. On failure *out is zeroed. */
int image_decode_memory(const uint8_t *data, size_t size, const char *name, image_rgb8 *out,
                        char *err, size_t err_len);
/* The same with a lower pixel limit: images over max_pixels (width x height; 0 or anything above
 * 2^28 means 2^28) are refused from their header, before any pixel is decoded or allocated, with
 * "<file>: PNG image too large (WxH = N pixels; limit ...)". Datasets use the codecs' 2^25
 * (DATASET_MAX_PIXELS), so an image no codec could take costs no decoding. */
int image_decode_memory_max(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                            image_rgb8 *out, char *err, size_t err_len);
/* Reads a whole file (at most 1 GiB) and decodes it as above; messages name `path`. */
int image_load_file(const char *path, image_rgb8 *out, char *err, size_t err_len);
int image_load_file_max(const char *path, size_t max_pixels, image_rgb8 *out, char *err,
                        size_t err_len);
/* Encodes an 8-bit RGB PNG into a malloc()ed buffer (used for report thumbnails). */
int image_encode_png(const image_rgb8 *img, uint8_t **data, size_t *size, char *err,
                     size_t err_len);
int image_save_png(const char *path, const image_rgb8 *img, char *err, size_t err_len);

/* A thumbnail of a width x height RGB8 image as PNG (the report's example strips): a box-filter
 * downscale by the smallest whole factor that brings the width to at most max_w (>= 1; factor 1
 * for narrower images), remainder rows and columns dropped. *png is malloc()ed; *tw x *th is
 * its size, *scale the factor. Deterministic: the same pixels give the same bytes. */
int image_thumbnail_png(const uint8_t *rgb, int width, int height, int max_w, uint8_t **png,
                        size_t *png_len, int *tw, int *th, int *scale, char *err, size_t err_len);

/* Reads a whole file into a malloc()ed buffer. Fails on files larger than max_size and on
 * anything but a regular file (a folder or FIFO named like an image). An empty file is read
 * successfully (size 0, non-NULL buffer). */
int image_read_file(const char *path, size_t max_size, uint8_t **data, size_t *size, char *err,
                    size_t err_len);

#endif
