/* Example image strips for report.html: a few images per dataset, re-encoded with every codec
 * at every grid point and shown as small inline PNGs. Internal to sb_reports.
 *
 * Two steps, so the database is read inside the report's read transaction and the slow part
 * (dataset files, encodes) runs outside it:
 *  1. report_strips_query: per dataset, picks the images (the first strip_images, by index,
 *     that were read successfully; labelled images that the first task classified correctly on
 *     the original come first) and reads, for each grid point of the dataset's rows, that
 *     image's results row (knob used, file bytes, bpp, PSNR, error) and the task's top-1 on the
 *     decoded image (task_results) and on the original (task_refs).
 *  2. report_strips_render: opens the dataset as stored (datasets.path; the split is not stored,
 *     so the folder itself, then its "test" and "train" splits are tried, and an opening is used
 *     only when the image at images.idx has the stored name and the stored pixel hash), loads
 *     each picked image, creates every codec from its stored settings (plugins from
 *     codecs.plugin_path; a "KEY.sha256" entry next to a setting KEY is the run's SHA-256 of
 *     the file KEY names, not a setting: it is left out, and a file that now differs or cannot
 *     be read gives a warning under each picture of that codec), encodes at the stored knob,
 *     decodes, downscales (box filter, whole factor) to at most REPORT_THUMB_MAX_W px wide and
 *     encodes a PNG, kept as base64.
 *
 * Never fails the report: whatever cannot be done (dataset not readable, image changed, codec
 * unknown, encode failure) becomes a note (per dataset) or an error text (per picture).
 * Deterministic: the same database and files give the same bytes.
 * Thread-safety: no global state; one report_strips per caller. */
#ifndef SAICBENCH_REPORT_STRIPS_H
#define SAICBENCH_REPORT_STRIPS_H

#include "report_text.h"
#include "results.h"

#include <stddef.h>
#include <stdint.h>

#define REPORT_THUMB_MAX_W 128
/* Total base64 PNG bytes of all strips of one report; images past it are left out (noted). */
#define REPORT_STRIPS_BUDGET (6u << 20)

/* One picture: the original (row == SIZE_MAX) or a decoded image at one grid point. */
typedef struct report_thumb {
  size_t row;             /* index into results_dataset.rows, SIZE_MAX for the original */
  int has_result;         /* a results row exists for this image and point */
  double knob, bpp, psnr; /* results.knob / bpp / psnr (NAN when NULL) */
  int64_t bytes;          /* results.bytes, -1 when NULL */
  int top1;               /* task top-1 on this picture, -1 when none */
  int64_t rebytes;        /* file bytes of the re-encode, -1 when not re-encoded */
  char *png_b64;          /* base64 PNG, NULL when there is no picture */
  int w, h;               /* size of the PNG */
  char *error;            /* why there is no picture (NULL when there is one) */
  char *warning;          /* e.g. a file setting differs from the run's; NULL when none */
} report_thumb;

typedef struct report_strip_image {
  int64_t image_id, idx;
  char *name, *hash;
  int label;         /* -1 when unlabelled */
  int width, height; /* as stored */
  int scale;         /* downscale factor of the thumbnails (1: full size) */
  report_thumb original;
  report_thumb *thumbs; /* [n_thumbs], in the order of results_dataset.rows */
  size_t n_thumbs;
  int rendered; /* 1: pictures made (or per-picture errors set) */
} report_strip_image;

typedef struct report_strips {
  report_strip_image *images;
  size_t n_images;
  size_t task;        /* index of the task whose top-1 is shown, SIZE_MAX when none */
  char **label_names; /* class names from datasets.class_names ([n_label_names]) */
  size_t n_label_names;
  char *note; /* why strips are missing or incomplete; NULL when all is well */
} report_strips;

/* Reads the picks for every dataset of d into strips[d->n_datasets] (zeroed first). Returns
 * non-zero only on database errors or when out of memory. */
int report_strips_query(store *st, const results_data *d, size_t strip_images,
                        report_strips *strips, char *err, size_t err_len);
/* Makes the pictures (see above). Never fails; problems become notes. */
void report_strips_render(const results_data *d, report_strips *strips);
void report_strips_free(report_strips *strips, size_t n);

/* Appends the standard base64 (RFC 4648, with padding) of data. */
void report_base64(sb_buf *b, const uint8_t *data, size_t n);

#endif
