/* The headline table: every bpp target of a dataset with task networks, one row per codec, with
 * the achieved rate, PSNR and each task's accuracy and SI_norm side by side -- the comparison the
 * SAIC method is judged on (docs/method.md), in HTML for the report and in Markdown for notes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "report_internal.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Distinct bpp-target values of the dataset's rows, ascending; returns the count (<= cap). */
static size_t targets_of(const results_dataset *ds, double *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < ds->n_rows; i++) {
    if (!ds->rows[i].is_bpp)
      continue;
    size_t k = 0;
    while (k < n && out[k] != ds->rows[i].value)
      k++;
    if (k == n && n < cap)
      out[n++] = ds->rows[i].value;
  }
  qsort(out, n, sizeof *out, cmp_double);
  return n;
}

int report_headline_available(const results_dataset *ds) {
  if (ds->n_task_rows == 0)
    return 0;
  for (size_t i = 0; i < ds->n_rows; i++)
    if (ds->rows[i].is_bpp)
      return 1;
  return 0;
}

static void cell(sb_buf *b, int md, const char *fmt, double v) {
  sb_buf_puts(b, md ? " | " : "<td class=\"num\">");
  if (isfinite(v))
    sb_buf_printf(b, fmt, v);
  else
    sb_buf_puts(b, md ? "–" : "<span class=\"null\">\xE2\x80\x93</span>");
  if (!md)
    sb_buf_puts(b, "</td>");
}

static void text(sb_buf *b, int md, const char *s) {
  if (md) {
    /* Markdown table cells: a '|' would split the cell. */
    for (const char *p = s ? s : ""; *p; p++)
      sb_buf_printf(b, *p == '|' ? "\\|" : "%c", *p);
  } else {
    report_html_escape(b, s ? s : "");
  }
}

#define MAX_TARGETS 64

void report_put_headline(sb_buf *b, const results_data *d, const results_dataset *ds, int md) {
  double t[MAX_TARGETS];
  size_t nt = targets_of(ds, t, MAX_TARGETS);
  size_t tasks[64], ntask = 0;
  for (size_t k = 0; k < d->n_tasks && ntask < 64; k++)
    if (report_task_in_dataset(ds, k))
      tasks[ntask++] = k;
  if (md) {
    sb_buf_puts(b, "| target bpp | codec | bpp (file) | bpp (stream) | unreachable | PSNR [dB]");
    for (size_t k = 0; k < ntask; k++) {
      sb_buf_puts(b, " | acc ");
      text(b, 1, d->tasks[tasks[k]].name);
      sb_buf_puts(b, " [%] | SI_norm ");
      text(b, 1, d->tasks[tasks[k]].name);
    }
    sb_buf_puts(b, " |\n|---|---|---|---|---|---");
    for (size_t k = 0; k < ntask; k++)
      sb_buf_puts(b, "|---|---");
    sb_buf_puts(b, "|\n");
  } else {
    sb_buf_puts(b, "<div class=\"scroll\"><table class=\"points\">\n<tr><th>target bpp</th>"
                   "<th>codec</th><th>bpp (file)</th><th>bpp (stream)</th>"
                   "<th>unreachable</th><th>PSNR [dB]</th>");
    for (size_t k = 0; k < ntask; k++) {
      sb_buf_puts(b, "<th>accuracy [%] ");
      text(b, 0, d->tasks[tasks[k]].name);
      sb_buf_puts(b, "</th><th>SI_norm ");
      text(b, 0, d->tasks[tasks[k]].name);
      sb_buf_puts(b, "</th>");
    }
    sb_buf_puts(b, "</tr>\n");
  }
  for (size_t i = 0; i < nt; i++) {
    for (size_t c = 0; c < d->n_codecs; c++) {
      const results_row *r = NULL;
      for (size_t j = 0; j < ds->n_rows && !r; j++)
        if (ds->rows[j].codec == c && ds->rows[j].is_bpp && ds->rows[j].value == t[i])
          r = &ds->rows[j];
      if (!r)
        continue;
      char num[32];
      report_format_double(t[i], num);
      if (md) {
        sb_buf_printf(b, "| %s | ", num);
        text(b, 1, d->codecs[c].label);
      } else {
        sb_buf_printf(b, "<tr%s><td class=\"num\">%s</td><td class=\"label\">",
                      r->n_unreachable > 0 ? " class=\"unreach\"" : "", num);
        text(b, 0, d->codecs[c].label);
        sb_buf_puts(b, "</td>");
      }
      cell(b, md, "%.4f", r->bpp);
      cell(b, md, "%.4f", r->stream_bpp);
      if (md)
        sb_buf_printf(b, " | %" PRId64 "/%" PRId64, r->n_unreachable, r->n);
      else
        sb_buf_printf(b, "<td class=\"num\">%" PRId64 "/%" PRId64 "</td>", r->n_unreachable, r->n);
      cell(b, md, "%.2f", r->psnr);
      for (size_t k = 0; k < ntask; k++) {
        const results_task_row *tr = report_task_row_of(ds, tasks[k], r->point_id);
        cell(b, md, "%.2f", tr ? 100.0 * tr->accuracy : NAN);
        cell(b, md, "%.3f", tr ? tr->si_norm : NAN);
      }
      sb_buf_puts(b, md ? " |\n" : "</tr>\n");
    }
  }
  if (!md)
    sb_buf_puts(b, "</table></div>\n");
}

int report_write_headline_md(const results_data *d, size_t ds_index, const char *dir,
                             const char *name, char *err, size_t err_len) {
  const results_dataset *ds = &d->datasets[ds_index];
  sb_buf b = {0};
  sb_buf_puts(&b, "Dataset ");
  text(&b, 1, ds->name);
  sb_buf_printf(&b,
                " (%" PRId64 " images), run %" PRId64 ". bpp: mean file bits per pixel "
                "achieved; unreachable: images whose target was below the codec's lowest "
                "rate (stored at that rate). Accuracy on the originals:",
                ds->n_images, d->run.id);
  for (size_t k = 0; k < d->n_tasks; k++) {
    const results_task_ref *ref = &ds->task_refs[k];
    if (!report_task_in_dataset(ds, k) || ref->n <= 0)
      continue;
    sb_buf_puts(&b, " ");
    text(&b, 1, d->tasks[k].name);
    sb_buf_printf(&b, " %.2f %%;", 100.0 * (double)ref->correct / (double)ref->n);
  }
  sb_buf_puts(&b, "\n\n");
  report_put_headline(&b, d, ds, 1);
  return sb_buf_write_file(&b, dir, name, err, err_len);
}
