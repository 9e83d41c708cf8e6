/* Tests for reports/: text encoders, axis ticks, the SVG plot module, and report_write() end to
 * end on a small database built from results/schema.sql (path given as argv[1]).
 *
 * Usage: test_reports SCHEMA.sql [--keep DIR]
 *   --keep DIR  write the end-to-end report into DIR and keep it (for looking at the page);
 *               by default everything goes into a fresh temporary directory that is removed. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "data.h"
#include "report.h"
#include "base.h"
#include "report_test_util.h"
#include "report_text.h"
#include "sb_test.h"
#include "svg_plot.h"

#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

/* snprintf into a char array, failing the test run if it does not fit. */
#define PATHF(buf, ...)                                                                            \
  do {                                                                                             \
    if ((size_t)snprintf(buf, sizeof buf, __VA_ARGS__) >= sizeof buf) {                            \
      fprintf(stderr, "%s:%d: path too long\n", __FILE__, __LINE__);                               \
      exit(2);                                                                                     \
    }                                                                                              \
  } while (0)

/* The start of a plot (svg_plot_render); small marker icons (class "mk") are not plots. */
#define PLOT_SVG "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\""

#define HOSTILE "<script>alert(1)</script>&\"x'"
#define HOSTILE_HTML "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;x&#39;"
#define HOSTILE_FILE "_script_alert_1___script___x_"

/* ---------------------------------------------------------------- small helpers */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  sb_buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    sb_buf_append(&b, chunk, n);
  fclose(f);
  if (sb_buf_failed(&b)) {
    sb_buf_free(&b);
    return NULL;
  }
  if (len)
    *len = b.len;
  if (!b.data)
    return calloc(1, 1);
  return b.data;
}

static int file_exists(const char *dir, const char *name) {
  char path[4096];
  PATHF(path, "%s/%s", dir, name);
  struct stat st;
  return stat(path, &st) == 0;
}

static size_t count_substr(const char *s, const char *needle) {
  size_t n = 0, len = strlen(needle);
  for (const char *p = s; (p = strstr(p, needle)) != NULL; p += len)
    n++;
  return n;
}

static char *escape_html(const char *s) {
  sb_buf b = {0};
  report_html_escape(&b, s);
  return b.data ? b.data : calloc(1, 1);
}

static char *csv_field(const char *s) {
  sb_buf b = {0};
  report_csv_field(&b, s);
  return b.data ? b.data : calloc(1, 1);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* ---------------------------------------------------------------- text encoders */

static void test_html_escape(void) {
  char *s;
  s = escape_html("");
  CHECK_STR(s, "");
  free(s);
  sb_buf b = {0};
  report_html_escape(&b, NULL);
  CHECK(b.len == 0);
  sb_buf_free(&b);
  s = escape_html("plain text 123");
  CHECK_STR(s, "plain text 123");
  free(s);
  s = escape_html("&<>\"'");
  CHECK_STR(s, "&amp;&lt;&gt;&quot;&#39;");
  free(s);
  s = escape_html(HOSTILE);
  CHECK_STR(s, HOSTILE_HTML);
  free(s);
  s = escape_html("&amp;"); /* already escaped text is escaped again (it is data) */
  CHECK_STR(s, "&amp;amp;");
  free(s);
  s = escape_html("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"); /* é € 😀 pass through */
  CHECK_STR(s, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  free(s);
  s = escape_html("a\tb\nc\rd"); /* allowed whitespace kept */
  CHECK_STR(s, "a\tb\nc\rd");
  free(s);
  s = escape_html("a\x01"
                  "b\x1b"
                  "c\x7f"
                  "d"); /* controls -> U+FFFD */
  CHECK_STR(s, "a\xEF\xBF\xBD"
               "b\xEF\xBF\xBD"
               "c\xEF\xBF\xBD"
               "d");
  free(s);
  s = escape_html("x\xC2\x85y"); /* C1 control NEL */
  CHECK_STR(s, "x\xEF\xBF\xBDy");
  free(s);
  s = escape_html("\xEF\xBF\xBE"); /* noncharacter U+FFFE */
  CHECK_STR(s, "\xEF\xBF\xBD");
  free(s);
  s = escape_html("\xFF<"); /* invalid byte, then markup */
  CHECK_STR(s, "\xEF\xBF\xBD&lt;");
  free(s);
  s = escape_html("\xC0\xBC"); /* overlong '<' must not survive as anything '<'-like */
  CHECK_STR(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
  free(s);
  s = escape_html("\xED\xA0\x80"); /* UTF-16 surrogate */
  CHECK_STR(s, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  free(s);
  s = escape_html("\xE2\x82"); /* truncated at end of string */
  CHECK_STR(s, "\xEF\xBF\xBD\xEF\xBF\xBD");
  free(s);
  s = escape_html("\xF4\x90\x80\x80"); /* above U+10FFFF */
  CHECK_STR(s, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  free(s);

  /* Long input through the growable buffer. */
  size_t n = 100000;
  char *big = malloc(n + 1);
  CHECK(big != NULL);
  if (big) {
    for (size_t i = 0; i < n; i++)
      big[i] = (i % 3 == 0) ? '<' : 'a';
    big[n] = '\0';
    s = escape_html(big);
    CHECK(strlen(s) == n + 3 * ((n + 2) / 3)); /* each '<' grows by 3 */
    CHECK(strchr(s, '<') == NULL);
    free(s);
    free(big);
  }
}

static void test_csv_and_numbers(void) {
  char *s;
  s = csv_field("jpeg");
  CHECK_STR(s, "jpeg");
  free(s);
  s = csv_field("");
  CHECK_STR(s, "\"\"");
  free(s);
  s = csv_field(NULL);
  CHECK_STR(s, "");
  free(s);
  s = csv_field("a,b");
  CHECK_STR(s, "\"a,b\"");
  free(s);
  s = csv_field("say \"hi\"");
  CHECK_STR(s, "\"say \"\"hi\"\"\"");
  free(s);
  s = csv_field("two\nlines\r\n");
  CHECK_STR(s, "\"two\nlines\r\n\"");
  free(s);
  s = csv_field(" padded ");
  CHECK_STR(s, "\" padded \"");
  free(s);
  s = csv_field(HOSTILE);
  CHECK_STR(s, "\"<script>alert(1)</script>&\"\"x'\"");
  free(s);
  s = csv_field("bad\xFF\"q");
  CHECK_STR(s, "\"bad\xEF\xBF\xBD\"\"q\"");
  free(s);
  /* Spreadsheet formulas (CSV injection): a leading apostrophe, quoted. */
  s = csv_field("=HYPERLINK(\"http://x\",\"y\")");
  CHECK_STR(s, "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
  free(s);
  const char *const formulas[] = {"+1", "-2+3", "@SUM(A1)", "\tx", "\rx"};
  const char *const guarded[] = {"\"'+1\"", "\"'-2+3\"", "\"'@SUM(A1)\"", "\"'\tx\"", "\"'\rx\""};
  for (int i = 0; i < 5; i++) {
    s = csv_field(formulas[i]);
    CHECK_STR(s, guarded[i]);
    free(s);
  }
  s = csv_field("a=b"); /* only the first byte matters */
  CHECK_STR(s, "a=b");
  free(s);

  char num[32];
  report_format_double(0.125, num);
  CHECK_STR(num, "0.125");
  report_format_double(50, num);
  CHECK_STR(num, "50");
  report_format_double(0.1, num);
  CHECK_STR(num, "0.1");
  report_format_double(-0.0, num);
  CHECK_STR(num, "0");
  report_format_double(NAN, num);
  CHECK_STR(num, "");
  report_format_double(INFINITY, num);
  CHECK_STR(num, "");
  const double exact[] = {1.0 / 3.0, 31.123456789012345, 2.2250738585072014e-308, 1e300, 0.3};
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
    report_format_double(exact[i], num);
    CHECK(strtod(num, NULL) == exact[i]);
  }

  sb_buf b = {0};
  report_file_component(&b, HOSTILE, 64);
  CHECK_STR(sb_buf_str(&b), HOSTILE_FILE);
  sb_buf_reset(&b);
  report_file_component(&b, "../etc/passwd", 64);
  CHECK_STR(sb_buf_str(&b), "_._etc_passwd");
  sb_buf_reset(&b);
  report_file_component(&b, "", 64);
  CHECK_STR(sb_buf_str(&b), "_");
  sb_buf_reset(&b);
  report_file_component(&b, "cifar10-test.v2", 64);
  CHECK_STR(sb_buf_str(&b), "cifar10-test.v2");
  sb_buf_reset(&b);
  report_file_component(&b, "abcdefgh", 3);
  CHECK_STR(sb_buf_str(&b), "abc");
  sb_buf_free(&b);

  b = (sb_buf){0};
  sb_buf_printf(&b, "%0300d|%s", 7, "tail"); /* longer than the printf fast path */
  CHECK(b.len == 305 && strcmp(b.data + 300, "|tail") == 0);
  sb_buf_free(&b);

  char err[256];
  CHECK(sb_errf(err, sizeof err, "line one\nline two") == -1);
  CHECK(strchr(err, '\n') == NULL);
  CHECK(sb_errf(NULL, 0, "nothing") == -1);
}

/* ---------------------------------------------------------------- ticks and plots */

static int ticks_labelled(const svg_ticks *t, const double *want, size_t n_want) {
  size_t k = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (!t->t[i].labelled)
      continue;
    if (k >= n_want || fabs(t->t[i].value - want[k]) > 1e-12 * fabs(want[k]))
      return 0;
    k++;
  }
  return k == n_want;
}

static int ticks_sane(const svg_ticks *t) {
  for (size_t i = 0; i < t->n; i++) {
    if (t->t[i].value < t->lo * (1 - 1e-9) - 1e-12 || t->t[i].value > t->hi * (1 + 1e-9) + 1e-12)
      return 0;
    if (i > 0 && !(t->t[i].value > t->t[i - 1].value))
      return 0;
  }
  return 1;
}

/* sb_buf_take (the harness's strings) and sb_buf_write_file's refusal of a failed buffer. */
static void test_buf_take(void) {
  sb_buf b = {0};
  char *s = sb_buf_take(&b); /* never appended to: still a string to free */
  CHECK_STR(s, "");
  CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && !b.failed);
  free(s);
  sb_buf_printf(&b, "%s=%d", "knob", 50);
  s = sb_buf_take(&b);
  CHECK_STR(s, "knob=50");
  CHECK(b.data == NULL && b.len == 0);
  free(s);
  sb_buf_puts(&b, "lost");
  b.failed = 1;
  CHECK(sb_buf_take(&b) == NULL);
  CHECK(b.data == NULL && !b.failed);

  char err[256] = "";
  sb_buf_puts(&b, "never written");
  b.failed = 1;
  CHECK(sb_buf_write_file(&b, "/nonexistent", "x.csv", err, sizeof err) == -1);
  CHECK_STR(err, "out of memory building '/nonexistent/x.csv'");
  CHECK(b.data == NULL && !b.failed);
}

static void test_ticks(void) {
  svg_ticks t;
  char lab[32];

  /* 1-2-5 within ~1.3 decades. */
  CHECK(svg_ticks_log(0.12, 2.4, &t) == 0);
  CHECK(t.log && t.lo < 0.12 && t.hi > 2.4 && ticks_sane(&t));
  CHECK(ticks_labelled(&t, (const double[]){0.2, 0.5, 1, 2}, 4));
  svg_tick_label(&t, 0.2, lab);
  CHECK_STR(lab, "0.2");
  svg_tick_label(&t, 1, lab);
  CHECK_STR(lab, "1");

  /* 3 decades: still 1-2-5. */
  CHECK(svg_ticks_log(0.011, 9.5, &t) == 0 && ticks_sane(&t));
  CHECK(ticks_labelled(&t, (const double[]){0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}, 10));

  /* Just over 8x with few 1-2-5 ticks inside: falls back to 1-2-3-5. */
  CHECK(svg_ticks_log(0.55, 4.6, &t) == 0 && ticks_sane(&t));
  CHECK(ticks_labelled(&t, (const double[]){1, 2, 3}, 3));
  svg_tick_label(&t, 3, lab);
  CHECK_STR(lab, "3");

  /* Narrow range: 1..9 mantissas. */
  CHECK(svg_ticks_log(2.1, 3.9, &t) == 0 && ticks_sane(&t));
  CHECK(ticks_labelled(&t, (const double[]){3}, 1) ||
        ticks_labelled(&t, (const double[]){2, 3}, 2) ||
        ticks_labelled(&t, (const double[]){3, 4}, 2));

  /* 6 decades: decades labelled, 2..9 as unlabelled minor ticks. */
  CHECK(svg_ticks_log(1e-3, 1e3, &t) == 0 && ticks_sane(&t));
  CHECK(ticks_labelled(&t, (const double[]){1e-3, 1e-2, 1e-1, 1, 10, 100, 1e3}, 7));
  size_t minor = 0;
  for (size_t i = 0; i < t.n; i++)
    minor += !t.t[i].labelled;
  CHECK(minor >= 8 * 6);
  svg_tick_label(&t, 1e-3, lab);
  CHECK_STR(lab, "0.001");

  /* 30 decades: every k-th decade labelled, at most 12 labels. */
  CHECK(svg_ticks_log(1e-15, 1e15, &t) == 0 && ticks_sane(&t));
  size_t labelled = 0;
  for (size_t i = 0; i < t.n; i++)
    labelled += t.t[i].labelled;
  CHECK(labelled >= 5 && labelled <= 13);

  /* Single value and invalid input. */
  CHECK(svg_ticks_log(0.5, 0.5, &t) == 0 && t.lo < 0.5 && t.hi > 0.5 && t.n >= 2);
  CHECK(svg_ticks_log(0, 1, &t) == -1);
  CHECK(svg_ticks_log(-1, 1, &t) == -1);
  CHECK(svg_ticks_log(2, 1, &t) == -1);
  CHECK(svg_ticks_log(NAN, 1, &t) == -1);
  CHECK(svg_ticks_log(1, INFINITY, &t) == -1);

  /* Linear 1-2-5 steps. */
  CHECK(svg_ticks_linear(27.3, 41.8, 5, &t) == 0 && ticks_sane(&t));
  CHECK(t.lo == 25 && t.hi == 45 && t.decimals == 0);
  CHECK(ticks_labelled(&t, (const double[]){25, 30, 35, 40, 45}, 5));
  CHECK(svg_ticks_linear(0.71, 0.96, 5, &t) == 0 && ticks_sane(&t));
  CHECK(t.decimals == 2 && fabs(t.lo - 0.70) < 1e-12 && fabs(t.hi - 1.0) < 1e-12);
  svg_tick_label(&t, t.t[1].value, lab);
  CHECK_STR(lab, "0.75");
  CHECK(svg_ticks_linear(-0.3, 0.3, 6, &t) == 0);
  int has_zero = 0;
  for (size_t i = 0; i < t.n; i++)
    if (t.t[i].value == 0) {
      svg_tick_label(&t, t.t[i].value, lab);
      has_zero = strcmp(lab, "0.0") == 0;
    }
  CHECK(has_zero);
  CHECK(svg_ticks_linear(5, 5, 5, &t) == 0 && t.lo < 5 && t.hi > 5);
  CHECK(svg_ticks_linear(0, 0, 5, &t) == 0 && t.lo < 0 && t.hi > 0);
  CHECK(svg_ticks_linear(3, 1, 5, &t) == 0 && t.lo <= 1 && t.hi >= 3); /* swapped */
  CHECK(svg_ticks_linear(NAN, 1, 5, &t) == -1);
}

/* A y coordinate (px) of the first element in s starting with `prefix`, read with `fmt`. */
static double svg_first_num(const char *s, const char *prefix, const char *fmt) {
  const char *at = strstr(s, prefix);
  double v = NAN;
  if (at && sscanf(at, fmt, &v) != 1)
    v = NAN;
  return v;
}

/* What the report needs for many codecs: distinct colour-marker pairs, one legend entry per
 * codec (the second series of a codec unlisted), a key to the line styles, CSS classes on
 * series and legend entries, error bars inside the y range, markers of every shape. */
static void test_svg_plot_codecs(void) {
  /* Palette: at least 10 distinct colours; colour-shape pairs distinct for 40 indices. */
  CHECK(SVG_PALETTE_SIZE >= 10 && SVG_MARKER_COUNT >= 8);
  for (size_t i = 0; i < SVG_PALETTE_SIZE; i++)
    for (size_t j = 0; j < i; j++)
      CHECK(strcmp(svg_palette(i), svg_palette(j)) != 0);
  for (size_t i = 0; i < 40; i++)
    for (size_t j = 0; j < i; j++)
      CHECK(strcmp(svg_palette(i), svg_palette(j)) != 0 || svg_marker_at(i) != svg_marker_at(j));

  svg_plot *p = svg_plot_new("codecs", "bpp", "accuracy [%]");
  CHECK(p != NULL);
  if (!p)
    return;
  enum { NC = 12 };
  for (int c = 0; c < NC; c++) {
    char label[32], cls[16];
    snprintf(label, sizeof label, "codec-%d", c);
    snprintf(cls, sizeof cls, "c%d", c);
    svg_style st = {
        .color = svg_palette((size_t)c), .marker = svg_marker_at((size_t)c), .css_class = cls};
    int k = svg_plot_add_series(p, label, st);
    st.dashed = 1;
    st.no_legend = 1;
    int kb = svg_plot_add_series(p, "targets", st);
    CHECK(k == 2 * c && kb == 2 * c + 1);
    /* Accuracy-like points with +-SE bars; the top one reaches 100 (a clipped bar). */
    for (int j = 0; j < 3; j++) {
      double y = 30 + 4 * c + 10 * j, e = j == 2 && c == NC - 1 ? 100 - y : 2.5;
      CHECK(svg_plot_add_point_err(p, k, 0.2 * (j + 1), y, y - e, y + e, 0) == 0);
    }
    CHECK(svg_plot_add_point_err(p, kb, 0.5, 35 + 4 * c, NAN, NAN, 0) == 0); /* no bar */
  }
  CHECK(svg_plot_add_legend_line(p, "knob grid", "#777777", 0) == 0);
  CHECK(svg_plot_add_legend_line(p, "bpp targets", "#777777", 1) == 0);
  sb_buf out = {0};
  CHECK(svg_plot_render(p, &out) == 0);
  const char *s = sb_buf_str(&out);
  CHECK(count_substr(s, "class=\"errbar\"") == 3 * NC);
  CHECK(count_substr(s, " legend\">") == NC);      /* one entry per codec ... */
  CHECK(count_substr(s, "<g class=\"c3\">") == 2); /* ... both series carry the class */
  CHECK(count_substr(s, "<g class=\"c3 legend\">") == 1);
  CHECK(strstr(s, ">knob grid</text>") && strstr(s, ">bpp targets</text>"));
  CHECK(strstr(s, ">targets</text>") == NULL);
  CHECK(strstr(s, "(bar 88 to 100)") != NULL); /* the tooltip gives the bar */
  /* Every bar inside the plot frame (the y range covers the bars). */
  double top = svg_first_num(s, "<rect x=\"66.00\" y=\"", "<rect x=\"66.00\" y=\"%lf");
  double fh = svg_first_num(s, "<rect x=\"66.00\" y=\"36.00\" width=\"",
                            "<rect x=\"66.00\" y=\"36.00\" width=\"%*f\" height=\"%lf");
  CHECK(top == 36 && fh > 0);
  for (const char *e = strstr(s, "class=\"errbar\" d=\"M"); e;
       e = strstr(e + 1, "class=\"errbar\" d=\"M")) {
    double x, y0, y1;
    CHECK(sscanf(e, "class=\"errbar\" d=\"M%lf %lfV%lf", &x, &y0, &y1) == 3);
    CHECK(y0 <= top + fh + 1e-9 && y1 >= top - 1e-9 && y1 < y0);
    if (!(y0 <= top + fh + 1e-9 && y1 >= top - 1e-9 && y1 < y0))
      fprintf(stderr, "  bar %g..%g px, frame %g+%g px\n", y0, y1, top, fh);
  }
  /* Legend right of the plot area, in the default size. */
  CHECK(strstr(s, "width=\"760\" height=\"420\"") != NULL);
  CHECK(strstr(s, "<script") == NULL);
  /* All shapes render; the icon is a small standalone SVG. */
  for (int m = 0; m < SVG_MARKER_COUNT; m++) {
    sb_buf icon = {0};
    CHECK(svg_marker_icon(&icon, (svg_style){.color = "#123456", .marker = (svg_marker)m}) == 0);
    const char *t = sb_buf_str(&icon);
    CHECK(strncmp(t, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"mk\"", 50) == 0);
    CHECK(count_substr(t, "fill=\"#123456\"") == 1 && strstr(t, "</svg>") != NULL);
    CHECK(m == SVG_MARKER_CIRCLE   ? strstr(t, "<circle") != NULL
          : m == SVG_MARKER_SQUARE ? strstr(t, "<rect") != NULL
                                   : strstr(t, "<polygon") != NULL);
    sb_buf_free(&icon);
  }
  sb_buf_free(&out);
  svg_plot_free(p);
}

static void test_svg_plot(void) {
  svg_plot *p = svg_plot_new("T <&>", "bpp", "PSNR");
  CHECK(p != NULL);
  if (!p)
    return;
  int a = svg_plot_add_series(p, HOSTILE,
                              (svg_style){.color = svg_palette(0), .marker = SVG_MARKER_CIRCLE});
  int b = svg_plot_add_series(
      p, "b (bpp targets)",
      (svg_style){.color = svg_palette(1), .dashed = 1, .marker = SVG_MARKER_SQUARE});
  CHECK(a == 0 && b == 1);
  CHECK(svg_plot_add_point(p, a, 0.1, 25, 0) == 0);
  CHECK(svg_plot_add_point(p, a, 1.0, 35, SVG_POINT_HOLLOW) == 0);
  CHECK(svg_plot_add_point(p, a, NAN, 30, 0) == 0); /* skipped */
  CHECK(svg_plot_add_point(p, b, 0.2, 27, 0) == 0);
  CHECK(svg_plot_add_point(p, b, 0.4, 29, 0) == 0);
  CHECK(svg_plot_add_point(p, 7, 1, 1, 0) == -1);
  sb_buf out = {0};
  CHECK(svg_plot_render(p, &out) == 0);
  const char *s = sb_buf_str(&out);
  CHECK(count_substr(s, "<svg") == 1 && count_substr(s, "</svg>") == 1);
  CHECK(strstr(s, "<script") == NULL);
  CHECK(strstr(s, "T &lt;&amp;&gt;") != NULL);
  CHECK(strstr(s, "(log scale)") != NULL); /* 0.1..1.0 is 10x > 8x */
  CHECK(count_substr(s, "<polyline") == 2);
  CHECK(count_substr(s, "stroke-dasharray") == 2); /* series b line + its legend sample */
  char hollow[64];
  snprintf(hollow, sizeof hollow, "fill=\"#ffffff\" stroke=\"%s\"", svg_palette(0));
  CHECK(count_substr(s, hollow) == 1);                      /* one hollow marker */
  CHECK(strstr(s, "errbar") == NULL);                       /* no error bars asked for */
  CHECK(strstr(s, "&lt;script&gt;alert(1)&lt;/s") != NULL); /* legend truncated ... */
  CHECK(strstr(s, "\xE2\x80\xA6</text>") == NULL);          /* (title inside text) */
  CHECK(count_substr(s, "\xE2\x80\xA6<title>") == 1);       /* ... with an ellipsis */
  CHECK(strstr(s, HOSTILE_HTML) != NULL);                   /* full in <title> */
  sb_buf_free(&out);

  /* Linear x when the range is small; many series grow the height for the legend. */
  svg_plot_free(p);
  p = svg_plot_new("many", "x", "y");
  CHECK(p != NULL);
  if (!p)
    return;
  for (int i = 0; i < 40; i++) {
    char name[16];
    snprintf(name, sizeof name, "s%d", i);
    int k = svg_plot_add_series(p, name,
                                (svg_style){.color = svg_palette((size_t)i),
                                            .dashed = i % 2,
                                            .marker = SVG_MARKER_DIAMOND});
    CHECK(k == i);
    CHECK(svg_plot_add_point(p, k, 1 + i * 0.01, i, 0) == 0);
  }
  out = (sb_buf){0};
  CHECK(svg_plot_render(p, &out) == 0);
  s = sb_buf_str(&out);
  CHECK(strstr(s, "(log scale)") == NULL);
  int h = 0;
  CHECK(sscanf(strstr(s, "height=\"") + 8, "%d", &h) == 1 && h >= 40 * 18);
  sb_buf_free(&out);
  svg_plot_free(p);

  /* Legend below: the plot area gives up height, the SVG keeps the size asked for. */
  p = svg_plot_new("below", "x", "y");
  CHECK(p != NULL);
  if (!p)
    return;
  svg_plot_set_size(p, 560, 380);
  svg_plot_set_legend(p, SVG_LEGEND_BELOW);
  for (int i = 0; i < 5; i++) {
    int k = svg_plot_add_series(
        p, "series", (svg_style){.color = svg_palette((size_t)i), .marker = SVG_MARKER_TRIANGLE});
    CHECK(svg_plot_add_point(p, k, i, i, 0) == 0);
  }
  out = (sb_buf){0};
  CHECK(svg_plot_render(p, &out) == 0);
  s = sb_buf_str(&out);
  CHECK(strstr(s, "width=\"560\" height=\"380\"") != NULL);
  const char *frame = strstr(s, "<rect x=\"66.00\" y=\"36.00\" width=\"");
  double fw = 0, fh = 0;
  CHECK(frame &&
        sscanf(frame, "<rect x=\"66.00\" y=\"36.00\" width=\"%lf\" height=\"%lf\"", &fw, &fh) == 2);
  CHECK(fw == 560 - 66 - 20 && fh == 380 - 36 - 50 - (3 * 18 + 8)); /* 2 columns, 3 rows */
  sb_buf_free(&out);
  svg_plot_free(p);

  test_svg_plot_codecs();

  /* No data at all. */
  p = svg_plot_new("empty", "x", "y");
  CHECK(p != NULL);
  if (!p)
    return;
  out = (sb_buf){0};
  CHECK(svg_plot_render(p, &out) == 0);
  CHECK(strstr(sb_buf_str(&out), "no data") != NULL);
  sb_buf_free(&out);
  svg_plot_free(p);
}

/* ---------------------------------------------------------------- test database */

/* Run 2 is the one under test; run 1 is a decoy whose rows must never show up. */
static const char k_data_sql[] =
    "INSERT INTO runs (id, suite_name, suite_path, suite_hash, command, started_at, ended_at,"
    " status, git_revision, host, threads, library_versions, saicbench_version) VALUES"
    " (1, 'decoy-suite', NULL, 'h1', NULL, '2024-04-30T00:00:00Z', NULL, 'complete', NULL, NULL,"
    "  NULL, NULL, NULL),"
    " (2, 'nightly <b>', '/suites/nightly.yaml', 'abc123', 'saicbench run --suite \"n\"',"
    "  '2024-05-01T00:00:00Z', '2024-05-01T01:00:00Z', 'complete', 'deadbeef1234', 'host<1>', 2,"
    "  '{\"libjpeg-turbo\": \"2.1.5\", \"libwebp\": \"1.2.4\", \"openjpeg\": \"2.5.0 <i>&\"}',"
    "  '0.1.0');"
    "INSERT INTO datasets (id, run_id, name, path, kind, content_hash, n_images, n_classes,"
    " class_names, selection) VALUES"
    " (5, 1, 'decoy-data', '/d', 'plain-folder', 'x', 1, 0, NULL, NULL),"
    " (10, 2, 'cifar10-test', '/data/cifar10', 'cifar-binary', 'c0ffee', 100, 10, NULL,"
    "  'limit=100'),"
    " (11, 2, 'kodak', '/data/kodak', 'plain-folder', 'f00d', 24, 0, NULL, NULL);"
    "INSERT INTO codecs (id, run_id, label, codec, library_version, settings, knob_name,"
    " plugin_path) VALUES"
    " (30, 1, 'jpeg-decoy', 'jpeg', NULL, '{}', 'quality', NULL),"
    " (20, 2, 'jpeg', 'jpeg', 'libjpeg-turbo 2.1.5', '{\"subsampling\": \"420\"}', 'quality',"
    "  NULL),"
    " (21, 2, 'webp', 'webp', 'libwebp 1.2.4', '{}', 'quality', NULL),"
    " (22, 2, '<script>alert(1)</script>&\"x''', 'j2k',"
    "  'openjpeg <2.5>' || CAST(X'FF' AS TEXT)," /* invalid UTF-8 */
    "  '{\"note\": \"</code><script>x</script>\"}', 'ratio', '/p/<evil>.so');"
    "INSERT INTO points (id, codec_id, kind, value) VALUES"
    " (130, 30, 'knob', 50),"
    " (100, 20, 'knob', 10), (101, 20, 'knob', 50), (102, 20, 'knob', 90),"
    " (103, 20, 'bpp', 0.25), (104, 20, 'bpp', 0.5), (105, 20, 'bpp', 1.0),"
    " (110, 21, 'knob', 20), (111, 21, 'knob', 80),"
    " (120, 22, 'knob', 10), (121, 22, 'knob', 40), (122, 22, 'knob', 160),"
    " (123, 22, 'bpp', 0.1);"
    /* point, dataset, n, n_errors, n_unreachable, knob, bpp, stream_bpp, psnr, psnr_mean_mse,
     * ssim, ms_ssim, encode_ms, decode_ms */
    "INSERT INTO aggregates (point_id, dataset_id, n, n_errors, n_unreachable, mean_knob,"
    " mean_bpp, mean_stream_bpp, mean_psnr, psnr_of_mean_mse, mean_ssim, mean_ms_ssim,"
    " mean_encode_ms, mean_decode_ms) VALUES"
    " (130, 5, 1, 0, 0, 50, 1.0, 0.9, 30, 30, 0.9, NULL, 1, 1),"
    " (130, 10, 1, 0, 0, 50, 1.0, 0.9, 30, 30, 0.9, NULL, 1, 1)," /* other run's point */
    " (102, 10, 100, 0, 0, 90, 3.1, 2.2, 38.5, 38.1, 0.985, NULL, 0.21, 0.11),"
    " (100, 10, 100, 0, 0, 10, 0.62, 0.3, 24.1, 23.8, 0.781, NULL, 0.15, 0.09),"
    " (101, 10, 100, 0, 0, 50, 1.31, 0.8, 31.123456789012345, 30.9, 0.9123, NULL, 0.17, 0.1),"
    " (103, 10, 100, 0, 3, 12.5, 0.29, 0.1, 22.0, 21.5, 0.70, NULL, 0.9, 0.1),"
    " (104, 10, 100, 0, 0, 31.2, 0.5, 0.25, 27.0, 26.8, 0.85, NULL, 0.8, 0.1),"
    " (105, 10, 98, 2, 0, 75.0, 1.0, 0.7, 33.0, 32.6, 0.95, NULL, 0.85, 0.1),"
    " (110, 10, 100, 0, 0, 20, 0.45, 0.4, 27.5, 27.2, 0.86, NULL, 0.5, 0.2),"
    " (111, 10, 100, 0, 0, 80, 1.6, 1.5, 35.1, 34.9, 0.97, NULL, 0.6, 0.25),"
    " (120, 10, 100, 0, 0, 10, 2.4, 2.3, 36.0, 35.8, 0.975, NULL, 1.5, 1.2),"
    " (121, 10, 100, 0, 0, 40, 0.6, 0.55, 28.0, 27.8, 0.88, NULL, 1.4, 1.1),"
    " (122, 10, 100, 0, 0, 160, 0.15, 0.14, 21.0, 20.9, 0.65, NULL, 1.3, 1.0),"
    " (123, 10, 0, 100, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),"
    " (100, 11, 24, 0, 0, 10, 0.25, 0.2, 26.0, 25.8, 0.72, 0.88, 12.0, 6.0),"
    " (101, 11, 24, 0, 0, 50, 0.8, 0.75, 32.0, 31.7, 0.90, 0.96, 14.0, 7.0),"
    " (102, 11, 24, 0, 0, 90, 2.0, 1.95, 38.0, 37.5, 0.97, 0.99, 17.0, 8.0),"
    " (103, 11, 24, 0, 0, 18.0, 0.25, 0.2, 26.1, 25.9, 0.72, 0.88, 60.0, 6.0),"
    " (104, 11, 24, 0, 0, 40.0, 0.5, 0.45, 29.8, 29.5, 0.85, 0.94, 65.0, 6.5),"
    " (105, 11, 24, 0, 0, 70.0, 1.0, 0.95, 33.5, 33.0, 0.93, 0.975, 70.0, 7.0),"
    " (110, 11, 24, 0, 0, 20, 0.3, 0.29, 28.0, 27.7, 0.80, 0.92, NULL, 9.0),"
    " (111, 11, 24, 0, 0, 80, 1.2, 1.19, 36.0, 35.6, 0.95, 0.985, 40.0, 10.0),"
    " (120, 11, 24, 0, 0, 10, 2.4, 2.38, 40.0, 39.5, 0.98, 0.995, 90.0, 80.0),"
    " (121, 11, 24, 0, 0, 40, 0.6, 0.59, 31.0, 30.6, 0.88, NULL, 85.0, 75.0),"
    " (122, 11, 24, 0, 0, 160, 0.15, 0.149, 25.0, 24.8, 0.68, 0.85, 80.0, 70.0);"
    /* 123 x kodak deliberately missing (an incomplete run) */
    "INSERT INTO runs (id, suite_name, suite_hash, started_at, status) VALUES"
    " (3, 'empty', 'e', '2024-05-02T00:00:00Z', 'running');";

static int exec_sql(sqlite3 *db, const char *sql, const char *what) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", what, msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static sqlite3 *open_schema_db(const char *path, const char *schema_sql) {
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    fprintf(stderr, "cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_close(db);
    return NULL;
  }
  /* Stamped as store_open stamps a new file, so that the reports open it as a store. */
  if (exec_sql(db, schema_sql, "schema") ||
      exec_sql(db, "PRAGMA user_version = 3; PRAGMA application_id = 1396851778", "stamp")) {
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

/* ---------------------------------------------------------------- CSV checks */

typedef struct csv_table {
  char ***rows; /* rows[i][j] */
  size_t *n_fields;
  size_t n_rows;
} csv_table;

/* Strict RFC 4180 parser: CRLF records, quoted fields with "" escapes. Returns -1 on any
 * deviation (bare CR/LF outside quotes, text after a closing quote, missing final CRLF). */
static int csv_parse(const char *s, csv_table *t) {
  memset(t, 0, sizeof *t);
  size_t cap_rows = 0;
  while (*s) {
    if (t->n_rows == cap_rows) {
      cap_rows = cap_rows ? 2 * cap_rows : 16;
      t->rows = realloc(t->rows, cap_rows * sizeof *t->rows);
      t->n_fields = realloc(t->n_fields, cap_rows * sizeof *t->n_fields);
    }
    char **fields = NULL;
    size_t nf = 0;
    for (;;) {
      sb_buf f = {0};
      sb_buf_append(&f, "", 0);
      if (*s == '"') {
        s++;
        for (;;) {
          if (!*s)
            return -1;
          if (*s == '"' && s[1] == '"') {
            sb_buf_append(&f, "\"", 1);
            s += 2;
          } else if (*s == '"') {
            s++;
            break;
          } else {
            sb_buf_append(&f, s++, 1);
          }
        }
      } else {
        while (*s && *s != ',' && *s != '\r' && *s != '\n') {
          if (*s == '"')
            return -1;
          sb_buf_append(&f, s++, 1);
        }
      }
      fields = realloc(fields, (nf + 1) * sizeof *fields);
      fields[nf++] = f.data;
      if (*s == ',') {
        s++;
        continue;
      }
      if (s[0] == '\r' && s[1] == '\n') {
        s += 2;
        break;
      }
      return -1;
    }
    t->rows[t->n_rows] = fields;
    t->n_fields[t->n_rows++] = nf;
  }
  return 0;
}

static void csv_free(csv_table *t) {
  for (size_t i = 0; i < t->n_rows; i++) {
    for (size_t j = 0; j < t->n_fields[i]; j++)
      free(t->rows[i][j]);
    free(t->rows[i]);
  }
  free(t->rows);
  free(t->n_fields);
}

static const char *const k_csv_header[] = {
    "codec",         "codec_name", "point_kind", "point_value", "n",    "n_errors",
    "n_unreachable", "mean_knob",  "bpp",        "stream_bpp",  "psnr", "psnr_of_mean_mse",
    "ssim",          "ms_ssim",    "encode_ms",  "decode_ms"};

/* Compares every CSV row with the database row it came from, column by column. */
static void check_csv(sqlite3 *db, const char *dir, const char *file, int64_t dataset_id,
                      size_t want_rows) {
  char path[4096];
  PATHF(path, "%s/%s", dir, file);
  char *text = read_file(path, NULL);
  CHECK(text != NULL);
  if (!text)
    return;
  csv_table t;
  int prc = csv_parse(text, &t);
  CHECK(prc == 0);
  free(text);
  if (prc != 0)
    return;
  CHECK(t.n_rows == want_rows + 1);
  CHECK(t.n_fields[0] == 16);
  for (size_t j = 0; j < 16 && j < t.n_fields[0]; j++)
    CHECK_STR(t.rows[0][j], k_csv_header[j]);

  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(db,
                           "SELECT c.label, c.codec, p.kind, p.value, a.n, a.n_errors, "
                           "a.n_unreachable, a.mean_knob, a.mean_bpp, a.mean_stream_bpp, "
                           "a.mean_psnr, a.psnr_of_mean_mse, a.mean_ssim, a.mean_ms_ssim, "
                           "a.mean_encode_ms, a.mean_decode_ms FROM aggregates a "
                           "JOIN points p ON p.id = a.point_id JOIN codecs c ON c.id = p.codec_id "
                           "WHERE a.dataset_id = ?1 AND c.label = ?2 AND p.kind = ?3 "
                           "AND p.value = ?4",
                           -1, &st, NULL) == SQLITE_OK);
  const char *prev_label = NULL, *prev_kind = NULL;
  double prev_bpp = -1;
  for (size_t i = 1; i < t.n_rows; i++) {
    char **f = t.rows[i];
    CHECK(t.n_fields[i] == 16);
    if (t.n_fields[i] != 16)
      continue;
    /* Sorted: label, knob before bpp, bpp ascending (empty last). */
    if (prev_label) {
      int c = strcmp(prev_label, f[0]);
      CHECK(c <= 0);
      if (c == 0) {
        CHECK(!(strcmp(prev_kind, "bpp") == 0 && strcmp(f[2], "knob") == 0));
        if (strcmp(prev_kind, f[2]) == 0 && f[8][0])
          CHECK(prev_bpp <= strtod(f[8], NULL));
      }
    }
    prev_label = f[0];
    prev_kind = f[2];
    prev_bpp = f[8][0] ? strtod(f[8], NULL) : INFINITY;

    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, dataset_id);
    sqlite3_bind_text(st, 2, f[0], -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, f[2], -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, strtod(f[3], NULL));
    int rc = sqlite3_step(st);
    CHECK(rc == SQLITE_ROW);
    if (rc != SQLITE_ROW) {
      fprintf(stderr, "  CSV row %zu (%s, %s, %s) not in database\n", i, f[0], f[2], f[3]);
      continue;
    }
    CHECK_STR(f[1], (const char *)sqlite3_column_text(st, 1));
    for (int j = 3; j < 16; j++) {
      if (sqlite3_column_type(st, j) == SQLITE_NULL) {
        CHECK(f[j][0] == '\0');
      } else {
        char *end;
        double v = strtod(f[j], &end);
        CHECK(*f[j] && *end == '\0');
        CHECK(v == sqlite3_column_double(st, j)); /* exact round trip */
      }
    }
  }
  sqlite3_finalize(st);
  csv_free(&t);
}

/* ---------------------------------------------------------------- JSON checks */

/* A CompressAI-style file: name, description, and in "results" equal-length arrays without a
 * null (a metric with any NULL value is left out), "bpp" sorted, "psnr" = "psnr-rgb";
 * "ms-ssim-rgb" present exactly when want_ms. */
static void check_json(const char *dir, const char *file, const char *want_name, size_t want_n,
                       int want_ms, const char *ds_name) {
  char path[4096];
  PATHF(path, "%s/%s", dir, file);
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  CHECK(root != NULL);
  if (!root) {
    fprintf(stderr, "  %s: %s\n", path, jerr.text);
    return;
  }
  CHECK(json_is_object(root));
  CHECK_STR(json_string_value(json_object_get(root, "name")), want_name);
  const char *desc = json_string_value(json_object_get(root, "description"));
  CHECK(desc && strstr(desc, "run 2") && strstr(desc, ds_name));
  json_t *res = json_object_get(root, "results");
  CHECK(json_is_object(res) && json_object_size(res) >= 4);
  const char *key;
  json_t *a;
  json_object_foreach(res, key, a) {
    CHECK(json_is_array(a) && json_array_size(a) == want_n);
    for (size_t i = 0; i < json_array_size(a); i++)
      CHECK(json_is_number(json_array_get(a, i)));
  }
  CHECK(json_object_get(res, "psnr-rgb") &&
        json_equal(json_object_get(res, "psnr"), json_object_get(res, "psnr-rgb")));
  CHECK(json_object_get(res, "ssim-rgb") != NULL);
  json_t *bpp = json_object_get(res, "bpp");
  for (size_t i = 1; i < json_array_size(bpp); i++)
    CHECK(json_number_value(json_array_get(bpp, i - 1)) <=
          json_number_value(json_array_get(bpp, i)));
  CHECK((json_object_get(res, "ms-ssim-rgb") != NULL) == (want_ms != 0));
  json_decref(root);
}

/* What CompressAI's plot script (compressai/utils/plot/__main__.py) does with each file, in
 * Python: json.load, results = data["results"], the metric given by -m ("psnr" in older
 * versions, "psnr-rgb" now) must be a key, then xs = results["bpp"], ys = results[metric] are
 * plotted, i.e. turned into floats (float(None) raises; "ms-ssim" is first converted to dB).
 * Every metric is tried. Also: no array anywhere in the file is all null. Skipped without
 * python3. */
static const char k_plot_check_py[] =
    "import glob, json, math, os, sys\n"
    "files = sorted(glob.glob(os.path.join(sys.argv[1], 'compressai_*.json')))\n"
    "assert files, 'no compressai_*.json in ' + sys.argv[1]\n"
    "def walk(v, where):\n"
    "    if isinstance(v, list):\n"
    "        assert not v or any(x is not None for x in v), 'all-null array: ' + where\n"
    "        for i, x in enumerate(v):\n"
    "            walk(x, '%s[%d]' % (where, i))\n"
    "    elif isinstance(v, dict):\n"
    "        for k, x in v.items():\n"
    "            walk(x, where + '.' + k)\n"
    "for f in files:\n"
    "    with open(f, encoding='utf-8') as fh:\n"
    "        data = json.load(fh)\n"
    "    walk(data, os.path.basename(f))\n"
    "    results = data['results'] if 'results' in data else data\n"
    "    for metric in ('psnr', 'psnr-rgb'):\n"
    "        assert metric in results, '%s: no %s (the -m default)' % (f, metric)\n"
    "    xs = results['bpp']\n"
    "    for metric, ys in results.items():\n"
    "        assert len(ys) == len(xs), (f, metric)\n"
    "        if metric.startswith('ms-ssim'):\n"
    "            ys = [-10 * math.log10(1 - y) if y < 1 else y for y in ys]\n"
    "        pts = [(float(x), float(y)) for x, y in zip(xs, ys)]\n"
    "        assert all(math.isfinite(v) for p in pts for v in p), (f, metric)\n"
    "print('plot-script check: %d files' % len(files))\n";

static void check_json_plot_script(const char *dir) {
  if (system("test -x /usr/bin/python3") != 0) {
    fprintf(stderr, "note: /usr/bin/python3 missing; skipped the plot-script check\n");
    return;
  }
  char cmd[4200];
  PATHF(cmd, "/usr/bin/python3 - '%s'", dir);
  FILE *py = popen(cmd, "w");
  CHECK(py != NULL);
  if (!py)
    return;
  fputs(k_plot_check_py, py);
  int st = pclose(py);
  if (st != 0)
    fprintf(stderr, "  the CompressAI plot-script check failed on %s\n", dir);
  CHECK(st == 0);
}

/* ---------------------------------------------------------------- HTML checks */

static int is_name_char(char c) {
  return isalnum((unsigned char)c) || c == '-' || c == '_' || c == ':';
}

/* Checks '&' starts one of the XML entities or a numeric reference. */
static int entity_ok(const char *s) {
  static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
  for (size_t i = 0; i < 5; i++)
    if (strncmp(s, named[i], strlen(named[i])) == 0)
      return 1;
  if (s[1] != '#')
    return 0;
  const char *p = s + 2;
  int hex = *p == 'x';
  p += hex;
  const char *digits = p;
  while (hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p))
    p++;
  return p > digits && *p == ';';
}

/* Minimal well-formedness check (XML rules, which our HTML follows): tags balance and nest,
 * attribute values are quoted without '<', text has no raw '<' or '>', entities are valid.
 * Returns NULL when fine, else a static description. */
static const char *check_well_formed(const char *s) {
  const char *stack[256];
  size_t lens[256], depth = 0;
  int root_seen = 0;
  while (*s) {
    if (*s == '&') {
      if (!entity_ok(s))
        return "bad entity in text";
      s++;
      continue;
    }
    if (*s == '>')
      return "raw '>' in text";
    if (*s != '<') {
      s++;
      continue;
    }
    if (strncmp(s, "<!--", 4) == 0) {
      const char *e = strstr(s, "-->");
      if (!e)
        return "unterminated comment";
      s = e + 3;
      continue;
    }
    if (strncmp(s, "<!DOCTYPE", 9) == 0) {
      const char *e = strchr(s, '>');
      if (!e)
        return "unterminated doctype";
      s = e + 1;
      continue;
    }
    int closing = s[1] == '/';
    const char *name = s + 1 + closing;
    const char *p = name;
    while (is_name_char(*p))
      p++;
    size_t nlen = (size_t)(p - name);
    if (nlen == 0)
      return "'<' not starting a tag";
    if (closing) {
      if (*p != '>')
        return "junk in closing tag";
      if (depth == 0 || lens[depth - 1] != nlen || strncmp(stack[depth - 1], name, nlen) != 0)
        return "mismatched closing tag";
      depth--;
      s = p + 1;
      continue;
    }
    /* attributes */
    for (;;) {
      while (*p == ' ' || *p == '\n' || *p == '\t')
        p++;
      if (*p == '>' || (p[0] == '/' && p[1] == '>'))
        break;
      const char *an = p;
      while (is_name_char(*p))
        p++;
      if (p == an || *p != '=' || p[1] != '"')
        return "malformed attribute";
      p += 2;
      while (*p && *p != '"') {
        if (*p == '<')
          return "'<' in attribute value";
        if (*p == '&' && !entity_ok(p))
          return "bad entity in attribute";
        p++;
      }
      if (*p != '"')
        return "unterminated attribute";
      p++;
    }
    if (*p == '/') {
      s = p + 2; /* self-closing */
      continue;
    }
    if (depth == 0 && root_seen)
      return "second root element";
    if (depth == 256)
      return "too deep";
    root_seen = 1;
    stack[depth] = name;
    lens[depth++] = nlen;
    s = p + 1;
  }
  return depth == 0 && root_seen ? NULL : "unclosed elements";
}

static void check_html(const char *dir, size_t want_svgs) {
  char path[4096];
  PATHF(path, "%s/report.html", dir);
  char *html = read_file(path, NULL);
  CHECK(html != NULL);
  if (!html)
    return;
  /* No hostile string survives unescaped anywhere. */
  CHECK(strstr(html, "<script") == NULL);
  CHECK(strstr(html, "<SCRIPT") == NULL);
  CHECK(strstr(html, "alert(1)</") == NULL);
  CHECK(strstr(html, "&\"x'") == NULL);
  CHECK(strstr(html, "<b>") == NULL && strstr(html, "<i>") == NULL);
  CHECK(strstr(html, "<evil>") == NULL && strstr(html, "<2.5>") == NULL);
  CHECK(strstr(html, "host<1>") == NULL);
  CHECK(strstr(html, HOSTILE_HTML) != NULL);
  CHECK(strstr(html, "nightly &lt;b&gt;") != NULL);
  CHECK(strstr(html, "&lt;/code&gt;&lt;script&gt;x&lt;/script&gt;") != NULL);
  CHECK(strstr(html, "openjpeg &lt;2.5&gt;\xEF\xBF\xBD</td>") != NULL); /* bad UTF-8 repaired */
  /* Metadata, parsed library versions. */
  CHECK(strstr(html, "deadbeef1234") != NULL);
  CHECK(strstr(html, "<th>libjpeg-turbo</th><td>2.1.5</td>") != NULL);
  CHECK(strstr(html, "<th>openjpeg</th><td>2.5.0 &lt;i&gt;&amp;</td>") != NULL);
  CHECK(strstr(html, "2024-05-01T01:00:00Z") != NULL);
  /* The decoy run never leaks in. */
  CHECK(strstr(html, "decoy") == NULL);
  /* Plots: one <svg class="plot"> per expected plot; the other <svg> are marker icons (codecs
   * table, codec switches). */
  CHECK(count_substr(html, PLOT_SVG) == want_svgs);
  CHECK(count_substr(html, "</svg>") == count_substr(html, "<svg"));
  CHECK(count_substr(html, "<svg") - want_svgs == count_substr(html, "class=\"mk\""));
  CHECK(strstr(html, "Rate\xE2\x80\x93MS-SSIM: kodak") != NULL);
  CHECK(strstr(html, "Rate\xE2\x80\x93MS-SSIM: cifar10-test") == NULL);
  /* Flags: unreachable row, missing aggregates warning. */
  CHECK(count_substr(html, "<tr class=\"unreach\">") == 1);
  CHECK(strstr(html, "1 grid point(s) of this run have no aggregates") != NULL);
  /* No external resources or scripts: the only src= are inline PNGs (example images). */
  for (const char *p = strstr(html, "src="); p; p = strstr(p + 4, "src="))
    CHECK(strncmp(p, "src=\"data:image/png;base64,", 27) == 0);
  CHECK(strstr(html, "href=") == NULL);
  /* The BD anchor defaults to the codec labelled jpeg; the run stored no thumbnails. */
  CHECK(strstr(html, "ntegaard deltas against jpeg (knob grids)") != NULL);
  CHECK(strstr(html,
               "not comparable: fewer than 4 points (distinct rates: anchor 3, this codec 2)") !=
        NULL);
  CHECK(count_substr(html, "The run stored no example images for this dataset") == 2);
  CHECK(strstr(html, "data:image") == NULL);
  CHECK(strstr(html, "@import") == NULL && strstr(html, "url(") == NULL);
  const char *wf = check_well_formed(html);
  if (wf)
    fprintf(stderr, "  report.html not well-formed: %s\n", wf);
  CHECK(wf == NULL);
  free(html);

  /* xmllint (libxml2-utils), when installed, as an independent XML parser. */
  if (system("command -v xmllint >/dev/null 2>&1") == 0) {
    char cmd[4400];
    PATHF(cmd, "xmllint --noout '%s'", path);
    CHECK(system(cmd) == 0);
  } else {
    fprintf(stderr, "note: xmllint not installed; skipped the XML parser check\n");
  }
}

static int dir_has_prefix(const char *dir, const char *prefix) {
  char cmd[4200];
  PATHF(cmd, "ls -a '%s' | grep -q '^%s'", dir, prefix);
  return system(cmd) == 0;
}

static int dir_has_tmp(const char *dir) {
  char cmd[4200];
  PATHF(cmd, "ls -a '%s' | grep -q '\\.tmp$'", dir);
  return system(cmd) == 0;
}

/* ---------------------------------------------------------------- end to end */

static void test_end_to_end(const char *schema_path, const char *work, const char *keep_dir) {
  char *schema = read_file(schema_path, NULL);
  CHECK(schema != NULL);
  if (!schema) {
    fprintf(stderr, "cannot read schema %s\n", schema_path);
    return;
  }
  char path[4096], out[4096], err[512];
  PATHF(path, "%s/test.db", work);
  sqlite3 *db = open_schema_db(path, schema);
  CHECK(db != NULL);
  if (!db) {
    free(schema);
    return;
  }
  /* A schema-version-1 database: no task tables at all, nor the metric columns of version 3.
   * It must report exactly as before. */
  CHECK(exec_sql(db,
                 "DROP TABLE task_aggregates; DROP TABLE task_results; DROP TABLE task_refs;"
                 " DROP TABLE tasks; PRAGMA user_version = 1;"
                 " DROP VIEW result_rows; DROP VIEW point_summary; DROP VIEW task_result_rows;"
                 " DROP VIEW task_point_summary;"
                 " ALTER TABLE results DROP COLUMN psnr_y; ALTER TABLE results DROP COLUMN psnr_cb;"
                 " ALTER TABLE results DROP COLUMN psnr_cr;"
                 " ALTER TABLE results DROP COLUMN psnr_ycbcr;"
                 " ALTER TABLE results DROP COLUMN ciede2000;"
                 " ALTER TABLE results DROP COLUMN butteraugli_max;"
                 " ALTER TABLE results DROP COLUMN butteraugli_3norm;"
                 " ALTER TABLE aggregates DROP COLUMN mean_psnr_y;"
                 " ALTER TABLE aggregates DROP COLUMN mean_psnr_cb;"
                 " ALTER TABLE aggregates DROP COLUMN mean_psnr_cr;"
                 " ALTER TABLE aggregates DROP COLUMN mean_psnr_ycbcr;"
                 " ALTER TABLE aggregates DROP COLUMN mean_ciede2000;"
                 " ALTER TABLE aggregates DROP COLUMN mean_butteraugli_max;"
                 " ALTER TABLE aggregates DROP COLUMN mean_butteraugli_3norm;",
                 "v1 schema") == 0);
  CHECK(exec_sql(db, k_data_sql, "test data") == 0);

  int64_t latest = 0;
  store *latest_store = open_store(db, err, sizeof err);
  CHECK(latest_store && results_latest_run(latest_store, &latest, err, sizeof err) == 0 &&
        latest == 3);
  store_close(latest_store);

  if (keep_dir)
    PATHF(out, "%s", keep_dir);
  else
    PATHF(out, "%s/out/nested", work); /* parents created too */
  int rc = report_write_db(db, 2, out, err, sizeof err);
  if (rc)
    fprintf(stderr, "report_write: %s\n", err);
  CHECK(rc == 0);

  check_csv(db, out, "points_cifar10-test.csv", 10, 12);
  check_csv(db, out, "points_kodak.csv", 11, 11);
  CHECK(!file_exists(out, "points_decoy-data.csv"));

  /* CIFAR-10: MS-SSIM undefined (NULL) at every point, so no "ms-ssim-rgb" at all. */
  check_json(out, "compressai_jpeg_cifar10-test.json", "jpeg", 3, 0, "cifar10-test");
  check_json(out, "compressai_jpeg_cifar10-test_bpp.json", "jpeg (bpp targets)", 3, 0,
             "cifar10-test");
  check_json(out, "compressai_webp_cifar10-test.json", "webp", 2, 0, "cifar10-test");
  check_json(out, "compressai_" HOSTILE_FILE "_cifar10-test.json", HOSTILE, 3, 0, "cifar10-test");
  /* Its only bpp point has no bpp (every image failed): no file. */
  CHECK(!file_exists(out, "compressai_" HOSTILE_FILE "_cifar10-test_bpp.json"));
  check_json(out, "compressai_jpeg_kodak.json", "jpeg", 3, 1, "kodak");
  check_json(out, "compressai_jpeg_kodak_bpp.json", "jpeg (bpp targets)", 3, 1, "kodak");
  check_json(out, "compressai_webp_kodak.json", "webp", 2, 1, "kodak");
  /* One NULL MS-SSIM (knob 40): the whole metric is left out. */
  check_json(out, "compressai_" HOSTILE_FILE "_kodak.json", HOSTILE, 3, 0, "kodak");
  CHECK(!file_exists(out, "compressai_" HOSTILE_FILE "_kodak_bpp.json"));
  CHECK(!file_exists(out, "compressai_webp_kodak_bpp.json"));

  /* Exact values in JSON: times in seconds, metrics with a NULL left out, order by bpp. */
  PATHF(path, "%s/compressai_" HOSTILE_FILE "_kodak.json", out);
  json_t *j = json_load_file(path, 0, NULL);
  json_t *res = json_object_get(j, "results");
  CHECK(fabs(json_number_value(json_array_get(json_object_get(res, "bpp"), 0)) - 0.15) < 1e-12);
  CHECK(fabs(json_number_value(json_array_get(json_object_get(res, "encoding_time"), 0)) - 0.080) <
        1e-12);
  CHECK(fabs(json_number_value(json_array_get(json_object_get(res, "psnr"), 0)) - 25.0) < 1e-12);
  json_decref(j);
  PATHF(path, "%s/compressai_webp_kodak.json", out);
  j = json_load_file(path, 0, NULL);
  res = json_object_get(j, "results");
  CHECK(json_object_get(res, "encoding_time") == NULL); /* NULL at knob 20 */
  CHECK(fabs(json_number_value(json_array_get(json_object_get(res, "decoding_time"), 1)) - 0.010) <
        1e-12);
  CHECK(json_array_size(json_object_get(res, "ms-ssim-rgb")) == 2);
  json_decref(j);
  check_json_plot_script(out);

  check_html(out, 2 + 3);
  CHECK(!dir_has_tmp(out));
  CHECK(!dir_has_prefix(out, "tasks_") && !dir_has_prefix(out, "perclass_"));

  /* Same input, same bytes (and overwriting works). */
  PATHF(path, "%s/report.html", out);
  size_t len1 = 0, len2 = 0;
  char *first = read_file(path, &len1);
  CHECK(report_write_db(db, 2, out, err, sizeof err) == 0);
  char *second = read_file(path, &len2);
  CHECK(first && second && len1 == len2 && memcmp(first, second, len1) == 0);
  free(first);
  free(second);

  /* The caller's own transaction is respected (no nested BEGIN). */
  PATHF(out, "%s/out-txn", work);
  {
    store *txn = open_store(db, err, sizeof err);
    int began = 0;
    CHECK(txn && results_begin_read(txn, &began, err, sizeof err) == 0 && began == 1);
    int began_again = 1;
    CHECK(txn && results_begin_read(txn, &began_again, err, sizeof err) == 0 && !began_again);
    CHECK(txn && report_write(txn, 2, out, err, sizeof err) == 0);
    CHECK(txn && results_end_read(txn, began, err, sizeof err) == 0);
    store_close(txn);
  }

  /* File names: unsafe characters replaced, clashes (also by case) get -2, -3, ... */
  CHECK(
      exec_sql(db,
               "INSERT INTO runs (id, suite_name, suite_hash, started_at, status) VALUES"
               " (4, 'names', 'n', '2024-05-03T00:00:00Z', 'complete');"
               "INSERT INTO datasets (id, run_id, name, path, kind, content_hash, n_images,"
               " n_classes) VALUES (40, 4, 'k/x', '/k', 'plain-folder', 'h', 1, 0),"
               " (41, 4, 'k_x', '/k', 'plain-folder', 'h', 1, 0);"
               "INSERT INTO codecs (id, run_id, label, codec, settings, knob_name) VALUES"
               " (50, 4, 'jpeg', 'jpeg', '{}', 'q'), (51, 4, 'JPEG', 'jpeg', '{}', 'q'),"
               " (52, 4, 'a/b', 'webp', '{}', 'q'), (53, 4, 'a_b', 'webp', '{}', 'q');"
               "INSERT INTO points (id, codec_id, kind, value) VALUES"
               " (500, 50, 'knob', 1), (510, 51, 'knob', 1), (520, 52, 'knob', 1),"
               " (530, 53, 'knob', 1);"
               "INSERT INTO aggregates (point_id, dataset_id, n, n_errors, n_unreachable,"
               " mean_bpp, mean_psnr) VALUES (500, 40, 1, 0, 0, 1, 30), (510, 40, 1, 0, 0, 1, 30),"
               " (520, 40, 1, 0, 0, 1, 30), (530, 40, 1, 0, 0, 1, 30);",
               "name data") == 0);
  PATHF(out, "%s/out-names", work);
  CHECK(report_write_db(db, 4, out, err, sizeof err) == 0);
  /* Codecs in label order (bytewise): JPEG, a/b, a_b, jpeg; datasets: k/x, k_x. */
  CHECK(file_exists(out, "points_k_x.csv") && file_exists(out, "points_k_x-2.csv"));
  CHECK(file_exists(out, "compressai_JPEG_k_x.json"));
  CHECK(file_exists(out, "compressai_a_b_k_x.json"));
  CHECK(file_exists(out, "compressai_a_b_k_x-2.json"));
  CHECK(file_exists(out, "compressai_jpeg_k_x-2.json"));
  PATHF(path, "%s/compressai_a_b_k_x-2.json", out);
  json_t *jn = json_load_file(path, 0, NULL);
  CHECK_STR(json_string_value(json_object_get(jn, "name")), "a_b");
  json_decref(jn);
  PATHF(path, "%s/report.html", out);
  char *names_html = read_file(path, NULL);
  CHECK(names_html && strstr(names_html, "<code>compressai_jpeg_k_x-2.json</code>: "
                                         "CompressAI-style results, jpeg (knob grid) on k/x"));
  CHECK(names_html &&
        strstr(names_html, "<code>points_k_x-2.csv</code>: all points of dataset k_x"));
  free(names_html);

  /* A run without datasets or codecs still gives a page. */
  PATHF(out, "%s/out-empty", work);
  rc = report_write_db(db, 3, out, err, sizeof err);
  CHECK(rc == 0);
  if (rc == 0) {
    PATHF(path, "%s/report.html", out);
    char *html = read_file(path, NULL);
    CHECK(html && strstr(html, "This run has no datasets.") && count_substr(html, PLOT_SVG) == 0);
    CHECK(html && check_well_formed(html) == NULL);
    free(html);
  }

  /* ---- errors ---- */
  PATHF(out, "%s/out-missing", work);
  err[0] = '\0';
  CHECK(report_write_db(db, 99, out, err, sizeof err) != 0);
  CHECK(strstr(err, "run 99 not found") != NULL);
  CHECK(!file_exists(work, "out-missing")); /* nothing written for a bad run */

  char blocker[4096];
  PATHF(blocker, "%s/plainfile", work);
  FILE *f = fopen(blocker, "w");
  CHECK(f != NULL);
  if (f)
    fclose(f);
  err[0] = '\0';
  CHECK(report_write_db(db, 2, blocker, err, sizeof err) != 0);
  CHECK(strstr(err, blocker) != NULL && strstr(err, "not a directory") != NULL);
  PATHF(out, "%s/plainfile/sub", work);
  err[0] = '\0';
  CHECK(report_write_db(db, 2, out, err, sizeof err) != 0);
  CHECK(strstr(err, out) != NULL);

  /* A directory where report.html should go: the rename fails, and is reported by name. */
  PATHF(out, "%s/out-blocked", work);
  PATHF(path, "%s/report.html", out);
  CHECK(sb_mkdirs(path, err, sizeof err) == 0);
  err[0] = '\0';
  CHECK(report_write_db(db, 2, out, err, sizeof err) != 0);
  CHECK(strstr(err, "report.html") != NULL);
  CHECK(!dir_has_tmp(out));

  /* Read-only directory: only meaningful when not root (root may write anyway). */
  if (geteuid() != 0) {
    PATHF(out, "%s/out-ro", work);
    CHECK(mkdir(out, 0500) == 0);
    err[0] = '\0';
    CHECK(report_write_db(db, 2, out, err, sizeof err) != 0);
    CHECK(strstr(err, out) != NULL);
    chmod(out, 0700);
  } else {
    fprintf(stderr, "note: running as root; skipped the read-only directory case\n");
  }

  CHECK(report_write_db(db, 2, "", err, sizeof err) != 0);
  CHECK(report_write(NULL, 2, work, err, sizeof err) != 0);

  /* A newer schema than the report knows is refused. */
  CHECK(exec_sql(db, "PRAGMA user_version = 4", "pragma") == 0);
  err[0] = '\0';
  PATHF(out, "%s/out-v4", work);
  CHECK(report_write_db(db, 2, out, err, sizeof err) != 0);
  CHECK(strstr(err, "schema version 4") != NULL);
  CHECK(exec_sql(db, "PRAGMA user_version = 1", "pragma") == 0);
  sqlite3_close(db);

  /* results_latest_run on an empty database. */
  PATHF(path, "%s/empty.db", work);
  db = open_schema_db(path, schema);
  CHECK(db != NULL);
  if (db) {
    err[0] = '\0';
    store *empty = open_store(db, err, sizeof err);
    CHECK(empty && results_latest_run(empty, &latest, err, sizeof err) != 0);
    CHECK(strstr(err, "no runs") != NULL);
    store_close(empty);
    sqlite3_close(db);
  }
  /* ... and on a database without the schema. */
  CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
  err[0] = '\0';
  CHECK(open_store(db, err, sizeof err) == NULL);
  CHECK(report_write_db(db, 1, work, err, sizeof err) != 0);
  sqlite3_close(db);
  free(schema);
}

/* ---------------------------------------------------------------- tasks (schema version 2) */

/* A labelled dataset of T_IMAGES images (every 10th unlabelled) scored by two tasks at a few
 * grid points. Labels, predictions and which images have a result follow the rules below, so
 * the expected per-class counts are computed here from the rules, never from the database. */
enum { T_IMAGES = 40, T_CLASSES = 4, T_TASKS = 2, T_POINTS = 5 };
static const int k_t_points[T_POINTS] = {800, 801, 802, 803, 810};
static const char *const k_t_names[T_CLASSES] = {"airplane", "<b>bad</b>&\"x'", "cat, dog", "deer"};
/* As an SQL string literal (the ' doubled). */
#define T_CLASS_NAMES_JSON "[\"airplane\", \"<b>bad</b>&\\\"x''\", \"cat, dog\", \"deer\"]"
#define T_BAD_CLASS_HTML "&lt;b&gt;bad&lt;/b&gt;&amp;&quot;x&#39;"

static int t_label(int i) { return i % 10 == 9 ? -1 : i % 4; } /* -1: unlabelled */

/* task: 1 or 2 (task 2 is the one with the hostile name). */
static int t_ref_top1(int task, int i) {
  int l = t_label(i);
  return l < 0 ? i % 4 : (i + task) % 6 == 0 ? (l + 1) % 4 : l;
}

static int t_has(int task, int point, int i) {
  if (task == 2 && (point == 803 || point == 810))
    return 0;
  return !(point == 802 && i % 7 == 0) && !(point == 803 && i >= 12);
}

static int t_top1(int task, int point, int i) {
  int l = t_label(i);
  if (l < 0)
    return (i + point) % 4;
  return (i * 3 + point + task * 5) % 5 == 0 || (i + point) % 11 == 0 ? (l + 2) % 4 : l;
}

typedef struct t_expect {
  int64_t n[T_CLASSES], correct[T_CLASSES];
  int64_t n_all, labelled, n_correct, ref_correct, agree;
} t_expect;

/* point < 0: the originals. */
static t_expect t_expected(int task, int point) {
  t_expect e;
  memset(&e, 0, sizeof e);
  for (int i = 0; i < T_IMAGES; i++) {
    if (point >= 0 && !t_has(task, point, i))
      continue;
    int l = t_label(i), top1 = point < 0 ? t_ref_top1(task, i) : t_top1(task, point, i);
    e.n_all++;
    e.agree += point >= 0 && top1 == t_ref_top1(task, i);
    if (l < 0)
      continue;
    e.labelled++;
    e.n[l]++;
    e.correct[l] += top1 == l;
    e.n_correct += top1 == l;
    e.ref_correct += t_ref_top1(task, i) == l;
  }
  return e;
}

static void t_real(sb_buf *b, double v) {
  if (isfinite(v))
    sb_buf_printf(b, "%.17g", v);
  else
    sb_buf_puts(b, "NULL");
}

static char *t_build_sql(void) {
  sb_buf b = {0};
  sb_buf_puts(
      &b, "PRAGMA user_version = 3;"
          "INSERT INTO runs (id, suite_name, suite_hash, started_at, status) VALUES"
          " (1, 'decoy', 'd', '2024-06-01T00:00:00Z', 'complete'),"
          " (7, 'tasks', 't', '2024-06-02T00:00:00Z', 'complete');"
          "INSERT INTO datasets (id, run_id, name, path, kind, content_hash, n_images, n_classes,"
          " class_names) VALUES (60, 1, 'decoy-data', '/d', 'class-folders', 'x', 1, 4, NULL),"
          " (70, 7, 'cifar', '/c', 'class-folders', 'h', 40, 4, '" T_CLASS_NAMES_JSON "'),"
          " (71, 7, 'kodak', '/k', 'plain-folder', 'k', 3, 0, NULL);"
          "INSERT INTO codecs (id, run_id, label, codec, settings, knob_name) VALUES"
          " (90, 1, 'decoy-codec', 'jpeg', '{}', 'q'), (80, 7, 'jpeg', 'jpeg', '{}', 'quality'),"
          " (81, 7, 'webp', 'webp', '{}', 'quality');"
          "INSERT INTO points (id, codec_id, kind, value) VALUES (900, 90, 'knob', 50),"
          " (800, 80, 'knob', 10), (801, 80, 'knob', 50), (802, 80, 'bpp', 0.5),"
          " (803, 80, 'bpp', 1), (810, 81, 'knob', 30);"
          /* 803 has task rows but no aggregates row (no rate) */
          "INSERT INTO aggregates (point_id, dataset_id, n, n_errors, n_unreachable, mean_bpp,"
          " mean_stream_bpp, mean_psnr, mean_ssim) VALUES"
          " (800, 70, 40, 0, 0, 0.7, 0.4, 25, 0.8), (801, 70, 40, 0, 0, 1.5, 1.2, 31, 0.9),"
          " (802, 70, 34, 0, 2, 0.45, 0.2, 24, 0.75), (810, 70, 40, 0, 0, 0.9, 0.85, 29, 0.88),"
          " (800, 71, 3, 0, 0, 0.3, 0.25, 27, 0.8), (801, 71, 3, 0, 0, 0.9, 0.85, 33, 0.9);"
          "INSERT INTO tasks (id, run_id, name, kind, checkpoint, checkpoint_sha256, arch,"
          " num_classes, input_width, input_height) VALUES"
          " (3, 1, 'decoy-task', 'classifier', 'x', 'x', 'x', 4, 32, 32),"
          " (1, 7, 'resnet20', 'classifier', 'r.ckpt', 'aa', 'resnet20', 4, 32, 32),"
          " (2, 7, '<script>alert(1)</script>&\"x''', 'classifier', 'e.ckpt', 'bb',"
          "  'arch<i>', 4, 32, 32);");
  sb_buf_puts(&b, "INSERT INTO images (id, dataset_id, idx, name, label, width, height) "
                  "VALUES (2000, 60, 0, 'd', 0, 32, 32)");
  for (int i = 0; i < T_IMAGES; i++) {
    sb_buf_printf(&b, ", (%d, 70, %d, 'i%d', ", 1000 + i, i, i);
    if (t_label(i) < 0)
      sb_buf_puts(&b, "NULL");
    else
      sb_buf_printf(&b, "%d", t_label(i));
    sb_buf_puts(&b, ", 32, 32)");
  }
  sb_buf_puts(&b, ", (1100, 71, 0, 'k0', NULL, 768, 512);");
  /* The decoy task (another run) scored every image correctly: must never be counted. */
  sb_buf_puts(&b, "INSERT INTO task_refs (task_id, image_id, top1, correct, probs) VALUES "
                  "(3, 2000, 0, 1, X'00')");
  for (int task = 1; task <= T_TASKS; task++)
    for (int i = 0; i < T_IMAGES; i++) {
      int l = t_label(i), top1 = t_ref_top1(task, i);
      sb_buf_printf(&b, ", (%d, %d, %d, %s, X'00')", task, 1000 + i, top1,
                    l < 0       ? "NULL"
                    : top1 == l ? "1"
                                : "0");
    }
  for (int i = 0; i < T_IMAGES; i++)
    sb_buf_printf(&b, ", (3, %d, %d, 1, X'00')", 1000 + i, t_label(i) < 0 ? 0 : t_label(i));
  sb_buf_puts(&b, ";INSERT INTO task_results (task_id, image_id, point_id, top1, correct,"
                  " agree, kl) VALUES (3, 2000, 900, 0, 1, 1, 0)");
  for (int i = 0; i < T_IMAGES; i++) /* decoy task on this run's images */
    sb_buf_printf(&b, ", (3, %d, 800, %d, 1, 1, 0)", 1000 + i, t_label(i) < 0 ? 0 : t_label(i));
  for (int task = 1; task <= T_TASKS; task++)
    for (int p = 0; p < T_POINTS; p++)
      for (int i = 0; i < T_IMAGES; i++) {
        int pt = k_t_points[p];
        if (!t_has(task, pt, i))
          continue;
        int l = t_label(i), top1 = t_top1(task, pt, i);
        sb_buf_printf(&b, ", (%d, %d, %d, %d, %s, %d, 0.25)", task, 1000 + i, pt, top1,
                      l < 0       ? "NULL"
                      : top1 == l ? "1"
                                  : "0",
                      top1 == t_ref_top1(task, i));
      }
  sb_buf_puts(&b, ";INSERT INTO task_aggregates VALUES (3, 900, 60, 1, 1, 1, 1, 0, 0, 0, 0,"
                  " 0, 0, 0), (3, 800, 70, 40, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)");
  for (int task = 1; task <= T_TASKS; task++)
    for (int p = 0; p < T_POINTS; p++) {
      int pt = k_t_points[p];
      t_expect e = t_expected(task, pt);
      if (e.n_all == 0)
        continue;
      double h_a = 1.75 + 0.01 * task, si = 0.3 + 0.1 * p + 0.001 * task;
      sb_buf_printf(&b, ", (%d, %d, 70, %" PRId64 ", ", task, pt, e.n_all);
      t_real(&b, (double)e.n_correct / (double)e.labelled);
      sb_buf_puts(&b, ", ");
      t_real(&b, (double)e.ref_correct / (double)e.labelled);
      sb_buf_puts(&b, ", ");
      t_real(&b, (double)e.agree / (double)e.n_all);
      sb_buf_puts(&b, ", ");
      const double rest[] = {h_a,
                             si,
                             si / h_a,
                             1.2,
                             1.1 - 0.05 * p,
                             0.1 + 0.05 * p,
                             task == 1 && pt == 810 ? NAN : 0.02 * (p + 1)};
      for (size_t k = 0; k < sizeof rest / sizeof rest[0]; k++) {
        sb_buf_puts(&b, k ? ", " : "");
        t_real(&b, rest[k]);
      }
      sb_buf_puts(&b, ")");
    }
  sb_buf_puts(&b, ";");
  return sb_buf_failed(&b) ? NULL : b.data;
}

static int t_task_of(const char *name) {
  return strcmp(name, "resnet20") == 0 ? 1 : strcmp(name, HOSTILE) == 0 ? 2 : 0;
}

static int t_point_of(const char *codec, const char *kind, const char *value) {
  double v = strtod(value, NULL);
  if (strcmp(codec, "jpeg") == 0 && strcmp(kind, "knob") == 0)
    return v == 10 ? 800 : v == 50 ? 801 : 0;
  if (strcmp(codec, "jpeg") == 0 && strcmp(kind, "bpp") == 0)
    return v == 0.5 ? 802 : v == 1 ? 803 : 0;
  if (strcmp(codec, "webp") == 0 && strcmp(kind, "knob") == 0)
    return v == 30 ? 810 : 0;
  return 0;
}

static csv_table t_read_csv(const char *dir, const char *file, int *ok) {
  char path[4096];
  PATHF(path, "%s/%s", dir, file);
  char *text = read_file(path, NULL);
  csv_table t;
  memset(&t, 0, sizeof t);
  *ok = text && csv_parse(text, &t) == 0;
  if (!*ok)
    fprintf(stderr, "  cannot read or parse %s\n", path);
  free(text);
  return t;
}

static const char *const k_tasks_header[] = {
    "task",         "task_arch",  "codec",  "codec_name", "point_kind", "point_value",
    "bpp",          "stream_bpp", "n",      "n_labelled", "accuracy",   "accuracy_se",
    "ref_accuracy", "agreement",  "h_a",    "si",         "si_norm",    "i_y_a",
    "i_y_b",        "delta_i",    "mean_kl"};
enum { T_TASK_COLS = sizeof k_tasks_header / sizeof k_tasks_header[0] };

static void check_tasks_csv(sqlite3 *db, const char *dir) {
  int ok;
  csv_table t = t_read_csv(dir, "tasks_cifar.csv", &ok);
  CHECK(ok);
  if (!ok)
    return;
  /* task 1: 5 points, task 2: 3 points */
  CHECK(t.n_rows == 1 + 5 + 3);
  CHECK(t.n_fields[0] == T_TASK_COLS);
  for (size_t j = 0; j < T_TASK_COLS && j < t.n_fields[0]; j++)
    CHECK_STR(t.rows[0][j], k_tasks_header[j]);
  sqlite3_stmt *st;
  CHECK(sqlite3_prepare_v2(db,
                           "SELECT a.mean_bpp, a.mean_stream_bpp, ta.n, NULL, ta.accuracy, NULL, "
                           "ta.ref_accuracy, ta.agreement, ta.h_a, ta.si, ta.si_norm, ta.i_y_a, "
                           "ta.i_y_b, ta.delta_i, ta.mean_kl FROM task_aggregates ta "
                           "LEFT JOIN aggregates a ON a.point_id = ta.point_id "
                           "AND a.dataset_id = ta.dataset_id "
                           "WHERE ta.task_id = ?1 AND ta.point_id = ?2 AND ta.dataset_id = 70",
                           -1, &st, NULL) == SQLITE_OK);
  for (size_t i = 1; i < t.n_rows; i++) {
    char **f = t.rows[i];
    CHECK(t.n_fields[i] == T_TASK_COLS);
    if (t.n_fields[i] != T_TASK_COLS)
      continue;
    /* Sorted by task name: the hostile name starts with '<', before 'r'. */
    CHECK_STR(f[0], i <= 3 ? HOSTILE : "resnet20");
    int task = t_task_of(f[0]), pt = t_point_of(f[2], f[4], f[5]);
    CHECK(task != 0 && pt != 0);
    CHECK_STR(f[1], task == 1 ? "resnet20" : "arch<i>");
    CHECK_STR(f[3], f[2]);
    t_expect e = t_expected(task, pt);
    /* Independent truth: N, labelled count and accuracy from the rules. */
    CHECK(strtoll(f[8], NULL, 10) == e.n_all);
    CHECK(strtoll(f[9], NULL, 10) == e.labelled);
    CHECK(e.labelled < e.n_all); /* some unlabelled images at every point */
    double acc = (double)e.n_correct / (double)e.labelled;
    CHECK(strtod(f[10], NULL) == acc);
    CHECK(strtod(f[11], NULL) == sqrt(acc * (1.0 - acc) / (double)e.labelled));
    CHECK(strtod(f[12], NULL) == (double)e.ref_correct / (double)e.labelled);
    CHECK(strtod(f[13], NULL) == (double)e.agree / (double)e.n_all);
    /* Every column against the database (query column = CSV column - 6). */
    sqlite3_reset(st);
    sqlite3_bind_int(st, 1, task);
    sqlite3_bind_int(st, 2, pt);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    for (int j = 6; j < T_TASK_COLS; j++) {
      if (j == 9 || j == 11)
        continue; /* n_labelled, accuracy_se: checked above */
      if (sqlite3_column_type(st, j - 6) == SQLITE_NULL) {
        CHECK(f[j][0] == '\0');
      } else {
        char *end;
        double v = strtod(f[j], &end);
        CHECK(*f[j] && *end == '\0' && v == sqlite3_column_double(st, j - 6));
      }
    }
    if (pt == 803)
      CHECK(f[6][0] == '\0' && f[7][0] == '\0'); /* no aggregates row: no rate */
    if (task == 1 && pt == 810)
      CHECK(f[20][0] == '\0'); /* NULL mean_kl */
  }
  sqlite3_finalize(st);
  csv_free(&t);
}

static void check_perclass_csv(const char *dir) {
  int ok;
  csv_table t = t_read_csv(dir, "perclass_cifar.csv", &ok);
  CHECK(ok);
  if (!ok)
    return;
  static const char *const header[] = {"task",    "codec",   "point_kind", "point_value",
                                       "bpp",     "class",   "class_name", "n",
                                       "correct", "accuracy"};
  CHECK(t.n_rows == 1 + (size_t)T_CLASSES * ((1 + 5) + (1 + 3)));
  CHECK(t.n_fields[0] == 10);
  for (size_t j = 0; j < 10 && j < t.n_fields[0]; j++)
    CHECK_STR(t.rows[0][j], header[j]);
  size_t n_original = 0, n_nonzero = 0;
  for (size_t i = 1; i < t.n_rows; i++) {
    char **f = t.rows[i];
    CHECK(t.n_fields[i] == 10);
    if (t.n_fields[i] != 10)
      continue;
    int task = t_task_of(f[0]);
    CHECK(task != 0);
    int original = strcmp(f[1], "original") == 0 && f[2][0] == '\0';
    int pt = original ? -1 : t_point_of(f[1], f[2], f[3]);
    CHECK(original || pt != 0);
    n_original += (size_t)original;
    long k = strtol(f[5], NULL, 10);
    CHECK(k >= 0 && k < T_CLASSES);
    if (k < 0 || k >= T_CLASSES)
      continue;
    CHECK_STR(f[6], k_t_names[k]);
    t_expect e = t_expected(task, pt);
    CHECK(strtoll(f[7], NULL, 10) == e.n[k]);
    CHECK(strtoll(f[8], NULL, 10) == e.correct[k]);
    if (e.n[k] > 0)
      CHECK(strtod(f[9], NULL) == (double)e.correct[k] / (double)e.n[k]);
    else
      CHECK(f[9][0] == '\0');
    n_nonzero += e.n[k] > 0 && e.correct[k] > 0 && e.correct[k] < e.n[k];
  }
  CHECK(n_original == 2 * T_CLASSES);
  CHECK(n_nonzero > 5); /* the rules give partial accuracies, not just 0 and 1 */
  csv_free(&t);
}

static void test_tasks(const char *schema_path, const char *work, const char *keep_dir) {
  char *schema = read_file(schema_path, NULL);
  CHECK(schema != NULL);
  char path[4096], out[4096], err[512];
  PATHF(path, "%s/tasks.db", work);
  sqlite3 *db = schema ? open_schema_db(path, schema) : NULL;
  free(schema);
  CHECK(db != NULL);
  if (!db)
    return;
  char *sql = t_build_sql();
  CHECK(sql && exec_sql(db, sql, "task data") == 0);
  free(sql);
  if (keep_dir)
    PATHF(out, "%s-tasks", keep_dir);
  else
    PATHF(out, "%s/out-tasks", work);
  int rc = report_write_db(db, 7, out, err, sizeof err);
  if (rc)
    fprintf(stderr, "report_write (tasks): %s\n", err);
  CHECK(rc == 0);

  check_tasks_csv(db, out);
  check_perclass_csv(out);
  CHECK(!file_exists(out, "tasks_kodak.csv") && !file_exists(out, "perclass_kodak.csv"));
  /* Headline table: only the bpp target with an aggregates row (0.5; 1 has none), only for the
   * dataset with tasks; rate, stream rate, unreachable/n and PSNR from aggregates row 802. */
  PATHF(path, "%s/headline_cifar.md", out);
  char *md = read_file(path, NULL);
  CHECK(md != NULL);
  if (md) {
    CHECK(strstr(md, "| 0.5 | jpeg | 0.4500 | 0.2000 | 2/34 | 24.00 | ") != NULL);
    CHECK(strstr(md, "| 1 | jpeg") == NULL);
    CHECK(strstr(md, "acc resnet20 [%]") != NULL);
  }
  free(md);
  CHECK(!file_exists(out, "headline_kodak.md"));
  check_csv(db, out, "points_cifar.csv", 70, 4);

  /* JSON: task arrays aligned with "bpp"; the first task by name also in "results". */
  PATHF(path, "%s/compressai_jpeg_cifar.json", out);
  json_t *j = json_load_file(path, 0, NULL);
  json_t *res = json_object_get(j, "results"), *tasks = json_object_get(j, "tasks");
  /* No times in these aggregates (NULL): left out; MS-SSIM likewise. */
  CHECK(json_object_size(res) == 6 && json_object_get(res, "psnr") &&
        json_object_get(res, "accuracy") && json_object_get(res, "si_norm") &&
        !json_object_get(res, "encoding_time") && !json_object_get(res, "ms-ssim-rgb"));
  CHECK(json_object_size(tasks) == 2);
  json_t *hostile = json_object_get(tasks, HOSTILE), *resnet = json_object_get(tasks, "resnet20");
  CHECK(json_is_object(hostile) && json_is_object(resnet));
  CHECK(json_array_size(json_object_get(res, "accuracy")) == 2);
  CHECK(json_equal(json_object_get(res, "accuracy"), json_object_get(hostile, "accuracy")));
  CHECK(json_equal(json_object_get(res, "si_norm"), json_object_get(hostile, "si_norm")));
  for (int k = 0; k < 2; k++) { /* knob 10 (0.7 bpp), knob 50 (1.5 bpp) */
    t_expect e = t_expected(1, k ? 801 : 800);
    /* JSON keeps 15 significant digits (the CSV is the exact copy). */
    CHECK(fabs(json_number_value(json_array_get(json_object_get(resnet, "accuracy"), (size_t)k)) -
               (double)e.n_correct / (double)e.labelled) < 1e-14);
    CHECK(json_array_size(json_object_get(resnet, "si")) == 2);
  }
  json_decref(j);
  PATHF(path, "%s/compressai_webp_cifar.json", out);
  j = json_load_file(path, 0, NULL);
  tasks = json_object_get(j, "tasks");
  CHECK(json_object_size(tasks) == 1 && json_object_get(tasks, "resnet20"));
  CHECK(json_equal(json_object_get(json_object_get(j, "results"), "accuracy"),
                   json_object_get(json_object_get(tasks, "resnet20"), "accuracy")));
  json_decref(j);
  PATHF(path, "%s/compressai_jpeg_kodak.json", out);
  j = json_load_file(path, 0, NULL);
  CHECK(j && json_object_size(json_object_get(j, "results")) == 4 && !json_object_get(j, "tasks"));
  json_decref(j);
  check_json_plot_script(out);

  /* HTML: escaping, one rate-accuracy and one rate-SI_norm plot per task, reference line. */
  PATHF(path, "%s/report.html", out);
  char *html = read_file(path, NULL);
  CHECK(html != NULL);
  if (html) {
    CHECK(strstr(html, "<script") == NULL && strstr(html, "<b>") == NULL &&
          strstr(html, "<i>") == NULL);
    CHECK(strstr(html, "<h3>Task: " HOSTILE_HTML "</h3>") != NULL);
    CHECK(strstr(html, "<th>" T_BAD_CLASS_HTML "</th>") != NULL);
    CHECK(strstr(html, "<th>cat, dog</th>") != NULL);
    CHECK(strstr(html, "architecture arch&lt;i&gt;") != NULL);
    CHECK(strstr(html, "decoy") == NULL);
    CHECK(count_substr(html, PLOT_SVG) == 2 + 2 * 2 + 2);
    CHECK(strstr(html, "Rate\xE2\x80\x93"
                       "accuracy: resnet20 on cifar") != NULL);
    CHECK(strstr(html, "Rate\xE2\x80\x93SI_norm: " HOSTILE_HTML " on cifar") != NULL);
    CHECK(count_substr(html, "stroke-dasharray=\"4 3\"") == 2);
    CHECK(count_substr(html, ">original</text>") == 2);
    /* Error bars: +-1 SE on every rate-accuracy point with an SE (tasks_cifar.csv), e.g. the
     * tooltip of resnet20, jpeg knob 10 gives its bar. */
    int ok = 0;
    csv_table t = t_read_csv(out, "tasks_cifar.csv", &ok);
    size_t n_bars = 0, found = 0;
    for (size_t i = 1; ok && i < t.n_rows; i++)
      if (t.n_fields[i] == 21 && t.rows[i][6][0] && t.rows[i][11][0]) {
        n_bars++;
        if (!strcmp(t.rows[i][0], "resnet20") && !strcmp(t.rows[i][2], "jpeg") &&
            !strcmp(t.rows[i][5], "10")) {
          double acc = 100 * strtod(t.rows[i][10], NULL), se = 100 * strtod(t.rows[i][11], NULL);
          char tip[128];
          PATHF(tip, "jpeg: 0.7, %.4g (bar %.4g to %.4g)</title>", acc, acc - se, acc + se);
          CHECK(strstr(html, tip) != NULL);
          found++;
        }
      }
    CHECK(ok && found == 1 && n_bars >= 4 && count_substr(html, "class=\"errbar\"") == n_bars);
    csv_free(&t);
    CHECK(strstr(html, "Error bars in the rate\xE2\x80\x93"
                       "accuracy plot: \xC2\xB1 1 SE") != NULL);
    /* Codec switches: a checkbox per plotted codec and dataset, and CSS that hides the series
     * (class c<index>) of an unticked one; no script. */
    CHECK(count_substr(html, "<input type=\"checkbox\" class=\"t") == 2 + 1);
    CHECK(strstr(html, ".ds input.t1:not(:checked)~* .c1{display:none}") != NULL);
    CHECK(count_substr(html, "<g class=\"c1\">") >= 4 && strstr(html, "<script") == NULL);
    CHECK(count_substr(html, "<tr class=\"ref\"><td>original</td>") == 2);
    CHECK(strstr(html, "<code>tasks_cifar.csv</code>") != NULL);
    CHECK(strstr(html, "<code>perclass_cifar.csv</code>") != NULL);
    /* A per-class cell: resnet20, originals, class 0. */
    t_expect e = t_expected(1, -1);
    char cell[128];
    PATHF(cell, "title=\"%" PRId64 "/%" PRId64 "\">%.1f</td>", e.correct[0], e.n[0],
          100.0 * (double)e.correct[0] / (double)e.n[0]);
    CHECK(strstr(html, cell) != NULL);
    char refline[128];
    PATHF(refline, "accuracy on the originals %.2f %% (%" PRId64 " of %" PRId64,
          100.0 * (double)e.n_correct / (double)e.labelled, e.n_correct, e.labelled);
    CHECK(strstr(html, refline) != NULL);
    const char *wf = check_well_formed(html);
    if (wf)
      fprintf(stderr, "  tasks report.html not well-formed: %s\n", wf);
    CHECK(wf == NULL);
    if (system("command -v xmllint >/dev/null 2>&1") == 0) {
      char cmd[4400];
      PATHF(cmd, "xmllint --noout '%s'", path);
      CHECK(system(cmd) == 0);
    }
  }
  free(html);
  CHECK(!dir_has_tmp(out));
  sqlite3_close(db);
}

/* ---------------------------------------------------------------- BD tables, anchor, strips */

#define S_CODEC "<svg onload=alert(2)>"
#define S_CODEC_HTML "&lt;svg onload=alert(2)&gt;"
#define S_DATASET "<i>data</i> & \"x\""
#define S_DATASET_HTML "&lt;i&gt;data&lt;/i&gt; &amp; &quot;x&quot;"
#define S_IMAGE "a<i>&\"x.png"
#define S_IMAGE_HTML "a&lt;i&gt;&amp;&quot;x.png"

/* A gradient test image (malloc()ed RGB8) and its pixel hash as the runner stores it. */
static uint8_t *s_make_image(int w, int h, int seed, char hash[33]) {
  uint8_t *rgb = malloc((size_t)w * h * 3);
  if (!rgb)
    return NULL;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      uint8_t *p = rgb + ((size_t)y * w + x) * 3;
      p[0] = (uint8_t)(x * 255 / w);
      p[1] = (uint8_t)(y * 255 / h);
      p[2] = (uint8_t)((x * 7 + y * 13 + seed * 50) & 255);
    }
  uint32_t dims[2] = {(uint32_t)w, (uint32_t)h};
  XXH3_state_t *hs = XXH3_createState();
  XXH3_128bits_reset(hs);
  XXH3_128bits_update(hs, dims, sizeof dims);
  XXH3_128bits_update(hs, rgb, (size_t)w * h * 3);
  XXH128_hash_t v = XXH3_128bits_digest(hs);
  XXH3_freeState(hs);
  snprintf(hash, 33, "%016llx%016llx", (unsigned long long)v.high64, (unsigned long long)v.low64);
  return rgb;
}

/* Stores the thumbnail of rgb (w x h) as image image_id at point point_id (0: the original), as
 * the runner does (image_thumbnail_png, 128 px wide at most). */
static int s_put_thumb(sqlite3 *db, int image_id, int point_id, const uint8_t *rgb, int w, int h) {
  uint8_t *png = NULL;
  size_t len = 0;
  int tw, th, scale;
  char err[256];
  if (image_thumbnail_png(rgb, w, h, 128, &png, &len, &tw, &th, &scale, err, sizeof err)) {
    fprintf(stderr, "thumbnail: %s\n", err);
    return -1;
  }
  sqlite3_stmt *st;
  int rc =
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO thumbnails (image_id, point_id, width, height,"
                         " png) VALUES (?1, ?2, ?3, ?4, ?5)",
                         -1, &st, NULL) == SQLITE_OK
          ? 0
          : -1;
  if (rc == 0) {
    sqlite3_bind_int(st, 1, image_id);
    sqlite3_bind_int(st, 2, point_id);
    sqlite3_bind_int(st, 3, tw);
    sqlite3_bind_int(st, 4, th);
    sqlite3_bind_blob(st, 5, png, (int)len, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
  }
  free(png);
  return rc;
}

/* The SHA-256 stored next to j2k's "comment" setting (provenance of a file setting). */
#define S_MODEL_SHA256 "de6bfc19637d629e5a7f37343ef81f4d9ab32c521c286738727dc038c4083bfa"

/* A run on a two-image plain folder (300x200 and 24x20) with three codecs (jpeg labelled
 * hostile, webp, jpeg2000 labelled j2k) at four knob points each, one task. j2k's settings are
 * stored as the runner stores a setting given as a file (`!path`): the path and, next to it,
 * "KEY.sha256" with the file's SHA-256 (the report shows neither). The thumbnails are added by
 * test_strips (s_put_thumb). */
static char *s_build_sql(const char *data_dir, const char *h0, const char *h1) {
  static const int knobs[3][4] = {{20, 40, 60, 80}, {20, 40, 60, 80}, {40, 20, 10, 5}};
  /* Aggregates: the anchor's (jpeg) PSNR range does not overlap webp's; webp's SSIM is not
   * monotone; j2k has two points at the same rate (3 distinct rates); the anchor's accuracy is
   * not monotone. */
  static const double bpp[3][4] = {{1, 2, 3, 4}, {0.5, 1, 1.5, 2}, {1, 1, 2, 3}};
  static const double psnr[3][4] = {{30, 32, 34, 36}, {40, 42, 44, 46}, {29, 31, 33, 35}};
  static const double ssim[3][4] = {
      {0.80, 0.85, 0.90, 0.95}, {0.90, 0.95, 0.94, 0.97}, {0.80, 0.82, 0.86, 0.90}};
  static const double acc[3][4] = {
      {0.5, 0.7, 0.6, 0.8}, {0.6, 0.7, 0.8, 0.9}, {0.5, 0.6, 0.7, 0.8}};
  sb_buf b = {0};
  sb_buf_puts(&b, "INSERT INTO runs (id, suite_name, suite_hash, started_at, status) VALUES"
                  " (1, 'strips', 'h', '2024-05-01T00:00:00Z', 'complete');"
                  "INSERT INTO datasets (id, run_id, name, path, kind, content_hash, n_images,"
                  " n_classes, class_names) VALUES (1, 1, '" S_DATASET "', '");
  sb_buf_puts(&b, data_dir);
  sb_buf_printf(
      &b,
      "', 'plain-folder', 'c', 2, 2, '[\"<b>cls0</b>\", \"cat & dog\"]');"
      "INSERT INTO images (id, dataset_id, idx, name, label, width, height, hash)"
      " VALUES (1, 1, 0, '" S_IMAGE "', 0, 300, 200, '%s'),"
      " (2, 1, 1, 'b.png', 1, 24, 20, '%s');"
      "INSERT INTO codecs (id, run_id, label, codec, settings, knob_name) VALUES"
      " (10, 1, '" S_CODEC "', 'jpeg', '{\"subsampling\": \"444\"}', 'quality'),"
      " (11, 1, 'webp', 'webp', '{}', 'quality'),"
      " (12, 1, 'j2k', 'jpeg2000', '{\"comment\": \"true\", \"comment.sha256\": \"" S_MODEL_SHA256
      "\"}', 'ratio');"
      "INSERT INTO tasks (id, run_id, name, kind, checkpoint, checkpoint_sha256, arch,"
      " num_classes, input_width, input_height) VALUES"
      " (1, 1, 'net<1>', 'classifier', 'x', 'y', 'a', 2, 24, 20);"
      "INSERT INTO task_refs VALUES (1, 1, 1, 0, X'00'), (1, 2, 1, 1, X'00');",
      h0, h1);
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 4; k++) {
      int pid = 100 + 10 * c + k;
      sb_buf_printf(&b,
                    "INSERT INTO points VALUES (%d, %d, 'knob', %d);"
                    "INSERT INTO aggregates (point_id, dataset_id, n, n_errors, n_unreachable,"
                    " mean_knob, mean_bpp, mean_psnr, mean_ssim) VALUES"
                    " (%d, 1, 2, 0, 0, %d, %.17g, %.17g, %.17g);"
                    "INSERT INTO task_aggregates (task_id, point_id, dataset_id, n, accuracy)"
                    " VALUES (1, %d, 1, 1, %.17g);",
                    pid, 10 + c, knobs[c][k], pid, knobs[c][k], bpp[c][k], psnr[c][k], ssim[c][k],
                    pid, acc[c][k]);
      for (int im = 1; im <= 2; im++) {
        if (im == 1 && pid == 113) /* failed in the run */
          sb_buf_printf(&b,
                        "INSERT INTO results (image_id, point_id, error) VALUES"
                        " (1, %d, 'boom <x>');",
                        pid);
        else
          sb_buf_printf(&b,
                        "INSERT INTO results (image_id, point_id, knob, bytes, bpp, psnr)"
                        " VALUES (%d, %d, %d, %s, %.17g, %.17g);",
                        im, pid, knobs[c][k], pid == 101 && im == 2 ? "1" : "NULL", bpp[c][k] + im,
                        psnr[c][k] - im);
      }
      /* The task on b.png: wrong (class 0) at jpeg knob 20, else right. */
      sb_buf_printf(&b,
                    "INSERT INTO task_results (task_id, image_id, point_id, top1, correct,"
                    " agree, kl) VALUES (1, 2, %d, %d, %d, %d, 0);",
                    pid, pid == 100 ? 0 : 1, pid != 100, pid != 100);
    }
  /* Run 2: no codec labelled or named jpeg: the first codec (suite order) is the anchor. */
  sb_buf_puts(&b, "INSERT INTO runs (id, suite_name, suite_hash, started_at, status) VALUES"
                  " (2, 'anchor', 'h', '2024-05-01T00:00:00Z', 'complete');"
                  "INSERT INTO datasets (id, run_id, name, path, kind, content_hash, n_images,"
                  " n_classes) VALUES (2, 2, 'd', '/nonexistent', 'plain-folder', 'c', 1, 0);"
                  "INSERT INTO codecs (id, run_id, label, codec, settings, knob_name) VALUES"
                  " (20, 2, 'zz', 'webp', '{}', 'quality'), (21, 2, 'aa', 'webp', '{}', 'q');"
                  "INSERT INTO points VALUES (200, 20, 'knob', 1), (210, 21, 'knob', 1);"
                  "INSERT INTO aggregates (point_id, dataset_id, n, n_errors, n_unreachable,"
                  " mean_bpp, mean_psnr) VALUES (200, 2, 1, 0, 0, 1, 30), (210, 2, 1, 0, 0, 1,"
                  " 31);");
  if (sb_buf_failed(&b)) {
    sb_buf_free(&b);
    return NULL;
  }
  return b.data;
}

static char *s_report(sqlite3 *db, int64_t run, const char *out, const report_options *opt) {
  char err[512] = "", path[4200];
  int rc = report_write_opts_db(db, run, out, opt, err, sizeof err);
  if (rc)
    fprintf(stderr, "report_write_opts: %s\n", err);
  CHECK(rc == 0);
  PATHF(path, "%s/report.html", out);
  char *html = rc ? NULL : read_file(path, NULL);
  if (html) {
    const char *wf = check_well_formed(html);
    if (wf)
      fprintf(stderr, "  %s not well-formed: %s\n", path, wf);
    CHECK(wf == NULL);
  }
  return html;
}

static void test_strips(const char *schema_path, const char *work, const char *keep_dir) {
  char *schema = read_file(schema_path, NULL);
  CHECK(schema != NULL);
  char path[4096], data[4096], out[4096], err[512];
  PATHF(path, "%s/strips.db", work);
  sqlite3 *db = schema ? open_schema_db(path, schema) : NULL;
  free(schema);
  CHECK(db != NULL);
  if (!db)
    return;
  PATHF(data, "%s/sdata", work); /* stored as the dataset's path; never opened */
  char h0[33], h1[33];
  uint8_t *img0 = s_make_image(300, 200, 0, h0), *img1 = s_make_image(24, 20, 1, h1);
  CHECK(img0 && img1);
  char *sql = s_build_sql(data, h0, h1);
  CHECK(sql && exec_sql(db, sql, "strips data") == 0);
  free(sql);
  /* The run's thumbnails: both originals, and every decoded image but the unit that failed. */
  CHECK(img0 && img1 && s_put_thumb(db, 1, 0, img0, 300, 200) == 0 &&
        s_put_thumb(db, 2, 0, img1, 24, 20) == 0);
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 4; k++) {
      const int pid = 100 + 10 * c + k;
      if (pid != 113)
        CHECK(img0 && s_put_thumb(db, 1, pid, img0, 300, 200) == 0);
      CHECK(img1 && s_put_thumb(db, 2, pid, img1, 24, 20) == 0);
    }
  free(img0);
  free(img1);

  /* Defaults: anchor = the codec whose codec is jpeg (no label "jpeg"); strips present. */
  if (keep_dir)
    PATHF(out, "%s-strips", keep_dir);
  else
    PATHF(out, "%s/out-strips", work);
  char *html = s_report(db, 1, out, NULL);
  CHECK(html != NULL);
  if (html) {
    /* Hostile strings only escaped (codec label, dataset, image and class names, task). */
    CHECK(strstr(html, "<svg onload") == NULL && strstr(html, "<i>") == NULL &&
          strstr(html, "<b>") == NULL && strstr(html, "net<1>") == NULL &&
          strstr(html, "<x>") == NULL && strstr(html, "cat & dog") == NULL);
    CHECK(strstr(html, "<h2>Dataset: " S_DATASET_HTML "</h2>") != NULL);
    CHECK(strstr(html, "<h4>" S_IMAGE_HTML "</h4>") != NULL);
    CHECK(strstr(html, "net&lt;1&gt;") != NULL);
    /* BD table against the anchor, every status rendered with its reason. */
    CHECK(strstr(html, "ntegaard deltas against " S_CODEC_HTML " (knob grids)") != NULL);
    CHECK(strstr(html, "<th>BD-rate at equal accuracy (net&lt;1&gt;)</th>") != NULL);
    CHECK(strstr(html, "<th>BD-accuracy [pp] (net&lt;1&gt;)</th>") != NULL);
    CHECK(strstr(html, "not comparable: no overlap (anchor 30\xE2\x80\x93"
                       "36 dB, this codec "
                       "40\xE2\x80\x93"
                       "46 dB)") != NULL);
    CHECK(strstr(html, "not comparable: not monotone (this codec's curve: the metric does not "
                       "increase strictly with rate)") != NULL);
    CHECK(strstr(html, "not comparable: not monotone (the anchor's curve") != NULL);
    CHECK(count_substr(html, "not comparable: fewer than 4 points (distinct rates: anchor 4, this "
                             "codec 3)") == 5);
    CHECK(count_substr(html, "<td class=\"num\">+") + count_substr(html, "<td class=\"num\">-") >=
          2);
    /* Strips: b.png (classified correctly on the original) first; 2 originals + 2 x 12 points,
     * less the one that failed in the run. */
    const char *a = strstr(html, "<h4>" S_IMAGE_HTML "</h4>"), *bb = strstr(html, "<h4>b.png</h4>");
    CHECK(a && bb && bb < a);
    CHECK(count_substr(html, "src=\"data:image/png;base64,iVBORw0KGgo") == 2 + 2 * 12 - 1);
    CHECK(strstr(html, "failed in the run: boom &lt;x&gt;") != NULL);
    CHECK(count_substr(html, "<div class=\"noimg\"") == 1);
    CHECK(strstr(html, "pictures at 1/3 size (box filter)") != NULL);
    CHECK(count_substr(html, "width=\"100\" height=\"66\"") == 12 - 1 + 1);
    CHECK(strstr(html, "pictures enlarged 2\xC3\x97") != NULL);
    CHECK(count_substr(html, "class=\"px\" width=\"48\" height=\"40\"") == 13);
    CHECK(strstr(html, "label cat &amp; dog") != NULL);
    CHECK(count_substr(html, "<span class=\"bad\">&lt;b&gt;cls0&lt;/b&gt; \xE2\x9C\x97</span>") ==
          1);
    CHECK(count_substr(html, "<span class=\"ok\">cat &amp; dog \xE2\x9C\x93</span>") == 1 + 11);
    CHECK(strstr(html, "quality 20<br/>3 bpp, 28.00 dB") != NULL); /* image b, jpeg knob 20 */
    CHECK(strstr(html, "Example images left out") == NULL);
    /* Settings and their provenance are not shown in the strips. */
    CHECK(strstr(html, "unknown setting") == NULL && strstr(html, "comment:") == NULL);
    CHECK(count_substr(html, "alt=\"j2k knob ") == 2 * 4);
  }
  free(html);

  /* Same input, same bytes. */
  PATHF(path, "%s/report.html", out);
  char *first = read_file(path, NULL);
  html = s_report(db, 1, out, NULL);
  CHECK(first && html && strcmp(first, html) == 0);
  free(first);
  free(html);

  /* A picture the database holds no (usable) thumbnail for: shown as missing, with why. */
  CHECK(exec_sql(db, "UPDATE thumbnails SET png = X'' WHERE image_id = 2 AND point_id = 120",
                 "empty thumbnail") == 0);
  PATHF(out, "%s/out-thumb-missing", work);
  html = s_report(db, 1, out, NULL);
  CHECK(html && count_substr(html, "src=\"data:image/png;base64,iVBORw0KGgo") == 2 + 2 * 12 - 2);
  CHECK(html && strstr(html, "no picture stored") != NULL);
  free(html);

  /* --anchor: any codec; an unknown label is an error listing the labels. */
  PATHF(out, "%s/out-anchor", work);
  report_options opt = {.anchor = "webp", .no_images = 1};
  html = s_report(db, 1, out, &opt);
  CHECK(html && strstr(html, "ntegaard deltas against webp (knob grids)") != NULL);
  CHECK(html && strstr(html, "Example images") == NULL && strstr(html, "data:image") == NULL);
  free(html);
  opt.anchor = "nope";
  err[0] = '\0';
  PATHF(out, "%s/out-anchor-bad", work);
  CHECK(report_write_opts_db(db, 1, out, &opt, err, sizeof err) != 0);
  CHECK(strstr(err, "anchor 'nope': no codec with this label") != NULL &&
        strstr(err, "j2k, webp") != NULL);
  CHECK(!file_exists(out, "report.html"));
  /* No jpeg at all: the first codec in suite order (lowest id), not the first by label. */
  opt.anchor = NULL;
  PATHF(out, "%s/out-anchor-first", work);
  html = s_report(db, 2, out, &opt);
  CHECK(html && strstr(html, "ntegaard deltas against zz (knob grids)") != NULL);
  free(html);

  /* A run that stored no thumbnails (older saicbench, or --strip-images 0): a note, no pictures;
   * the report never opens the dataset (its path does not exist). */
  CHECK(exec_sql(db, "DELETE FROM thumbnails", "no thumbnails") == 0);
  PATHF(out, "%s/out-no-thumbs", work);
  html = s_report(db, 1, out, NULL);
  CHECK(html && strstr(html, "The run stored no example images for this dataset") != NULL &&
        strstr(html, "data:image") == NULL);
  free(html);
  /* ... and a database from before the thumbnails table. */
  CHECK(exec_sql(db, "DROP TABLE thumbnails", "no thumbnails table") == 0);
  PATHF(out, "%s/out-no-thumb-table", work);
  html = s_report(db, 1, out, NULL);
  CHECK(html && strstr(html, "The run stored no example images for this dataset") != NULL);
  free(html);
  sqlite3_close(db);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCHEMA.sql [--keep DIR]\n", argv[0]);
    return 2;
  }
  const char *keep = argc >= 4 && strcmp(argv[2], "--keep") == 0 ? argv[3] : NULL;
  const char *tmp = getenv("TMPDIR");
  char work[4096];
  PATHF(work, "%s/sb_reports_XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(work)) {
    fprintf(stderr, "cannot create temporary directory %s: %s\n", work, strerror(errno));
    return 2;
  }

  test_html_escape();
  test_csv_and_numbers();
  test_buf_take();
  test_ticks();
  test_svg_plot();
  test_end_to_end(argv[1], work, keep);
  test_tasks(argv[1], work, keep);
  test_strips(argv[1], work, keep);

  rm_tree(work);
  return sb_test_status("reports");
}
