/* report_paired.c - the CSV and HTML tables of the paired bootstrap intervals (report.h:
 * paired_<dataset>.csv; the intervals come from results_paired_query). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "report_internal.h"
#include "results.h"

/* A difference and its interval: "d [lo, hi]" scaled by `scale`, or an empty cell. */
static void put_ci_cell(sb_buf *b, const metrics_pboot_ci *ci, double scale, int digits) {
  if (!isfinite(ci->delta)) {
    sb_buf_puts(b, "<td>\xE2\x80\x93</td>");
    return;
  }
  const int sig = ci->lo > 0 || ci->hi < 0;
  sb_buf_printf(b, "<td%s>%+.*f [%+.*f, %+.*f]</td>", sig ? " class=\"sig\"" : "", digits,
                ci->delta * scale, digits, ci->lo * scale, digits, ci->hi * scale);
}

void report_put_paired_table(sb_buf *b, const results_data *d, const results_dataset *ds) {
  if (ds->n_paired == 0)
    return;
  const results_paired *p0 = &ds->paired[0];
  sb_buf_puts(b, "<h3>Paired differences against ");
  report_html_escape(b, d->codecs[p0->ref].label);
  sb_buf_printf(b,
                "</h3>\n<p class=\"note\">At each bpp target, codec minus reference on the "
                "same images: accuracy in points, SI_norm, PSNR in dB; the estimate and its "
                "%.0f %% paired bootstrap interval (%d resamples of the images, seed %u; "
                "docs/metrics.md). Bold: the interval excludes 0.</p>\n",
                100 * p0->ci.level, p0->ci.rounds, (unsigned)METRICS_PBOOT_DEFAULT_SEED);
  sb_buf_puts(b, "<table class=\"paired\">\n<tr><th>task</th><th>codec</th><th>target "
                 "bpp</th><th>n</th><th>&Delta; accuracy [points]</th><th>&Delta; "
                 "SI_norm</th><th>&Delta; PSNR [dB]</th></tr>\n");
  for (size_t i = 0; i < ds->n_paired; i++) {
    const results_paired *p = &ds->paired[i];
    sb_buf_puts(b, "<tr><td>");
    report_html_escape(b, d->tasks[p->task].name);
    sb_buf_puts(b, "</td><td>");
    report_html_escape(b, d->codecs[p->codec].label);
    sb_buf_printf(b, "</td><td>%g</td><td>%" PRId64 "</td>", p->target, p->n);
    put_ci_cell(b, &p->ci.accuracy, 100, 2);
    put_ci_cell(b, &p->ci.si_norm, 1, 3);
    put_ci_cell(b, &p->ci.psnr, 1, 2);
    sb_buf_puts(b, "</tr>\n");
  }
  sb_buf_puts(b, "</table>\n");
}
