#include "svg_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Layout in px. Legend columns are fixed-width so plots of one page line up. Label widths are
 * estimated at ~7 px per character (12 px sans-serif, on the wide side); the SVG cannot measure
 * text. */
enum {
  PLOT_DEFAULT_W = 760,
  PLOT_DEFAULT_H = 420,
  MARGIN_LEFT = 66,
  MARGIN_RIGHT = 20, /* without a legend on the right: room for the last x tick label */
  MARGIN_TOP = 36,
  MARGIN_BOTTOM = 50,
  LEGEND_W = 196,     /* legend column on the right */
  LEGEND_COL_W = 200, /* minimum column width of a legend below */
  LEGEND_ROW_H = 18,
  LEGEND_SAMPLE_W = 40, /* line sample + gap before the label */
  MIN_PLOT_W = 120,
  MIN_PLOT_H = 100,
};

typedef struct plot_point {
  double x, y;
  double y_lo, y_hi; /* error bar; NAN: none */
  int flags;
} plot_point;

typedef struct plot_series {
  char *label;
  char *css_class; /* NULL: none */
  char color[32];
  int dashed;
  int no_legend;
  svg_marker marker;
  plot_point *pts;
  size_t n, cap;
} plot_series;

/* A legend-only entry (svg_plot_add_legend_line). */
typedef struct plot_key {
  char *label;
  char color[32];
  int dashed;
} plot_key;

typedef struct plot_hline {
  double y;
  char *label;
  char color[32];
} plot_hline;

typedef struct plot_axis {
  char *label;
  svg_scale scale;
  double auto_log_ratio;
  double include_lo, include_hi;
} plot_axis;

struct svg_plot {
  char *title;
  plot_axis axis[2];
  svg_legend legend;
  plot_series *series;
  size_t n_series, cap_series;
  plot_hline *hlines;
  size_t n_hlines;
  plot_key *keys;
  size_t n_keys;
  int width, height;
};

static const char *const k_palette[SVG_PALETTE_SIZE] = {
    "#4E79A7", /* blue */
    "#F28E2B", /* orange */
    "#E15759", /* red */
    "#76B7B2", /* teal */
    "#59A14F", /* green */
    "#EDC948", /* yellow */
    "#B07AA1", /* purple */
    "#FF9DA7", /* pink */
    "#9C755F", /* brown */
    "#BAB0AC", /* grey */
};

const char *svg_palette(size_t index) { return k_palette[index % SVG_PALETTE_SIZE]; }

svg_marker svg_marker_at(size_t index) { return (svg_marker)(index % SVG_MARKER_COUNT); }

static char *dup_str(const char *s) {
  if (!s)
    s = "";
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

svg_plot *svg_plot_new(const char *title, const char *x_label, const char *y_label) {
  svg_plot *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->title = dup_str(title);
  p->axis[0].label = dup_str(x_label);
  p->axis[1].label = dup_str(y_label);
  if (!p->title || !p->axis[0].label || !p->axis[1].label) {
    svg_plot_free(p);
    return NULL;
  }
  for (int a = 0; a < 2; a++) {
    p->axis[a].scale = SVG_SCALE_AUTO;
    p->axis[a].auto_log_ratio = 8.0;
    p->axis[a].include_lo = NAN;
    p->axis[a].include_hi = NAN;
  }
  p->width = PLOT_DEFAULT_W;
  p->height = PLOT_DEFAULT_H;
  return p;
}

void svg_plot_free(svg_plot *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->n_series; i++) {
    free(p->series[i].label);
    free(p->series[i].css_class);
    free(p->series[i].pts);
  }
  free(p->series);
  for (size_t i = 0; i < p->n_hlines; i++)
    free(p->hlines[i].label);
  free(p->hlines);
  for (size_t i = 0; i < p->n_keys; i++)
    free(p->keys[i].label);
  free(p->keys);
  free(p->title);
  free(p->axis[0].label);
  free(p->axis[1].label);
  free(p);
}

void svg_plot_set_size(svg_plot *p, int width, int height) {
  p->width = width;
  p->height = height;
}

void svg_plot_set_legend(svg_plot *p, svg_legend where) { p->legend = where; }

void svg_plot_set_scale(svg_plot *p, svg_axis_id axis, svg_scale scale) {
  p->axis[axis == SVG_AXIS_Y].scale = scale;
}

void svg_plot_set_auto_log_ratio(svg_plot *p, svg_axis_id axis, double ratio) {
  p->axis[axis == SVG_AXIS_Y].auto_log_ratio = ratio;
}

void svg_plot_include(svg_plot *p, svg_axis_id axis, double lo, double hi) {
  p->axis[axis == SVG_AXIS_Y].include_lo = lo;
  p->axis[axis == SVG_AXIS_Y].include_hi = hi;
}

int svg_plot_add_series(svg_plot *p, const char *label, svg_style style) {
  if (p->n_series == p->cap_series) {
    size_t cap = p->cap_series ? 2 * p->cap_series : 8;
    plot_series *s = realloc(p->series, cap * sizeof *s);
    if (!s)
      return -1;
    p->series = s;
    p->cap_series = cap;
  }
  plot_series *s = &p->series[p->n_series];
  memset(s, 0, sizeof *s);
  s->label = dup_str(label);
  s->css_class = style.css_class ? dup_str(style.css_class) : NULL;
  if (!s->label || (style.css_class && !s->css_class)) {
    free(s->label);
    free(s->css_class);
    return -1;
  }
  const char *color =
      style.color && strlen(style.color) < sizeof s->color ? style.color : "#000000";
  memcpy(s->color, color, strlen(color) + 1);
  s->dashed = style.dashed;
  s->no_legend = style.no_legend;
  s->marker = (unsigned)style.marker < SVG_MARKER_COUNT ? style.marker : SVG_MARKER_CIRCLE;
  return (int)p->n_series++;
}

int svg_plot_add_legend_line(svg_plot *p, const char *label, const char *color, int dashed) {
  plot_key *k = realloc(p->keys, (p->n_keys + 1) * sizeof *k);
  if (!k)
    return -1;
  p->keys = k;
  k = &p->keys[p->n_keys];
  k->label = dup_str(label);
  if (!k->label)
    return -1;
  const char *c = color && strlen(color) < sizeof k->color ? color : "#555555";
  memcpy(k->color, c, strlen(c) + 1);
  k->dashed = dashed;
  p->n_keys++;
  return 0;
}

int svg_plot_add_hline(svg_plot *p, double y, const char *label, const char *color) {
  plot_hline *h = realloc(p->hlines, (p->n_hlines + 1) * sizeof *h);
  if (!h)
    return -1;
  p->hlines = h;
  h = &p->hlines[p->n_hlines];
  h->y = y;
  h->label = dup_str(label);
  if (!h->label)
    return -1;
  const char *c = color && strlen(color) < sizeof h->color ? color : "#555555";
  memcpy(h->color, c, strlen(c) + 1);
  p->n_hlines++;
  return 0;
}

int svg_plot_add_point(svg_plot *p, int series, double x, double y, int flags) {
  return svg_plot_add_point_err(p, series, x, y, NAN, NAN, flags);
}

int svg_plot_add_point_err(svg_plot *p, int series, double x, double y, double y_lo, double y_hi,
                           int flags) {
  if (series < 0 || (size_t)series >= p->n_series)
    return -1;
  plot_series *s = &p->series[series];
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    plot_point *pts = realloc(s->pts, cap * sizeof *pts);
    if (!pts)
      return -1;
    s->pts = pts;
    s->cap = cap;
  }
  s->pts[s->n++] = (plot_point){x, y, y_lo, y_hi, flags};
  return 0;
}

/* ---- ticks ---- */

static void tick_add(svg_ticks *t, double v, int labelled) {
  if (t->n < SVG_MAX_TICKS)
    t->t[t->n++] = (svg_tick){v, labelled};
}

int svg_ticks_linear(double lo, double hi, int target, svg_ticks *out) {
  memset(out, 0, sizeof *out);
  if (!isfinite(lo) || !isfinite(hi))
    return -1;
  if (hi < lo) {
    double t = lo;
    lo = hi;
    hi = t;
  }
  if (hi - lo <= 1e-12 * fmax(fabs(lo), fabs(hi))) {
    double d = lo == 0 ? 1.0 : fabs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  if (target < 2)
    target = 2;
  if (target > 30)
    target = 30;
  double raw = (hi - lo) / target;
  double mag = pow(10.0, floor(log10(raw)));
  double r = raw / mag;
  double step = (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
  double k0 = floor(lo / step + 1e-9), k1 = ceil(hi / step - 1e-9);
  out->lo = k0 * step;
  out->hi = k1 * step;
  out->decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  for (double k = k0; k <= k1 + 0.5; k++) {
    double v = k * step;
    tick_add(out, fabs(v) < step * 1e-9 ? 0.0 : v, 1);
  }
  return 0;
}

/* m * 10^e with one rounding, so 3e-1 prints as 0.3. */
static double decade_value(double m, int e) { return e < 0 ? m / pow(10.0, -e) : m * pow(10.0, e); }

int svg_ticks_log(double lo, double hi, svg_ticks *out) {
  memset(out, 0, sizeof *out);
  if (!isfinite(lo) || !isfinite(hi) || !(lo > 0) || hi < lo)
    return -1;
  double a = log10(lo), b = log10(hi);
  double data_span = b - a;
  if (data_span < 1e-9) {
    a -= 0.5;
    b += 0.5;
  }
  double pad = 0.03 * (b - a);
  a -= pad;
  b += pad;
  out->log = 1;
  out->lo = pow(10.0, a);
  out->hi = pow(10.0, b);
  int e0 = (int)floor(a), e1 = (int)ceil(b);
  double tol_lo = out->lo * (1 - 1e-12), tol_hi = out->hi * (1 + 1e-12);

  if (data_span <= 4.0) {
    static const double sets[3][9] = {{1, 2, 5}, {1, 2, 3, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9}};
    static const int set_n[3] = {3, 4, 9};
    for (int s = 0; s < 3; s++) {
      /* Every mantissa 1..9 gets a gridline (that is what shows the axis is logarithmic);
       * those of the chosen set are labelled. */
      out->n = 0;
      size_t n_labelled = 0;
      for (int e = e0; e <= e1; e++)
        for (int m = 1; m <= 9; m++) {
          double v = decade_value(m, e);
          if (v < tol_lo || v > tol_hi)
            continue;
          int labelled = 0;
          for (int i = 0; i < set_n[s]; i++)
            labelled |= sets[s][i] == m;
          tick_add(out, v, labelled);
          n_labelled += (size_t)labelled;
        }
      if (n_labelled >= 3)
        break;
    }
    return 0;
  }
  int k = 1;
  while ((e1 - e0) / k + 1 > 12)
    k++;
  int minors = k == 1 && (e1 - e0 + 1) * 9 <= SVG_MAX_TICKS;
  for (int e = e0; e <= e1; e++) {
    int labelled = ((e % k) + k) % k == 0;
    double v = decade_value(1, e);
    if (v >= tol_lo && v <= tol_hi)
      tick_add(out, v, labelled);
    for (int m = 2; minors && m <= 9; m++) {
      v = decade_value(m, e);
      if (v >= tol_lo && v <= tol_hi)
        tick_add(out, v, 0);
    }
  }
  return 0;
}

void svg_tick_label(const svg_ticks *t, double v, char out[32]) {
  if (t->log || fabs(v) >= 1e7)
    snprintf(out, 32, "%g", v);
  else
    snprintf(out, 32, "%.*f", t->decimals, v);
  if (strcmp(out, "-0") == 0 || (out[0] == '-' && strspn(out + 1, "0.") == strlen(out + 1)))
    memmove(out, out + 1, strlen(out)); /* "-0.00" -> "0.00" */
}

/* ---- rendering ---- */

typedef struct axis_map {
  svg_ticks ticks;
  double f_lo, f_hi; /* range in scale units (log10 for log axes) */
  double px0, px1;   /* pixel positions of lo and hi */
} axis_map;

static int point_ok(const axis_map *m, double v) { return isfinite(v) && (!m->ticks.log || v > 0); }

static double axis_px(const axis_map *m, double v) {
  double f = m->ticks.log ? log10(v) : v;
  return m->px0 + (f - m->f_lo) / (m->f_hi - m->f_lo) * (m->px1 - m->px0);
}

/* Chooses scale and ticks for one axis from the data. Returns 1 if there is data. */
static int axis_setup(const svg_plot *p, int a, axis_map *m) {
  const plot_axis *ax = &p->axis[a];
  double lo = INFINITY, hi = -INFINITY, pos_lo = INFINITY, pos_hi = -INFINITY;
  for (size_t i = 0; i < p->n_series; i++)
    for (size_t j = 0; j < p->series[i].n; j++) {
      const plot_point *pt = &p->series[i].pts[j];
      double v = a == 0 ? pt->x : pt->y, o = a == 0 ? pt->y : pt->x;
      if (!isfinite(v) || !isfinite(o))
        continue;
      lo = fmin(lo, v);
      hi = fmax(hi, v);
      if (v > 0) {
        pos_lo = fmin(pos_lo, v);
        pos_hi = fmax(pos_hi, v);
      }
    }
  int have = lo <= hi;
  /* Error bars widen the y range around points that are drawn. */
  for (size_t i = 0; a == 1 && have && i < p->n_series; i++)
    for (size_t j = 0; j < p->series[i].n; j++) {
      const plot_point *pt = &p->series[i].pts[j];
      if (!isfinite(pt->x) || !isfinite(pt->y) || !isfinite(pt->y_lo) || !isfinite(pt->y_hi))
        continue;
      const double e[2] = {pt->y_lo, pt->y_hi};
      for (int k = 0; k < 2; k++) {
        lo = fmin(lo, e[k]);
        hi = fmax(hi, e[k]);
        if (e[k] > 0) {
          pos_lo = fmin(pos_lo, e[k]);
          pos_hi = fmax(pos_hi, e[k]);
        }
      }
    }
  /* Reference lines widen the y range (they do not count as data on their own). */
  for (size_t i = 0; a == 1 && have && i < p->n_hlines; i++) {
    double v = p->hlines[i].y;
    if (!isfinite(v))
      continue;
    lo = fmin(lo, v);
    hi = fmax(hi, v);
    if (v > 0) {
      pos_lo = fmin(pos_lo, v);
      pos_hi = fmax(pos_hi, v);
    }
  }
  int use_log = 0;
  if (ax->scale == SVG_SCALE_LOG)
    use_log = pos_lo <= pos_hi;
  else if (ax->scale == SVG_SCALE_AUTO)
    use_log = have && lo > 0 && hi / lo > ax->auto_log_ratio;
  if (use_log) {
    lo = pos_lo;
    hi = pos_hi;
  }
  double inc[2] = {ax->include_lo, ax->include_hi};
  for (int i = 0; i < 2; i++)
    if (isfinite(inc[i]) && (!use_log || inc[i] > 0)) {
      lo = fmin(lo, inc[i]);
      hi = fmax(hi, inc[i]);
    }
  if (!(lo <= hi)) {
    lo = 0;
    hi = 1;
  }
  if (use_log)
    svg_ticks_log(lo, hi, &m->ticks);
  else
    svg_ticks_linear(lo, hi, a == 0 ? 6 : 5, &m->ticks);
  m->f_lo = m->ticks.log ? log10(m->ticks.lo) : m->ticks.lo;
  m->f_hi = m->ticks.log ? log10(m->ticks.hi) : m->ticks.hi;
  return have;
}

/* Polygon markers as offsets from the centre (px; y down). */
typedef struct marker_shape {
  size_t n;
  double pt[12][2];
} marker_shape;

static const marker_shape k_triangle = {3, {{0, -4.6}, {-4.2, 3.2}, {4.2, 3.2}}};
static const marker_shape k_triangle_down = {3, {{0, 4.6}, {-4.2, -3.2}, {4.2, -3.2}}};
static const marker_shape k_diamond = {4, {{0, -4.8}, {4.8, 0}, {0, 4.8}, {-4.8, 0}}};
static const marker_shape k_star = {10,
                                    {{0, -5.4},
                                     {1.352, -1.861},
                                     {5.136, -1.669},
                                     {2.187, 0.711},
                                     {3.174, 4.369},
                                     {0, 2.3},
                                     {-3.174, 4.369},
                                     {-2.187, 0.711},
                                     {-5.136, -1.669},
                                     {-1.352, -1.861}}};
static const marker_shape k_plus = {12,
                                    {{-1.6, -4.6},
                                     {1.6, -4.6},
                                     {1.6, -1.6},
                                     {4.6, -1.6},
                                     {4.6, 1.6},
                                     {1.6, 1.6},
                                     {1.6, 4.6},
                                     {-1.6, 4.6},
                                     {-1.6, 1.6},
                                     {-4.6, 1.6},
                                     {-4.6, -1.6},
                                     {-1.6, -1.6}}};
static const marker_shape k_pentagon = {
    5, {{0, -4.8}, {4.565, -1.483}, {2.821, 3.883}, {-2.821, 3.883}, {-4.565, -1.483}}};

/* Opens the marker element (attributes up to, not including, the closing '>' or '/>'). */
static void put_marker(sb_buf *b, svg_marker mk, double x, double y, const char *color,
                       int hollow) {
  const char *fill = hollow ? "#ffffff" : color;
  const marker_shape *sh = mk == SVG_MARKER_TRIANGLE        ? &k_triangle
                           : mk == SVG_MARKER_TRIANGLE_DOWN ? &k_triangle_down
                           : mk == SVG_MARKER_DIAMOND       ? &k_diamond
                           : mk == SVG_MARKER_STAR          ? &k_star
                           : mk == SVG_MARKER_PLUS          ? &k_plus
                           : mk == SVG_MARKER_PENTAGON      ? &k_pentagon
                                                            : NULL;
  if (sh) {
    sb_buf_puts(b, "<polygon points=\"");
    for (size_t i = 0; i < sh->n; i++)
      sb_buf_printf(b, "%s%.2f,%.2f", i ? " " : "", x + sh->pt[i][0], y + sh->pt[i][1]);
    sb_buf_puts(b, "\"");
  } else if (mk == SVG_MARKER_SQUARE) {
    sb_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"7\" height=\"7\"", x - 3.5, y - 3.5);
  } else {
    sb_buf_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\"", x, y);
  }
  sb_buf_printf(b, " fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"", fill, color);
}

static const char *marker_tag(svg_marker mk) {
  return mk == SVG_MARKER_SQUARE ? "rect" : mk == SVG_MARKER_CIRCLE ? "circle" : "polygon";
}

/* Appends at most max_chars characters of s (cut before a UTF-8 lead byte, so no sequence is
 * split), escaped, with an ellipsis when shortened. Returns 1 if it was shortened. */
static int put_truncated(sb_buf *b, const char *s, size_t max_chars) {
  size_t chars = 0, i = 0;
  for (; s[i]; i++) {
    if (((unsigned char)s[i] & 0xC0) != 0x80 && chars++ == max_chars)
      break;
  }
  if (!s[i]) {
    report_html_escape(b, s);
    return 0;
  }
  /* Leave room for the ellipsis. */
  size_t cut = 0;
  chars = 0;
  for (; s[cut]; cut++)
    if (((unsigned char)s[cut] & 0xC0) != 0x80 && chars++ == max_chars - 1)
      break;
  sb_buf tmp = {0};
  sb_buf_append(&tmp, s, cut);
  report_html_escape(b, sb_buf_str(&tmp));
  if (sb_buf_failed(&tmp))
    b->failed = 1;
  sb_buf_free(&tmp);
  sb_buf_puts(b, "\xE2\x80\xA6"); /* U+2026 */
  return 1;
}

int svg_plot_render(const svg_plot *p, sb_buf *b) {
  axis_map mx, my;
  int have_x = axis_setup(p, 0, &mx);
  int have_y = axis_setup(p, 1, &my);

  /* Layout: legend right of the plot area (fixed column) or below it (columns that share the
   * full width); the SVG grows when the legend needs more room than the size asked for. */
  int w = p->width, h = p->height;
  size_t n_entries = p->n_keys;
  for (size_t i = 0; i < p->n_series; i++)
    n_entries += !p->series[i].no_legend;
  int right = p->legend == SVG_LEGEND_RIGHT && n_entries ? LEGEND_W : MARGIN_RIGHT;
  if (w - MARGIN_LEFT - right < MIN_PLOT_W)
    w = MARGIN_LEFT + right + MIN_PLOT_W;
  double pw = w - MARGIN_LEFT - right;
  int cols = 1, below_h = 0, right_h = 0;
  if (p->legend == SVG_LEGEND_BELOW && n_entries) {
    cols = (w - 32) / LEGEND_COL_W;
    cols = cols < 1 ? 1 : cols;
    int rows = ((int)n_entries + cols - 1) / cols;
    below_h = rows * LEGEND_ROW_H + 8;
  } else if (n_entries) {
    right_h = (int)n_entries * LEGEND_ROW_H + 8;
  }
  int min_ph = right_h > MIN_PLOT_H ? right_h : MIN_PLOT_H;
  if (h - MARGIN_TOP - MARGIN_BOTTOM - below_h < min_ph)
    h = MARGIN_TOP + MARGIN_BOTTOM + below_h + min_ph;
  double left = MARGIN_LEFT, top = MARGIN_TOP;
  double ph = h - MARGIN_TOP - MARGIN_BOTTOM - below_h;
  double col_w = p->legend == SVG_LEGEND_BELOW ? (double)(w - 32) / cols : LEGEND_W - 14;
  size_t max_chars = (size_t)((col_w - LEGEND_SAMPLE_W) / 7.0);
  max_chars = max_chars < 4 ? 4 : max_chars;
  mx.px0 = left;
  mx.px1 = left + pw;
  my.px0 = top + ph; /* y grows upwards */
  my.px1 = top;

  sb_buf_printf(b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"%d\" "
                "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
                w, h, w, h);
  report_html_escape(b, p->title);
  sb_buf_puts(b, "\" font-family=\"sans-serif\" font-size=\"12\">\n<title>");
  report_html_escape(b, p->title);
  sb_buf_printf(
      b, "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", w, h);
  sb_buf_printf(b,
                "<text x=\"%.1f\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" "
                "font-weight=\"bold\">",
                left + pw / 2);
  report_html_escape(b, p->title);
  sb_buf_puts(b, "</text>\n");

  /* Gridlines first so data is drawn over them; minor ones lighter. */
  sb_buf_puts(b, "<g stroke-width=\"1\">\n");
  for (size_t i = 0; i < mx.ticks.n; i++) {
    double x = axis_px(&mx, mx.ticks.t[i].value);
    sb_buf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\"/>\n", x,
                  top, x, top + ph, mx.ticks.t[i].labelled ? "#d9d9d9" : "#efefef");
  }
  for (size_t i = 0; i < my.ticks.n; i++) {
    double y = axis_px(&my, my.ticks.t[i].value);
    sb_buf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\"/>\n",
                  left, y, left + pw, y, my.ticks.t[i].labelled ? "#d9d9d9" : "#efefef");
  }
  sb_buf_puts(b, "</g>\n");
  sb_buf_printf(b,
                "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" "
                "stroke=\"#444444\"/>\n",
                left, top, pw, ph);

  /* Tick marks and labels. */
  sb_buf_puts(b, "<g fill=\"#222222\">\n");
  char lab[32];
  for (size_t i = 0; i < mx.ticks.n; i++) {
    if (!mx.ticks.t[i].labelled)
      continue;
    double x = axis_px(&mx, mx.ticks.t[i].value);
    svg_tick_label(&mx.ticks, mx.ticks.t[i].value, lab);
    sb_buf_printf(b,
                  "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>"
                  "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n",
                  x, top + ph, x, top + ph + 4, x, top + ph + 17, lab);
  }
  for (size_t i = 0; i < my.ticks.n; i++) {
    if (!my.ticks.t[i].labelled)
      continue;
    double y = axis_px(&my, my.ticks.t[i].value);
    svg_tick_label(&my.ticks, my.ticks.t[i].value, lab);
    sb_buf_printf(b,
                  "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#444444\"/>"
                  "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n",
                  left - 4, y, left, y, left - 7, y + 4, lab);
  }
  sb_buf_puts(b, "</g>\n");

  /* Axis titles; "(log)" tells the reader the spacing is not linear. */
  sb_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">", left + pw / 2,
                top + ph + 38);
  report_html_escape(b, p->axis[0].label);
  if (mx.ticks.log)
    sb_buf_puts(b, " (log scale)");
  sb_buf_printf(b,
                "</text>\n<text transform=\"translate(16,%.2f) rotate(-90)\" "
                "text-anchor=\"middle\">",
                top + ph / 2);
  report_html_escape(b, p->axis[1].label);
  if (my.ticks.log)
    sb_buf_puts(b, " (log scale)");
  sb_buf_puts(b, "</text>\n");

  if (!have_x || !have_y)
    sb_buf_printf(b,
                  "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#777777\">"
                  "no data</text>\n",
                  left + pw / 2, top + ph / 2);

  /* Reference lines under the series, labelled at the right end, just above the line. */
  for (size_t i = 0; i < p->n_hlines && have_x && have_y; i++) {
    const plot_hline *hl = &p->hlines[i];
    if (!point_ok(&my, hl->y))
      continue;
    double y = axis_px(&my, hl->y);
    sb_buf_printf(b,
                  "<g><line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                  "stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/><text x=\"%.2f\" "
                  "y=\"%.2f\" text-anchor=\"end\" fill=\"%s\">",
                  left, y, left + pw, y, hl->color, left + pw - 4, y - 4, hl->color);
    report_html_escape(b, hl->label);
    sb_buf_puts(b, "</text></g>\n");
  }

  /* Series: line, error bars, then markers, each marker with a tooltip. */
  for (size_t i = 0; i < p->n_series; i++) {
    const plot_series *s = &p->series[i];
    if (s->css_class) {
      sb_buf_puts(b, "<g class=\"");
      report_html_escape(b, s->css_class);
      sb_buf_puts(b, "\">\n");
    } else {
      sb_buf_puts(b, "<g>\n");
    }
    size_t n_ok = 0;
    for (size_t j = 0; j < s->n; j++)
      n_ok += point_ok(&mx, s->pts[j].x) && point_ok(&my, s->pts[j].y);
    if (n_ok >= 2) {
      sb_buf_puts(b, "<polyline points=\"");
      for (size_t j = 0; j < s->n; j++) {
        if (!point_ok(&mx, s->pts[j].x) || !point_ok(&my, s->pts[j].y))
          continue;
        sb_buf_printf(b, "%.2f,%.2f ", axis_px(&mx, s->pts[j].x), axis_px(&my, s->pts[j].y));
      }
      sb_buf_printf(b, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", s->color,
                    s->dashed ? " stroke-dasharray=\"7 4\"" : "");
    }
    for (size_t j = 0; j < s->n; j++) {
      const plot_point *pt = &s->pts[j];
      if (!point_ok(&mx, pt->x) || !point_ok(&my, pt->y) || !point_ok(&my, pt->y_lo) ||
          !point_ok(&my, pt->y_hi))
        continue;
      double x = axis_px(&mx, pt->x), y0 = axis_px(&my, pt->y_lo), y1 = axis_px(&my, pt->y_hi);
      sb_buf_printf(b,
                    "<path class=\"errbar\" d=\"M%.2f %.2fV%.2fM%.2f %.2fH%.2fM%.2f %.2fH%.2f\" "
                    "fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\"/>\n",
                    x, y0, y1, x - 3, y0, x + 3, x - 3, y1, x + 3, s->color);
    }
    for (size_t j = 0; j < s->n; j++) {
      const plot_point *pt = &s->pts[j];
      if (!point_ok(&mx, pt->x) || !point_ok(&my, pt->y))
        continue;
      put_marker(b, s->marker, axis_px(&mx, pt->x), axis_px(&my, pt->y), s->color,
                 pt->flags & SVG_POINT_HOLLOW);
      sb_buf_puts(b, "><title>");
      report_html_escape(b, s->label);
      sb_buf_printf(b, ": %.4g, %.4g", pt->x, pt->y);
      if (isfinite(pt->y_lo) && isfinite(pt->y_hi))
        sb_buf_printf(b, " (bar %.4g to %.4g)", pt->y_lo, pt->y_hi);
      sb_buf_printf(b, "%s</title></%s>\n",
                    (pt->flags & SVG_POINT_HOLLOW) ? " (hollow: flagged)" : "",
                    marker_tag(s->marker));
    }
    sb_buf_puts(b, "</g>\n");
  }

  /* Legend: the series' entries (sample line + marker), then the legend-only lines; each with
   * its (possibly shortened) label and the full label as tooltip. */
  size_t e = 0;
  for (size_t i = 0; i < p->n_series + p->n_keys; i++) {
    const plot_series *s = i < p->n_series ? &p->series[i] : NULL;
    const plot_key *k = s ? NULL : &p->keys[i - p->n_series];
    if (s && s->no_legend)
      continue;
    double lx, y;
    if (p->legend == SVG_LEGEND_BELOW) {
      lx = 16 + (double)(e % (size_t)cols) * col_w;
      y = top + ph + MARGIN_BOTTOM + 4 + (double)(e / (size_t)cols) * LEGEND_ROW_H;
    } else {
      lx = left + pw + 14;
      y = top + 10 + (double)e * LEGEND_ROW_H;
    }
    e++;
    const char *color = s ? s->color : k->color, *label = s ? s->label : k->label;
    if (s && s->css_class) {
      sb_buf_puts(b, "<g class=\"");
      report_html_escape(b, s->css_class);
      sb_buf_puts(b, " legend\">");
    } else {
      sb_buf_puts(b, "<g>");
    }
    sb_buf_printf(b,
                  "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                  "stroke-width=\"2\"%s/>",
                  lx, y, lx + 26, y, color,
                  (s ? s->dashed : k->dashed) ? " stroke-dasharray=\"7 4\"" : "");
    if (s) {
      put_marker(b, s->marker, lx + 13, y, s->color, 0);
      sb_buf_puts(b, "/>");
    }
    sb_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\">", lx + 33, y + 4);
    if (put_truncated(b, label, max_chars)) {
      sb_buf_puts(b, "<title>");
      report_html_escape(b, label);
      sb_buf_puts(b, "</title>");
    }
    sb_buf_puts(b, "</text></g>\n");
  }
  sb_buf_puts(b, "</svg>\n");
  return sb_buf_failed(b) ? -1 : 0;
}

int svg_marker_icon(sb_buf *b, svg_style style) {
  const char *color = style.color ? style.color : "#000000";
  svg_marker mk = (unsigned)style.marker < SVG_MARKER_COUNT ? style.marker : SVG_MARKER_CIRCLE;
  sb_buf_printf(b,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"mk\" width=\"30\" "
                "height=\"14\" viewBox=\"0 0 30 14\" aria-hidden=\"true\"><line x1=\"2\" "
                "y1=\"7\" x2=\"28\" y2=\"7\" stroke=\"%s\" stroke-width=\"2\"%s/>",
                color, style.dashed ? " stroke-dasharray=\"7 4\"" : "");
  put_marker(b, mk, 15, 7, color, 0);
  sb_buf_puts(b, "/></svg>");
  return sb_buf_failed(b) ? -1 : 0;
}
