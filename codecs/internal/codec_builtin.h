/* Internal to codecs/: the built-in codec tables and the argument checks they share.
 * Nothing here is part of the plugin interface. */
#ifndef SAICBENCH_CODEC_BUILTIN_H
#define SAICBENCH_CODEC_BUILTIN_H

#include <stddef.h>
#include <stdint.h>

#include "codec_registry.h"
#include "saicbench_codec.h"

const codec_vtable *codec_jpeg_vtable(void);
const codec_vtable *codec_webp_vtable(void);
const codec_vtable *codec_jpeg2000_vtable(void);
const codec_vtable *codec_avif_vtable(void);
const codec_vtable *codec_jxl_vtable(void);
/* The SAIC learned codec (saic/saic_codec.c); needs model=PATH. */
const codec_vtable *codec_saic_vtable(void);
/* Its analysis reuse (saicbench_codec.h): g_a once per image, quantise and code per knob. */
const codec_analysis_vtable *codec_saic_analysis(void);

/* CODEC_MAX_PIXELS, the built-ins' image limit: codec_registry.h. */

#if defined(__GNUC__)
#define CODEC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CODEC_PRINTF(f, a)
#endif

/* snprintf into err when err and err_len allow; always returns -1 so callers can
 * `return codec_errorf(...)`. */
int codec_errorf(char *err, size_t err_len, const char *fmt, ...) CODEC_PRINTF(3, 4);

/* Checks a create() option list: no NULL keys or values, every key in `known` (NULL-terminated),
 * no key twice. `codec` names the codec in messages. */
int codec_check_options(const char *codec, const codec_option *options, size_t n_options,
                        const char *const *known, char *err, size_t err_len);

/* Checks encode() arguments (image pointer and size, knob in range and not NaN, out present) and
 * clears *out. For integer knobs *knob_value is rounded to the nearest integer. */
int codec_check_encode_args(const char *codec, const codec_knob *knob, const uint8_t *rgb,
                            int width, int height, double *knob_value, codec_encoded *out,
                            char *err, size_t err_len);

/* Checks decode() arguments and clears the outputs. Empty input (size 0) is an error. */
int codec_check_decode_args(const char *codec, const uint8_t *data, size_t size, uint8_t **rgb,
                            int *width, int *height, char *err, size_t err_len);

/* Allocates a width x height RGB8 buffer after checking the size against CODEC_MAX_PIXELS. */
int codec_alloc_rgb(const char *codec, uint64_t width, uint64_t height, uint8_t **out, char *err,
                    size_t err_len);

#endif /* SAICBENCH_CODEC_BUILTIN_H */
