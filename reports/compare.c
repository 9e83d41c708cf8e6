#include "report.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "results.h"

/* Flags of one point. */
enum {
  F_REGRESSION = 1,
  F_IMPROVEMENT = 2,
  F_SLOWER = 4,
  F_FASTER = 8,
};

static const results_row *find_row(const results_data *d, const char *dataset, const char *codec,
                                   int is_bpp, double value, const results_dataset **ds_out) {
  for (size_t i = 0; i < d->n_datasets; i++) {
    const results_dataset *ds = &d->datasets[i];
    if (strcmp(ds->name, dataset))
      continue;
    *ds_out = ds;
    for (size_t k = 0; k < ds->n_rows; k++) {
      const results_row *r = &ds->rows[k];
      if (r->is_bpp == is_bpp && r->value == value && !strcmp(d->codecs[r->codec].label, codec))
        return r;
    }
  }
  return NULL;
}

/* The task row of dataset `ds` (of d) for this task, codec and grid point, or NULL. */
static const results_task_row *find_task_row(const results_data *d, const results_dataset *ds,
                                             const char *task, const char *codec, int is_bpp,
                                             double value) {
  if (!ds)
    return NULL;
  for (size_t k = 0; k < ds->n_task_rows; k++) {
    const results_task_row *r = &ds->task_rows[k];
    if (r->task >= d->n_tasks || r->codec >= d->n_codecs)
      continue;
    if (r->is_bpp == is_bpp && r->value == value && !strcmp(d->tasks[r->task].name, task) &&
        !strcmp(d->codecs[r->codec].label, codec))
      return r;
  }
  return NULL;
}

/* Noise bound of the difference of two proportions (see compare.h):
 * max(k * sqrt(pA(1-pA)/nA + pB(1-pB)/nB), 1/min(nA, nB)); NAN when a side has no images or
 * no value. */
static double proportion_bound(double pa, int64_t na, double pb, int64_t nb, double k) {
  if (na <= 0 || nb <= 0 || !isfinite(pa) || !isfinite(pb))
    return NAN;
  double se = sqrt(pa * (1 - pa) / (double)na + pb * (1 - pb) / (double)nb);
  double one_image = 1.0 / (double)(na < nb ? na : nb);
  return k * se > one_image ? k * se : one_image;
}

/* The judged task metrics, in output order. */
enum { TM_ACCURACY, TM_AGREEMENT, TM_SI_NORM, TM_COUNT };
static const char *const tm_name[TM_COUNT] = {"accuracy", "agreement", "si_norm"};

typedef struct task_delta {
  double d[TM_COUNT], bound[TM_COUNT];
  int flag[TM_COUNT]; /* F_REGRESSION, F_IMPROVEMENT or 0 */
  int flags;          /* union */
} task_delta;

static void task_compare(const results_task_row *a, const results_task_row *b, double k,
                         task_delta *t) {
  const double va[TM_COUNT] = {a->accuracy, a->agreement, a->si_norm};
  const double vb[TM_COUNT] = {b->accuracy, b->agreement, b->si_norm};
  t->bound[TM_ACCURACY] =
      proportion_bound(a->accuracy, a->n_labelled, b->accuracy, b->n_labelled, k);
  t->bound[TM_AGREEMENT] = proportion_bound(a->agreement, a->n, b->agreement, b->n, k);
  t->bound[TM_SI_NORM] = t->bound[TM_AGREEMENT]; /* see compare.h for why */
  t->flags = 0;
  for (int m = 0; m < TM_COUNT; m++) {
    t->d[m] = isfinite(va[m]) && isfinite(vb[m]) ? vb[m] - va[m] : NAN;
    t->flag[m] = 0;
    if (isfinite(t->d[m]) && isfinite(t->bound[m]))
      t->flag[m] = t->d[m] < -t->bound[m]  ? F_REGRESSION
                   : t->d[m] > t->bound[m] ? F_IMPROVEMENT
                                           : 0;
    t->flags |= t->flag[m];
  }
}

/* Quality metric: lower in B beyond `tol` is a regression, higher an improvement. NAN on
 * either side (e.g. MS-SSIM of small images) compares as equal. */
static int quality_flag(double a, double b, double tol) {
  if (!isfinite(a) || !isfinite(b))
    return 0;
  if (b < a - tol)
    return F_REGRESSION;
  if (b > a + tol)
    return F_IMPROVEMENT;
  return 0;
}

/* A distance (lower is better): higher in B beyond the fraction rel is a regression, lower an
 * improvement; NAN on either side (not computed) compares as equal. */
static int distance_flag(double a, double b, double rel) {
  if (!isfinite(a) || !isfinite(b))
    return 0;
  if (b > a * (1 + rel))
    return F_REGRESSION;
  if (b < a * (1 - rel))
    return F_IMPROVEMENT;
  return 0;
}

static int time_flag(double a, double b, double rel) {
  if (!isfinite(a) || !isfinite(b) || a <= 0)
    return 0;
  if (b > a * (1 + rel))
    return F_SLOWER;
  if (b < a * (1 - rel))
    return F_FASTER;
  return 0;
}

static int point_flags(const results_row *a, const results_row *b, const compare_bounds *bd) {
  int f = 0;
  if (!a->is_bpp && isfinite(a->bpp) && isfinite(b->bpp)) {
    /* Same knob, more bytes: worse. */
    if (b->bpp > a->bpp * (1 + bd->bpp_rel))
      f |= F_REGRESSION;
    else if (b->bpp < a->bpp * (1 - bd->bpp_rel))
      f |= F_IMPROVEMENT;
  }
  f |= quality_flag(a->psnr, b->psnr, bd->psnr_db);
  f |= quality_flag(a->ssim, b->ssim, bd->ssim);
  f |= quality_flag(a->ms_ssim, b->ms_ssim, bd->ssim);
  /* The opt-in metrics, where both runs computed them. */
  f |= quality_flag(a->extra.psnr_y, b->extra.psnr_y, bd->psnr_db);
  f |= quality_flag(a->extra.psnr_ycbcr, b->extra.psnr_ycbcr, bd->psnr_db);
  f |= distance_flag(a->extra.ciede2000, b->extra.ciede2000, bd->distance_rel);
  f |= distance_flag(a->extra.butteraugli_max, b->extra.butteraugli_max, bd->distance_rel);
  f |= distance_flag(a->extra.butteraugli_3norm, b->extra.butteraugli_3norm, bd->distance_rel);
  if (b->n_errors > a->n_errors)
    f |= F_REGRESSION;
  else if (b->n_errors < a->n_errors)
    f |= F_IMPROVEMENT;
  f |= time_flag(a->encode_ms + a->decode_ms, b->encode_ms + b->decode_ms, bd->time_rel);
  return f;
}

static const char *flag_text(int f) {
  if (f & F_REGRESSION)
    return "REGRESSION";
  if (f & F_IMPROVEMENT)
    return "improved";
  return "same";
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *row_json(const results_row *r) {
  json_t *o = json_object();
  json_object_set_new(o, "n", json_integer(r->n));
  json_object_set_new(o, "n_errors", json_integer(r->n_errors));
  json_object_set_new(o, "bpp", num(r->bpp));
  json_object_set_new(o, "psnr", num(r->psnr));
  json_object_set_new(o, "ssim", num(r->ssim));
  json_object_set_new(o, "ms_ssim", num(r->ms_ssim));
  json_object_set_new(o, "encode_ms", num(r->encode_ms));
  json_object_set_new(o, "decode_ms", num(r->decode_ms));
  /* The opt-in metrics only where computed, so runs without them compare as before. */
  const double extra[STORE_N_EXTRA_METRICS] = {
      r->extra.psnr_y,    r->extra.psnr_cb,         r->extra.psnr_cr,          r->extra.psnr_ycbcr,
      r->extra.ciede2000, r->extra.butteraugli_max, r->extra.butteraugli_3norm};
  for (int k = 0; k < STORE_N_EXTRA_METRICS; k++)
    if (isfinite(extra[k]))
      json_object_set_new(o, store_extra_metric_columns[k], json_real(extra[k]));
  return o;
}

static void print_delta(FILE *out, double a, double b, const char *fmt_abs, int relative) {
  if (!isfinite(a) || !isfinite(b)) {
    fprintf(out, " %16s", "-");
    return;
  }
  char buf[64];
  if (relative)
    snprintf(buf, sizeof buf, "%+.2f%%", a != 0 ? (b - a) / a * 100 : 0.0);
  else
    snprintf(buf, sizeof buf, fmt_abs, b - a);
  fprintf(out, " %16s", buf);
}

static json_t *task_row_json(const results_task_row *r) {
  json_t *o = json_object();
  json_object_set_new(o, "n", json_integer(r->n));
  json_object_set_new(o, "n_labelled", json_integer(r->n_labelled));
  json_object_set_new(o, "bpp", num(r->bpp));
  json_object_set_new(o, "accuracy", num(r->accuracy));
  json_object_set_new(o, "agreement", num(r->agreement));
  json_object_set_new(o, "si_norm", num(r->si_norm));
  json_object_set_new(o, "mean_kl", num(r->mean_kl));
  return o;
}

/* A number in a fixed-width column, "-" when undefined. */
static void print_num(FILE *out, int width, const char *fmt, double v) {
  char buf[64] = "-";
  if (isfinite(v))
    snprintf(buf, sizeof buf, fmt, v);
  fprintf(out, " %*s", width, buf);
}

static void print_task_header(FILE *out, const char *dataset) {
  fprintf(out,
          "\ntask metrics, dataset %s (bound: 2 binomial SE of the difference, at least one "
          "image; SI_norm uses the agreement's)\n"
          "%-20s %-16s %-4s %8s %5s %7s %8s %6s %8s %6s %7s %9s %6s %7s %8s  %s\n",
          dataset, "task", "codec", "grid", "value", "n", "acc", "d(acc)", "bound", "d(agree)",
          "bound", "si_norm", "d(si_norm)", "bound", "kl", "d(kl)", "verdict");
}

static void print_task_row(FILE *out, const char *task, const char *codec,
                           const results_task_row *ra, const results_task_row *rb,
                           const task_delta *t) {
  fprintf(out, "%-20.20s %-16.16s %-4s %8g %5lld", task, codec, ra->is_bpp ? "bpp" : "knob",
          ra->value, (long long)rb->n);
  print_num(out, 7, "%.4f", rb->accuracy);
  print_num(out, 8, "%+.4f", t->d[TM_ACCURACY]);
  print_num(out, 6, "%.4f", t->bound[TM_ACCURACY]);
  print_num(out, 8, "%+.4f", t->d[TM_AGREEMENT]);
  print_num(out, 6, "%.4f", t->bound[TM_AGREEMENT]);
  print_num(out, 7, "%.4f", rb->si_norm);
  print_num(out, 9, "%+.4f", t->d[TM_SI_NORM]);
  print_num(out, 6, "%.4f", t->bound[TM_SI_NORM]);
  print_num(out, 7, "%.4f", rb->mean_kl);
  print_num(out, 8, "%+.4f",
            isfinite(ra->mean_kl) && isfinite(rb->mean_kl) ? rb->mean_kl - ra->mean_kl : NAN);
  fprintf(out, "  %s", flag_text(t->flags));
  const char *sep = " (";
  for (int m = 0; m < TM_COUNT; m++)
    if (t->flag[m] & (t->flags & F_REGRESSION ? F_REGRESSION : F_IMPROVEMENT)) {
      fprintf(out, "%s%s", sep, tm_name[m]);
      sep = ", ";
    }
  fprintf(out, "%s\n", sep[0] == ',' ? ")" : "");
}

/* Paired bootstrap interval of b - a for one matched task row, when both runs are in one
 * database and scored the same images (content hashes equal): {"n", "accuracy": [lo, hi],
 * "si_norm": [lo, hi]} into p, and the accuracy interval into *acc (NAN when none). */
static void paired_interval(store *sdb, const results_data *a, const results_dataset *da,
                            const results_task_row *ra, const results_data *b,
                            const results_dataset *db, const results_task_row *rb, json_t *p,
                            metrics_pboot_result *ci) {
  ci->accuracy.lo = ci->accuracy.hi = ci->si_norm.lo = ci->si_norm.hi = NAN;
  if (!sdb || !db || !da->content_hash || !db->content_hash ||
      strcmp(da->content_hash, db->content_hash) != 0)
    return;
  const results_paired_side sa = {a->tasks[ra->task].id, ra->point_id, da->id};
  const results_paired_side sb = {b->tasks[rb->task].id, rb->point_id, db->id};
  const int64_t k = a->tasks[ra->task].num_classes;
  int64_t n = 0;
  char e[256];
  if (k < 1 || k > METRICS_PBOOT_MAX_CLASSES ||
      results_paired_compare(sdb, &sa, &sb, (int)k, METRICS_PBOOT_DEFAULT_ROUNDS, ci, &n, e,
                             sizeof e) != 0 ||
      n == 0) {
    ci->accuracy.lo = ci->accuracy.hi = ci->si_norm.lo = ci->si_norm.hi = NAN;
    return;
  }
  json_t *o = json_object();
  json_object_set_new(o, "n", json_integer(n));
  const metrics_pboot_ci *c[2] = {&ci->accuracy, &ci->si_norm};
  const char *names[2] = {"accuracy", "si_norm"};
  for (int m = 0; m < 2; m++) {
    json_t *arr = json_array();
    json_array_append_new(arr, num(c[m]->lo));
    json_array_append_new(arr, num(c[m]->hi));
    json_object_set_new(o, names[m], arr);
  }
  json_object_set_new(p, "ci95", o);
}

/* Compares the task rows of dataset da (of a) with those of db (of b, may be NULL). sdb: the
 * one database holding both runs (paired intervals), or NULL. */
static void compare_task_rows(store *sdb, const results_data *a, const results_dataset *da,
                              const results_data *b, const results_dataset *db,
                              const compare_bounds *bounds, FILE *out, json_t *task_points,
                              compare_summary *sum) {
  if (out && (da->n_task_rows || (db && db->n_task_rows)))
    print_task_header(out, da->name);
  for (size_t k = 0; k < da->n_task_rows; k++) {
    const results_task_row *ra = &da->task_rows[k];
    if (ra->task >= a->n_tasks || ra->codec >= a->n_codecs)
      continue;
    const char *task = a->tasks[ra->task].name, *label = a->codecs[ra->codec].label;
    const results_task_row *rb = find_task_row(b, db, task, label, ra->is_bpp, ra->value);
    json_t *p = json_object();
    json_object_set_new(p, "dataset", json_string(da->name));
    json_object_set_new(p, "task", json_string(task));
    json_object_set_new(p, "codec", json_string(label));
    json_object_set_new(p, "kind", json_string(ra->is_bpp ? "bpp" : "knob"));
    json_object_set_new(p, "value", json_real(ra->value));
    json_object_set_new(p, "a", task_row_json(ra));
    if (!rb) {
      sum->task_missing++;
      sum->task_regressions++;
      json_object_set_new(p, "verdict", json_string("missing"));
      if (out)
        fprintf(out, "%-20.20s %-16.16s %-4s %8g  missing in the candidate (REGRESSION)\n", task,
                label, ra->is_bpp ? "bpp" : "knob", ra->value);
      json_array_append_new(task_points, p);
      continue;
    }
    task_delta t;
    task_compare(ra, rb, bounds->task_se, &t);
    sum->task_points++;
    sum->task_regressions += (t.flags & F_REGRESSION) != 0;
    sum->task_improvements += (t.flags & F_IMPROVEMENT) && !(t.flags & F_REGRESSION);
    json_object_set_new(p, "b", task_row_json(rb));
    json_t *dj = json_object(), *bj = json_object(), *reg = json_array(), *imp = json_array();
    for (int m = 0; m < TM_COUNT; m++) {
      json_object_set_new(dj, tm_name[m], num(t.d[m]));
      json_object_set_new(bj, tm_name[m], num(t.bound[m]));
      if (t.flag[m] == F_REGRESSION)
        json_array_append_new(reg, json_string(tm_name[m]));
      else if (t.flag[m] == F_IMPROVEMENT)
        json_array_append_new(imp, json_string(tm_name[m]));
    }
    json_object_set_new(
        dj, "mean_kl",
        num(isfinite(ra->mean_kl) && isfinite(rb->mean_kl) ? rb->mean_kl - ra->mean_kl : NAN));
    json_object_set_new(p, "delta", dj);
    json_object_set_new(p, "bound", bj);
    json_object_set_new(p, "regressed", reg);
    json_object_set_new(p, "improved", imp);
    json_object_set_new(p, "verdict", json_string(flag_text(t.flags)));
    metrics_pboot_result ci;
    paired_interval(sdb, a, da, ra, b, db, rb, p, &ci);
    json_array_append_new(task_points, p);
    if (out) {
      print_task_row(out, task, label, ra, rb, &t);
      if (t.flags & (F_REGRESSION | F_IMPROVEMENT) && isfinite(ci.accuracy.lo))
        fprintf(out,
                "%-20s paired 95%% CI of the change: accuracy [%+.4f, %+.4f], SI_norm "
                "[%+.4f, %+.4f]\n",
                "", ci.accuracy.lo, ci.accuracy.hi, ci.si_norm.lo, ci.si_norm.hi);
    }
  }
}

/* The points of dataset da (of a) against the candidate b: one JSON object each into points, a
 * table line each to out (may be NULL), counts into sum. */
static void compare_points(const results_data *a, const results_dataset *da, const results_data *b,
                           const compare_bounds *bounds, FILE *out, json_t *points,
                           compare_summary *sum) {
  for (size_t k = 0; k < da->n_rows; k++) {
    const results_row *ra = &da->rows[k];
    const char *label = a->codecs[ra->codec].label;
    const results_dataset *ds_b = NULL;
    const results_row *rb = find_row(b, da->name, label, ra->is_bpp, ra->value, &ds_b);
    json_t *p = json_object();
    json_object_set_new(p, "dataset", json_string(da->name));
    json_object_set_new(p, "codec", json_string(label));
    json_object_set_new(p, "kind", json_string(ra->is_bpp ? "bpp" : "knob"));
    json_object_set_new(p, "value", json_real(ra->value));
    json_object_set_new(p, "a", row_json(ra));
    if (!rb) {
      sum->missing++;
      sum->regressions++;
      json_object_set_new(p, "verdict", json_string("missing"));
      if (out)
        fprintf(out, "%-16.16s %-4s %8g %16s  missing in the candidate (REGRESSION)\n", label,
                ra->is_bpp ? "bpp" : "knob", ra->value, "-");
      json_array_append_new(points, p);
      continue;
    }
    int f = point_flags(ra, rb, bounds);
    sum->points++;
    sum->regressions += (f & F_REGRESSION) != 0;
    sum->improvements += (f & F_IMPROVEMENT) && !(f & F_REGRESSION);
    sum->slower += (f & F_SLOWER) != 0;
    sum->faster += (f & F_FASTER) != 0;
    json_object_set_new(p, "b", row_json(rb));
    json_object_set_new(p, "verdict", json_string(flag_text(f)));
    json_object_set_new(p, "speed",
                        json_string(f & F_SLOWER   ? "slower"
                                    : f & F_FASTER ? "faster"
                                                   : "same"));
    json_array_append_new(points, p);
    if (out) {
      fprintf(out, "%-16.16s %-4s %8g %16.4f", label, ra->is_bpp ? "bpp" : "knob", ra->value,
              rb->bpp);
      print_delta(out, ra->bpp, rb->bpp, NULL, 1);
      print_delta(out, ra->psnr, rb->psnr, "%+.3f", 0);
      print_delta(out, ra->ssim, rb->ssim, "%+.5f", 0);
      print_delta(out, ra->encode_ms + ra->decode_ms, rb->encode_ms + rb->decode_ms, NULL, 1);
      fprintf(out, "  %s%s\n", flag_text(f),
              f & F_SLOWER   ? ", slower"
              : f & F_FASTER ? ", faster"
                             : "");
    }
  }
}

/* What only the candidate has: task rows of datasets or points a lacks, and points. */
static void count_added(const results_data *a, const results_data *b, compare_summary *sum) {
  /* Datasets only in the candidate: their task rows are new. */
  for (size_t j = 0; j < b->n_datasets; j++) {
    int in_a = 0;
    for (size_t i = 0; i < a->n_datasets; i++)
      in_a |= !strcmp(a->datasets[i].name, b->datasets[j].name);
    if (!in_a)
      sum->task_added += (int)b->datasets[j].n_task_rows;
  }
  /* Task rows only in the candidate. */
  for (size_t i = 0; i < a->n_datasets; i++)
    for (size_t j = 0; j < b->n_datasets; j++) {
      const results_dataset *dbj = &b->datasets[j];
      if (strcmp(a->datasets[i].name, dbj->name))
        continue;
      for (size_t k = 0; k < dbj->n_task_rows; k++) {
        const results_task_row *rb = &dbj->task_rows[k];
        if (rb->task < b->n_tasks && rb->codec < b->n_codecs &&
            !find_task_row(a, &a->datasets[i], b->tasks[rb->task].name, b->codecs[rb->codec].label,
                           rb->is_bpp, rb->value))
          sum->task_added++;
      }
    }
  /* Points only in the candidate. */
  for (size_t j = 0; j < b->n_datasets; j++)
    for (size_t k = 0; k < b->datasets[j].n_rows; k++) {
      const results_row *rb = &b->datasets[j].rows[k];
      const results_dataset *ds_a = NULL;
      if (!find_row(a, b->datasets[j].name, b->codecs[rb->codec].label, rb->is_bpp, rb->value,
                    &ds_a))
        sum->added++;
    }
}

/* Writes the JSON file of the comparison; takes points and task_points. */
static int write_json(const char *json_path, int64_t run_a, int64_t run_b,
                      const compare_bounds *bounds, const compare_summary *sum, int regression,
                      json_t *points, json_t *task_points, char *err, size_t err_len) {
  json_t *root = json_object();
  json_object_set_new(root, "baseline_run", json_integer(run_a));
  json_object_set_new(root, "candidate_run", json_integer(run_b));
  json_t *bj = json_object();
  json_object_set_new(bj, "psnr_db", json_real(bounds->psnr_db));
  json_object_set_new(bj, "ssim", json_real(bounds->ssim));
  json_object_set_new(bj, "bpp_rel", json_real(bounds->bpp_rel));
  json_object_set_new(bj, "time_rel", json_real(bounds->time_rel));
  json_object_set_new(bj, "task_se", json_real(bounds->task_se));
  json_object_set_new(root, "bounds", bj);
  json_object_set_new(root, "regressions", json_integer(sum->regressions));
  json_object_set_new(root, "improvements", json_integer(sum->improvements));
  json_object_set_new(root, "missing", json_integer(sum->missing));
  json_object_set_new(root, "added", json_integer(sum->added));
  json_object_set_new(root, "slower", json_integer(sum->slower));
  json_object_set_new(root, "faster", json_integer(sum->faster));
  json_object_set_new(root, "task_regressions", json_integer(sum->task_regressions));
  json_object_set_new(root, "task_improvements", json_integer(sum->task_improvements));
  json_object_set_new(root, "task_missing", json_integer(sum->task_missing));
  json_object_set_new(root, "task_added", json_integer(sum->task_added));
  json_object_set_new(root, "regression", json_boolean(regression));
  json_object_set_new(root, "exit_status", json_integer(regression));
  json_object_set_new(root, "data_differs", json_boolean(sum->data_differs));
  json_object_set_new(root, "points", points);
  json_object_set_new(root, "task_points", task_points);
  char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
  json_decref(root);
  if (!text) {
    snprintf(err, err_len, "%s: out of memory", json_path);
    return -1;
  }
  /* Atomic write: the file is either the old one or the complete new one. */
  char dir[4096];
  const char *slash = strrchr(json_path, '/');
  snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - json_path) : 1,
           slash ? (slash == json_path ? "/" : json_path) : ".");
  int wrc = sb_write_file(dir, slash ? slash + 1 : json_path, text, strlen(text), err, err_len);
  free(text);
  if (wrc)
    return -1;
  return 0;
}

int report_compare_runs(store *db_a, int64_t run_a, store *db_b, int64_t run_b,
                        const compare_bounds *bounds, FILE *out, const char *json_path,
                        compare_summary *sum, char *err, size_t err_len) {
  results_data a, b;
  memset(sum, 0, sizeof *sum);
  int rc = -1;
  json_t *points = json_array(), *task_points = json_array();
  if (results_load(db_a, run_a, &a, err, err_len)) {
    results_data_free(&a);
    json_decref(points);
    json_decref(task_points);
    return -1;
  }
  if (results_load(db_b, run_b, &b, err, err_len)) {
    results_data_free(&a);
    results_data_free(&b);
    json_decref(points);
    json_decref(task_points);
    return -1;
  }
  if (out)
    fprintf(out, "compare: baseline run %lld (%s, %s, %s) -> candidate run %lld (%s, %s, %s)\n",
            (long long)run_a, a.run.suite_name, a.run.started_at ? a.run.started_at : "?",
            a.run.git_revision ? a.run.git_revision : "?", (long long)run_b, b.run.suite_name,
            b.run.started_at ? b.run.started_at : "?",
            b.run.git_revision ? b.run.git_revision : "?");
  for (size_t i = 0; i < a.n_datasets; i++) {
    const results_dataset *da = &a.datasets[i], *db = NULL;
    for (size_t j = 0; j < b.n_datasets; j++)
      if (!strcmp(b.datasets[j].name, da->name))
        db = &b.datasets[j];
    if (db && da->content_hash && db->content_hash && strcmp(da->content_hash, db->content_hash)) {
      sum->data_differs = 1;
      if (out)
        fprintf(out,
                "warning: dataset %s differs between the runs (content hash); the "
                "comparison is not like-for-like\n",
                da->name);
    }
    if (out)
      fprintf(out, "\ndataset %s\n%-16s %-4s %8s %16s %16s %16s %16s %16s  %s\n", da->name, "codec",
              "grid", "value", "bpp", "d(bpp)", "d(psnr) dB", "d(ssim)", "d(time)", "verdict");
    compare_points(&a, da, &b, bounds, out, points, sum);
    compare_task_rows(db_a == db_b ? db_a : NULL, &a, da, &b, db, bounds, out, task_points, sum);
  }
  count_added(&a, &b, sum);
  if (out)
    fprintf(out,
            "\n%d points compared: %d regressions (%d missing), %d improvements, %d new; "
            "%d slower, %d faster (beyond %.0f%%)\n",
            sum->points + sum->missing, sum->regressions, sum->missing, sum->improvements,
            sum->added, sum->slower, sum->faster, bounds->time_rel * 100);
  int has_tasks = a.n_tasks || b.n_tasks;
  if (out && has_tasks)
    fprintf(out, "%d task rows compared: %d regressions (%d missing), %d improvements, %d new\n",
            sum->task_points + sum->task_missing, sum->task_regressions, sum->task_missing,
            sum->task_improvements, sum->task_added);
  int regression = COMPARE_HAS_REGRESSION(sum);
  if (out)
    fprintf(out, "verdict: %s (exit status %d)\n", regression ? "REGRESSION" : "no regression",
            regression);
  if (json_path) {
    json_t *p = points, *t = task_points;
    points = task_points = NULL; /* write_json takes them */
    if (write_json(json_path, run_a, run_b, bounds, sum, regression, p, t, err, err_len))
      goto done;
  }
  rc = 0;
done:
  json_decref(points);
  json_decref(task_points);
  results_data_free(&a);
  results_data_free(&b);
  return rc;
}
