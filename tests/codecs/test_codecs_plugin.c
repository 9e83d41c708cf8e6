/* Plugin loading through the registry: the example plugin loads and round-trips; broken
 * plugins are refused with a message naming the file, and the registry stays unchanged.
 *
 * Usage: test_codecs_plugin EXAMPLE.so NOSYM.so BADABI.so REFUSE.so BADNAME.so NULLFN.so
 *                           DUPNAME.so */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "codec_test_util.h"

static void expect_refusal(codec_registry *reg, const char *path, const char *needle) {
  char err[1024] = "";
  size_t before = codec_registry_count(reg);
  int rc = codec_registry_load_plugin(reg, path, err, sizeof err);
  printf("refused as expected: %s\n", err);
  CHECK(rc != 0, "%s was accepted", path);
  CHECK(strstr(err, path) != NULL, "message does not name the file: %s", err);
  CHECK(strstr(err, needle) != NULL, "message lacks '%s': %s", needle, err);
  CHECK(codec_registry_count(reg) == before, "registry changed after a refusal");
}

static void round_trip(const codec_vtable *vt) {
  char err[512];
  void *inst = NULL;
  codec_option opt = {"levels", "4"};
  CHECK(vt->create(&opt, 1, &inst, err, sizeof err) != 0 && strstr(err, "levels"),
        "quantize accepted an unknown setting: %s", err);
  if (vt->create(NULL, 0, &inst, err, sizeof err)) {
    CHECK(0, "quantize create: %s", err);
    return;
  }
  const int dims[][2] = {{1, 1}, {7, 5}, {32, 32}, {33, 17}};
  for (size_t s = 0; s < 4; s++) {
    int w = dims[s][0], h = dims[s][1];
    uint8_t *img = ctu_make_image(w, h, CTU_TEXTURED, 5);
    double last_psnr = 0;
    printf("quantize %dx%d:", w, h);
    for (int bits = 1; bits <= 8; bits++) {
      codec_encoded e;
      if (vt->encode(inst, img, w, h, bits, &e, err, sizeof err)) {
        CHECK(0, "quantize encode bits=%d: %s", bits, err);
        continue;
      }
      size_t want = 13 + ((size_t)w * h * 3 * bits + 7) / 8;
      CHECK(e.size == want && e.stream_bytes == want - 13, "bits=%d: size %zu stream %zu", bits,
            e.size, e.stream_bytes);
      uint8_t *px;
      int ow, oh;
      if (vt->decode(inst, e.data, e.size, &px, &ow, &oh, err, sizeof err)) {
        CHECK(0, "quantize decode bits=%d: %s", bits, err);
      } else {
        CHECK(ow == w && oh == h, "decoded %dx%d", ow, oh);
        double p = ctu_psnr(img, px, (size_t)w * h * 3);
        printf(" %d:%zu/%.1f", bits, e.size, p);
        /* Per-pixel rounding makes a few pixels non-monotone; larger images average it. */
        if (w * h >= 64)
          CHECK(p >= last_psnr, "PSNR fell from %.2f to %.2f at bits=%d", last_psnr, p, bits);
        if (bits == 8)
          CHECK(p == 100.0, "bits=8 is not lossless (%.2f dB)", p);
        last_psnr = p;
        free(px);
      }
      free(e.data);
    }
    printf("\n");
    free(img);
  }
  vt->destroy(inst);
}

int main(int argc, char **argv) {
  if (argc != 10) {
    fprintf(stderr,
            "usage: %s EXAMPLE NOSYM BADABI REFUSE BADNAME NULLFN DUPNAME BADANALYSIS ANALYSIS\n",
            argv[0]);
    return 2;
  }
  codec_registry *reg = NULL;
  char err[1024];
  if (codec_registry_create(&reg, err, sizeof err)) {
    fprintf(stderr, "registry: %s\n", err);
    return 1;
  }
  size_t builtins = codec_registry_count(reg);

  CHECK(codec_registry_load_plugin(reg, argv[1], err, sizeof err) == 0, "example: %s", err);
  CHECK(codec_registry_count(reg) == builtins + 1, "count %zu", codec_registry_count(reg));
  const codec_vtable *vt = codec_registry_find(reg, "quantize");
  CHECK(vt != NULL, "quantize not found after loading");
  if (vt) {
    const char *p = codec_registry_plugin_path(reg, vt);
    CHECK(p && !strcmp(p, argv[1]), "plugin path %s", p ? p : "(null)");
    CHECK(codec_registry_at(reg, builtins) == vt, "plugin not registered after the built-ins");
    printf("loaded %s: %s, knob %s %g..%g\n", vt->name, vt->library_version(), vt->knob.name,
           vt->knob.min, vt->knob.max);
    round_trip(vt);
  }
  CHECK(codec_registry_plugin_path(reg, codec_registry_find(reg, "jpeg")) == NULL,
        "built-in has a plugin path");

  expect_refusal(reg, argv[1], "already registered");
  expect_refusal(reg, argv[2], SAICBENCH_CODEC_PLUGIN_SYMBOL);
  expect_refusal(reg, argv[3], "ABI version 999");
  expect_refusal(reg, argv[4], "refused");
  expect_refusal(reg, argv[5], "invalid codec name");
  expect_refusal(reg, argv[6], "missing function pointer");
  expect_refusal(reg, argv[7], "'jpeg' is already registered (built in)");
  expect_refusal(reg, argv[8], "analysis table abi_version mismatch");
  expect_refusal(reg, "/nonexistent/plugin.so", "cannot load");
  /* A plugin with a valid analysis table is offered with it; one without, without. */
  CHECK(codec_registry_analysis(reg, codec_registry_find(reg, "quantize")) == NULL,
        "the example plugin has an analysis table");
  CHECK(codec_registry_load_plugin(reg, argv[9], err, sizeof err) == 0, "analysis plugin: %s", err);
  const codec_vtable *avt = codec_registry_find(reg, "bad");
  const codec_analysis_vtable *an = avt ? codec_registry_analysis(reg, avt) : NULL;
  CHECK(an && an->abi_version == CODEC_ANALYSIS_ABI_VERSION, "analysis table not offered");
  if (an) {
    void *a = NULL;
    CHECK(!an->analyze(NULL, NULL, 1, 1, &a, err, sizeof err) && a, "analysis plugin's analyze");
    an->free_analysis(NULL, a);
  }
  /* The example still works after all the refusals (nothing was unloaded under it). */
  vt = codec_registry_find(reg, "quantize");
  CHECK(vt && vt->library_version() != NULL, "example plugin lost");

  codec_registry_destroy(reg);
  return sb_test_status("test_codecs_plugin");
}
