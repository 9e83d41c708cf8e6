/* writer.h - the runner's result queue and its writer thread (prefix writer_): workers push
 * messages (a result row, or what was learned about an original image, each with its task rows
 * and thumbnail), one thread stores them in batches, one transaction per batch, and prints the
 * progress. Private to sb_harness.
 * Thread-safety: writer_push from any thread; the rest from the thread that runs the run. */
#ifndef SAICBENCH_WRITER_H
#define SAICBENCH_WRITER_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"
#include "harness.h"

typedef enum msg_kind { MSG_RESULT, MSG_IMAGE } msg_kind;

/* A task's output on a decoded image (MSG_RESULT) or on the original (MSG_IMAGE). */
typedef struct task_row {
  int64_t task_id;
  int top1, correct, agree; /* correct: -1 unlabeled; agree: MSG_RESULT only */
  double kl;                /* MSG_RESULT only */
  float *probs;             /* MSG_IMAGE only: num_classes values, owned */
  int num_classes;
} task_row;

/* A PNG thumbnail (image_thumbnail_png); png NULL when none. */
typedef struct thumb {
  uint8_t *png;
  size_t len;
  int w, h;
} thumb;

typedef struct msg {
  msg_kind kind;
  thumb th;         /* MSG_IMAGE: of the original; MSG_RESULT: of the decoded image; owned */
  store_result r;   /* MSG_RESULT; r.error, r.encode_all and r.decode_all owned */
  int64_t image_id; /* MSG_IMAGE */
  int width, height;
  char hash[33];
  char *error;     /* MSG_IMAGE: owned */
  task_row *tasks; /* owned; stored in the same transaction as the row they belong to */
  int n_tasks;
  struct msg *next;
} msg;

typedef struct writer {
  store *st;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  msg *head, *tail;
  int closing;
  /* Progress. */
  size_t units_todo, units_stored, units_failed;
  double t_start, t_last_print;
  int quiet, tty;
  uint64_t kill_after;
  volatile sig_atomic_t *stop;
  atomic_int failed; /* the writer hit an error: workers stop */
  char err[512];
  atomic_int task_failed; /* task inference failed: workers stop */
  char task_err[512];     /* written once, by the worker that sets task_failed */
} writer;

/* Starts the writer thread of w (which stores into st); units_todo is for the progress. */
int writer_start(writer *w, pthread_t *thread, store *st, const runner_options *opt,
                 size_t units_todo, char *err, size_t err_len);
/* Lets the writer store what is queued, then joins it. */
void writer_finish(writer *w, pthread_t thread);
/* Queues m (the writer takes it). */
void writer_push(writer *w, msg *m);
/* Prints the progress line (at most every 200 ms on a terminal, 10 s otherwise, or now: final). */
void writer_progress(writer *w, int final);
/* Frees a list of messages. */
void writer_free_msgs(msg *m);

#endif
