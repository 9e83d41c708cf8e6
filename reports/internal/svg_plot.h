/* Small XY line plots rendered as standalone inline SVG (no scripts, no external resources, no
 * element ids, so many plots can share one HTML page).
 *
 * A plot has a title, two axes and any number of series; a series is a polyline through its
 * points in the order they were added (callers sort, e.g. by rate) plus one marker per point,
 * optionally with a vertical error bar per point (svg_plot_add_point_err).
 * Axes are linear or log10 (SVG_SCALE_AUTO picks log when the positive data range spans more
 * than auto_log_ratio, default 8x). The legend sits right of the plot area so it never covers
 * data (or below the plot, see svg_plot_set_legend). Every string is XML-escaped on output, so
 * labels may come from a database.
 *
 * Usage:
 *   svg_plot *p = svg_plot_new("Rate-PSNR", "bpp", "PSNR [dB]");
 *   int s = svg_plot_add_series(p, "jpeg", (svg_style){svg_palette(0), 0, svg_marker_at(0)});
 *   svg_plot_add_point(p, s, 0.5, 31.2, 0);
 *   svg_plot_render(p, &buf);
 *   svg_plot_free(p);
 *
 * Points with a non-finite coordinate, or a non-positive one on a log axis, are skipped (the
 * line joins the neighbours). Thread-safety: a plot belongs to one thread at a time; no global
 * state. */
#ifndef SAICBENCH_SVG_PLOT_H
#define SAICBENCH_SVG_PLOT_H

#include "report_text.h"

#include <stddef.h>

typedef enum svg_scale { SVG_SCALE_AUTO = 0, SVG_SCALE_LINEAR, SVG_SCALE_LOG } svg_scale;
typedef enum svg_axis_id { SVG_AXIS_X = 0, SVG_AXIS_Y = 1 } svg_axis_id;
typedef enum svg_legend { SVG_LEGEND_RIGHT = 0, SVG_LEGEND_BELOW } svg_legend;
typedef enum svg_marker {
  SVG_MARKER_CIRCLE = 0,
  SVG_MARKER_SQUARE,
  SVG_MARKER_TRIANGLE,
  SVG_MARKER_DIAMOND,
  SVG_MARKER_TRIANGLE_DOWN,
  SVG_MARKER_STAR,
  SVG_MARKER_PLUS,
  SVG_MARKER_PENTAGON,
  SVG_MARKER_COUNT
} svg_marker;

/* Marker shapes in a fixed order, wrapping after SVG_MARKER_COUNT; with svg_palette(i) every
 * index below lcm(SVG_PALETTE_SIZE, SVG_MARKER_COUNT) = 40 gets its own colour-shape pair. */
svg_marker svg_marker_at(size_t index);

typedef struct svg_style {
  const char *color; /* any SVG colour, e.g. "#0072B2" (copied) */
  int dashed;        /* 1: dashed line */
  svg_marker marker;
  /* Optional class of the series' <g> element (copied; [A-Za-z0-9_-] recommended); its legend
   * entry gets the same class plus "legend". Lets a page show or hide series with CSS. */
  const char *css_class;
  int no_legend; /* 1: no legend entry (e.g. a second series of something already listed) */
} svg_style;

enum { SVG_POINT_HOLLOW = 1 }; /* point flag: draw the marker unfilled */

typedef struct svg_plot svg_plot;

/* NULL on allocation failure. Strings are copied; NULL is treated as "". */
svg_plot *svg_plot_new(const char *title, const char *x_label, const char *y_label);
void svg_plot_free(svg_plot *p);
/* Overall SVG size in px (defaults 760 x 420); the height grows when the legend needs it. */
void svg_plot_set_size(svg_plot *p, int width, int height);
/* Legend right of the plot area (default; a fixed column) or below it (in as many columns as
 * fit the width, so narrow plots keep a wide plot area). Never over the data. */
void svg_plot_set_legend(svg_plot *p, svg_legend where);
void svg_plot_set_scale(svg_plot *p, svg_axis_id axis, svg_scale scale);
/* AUTO picks log when max/min of the positive data exceeds ratio (default 8). */
void svg_plot_set_auto_log_ratio(svg_plot *p, svg_axis_id axis, double ratio);
/* Widens the axis range to include [lo, hi] (e.g. 0..1 for accuracy). NAN = no bound. */
void svg_plot_include(svg_plot *p, svg_axis_id axis, double lo, double hi);
/* Returns the new series' index, or -1 on allocation failure. */
int svg_plot_add_series(svg_plot *p, const char *label, svg_style style);
/* A horizontal reference line at y across the whole plot area (dashed, in color), labelled at
 * its right end inside the plot area; the y range is widened to include it. Not in the legend.
 * Non-finite y (or y <= 0 on a log axis) draws nothing. Returns 0, or -1 on allocation failure. */
int svg_plot_add_hline(svg_plot *p, double y, const char *label, const char *color);
/* A legend-only entry after the series' entries: a line sample in color (dashed or solid), no
 * marker, e.g. a key "dashed: bpp targets". Returns 0, or -1 on allocation failure. */
int svg_plot_add_legend_line(svg_plot *p, const char *label, const char *color, int dashed);
/* flags: SVG_POINT_HOLLOW. Returns 0, or -1 on allocation failure / bad series index. */
int svg_plot_add_point(svg_plot *p, int series, double x, double y, int flags);
/* The same with a vertical error bar from y_lo to y_hi (drawn with end caps in the series'
 * colour, solid, under the marker; the y range is widened to include it). A non-finite end
 * (or one <= 0 on a log axis) draws no bar. */
int svg_plot_add_point_err(svg_plot *p, int series, double x, double y, double y_lo, double y_hi,
                           int flags);
/* Appends one <svg>...</svg> element. Returns 0, or -1 if the buffer failed (out of memory). */
int svg_plot_render(const svg_plot *p, sb_buf *out);

/* Appends a small standalone <svg class="mk"> (30 x 14 px): a line sample (dashed or not)
 * and the marker of style, for legends and tables in the surrounding page. aria-hidden: the
 * text next to it names the series. Returns 0, or -1 if the buffer failed. */
int svg_marker_icon(sb_buf *out, svg_style style);

/* Tableau 10 (Tableau's 2016 default categorical palette, designed for 10 series on white;
 * neighbours contrast); index wraps around after 10. Pair it with svg_marker_at(index) so
 * colour is never the only cue. */
const char *svg_palette(size_t index);
#define SVG_PALETTE_SIZE 10

/* ---- Axis ticks (exposed for tests and for callers that draw their own axes). ---- */

#define SVG_MAX_TICKS 96
typedef struct svg_tick {
  double value;
  int labelled; /* 0: minor gridline only */
} svg_tick;
typedef struct svg_ticks {
  double lo, hi; /* axis range (covers the data) */
  int log;       /* 1: log10 axis */
  int decimals;  /* linear axes: digits after the point in labels */
  size_t n;
  svg_tick t[SVG_MAX_TICKS]; /* ascending, all within [lo, hi] */
} svg_ticks;

/* Linear axis over [lo, hi] with about `target` labelled ticks at multiples of a 1-2-5 step
 * (1, 2 or 5 times a power of ten); the range is widened to whole steps. lo == hi is widened
 * around the value. Returns -1 for non-finite input. */
int svg_ticks_linear(double lo, double hi, int target, svg_ticks *out);
/* Log10 axis over [lo, hi] (0 < lo), padded by 3% of the log span each side. Up to 4 decades:
 * a tick at every 1..9 x 10^k, labelled at 1-2-5 (falling back to 1-2-3-5, then all, when fewer
 * than 3 labels would be visible). Beyond: labelled whole decades (every k-th past 12 decades)
 * with unlabelled 2..9 minor ticks while they fit. Returns -1 unless 0 < lo <= hi, finite. */
int svg_ticks_log(double lo, double hi, svg_ticks *out);
/* Label text for a tick value of this axis ("0.2", "1", "35", "1e-05"). */
void svg_tick_label(const svg_ticks *t, double v, char out[32]);

#endif
