/* Datasets: CIFAR-10 binary batches, class folders and plain folders (see data.h).
 *
 * Layout decisions beyond data.h:
 *  - Class folders: every non-hidden sub-folder is a class (label = index in strcmp order), so
 *    labels depend only on folder names. A class folder without images is an error (as in
 *    torchvision's ImageFolder): silently dropping it would shift every later label. Image
 *    files next to the class folders are ignored, and so is anything nested deeper.
 *  - A folder whose sub-folders hold no images but which itself holds images is a plain folder;
 *    its sub-folders are ignored.
 *  - A split that names no sub-folder is an error (except for CIFAR-10 binary folders, where
 *    "test"/"train" select batches): ignoring it could mix training and test images.
 *  - CIFAR-10 folders: "train" takes whichever of data_batch_1..5.bin exist, in order, but a gap
 *    (e.g. 1, 2, 4) is an error because it usually means an incomplete copy. NULL takes the
 *    train batches then test_batch.bin. A single .bin file may be opened directly; a split then
 *    has to match it ("test" for test_batch.bin, "train" for data_batch_N.bin).
 *  - Only regular files (after following symlinks) count as images; FIFOs, sockets and
 *    folders named like images are skipped.
 *
 * Everything is built by dataset_open and read-only afterwards, which is what makes the
 * accessors and dataset_load safe to call from many threads. */
#include "data.h"

#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#define CIFAR_SIDE 32
#define CIFAR_PLANE (CIFAR_SIDE * CIFAR_SIDE)
#define CIFAR_RECORD (1 + 3 * CIFAR_PLANE) /* label byte + R, G, B planes */
#define CIFAR_MAX_BATCHES 6
#define CIFAR_MAX_BATCH_BYTES ((size_t)1 << 31)
#define CIFAR_META_MAX_BYTES ((size_t)1 << 16)
/* Cap on the size of an image file read for hashing (matches image_load_file's). */
#define DATASET_MAX_FILE_BYTES ((size_t)1 << 30)

static const char *const cifar10_default_classes[] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

typedef struct dataset_item {
  char *name;            /* "class/file", "file" or "batch.bin:123" */
  int label;             /* -1 when unlabeled */
  const uint8_t *record; /* CIFAR only: CIFAR_RECORD bytes inside a batch buffer */
} dataset_item;

struct dataset {
  dataset_kind kind;
  char *root;
  int num_classes;
  char **class_names;
  dataset_item *items;
  size_t n_items, cap_items;
  uint8_t *batches[CIFAR_MAX_BATCHES];
  size_t n_batches;
};

static char *str_dup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, s, n);
  return d;
}

/* "a" + "/" + "b" (a's trailing slash not doubled). */
static char *path_join(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  int slash = la > 0 && a[la - 1] != '/';
  char *p = malloc(la + (size_t)slash + lb + 1);
  if (!p)
    return NULL;
  memcpy(p, a, la);
  if (slash)
    p[la] = '/';
  memcpy(p + la + (size_t)slash, b, lb + 1);
  return p;
}

static int has_image_extension(const char *name) {
  const char *dot = strrchr(name, '.');
  if (!dot || dot == name)
    return 0;
  static const char *const exts[] = {".png", ".jpg", ".jpeg"};
  for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
    const char *e = exts[i];
    size_t k = 0;
    while (dot[k] && e[k] && (dot[k] | 0x20) == e[k]) /* ASCII lower-case; '.' is unchanged */
      k++;
    if (!dot[k] && !e[k])
      return 1;
  }
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Directory listing. */

typedef enum entry_type { ENTRY_OTHER = 0, ENTRY_FILE, ENTRY_DIR } entry_type;

typedef struct dir_entry {
  char *name;
  entry_type type;
} dir_entry;

typedef struct dir_list {
  dir_entry *e;
  size_t n, cap;
} dir_list;

static void dir_list_free(dir_list *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->e[i].name);
  free(l->e);
  memset(l, 0, sizeof *l);
}

static int dir_entry_cmp(const void *a, const void *b) {
  return strcmp(((const dir_entry *)a)->name, ((const dir_entry *)b)->name);
}

/* Lists the non-hidden entries of `path`, sorted by name (strcmp: byte order, independent of
 * locale and file system). Symlinks are followed to classify entries. */
static int list_dir(const char *path, dir_list *out, char *err, size_t err_len) {
  char eb[128];
  memset(out, 0, sizeof *out);
  DIR *d = opendir(path);
  if (!d) {
    sb_errf(err, err_len, "%s: cannot open folder: %s", path, sb_errno_text(errno, eb, sizeof eb));
    return -1;
  }
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d);
    if (!de) {
      if (errno) {
        sb_errf(err, err_len, "%s: cannot read folder: %s", path,
                sb_errno_text(errno, eb, sizeof eb));
        goto fail;
      }
      break;
    }
    if (de->d_name[0] == '.') /* hidden, ".", ".." */
      continue;
    entry_type type = ENTRY_OTHER;
    if (de->d_type == DT_REG)
      type = ENTRY_FILE;
    else if (de->d_type == DT_DIR)
      type = ENTRY_DIR;
    else if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) {
      char *full = path_join(path, de->d_name);
      struct stat st;
      if (!full)
        goto oom;
      if (stat(full, &st) == 0) /* a dangling link is simply not an image */
        type = S_ISREG(st.st_mode) ? ENTRY_FILE : S_ISDIR(st.st_mode) ? ENTRY_DIR : ENTRY_OTHER;
      free(full);
    }
    if (type == ENTRY_OTHER)
      continue;
    if (out->n == out->cap) {
      size_t ncap = out->cap ? out->cap * 2 : 64;
      dir_entry *ne = realloc(out->e, ncap * sizeof *ne);
      if (!ne)
        goto oom;
      out->e = ne;
      out->cap = ncap;
    }
    if (!(out->e[out->n].name = str_dup(de->d_name)))
      goto oom;
    out->e[out->n++].type = type;
  }
  closedir(d);
  if (out->n > 1)
    qsort(out->e, out->n, sizeof *out->e, dir_entry_cmp);
  return 0;
oom:
  sb_errf(err, err_len, "%s: out of memory listing the folder", path);
fail:
  closedir(d);
  dir_list_free(out);
  return -1;
}

static const dir_entry *dir_find(const dir_list *l, const char *name, entry_type type) {
  dir_entry key = {(char *)name, ENTRY_OTHER};
  const dir_entry *e = l->n ? bsearch(&key, l->e, l->n, sizeof *l->e, dir_entry_cmp) : NULL;
  return e && e->type == type ? e : NULL;
}

static size_t count_images(const dir_list *l) {
  size_t n = 0;
  for (size_t i = 0; i < l->n; i++)
    n += l->e[i].type == ENTRY_FILE && has_image_extension(l->e[i].name);
  return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Building a dataset. */

static dataset *dataset_new(dataset_kind kind, const char *root) {
  dataset *ds = calloc(1, sizeof *ds);
  if (!ds)
    return NULL;
  ds->kind = kind;
  if (!(ds->root = str_dup(root))) {
    free(ds);
    return NULL;
  }
  return ds;
}

/* Takes ownership of `name` (freed on failure). */
static int add_item(dataset *ds, char *name, int label, const uint8_t *record) {
  if (!name)
    return -1;
  if (ds->n_items == ds->cap_items) {
    size_t ncap = ds->cap_items ? ds->cap_items * 2 : 256;
    dataset_item *ni = realloc(ds->items, ncap * sizeof *ni);
    if (!ni) {
      free(name);
      return -1;
    }
    ds->items = ni;
    ds->cap_items = ncap;
  }
  ds->items[ds->n_items++] = (dataset_item){name, label, record};
  return 0;
}

static int set_classes(dataset *ds, const char *const *names, int n) {
  ds->class_names = calloc((size_t)(n ? n : 1), sizeof *ds->class_names);
  if (!ds->class_names)
    return -1;
  ds->num_classes = n;
  for (int i = 0; i < n; i++)
    if (!(ds->class_names[i] = str_dup(names[i])))
      return -1;
  return 0;
}

void dataset_close(dataset *ds) {
  if (!ds)
    return;
  for (size_t i = 0; i < ds->n_items; i++)
    free(ds->items[i].name);
  free(ds->items);
  if (ds->class_names)
    for (int c = 0; c < ds->num_classes; c++)
      free(ds->class_names[c]);
  free(ds->class_names);
  for (size_t b = 0; b < ds->n_batches; b++)
    free(ds->batches[b]);
  free(ds->root);
  free(ds);
}

/* Image files of `dir` (already listed) become items "prefix + file" with `label`. */
static int add_images(dataset *ds, const dir_list *l, const char *prefix, int label) {
  for (size_t i = 0; i < l->n; i++) {
    if (l->e[i].type != ENTRY_FILE || !has_image_extension(l->e[i].name))
      continue;
    if (add_item(ds, prefix ? path_join(prefix, l->e[i].name) : str_dup(l->e[i].name), label, NULL))
      return -1;
  }
  return 0;
}

/* `root` is a folder that is neither CIFAR binary nor has a split sub-folder: decides between
 * class folders and a plain folder (see the top of this file). */
static int open_image_folder(const char *root, const dir_list *top, dataset **out, char *err,
                             size_t err_len) {
  size_t n_dirs = 0;
  for (size_t i = 0; i < top->n; i++)
    n_dirs += top->e[i].type == ENTRY_DIR;
  dir_list *subs = calloc(n_dirs ? n_dirs : 1, sizeof *subs);
  const char **class_names = calloc(n_dirs ? n_dirs : 1, sizeof *class_names);
  dataset *ds = NULL;
  int rc = -1;
  size_t listed = 0, dirs_with_images = 0;
  if (!subs || !class_names) {
    sb_errf(err, err_len, "%s: out of memory", root);
    goto done;
  }
  for (size_t i = 0; i < top->n; i++) {
    if (top->e[i].type != ENTRY_DIR)
      continue;
    char *sub = path_join(root, top->e[i].name);
    if (!sub) {
      sb_errf(err, err_len, "%s: out of memory", root);
      goto done;
    }
    int lrc = list_dir(sub, &subs[listed], err, err_len);
    free(sub);
    if (lrc)
      goto done;
    class_names[listed] = top->e[i].name;
    dirs_with_images += count_images(&subs[listed]) > 0;
    listed++;
  }

  if (dirs_with_images > 0) {
    if (n_dirs > INT_MAX) {
      sb_errf(err, err_len, "%s: too many class folders", root);
      goto done;
    }
    for (size_t c = 0; c < n_dirs; c++)
      if (count_images(&subs[c]) == 0) {
        sb_errf(err, err_len,
                "%s: class folder '%s' holds no images (every sub-folder is a class; remove or "
                "hide it with a leading '.')",
                root, class_names[c]);
        goto done;
      }
    if (!(ds = dataset_new(DATASET_CLASS_FOLDERS, root)) ||
        set_classes(ds, class_names, (int)n_dirs))
      goto oom;
    for (size_t c = 0; c < n_dirs; c++)
      if (add_images(ds, &subs[c], class_names[c], (int)c))
        goto oom;
  } else if (count_images(top) > 0) {
    if (!(ds = dataset_new(DATASET_PLAIN_FOLDER, root)) || add_images(ds, top, NULL, -1))
      goto oom;
  } else {
    int has_splits = dir_find(top, "train", ENTRY_DIR) || dir_find(top, "test", ENTRY_DIR);
    sb_errf(err, err_len, "%s: no images found (*.png, *.jpg, *.jpeg)%s", root,
            has_splits ? "; it has train/test sub-folders: give a split, e.g. 'test'" : "");
    goto done;
  }
  *out = ds;
  ds = NULL;
  rc = 0;
  goto done;
oom:
  sb_errf(err, err_len, "%s: out of memory", root);
done:
  dataset_close(ds);
  for (size_t i = 0; i < listed; i++)
    dir_list_free(&subs[i]);
  free(subs);
  free(class_names);
  return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* CIFAR-10 binary. */

/* Class names from batches.meta.txt: one per line; blank lines (the official file ends with
 * some) and surrounding white space are ignored. */
static int cifar_read_meta(dataset *ds, const char *path, char *err, size_t err_len) {
  uint8_t *data;
  size_t size;
  if (image_read_file(path, CIFAR_META_MAX_BYTES, &data, &size, err, err_len))
    return -1;
  const char *names[256];
  int n = 0, rc = -1;
  char *text = malloc(size + 1); /* a copy with room to NUL-terminate the last line */
  size_t pos = 0;
  if (!text) {
    sb_errf(err, err_len, "%s: out of memory", path);
    goto done;
  }
  memcpy(text, data, size);
  while (pos < size) {
    size_t start = pos, end;
    while (pos < size && text[pos] != '\n')
      pos++;
    end = pos++;
    while (start < end && (text[start] == ' ' || text[start] == '\t' || text[start] == '\r'))
      start++;
    while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r'))
      end--;
    if (end == start)
      continue;
    if (memchr(text + start, '\0', end - start)) {
      sb_errf(err, err_len, "%s: not a text file (NUL byte)", path);
      goto done;
    }
    if (n == 256) {
      sb_errf(err, err_len, "%s: more than 256 class names (labels are one byte)", path);
      goto done;
    }
    text[end] = '\0';
    names[n++] = text + start;
  }
  if (n == 0) {
    sb_errf(err, err_len, "%s: no class names", path);
    goto done;
  }
  if (set_classes(ds, names, n)) {
    sb_errf(err, err_len, "%s: out of memory", path);
    goto done;
  }
  rc = 0;
done:
  free(text);
  free(data);
  return rc;
}

/* Reads one batch file into memory, validates it and adds its records as items. */
static int cifar_add_batch(dataset *ds, const char *path, const char *base, char *err,
                           size_t err_len) {
  uint8_t *data;
  size_t size;
  if (ds->n_batches == CIFAR_MAX_BATCHES) {
    sb_errf(err, err_len, "%s: too many batch files", path);
    return -1;
  }
  if (image_read_file(path, CIFAR_MAX_BATCH_BYTES, &data, &size, err, err_len))
    return -1;
  ds->batches[ds->n_batches++] = data; /* owned by ds from here on */
  if (size == 0 || size % CIFAR_RECORD) {
    sb_errf(err, err_len,
            "%s: not a CIFAR-10 batch: size %zu is not a positive multiple of the %d-byte "
            "record (truncated?)",
            path, size, CIFAR_RECORD);
    return -1;
  }
  size_t n = size / CIFAR_RECORD;
  for (size_t r = 0; r < n; r++) {
    const uint8_t *rec = data + r * CIFAR_RECORD;
    if (rec[0] >= ds->num_classes) {
      sb_errf(err, err_len, "%s: record %zu has label %d but there are only %d classes", path, r,
              rec[0], ds->num_classes);
      return -1;
    }
    size_t len = strlen(base) + 24;
    char *name = malloc(len);
    if (name)
      snprintf(name, len, "%s:%zu", base, r);
    if (add_item(ds, name, rec[0], rec)) {
      sb_errf(err, err_len, "%s: out of memory", path);
      return -1;
    }
  }
  return 0;
}

static int cifar_load_classes(dataset *ds, const char *dir, char *err, size_t err_len) {
  char *meta = path_join(dir, "batches.meta.txt");
  struct stat st;
  int rc;
  if (!meta) {
    sb_errf(err, err_len, "%s: out of memory", dir);
    return -1;
  }
  char eb[128];
  if (stat(meta, &st) == 0) {
    rc = cifar_read_meta(ds, meta, err, err_len);
  } else if (errno != ENOENT) { /* there but unusable: do not fall back silently */
    sb_errf(err, err_len, "%s: %s", meta, sb_errno_text(errno, eb, sizeof eb));
    rc = -1;
  } else if ((rc = set_classes(ds, cifar10_default_classes, 10))) {
    sb_errf(err, err_len, "%s: out of memory", dir);
  }
  free(meta);
  return rc;
}

static int cifar_batch_split(const char *base) {
  if (!strcmp(base, "test_batch.bin"))
    return 't';
  if (!strncmp(base, "data_batch_", 11) && base[11] >= '1' && base[11] <= '5' &&
      !strcmp(base + 12, ".bin"))
    return 'r';
  return 0;
}

/* A single batch file given directly. */
static int open_cifar_file(const char *path, const char *split, dataset **out, char *err,
                           size_t err_len) {
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  int kind = cifar_batch_split(base);
  if (split &&
      !((!strcmp(split, "test") && kind == 't') || (!strcmp(split, "train") && kind == 'r'))) {
    sb_errf(err, err_len, "%s: split '%s' does not match this batch file", path, split);
    return -1;
  }
  char *dir = slash ? malloc((size_t)(slash - path) + 2) : str_dup(".");
  if (dir && slash) {
    size_t dl = slash == path ? 1 : (size_t)(slash - path); /* "/x.bin" -> "/" */
    memcpy(dir, path, dl);
    dir[dl] = '\0';
  }
  dataset *ds = dir ? dataset_new(DATASET_CIFAR_BINARY, path) : NULL;
  if (!ds) {
    free(dir);
    sb_errf(err, err_len, "%s: out of memory", path);
    return -1;
  }
  int rc = cifar_load_classes(ds, dir, err, err_len);
  free(dir);
  if (!rc)
    rc = cifar_add_batch(ds, path, base, err, err_len);
  if (rc) {
    dataset_close(ds);
    return -1;
  }
  *out = ds;
  return 0;
}

static int open_cifar_dir(const char *root, const dir_list *top, const char *split, dataset **out,
                          char *err, size_t err_len) {
  int want_train = !split || !strcmp(split, "train");
  int want_test = !split || !strcmp(split, "test");
  if (!want_train && !want_test) {
    sb_errf(err, err_len,
            "%s: unknown split '%s' for a CIFAR-10 binary folder (use 'test', 'train' or none)",
            root, split);
    return -1;
  }
  const char *files[CIFAR_MAX_BATCHES];
  size_t n = 0;
  static const char *const train_names[] = {"data_batch_1.bin", "data_batch_2.bin",
                                            "data_batch_3.bin", "data_batch_4.bin",
                                            "data_batch_5.bin"};
  if (want_train) {
    int gap = -1;
    for (int b = 0; b < 5; b++) {
      if (!dir_find(top, train_names[b], ENTRY_FILE)) {
        if (gap < 0)
          gap = b;
        continue;
      }
      if (gap >= 0) {
        sb_errf(err, err_len, "%s: %s is missing but %s exists (incomplete copy?)", root,
                train_names[gap], train_names[b]);
        return -1;
      }
      files[n++] = train_names[b];
    }
    if (n == 0 && split) {
      sb_errf(err, err_len, "%s: split 'train' but no data_batch_1.bin", root);
      return -1;
    }
  }
  if (want_test) {
    if (dir_find(top, "test_batch.bin", ENTRY_FILE))
      files[n++] = "test_batch.bin";
    else if (split) {
      sb_errf(err, err_len, "%s: split 'test' but no test_batch.bin", root);
      return -1;
    }
  }
  /* n >= 1: the caller saw at least one batch file. */
  dataset *ds = dataset_new(DATASET_CIFAR_BINARY, root);
  if (!ds) {
    sb_errf(err, err_len, "%s: out of memory", root);
    return -1;
  }
  if (cifar_load_classes(ds, root, err, err_len))
    goto fail;
  for (size_t i = 0; i < n; i++) {
    char *path = path_join(root, files[i]);
    if (!path) {
      sb_errf(err, err_len, "%s: out of memory", root);
      goto fail;
    }
    int rc = cifar_add_batch(ds, path, files[i], err, err_len);
    free(path);
    if (rc)
      goto fail;
  }
  *out = ds;
  return 0;
fail:
  dataset_close(ds);
  return -1;
}

static int has_cifar_batches(const dir_list *l) {
  for (size_t i = 0; i < l->n; i++)
    if (l->e[i].type == ENTRY_FILE && cifar_batch_split(l->e[i].name))
      return 1;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */

static int open_path(const char *path, const char *split, dataset **out, char *err,
                     size_t err_len) {
  char eb[128];
  struct stat st;
  if (stat(path, &st) != 0) {
    sb_errf(err, err_len, "%s: %s", path, sb_errno_text(errno, eb, sizeof eb));
    return -1;
  }
  if (S_ISREG(st.st_mode)) {
    size_t len = strlen(path);
    if (len > 4 && !strcmp(path + len - 4, ".bin"))
      return open_cifar_file(path, split, out, err, err_len);
    sb_errf(err, err_len, "%s: not a dataset (expected a folder or a CIFAR-10 .bin batch file)",
            path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode)) {
    sb_errf(err, err_len, "%s: not a folder or a file", path);
    return -1;
  }

  dir_list top;
  if (list_dir(path, &top, err, err_len))
    return -1;
  int rc;
  if (split && dir_find(&top, split, ENTRY_DIR)) {
    char *sub = path_join(path, split);
    if (!sub) {
      sb_errf(err, err_len, "%s: out of memory", path);
      rc = -1;
    } else {
      rc = open_path(sub, NULL, out, err, err_len); /* the split folder itself has no splits */
      free(sub);
    }
  } else if (has_cifar_batches(&top)) {
    rc = open_cifar_dir(path, &top, split, out, err, err_len);
  } else if (split) {
    sb_errf(err, err_len, "%s: no sub-folder '%s' for the requested split", path, split);
    rc = -1;
  } else {
    rc = open_image_folder(path, &top, out, err, err_len);
  }
  dir_list_free(&top);
  return rc;
}

int dataset_open(const char *path, const char *split, dataset **out, char *err, size_t err_len) {
  *out = NULL;
  if (!path || !*path) {
    sb_errf(err, err_len, "no dataset path given");
    return -1;
  }
  if (split && (!*split || strchr(split, '/') || !strcmp(split, ".") || !strcmp(split, ".."))) {
    sb_errf(err, err_len, "%s: invalid split name '%s'", path, split);
    return -1;
  }
  /* Trailing slashes are dropped so that item paths and dataset_root read naturally. */
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/')
    len--;
  char *p = malloc(len + 1);
  if (!p) {
    sb_errf(err, err_len, "%s: out of memory", path);
    return -1;
  }
  memcpy(p, path, len);
  p[len] = '\0';
  dataset *ds = NULL;
  int rc = open_path(p, split, &ds, err, err_len);
  if (!rc && ds->n_items == 0) { /* defensive: every branch above already needs an item */
    sb_errf(err, err_len, "%s: the dataset is empty", p);
    dataset_close(ds);
    rc = -1;
  }
  free(p);
  if (rc)
    return -1;
  *out = ds;
  return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Accessors. */

dataset_kind dataset_get_kind(const dataset *ds) { return ds->kind; }

const char *dataset_kind_name(dataset_kind kind) {
  switch (kind) {
  case DATASET_CIFAR_BINARY: return "cifar-binary";
  case DATASET_CLASS_FOLDERS: return "class-folders";
  case DATASET_PLAIN_FOLDER: return "plain-folder";
  }
  return "unknown";
}

const char *dataset_root(const dataset *ds) { return ds->root; }
size_t dataset_size(const dataset *ds) { return ds->n_items; }
int dataset_num_classes(const dataset *ds) { return ds->num_classes; }

const char *dataset_class_name(const dataset *ds, int label) {
  return label >= 0 && label < ds->num_classes ? ds->class_names[label] : NULL;
}

const char *dataset_item_name(const dataset *ds, size_t i) {
  return i < ds->n_items ? ds->items[i].name : NULL;
}

int dataset_item_label(const dataset *ds, size_t i) {
  return i < ds->n_items ? ds->items[i].label : -1;
}

static int check_index(const dataset *ds, size_t i, char *err, size_t err_len) {
  if (i < ds->n_items)
    return 0;
  sb_errf(err, err_len, "%s: item %zu out of range (the dataset has %zu items)", ds->root, i,
          ds->n_items);
  return -1;
}

int dataset_load(const dataset *ds, size_t i, image_rgb8 *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  if (check_index(ds, i, err, err_len))
    return -1;
  const dataset_item *it = &ds->items[i];
  if (it->record) {
    /* Planar R, G, B -> interleaved RGB. */
    uint8_t *rgb = malloc(3 * CIFAR_PLANE);
    if (!rgb) {
      sb_errf(err, err_len, "%s: out of memory", it->name);
      return -1;
    }
    const uint8_t *planes = it->record + 1;
    for (int p = 0; p < CIFAR_PLANE; p++) {
      rgb[3 * p] = planes[p];
      rgb[3 * p + 1] = planes[CIFAR_PLANE + p];
      rgb[3 * p + 2] = planes[2 * CIFAR_PLANE + p];
    }
    out->width = out->height = CIFAR_SIDE;
    out->rgb = rgb;
    return 0;
  }
  char *path = path_join(ds->root, it->name);
  if (!path) {
    sb_errf(err, err_len, "%s: out of memory", it->name);
    return -1;
  }
  int rc = image_load_file_max(path, DATASET_MAX_PIXELS, out, err, err_len);
  free(path);
  return rc;
}

static void hash_hex(const void *data, size_t size, char hex[33]) {
  XXH128_hash_t h = XXH3_128bits(data, size);
  snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

int dataset_item_source_hash(const dataset *ds, size_t i, char hex[33], char *err, size_t err_len) {
  hex[0] = '\0';
  if (check_index(ds, i, err, err_len))
    return -1;
  const dataset_item *it = &ds->items[i];
  if (it->record) {
    hash_hex(it->record, CIFAR_RECORD, hex);
    return 0;
  }
  char *path = path_join(ds->root, it->name);
  if (!path) {
    sb_errf(err, err_len, "%s: out of memory", it->name);
    return -1;
  }
  uint8_t *data;
  size_t size;
  int rc = image_read_file(path, DATASET_MAX_FILE_BYTES, &data, &size, err, err_len);
  free(path);
  if (rc)
    return -1;
  hash_hex(data, size, hex);
  free(data);
  return 0;
}
