/* The statistical checks: (a) rate range and failed images, (c) accuracy and SI_norm per grid
 * point, (d) BD-accuracy and BD-rate (gate.h describes them). */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "metrics.h"
#include "gate_internal.h"

static void point_text(int is_bpp, double value, char out[40]) {
  char num[32];
  sb_format_number(value, num);
  snprintf(out, 40, "%s %s", is_bpp ? "bpp" : "knob", num);
}

/* (a) The candidate's mean file bpp over its points must reach min_bpp and max_bpp; it may not
 * fail on more images than the baseline. */
void gate_check_rate_range(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                           gate_check_list *l) {
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *ds = &cand->d->datasets[i];
    double lo = INFINITY, hi = -INFINITY;
    int64_t err_c = 0, err_b = 0;
    for (size_t k = 0; k < ds->n_rows; k++) {
      const results_row *r = &ds->rows[k];
      if (r->codec != cand->codec)
        continue;
      if (isfinite(r->bpp) && r->bpp > 0) {
        lo = r->bpp < lo ? r->bpp : lo;
        hi = r->bpp > hi ? r->bpp : hi;
      }
      err_c = r->n_errors > err_c ? r->n_errors : err_c;
    }
    const results_dataset *bds = gate_find_dataset(base->d, ds->name);
    for (size_t k = 0; bds && k < bds->n_rows; k++)
      if (bds->rows[k].codec == base->codec && bds->rows[k].n_errors > err_b)
        err_b = bds->rows[k].n_errors;
    if (isfinite(cfg->min_bpp) || isfinite(cfg->max_bpp)) {
      int ok = isfinite(lo) && (!isfinite(cfg->min_bpp) || lo <= cfg->min_bpp) &&
               (!isfinite(cfg->max_bpp) || hi >= cfg->max_bpp);
      gate_check *c =
          gate_add_check(l, "rate range", ds->name, NULL, NULL, ok ? ST_PASS : ST_FAIL, NAN, NAN,
                         "%s", ok ? "" : "the candidate's grid does not span the range");
      if (c) {
        if (isfinite(lo))
          snprintf(c->value, sizeof c->value, "%.4g..%.4g bpp", lo, hi);
        else
          snprintf(c->value, sizeof c->value, "no points");
        char a[32] = "-", b[32] = "-";
        if (isfinite(cfg->min_bpp))
          sb_format_number(cfg->min_bpp, a);
        if (isfinite(cfg->max_bpp))
          sb_format_number(cfg->max_bpp, b);
        snprintf(c->limit, sizeof c->limit, "reaches %s..%s", a, b);
        c->num = lo;
        c->limit_num = cfg->min_bpp;
      }
    }
    gate_check *c = gate_add_check(
        l, "failed images", ds->name, NULL, NULL, err_c <= err_b ? ST_PASS : ST_FAIL, (double)err_c,
        (double)err_b, "%s", err_c <= err_b ? "" : "the candidate fails on more images");
    if (c) {
      snprintf(c->value, sizeof c->value, "%lld", (long long)err_c);
      snprintf(c->limit, sizeof c->limit, "<= %lld (baseline)", (long long)err_b);
    }
  }
}

static double diff_se(double pa, int64_t na, double pb, int64_t nb) {
  if (na <= 0 || nb <= 0)
    return NAN;
  return sqrt(pa * (1 - pa) / (double)na + pb * (1 - pb) / (double)nb);
}

static const results_row *point_row(const results_dataset *ds, const results_task_row *t) {
  return t->row != SIZE_MAX && t->row < ds->n_rows ? &ds->rows[t->row] : NULL;
}

/* Appends " paired 95 % CI [lo, hi]" to a row's detail and stores the interval. */
static void add_ci(gate_check *c, const metrics_pboot_ci *ci) {
  if (!c || !isfinite(ci->lo))
    return;
  c->ci_lo = ci->lo;
  c->ci_hi = ci->hi;
  size_t u = strlen(c->detail);
  snprintf(c->detail + u, sizeof c->detail - u, "%spaired 95%% CI [%+.4f, %+.4f]", u ? "; " : "",
           ci->lo, ci->hi);
}

/* (c) Accuracy and SI_norm at each grid point matched with the baseline. Where both sides scored
 * the same images (always: same database, content hashes checked), the row also gives the
 * paired bootstrap interval of the difference (metrics/metrics.h); the verdict itself
 * stays the binomial rule of gate.h. */
void gate_check_points(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                       store *db, gate_check_list *l) {
  int same_codec = !strcmp(cand->vt ? cand->vt->name : cand->d->codecs[cand->codec].codec,
                           base->d->codecs[base->codec].codec);
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *ds = &cand->d->datasets[i];
    const results_dataset *bds = gate_find_dataset(base->d, ds->name);
    for (size_t t = 0; t < cand->d->n_tasks; t++) {
      const char *task = cand->d->tasks[t].name;
      size_t bt;
      int compared = 0, any = 0, knob_skipped = 0;
      if (!bds || gate_find_task(base->d, task, &bt))
        continue;
      if (!same_codec)
        gate_add_check(
            l, "points", ds->name, task, "knob *", ST_SKIP, NAN, NAN,
            "knob values of different codecs (%s, %s) do not correspond: bpp targets only",
            cand->d->codecs[cand->codec].codec, base->d->codecs[base->codec].codec);
      for (size_t k = 0; k < ds->n_task_rows; k++) {
        const results_task_row *rc = &ds->task_rows[k];
        if (rc->task != t || rc->codec != cand->codec)
          continue;
        any = 1;
        const results_task_row *rb = NULL;
        for (size_t j = 0; j < bds->n_task_rows && !rb; j++) {
          const results_task_row *x = &bds->task_rows[j];
          if (x->task == bt && x->codec == base->codec && x->is_bpp == rc->is_bpp &&
              x->value == rc->value)
            rb = x;
        }
        if (rb && !rc->is_bpp && !same_codec)
          knob_skipped = 1;
        if (!rb || (!rc->is_bpp && !same_codec))
          continue;
        char pt[40];
        point_text(rc->is_bpp, rc->value, pt);
        const results_row *ac = point_row(ds, rc), *ab = point_row(bds, rb);
        int64_t unreach_c = ac ? ac->n_unreachable : 0, unreach_b = ab ? ab->n_unreachable : 0;
        if (rc->is_bpp && (unreach_c || unreach_b)) {
          gate_add_check(l, "point", ds->name, task, pt, ST_SKIP, NAN, NAN,
                         "target unreachable for %lld candidate / %lld baseline images: not "
                         "like-for-like",
                         (long long)unreach_c, (long long)unreach_b);
          continue;
        }
        compared = 1;
        /* Baseline first: the interval is of candidate - baseline. */
        const results_paired_side ps_b = {base->d->tasks[bt].id, rb->point_id, bds->id};
        const results_paired_side ps_c = {cand->d->tasks[t].id, rc->point_id, ds->id};
        metrics_pboot_result ci;
        int64_t n_paired = 0;
        char perr[256];
        const int64_t n_cls = cand->d->tasks[t].num_classes;
        if (results_paired_compare(db, &ps_b, &ps_c, n_cls > 0 && n_cls <= INT_MAX ? (int)n_cls : 0,
                                   METRICS_PBOOT_DEFAULT_ROUNDS, &ci, &n_paired, perr,
                                   sizeof perr) != 0)
          n_paired = 0; /* the rows still judge; only the interval is missing */
        if (isfinite(rc->accuracy) && isfinite(rb->accuracy)) {
          double se = diff_se(rc->accuracy, rc->n_labelled, rb->accuracy, rb->n_labelled);
          double tol = cfg->tolerance_se * se;
          tol = isfinite(tol) && tol > cfg->accuracy_floor ? tol : cfg->accuracy_floor;
          double d = rc->accuracy - rb->accuracy;
          gate_check *c = gate_add_check(
              l, "accuracy", ds->name, task, pt, d >= -tol ? ST_PASS : ST_FAIL, d, -tol,
              "%.4f vs %.4f (n %lld/%lld, SE %.4f)", rc->accuracy, rb->accuracy,
              (long long)rc->n_labelled, (long long)rb->n_labelled, se);
          if (c) {
            snprintf(c->value, sizeof c->value, "%+.4f", d);
            snprintf(c->limit, sizeof c->limit, ">= %.4f", -tol);
          }
          if (n_paired > 0)
            add_ci(c, &ci.accuracy);
        }
        if (isfinite(rc->si_norm) && isfinite(rb->si_norm)) {
          double se = diff_se(rc->agreement, rc->n, rb->agreement, rb->n);
          double tol = cfg->tolerance_se * se;
          tol = isfinite(tol) && tol > cfg->si_norm_tol ? tol : cfg->si_norm_tol;
          double d = rc->si_norm - rb->si_norm;
          gate_check *c =
              gate_add_check(l, "si_norm", ds->name, task, pt, d >= -tol ? ST_PASS : ST_FAIL, d,
                             -tol, "%.4f vs %.4f", rc->si_norm, rb->si_norm);
          if (c) {
            snprintf(c->value, sizeof c->value, "%+.4f", d);
            snprintf(c->limit, sizeof c->limit, ">= %.4f", -tol);
          }
          if (n_paired > 0)
            add_ci(c, &ci.si_norm);
        }
      }
      if (any && !compared)
        gate_add_check(l, "points", ds->name, task, NULL,
                       cfg->not_comparable_fail ? ST_FAIL : ST_WARN, NAN, NAN,
                       "no grid point to compare with the baseline%s",
                       knob_skipped ? " (knob values of different codecs are not compared)" : "");
    }
  }
}

typedef struct curve_pt {
  double rate, acc;
} curve_pt;

static int curve_cmp(const void *a, const void *b) {
  double x = ((const curve_pt *)a)->rate, y = ((const curve_pt *)b)->rate;
  return (x > y) - (x < y);
}

/* A side's rate-accuracy curve (accuracy in points) for one dataset and task: its knob points,
 * or all its points when it has fewer than 4 knob points; sorted by rate, repeated rates
 * dropped. Returns the count. */
static size_t side_curve(const results_dataset *ds, size_t task, size_t codec, double *rate,
                         double *acc) {
  curve_pt pts[METRICS_BD_MAX_POINTS];
  size_t n_knob = 0, n = 0;
  for (size_t k = 0; k < ds->n_task_rows; k++) {
    const results_task_row *r = &ds->task_rows[k];
    n_knob += r->task == task && r->codec == codec && !r->is_bpp && isfinite(r->bpp) &&
              r->bpp > 0 && isfinite(r->accuracy);
  }
  for (size_t k = 0; k < ds->n_task_rows && n < METRICS_BD_MAX_POINTS; k++) {
    const results_task_row *r = &ds->task_rows[k];
    if (r->task == task && r->codec == codec && (n_knob < 4 || !r->is_bpp) && isfinite(r->bpp) &&
        r->bpp > 0 && isfinite(r->accuracy))
      pts[n++] = (curve_pt){r->bpp, 100 * r->accuracy};
  }
  qsort(pts, n, sizeof *pts, curve_cmp);
  size_t m = 0;
  for (size_t k = 0; k < n; k++)
    if (!m || pts[k].rate != rate[m - 1]) {
      rate[m] = pts[k].rate;
      acc[m++] = pts[k].acc;
    }
  return m;
}

/* (d) BD-accuracy and BD-rate at equal accuracy against the baseline. */
void gate_check_bd(const gate_config *cfg, const gate_side *cand, const gate_side *base,
                   gate_check_list *l) {
  for (size_t i = 0; i < cand->d->n_datasets; i++) {
    const results_dataset *ds = &cand->d->datasets[i];
    const results_dataset *bds = gate_find_dataset(base->d, ds->name);
    for (size_t t = 0; bds && t < cand->d->n_tasks; t++) {
      size_t bt;
      const char *task = cand->d->tasks[t].name;
      if (gate_find_task(base->d, task, &bt))
        continue;
      double rc[METRICS_BD_MAX_POINTS], ac[METRICS_BD_MAX_POINTS], rb[METRICS_BD_MAX_POINTS], ab[METRICS_BD_MAX_POINTS];
      size_t nc = side_curve(ds, t, cand->codec, rc, ac);
      size_t nb = side_curve(bds, bt, base->codec, rb, ab);
      if (!nc && !nb)
        continue; /* this task does not score this dataset */
      int nc_status = cfg->not_comparable_fail ? ST_FAIL : ST_WARN;
      double v;
      metrics_bd_status s = metrics_bd_metric(rb, ab, nb, rc, ac, nc, &v);
      gate_check *c = s == METRICS_BD_OK
                          ? gate_add_check(l, "BD-accuracy", ds->name, task, NULL,
                                           v >= cfg->min_bd_accuracy ? ST_PASS : ST_FAIL, v,
                                           cfg->min_bd_accuracy,
                                           "accuracy points at equal rate (%zu vs %zu "
                                           "points)",
                                           nc, nb)
                          : gate_add_check(l, "BD-accuracy", ds->name, task, NULL, nc_status, NAN,
                                           cfg->min_bd_accuracy, "%s (%zu vs %zu points)",
                                           metrics_bd_status_text(s), nc, nb);
      if (c) {
        snprintf(c->value, sizeof c->value, s == METRICS_BD_OK ? "%+.3f points" : "-", v);
        snprintf(c->limit, sizeof c->limit, ">= %g", cfg->min_bd_accuracy);
      }
      s = metrics_bd_rate(rb, ab, nb, rc, ac, nc, &v);
      c = s == METRICS_BD_OK
              ? gate_add_check(l, "BD-rate", ds->name, task, NULL,
                               v <= cfg->max_bd_rate ? ST_PASS : ST_FAIL, v, cfg->max_bd_rate,
                               "at equal accuracy (%zu vs %zu points)", nc, nb)
              : gate_add_check(l, "BD-rate", ds->name, task, NULL, nc_status, NAN, cfg->max_bd_rate,
                               "%s (%zu vs %zu points)", metrics_bd_status_text(s), nc, nb);
      if (c) {
        snprintf(c->value, sizeof c->value, s == METRICS_BD_OK ? "%+.2f%%" : "-", v);
        snprintf(c->limit, sizeof c->limit, "<= %g%%", cfg->max_bd_rate);
      }
    }
  }
}
