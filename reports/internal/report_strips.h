/* Example image strips for report.html: a few images per dataset, the original and every
 * decoded image at every grid point, as small inline PNGs. Internal to sb_reports.
 *
 * The pictures are the thumbnails the run stored as it went (schema.sql: thumbnails; `saicbench
 * run --strip-images N`, default 2 images per dataset): the report reads nothing but the
 * database and never reopens datasets or codecs. report_strips_query picks, per dataset, up to
 * strip_images of the images with a stored original thumbnail (results_strip_picks: with a task,
 * those it classified correctly on the original first, one per class before a second of any
 * class) and reads each one's result, task top-1 and picture at every grid point of the
 * dataset's rows. Pictures are kept while the page's budget (REPORT_STRIPS_BUDGET) lasts; the
 * images after it are left out with a note.
 *
 * Deterministic: the same database gives the same bytes.
 * Thread-safety: no global state; one report_strips per caller. */
#ifndef SAICBENCH_REPORT_STRIPS_H
#define SAICBENCH_REPORT_STRIPS_H

#include "report_text.h"
#include "results.h"

#include <stddef.h>
#include <stdint.h>

/* Total base64 PNG bytes of all strips of one report; images past it are left out (noted). */
#define REPORT_STRIPS_BUDGET (6u << 20)

/* One picture: the original (row == SIZE_MAX) or a decoded image at one grid point. */
typedef struct report_thumb {
  size_t row;             /* index into results_dataset.rows, SIZE_MAX for the original */
  int has_result;         /* a results row exists for this image and point */
  double knob, bpp, psnr; /* results.knob / bpp / psnr (NAN when NULL) */
  int64_t bytes;          /* results.bytes, -1 when NULL */
  int top1;               /* task top-1 on this picture, -1 when none */
  char *png_b64;          /* base64 PNG, NULL when there is no picture */
  int w, h;               /* size of the PNG */
  char *error;            /* why there is no picture (NULL when there is one) */
} report_thumb;

typedef struct report_strip_image {
  int64_t image_id, idx;
  char *name, *hash;
  int label;         /* -1 when unlabelled */
  int width, height; /* as stored */
  int scale;         /* downscale factor of the stored thumbnails (1: full size) */
  report_thumb original;
  report_thumb *thumbs; /* [n_thumbs], in the order of results_dataset.rows */
  size_t n_thumbs;
  int rendered; /* 1: shown (pictures or per-picture errors set); 0: left out (budget) */
} report_strip_image;

typedef struct report_strips {
  report_strip_image *images;
  size_t n_images;
  size_t task;        /* index of the task whose top-1 is shown, SIZE_MAX when none */
  char **label_names; /* class names from datasets.class_names ([n_label_names]) */
  size_t n_label_names;
  char *note; /* why strips are missing or incomplete; NULL when all is well */
  int stored; /* the run stored thumbnails for this dataset */
} report_strips;

/* Reads the picks and their pictures for every dataset of d into strips[d->n_datasets] (zeroed
 * first). Returns non-zero only on database errors or when out of memory. */
int report_strips_query(store *st, const results_data *d, size_t strip_images,
                        report_strips *strips, char *err, size_t err_len);
void report_strips_free(report_strips *strips, size_t n);

/* Appends the standard base64 (RFC 4648, with padding) of data. */
void report_base64(sb_buf *b, const uint8_t *data, size_t n);

#endif
