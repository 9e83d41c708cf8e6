/* checkpoint.c - model files (format in nn.h). */
#include "nn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <xxhash.h>

#include "nn_internal.h"

enum { HEADER_BYTES = 24, TRAILER_BYTES = 8, DTYPE_F32 = 1, MAX_RANK = 4 };

typedef struct ck_tensor {
  char name[96];
  int rank;
  int dims[MAX_RANK];
  size_t count;
  float *data;
} ck_tensor;

/* A name and its position in the file; the sorted indexes below are arrays of these. */
typedef struct name_ref {
  const char *name;
  int idx;
} name_ref;

struct nn_ckpt {
  char *path;
  int nmeta;
  char **keys, **values;
  int ntensors;
  ck_tensor *tensors;
  /* Metadata keys and tensor names sorted by (name, position): duplicates are found in one pass
   * and lookups are binary searches, so a file with 10^5 names costs n log n, not n^2. */
  name_ref *meta_index, *tensor_index;
};

/* ---- little-endian byte buffer (writer) ---- */

typedef struct wbuf {
  unsigned char *p;
  size_t len, cap;
  bool oom;
} wbuf;

static void wb_put(wbuf *b, const void *src, size_t n) {
  if (b->oom)
    return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = true;
      return;
    }
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
}

static void wb_u8(wbuf *b, unsigned v) {
  unsigned char c = (unsigned char)v;
  wb_put(b, &c, 1);
}

static void wb_le(wbuf *b, uint64_t v, int bytes) {
  unsigned char c[8];
  for (int i = 0; i < bytes; i++)
    c[i] = (unsigned char)(v >> (8 * i));
  wb_put(b, c, (size_t)bytes);
}

static void wb_f32(wbuf *b, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  wb_le(b, u, 4);
}

static uint64_t rd_le(const unsigned char *p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* ---- save ---- */

int nn_ckpt_save(const char *path, nn_net *net, const nn_kv *meta, int nmeta, nn_err *err) {
  nn_ckpt_part part = {"", net};
  return nn_ckpt_save_parts(path, &part, 1, NULL, 0, meta, nmeta, err);
}

static void wb_tensor(wbuf *b, const char *prefix, const char *name, int rank, const int *dims,
                      const float *data) {
  size_t pl = strlen(prefix), nl = strlen(name);
  size_t count = 1;
  wb_le(b, pl + nl, 2);
  wb_put(b, prefix, pl);
  wb_put(b, name, nl);
  wb_u8(b, (unsigned)rank);
  wb_u8(b, DTYPE_F32);
  for (int d = 0; d < rank; d++) {
    wb_le(b, (uint64_t)dims[d], 4);
    count *= (size_t)dims[d];
  }
  for (size_t k = 0; k < count; k++)
    wb_f32(b, data[k]);
}

int nn_ckpt_save_parts(const char *path, const nn_ckpt_part *parts, int nparts,
                       const nn_ckpt_extra *extras, int nextras, const nn_kv *meta, int nmeta,
                       nn_err *err) {
  for (int i = 0; i < nextras; i++)
    if (!extras[i].name || extras[i].rank < 1 || extras[i].rank > 4 || !extras[i].data)
      return nn_err_set(err, NN_E_ARG, "%s: extra tensor %d is malformed", path, i);
  bool have_arch = false, have_created = false;
  for (int i = 0; i < nmeta; i++) {
    if (!meta[i].key || !meta[i].value || !meta[i].key[0])
      return nn_err_set(err, NN_E_ARG, "%s: metadata entry %d has no key or value", path, i);
    have_arch |= strcmp(meta[i].key, "arch") == 0;
    have_created |= strcmp(meta[i].key, "created") == 0;
  }
  if (!have_arch)
    return nn_err_set(err, NN_E_ARG, "%s: metadata must contain \"arch\"", path);
  char created[32];
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);

  wbuf b = {0};
  wb_put(&b, NN_CKPT_MAGIC, 8);
  wb_le(&b, NN_CKPT_VERSION, 4);
  wb_le(&b, 0, 4);
  wb_le(&b, 0, 8); /* total size, patched below */
  wb_le(&b, (uint64_t)(nmeta + !have_created), 4);
  for (int i = 0; i < nmeta; i++) {
    size_t kl = strlen(meta[i].key), vl = strlen(meta[i].value);
    wb_le(&b, kl, 4);
    wb_put(&b, meta[i].key, kl);
    wb_le(&b, vl, 4);
    wb_put(&b, meta[i].value, vl);
  }
  if (!have_created) {
    wb_le(&b, 7, 4);
    wb_put(&b, "created", 7);
    wb_le(&b, strlen(created), 4);
    wb_put(&b, created, strlen(created));
  }
  uint64_t ntensors = (uint64_t)nextras;
  for (int k = 0; k < nparts; k++)
    ntensors += (uint64_t)nn_net_num_params(parts[k].net);
  wb_le(&b, ntensors, 4);
  for (int k = 0; k < nparts; k++) {
    const char *prefix = parts[k].prefix ? parts[k].prefix : "";
    for (int i = 0; i < nn_net_num_params(parts[k].net); i++) {
      const nn_param *p = nn_net_param(parts[k].net, i);
      int dims[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
      wb_tensor(&b, prefix, p->name, p->ndim, dims, p->value.data);
    }
  }
  for (int i = 0; i < nextras; i++)
    wb_tensor(&b, "", extras[i].name, extras[i].rank, extras[i].dims, extras[i].data);
  if (b.oom) {
    free(b.p);
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory while serialising", path);
  }
  uint64_t total = b.len + TRAILER_BYTES;
  for (int i = 0; i < 8; i++)
    b.p[16 + i] = (unsigned char)(total >> (8 * i));
  wb_le(&b, XXH3_64bits(b.p, b.len), 8);
  if (b.oom) {
    free(b.p);
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory while serialising", path);
  }

  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) {
    free(b.p);
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
  }
  snprintf(tmp, plen + 16, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  int rc = NN_OK;
  if (!f) {
    rc = nn_err_set(err, NN_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
  } else {
    size_t wr = fwrite(b.p, 1, b.len, f);
    int e1 = ferror(f);
    int e2 = fclose(f);
    if (wr != b.len || e1 || e2)
      rc = nn_err_set(err, NN_E_IO, "%s: write failed: %s", tmp, strerror(errno));
    else if (rename(tmp, path) != 0)
      rc = nn_err_set(err, NN_E_IO, "%s: cannot rename %s into place: %s", path, tmp,
                      strerror(errno));
    if (rc != NN_OK)
      remove(tmp);
  }
  free(tmp);
  free(b.p);
  return rc;
}

/* ---- read ---- */

void nn_ckpt_free(nn_ckpt *ck) {
  if (!ck)
    return;
  for (int i = 0; i < ck->nmeta; i++) {
    free(ck->keys[i]);
    free(ck->values[i]);
  }
  for (int i = 0; i < ck->ntensors; i++)
    free(ck->tensors[i].data);
  free(ck->keys);
  free(ck->values);
  free(ck->tensors);
  free(ck->meta_index);
  free(ck->tensor_index);
  free(ck->path);
  free(ck);
}

static int cmp_name_ref(const void *a, const void *b) {
  const name_ref *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Sorts refs[0..n) by (name, position) and returns the position of the duplicate that old
 * readers reported (the first name, in file order, that repeats an earlier one), or -1. */
static int sort_find_duplicate(name_ref *refs, int n) {
  if (n > 1)
    qsort(refs, (size_t)n, sizeof *refs, cmp_name_ref);
  int dup = -1;
  for (int i = 1; i < n; i++)
    if (strcmp(refs[i - 1].name, refs[i].name) == 0 && (dup < 0 || refs[i].idx < dup))
      dup = refs[i].idx;
  return dup;
}

/* Position of `name` in a sorted index (the first occurrence), or -1. */
static int index_lookup(const name_ref *refs, int n, const char *name) {
  int lo = 0, hi = n; /* first entry with refs[].name >= name */
  while (lo < hi) {
    int mid = lo + (hi - lo) / 2;
    if (strcmp(refs[mid].name, name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && strcmp(refs[lo].name, name) == 0 ? refs[lo].idx : -1;
}

/* Bounds-checked cursor over the file body. */
typedef struct cursor {
  const unsigned char *p;
  size_t pos, end;
} cursor;

static bool take(cursor *c, size_t n, const unsigned char **out) {
  if (n > c->end - c->pos)
    return false;
  *out = c->p + c->pos;
  c->pos += n;
  return true;
}

static bool take_le(cursor *c, int bytes, uint64_t *v) {
  const unsigned char *q;
  if (!take(c, (size_t)bytes, &q))
    return false;
  *v = rd_le(q, bytes);
  return true;
}

/* A length-prefixed string without NUL bytes, copied and terminated. */
static bool take_str(cursor *c, int lenbytes, size_t maxlen, char **out) {
  uint64_t len;
  const unsigned char *q;
  if (!take_le(c, lenbytes, &len) || len > maxlen || !take(c, (size_t)len, &q) ||
      memchr(q, 0, (size_t)len))
    return false;
  *out = malloc((size_t)len + 1);
  if (!*out)
    return false;
  memcpy(*out, q, (size_t)len);
  (*out)[len] = 0;
  return true;
}

#define REFUSE(code, ...)                                                                          \
  do {                                                                                             \
    rc = nn_err_set(err, code, __VA_ARGS__);                                                       \
    goto fail;                                                                                     \
  } while (0)

static int parse(nn_ckpt *ck, const unsigned char *buf, size_t size, nn_err *err) {
  const char *path = ck->path;
  int rc = NN_OK;
  cursor c = {buf, HEADER_BYTES, size - TRAILER_BYTES};
  uint64_t n;
  if (!take_le(&c, 4, &n))
    REFUSE(NN_E_FORMAT, "%s: malformed: no metadata count", path);
  /* every entry needs at least 8 bytes: a count above that is a lie */
  if (n > (c.end - c.pos) / 8)
    REFUSE(NN_E_FORMAT, "%s: malformed: metadata count %llu exceeds the file", path,
           (unsigned long long)n);
  ck->keys = calloc((size_t)n + 1, sizeof *ck->keys);
  ck->values = calloc((size_t)n + 1, sizeof *ck->values);
  if (!ck->keys || !ck->values)
    REFUSE(NN_E_NOMEM, "%s: out of memory", path);
  for (uint64_t i = 0; i < n; i++) {
    if (!take_str(&c, 4, 1u << 24, &ck->keys[i]))
      REFUSE(NN_E_FORMAT, "%s: malformed: metadata key %llu is cut off or invalid", path,
             (unsigned long long)i);
    ck->nmeta++; /* values[i] may stay NULL on failure; free() handles it */
    if (!take_str(&c, 4, 1u << 30, &ck->values[i]))
      REFUSE(NN_E_FORMAT, "%s: malformed: metadata value for '%s' is cut off or invalid", path,
             ck->keys[i]);
  }
  if (!(ck->meta_index = malloc(((size_t)ck->nmeta + 1) * sizeof *ck->meta_index)))
    REFUSE(NN_E_NOMEM, "%s: out of memory", path);
  for (int i = 0; i < ck->nmeta; i++)
    ck->meta_index[i] = (name_ref){ck->keys[i], i};
  int dup = sort_find_duplicate(ck->meta_index, ck->nmeta);
  if (dup >= 0)
    REFUSE(NN_E_FORMAT, "%s: malformed: duplicate metadata key '%s'", path, ck->keys[dup]);
  if (!take_le(&c, 4, &n))
    REFUSE(NN_E_FORMAT, "%s: malformed: no tensor count", path);
  if (n > (c.end - c.pos) / 9) /* name length, rank, dtype, one dim at least */
    REFUSE(NN_E_FORMAT, "%s: malformed: tensor count %llu exceeds the file", path,
           (unsigned long long)n);
  ck->tensors = calloc((size_t)n + 1, sizeof *ck->tensors);
  if (!ck->tensors)
    REFUSE(NN_E_NOMEM, "%s: out of memory", path);
  for (uint64_t i = 0; i < n; i++) {
    ck_tensor *t = &ck->tensors[i];
    char *name = NULL;
    if (!take_str(&c, 2, sizeof t->name - 1, &name) || !name[0]) {
      free(name);
      REFUSE(NN_E_FORMAT, "%s: malformed: name of tensor %llu is cut off or invalid", path,
             (unsigned long long)i);
    }
    memcpy(t->name, name, strlen(name) + 1);
    free(name);
    ck->ntensors++;
    uint64_t rank, dtype;
    if (!take_le(&c, 1, &rank) || !take_le(&c, 1, &dtype))
      REFUSE(NN_E_FORMAT, "%s: malformed: tensor '%s' header cut off", path, t->name);
    if (rank < 1 || rank > MAX_RANK || dtype != DTYPE_F32)
      REFUSE(NN_E_FORMAT, "%s: malformed: tensor '%s' has rank %llu / dtype %llu", path, t->name,
             (unsigned long long)rank, (unsigned long long)dtype);
    t->rank = (int)rank;
    uint64_t count = 1;
    for (int d = 0; d < MAX_RANK; d++)
      t->dims[d] = 1;
    for (int d = 0; d < t->rank; d++) {
      uint64_t dim;
      if (!take_le(&c, 4, &dim))
        REFUSE(NN_E_FORMAT, "%s: malformed: tensor '%s' dims cut off", path, t->name);
      if (dim < 1 || dim > (1u << 30))
        REFUSE(NN_E_FORMAT, "%s: malformed: tensor '%s' dimension %d is %llu", path, t->name, d,
               (unsigned long long)dim);
      t->dims[d] = (int)dim;
      count *= dim;
      if (count > (c.end - c.pos) / 4) /* also bounds the product before it can overflow */
        REFUSE(NN_E_FORMAT, "%s: malformed: tensor '%s' data exceeds the file", path, t->name);
    }
    const unsigned char *q;
    if (!take(&c, (size_t)count * 4, &q))
      REFUSE(NN_E_FORMAT, "%s: malformed: tensor '%s' data exceeds the file", path, t->name);
    t->count = (size_t)count;
    if (!(t->data = malloc(t->count * sizeof(float))))
      REFUSE(NN_E_NOMEM, "%s: out of memory", path);
    for (size_t k = 0; k < t->count; k++) {
      uint32_t u = (uint32_t)rd_le(q + 4 * k, 4);
      memcpy(&t->data[k], &u, 4);
    }
  }
  if (!(ck->tensor_index = malloc(((size_t)ck->ntensors + 1) * sizeof *ck->tensor_index)))
    REFUSE(NN_E_NOMEM, "%s: out of memory", path);
  for (int i = 0; i < ck->ntensors; i++)
    ck->tensor_index[i] = (name_ref){ck->tensors[i].name, i};
  if ((dup = sort_find_duplicate(ck->tensor_index, ck->ntensors)) >= 0)
    REFUSE(NN_E_FORMAT, "%s: malformed: duplicate tensor '%s'", path, ck->tensors[dup].name);
  if (c.pos != c.end)
    REFUSE(NN_E_FORMAT, "%s: malformed: %zu unexplained bytes before the checksum", path,
           c.end - c.pos);
  return NN_OK;
fail:
  return rc;
}

int nn_ckpt_read(const char *path, nn_ckpt **out, nn_err *err) {
  *out = NULL;
  int rc = NN_OK;
  unsigned char *buf = NULL;
  nn_ckpt *ck = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return nn_err_set(err, NN_E_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return nn_err_set(err, NN_E_IO, "%s: not a regular file", path);
  }
  uint64_t size = (uint64_t)st.st_size;
  if (size > NN_CKPT_MAX_BYTES) {
    fclose(f);
    return nn_err_set(err, NN_E_FORMAT, "%s: %llu bytes is larger than any checkpoint", path,
                      (unsigned long long)size);
  }
  buf = malloc(size ? (size_t)size : 1);
  if (!buf) {
    fclose(f);
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory for %llu bytes", path,
                      (unsigned long long)size);
  }
  size_t got = fread(buf, 1, (size_t)size, f);
  fclose(f);
  if (got != size) {
    free(buf);
    return nn_err_set(err, NN_E_IO, "%s: read %zu of %llu bytes", path, got,
                      (unsigned long long)size);
  }
  /* Order matters for the messages: magic first (is it ours at all?), then version (can we
   * read it?), then size (truncated?), then checksum (corrupted?). */
  size_t mlen = size < 8 ? (size_t)size : 8;
  if (memcmp(buf, NN_CKPT_MAGIC, mlen) != 0)
    REFUSE(NN_E_FORMAT, "%s: not an nn checkpoint (bad magic)", path);
  if (size < HEADER_BYTES + TRAILER_BYTES)
    REFUSE(NN_E_FORMAT, "%s: truncated: %llu bytes, a checkpoint has at least %d", path,
           (unsigned long long)size, HEADER_BYTES + TRAILER_BYTES);
  uint32_t version = (uint32_t)rd_le(buf + 8, 4), flags = (uint32_t)rd_le(buf + 12, 4);
  uint64_t declared = rd_le(buf + 16, 8);
  if (version != NN_CKPT_VERSION)
    REFUSE(NN_E_FORMAT, "%s: unsupported format version %u (this build reads version %u)", path,
           version, NN_CKPT_VERSION);
  if (flags != 0)
    REFUSE(NN_E_FORMAT, "%s: unknown flags 0x%x", path, flags);
  if (declared > size)
    REFUSE(NN_E_FORMAT, "%s: truncated: %llu of %llu bytes", path, (unsigned long long)size,
           (unsigned long long)declared);
  if (declared < size)
    REFUSE(NN_E_FORMAT, "%s: size mismatch: header says %llu bytes, file has %llu", path,
           (unsigned long long)declared, (unsigned long long)size);
  uint64_t stored = rd_le(buf + size - TRAILER_BYTES, 8);
  uint64_t computed = XXH3_64bits(buf, (size_t)size - TRAILER_BYTES);
  if (stored != computed)
    REFUSE(NN_E_FORMAT, "%s: checksum mismatch (stored %016llx, computed %016llx): corrupted", path,
           (unsigned long long)stored, (unsigned long long)computed);
  ck = calloc(1, sizeof *ck);
  if (!ck || !(ck->path = strdup(path)))
    REFUSE(NN_E_NOMEM, "%s: out of memory", path);
  if ((rc = parse(ck, buf, (size_t)size, err)) != NN_OK)
    goto fail;
  free(buf);
  *out = ck;
  return NN_OK;
fail:
  free(buf);
  nn_ckpt_free(ck);
  return rc;
}

const char *nn_ckpt_path(const nn_ckpt *ck) { return ck->path; }
int nn_ckpt_num_meta(const nn_ckpt *ck) { return ck->nmeta; }
int nn_ckpt_num_tensors(const nn_ckpt *ck) { return ck->ntensors; }

const char *nn_ckpt_meta(const nn_ckpt *ck, const char *key) {
  int i = index_lookup(ck->meta_index, ck->nmeta, key);
  return i >= 0 ? ck->values[i] : NULL;
}

int nn_ckpt_meta_at(const nn_ckpt *ck, int i, const char **key, const char **value) {
  if (i < 0 || i >= ck->nmeta)
    return NN_E_ARG;
  *key = ck->keys[i];
  *value = ck->values[i];
  return NN_OK;
}

int nn_ckpt_tensor_at(const nn_ckpt *ck, int i, const char **name, int *rank, int dims[4],
                      const float **data) {
  if (i < 0 || i >= ck->ntensors)
    return NN_E_ARG;
  const ck_tensor *t = &ck->tensors[i];
  *name = t->name;
  *rank = t->rank;
  memcpy(dims, t->dims, sizeof t->dims);
  *data = t->data;
  return NN_OK;
}

static void fmt_shape(char *buf, size_t n, int rank, const int *dims) {
  size_t o = (size_t)snprintf(buf, n, "[");
  for (int d = 0; d < rank && o < n; d++)
    o += (size_t)snprintf(buf + o, n - o, d ? ", %d" : "%d", dims[d]);
  if (o < n)
    snprintf(buf + o, n - o, "]");
}

int nn_ckpt_apply(const nn_ckpt *ck, nn_net *net, const char *expected_arch, nn_err *err) {
  const char *path = ck->path;
  const char *arch = nn_ckpt_meta(ck, "arch");
  if (!arch)
    return nn_err_set(err, NN_E_FORMAT, "%s: no \"arch\" in metadata", path);
  if (expected_arch && strcmp(arch, expected_arch) != 0)
    return nn_err_set(err, NN_E_FORMAT, "%s: wrong architecture: file has '%s', expected '%s'",
                      path, arch, expected_arch);
  int np = nn_net_num_params(net);
  int *map = malloc(sizeof(int) * (size_t)(np + 1));
  if (!map)
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
  int rc = NN_OK;
  for (int i = 0; i < np && rc == NN_OK; i++) {
    const nn_param *p = nn_net_param(net, i);
    int want[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
    map[i] = nn_ckpt_find_tensor(ck, p->name);
    if (map[i] < 0) {
      rc = nn_err_set(err, NN_E_FORMAT, "%s: tensor '%s' missing", path, p->name);
      break;
    }
    const ck_tensor *t = &ck->tensors[map[i]];
    bool same = t->rank == p->ndim;
    for (int d = 0; d < 4 && same; d++)
      same = t->dims[d] == (d < p->ndim ? want[d] : 1);
    if (!same) {
      char a[64], b[64];
      fmt_shape(a, sizeof a, t->rank, t->dims);
      fmt_shape(b, sizeof b, p->ndim, want);
      rc = nn_err_set(err, NN_E_FORMAT, "%s: tensor '%s' has shape %s, the network expects %s",
                      path, p->name, a, b);
    }
  }
  if (rc == NN_OK && ck->ntensors != np) {
    /* every network tensor was found once, so some file tensor is unknown: name it */
    for (int j = 0; j < ck->ntensors && rc == NN_OK; j++)
      if (!nn_net_find_param(net, ck->tensors[j].name))
        rc = nn_err_set(err, NN_E_FORMAT, "%s: unexpected tensor '%s' (not in the network)", path,
                        ck->tensors[j].name);
  }
  if (rc == NN_OK) {
    for (int i = 0; i < np; i++) {
      nn_param *p = nn_net_param(net, i);
      memcpy(p->value.data, ck->tensors[map[i]].data, sizeof(float) * ck->tensors[map[i]].count);
    }
    net->param_gen++;
  }
  free(map);
  return rc;
}

int nn_ckpt_find_tensor(const nn_ckpt *ck, const char *name) {
  return index_lookup(ck->tensor_index, ck->ntensors, name);
}

int nn_ckpt_apply_part(const nn_ckpt *ck, nn_net *net, const char *prefix, nn_err *err) {
  const char *path = ck->path;
  size_t pl = strlen(prefix);
  int np = nn_net_num_params(net);
  int *map = malloc(sizeof(int) * (size_t)(np + 1));
  char name[256];
  if (!map)
    return nn_err_set(err, NN_E_NOMEM, "%s: out of memory", path);
  int rc = NN_OK;
  for (int i = 0; i < np && rc == NN_OK; i++) {
    const nn_param *p = nn_net_param(net, i);
    int want[4] = {p->value.n, p->value.c, p->value.h, p->value.w};
    snprintf(name, sizeof name, "%s%s", prefix, p->name);
    map[i] = nn_ckpt_find_tensor(ck, name);
    if (map[i] < 0) {
      rc = nn_err_set(err, NN_E_FORMAT, "%s: tensor '%s' missing", path, name);
      break;
    }
    const ck_tensor *t = &ck->tensors[map[i]];
    bool same = t->rank == p->ndim;
    for (int d = 0; d < 4 && same; d++)
      same = t->dims[d] == (d < p->ndim ? want[d] : 1);
    if (!same) {
      char a[64], b[64];
      fmt_shape(a, sizeof a, t->rank, t->dims);
      fmt_shape(b, sizeof b, p->ndim, want);
      rc = nn_err_set(err, NN_E_FORMAT, "%s: tensor '%s' has shape %s, the network expects %s",
                      path, name, a, b);
    }
  }
  for (int j = 0; j < ck->ntensors && rc == NN_OK; j++)
    if (pl && strncmp(ck->tensors[j].name, prefix, pl) == 0 &&
        !nn_net_find_param(net, ck->tensors[j].name + pl))
      rc = nn_err_set(err, NN_E_FORMAT, "%s: unexpected tensor '%s' (not in the network)", path,
                      ck->tensors[j].name);
  if (rc == NN_OK) {
    for (int i = 0; i < np; i++) {
      nn_param *p = nn_net_param(net, i);
      memcpy(p->value.data, ck->tensors[map[i]].data, sizeof(float) * ck->tensors[map[i]].count);
    }
    net->param_gen++;
  }
  free(map);
  return rc;
}

int nn_ckpt_load(const char *path, nn_net *net, const char *expected_arch, nn_err *err) {
  nn_ckpt *ck;
  int rc = nn_ckpt_read(path, &ck, err);
  if (rc != NN_OK)
    return rc;
  rc = nn_ckpt_apply(ck, net, expected_arch, err);
  nn_ckpt_free(ck);
  return rc;
}
