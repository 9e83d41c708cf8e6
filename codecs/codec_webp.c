/* webp: lossy WebP (VP8) through libwebp, in memory.
 *
 * Knob: `quality`, real 0..100, WebPConfig.quality (libwebp's lossy quality factor).
 * Larger quality -> more bytes.
 *
 * Settings: method=0..6 (WebPConfig.method, speed/size trade-off, default 4 as in cwebp),
 * sharp_yuv=true|false (libwebp's iterative "sharp" RGB->YUV 4:2:0 conversion, default false:
 * the plain conversion, as cwebp). Everything else is libwebp's default lossy configuration
 * (WebPConfigInit: no preset, 4 segments, default filter strength, no alpha).
 *
 * stream_bytes: the payload of the 'VP8 ' chunk, i.e. the file minus the 12-byte RIFF/WEBP
 * header, the 8-byte 'VP8 ' chunk header and the chunk's padding byte (when the payload length
 * is odd). The 10-byte VP8 key-frame header inside the payload is counted: it is part of the
 * VP8 bitstream. The encoder writes no VP8X, ALPH or metadata chunks.
 *
 * Decoding: WebPGetFeatures() first (dimensions checked against the pixel limit, animations
 * refused), then WebPDecodeRGBInto() into our own malloc()ed buffer, so the caller can free() it
 * (buffers libwebp allocates are released with WebPFree()). libwebp checks the RIFF and chunk
 * sizes against the input, so a truncated file fails. A lossless or alpha WebP from elsewhere
 * decodes to its RGB planes.
 *
 * Thread-safe: per-call WebPConfig/WebPPicture/WebPMemoryWriter; libwebp's one-time DSP
 * initialization is internally locked. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <webp/decode.h>
#include <webp/encode.h>

#include "codec_builtin.h"
#include "codec_registry.h"

#define WEBP_NAME "webp"

typedef struct webp_settings {
  int method;
  int sharp_yuv;
} webp_settings;

static const char *const webp_keys[] = {"method", "sharp_yuv", NULL};

static int webp_create(const codec_option *options, size_t n_options, void **instance, char *err,
                       size_t err_len) {
  if (!instance)
    return codec_errorf(err, err_len, WEBP_NAME ": no instance pointer");
  *instance = NULL;
  if (codec_check_options(WEBP_NAME, options, n_options, webp_keys, err, err_len))
    return -1;
  webp_settings s = {4, 0};
  for (size_t i = 0; i < n_options; i++) {
    const char *k = options[i].key, *v = options[i].value;
    int rc = 0;
    if (!strcmp(k, "method"))
      rc = codec_option_parse_int(k, v, 0, 6, &s.method, err, err_len);
    else if (!strcmp(k, "sharp_yuv"))
      rc = codec_option_parse_bool(k, v, &s.sharp_yuv, err, err_len);
    if (rc)
      return -1;
  }
  webp_settings *inst = malloc(sizeof *inst);
  if (!inst)
    return codec_errorf(err, err_len, WEBP_NAME ": out of memory");
  *inst = s;
  *instance = inst;
  return 0;
}

static void webp_destroy(void *instance) { free(instance); }

static const char *webp_error_text(WebPEncodingError e) {
  switch (e) {
  case VP8_ENC_ERROR_OUT_OF_MEMORY:
    return "out of memory";
  case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY:
    return "out of memory for the bitstream";
  case VP8_ENC_ERROR_NULL_PARAMETER:
    return "NULL parameter";
  case VP8_ENC_ERROR_INVALID_CONFIGURATION:
    return "invalid configuration";
  case VP8_ENC_ERROR_BAD_DIMENSION:
    return "bad picture dimension";
  case VP8_ENC_ERROR_PARTITION0_OVERFLOW:
    return "partition 0 overflow (> 512 KiB)";
  case VP8_ENC_ERROR_PARTITION_OVERFLOW:
    return "partition overflow (> 16 MiB)";
  case VP8_ENC_ERROR_BAD_WRITE:
    return "write error";
  case VP8_ENC_ERROR_FILE_TOO_BIG:
    return "file too big (> 4 GiB)";
  case VP8_ENC_ERROR_USER_ABORT:
    return "aborted";
  default:
    return "unknown error";
  }
}

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Payload size of the first 'VP8 ' chunk, or 0 if the RIFF structure does not parse. */
static size_t webp_vp8_payload(const uint8_t *d, size_t n) {
  if (n < 12 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WEBP", 4) != 0)
    return 0;
  size_t p = 12;
  while (n - p >= 8) {
    size_t len = le32(d + p + 4);
    if (len > n - p - 8)
      return 0;
    if (memcmp(d + p, "VP8 ", 4) == 0)
      return len;
    p += 8 + len + (len & 1);
    if (p > n)
      return 0;
  }
  return 0;
}

static int webp_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                       codec_encoded *out, char *err, size_t err_len) {
  const codec_vtable *vt = codec_webp_vtable();
  if (codec_check_encode_args(WEBP_NAME, &vt->knob, rgb, width, height, &knob, out, err, err_len))
    return -1;
  if (!instance)
    return codec_errorf(err, err_len, WEBP_NAME ": no instance");
  const webp_settings *s = instance;
  if (width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION)
    return codec_errorf(err, err_len, WEBP_NAME ": image %dx%d exceeds WebP's %d-pixel side", width,
                        height, WEBP_MAX_DIMENSION);

  WebPConfig config;
  WebPPicture pic;
  if (!WebPConfigInit(&config) || !WebPPictureInit(&pic))
    return codec_errorf(err, err_len, WEBP_NAME ": libwebp version mismatch");
  config.lossless = 0;
  config.quality = (float)knob;
  config.method = s->method;
  config.use_sharp_yuv = s->sharp_yuv;
  if (!WebPValidateConfig(&config))
    return codec_errorf(err, err_len, WEBP_NAME ": invalid configuration");

  pic.width = width;
  pic.height = height;
  /* With ARGB input WebPEncode() does the RGB->YUV conversion itself and honours use_sharp_yuv;
   * importing straight to YUV would ignore it (cwebp makes the same choice). */
  pic.use_argb = s->sharp_yuv;
  if (!WebPPictureImportRGB(&pic, rgb, width * 3)) {
    WebPPictureFree(&pic);
    return codec_errorf(err, err_len, WEBP_NAME ": cannot import the picture (out of memory)");
  }
  WebPMemoryWriter wr;
  WebPMemoryWriterInit(&wr);
  pic.writer = WebPMemoryWrite;
  pic.custom_ptr = &wr;
  int ok = WebPEncode(&config, &pic);
  WebPEncodingError code = pic.error_code;
  WebPPictureFree(&pic);
  if (!ok) {
    WebPMemoryWriterClear(&wr);
    return codec_errorf(err, err_len, WEBP_NAME " encode: %s", webp_error_text(code));
  }
  size_t payload = webp_vp8_payload(wr.mem, wr.size);
  uint8_t *copy = payload ? malloc(wr.size) : NULL;
  if (copy)
    memcpy(copy, wr.mem, wr.size);
  size_t size = wr.size;
  WebPMemoryWriterClear(&wr);
  if (!payload)
    return codec_errorf(err, err_len, WEBP_NAME " encode: cannot parse libwebp's output");
  if (!copy)
    return codec_errorf(err, err_len, WEBP_NAME ": out of memory");
  out->data = copy;
  out->size = size;
  out->stream_bytes = payload;
  return 0;
}

static const char *webp_status_text(VP8StatusCode st) {
  switch (st) {
  case VP8_STATUS_OUT_OF_MEMORY:
    return "out of memory";
  case VP8_STATUS_INVALID_PARAM:
    return "invalid parameter";
  case VP8_STATUS_BITSTREAM_ERROR:
    return "bitstream error";
  case VP8_STATUS_UNSUPPORTED_FEATURE:
    return "unsupported feature";
  case VP8_STATUS_SUSPENDED:
    return "suspended";
  case VP8_STATUS_USER_ABORT:
    return "aborted";
  case VP8_STATUS_NOT_ENOUGH_DATA:
    return "not enough data (truncated file)";
  default:
    return "unknown error";
  }
}

static int webp_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                       int *width, int *height, char *err, size_t err_len) {
  (void)instance; /* decoding needs no settings */
  if (codec_check_decode_args(WEBP_NAME, data, size, rgb, width, height, err, err_len))
    return -1;
  WebPBitstreamFeatures f;
  VP8StatusCode st = WebPGetFeatures(data, size, &f);
  if (st != VP8_STATUS_OK)
    return codec_errorf(err, err_len, WEBP_NAME " decode: %s", webp_status_text(st));
  if (f.has_animation)
    return codec_errorf(err, err_len, WEBP_NAME " decode: animated WebP is not supported");
  uint8_t *buf;
  if (codec_alloc_rgb(WEBP_NAME " decode", (uint64_t)(f.width > 0 ? f.width : 0),
                      (uint64_t)(f.height > 0 ? f.height : 0), &buf, err, err_len))
    return -1;
  size_t stride = (size_t)f.width * 3;
  if (!WebPDecodeRGBInto(data, size, buf, stride * (size_t)f.height, (int)stride)) {
    free(buf);
    /* The simple API reports no reason; the full decode repeats the header check only. */
    return codec_errorf(err, err_len, WEBP_NAME " decode: corrupt or truncated VP8/VP8L data");
  }
  *rgb = buf;
  *width = f.width;
  *height = f.height;
  return 0;
}

/* libwebp reports its version only at run time; format it once. */
static pthread_once_t webp_version_once = PTHREAD_ONCE_INIT;
static char webp_version_buf[64];

static void webp_version_init(void) {
  int e = WebPGetEncoderVersion(), d = WebPGetDecoderVersion();
  int n = snprintf(webp_version_buf, sizeof webp_version_buf, "libwebp %d.%d.%d", e >> 16,
                   (e >> 8) & 0xff, e & 0xff);
  if (d != e && n > 0 && (size_t)n < sizeof webp_version_buf)
    snprintf(webp_version_buf + n, sizeof webp_version_buf - (size_t)n, " (decoder %d.%d.%d)",
             d >> 16, (d >> 8) & 0xff, d & 0xff);
}

static const char *webp_library_version(void) {
  pthread_once(&webp_version_once, webp_version_init);
  return webp_version_buf;
}

static const codec_vtable webp_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = WEBP_NAME,
    .description = "WebP lossy (libwebp); stream_bytes = 'VP8 ' chunk payload (no RIFF headers)",
    .knob = {.name = "quality",
             .description = "libwebp lossy quality factor 0..100",
             .kind = CODEC_KNOB_REAL,
             .min = 0,
             .max = 100,
             .rate_increases = 1},
    .library_version = webp_library_version,
    .settings_help = "method=0..6  encoder effort, higher is slower and smaller (default 4)\n"
                     "sharp_yuv=true|false  sharp RGB->YUV conversion (default false)\n",
    .create = webp_create,
    .destroy = webp_destroy,
    .encode = webp_encode,
    .decode = webp_decode,
};

const codec_vtable *codec_webp_vtable(void) { return &webp_vtable; }
