/* codec_saic.c - the SAIC learned codec as the built-in codec_vtable "saic": settings, argument
 * checks and the harness's stream_bytes around the codec of codecs/saic (saic_codec.h). */
#include <stdint.h>
#include <string.h>

#include "codec_builtin.h"
#include "codec_registry.h"
#include "saic.h"

#define NAME "saic"

_Static_assert(SAIC_CODEC_MAX_PIXELS == CODEC_MAX_PIXELS,
               "the SAIC codec's image limit is the built-ins' limit");

static const char *const saic_keys[] = {"model", "threads", "max_pixels", NULL};

static int vt_create(const codec_option *options, size_t n_options, void **instance, char *err,
                     size_t err_len) {
  if (!instance)
    return codec_errorf(err, err_len, NAME ": no instance pointer");
  *instance = NULL;
  if (codec_check_options(NAME, options, n_options, saic_keys, err, err_len))
    return -1;
  const char *model = NULL;
  int threads = 1, maxpx = (int)CODEC_MAX_PIXELS;
  for (size_t i = 0; i < n_options; i++) {
    const char *k = options[i].key, *v = options[i].value;
    int rc = 0;
    if (!strcmp(k, "model"))
      model = v;
    else if (!strcmp(k, "threads"))
      rc = codec_option_parse_int(k, v, 1, 256, &threads, err, err_len);
    else if (!strcmp(k, "max_pixels"))
      rc = codec_option_parse_int(k, v, 1, (int)CODEC_MAX_PIXELS, &maxpx, err, err_len);
    if (rc)
      return -1;
  }
  if (!model || !*model)
    return codec_errorf(err, err_len,
                        NAME ": setting 'model' is required (model=PATH, a codec checkpoint "
                             "written by `saicbench export`)");
  saic_codec_opts o = {threads, (size_t)maxpx};
  saic_codec *c;
  if (saic_codec_open(model, &o, &c, err, err_len))
    return -1;
  *instance = c;
  return 0;
}

static void vt_destroy(void *instance) { saic_codec_close(instance); }

/* The instance is shared between threads; its only mutable part (the network cache) is behind
 * its mutex, so dropping const here is safe. */
static int vt_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                     codec_encoded *out, char *err, size_t err_len) {
  if (codec_check_encode_args(NAME, &codec_saic_vtable()->knob, rgb, width, height, &knob, out, err,
                              err_len))
    return -1;
  uint8_t *data;
  size_t len, payload;
  if (saic_codec_encode_payload((saic_codec *)(uintptr_t)instance, rgb, width, height, knob, &data,
                                &len, &payload, err, err_len))
    return -1;
  out->data = data;
  out->size = len;
  /* The payload; an empty one (every symbol certain) counts 1 so that 0 < stream_bytes. */
  out->stream_bytes = payload ? payload : 1;
  return 0;
}

static int vt_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                     int *width, int *height, char *err, size_t err_len) {
  if (codec_check_decode_args(NAME, data, size, rgb, width, height, err, err_len))
    return -1;
  return saic_codec_decode((saic_codec *)(uintptr_t)instance, data, size, rgb, width, height, err,
                           err_len);
}

/* Analysis reuse: the analysis is saic_codec_analyze's latent; encode_analyzed is the rest of
 * vt_encode, so both give the same stream and stream_bytes. */
static int an_analyze(const void *instance, const uint8_t *rgb, int width, int height,
                      void **analysis, char *err, size_t err_len) {
  if (!analysis)
    return codec_errorf(err, err_len, NAME ": no analysis pointer");
  *analysis = NULL;
  codec_encoded probe = {0}; /* only for the argument checks shared with encode */
  double knob = 0;
  if (codec_check_encode_args(NAME, &codec_saic_vtable()->knob, rgb, width, height, &knob, &probe,
                              err, err_len))
    return -1;
  saic_analysis *a;
  if (saic_codec_analyze((saic_codec *)(uintptr_t)instance, rgb, width, height, &a, err, err_len))
    return -1;
  *analysis = a;
  return 0;
}

static int an_encode(const void *instance, const void *analysis, double knob, codec_encoded *out,
                     char *err, size_t err_len) {
  if (!out)
    return codec_errorf(err, err_len, NAME ": no output");
  memset(out, 0, sizeof *out);
  if (!analysis)
    return codec_errorf(err, err_len, NAME ": no analysis");
  const codec_knob *k = &codec_saic_vtable()->knob;
  if (!(knob >= k->min && knob <= k->max))
    return codec_errorf(err, err_len, NAME ": %s %g outside [%g, %g]", k->name, knob, k->min,
                        k->max);
  uint8_t *data;
  size_t len, payload;
  if (saic_codec_encode_analysis((saic_codec *)(uintptr_t)instance, analysis, knob, &data, &len,
                                 &payload, err, err_len))
    return -1;
  out->data = data;
  out->size = len;
  out->stream_bytes = payload ? payload : 1; /* as vt_encode */
  return 0;
}

static void an_free(const void *instance, void *analysis) {
  (void)instance;
  saic_codec_analysis_free(analysis);
}

static const codec_analysis_vtable saic_analysis_vtable = {
    .abi_version = CODEC_ANALYSIS_ABI_VERSION,
    .analyze = an_analyze,
    .encode_analyzed = an_encode,
    .free_analysis = an_free,
};

const codec_analysis_vtable *codec_saic_analysis(void) { return &saic_analysis_vtable; }

static const char *vt_library_version(void) { return "saic bitstream 2"; }

static const codec_vtable saic_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = NAME,
    .description = "SAIC learned codec (factorized prior, integer range coder); model=PATH "
                   "names a checkpoint from `saicbench export`",
    .knob = {.name = "rate",
             .description =
                 "rate level of the model, continuous (gain interpolation): 0..levels-1 "
                 "trained, 2/3 of a level more extrapolated; values above act as the top",
             .kind = CODEC_KNOB_REAL,
             .min = 0,
             .max = SAIC_CKPT_MAX_LEVELS - 1,
             .rate_increases = 1},
    .library_version = vt_library_version,
    .settings_help = "model=PATH  codec checkpoint written by `saicbench export` (required)\n"
                     "threads=1..256  threads of the networks (default 1)\n"
                     "max_pixels=N  largest image encoded or decoded (default 33554432)",
    .create = vt_create,
    .destroy = vt_destroy,
    .encode = vt_encode,
    .decode = vt_decode,
};

const codec_vtable *codec_saic_vtable(void) { return &saic_vtable; }
