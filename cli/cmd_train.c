/* `saicbench train`: dispatches to the trainers (classifier: tasks/, codec: codecs/saic/). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "train.h"

int cli_cmd_train(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "classifier"))
    return train_classifier_main(argc - 1, argv + 1);
  if (argc >= 2 && !strcmp(argv[1], "codec"))
    return train_codec_main(argc - 1, argv + 1);
  FILE *f = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? stdout : stderr;
  fprintf(f, "usage: saicbench train classifier --config FILE [--data DIR] [--out DIR] "
             "[--resume] [--threads N]\n"
             "       saicbench train codec --config FILE [--data DIR] [--out DIR] [--resume] "
             "[--threads N]\n"
             "\n"
             "Trains a model on a train split (see `saicbench train classifier --help`,\n"
             "`saicbench train codec --help`).\n");
  return f == stdout ? 0 : 2;
}
