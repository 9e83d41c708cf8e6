/* store_write.c - the writes of a run: runs, datasets, images, codecs, points, results and
 * task rows (results.h). */
#include "results_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base.h"

void store_bind_text(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

void store_bind_real(sqlite3_stmt *st, int i, double v) {
  if (isfinite(v))
    sqlite3_bind_double(st, i, v);
  else
    sqlite3_bind_null(st, i);
}

/* Steps a statement that returns no rows, then finalizes it. */
int store_step_done(store *s, sqlite3_stmt *st, const char *what, char *err, size_t err_len) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) {
    store_fail(s, what, err, err_len);
    sqlite3_finalize(st);
    return -1;
  }
  sqlite3_finalize(st);
  return 0;
}

int store_create_run(store *s, const store_run_info *info, int64_t *run_id, char *err,
                     size_t err_len) {
  sqlite3_stmt *st;
  char now[32];
  sb_iso8601_utc(now);
  if (store_prepare(s,
                    "INSERT INTO runs (suite_name, suite_path, suite_hash, suite_text, command, "
                    "started_at, status, git_revision, host, threads, library_versions, "
                    "saicbench_version, shard) VALUES (?,?,?,?,?,?,'running',?,?,?,?,?,?)",
                    &st, err, err_len))
    return -1;
  store_bind_text(st, 1, info->suite_name);
  store_bind_text(st, 2, info->suite_path);
  store_bind_text(st, 3, info->suite_hash);
  store_bind_text(st, 4, info->suite_text);
  store_bind_text(st, 5, info->command);
  store_bind_text(st, 6, now);
  store_bind_text(st, 7, info->git_revision);
  store_bind_text(st, 8, info->host);
  sqlite3_bind_int(st, 9, info->threads);
  store_bind_text(st, 10, info->library_versions);
  store_bind_text(st, 11, info->saicbench_version);
  store_bind_text(st, 12, info->shard);
  if (store_step_done(s, st, "creating the run", err, err_len))
    return -1;
  *run_id = sqlite3_last_insert_rowid(s->db);
  return 0;
}

int store_find_resumable_run(store *s, const char *suite_hash, const char *shard, int64_t *run_id,
                             char *err, size_t err_len) {
  sqlite3_stmt *st;
  *run_id = 0;
  if (store_prepare(s,
                    "SELECT id FROM runs WHERE suite_hash=? AND shard IS ? AND status<>'complete' "
                    "ORDER BY id DESC LIMIT 1",
                    &st, err, err_len))
    return -1;
  store_bind_text(st, 1, suite_hash);
  store_bind_text(st, 2, shard);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    *run_id = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return store_fail(s, "looking for a run to resume", err, err_len);
  return 0;
}

int store_set_run_status(store *s, int64_t run_id, const char *status, char *err, size_t err_len) {
  const int complete = !strcmp(status, "complete");
  /* 'complete' and the run's checksum are one change: a savepoint works inside or outside the
   * caller's transaction. */
  if (complete && store_exec(s, "SAVEPOINT run_status", err, err_len))
    return -1;
  sqlite3_stmt *st;
  char now[32];
  sb_iso8601_utc(now);
  int rc = store_prepare(s, "UPDATE runs SET status=?, ended_at=? WHERE id=?", &st, err, err_len);
  if (rc == 0) {
    store_bind_text(st, 1, status);
    if (strcmp(status, "running"))
      store_bind_text(st, 2, now);
    else
      sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, run_id);
    rc = store_step_done(s, st, "updating the run status", err, err_len);
  }
  if (!complete)
    return rc;
  if (rc == 0)
    rc = store_seal_run(s, run_id, err, err_len);
  if (rc == 0)
    return store_exec(s, "RELEASE run_status", err, err_len);
  sqlite3_exec(store_db(s), "ROLLBACK TO run_status; RELEASE run_status", NULL, NULL, NULL);
  return -1;
}

/* Runs `insert` (INSERT OR IGNORE); then `select` binds the same leading key columns and
 * returns the id plus `n_check` columns compared with the expected text values. */
static int put_row(store *s, sqlite3_stmt *ins, sqlite3_stmt *sel, const char *what,
                   const char *const *expect, int n_check, int64_t *id, char *err, size_t err_len) {
  int rc = sqlite3_step(ins);
  sqlite3_finalize(ins);
  if (rc != SQLITE_DONE) {
    sqlite3_finalize(sel);
    return store_fail(s, what, err, err_len);
  }
  rc = sqlite3_step(sel);
  if (rc != SQLITE_ROW) {
    sqlite3_finalize(sel);
    return store_fail(s, what, err, err_len);
  }
  *id = sqlite3_column_int64(sel, 0);
  for (int i = 0; i < n_check; i++) {
    const char *have = (const char *)sqlite3_column_text(sel, i + 1);
    if (expect[i] && (!have || strcmp(have, expect[i]))) {
      snprintf(err, err_len,
               "%s: %s: the stored row differs from this run's plan (%s vs %s); start a new run "
               "instead of resuming",
               s->path, what, have ? have : "NULL", expect[i]);
      sqlite3_finalize(sel);
      return -1;
    }
  }
  sqlite3_finalize(sel);
  return 0;
}

int store_put_dataset(store *s, int64_t run_id, const char *name, const char *path,
                      const char *kind, const char *content_hash, int64_t n_images, int n_classes,
                      const char *class_names_json, const char *selection, int64_t *id, char *err,
                      size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (store_prepare(
          s,
          "INSERT OR IGNORE INTO datasets (run_id, name, path, kind, content_hash, n_images, "
          "n_classes, class_names, selection) VALUES (?,?,?,?,?,?,?,?,?)",
          &ins, err, err_len))
    return -1;
  if (store_prepare(s, "SELECT id, content_hash FROM datasets WHERE run_id=? AND name=?", &sel, err,
                    err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, run_id);
  store_bind_text(ins, 2, name);
  store_bind_text(ins, 3, path);
  store_bind_text(ins, 4, kind);
  store_bind_text(ins, 5, content_hash);
  sqlite3_bind_int64(ins, 6, n_images);
  sqlite3_bind_int(ins, 7, n_classes);
  store_bind_text(ins, 8, class_names_json);
  store_bind_text(ins, 9, selection);
  sqlite3_bind_int64(sel, 1, run_id);
  store_bind_text(sel, 2, name);
  const char *expect[] = {content_hash};
  return put_row(s, ins, sel, "storing dataset", expect, 1, id, err, err_len);
}

int store_put_image(store *s, int64_t dataset_id, int64_t idx, const char *name, int label,
                    int64_t *id, char *err, size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (store_prepare(s,
                    "INSERT OR IGNORE INTO images (dataset_id, idx, name, label) VALUES (?,?,?,?)",
                    &ins, err, err_len))
    return -1;
  if (store_prepare(s, "SELECT id, name FROM images WHERE dataset_id=? AND idx=?", &sel, err,
                    err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, dataset_id);
  sqlite3_bind_int64(ins, 2, idx);
  store_bind_text(ins, 3, name);
  if (label >= 0)
    sqlite3_bind_int(ins, 4, label);
  else
    sqlite3_bind_null(ins, 4);
  sqlite3_bind_int64(sel, 1, dataset_id);
  sqlite3_bind_int64(sel, 2, idx);
  const char *expect[] = {name};
  return put_row(s, ins, sel, "storing image", expect, 1, id, err, err_len);
}

int store_put_codec(store *s, int64_t run_id, const char *label, const char *codec,
                    const char *library_version, const char *settings_json, const char *knob_name,
                    const char *plugin_path, int64_t *id, char *err, size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (store_prepare(
          s,
          "INSERT OR IGNORE INTO codecs (run_id, label, codec, library_version, settings, "
          "knob_name, plugin_path) VALUES (?,?,?,?,?,?,?)",
          &ins, err, err_len))
    return -1;
  if (store_prepare(s, "SELECT id, codec, settings FROM codecs WHERE run_id=? AND label=?", &sel,
                    err, err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, run_id);
  store_bind_text(ins, 2, label);
  store_bind_text(ins, 3, codec);
  store_bind_text(ins, 4, library_version);
  store_bind_text(ins, 5, settings_json);
  store_bind_text(ins, 6, knob_name);
  store_bind_text(ins, 7, plugin_path);
  sqlite3_bind_int64(sel, 1, run_id);
  store_bind_text(sel, 2, label);
  const char *expect[] = {codec, settings_json};
  return put_row(s, ins, sel, "storing codec", expect, 2, id, err, err_len);
}

int store_put_point(store *s, int64_t codec_id, const char *kind, double value, int64_t *id,
                    char *err, size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (store_prepare(s, "INSERT OR IGNORE INTO points (codec_id, kind, value) VALUES (?,?,?)", &ins,
                    err, err_len))
    return -1;
  if (store_prepare(s, "SELECT id FROM points WHERE codec_id=? AND kind=? AND value=?", &sel, err,
                    err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, codec_id);
  store_bind_text(ins, 2, kind);
  sqlite3_bind_double(ins, 3, value);
  sqlite3_bind_int64(sel, 1, codec_id);
  store_bind_text(sel, 2, kind);
  sqlite3_bind_double(sel, 3, value);
  return put_row(s, ins, sel, "storing grid point", NULL, 0, id, err, err_len);
}

int store_update_image(store *s, int64_t image_id, int width, int height, const char *hash,
                       const char *error, char *err, size_t err_len) {
  sqlite3_stmt *st = s->update_image;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (!error) {
    sqlite3_bind_int(st, 1, width);
    sqlite3_bind_int(st, 2, height);
    store_bind_text(st, 3, hash);
  }
  store_bind_text(st, 4, error);
  sqlite3_bind_int64(st, 5, image_id);
  if (sqlite3_step(st) != SQLITE_DONE)
    return store_fail(s, "updating image", err, err_len);
  return 0;
}

/* A JSON array of n numbers, each the shortest %.{15,16,17}g form that reads back as the same
 * double (so the median of the parsed values equals the stored median exactly); non-finite
 * values (never measured) become null. Returns a malloc'ed string, NULL when out of memory. */
static char *json_number_array(const double *v, int n) {
  size_t cap = (size_t)n * 32 + 3, used = 0;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  out[used++] = '[';
  for (int i = 0; i < n; i++) {
    char num[32];
    if (!isfinite(v[i]))
      snprintf(num, sizeof num, "null");
    else
      for (int prec = 15; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, v[i]);
        if (strtod(num, NULL) == v[i])
          break;
      }
    used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", num);
  }
  snprintf(out + used, cap - used, "]");
  return out;
}

/* The result's timing_repeats row: inserted when it has repeats and no error, else deleted (a
 * replaced result never keeps another measurement's repeats). */
static int store_repeats(store *s, const store_result *r, char *err, size_t err_len) {
  if (r->error || (r->n_encode_all < 1 && r->n_decode_all < 1)) {
    sqlite3_stmt *del = s->delete_repeats;
    sqlite3_reset(del);
    sqlite3_bind_int64(del, 1, r->image_id);
    sqlite3_bind_int64(del, 2, r->point_id);
    if (sqlite3_step(del) != SQLITE_DONE)
      return store_fail(s, "deleting timing repeats", err, err_len);
    return 0;
  }
  char *enc = json_number_array(r->encode_all, r->n_encode_all > 0 ? r->n_encode_all : 0);
  char *dec = json_number_array(r->decode_all, r->n_decode_all > 0 ? r->n_decode_all : 0);
  if (!enc || !dec) {
    free(enc);
    free(dec);
    snprintf(err, err_len, "%s: out of memory storing timing repeats", s->path);
    return -1;
  }
  sqlite3_stmt *st = s->insert_repeats;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, r->image_id);
  sqlite3_bind_int64(st, 2, r->point_id);
  sqlite3_bind_text(st, 3, enc, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, dec, -1, SQLITE_TRANSIENT);
  free(enc);
  free(dec);
  if (sqlite3_step(st) != SQLITE_DONE)
    return store_fail(s, "inserting timing repeats", err, err_len);
  return 0;
}

int store_insert_result(store *s, const store_result *r, char *err, size_t err_len) {
  sqlite3_stmt *st = s->insert_result;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, r->image_id);
  sqlite3_bind_int64(st, 2, r->point_id);
  if (!r->error) {
    store_bind_real(st, 3, r->knob);
    sqlite3_bind_int64(st, 4, r->bytes);
    sqlite3_bind_int64(st, 5, r->stream_bytes);
    store_bind_real(st, 6, r->bpp);
    store_bind_real(st, 7, r->stream_bpp);
    store_bind_real(st, 8, r->mse);
    store_bind_real(st, 9, r->psnr);
    store_bind_real(st, 10, r->ssim);
    store_bind_real(st, 11, r->ms_ssim);
    store_bind_real(st, 12, r->encode_ms);
    store_bind_real(st, 13, r->decode_ms);
  }
  sqlite3_bind_int(st, 14, r->n_encodes);
  sqlite3_bind_int(st, 15, r->target_unreachable);
  store_bind_text(st, 16, r->error);
  if (!r->error && r->has_extra) { /* else the version-3 columns stay NULL */
    const store_extra_metrics *x = &r->extra;
    const double v[] = {x->psnr_y,    x->psnr_cb,         x->psnr_cr,          x->psnr_ycbcr,
                        x->ciede2000, x->butteraugli_max, x->butteraugli_3norm};
    for (int i = 0; i < (int)(sizeof v / sizeof v[0]); i++)
      store_bind_real(st, 17 + i, v[i]);
  }
  if (sqlite3_step(st) != SQLITE_DONE)
    return store_fail(s, "inserting a result", err, err_len);
  return store_repeats(s, r, err, err_len);
}

int store_put_task(store *s, int64_t run_id, const store_task_info *t, int64_t *id, char *err,
                   size_t err_len) {
  sqlite3_stmt *ins, *sel;
  if (store_prepare(
          s,
          "INSERT OR IGNORE INTO tasks (run_id, name, kind, checkpoint, checkpoint_sha256, "
          "arch, num_classes, input_width, input_height) VALUES (?,?,?,?,?,?,?,?,?)",
          &ins, err, err_len))
    return -1;
  if (store_prepare(s, "SELECT id, checkpoint_sha256, arch FROM tasks WHERE run_id=? AND name=?",
                    &sel, err, err_len)) {
    sqlite3_finalize(ins);
    return -1;
  }
  sqlite3_bind_int64(ins, 1, run_id);
  store_bind_text(ins, 2, t->name);
  store_bind_text(ins, 3, t->kind);
  store_bind_text(ins, 4, t->checkpoint);
  store_bind_text(ins, 5, t->checkpoint_sha256);
  store_bind_text(ins, 6, t->arch);
  sqlite3_bind_int(ins, 7, t->num_classes);
  sqlite3_bind_int(ins, 8, t->input_width);
  sqlite3_bind_int(ins, 9, t->input_height);
  sqlite3_bind_int64(sel, 1, run_id);
  store_bind_text(sel, 2, t->name);
  const char *expect[] = {t->checkpoint_sha256, t->arch};
  return put_row(s, ins, sel, "storing task", expect, 2, id, err, err_len);
}

static void bind_correct(sqlite3_stmt *st, int i, int correct) {
  if (correct >= 0)
    sqlite3_bind_int(st, i, correct);
  else
    sqlite3_bind_null(st, i);
}

int store_insert_task_ref(store *s, int64_t task_id, int64_t image_id, int top1, int correct,
                          const float *probs, int num_classes, char *err, size_t err_len) {
  if (num_classes < 1 || num_classes > 4096) {
    snprintf(err, err_len, "%s: task output with %d classes", s->path, num_classes);
    return -1;
  }
  /* Explicit little-endian bytes: the file reads the same on any machine. */
  unsigned char blob[4 * 4096];
  for (int c = 0; c < num_classes; c++) {
    uint32_t u;
    memcpy(&u, &probs[c], sizeof u);
    for (int b = 0; b < 4; b++)
      blob[4 * c + b] = (unsigned char)(u >> (8 * b));
  }
  sqlite3_stmt *st = s->insert_task_ref;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, task_id);
  sqlite3_bind_int64(st, 2, image_id);
  sqlite3_bind_int(st, 3, top1);
  bind_correct(st, 4, correct);
  sqlite3_bind_blob(st, 5, blob, 4 * num_classes, SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE)
    return store_fail(s, "inserting a task reference output", err, err_len);
  return 0;
}

int store_insert_task_result(store *s, int64_t task_id, int64_t image_id, int64_t point_id,
                             int top1, int correct, int agree, double kl_bits, char *err,
                             size_t err_len) {
  sqlite3_stmt *st = s->insert_task_result;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  sqlite3_bind_int64(st, 1, task_id);
  sqlite3_bind_int64(st, 2, image_id);
  sqlite3_bind_int64(st, 3, point_id);
  sqlite3_bind_int(st, 4, top1);
  bind_correct(st, 5, correct);
  sqlite3_bind_int(st, 6, agree);
  sqlite3_bind_double(st, 7, kl_bits);
  if (sqlite3_step(st) != SQLITE_DONE)
    return store_fail(s, "inserting a task result", err, err_len);
  return 0;
}

int store_insert_thumbnail(store *s, int64_t image_id, int64_t point_id, int width, int height,
                           const uint8_t *png, size_t png_len, char *err, size_t err_len) {
  if (!png || png_len == 0 || png_len > INT_MAX)
    return sb_errf(err, err_len, "%s: thumbnail of image %lld: no or oversized PNG", "store",
                   (long long)image_id);
  sqlite3_stmt *st;
  if (store_prepare(s,
                    "INSERT OR REPLACE INTO thumbnails (image_id, point_id, width, height, png) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
                    &st, err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, image_id);
  sqlite3_bind_int64(st, 2, point_id);
  sqlite3_bind_int(st, 3, width);
  sqlite3_bind_int(st, 4, height);
  sqlite3_bind_blob(st, 5, png, (int)png_len, SQLITE_TRANSIENT);
  return store_step_done(s, st, "inserting a thumbnail", err, err_len);
}

int store_for_each_done_unit(store *s, int64_t run_id,
                             void (*fn)(int64_t image_id, int64_t point_id, void *ctx), void *ctx,
                             char *err, size_t err_len) {
  sqlite3_stmt *st;
  if (store_prepare(s,
                    "SELECT r.image_id, r.point_id FROM results r JOIN points p ON p.id=r.point_id "
                    "JOIN codecs c ON c.id=p.codec_id WHERE c.run_id=?",
                    &st, err, err_len))
    return -1;
  sqlite3_bind_int64(st, 1, run_id);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    fn(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), ctx);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return store_fail(s, "reading stored results", err, err_len);
  return 0;
}
