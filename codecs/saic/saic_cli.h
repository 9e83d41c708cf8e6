/* saic_cli.h - the SAIC subcommands of saicbench (prefix saic_cli_). Each takes the arguments
 * after "saicbench" (argv[0] is the subcommand's name), prints --help to stdout with exit 0, and
 * returns 0 on success or 2 after one line on stderr saying why. */
#ifndef SAIC_CLI_H
#define SAIC_CLI_H

/* saicbench export --model TRAIN.ckpt --out CODEC.ckpt [--tail-mass P] [--max-half-range N] */
int saic_cli_export_main(int argc, char **argv);
/* saicbench encode IN.png OUT.saic --model CODEC.ckpt --rate R [--threads N] */
int saic_cli_encode_main(int argc, char **argv);
/* saicbench decode IN.saic OUT.png --model CODEC.ckpt [--threads N] [--max-pixels N] */
int saic_cli_decode_main(int argc, char **argv);

#endif
