/* writer.c - the runner's result queue and writer thread (writer.h). */
#include "writer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

void writer_push(writer *w, msg *m) {
  m->next = NULL;
  pthread_mutex_lock(&w->mu);
  if (w->tail)
    w->tail->next = m;
  else
    w->head = m;
  w->tail = m;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static void format_duration(double s, char out[32]) {
  if (!isfinite(s) || s < 0)
    snprintf(out, 32, "?");
  else if (s >= 3600)
    snprintf(out, 32, "%d:%02d:%02d", (int)(s / 3600), (int)fmod(s / 60, 60), (int)fmod(s, 60));
  else
    snprintf(out, 32, "%d:%02d", (int)(s / 60), (int)fmod(s, 60));
}

void writer_progress(writer *w, int final) {
  if (w->quiet)
    return;
  double now = sb_now_ms();
  double interval = w->tty ? 200 : 10000;
  if (!final && now - w->t_last_print < interval)
    return;
  w->t_last_print = now;
  double el = (now - w->t_start) / 1000.0;
  double rate = el > 0 ? (double)w->units_stored / el : 0;
  double frac = w->units_todo ? (double)w->units_stored / (double)w->units_todo : 1;
  char eta[32], elapsed[32];
  format_duration(rate > 0 ? (double)(w->units_todo - w->units_stored) / rate : NAN, eta);
  format_duration(el, elapsed);
  if (w->tty) {
    char bar[31];
    int filled = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
      bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %5.1f%% %zu/%zu units  %.0f units/s  %s  ETA %s  ", bar, frac * 100,
            w->units_stored, w->units_todo, rate, elapsed, eta);
    if (final)
      fputc('\n', stderr);
  } else {
    fprintf(stderr, "progress: %zu/%zu units (%.1f%%), %.0f units/s, elapsed %s, ETA %s\n",
            w->units_stored, w->units_todo, frac * 100, rate, elapsed, eta);
  }
  fflush(stderr);
}

void writer_free_msgs(msg *m) {
  while (m) {
    msg *next = m->next;
    free((char *)m->r.error);
    free((double *)m->r.encode_all);
    free((double *)m->r.decode_all);
    free(m->error);
    free(m->th.png);
    for (int k = 0; k < m->n_tasks; k++)
      free(m->tasks[k].probs);
    free(m->tasks);
    free(m);
    m = next;
  }
}

/* Stores one batch in one transaction. */
static int writer_store_batch(writer *w, msg *batch) {
  char err[512];
  if (store_begin(w->st, err, sizeof err))
    goto fail;
  size_t stored = 0, failed = 0;
  for (msg *m = batch; m; m = m->next) {
    if (m->kind == MSG_RESULT) {
      if (store_insert_result(w->st, &m->r, err, sizeof err))
        goto fail_rollback;
      for (int k = 0; k < m->n_tasks; k++) {
        const task_row *t = &m->tasks[k];
        if (store_insert_task_result(w->st, t->task_id, m->r.image_id, m->r.point_id, t->top1,
                                     t->correct, t->agree, t->kl, err, sizeof err))
          goto fail_rollback;
      }
      if (m->th.png && store_insert_thumbnail(w->st, m->r.image_id, m->r.point_id, m->th.w, m->th.h,
                                              m->th.png, m->th.len, err, sizeof err))
        goto fail_rollback;
      stored++;
      failed += m->r.error != NULL;
    } else {
      if (store_update_image(w->st, m->image_id, m->width, m->height, m->hash, m->error, err,
                             sizeof err))
        goto fail_rollback;
      for (int k = 0; k < m->n_tasks; k++) {
        const task_row *t = &m->tasks[k];
        if (store_insert_task_ref(w->st, t->task_id, m->image_id, t->top1, t->correct, t->probs,
                                  t->num_classes, err, sizeof err))
          goto fail_rollback;
      }
      if (m->th.png && store_insert_thumbnail(w->st, m->image_id, 0, m->th.w, m->th.h, m->th.png,
                                              m->th.len, err, sizeof err))
        goto fail_rollback;
    }
  }
  if (store_commit(w->st, err, sizeof err))
    goto fail_rollback;
  w->units_stored += stored;
  w->units_failed += failed;
  if (w->kill_after && w->units_stored >= w->kill_after)
    raise(SIGKILL); /* testing hook: a crash right after a commit */
  return 0;
fail_rollback:
  store_rollback(w->st);
fail:
  snprintf(w->err, sizeof w->err, "%s", err);
  return -1;
}

static void *writer_main(void *arg) {
  writer *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->head && !w->closing) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 200 * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&w->cv, &w->mu, &ts);
      if (!w->head && !w->closing) {
        pthread_mutex_unlock(&w->mu);
        writer_progress(w, 0);
        pthread_mutex_lock(&w->mu);
      }
    }
    msg *batch = w->head;
    w->head = w->tail = NULL;
    int closing = w->closing;
    pthread_mutex_unlock(&w->mu);
    if (batch && !atomic_load(&w->failed) && writer_store_batch(w, batch))
      atomic_store(&w->failed, 1);
    writer_free_msgs(batch);
    writer_progress(w, 0);
    if (closing && !batch)
      return NULL;
    pthread_mutex_lock(&w->mu);
  }
}

/* Starts the writer thread of w (which stores into st). */
int writer_start(writer *w, pthread_t *thread, store *st, const runner_options *opt,
                 size_t units_todo, char *err, size_t err_len) {
  memset(w, 0, sizeof *w);
  w->st = st;
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->units_todo = units_todo;
  w->t_start = w->t_last_print = sb_now_ms();
  w->quiet = opt->quiet;
  w->tty = isatty(STDERR_FILENO);
  w->kill_after = opt->kill_after_units;
  w->stop = opt->stop;
  atomic_init(&w->failed, 0);
  atomic_init(&w->task_failed, 0);
  if (pthread_create(thread, NULL, writer_main, w)) {
    snprintf(err, err_len, "cannot start the writer thread: %s", strerror(errno));
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    return -1;
  }
  return 0;
}

/* Lets the writer store what is queued, then joins it. */
void writer_finish(writer *w, pthread_t thread) {
  pthread_mutex_lock(&w->mu);
  w->closing = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(thread, NULL);
  writer_progress(w, 1);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
}
