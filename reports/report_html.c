/* report.html: one self-contained page (layout in report.h).
 *
 * The markup is also well-formed XML (every element closed, void elements self-closed, no
 * named entities besides the XML five), so tests can check it with an XML parser. Every string
 * from the database goes through report_html_escape(). */
#include "metrics.h"
#include "base.h"
#include "report_internal.h"
#include "svg_plot.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char k_css[] =
    "body{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;margin:24px;color:#222;"
    "max-width:1600px}\n"
    "h1{font-size:22px;margin-bottom:4px}\n"
    "h2{font-size:18px;border-bottom:1px solid #bbb;padding-bottom:4px;margin-top:36px}\n"
    "h3{font-size:15px;margin:18px 0 6px}\n"
    "h4{font-size:13px;margin:12px 0 4px}\n"
    "table{border-collapse:collapse;font-size:13px;margin:6px 0 12px}\n"
    "th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}\n"
    "th{background:#f3f3f3}\n"
    "table.meta th{width:150px}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.unreach td{background:#fff0dc}\n"
    "td.sig{font-weight:bold}\n"
    "td.flag{font-weight:bold;color:#a33c00}\n"
    ".null{color:#999}\n"
    ".warn{color:#a33c00}\n"
    ".note{color:#555;font-size:13px;max-width:1000px}\n"
    ".plots{display:flex;flex-wrap:wrap;gap:16px;margin:8px 0}\n"
    "svg.plot{border:1px solid #e5e5e5}\n"
    ".sw{display:inline-block;width:10px;height:10px;margin-right:6px;border:1px solid #555}\n"
    "svg.mk{vertical-align:middle;margin-right:4px}\n"
    ".ds .tgl{font-size:13px;font-weight:bold;margin-right:6px}\n"
    ".ds input{margin:0 2px 0 10px;vertical-align:middle}\n"
    ".ds label{font-size:13px;cursor:pointer;white-space:nowrap}\n"
    ".ds input:not(:checked)+label{opacity:.45;text-decoration:line-through}\n"
    "code{font-size:12px;word-break:break-all}\n"
    ".scroll{overflow-x:auto}\n"
    "table.points{font-size:12px}\n"
    "table.points th{vertical-align:bottom}\n"
    "td.label{min-width:90px;max-width:260px;overflow-wrap:break-word}\n"
    "tr.ref td{background:#eef4fb}\n"
    "td.nc{color:#777;font-size:11px;max-width:220px}\n"
    ".ex{margin:10px 0 18px}\n"
    ".strip{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-start;margin:4px 0 8px}\n"
    ".strip .lab{width:110px;font-size:12px;font-weight:bold;overflow-wrap:break-word}\n"
    "figure.th{margin:0;font-size:11px;line-height:1.3;text-align:center}\n"
    "figure.th img{display:block;margin:0 auto 2px;border:1px solid #ccc}\n"
    "img.px{image-rendering:pixelated}\n"
    "figure.th figcaption{max-width:150px;overflow-wrap:break-word}\n"
    ".ok{color:#1a7f37}\n"
    ".bad{color:#b3261e;font-weight:bold}\n"
    ".noimg{background:#f3f3f3;color:#999;border:1px dashed #bbb;margin:0 auto 2px}\n";

/* Size of every plot (px): two side by side on a wide screen, one per row below ~1600 px. */
#define REPORT_PLOT_W 760
#define REPORT_PLOT_H 420

static const char k_null_cell[] = "<span class=\"null\">\xE2\x80\x93</span>"; /* en dash */

/* METRIC_EXTRA + k: the opt-in metric k of report_extra_value. */
typedef enum metric { METRIC_PSNR, METRIC_SSIM, METRIC_MS_SSIM, METRIC_EXTRA } metric;
enum { N_METRICS = METRIC_EXTRA + REPORT_N_EXTRA };
enum {
  EXTRA_PSNR_Y,
  EXTRA_PSNR_CB,
  EXTRA_PSNR_CR,
  EXTRA_PSNR_YCBCR,
  EXTRA_CIEDE2000,
  EXTRA_BA_MAX,
  EXTRA_BA_3NORM
};

static double metric_of(const results_row *r, metric m) {
  if (m >= METRIC_EXTRA)
    return report_extra_value(r, (int)m - METRIC_EXTRA);
  return m == METRIC_PSNR ? r->psnr : m == METRIC_SSIM ? r->ssim : r->ms_ssim;
}

static void put_text_or_null(sb_buf *b, const char *s) {
  if (s)
    report_html_escape(b, s);
  else
    sb_buf_puts(b, k_null_cell);
}

static void meta_row(sb_buf *b, const char *key, const char *value, int code) {
  sb_buf_printf(b, "<tr><th>%s</th><td>%s", key, code && value ? "<code>" : "");
  put_text_or_null(b, value);
  sb_buf_printf(b, "%s</td></tr>\n", code && value ? "</code>" : "");
}

static void put_run(sb_buf *b, const results_run *r) {
  sb_buf_puts(b, "<h2>Run</h2>\n<table class=\"meta\">\n");
  char id[32];
  snprintf(id, sizeof id, "%" PRId64, r->id);
  meta_row(b, "Run id", id, 0);
  meta_row(b, "Suite", r->suite_name, 0);
  meta_row(b, "Suite path", r->suite_path, 1);
  meta_row(b, "Suite hash", r->suite_hash, 1);
  meta_row(b, "Command", r->command, 1);
  meta_row(b, "Started", r->started_at, 0);
  meta_row(b, "Ended", r->ended_at, 0);
  sb_buf_printf(b, "<tr><th>Status</th><td%s>",
                r->status && strcmp(r->status, "complete") == 0 ? "" : " class=\"warn\"");
  put_text_or_null(b, r->status);
  sb_buf_puts(b, "</td></tr>\n");
  meta_row(b, "Git revision", r->git_revision, 1);
  meta_row(b, "Host", r->host, 0);
  char threads[32];
  snprintf(threads, sizeof threads, "%" PRId64, r->threads);
  meta_row(b, "Threads", r->has_threads ? threads : NULL, 0);
  meta_row(b, "saicbench version", r->saicbench_version, 0);
  sb_buf_puts(b, "</table>\n");

  /* Library versions: a JSON object by contract; anything else is shown verbatim. */
  sb_buf_puts(b, "<h3>Library versions</h3>\n");
  json_error_t jerr;
  json_t *lib = r->library_versions ? json_loads(r->library_versions, 0, &jerr) : NULL;
  if (json_is_object(lib) && json_object_size(lib) > 0) {
    sb_buf_puts(b, "<table class=\"meta\">\n");
    const char *key;
    json_t *val;
    json_object_foreach(lib, key, val) {
      sb_buf_puts(b, "<tr><th>");
      report_html_escape(b, key);
      sb_buf_puts(b, "</th><td>");
      if (json_is_string(val)) {
        report_html_escape(b, json_string_value(val));
      } else {
        char *s = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
        put_text_or_null(b, s);
        free(s);
      }
      sb_buf_puts(b, "</td></tr>\n");
    }
    sb_buf_puts(b, "</table>\n");
  } else if (r->library_versions) {
    sb_buf_puts(b, "<p class=\"warn\">Not a JSON object; as stored: <code>");
    report_html_escape(b, r->library_versions);
    sb_buf_puts(b, "</code></p>\n");
  } else {
    sb_buf_puts(b, "<p class=\"note\">Not recorded.</p>\n");
  }
  json_decref(lib);
}

/* Every codec has its own colour and marker shape (svg_palette / svg_marker_at of its index),
 * the same in every plot, and the class "c<index>" that the page's codec switches use to hide
 * its series (put_toggle_css). Knob grid: solid line; bpp targets: dashed. Only the first series of
 * a codec in a plot gets a legend entry. */
static svg_style codec_style(size_t codec, int is_bpp, int no_legend, char cls[32]) {
  snprintf(cls, 32, "c%zu", codec);
  return (svg_style){.color = svg_palette(codec),
                     .dashed = is_bpp,
                     .marker = svg_marker_at(codec),
                     .css_class = cls,
                     .no_legend = no_legend};
}

/* Adds codec c's series of one kind to p, labelled "<label>" or "<label> (bpp targets)". */
static int add_codec_series(svg_plot *p, const results_data *d, size_t c, int is_bpp,
                            int no_legend) {
  char cls[32];
  sb_buf label = {0};
  sb_buf_puts(&label, d->codecs[c].label ? d->codecs[c].label : "");
  if (is_bpp)
    sb_buf_puts(&label, " (bpp targets)");
  int series = sb_buf_failed(&label) ? -1
                                     : svg_plot_add_series(p, sb_buf_str(&label),
                                                           codec_style(c, is_bpp, no_legend, cls));
  sb_buf_free(&label);
  return series;
}

/* The key to the line styles, when a plot has both kinds of series. */
static int add_line_key(svg_plot *p, int any_knob, int any_bpp) {
  if (!any_knob || !any_bpp)
    return 0;
  return svg_plot_add_legend_line(p, "knob grid", "#777777", 0) ||
         svg_plot_add_legend_line(p, "bpp targets", "#777777", 1);
}

/* The page's codec switches: per codec index, CSS that hides the series of an unticked codec
 * in every plot of the dataset (its legend entries fade instead). No scripts: a checkbox
 * (input.t<index>) precedes the dataset's content as a sibling, see put_toggles. */
static void put_toggle_css(sb_buf *b, const results_data *d) {
  for (size_t c = 0; c < d->n_codecs; c++)
    sb_buf_printf(b,
                  ".ds input.t%zu:not(:checked)~* .c%zu{display:none}\n"
                  ".ds input.t%zu:not(:checked)~* .c%zu.legend{display:inline;opacity:.3}\n",
                  c, c, c, c);
}

static void put_swatch(sb_buf *b, size_t codec) {
  sb_buf_printf(b, "<span class=\"sw\" style=\"background:%s\"></span>", svg_palette(codec));
}

static void put_codecs(sb_buf *b, const results_data *d) {
  sb_buf_puts(b, "<h2>Codecs</h2>\n");
  if (d->n_codecs == 0) {
    sb_buf_puts(b, "<p class=\"note\">This run has no codecs.</p>\n");
    return;
  }
  sb_buf_puts(b, "<table>\n<tr><th>label</th><th>codec</th><th>library version</th>"
                 "<th>knob</th><th>settings</th><th>plugin</th></tr>\n");
  for (size_t i = 0; i < d->n_codecs; i++) {
    const results_codec *c = &d->codecs[i];
    char cls[32];
    sb_buf_puts(b, "<tr><td>");
    svg_marker_icon(b, codec_style(i, 0, 0, cls));
    put_text_or_null(b, c->label);
    sb_buf_puts(b, "</td><td>");
    put_text_or_null(b, c->codec);
    sb_buf_puts(b, "</td><td>");
    put_text_or_null(b, c->library_version);
    sb_buf_puts(b, "</td><td>");
    put_text_or_null(b, c->knob_name);
    sb_buf_puts(b, "</td><td><code>");
    put_text_or_null(b, c->settings);
    sb_buf_puts(b, "</code></td><td>");
    put_text_or_null(b, c->plugin_path);
    sb_buf_puts(b, "</td></tr>\n");
  }
  sb_buf_puts(b, "</table>\n");
}

/* One rate-metric plot of a dataset: per codec a solid knob-grid series and a dashed
 * bpp-target series in the codec's colour and marker shape (codec_style). Hollow markers: some
 * images could not reach the bpp target. */
static int put_plot(sb_buf *b, const results_data *d, const results_dataset *ds, metric m) {
  static const char *const titles[N_METRICS] = {"Rate\xE2\x80\x93PSNR",
                                                "Rate\xE2\x80\x93SSIM",
                                                "Rate\xE2\x80\x93MS-SSIM",
                                                "Rate\xE2\x80\x93PSNR-Y",
                                                "Rate\xE2\x80\x93PSNR-Cb",
                                                "Rate\xE2\x80\x93PSNR-Cr",
                                                "Rate\xE2\x80\x93PSNR-YCbCr",
                                                "Rate\xE2\x80\x93"
                                                "CIEDE2000",
                                                "Rate\xE2\x80\x93"
                                                "Butteraugli",
                                                "Rate\xE2\x80\x93"
                                                "Butteraugli 3-norm"};
  static const char *const ylabels[N_METRICS] = {"PSNR [dB] (mean of per-image)",
                                                 "SSIM (mean)",
                                                 "MS-SSIM (mean)",
                                                 "PSNR-Y [dB] (BT.601 luma, mean)",
                                                 "PSNR-Cb [dB] (mean)",
                                                 "PSNR-Cr [dB] (mean)",
                                                 "PSNR-YCbCr [dB] ((6Y+Cb+Cr)/8, mean)",
                                                 "CIEDE2000 \xCE\x94"
                                                 "E00 (mean; lower is better)",
                                                 "Butteraugli max distance (mean; lower is better)",
                                                 "Butteraugli 3-norm (mean; lower is better)"};
  sb_buf title = {0};
  sb_buf_puts(&title, titles[m]);
  sb_buf_puts(&title, ": ");
  sb_buf_puts(&title, ds->name);
  svg_plot *p = sb_buf_failed(&title)
                    ? NULL
                    : svg_plot_new(sb_buf_str(&title), "bits per pixel (file bytes)", ylabels[m]);
  sb_buf_free(&title);
  if (!p)
    return -1;
  svg_plot_set_scale(p, SVG_AXIS_Y, SVG_SCALE_LINEAR);
  /* Two plots side by side on a wide screen; the legend right of the plot area, one entry per
   * codec. */
  svg_plot_set_size(p, REPORT_PLOT_W, REPORT_PLOT_H);
  int rc = 0, any[2] = {0, 0};
  for (size_t c = 0; c < d->n_codecs && rc == 0; c++) {
    int listed = 0;
    for (int is_bpp = 0; is_bpp <= 1 && rc == 0; is_bpp++) {
      int series = -1;
      for (size_t i = 0; i < ds->n_rows && rc == 0; i++) {
        const results_row *r = &ds->rows[i];
        if (r->codec != c || r->is_bpp != is_bpp || !report_row_plottable(r))
          continue;
        if (series < 0) {
          series = add_codec_series(p, d, c, is_bpp, listed);
          listed = 1;
          any[is_bpp] = 1;
          if (series < 0) {
            rc = -1;
            break;
          }
        }
        rc = svg_plot_add_point(p, series, r->bpp, metric_of(r, m),
                                r->n_unreachable > 0 ? SVG_POINT_HOLLOW : 0);
      }
    }
  }
  if (rc == 0)
    rc = add_line_key(p, any[0], any[1]);
  if (rc == 0)
    rc = svg_plot_render(p, b);
  svg_plot_free(p);
  return rc;
}

static void put_cell_real(sb_buf *b, const char *fmt, double v) {
  sb_buf_puts(b, "<td class=\"num\">");
  if (isfinite(v))
    sb_buf_printf(b, fmt, v);
  else
    sb_buf_puts(b, k_null_cell);
  sb_buf_puts(b, "</td>");
}

static void put_points_table(sb_buf *b, const results_data *d, const results_dataset *ds) {
  sb_buf_puts(b, "<div class=\"scroll\"><table class=\"points\">\n<tr>");
  static const char *const cols[] = {"codec", "codec_name", "point_kind",    "point_value",
                                     "n",     "n_errors",   "n_unreachable", "mean_knob",
                                     "bpp",   "stream_bpp", "psnr",          "psnr_of_mean_mse",
                                     "ssim",  "ms_ssim",    "encode_ms",     "decode_ms"};
  /* The opt-in metrics with a value in this dataset follow, as in the CSV. */
  int extra[REPORT_N_EXTRA];
  const char *names[sizeof cols / sizeof cols[0] + REPORT_N_EXTRA];
  size_t n_names = 0;
  for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
    names[n_names++] = cols[i];
  for (int k = 0; k < REPORT_N_EXTRA; k++)
    if ((extra[k] = report_extra_present(ds, k)))
      names[n_names++] = store_extra_metric_columns[k];
  /* <wbr/> after '_' lets the long column names wrap, which keeps the table narrow. */
  for (size_t i = 0; i < n_names; i++) {
    sb_buf_puts(b, "<th>");
    for (const char *c = names[i]; *c; c++)
      sb_buf_puts(b, *c == '_' ? "_<wbr/>" : (char[]){*c, '\0'});
    sb_buf_puts(b, "</th>");
  }
  sb_buf_puts(b, "</tr>\n");
  for (size_t i = 0; i < ds->n_rows; i++) {
    const results_row *r = &ds->rows[i];
    const results_codec *c = &d->codecs[r->codec];
    sb_buf_printf(b, "<tr%s><td class=\"label\">",
                  r->n_unreachable > 0 ? " class=\"unreach\"" : "");
    put_swatch(b, r->codec);
    put_text_or_null(b, c->label);
    sb_buf_puts(b, "</td><td>");
    put_text_or_null(b, c->codec);
    sb_buf_printf(b, "</td><td>%s</td>", r->is_bpp ? "bpp" : "knob");
    char num[32];
    report_format_double(r->value, num);
    sb_buf_printf(b, "<td class=\"num\">%s</td>", num);
    sb_buf_printf(b, "<td class=\"num\">%" PRId64 "</td><td class=\"num\">%" PRId64 "</td>", r->n,
                  r->n_errors);
    if (r->n_unreachable > 0)
      sb_buf_printf(b,
                    "<td class=\"num flag\" title=\"target unreachable for %" PRId64
                    " image(s)\">%" PRId64 " !</td>",
                    r->n_unreachable, r->n_unreachable);
    else
      sb_buf_puts(b, "<td class=\"num\">0</td>");
    put_cell_real(b, "%.4g", r->mean_knob);
    put_cell_real(b, "%.4g", r->bpp);
    put_cell_real(b, "%.4g", r->stream_bpp);
    put_cell_real(b, "%.2f", r->psnr);
    put_cell_real(b, "%.2f", r->psnr_of_mean_mse);
    put_cell_real(b, "%.4f", r->ssim);
    put_cell_real(b, "%.4f", r->ms_ssim);
    put_cell_real(b, "%.3g", r->encode_ms);
    put_cell_real(b, "%.3g", r->decode_ms);
    for (int k = 0; k < REPORT_N_EXTRA; k++)
      if (extra[k])
        put_cell_real(b, k <= EXTRA_PSNR_YCBCR ? "%.2f" : "%.3f", report_extra_value(r, k));
    sb_buf_puts(b, "</tr>\n");
  }
  sb_buf_puts(b, "</table></div>\n");
}

/* ---- Bjøntegaard deltas ---- */

/* One curve for metrics_bd_rate / metrics_bd_metric: knob-grid points with a rate and a finite value, sorted
 * by rate, one point per distinct achieved rate (the first one, by knob value, is kept: equal
 * mean rates come from identical files). */
typedef struct bd_pts {
  double rate[METRICS_BD_MAX_POINTS], value[METRICS_BD_MAX_POINTS];
  size_t n;
} bd_pts;

static void bd_pts_add(bd_pts *c, double rate, double value) {
  if (!isfinite(rate) || !isfinite(value) || rate <= 0)
    return;
  size_t at = 0;
  while (at < c->n && c->rate[at] < rate)
    at++;
  if ((at < c->n && c->rate[at] == rate) || c->n == METRICS_BD_MAX_POINTS)
    return;
  memmove(c->rate + at + 1, c->rate + at, (c->n - at) * sizeof c->rate[0]);
  memmove(c->value + at + 1, c->value + at, (c->n - at) * sizeof c->value[0]);
  c->rate[at] = rate;
  c->value[at] = value;
  c->n++;
}

/* The knob-grid curve of one codec: metric m of the rows, or (task != SIZE_MAX) the task's
 * accuracy in percent. */
static void bd_curve(const results_dataset *ds, size_t codec, metric m, size_t task, bd_pts *c) {
  c->n = 0;
  if (task == SIZE_MAX) {
    for (size_t i = 0; i < ds->n_rows; i++) {
      const results_row *r = &ds->rows[i];
      if (r->codec == codec && !r->is_bpp)
        bd_pts_add(c, r->bpp, metric_of(r, m));
    }
  } else {
    for (size_t i = 0; i < ds->n_task_rows; i++) {
      const results_task_row *r = &ds->task_rows[i];
      if (r->task == task && r->codec == codec && !r->is_bpp)
        bd_pts_add(c, r->bpp, 100.0 * r->accuracy);
    }
  }
}

static void range_of(const double *v, size_t n, double *lo, double *hi) {
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    *lo = v[i] < *lo ? v[i] : *lo;
    *hi = v[i] > *hi ? v[i] : *hi;
  }
}

/* One BD cell: the value, or "not comparable: <reason>" with details (which curve, how many
 * points, the ranges that fail to overlap); the full status text goes into the tooltip. */
static void put_bd_cell(sb_buf *b, int is_rate, const bd_pts *a, const bd_pts *t, const char *unit,
                        const char *metric_unit) {
  double v = NAN;
  metrics_bd_status st = is_rate ? metrics_bd_rate(a->rate, a->value, a->n, t->rate, t->value, t->n, &v)
                         : metrics_bd_metric(a->rate, a->value, a->n, t->rate, t->value, t->n, &v);
  if (st == METRICS_BD_OK) {
    sb_buf_printf(b, "<td class=\"num\">%+.2f%s</td>", v, unit);
    return;
  }
  sb_buf_puts(b, "<td class=\"nc\" title=\"");
  report_html_escape(b, metrics_bd_status_text(st));
  sb_buf_puts(b, "\">not comparable: ");
  switch (st) {
  case METRICS_BD_TOO_FEW_POINTS:
    sb_buf_printf(b, "fewer than 4 points (distinct rates: anchor %zu, this codec %zu)", a->n,
                  t->n);
    break;
  case METRICS_BD_NO_OVERLAP: {
    double alo, ahi, tlo, thi;
    if (is_rate) {
      range_of(a->value, a->n, &alo, &ahi);
      range_of(t->value, t->n, &tlo, &thi);
    } else {
      range_of(a->rate, a->n, &alo, &ahi);
      range_of(t->rate, t->n, &tlo, &thi);
      metric_unit = " bpp";
    }
    sb_buf_printf(b,
                  "no overlap (anchor %.4g\xE2\x80\x93%.4g%s, this codec %.4g\xE2\x80\x93%.4g%s)",
                  alo, ahi, metric_unit, tlo, thi, metric_unit);
    break;
  }
  case METRICS_BD_NOT_MONOTONE: {
    /* Which curve: a curve against itself fails only for its own reasons. */
    double dummy;
    int a_bad = is_rate ? metrics_bd_rate(a->rate, a->value, a->n, a->rate, a->value, a->n, &dummy) ==
                              METRICS_BD_NOT_MONOTONE
                        : metrics_bd_metric(a->rate, a->value, a->n, a->rate, a->value, a->n, &dummy) ==
                              METRICS_BD_NOT_MONOTONE;
    int t_bad = is_rate ? metrics_bd_rate(t->rate, t->value, t->n, t->rate, t->value, t->n, &dummy) ==
                              METRICS_BD_NOT_MONOTONE
                        : metrics_bd_metric(t->rate, t->value, t->n, t->rate, t->value, t->n, &dummy) ==
                              METRICS_BD_NOT_MONOTONE;
    sb_buf_printf(b, "not monotone (%s%s)",
                  a_bad && t_bad ? "both curves"
                  : a_bad        ? "the anchor's curve"
                  : t_bad        ? "this codec's curve"
                                 : "the curves",
                  is_rate ? ": the metric does not increase strictly with rate" : "");
    break;
  }
  default: sb_buf_puts(b, "invalid input"); break;
  }
  sb_buf_puts(b, "</td>");
}

/* Per dataset: every codec's knob-grid curve against the anchor's. BD-rate at equal PSNR, at
 * equal SSIM and (per task) at equal accuracy; BD-PSNR and BD-accuracy at equal log-rate. */
static void put_bd_table(sb_buf *b, const results_data *d, const results_dataset *ds,
                         size_t anchor) {
  if (d->n_codecs < 2 || anchor >= d->n_codecs)
    return;
  size_t n_tasks = 0;
  for (size_t t = 0; t < d->n_tasks; t++)
    n_tasks += report_task_in_dataset(ds, t);
  sb_buf_puts(b, "<h3>Bj\xC3\xB8ntegaard deltas against ");
  report_html_escape(b, d->codecs[anchor].label);
  sb_buf_puts(b, " (knob grids)</h3>\n<div class=\"scroll\"><table class=\"points bd\">\n"
                 "<tr><th>codec</th><th>BD-rate at equal PSNR</th>"
                 "<th>BD-rate at equal SSIM</th><th>BD-PSNR [dB]</th>");
  /* With PSNR-YCbCr (opt-in), the figure codec comparisons quote: BD-rate at equal PSNR-YCbCr. */
  const int ycbcr = report_extra_present(ds, EXTRA_PSNR_YCBCR);
  if (ycbcr)
    sb_buf_puts(b, "<th>BD-rate at equal PSNR-YCbCr</th>");
  for (size_t t = 0; t < d->n_tasks; t++) {
    if (!report_task_in_dataset(ds, t))
      continue;
    sb_buf_puts(b, "<th>BD-rate at equal accuracy (");
    report_html_escape(b, d->tasks[t].name);
    sb_buf_puts(b, ")</th><th>BD-accuracy [pp] (");
    report_html_escape(b, d->tasks[t].name);
    sb_buf_puts(b, ")</th>");
  }
  sb_buf_puts(b, "</tr>\n");
  bd_pts *a = malloc(sizeof *a), *c = malloc(sizeof *c);
  if (!a || !c) {
    free(a);
    free(c);
    sb_buf_puts(b, "</table></div>\n<p class=\"warn\">Out of memory.</p>\n");
    return;
  }
  for (size_t k = 0; k < d->n_codecs; k++) {
    if (k == anchor)
      continue;
    sb_buf_puts(b, "<tr><td class=\"label\">");
    put_swatch(b, k);
    put_text_or_null(b, d->codecs[k].label);
    sb_buf_puts(b, "</td>");
    static const metric ms[] = {METRIC_PSNR, METRIC_SSIM, METRIC_PSNR};
    for (int i = 0; i < 3; i++) {
      bd_curve(ds, anchor, ms[i], SIZE_MAX, a);
      bd_curve(ds, k, ms[i], SIZE_MAX, c);
      put_bd_cell(b, i < 2, a, c, i < 2 ? " %" : " dB", ms[i] == METRIC_PSNR ? " dB" : "");
    }
    if (ycbcr) {
      bd_curve(ds, anchor, METRIC_EXTRA + EXTRA_PSNR_YCBCR, SIZE_MAX, a);
      bd_curve(ds, k, METRIC_EXTRA + EXTRA_PSNR_YCBCR, SIZE_MAX, c);
      put_bd_cell(b, 1, a, c, " %", " dB");
    }
    for (size_t t = 0; t < d->n_tasks; t++) {
      if (!report_task_in_dataset(ds, t))
        continue;
      bd_curve(ds, anchor, METRIC_PSNR, t, a);
      bd_curve(ds, k, METRIC_PSNR, t, c);
      put_bd_cell(b, 1, a, c, " %", " %");
      put_bd_cell(b, 0, a, c, " pp", " %");
    }
    sb_buf_puts(b, "</tr>\n");
  }
  free(a);
  free(c);
  sb_buf_puts(b, "</table></div>\n<p class=\"note\">Anchor ");
  report_html_escape(b, d->codecs[anchor].label);
  sb_buf_puts(b, " (choose another with <code>saicbench report --anchor LABEL</code> or "
                 "the suite's <code>report: {anchor: LABEL}</code>). "
                 "Curves: each codec's knob-grid points (bpp targets are left out), x = mean "
                 "file bpp, one point per distinct rate, sorted by rate; PCHIP over log-rate, "
                 "integrated over the overlapping range only, never extrapolated. Negative "
                 "BD-rate: fewer bits than the anchor for the same quality; positive BD-PSNR "
                 "/ BD-accuracy (percentage points of top-1 accuracy): better at the same "
                 "rate. Not comparable: a curve with fewer than 4 points, curves whose ranges "
                 "do not overlap, or (BD-rate) a metric that does not increase strictly with "
                 "rate, e.g. flat or noisy accuracy.");
  if (n_tasks > 0)
    sb_buf_puts(b, " Accuracy in percent on the dataset's labelled images.");
  sb_buf_puts(b, "</p>\n");
}

/* ---- tasks (schema version 2) ---- */

/* Accuracy of the task on the dataset's labelled originals (task_refs), NAN without any. */
static double ref_accuracy(const results_dataset *ds, size_t task) {
  const results_task_ref *r = &ds->task_refs[task];
  return r->n > 0 ? (double)r->correct / (double)r->n : NAN;
}

/* Rate-accuracy (in %, with the originals' accuracy as a dashed "original" line, and error
 * bars of +-1 binomial standard error, report_accuracy_se, clipped to 0..100 %) or rate-SI_norm
 * plot of one task: series as in put_plot (solid knob grid, dashed bpp targets, hollow markers
 * where the rate control could not reach the target for some images). */
static int put_task_plot(sb_buf *b, const results_data *d, const results_dataset *ds, size_t task,
                         int si_norm) {
  sb_buf title = {0};
  sb_buf_puts(&title, si_norm ? "Rate\xE2\x80\x93SI_norm: "
                              : "Rate\xE2\x80\x93"
                                "accuracy: ");
  sb_buf_puts(&title, d->tasks[task].name ? d->tasks[task].name : "");
  sb_buf_puts(&title, " on ");
  sb_buf_puts(&title, ds->name);
  svg_plot *p = sb_buf_failed(&title)
                    ? NULL
                    : svg_plot_new(sb_buf_str(&title), "bits per pixel (file bytes)",
                                   si_norm ? "SI_norm = I(A;B) / H(A)" : "top-1 accuracy [%]");
  sb_buf_free(&title);
  if (!p)
    return -1;
  svg_plot_set_scale(p, SVG_AXIS_Y, SVG_SCALE_LINEAR);
  svg_plot_set_size(p, REPORT_PLOT_W, REPORT_PLOT_H);
  int rc = 0, any[2] = {0, 0};
  double ref = ref_accuracy(ds, task);
  if (!si_norm && isfinite(ref))
    rc = svg_plot_add_hline(p, 100.0 * ref, "original", "#555555");
  for (size_t c = 0; c < d->n_codecs && rc == 0; c++) {
    int listed = 0;
    for (int is_bpp = 0; is_bpp <= 1 && rc == 0; is_bpp++) {
      int series = -1;
      for (size_t i = 0; i < ds->n_task_rows && rc == 0; i++) {
        const results_task_row *r = &ds->task_rows[i];
        double y = si_norm ? r->si_norm : 100.0 * r->accuracy;
        if (r->task != task || r->codec != c || r->is_bpp != is_bpp || !isfinite(r->bpp) ||
            !isfinite(y))
          continue;
        if (series < 0) {
          series = add_codec_series(p, d, c, is_bpp, listed);
          listed = 1;
          any[is_bpp] = 1;
          if (series < 0) {
            rc = -1;
            break;
          }
        }
        int hollow = r->row != SIZE_MAX && ds->rows[r->row].n_unreachable > 0;
        double lo = NAN, hi = NAN;
        if (!si_norm) {
          double se = 100.0 * report_accuracy_se(r->accuracy, r->n_labelled);
          lo = isfinite(se) ? fmax(0.0, y - se) : NAN;
          hi = isfinite(se) ? fmin(100.0, y + se) : NAN;
        }
        rc = svg_plot_add_point_err(p, series, r->bpp, y, lo, hi, hollow ? SVG_POINT_HOLLOW : 0);
      }
    }
  }
  if (rc == 0)
    rc = add_line_key(p, any[0], any[1]);
  if (rc == 0)
    rc = svg_plot_render(p, b);
  svg_plot_free(p);
  return rc;
}

/* Knob-accuracy plot of one task for the codecs named `codec` (one knob scale): accuracy at each
 * knob-grid value, x linear in the knob, +-1 SE bars. It shows what rate control sees when it
 * moves along the knob, e.g. dips between the trained levels of a variable-rate model. */
static int put_knob_plot(sb_buf *b, const results_data *d, const results_dataset *ds, size_t task,
                         const char *codec, const char *knob_name) {
  sb_buf title = {0};
  sb_buf_puts(&title, "Knob\xE2\x80\x93"
                      "accuracy: ");
  sb_buf_puts(&title, codec);
  sb_buf_puts(&title, ", ");
  sb_buf_puts(&title, d->tasks[task].name ? d->tasks[task].name : "");
  sb_buf x_label = {0};
  sb_buf_puts(&x_label, "knob (");
  sb_buf_puts(&x_label, knob_name ? knob_name : "");
  sb_buf_puts(&x_label, ")");
  svg_plot *p = sb_buf_failed(&title) || sb_buf_failed(&x_label)
                    ? NULL
                    : svg_plot_new(sb_buf_str(&title), sb_buf_str(&x_label), "top-1 accuracy [%]");
  sb_buf_free(&title);
  sb_buf_free(&x_label);
  if (!p)
    return -1;
  svg_plot_set_scale(p, SVG_AXIS_X, SVG_SCALE_LINEAR);
  svg_plot_set_scale(p, SVG_AXIS_Y, SVG_SCALE_LINEAR);
  svg_plot_set_size(p, REPORT_PLOT_W, REPORT_PLOT_H);
  int rc = 0;
  for (size_t c = 0; c < d->n_codecs && rc == 0; c++) {
    if (!d->codecs[c].codec || strcmp(d->codecs[c].codec, codec) != 0)
      continue;
    int series = -1;
    for (size_t i = 0; i < ds->n_task_rows && rc == 0; i++) {
      const results_task_row *r = &ds->task_rows[i];
      if (r->task != task || r->codec != c || r->is_bpp || !isfinite(r->accuracy))
        continue;
      if (series < 0 && (series = add_codec_series(p, d, c, 0, 0)) < 0) {
        rc = -1;
        break;
      }
      double y = 100.0 * r->accuracy, se = 100.0 * report_accuracy_se(r->accuracy, r->n_labelled);
      rc = svg_plot_add_point_err(p, series, r->value, y, isfinite(se) ? fmax(0.0, y - se) : NAN,
                                  isfinite(se) ? fmin(100.0, y + se) : NAN, 0);
    }
  }
  if (rc == 0)
    rc = svg_plot_render(p, b);
  svg_plot_free(p);
  return rc;
}

/* Knob-accuracy plots for every codec name that at least two codecs of the run share (several
 * models of one learned codec, whose knobs mean the same), each with at least 4 knob points of
 * the task: there the knob axis compares the models directly. */
static int put_knob_plots(sb_buf *b, const results_data *d, const results_dataset *ds,
                          size_t task) {
  for (size_t c = 0; c < d->n_codecs; c++) {
    const char *name = d->codecs[c].codec;
    int first = name != NULL, models = 0;
    for (size_t k = 0; k < c && first; k++) /* one plot per codec name */
      first = !d->codecs[k].codec || strcmp(d->codecs[k].codec, name) != 0;
    for (size_t k = c; k < d->n_codecs && first; k++) {
      if (!d->codecs[k].codec || strcmp(d->codecs[k].codec, name) != 0)
        continue;
      int n = 0;
      for (size_t i = 0; i < ds->n_task_rows; i++) {
        const results_task_row *r = &ds->task_rows[i];
        n += r->task == task && r->codec == k && !r->is_bpp && isfinite(r->accuracy);
      }
      models += n >= 4;
    }
    if (first && models >= 2 && put_knob_plot(b, d, ds, task, name, d->codecs[c].knob_name))
      return -1;
  }
  return 0;
}

static void put_percent_cell(sb_buf *b, double v) { put_cell_real(b, "%.2f", 100.0 * v); }

/* The task's aggregates per codec x grid point. */
static void put_task_table(sb_buf *b, const results_data *d, const results_dataset *ds,
                           size_t task) {
  sb_buf_puts(b, "<div class=\"scroll\"><table class=\"points\">\n<tr><th>codec</th>"
                 "<th>point_<wbr/>kind</th><th>point_<wbr/>value</th><th>bpp</th>"
                 "<th>accuracy [%]</th><th>\xC2\xB1 SE [%]</th><th>ref. accuracy [%]</th>"
                 "<th>agreement [%]</th><th>SI [bits]</th><th>SI_<wbr/>norm</th>"
                 "<th>\xCE\x94I [bits]</th><th>KL [bits]</th><th>N</th></tr>\n");
  for (size_t i = 0; i < ds->n_task_rows; i++) {
    const results_task_row *r = &ds->task_rows[i];
    if (r->task != task)
      continue;
    int unreach = r->row != SIZE_MAX && ds->rows[r->row].n_unreachable > 0;
    sb_buf_printf(b, "<tr%s><td class=\"label\">", unreach ? " class=\"unreach\"" : "");
    put_swatch(b, r->codec);
    put_text_or_null(b, d->codecs[r->codec].label);
    sb_buf_printf(b, "</td><td>%s</td>", r->is_bpp ? "bpp" : "knob");
    char num[32];
    report_format_double(r->value, num);
    sb_buf_printf(b, "<td class=\"num\">%s</td>", num);
    put_cell_real(b, "%.4g", r->bpp);
    put_percent_cell(b, r->accuracy);
    put_percent_cell(b, report_accuracy_se(r->accuracy, r->n_labelled));
    put_percent_cell(b, r->ref_accuracy);
    put_percent_cell(b, r->agreement);
    put_cell_real(b, "%.4f", r->si);
    put_cell_real(b, "%.4f", r->si_norm);
    put_cell_real(b, "%.4f", r->delta_i);
    put_cell_real(b, "%.4g", r->mean_kl);
    sb_buf_printf(b, "<td class=\"num\">%" PRId64 "</td></tr>\n", r->n);
  }
  sb_buf_puts(b, "</table></div>\n");
}

/* Beyond this many classes the per-class table is left to the CSV. */
#define HTML_MAX_CLASS_COLS 100

static void put_class_cells(sb_buf *b, const results_dataset *ds, const int64_t *class_n,
                            const int64_t *class_correct) {
  for (size_t k = 0; k < ds->n_class_cols; k++) {
    if (class_n[k] > 0)
      sb_buf_printf(b, "<td class=\"num\" title=\"%" PRId64 "/%" PRId64 "\">%.1f</td>",
                    class_correct[k], class_n[k],
                    100.0 * (double)class_correct[k] / (double)class_n[k]);
    else
      sb_buf_printf(b, "<td class=\"num\">%s</td>", k_null_cell);
  }
}

/* Top-1 accuracy per class (columns) for the originals and every codec x grid point (rows). */
static void put_class_table(sb_buf *b, const results_data *d, const results_dataset *ds,
                            size_t task, const char *csv_name) {
  if (ds->n_class_cols == 0)
    return;
  sb_buf_puts(b, "<h4>Accuracy per class [%]</h4>\n");
  if (ds->n_class_cols > HTML_MAX_CLASS_COLS) {
    sb_buf_printf(b, "<p class=\"note\">%zu classes: too many for a table; see <code>",
                  ds->n_class_cols);
    report_html_escape(b, csv_name);
    sb_buf_puts(b, "</code>.</p>\n");
    return;
  }
  sb_buf_puts(b, "<div class=\"scroll\"><table class=\"points\">\n<tr><th>codec</th>"
                 "<th>point</th><th>bpp</th>");
  for (size_t k = 0; k < ds->n_class_cols; k++) {
    sb_buf_puts(b, "<th>");
    if (ds->class_names[k])
      report_html_escape(b, ds->class_names[k]);
    else
      sb_buf_printf(b, "%zu", k);
    sb_buf_puts(b, "</th>");
  }
  sb_buf_puts(b, "</tr>\n<tr class=\"ref\"><td>original</td><td></td><td></td>");
  put_class_cells(b, ds, ds->task_refs[task].class_n, ds->task_refs[task].class_correct);
  sb_buf_puts(b, "</tr>\n");
  for (size_t i = 0; i < ds->n_task_rows; i++) {
    const results_task_row *r = &ds->task_rows[i];
    if (r->task != task)
      continue;
    sb_buf_puts(b, "<tr><td class=\"label\">");
    put_swatch(b, r->codec);
    put_text_or_null(b, d->codecs[r->codec].label);
    char num[32];
    report_format_double(r->value, num);
    sb_buf_printf(b, "</td><td>%s %s</td>", r->is_bpp ? "bpp" : "knob", num);
    put_cell_real(b, "%.4g", r->bpp);
    put_class_cells(b, ds, r->class_n, r->class_correct);
    sb_buf_puts(b, "</tr>\n");
  }
  sb_buf_puts(b, "</table></div>\n");
}

static int put_tasks(sb_buf *b, const results_data *d, size_t ds_index, const report_files *files) {
  const results_dataset *ds = &d->datasets[ds_index];
  for (size_t t = 0; t < d->n_tasks; t++) {
    if (!report_task_in_dataset(ds, t))
      continue;
    const results_task *task = &d->tasks[t];
    sb_buf_puts(b, "<h3>Task: ");
    report_html_escape(b, task->name);
    sb_buf_puts(b, "</h3>\n<p class=\"note\">");
    put_text_or_null(b, task->kind);
    sb_buf_puts(b, ", architecture ");
    put_text_or_null(b, task->arch);
    sb_buf_printf(b, ", %" PRId64 " classes", task->num_classes);
    const results_task_ref *ref = &ds->task_refs[t];
    if (ref->n > 0)
      sb_buf_printf(
          b, "; accuracy on the originals %.2f %% (%" PRId64 " of %" PRId64 " labelled images)",
          100.0 * (double)ref->correct / (double)ref->n, ref->correct, ref->n);
    sb_buf_puts(b, "; data: <code>");
    report_html_escape(b, files->tasks_csv[ds_index]);
    sb_buf_puts(b, "</code>, <code>");
    report_html_escape(b, files->perclass_csv[ds_index]);
    sb_buf_puts(b, "</code></p>\n");

    size_t n_acc = 0, n_si = 0;
    for (size_t i = 0; i < ds->n_task_rows; i++) {
      const results_task_row *r = &ds->task_rows[i];
      if (r->task != t || !isfinite(r->bpp))
        continue;
      n_acc += isfinite(r->accuracy);
      n_si += isfinite(r->si_norm);
    }
    if (n_acc + n_si > 0) {
      sb_buf_puts(b, "<div class=\"plots\">\n");
      if ((n_acc > 0 && put_task_plot(b, d, ds, t, 0)) ||
          (n_si > 0 && put_task_plot(b, d, ds, t, 1)) || (n_acc > 0 && put_knob_plots(b, d, ds, t)))
        return -1;
      sb_buf_puts(b, "</div>\n");
    }
    sb_buf_puts(b, "<p class=\"note\">A = top-1 class on the original, B = on the decoded "
                   "image, Y = the label. SI = I(A;B), SI_norm = SI/H(A), \xCE\x94I = "
                   "I(Y;A) \xE2\x88\x92 I(Y;B), KL = mean KL(T(x) \xE2\x80\x96 T(x\xCC\x82)); "
                   "plug-in estimates over the N images (biased up for small N). "
                   "\xC2\xB1 SE: binomial standard error sqrt(p(1\xE2\x88\x92p)/n) over the n "
                   "labelled images among the N.");
    if (n_acc > 0)
      sb_buf_puts(b, " Error bars in the rate\xE2\x80\x93"
                     "accuracy plot: \xC2\xB1 1 SE around each point (clipped to "
                     "0\xE2\x80\x93"
                     "100 %).");
    if (n_acc == 0)
      sb_buf_puts(b, " No rate\xE2\x80\x93"
                     "accuracy plot: no accuracy (unlabelled images).");
    sb_buf_puts(b, "</p>\n");
    put_task_table(b, d, ds, t);
    put_class_table(b, d, ds, t, files->perclass_csv[ds_index]);
  }
  return 0;
}

/* ---- example image strips ---- */

/* Display size: thumbnails narrower than 64 px are enlarged by a whole factor (pixelated). */
static int display_factor(int w) { return w > 0 && w < 64 ? 64 / w : 1; }

static void put_class_name(sb_buf *b, const results_dataset *ds, const report_strips *s, int k) {
  const char *name = NULL;
  if (k >= 0 && (size_t)k < s->n_label_names)
    name = s->label_names[k];
  if (!name && k >= 0 && (size_t)k < ds->n_class_cols && ds->class_names)
    name = ds->class_names[k];
  if (name)
    report_html_escape(b, name);
  else
    sb_buf_printf(b, "class %d", k);
}

/* The task's top-1 on a picture, marked correct/wrong against the label when there is one. */
static void put_top1(sb_buf *b, const results_dataset *ds, const report_strips *s, int top1,
                     int label) {
  if (top1 < 0)
    return;
  int marked = label >= 0;
  sb_buf_printf(b, "<br/><span class=\"%s\">", !marked ? "" : top1 == label ? "ok" : "bad");
  put_class_name(b, ds, s, top1);
  if (marked)
    sb_buf_puts(b, top1 == label ? " \xE2\x9C\x93" : " \xE2\x9C\x97");
  sb_buf_puts(b, "</span>");
}

static void put_picture(sb_buf *b, const report_thumb *t, int w, int h, const char *alt_a,
                        const char *alt_b) {
  if (t->png_b64) {
    int f = display_factor(t->w);
    sb_buf_printf(b, "<img%s width=\"%d\" height=\"%d\" alt=\"", f > 1 ? " class=\"px\"" : "",
                  t->w * f, t->h * f);
    report_html_escape(b, alt_a);
    report_html_escape(b, alt_b);
    sb_buf_puts(b, "\" src=\"data:image/png;base64,");
    sb_buf_puts(b, t->png_b64);
    sb_buf_puts(b, "\"/>");
  } else {
    int f = display_factor(w);
    sb_buf_printf(b, "<div class=\"noimg\" style=\"width:%dpx;height:%dpx\"></div>", w * f, h * f);
  }
}

static void put_thumb_error(sb_buf *b, const report_thumb *t) {
  if (!t->error)
    return;
  sb_buf_puts(b, "<br/><span class=\"warn\">");
  report_html_escape(b, t->error);
  sb_buf_puts(b, "</span>");
}

static void put_strip_image(sb_buf *b, const results_data *d, const results_dataset *ds,
                            const report_strips *s, const report_strip_image *im) {
  int tw = im->scale > 0 ? im->width / im->scale : im->width;
  int th = im->scale > 0 ? im->height / im->scale : im->height;
  sb_buf_puts(b, "<div class=\"ex\">\n<h4>");
  report_html_escape(b, im->name);
  sb_buf_printf(b, "</h4>\n<p class=\"note\">Image %" PRId64 " of the dataset, %d\xC3\x97%d",
                im->idx, im->width, im->height);
  if (im->label >= 0) {
    sb_buf_puts(b, ", label ");
    put_class_name(b, ds, s, im->label);
  }
  if (im->scale > 1)
    sb_buf_printf(b, "; pictures at 1/%d size (box filter)", im->scale);
  else if (display_factor(tw) > 1)
    sb_buf_printf(b, "; pictures enlarged %d\xC3\x97 (pixels)", display_factor(tw));
  sb_buf_puts(b, ".</p>\n<div class=\"strip\"><div class=\"lab\">original</div><figure "
                 "class=\"th\">");
  put_picture(b, &im->original, tw, th, "original ", im->name);
  sb_buf_puts(b, "<figcaption>original");
  if (s->task != SIZE_MAX && im->original.top1 >= 0) {
    put_top1(b, ds, s, im->original.top1, im->label);
  }
  put_thumb_error(b, &im->original);
  sb_buf_puts(b, "</figcaption></figure></div>\n");
  if (!im->original.png_b64) { /* nothing to compare with */
    sb_buf_puts(b, "</div>\n");
    return;
  }
  size_t open_codec = SIZE_MAX;
  for (size_t r = 0; r < im->n_thumbs; r++) {
    const report_thumb *t = &im->thumbs[r];
    const results_row *row = &ds->rows[t->row];
    const results_codec *c = &d->codecs[row->codec];
    if (row->codec != open_codec) {
      if (open_codec != SIZE_MAX)
        sb_buf_puts(b, "</div>\n");
      open_codec = row->codec;
      sb_buf_puts(b, "<div class=\"strip\"><div class=\"lab\">");
      put_swatch(b, row->codec);
      put_text_or_null(b, c->label);
      sb_buf_puts(b, "</div>");
    }
    char v[32], knob[32] = "";
    report_format_double(row->value, v);
    if (isfinite(t->knob))
      snprintf(knob, sizeof knob, "%.4g", t->knob);
    sb_buf alt = {0}; /* alt text: "<label> <point>" */
    sb_buf_puts(&alt, c->label ? c->label : "");
    sb_buf_printf(&alt, " %s %s", row->is_bpp ? "target bpp" : "knob", v);
    sb_buf_puts(b, "<figure class=\"th\">");
    put_picture(b, t, tw, th, sb_buf_str(&alt), "");
    sb_buf_free(&alt);
    sb_buf_puts(b, "<figcaption>");
    if (row->is_bpp) {
      sb_buf_printf(b, "target %s bpp", v);
      if (knob[0]) {
        sb_buf_puts(b, " (");
        put_text_or_null(b, c->knob_name);
        sb_buf_printf(b, " %s)", knob);
      }
    } else {
      put_text_or_null(b, c->knob_name);
      sb_buf_printf(b, " %s", v);
    }
    if (isfinite(t->bpp) || isfinite(t->psnr)) {
      sb_buf_puts(b, "<br/>");
      if (isfinite(t->bpp))
        sb_buf_printf(b, "%.3g bpp", t->bpp);
      if (isfinite(t->psnr))
        sb_buf_printf(b, "%s%.2f dB", isfinite(t->bpp) ? ", " : "", t->psnr);
    }
    if (t->png_b64 && s->task != SIZE_MAX)
      put_top1(b, ds, s, t->top1, im->label);
    put_thumb_error(b, t);
    sb_buf_puts(b, "</figcaption></figure>");
  }
  if (open_codec != SIZE_MAX)
    sb_buf_puts(b, "</div>\n");
  sb_buf_puts(b, "</div>\n");
}

static void put_strips(sb_buf *b, const results_data *d, const results_dataset *ds,
                       const report_strips *s) {
  if (!s)
    return; /* switched off */
  sb_buf_puts(b, "<h3>Example images</h3>\n");
  if (s->note) {
    sb_buf_puts(b, "<p class=\"note warn\">");
    report_html_escape(b, s->note);
    sb_buf_puts(b, "</p>\n");
  }
  size_t shown = 0;
  for (size_t k = 0; k < s->n_images; k++)
    shown += s->images[k].rendered;
  if (s->n_images == 0) {
    sb_buf_puts(b, s->stored ? "<p class=\"note\">None of the images with stored pictures can "
                               "be shown: no examples.</p>\n"
                             : "<p class=\"note\">The run stored no example images for this "
                               "dataset (runs before saicbench stored thumbnails, or `saicbench "
                               "run --strip-images 0`).</p>\n");
    return;
  }
  if (shown == 0)
    return;
  sb_buf_puts(b, "<p class=\"note\">Each picture is the decoded image the run produced for "
                 "this image at that grid point, as the run stored it (a thumbnail). "
                 "Captions: grid point, the run's bpp (file bytes) and PSNR for this image");
  if (s->task != SIZE_MAX) {
    sb_buf_puts(b, ", and the top-1 class of task ");
    report_html_escape(b, d->tasks[s->task].name);
    sb_buf_puts(b, " on the picture (from the run; \xE2\x9C\x93 correct, \xE2\x9C\x97 wrong "
                   "against the label)");
  }
  sb_buf_puts(b, ".</p>\n");
  for (size_t k = 0; k < s->n_images; k++)
    if (s->images[k].rendered)
      put_strip_image(b, d, ds, s, &s->images[k]);
}

/* Codec switches of a dataset: per codec with a plotted point, a checkbox (ticked) and its
 * label with the codec's line and marker. Unticking hides the codec's series in every plot of
 * the dataset (put_toggle_css); nothing else changes. The checkboxes are children of div.ds and
 * come before the plots, as the CSS sibling selector needs. */
static void put_toggles(sb_buf *b, const results_data *d, size_t ds_index) {
  const results_dataset *ds = &d->datasets[ds_index];
  int any = 0;
  for (size_t c = 0; c < d->n_codecs; c++) {
    int plotted = 0;
    for (size_t i = 0; i < ds->n_rows && !plotted; i++)
      plotted = ds->rows[i].codec == c && report_row_plottable(&ds->rows[i]);
    if (!plotted)
      continue;
    if (!any)
      sb_buf_puts(b, "<span class=\"tgl\">Show in the plots:</span>\n");
    any = 1;
    char cls[32];
    sb_buf_printf(b,
                  "<input type=\"checkbox\" class=\"t%zu\" id=\"d%zu-c%zu\" "
                  "checked=\"checked\"/><label for=\"d%zu-c%zu\">",
                  c, ds_index, c, ds_index, c);
    svg_marker_icon(b, codec_style(c, 0, 0, cls));
    put_text_or_null(b, d->codecs[c].label);
    sb_buf_puts(b, "</label>\n");
  }
}

static int put_dataset(sb_buf *b, const results_data *d, size_t ds_index, const report_files *files,
                       const report_html_extras *x) {
  const results_dataset *ds = &d->datasets[ds_index];
  sb_buf_puts(b, "<h2>Dataset: ");
  report_html_escape(b, ds->name);
  sb_buf_puts(b, "</h2>\n<p class=\"note\">");
  sb_buf_printf(b, "%" PRId64 " images, %" PRId64 " classes; kind ", ds->n_images, ds->n_classes);
  put_text_or_null(b, ds->kind);
  sb_buf_puts(b, "; path <code>");
  put_text_or_null(b, ds->path);
  sb_buf_puts(b, "</code>");
  if (ds->selection) {
    sb_buf_puts(b, "; selection <code>");
    report_html_escape(b, ds->selection);
    sb_buf_puts(b, "</code>");
  }
  sb_buf_puts(b, "; content hash <code>");
  put_text_or_null(b, ds->content_hash);
  sb_buf_puts(b, "</code>; data: <code>");
  report_html_escape(b, files->csv[ds_index]);
  sb_buf_puts(b, "</code></p>\n");
  /* Everything below is inside div.ds, after the codec switches (put_toggles). */
  sb_buf_puts(b, "<div class=\"ds\">\n");
  put_toggles(b, d, ds_index);
  if (ds->n_missing > 0)
    sb_buf_printf(b,
                  "<p class=\"warn\">%" PRId64 " grid point(s) of this run have no aggregates "
                  "for this dataset (the run may be incomplete); they are not shown.</p>\n",
                  ds->n_missing);

  size_t n_plottable = 0, n_ssim = 0, n_ms = 0;
  for (size_t i = 0; i < ds->n_rows; i++) {
    n_plottable += report_row_plottable(&ds->rows[i]);
    n_ssim += report_row_plottable(&ds->rows[i]) && isfinite(ds->rows[i].ssim);
    n_ms += report_row_plottable(&ds->rows[i]) && isfinite(ds->rows[i].ms_ssim);
  }
  if (n_plottable == 0) {
    sb_buf_puts(b, "<p class=\"note\">No aggregated points with a bit rate: nothing to "
                   "plot.</p>\n");
  } else {
    sb_buf_puts(b, "<div class=\"plots\">\n");
    if (put_plot(b, d, ds, METRIC_PSNR) || (n_ssim > 0 && put_plot(b, d, ds, METRIC_SSIM)) ||
        (n_ms > 0 && put_plot(b, d, ds, METRIC_MS_SSIM)))
      return -1;
    /* The opt-in metrics that have a plottable value (Cb and Cr only in the table). */
    static const int extra_plots[] = {EXTRA_PSNR_Y, EXTRA_PSNR_YCBCR, EXTRA_CIEDE2000, EXTRA_BA_MAX,
                                      EXTRA_BA_3NORM};
    for (size_t k = 0; k < sizeof extra_plots / sizeof extra_plots[0]; k++) {
      int any = 0;
      for (size_t i = 0; i < ds->n_rows && !any; i++)
        any = report_row_plottable(&ds->rows[i]) &&
              isfinite(report_extra_value(&ds->rows[i], extra_plots[k]));
      if (any && put_plot(b, d, ds, (metric)(METRIC_EXTRA + extra_plots[k])))
        return -1;
    }
    sb_buf_puts(b, "</div>\n");
    sb_buf_puts(b, "<p class=\"note\">Each codec has its own colour and marker shape in "
                   "every plot; untick a codec above to hide its series in all plots of "
                   "this dataset. Solid lines: fixed knob grid; dashed lines: bpp "
                   "targets (rate control). x: mean file bpp achieved. Hollow markers and "
                   "highlighted rows: some images could not reach the bpp target even at "
                   "the lowest rate (n_unreachable &gt; 0).");
    if (n_ssim == 0)
      sb_buf_puts(b, " No rate\xE2\x80\x93SSIM plot: SSIM is NULL for every point (not "
                     "computed: the run's metrics left it out).");
    if (n_ms == 0)
      sb_buf_puts(b, " No rate\xE2\x80\x93MS-SSIM plot: MS-SSIM is undefined (NULL) for "
                     "every point, e.g. images below 161 px on a side, or not computed.");
    sb_buf_puts(b, "</p>\n");
    put_bd_table(b, d, ds, x->anchor);
  }
  if (ds->n_rows > 0)
    put_points_table(b, d, ds);
  if (files->headline_md[ds_index]) {
    sb_buf_puts(b, "<h3>Rate targets at a glance</h3>\n<p class=\"note\">Every bpp target: "
                   "the rate each codec achieved (mean file and stream bpp), PSNR, and each "
                   "task network's accuracy and SI_norm (details below). Highlighted rows: "
                   "some images could not reach the target (stored at the codec's lowest "
                   "rate). Markdown copy: <code>");
    report_html_escape(b, files->headline_md[ds_index]);
    sb_buf_puts(b, "</code></p>\n");
    report_put_headline(b, d, ds, 0);
  }
  if (ds->n_task_rows > 0 && put_tasks(b, d, ds_index, files))
    return -1;
  report_put_paired_table(b, d, ds);
  put_strips(b, d, ds, x->strips ? &x->strips[ds_index] : NULL);
  sb_buf_puts(b, "</div>\n");
  return 0;
}

static void put_files(sb_buf *b, const results_data *d, const report_files *f) {
  sb_buf_puts(b, "<h2>Files</h2>\n<ul>\n");
  for (size_t ds = 0; ds < d->n_datasets; ds++) {
    sb_buf_puts(b, "<li><code>");
    report_html_escape(b, f->csv[ds]);
    sb_buf_puts(b, "</code>: all points of dataset ");
    report_html_escape(b, d->datasets[ds].name);
    sb_buf_puts(b, "</li>\n");
    if (f->tasks_csv[ds]) {
      sb_buf_puts(b, "<li><code>");
      report_html_escape(b, f->tasks_csv[ds]);
      sb_buf_puts(b, "</code>: task accuracy and semantic information per point, dataset ");
      report_html_escape(b, d->datasets[ds].name);
      sb_buf_puts(b, "</li>\n<li><code>");
      report_html_escape(b, f->perclass_csv[ds]);
      sb_buf_puts(b, "</code>: task accuracy per class, dataset ");
      report_html_escape(b, d->datasets[ds].name);
      sb_buf_puts(b, "</li>\n");
    }
    if (f->headline_md[ds]) {
      sb_buf_puts(b, "<li><code>");
      report_html_escape(b, f->headline_md[ds]);
      sb_buf_puts(b, "</code>: the headline table (bpp targets) in Markdown, dataset ");
      report_html_escape(b, d->datasets[ds].name);
      sb_buf_puts(b, "</li>\n");
    }
    for (size_t c = 0; c < d->n_codecs; c++)
      for (int is_bpp = 0; is_bpp <= 1; is_bpp++) {
        const char *name = f->json[report_json_slot(f, ds, c, is_bpp)];
        if (!name)
          continue;
        sb_buf_puts(b, "<li><code>");
        report_html_escape(b, name);
        sb_buf_puts(b, "</code>: CompressAI-style results, ");
        report_html_escape(b, d->codecs[c].label);
        sb_buf_puts(b, is_bpp ? " (bpp targets)" : " (knob grid)");
        sb_buf_puts(b, " on ");
        report_html_escape(b, d->datasets[ds].name);
        sb_buf_puts(b, "</li>\n");
      }
  }
  sb_buf_puts(b, "</ul>\n");
}

int report_write_html(const results_data *d, const report_files *files, const report_html_extras *x,
                      const char *dir, const char *name, char *err, size_t err_len) {
  sb_buf b = {0};
  sb_buf_printf(&b,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
                "<title>saicbench report: run %" PRId64 " (",
                d->run.id);
  report_html_escape(&b, d->run.suite_name);
  sb_buf_printf(&b, ")</title>\n<style>\n%s", k_css);
  put_toggle_css(&b, d);
  sb_buf_puts(&b, "</style>\n</head>\n<body>\n");
  sb_buf_printf(&b, "<h1>saicbench report: run %" PRId64 " \xE2\x80\x94 suite ", d->run.id);
  report_html_escape(&b, d->run.suite_name);
  sb_buf_puts(&b, "</h1>\n");
  put_run(&b, &d->run);
  put_codecs(&b, d);
  if (d->n_datasets == 0)
    sb_buf_puts(&b, "<h2>Datasets</h2>\n<p class=\"note\">This run has no datasets.</p>\n");
  int rc = 0;
  for (size_t i = 0; i < d->n_datasets && rc == 0; i++)
    rc = put_dataset(&b, d, i, files, x);
  put_files(&b, d, files);
  sb_buf_puts(&b, "</body>\n</html>\n");
  /* put_dataset fails only when out of memory: then the page is as incomplete as a failed b. */
  b.failed |= rc != 0;
  return sb_buf_write_file(&b, dir, name, err, err_len);
}
