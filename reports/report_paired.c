/* report_paired.c - paired bootstrap intervals of codec differences at the bpp targets, and
 * their CSV and HTML tables (report.h: paired_<dataset>.csv). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_data.h"
#include "report_fs.h"
#include "report_internal.h"

/* Per-image rows of two points (ref A, codec B) for one task, on the images both scored without
 * error: label, top-1 on the original, top-1 on each decoded image, each PSNR. */
static const char *const paired_sql =
    "SELECT i.label, tr.top1, ta.top1, tb.top1, xa.psnr, xb.psnr "
    "FROM task_results ta "
    "JOIN task_results tb ON tb.task_id = ta.task_id AND tb.image_id = ta.image_id "
    "JOIN task_refs tr ON tr.task_id = ta.task_id AND tr.image_id = ta.image_id "
    "JOIN images i ON i.id = ta.image_id "
    "JOIN results xa ON xa.image_id = ta.image_id AND xa.point_id = ta.point_id "
    "JOIN results xb ON xb.image_id = tb.image_id AND xb.point_id = tb.point_id "
    "WHERE ta.task_id = ?1 AND ta.point_id = ?2 AND tb.point_id = ?3 AND i.dataset_id = ?4 "
    "AND xa.error IS NULL AND xb.error IS NULL ORDER BY ta.image_id";

typedef struct paired_cols {
  int *label, *orig, *pa, *pb;
  double *qa, *qb;
  size_t n, cap;
  int unlabeled, no_psnr;
} paired_cols;

static void cols_free(paired_cols *c) {
  free(c->label);
  free(c->orig);
  free(c->pa);
  free(c->pb);
  free(c->qa);
  free(c->qb);
}

static int cols_grow(paired_cols *c) {
  if (c->n < c->cap)
    return 0;
  size_t cap = c->cap ? 2 * c->cap : 1024;
  int **iv[] = {&c->label, &c->orig, &c->pa, &c->pb};
  double **dv[] = {&c->qa, &c->qb};
  for (int k = 0; k < 4; k++) {
    int *p = realloc(*iv[k], cap * sizeof **iv[k]);
    if (!p)
      return -1;
    *iv[k] = p;
  }
  for (int k = 0; k < 2; k++) {
    double *p = realloc(*dv[k], cap * sizeof **dv[k]);
    if (!p)
      return -1;
    *dv[k] = p;
  }
  c->cap = cap;
  return 0;
}

/* Reads the paired rows of (task, point a, point b) into c (reset first). Class indices outside
 * [0, k) make the pair unusable (returns 1); labels NULL anywhere: unlabeled; PSNR NULL
 * (identical images) anywhere: no PSNR interval. */
static int read_pairs(sqlite3_stmt *st, int64_t task_id, int64_t pa, int64_t pb, int64_t ds_id,
                      int k, paired_cols *c) {
  c->n = 0;
  c->unlabeled = c->no_psnr = 0;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, task_id);
  sqlite3_bind_int64(st, 2, pa);
  sqlite3_bind_int64(st, 3, pb);
  sqlite3_bind_int64(st, 4, ds_id);
  int rc, bad = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (cols_grow(c))
      return -1;
    size_t i = c->n++;
    c->unlabeled |= sqlite3_column_type(st, 0) == SQLITE_NULL;
    c->label[i] = sqlite3_column_int(st, 0);
    c->orig[i] = sqlite3_column_int(st, 1);
    c->pa[i] = sqlite3_column_int(st, 2);
    c->pb[i] = sqlite3_column_int(st, 3);
    c->no_psnr |=
        sqlite3_column_type(st, 4) == SQLITE_NULL || sqlite3_column_type(st, 5) == SQLITE_NULL;
    c->qa[i] = sqlite3_column_double(st, 4);
    c->qb[i] = sqlite3_column_double(st, 5);
    const int v[] = {c->orig[i], c->pa[i], c->pb[i], c->unlabeled ? 0 : c->label[i]};
    for (int j = 0; j < 4; j++)
      bad |= v[j] < 0 || v[j] >= k;
  }
  if (rc != SQLITE_DONE)
    return -1;
  return bad ? 1 : 0;
}

int report_paired_query(sqlite3 *db, report_data *d, size_t ref, int rounds, char *err,
                        size_t err_len) {
  size_t task_rows = 0; /* none for schema-version-1 databases, which lack the task tables */
  for (size_t i = 0; i < d->n_datasets; i++)
    task_rows += d->datasets[i].n_task_rows;
  if (rounds <= 0 || ref >= d->n_codecs || task_rows == 0)
    return 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, paired_sql, -1, &st, NULL) != SQLITE_OK)
    return report_errf(err, err_len, "cannot query paired results: %s", sqlite3_errmsg(db));
  paired_cols c = {0};
  int rc = 0;
  for (size_t di = 0; di < d->n_datasets && rc == 0; di++) {
    report_dataset *ds = &d->datasets[di];
    size_t cap = 0;
    for (size_t i = 0; i < ds->n_task_rows && rc == 0; i++) {
      const report_task_row *a = &ds->task_rows[i];
      if (a->codec != ref || !a->is_bpp)
        continue;
      const report_task *t = &d->tasks[a->task];
      const int k = t->num_classes > 0 && t->num_classes <= METRICS_PBOOT_MAX_CLASSES
                        ? (int)t->num_classes
                        : 0;
      for (size_t j = 0; j < ds->n_task_rows && rc == 0 && k > 0; j++) {
        const report_task_row *b = &ds->task_rows[j];
        if (b->codec == ref || !b->is_bpp || b->task != a->task || b->value != a->value)
          continue;
        int got = read_pairs(st, t->id, a->point_id, b->point_id, ds->id, k, &c);
        if (got < 0) {
          rc = report_errf(err, err_len, "cannot read paired results of dataset %s: %s", ds->name,
                           sqlite3_errmsg(db));
          break;
        }
        if (got > 0 || c.n == 0)
          continue; /* class indices the task cannot have, or no common image: no row */
        if (ds->n_paired == cap) {
          size_t nc = cap ? 2 * cap : 16;
          report_paired *p = realloc(ds->paired, nc * sizeof *p);
          if (!p) {
            rc = report_errf(err, err_len, "out of memory");
            break;
          }
          ds->paired = p;
          cap = nc;
        }
        report_paired *p = &ds->paired[ds->n_paired];
        metrics_pboot_input in = {c.n,
                                  k,
                                  c.unlabeled ? NULL : c.label,
                                  c.orig,
                                  {c.pa, c.no_psnr ? NULL : c.qa},
                                  {c.pb, c.no_psnr ? NULL : c.qb}};
        if (metrics_pboot_compute(&in, rounds, METRICS_PBOOT_DEFAULT_SEED, 0.95, &p->ci) != 0) {
          rc = report_errf(err, err_len, "paired bootstrap failed (dataset %s)", ds->name);
          break;
        }
        p->task = a->task;
        p->codec = b->codec;
        p->ref = ref;
        p->target = a->value;
        p->n = (int64_t)c.n;
        ds->n_paired++;
      }
    }
  }
  cols_free(&c);
  sqlite3_finalize(st);
  return rc;
}

/* A difference and its interval: "d [lo, hi]" scaled by `scale`, or an empty cell. */
static void put_ci_cell(report_buf *b, const metrics_pboot_ci *ci, double scale, int digits) {
  if (!isfinite(ci->delta)) {
    report_buf_puts(b, "<td>\xE2\x80\x93</td>");
    return;
  }
  const int sig = ci->lo > 0 || ci->hi < 0;
  report_buf_printf(b, "<td%s>%+.*f [%+.*f, %+.*f]</td>", sig ? " class=\"sig\"" : "", digits,
                    ci->delta * scale, digits, ci->lo * scale, digits, ci->hi * scale);
}

void report_put_paired_table(report_buf *b, const report_data *d, const report_dataset *ds) {
  if (ds->n_paired == 0)
    return;
  const report_paired *p0 = &ds->paired[0];
  report_buf_puts(b, "<h3>Paired differences against ");
  report_html_escape(b, d->codecs[p0->ref].label);
  report_buf_printf(b,
                    "</h3>\n<p class=\"note\">At each bpp target, codec minus reference on the "
                    "same images: accuracy in points, SI_norm, PSNR in dB; the estimate and its "
                    "%.0f %% paired bootstrap interval (%d resamples of the images, seed %u; "
                    "docs/metrics.md). Bold: the interval excludes 0.</p>\n",
                    100 * p0->ci.level, p0->ci.rounds, (unsigned)METRICS_PBOOT_DEFAULT_SEED);
  report_buf_puts(b, "<table class=\"paired\">\n<tr><th>task</th><th>codec</th><th>target "
                     "bpp</th><th>n</th><th>&Delta; accuracy [points]</th><th>&Delta; "
                     "SI_norm</th><th>&Delta; PSNR [dB]</th></tr>\n");
  for (size_t i = 0; i < ds->n_paired; i++) {
    const report_paired *p = &ds->paired[i];
    report_buf_puts(b, "<tr><td>");
    report_html_escape(b, d->tasks[p->task].name);
    report_buf_puts(b, "</td><td>");
    report_html_escape(b, d->codecs[p->codec].label);
    report_buf_printf(b, "</td><td>%g</td><td>%" PRId64 "</td>", p->target, p->n);
    put_ci_cell(b, &p->ci.accuracy, 100, 2);
    put_ci_cell(b, &p->ci.si_norm, 1, 3);
    put_ci_cell(b, &p->ci.psnr, 1, 2);
    report_buf_puts(b, "</tr>\n");
  }
  report_buf_puts(b, "</table>\n");
}
