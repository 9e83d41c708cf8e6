/* Example image strips (see report_strips.h). */
#include "report_strips.h"

#include "base.h"
#include "report_internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static char *dup_str(const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (d) {
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  return d;
}

void report_base64(sb_buf *b, const uint8_t *data, size_t n) {
  static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char out[4 * 256];
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)data[i + 1] << 8;
    if (i + 2 < n)
      v |= data[i + 2];
    out[o++] = k[(v >> 18) & 63];
    out[o++] = k[(v >> 12) & 63];
    out[o++] = i + 1 < n ? k[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? k[v & 63] : '=';
    if (o == sizeof out) {
      sb_buf_append(b, out, o);
      o = 0;
    }
  }
  if (o)
    sb_buf_append(b, out, o);
}

/* ---- the pictures the run stored ---- */

/* The first task (by name) that scored the dataset, SIZE_MAX when none. */
static size_t strip_task(const results_data *d, const results_dataset *ds) {
  for (size_t t = 0; t < d->n_tasks; t++)
    if (report_task_in_dataset(ds, t))
      return t;
  return SIZE_MAX;
}

static int load_label_names(const results_dataset *ds, report_strips *s) {
  if (!ds->class_names_json)
    return 0;
  json_t *a = json_loads(ds->class_names_json, 0, NULL);
  if (!json_is_array(a)) {
    json_decref(a);
    return 0;
  }
  size_t n = json_array_size(a);
  if (n > RESULTS_MAX_CLASSES)
    n = RESULTS_MAX_CLASSES;
  s->label_names = calloc(n ? n : 1, sizeof *s->label_names);
  int rc = s->label_names ? 0 : -1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *v = json_string_value(json_array_get(a, i));
    if (v && !(s->label_names[i] = dup_str(v)))
      rc = -1;
  }
  if (rc == 0)
    s->n_label_names = n;
  json_decref(a);
  return rc;
}

/* The picture of a stored thumbnail, as base64; *used grows by its size. */
static int put_png(const results_thumbnail *th, report_thumb *t, size_t *used) {
  if (!th->png)
    return 0;
  sb_buf b = {0};
  report_base64(&b, th->png, th->png_len);
  if (sb_buf_failed(&b)) {
    sb_buf_free(&b);
    return -1;
  }
  t->png_b64 = b.data ? b.data : dup_str("");
  t->w = th->width;
  t->h = th->height;
  *used += b.len;
  return t->png_b64 ? 0 : -1;
}

/* Copies one dataset's picks (results_strip_picks) into s, with their stored pictures while the
 * report's picture budget lasts. */
static int fill_dataset(const results_dataset *ds, const results_strip_pick *picks, size_t n,
                        report_strips *s, size_t *budget_used, char *err, size_t err_len) {
  s->images = calloc(n ? n : 1, sizeof *s->images);
  if (!s->images)
    return sb_errf(err, err_len, "out of memory");
  size_t left_out = 0;
  for (size_t k = 0; k < n; k++) {
    const results_strip_pick *p = &picks[k];
    report_strip_image *im = &s->images[s->n_images++];
    im->image_id = p->image_id;
    im->idx = p->idx;
    im->name = dup_str(p->name);
    im->hash = dup_str(p->hash);
    im->label = p->label;
    im->width = p->width;
    im->height = p->height;
    im->original.row = SIZE_MAX;
    im->original.top1 = p->ref_top1;
    im->thumbs = calloc(ds->n_rows ? ds->n_rows : 1, sizeof *im->thumbs);
    if (!im->name || !im->hash || !im->thumbs)
      return sb_errf(err, err_len, "out of memory");
    im->n_thumbs = ds->n_rows;
    if (*budget_used >= REPORT_STRIPS_BUDGET) {
      left_out++;
      continue;
    }
    im->rendered = 1;
    im->scale = p->original.width > 0 ? p->width / p->original.width : 1;
    if (im->scale < 1)
      im->scale = 1;
    if (put_png(&p->original, &im->original, budget_used))
      return sb_errf(err, err_len, "out of memory");
    for (size_t r = 0; r < ds->n_rows && r < p->n_points; r++) {
      const results_strip_point *pt = &p->points[r];
      report_thumb *t = &im->thumbs[r];
      t->row = r;
      t->has_result = pt->has_result;
      t->knob = pt->knob;
      t->bytes = pt->bytes;
      t->bpp = pt->bpp;
      t->psnr = pt->psnr;
      t->top1 = pt->top1;
      if (pt->error)
        t->error = dup_printf("failed in the run: %s", pt->error);
      else if (!pt->has_result)
        t->error = dup_str("no result stored for this image");
      else if (!pt->thumb.png)
        t->error = dup_str("no picture stored");
      else if (put_png(&pt->thumb, t, budget_used))
        return sb_errf(err, err_len, "out of memory");
      if ((pt->error || !pt->has_result || !pt->thumb.png) && !t->error)
        return sb_errf(err, err_len, "out of memory");
    }
  }
  if (left_out > 0 &&
      !(s->note = dup_printf("%zu example image(s) of this dataset left out to keep the page "
                             "small (about %u MiB of pictures per report).",
                             left_out, (unsigned)(REPORT_STRIPS_BUDGET >> 20))))
    return sb_errf(err, err_len, "out of memory");
  return 0;
}

int report_strips_query(store *st, const results_data *d, size_t strip_images,
                        report_strips *strips, char *err, size_t err_len) {
  for (size_t i = 0; i < d->n_datasets; i++) {
    memset(&strips[i], 0, sizeof strips[i]);
    strips[i].task = SIZE_MAX;
  }
  if (strip_images == 0)
    return 0;
  size_t budget_used = 0;
  for (size_t i = 0; i < d->n_datasets; i++) {
    report_strips *s = &strips[i];
    s->task = strip_task(d, &d->datasets[i]);
    if (load_label_names(&d->datasets[i], s))
      return sb_errf(err, err_len, "out of memory reading class names");
    results_strip_pick *picks = NULL;
    size_t n = 0;
    int stored = 0;
    int rc =
        results_strip_picks(st, d, i, s->task, strip_images, &picks, &n, &stored, err, err_len);
    if (rc == 0)
      rc = fill_dataset(&d->datasets[i], picks, n, s, &budget_used, err, err_len);
    results_strip_picks_free(picks, n);
    if (rc)
      return -1;
    s->stored = stored;
  }
  return 0;
}

static void thumb_free(report_thumb *t) {
  free(t->png_b64);
  free(t->error);
}

void report_strips_free(report_strips *strips, size_t n) {
  for (size_t i = 0; strips && i < n; i++) {
    report_strips *s = &strips[i];
    for (size_t k = 0; k < s->n_images; k++) {
      report_strip_image *im = &s->images[k];
      free(im->name);
      free(im->hash);
      thumb_free(&im->original);
      for (size_t r = 0; r < im->n_thumbs; r++)
        thumb_free(&im->thumbs[r]);
      free(im->thumbs);
    }
    free(s->images);
    for (size_t k = 0; k < s->n_label_names; k++)
      free(s->label_names[k]);
    free(s->label_names);
    free(s->note);
    memset(s, 0, sizeof *s);
  }
}
