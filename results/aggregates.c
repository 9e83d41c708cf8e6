/* aggregates.c - the per-point aggregates and task aggregates of a run, recomputed from its
 * result rows (results.h: store_compute_aggregates). */
#include "results_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base.h"

#include "metrics.h"

/* Running sums for one (point, dataset) group; means skip NULLs as SQL AVG does. */
enum {
  A_KNOB,
  A_BPP,
  A_SBPP,
  A_PSNR,
  A_MSE,
  A_SSIM,
  A_MSSSIM,
  A_ENC,
  A_DEC,
  A_EXTRA, /* the STORE_N_EXTRA_METRICS version-3 metrics, in schema order */
  A_COUNT = A_EXTRA + STORE_N_EXTRA_METRICS
};

typedef struct agg {
  int64_t n, n_errors, n_unreachable;
  double sum[A_COUNT];
  int64_t cnt[A_COUNT];
} agg;

static void agg_add(agg *a, int k, sqlite3_stmt *st, int col) {
  if (sqlite3_column_type(st, col) == SQLITE_NULL)
    return;
  a->sum[k] += sqlite3_column_double(st, col);
  a->cnt[k]++;
}

static void bind_mean(sqlite3_stmt *st, int i, const agg *a, int k) {
  if (a->cnt[k])
    sqlite3_bind_double(st, i, a->sum[k] / (double)a->cnt[k]);
  else
    sqlite3_bind_null(st, i);
}

static int flush_agg(store *s, sqlite3_stmt *ins, int64_t point_id, int64_t dataset_id,
                     const agg *a, char *err, size_t err_len) {
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  sqlite3_bind_int64(ins, 1, point_id);
  sqlite3_bind_int64(ins, 2, dataset_id);
  sqlite3_bind_int64(ins, 3, a->n);
  sqlite3_bind_int64(ins, 4, a->n_errors);
  sqlite3_bind_int64(ins, 5, a->n_unreachable);
  bind_mean(ins, 6, a, A_KNOB);
  bind_mean(ins, 7, a, A_BPP);
  bind_mean(ins, 8, a, A_SBPP);
  bind_mean(ins, 9, a, A_PSNR);
  if (a->cnt[A_MSE]) {
    double mse = a->sum[A_MSE] / (double)a->cnt[A_MSE];
    sqlite3_bind_double(ins, 10, mse > 0 ? fmin(10.0 * log10(255.0 * 255.0 / mse), 100.0) : 100.0);
  }
  bind_mean(ins, 11, a, A_SSIM);
  bind_mean(ins, 12, a, A_MSSSIM);
  bind_mean(ins, 13, a, A_ENC);
  bind_mean(ins, 14, a, A_DEC);
  for (int k = 0; k < STORE_N_EXTRA_METRICS; k++)
    bind_mean(ins, 15 + k, a, A_EXTRA + k);
  if (sqlite3_step(ins) != SQLITE_DONE)
    return store_fail(s, "storing aggregates", err, err_len);
  return 0;
}

/* One (task, point, dataset) group of task rows, in image order. */
typedef struct task_group {
  int *labels, *ref, *dec, *ref_correct;
  double *kl;
  size_t n, cap;
  int labeled, num_classes;
} task_group;

static int task_group_push(task_group *g, int label, int ref, int ref_correct, int dec, double kl) {
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 1024;
    int *l = realloc(g->labels, cap * sizeof *l);
    if (l)
      g->labels = l;
    int *r = realloc(g->ref, cap * sizeof *r);
    if (r)
      g->ref = r;
    int *rc = realloc(g->ref_correct, cap * sizeof *rc);
    if (rc)
      g->ref_correct = rc;
    int *d = realloc(g->dec, cap * sizeof *d);
    if (d)
      g->dec = d;
    double *k = realloc(g->kl, cap * sizeof *k);
    if (k)
      g->kl = k;
    if (!l || !r || !rc || !d || !k)
      return -1;
    g->cap = cap;
  }
  g->labels[g->n] = label;
  g->ref[g->n] = ref;
  g->ref_correct[g->n] = ref_correct;
  g->dec[g->n] = dec;
  g->kl[g->n] = kl;
  g->n++;
  if (label < 0 || label >= g->num_classes)
    g->labeled = 0;
  return 0;
}

static int flush_task_group(store *s, sqlite3_stmt *ins, int64_t task, int64_t point, int64_t ds,
                            const task_group *g, char *err, size_t err_len) {
  metrics_task_stats st;
  if (metrics_task_stats_compute(g->labeled ? g->labels : NULL, g->ref, g->dec, g->kl, g->n,
                                 g->num_classes, &st)) {
    snprintf(err, err_len, "%s: task %lld: a stored prediction is outside its %d classes", s->path,
             (long long)task, g->num_classes);
    return -1;
  }
  double ref_acc = NAN;
  if (g->labeled && g->n) {
    size_t c = 0;
    for (size_t i = 0; i < g->n; i++)
      c += g->ref_correct[i] == 1;
    ref_acc = (double)c / (double)g->n;
  }
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  sqlite3_bind_int64(ins, 1, task);
  sqlite3_bind_int64(ins, 2, point);
  sqlite3_bind_int64(ins, 3, ds);
  sqlite3_bind_int64(ins, 4, (int64_t)st.n);
  store_bind_real(ins, 5, st.accuracy);
  store_bind_real(ins, 6, ref_acc);
  store_bind_real(ins, 7, st.agreement);
  store_bind_real(ins, 8, st.h_a);
  store_bind_real(ins, 9, st.si);
  store_bind_real(ins, 10, st.si_norm);
  store_bind_real(ins, 11, st.i_y_a);
  store_bind_real(ins, 12, st.i_y_b);
  store_bind_real(ins, 13, st.delta_i);
  store_bind_real(ins, 14, st.mean_kl);
  if (sqlite3_step(ins) != SQLITE_DONE)
    return store_fail(s, "storing task aggregates", err, err_len);
  return 0;
}

/* Task aggregates of a run; called inside store_compute_aggregates' transaction. */
static int compute_task_aggregates(store *s, int64_t run_id, char *err, size_t err_len) {
  sqlite3_stmt *del = NULL, *sel = NULL, *ins = NULL;
  task_group g;
  memset(&g, 0, sizeof g);
  int rc = -1;
  if (store_prepare(
          s, "DELETE FROM task_aggregates WHERE task_id IN (SELECT id FROM tasks WHERE run_id=?)",
          &del, err, err_len) ||
      store_prepare(s,
                    "SELECT tr.task_id, tr.point_id, i.dataset_id, i.label, rf.top1, rf.correct, "
                    "tr.top1, tr.kl, t.num_classes FROM task_results tr "
                    "JOIN tasks t ON t.id=tr.task_id JOIN images i ON i.id=tr.image_id "
                    "JOIN task_refs rf ON rf.task_id=tr.task_id AND rf.image_id=tr.image_id "
                    "WHERE t.run_id=? ORDER BY tr.task_id, tr.point_id, i.dataset_id, i.idx",
                    &sel, err, err_len) ||
      store_prepare(s,
                    "INSERT INTO task_aggregates (task_id, point_id, dataset_id, n, accuracy, "
                    "ref_accuracy, agreement, h_a, si, si_norm, i_y_a, i_y_b, delta_i, mean_kl) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    &ins, err, err_len))
    goto done;
  sqlite3_bind_int64(del, 1, run_id);
  if (sqlite3_step(del) != SQLITE_DONE) {
    store_fail(s, "clearing task aggregates", err, err_len);
    goto done;
  }
  sqlite3_bind_int64(sel, 1, run_id);
  int64_t cur_task = -1, cur_point = -1, cur_ds = -1;
  int step;
  while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
    int64_t task = sqlite3_column_int64(sel, 0), point = sqlite3_column_int64(sel, 1),
            ds = sqlite3_column_int64(sel, 2);
    if (task != cur_task || point != cur_point || ds != cur_ds) {
      if (cur_task >= 0 && flush_task_group(s, ins, cur_task, cur_point, cur_ds, &g, err, err_len))
        goto done;
      g.n = 0;
      g.labeled = 1;
      g.num_classes = sqlite3_column_int(sel, 8);
      cur_task = task;
      cur_point = point;
      cur_ds = ds;
    }
    int label = sqlite3_column_type(sel, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(sel, 3);
    int ref_correct = sqlite3_column_type(sel, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(sel, 5);
    if (task_group_push(&g, label, sqlite3_column_int(sel, 4), ref_correct,
                        sqlite3_column_int(sel, 6), sqlite3_column_double(sel, 7))) {
      snprintf(err, err_len, "%s: out of memory computing task aggregates", s->path);
      goto done;
    }
  }
  if (step != SQLITE_DONE) {
    store_fail(s, "reading task results", err, err_len);
    goto done;
  }
  if (cur_task >= 0 && flush_task_group(s, ins, cur_task, cur_point, cur_ds, &g, err, err_len))
    goto done;
  rc = 0;
done:
  free(g.labels);
  free(g.ref);
  free(g.ref_correct);
  free(g.dec);
  free(g.kl);
  sqlite3_finalize(del);
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  return rc;
}

int store_compute_aggregates(store *s, int64_t run_id, char *err, size_t err_len) {
  sqlite3_stmt *del = NULL, *sel = NULL, *ins = NULL;
  int rc = -1;
  if (store_begin(s, err, err_len))
    return -1;
  if (store_prepare(
          s,
          "DELETE FROM aggregates WHERE point_id IN (SELECT p.id FROM points p JOIN codecs c "
          "ON c.id=p.codec_id WHERE c.run_id=?)",
          &del, err, err_len) ||
      store_prepare(s,
                    /* Fixed order (point, dataset, image index): sums are bit-identical however
                     * the rows were produced (thread count, resume). */
                    "SELECT r.point_id, i.dataset_id, r.error IS NOT NULL, r.target_unreachable, "
                    "r.knob, r.bpp, r.stream_bpp, r.psnr, r.mse, r.ssim, r.ms_ssim, r.encode_ms, "
                    "r.decode_ms, r.psnr_y, r.psnr_cb, r.psnr_cr, r.psnr_ycbcr, r.ciede2000, "
                    "r.butteraugli_max, r.butteraugli_3norm "
                    "FROM results r JOIN images i ON i.id=r.image_id JOIN points p ON "
                    "p.id=r.point_id JOIN codecs c ON c.id=p.codec_id WHERE c.run_id=? "
                    "ORDER BY r.point_id, i.dataset_id, i.idx",
                    &sel, err, err_len) ||
      store_prepare(s,
                    "INSERT INTO aggregates (point_id, dataset_id, n, n_errors, n_unreachable, "
                    "mean_knob, mean_bpp, mean_stream_bpp, mean_psnr, psnr_of_mean_mse, mean_ssim, "
                    "mean_ms_ssim, mean_encode_ms, mean_decode_ms, mean_psnr_y, mean_psnr_cb, "
                    "mean_psnr_cr, mean_psnr_ycbcr, mean_ciede2000, mean_butteraugli_max, "
                    "mean_butteraugli_3norm) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    &ins, err, err_len))
    goto done;
  sqlite3_bind_int64(del, 1, run_id);
  if (sqlite3_step(del) != SQLITE_DONE) {
    store_fail(s, "clearing aggregates", err, err_len);
    goto done;
  }
  sqlite3_bind_int64(sel, 1, run_id);
  agg a;
  memset(&a, 0, sizeof a);
  int64_t cur_point = -1, cur_ds = -1;
  int step;
  while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
    int64_t point = sqlite3_column_int64(sel, 0), ds = sqlite3_column_int64(sel, 1);
    if (point != cur_point || ds != cur_ds) {
      if (cur_point >= 0 && flush_agg(s, ins, cur_point, cur_ds, &a, err, err_len))
        goto done;
      memset(&a, 0, sizeof a);
      cur_point = point;
      cur_ds = ds;
    }
    if (sqlite3_column_int(sel, 2)) {
      a.n_errors++;
      continue;
    }
    a.n++;
    a.n_unreachable += sqlite3_column_int(sel, 3);
    agg_add(&a, A_KNOB, sel, 4);
    agg_add(&a, A_BPP, sel, 5);
    agg_add(&a, A_SBPP, sel, 6);
    agg_add(&a, A_PSNR, sel, 7);
    agg_add(&a, A_MSE, sel, 8);
    agg_add(&a, A_SSIM, sel, 9);
    agg_add(&a, A_MSSSIM, sel, 10);
    agg_add(&a, A_ENC, sel, 11);
    agg_add(&a, A_DEC, sel, 12);
    for (int k = 0; k < STORE_N_EXTRA_METRICS; k++)
      agg_add(&a, A_EXTRA + k, sel, 13 + k);
  }
  if (step != SQLITE_DONE) {
    store_fail(s, "reading results", err, err_len);
    goto done;
  }
  if (cur_point >= 0 && flush_agg(s, ins, cur_point, cur_ds, &a, err, err_len))
    goto done;
  if (compute_task_aggregates(s, run_id, err, err_len))
    goto done;
  rc = store_commit(s, err, err_len);
done:
  sqlite3_finalize(del);
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  if (rc)
    store_rollback(s);
  return rc;
}
