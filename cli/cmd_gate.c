/* `saicbench gate`: validates a codec against a baseline (the gate itself: gate/). */
#include <getopt.h>
#include <limits.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "gate.h"

static void usage_gate(FILE *f) {
  fprintf(f,
          "usage: saicbench gate --candidate SPEC [--baseline SPEC|RUN_ID] [options]\n"
          "\n"
          "Validates a codec against a baseline on a validation suite and says pass or fail.\n"
          "The suite's datasets and tasks are used; its codecs are replaced by the candidate\n"
          "and the baseline, both on the grid of the suite's `gate:` mapping (a SPEC naming\n"
          "its own knob or bpp grid keeps it). Checks: (a) the candidate's rates reach\n"
          "gate.min_bpp..max_bpp; (b) encoding twice gives the same bytes and decoding in two\n"
          "processes (1 and max(2, N) threads) gives the same pixels; (c) accuracy and SI_norm\n"
          "at each grid point are not below the baseline's beyond the tolerance; (d) BD-accuracy\n"
          "and BD-rate at equal accuracy against the baseline. Writes verdict.json and\n"
          "verdict.md into --out and prints the verdict table.\n"
          "\n"
          "  --candidate SPEC  codec spec as `run --codec` takes it, NAME[:KEY=VAL]..., e.g.\n"
          "                    jpeg:subsampling=444; a path ending in .ckpt is shorthand for\n"
          "                    saic:model=PATH\n"
          "  --baseline X      a codec SPEC (run with the candidate), or RUN_ID: a complete run\n"
          "                    in --db on the same images (default: the suite's gate.baseline)\n"
          "  --baseline-label L  with RUN_ID: the codec label in that run (default: its only one)\n"
          "  --suite FILE      validation suite (default suites/validate.yaml)\n"
          "  --db PATH         result database (default OUT/gate.db)\n"
          "  --out DIR         verdict folder (default gate-out)\n"
          "  --data DIR        the folder the suite's dataset paths are relative to (default:\n"
          "                    $SAICBENCH_DATA, else ~/.local/share/saicbench/datasets)\n"
          "  --threads N       worker threads (default %d)\n"
          "  --plugin PATH     load a codec plugin; repeatable\n"
          "  --quiet           no progress output\n"
          "\n"
          "exit status: 0 pass, 1 fail, 2 error (nothing judged), 130 interrupted\n",
          omp_get_max_threads());
}

int cli_cmd_gate(int argc, char **argv) {
  static const struct option opts[] = {{"candidate", required_argument, 0, 'c'},
                                       {"baseline", required_argument, 0, 'b'},
                                       {"baseline-label", required_argument, 0, 'L'},
                                       {"suite", required_argument, 0, 's'},
                                       {"db", required_argument, 0, 'd'},
                                       {"out", required_argument, 0, 'o'},
                                       {"data", required_argument, 0, 'D'},
                                       {"threads", required_argument, 0, 't'},
                                       {"plugin", required_argument, 0, 'p'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  gate_options go = {.suite_path = "suites/validate.yaml", .out_dir = "gate-out"};
  const char **plugins = calloc((size_t)argc + 1, sizeof *plugins);
  long threads = omp_get_max_threads();
  int c, status = 2;
  char data_buf[PATH_MAX], self[PATH_MAX], err[1024];
  char *command = cli_join_argv(argc, argv);
  if (!plugins || !command) {
    status = cli_fail("%s", "out of memory");
    goto out;
  }
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': go.candidate = optarg; break;
    case 'b': go.baseline = optarg; break;
    case 'L': go.baseline_label = optarg; break;
    case 's': go.suite_path = optarg; break;
    case 'd': go.db_path = optarg; break;
    case 'o': go.out_dir = optarg; break;
    case 'D': go.data_root = optarg; break;
    case 't':
      if (cli_parse_positive("--threads", optarg, 1024, &threads))
        goto out;
      break;
    case 'p': plugins[go.n_plugins++] = optarg; break;
    case 'q': go.quiet = 1; break;
    case 'h':
      usage_gate(stdout);
      status = 0;
      goto out;
    default: fprintf(stderr, "saicbench gate: see --help\n"); goto out;
    }
  }
  if (optind < argc) {
    status = cli_fail("gate: unexpected argument '%s'", argv[optind]);
    goto out;
  }
  if (!go.candidate) {
    status = cli_fail("%s", "gate: --candidate SPEC is required (see --help)");
    goto out;
  }
  if (!go.data_root)
    go.data_root = cli_default_data_root(data_buf, sizeof data_buf);
  /* The determinism check starts this program again; /proc/self/exe survives a relative
   * argv[0] and a changed PATH. */
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0)
    self[n] = '\0';
  else
    snprintf(self, sizeof self, "%s", argv[-1]); /* main's argv[0]: the program */
  go.self_exe = self;
  go.threads = (int)threads;
  go.plugins = plugins;
  go.command = command;
  go.stop = &cli_stop;
  signal(SIGINT, cli_on_signal);
  signal(SIGTERM, cli_on_signal);
  status = gate_run(&go, stdout, err, sizeof err);
  if (status != GATE_PASS && status != GATE_FAIL)
    cli_fail("%s", err);
out:
  free(plugins);
  free(command);
  return status;
}
