/* The suite key `command_codecs:`: codecs whose encoder and decoder are programs
 * (codec_registry.h; the syntax is in docs/usage.md). Parsed here into plain definitions; the
 * codec rules (placeholders, required ones, knob range) are codec_command.c's, so the suite
 * and the registry cannot disagree, and this file only adds positions to the messages. */
#include "suite_command.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "codec_registry.h"

#define CMD_KEYS                                                                                   \
  "name, description, encode, decode, version, knob, image_format, stream_extension, timeout"

static int cmd_string(sb_yaml_ctx *c, const yaml_node_t *n, const char *what, char **out) {
  const char *s = sb_yaml_scalar(n);
  if (!s)
    return sb_yaml_fail(c, n, "command_codecs.%s: expected a string", what);
  free(*out);
  if (!(*out = strdup(s)))
    return sb_yaml_fail(c, n, "out of memory");
  return 0;
}

static int cmd_number(sb_yaml_ctx *c, const yaml_node_t *n, const char *what, double *out) {
  const char *s = sb_yaml_scalar(n);
  char *end = "";
  errno = 0;
  double v = s && sb_yaml_is_decimal(s) ? strtod(s, &end) : NAN;
  if (!isfinite(v) || errno || *end)
    return sb_yaml_fail(c, n, "command_codecs.knob.%s: expected a number, got '%s'", what,
                        s ? s : "(not a scalar)");
  *out = v;
  return 0;
}

static int cmd_bool(sb_yaml_ctx *c, const yaml_node_t *n, const char *what, int *out) {
  const char *s = sb_yaml_scalar(n);
  if (sb_parse_bool(s, out))
    return sb_yaml_fail(c, n, "command_codecs.knob.%s: expected true or false, got '%s'", what,
                        s ? s : "(not a scalar)");
  return 0;
}

/* encode:, decode:, version: a list of strings; `!path FILE` marks a file of the suite's. */
static int cmd_argv(sb_yaml_ctx *c, const yaml_node_t *n, codec_command_role role, const char *what,
                    codec_command_argv *t) {
  if (t->n)
    return sb_yaml_fail(c, n, "command_codecs.%s given twice", what);
  if (n->type != YAML_SEQUENCE_NODE)
    return sb_yaml_fail(c, n,
                        "command_codecs.%s: expected a list: the program and its arguments, e.g. "
                        "[cjxl, \"{input}\", \"{output}\"]",
                        what);
  size_t k = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  if (!k)
    return sb_yaml_fail(c, n, "command_codecs.%s: empty list (the program is missing)", what);
  if (k > CODEC_COMMAND_MAX_ARGS)
    return sb_yaml_fail(c, n, "command_codecs.%s: more than %d arguments", what,
                        CODEC_COMMAND_MAX_ARGS);
  if (!(t->args = calloc(k, sizeof *t->args)) || !(t->is_path = calloc(k, 1)))
    return sb_yaml_fail(c, n, "out of memory");
  for (size_t i = 0; i < k; i++, t->n++) {
    const yaml_node_t *a = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
    const char *s = sb_yaml_scalar(a);
    if (!s)
      return sb_yaml_fail(c, a,
                          "command_codecs.%s: argument %zu is not a string (quote placeholders: "
                          "\"{input}\", else YAML reads {input} as a mapping)",
                          what, i + 1);
    const char *tag = (const char *)a->tag;
    const int is_path = tag && !strcmp(tag, "!path");
    if (tag && !is_path && strncmp(tag, "tag:yaml.org,2002:", 18))
      return sb_yaml_fail(c, a, "command_codecs.%s: unknown tag '%s' (known: !path)", what, tag);
    if (is_path && !*s)
      return sb_yaml_fail(c, a, "command_codecs.%s: empty !path", what);
    char e[256];
    if (codec_command_check_arg(role, s, e, sizeof e))
      return sb_yaml_fail(c, a, "command_codecs.%s: argument %zu '%.64s': %s", what, i + 1, s, e);
    if (i == 0 && (!*s || strchr(s, '{')))
      return sb_yaml_fail(c, a, "command_codecs.%s: the program must be a plain name or path",
                          what);
    if (!(t->args[i] = strdup(s)))
      return sb_yaml_fail(c, a, "out of memory");
    t->is_path[i] = (unsigned char)is_path;
  }
  return 0;
}

static int cmd_knob(sb_yaml_ctx *c, const yaml_node_t *n, codec_command_def *d) {
  if (n->type != YAML_MAPPING_NODE)
    return sb_yaml_fail(c, n,
                        "command_codecs.knob: expected a mapping {name:, min:, max:, integer:, "
                        "rate_increases:}");
  int have_min = 0, have_max = 0, have_rate = 0, integer = 0, increases = 1;
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
    const char *key = sb_yaml_scalar(k);
    int rc;
    if (!key)
      return sb_yaml_fail(c, k, "command_codecs.knob: keys must be strings");
    if (!strcmp(key, "name"))
      rc = cmd_string(c, v, "knob.name", &d->knob_name);
    else if (!strcmp(key, "description"))
      rc = cmd_string(c, v, "knob.description", &d->knob_description);
    else if (!strcmp(key, "min"))
      rc = cmd_number(c, v, "min", &d->knob_min);
    else if (!strcmp(key, "max"))
      rc = cmd_number(c, v, "max", &d->knob_max);
    else if (!strcmp(key, "integer"))
      rc = cmd_bool(c, v, "integer", &integer);
    else if (!strcmp(key, "rate_increases"))
      rc = cmd_bool(c, v, "rate_increases", &increases);
    else
      return sb_yaml_fail(c, k,
                          "command_codecs.knob: unknown key '%s' (known: name, description, min, "
                          "max, integer, rate_increases)",
                          key);
    if (rc)
      return rc;
    have_min |= !strcmp(key, "min");
    have_max |= !strcmp(key, "max");
    have_rate |= !strcmp(key, "rate_increases");
  }
  if (!d->knob_name || !have_min || !have_max || !have_rate)
    return sb_yaml_fail(c, n,
                        "command_codecs.knob: '%s' is missing (name, min, max and "
                        "rate_increases are required)",
                        !d->knob_name ? "name"
                        : !have_min   ? "min"
                        : !have_max   ? "max"
                                      : "rate_increases");
  d->knob_kind = integer ? CODEC_KNOB_INT : CODEC_KNOB_REAL;
  d->rate_increases = increases ? 1 : -1;
  /* The codec's own rules (codec_command_check_def) say the same; here with the position. */
  if (!(d->knob_min < d->knob_max))
    return sb_yaml_fail(c, n, "command_codecs.knob: range %g..%g is empty (want min < max)",
                        d->knob_min, d->knob_max);
  if (integer && ceil(d->knob_min) > floor(d->knob_max))
    return sb_yaml_fail(c, n, "command_codecs.knob: integer range %g..%g holds no integer",
                        d->knob_min, d->knob_max);
  return 0;
}

static int cmd_timeout(sb_yaml_ctx *c, const yaml_node_t *n, int *out) {
  const char *s = sb_yaml_scalar(n);
  long v = -1;
  if (s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) <= 6)
    v = strtol(s, NULL, 10);
  if (v < 1 || v > CODEC_COMMAND_MAX_TIMEOUT_S)
    return sb_yaml_fail(c, n, "command_codecs.timeout: expected whole seconds 1..%d, got '%s'",
                        CODEC_COMMAND_MAX_TIMEOUT_S, s ? s : "(not a scalar)");
  *out = (int)v;
  return 0;
}

static int cmd_key(sb_yaml_ctx *c, const char *key, const yaml_node_t *k, const yaml_node_t *v,
                   codec_command_def *d, int *have_knob) {
  if (!strcmp(key, "name"))
    return cmd_string(c, v, "name", &d->name);
  if (!strcmp(key, "description"))
    return cmd_string(c, v, "description", &d->description);
  if (!strcmp(key, "encode"))
    return cmd_argv(c, v, CODEC_COMMAND_ENCODE, "encode", &d->encode);
  if (!strcmp(key, "decode"))
    return cmd_argv(c, v, CODEC_COMMAND_DECODE, "decode", &d->decode);
  if (!strcmp(key, "version"))
    return cmd_argv(c, v, CODEC_COMMAND_VERSION, "version", &d->version);
  if (!strcmp(key, "knob"))
    return *have_knob = 1, cmd_knob(c, v, d);
  if (!strcmp(key, "image_format")) {
    const char *s = sb_yaml_scalar(v);
    if (codec_command_format_parse(s, &d->format))
      return sb_yaml_fail(c, v, "command_codecs.image_format: '%s' is not ppm or png",
                          s ? s : "(not a scalar)");
    return 0;
  }
  if (!strcmp(key, "stream_extension"))
    return cmd_string(c, v, "stream_extension", &d->stream_extension);
  if (!strcmp(key, "timeout"))
    return cmd_timeout(c, v, &d->timeout_s);
  return sb_yaml_fail(c, k, "command_codecs: unknown key '%s' (known: " CMD_KEYS ")", key);
}

static int cmd_entry(sb_yaml_ctx *c, const yaml_node_t *n, suite_command_codec *cc) {
  codec_command_def *d = &cc->def;
  cc->line = (int)n->start_mark.line + 1;
  cc->column = (int)n->start_mark.column + 1;
  d->timeout_s = CODEC_COMMAND_DEFAULT_TIMEOUT_S;
  d->format = CODEC_COMMAND_PPM;
  if (n->type != YAML_MAPPING_NODE)
    return sb_yaml_fail(c, n,
                        "command_codecs: each entry must be a mapping (name:, encode:, "
                        "decode:, knob:, ...)");
  int have_knob = 0;
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    const yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
    const yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
    const char *key = sb_yaml_scalar(k);
    if (!key)
      return sb_yaml_fail(c, k, "command_codecs: keys must be strings");
    if (cmd_key(c, key, k, v, d, &have_knob))
      return -1;
  }
  const char *missing = !d->name       ? "name"
                        : !d->encode.n ? "encode"
                        : !d->decode.n ? "decode"
                        : !have_knob   ? "knob"
                                       : NULL;
  if (missing)
    return sb_yaml_fail(c, n,
                        "command_codecs: entry without '%s' (required: name, encode, decode, "
                        "knob)",
                        missing);
  char e[512];
  if (codec_command_check_def(d, e, sizeof e))
    return sb_yaml_fail(c, n, "%s", e);
  return 0;
}

int suite_command_parse(sb_yaml_ctx *c, const yaml_node_t *v, suite *s) {
  if (s->command_codecs)
    return sb_yaml_fail(c, v, "'command_codecs' given twice");
  if (v->type != YAML_SEQUENCE_NODE)
    return sb_yaml_fail(c, v, "command_codecs: expected a list");
  size_t cnt = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
  if (!cnt)
    return sb_yaml_fail(c, v, "command_codecs: empty list");
  if (cnt > CODEC_COMMAND_MAX_CODECS)
    return sb_yaml_fail(c, v, "command_codecs: more than %d", CODEC_COMMAND_MAX_CODECS);
  if (!(s->command_codecs = calloc(cnt, sizeof *s->command_codecs)))
    return sb_yaml_fail(c, v, "out of memory");
  for (size_t i = 0; i < cnt; i++) {
    const yaml_node_t *n = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
    s->n_command_codecs++; /* owned from here on, so suite_free cleans up on error */
    if (cmd_entry(c, n, &s->command_codecs[i]))
      return -1;
    for (size_t j = 0; j < i; j++)
      if (!strcmp(s->command_codecs[j].def.name, s->command_codecs[i].def.name))
        return sb_yaml_fail(c, n, "command_codecs: name '%s' used twice",
                            s->command_codecs[i].def.name);
  }
  return 0;
}

static int resolve_argv(codec_command_argv *t, const char *suite_path, const char *slash) {
  for (size_t i = 0; i < t->n; i++) {
    if (!t->is_path[i] || t->args[i][0] == '/')
      continue;
    sb_buf b = {0};
    sb_buf_printf(&b, "%.*s/%s", (int)(slash - suite_path), suite_path, t->args[i]);
    char *resolved = sb_buf_take(&b);
    if (!resolved)
      return -1;
    free(t->args[i]);
    t->args[i] = resolved;
  }
  return 0;
}

int suite_command_resolve(suite *s, const char *suite_path) {
  const char *slash = strrchr(suite_path, '/');
  for (size_t i = 0; slash && i < s->n_command_codecs; i++) {
    codec_command_def *d = &s->command_codecs[i].def;
    if (resolve_argv(&d->encode, suite_path, slash) ||
        resolve_argv(&d->decode, suite_path, slash) || resolve_argv(&d->version, suite_path, slash))
      return -1;
  }
  return 0;
}

void suite_command_free(suite *s) {
  for (size_t i = 0; i < s->n_command_codecs; i++)
    codec_command_def_free(&s->command_codecs[i].def);
  free(s->command_codecs);
  s->command_codecs = NULL;
  s->n_command_codecs = 0;
}

int suite_register_command_codecs(const suite *s, struct codec_registry *reg, char *err,
                                  size_t err_len) {
  for (size_t i = 0; i < s->n_command_codecs; i++) {
    const suite_command_codec *cc = &s->command_codecs[i];
    char e[1024];
    if (codec_registry_add_command(reg, &cc->def, e, sizeof e)) {
      if (s->path)
        snprintf(err, err_len, "%s:%d:%d: %s", s->path, cc->line, cc->column, e);
      else
        snprintf(err, err_len, "%s", e);
      return -1;
    }
  }
  return 0;
}
