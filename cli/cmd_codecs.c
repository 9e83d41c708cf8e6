/* `saicbench codecs`: lists the codecs, their rate knob and settings. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codec_registry.h"

int cli_cmd_codecs(int argc, char **argv) {
  static const struct option opts[] = {
      {"plugin", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  int n_plugins = 0, c;
  if (!plugins)
    return cli_fail("%s", "out of memory");
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'p') {
      plugins[n_plugins++] = optarg;
    } else if (c == 'h') {
      printf("usage: saicbench codecs [--plugin PATH]...\n\nLists the codecs: name, library "
             "version, the rate knob (range, direction, kind) and the settings each accepts.\n");
      free(plugins);
      return 0;
    } else {
      free(plugins);
      fprintf(stderr, "saicbench codecs: see --help\n");
      return 2;
    }
  }
  codec_registry *reg;
  char err[512];
  if (codec_registry_create(&reg, err, sizeof err)) {
    free(plugins);
    return cli_fail("%s", err);
  }
  if (cli_load_plugins(reg, plugins, n_plugins)) {
    codec_registry_destroy(reg);
    free(plugins);
    return 2;
  }
  for (size_t i = 0; i < codec_registry_count(reg); i++) {
    const codec_vtable *vt = codec_registry_at(reg, i);
    const char *plugin = codec_registry_plugin_path(reg, vt);
    printf("%s  (%s)%s%s\n  %s\n", vt->name, vt->library_version(), plugin ? "  plugin: " : "",
           plugin ? plugin : "", vt->description);
    printf("  knob %s: %s %g..%g, %s rate as it grows — %s\n", vt->knob.name,
           vt->knob.kind == CODEC_KNOB_INT ? "integer" : "real", vt->knob.min, vt->knob.max,
           vt->knob.rate_increases >= 0 ? "more" : "less", vt->knob.description);
    if (vt->settings_help && *vt->settings_help) {
      printf("  settings:\n");
      const char *p = vt->settings_help;
      while (*p) {
        size_t n = strcspn(p, "\n");
        printf("    %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
      }
    }
    printf("\n");
  }
  codec_registry_destroy(reg);
  free(plugins);
  return 0;
}
