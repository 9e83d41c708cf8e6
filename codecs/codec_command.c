/* Command-line codec definitions: their rules, placeholders, copying and freeing (see
 * codec_registry.h). Running the programs: codec_command_exec.c; the codec itself:
 * codec_command_codec.c. */
#include "codec_registry.h"

#include "base.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_builtin.h"
#include "codec_command_internal.h"

static const char *const ph_names[CODEC_COMMAND_N_PLACEHOLDERS] = {"input", "output", "knob",
                                                                   "width", "height"};
/* Which placeholders each role may use (bit i: ph_names[i]). */
static const unsigned ph_allowed[] = {
    [CODEC_COMMAND_ENCODE] = 0x1f, [CODEC_COMMAND_DECODE] = 0x03, [CODEC_COMMAND_VERSION] = 0};
static const char *const role_names[] = {"encode", "decode", "version"};

/* "{input}, {output}" for a set of placeholders, or "none". */
static void list_placeholders(unsigned set, char *out, size_t len) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < CODEC_COMMAND_N_PLACEHOLDERS && used < len; i++)
    if (set & 1u << i)
      used += (size_t)snprintf(out + used, len - used, "%s{%s}", used ? ", " : "", ph_names[i]);
  if (!used)
    snprintf(out, len, "none");
}

/* Walks arg: with out == NULL it only checks (and sets *used), else it appends the expansion,
 * values[i] replacing placeholder i. */
static int scan_arg(codec_command_role role, const char *arg, const char *const *values,
                    unsigned *used, sb_buf *out, char *err, size_t err_len) {
  const unsigned allowed = ph_allowed[role];
  for (const char *p = arg; *p;) {
    if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
      if (out)
        sb_buf_append(out, p, 1);
      p += 2;
      continue;
    }
    if (*p != '{') {
      size_t n = strcspn(p, "{}");
      if (!n) /* a lone '}' is literal */
        n = 1;
      if (out)
        sb_buf_append(out, p, n);
      p += n;
      continue;
    }
    const char *close = strchr(p + 1, '}');
    if (!close)
      return codec_errorf(err, err_len, "unclosed '{' (write {{ for a literal brace)");
    const size_t n = (size_t)(close - p - 1);
    int k = 0;
    while (k < CODEC_COMMAND_N_PLACEHOLDERS &&
           !(strlen(ph_names[k]) == n && !strncmp(ph_names[k], p + 1, n)))
      k++;
    char known[96];
    if (k == CODEC_COMMAND_N_PLACEHOLDERS) {
      list_placeholders(ph_allowed[CODEC_COMMAND_ENCODE], known, sizeof known);
      return codec_errorf(err, err_len,
                          "unknown placeholder {%.*s} (known: %s; write {{ for a literal brace)",
                          (int)(n > 32 ? 32 : n), p + 1, known);
    }
    if (!(allowed & 1u << k)) {
      list_placeholders(allowed, known, sizeof known);
      return codec_errorf(err, err_len, "placeholder {%s} is not available in %s (there: %s)",
                          ph_names[k], role_names[role], known);
    }
    if (used)
      *used |= 1u << k;
    if (out)
      sb_buf_puts(out, values[k]);
    p = close + 1;
  }
  return 0;
}

int codec_command_check_arg(codec_command_role role, const char *arg, char *err, size_t err_len) {
  if ((unsigned)role > CODEC_COMMAND_VERSION)
    return codec_errorf(err, err_len, "invalid template role");
  if (!arg)
    return codec_errorf(err, err_len, "missing argument");
  if (strlen(arg) > CODEC_COMMAND_MAX_ARG_LEN)
    return codec_errorf(err, err_len, "argument longer than %d bytes", CODEC_COMMAND_MAX_ARG_LEN);
  return scan_arg(role, arg, NULL, NULL, NULL, err, err_len);
}

char **codec_command_expand(codec_command_role role, const codec_command_argv *t,
                            const char *const values[CODEC_COMMAND_N_PLACEHOLDERS]) {
  char **argv = calloc(t->n + 1, sizeof *argv);
  if (!argv)
    return NULL;
  for (size_t i = 0; i < t->n; i++) {
    sb_buf b = {0};
    char e[8];
    /* Checked on registration: scan_arg cannot fail here. */
    scan_arg(role, t->args[i], values, NULL, &b, e, sizeof e);
    if (!(argv[i] = sb_buf_take(&b))) {
      codec_command_free_argv(argv);
      return NULL;
    }
  }
  return argv;
}

void codec_command_free_argv(char **argv) {
  for (size_t i = 0; argv && argv[i]; i++)
    free(argv[i]);
  free(argv);
}

/* 1-64 of a-z 0-9 - _ (the registry's rule for codec and knob names). */
static int valid_name(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (!n || n > 64)
    return 0;
  return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static int check_template(const codec_command_def *d, codec_command_role role,
                          const codec_command_argv *t, char *err, size_t err_len) {
  const char *what = role_names[role];
  if (!t->n)
    return codec_errorf(err, err_len, "command codec %s: no %s command", d->name, what);
  if (t->n > CODEC_COMMAND_MAX_ARGS || !t->args)
    return codec_errorf(err, err_len, "command codec %s: %s: more than %d arguments", d->name, what,
                        CODEC_COMMAND_MAX_ARGS);
  if (!t->args[0] || !t->args[0][0])
    return codec_errorf(err, err_len, "command codec %s: %s: empty program name", d->name, what);
  if (strchr(t->args[0], '{'))
    return codec_errorf(err, err_len,
                        "command codec %s: %s: the program '%s' cannot hold placeholders", d->name,
                        what, t->args[0]);
  unsigned used = 0;
  for (size_t i = 0; i < t->n; i++) {
    char e[256];
    if (!t->args[i] || strlen(t->args[i]) > CODEC_COMMAND_MAX_ARG_LEN ||
        scan_arg(role, t->args[i], NULL, &used, NULL, e, sizeof e))
      return codec_errorf(err, err_len, "command codec %s: %s argument %zu '%.64s': %s", d->name,
                          what, i + 1, t->args[i] ? t->args[i] : "",
                          t->args[i] ? e : "missing argument");
    if (t->is_path && t->is_path[i] && !t->args[i][0])
      return codec_errorf(err, err_len, "command codec %s: %s argument %zu: empty !path", d->name,
                          what, i + 1);
  }
  const unsigned need = role == CODEC_COMMAND_ENCODE   ? 0x07u
                        : role == CODEC_COMMAND_DECODE ? 0x03u
                                                       : 0u;
  for (int k = 0; k < CODEC_COMMAND_N_PLACEHOLDERS; k++)
    if (need & ~used & 1u << k)
      return codec_errorf(err, err_len,
                          "command codec %s: %s has no {%s} placeholder (the program must be "
                          "told %s)",
                          d->name, what, ph_names[k],
                          k == CODEC_COMMAND_PH_KNOB    ? "the knob value, the codec's rate control"
                          : k == CODEC_COMMAND_PH_INPUT ? "which file to read"
                                                        : "which file to write");
  return 0;
}

static int check_knob(const codec_command_def *d, char *err, size_t err_len) {
  if (!valid_name(d->knob_name))
    return codec_errorf(err, err_len,
                        "command codec %s: invalid knob name '%s' (want 1-64 of a-z 0-9 - _)",
                        d->name, d->knob_name ? d->knob_name : "");
  if (d->knob_kind != CODEC_KNOB_INT && d->knob_kind != CODEC_KNOB_REAL)
    return codec_errorf(err, err_len, "command codec %s: invalid knob kind", d->name);
  if (!isfinite(d->knob_min) || !isfinite(d->knob_max) || !(d->knob_min < d->knob_max))
    return codec_errorf(err, err_len,
                        "command codec %s: knob range %g..%g is empty (want finite min < max)",
                        d->name, d->knob_min, d->knob_max);
  if (d->knob_kind == CODEC_KNOB_INT && ceil(d->knob_min) > floor(d->knob_max))
    return codec_errorf(err, err_len,
                        "command codec %s: integer knob range %g..%g holds no integer", d->name,
                        d->knob_min, d->knob_max);
  if (d->knob_kind == CODEC_KNOB_INT && (d->knob_min < -2e9 || d->knob_max > 2e9))
    return codec_errorf(
        err, err_len, "command codec %s: integer knob range %g..%g beyond +-2e9 (use a real knob)",
        d->name, d->knob_min, d->knob_max);
  if (d->rate_increases != 1 && d->rate_increases != -1)
    return codec_errorf(err, err_len, "command codec %s: knob rate_increases must be +1 or -1",
                        d->name);
  return 0;
}

int codec_command_check_def(const codec_command_def *d, char *err, size_t err_len) {
  if (!d)
    return codec_errorf(err, err_len, "command codec: no definition");
  if (!valid_name(d->name))
    return codec_errorf(err, err_len,
                        "command codec '%.64s': invalid name (want 1-64 of a-z 0-9 - _)",
                        d->name ? d->name : "");
  if (check_template(d, CODEC_COMMAND_ENCODE, &d->encode, err, err_len) ||
      check_template(d, CODEC_COMMAND_DECODE, &d->decode, err, err_len) ||
      (d->version.n && check_template(d, CODEC_COMMAND_VERSION, &d->version, err, err_len)) ||
      check_knob(d, err, err_len))
    return -1;
  if (d->format != CODEC_COMMAND_PPM && d->format != CODEC_COMMAND_PNG)
    return codec_errorf(err, err_len, "command codec %s: invalid image format", d->name);
  if (d->timeout_s < 1 || d->timeout_s > CODEC_COMMAND_MAX_TIMEOUT_S)
    return codec_errorf(err, err_len, "command codec %s: timeout %d s outside 1..%d", d->name,
                        d->timeout_s, CODEC_COMMAND_MAX_TIMEOUT_S);
  const char *ext = d->stream_extension;
  if (ext && (!*ext || strlen(ext) > 16 ||
              strspn(ext, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(ext)))
    return codec_errorf(err, err_len,
                        "command codec %s: stream_extension '%.32s': want 1-16 of a-z 0-9", d->name,
                        ext);
  return 0;
}

const char *codec_command_format_name(codec_command_format f) {
  return f == CODEC_COMMAND_PNG ? "png" : f == CODEC_COMMAND_PPM ? "ppm" : "?";
}

int codec_command_format_parse(const char *s, codec_command_format *out) {
  if (s && !strcmp(s, "ppm"))
    *out = CODEC_COMMAND_PPM;
  else if (s && !strcmp(s, "png"))
    *out = CODEC_COMMAND_PNG;
  else
    return -1;
  return 0;
}

static int copy_argv(codec_command_argv *dst, const codec_command_argv *src) {
  *dst = (codec_command_argv){0};
  if (!src->n)
    return 0;
  dst->args = calloc(src->n, sizeof *dst->args);
  dst->is_path = calloc(src->n, 1);
  if (!dst->args || !dst->is_path)
    return -1;
  dst->n = src->n;
  for (size_t i = 0; i < src->n; i++) {
    if (src->args[i] && !(dst->args[i] = strdup(src->args[i])))
      return -1;
    dst->is_path[i] = src->is_path ? src->is_path[i] : 0;
  }
  return 0;
}

static void free_argv(codec_command_argv *t) {
  for (size_t i = 0; t->args && i < t->n; i++)
    free(t->args[i]);
  free(t->args);
  free(t->is_path);
  *t = (codec_command_argv){0};
}

int codec_command_def_copy(codec_command_def *dst, const codec_command_def *src) {
  *dst = *src;
  dst->name = sb_strdup(src->name);
  dst->description = sb_strdup(src->description);
  dst->knob_name = sb_strdup(src->knob_name);
  dst->knob_description = sb_strdup(src->knob_description);
  dst->stream_extension = sb_strdup(src->stream_extension);
  int bad = (src->name && !dst->name) || (src->description && !dst->description) ||
            (src->knob_name && !dst->knob_name) ||
            (src->knob_description && !dst->knob_description) ||
            (src->stream_extension && !dst->stream_extension);
  /* Cleared first so that a failed copy frees only what it made. */
  dst->encode = dst->decode = dst->version = (codec_command_argv){0};
  if (bad || copy_argv(&dst->encode, &src->encode) || copy_argv(&dst->decode, &src->decode) ||
      copy_argv(&dst->version, &src->version)) {
    codec_command_def_free(dst);
    return -1;
  }
  return 0;
}

void codec_command_def_free(codec_command_def *d) {
  if (!d)
    return;
  free(d->name);
  free(d->description);
  free(d->knob_name);
  free(d->knob_description);
  free(d->stream_extension);
  free_argv(&d->encode);
  free_argv(&d->decode);
  free_argv(&d->version);
  *d = (codec_command_def){0};
}
