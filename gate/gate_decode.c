/* The hidden subcommand `saicbench __gate-decode` (gate.h): the decoder process of the
 * determinism check. */
#include <errno.h>
#include <getopt.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_registry.h"
#include "gate_internal.h"
#include "data.h"
#include "harness.h"

/* A binary PPM (P6): the decoded bytes behind a small header, viewable with any image tool. */
static int write_ppm(const char *path, const uint8_t *rgb, int w, int h, char *err,
                     size_t err_len) {
  FILE *f = fopen(path, "wb");
  size_t n = (size_t)w * (size_t)h * 3;
  int ok = f && fprintf(f, "P6\n%d %d\n255\n", w, h) > 0 && (!n || fwrite(rgb, 1, n, f) == n);
  if (f && fclose(f))
    ok = 0;
  if (!ok)
    snprintf(err, err_len, "%s: %s", path, strerror(errno));
  return ok ? 0 : -1;
}

int gate_decode_main(int argc, char **argv) {
  static const struct option opts[] = {{"spec", required_argument, 0, 's'},
                                       {"threads", required_argument, 0, 't'},
                                       {"count", required_argument, 0, 'c'},
                                       {"in", required_argument, 0, 'i'},
                                       {"out", required_argument, 0, 'o'},
                                       {"plugin", required_argument, 0, 'p'},
                                       {0, 0, 0, 0}};
  const char *spec = NULL, *in = NULL, *outd = NULL;
  const char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  long threads = 1, count = -1;
  size_t n_plugins = 0;
  int c, status = 2;
  codec_registry *reg = NULL;
  suite *s = NULL;
  void *inst = NULL;
  const codec_vtable *vt = NULL;
  char err[1024] = "";
  if (!plugins) {
    fprintf(stderr, "saicbench __gate-decode: out of memory\n");
    return 2;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 's': spec = optarg; break;
    case 't': threads = strtol(optarg, NULL, 10); break;
    case 'c': count = strtol(optarg, NULL, 10); break;
    case 'i': in = optarg; break;
    case 'o': outd = optarg; break;
    case 'p': plugins[n_plugins++] = optarg; break;
    default: goto done;
    }
  }
  if (!spec || !in || !outd || threads < 1 || threads > 1024 || count < 0) {
    snprintf(err, sizeof err,
             "usage: saicbench __gate-decode --spec SPEC --threads N --count K "
             "--in DIR --out DIR [--plugin PATH]...");
    goto done;
  }
  omp_set_num_threads((int)threads);
  if (codec_registry_create(&reg, err, sizeof err))
    goto done;
  for (size_t i = 0; i < n_plugins; i++)
    if (codec_registry_load_plugin(reg, plugins[i], err, sizeof err))
      goto done;
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)strcspn(spec, ":"), spec);
  if (!(vt = codec_registry_find(reg, name))) {
    snprintf(err, sizeof err, "unknown codec '%s'", name);
    goto done;
  }
  if (!(s = suite_new_adhoc("decode")) ||
      suite_add_codec_spec(s, spec, vt->knob.name, err, sizeof err))
    goto done;
  if (vt->create(s->codecs[0].options, s->codecs[0].n_options, &inst, err, sizeof err)) {
    vt = NULL; /* nothing to destroy */
    goto done;
  }
  for (long i = 0; i < count; i++) {
    char file[32];
    snprintf(file, sizeof file, "%03ld.bin", i);
    char *src = gate_path_join(in, file);
    snprintf(file, sizeof file, "%03ld.ppm", i);
    char *dst = gate_path_join(outd, file);
    uint8_t *data = NULL, *rgb = NULL;
    size_t size = 0;
    int w = 0, h = 0, rc = -1;
    char e[512] = "";
    if (!src || !dst)
      snprintf(err, sizeof err, "out of memory");
    else if (image_read_file(src, (size_t)1 << 30, &data, &size, err, sizeof err))
      ;
    else if (vt->decode(inst, data, size, &rgb, &w, &h, e, sizeof e))
      snprintf(err, sizeof err, "%s: decode failed: %s", src, e);
    else
      rc = write_ppm(dst, rgb, w, h, err, sizeof err);
    free(rgb);
    free(data);
    free(src);
    free(dst);
    if (rc)
      goto done;
  }
  status = 0;
done:
  if (status && *err)
    fprintf(stderr, "saicbench __gate-decode: %s\n", err);
  if (vt)
    vt->destroy(inst);
  suite_free(s);
  codec_registry_destroy(reg);
  free(plugins);
  return status;
}
