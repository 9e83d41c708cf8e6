#include "compare.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_data.h"
#include "report_fs.h"

/* Flags of one point. */
enum {
  F_REGRESSION = 1,
  F_IMPROVEMENT = 2,
  F_SLOWER = 4,
  F_FASTER = 8,
};

static const report_row *find_row(const report_data *d, const char *dataset, const char *codec,
                                  int is_bpp, double value, const report_dataset **ds_out) {
  for (size_t i = 0; i < d->n_datasets; i++) {
    const report_dataset *ds = &d->datasets[i];
    if (strcmp(ds->name, dataset))
      continue;
    *ds_out = ds;
    for (size_t k = 0; k < ds->n_rows; k++) {
      const report_row *r = &ds->rows[k];
      if (r->is_bpp == is_bpp && r->value == value && !strcmp(d->codecs[r->codec].label, codec))
        return r;
    }
  }
  return NULL;
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

static int time_flag(double a, double b, double rel) {
  if (!isfinite(a) || !isfinite(b) || a <= 0)
    return 0;
  if (b > a * (1 + rel))
    return F_SLOWER;
  if (b < a * (1 - rel))
    return F_FASTER;
  return 0;
}

static int point_flags(const report_row *a, const report_row *b, const compare_bounds *bd) {
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

static json_t *row_json(const report_row *r) {
  json_t *o = json_object();
  json_object_set_new(o, "n", json_integer(r->n));
  json_object_set_new(o, "n_errors", json_integer(r->n_errors));
  json_object_set_new(o, "bpp", num(r->bpp));
  json_object_set_new(o, "psnr", num(r->psnr));
  json_object_set_new(o, "ssim", num(r->ssim));
  json_object_set_new(o, "ms_ssim", num(r->ms_ssim));
  json_object_set_new(o, "encode_ms", num(r->encode_ms));
  json_object_set_new(o, "decode_ms", num(r->decode_ms));
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

int compare_runs(sqlite3 *db_a, int64_t run_a, sqlite3 *db_b, int64_t run_b,
                 const compare_bounds *bounds, FILE *out, const char *json_path,
                 compare_summary *sum, char *err, size_t err_len) {
  report_data a, b;
  memset(sum, 0, sizeof *sum);
  int rc = -1;
  json_t *points = json_array();
  if (report_data_load(db_a, run_a, &a, err, err_len)) {
    report_data_free(&a);
    json_decref(points);
    return -1;
  }
  if (report_data_load(db_b, run_b, &b, err, err_len)) {
    report_data_free(&a);
    report_data_free(&b);
    json_decref(points);
    return -1;
  }
  if (out)
    fprintf(out, "compare: baseline run %lld (%s, %s, %s) -> candidate run %lld (%s, %s, %s)\n",
            (long long)run_a, a.run.suite_name, a.run.started_at ? a.run.started_at : "?",
            a.run.git_revision ? a.run.git_revision : "?", (long long)run_b, b.run.suite_name,
            b.run.started_at ? b.run.started_at : "?",
            b.run.git_revision ? b.run.git_revision : "?");
  for (size_t i = 0; i < a.n_datasets; i++) {
    const report_dataset *da = &a.datasets[i], *db = NULL;
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
    for (size_t k = 0; k < da->n_rows; k++) {
      const report_row *ra = &da->rows[k];
      const char *label = a.codecs[ra->codec].label;
      const report_dataset *ds_b = NULL;
      const report_row *rb = find_row(&b, da->name, label, ra->is_bpp, ra->value, &ds_b);
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
  /* Points only in the candidate. */
  for (size_t j = 0; j < b.n_datasets; j++)
    for (size_t k = 0; k < b.datasets[j].n_rows; k++) {
      const report_row *rb = &b.datasets[j].rows[k];
      const report_dataset *ds_a = NULL;
      if (!find_row(&a, b.datasets[j].name, b.codecs[rb->codec].label, rb->is_bpp, rb->value,
                    &ds_a))
        sum->added++;
    }
  if (out)
    fprintf(out,
            "\n%d points compared: %d regressions (%d missing), %d improvements, %d new; "
            "%d slower, %d faster (beyond %.0f%%)\n",
            sum->points + sum->missing, sum->regressions, sum->missing, sum->improvements,
            sum->added, sum->slower, sum->faster, bounds->time_rel * 100);
  if (json_path) {
    json_t *root = json_object();
    json_object_set_new(root, "baseline_run", json_integer(run_a));
    json_object_set_new(root, "candidate_run", json_integer(run_b));
    json_t *bj = json_object();
    json_object_set_new(bj, "psnr_db", json_real(bounds->psnr_db));
    json_object_set_new(bj, "ssim", json_real(bounds->ssim));
    json_object_set_new(bj, "bpp_rel", json_real(bounds->bpp_rel));
    json_object_set_new(bj, "time_rel", json_real(bounds->time_rel));
    json_object_set_new(root, "bounds", bj);
    json_object_set_new(root, "regressions", json_integer(sum->regressions));
    json_object_set_new(root, "improvements", json_integer(sum->improvements));
    json_object_set_new(root, "missing", json_integer(sum->missing));
    json_object_set_new(root, "data_differs", json_boolean(sum->data_differs));
    json_object_set_new(root, "points", points);
    points = NULL;
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    json_decref(root);
    if (!text) {
      snprintf(err, err_len, "%s: out of memory", json_path);
      goto done;
    }
    /* Atomic write: the file is either the old one or the complete new one. */
    char dir[4096];
    const char *slash = strrchr(json_path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - json_path) : 1,
             slash ? (slash == json_path ? "/" : json_path) : ".");
    int wrc =
        report_write_file(dir, slash ? slash + 1 : json_path, text, strlen(text), err, err_len);
    free(text);
    if (wrc)
      goto done;
  }
  rc = 0;
done:
  json_decref(points);
  report_data_free(&a);
  report_data_free(&b);
  return rc;
}
