/* libFuzzer target: the suite parser on arbitrary bytes (must never crash or leak). */
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[512];
  suite *s = NULL;
  if (suite_parse((const char *)data, size, "fuzz.yaml", &s, err, sizeof err) == 0)
    suite_free(s);
  suite *a = suite_new_adhoc("fuzz");
  if (a && size < 512) {
    char spec[512];
    for (size_t i = 0; i < size; i++)
      spec[i] = data[i] ? (char)data[i] : ':';
    spec[size] = '\0';
    suite_add_codec_spec(a, spec, "quality", err, sizeof err);
  }
  suite_free(a);
  return 0;
}
