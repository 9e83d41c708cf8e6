/* Codec registry and option-value parsers; see codec_registry.h. */
#include "codec_registry.h"

#include "base.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_builtin.h"
#include "codec_command_internal.h"

#define MAX_NAME_LEN 64

typedef struct registry_entry {
  const codec_vtable *vt;
  const codec_analysis_vtable *an; /* analysis reuse (saicbench_codec.h), or NULL */
  char *path;                      /* NULL for built-ins */
  void *handle;                    /* dlopen() handle; NULL for built-ins */
  codec_command *cmd;              /* command-line codecs: owns vt; else NULL */
} registry_entry;

struct codec_registry {
  registry_entry *entries;
  size_t count, cap;
};

static int add_entry(codec_registry *r, const codec_vtable *vt, const codec_analysis_vtable *an,
                     char *path, void *handle, codec_command *cmd) {
  if (r->count == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 8;
    registry_entry *e = realloc(r->entries, cap * sizeof *e);
    if (!e)
      return -1;
    r->entries = e;
    r->cap = cap;
  }
  r->entries[r->count++] = (registry_entry){vt, an, path, handle, cmd};
  return 0;
}

/* Lowercase letters, digits, '-' and '_', 1..MAX_NAME_LEN characters. */
static int valid_identifier(const char *s) {
  if (!s || !*s || strlen(s) > MAX_NAME_LEN)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
      return 0;
  return 1;
}

/* Everything the harness later relies on without checking again. Returns a reason or NULL. */
static const char *validate_table(const codec_vtable *vt) {
  if (vt->abi_version != CODEC_ABI_VERSION)
    return "abi_version mismatch";
  if (!valid_identifier(vt->name))
    return "invalid codec name (want 1-64 of a-z 0-9 - _)";
  if (!vt->description)
    return "no description";
  if (!valid_identifier(vt->knob.name))
    return "invalid knob name (want 1-64 of a-z 0-9 - _)";
  if (!vt->knob.description)
    return "no knob description";
  if (vt->knob.kind != CODEC_KNOB_INT && vt->knob.kind != CODEC_KNOB_REAL)
    return "invalid knob kind";
  if (!isfinite(vt->knob.min) || !isfinite(vt->knob.max) || vt->knob.min > vt->knob.max)
    return "invalid knob range";
  if (vt->knob.kind == CODEC_KNOB_INT && ceil(vt->knob.min) > floor(vt->knob.max))
    return "integer knob range holds no integer";
  if (vt->knob.rate_increases != 1 && vt->knob.rate_increases != -1)
    return "knob rate_increases must be +1 or -1";
  if (!vt->settings_help)
    return "no settings_help (use \"\" when there are no settings)";
  if (!vt->library_version || !vt->create || !vt->destroy || !vt->encode || !vt->decode)
    return "missing function pointer";
  return NULL;
}

/* The optional analysis table. Returns a reason or NULL. */
static const char *validate_analysis_table(const codec_analysis_vtable *an) {
  if (an->abi_version != CODEC_ANALYSIS_ABI_VERSION)
    return "analysis table abi_version mismatch";
  if (!an->analyze || !an->encode_analyzed || !an->free_analysis)
    return "analysis table: missing function pointer";
  return NULL;
}

int codec_registry_create(codec_registry **out, char *err, size_t err_len) {
  if (!out)
    return codec_errorf(err, err_len, "codec registry: no output pointer");
  *out = NULL;
  codec_registry *r = calloc(1, sizeof *r);
  if (!r)
    return codec_errorf(err, err_len, "codec registry: out of memory");
  const struct {
    const codec_vtable *vt;
    const codec_analysis_vtable *an;
  } builtins[] = {{codec_jpeg_vtable(), NULL},     {codec_webp_vtable(), NULL},
                  {codec_jpeg2000_vtable(), NULL}, {codec_avif_vtable(), NULL},
                  {codec_jxl_vtable(), NULL},      {codec_saic_vtable(), codec_saic_analysis()}};
  for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
    /* Built-ins meet the rules plugins must meet (a cheap guard against editing mistakes). */
    const char *bad = validate_table(builtins[i].vt);
    if (!bad && builtins[i].an)
      bad = validate_analysis_table(builtins[i].an);
    if (bad) {
      codec_registry_destroy(r);
      return codec_errorf(err, err_len, "codec registry: built-in codec %zu: %s", i, bad);
    }
    if (add_entry(r, builtins[i].vt, builtins[i].an, NULL, NULL, NULL)) {
      codec_registry_destroy(r);
      return codec_errorf(err, err_len, "codec registry: out of memory");
    }
  }
  *out = r;
  return 0;
}

int codec_registry_load_plugin(codec_registry *r, const char *path, char *err, size_t err_len) {
  if (!r || !path)
    return codec_errorf(err, err_len, "codec registry: no registry or plugin path");
  dlerror(); /* clear a stale message */
  /* RTLD_NOW: fail here on unresolved symbols, not in the middle of a run. RTLD_LOCAL: one
   * plugin's symbols cannot interpose another's. */
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    return codec_errorf(err, err_len, "plugin '%s': cannot load: %s", path,
                        why ? why : "unknown dlopen error");
  }
  dlerror();
  void *sym = dlsym(h, SAICBENCH_CODEC_PLUGIN_SYMBOL);
  if (!sym) {
    dlclose(h);
    return codec_errorf(err, err_len, "plugin '%s': no symbol '%s' (not a saicbench plugin)", path,
                        SAICBENCH_CODEC_PLUGIN_SYMBOL);
  }
  codec_plugin_entry_fn entry;
  /* ISO C has no object-to-function pointer conversion; POSIX guarantees this copy works. */
  memcpy(&entry, &sym, sizeof entry);
  const codec_vtable *vt = entry(CODEC_ABI_VERSION);
  if (!vt) {
    dlclose(h);
    return codec_errorf(err, err_len,
                        "plugin '%s': refused to serve this host (host ABI version %u)", path,
                        (unsigned)CODEC_ABI_VERSION);
  }
  if (vt->abi_version != CODEC_ABI_VERSION) {
    unsigned got = (unsigned)vt->abi_version;
    dlclose(h);
    return codec_errorf(err, err_len, "plugin '%s': ABI version %u, host needs %u", path, got,
                        (unsigned)CODEC_ABI_VERSION);
  }
  const char *bad = validate_table(vt);
  if (bad) {
    dlclose(h);
    return codec_errorf(err, err_len, "plugin '%s': invalid codec table: %s", path, bad);
  }
  const codec_vtable *dup = codec_registry_find(r, vt->name);
  if (dup) {
    const char *other = codec_registry_plugin_path(r, dup);
    /* Copy the name first: vt lives in the library being closed. */
    char name[MAX_NAME_LEN + 1];
    snprintf(name, sizeof name, "%s", vt->name);
    dlclose(h);
    return codec_errorf(err, err_len, "plugin '%s': codec '%s' is already registered (%s%s)", path,
                        name, other ? "from " : "built in", other ? other : "");
  }
  /* The optional analysis table: a plugin without the symbol is used through encode() only. */
  const codec_analysis_vtable *an = NULL;
  dlerror();
  void *asym = dlsym(h, SAICBENCH_CODEC_ANALYSIS_SYMBOL);
  if (asym) {
    codec_analysis_entry_fn aentry;
    memcpy(&aentry, &asym, sizeof aentry);
    an = aentry(CODEC_ANALYSIS_ABI_VERSION);
    const char *abad = an ? validate_analysis_table(an) : NULL;
    if (abad) {
      dlclose(h);
      return codec_errorf(err, err_len, "plugin '%s': invalid %s: %s", path,
                          SAICBENCH_CODEC_ANALYSIS_SYMBOL, abad);
    }
  }
  char *copy = strdup(path);
  if (!copy || add_entry(r, vt, an, copy, h, NULL)) {
    free(copy);
    dlclose(h);
    return codec_errorf(err, err_len, "plugin '%s': out of memory", path);
  }
  return 0;
}

int codec_registry_add_command(codec_registry *r, const codec_command_def *def, char *err,
                               size_t err_len) {
  if (!r || !def)
    return codec_errorf(err, err_len, "codec registry: no registry or command codec definition");
  if (codec_command_check_def(def, err, err_len))
    return -1;
  /* Refused before its programs are looked at or run. */
  for (size_t i = 0; i < r->count; i++)
    if (!strcmp(r->entries[i].vt->name, def->name)) {
      const registry_entry *o = &r->entries[i];
      return codec_errorf(err, err_len,
                          "command codec %s: a codec of that name is already registered (%s%s)",
                          def->name,
                          o->cmd    ? "another command codec"
                          : o->path ? "plugin "
                                    : "built in",
                          o->path ? o->path : "");
    }
  codec_command *c;
  if (codec_command_new(def, &c, err, err_len))
    return -1;
  const char *bad = validate_table(codec_command_vtable(c));
  if (bad) { /* cannot happen after codec_command_check_def; kept as the plugins' guard */
    codec_command_free(c);
    return codec_errorf(err, err_len, "command codec %s: invalid codec table: %s", def->name, bad);
  }
  if (add_entry(r, codec_command_vtable(c), NULL, NULL, NULL, c)) {
    codec_command_free(c);
    return codec_errorf(err, err_len, "command codec %s: out of memory", def->name);
  }
  return 0;
}

const codec_command_def *codec_registry_command_def(const codec_registry *r,
                                                    const codec_vtable *vt) {
  for (size_t i = 0; r && i < r->count; i++)
    if (r->entries[i].vt == vt)
      return codec_command_definition(r->entries[i].cmd);
  return NULL;
}

size_t codec_registry_count(const codec_registry *r) { return r ? r->count : 0; }

const codec_vtable *codec_registry_at(const codec_registry *r, size_t i) {
  return r && i < r->count ? r->entries[i].vt : NULL;
}

const codec_vtable *codec_registry_find(const codec_registry *r, const char *name) {
  if (!r || !name)
    return NULL;
  for (size_t i = 0; i < r->count; i++)
    if (strcmp(r->entries[i].vt->name, name) == 0)
      return r->entries[i].vt;
  return NULL;
}

const codec_analysis_vtable *codec_registry_analysis(const codec_registry *r,
                                                     const codec_vtable *vt) {
  if (!r)
    return NULL;
  for (size_t i = 0; i < r->count; i++)
    if (r->entries[i].vt == vt)
      return r->entries[i].an;
  return NULL;
}

const char *codec_registry_plugin_path(const codec_registry *r, const codec_vtable *vt) {
  if (!r)
    return NULL;
  for (size_t i = 0; i < r->count; i++)
    if (r->entries[i].vt == vt)
      return r->entries[i].path;
  return NULL;
}

void codec_registry_destroy(codec_registry *r) {
  if (!r)
    return;
  for (size_t i = r->count; i-- > 0;) {
    if (r->entries[i].handle)
      dlclose(r->entries[i].handle);
    free(r->entries[i].path);
    codec_command_free(r->entries[i].cmd);
  }
  free(r->entries);
  free(r);
}

/* ---- result contract ---- */

int codec_check_encoded(const codec_vtable *vt, const codec_encoded *e, char *err, size_t err_len) {
  const char *name = vt && vt->name ? vt->name : "?";
  if (!e->data || !e->size)
    return codec_errorf(err, err_len, "codec %s broke its contract: encode returned %s", name,
                        e->data ? "an empty file (size 0)" : "no data");
  if (!e->stream_bytes)
    return codec_errorf(err, err_len,
                        "codec %s broke its contract: stream_bytes 0 (must be > 0, file size %zu)",
                        name, e->size);
  if (e->stream_bytes > e->size)
    return codec_errorf(err, err_len,
                        "codec %s broke its contract: stream_bytes %zu > file size %zu", name,
                        e->stream_bytes, e->size);
  return 0;
}

int codec_check_decoded(const codec_vtable *vt, const uint8_t *rgb, int width, int height,
                        int want_width, int want_height, char *err, size_t err_len) {
  const char *name = vt && vt->name ? vt->name : "?";
  if (!rgb)
    return codec_errorf(err, err_len, "codec %s broke its contract: decode returned no image",
                        name);
  if (width != want_width || height != want_height)
    return codec_errorf(err, err_len,
                        "codec %s broke its contract: decoded size %dx%d differs from the "
                        "original %dx%d",
                        name, width, height, want_width, want_height);
  return 0;
}

/* ---- option values ---- */

int codec_option_parse_bool(const char *key, const char *value, int *out, char *err,
                            size_t err_len) {
  if (!value)
    return codec_errorf(err, err_len, "setting '%s': no value", key ? key : "?");
  if (sb_parse_bool(value, out))
    return codec_errorf(err, err_len, "setting '%s': '%s' is not a boolean (true or false)",
                        key ? key : "?", value);
  return 0;
}

int codec_option_parse_int(const char *key, const char *value, int min, int max, int *out,
                           char *err, size_t err_len) {
  if (!key)
    key = "?";
  if (!value)
    return codec_errorf(err, err_len, "setting '%s': no value", key);
  /* strtol would skip leading spaces and accept "4x" up to the 'x'; both are typos here. */
  if (!*value || isspace((unsigned char)value[0]))
    return codec_errorf(err, err_len, "setting '%s': '%s' is not an integer", key, value);
  char *end;
  errno = 0;
  long v = strtol(value, &end, 10);
  if (*end != '\0')
    return codec_errorf(err, err_len, "setting '%s': '%s' is not an integer", key, value);
  if (errno == ERANGE || v < min || v > max)
    return codec_errorf(err, err_len, "setting '%s': %s is outside [%d, %d]", key, value, min, max);
  *out = (int)v;
  return 0;
}

int codec_option_parse_choice(const char *key, const char *value, const char *const *choices,
                              int *out, char *err, size_t err_len) {
  if (!key)
    key = "?";
  if (!value)
    return codec_errorf(err, err_len, "setting '%s': no value", key);
  char list[256] = "";
  size_t used = 0;
  for (int i = 0; choices[i]; i++) {
    if (!strcmp(value, choices[i])) {
      *out = i;
      return 0;
    }
    if (used < sizeof list)
      used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", choices[i]);
  }
  return codec_errorf(err, err_len, "setting '%s': '%s' is not one of %s", key, value, list);
}
