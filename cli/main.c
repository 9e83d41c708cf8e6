/* saicbench command-line interface: one program, several subcommands. The command table below
 * names each subcommand, its line in the usage text and its handler (one file per subcommand,
 * cmd_*.c; encode, decode and export are codecs/saic/saic_cli.c). */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gate.h"
#include "saic_cli.h"

#ifndef SAICBENCH_VERSION
#define SAICBENCH_VERSION "unknown"
#endif

static int cmd_version(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("saicbench %s\n", SAICBENCH_VERSION);
  return 0;
}

typedef struct cli_command {
  const char *name;
  const char *summary; /* its line in the usage text */
  int (*handler)(int argc, char **argv);
  int hidden; /* not in the usage text */
} cli_command;

/* In the order of the usage text. */
static const cli_command commands[] = {
    {"run", "run a suite (or an ad-hoc set of codecs) and store results in SQLite", cli_cmd_run, 0},
    {"report", "write CSV, JSON and HTML reports of a stored run", cli_cmd_report, 0},
    {"codecs", "list codecs, their rate knob and settings, and library versions", cli_cmd_codecs,
     0},
    {"merge", "combine the databases of a sharded run into one run", cli_cmd_merge, 0},
    {"compare", "compare two runs point by point; exit 1 on regressions", cli_cmd_compare, 0},
    {"train", "train a model (classifier: the CIFAR-10 task network; codec: SAIC)", cli_cmd_train,
     0},
    {"export", "turn a trained SAIC model into a codec checkpoint (integer tables)",
     saic_cli_export_main, 0},
    {"encode", "encode an image with the SAIC codec", saic_cli_encode_main, 0},
    {"decode", "decode a SAIC stream into a PNG", saic_cli_decode_main, 0},
    {"history", "list a suite's runs with their changes night over night", cli_cmd_history, 0},
    {"gate", "validate a codec (checkpoint) against a baseline: pass or fail", cli_cmd_gate, 0},
    {"version", "print the version", cmd_version, 0},
    {"--version", NULL, cmd_version, 1},
    /* The gate's decode-determinism child (gate/gate_decode.c). */
    {"__gate-decode", NULL, gate_decode_main, 1},
};

static void usage(FILE *f) {
  fprintf(f,
          "saicbench %s — rate/distortion/accuracy benchmark for image codecs\n"
          "\n"
          "usage: saicbench COMMAND [options]   (saicbench COMMAND --help for details)\n"
          "\n"
          "commands:\n",
          SAICBENCH_VERSION);
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!commands[i].hidden)
      fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
  /* A file-size limit (ulimit -f) would otherwise kill the process with SIGXFSZ and no word;
   * ignored, the write fails with EFBIG and the usual message (run: "disk full, file size
   * limit or I/O error ... --resume") names the file. */
  signal(SIGXFSZ, SIG_IGN);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(cmd, commands[i].name))
      return commands[i].handler(argc - 1, argv + 1);
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "saicbench: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}
