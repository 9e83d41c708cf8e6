/* Private header of the saicbench program (cli/): the subcommand handlers that the command table
 * in main.c dispatches to (one file each, cmd_*.c), and the helpers several of them share
 * (cli_common.c). A handler takes the arguments from its own name on (argv[0] is the subcommand;
 * argv[-1] is the program) and returns the exit status. */
#ifndef SAICBENCH_CLI_H
#define SAICBENCH_CLI_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

struct codec_registry;
struct report_options;
struct suite;

/* ------------------------------------------------------------------ subcommands */

int cli_cmd_run(int argc, char **argv);     /* cmd_run.c */
int cli_cmd_report(int argc, char **argv);  /* cmd_report.c */
int cli_cmd_compare(int argc, char **argv); /* cmd_compare.c */
int cli_cmd_history(int argc, char **argv); /* cmd_history.c */
int cli_cmd_gate(int argc, char **argv);    /* cmd_gate.c */
int cli_cmd_merge(int argc, char **argv);   /* cmd_merge.c */
int cli_cmd_train(int argc, char **argv);   /* cmd_train.c */
int cli_cmd_codecs(int argc, char **argv);  /* cmd_codecs.c */

/* Writes the report of a run into `out` (`saicbench report`, and `run --report`); latest: the
 * database's newest run instead of run_id. Labels opt leaves NULL come from the suite's
 * `report:` key, else the report's defaults. Returns 0, or 2 after printing the error. */
int cli_report_write_opts(const char *db_path, int64_t run_id, int latest, const char *out,
                          const struct report_options *opt);

/* ------------------------------------------------------------------ shared helpers */

/* The one piece of process-wide state: set by SIGINT/SIGTERM (cli_on_signal), read by the runner
 * and the gate. A second signal ends the process at once. */
extern volatile sig_atomic_t cli_stop;
void cli_on_signal(int sig);

/* Prints "saicbench: " fmt (with msg as its one %s) on stderr; returns 2 (the error status). */
int cli_fail(const char *fmt, const char *msg);

/* The arguments joined by spaces, to store with a run; malloc()ed, NULL when out of memory. */
char *cli_join_argv(int argc, char **argv);

/* An integer option value from 1 to max; -1 after printing an error naming opt. */
int cli_parse_positive(const char *opt, const char *s, long max, long *out);
/* An integer in [min, max], else a message naming the option; -1. */
int cli_parse_range(const char *opt, const char *s, long min, long max, long *out);

/* Loads the plugins named on the command line into the registry; -1 after printing an error. */
int cli_load_plugins(struct codec_registry *reg, char **paths, int n);

/* Loads a suite file, its plugins (relative to the suite file's folder) and its command codecs
 * into reg (`saicbench run`, `saicbench codecs --suite`). *out is the suite, also on failure
 * (NULL or partly used: free it with suite_free). Returns 0, or -1 with a message. */
int cli_load_suite(const char *suite_file, struct codec_registry *reg, struct suite **out,
                   char *err, size_t err_len);

/* The default --data folder: $SAICBENCH_DATA, else ~/.local/share/saicbench/datasets (in buf);
 * NULL without HOME. */
const char *cli_default_data_root(char *buf, size_t len);

/* Parses "I/N" (0 <= I < N <= 100000); -1 after printing an error naming `what`. */
int cli_parse_shard(const char *what, const char *text, unsigned *index, unsigned *count);

/* The shard from a batch scheduler's variables (Slurm job array, Kubernetes indexed Job): 1 if
 * found, 0 if not, -1 on malformed values (after printing an error). */
int cli_shard_from_environment(unsigned *index, unsigned *count, int quiet);

#endif
