/* Unit tests of data/dataset.c on generated datasets: CIFAR-10 binary batches, class
 * folders, the split sub-folder rule, plain folders, errors and concurrent loading. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <png.h>
#include <xxhash.h>

#include "data_test_util.h"
#include "data.h"

static char tmp[512];

/* NULL-safe: a wrong item count must fail checks, not crash the test. */
static int name_is(const dataset *ds, size_t i, const char *want) {
  const char *got = dataset_item_name(ds, i);
  return got && !strcmp(got, want);
}

/* ---- CIFAR-10 binary ---- */

/* Pixel value of record `rec` of batch `batch`, plane c (0 R, 1 G, 2 B), position p. */
static uint8_t cifar_px(int batch, int rec, int c, int p) {
  return (uint8_t)(p * 7 + c * 85 + rec * 13 + batch * 31 + (p >> 5));
}

static int cifar_label(int batch, int rec, int n_classes) { return (rec * 7 + batch) % n_classes; }

/* Writes `n` records; returns the buffer (caller frees) for hash checks. */
static uint8_t *write_batch(const char *dir, const char *name, int batch, int n, int n_classes) {
  uint8_t *buf = malloc((size_t)n * 3073);
  for (int r = 0; r < n; r++) {
    uint8_t *rec = buf + (size_t)r * 3073;
    rec[0] = (uint8_t)cifar_label(batch, r, n_classes);
    for (int c = 0; c < 3; c++)
      for (int p = 0; p < 1024; p++)
        rec[1 + c * 1024 + p] = cifar_px(batch, r, c, p);
  }
  char *path = dt_path("%s/%s", dir, name);
  dt_write_file(path, buf, (size_t)n * 3073);
  free(path);
  return buf;
}

static void expect_hex(const void *data, size_t size, const char *got, const char *what) {
  XXH128_hash_t h = XXH3_128bits(data, size);
  char want[33];
  snprintf(want, sizeof want, "%016llx%016llx", (unsigned long long)h.high64,
           (unsigned long long)h.low64);
  CHECK(!strcmp(want, got), "%s: hash %s, expected %s", what, got, want);
}

/* Opens and expects failure with a message that contains `what` (and `name` if given). */
static void open_fails(const char *path, const char *split, const char *what, const char *name) {
  char err[1024] = "";
  dataset *ds = (dataset *)1;
  int rc = dataset_open(path, split, &ds, err, sizeof err);
  CHECK(rc != 0 && ds == NULL, "%s (split %s) opened but should fail (%s)", path,
        split ? split : "-", what);
  CHECK(dt_contains(err, what) && (!name || dt_contains(err, name)),
        "%s: message '%s' should mention '%s' and '%s'", path, err, what, name ? name : "");
  if (!rc)
    dataset_close(ds);
}

static dataset *open_ok(const char *path, const char *split) {
  char err[1024] = "";
  dataset *ds = NULL;
  int rc = dataset_open(path, split, &ds, err, sizeof err);
  CHECK(rc == 0 && ds, "%s (split %s): %s", path, split ? split : "-", err);
  return rc ? NULL : ds;
}

/* Checks that item i is record `rec` of batch `batch`, pixel for pixel. */
static void check_cifar_item(const dataset *ds, size_t i, int batch, int rec, const char *name,
                             int n_classes) {
  const char *got = dataset_item_name(ds, i);
  CHECK(got && !strcmp(got, name), "item %zu is '%s', expected '%s'", i, got ? got : "(null)",
        name);
  CHECK(dataset_item_label(ds, i) == cifar_label(batch, rec, n_classes), "item %zu label %d", i,
        dataset_item_label(ds, i));
  image_rgb8 img;
  char err[512];
  if (dataset_load(ds, i, &img, err, sizeof err)) {
    CHECK(0, "%s", err);
    return;
  }
  CHECK(img.width == 32 && img.height == 32);
  int ok = 1;
  for (int p = 0; p < 1024; p++) /* planar in the file, interleaved in memory */
    for (int c = 0; c < 3; c++)
      ok &= img.rgb[3 * p + c] == cifar_px(batch, rec, c, p);
  CHECK(ok, "item %zu pixels differ", i);
  image_free(&img);
}

static void test_cifar(void) {
  char *dir = dt_path("%s/cifar", tmp);
  dt_mkdir(dir);
  uint8_t *test = write_batch(dir, "test_batch.bin", 0, 5, 10);
  free(write_batch(dir, "data_batch_1.bin", 1, 3, 10));
  free(write_batch(dir, "data_batch_2.bin", 2, 4, 10));
  char *other = dt_path("%s/readme.txt", dir);
  dt_write_file(other, "not a batch\n", 12);
  free(other);

  static const char *const std[] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                    "dog",      "frog",       "horse", "ship", "truck"};
  dataset *ds = open_ok(dir, "test");
  if (ds) {
    CHECK(dataset_get_kind(ds) == DATASET_CIFAR_BINARY);
    CHECK(!strcmp(dataset_kind_name(dataset_get_kind(ds)), "cifar-binary"));
    CHECK(!strcmp(dataset_root(ds), dir));
    CHECK(dataset_size(ds) == 5);
    CHECK(dataset_num_classes(ds) == 10);
    for (int c = 0; c < 10; c++)
      CHECK(dataset_class_name(ds, c) && !strcmp(dataset_class_name(ds, c), std[c]));
    CHECK(dataset_class_name(ds, 10) == NULL && dataset_class_name(ds, -1) == NULL);
    for (int r = 0; r < 5; r++) {
      char name[64];
      snprintf(name, sizeof name, "test_batch.bin:%d", r);
      check_cifar_item(ds, (size_t)r, 0, r, name, 10);
      char hex[33], err[256];
      CHECK(dataset_item_source_hash(ds, (size_t)r, hex, err, sizeof err) == 0);
      expect_hex(test + (size_t)r * 3073, 3073, hex, name);
    }
    dataset_close(ds);
  }
  free(test);

  ds = open_ok(dir, "train");
  if (ds) {
    CHECK(dataset_size(ds) == 7);
    check_cifar_item(ds, 0, 1, 0, "data_batch_1.bin:0", 10);
    check_cifar_item(ds, 2, 1, 2, "data_batch_1.bin:2", 10);
    check_cifar_item(ds, 3, 2, 0, "data_batch_2.bin:0", 10);
    check_cifar_item(ds, 6, 2, 3, "data_batch_2.bin:3", 10);
    dataset_close(ds);
  }
  ds = open_ok(dir, NULL); /* everything: train batches, then test */
  if (ds) {
    CHECK(dataset_size(ds) == 12);
    check_cifar_item(ds, 0, 1, 0, "data_batch_1.bin:0", 10);
    check_cifar_item(ds, 7, 0, 0, "test_batch.bin:0", 10);
    check_cifar_item(ds, 11, 0, 4, "test_batch.bin:4", 10);
    dataset_close(ds);
  }
  char *slash = dt_path("%s/", dir); /* trailing slash: same root */
  ds = open_ok(slash, "test");
  if (ds) {
    CHECK(!strcmp(dataset_root(ds), dir), "root %s", dataset_root(ds));
    dataset_close(ds);
  }
  free(slash);
  open_fails(dir, "val", "unknown split 'val'", dir);

  /* A single batch file; a split must match it. */
  char *file = dt_path("%s/test_batch.bin", dir);
  ds = open_ok(file, NULL);
  if (ds) {
    CHECK(dataset_size(ds) == 5 && !strcmp(dataset_root(ds), file));
    check_cifar_item(ds, 4, 0, 4, "test_batch.bin:4", 10);
    dataset_close(ds);
  }
  ds = open_ok(file, "test");
  dataset_close(ds);
  open_fails(file, "train", "does not match", file);
  free(file);

  /* Class names from batches.meta.txt (CRLF, padding and trailing blank lines as in the
   * official file); labels must be below their number. */
  char *meta_dir = dt_path("%s/cifar3", tmp);
  dt_mkdir(meta_dir);
  char *meta = dt_path("%s/batches.meta.txt", meta_dir);
  const char *meta_text = "cats\r\n  dogs \nbirds\n\n\n";
  dt_write_file(meta, meta_text, strlen(meta_text));
  free(write_batch(meta_dir, "test_batch.bin", 0, 6, 3));
  ds = open_ok(meta_dir, "test");
  if (ds) {
    CHECK(dataset_num_classes(ds) == 3);
    CHECK(!strcmp(dataset_class_name(ds, 0), "cats") &&
          !strcmp(dataset_class_name(ds, 1), "dogs") &&
          !strcmp(dataset_class_name(ds, 2), "birds"));
    check_cifar_item(ds, 5, 0, 5, "test_batch.bin:5", 3);
    dataset_close(ds);
  }
  /* Too few names for the labels present. */
  dt_write_file(meta, "cats\ndogs\n", 10);
  open_fails(meta_dir, "test", "label 2", "test_batch.bin");
  dt_write_file(meta, "\n \n", 3);
  open_fails(meta_dir, "test", "no class names", "batches.meta.txt");
  free(meta);
  /* A test split where there is no test batch. */
  char *tb = dt_path("%s/test_batch.bin", meta_dir);
  unlink(tb);
  free(write_batch(meta_dir, "data_batch_1.bin", 1, 2, 2));
  open_fails(meta_dir, "test", "no test_batch.bin", meta_dir);
  free(tb);

  /* Truncated batch: refused, naming the file. */
  char *trunc_dir = dt_path("%s/cifar_trunc", tmp);
  dt_mkdir(trunc_dir);
  uint8_t *rec = write_batch(trunc_dir, "test_batch.bin", 0, 3, 10);
  char *tpath = dt_path("%s/test_batch.bin", trunc_dir);
  dt_write_file(tpath, rec, 2 * 3073 + 100);
  open_fails(trunc_dir, "test", "not a positive multiple of the 3073-byte record", tpath);
  dt_write_file(tpath, rec, 0);
  open_fails(trunc_dir, "test", "not a positive multiple", tpath);
  /* A label >= 10 with the standard names. */
  rec[0] = 10;
  dt_write_file(tpath, rec, 3073);
  open_fails(trunc_dir, "test", "record 0 has label 10", tpath);
  free(tpath);
  free(rec);
  /* A gap in the train batches. */
  free(write_batch(trunc_dir, "data_batch_1.bin", 1, 1, 10));
  free(write_batch(trunc_dir, "data_batch_3.bin", 3, 1, 10));
  open_fails(trunc_dir, "train", "data_batch_2.bin is missing", trunc_dir);

  /* The split sub-folder rule wins over batches in the folder itself. */
  char *outer = dt_path("%s/cifar_outer", tmp), *inner = dt_path("%s/cifar_outer/test", tmp);
  dt_mkdir(outer);
  dt_mkdir(inner);
  free(write_batch(outer, "test_batch.bin", 0, 2, 10));
  free(write_batch(inner, "test_batch.bin", 5, 4, 10));
  ds = open_ok(outer, "test");
  if (ds) {
    CHECK(dataset_size(ds) == 4 && !strcmp(dataset_root(ds), inner));
    check_cifar_item(ds, 3, 5, 3, "test_batch.bin:3", 10);
    dataset_close(ds);
  }
  free(outer);
  free(inner);
  free(trunc_dir);
  free(meta_dir);
  free(dir);
}

/* ---- class folders and plain folders ---- */

typedef struct expected_item {
  const char *name;
  int label;
  int kind;         /* 0 exact RGB, 1 lossy RGB (JPEG), 2 exact grey, 3 lossy grey, 4 error */
  const char *fail; /* substring of the error message for kind 4 */
  uint8_t *pixels;  /* expected RGB (grey: w*h) */
  int w, h;
} expected_item;

static void save_png(const char *path, const uint8_t *rgb, int w, int h) {
  image_rgb8 img = {w, h, (uint8_t *)rgb};
  char err[512];
  if (image_save_png(path, &img, err, sizeof err)) {
    fprintf(stderr, "setup: %s\n", err);
    exit(2);
  }
}

static void save_grey_png(const char *path, const uint8_t *g, int w, int h) {
  dt_png_spec s = {
      .width = w, .height = h, .color_type = PNG_COLOR_TYPE_GRAY, .bit_depth = 8, .samples = g};
  size_t size;
  uint8_t *png = dt_png_encode(&s, &size);
  dt_write_file(path, png, size);
  free(png);
}

static void save_jpeg(const char *path, const uint8_t *px, int w, int h, int components) {
  size_t size;
  uint8_t *jpg = dt_jpeg_encode(px, w, h, components, 95, 0, &size);
  dt_write_file(path, jpg, size);
  free(jpg);
}

static void check_items(const dataset *ds, const expected_item *ex, size_t n) {
  CHECK(dataset_size(ds) == n, "%zu items, expected %zu", dataset_size(ds), n);
  for (size_t i = 0; i < n && i < dataset_size(ds); i++) {
    const char *name = dataset_item_name(ds, i);
    CHECK(name && !strcmp(name, ex[i].name), "item %zu is '%s', expected '%s'", i,
          name ? name : "(null)", ex[i].name);
    CHECK(dataset_item_label(ds, i) == ex[i].label, "%s: label %d, expected %d", ex[i].name,
          dataset_item_label(ds, i), ex[i].label);
    image_rgb8 img;
    char err[1024] = "";
    int rc = dataset_load(ds, i, &img, err, sizeof err);
    if (ex[i].kind == 4) {
      CHECK(rc != 0 && img.rgb == NULL, "%s loaded but should fail", ex[i].name);
      /* The message names the file (full path) and the problem. */
      char *full = dt_path("%s/%s", dataset_root(ds), ex[i].name);
      CHECK(!strncmp(err, full, strlen(full)) && dt_contains(err, ex[i].fail),
            "%s: message '%s' should start with '%s' and mention '%s'", ex[i].name, err, full,
            ex[i].fail);
      free(full);
      continue;
    }
    CHECK(rc == 0, "%s", err);
    if (rc)
      continue;
    CHECK(img.width == ex[i].w && img.height == ex[i].h, "%s: %dx%d", ex[i].name, img.width,
          img.height);
    if (img.width != ex[i].w || img.height != ex[i].h) {
      image_free(&img);
      continue;
    }
    size_t np = (size_t)img.width * (size_t)img.height;
    int grey = ex[i].kind >= 2, exact = ex[i].kind % 2 == 0, ok = 1;
    double diff = 0;
    for (size_t p = 0; p < np; p++)
      for (int c = 0; c < 3; c++) {
        int want = grey ? ex[i].pixels[p] : ex[i].pixels[3 * p + (size_t)c];
        int got = img.rgb[3 * p + (size_t)c];
        diff += abs(got - want);
        if (exact)
          ok &= got == want;
        if (grey)
          ok &= got == img.rgb[3 * p];
      }
    CHECK(ok, "%s: pixels differ (or grey channels not equal)", ex[i].name);
    CHECK(diff / (3.0 * (double)np) < 3.0, "%s: mean abs error %.2f", ex[i].name,
          diff / (3.0 * (double)np));
    char hex[33];
    CHECK(dataset_item_source_hash(ds, i, hex, err, sizeof err) == 0 && strlen(hex) == 32);
    image_free(&img);
  }
}

typedef struct load_job {
  const dataset *ds;
  uint64_t sum; /* order-dependent checksum of every loaded image */
  int failures;
} load_job;

static uint64_t checksum_all(const dataset *ds, int *failures) {
  uint64_t sum = 0;
  for (size_t i = 0; i < dataset_size(ds); i++) {
    image_rgb8 img;
    char err[512];
    if (dataset_load(ds, i, &img, err, sizeof err)) {
      (*failures)++;
      sum = sum * 31 + i;
      continue;
    }
    sum = sum * 1099511628211ULL + XXH3_64bits(img.rgb, (size_t)img.width * img.height * 3);
    image_free(&img);
  }
  return sum;
}

static void *load_thread(void *arg) {
  load_job *j = arg;
  for (int rep = 0; rep < 20; rep++) {
    int failures = 0;
    uint64_t s = checksum_all(j->ds, &failures);
    if (rep == 0) {
      j->sum = s;
      j->failures = failures;
    } else if (s != j->sum || failures != j->failures) {
      j->failures = -1000;
    }
  }
  return NULL;
}

/* dataset_load from several threads gives the same images as from one. */
static void check_concurrent(const dataset *ds) {
  int failures = 0;
  uint64_t serial = checksum_all(ds, &failures);
  enum { T = 4 };
  pthread_t th[T];
  load_job jobs[T];
  for (int t = 0; t < T; t++) {
    jobs[t] = (load_job){ds, 0, 0};
    CHECK(pthread_create(&th[t], NULL, load_thread, &jobs[t]) == 0);
  }
  for (int t = 0; t < T; t++) {
    pthread_join(th[t], NULL);
    CHECK(jobs[t].sum == serial && jobs[t].failures == failures,
          "thread %d: checksum or failures differ", t);
  }
}

static void test_class_folders(void) {
  char *root = dt_path("%s/pets", tmp);
  dt_mkdir(root);
  /* Created out of order on purpose; classes and files must come out sorted. */
  const char *classes[] = {"dogs", "Zebra", "cats"};
  for (int c = 0; c < 3; c++) {
    char *d = dt_path("%s/%s", root, classes[c]);
    dt_mkdir(d);
    free(d);
  }
  int w = 24, h = 16;
  uint8_t *a = dt_pattern_rgb(w, h, 1), *b = dt_pattern_rgb(w, h, 2),
          *c3 = dt_pattern_rgb(9, 31, 3);
  uint8_t *g = malloc((size_t)w * (size_t)h);
  for (int i = 0; i < w * h; i++)
    g[i] = (uint8_t)(i * 5);
  char *p;
#define AT(...) (p = dt_path(__VA_ARGS__))
  save_png(AT("%s/dogs/b.png", root), b, w, h), free(p);
  save_png(AT("%s/dogs/a.png", root), a, w, h), free(p);
  save_jpeg(AT("%s/dogs/C.JPG", root), a, w, h, 3), free(p); /* upper-case extension */
  save_jpeg(AT("%s/dogs/d.jpeg", root), b, w, h, 3), free(p);
  save_grey_png(AT("%s/cats/grey.png", root), g, w, h), free(p);
  save_jpeg(AT("%s/cats/greyj.jpg", root), g, w, h, 1), free(p);
  save_png(AT("%s/cats/10.png", root), c3, 9, 31), free(p);
  save_png(AT("%s/cats/9.png", root), a, w, h), free(p);           /* "10" < "9" in byte order */
  dt_write_file(AT("%s/cats/notes.txt", root), "x", 1), free(p);   /* not an image: ignored */
  dt_write_file(AT("%s/cats/.hidden.png", root), "x", 1), free(p); /* hidden: ignored */
  dt_mkdir(AT("%s/cats/folder.png", root)), free(p);               /* a folder: ignored */
  /* Broken ones: listed (nothing is decoded at open), fail at load with a precise message. */
  uint8_t rgba[4 * 4 * 4] = {0};
  dt_png_spec s = {.width = 4,
                   .height = 4,
                   .color_type = PNG_COLOR_TYPE_RGB_ALPHA,
                   .bit_depth = 8,
                   .samples = rgba};
  size_t size;
  uint8_t *png = dt_png_encode(&s, &size);
  dt_write_file(AT("%s/Zebra/alpha.png", root), png, size), free(p);
  free(png);
  image_rgb8 tmpimg = {w, h, a};
  char err[512];
  CHECK(image_encode_png(&tmpimg, &png, &size, err, sizeof err) == 0);
  dt_write_file(AT("%s/Zebra/cut.png", root), png, size / 3), free(p);
  free(png);
  dt_write_file(AT("%s/Zebra/empty.jpg", root), "", 0), free(p);
  dt_write_file(AT("%s/Zebra/text.jpeg", root), "hello", 5), free(p);
  /* Loose files beside class folders are ignored; so are hidden folders and deeper levels. */
  save_png(AT("%s/loose.png", root), a, w, h), free(p);
  dt_mkdir(AT("%s/.cache", root)), free(p);
  save_png(AT("%s/.cache/x.png", root), a, w, h), free(p);
  dt_mkdir(AT("%s/dogs/puppies", root)), free(p);
  save_png(AT("%s/dogs/puppies/x.png", root), a, w, h), free(p);
  /* A symlink to an image counts as the image. */
  if (symlink("a.png", AT("%s/dogs/link.png", root)) != 0)
    fprintf(stderr, "symlink: %s\n", strerror(errno));
  free(p);

  expected_item ex[] = {
      /* classes sorted by strcmp: "Zebra" < "cats" < "dogs" */
      {"Zebra/alpha.png", 0, 4, "alpha", NULL, 0, 0},
      {"Zebra/cut.png", 0, 4, "truncated PNG data", NULL, 0, 0},
      {"Zebra/empty.jpg", 0, 4, "empty", NULL, 0, 0},
      {"Zebra/text.jpeg", 0, 4, "unknown image format", NULL, 0, 0},
      {"cats/10.png", 1, 0, NULL, c3, 9, 31},
      {"cats/9.png", 1, 0, NULL, a, w, h},
      {"cats/grey.png", 1, 2, NULL, g, w, h},
      {"cats/greyj.jpg", 1, 3, NULL, g, w, h},
      {"dogs/C.JPG", 2, 1, NULL, a, w, h},
      {"dogs/a.png", 2, 0, NULL, a, w, h},
      {"dogs/b.png", 2, 0, NULL, b, w, h},
      {"dogs/d.jpeg", 2, 1, NULL, b, w, h},
      {"dogs/link.png", 2, 0, NULL, a, w, h},
  };
  dataset *ds = open_ok(root, NULL);
  if (ds) {
    CHECK(dataset_get_kind(ds) == DATASET_CLASS_FOLDERS);
    CHECK(!strcmp(dataset_kind_name(DATASET_CLASS_FOLDERS), "class-folders"));
    CHECK(dataset_num_classes(ds) == 3);
    CHECK(!strcmp(dataset_class_name(ds, 0), "Zebra") &&
          !strcmp(dataset_class_name(ds, 1), "cats") && !strcmp(dataset_class_name(ds, 2), "dogs"));
    check_items(ds, ex, sizeof ex / sizeof *ex);
    /* Source hash = XXH3-128 of the file's bytes. */
    uint8_t *bytes;
    size_t n;
    char *f = dt_path("%s/dogs/b.png", root);
    char hex[33];
    CHECK(image_read_file(f, 1 << 20, &bytes, &n, err, sizeof err) == 0);
    CHECK(dataset_item_source_hash(ds, 10, hex, err, sizeof err) == 0);
    expect_hex(bytes, n, hex, "dogs/b.png");
    free(bytes);
    free(f);
    /* Out of range. */
    image_rgb8 img;
    CHECK(dataset_load(ds, 13, &img, err, sizeof err) != 0 && dt_contains(err, "out of range"));
    CHECK(dataset_item_source_hash(ds, 99, hex, err, sizeof err) != 0);
    CHECK(dataset_item_name(ds, 13) == NULL && dataset_item_label(ds, 13) == -1);
    check_concurrent(ds);
    /* A file that vanished after open: load and hash fail naming it. */
    char *gone = dt_path("%s/dogs/d.jpeg", root);
    unlink(gone);
    CHECK(dataset_load(ds, 11, &img, err, sizeof err) != 0);
    CHECK(dt_contains(err, gone) && dt_contains(err, strerror(ENOENT)), "%s", err);
    CHECK(dataset_item_source_hash(ds, 11, hex, err, sizeof err) != 0 && dt_contains(err, gone));
    if (geteuid() != 0) { /* root reads anything */
      char *locked = dt_path("%s/dogs/b.png", root);
      chmod(locked, 0);
      CHECK(dataset_load(ds, 10, &img, err, sizeof err) != 0);
      CHECK(dt_contains(err, locked) && dt_contains(err, strerror(EACCES)), "%s", err);
      free(locked);
    }
    free(gone);
    dataset_close(ds);
  }

  /* An empty class folder is an error (it would silently shift labels). */
  dt_mkdir(AT("%s/empty_class", root)), free(p);
  open_fails(root, NULL, "class folder 'empty_class' holds no images", root);
  dataset_close(NULL);
#undef AT
  free(a);
  free(b);
  free(c3);
  free(g);
  free(root);
}

static void test_splits_and_plain(void) {
  int w = 8, h = 8;
  uint8_t *a = dt_pattern_rgb(w, h, 7);
  char *root = dt_path("%s/splits", tmp), *p;
#define AT(...) (p = dt_path(__VA_ARGS__))
  dt_mkdir(root);
  const char *dirs[] = {"test", "train", "test/x", "test/y", "train/x", "train/y", "train/z"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
    dt_mkdir(AT("%s/%s", root, dirs[i])), free(p);
  for (size_t i = 2; i < sizeof dirs / sizeof *dirs; i++)
    save_png(AT("%s/%s/img.png", root, dirs[i]), a, w, h), free(p);
  dataset *ds = open_ok(root, "test");
  if (ds) {
    char *want = dt_path("%s/test", root);
    CHECK(!strcmp(dataset_root(ds), want), "root %s", dataset_root(ds));
    CHECK(dataset_get_kind(ds) == DATASET_CLASS_FOLDERS && dataset_size(ds) == 2 &&
          dataset_num_classes(ds) == 2 && name_is(ds, 1, "y/img.png") &&
          dataset_item_label(ds, 1) == 1);
    free(want);
    dataset_close(ds);
  }
  ds = open_ok(root, "train");
  if (ds) {
    CHECK(dataset_size(ds) == 3 && dataset_num_classes(ds) == 3);
    dataset_close(ds);
  }
  open_fails(root, NULL, "give a split", root);
  open_fails(root, "val", "no sub-folder 'val'", root);
  open_fails(root, "../splits", "invalid split", NULL);
  open_fails(root, "", "invalid split", NULL);

  /* Plain folder: images at the top, sub-folders without images ignored. */
  char *plain = dt_path("%s/plain", tmp);
  dt_mkdir(plain);
  save_png(AT("%s/b.png", plain), a, w, h), free(p);
  save_png(AT("%s/B.png", plain), a, w, h), free(p);
  save_jpeg(AT("%s/a.jpg", plain), a, w, h, 3), free(p);
  dt_write_file(AT("%s/info.txt", plain), "x", 1), free(p);
  dt_mkdir(AT("%s/thumbs", plain)), free(p);
  dt_write_file(AT("%s/thumbs/readme", plain), "x", 1), free(p);
  ds = open_ok(plain, NULL);
  if (ds) {
    CHECK(dataset_get_kind(ds) == DATASET_PLAIN_FOLDER);
    CHECK(!strcmp(dataset_kind_name(DATASET_PLAIN_FOLDER), "plain-folder"));
    CHECK(dataset_num_classes(ds) == 0 && dataset_class_name(ds, 0) == NULL);
    CHECK(dataset_size(ds) == 3);
    const char *order[] = {"B.png", "a.jpg", "b.png"};
    for (size_t i = 0; i < 3 && i < dataset_size(ds); i++) {
      CHECK(name_is(ds, i, order[i]), "%zu: %s", i, dataset_item_name(ds, i));
      CHECK(dataset_item_label(ds, i) == -1);
    }
    image_rgb8 img;
    char err[512];
    CHECK(dataset_load(ds, 2, &img, err, sizeof err) == 0 && img.width == w &&
          !memcmp(img.rgb, a, (size_t)w * (size_t)h * 3));
    image_free(&img);
    dataset_close(ds);
  }
  open_fails(plain, "test", "no sub-folder 'test'", plain);

  /* Nothing to open. */
  char *empty = dt_path("%s/empty", tmp);
  dt_mkdir(empty);
  open_fails(empty, NULL, "no images found", empty);
  dt_write_file(AT("%s/x.txt", empty), "x", 1), free(p);
  dt_mkdir(AT("%s/sub", empty)), free(p);
  open_fails(empty, NULL, "no images found", empty);
  char *missing = dt_path("%s/missing", tmp);
  open_fails(missing, NULL, strerror(ENOENT), missing);
  char *file = dt_path("%s/b.png", plain);
  open_fails(file, NULL, "not a dataset", file);
  open_fails("", NULL, "no dataset path", NULL);
#undef AT
  free(file);
  free(missing);
  free(empty);
  free(plain);
  free(root);
  free(a);
}

/* Images above DATASET_MAX_PIXELS (2^25, the codecs' limit) are refused from their header, before
 * any pixel is decoded: a 16384 x 16384 all-zero PNG (1-bit grey here: 32 KB; the finding's RGB
 * one was 783 KB) used to decode into 768 MiB per worker thread and then be refused by every
 * codec. The other images of the folder load; image_decode_memory_max's limit is exact. */
static void test_large_image(void) {
  int w = 8, h = 8;
  uint8_t *a = dt_pattern_rgb(w, h, 9);
  char *dir = dt_path("%s/large", tmp), *p;
#define AT(...) (p = dt_path(__VA_ARGS__))
  dt_mkdir(dir);
  save_png(AT("%s/a.png", dir), a, w, h), free(p);
  save_png(AT("%s/c.png", dir), a, w, h), free(p);
  enum { SIDE = 16384 };
  uint8_t *zeros = calloc((size_t)SIDE * SIDE / 8, 1); /* 1-bit rows of zeros */
  const dt_png_spec spec = {SIDE, SIDE, PNG_COLOR_TYPE_GRAY, 1, 0, zeros, NULL, 0, NULL, 0, 0};
  size_t size;
  uint8_t *png = dt_png_encode(&spec, &size);
  free(zeros);
  dt_write_file(AT("%s/big.png", dir), png, size), free(p);
  free(png);
  dataset *ds = open_ok(dir, NULL);
  if (ds) {
    CHECK(dataset_size(ds) == 3 && name_is(ds, 1, "big.png"));
    image_rgb8 img;
    char err[512];
    struct rusage ru0, ru1;
    struct timespec t0, t1;
    getrusage(RUSAGE_SELF, &ru0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const int rc = dataset_load(ds, 1, &img, err, sizeof err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &ru1);
    const double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("  %zu-byte %dx%d PNG: refused in %.4f s, peak RSS +%ld KB: %s\n", size, SIDE, SIDE,
           secs, ru1.ru_maxrss - ru0.ru_maxrss, err);
    CHECK(rc != 0 && !img.rgb && dt_contains(err, "big.png") &&
              dt_contains(err, "16384x16384 = 268435456 pixels") && dt_contains(err, "too large") &&
              dt_contains(err, "33554432 pixels"),
          "big.png: %s", err);
    CHECK(secs < 5 && ru1.ru_maxrss - ru0.ru_maxrss < 100 * 1024, "%.2f s, +%ld KB", secs,
          ru1.ru_maxrss - ru0.ru_maxrss);
    char hex[33];
    CHECK(dataset_item_source_hash(ds, 1, hex, err, sizeof err) == 0);
    for (size_t i = 0; i < 3; i += 2) {
      CHECK(dataset_load(ds, i, &img, err, sizeof err) == 0 && img.width == w &&
                !memcmp(img.rgb, a, (size_t)w * (size_t)h * 3),
            "item %zu: %s", i, err);
      image_free(&img);
    }
    dataset_close(ds);
  }
  /* The limit is exact, for PNG and JPEG; 0 means the loader's own 2^28. */
  uint8_t *b = dt_pattern_rgb(64, 64, 3);
  const dt_png_spec rgb = {64, 64, PNG_COLOR_TYPE_RGB, 8, 0, b, NULL, 0, NULL, 0, 0};
  size_t jsize;
  uint8_t *pb = dt_png_encode(&rgb, &size), *jb = dt_jpeg_encode(b, 64, 64, 3, 90, 0, &jsize);
  const uint8_t *files[2] = {pb, jb};
  const size_t sizes[2] = {size, jsize};
  for (int f = 0; f < 2; f++) {
    image_rgb8 img;
    char err[512];
    CHECK(image_decode_memory_max(files[f], sizes[f], "x", 4096, &img, err, sizeof err) == 0, "%s",
          err);
    image_free(&img);
    CHECK(image_decode_memory_max(files[f], sizes[f], "x", 0, &img, err, sizeof err) == 0, "%s",
          err);
    image_free(&img);
    CHECK(image_decode_memory_max(files[f], sizes[f], "x", 4095, &img, err, sizeof err) != 0 &&
              dt_contains(err, f ? "x: JPEG image too large" : "x: PNG image too large") &&
              dt_contains(err, "64x64 = 4096 pixels") && dt_contains(err, "4095 pixels"),
          "%s", err);
  }
  free(pb);
  free(jb);
  free(b);
#undef AT
  free(dir);
  free(a);
}

int main(void) {
  dt_make_tmpdir(tmp, sizeof tmp, "dataset");
  test_large_image();
  test_cifar();
  test_class_folders();
  test_splits_and_plain();
  dt_remove_tree(tmp);
  return sb_test_status("data_dataset");
}
