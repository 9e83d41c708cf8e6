/* jpeg2000: JPEG 2000 Part 1 raw codestream (J2K, no JP2 boxes) through OpenJPEG, in memory.
 *
 * Coding: irreversible 9/7 wavelet, irreversible colour transform (RGB -> YCbCr, "MCT"), one
 * quality layer, one tile, LRCP order, 64x64 code-blocks, default precincts. The number of
 * resolutions is `resolutions` (default 6, i.e. 5 DWT levels) reduced until the smaller image
 * side is at least 2^(resolutions-1), the limit OpenJPEG enforces (a 32x32 image gets 6,
 * 7x5 gets 3, 1x1 gets 1 = no DWT). Code-blocks larger than a sub-band are clipped to it by the
 * codec (ISO 15444-1 B.7), so tiny images need no smaller code-block size.
 *
 * Knob: `ratio`, real 1..1000: OpenJPEG's tcp_rates[0], the uncompressed size (24 bits/pixel)
 * divided by the target codestream size, main header included; OpenJPEG's rate allocation stops
 * adding coding passes when the budget is reached, so bpp <= 24 / ratio approximately (plus
 * a minimum of a few dozen bytes: headers and empty packets cannot be cut). ratio 1 keeps all
 * passes (the best this lossy path can do). Larger ratio -> fewer bytes (rate_increases = -1);
 * the harness bisects it in log space. A PSNR-targeted mode (tcp_distoratio) is not offered:
 * the knob's meaning must be fixed per codec for bisection and reports.
 *
 * Settings: resolutions=1..33 (above), comment=true|false (default true: keep the COM segment
 * "Created by OpenJPEG version ..." that OpenJPEG always writes, 39 bytes with 2.5.0, as
 * opj_compress does; false removes it from the main header, which matters at 32x32 where the
 * whole file is a few hundred bytes).
 *
 * stream_bytes: the codestream from the first SOT marker to the end (tile-part headers, packet
 * data, EOC), i.e. the file minus the main header (SOC, SIZ, COD, QCD, COM, ...).
 *
 * Decoding is strict: the input must end with the EOC marker (OpenJPEG itself decodes truncated
 * codestreams as far as they go, which would score a damaged file as a valid, blurrier one),
 * OpenJPEG's strict mode is on, any OpenJPEG warning is an error, and the result must be
 * 3 components, 8-bit unsigned, no sub-sampling, within the pixel limit. OpenJPEG's info
 * messages are dropped; its errors and warnings are captured per call into err.
 *
 * Memory: custom opj_stream callbacks over a memory buffer, no temporary files. Thread-safe: one
 * opj codec, stream and image per call; OpenJPEG's own worker threads are not used (the harness
 * parallelizes across images). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openjpeg.h>

#include "codec_builtin.h"
#include "codec_registry.h"

#define J2K_NAME "jpeg2000"
#define J2K_MAX_RES 33 /* ISO 15444-1: at most 32 decomposition levels */

typedef struct j2k_settings {
  int max_resolutions;
  int comment; /* keep OpenJPEG's COM segment */
} j2k_settings;

static const char *const j2k_keys[] = {"resolutions", "comment", NULL};

static int j2k_create(const codec_option *options, size_t n_options, void **instance, char *err,
                      size_t err_len) {
  if (!instance)
    return codec_errorf(err, err_len, J2K_NAME ": no instance pointer");
  *instance = NULL;
  if (codec_check_options(J2K_NAME, options, n_options, j2k_keys, err, err_len))
    return -1;
  j2k_settings s = {6, 1};
  for (size_t i = 0; i < n_options; i++) {
    const char *k = options[i].key, *v = options[i].value;
    int rc = 0;
    if (!strcmp(k, "resolutions"))
      rc = codec_option_parse_int(k, v, 1, J2K_MAX_RES, &s.max_resolutions, err, err_len);
    else if (!strcmp(k, "comment"))
      rc = codec_option_parse_bool(k, v, &s.comment, err, err_len);
    if (rc)
      return -1;
  }
  j2k_settings *inst = malloc(sizeof *inst);
  if (!inst)
    return codec_errorf(err, err_len, J2K_NAME ": out of memory");
  *inst = s;
  *instance = inst;
  return 0;
}

static void j2k_destroy(void *instance) { free(instance); }

/* ---- messages: per call, through the handlers' user data ---- */

typedef struct j2k_msgs {
  char error[256];   /* first error */
  char warning[256]; /* first warning */
} j2k_msgs;

static void keep_first(char *dst, size_t cap, const char *msg) {
  if (dst[0] || !msg)
    return;
  snprintf(dst, cap, "%s", msg);
  size_t n = strlen(dst);
  while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
    dst[--n] = '\0';
}

static void on_error(const char *msg, void *user) {
  j2k_msgs *m = user;
  keep_first(m->error, sizeof m->error, msg);
}

static void on_warning(const char *msg, void *user) {
  j2k_msgs *m = user;
  keep_first(m->warning, sizeof m->warning, msg);
}

static void on_info(const char *msg, void *user) {
  (void)msg;
  (void)user;
}

static void set_handlers(opj_codec_t *codec, j2k_msgs *m) {
  opj_set_info_handler(codec, on_info, m);
  opj_set_warning_handler(codec, on_warning, m);
  opj_set_error_handler(codec, on_error, m);
}

/* The most specific message available for a failed call. */
static const char *j2k_reason(const j2k_msgs *m, const char *fallback) {
  return m->error[0] ? m->error : m->warning[0] ? m->warning : fallback;
}

/* ---- memory streams ---- */

typedef struct j2k_buf {
  uint8_t *data; /* encode: malloc()ed, grows; decode: the caller's input */
  size_t size;   /* bytes valid */
  size_t cap;    /* encode only */
  size_t pos;
} j2k_buf;

static int buf_reserve(j2k_buf *b, size_t need) {
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < need) {
    if (cap > SIZE_MAX / 2)
      return -1;
    cap *= 2;
  }
  uint8_t *nd = realloc(b->data, cap);
  if (!nd)
    return -1;
  memset(nd + b->cap, 0, cap - b->cap); /* skipped-over gaps read as zeros */
  b->data = nd;
  b->cap = cap;
  return 0;
}

static OPJ_SIZE_T write_fn(void *src, OPJ_SIZE_T n, void *user) {
  j2k_buf *b = user;
  if (n > SIZE_MAX - b->pos || buf_reserve(b, b->pos + n))
    return (OPJ_SIZE_T)-1;
  memcpy(b->data + b->pos, src, n);
  b->pos += n;
  if (b->pos > b->size)
    b->size = b->pos;
  return n;
}

static OPJ_OFF_T write_skip_fn(OPJ_OFF_T n, void *user) {
  j2k_buf *b = user;
  if (n < 0 ? (size_t)-n > b->pos : (size_t)n > SIZE_MAX - b->pos)
    return -1;
  size_t pos = n < 0 ? b->pos - (size_t)-n : b->pos + (size_t)n;
  if (buf_reserve(b, pos))
    return -1;
  b->pos = pos;
  if (pos > b->size)
    b->size = pos;
  return n;
}

static OPJ_BOOL write_seek_fn(OPJ_OFF_T n, void *user) {
  j2k_buf *b = user;
  if (n < 0 || buf_reserve(b, (size_t)n))
    return OPJ_FALSE;
  b->pos = (size_t)n;
  if (b->pos > b->size)
    b->size = b->pos;
  return OPJ_TRUE;
}

static OPJ_SIZE_T read_fn(void *dst, OPJ_SIZE_T n, void *user) {
  j2k_buf *b = user;
  if (b->pos >= b->size)
    return (OPJ_SIZE_T)-1; /* OpenJPEG's end-of-stream convention */
  size_t k = b->size - b->pos < n ? b->size - b->pos : n;
  memcpy(dst, b->data + b->pos, k);
  b->pos += k;
  return k;
}

static OPJ_OFF_T read_skip_fn(OPJ_OFF_T n, void *user) {
  j2k_buf *b = user;
  if (n < 0) {
    if ((size_t)-n > b->pos)
      return -1;
    b->pos -= (size_t)-n;
    return n;
  }
  size_t k = b->size - b->pos < (size_t)n ? b->size - b->pos : (size_t)n;
  b->pos += k;
  return (OPJ_OFF_T)k;
}

static OPJ_BOOL read_seek_fn(OPJ_OFF_T n, void *user) {
  j2k_buf *b = user;
  if (n < 0 || (size_t)n > b->size)
    return OPJ_FALSE;
  b->pos = (size_t)n;
  return OPJ_TRUE;
}

/* ---- stream_bytes ---- */

/* Offset of the first SOT marker (end of the main header), or 0 if the header does not parse,
 * which cannot happen for OpenJPEG's own output. */
static size_t j2k_first_sot(const uint8_t *d, size_t n) {
  if (n < 4 || d[0] != 0xFF || d[1] != 0x4F)
    return 0;
  size_t p = 2;
  while (n - p >= 4) {
    if (d[p] != 0xFF)
      return 0;
    if (d[p + 1] == 0x90)
      return p;
    size_t len = (size_t)d[p + 2] << 8 | d[p + 3]; /* includes the length field */
    if (len < 2 || len > n - p - 2)
      return 0;
    p += 2 + len;
  }
  return 0;
}

/* Removes the COM segments of the main header in place (OpenJPEG always writes one; it is
 * informative only, and no other marker records offsets into the main header). Returns the new
 * size, or 0 if the header does not parse. */
static size_t j2k_strip_comments(uint8_t *d, size_t n) {
  size_t sot = j2k_first_sot(d, n);
  if (sot == 0)
    return 0;
  size_t p = 2;
  while (p < sot) {
    size_t len = (size_t)d[p + 2] << 8 | d[p + 3];
    if (d[p + 1] == 0x64) {
      memmove(d + p, d + p + 2 + len, n - (p + 2 + len));
      n -= 2 + len;
      sot -= 2 + len;
    } else {
      p += 2 + len;
    }
  }
  return n;
}

/* ---- encode ---- */

static int j2k_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                      codec_encoded *out, char *err, size_t err_len) {
  const codec_vtable *vt = codec_jpeg2000_vtable();
  if (codec_check_encode_args(J2K_NAME, &vt->knob, rgb, width, height, &knob, out, err, err_len))
    return -1;
  if (!instance)
    return codec_errorf(err, err_len, J2K_NAME ": no instance");
  const j2k_settings *s = instance;

  opj_cparameters_t par;
  opj_set_default_encoder_parameters(&par);
  par.tcp_numlayers = 1;
  par.tcp_rates[0] = (float)knob;
  par.cp_disto_alloc = 1;
  par.irreversible = 1;
  par.tcp_mct = 1;
  /* OpenJPEG needs the (single) tile's sides >= 2^(resolutions - 1). */
  int side = width < height ? width : height, nres = s->max_resolutions;
  while (nres > 1 && (nres - 1 >= 31 || (1 << (nres - 1)) > side))
    nres--;
  par.numresolution = nres;

  opj_image_cmptparm_t cp[3];
  memset(cp, 0, sizeof cp);
  for (int c = 0; c < 3; c++) {
    cp[c].dx = cp[c].dy = 1;
    cp[c].w = (OPJ_UINT32)width;
    cp[c].h = (OPJ_UINT32)height;
    cp[c].prec = 8;
    cp[c].sgnd = 0;
  }
  opj_image_t *img = opj_image_create(3, cp, OPJ_CLRSPC_SRGB);
  if (!img)
    return codec_errorf(err, err_len, J2K_NAME ": out of memory");
  img->x0 = img->y0 = 0;
  img->x1 = (OPJ_UINT32)width;
  img->y1 = (OPJ_UINT32)height;
  size_t npix = (size_t)width * (size_t)height;
  for (int c = 0; c < 3; c++) {
    OPJ_INT32 *dst = img->comps[c].data;
    for (size_t i = 0; i < npix; i++)
      dst[i] = rgb[i * 3 + (size_t)c];
  }

  j2k_msgs msgs;
  memset(&msgs, 0, sizeof msgs);
  j2k_buf buf = {NULL, 0, 0, 0};
  int rc = -1;
  opj_stream_t *st = NULL;
  opj_codec_t *codec = opj_create_compress(OPJ_CODEC_J2K);
  if (!codec) {
    codec_errorf(err, err_len, J2K_NAME ": out of memory");
    goto done;
  }
  set_handlers(codec, &msgs);
  if (!opj_setup_encoder(codec, &par, img)) {
    codec_errorf(err, err_len, J2K_NAME " encode: %s", j2k_reason(&msgs, "setup failed"));
    goto done;
  }
  opj_codec_set_threads(codec, 0); /* fails harmlessly without thread support */
  /* The stream's own buffer only batches writes; 64 KiB keeps tiny images cheap. */
  st = opj_stream_create(65536, OPJ_STREAM_WRITE);
  if (!st) {
    codec_errorf(err, err_len, J2K_NAME ": out of memory");
    goto done;
  }
  opj_stream_set_write_function(st, write_fn);
  opj_stream_set_skip_function(st, write_skip_fn);
  opj_stream_set_seek_function(st, write_seek_fn);
  opj_stream_set_user_data(st, &buf, NULL);
  if (!opj_start_compress(codec, img, st) || !opj_encode(codec, st) ||
      !opj_end_compress(codec, st)) {
    codec_errorf(err, err_len, J2K_NAME " encode: %s", j2k_reason(&msgs, "encoding failed"));
    goto done;
  }
  if (!s->comment)
    buf.size = j2k_strip_comments(buf.data, buf.size);
  size_t sot = j2k_first_sot(buf.data, buf.size);
  if (sot == 0) {
    codec_errorf(err, err_len, J2K_NAME " encode: cannot parse OpenJPEG's output");
    goto done;
  }
  out->data = buf.data;
  out->size = buf.size;
  out->stream_bytes = buf.size - sot;
  buf.data = NULL;
  rc = 0;
done:
  if (st)
    opj_stream_destroy(st);
  if (codec)
    opj_destroy_codec(codec);
  opj_image_destroy(img);
  free(buf.data);
  return rc;
}

/* ---- decode ---- */

static int j2k_check_image(const opj_image_t *img, int after_decode, char *why, size_t why_len) {
  if (img->numcomps != 3)
    return codec_errorf(why, why_len, "%u components, expected 3", img->numcomps);
  for (int c = 0; c < 3; c++) {
    const opj_image_comp_t *k = &img->comps[c];
    if (k->prec != 8 || k->sgnd)
      return codec_errorf(why, why_len, "component %d is %s %u-bit, expected unsigned 8-bit", c,
                          k->sgnd ? "signed" : "unsigned", k->prec);
    if (k->dx != 1 || k->dy != 1)
      return codec_errorf(why, why_len, "component %d is sub-sampled", c);
    if (k->w != img->comps[0].w || k->h != img->comps[0].h)
      return codec_errorf(why, why_len, "components differ in size");
    if (after_decode && !k->data)
      return codec_errorf(why, why_len, "component %d was not decoded", c);
  }
  if (img->comps[0].w < 1 || img->comps[0].h < 1 ||
      (uint64_t)img->comps[0].w * img->comps[0].h > CODEC_MAX_PIXELS)
    return codec_errorf(why, why_len, "image %ux%u is outside 1..%zu pixels", img->comps[0].w,
                        img->comps[0].h, (size_t)CODEC_MAX_PIXELS);
  return 0;
}

static int j2k_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                      int *width, int *height, char *err, size_t err_len) {
  (void)instance; /* decoding needs no settings */
  if (codec_check_decode_args(J2K_NAME, data, size, rgb, width, height, err, err_len))
    return -1;
  if (size < 4 || data[0] != 0xFF || data[1] != 0x4F)
    return codec_errorf(err, err_len, J2K_NAME " decode: no SOC marker (not a J2K codestream)");
  if (data[size - 2] != 0xFF || data[size - 1] != 0xD9)
    return codec_errorf(err, err_len, J2K_NAME " decode: no EOC marker at the end (truncated)");

  j2k_msgs msgs;
  memset(&msgs, 0, sizeof msgs);
  j2k_buf buf = {(uint8_t *)data, size, 0, 0}; /* read-only use; the cast only drops const */
  char why[256] = "";
  int rc = -1;
  opj_image_t *img = NULL;
  opj_stream_t *st = NULL;
  opj_codec_t *codec = opj_create_decompress(OPJ_CODEC_J2K);
  if (!codec) {
    codec_errorf(err, err_len, J2K_NAME ": out of memory");
    goto done;
  }
  set_handlers(codec, &msgs);
  opj_dparameters_t par;
  opj_set_default_decoder_parameters(&par);
  if (!opj_setup_decoder(codec, &par)) {
    codec_errorf(err, err_len, J2K_NAME " decode: %s", j2k_reason(&msgs, "setup failed"));
    goto done;
  }
  opj_decoder_set_strict_mode(codec, OPJ_TRUE);
  opj_codec_set_threads(codec, 0);
  st = opj_stream_create(size < 65536 ? size : 65536, OPJ_STREAM_READ);
  if (!st) {
    codec_errorf(err, err_len, J2K_NAME ": out of memory");
    goto done;
  }
  opj_stream_set_read_function(st, read_fn);
  opj_stream_set_skip_function(st, read_skip_fn);
  opj_stream_set_seek_function(st, read_seek_fn);
  opj_stream_set_user_data(st, &buf, NULL);
  opj_stream_set_user_data_length(st, size);
  if (!opj_read_header(st, codec, &img) || msgs.warning[0]) {
    codec_errorf(err, err_len, J2K_NAME " decode: %s", j2k_reason(&msgs, "bad main header"));
    goto done;
  }
  /* Checked before decoding: a hostile SIZ must not make OpenJPEG allocate the image. */
  if (j2k_check_image(img, 0, why, sizeof why)) {
    codec_errorf(err, err_len, J2K_NAME " decode: %s", why);
    goto done;
  }
  if (!opj_decode(codec, st, img) || !opj_end_decompress(codec, st) || msgs.warning[0] ||
      msgs.error[0]) {
    codec_errorf(err, err_len, J2K_NAME " decode: %s", j2k_reason(&msgs, "decoding failed"));
    goto done;
  }
  if (j2k_check_image(img, 1, why, sizeof why)) {
    codec_errorf(err, err_len, J2K_NAME " decode: %s", why);
    goto done;
  }
  uint32_t w = img->comps[0].w, h = img->comps[0].h;
  uint8_t *pix;
  if (codec_alloc_rgb(J2K_NAME " decode", w, h, &pix, err, err_len))
    goto done;
  size_t npix = (size_t)w * h;
  for (int c = 0; c < 3; c++) {
    const OPJ_INT32 *src = img->comps[c].data;
    for (size_t i = 0; i < npix; i++) {
      OPJ_INT32 v = src[i]; /* OpenJPEG clamps to the precision; clamp again to be sure */
      pix[i * 3 + (size_t)c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  *rgb = pix;
  *width = (int)w;
  *height = (int)h;
  rc = 0;
done:
  if (st)
    opj_stream_destroy(st);
  if (codec)
    opj_destroy_codec(codec);
  if (img)
    opj_image_destroy(img);
  return rc;
}

/* opj_version() is only known at run time; format it once. */
static pthread_once_t j2k_version_once = PTHREAD_ONCE_INIT;
static char j2k_version_buf[64];

static void j2k_version_init(void) {
  snprintf(j2k_version_buf, sizeof j2k_version_buf, "OpenJPEG %s", opj_version());
}

static const char *j2k_library_version(void) {
  pthread_once(&j2k_version_once, j2k_version_init);
  return j2k_version_buf;
}

static const codec_vtable j2k_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = J2K_NAME,
    .description = "JPEG 2000 (OpenJPEG), 9/7 wavelet, raw J2K codestream; stream_bytes = "
                   "codestream from the first SOT (no main header)",
    .knob = {.name = "ratio",
             .description = "compression ratio 1..1000: 24 bpp / target bpp (larger is smaller)",
             .kind = CODEC_KNOB_REAL,
             .min = 1,
             .max = 1000,
             .rate_increases = -1},
    .library_version = j2k_library_version,
    .settings_help = "resolutions=1..33  most resolution levels, DWT levels + 1 (default 6; "
                     "fewer for small images)\n"
                     "comment=true|false  keep OpenJPEG's COM marker, 39 bytes with 2.5.0 "
                     "(default true)\n",
    .create = j2k_create,
    .destroy = j2k_destroy,
    .encode = j2k_encode,
    .decode = j2k_decode,
};

const codec_vtable *codec_jpeg2000_vtable(void) { return &j2k_vtable; }
