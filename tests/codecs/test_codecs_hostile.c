/* Hostile input for every codec's decoder: empty input, every truncation of small files,
 * truncations with the end marker put back, random byte flips, random garbage with and without
 * a valid-looking start, and headers that declare huge images. A decoder may fail or return a
 * valid image; it must never crash, hang, leak or read out of bounds (run under ASan/UBSan).
 *
 * Every strict prefix of a file must fail for every codec: each format either ends with a marker
 * (JPEG EOI, J2K EOC) that the decoder insists on, or records its length (RIFF, the plugin's
 * header, AVIF's item locations, JPEG XL's table of contents).
 *
 * Usage: test_codecs_hostile [PLUGIN.so]  (also covers the example plugin when given) */
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "codec_test_util.h"

static uint64_t rng = 12345;
static size_t n_decodes, n_accepted;

/* Decodes; on success checks the result is a sane image and touches every byte. The message of
 * a failure is left in last_err. */
static char last_err[512];

static int try_decode(const codec_vtable *vt, const void *inst, const uint8_t *data, size_t size,
                      const char *what) {
  uint8_t *out = (uint8_t *)(uintptr_t)0x1; /* must be overwritten */
  int w = -1, h = -1;
  char *err = last_err;
  err[0] = '\0';
  n_decodes++;
  int rc = vt->decode(inst, data, size, &out, &w, &h, err, sizeof last_err);
  if (rc != 0) {
    CHECK(err[0] != '\0', "%s %s: failure without a message", vt->name, what);
    CHECK(out == NULL, "%s %s: failure left *rgb set", vt->name, what);
    return rc;
  }
  n_accepted++;
  CHECK(out != NULL && w > 0 && h > 0 && (size_t)w * (size_t)h <= ((size_t)1 << 26),
        "%s %s: success with %dx%d", vt->name, what, w, h);
  if (out && w > 0 && h > 0)
    ctu_touch(out, (size_t)w * (size_t)h * 3);
  free(out);
  return 0;
}

/* A valid file to start from. */
static codec_encoded encode_one(const codec_vtable *vt, const void *inst, int w, int h,
                                double knob) {
  codec_encoded enc = {0};
  char err[512];
  uint8_t *img = ctu_make_image(w, h, CTU_TEXTURED, 99);
  if (vt->encode(inst, img, w, h, knob, &enc, err, sizeof err))
    CHECK(0, "%s: encode %dx%d failed: %s", vt->name, w, h, err);
  free(img);
  return enc;
}

static void test_empty(const codec_vtable *vt, const void *inst) {
  static const uint8_t one[1] = {0};
  CHECK(try_decode(vt, inst, NULL, 0, "NULL/0") != 0, "%s: NULL input accepted", vt->name);
  CHECK(try_decode(vt, inst, one, 0, "empty") != 0, "%s: empty input accepted", vt->name);
  CHECK(try_decode(vt, inst, one, 1, "1 zero byte") != 0, "%s: 1 byte accepted", vt->name);
}

static void test_truncations(const codec_vtable *vt, const void *inst, const codec_encoded *e) {
  /* Each prefix in its own exact-size allocation, so ASan catches any read past the end. */
  size_t step = e->size > 4000 ? e->size / 2000 : 1;
  for (size_t n = 0; n < e->size; n += step) {
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, e->data, n);
    char what[64];
    snprintf(what, sizeof what, "prefix %zu/%zu", n, e->size);
    CHECK(try_decode(vt, inst, p, n, what) != 0, "%s: %s decoded", vt->name, what);
    free(p);
    /* Prefix + the original last two bytes: gets past "missing end marker" checks and into
     * the decoder proper. Either outcome is fine. */
    if (n >= 2) {
      p = malloc(n + 2);
      memcpy(p, e->data, n);
      memcpy(p + n, e->data + e->size - 2, 2);
      snprintf(what, sizeof what, "prefix %zu/%zu + end marker", n, e->size);
      try_decode(vt, inst, p, n + 2, what);
      free(p);
    }
  }
}

static void test_flips(const codec_vtable *vt, const void *inst, const codec_encoded *e,
                       int iterations) {
  uint8_t *p = malloc(e->size);
  for (int it = 0; it < iterations; it++) {
    memcpy(p, e->data, e->size);
    int flips = 1 + (int)(ctu_rand(&rng) % 4);
    for (int f = 0; f < flips; f++) {
      size_t pos = (size_t)(ctu_rand(&rng) % e->size);
      /* Half the time hit the first 300 bytes (headers), where decoders make decisions. */
      if (it & 1)
        pos = (size_t)(ctu_rand(&rng) % (e->size < 300 ? e->size : 300));
      uint8_t v = (uint8_t)ctu_rand(&rng);
      p[pos] = (it % 3 == 0) ? (uint8_t)(p[pos] ^ (1u << (v & 7))) : v;
    }
    try_decode(vt, inst, p, e->size, "byte flips");
  }
  free(p);
}

static void test_garbage(const codec_vtable *vt, const void *inst, const codec_encoded *e,
                         int iterations) {
  for (int it = 0; it < iterations; it++) {
    size_t n = 1 + (size_t)(ctu_rand(&rng) % 3000);
    uint8_t *p = malloc(n);
    for (size_t i = 0; i < n; i++)
      p[i] = (uint8_t)ctu_rand(&rng);
    /* Odd iterations keep a valid-looking start (a prefix of a real file). */
    if (it & 1) {
      size_t keep = (size_t)(ctu_rand(&rng) % (e->size < 200 ? e->size : 200));
      memcpy(p, e->data, keep < n ? keep : n);
    }
    try_decode(vt, inst, p, n, "garbage");
    free(p);
  }
}

/* JPEG XL codestreams are bit-packed, least significant bit first. */
static uint32_t jxl_get(const uint8_t *d, size_t *pos, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; i++, (*pos)++)
    v |= (uint32_t)(d[*pos >> 3] >> (*pos & 7) & 1) << i;
  return v;
}

static void jxl_put(uint8_t *d, size_t *pos, uint32_t v, int n) {
  for (int i = 0; i < n; i++, (*pos)++)
    d[*pos >> 3] = (uint8_t)((d[*pos >> 3] & ~(1u << (*pos & 7))) | (v >> i & 1) << (*pos & 7));
}

/* Skips one dimension of a SizeHeader: 5 bits if small, else U32(9, 13, 18, 30 bits). */
static void jxl_skip_dim(const uint8_t *d, size_t *pos, int small) {
  static const int bits[] = {9, 13, 18, 30};
  if (small)
    jxl_get(d, pos, 5);
  else
    jxl_get(d, pos, bits[jxl_get(d, pos, 2)]);
}

/* Rewrites the SizeHeader after the 2-byte signature of codestream d (n bytes) into out (n + 8
 * bytes, zeroed) to declare width x height (each at most 8192), and copies every bit after it
 * unchanged; returns the new size. ImageMetadata follows the SizeHeader without byte alignment,
 * so the decoder reads exactly the metadata bits it read before. */
static size_t jxl_resize(const uint8_t *d, size_t n, uint8_t *out, uint32_t width,
                         uint32_t height) {
  size_t in = 16, o = 16;
  int small = (int)jxl_get(d, &in, 1);
  jxl_skip_dim(d, &in, small);
  if (jxl_get(d, &in, 3) == 0) /* ratio 0: the width follows */
    jxl_skip_dim(d, &in, small);
  memcpy(out, d, 2);
  jxl_put(out, &o, 0, 1); /* not small */
  jxl_put(out, &o, 1, 2); /* U32 selector 1: 13 bits + 1 */
  jxl_put(out, &o, height - 1, 13);
  jxl_put(out, &o, 0, 3); /* ratio 0: explicit width */
  jxl_put(out, &o, 1, 2);
  jxl_put(out, &o, width - 1, 13);
  while (in < n * 8)
    jxl_put(out, &o, jxl_get(d, &in, 1), 1);
  return (o + 7) / 8;
}

/* Headers that declare an enormous image must fail before the decoder allocates it. */
static void test_huge_headers(const codec_vtable *vt, const void *inst, const codec_encoded *e) {
  uint8_t *p = calloc(1, e->size + 8);
  memcpy(p, e->data, e->size);
  size_t size = e->size;
  int patched = 0;
  if (!strcmp(vt->name, "jpeg")) {
    /* SOF0/SOF2: FF C0|C2 len(2) precision(1) height(2) width(2) */
    for (size_t i = 0; i + 9 < e->size; i++)
      if (p[i] == 0xFF && (p[i + 1] == 0xC0 || p[i + 1] == 0xC2)) {
        p[i + 5] = p[i + 6] = p[i + 7] = p[i + 8] = 0xFF; /* 65535 x 65535 */
        patched = 1;
        break;
      }
  } else if (!strcmp(vt->name, "jpeg2000")) {
    /* SIZ right after SOC: FF4F FF51 Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) */
    if (e->size > 14 && p[2] == 0xFF && p[3] == 0x51) {
      memset(p + 8, 0x7F, 8);
      patched = 1;
    }
  } else if (!strcmp(vt->name, "webp")) {
    /* VP8 key frame: 'VP8 ' chunk at 12, payload at 20: tag(3) start code(3) w(2) h(2) */
    if (e->size > 30 && !memcmp(p + 12, "VP8 ", 4)) {
      p[26] = p[28] = 0xFF;
      p[27] = p[29] = 0x3F; /* 16383 x 16383 */
      patched = 1;
    }
  } else if (!strcmp(vt->name, "avif")) {
    /* The ispe property: size(4) 'ispe' version/flags(4) width(4) height(4), big-endian.
     * 8192 x 4097 is one row over our 2^25-pixel limit but within libavif's own defaults
     * (16384 x 16384), so only the codec's limit can refuse it. */
    for (size_t i = 4; i + 16 <= e->size; i++)
      if (!memcmp(p + i, "ispe", 4)) {
        static const uint8_t wh[8] = {0, 0, 0x20, 0x00, 0, 0, 0x10, 0x01};
        memcpy(p + i + 8, wh, 8);
        patched = 1;
        break;
      }
  } else if (!strcmp(vt->name, "jxl")) {
    if (e->size > 4 && p[0] == 0xFF && p[1] == 0x0A) {
      memset(p, 0, e->size + 8);
      size = jxl_resize(e->data, e->size, p, 8192, 4097); /* as for avif */
      patched = 1;
    }
  } else if (!strcmp(vt->name, "quantize")) {
    memset(p + 4, 0xFF, 8);
    patched = 1;
  }
  CHECK(patched, "%s: no header to patch", vt->name);
  if (patched) {
    CHECK(try_decode(vt, inst, p, size, "huge header") != 0, "%s: huge header accepted", vt->name);
    printf("%-10s huge header: %s\n", vt->name, last_err);
    /* The new codecs must refuse it from the header (their size checks), not fail later. */
    if (!strcmp(vt->name, "avif") || !strcmp(vt->name, "jxl"))
      CHECK(strstr(last_err, "limit") || strstr(last_err, "too large"),
            "%s: huge header refused for another reason: %s", vt->name, last_err);
  }
  free(p);
}

static void run_codec(const codec_vtable *vt) {
  char err[512];
  void *inst = NULL;
  if (vt->create(NULL, 0, &inst, err, sizeof err)) {
    CHECK(0, "%s: create failed: %s", vt->name, err);
    return;
  }
  size_t before = n_decodes, acc_before = n_accepted;
  double mid = vt->knob.rate_increases > 0 ? vt->knob.min + 0.75 * (vt->knob.max - vt->knob.min)
                                           : vt->knob.min + 9; /* j2k ratio 10 */
  if (vt->knob.kind == CODEC_KNOB_INT)
    mid = (double)(long)mid;
  test_empty(vt, inst);
  const int sizes[][2] = {{1, 1}, {7, 5}, {32, 32}};
  for (size_t s = 0; s < 3; s++) {
    codec_encoded e = encode_one(vt, inst, sizes[s][0], sizes[s][1], mid);
    if (!e.data)
      continue;
    test_truncations(vt, inst, &e);
    test_flips(vt, inst, &e, 1500);
    test_garbage(vt, inst, &e, 300);
    if (s == 2)
      test_huge_headers(vt, inst, &e);
    free(e.data);
  }
  /* A larger file: fewer, sparser truncations. */
  codec_encoded e = encode_one(vt, inst, 200, 120, mid);
  if (e.data) {
    test_truncations(vt, inst, &e);
    test_flips(vt, inst, &e, 300);
    free(e.data);
  }
  printf("%-10s %zu hostile decodes, %zu returned an image\n", vt->name, n_decodes - before,
         n_accepted - acc_before);
  vt->destroy(inst);
}

int main(int argc, char **argv) {
  codec_registry *reg = NULL;
  char err[512];
  if (codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "registry: %s\n", err);
    return 1;
  }
  if (argc > 1 && codec_registry_load_plugin(reg, argv[1], err, sizeof err))
    CHECK(0, "loading %s: %s", argv[1], err);
  for (size_t i = 0; i < codec_registry_count(reg); i++)
    if (strcmp(codec_registry_at(reg, i)->name, "saic")) /* needs a model: test_saic_codec.c */
      run_codec(codec_registry_at(reg, i));
  codec_registry_destroy(reg);
  return sb_test_status("test_codecs_hostile");
}
