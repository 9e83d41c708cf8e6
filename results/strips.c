/* strips.c - the images that report.html's example strips show, with their stored results and
 * thumbnails (results.h: results_strip_picks). */
#include "results_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void results_strip_picks_free(results_strip_pick *picks, size_t n) {
  for (size_t i = 0; picks && i < n; i++) {
    free(picks[i].name);
    free(picks[i].hash);
    free(picks[i].original.png);
    for (size_t k = 0; picks[i].points && k < picks[i].n_points; k++) {
      free(picks[i].points[k].error);
      free(picks[i].points[k].thumb.png);
    }
    free(picks[i].points);
  }
  free(picks);
}

/* How many of the named tables exist (task tables: schema version 2; thumbnails: later). */
static int count_tables(sqlite3 *db, const char *names, int *count, char *err, size_t err_len) {
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (%s)", names);
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot read the schema: %s", sqlite3_errmsg(db));
  *count = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  return 0;
}

/* The stored thumbnail of (image, point) into t (left empty when there is none). */
static int read_thumb(sqlite3 *db, sqlite3_stmt *st, int64_t image_id, int64_t point_id,
                      results_thumbnail *t, char *err, size_t err_len) {
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, image_id);
  sqlite3_bind_int64(st, 2, point_id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    return sb_errf(err, err_len, "cannot read thumbnails: %s", sqlite3_errmsg(db));
  const int n = sqlite3_column_bytes(st, 2);
  const void *blob = sqlite3_column_blob(st, 2);
  const int w = sqlite3_column_int(st, 0), h = sqlite3_column_int(st, 1);
  if (!blob || n <= 0 || n > RESULTS_MAX_THUMBNAIL_BYTES || w < 1 || h < 1)
    return 0; /* not a usable thumbnail: shown as missing */
  t->png = malloc((size_t)n);
  if (!t->png)
    return sb_errf(err, err_len, "out of memory reading thumbnails");
  memcpy(t->png, blob, (size_t)n);
  t->png_len = (size_t)n;
  t->width = w;
  t->height = h;
  return 0;
}

/* The picked images (see results.h), without their points. */
static int read_picks(sqlite3 *db, const results_data *d, const results_dataset *ds, size_t task,
                      int has_tasks, size_t n_pick, results_strip_pick *picks, size_t *n, char *err,
                      size_t err_len) {
  /* With a task: the images it classified correctly on the original first, and one per class
   * before a second of any class, so the strips show several classes. Without labels this is
   * simply index order. */
  const char *sql_task =
      "SELECT id, idx, name, label, width, height, hash, ref_top1 FROM ("
      " SELECT i.id, i.idx, i.name, i.label, i.width, i.height, i.hash, r.top1 AS ref_top1,"
      "  coalesce(r.correct, 0) AS ok, row_number() OVER (PARTITION BY coalesce(r.correct, 0),"
      "  i.label ORDER BY i.idx) AS rn"
      " FROM images i LEFT JOIN task_refs r ON r.image_id = i.id AND r.task_id = ?2"
      " WHERE i.dataset_id = ?1 AND i.error IS NULL AND i.width > 0 AND i.height > 0"
      " AND i.hash IS NOT NULL AND EXISTS (SELECT 1 FROM thumbnails t WHERE t.image_id = i.id"
      " AND t.point_id = 0))"
      " ORDER BY ok DESC, rn, idx LIMIT ?3";
  const char *sql_plain =
      "SELECT id, idx, name, label, width, height, hash, NULL FROM images i"
      " WHERE dataset_id = ?1 AND error IS NULL AND width > 0 AND height > 0 AND hash IS NOT NULL"
      " AND EXISTS (SELECT 1 FROM thumbnails t WHERE t.image_id = i.id AND t.point_id = 0)"
      " ORDER BY idx LIMIT ?3";
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, has_tasks ? sql_task : sql_plain, -1, &st, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot query images: %s", sqlite3_errmsg(db));
  sqlite3_bind_int64(st, 1, ds->id);
  if (has_tasks)
    sqlite3_bind_int64(st, 2, task == SIZE_MAX ? -1 : d->tasks[task].id);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)n_pick);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < n_pick) {
    results_strip_pick *p = &picks[(*n)++];
    p->image_id = sqlite3_column_int64(st, 0);
    p->idx = sqlite3_column_int64(st, 1);
    p->label = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 3);
    p->width = sqlite3_column_int(st, 4);
    p->height = sqlite3_column_int(st, 5);
    p->ref_top1 = sqlite3_column_type(st, 7) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 7);
    if (results_col_text(st, 2, &p->name) || results_col_text(st, 6, &p->hash) || !p->name ||
        !p->hash) {
      sqlite3_finalize(st);
      return sb_errf(err, err_len, "out of memory");
    }
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    sb_errf(err, err_len, "cannot read images: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

/* Each pick's stored result and task top-1 at every row of the dataset. */
static int read_points(sqlite3 *db, const results_data *d, const results_dataset *ds, size_t task,
                       results_strip_pick *picks, size_t n, char *err, size_t err_len) {
  sqlite3_stmt *res = NULL, *top = NULL, *th = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT width, height, png FROM thumbnails "
                         "WHERE image_id = ?1 AND point_id = ?2",
                         -1, &th, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT knob, bytes, bpp, psnr, error FROM results "
                         "WHERE image_id = ?1 AND point_id = ?2",
                         -1, &res, NULL) != SQLITE_OK ||
      (task != SIZE_MAX &&
       sqlite3_prepare_v2(db,
                          "SELECT top1 FROM task_results "
                          "WHERE task_id = ?1 AND image_id = ?2 AND point_id = ?3",
                          -1, &top, NULL) != SQLITE_OK)) {
    sb_errf(err, err_len, "cannot query results: %s", sqlite3_errmsg(db));
    sqlite3_finalize(res);
    sqlite3_finalize(th);
    return -1;
  }
  int rc = 0;
  for (size_t k = 0; k < n && rc == 0; k++) {
    results_strip_pick *p = &picks[k];
    rc = read_thumb(db, th, p->image_id, 0, &p->original, err, err_len);
    if (rc)
      break;
    p->points = calloc(ds->n_rows ? ds->n_rows : 1, sizeof *p->points);
    if (!p->points) {
      rc = sb_errf(err, err_len, "out of memory");
      break;
    }
    p->n_points = ds->n_rows;
    for (size_t r = 0; r < ds->n_rows && rc == 0; r++) {
      results_strip_point *t = &p->points[r];
      t->knob = t->bpp = t->psnr = NAN;
      t->bytes = -1;
      t->top1 = -1;
      sqlite3_reset(res);
      sqlite3_bind_int64(res, 1, p->image_id);
      sqlite3_bind_int64(res, 2, ds->rows[r].point_id);
      int step = sqlite3_step(res);
      if (step == SQLITE_ROW) {
        t->has_result = 1;
        t->knob = results_col_real(res, 0);
        t->bytes = sqlite3_column_type(res, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(res, 1);
        t->bpp = results_col_real(res, 2);
        t->psnr = results_col_real(res, 3);
        if (results_col_text(res, 4, &t->error))
          rc = sb_errf(err, err_len, "out of memory");
      } else if (step != SQLITE_DONE) {
        rc = sb_errf(err, err_len, "cannot read results: %s", sqlite3_errmsg(db));
      }
      if (rc == 0)
        rc = read_thumb(db, th, p->image_id, ds->rows[r].point_id, &t->thumb, err, err_len);
      if (top && rc == 0) {
        sqlite3_reset(top);
        sqlite3_bind_int64(top, 1, d->tasks[task].id);
        sqlite3_bind_int64(top, 2, p->image_id);
        sqlite3_bind_int64(top, 3, ds->rows[r].point_id);
        step = sqlite3_step(top);
        if (step == SQLITE_ROW)
          t->top1 = sqlite3_column_int(top, 0);
        else if (step != SQLITE_DONE)
          rc = sb_errf(err, err_len, "cannot read task results: %s", sqlite3_errmsg(db));
      }
    }
  }
  sqlite3_finalize(res);
  sqlite3_finalize(top);
  sqlite3_finalize(th);
  return rc;
}

int results_strip_picks(store *s, const results_data *d, size_t ds_index, size_t task,
                        size_t n_pick, results_strip_pick **out, size_t *n, int *stored, char *err,
                        size_t err_len) {
  *out = NULL;
  *n = 0;
  if (stored)
    *stored = 0;
  if (ds_index >= d->n_datasets || (task != SIZE_MAX && task >= d->n_tasks))
    return sb_errf(err, err_len, "results_strip_picks: index out of range");
  sqlite3 *db = store_db(s);
  int n_task_tables = 0, n_thumb_tables = 0;
  if (count_tables(db, "'tasks', 'task_refs', 'task_results'", &n_task_tables, err, err_len) ||
      count_tables(db, "'thumbnails'", &n_thumb_tables, err, err_len))
    return -1;
  const int has_tasks = n_task_tables == 3;
  if (n_thumb_tables == 0 || n_pick == 0)
    return 0;
  sqlite3_stmt *any;
  if (sqlite3_prepare_v2(db,
                         "SELECT EXISTS (SELECT 1 FROM thumbnails t JOIN images i"
                         " ON i.id = t.image_id WHERE i.dataset_id = ?1)",
                         -1, &any, NULL) != SQLITE_OK)
    return sb_errf(err, err_len, "cannot read thumbnails: %s", sqlite3_errmsg(db));
  sqlite3_bind_int64(any, 1, d->datasets[ds_index].id);
  if (stored)
    *stored = sqlite3_step(any) == SQLITE_ROW && sqlite3_column_int(any, 0);
  sqlite3_finalize(any);
  results_strip_pick *picks = calloc(n_pick, sizeof *picks);
  if (!picks)
    return sb_errf(err, err_len, "out of memory");
  const results_dataset *ds = &d->datasets[ds_index];
  size_t got = 0;
  if (read_picks(db, d, ds, task, has_tasks, n_pick, picks, &got, err, err_len) ||
      read_points(db, d, ds, task, picks, got, err, err_len)) {
    results_strip_picks_free(picks, got);
    return -1;
  }
  *out = picks;
  *n = got;
  return 0;
}
