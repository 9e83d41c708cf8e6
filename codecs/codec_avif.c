/* avif: AVIF (an AV1 key frame in a HEIF/ISOBMFF still-image file) through libavif, in memory.
 *
 * Knob: `quantizer`, integer 0..63, the AV1 quantizer on libavif's 0..63 scale: minQuantizer =
 * maxQuantizer = knob, so every frame uses exactly that quantizer (with aom, libavif 0.11 also
 * sets aom's cq-level to it in its all-intra, constant-quality mode). libavif 0.11 has no
 * `quality` field (it came in 1.0); the quantizer is what avifenc's --min/--max set, and the
 * encoders map it linearly onto AV1's qindex 0..255. 0 is AV1's lossless mode (lossless YUV,
 * not lossless RGB: the RGB->YUV conversion and chroma subsampling still round). Larger
 * quantizer -> fewer bytes (rate_increases = -1). Integer steps are coarse (about 4 qindex
 * each), so a bpp target lands up to one step below.
 *
 * Settings: encoder=aom|rav1e|svt (the AV1 encoder, default aom; create() refuses one this
 * libavif was not built with), speed=0..10 (libavif's speed, default 6 as avifenc), and
 * subsampling=420|444 (default 420). One thread per encode (maxThreads 1; the harness
 * parallelises over images), no tiling, no alpha, no metadata. aom: libavif's defaults (all-intra
 * usage, end-usage q, tune ssim). SVT-AV1 1.4 encodes only 4:2:0 with even sides of at least 64
 * pixels (create() refuses svt with 444, encode() other sizes) and logs to stderr unless SVT_LOG
 * is set (e.g. SVT_LOG=1: errors only).
 *
 * Colour: RGB -> Y'CbCr with the BT.601 matrix at full range (as JPEG/JFIF), signalled in the
 * AV1 sequence header and an nclx colr box as BT.709 primaries, sRGB transfer, BT.601 matrix,
 * full range (avifenc's defaults for 8-bit sRGB input); chroma downsampling by averaging
 * (libavif's default). Decoding converts back with the file's own CICP values and bilinear
 * chroma upsampling, to 8-bit RGB (deeper files are scaled, alpha is dropped).
 *
 * stream_bytes: the payload of the top-level `mdat` box(es), i.e. the AV1 bitstream (the
 * sequence header OBU and the frame OBU). Not counted: ftyp, meta (item info, locations and
 * properties: ispe, pixi, av1C, colr) and the mdat box header.
 *
 * Decoding: the primary item only (a still image; sequences are refused), Exif and XMP ignored,
 * libavif's strict checks on, imageSizeLimit = CODEC_MAX_PIXELS so libavif (and dav1d, which
 * gets the same frame-size limit) refuse a larger declared size while parsing the headers, before
 * any pixel buffer exists; the declared and decoded sizes are checked again here. Truncated files
 * fail: libavif checks every item extent against the input. The AV1 decoder is libavif's first
 * choice (dav1d here); AV1 decoding is bit-exact, so the decoder does not change the pixels.
 * Transform properties (clap, irot, imir) are not applied: the output is the coded image.
 *
 * Thread-safe: an avifEncoder/avifDecoder per call; the instance is read-only. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avif/avif.h>

#include "codec_builtin.h"
#include "codec_registry.h"

#define AVIF_NAME "avif"
#define AVIF_SVT_MIN_SIDE 64

typedef struct avif_settings {
  avifCodecChoice encoder;
  const char *encoder_name; /* static, for messages */
  int speed;
  avifPixelFormat format;
} avif_settings;

static const char *const avif_keys[] = {"encoder", "speed", "subsampling", NULL};

static int avif_parse_encoder(const char *value, avif_settings *s, char *err, size_t err_len) {
  static const char *const names[] = {"aom", "rav1e", "svt", NULL};
  static const avifCodecChoice choices[] = {AVIF_CODEC_CHOICE_AOM, AVIF_CODEC_CHOICE_RAV1E,
                                            AVIF_CODEC_CHOICE_SVT};
  int idx = 0;
  if (codec_option_parse_choice("encoder", value, names, &idx, err, err_len))
    return -1;
  if (!avifCodecName(choices[idx], AVIF_CODEC_FLAG_CAN_ENCODE)) {
    char have[64] = "";
    size_t used = 0;
    for (int i = 0; names[i]; i++)
      if (avifCodecName(choices[i], AVIF_CODEC_FLAG_CAN_ENCODE) && used < sizeof have)
        used +=
            (size_t)snprintf(have + used, sizeof have - used, "%s%s", used ? ", " : "", names[i]);
    return codec_errorf(err, err_len,
                        AVIF_NAME ": setting 'encoder': '%s' is not built into this libavif "
                                  "(available: %s)",
                        value, have[0] ? have : "none");
  }
  s->encoder = choices[idx];
  s->encoder_name = names[idx];
  return 0;
}

static int avif_create(const codec_option *options, size_t n_options, void **instance, char *err,
                       size_t err_len) {
  if (!instance)
    return codec_errorf(err, err_len, AVIF_NAME ": no instance pointer");
  *instance = NULL;
  if (codec_check_options(AVIF_NAME, options, n_options, avif_keys, err, err_len))
    return -1;
  avif_settings s = {AVIF_CODEC_CHOICE_AOM, "aom", 6, AVIF_PIXEL_FORMAT_YUV420};
  int explicit_encoder = 0;
  for (size_t i = 0; i < n_options; i++) {
    const char *k = options[i].key, *v = options[i].value;
    int rc = 0;
    if (!strcmp(k, "encoder")) {
      rc = avif_parse_encoder(v, &s, err, err_len);
      explicit_encoder = 1;
    } else if (!strcmp(k, "speed")) {
      rc = codec_option_parse_int(k, v, AVIF_SPEED_SLOWEST, AVIF_SPEED_FASTEST, &s.speed, err,
                                  err_len);
    } else if (!strcmp(k, "subsampling")) {
      static const char *const modes[] = {"420", "444", NULL};
      int idx = 0;
      rc = codec_option_parse_choice(k, v, modes, &idx, err, err_len);
      s.format = idx ? AVIF_PIXEL_FORMAT_YUV444 : AVIF_PIXEL_FORMAT_YUV420;
    }
    if (rc)
      return -1;
  }
  if (!explicit_encoder && avif_parse_encoder("aom", &s, err, err_len))
    return -1;
  if (s.encoder == AVIF_CODEC_CHOICE_SVT && s.format != AVIF_PIXEL_FORMAT_YUV420)
    return codec_errorf(err, err_len,
                        AVIF_NAME ": encoder svt (SVT-AV1) encodes subsampling=420 only");
  avif_settings *inst = malloc(sizeof *inst);
  if (!inst)
    return codec_errorf(err, err_len, AVIF_NAME ": out of memory");
  *inst = s;
  *instance = inst;
  return 0;
}

static void avif_destroy(void *instance) { free(instance); }

/* ---- stream_bytes ---- */

static uint64_t avif_be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

/* Total payload of the top-level mdat boxes, or 0 if the box structure does not parse (cannot
 * happen for libavif's own output). Box header: size(4) type(4), size 1 = a 64-bit size follows,
 * size 0 = to the end of the file. */
static size_t avif_mdat_payload(const uint8_t *d, size_t n) {
  size_t p = 0, total = 0;
  int found = 0;
  while (p < n) {
    if (n - p < 8)
      return 0;
    uint64_t size = avif_be(d + p, 4);
    size_t head = 8;
    if (size == 1) {
      if (n - p < 16)
        return 0;
      size = avif_be(d + p + 8, 8);
      head = 16;
    } else if (size == 0) {
      size = n - p;
    }
    if (size < head || size > n - p)
      return 0;
    if (memcmp(d + p + 4, "mdat", 4) == 0) {
      total += (size_t)size - head;
      found = 1;
    }
    p += (size_t)size;
  }
  return found ? total : 0;
}

/* ---- encode ---- */

/* libavif's result text plus its diagnostic detail, when there is one. */
static int avif_fail(const char *what, avifResult r, const avifDiagnostics *diag, char *err,
                     size_t err_len) {
  if (diag && diag->error[0])
    return codec_errorf(err, err_len, AVIF_NAME " %s: %s (%s)", what, avifResultToString(r),
                        diag->error);
  return codec_errorf(err, err_len, AVIF_NAME " %s: %s", what, avifResultToString(r));
}

/* A YUV image of the RGB input (BT.601 full range, sRGB signalled), or NULL with err set. */
static avifImage *avif_yuv_from_rgb(const avif_settings *s, const uint8_t *rgb, int width,
                                    int height, char *err, size_t err_len) {
  avifImage *img = avifImageCreate((uint32_t)width, (uint32_t)height, 8, s->format);
  if (!img) {
    codec_errorf(err, err_len, AVIF_NAME ": out of memory");
    return NULL;
  }
  img->yuvRange = AVIF_RANGE_FULL;
  img->colorPrimaries = AVIF_COLOR_PRIMARIES_BT709;
  img->transferCharacteristics = AVIF_TRANSFER_CHARACTERISTICS_SRGB;
  img->matrixCoefficients = AVIF_MATRIX_COEFFICIENTS_BT601;
  avifRGBImage src;
  avifRGBImageSetDefaults(&src, img);
  src.format = AVIF_RGB_FORMAT_RGB;
  src.depth = 8;
  src.pixels = (uint8_t *)rgb; /* read only; the cast only drops const */
  src.rowBytes = (uint32_t)width * 3;
  avifResult r = avifImageRGBToYUV(img, &src);
  if (r != AVIF_RESULT_OK) {
    avifImageDestroy(img);
    avif_fail("encode: RGB to YUV", r, NULL, err, err_len);
    return NULL;
  }
  return img;
}

static int avif_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                       codec_encoded *out, char *err, size_t err_len) {
  const codec_vtable *vt = codec_avif_vtable();
  if (codec_check_encode_args(AVIF_NAME, &vt->knob, rgb, width, height, &knob, out, err, err_len))
    return -1;
  if (!instance)
    return codec_errorf(err, err_len, AVIF_NAME ": no instance");
  const avif_settings *s = instance;
  /* SVT-AV1 would fail with only a log line on stderr; say why here. */
  if (s->encoder == AVIF_CODEC_CHOICE_SVT &&
      (width < AVIF_SVT_MIN_SIDE || height < AVIF_SVT_MIN_SIDE || (width & 1) || (height & 1)))
    return codec_errorf(err, err_len,
                        AVIF_NAME ": encoder svt (SVT-AV1) needs even sides of at least %d "
                                  "pixels, image is %dx%d",
                        AVIF_SVT_MIN_SIDE, width, height);
  avifImage *img = avif_yuv_from_rgb(s, rgb, width, height, err, err_len);
  if (!img)
    return -1;
  avifEncoder *enc = avifEncoderCreate();
  if (!enc) {
    avifImageDestroy(img);
    return codec_errorf(err, err_len, AVIF_NAME ": out of memory");
  }
  enc->codecChoice = s->encoder;
  enc->maxThreads = 1;
  enc->speed = s->speed;
  enc->minQuantizer = enc->maxQuantizer = (int)knob;
  avifRWData file = AVIF_DATA_EMPTY;
  avifResult r = avifEncoderWrite(enc, img, &file);
  int rc = -1;
  if (r != AVIF_RESULT_OK) {
    avif_fail("encode", r, &enc->diag, err, err_len);
    goto done;
  }
  size_t payload = avif_mdat_payload(file.data, file.size);
  if (!payload) {
    codec_errorf(err, err_len, AVIF_NAME " encode: cannot parse libavif's output");
    goto done;
  }
  /* Copied so that the caller can free() it (libavif's buffer belongs to its allocator). */
  out->data = malloc(file.size);
  if (!out->data) {
    codec_errorf(err, err_len, AVIF_NAME ": out of memory");
    goto done;
  }
  memcpy(out->data, file.data, file.size);
  out->size = file.size;
  out->stream_bytes = payload;
  rc = 0;
done:
  avifRWDataFree(&file);
  avifEncoderDestroy(enc);
  avifImageDestroy(img);
  return rc;
}

/* ---- decode ---- */

/* Parses and decodes the primary item into dec->image; 0 or -1 with err set. */
static int avif_decode_yuv(avifDecoder *dec, const uint8_t *data, size_t size, char *err,
                           size_t err_len) {
  dec->maxThreads = 1;
  dec->imageSizeLimit = (uint32_t)CODEC_MAX_PIXELS;
  dec->ignoreExif = AVIF_TRUE;
  dec->ignoreXMP = AVIF_TRUE;
  avifResult r = avifDecoderSetSource(dec, AVIF_DECODER_SOURCE_PRIMARY_ITEM);
  if (r == AVIF_RESULT_OK)
    r = avifDecoderSetIOMemory(dec, data, size);
  if (r == AVIF_RESULT_OK)
    r = avifDecoderParse(dec);
  if (r != AVIF_RESULT_OK)
    return avif_fail("decode", r, &dec->diag, err, err_len);
  uint32_t w = dec->image->width, h = dec->image->height;
  /* libavif checked this against imageSizeLimit already; the harness relies on it. */
  if (w < 1 || h < 1 || (uint64_t)w * h > CODEC_MAX_PIXELS)
    return codec_errorf(err, err_len,
                        AVIF_NAME " decode: image %ux%u is outside the 1..%zu-pixel limit", w, h,
                        (size_t)CODEC_MAX_PIXELS);
  if (dec->imageCount != 1)
    return codec_errorf(err, err_len,
                        AVIF_NAME " decode: %d images in the file, expected one still image",
                        dec->imageCount);
  r = avifDecoderNextImage(dec);
  if (r != AVIF_RESULT_OK)
    return avif_fail("decode", r, &dec->diag, err, err_len);
  if (dec->image->width != w || dec->image->height != h)
    return codec_errorf(err, err_len, AVIF_NAME " decode: decoded %ux%u, the header says %ux%u",
                        dec->image->width, dec->image->height, w, h);
  return 0;
}

static int avif_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                       int *width, int *height, char *err, size_t err_len) {
  (void)instance; /* decoding needs no settings */
  if (codec_check_decode_args(AVIF_NAME, data, size, rgb, width, height, err, err_len))
    return -1;
  avifDecoder *dec = avifDecoderCreate();
  if (!dec)
    return codec_errorf(err, err_len, AVIF_NAME ": out of memory");
  uint8_t *buf = NULL;
  int rc = -1;
  if (avif_decode_yuv(dec, data, size, err, err_len))
    goto done;
  const avifImage *img = dec->image;
  if (codec_alloc_rgb(AVIF_NAME " decode", img->width, img->height, &buf, err, err_len))
    goto done;
  avifRGBImage dst;
  avifRGBImageSetDefaults(&dst, img);
  dst.format = AVIF_RGB_FORMAT_RGB;
  dst.depth = 8;
  dst.chromaUpsampling = AVIF_CHROMA_UPSAMPLING_BILINEAR;
  dst.pixels = buf;
  dst.rowBytes = img->width * 3;
  avifResult r = avifImageYUVToRGB(img, &dst);
  if (r != AVIF_RESULT_OK) {
    avif_fail("decode: YUV to RGB", r, NULL, err, err_len);
    goto done;
  }
  *rgb = buf;
  *width = (int)img->width;
  *height = (int)img->height;
  buf = NULL;
  rc = 0;
done:
  free(buf);
  avifDecoderDestroy(dec);
  return rc;
}

/* ---- table ---- */

/* libavif and the AV1 codecs built into it (they decide the bytes), formatted once. */
static pthread_once_t avif_version_once = PTHREAD_ONCE_INIT;
static char avif_version_buf[320];

static void avif_version_init(void) {
  char codecs[256];
  avifCodecVersions(codecs);
  snprintf(avif_version_buf, sizeof avif_version_buf, "libavif %s with %s", avifVersion(), codecs);
}

static const char *avif_library_version(void) {
  pthread_once(&avif_version_once, avif_version_init);
  return avif_version_buf;
}

static const codec_vtable avif_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = AVIF_NAME,
    .description = "AVIF, AV1 still image (libavif); stream_bytes = mdat payload (the AV1 "
                   "bitstream, no HEIF boxes)",
    .knob = {.name = "quantizer",
             .description = "AV1 quantizer 0..63 (min = max quantizer; 0 is lossless YUV)",
             .kind = CODEC_KNOB_INT,
             .min = 0,
             .max = 63,
             .rate_increases = -1},
    .library_version = avif_library_version,
    .settings_help = "encoder=aom|rav1e|svt  AV1 encoder (default aom; svt: 420 only, sides "
                     ">= 64 and even)\n"
                     "speed=0..10  encoder speed, higher is faster and larger (default 6)\n"
                     "subsampling=420|444  chroma subsampling (default 420)\n",
    .create = avif_create,
    .destroy = avif_destroy,
    .encode = avif_encode,
    .decode = avif_decode,
};

const codec_vtable *codec_avif_vtable(void) { return &avif_vtable; }
