/* The codec of a command-line codec definition (codec_registry.h): its vtable, its version, and
 * encode/decode by running its programs.
 *
 * Entry points: codec_vtable.create() and .library_version() receive nothing that says which
 * definition they serve, yet the plugin ABI (saicbench_codec.h) must not change. So there is a
 * fixed set of CODEC_COMMAND_MAX_CODECS pairs of entry points, each bound to one slot of a
 * process-wide table; a codec takes a free slot when it is made and gives it back when freed.
 * Every caller of a vtable (the runner, `saicbench codecs`, tests) then works unchanged, and
 * the version recorded with a run is the one this definition reported. create() hands out the
 * codec itself as the instance, so encode() and decode() need no table at all.
 *
 * Files: every call gets a fresh private folder (codec_command_tempdir) holding
 *   encode: input.ppm|png (written here) -> stream.EXT (written by the program)
 *   decode: stream.EXT (written here)    -> output.ppm|png (written by the program)
 * and the folder is removed afterwards whatever happened. The program runs in that folder;
 * the placeholders give it absolute paths. stream_bytes is the stream file's size, the whole
 * file: a program's container headers are not known here.
 *
 * Thread-safety: encode and decode share nothing but the read-only codec; the slot table is
 * guarded by a mutex. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"
#include "codec_builtin.h"
#include "codec_command_internal.h"
#include "codec_registry.h"
#include "data.h"

/* The largest program output read back: a 16-bit uncompressed image of CODEC_MAX_PIXELS. */
#define COMMAND_MAX_OUTPUT_BYTES (6 * CODEC_MAX_PIXELS + ((size_t)1 << 20))
#define COMMAND_MAX_VERSION_LEN 200

struct codec_command {
  codec_vtable vt;        /* its strings point into def and the fields below */
  codec_command_def def;  /* programs resolved to absolute paths */
  char *version;          /* what library_version() returns */
  char *description;      /* def's, or a default */
  char *knob_description; /* def's, or a default */
  char *program[3];       /* per role, for messages: "python3 toy_codec.py" */
  char stream_name[32];   /* "stream.EXT" */
  char image_name[8];     /* suffix of the image files: "ppm" or "png" */
  int slot;
};

/* ---- slots: the entry points bound to codecs ---- */

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static codec_command *slots[CODEC_COMMAND_MAX_CODECS];

static codec_command *slot_get(int k) {
  pthread_mutex_lock(&slot_lock);
  codec_command *c = slots[k];
  pthread_mutex_unlock(&slot_lock);
  return c;
}

static int command_create(codec_command *c, const codec_option *options, size_t n_options,
                          void **instance, char *err, size_t err_len) {
  static const char *const none[] = {NULL};
  if (!instance)
    return codec_errorf(err, err_len, "command codec: no instance pointer");
  *instance = NULL;
  if (!c)
    return codec_errorf(err, err_len, "command codec: its registry was destroyed");
  /* Command codecs take no settings: their options are in the templates. */
  if (codec_check_options(c->vt.name, options, n_options, none, err, err_len))
    return -1;
  *instance = c;
  return 0;
}

static const char *command_version(codec_command *c) {
  return c ? c->version : "(command codec no longer registered)";
}

#define SLOT(h, l)                                                                                 \
  static int create_##h##l(const codec_option *o, size_t n, void **i, char *e, size_t el) {        \
    return command_create(slot_get(h * 8 + l), o, n, i, e, el);                                    \
  }                                                                                                \
  static const char *version_##h##l(void) { return command_version(slot_get(h * 8 + l)); }
#define SLOTS8(h)                                                                                  \
  SLOT(h, 0) SLOT(h, 1) SLOT(h, 2) SLOT(h, 3) SLOT(h, 4) SLOT(h, 5) SLOT(h, 6) SLOT(h, 7)
SLOTS8(0)
SLOTS8(1)
SLOTS8(2)
SLOTS8(3)
SLOTS8(4)
SLOTS8(5)
SLOTS8(6)
SLOTS8(7)

typedef struct slot_fns {
  int (*create)(const codec_option *, size_t, void **, char *, size_t);
  const char *(*version)(void);
} slot_fns;

#define FNS(h, l) {create_##h##l, version_##h##l},
#define FNS8(h) FNS(h, 0) FNS(h, 1) FNS(h, 2) FNS(h, 3) FNS(h, 4) FNS(h, 5) FNS(h, 6) FNS(h, 7)
static const slot_fns slot_table[] = {FNS8(0) FNS8(1) FNS8(2) FNS8(3) FNS8(4) FNS8(5) FNS8(6)
                                          FNS8(7)};
_Static_assert(sizeof slot_table / sizeof slot_table[0] == CODEC_COMMAND_MAX_CODECS,
               "one pair of entry points per slot");

/* ---- encode and decode ---- */

static void command_destroy(void *instance) { (void)instance; /* the registry owns the codec */ }

/* Runs the role's program in dir with the given placeholder values. */
static int run_program(const codec_command *c, codec_command_role role,
                       const char *const values[CODEC_COMMAND_N_PLACEHOLDERS], const char *dir,
                       char *e, size_t e_len) {
  const codec_command_argv *t = role == CODEC_COMMAND_ENCODE ? &c->def.encode : &c->def.decode;
  char **argv = codec_command_expand(role, t, values);
  if (!argv)
    return codec_errorf(e, e_len, "out of memory");
  codec_command_result *res = malloc(sizeof *res);
  if (!res) {
    codec_command_free_argv(argv);
    return codec_errorf(e, e_len, "out of memory");
  }
  codec_command_run(argv, dir, c->def.timeout_s, 0, res);
  codec_command_free_argv(argv);
  int rc = 0;
  if (!codec_command_succeeded(res)) {
    codec_command_describe(res, c->program[role], c->def.timeout_s, e, e_len);
    rc = -1;
  }
  free(res);
  return rc;
}

/* Reads the file a program had to write (`name` in messages). */
static int read_output(const codec_command *c, codec_command_role role, const char *path,
                       const char *name, uint8_t **data, size_t *size, char *e, size_t e_len) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return codec_errorf(e, e_len, "%s exited with status 0 but wrote no %s", c->program[role],
                        name);
  if (!S_ISREG(st.st_mode))
    return codec_errorf(e, e_len, "%s: %s is not a regular file", c->program[role], name);
  if (st.st_size == 0)
    return codec_errorf(e, e_len, "%s wrote an empty %s (0 bytes)", c->program[role], name);
  if ((uintmax_t)st.st_size > COMMAND_MAX_OUTPUT_BYTES)
    return codec_errorf(e, e_len, "%s wrote %jd bytes into %s (limit %zu)", c->program[role],
                        (intmax_t)st.st_size, name, (size_t)COMMAND_MAX_OUTPUT_BYTES);
  char inner[512];
  if (image_read_file(path, COMMAND_MAX_OUTPUT_BYTES, data, size, inner, sizeof inner))
    return codec_errorf(e, e_len, "%s", inner);
  return 0;
}

/* The knob as the program sees it: digits for an integer knob, else the shortest decimal that
 * reads back as the same double. */
static void knob_text(const codec_command *c, double knob, char out[32]) {
  if (c->vt.knob.kind == CODEC_KNOB_INT)
    snprintf(out, 32, "%.0f", knob + 0.0); /* + 0.0: no "-0" */
  else
    sb_format_number(knob, out);
}

static int encode_in(const codec_command *c, const char *dir, const uint8_t *rgb, int width,
                     int height, double knob, codec_encoded *out, char *e, size_t e_len) {
  char in[PATH_MAX + 32], stream[PATH_MAX + 32], kt[32], ws[16], hs[16];
  snprintf(in, sizeof in, "%s/input.%s", dir, c->image_name);
  snprintf(stream, sizeof stream, "%s/%s", dir, c->stream_name);
  knob_text(c, knob, kt);
  snprintf(ws, sizeof ws, "%d", width);
  snprintf(hs, sizeof hs, "%d", height);
  char inner[512];
  int rc;
  if (c->def.format == CODEC_COMMAND_PNG) {
    const image_rgb8 img = {width, height, (uint8_t *)(uintptr_t)rgb}; /* only read */
    rc = image_save_png(in, &img, inner, sizeof inner);
  } else {
    rc = image_save_ppm(in, rgb, width, height, inner, sizeof inner);
  }
  if (rc)
    return codec_errorf(e, e_len, "cannot write the input image: %s", inner);
  const char *values[CODEC_COMMAND_N_PLACEHOLDERS] = {in, stream, kt, ws, hs};
  uint8_t *data = NULL;
  size_t size = 0;
  if (run_program(c, CODEC_COMMAND_ENCODE, values, dir, e, e_len) ||
      read_output(c, CODEC_COMMAND_ENCODE, stream, c->stream_name, &data, &size, e, e_len))
    return -1;
  out->data = data;
  out->size = size;
  out->stream_bytes = size; /* the whole file (see the top of this file) */
  return 0;
}

static int command_encode(const void *instance, const uint8_t *rgb, int width, int height,
                          double knob, codec_encoded *out, char *err, size_t err_len) {
  const codec_command *c = instance;
  if (!c)
    return codec_errorf(err, err_len, "command codec: no instance");
  if (codec_check_encode_args(c->vt.name, &c->vt.knob, rgb, width, height, &knob, out, err,
                              err_len))
    return -1;
  char dir[PATH_MAX], e[512];
  if (codec_command_tempdir(c->vt.name, dir, sizeof dir, e, sizeof e))
    return codec_errorf(err, err_len, "command codec %s: encode: %s", c->vt.name, e);
  int rc = encode_in(c, dir, rgb, width, height, knob, out, e, sizeof e);
  codec_command_rmtree(dir);
  if (rc)
    return codec_errorf(err, err_len, "command codec %s: encode: %s", c->vt.name, e);
  return 0;
}

static int write_file(const char *path, const uint8_t *data, size_t size, char *e, size_t e_len) {
  FILE *f = fopen(path, "wbxe"); /* e: O_CLOEXEC, so programs spawned meanwhile do not get it */
  int ok = f && fwrite(data, 1, size, f) == size;
  if (f && fclose(f) != 0)
    ok = 0;
  if (!ok)
    return codec_errorf(e, e_len, "cannot write the stream file %s", path);
  return 0;
}

static int decode_in(const codec_command *c, const char *dir, const uint8_t *data, size_t size,
                     image_rgb8 *img, char *e, size_t e_len) {
  char stream[PATH_MAX + 32], outp[PATH_MAX + 32], name[32];
  snprintf(stream, sizeof stream, "%s/%s", dir, c->stream_name);
  snprintf(name, sizeof name, "output.%s", c->image_name);
  snprintf(outp, sizeof outp, "%s/%s", dir, name);
  if (write_file(stream, data, size, e, e_len))
    return -1;
  const char *values[CODEC_COMMAND_N_PLACEHOLDERS] = {stream, outp, NULL, NULL, NULL};
  uint8_t *file = NULL;
  size_t file_size = 0;
  if (run_program(c, CODEC_COMMAND_DECODE, values, dir, e, e_len) ||
      read_output(c, CODEC_COMMAND_DECODE, outp, name, &file, &file_size, e, e_len))
    return -1;
  /* The pixel limit is checked from the header, before the pixels are allocated. */
  char inner[512];
  int rc =
      c->def.format == CODEC_COMMAND_PNG
          ? image_decode_memory_max(file, file_size, name, CODEC_MAX_PIXELS, img, inner,
                                    sizeof inner)
          : image_decode_pnm_max(file, file_size, name, CODEC_MAX_PIXELS, img, inner, sizeof inner);
  free(file);
  if (rc)
    return codec_errorf(e, e_len, "%s wrote an unreadable image: %s",
                        c->program[CODEC_COMMAND_DECODE], inner);
  return 0;
}

static int command_decode(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb,
                          int *width, int *height, char *err, size_t err_len) {
  const codec_command *c = instance;
  if (!c)
    return codec_errorf(err, err_len, "command codec: no instance");
  if (codec_check_decode_args(c->vt.name, data, size, rgb, width, height, err, err_len))
    return -1;
  char dir[PATH_MAX], e[512];
  if (codec_command_tempdir(c->vt.name, dir, sizeof dir, e, sizeof e))
    return codec_errorf(err, err_len, "command codec %s: decode: %s", c->vt.name, e);
  image_rgb8 img = {0};
  int rc = decode_in(c, dir, data, size, &img, e, sizeof e);
  codec_command_rmtree(dir);
  if (rc)
    return codec_errorf(err, err_len, "command codec %s: decode: %s", c->vt.name, e);
  *rgb = img.rgb;
  *width = img.width;
  *height = img.height;
  return 0;
}

/* ---- making the codec: programs, files, version ---- */

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s && s[1] ? s + 1 : p;
}

/* An executable regular file? */
static int is_program(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* args[0] as an absolute path: a name without '/' is looked up on PATH (as execvp would), a
 * path is made absolute (relative to the current folder: the program runs elsewhere). */
static int resolve_program(const char *what, char **arg, char *e, size_t e_len) {
  char buf[PATH_MAX];
  if (strchr(*arg, '/')) {
    if (!realpath(*arg, buf))
      return codec_errorf(e, e_len, "%s: program '%s' not found", what, *arg);
  } else {
    const char *path = getenv("PATH");
    if (!path || !*path)
      path = "/usr/local/bin:/usr/bin:/bin";
    int found = 0;
    for (const char *p = path; *p && !found;) {
      size_t n = strcspn(p, ":");
      int len = snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", *arg);
      found = len > 0 && (size_t)len < sizeof buf && is_program(buf);
      p += n + (p[n] == ':');
    }
    if (!found)
      return codec_errorf(e, e_len, "%s: program '%s' not found on PATH", what, *arg);
    char abs[PATH_MAX];
    if (realpath(buf, abs))
      snprintf(buf, sizeof buf, "%s", abs);
  }
  if (!is_program(buf))
    return codec_errorf(e, e_len, "%s: '%s' is not an executable file", what, *arg);
  char *copy = strdup(buf);
  if (!copy)
    return codec_errorf(e, e_len, "out of memory");
  free(*arg);
  *arg = copy;
  return 0;
}

/* A !path argument: must name an existing file; made absolute and hashed into *hashes. */
static int resolve_file(const char *what, char **arg, sb_buf *hashes, char *e, size_t e_len) {
  char buf[PATH_MAX], sha[65], inner[512];
  if (!realpath(*arg, buf))
    return codec_errorf(e, e_len, "%s: file '%s' not found", what, *arg);
  if (sb_sha256_file(buf, sha, inner, sizeof inner))
    return codec_errorf(e, e_len, "%s: %s", what, inner);
  char entry[PATH_MAX + 64];
  snprintf(entry, sizeof entry, "; %s sha256:%.16s", base_name(buf), sha);
  if (!strstr(sb_buf_str(hashes), entry))
    sb_buf_puts(hashes, entry);
  char *copy = strdup(buf);
  if (!copy)
    return codec_errorf(e, e_len, "out of memory");
  free(*arg);
  *arg = copy;
  return 0;
}

static int resolve_template(codec_command *c, codec_command_role role, codec_command_argv *t,
                            sb_buf *hashes, char *e, size_t e_len) {
  static const char *const what[] = {"encode", "decode", "version"};
  /* The label keeps the names as written: "python3 toy_codec.py". */
  sb_buf label = {0};
  sb_buf_puts(&label, base_name(t->args[0]));
  if (t->n > 1 && t->is_path && t->is_path[1])
    sb_buf_printf(&label, " %s", base_name(t->args[1]));
  if (!(c->program[role] = sb_buf_take(&label)))
    return codec_errorf(e, e_len, "out of memory");
  if (t->is_path && t->is_path[0] && resolve_file(what[role], &t->args[0], hashes, e, e_len))
    return -1;
  if (resolve_program(what[role], &t->args[0], e, e_len))
    return -1;
  for (size_t i = 1; i < t->n; i++)
    if (t->is_path && t->is_path[i] && resolve_file(what[role], &t->args[i], hashes, e, e_len))
      return -1;
  return 0;
}

/* The first non-empty line of text, control characters as spaces, trimmed, at most
 * COMMAND_MAX_VERSION_LEN bytes; "" when there is none. */
static void first_line(const char *text, char *out, size_t len) {
  size_t k = 0;
  for (const char *p = text; *p && k + 1 < len && k < COMMAND_MAX_VERSION_LEN; p++) {
    if (*p == '\n' || *p == '\r') {
      if (k)
        break;
      continue;
    }
    unsigned char ch = (unsigned char)*p;
    if ((ch == ' ' || ch == '\t' || ch < 0x20 || ch == 0x7f) && !k)
      continue;
    out[k++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
  }
  while (k && out[k - 1] == ' ')
    k--;
  out[k] = '\0';
}

/* Runs the version command; its first line of stdout (else of stderr) is the version. */
static int run_version(codec_command *c, char *line, size_t len, char *e, size_t e_len) {
  char dir[PATH_MAX];
  if (codec_command_tempdir(c->def.name, dir, sizeof dir, e, e_len))
    return -1;
  char **argv = codec_command_expand(CODEC_COMMAND_VERSION, &c->def.version,
                                     (const char *const[CODEC_COMMAND_N_PLACEHOLDERS]){0});
  codec_command_result *res = malloc(sizeof *res);
  int rc = 0;
  if (!argv || !res) {
    rc = codec_errorf(e, e_len, "out of memory");
  } else {
    codec_command_run(argv, dir, c->def.timeout_s, 1, res);
    if (!codec_command_succeeded(res)) {
      char d[400];
      codec_command_describe(res, c->program[CODEC_COMMAND_VERSION], c->def.timeout_s, d, sizeof d);
      rc = codec_errorf(e, e_len, "version: %s", d);
    } else {
      first_line(res->out_head, line, len);
      if (!*line)
        first_line(res->err_tail, line, len);
      if (!*line)
        rc = codec_errorf(e, e_len, "version: %s printed nothing",
                          c->program[CODEC_COMMAND_VERSION]);
    }
  }
  codec_command_free_argv(argv);
  free(res);
  codec_command_rmtree(dir);
  return rc;
}

static int fill_vtable(codec_command *c, const char *hashes, char *e, size_t e_len) {
  const codec_command_def *d = &c->def;
  char line[COMMAND_MAX_VERSION_LEN + 1] = "no version command";
  if (d->version.n && run_version(c, line, sizeof line, e, e_len))
    return -1;
  sb_buf v = {0}, desc = {0}, kd = {0};
  sb_buf_printf(&v, "%s%s", line, hashes);
  if (d->description)
    sb_buf_puts(&desc, d->description);
  else
    sb_buf_printf(&desc, "command-line codec (%s)", c->program[CODEC_COMMAND_ENCODE]);
  if (d->knob_description)
    sb_buf_puts(&kd, d->knob_description);
  else
    sb_buf_printf(&kd, "passed to %s as {knob}", c->program[CODEC_COMMAND_ENCODE]);
  c->version = sb_buf_take(&v);
  c->description = sb_buf_take(&desc);
  c->knob_description = sb_buf_take(&kd);
  if (!c->version || !c->description || !c->knob_description)
    return codec_errorf(e, e_len, "out of memory");
  snprintf(c->stream_name, sizeof c->stream_name, "stream.%s",
           d->stream_extension ? d->stream_extension : "bin");
  snprintf(c->image_name, sizeof c->image_name, "%s", codec_command_format_name(d->format));
  c->vt = (codec_vtable){.abi_version = CODEC_ABI_VERSION,
                         .name = d->name,
                         .description = c->description,
                         .knob = {.name = d->knob_name,
                                  .description = c->knob_description,
                                  .kind = d->knob_kind,
                                  .min = d->knob_min,
                                  .max = d->knob_max,
                                  .rate_increases = d->rate_increases},
                         .library_version = slot_table[c->slot].version,
                         .settings_help = "",
                         .create = slot_table[c->slot].create,
                         .destroy = command_destroy,
                         .encode = command_encode,
                         .decode = command_decode};
  return 0;
}

/* Takes a free slot for c (c->slot), or returns -1. */
static int slot_take(codec_command *c) {
  pthread_mutex_lock(&slot_lock);
  int k = 0;
  while (k < CODEC_COMMAND_MAX_CODECS && slots[k])
    k++;
  if (k < CODEC_COMMAND_MAX_CODECS) {
    slots[k] = c;
    c->slot = k;
  }
  pthread_mutex_unlock(&slot_lock);
  return k < CODEC_COMMAND_MAX_CODECS ? 0 : -1;
}

int codec_command_new(const codec_command_def *def, codec_command **out, char *err,
                      size_t err_len) {
  *out = NULL;
  if (codec_command_check_def(def, err, err_len))
    return -1;
  codec_command *c = calloc(1, sizeof *c);
  if (!c)
    return codec_errorf(err, err_len, "command codec %s: out of memory", def->name);
  c->slot = -1;
  char e[512] = "";
  sb_buf hashes = {0};
  if (codec_command_def_copy(&c->def, def)) {
    snprintf(e, sizeof e, "out of memory");
  } else if (!resolve_template(c, CODEC_COMMAND_ENCODE, &c->def.encode, &hashes, e, sizeof e) &&
             !resolve_template(c, CODEC_COMMAND_DECODE, &c->def.decode, &hashes, e, sizeof e) &&
             (!c->def.version.n ||
              !resolve_template(c, CODEC_COMMAND_VERSION, &c->def.version, &hashes, e, sizeof e))) {
    if (sb_buf_failed(&hashes))
      snprintf(e, sizeof e, "out of memory");
    else if (slot_take(c))
      snprintf(e, sizeof e, "more than %d command codecs registered at once",
               CODEC_COMMAND_MAX_CODECS);
    else if (!fill_vtable(c, sb_buf_str(&hashes), e, sizeof e))
      e[0] = '\0';
  }
  sb_buf_free(&hashes);
  if (e[0]) {
    codec_command_free(c);
    return codec_errorf(err, err_len, "command codec %s: %s", def->name, e);
  }
  *out = c;
  return 0;
}

void codec_command_free(codec_command *c) {
  if (!c)
    return;
  if (c->slot >= 0) {
    pthread_mutex_lock(&slot_lock);
    slots[c->slot] = NULL;
    pthread_mutex_unlock(&slot_lock);
  }
  codec_command_def_free(&c->def);
  free(c->version);
  free(c->description);
  free(c->knob_description);
  for (int i = 0; i < 3; i++)
    free(c->program[i]);
  free(c);
}

const codec_vtable *codec_command_vtable(const codec_command *c) { return c ? &c->vt : NULL; }

const codec_command_def *codec_command_definition(const codec_command *c) {
  return c ? &c->def : NULL;
}
