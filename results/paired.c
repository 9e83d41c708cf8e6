/* paired.c - per-image paired comparisons of two grid points and their bootstrap intervals
 * (results.h: results_paired_compare, results_paired_query). */
#include "results_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Per-image rows of two points (A: task ?1, point ?2, dataset ?3; B: task ?4, point ?5, dataset
 * ?6), paired by the image's position in its dataset (images.idx), so the two sides may be
 * different runs of the same data: label, A's top-1 on the original, the top-1 on each decoded
 * image, each PSNR; images that failed on either side are left out. */
static const char *const paired_sql =
    "SELECT ia.label, tr.top1, ta.top1, tb.top1, xa.psnr, xb.psnr "
    "FROM images ia JOIN images ib ON ib.dataset_id = ?6 AND ib.idx = ia.idx "
    "JOIN task_results ta ON ta.task_id = ?1 AND ta.image_id = ia.id AND ta.point_id = ?2 "
    "JOIN task_results tb ON tb.task_id = ?4 AND tb.image_id = ib.id AND tb.point_id = ?5 "
    "JOIN task_refs tr ON tr.task_id = ?1 AND tr.image_id = ia.id "
    "JOIN results xa ON xa.image_id = ia.id AND xa.point_id = ?2 "
    "JOIN results xb ON xb.image_id = ib.id AND xb.point_id = ?5 "
    "WHERE ia.dataset_id = ?3 AND xa.error IS NULL AND xb.error IS NULL ORDER BY ia.idx";

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
static int read_pairs(sqlite3_stmt *st, const results_paired_side *a, const results_paired_side *b,
                      int k, paired_cols *c) {
  c->n = 0;
  c->unlabeled = c->no_psnr = 0;
  sqlite3_reset(st);
  const int64_t ids[6] = {a->task_id, a->point_id, a->dataset_id,
                          b->task_id, b->point_id, b->dataset_id};
  for (int i = 0; i < 6; i++)
    sqlite3_bind_int64(st, i + 1, ids[i]);
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

/* Reads one pair's rows with the prepared statement and computes its intervals. Returns 0 with
 * *n_out the paired images (0: nothing to compare, e.g. no common image or class indices the
 * task cannot have), -1 on a database error or no memory (message in err). */
static int paired_one(sqlite3 *db, sqlite3_stmt *st, const results_paired_side *a,
                      const results_paired_side *b, int n_classes, int rounds, paired_cols *c,
                      metrics_pboot_result *out, int64_t *n_out, char *err, size_t err_len) {
  *n_out = 0;
  int got = read_pairs(st, a, b, n_classes, c);
  if (got < 0)
    return sb_errf(err, err_len, "cannot read paired results: %s", sqlite3_errmsg(db));
  if (got > 0 || c->n == 0)
    return 0;
  metrics_pboot_input in = {c->n,
                            n_classes,
                            c->unlabeled ? NULL : c->label,
                            c->orig,
                            {c->pa, c->no_psnr ? NULL : c->qa},
                            {c->pb, c->no_psnr ? NULL : c->qb}};
  if (metrics_pboot_compute(&in, rounds, METRICS_PBOOT_DEFAULT_SEED, 0.95, out) != 0)
    return sb_errf(err, err_len, "paired bootstrap failed: out of memory");
  *n_out = (int64_t)c->n;
  return 0;
}

int results_paired_compare(store *s, const results_paired_side *a, const results_paired_side *b,
                           int n_classes, int rounds, metrics_pboot_result *out, int64_t *n,
                           char *err, size_t err_len) {
  *n = 0;
  sqlite3 *db = store_db(s);
  if (n_classes < 1 || n_classes > METRICS_PBOOT_MAX_CLASSES || rounds < 10)
    return 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, paired_sql, -1, &st, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot query paired results: %s", sqlite3_errmsg(db));
  paired_cols c = {0};
  int rc = paired_one(db, st, a, b, n_classes, rounds, &c, out, n, err, err_len);
  cols_free(&c);
  sqlite3_finalize(st);
  return rc;
}

int results_paired_query(store *s, results_data *d, size_t ref, int rounds, char *err,
                         size_t err_len) {
  sqlite3 *db = store_db(s);
  size_t task_rows = 0; /* none for schema-version-1 databases, which lack the task tables */
  for (size_t i = 0; i < d->n_datasets; i++)
    task_rows += d->datasets[i].n_task_rows;
  if (rounds <= 0 || ref >= d->n_codecs || task_rows == 0)
    return 0;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, paired_sql, -1, &st, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot query paired results: %s", sqlite3_errmsg(db));
  paired_cols c = {0};
  int rc = 0;
  for (size_t di = 0; di < d->n_datasets && rc == 0; di++) {
    results_dataset *ds = &d->datasets[di];
    size_t cap = 0;
    for (size_t i = 0; i < ds->n_task_rows && rc == 0; i++) {
      const results_task_row *a = &ds->task_rows[i];
      if (a->codec != ref || !a->is_bpp)
        continue;
      const results_task *t = &d->tasks[a->task];
      const int k = t->num_classes > 0 && t->num_classes <= METRICS_PBOOT_MAX_CLASSES
                        ? (int)t->num_classes
                        : 0;
      for (size_t j = 0; j < ds->n_task_rows && rc == 0 && k > 0; j++) {
        const results_task_row *b = &ds->task_rows[j];
        if (b->codec == ref || !b->is_bpp || b->task != a->task || b->value != a->value)
          continue;
        if (ds->n_paired == cap) {
          size_t nc = cap ? 2 * cap : 16;
          results_paired *p = realloc(ds->paired, nc * sizeof *p);
          if (!p) {
            rc = sb_errf(err, err_len, "out of memory");
            break;
          }
          ds->paired = p;
          cap = nc;
        }
        results_paired *p = &ds->paired[ds->n_paired];
        const results_paired_side sa = {t->id, a->point_id, ds->id};
        const results_paired_side sb = {t->id, b->point_id, ds->id};
        rc = paired_one(db, st, &sa, &sb, k, rounds, &c, &p->ci, &p->n, err, err_len);
        if (rc == 0 && p->n > 0) {
          p->task = a->task;
          p->codec = b->codec;
          p->ref = ref;
          p->target = a->value;
          ds->n_paired++;
        }
      }
    }
  }
  cols_free(&c);
  sqlite3_finalize(st);
  return rc;
}
