/* train_util.h - what the two trainers share (prefix train_util_): the classifier trainer
 * (train_classifier.c) and the SAIC codec trainer (train/train_codec.c).
 *
 * Why: both trainers take the same kind of data and options, log progress lines with the same
 * timing fields, store the same resumable rng state, check a resumed checkpoint the same way and
 * accept the same command-line options; one copy keeps their formats from drifting apart. What
 * differs (networks, losses, metadata keys, evaluation) stays in the trainers. Messages and
 * formats here are the ones the trainers always had; checkpoints and logs depend on them.
 *
 * Thread safety: no global state. Every function may be called concurrently on distinct
 * arguments; train_util_parse_args reads the environment and prints to stdout/stderr. */
#ifndef SB_TASKS_TRAIN_UTIL_H
#define SB_TASKS_TRAIN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Labelled images in memory: n packed RGB8 images of w x h pixels. */
typedef struct train_util_data {
  const uint8_t *rgb;
  const int *labels;
  size_t n;
  int w, h;
} train_util_data;

/* Options of one training call. */
typedef struct train_util_opts {
  const char *out_dir;      /* created if missing */
  bool resume;              /* continue from out_dir/last.ckpt */
  int threads;              /* 0 = omp_get_max_threads() */
  int stop_after_epoch;     /* > 0: return after this epoch (tests simulate interruption) */
  const char *command;      /* metadata (may be NULL) */
  const char *config_text;  /* metadata (may be NULL) */
  const char *dataset_hash; /* metadata (may be NULL) */
  FILE *log;                /* progress lines; NULL = silent */
} train_util_opts;

/* ---- time and progress ---- */

/* Seconds on the monotonic clock. */
double train_util_now_s(void);
/* s as "hh:mm:ss" (rounded to the second; negative, NaN or absurd values print 00:00:00). */
void train_util_fmt_hms(double s, char *buf, size_t len);

/* The clock of one training call, for its progress lines. */
typedef struct train_util_clock {
  double start;     /* train_util_now_s() when the call's training loop began */
  long start_step;  /* steps completed before it (by earlier runs, when resumed) */
  long total_steps; /* of the whole run */
  int batch;        /* images per step */
} train_util_clock;

/* At time `now`, `step` steps completed: returns the images per second since clk->start and
 * writes elapsed_s (the caller's training time so far) to `elapsed` and the estimated time to
 * total_steps to `eta`, both as train_util_fmt_hms (buffers of len bytes). */
double train_util_progress(const train_util_clock *clk, long step, double now, double elapsed_s,
                           char *elapsed, char *eta, size_t len);

/* ---- training state ---- */

/* The 4 words of an rng as 64 hex digits (checkpoint metadata "rng"); len >= 65. */
void train_util_rng_to_hex(const nn_rng *r, char *buf, size_t len);
/* Reads train_util_rng_to_hex's form back. Returns 0, or -1 if s is NULL or malformed (*r is
 * then unspecified). */
int train_util_rng_from_hex(const char *s, nn_rng *r);

/* perm = a uniform random permutation of 0..n-1 (Fisher-Yates, drawing n - 1 values from rng
 * from the top down: the epoch shuffle whose draws resumed runs replay). */
void train_util_shuffle(nn_rng *rng, uint32_t *perm, size_t n);

/* Creates dir and its missing parents. */
int train_util_ensure_dir(const char *dir, nn_err *err);

/* ---- checkpoints ---- */

/* Appends the metadata every trainer records from its options: "command", "config" and
 * "dataset_hash", those that are set (values point into o). Returns how many (at most 3). */
int train_util_meta_opts(const train_util_opts *o, nn_kv *kv);

/* Resuming from last_path: NN_E_IO if it does not exist. */
int train_util_check_resume(const char *last_path, nn_err *err);
/* Refuses (NN_E_FORMAT) a checkpoint that records a dataset hash other than o->dataset_hash.
 * Messages are "<prefix><path>: ..." (prefix "" for none). */
int train_util_check_dataset(const nn_ckpt *ck, const train_util_opts *o, const char *path,
                             const char *prefix, nn_err *err);
/* Logs a warning to o->log when the checkpoint was written with another configuration text. */
void train_util_warn_config(const nn_ckpt *ck, const train_util_opts *o, const char *path);
/* Copies the checkpoint tensor `name` (numel floats) into optimiser state st; NN_E_FORMAT if it
 * is missing or has another size. Messages as train_util_check_dataset. */
int train_util_restore_state(const nn_ckpt *ck, const char *name, float *st, size_t numel,
                             const char *path, const char *prefix, nn_err *err);

/* ---- command line of `saicbench train <what>` ---- */

typedef struct train_util_args {
  const char *config; /* --config FILE (required) */
  const char *data;   /* --data DIR, else $SAICBENCH_DATA (required) */
  const char *out;    /* --out DIR, else the caller's default (may be NULL) */
  bool resume;        /* --resume */
  int threads;        /* --threads N (1..1024), else omp_get_max_threads() */
} train_util_args;

/* A trainer's own options: argv[*i] is not a common option (or lacks its value). Returns 1 when
 * it took it (moving *i past a value it used), 0 when it does not know it, -1 after printing a
 * message to stderr. */
typedef int (*train_util_opt_fn)(void *ctx, const char *prog, int argc, char **argv, int *i);

/* Parses argv[1..argc-1] (prog, e.g. "train codec", starts every message): --help/-h, --resume,
 * --config, --data, --out, --threads, and through extra (may be NULL) the trainer's own options.
 * Returns true to go on, or false with the exit status to return in *status: 0 after --help
 * (usage on stdout), 2 for a usage error (message and, for unknown options or a missing
 * --config, usage on stderr). */
bool train_util_parse_args(int argc, char **argv, const char *prog, const char *default_out,
                           void (*usage)(FILE *), train_util_opt_fn extra, void *ctx,
                           train_util_args *a, int *status);
/* v as a whole number in lo..hi; else prints "<prog>: <opt> wants a number in lo..hi, got ..."
 * to stderr and returns -1. */
int train_util_parse_count(const char *prog, const char *opt, const char *v, long lo, long hi,
                           long *out);
/* --data may name the CIFAR-10 folder itself or a folder that holds cifar10/. */
void train_util_data_root(const char *data, char *root, size_t len);
/* "saicbench train" and every argument (argv[0] included), space-separated (metadata). */
void train_util_command(int argc, char **argv, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
