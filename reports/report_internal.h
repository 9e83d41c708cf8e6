/* Shared declarations of the report writers (one file per output format). Internal. */
#ifndef SAICBENCH_REPORT_INTERNAL_H
#define SAICBENCH_REPORT_INTERNAL_H

#include "report_buf.h"
#include "report_data.h"

#include <math.h>
#include <stddef.h>

/* Output file names of one report (see report.h for the naming rules). */
typedef struct report_files {
  char **csv;  /* [n_datasets] */
  char **json; /* [report_json_slot()]; NULL where no file is written */
  size_t n_datasets, n_codecs;
} report_files;

static inline size_t report_json_slot(const report_files *f, size_t ds, size_t codec, int is_bpp) {
  return (ds * f->n_codecs + codec) * 2 + (is_bpp ? 1 : 0);
}

/* A row goes into JSON files and plots only when it has a rate to put on the x axis. */
static inline int report_row_plottable(const report_row *r) { return isfinite(r->bpp); }

int report_write_csv(const report_data *d, size_t ds, const char *dir, const char *name, char *err,
                     size_t err_len);
int report_write_compressai(const report_data *d, size_t ds, size_t codec, int is_bpp,
                            const char *dir, const char *name, char *err, size_t err_len);
int report_write_html(const report_data *d, const report_files *files, const char *dir,
                      const char *name, char *err, size_t err_len);

#endif
