/* `saicbench codecs`: lists the codecs, their rate knob and settings. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "codec_registry.h"
#include "harness.h"

/* "  encode: PROGRAM ARG ..." of a command codec, as registered (programs resolved). */
static void print_template(const char *what, const codec_command_argv *t) {
  printf("  %s:", what);
  for (size_t i = 0; i < t->n; i++)
    printf(" %s", t->args[i]);
  printf("\n");
}

static void print_codec(const codec_registry *reg, const codec_vtable *vt) {
  const char *plugin = codec_registry_plugin_path(reg, vt);
  printf("%s  (%s)%s%s\n  %s\n", vt->name, vt->library_version(), plugin ? "  plugin: " : "",
         plugin ? plugin : "", vt->description);
  printf("  knob %s: %s %g..%g, %s rate as it grows — %s\n", vt->knob.name,
         vt->knob.kind == CODEC_KNOB_INT ? "integer" : "real", vt->knob.min, vt->knob.max,
         vt->knob.rate_increases >= 0 ? "more" : "less", vt->knob.description);
  const codec_command_def *cmd = codec_registry_command_def(reg, vt);
  if (cmd) {
    printf("  command codec: %s images, %d s timeout per call\n",
           codec_command_format_name(cmd->format), cmd->timeout_s);
    print_template("encode", &cmd->encode);
    print_template("decode", &cmd->decode);
  }
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

int cli_cmd_codecs(int argc, char **argv) {
  static const struct option opts[] = {{"plugin", required_argument, 0, 'p'},
                                       {"suite", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  const char *suite_file = NULL;
  int n_plugins = 0, c;
  if (!plugins)
    return cli_fail("%s", "out of memory");
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    if (c == 'p') {
      plugins[n_plugins++] = optarg;
    } else if (c == 's') {
      suite_file = optarg;
    } else if (c == 'h') {
      printf("usage: saicbench codecs [--plugin PATH]... [--suite FILE]\n\nLists the codecs: "
             "name, library version, the rate knob (range, direction, kind) and the settings "
             "each accepts.\n--suite FILE adds the suite's plugins and command-line codecs "
             "(`command_codecs:`;\ntheir version commands are run).\n");
      free(plugins);
      return 0;
    } else {
      free(plugins);
      fprintf(stderr, "saicbench codecs: see --help\n");
      return 2;
    }
  }
  codec_registry *reg;
  suite *s = NULL;
  char err[1024];
  int status = 2;
  if (codec_registry_create(&reg, err, sizeof err)) {
    free(plugins);
    return cli_fail("%s", err);
  }
  if (cli_load_plugins(reg, plugins, n_plugins))
    goto out;
  if (suite_file && cli_load_suite(suite_file, reg, &s, err, sizeof err)) {
    cli_fail("%s", err);
    goto out;
  }
  for (size_t i = 0; i < codec_registry_count(reg); i++)
    print_codec(reg, codec_registry_at(reg, i));
  status = 0;
out:
  suite_free(s);
  codec_registry_destroy(reg);
  free(plugins);
  return status;
}
