/* jxl: lossy JPEG XL (VarDCT on XYB) through libjxl, as a bare codestream, in memory.
 *
 * Knob: `distance`, real 0.1..15, libjxl's target Butteraugli distance
 * (JxlEncoderSetFrameDistance): 1 is "visually lossless", libjxl recommends 0.5..3 and accepts
 * 0..15; below about 0.1 files only grow (0 is not lossless by itself, so it is left out).
 * Larger distance -> fewer bytes (rate_increases = -1). The range spans 150x, so the harness's
 * bpp search bisects it in log space, which suits it: rate is roughly linear in log(distance).
 *
 * Settings: effort=1..9 (JXL_ENC_FRAME_SETTING_EFFORT, default 7 as cjxl; higher is slower and
 * usually smaller). Everything else is libjxl's default for 8-bit sRGB input
 * (uses_original_profile false, i.e. XYB; no alpha, no metadata, no container, codestream
 * level chosen by libjxl). No parallel runner: one thread per encode and decode (the harness
 * parallelises over images).
 *
 * File: the bare codestream (JxlEncoderUseContainer false), starting with FF 0A.
 * stream_bytes: the codestream after the image header, i.e. the frame(s) from the first frame
 * header to the end; not counted: the signature, SizeHeader and ImageMetadata (a few bytes for
 * our files: 4 at 32x32, 5 at 768x512). The header's end is where libjxl's own decoder reports the
 * start of the first frame (at the JXL_DEC_COLOR_ENCODING event, JxlDecoderReleaseInput returns
 * the bytes from there on).
 *
 * Decoding: JxlDecoder with the BASIC_INFO and FULL_IMAGE events; the declared size is checked
 * against CODEC_MAX_PIXELS at BASIC_INFO, before the output buffer exists and before any frame is
 * decoded; animations are refused (one still image only); the stored orientation is kept (no
 * rotation, so the output size is the declared size); output is 8-bit RGB in the image's colour
 * space (sRGB for ours; no colour management), extra channels (alpha) dropped. The whole input
 * is given at once and closed, so a truncated file ends in JXL_DEC_NEED_MORE_INPUT, an error.
 *
 * Thread-safe: a JxlEncoder/JxlDecoder per call; the instance is read-only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jxl/decode.h>
#include <jxl/encode.h>

#include "codec_builtin.h"
#include "codec_registry.h"

#define JXL_NAME "jxl"

typedef struct jxl_settings {
  int effort;
} jxl_settings;

static const char *const jxl_keys[] = {"effort", NULL};

static int jxl_create(const codec_option *options, size_t n_options, void **instance, char *err,
                      size_t err_len) {
  if (!instance)
    return codec_errorf(err, err_len, JXL_NAME ": no instance pointer");
  *instance = NULL;
  if (codec_check_options(JXL_NAME, options, n_options, jxl_keys, err, err_len))
    return -1;
  jxl_settings s = {7};
  for (size_t i = 0; i < n_options; i++) {
    const char *k = options[i].key, *v = options[i].value;
    if (!strcmp(k, "effort") && codec_option_parse_int(k, v, 1, 9, &s.effort, err, err_len))
      return -1;
  }
  jxl_settings *inst = malloc(sizeof *inst);
  if (!inst)
    return codec_errorf(err, err_len, JXL_NAME ": out of memory");
  *inst = s;
  *instance = inst;
  return 0;
}

static void jxl_destroy(void *instance) { free(instance); }

static const char *jxl_enc_error_text(JxlEncoderError e) {
  switch (e) {
  case JXL_ENC_ERR_OK: return "no error code";
  case JXL_ENC_ERR_OOM: return "out of memory";
  case JXL_ENC_ERR_BAD_INPUT: return "invalid input";
  case JXL_ENC_ERR_NOT_SUPPORTED: return "not supported";
  case JXL_ENC_ERR_API_USAGE: return "API usage error";
  default: return "generic error";
  }
}

/* ---- stream_bytes ---- */

/* Bytes of the image header (signature, SizeHeader, ImageMetadata; up to the first frame), as
 * libjxl's decoder reports them; 0 if it cannot tell (cannot happen for libjxl's own output). */
static size_t jxl_header_bytes(const uint8_t *d, size_t n) {
  JxlDecoder *dec = JxlDecoderCreate(NULL);
  if (!dec)
    return 0;
  size_t head = 0;
  if (JxlDecoderSubscribeEvents(dec, JXL_DEC_COLOR_ENCODING) == JXL_DEC_SUCCESS &&
      JxlDecoderSetInput(dec, d, n) == JXL_DEC_SUCCESS) {
    JxlDecoderCloseInput(dec);
    if (JxlDecoderProcessInput(dec) == JXL_DEC_COLOR_ENCODING) {
      size_t rest = JxlDecoderReleaseInput(dec);
      if (rest > 0 && rest < n)
        head = n - rest;
    }
  }
  JxlDecoderDestroy(dec);
  return head;
}

/* ---- encode ---- */

/* Configures enc for one lossy 8-bit sRGB frame and adds the image. Returns 0 or -1 (err set). */
static int jxl_setup(JxlEncoder *enc, const jxl_settings *s, const uint8_t *rgb, int width,
                     int height, double distance, char *err, size_t err_len) {
  JxlBasicInfo info;
  JxlEncoderInitBasicInfo(&info);
  info.xsize = (uint32_t)width;
  info.ysize = (uint32_t)height;
  info.bits_per_sample = 8;
  info.exponent_bits_per_sample = 0;
  info.num_color_channels = 3;
  info.alpha_bits = 0;
  info.uses_original_profile = JXL_FALSE; /* lossy: code in XYB */
  JxlColorEncoding color;
  JxlColorEncodingSetToSRGB(&color, JXL_FALSE);
  if (JxlEncoderUseContainer(enc, JXL_FALSE) != JXL_ENC_SUCCESS ||
      JxlEncoderSetBasicInfo(enc, &info) != JXL_ENC_SUCCESS ||
      JxlEncoderSetColorEncoding(enc, &color) != JXL_ENC_SUCCESS)
    return codec_errorf(err, err_len, JXL_NAME " encode: cannot set the image header: %s",
                        jxl_enc_error_text(JxlEncoderGetError(enc)));
  JxlEncoderFrameSettings *fs = JxlEncoderFrameSettingsCreate(enc, NULL);
  if (!fs)
    return codec_errorf(err, err_len, JXL_NAME ": out of memory");
  if (JxlEncoderSetFrameDistance(fs, (float)distance) != JXL_ENC_SUCCESS ||
      JxlEncoderFrameSettingsSetOption(fs, JXL_ENC_FRAME_SETTING_EFFORT, s->effort) !=
          JXL_ENC_SUCCESS)
    return codec_errorf(err, err_len, JXL_NAME " encode: libjxl refused distance %g / effort %d",
                        distance, s->effort);
  JxlPixelFormat pf = {3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
  size_t bytes = (size_t)width * (size_t)height * 3;
  if (JxlEncoderAddImageFrame(fs, &pf, rgb, bytes) != JXL_ENC_SUCCESS)
    return codec_errorf(err, err_len, JXL_NAME " encode: cannot add the image: %s",
                        jxl_enc_error_text(JxlEncoderGetError(enc)));
  JxlEncoderCloseInput(enc);
  return 0;
}

/* Runs the encoder into a growing malloc()ed buffer. Returns 0 or -1 (err set, *buf freed). */
static int jxl_collect(JxlEncoder *enc, size_t first_guess, uint8_t **buf, size_t *size, char *err,
                       size_t err_len) {
  size_t cap = first_guess;
  uint8_t *b = malloc(cap);
  if (!b)
    return codec_errorf(err, err_len, JXL_NAME ": out of memory");
  uint8_t *next = b;
  size_t avail = cap;
  JxlEncoderStatus st;
  while ((st = JxlEncoderProcessOutput(enc, &next, &avail)) == JXL_ENC_NEED_MORE_OUTPUT) {
    size_t used = (size_t)(next - b);
    if (cap > SIZE_MAX / 2) {
      free(b);
      return codec_errorf(err, err_len, JXL_NAME ": out of memory");
    }
    uint8_t *nb = realloc(b, cap * 2);
    if (!nb) {
      free(b);
      return codec_errorf(err, err_len, JXL_NAME ": out of memory");
    }
    b = nb;
    cap *= 2;
    next = b + used;
    avail = cap - used;
  }
  if (st != JXL_ENC_SUCCESS) {
    free(b);
    return codec_errorf(err, err_len, JXL_NAME " encode: %s",
                        jxl_enc_error_text(JxlEncoderGetError(enc)));
  }
  *buf = b;
  *size = (size_t)(next - b);
  return 0;
}

static int jxl_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                      codec_encoded *out, char *err, size_t err_len) {
  const codec_vtable *vt = codec_jxl_vtable();
  if (codec_check_encode_args(JXL_NAME, &vt->knob, rgb, width, height, &knob, out, err, err_len))
    return -1;
  if (!instance)
    return codec_errorf(err, err_len, JXL_NAME ": no instance");
  JxlEncoder *enc = JxlEncoderCreate(NULL);
  if (!enc)
    return codec_errorf(err, err_len, JXL_NAME ": out of memory");
  uint8_t *buf = NULL;
  size_t size = 0;
  int rc = jxl_setup(enc, instance, rgb, width, height, knob, err, err_len);
  if (rc == 0)
    rc = jxl_collect(enc, (size_t)width * (size_t)height / 4 + 4096, &buf, &size, err, err_len);
  JxlEncoderDestroy(enc);
  if (rc)
    return -1;
  size_t head = jxl_header_bytes(buf, size);
  if (head == 0) {
    free(buf);
    return codec_errorf(err, err_len, JXL_NAME " encode: cannot parse libjxl's output");
  }
  out->data = buf;
  out->size = size;
  out->stream_bytes = size - head;
  return 0;
}

/* ---- decode ---- */

typedef struct jxl_dec_job {
  uint8_t *rgb; /* malloc()ed here, owned by the caller on success */
  uint32_t width, height;
  int have_image;
} jxl_dec_job;

/* Handles JXL_DEC_BASIC_INFO: the pixel limit before anything is allocated. */
static int jxl_on_basic_info(JxlDecoder *dec, jxl_dec_job *j, char *err, size_t err_len) {
  JxlBasicInfo info;
  if (JxlDecoderGetBasicInfo(dec, &info) != JXL_DEC_SUCCESS)
    return codec_errorf(err, err_len, JXL_NAME " decode: no basic info");
  if (info.xsize < 1 || info.ysize < 1 || (uint64_t)info.xsize * info.ysize > CODEC_MAX_PIXELS)
    return codec_errorf(err, err_len,
                        JXL_NAME " decode: image %ux%u is outside the 1..%zu-pixel limit",
                        info.xsize, info.ysize, (size_t)CODEC_MAX_PIXELS);
  if (info.have_animation)
    return codec_errorf(err, err_len, JXL_NAME " decode: animations are not supported");
  j->width = info.xsize;
  j->height = info.ysize;
  return 0;
}

/* Handles JXL_DEC_NEED_IMAGE_OUT_BUFFER: one RGB8 buffer of the declared size. */
static int jxl_on_need_buffer(JxlDecoder *dec, jxl_dec_job *j, char *err, size_t err_len) {
  static const JxlPixelFormat pf = {3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN, 0};
  if (j->rgb)
    return codec_errorf(err, err_len, JXL_NAME " decode: more than one frame to display");
  if (!j->width)
    return codec_errorf(err, err_len, JXL_NAME " decode: image data before the basic info");
  size_t need = 0;
  if (JxlDecoderImageOutBufferSize(dec, &pf, &need) != JXL_DEC_SUCCESS ||
      need != (size_t)j->width * j->height * 3)
    return codec_errorf(err, err_len,
                        JXL_NAME " decode: output buffer of %zu bytes for a %ux%u image", need,
                        j->width, j->height);
  if (codec_alloc_rgb(JXL_NAME " decode", j->width, j->height, &j->rgb, err, err_len))
    return -1;
  if (JxlDecoderSetImageOutBuffer(dec, &pf, j->rgb, need) != JXL_DEC_SUCCESS)
    return codec_errorf(err, err_len, JXL_NAME " decode: libjxl refused the output buffer");
  return 0;
}

static int jxl_decode_run(JxlDecoder *dec, const uint8_t *data, size_t size, jxl_dec_job *j,
                          char *err, size_t err_len) {
  if (JxlDecoderSubscribeEvents(dec, JXL_DEC_BASIC_INFO | JXL_DEC_FULL_IMAGE) != JXL_DEC_SUCCESS ||
      JxlDecoderSetKeepOrientation(dec, JXL_TRUE) != JXL_DEC_SUCCESS ||
      JxlDecoderSetInput(dec, data, size) != JXL_DEC_SUCCESS)
    return codec_errorf(err, err_len, JXL_NAME " decode: cannot set up the decoder");
  JxlDecoderCloseInput(dec);
  for (;;) {
    JxlDecoderStatus st = JxlDecoderProcessInput(dec);
    switch (st) {
    case JXL_DEC_SUCCESS:
      if (!j->have_image)
        return codec_errorf(err, err_len, JXL_NAME " decode: the file holds no image");
      return 0;
    case JXL_DEC_ERROR:
      return codec_errorf(err, err_len, JXL_NAME " decode: corrupt or unsupported file");
    case JXL_DEC_NEED_MORE_INPUT:
      return codec_errorf(err, err_len, JXL_NAME " decode: truncated file (%zu bytes)", size);
    case JXL_DEC_BASIC_INFO:
      if (jxl_on_basic_info(dec, j, err, err_len))
        return -1;
      break;
    case JXL_DEC_NEED_IMAGE_OUT_BUFFER:
      if (jxl_on_need_buffer(dec, j, err, err_len))
        return -1;
      break;
    case JXL_DEC_FULL_IMAGE: j->have_image = 1; break;
    default:
      return codec_errorf(err, err_len, JXL_NAME " decode: unexpected decoder status %d", (int)st);
    }
  }
}

static int jxl_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                      int *width, int *height, char *err, size_t err_len) {
  (void)instance; /* decoding needs no settings */
  if (codec_check_decode_args(JXL_NAME, data, size, rgb, width, height, err, err_len))
    return -1;
  /* Checked here too so that other files get a clear message (and libjxl prints nothing). */
  JxlSignature sig = JxlSignatureCheck(data, size);
  if (sig == JXL_SIG_NOT_ENOUGH_BYTES)
    return codec_errorf(err, err_len, JXL_NAME " decode: truncated file (%zu bytes)", size);
  if (sig != JXL_SIG_CODESTREAM && sig != JXL_SIG_CONTAINER)
    return codec_errorf(err, err_len, JXL_NAME " decode: not a JPEG XL file (no signature)");
  JxlDecoder *dec = JxlDecoderCreate(NULL);
  if (!dec)
    return codec_errorf(err, err_len, JXL_NAME ": out of memory");
  jxl_dec_job j = {NULL, 0, 0, 0};
  int rc = jxl_decode_run(dec, data, size, &j, err, err_len);
  JxlDecoderDestroy(dec);
  if (rc) {
    free(j.rgb);
    return -1;
  }
  *rgb = j.rgb;
  *width = (int)j.width;
  *height = (int)j.height;
  return 0;
}

/* ---- table ---- */

static char jxl_version_buf[64];
static pthread_once_t jxl_version_once = PTHREAD_ONCE_INIT;

/* JxlEncoderVersion() is MAJOR * 1000000 + MINOR * 1000 + PATCH. */
static void jxl_version_init(void) {
  uint32_t e = JxlEncoderVersion(), d = JxlDecoderVersion();
  int n = snprintf(jxl_version_buf, sizeof jxl_version_buf, "libjxl %u.%u.%u", e / 1000000,
                   e / 1000 % 1000, e % 1000);
  if (d != e && n > 0 && (size_t)n < sizeof jxl_version_buf)
    snprintf(jxl_version_buf + n, sizeof jxl_version_buf - (size_t)n, " (decoder %u.%u.%u)",
             d / 1000000, d / 1000 % 1000, d % 1000);
}

static const char *jxl_library_version(void) {
  pthread_once(&jxl_version_once, jxl_version_init);
  return jxl_version_buf;
}

static const codec_vtable jxl_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = JXL_NAME,
    .description = "JPEG XL lossy (libjxl, bare codestream); stream_bytes = frames (codestream "
                   "minus the image header)",
    .knob = {.name = "distance",
             .description = "libjxl Butteraugli distance 0.1..15 (1 = visually lossless)",
             .kind = CODEC_KNOB_REAL,
             .min = 0.1,
             .max = 15,
             .rate_increases = -1},
    .library_version = jxl_library_version,
    .settings_help = "effort=1..9  encoder effort, higher is slower and smaller (default 7)\n",
    .create = jxl_create,
    .destroy = jxl_destroy,
    .encode = jxl_encode,
    .decode = jxl_decode,
};

const codec_vtable *codec_jxl_vtable(void) { return &jxl_vtable; }
