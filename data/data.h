/* data.h - sb_data: images and datasets (prefixes image_, dataset_).
 *
 * Images: RGB8 images in memory and the PNG/JPEG files they come from.
 * Datasets: CIFAR-10 binary batches, class folders (root/<class>/<image>), and plain folders of
 * unlabeled images (Kodak).
 *
 * Thread-safety: image functions are reentrant (distinct images may be used from any thread);
 * after dataset_open returns, every dataset accessor and dataset_load may be called concurrently
 * from any number of threads, and dataset_close must not race with them. */
#ifndef SAICBENCH_DATA_H
#define SAICBENCH_DATA_H

#include <stddef.h>
#include <stdint.h>

/* ================================================================ images */

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
/* Binary PPM (P6) or PGM (P5, grey becomes RGB) from memory, with image_decode_memory_max's
 * pixel limit checked from the header before any allocation; maxval 1..65535 (2-byte samples
 * above 255), rescaled to 0..255 when not 255. The exchange format of command-line codecs
 * (image_ppm.c); datasets never hold PPMs. */
int image_decode_pnm_max(const uint8_t *data, size_t size, const char *name, size_t max_pixels,
                         image_rgb8 *out, char *err, size_t err_len);
/* Writes a packed RGB8 image as a binary PPM (P6, maxval 255) to a new file (an existing file is
 * an error, not overwritten). */
int image_save_ppm(const char *path, const uint8_t *rgb, int width, int height, char *err,
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

/* ================================================================ datasets */

typedef struct dataset dataset;

typedef enum dataset_kind {
  DATASET_CIFAR_BINARY = 0,  /* data_batch_1..5.bin / test_batch.bin, 3073-byte records */
  DATASET_CLASS_FOLDERS = 1, /* root/<class>/<image>, classes sorted by name -> label index */
  DATASET_PLAIN_FOLDER = 2,  /* root/<image>, no labels */
} dataset_kind;

/* Opens `path`, detecting the layout:
 *  - a CIFAR-10 .bin file, or a folder holding CIFAR-10 .bin batches: with split "test" ->
 *    test_batch.bin, "train" -> data_batch_1..5.bin (in that order), NULL -> all of them;
 *    class names from batches.meta.txt if present, else the standard ten;
 *  - a folder whose sub-folder `split` exists (e.g. cifar10/test): that sub-folder is opened;
 *  - a folder with sub-folders holding images: class folders;
 *  - a folder with image files: plain folder.
 * Image files are *.png, *.jpg, *.jpeg (case-insensitive); items are sorted by name
 * (byte order) so indices are stable across machines. Hidden files are skipped.
 * Nothing is decoded at open; unreadable images fail in dataset_load.
 * Details (see dataset.c): a split that names no sub-folder is an error unless the folder holds
 * CIFAR-10 batches; NULL on a CIFAR-10 folder takes data_batch_1..5 then test_batch.bin; every
 * sub-folder of a class-folder dataset is a class and must hold images; image files beside
 * class folders, and deeper folders, are ignored; a folder whose sub-folders hold no images is
 * a plain folder. An empty dataset is an error. */
int dataset_open(const char *path, const char *split, dataset **out, char *err, size_t err_len);
void dataset_close(dataset *ds);

dataset_kind dataset_get_kind(const dataset *ds);
const char *dataset_kind_name(dataset_kind kind); /* "cifar-binary", "class-folders", ... */
const char *dataset_root(const dataset *ds);      /* the path actually opened */
size_t dataset_size(const dataset *ds);
int dataset_num_classes(const dataset *ds); /* 0 when unlabeled */
const char *dataset_class_name(const dataset *ds, int label);
/* Stable item name, e.g. "airplane/0001.jpg", "kodim01.png", "test_batch.bin:123". */
const char *dataset_item_name(const dataset *ds, size_t i);
int dataset_item_label(const dataset *ds, size_t i); /* -1 when unlabeled */

/* Largest image dataset_load decodes: 2^25 pixels, the built-in codecs' limit (CODEC_MAX_PIXELS,
 * codecs/codec_builtin.h). Larger images are refused from their header before any pixel is
 * decoded (a 783 KB all-zero 16384 x 16384 PNG used to cost 768 MiB per worker thread and then be
 * refused by every codec); the run stores the error for that image and goes on. */
#define DATASET_MAX_PIXELS ((size_t)1 << 25)

/* Loads item i as RGB8. On failure the message names the file and the problem. */
int dataset_load(const dataset *ds, size_t i, image_rgb8 *out, char *err, size_t err_len);
/* XXH3-128 of the item's source bytes (file contents, or the CIFAR record), as 32 hex chars. */
int dataset_item_source_hash(const dataset *ds, size_t i, char hex[33], char *err, size_t err_len);

#endif
