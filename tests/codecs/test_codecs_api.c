/* The registry's built-in contents, the codec tables, settings parsing (unknown keys, bad
 * values, duplicates), the option-value helpers, argument checking in encode/decode, odd image
 * shapes, and the library version strings (checked against the versions CMake found). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "codec_test_util.h"

#ifndef EXPECT_JPEG_VERSION
#define EXPECT_JPEG_VERSION ""
#endif
#ifndef EXPECT_WEBP_VERSION
#define EXPECT_WEBP_VERSION ""
#endif
#ifndef EXPECT_OPENJP2_VERSION
#define EXPECT_OPENJP2_VERSION ""
#endif
#ifndef EXPECT_AVIF_VERSION
#define EXPECT_AVIF_VERSION ""
#endif
#ifndef EXPECT_JXL_VERSION
#define EXPECT_JXL_VERSION ""
#endif

static void test_registry(const codec_registry *reg) {
  static const char *const names[] = {"jpeg", "webp", "jpeg2000", "avif", "jxl", "saic"};
  CHECK(codec_registry_count(reg) == 6, "%zu built-ins", codec_registry_count(reg));
  for (size_t i = 0; i < 6; i++) {
    const codec_vtable *vt = codec_registry_at(reg, i);
    CHECK(vt && !strcmp(vt->name, names[i]), "codec %zu is %s", i, vt ? vt->name : "NULL");
    CHECK(codec_registry_find(reg, names[i]) == vt, "find(%s)", names[i]);
    CHECK(codec_registry_plugin_path(reg, vt) == NULL, "%s has a plugin path", names[i]);
    if (!vt)
      continue;
    CHECK(vt->abi_version == CODEC_ABI_VERSION, "%s abi", vt->name);
    CHECK(vt->description && vt->settings_help && vt->knob.name && vt->knob.description,
          "%s: missing strings", vt->name);
    CHECK(vt->knob.min < vt->knob.max, "%s knob range", vt->name);
    CHECK(vt->knob.rate_increases == 1 || vt->knob.rate_increases == -1, "%s direction", vt->name);
    printf("%-9s %-40s knob %s %s [%g, %g] rate %+d\n", vt->name, vt->library_version(),
           vt->knob.name, vt->knob.kind == CODEC_KNOB_INT ? "int" : "real", vt->knob.min,
           vt->knob.max, vt->knob.rate_increases);
  }
  CHECK(codec_registry_at(reg, 6) == NULL, "at(6) not NULL");
  CHECK(codec_registry_find(reg, "png") == NULL, "find(png)");
  CHECK(codec_registry_find(reg, NULL) == NULL, "find(NULL)");
  CHECK(codec_registry_find(reg, "JPEG") == NULL, "names are case-sensitive");
  CHECK(!strcmp(codec_registry_find(reg, "jpeg")->knob.name, "quality"), "jpeg knob");
  CHECK(!strcmp(codec_registry_find(reg, "webp")->knob.name, "quality"), "webp knob");
  CHECK(!strcmp(codec_registry_find(reg, "jpeg2000")->knob.name, "ratio") &&
            codec_registry_find(reg, "jpeg2000")->knob.rate_increases == -1,
        "jpeg2000 knob");
  const codec_vtable *avif = codec_registry_find(reg, "avif"),
                     *jxl = codec_registry_find(reg, "jxl");
  CHECK(!strcmp(avif->knob.name, "quantizer") && avif->knob.kind == CODEC_KNOB_INT &&
            avif->knob.min == 0 && avif->knob.max == 63 && avif->knob.rate_increases == -1,
        "avif knob");
  CHECK(!strcmp(jxl->knob.name, "distance") && jxl->knob.kind == CODEC_KNOB_REAL &&
            jxl->knob.min == 0.1 && jxl->knob.max == 15 && jxl->knob.rate_increases == -1,
        "jxl knob");
}

static void test_versions(const codec_registry *reg) {
  char want[128];
  snprintf(want, sizeof want, "libjpeg-turbo %s (libjpeg API 62)", EXPECT_JPEG_VERSION);
  CHECK(!strcmp(codec_registry_find(reg, "jpeg")->library_version(), want), "jpeg: '%s' != '%s'",
        codec_registry_find(reg, "jpeg")->library_version(), want);
  snprintf(want, sizeof want, "libwebp %s", EXPECT_WEBP_VERSION);
  CHECK(!strcmp(codec_registry_find(reg, "webp")->library_version(), want), "webp: '%s' != '%s'",
        codec_registry_find(reg, "webp")->library_version(), want);
  snprintf(want, sizeof want, "OpenJPEG %s", EXPECT_OPENJP2_VERSION);
  CHECK(!strcmp(codec_registry_find(reg, "jpeg2000")->library_version(), want),
        "jpeg2000: '%s' != '%s'", codec_registry_find(reg, "jpeg2000")->library_version(), want);
  /* libavif, then the versions of the AV1 codecs built into it (they make the bytes). */
  const char *av = codec_registry_find(reg, "avif")->library_version();
  snprintf(want, sizeof want, "libavif %s with ", EXPECT_AVIF_VERSION);
  CHECK(!strncmp(av, want, strlen(want)) && strstr(av, "aom [enc"), "avif: '%s' lacks '%s'/aom", av,
        want);
  snprintf(want, sizeof want, "libjxl %s", EXPECT_JXL_VERSION);
  CHECK(!strcmp(codec_registry_find(reg, "jxl")->library_version(), want), "jxl: '%s' != '%s'",
        codec_registry_find(reg, "jxl")->library_version(), want);
}

/* create() with these settings must fail, and the message must contain `needle`. */
static void expect_create_error(const codec_vtable *vt, const codec_option *opts, size_t n,
                                const char *needle) {
  char err[512] = "";
  void *inst = (void *)(uintptr_t)1;
  int rc = vt->create(opts, n, &inst, err, sizeof err);
  CHECK(rc != 0, "%s: accepted %s=%s", vt->name, opts[0].key ? opts[0].key : "(null)",
        opts[0].value ? opts[0].value : "(null)");
  if (rc == 0) {
    vt->destroy(inst);
    return;
  }
  CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", vt->name, err, needle);
}

static void expect_create_ok(const codec_vtable *vt, const codec_option *opts, size_t n) {
  char err[512] = "";
  void *inst = NULL;
  if (vt->create(opts, n, &inst, err, sizeof err)) {
    CHECK(0, "%s: rejected valid settings: %s", vt->name, err);
    return;
  }
  /* A valid instance must encode. */
  uint8_t *img = ctu_make_image(16, 16, CTU_TEXTURED, 1);
  codec_encoded e;
  double k = vt->knob.rate_increases > 0 ? vt->knob.max : vt->knob.min;
  if (vt->encode(inst, img, 16, 16, k, &e, err, sizeof err) == 0)
    free(e.data);
  else
    CHECK(0, "%s: encode with valid settings failed: %s", vt->name, err);
  free(img);
  vt->destroy(inst);
}

/* SVT-AV1 (1.4) encodes only 4:2:0 with even sides >= 64: smaller images get a clear error, not
 * just a log line on stderr. Skipped when this libavif has no SVT-AV1. */
static void test_avif_svt(const codec_vtable *avif) {
  codec_option o[] = {{"encoder", "svt"}, {"speed", "10"}};
  char err[512] = "";
  void *inst = NULL;
  if (avif->create(o, 2, &inst, err, sizeof err)) {
    CHECK(strstr(err, "not built into") != NULL, "avif encoder=svt: %s", err);
    printf("avif: no SVT-AV1 (%s)\n", err);
    return;
  }
  uint8_t *img = ctu_make_image(64, 64, CTU_TEXTURED, 2);
  codec_encoded e;
  CHECK(avif->encode(inst, img, 63, 64, 30, &e, err, sizeof err) != 0 && strstr(err, "64") &&
            strstr(err, "svt"),
        "avif svt 63x64: %s", err);
  CHECK(avif->encode(inst, img, 32, 32, 30, &e, err, sizeof err) != 0 && strstr(err, "64"),
        "avif svt 32x32: %s", err);
  if (avif->encode(inst, img, 64, 64, 30, &e, err, sizeof err) == 0) {
    uint8_t *px;
    int w, h;
    CHECK(avif->decode(inst, e.data, e.size, &px, &w, &h, err, sizeof err) == 0 && w == 64 &&
              h == 64,
          "avif svt 64x64 decode: %s", err);
    if (w == 64 && h == 64)
      free(px);
    free(e.data);
  } else {
    CHECK(0, "avif svt 64x64: %s", err);
  }
  free(img);
  avif->destroy(inst);
}

typedef struct bad_case {
  const char *codec, *key, *value;
} bad_case;

static void test_settings(const codec_registry *reg) {
  static const bad_case bad[] = {
      {"jpeg", "subsampling", "411"},
      {"jpeg", "subsampling", ""},
      {"jpeg", "subsampling", "444 "},
      {"jpeg", "optimize", "maybe"},
      {"jpeg", "optimize", "truee"},
      {"jpeg", "progressive", "2"},
      {"jpeg", "jfif", ""},
      {"webp", "method", "7"},
      {"webp", "method", "-1"},
      {"webp", "method", "abc"},
      {"webp", "method", " 4"},
      {"webp", "method", "4x"},
      {"webp", "method", ""},
      {"webp", "method", "99999999999999999999"},
      {"webp", "sharp_yuv", "2"},
      {"jpeg2000", "resolutions", "0"},
      {"jpeg2000", "resolutions", "34"},
      {"jpeg2000", "resolutions", "6.5"},
      {"jpeg2000", "comment", "none"},
      {"avif", "encoder", "x265"},
      {"avif", "encoder", ""},
      {"avif", "encoder", "AOM"},
      {"avif", "speed", "11"},
      {"avif", "speed", "-1"},
      {"avif", "subsampling", "422"},
      {"jxl", "effort", "0"},
      {"jxl", "effort", "10"},
      {"jxl", "effort", "fast"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    codec_option o = {bad[i].key, bad[i].value};
    expect_create_error(codec_registry_find(reg, bad[i].codec), &o, 1, bad[i].key);
  }
  for (size_t i = 0; i < codec_registry_count(reg); i++) {
    const codec_vtable *vt = codec_registry_at(reg, i);
    codec_option unknown[] = {{"bogus_key", "1"}};
    expect_create_error(vt, unknown, 1, "bogus_key");
    expect_create_error(vt, unknown, 1, vt->name); /* names the codec too */
    codec_option nullv[] = {{"x", NULL}};
    expect_create_error(vt, nullv, 1, "no value");
    /* n_options > 0 with no array */
    char err[256];
    void *inst;
    CHECK(vt->create(NULL, 1, &inst, err, sizeof err) != 0, "%s: NULL options accepted", vt->name);
    CHECK(vt->create(NULL, 0, NULL, err, sizeof err) != 0, "%s: NULL instance accepted", vt->name);
    if (!strcmp(vt->name, "saic")) /* needs model=PATH (tests/saic/test_saic_codec.c) */
      expect_create_error(vt, NULL, 0, "model");
    else
      expect_create_ok(vt, NULL, 0);
  }
  codec_option dup[] = {{"subsampling", "444"}, {"subsampling", "420"}};
  expect_create_error(codec_registry_find(reg, "jpeg"), dup, 2, "given twice");
  codec_option j1[] = {
      {"subsampling", "444"}, {"optimize", "yes"}, {"progressive", "0"}, {"jfif", "off"}};
  expect_create_ok(codec_registry_find(reg, "jpeg"), j1, 4);
  codec_option j2[] = {{"subsampling", "422"}, {"progressive", "true"}};
  expect_create_ok(codec_registry_find(reg, "jpeg"), j2, 2);
  codec_option w1[] = {{"method", "0"}};
  expect_create_ok(codec_registry_find(reg, "webp"), w1, 1);
  codec_option w2[] = {{"method", "6"}, {"sharp_yuv", "on"}};
  expect_create_ok(codec_registry_find(reg, "webp"), w2, 2);
  codec_option k1[] = {{"resolutions", "33"}};
  expect_create_ok(codec_registry_find(reg, "jpeg2000"), k1, 1);
  codec_option k2[] = {{"resolutions", "1"}, {"comment", "false"}};
  expect_create_ok(codec_registry_find(reg, "jpeg2000"), k2, 2);
  const codec_vtable *avif = codec_registry_find(reg, "avif");
  codec_option a1[] = {{"encoder", "aom"}, {"speed", "10"}, {"subsampling", "444"}};
  expect_create_ok(avif, a1, 3);
  codec_option a2[] = {{"encoder", "rav1e"}, {"speed", "10"}};
  expect_create_ok(avif, a2, 2);
  codec_option a3[] = {{"encoder", "svt"}, {"subsampling", "444"}};
  expect_create_error(avif, a3, 2, "420");
  test_avif_svt(avif);
  codec_option x1[] = {{"effort", "1"}};
  expect_create_ok(codec_registry_find(reg, "jxl"), x1, 1);
  codec_option x2[] = {{"effort", "9"}};
  expect_create_ok(codec_registry_find(reg, "jxl"), x2, 1);
}

/* Encodes with `opts` and with defaults; returns size(default) - size(opts) and checks that
 * both decode to the same pixels (the setting drops metadata only). */
static long metadata_saving(const codec_registry *reg, const char *codec, codec_option *opts,
                            size_t n, double knob) {
  const codec_vtable *vt = codec_registry_find(reg, codec);
  char err[512];
  void *a = NULL, *b = NULL;
  long saving = -1;
  uint8_t *img = ctu_make_image(32, 32, CTU_TEXTURED, 8);
  codec_encoded ea = {0}, eb = {0};
  uint8_t *pa = NULL, *pb = NULL;
  int w, h;
  if (vt->create(NULL, 0, &a, err, sizeof err) || vt->create(opts, n, &b, err, sizeof err) ||
      vt->encode(a, img, 32, 32, knob, &ea, err, sizeof err) ||
      vt->encode(b, img, 32, 32, knob, &eb, err, sizeof err) ||
      vt->decode(a, ea.data, ea.size, &pa, &w, &h, err, sizeof err) ||
      vt->decode(b, eb.data, eb.size, &pb, &w, &h, err, sizeof err)) {
    CHECK(0, "%s: %s", codec, err);
  } else {
    CHECK(!memcmp(pa, pb, 32 * 32 * 3), "%s: stripping metadata changed the pixels", codec);
    CHECK(ea.stream_bytes == eb.stream_bytes, "%s: stream_bytes changed", codec);
    saving = (long)ea.size - (long)eb.size;
  }
  free(ea.data);
  free(eb.data);
  free(pa);
  free(pb);
  free(img);
  if (a)
    vt->destroy(a);
  if (b)
    vt->destroy(b);
  return saving;
}

static int bit_at(const uint8_t *d, size_t pos) { return d[pos >> 3] >> (pos & 7) & 1; }

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* AVIF: top-level boxes ftyp, meta, mdat (last); stream_bytes = the mdat payload, which is the
 * one extent the iloc box points to (offset and length, 4 bytes each in libavif's output). */
static void check_avif_stream(const uint8_t *d, size_t n, size_t s) {
  size_t p = 0, mdat = 0;
  int boxes = 0;
  while (p + 8 <= n) {
    uint32_t len = be32(d + p);
    CHECK(len >= 8 && len <= n - p, "avif: box %.4s of %u bytes at %zu", (const char *)d + p + 4,
          len, p);
    if (len < 8 || len > n - p)
      return;
    if (!memcmp(d + p + 4, "mdat", 4))
      mdat = p;
    p += len;
    boxes++;
  }
  CHECK(p == n && boxes == 3 && !memcmp(d + 4, "ftyp", 4) && !memcmp(d + mdat + 4, "mdat", 4),
        "avif: %d top-level boxes, mdat at %zu", boxes, mdat);
  CHECK(mdat + 8 + s == n, "avif: mdat at %zu holds %zu bytes, stream_bytes %zu", mdat,
        n - mdat - 8, s);
  const uint8_t *iloc = NULL;
  for (size_t i = 0; i + 4 < mdat; i++)
    if (!memcmp(d + i, "iloc", 4))
      iloc = d + i;
  /* iloc v0 after its type: flags(4) sizes(1) base_size(1) count(2) item_id(2) dref(2)
   * extent_count(2) offset(4) length(4) */
  CHECK(iloc && iloc[8] == 0x44 && be32(iloc + 18) == mdat + 8 && be32(iloc + 22) == s,
        "avif: iloc does not point at the mdat payload");
}

/* JPEG XL: FF 0A, then a SizeHeader and two all-default bundles (ImageMetadata and the
 * transform data: one bit each for 8-bit sRGB XYB), padded to a byte: the header that
 * stream_bytes leaves out; the first frame starts right after it. */
static void check_jxl_stream(const uint8_t *d, size_t n, size_t s) {
  size_t head = n - s, pos = 16;
  CHECK(n > 4 && d[0] == 0xFF && d[1] == 0x0A, "jxl: no codestream signature");
  int small = bit_at(d, pos++), sizes = 0;
  for (int dim = 0; dim < 2; dim++) {
    if (small) {
      pos += 5;
    } else {
      static const int bits[] = {9, 13, 18, 30};
      int sel = bit_at(d, pos) | bit_at(d, pos + 1) << 1;
      pos += 2 + (size_t)bits[sel];
    }
    if (dim == 0) { /* the ratio follows the height; 0 means an explicit width */
      int ratio = bit_at(d, pos) | bit_at(d, pos + 1) << 1 | bit_at(d, pos + 2) << 2;
      pos += 3;
      if (ratio)
        break;
    }
    sizes++;
  }
  CHECK(bit_at(d, pos) == 1 && bit_at(d, pos + 1) == 1, "jxl: metadata not all default");
  pos += 2;
  CHECK(head == (pos + 7) / 8, "jxl: %zu header bytes, expected %zu (%d sizes)", head,
        (pos + 7) / 8, sizes);
}

/* stream_bytes, checked against each codec's written definition on the actual bytes. */
static void test_stream_bytes_definitions(const codec_registry *reg) {
  uint8_t *img = ctu_make_image(40, 24, CTU_TEXTURED, 4);
  char err[512];
  const char *names[] = {"jpeg", "webp", "jpeg2000", "avif", "jxl"};
  const double knobs[] = {60, 60, 10, 30, 2};
  for (int c = 0; c < 5; c++) {
    const codec_vtable *vt = codec_registry_find(reg, names[c]);
    void *inst;
    codec_encoded e;
    if (vt->create(NULL, 0, &inst, err, sizeof err) ||
        vt->encode(inst, img, 40, 24, knobs[c], &e, err, sizeof err)) {
      CHECK(0, "%s: %s", names[c], err);
      continue;
    }
    const uint8_t *d = e.data;
    size_t n = e.size, s = e.stream_bytes, head = n - s;
    if (c == 0) {
      /* Baseline, standard tables, JFIF: SOI 2 + APP0 18 + 2 DQT 138 + SOF0 19 + 4 DHT 432
       * + SOS 14 = 623 bytes before the scan data, EOI (2) after it. */
      CHECK(head == 625, "jpeg: %zu fixed bytes, expected 625", head);
      CHECK(d[623 - 14] == 0xFF && d[623 - 13] == 0xDA, "jpeg: no SOS before the scan data");
      CHECK(d[n - 2] == 0xFF && d[n - 1] == 0xD9, "jpeg: no EOI at the end");
    } else if (c == 1) {
      uint32_t len =
          (uint32_t)d[16] | (uint32_t)d[17] << 8 | (uint32_t)d[18] << 16 | (uint32_t)d[19] << 24;
      CHECK(!memcmp(d + 12, "VP8 ", 4) && len == s, "webp: VP8 chunk length %u, stream %zu", len,
            s);
      CHECK(n == 20 + s + (s & 1), "webp: %zu bytes for a %zu-byte payload", n, s);
    } else if (c == 2) {
      CHECK(d[head] == 0xFF && d[head + 1] == 0x90, "jpeg2000: stream does not start at SOT");
      CHECK(d[n - 2] == 0xFF && d[n - 1] == 0xD9, "jpeg2000: no EOC at the end");
      for (size_t i = 2; i + 1 < head; i++)
        CHECK(!(d[i] == 0xFF && d[i + 1] == 0x90), "jpeg2000: SOT inside the main header");
    } else if (c == 3) {
      check_avif_stream(d, n, s);
    } else {
      check_jxl_stream(d, n, s);
    }
    free(e.data);
    vt->destroy(inst);
  }
  free(img);
}

static void test_metadata_settings(const codec_registry *reg) {
  codec_option nojfif[] = {{"jfif", "false"}};
  long s = metadata_saving(reg, "jpeg", nojfif, 1, 50);
  CHECK(s == 18, "jfif=false saves %ld bytes, expected 18", s);
  codec_option nocom[] = {{"comment", "false"}};
  s = metadata_saving(reg, "jpeg2000", nocom, 1, 8);
  printf("jpeg2000 comment=false saves %ld bytes\n", s);
  CHECK(s > 6, "comment=false saves %ld bytes", s);
}

static void test_option_helpers(void) {
  char err[256];
  int v = -5;
  static const char *const t[] = {"true", "1", "yes", "on"};
  static const char *const f[] = {"false", "0", "no", "off"};
  for (int i = 0; i < 4; i++) {
    CHECK(codec_option_parse_bool("k", t[i], &v, err, sizeof err) == 0 && v == 1, "%s", t[i]);
    CHECK(codec_option_parse_bool("k", f[i], &v, err, sizeof err) == 0 && v == 0, "%s", f[i]);
  }
  CHECK(codec_option_parse_bool("k", "True", &v, err, sizeof err) == 0 && v == 1, "True");
  v = 7;
  CHECK(codec_option_parse_bool("flag", "ture", &v, err, sizeof err) != 0 && v == 7 &&
            strstr(err, "flag") && strstr(err, "ture"),
        "bool 'ture': %s", err);
  CHECK(codec_option_parse_int("n", "-3", -5, 5, &v, err, sizeof err) == 0 && v == -3, "int");
  CHECK(codec_option_parse_int("n", "5", -5, 5, &v, err, sizeof err) == 0 && v == 5, "max");
  CHECK(codec_option_parse_int("n", "6", -5, 5, &v, err, sizeof err) != 0 && strstr(err, "[-5, 5]"),
        "range: %s", err);
  CHECK(codec_option_parse_int("n", "0x10", 0, 100, &v, err, sizeof err) != 0, "hex accepted");
  CHECK(codec_option_parse_int("n", "+4", 0, 100, &v, err, sizeof err) == 0 && v == 4, "+4");
  CHECK(codec_option_parse_int("n", "4 ", 0, 100, &v, err, sizeof err) != 0, "trailing space");
  CHECK(codec_option_parse_int("n", NULL, 0, 100, &v, err, sizeof err) != 0, "NULL");
  static const char *const choices[] = {"a", "bb", NULL};
  CHECK(codec_option_parse_choice("c", "bb", choices, &v, err, sizeof err) == 0 && v == 1, "bb");
  CHECK(codec_option_parse_choice("c", "b", choices, &v, err, sizeof err) != 0 &&
            strstr(err, "a, bb"),
        "choice: %s", err);
  /* Tiny error buffers are fine: truncated, still terminated. */
  char small[4];
  CHECK(codec_option_parse_bool("key", "x", &v, small, sizeof small) != 0 && small[3] == '\0',
        "small buffer");
}

static void test_encode_args(const codec_registry *reg) {
  uint8_t *img = ctu_make_image(8, 8, CTU_SMOOTH, 1);
  for (size_t i = 0; i < codec_registry_count(reg); i++) {
    const codec_vtable *vt = codec_registry_at(reg, i);
    char err[512];
    void *inst = NULL;
    if (vt->create(NULL, 0, &inst, err, sizeof err))
      continue;
    codec_encoded e;
    double ok = (vt->knob.min + vt->knob.max) / 2;
    const double bad_knobs[] = {vt->knob.min - 1, vt->knob.max + 1, NAN, INFINITY};
    for (int k = 0; k < 4; k++) {
      err[0] = '\0';
      CHECK(vt->encode(inst, img, 8, 8, bad_knobs[k], &e, err, sizeof err) != 0 &&
                strstr(err, vt->knob.name),
            "%s: knob %g: %s", vt->name, bad_knobs[k], err);
    }
    CHECK(vt->encode(inst, NULL, 8, 8, ok, &e, err, sizeof err) != 0, "%s: NULL image", vt->name);
    CHECK(vt->encode(inst, img, 0, 8, ok, &e, err, sizeof err) != 0, "%s: width 0", vt->name);
    CHECK(vt->encode(inst, img, 8, -1, ok, &e, err, sizeof err) != 0, "%s: height -1", vt->name);
    CHECK(vt->encode(inst, img, 8, 8, ok, NULL, err, sizeof err) != 0, "%s: NULL out", vt->name);
    uint8_t *px;
    int w, h;
    CHECK(vt->decode(inst, img, 10, NULL, &w, &h, err, sizeof err) != 0, "%s: NULL rgb", vt->name);
    CHECK(vt->decode(inst, img, 10, &px, NULL, &h, err, sizeof err) != 0, "%s: NULL width",
          vt->name);
    /* err may be tiny or absent. */
    CHECK(vt->encode(inst, NULL, 8, 8, ok, &e, NULL, 0) != 0, "%s: NULL err", vt->name);
    char one[1] = {'x'};
    CHECK(vt->encode(inst, NULL, 8, 8, ok, &e, one, 1) != 0 && one[0] == '\0', "%s: 1-byte err",
          vt->name);
    vt->destroy(inst);
  }
  free(img);

  /* Integer knobs round to the nearest integer. */
  const codec_vtable *jpeg = codec_registry_find(reg, "jpeg");
  void *inst = NULL;
  char err[512];
  if (jpeg->create(NULL, 0, &inst, err, sizeof err) == 0) {
    uint8_t *im = ctu_make_image(32, 32, CTU_TEXTURED, 3);
    codec_encoded a, b, c;
    CHECK(jpeg->encode(inst, im, 32, 32, 50, &a, err, sizeof err) == 0, "%s", err);
    CHECK(jpeg->encode(inst, im, 32, 32, 50.4, &b, err, sizeof err) == 0, "%s", err);
    CHECK(jpeg->encode(inst, im, 32, 32, 50.6, &c, err, sizeof err) == 0, "%s", err);
    CHECK(a.size == b.size && !memcmp(a.data, b.data, a.size), "50.4 != 50");
    CHECK(a.size != c.size || memcmp(a.data, c.data, a.size), "50.6 == 50");
    free(a.data);
    free(b.data);
    free(c.data);
    /* Beyond libjpeg's 65500-pixel side: its own message comes back. */
    uint8_t *wide = calloc(70000 * 3, 1);
    CHECK(jpeg->encode(inst, wide, 70000, 1, 50, &a, err, sizeof err) != 0 && strstr(err, "65500"),
          "jpeg 70000x1: %s", err);
    free(wide);
    free(im);
    jpeg->destroy(inst);
  }
}

/* Gentle gradients in absolute pixel units (ctu_make_image scales its waves to the image side,
 * which makes a 3-pixel-wide image all high frequencies). */
static uint8_t *gradient_image(int w, int h) {
  uint8_t *img = malloc((size_t)w * h * 3);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *p = img + ((size_t)y * w + x) * 3;
      p[0] = (uint8_t)(30 + x % 200);
      p[1] = (uint8_t)(60 + (y / 2) % 150);
      p[2] = (uint8_t)(100 + ((x + y) / 4) % 120);
    }
  return img;
}

/* Degenerate shapes every codec must handle: 1-pixel rows and columns, odd sizes. */
static void test_shapes(const codec_registry *reg) {
  const int shapes[][2] = {{1, 1}, {1, 64}, {64, 1}, {3, 200}, {17, 1}, {2, 3}, {129, 65}};
  for (size_t i = 0; i < codec_registry_count(reg); i++) {
    const codec_vtable *vt = codec_registry_at(reg, i);
    char err[512];
    void *inst = NULL;
    if (vt->create(NULL, 0, &inst, err, sizeof err))
      continue;
    /* High rate: the point is that the pixels come back, not how well. */
    double k = vt->knob.rate_increases > 0 ? vt->knob.max * 0.9 : 2;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      int w = shapes[s][0], h = shapes[s][1];
      uint8_t *img = gradient_image(w, h);
      codec_encoded e;
      if (vt->encode(inst, img, w, h, k, &e, err, sizeof err)) {
        CHECK(0, "%s %dx%d: encode: %s", vt->name, w, h, err);
      } else {
        uint8_t *px;
        int ow, oh;
        if (vt->decode(inst, e.data, e.size, &px, &ow, &oh, err, sizeof err)) {
          CHECK(0, "%s %dx%d: decode: %s", vt->name, w, h, err);
        } else {
          CHECK(ow == w && oh == h, "%s %dx%d: decoded %dx%d", vt->name, w, h, ow, oh);
          if (ow == w && oh == h) {
            double p = ctu_psnr(img, px, (size_t)w * h * 3);
            CHECK(p > 30, "%s %dx%d: PSNR %.1f", vt->name, w, h, p);
          }
          free(px);
        }
        free(e.data);
      }
      free(img);
    }
    vt->destroy(inst);
  }
}

int main(void) {
  /* SVT-AV1 (avif encoder=svt) logs its configuration to stderr unless told otherwise. */
  setenv("SVT_LOG", "1", 0);
  codec_registry *reg = NULL;
  char err[512];
  CHECK(codec_registry_create(NULL, err, sizeof err) != 0, "NULL out accepted");
  if (codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "registry: %s\n", err);
    return 1;
  }
  test_registry(reg);
  test_versions(reg);
  test_settings(reg);
  test_option_helpers();
  test_metadata_settings(reg);
  test_stream_bytes_definitions(reg);
  test_encode_args(reg);
  test_shapes(reg);
  codec_registry_destroy(reg);
  codec_registry_destroy(NULL);
  return sb_test_status("test_codecs_api");
}
