/* compressai_<codec>_<dataset>[_bpp].json (layout in report.h). */
#include "base.h"
#include "report_internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>

/* Strings reach jansson only through report_utf8_repair(): json_string() rejects invalid UTF-8
 * (returns NULL), and the database may hold any bytes. */

/* jansson cannot encode NaN/Inf (json_real returns NULL), and they mean "no value" here. */
static json_t *json_num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* Nulls in an array: 0 none, 1 some, 2 all (an empty array counts as all). */
static int null_level(const json_t *a) {
  size_t n = json_array_size(a), k = 0;
  for (size_t i = 0; i < n; i++)
    k += json_is_null(json_array_get(a, i));
  return k == 0 && n > 0 ? 0 : k < n ? 1 : 2;
}

static void describe(sb_buf *b, const results_data *d, const results_dataset *ds,
                     const results_codec *c, int is_bpp) {
  const results_run *r = &d->run;
  sb_buf_printf(b, "%s of codec '", is_bpp ? "bpp-target grid (rate control)" : "knob grid");
  report_utf8_repair(b, c->codec);
  sb_buf_puts(b, "'");
  if (c->library_version) {
    sb_buf_puts(b, " (");
    report_utf8_repair(b, c->library_version);
    sb_buf_puts(b, ")");
  }
  sb_buf_puts(b, ", knob '");
  report_utf8_repair(b, c->knob_name);
  sb_buf_puts(b, "', settings ");
  report_utf8_repair(b, c->settings ? c->settings : "{}");
  sb_buf_puts(b, "; dataset '");
  report_utf8_repair(b, ds->name);
  sb_buf_printf(b, "' (%" PRId64 " images", ds->n_images);
  if (ds->selection) {
    sb_buf_puts(b, ", ");
    report_utf8_repair(b, ds->selection);
  }
  sb_buf_printf(b, "); saicbench run %" PRId64 ", suite '", r->id);
  report_utf8_repair(b, r->suite_name);
  sb_buf_puts(b, "', started ");
  report_utf8_repair(b, r->started_at);
  sb_buf_puts(b, ", status ");
  report_utf8_repair(b, r->status);
  sb_buf_puts(b, "; bpp from file bytes, metrics are means over images, times in seconds "
                 "per image");
  if (ds->n_task_rows > 0)
    sb_buf_puts(b, "; task accuracy (top-1) as a fraction, SI = I(A;B) in bits, "
                   "si_norm = SI/H(A)");
}

/* Task arrays of one file, aligned with its "bpp" array: for each task scored on the dataset
 * that has a row at any of the file's points, {"accuracy", "si", "si_norm"} (null where the
 * point has no task row or the value is NULL; an array that would be all null is left out).
 * The first such task (by name) also gets "accuracy" and "si_norm" in "results", so
 * single-task tools find them where CompressAI keeps its metrics; there, as for every metric
 * in "results", only an array without nulls (report.h). Returns -1 when out of memory. */
static int add_tasks(json_t *root, json_t *results, const results_data *d,
                     const results_dataset *ds, size_t codec, int is_bpp) {
  if (ds->n_task_rows == 0)
    return 0;
  static const char *const keys[] = {"accuracy", "si", "si_norm"};
  json_t *tasks = json_object();
  if (!tasks)
    return -1;
  int bad = 0, first = 1;
  sb_buf name = {0};
  for (size_t t = 0; t < d->n_tasks && !bad; t++) {
    json_t *obj = json_object(), *arr[3] = {json_array(), json_array(), json_array()};
    bad |= !obj || !arr[0] || !arr[1] || !arr[2];
    int any = 0;
    for (size_t i = 0; i < ds->n_rows && !bad; i++) {
      const results_row *r = &ds->rows[i];
      if (r->codec != codec || r->is_bpp != is_bpp || !report_row_plottable(r))
        continue;
      const results_task_row *tr = report_task_row_of(ds, t, r->point_id);
      any |= tr != NULL;
      const double v[3] = {tr ? tr->accuracy : NAN, tr ? tr->si : NAN, tr ? tr->si_norm : NAN};
      for (int k = 0; k < 3; k++)
        bad |= json_array_append_new(arr[k], json_num(v[k]));
    }
    for (int k = 0; k < 3; k++) {
      if (!bad && any && null_level(arr[k]) < 2)
        bad |= json_object_set(obj, keys[k], arr[k]);
      /* In "results" only without nulls: plotting tools convert every entry to a number. */
      if (!bad && any && first && k != 1 && null_level(arr[k]) == 0)
        bad |= json_object_set_new(results, keys[k], json_deep_copy(arr[k]));
      json_decref(arr[k]);
    }
    if (!bad && any) {
      sb_buf_reset(&name);
      report_utf8_repair(&name, d->tasks[t].name);
      bad |= sb_buf_failed(&name) || json_object_set(tasks, sb_buf_str(&name), obj);
      first = 0;
    }
    json_decref(obj);
  }
  if (!bad && !first)
    bad |= json_object_set(root, "tasks", tasks);
  json_decref(tasks);
  sb_buf_free(&name);
  return bad ? -1 : 0;
}

int report_write_compressai(const results_data *d, size_t ds_index, size_t codec, int is_bpp,
                            const char *dir, const char *name, char *err, size_t err_len) {
  const results_dataset *ds = &d->datasets[ds_index];
  const results_codec *c = &d->codecs[codec];
  /* The first six, then the opt-in metrics (report_extra_json), left out like any metric
   * with a null (so entirely for runs without them). */
  static const char *const base_keys[] = {"bpp",      "psnr-rgb",      "ms-ssim-rgb",
                                          "ssim-rgb", "encoding_time", "decoding_time"};
  enum { NBASE = sizeof base_keys / sizeof base_keys[0], NKEYS = NBASE + REPORT_N_EXTRA };
  const char *keys[NKEYS];
  for (int k = 0; k < NKEYS; k++)
    keys[k] = k < NBASE ? base_keys[k] : report_extra_json[k - NBASE];
  json_t *root = json_object(), *results = json_object(), *arr[NKEYS];
  int bad = !root || !results;
  for (int k = 0; k < NKEYS; k++) {
    arr[k] = json_array();
    bad |= !arr[k];
  }

  sb_buf b = {0};
  report_utf8_repair(&b, c->label);
  if (is_bpp)
    sb_buf_puts(&b, " (bpp targets)");
  if (!bad && !sb_buf_failed(&b)) {
    bad |= json_object_set_new(root, "name", json_string(sb_buf_str(&b)));
    sb_buf_reset(&b);
    describe(&b, d, ds, c, is_bpp);
    bad |=
        sb_buf_failed(&b) || json_object_set_new(root, "description", json_string(sb_buf_str(&b)));
  }
  /* Rows are already sorted by bpp within a codec and kind (results_data.h). */
  for (size_t i = 0; i < ds->n_rows && !bad; i++) {
    const results_row *r = &ds->rows[i];
    if (r->codec != codec || r->is_bpp != is_bpp || !report_row_plottable(r))
      continue;
    double v[NKEYS] = {
        r->bpp, r->psnr, r->ms_ssim, r->ssim, r->encode_ms / 1000.0, r->decode_ms / 1000.0};
    for (int k = NBASE; k < NKEYS; k++)
      v[k] = report_extra_value(r, k - NBASE);
    for (int k = 0; k < NKEYS; k++)
      bad |= json_array_append_new(arr[k], json_num(v[k]));
  }
  /* A metric with a null anywhere is left out: CompressAI's plot script (and most tools that
   * read this layout) turns every entry into a number, and a partial curve would also be
   * misleading. "bpp" is never null (only rows with a rate are written). "psnr" repeats
   * "psnr-rgb": older CompressAI plot scripts default to `-m psnr`. */
  for (int k = 0; k < NKEYS; k++) {
    if (!bad && (k == 0 || null_level(arr[k]) == 0)) {
      bad |= json_object_set(results, keys[k], arr[k]);
      if (!bad && k == 1)
        bad |= json_object_set_new(results, "psnr", json_deep_copy(arr[k]));
    }
    json_decref(arr[k]);
  }
  if (!bad)
    bad |= add_tasks(root, results, d, ds, codec, is_bpp);
  if (!bad)
    bad |= json_object_set(root, "results", results);
  json_decref(results);

  /* 15 significant digits print 0.1 as "0.1", not jansson's default "0.10000000000000001"; the
   * <= 5e-16 relative rounding is far below measurement noise, and the CSV keeps exact values. */
  char *text = bad ? NULL : json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
  json_decref(root);
  sb_buf_free(&b);
  if (!text)
    return sb_errf(err, err_len, "cannot build JSON for '%s/%s' (out of memory)", dir, name);
  sb_buf out = {0};
  sb_buf_puts(&out, text);
  sb_buf_puts(&out, "\n");
  free(text);
  return sb_buf_write_file(&out, dir, name, err, err_len);
}
