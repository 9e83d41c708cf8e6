/* Example image strips (see report_strips.h). */
#include "report_strips.h"

#include "codec_registry.h"
#include "dataset.h"
#include "image.h"
#include "report_fs.h"
#include "report_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- small helpers ---- */

static char *dup_str(const char *s) {
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (d) {
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  return d;
}

void report_base64(sb_buf *b, const uint8_t *data, size_t n) {
  static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char out[4 * 256];
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)data[i + 1] << 8;
    if (i + 2 < n)
      v |= data[i + 2];
    out[o++] = k[(v >> 18) & 63];
    out[o++] = k[(v >> 12) & 63];
    out[o++] = i + 1 < n ? k[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? k[v & 63] : '=';
    if (o == sizeof out) {
      sb_buf_append(b, out, o);
      o = 0;
    }
  }
  if (o)
    sb_buf_append(b, out, o);
}

/* ---- step 1: the database ---- */

/* The first task (by name) that scored the dataset, SIZE_MAX when none. */
static size_t strip_task(const results_data *d, const results_dataset *ds) {
  for (size_t t = 0; t < d->n_tasks; t++)
    if (report_task_in_dataset(ds, t))
      return t;
  return SIZE_MAX;
}

static int load_label_names(const results_dataset *ds, report_strips *s) {
  if (!ds->class_names_json)
    return 0;
  json_t *a = json_loads(ds->class_names_json, 0, NULL);
  if (!json_is_array(a)) {
    json_decref(a);
    return 0;
  }
  size_t n = json_array_size(a);
  if (n > RESULTS_MAX_CLASSES)
    n = RESULTS_MAX_CLASSES;
  s->label_names = calloc(n ? n : 1, sizeof *s->label_names);
  int rc = s->label_names ? 0 : -1;
  for (size_t i = 0; i < n && rc == 0; i++) {
    const char *v = json_string_value(json_array_get(a, i));
    if (v && !(s->label_names[i] = dup_str(v)))
      rc = -1;
  }
  if (rc == 0)
    s->n_label_names = n;
  json_decref(a);
  return rc;
}

/* Copies one dataset's picks (results_strip_picks) into s. */
static int fill_dataset(const results_dataset *ds, const results_strip_pick *picks, size_t n,
                        report_strips *s, char *err, size_t err_len) {
  s->images = calloc(n ? n : 1, sizeof *s->images);
  if (!s->images)
    return report_errf(err, err_len, "out of memory");
  for (size_t k = 0; k < n; k++) {
    const results_strip_pick *p = &picks[k];
    report_strip_image *im = &s->images[s->n_images++];
    im->image_id = p->image_id;
    im->idx = p->idx;
    im->name = dup_str(p->name);
    im->hash = dup_str(p->hash);
    im->label = p->label;
    im->width = p->width;
    im->height = p->height;
    im->original.row = SIZE_MAX;
    im->original.top1 = p->ref_top1;
    im->original.rebytes = -1;
    im->thumbs = calloc(ds->n_rows ? ds->n_rows : 1, sizeof *im->thumbs);
    if (!im->name || !im->hash || !im->thumbs)
      return report_errf(err, err_len, "out of memory");
    im->n_thumbs = ds->n_rows;
    for (size_t r = 0; r < ds->n_rows && r < p->n_points; r++) {
      const results_strip_point *pt = &p->points[r];
      report_thumb *t = &im->thumbs[r];
      t->row = r;
      t->has_result = pt->has_result;
      t->knob = pt->knob;
      t->bytes = pt->bytes;
      t->bpp = pt->bpp;
      t->psnr = pt->psnr;
      t->rebytes = -1;
      t->top1 = pt->top1;
      if (pt->error && !(t->error = dup_printf("failed in the run: %s", pt->error)))
        return report_errf(err, err_len, "out of memory");
    }
  }
  return 0;
}

int report_strips_query(store *st, const results_data *d, size_t strip_images,
                        report_strips *strips, char *err, size_t err_len) {
  for (size_t i = 0; i < d->n_datasets; i++) {
    memset(&strips[i], 0, sizeof strips[i]);
    strips[i].task = SIZE_MAX;
  }
  if (strip_images == 0)
    return 0;
  for (size_t i = 0; i < d->n_datasets; i++) {
    report_strips *s = &strips[i];
    s->task = strip_task(d, &d->datasets[i]);
    if (load_label_names(&d->datasets[i], s))
      return report_errf(err, err_len, "out of memory reading class names");
    results_strip_pick *picks = NULL;
    size_t n = 0;
    int rc = results_strip_picks(st, d, i, s->task, strip_images, &picks, &n, err, err_len);
    if (rc == 0)
      rc = fill_dataset(&d->datasets[i], picks, n, s, err, err_len);
    results_strip_picks_free(picks, n);
    if (rc)
      return -1;
  }
  return 0;
}

/* ---- step 2: files and codecs ---- */

static void pixel_hash(const image_rgb8 *img, char out[33]) {
  XXH3_state_t *hs = XXH3_createState();
  out[0] = '\0';
  if (!hs)
    return;
  /* As the runner computes images.hash: the size, then the pixels. */
  uint32_t dims[2] = {(uint32_t)img->width, (uint32_t)img->height};
  XXH3_128bits_reset(hs);
  XXH3_128bits_update(hs, dims, sizeof dims);
  XXH3_128bits_update(hs, img->rgb, (size_t)img->width * (size_t)img->height * 3);
  XXH128_hash_t h = XXH3_128bits_digest(hs);
  XXH3_freeState(hs);
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

/* Box-filter downscale by a whole factor (remainder rows/columns dropped), then PNG, base64. */
static void make_thumb(const uint8_t *rgb, int w, int h, int scale, report_thumb *t) {
  int tw = w / scale, th = h / scale;
  if (tw < 1 || th < 1) {
    tw = w;
    th = h;
    scale = 1;
  }
  image_rgb8 small = {tw, th, malloc((size_t)tw * (size_t)th * 3)};
  if (!small.rgb) {
    t->error = dup_str("out of memory");
    return;
  }
  uint32_t n = (uint32_t)scale * (uint32_t)scale;
  for (int y = 0; y < th; y++)
    for (int x = 0; x < tw; x++)
      for (int c = 0; c < 3; c++) {
        uint32_t sum = 0;
        for (int dy = 0; dy < scale; dy++) {
          const uint8_t *p = rgb + ((size_t)(y * scale + dy) * (size_t)w + (size_t)x * scale) * 3;
          for (int dx = 0; dx < scale; dx++)
            sum += p[dx * 3 + c];
        }
        small.rgb[((size_t)y * tw + x) * 3 + c] = (uint8_t)((sum + n / 2) / n);
      }
  uint8_t *png = NULL;
  size_t png_len = 0;
  char perr[256];
  if (image_encode_png(&small, &png, &png_len, perr, sizeof perr)) {
    t->error = dup_printf("PNG: %s", perr);
  } else {
    sb_buf b = {0};
    report_base64(&b, png, png_len);
    if (sb_buf_failed(&b)) {
      sb_buf_free(&b);
      t->error = dup_str("out of memory");
    } else {
      t->png_b64 = b.data;
      t->w = tw;
      t->h = th;
    }
  }
  free(png);
  free(small.rgb);
}

typedef struct codec_slot {
  const codec_vtable *vt;
  void *instance;
  int tried;
  char *error;   /* why the codec cannot be used */
  char *warning; /* a file setting differs from the run's (see check_file_setting) */
} codec_slot;

/* Whether `key` of the stored settings is provenance rather than a codec setting: the runner
 * stores "KEY.sha256" (the file's SHA-256) next to a setting KEY that names a file (a suite
 * value tagged !path; harness/runner.c settings_json). Only with KEY present: a codec's own
 * setting that happens to end in ".sha256" is passed on. */
static const char *provenance_base(json_t *o, const char *key, char *base, size_t base_len) {
  static const char suffix[] = ".sha256";
  size_t n = strlen(key), k = sizeof suffix - 1;
  if (n <= k || n - k >= base_len || strcmp(key + n - k, suffix) != 0)
    return NULL;
  memcpy(base, key, n - k);
  base[n - k] = '\0';
  return json_object_get(o, base) ? base : NULL;
}

/* Compares the file named by setting `base` with the SHA-256 the run stored; a difference (or
 * a file that cannot be read) is added to slot->warning, shown under every picture of the
 * codec. */
static void check_file_setting(codec_slot *slot, const char *base, json_t *path_val,
                               json_t *sha_val) {
  const char *path = json_string_value(path_val), *stored = json_string_value(sha_val);
  char now[65], why[256], *w = NULL;
  if (!path || !stored)
    return;
  if (sb_sha256_file(path, now, why, sizeof why))
    w = dup_printf("%s: file not readable at report time (%s); not compared with the run's SHA-256",
                   base, why);
  else if (strcmp(now, stored) != 0)
    w = dup_printf("%s: the file differs from the one the run used (SHA-256 %.12s\xE2\x80\xA6 "
                   "now, %.12s\xE2\x80\xA6 in the run)",
                   base, now, stored);
  if (w && slot->warning) {
    char *joined = dup_printf("%s; %s", slot->warning, w);
    free(w);
    w = joined;
    if (w) /* else keep the first warning */
      free(slot->warning);
  }
  if (w)
    slot->warning = w;
}

static void codec_setup(const results_codec *c, codec_registry *reg, codec_slot *slot) {
  slot->tried = 1;
  char cerr[512] = "";
  if (c->plugin_path && !codec_registry_find(reg, c->codec ? c->codec : "") &&
      codec_registry_load_plugin(reg, c->plugin_path, cerr, sizeof cerr)) {
    slot->error = dup_printf("codec plugin not loadable at report time: %s", cerr);
    return;
  }
  slot->vt = c->codec ? codec_registry_find(reg, c->codec) : NULL;
  if (!slot->vt) {
    slot->error =
        dup_printf("codec '%s' is not available at report time", c->codec ? c->codec : "");
    return;
  }
  /* The stored settings: a JSON object of strings (other values are passed as JSON text). */
  json_t *o = c->settings ? json_loads(c->settings, 0, NULL) : json_object();
  if (!json_is_object(o)) {
    json_decref(o);
    slot->vt = NULL;
    slot->error = dup_str("the stored codec settings are not a JSON object");
    return;
  }
  size_t n = json_object_size(o), i = 0;
  codec_option *opts = calloc(n ? n : 1, sizeof *opts);
  char **owned = calloc(n ? n : 1, sizeof *owned);
  if (!opts || !owned) {
    free(opts);
    free(owned);
    json_decref(o);
    slot->vt = NULL;
    slot->error = dup_str("out of memory");
    return;
  }
  const char *key;
  json_t *val;
  json_object_foreach(o, key, val) {
    char base[256];
    if (provenance_base(o, key, base, sizeof base)) {
      check_file_setting(slot, base, json_object_get(o, base), val);
      continue;
    }
    opts[i].key = key;
    if (json_is_string(val)) {
      opts[i].value = json_string_value(val);
    } else {
      owned[i] = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
      opts[i].value = owned[i] ? owned[i] : "";
    }
    i++;
  }
  if (slot->vt->create(opts, i, &slot->instance, cerr, sizeof cerr)) {
    slot->error = dup_printf("cannot create the codec from its stored settings: %s", cerr);
    slot->vt = NULL;
    slot->instance = NULL;
  }
  for (size_t k = 0; k < n; k++)
    free(owned[k]);
  free(owned);
  free(opts);
  json_decref(o);
}

/* Encodes img with the codec at the stored knob, decodes, makes the thumbnail. */
static void render_thumb(const codec_slot *slot, const image_rgb8 *img, int scale,
                         report_thumb *t) {
  if (t->error)
    return; /* failed in the run */
  if (!t->has_result) {
    t->error = dup_str("no result stored for this image");
    return;
  }
  if (!isfinite(t->knob)) {
    t->error = dup_str("no knob value stored");
    return;
  }
  if (slot->warning && !(t->warning = dup_str(slot->warning))) {
    t->error = dup_str("out of memory");
    return;
  }
  if (!slot->vt) {
    t->error = dup_str(slot->error ? slot->error : "codec not available");
    return;
  }
  codec_encoded enc = {0};
  char cerr[512] = "";
  if (slot->vt->encode(slot->instance, img->rgb, img->width, img->height, t->knob, &enc, cerr,
                       sizeof cerr)) {
    t->error = dup_printf("encode failed at report time: %s", cerr);
    return;
  }
  t->rebytes = (int64_t)enc.size;
  uint8_t *rgb = NULL;
  int w = 0, h = 0;
  if (slot->vt->decode(slot->instance, enc.data, enc.size, &rgb, &w, &h, cerr, sizeof cerr)) {
    t->error = dup_printf("decode failed at report time: %s", cerr);
  } else if (w != img->width || h != img->height) {
    t->error = dup_printf("decoded size %dx%d differs from %dx%d", w, h, img->width, img->height);
  } else {
    make_thumb(rgb, w, h, scale, t);
  }
  free(rgb);
  free(enc.data);
}

/* Opens the dataset as the run did: datasets.path with no split, else its test or train split;
 * an opening counts only when the first picked image has the stored name and pixel hash. */
static dataset *open_matching(const results_dataset *rds, const report_strip_image *first,
                              char *why, size_t why_len) {
  static const char *const splits[] = {NULL, "test", "train"};
  why[0] = '\0';
  for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
    dataset *ds = NULL;
    char derr[512];
    if (dataset_open(rds->path, splits[k], &ds, derr, sizeof derr)) {
      if (!why[0])
        snprintf(why, why_len, "%s", derr);
      continue;
    }
    size_t idx = (size_t)first->idx;
    if (first->idx >= 0 && idx < dataset_size(ds) &&
        strcmp(dataset_item_name(ds, idx), first->name) == 0) {
      image_rgb8 img = {0};
      if (dataset_load(ds, idx, &img, derr, sizeof derr) == 0) {
        char h[33];
        pixel_hash(&img, h);
        image_free(&img);
        if (strcmp(h, first->hash) == 0)
          return ds;
        snprintf(why, why_len, "%s: the pixels differ from the run's (hash %s, stored %s)",
                 first->name, h, first->hash);
      } else {
        snprintf(why, why_len, "%s", derr);
      }
    } else if (!why[0] || k == 0) {
      snprintf(why, why_len, "image %" PRId64 " is not '%s' in %s", first->idx, first->name,
               dataset_root(ds));
    }
    dataset_close(ds);
  }
  return NULL;
}

static void render_dataset(const results_data *d, const results_dataset *rds, report_strips *s,
                           codec_registry *reg, codec_slot *slots, size_t *budget_used) {
  if (s->n_images == 0)
    return;
  if (!rds->path) {
    s->note = dup_str("Example images left out: the dataset has no stored path.");
    return;
  }
  char why[1024];
  dataset *ds = open_matching(rds, &s->images[0], why, sizeof why);
  if (!ds) {
    sb_buf b = {0};
    sb_buf_printf(&b,
                  "Example images left out: the dataset files are not readable at report "
                  "time or no longer match the run (%s). Paths are used as stored: relative "
                  "ones are taken from the current directory.",
                  why);
    s->note = sb_buf_failed(&b) ? NULL : b.data;
    return;
  }
  size_t left_out = 0;
  for (size_t k = 0; k < s->n_images; k++) {
    report_strip_image *im = &s->images[k];
    if (*budget_used >= REPORT_STRIPS_BUDGET) {
      left_out++;
      continue;
    }
    im->rendered = 1;
    image_rgb8 img = {0};
    char lerr[512];
    if (dataset_load(ds, (size_t)im->idx, &img, lerr, sizeof lerr)) {
      im->original.error = dup_printf("not readable at report time: %s", lerr);
      continue;
    }
    char h[33];
    pixel_hash(&img, h);
    if ((size_t)im->idx >= dataset_size(ds) ||
        strcmp(dataset_item_name(ds, (size_t)im->idx), im->name) != 0 || strcmp(h, im->hash) != 0) {
      im->original.error = dup_str("the file differs from the one the run read");
      image_free(&img);
      continue;
    }
    im->scale = (img.width + REPORT_THUMB_MAX_W - 1) / REPORT_THUMB_MAX_W;
    if (im->scale < 1)
      im->scale = 1;
    make_thumb(img.rgb, img.width, img.height, im->scale, &im->original);
    for (size_t r = 0; r < im->n_thumbs; r++) {
      report_thumb *t = &im->thumbs[r];
      size_t c = rds->rows[t->row].codec;
      if (!slots[c].tried)
        codec_setup(&d->codecs[c], reg, &slots[c]);
      render_thumb(&slots[c], &img, im->scale, t);
    }
    image_free(&img);
    *budget_used += im->original.png_b64 ? strlen(im->original.png_b64) : 0;
    for (size_t r = 0; r < im->n_thumbs; r++)
      *budget_used += im->thumbs[r].png_b64 ? strlen(im->thumbs[r].png_b64) : 0;
  }
  dataset_close(ds);
  if (left_out > 0)
    s->note = dup_printf("%zu example image(s) of this dataset left out to keep the page small "
                         "(about %u MiB of pictures per report).",
                         left_out, (unsigned)(REPORT_STRIPS_BUDGET >> 20));
}

void report_strips_render(const results_data *d, report_strips *strips) {
  size_t any = 0;
  for (size_t i = 0; i < d->n_datasets; i++)
    any += strips[i].n_images;
  if (any == 0)
    return;
  codec_registry *reg = NULL;
  char rerr[512];
  codec_slot *slots = calloc(d->n_codecs ? d->n_codecs : 1, sizeof *slots);
  if (!slots || codec_registry_create(&reg, rerr, sizeof rerr)) {
    for (size_t i = 0; i < d->n_datasets; i++)
      if (strips[i].n_images > 0 && !strips[i].note)
        strips[i].note = dup_str("Example images left out: the codecs could not be set up.");
    free(slots);
    return;
  }
  size_t budget_used = 0;
  for (size_t i = 0; i < d->n_datasets; i++)
    render_dataset(d, &d->datasets[i], &strips[i], reg, slots, &budget_used);
  for (size_t c = 0; c < d->n_codecs; c++) {
    if (slots[c].vt && slots[c].vt->destroy)
      slots[c].vt->destroy(slots[c].instance);
    free(slots[c].error);
    free(slots[c].warning);
  }
  free(slots);
  codec_registry_destroy(reg);
}

static void thumb_free(report_thumb *t) {
  free(t->png_b64);
  free(t->error);
  free(t->warning);
}

void report_strips_free(report_strips *strips, size_t n) {
  for (size_t i = 0; strips && i < n; i++) {
    report_strips *s = &strips[i];
    for (size_t k = 0; k < s->n_images; k++) {
      report_strip_image *im = &s->images[k];
      free(im->name);
      free(im->hash);
      thumb_free(&im->original);
      for (size_t r = 0; r < im->n_thumbs; r++)
        thumb_free(&im->thumbs[r]);
      free(im->thumbs);
    }
    free(s->images);
    for (size_t k = 0; k < s->n_label_names; k++)
      free(s->label_names[k]);
    free(s->label_names);
    free(s->note);
    memset(s, 0, sizeof *s);
  }
}
