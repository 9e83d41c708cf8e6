/* train_main.c - standalone `saicbench_train classifier ...` (same code as
 * `saicbench train classifier`), so training can run before the subcommand is wired. */
#include <stdio.h>
#include <string.h>

#include "train_classifier.h"

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "classifier") != 0) {
    fprintf(stderr, "usage: %s classifier --config FILE [--data DIR] [--out DIR] [--resume] "
                    "[--threads N]\n",
            argv[0]);
    return 2;
  }
  return tasks_train_classifier_main(argc - 1, argv + 1);
}
