/* Image datasets: CIFAR-10 binary batches, class folders (root/<class>/<image>), and plain
 * folders of unlabeled images (Kodak).
 *
 * Thread-safety: after dataset_open returns, every accessor and dataset_load may be called
 * concurrently from any number of threads; dataset_close must not race with them. */
#ifndef SAICBENCH_DATASET_H
#define SAICBENCH_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

typedef struct dataset dataset;

typedef enum dataset_kind {
  DATASET_CIFAR_BINARY = 0, /* data_batch_1..5.bin / test_batch.bin, 3073-byte records */
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
int dataset_item_source_hash(const dataset *ds, size_t i, char hex[33], char *err,
                             size_t err_len);

#endif
