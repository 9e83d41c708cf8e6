/* jpeg: baseline (or progressive) JPEG through libjpeg-turbo's libjpeg API, in memory.
 *
 * Knob: `quality`, integer 1..100, libjpeg's quality factor (IJG scaling of the ITU-T T.81
 * Annex K tables, jpeg_set_quality with force_baseline=TRUE so every table entry fits in 8 bits
 * and any decoder accepts the file; below about quality 25 some entries saturate at 255).
 * Larger quality -> more bytes.
 *
 * Settings: subsampling=420|422|444 (default 420), optimize=true|false (image-optimized Huffman
 * tables, default false: the standard Annex K tables), progressive=true|false (default false;
 * libjpeg always optimizes the tables of progressive files), jfif=true|false (write the 18-byte
 * JFIF APP0 segment, default true, as cjpeg does; decoders do not need it).
 * Both directions use the accurate integer DCT (JDCT_ISLOW); decoding uses libjpeg's default
 * fancy (triangular) chroma upsampling.
 *
 * stream_bytes: the entropy-coded data of every scan: for each SOS segment, the bytes after its
 * header up to the next marker other than RSTn (byte stuffing and RST markers included). Not
 * counted: SOI, APPn, DQT, SOF, DHT, SOS headers and EOI. For a baseline file this is "the bytes
 * after the SOS header up to EOI". With optimize=true or progressive=true the DHT tables depend
 * on the image but are still not counted: stream_bytes is "JPEG without tables".
 *
 * Errors: libjpeg's default error handler calls exit(); a per-call error manager turns errors
 * into a longjmp back to the codec and returns libjpeg's own message. Every warning (e.g.
 * "Premature end of JPEG file", "Corrupt JPEG data: ...") is an error too, so a damaged file
 * never yields a silently padded image; nothing is printed to stderr.
 *
 * Memory: the encoder writes through its own growable destination manager rather than
 * jpeg_mem_dest(): when libjpeg fails after jpeg_mem_dest() has grown its buffer, the grown
 * buffer is only reachable from libjpeg's private struct and would leak. Decoding reads with
 * jpeg_mem_src(). Thread-safe: all libjpeg state is per call; the instance is read-only. */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h> /* jpeglib.h needs FILE */
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "codec_builtin.h"
#include "codec_registry.h"

#define JPEG_NAME "jpeg"
/* Progressive files may legally have many scans; a hostile one with thousands of tiny scans
 * makes decoding quadratic. Our encoder writes at most ~10. */
#define JPEG_MAX_SCANS 500

typedef struct jc_settings {
  int h_samp, v_samp; /* luma sampling factors; chroma is 1x1 */
  int optimize;
  int progressive;
  int jfif;
} jc_settings;

/* ---- error handling ---- */

typedef struct jc_err_ctx {
  struct jpeg_error_mgr pub; /* first member: libjpeg sees only this */
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jc_err_ctx;

static void on_error_exit(j_common_ptr cinfo) {
  jc_err_ctx *e = (jc_err_ctx *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
  /* level < 0: a warning, i.e. corrupt or truncated data that libjpeg would paper over. Trace
   * messages (level >= 0) are dropped. */
  if (level < 0)
    on_error_exit(cinfo);
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void init_error_mgr(jc_err_ctx *e) {
  jpeg_std_error(&e->pub);
  e->pub.error_exit = on_error_exit;
  e->pub.emit_message = on_emit_message;
  e->pub.output_message = on_output_message;
  snprintf(e->msg, sizeof e->msg, "unknown libjpeg error");
}

/* ---- growable memory destination ---- */

typedef struct mem_dest {
  struct jpeg_destination_mgr pub; /* first member */
  JOCTET *buf;                     /* malloc()ed; owned by the caller of the encode */
  size_t cap;
  size_t size; /* set by term_destination */
} mem_dest;

static void dest_init(j_compress_ptr cinfo) {
  mem_dest *d = (mem_dest *)cinfo->dest;
  d->pub.next_output_byte = d->buf;
  d->pub.free_in_buffer = d->cap;
}

static boolean dest_empty(j_compress_ptr cinfo) {
  /* Called when the buffer is full: everything in it counts as written. */
  mem_dest *d = (mem_dest *)cinfo->dest;
  size_t old = d->cap;
  if (old > SIZE_MAX / 2)
    ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
  JOCTET *nb = realloc(d->buf, old * 2);
  if (!nb)
    ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 2);
  d->buf = nb;
  d->cap = old * 2;
  d->pub.next_output_byte = nb + old;
  d->pub.free_in_buffer = d->cap - old;
  return TRUE;
}

static void dest_term(j_compress_ptr cinfo) {
  mem_dest *d = (mem_dest *)cinfo->dest;
  d->size = d->cap - d->pub.free_in_buffer;
}

/* ---- stream_bytes ---- */

static int is_rst(uint8_t m) { return m >= 0xD0 && m <= 0xD7; }

/* Sum of the entropy-coded segments of all scans (see the top comment); 0 if the file does not
 * parse, which cannot happen for libjpeg's own output. */
static size_t jc_scan_bytes(const uint8_t *d, size_t n) {
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
    return 0;
  size_t p = 2, total = 0;
  while (p < n) {
    if (d[p] != 0xFF)
      return 0;
    while (p < n && d[p] == 0xFF) /* fill bytes */
      p++;
    if (p >= n)
      return 0;
    uint8_t m = d[p++];
    if (m == 0xD9) /* EOI */
      return total;
    if (m == 0x01 || is_rst(m)) /* no length field */
      continue;
    if (p + 2 > n)
      return 0;
    size_t len = (size_t)d[p] << 8 | d[p + 1];
    if (len < 2 || len > n - p)
      return 0;
    p += len;
    if (m == 0xDA) { /* SOS: entropy-coded data up to the next non-RST marker */
      size_t start = p;
      while (p + 1 < n && !(d[p] == 0xFF && d[p + 1] != 0x00 && !is_rst(d[p + 1])))
        p++;
      if (p + 1 >= n)
        return 0;
      total += p - start;
    }
  }
  return 0;
}

/* ---- settings ---- */

static const char *const jc_keys[] = {"subsampling", "optimize", "progressive", "jfif", NULL};

static int jc_create(const codec_option *options, size_t n_options, void **instance, char *err,
                     size_t err_len) {
  if (!instance)
    return codec_errorf(err, err_len, JPEG_NAME ": no instance pointer");
  *instance = NULL;
  if (codec_check_options(JPEG_NAME, options, n_options, jc_keys, err, err_len))
    return -1;
  jc_settings s = {2, 2, 0, 0, 1};
  for (size_t i = 0; i < n_options; i++) {
    const char *k = options[i].key, *v = options[i].value;
    int rc = 0;
    if (!strcmp(k, "subsampling")) {
      static const char *const modes[] = {"420", "422", "444", NULL};
      static const int h[] = {2, 2, 1}, vv[] = {2, 1, 1};
      int idx = 0;
      rc = codec_option_parse_choice(k, v, modes, &idx, err, err_len);
      if (!rc) {
        s.h_samp = h[idx];
        s.v_samp = vv[idx];
      }
    } else if (!strcmp(k, "optimize")) {
      rc = codec_option_parse_bool(k, v, &s.optimize, err, err_len);
    } else if (!strcmp(k, "progressive")) {
      rc = codec_option_parse_bool(k, v, &s.progressive, err, err_len);
    } else if (!strcmp(k, "jfif")) {
      rc = codec_option_parse_bool(k, v, &s.jfif, err, err_len);
    }
    if (rc)
      return -1;
  }
  jc_settings *inst = malloc(sizeof *inst);
  if (!inst)
    return codec_errorf(err, err_len, JPEG_NAME ": out of memory");
  *inst = s;
  *instance = inst;
  return 0;
}

static void jc_destroy(void *instance) { free(instance); }

/* ---- encode ---- */

typedef struct jc_enc_job {
  const jc_settings *s;
  const uint8_t *rgb;
  int width, height, quality;
  jc_err_ctx errc;
  mem_dest dest;
  struct jpeg_compress_struct cinfo;
} jc_enc_job;

/* setjmp lives here, and all state lives in *j (owned by the caller), so nothing the caller
 * reads after a longjmp is an automatic variable of this function (C11 7.13.2.1p3). */
static int jc_encode_run(jc_enc_job *j) {
  j_compress_ptr c = &j->cinfo;
  if (setjmp(j->errc.jump))
    return -1;
  jpeg_create_compress(c);
  j->dest.pub.init_destination = dest_init;
  j->dest.pub.empty_output_buffer = dest_empty;
  j->dest.pub.term_destination = dest_term;
  c->dest = &j->dest.pub;
  c->image_width = (JDIMENSION)j->width;
  c->image_height = (JDIMENSION)j->height;
  c->input_components = 3;
  c->in_color_space = JCS_RGB;
  jpeg_set_defaults(c); /* YCbCr, Annex K Huffman tables, JFIF marker on */
  jpeg_set_quality(c, j->quality, TRUE);
  c->comp_info[0].h_samp_factor = j->s->h_samp;
  c->comp_info[0].v_samp_factor = j->s->v_samp;
  for (int i = 1; i < 3; i++)
    c->comp_info[i].h_samp_factor = c->comp_info[i].v_samp_factor = 1;
  c->optimize_coding = j->s->optimize ? TRUE : FALSE;
  c->write_JFIF_header = j->s->jfif ? TRUE : FALSE;
  c->dct_method = JDCT_ISLOW;
  if (j->s->progressive)
    jpeg_simple_progression(c);
  jpeg_start_compress(c, TRUE);
  size_t stride = (size_t)j->width * 3;
  while (c->next_scanline < c->image_height) {
    /* libjpeg never writes through input rows; the cast only drops const. */
    JSAMPROW row = (JSAMPROW)(j->rgb + (size_t)c->next_scanline * stride);
    jpeg_write_scanlines(c, &row, 1);
  }
  jpeg_finish_compress(c);
  return 0;
}

static int jc_encode(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                     codec_encoded *out, char *err, size_t err_len) {
  const codec_vtable *vt = codec_jpeg_vtable();
  if (codec_check_encode_args(JPEG_NAME, &vt->knob, rgb, width, height, &knob, out, err, err_len))
    return -1;
  if (!instance)
    return codec_errorf(err, err_len, JPEG_NAME ": no instance");
  jc_enc_job *j = calloc(1, sizeof *j);
  if (!j)
    return codec_errorf(err, err_len, JPEG_NAME ": out of memory");
  j->s = instance;
  j->rgb = rgb;
  j->width = width;
  j->height = height;
  j->quality = (int)knob;
  /* A first guess that fits most files; dest_empty() doubles it when needed. */
  j->dest.cap = (size_t)width * (size_t)height / 2 + 2048;
  j->dest.buf = malloc(j->dest.cap);
  if (!j->dest.buf) {
    free(j);
    return codec_errorf(err, err_len, JPEG_NAME ": out of memory");
  }
  init_error_mgr(&j->errc);
  j->cinfo.err = &j->errc.pub;
  int rc = jc_encode_run(j);
  jpeg_destroy_compress(&j->cinfo);
  if (rc) {
    codec_errorf(err, err_len, JPEG_NAME " encode: %s", j->errc.msg);
    free(j->dest.buf);
    free(j);
    return -1;
  }
  size_t scan = jc_scan_bytes(j->dest.buf, j->dest.size);
  if (scan == 0) {
    free(j->dest.buf);
    free(j);
    return codec_errorf(err, err_len, JPEG_NAME " encode: cannot parse libjpeg's output");
  }
  out->data = j->dest.buf;
  out->size = j->dest.size;
  out->stream_bytes = scan;
  free(j);
  return 0;
}

/* ---- decode ---- */

typedef struct jc_dec_job {
  const uint8_t *data;
  size_t size;
  uint8_t *rgb; /* malloc()ed here, owned by the caller */
  int width, height;
  jc_err_ctx errc;
  struct jpeg_progress_mgr progress;
  struct jpeg_decompress_struct dinfo;
} jc_dec_job;

static void on_progress(j_common_ptr cinfo) {
  j_decompress_ptr d = (j_decompress_ptr)cinfo;
  if (d->input_scan_number > JPEG_MAX_SCANS) {
    jc_err_ctx *e = (jc_err_ctx *)cinfo->err;
    snprintf(e->msg, sizeof e->msg, "more than %d scans", JPEG_MAX_SCANS);
    longjmp(e->jump, 1);
  }
}

static int jc_decode_run(jc_dec_job *j) {
  j_decompress_ptr d = &j->dinfo;
  if (setjmp(j->errc.jump))
    return -1;
  jpeg_create_decompress(d);
  j->progress.progress_monitor = on_progress;
  d->progress = &j->progress;
  jpeg_mem_src(d, j->data, (unsigned long)j->size);
  jpeg_read_header(d, TRUE); /* TRUE: a tables-only stream is an error, not a success */
  if ((uint64_t)d->image_width * d->image_height > CODEC_MAX_PIXELS) {
    snprintf(j->errc.msg, sizeof j->errc.msg, "image %ux%u exceeds the %zu-pixel limit",
             (unsigned)d->image_width, (unsigned)d->image_height, (size_t)CODEC_MAX_PIXELS);
    return -1;
  }
  d->out_color_space = JCS_RGB; /* greyscale files are expanded; CMYK ones fail here */
  d->dct_method = JDCT_ISLOW;
  jpeg_start_decompress(d);
  if (d->output_components != 3) {
    snprintf(j->errc.msg, sizeof j->errc.msg, "%d output components, expected 3",
             d->output_components);
    return -1;
  }
  size_t stride = (size_t)d->output_width * 3;
  j->rgb = malloc(stride * d->output_height); /* size checked against the limit above */
  if (!j->rgb) {
    snprintf(j->errc.msg, sizeof j->errc.msg, "out of memory");
    return -1;
  }
  while (d->output_scanline < d->output_height) {
    JSAMPROW row = j->rgb + (size_t)d->output_scanline * stride;
    /* jpeg_mem_src never suspends; 0 rows would mean it did, and would loop forever. */
    if (jpeg_read_scanlines(d, &row, 1) != 1) {
      snprintf(j->errc.msg, sizeof j->errc.msg, "decoder returned no rows");
      return -1;
    }
  }
  jpeg_finish_decompress(d);
  j->width = (int)d->output_width;
  j->height = (int)d->output_height;
  return 0;
}

static int jc_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                     int *width, int *height, char *err, size_t err_len) {
  (void)instance; /* decoding needs no settings */
  if (codec_check_decode_args(JPEG_NAME, data, size, rgb, width, height, err, err_len))
    return -1;
  if (size > ULONG_MAX)
    return codec_errorf(err, err_len, JPEG_NAME " decode: input too large");
  jc_dec_job *j = calloc(1, sizeof *j);
  if (!j)
    return codec_errorf(err, err_len, JPEG_NAME ": out of memory");
  j->data = data;
  j->size = size;
  init_error_mgr(&j->errc);
  j->dinfo.err = &j->errc.pub;
  int rc = jc_decode_run(j);
  jpeg_destroy_decompress(&j->dinfo);
  if (rc) {
    codec_errorf(err, err_len, JPEG_NAME " decode: %s", j->errc.msg);
    free(j->rgb);
    free(j);
    return -1;
  }
  *rgb = j->rgb;
  *width = j->width;
  *height = j->height;
  free(j);
  return 0;
}

/* ---- table ---- */

#define JPEG_STR2(x) #x
#define JPEG_STR(x) JPEG_STR2(x)

/* The version of the headers compiled against: the libjpeg API has no run-time version query.
 * The shared library is ABI-compatible (same soname) but may be a newer patch release. */
static const char *jc_library_version(void) {
#ifdef LIBJPEG_TURBO_VERSION
  return "libjpeg-turbo " JPEG_STR(LIBJPEG_TURBO_VERSION) " (libjpeg API " JPEG_STR(
      JPEG_LIB_VERSION) ")";
#else
  return "libjpeg (API " JPEG_STR(JPEG_LIB_VERSION) ")";
#endif
}

static const codec_vtable jc_vtable = {
    .abi_version = CODEC_ABI_VERSION,
    .name = JPEG_NAME,
    .description = "JPEG (libjpeg-turbo, libjpeg API); stream_bytes = entropy-coded scan data "
                   "(no markers, tables or headers)",
    .knob = {.name = "quality",
             .description = "libjpeg quality factor 1..100 (baseline 8-bit tables)",
             .kind = CODEC_KNOB_INT,
             .min = 1,
             .max = 100,
             .rate_increases = 1},
    .library_version = jc_library_version,
    .settings_help = "subsampling=420|422|444  chroma subsampling (default 420)\n"
                     "optimize=true|false  image-optimized Huffman tables (default false)\n"
                     "progressive=true|false  progressive scans; implies optimized tables "
                     "(default false)\n"
                     "jfif=true|false  write the JFIF APP0 marker, 18 bytes (default true)\n",
    .create = jc_create,
    .destroy = jc_destroy,
    .encode = jc_encode,
    .decode = jc_decode,
};

const codec_vtable *codec_jpeg_vtable(void) { return &jc_vtable; }
