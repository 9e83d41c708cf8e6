/* Command-line front end to metrics/metrics.h, for the SciPy oracle test (test_bd_oracle.py).
 *
 * Usage:
 *   bd_cli ANCHOR TEST   one comparison; each curve is "rate metric rate metric ..." (numbers
 *                        separated by blanks or commas, strtod syntax, so nan/inf are accepted)
 *   bd_cli               batch: one comparison per stdin line, "ANCHOR | TEST"; blank lines
 *                        are skipped
 * Output, one line per comparison: BD-rate (percent) TAB BD-metric, each printed with %.12g, or
 * the metrics_bd_status_text() of the status in its place. Exit status 0, or 2 on a malformed line. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct curve {
  double *rate, *metric;
  size_t n, cap;
} curve;

/* Parses alternating rate/metric numbers from s into c. Returns 0, or -1 on malformed input. */
static int parse_curve(const char *s, curve *c) {
  c->n = 0;
  size_t count = 0;
  double pending = 0.0;
  for (;;) {
    while (*s == ' ' || *s == '\t' || *s == ',' || *s == '\n' || *s == '\r')
      s++;
    if (!*s)
      break;
    char *end;
    double v = strtod(s, &end);
    if (end == s)
      return -1;
    s = end;
    if (count++ % 2 == 0) {
      pending = v;
      continue;
    }
    if (c->n == c->cap) {
      size_t cap = c->cap ? 2 * c->cap : 16;
      double *r = realloc(c->rate, cap * sizeof *r);
      if (!r)
        return -1;
      c->rate = r;
      double *m = realloc(c->metric, cap * sizeof *m);
      if (!m)
        return -1;
      c->metric = m;
      c->cap = cap;
    }
    c->rate[c->n] = pending;
    c->metric[c->n] = v;
    c->n++;
  }
  return count % 2 == 0 ? 0 : -1;
}

static void print_field(metrics_bd_status s, double v) {
  if (s == METRICS_BD_OK)
    printf("%.12g", v);
  else
    fputs(metrics_bd_status_text(s), stdout);
}

static void compare(const curve *a, const curve *t) {
  double r = 0.0, m = 0.0;
  metrics_bd_status sr = metrics_bd_rate(a->rate, a->metric, a->n, t->rate, t->metric, t->n, &r);
  metrics_bd_status sm = metrics_bd_metric(a->rate, a->metric, a->n, t->rate, t->metric, t->n, &m);
  print_field(sr, r);
  putchar('\t');
  print_field(sm, m);
  putchar('\n');
}

int main(int argc, char **argv) {
  curve a = {0}, t = {0};
  int rc = 0;
  if (argc == 3) {
    if (parse_curve(argv[1], &a) != 0 || parse_curve(argv[2], &t) != 0) {
      fprintf(stderr, "bd_cli: malformed curve\n");
      rc = 2;
    } else {
      compare(&a, &t);
    }
  } else if (argc == 1) {
    char *line = NULL;
    size_t len = 0;
    long lineno = 0;
    while (getline(&line, &len, stdin) > 0) {
      lineno++;
      if (strspn(line, " \t\r\n") == strlen(line))
        continue;
      char *bar = strchr(line, '|');
      if (!bar) {
        fprintf(stderr, "bd_cli: line %ld: no '|'\n", lineno);
        rc = 2;
        break;
      }
      *bar = '\0';
      if (parse_curve(line, &a) != 0 || parse_curve(bar + 1, &t) != 0) {
        fprintf(stderr, "bd_cli: line %ld: malformed curve\n", lineno);
        rc = 2;
        break;
      }
      compare(&a, &t);
    }
    free(line);
  } else {
    fprintf(stderr, "usage: bd_cli [ANCHOR TEST]  (curves: \"rate metric rate metric ...\")\n");
    rc = 2;
  }
  free(a.rate);
  free(a.metric);
  free(t.rate);
  free(t.metric);
  if (fflush(stdout) != 0)
    rc = 2;
  return rc;
}
