/* The shared datasets (read-only): CIFAR-10 image folders and Kodak. Also prints how long
 * opening and loading take (single thread).
 *
 * Usage: test_data_real DATASETS_DIR [--train]   (--train also loads all 50,000 train images) */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data_test_util.h"
#include "data.h"

/* NULL-safe: a wrong item count must fail checks, not crash the test. */
static int name_is(const dataset *ds, size_t i, const char *want) {
  const char *got = dataset_item_name(ds, i);
  return got && !strcmp(got, want);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Loads every item once; returns the number that failed (printing the first few). */
static size_t load_all(const dataset *ds, int want_w, int want_h) {
  size_t failed = 0, wrong = 0;
  for (size_t i = 0; i < dataset_size(ds); i++) {
    image_rgb8 img;
    char err[512];
    if (dataset_load(ds, i, &img, err, sizeof err)) {
      if (failed++ < 5)
        fprintf(stderr, "%s\n", err);
      continue;
    }
    if (want_w && !(img.width == want_w && img.height == want_h) && wrong++ < 5)
      fprintf(stderr, "%s: %dx%d\n", dataset_item_name(ds, i), img.width, img.height);
    image_free(&img);
  }
  return failed + wrong;
}

static void test_cifar(const char *root, int train) {
  static const char *const classes[] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                        "dog",      "frog",       "horse", "ship", "truck"};
  char *path = dt_path("%s/cifar10", root);
  char err[1024] = "";
  dataset *ds = NULL;
  double t0 = now_ms();
  int rc = dataset_open(path, "test", &ds, err, sizeof err);
  double t_open = now_ms() - t0;
  CHECK(rc == 0, "%s", err);
  if (rc) {
    free(path);
    return;
  }
  CHECK(dataset_get_kind(ds) == DATASET_CLASS_FOLDERS);
  char *test_root = dt_path("%s/test", path);
  CHECK(!strcmp(dataset_root(ds), test_root), "root %s", dataset_root(ds));
  free(test_root);
  CHECK(dataset_size(ds) == 10000, "%zu items", dataset_size(ds));
  CHECK(dataset_num_classes(ds) == 10);
  for (int c = 0; c < 10 && c < dataset_num_classes(ds); c++)
    CHECK(!strcmp(dataset_class_name(ds, c), classes[c]), "class %d is %s", c,
          dataset_class_name(ds, c));
  CHECK(name_is(ds, 0, "airplane/0000.jpg") && dataset_item_label(ds, 0) == 0);
  CHECK(name_is(ds, 1000, "automobile/0000.jpg") && dataset_item_label(ds, 1000) == 1);
  CHECK(name_is(ds, 9999, "truck/0999.jpg") && dataset_item_label(ds, 9999) == 9);
  int per_class[10] = {0};
  for (size_t i = 0; i < dataset_size(ds); i++) {
    int l = dataset_item_label(ds, i);
    if (l >= 0 && l < 10)
      per_class[l]++;
  }
  for (int c = 0; c < 10; c++)
    CHECK(per_class[c] == 1000, "class %d has %d items", c, per_class[c]);
  image_rgb8 img;
  CHECK(dataset_load(ds, 0, &img, err, sizeof err) == 0, "%s", err);
  CHECK(img.width == 32 && img.height == 32);
  image_free(&img);
  char hex[33];
  CHECK(dataset_item_source_hash(ds, 0, hex, err, sizeof err) == 0 && strlen(hex) == 32);

  t0 = now_ms();
  size_t bad = load_all(ds, 32, 32);
  double t_load = now_ms() - t0;
  CHECK(bad == 0, "%zu of 10000 test images failed to load or are not 32x32", bad);
  printf("cifar10 test: open %.1f ms, load all %zu images %.1f ms (%.1f us/image)\n", t_open,
         dataset_size(ds), t_load, t_load * 1e3 / (double)dataset_size(ds));
  dataset_close(ds);

  t0 = now_ms();
  rc = dataset_open(path, "train", &ds, err, sizeof err);
  t_open = now_ms() - t0;
  CHECK(rc == 0, "%s", err);
  if (!rc) {
    CHECK(dataset_size(ds) == 50000, "%zu train items", dataset_size(ds));
    CHECK(name_is(ds, 49999, "truck/4999.jpg"));
    printf("cifar10 train: open %.1f ms\n", t_open);
    if (train) {
      t0 = now_ms();
      bad = load_all(ds, 32, 32);
      CHECK(bad == 0, "%zu of 50000 train images failed", bad);
      printf("cifar10 train: load all %.1f ms\n", now_ms() - t0);
    }
    dataset_close(ds);
  }
  /* Without a split the folder holds only train/ and test/: a clear error. */
  ds = NULL;
  CHECK(dataset_open(path, NULL, &ds, err, sizeof err) != 0 && dt_contains(err, "give a split"));
  free(path);
}

static void test_kodak(const char *root) {
  char *path = dt_path("%s/kodak", root);
  char err[1024] = "";
  dataset *ds = NULL;
  double t0 = now_ms();
  int rc = dataset_open(path, NULL, &ds, err, sizeof err);
  double t_open = now_ms() - t0;
  CHECK(rc == 0, "%s", err);
  free(path);
  if (rc)
    return;
  CHECK(dataset_get_kind(ds) == DATASET_PLAIN_FOLDER);
  CHECK(dataset_size(ds) == 24 && dataset_num_classes(ds) == 0);
  for (size_t i = 0; i < dataset_size(ds); i++) {
    char want[32];
    snprintf(want, sizeof want, "kodim%02zu.png", i + 1);
    CHECK(name_is(ds, i, want), "%s", dataset_item_name(ds, i));
    CHECK(dataset_item_label(ds, i) == -1);
  }
  image_rgb8 img;
  CHECK(dataset_load(ds, 0, &img, err, sizeof err) == 0, "%s", err);
  CHECK(img.width == 768 && img.height == 512, "kodim01 is %dx%d", img.width, img.height);
  image_free(&img);
  CHECK(dataset_load(ds, 3, &img, err, sizeof err) == 0, "%s", err);
  CHECK(img.width == 512 && img.height == 768, "kodim04 is %dx%d", img.width, img.height);
  image_free(&img);
  t0 = now_ms();
  size_t bad = load_all(ds, 0, 0);
  double t_load = now_ms() - t0;
  CHECK(bad == 0, "%zu Kodak images failed", bad);
  printf("kodak: open %.2f ms, load all 24 images %.1f ms (%.1f ms/image)\n", t_open, t_load,
         t_load / 24);
  dataset_close(ds);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DATASETS_DIR [--train]\n", argv[0]);
    return 2;
  }
  int train = argc > 2 && !strcmp(argv[2], "--train");
  test_cifar(argv[1], train);
  test_kodak(argv[1]);
  return sb_test_status("data_real");
}
