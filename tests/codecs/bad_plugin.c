/* Deliberately broken plugins for test_codecs_plugin; BAD_KIND selects the defect:
 * 1 no entry symbol, 2 wrong abi_version, 3 entry returns NULL, 4 invalid codec name,
 * 5 NULL decode function, 6 name of a built-in codec ("jpeg"), 7 an analysis table
 * (saicbench_codec.h, analysis reuse) with the wrong abi_version; and 8, not broken: a valid
 * analysis table, which the registry must offer. */
#include <stdlib.h>

#include "saicbench_codec.h"

#ifndef BAD_KIND
#error "define BAD_KIND"
#endif

static const char *v(void) { return "bad 0"; }
static int c(const codec_option *o, size_t n, void **i, char *e, size_t el) {
  (void)o, (void)n, (void)e, (void)el;
  *i = NULL;
  return 0;
}
static void d(void *i) { (void)i; }
static int enc(const void *i, const uint8_t *rgb, int w, int h, double k, codec_encoded *out,
               char *e, size_t el) {
  (void)i, (void)rgb, (void)w, (void)h, (void)k, (void)out;
  if (e && el)
    e[0] = '\0';
  return -1;
}
static int dec(const void *i, const uint8_t *data, size_t size, uint8_t **rgb, int *w, int *h,
               char *e, size_t el) {
  (void)i, (void)data, (void)size, (void)rgb, (void)w, (void)h;
  if (e && el)
    e[0] = '\0';
  return -1;
}

static const codec_vtable table = {
    .abi_version = BAD_KIND == 2 ? 999u : CODEC_ABI_VERSION,
    .name = BAD_KIND == 4   ? "Bad Name"
            : BAD_KIND == 6 ? "jpeg"
                            : "bad",
    .description = "broken on purpose",
    .knob = {"k", "k", CODEC_KNOB_INT, 1, 2, 1},
    .library_version = v,
    .settings_help = "",
    .create = c,
    .destroy = d,
    .encode = enc,
    .decode = BAD_KIND == 5 ? NULL : dec,
};

#if BAD_KIND == 7 || BAD_KIND == 8
static int an_analyze(const void *i, const uint8_t *rgb, int w, int h, void **a, char *e,
                      size_t el) {
  (void)i, (void)rgb, (void)w, (void)h, (void)e, (void)el;
  *a = malloc(1);
  return *a ? 0 : -1;
}
static int an_encode(const void *i, const void *a, double k, codec_encoded *out, char *e,
                     size_t el) {
  (void)a;
  return enc(i, NULL, 0, 0, k, out, e, el);
}
static void an_free(const void *i, void *a) {
  (void)i;
  free(a);
}
static const codec_analysis_vtable analysis = {
    .abi_version = BAD_KIND == 7 ? 999u : CODEC_ANALYSIS_ABI_VERSION,
    .analyze = an_analyze,
    .encode_analyzed = an_encode,
    .free_analysis = an_free,
};
SAICBENCH_CODEC_EXPORT const codec_analysis_vtable *saicbench_codec_analysis_v1(uint32_t host) {
  (void)host;
  return &analysis;
}
#endif

#if BAD_KIND == 1
/* Exported, but under the wrong name. */
SAICBENCH_CODEC_EXPORT const codec_vtable *not_the_entry_point(uint32_t host);
SAICBENCH_CODEC_EXPORT const codec_vtable *not_the_entry_point(uint32_t host) {
  (void)host;
  return &table;
}
#else
SAICBENCH_CODEC_EXPORT const codec_vtable *saicbench_codec_plugin_v1(uint32_t host) {
  (void)host;
  return BAD_KIND == 3 ? NULL : &table;
}
#endif
