/* libFuzzer target: PNG/JPEG and PPM/PGM decoding of arbitrary bytes (must never crash or
 * leak). */
#include <stddef.h>
#include <stdint.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  image_rgb8 img = {0};
  if (image_decode_memory(data, size, "fuzz", &img, err, sizeof err) == 0)
    image_free(&img);
  /* The reader of command-line codecs' output images, with their pixel limit. */
  if (image_decode_pnm_max(data, size, "fuzz", (size_t)1 << 25, &img, err, sizeof err) == 0)
    image_free(&img);
  return 0;
}
