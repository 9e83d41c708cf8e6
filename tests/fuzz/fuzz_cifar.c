/* libFuzzer target: the CIFAR-10 binary loader (data/data.h) on arbitrary batches. The first
 * input byte k splits the rest: its first k bytes become batches.meta.txt (the class names),
 * the remainder test_batch.bin. Every item is listed, loaded and hashed; the loader must refuse
 * bad files with a message and never crash. */
#include <stddef.h>
#include <stdint.h>

#include "data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  size_t meta = data[0] < size - 1 ? data[0] : size - 1;
  char path[128];
  fuzz_write("batches.meta.txt", data + 1, meta, path, sizeof path);
  fuzz_write("test_batch.bin", data + 1 + meta, size - 1 - meta, path, sizeof path);
  char err[512];
  dataset *ds = NULL;
  if (dataset_open(fuzz_dir(), "test", &ds, err, sizeof err) != 0)
    return 0;
  const int classes = dataset_num_classes(ds);
  for (int c = 0; c < classes; c++)
    (void)dataset_class_name(ds, c);
  for (size_t i = 0; i < dataset_size(ds) && i < 64; i++) {
    (void)dataset_item_name(ds, i);
    (void)dataset_item_label(ds, i);
    image_rgb8 img = {0};
    if (dataset_load(ds, i, &img, err, sizeof err) == 0)
      image_free(&img);
    char hex[33];
    dataset_item_source_hash(ds, i, hex, err, sizeof err);
  }
  dataset_close(ds);
  return 0;
}
