/* `saicbench merge`: combines the databases of a sharded run into one run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "results.h"

int cli_cmd_merge(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    printf("usage: saicbench merge OUT_DB SHARD_DB...\n\n"
           "Combines the databases written by `saicbench run --shard I/N` (one complete run of\n"
           "the same plan in each, shards 0..N-1 all present) into one run in OUT_DB (created\n"
           "if missing; runs already there are kept) and recomputes its aggregates. Prints the\n"
           "merged run's id.\n");
    return 0;
  }
  if (argc < 3)
    return cli_fail("%s", "merge: usage: saicbench merge OUT_DB SHARD_DB... (see --help)");
  char *command = cli_join_argv(argc, argv);
  int64_t run_id = 0;
  size_t n_results = 0;
  char err[1024];
  int rc = merge_shards(argv[1], (const char *const *)argv + 2, (size_t)argc - 2, command, &run_id,
                        &n_results, err, sizeof err);
  free(command);
  if (rc)
    return cli_fail("%s", err);
  fprintf(stderr, "saicbench: merged %d shards into run %lld of %s (%zu results)\n", argc - 2,
          (long long)run_id, argv[1], n_results);
  printf("%lld\n", (long long)run_id);
  return 0;
}
