/* Argument checks and error formatting shared by the built-in codecs. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_builtin.h"

int codec_errorf(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return -1;
}

int codec_check_options(const char *codec, const codec_option *options, size_t n_options,
                        const char *const *known, char *err, size_t err_len) {
  if (n_options > 0 && !options)
    return codec_errorf(err, err_len, "%s: %zu settings but no settings array", codec, n_options);
  for (size_t i = 0; i < n_options; i++) {
    const char *key = options[i].key;
    if (!key || !options[i].value)
      return codec_errorf(err, err_len, "%s: setting %zu has no %s", codec, i,
                          key ? "value" : "key");
    size_t k = 0;
    while (known[k] && strcmp(known[k], key) != 0)
      k++;
    if (!known[k]) {
      /* List what is accepted: the user most likely misspelled one of them. */
      char list[256] = "";
      size_t used = 0;
      for (size_t j = 0; known[j] && used < sizeof list; j++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", known[j]);
      return codec_errorf(err, err_len, "%s: unknown setting '%s' (accepted: %s)", codec, key,
                          known[0] ? list : "none");
    }
    for (size_t j = 0; j < i; j++)
      if (strcmp(options[j].key, key) == 0)
        return codec_errorf(err, err_len, "%s: setting '%s' given twice", codec, key);
  }
  return 0;
}

int codec_check_encode_args(const char *codec, const codec_knob *knob, const uint8_t *rgb,
                            int width, int height, double *knob_value, codec_encoded *out,
                            char *err, size_t err_len) {
  if (!out)
    return codec_errorf(err, err_len, "%s: no output given to encode", codec);
  out->data = NULL;
  out->size = 0;
  out->stream_bytes = 0;
  if (!rgb)
    return codec_errorf(err, err_len, "%s: no image given to encode", codec);
  if (width < 1 || height < 1)
    return codec_errorf(err, err_len, "%s: invalid image size %dx%d", codec, width, height);
  if ((uint64_t)width * (uint64_t)height > CODEC_MAX_PIXELS)
    return codec_errorf(err, err_len, "%s: image %dx%d exceeds the %zu-pixel limit", codec, width,
                        height, (size_t)CODEC_MAX_PIXELS);
  double v = *knob_value;
  if (isnan(v) || v < knob->min || v > knob->max)
    return codec_errorf(err, err_len, "%s: %s %g outside [%g, %g]", codec, knob->name, v, knob->min,
                        knob->max);
  if (knob->kind == CODEC_KNOB_INT)
    *knob_value = floor(v + 0.5);
  return 0;
}

int codec_check_decode_args(const char *codec, const uint8_t *data, size_t size, uint8_t **rgb,
                            int *width, int *height, char *err, size_t err_len) {
  if (!rgb || !width || !height)
    return codec_errorf(err, err_len, "%s: no output given to decode", codec);
  *rgb = NULL;
  *width = 0;
  *height = 0;
  if (!data || size == 0)
    return codec_errorf(err, err_len, "%s: empty input", codec);
  return 0;
}

int codec_alloc_rgb(const char *codec, uint64_t width, uint64_t height, uint8_t **out, char *err,
                    size_t err_len) {
  *out = NULL;
  /* Checked one factor at a time so the product cannot overflow. */
  if (width < 1 || height < 1 || width > CODEC_MAX_PIXELS || height > CODEC_MAX_PIXELS ||
      width * height > CODEC_MAX_PIXELS)
    return codec_errorf(err, err_len, "%s: image size %llux%llu is outside 1..%zu pixels", codec,
                        (unsigned long long)width, (unsigned long long)height,
                        (size_t)CODEC_MAX_PIXELS);
  *out = malloc((size_t)(width * height * 3));
  if (!*out)
    return codec_errorf(err, err_len, "%s: out of memory for a %llux%llu image", codec,
                        (unsigned long long)width, (unsigned long long)height);
  return 0;
}
