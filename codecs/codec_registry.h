/* Codec registry: the built-in codecs plus codecs loaded from plugin shared libraries.
 *
 * Thread-safety: creating the registry and loading plugins must happen on one thread (dlopen
 * and dlerror are used); once loading is done, count/at/find/plugin_path are read-only and may be
 * called from any thread. Destroy the registry only after every codec instance created from it is
 * destroyed: destroying it unloads the plugins' code.
 *
 * Also here: the option-value parsers the built-in codecs share, so that every built-in accepts
 * the same spellings and words its errors the same way. Plugins cannot use them (a plugin sees
 * only saicbench_codec.h). */
#ifndef SAICBENCH_CODEC_REGISTRY_H
#define SAICBENCH_CODEC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "saicbench_codec.h"

/* Largest image (in pixels) the built-ins encode or decode: 2^25, e.g. 8192 x 4096; 8K UHD
 * (7680 x 4320) fits. Decoders check a stream's declared size against it before decoding, so a
 * hostile header cannot make them allocate more than about 1 GiB (OpenJPEG keeps 3 x 32-bit
 * planes). */
#define CODEC_MAX_PIXELS ((size_t)1 << 25)

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Command-line codecs (prefix codec_command_) ----
 *
 * Command-line codecs: a codec whose encoder and decoder are programs, defined by argv templates
 * (suite key `command_codecs:`, docs/usage.md), so that reference encoders that exist only as
 * programs (BPG, VTM, HM, cjxl, ...) can be benchmarked like the built-ins.
 *
 * A definition (codec_command_def) is plain data. codec_registry_add_command (below)
 * checks it, resolves its program, runs its version command once and registers a codec_vtable
 * made for it; from then on the codec is used like any other. Every encode() and decode()
 * writes its input into a fresh private temporary folder, runs the program there with the
 * template's placeholders replaced (posix_spawn of the program itself: no shell, so no argument
 * is ever interpreted), waits at most timeout_s seconds (then kills the program's whole process
 * group), reads the program's output file and removes the folder.
 *
 * Placeholders, replaced inside an argument (several per argument are fine):
 *   encode:  {input} the image file (image_format), {output} the stream file to write,
 *            {knob} the knob value, {width} and {height} of the image
 *   decode:  {input} the stream file, {output} the image file to write (image_format)
 *   version: none
 * `{{` stands for a literal `{`; any other `{` starts a placeholder, and an unknown one is an
 * error. encode needs {input}, {output} and {knob}; decode {input} and {output}.
 *
 * Thread-safety: the functions here are reentrant. */

/* The image file format the encoder reads and the decoder writes. */
typedef enum codec_command_format {
  CODEC_COMMAND_PPM = 0, /* binary PPM (P6, maxval 255); the decoder may also write P5 or 16-bit */
  CODEC_COMMAND_PNG = 1  /* 8-bit RGB PNG; the decoder's PNG may be grey or 16-bit, not alpha */
} codec_command_format;

/* Which program of a definition a template belongs to (the placeholders it may use). */
typedef enum codec_command_role {
  CODEC_COMMAND_ENCODE = 0,
  CODEC_COMMAND_DECODE = 1,
  CODEC_COMMAND_VERSION = 2
} codec_command_role;

/* One argv template: args[0] is the program (a name looked up on PATH, or a path), the rest its
 * arguments. is_path[i] (the array may be NULL) marks args[i] as a file of the definition's own
 * (suite tag !path): it must exist, and its SHA-256 becomes part of the codec's version string,
 * so that editing a script changes the run's identity. */
typedef struct codec_command_argv {
  char **args;
  unsigned char *is_path;
  size_t n;
} codec_command_argv;

typedef struct codec_command_def {
  char *name;        /* codec name: 1-64 of a-z 0-9 - _, not a registered codec's */
  char *description; /* NULL: "command-line codec (PROGRAM)" */
  codec_command_argv encode, decode;
  codec_command_argv version; /* n == 0: none; else its first line of output is the version */
  char *knob_name;            /* 1-64 of a-z 0-9 - _ */
  char *knob_description;     /* NULL: a default naming the placeholder */
  codec_knob_kind knob_kind;
  double knob_min, knob_max; /* finite, min < max; an integer knob's range holds an integer */
  int rate_increases;        /* +1 or -1 (codec_knob.rate_increases) */
  codec_command_format format;
  char *stream_extension; /* suffix of the stream file, 1-16 of a-z 0-9; NULL: "bin" */
  int timeout_s;          /* per program call, 1..CODEC_COMMAND_MAX_TIMEOUT_S */
} codec_command_def;

#define CODEC_COMMAND_DEFAULT_TIMEOUT_S 600
#define CODEC_COMMAND_MAX_TIMEOUT_S 86400
#define CODEC_COMMAND_MAX_ARGS 256
#define CODEC_COMMAND_MAX_ARG_LEN 4096
/* Command codecs registered at once in one process, all registries together (each needs one of
 * a fixed set of entry points: codec_vtable.create and .library_version take no context). */
#define CODEC_COMMAND_MAX_CODECS 64

/* Checks one template argument for its role: placeholders known and allowed there, braces well
 * formed, length. Returns 0, or -1 with a message naming the problem (not the codec). */
int codec_command_check_arg(codec_command_role role, const char *arg, char *err, size_t err_len);

/* Checks a whole definition: the rules above, every argument (codec_command_check_arg), the
 * required placeholders, the knob. Returns 0, or -1 with "command codec NAME: problem". */
int codec_command_check_def(const codec_command_def *def, char *err, size_t err_len);

/* "ppm" / "png"; codec_command_format_parse returns -1 for anything else. */
const char *codec_command_format_name(codec_command_format f);
int codec_command_format_parse(const char *s, codec_command_format *out);

/* Deep copy (dst is overwritten); -1 when out of memory, dst then holds nothing to free. */
int codec_command_def_copy(codec_command_def *dst, const codec_command_def *src);
/* Frees the members (not def itself) and zeroes def. NULL is a no-op. */
void codec_command_def_free(codec_command_def *def);

typedef struct codec_registry codec_registry;

/* Creates a registry holding the built-in codecs (jpeg, webp, jpeg2000, avif, jxl, saic, in that
 * order). */
int codec_registry_create(codec_registry **out, char *err, size_t err_len);

/* Loads a plugin: dlopen()s path, looks up SAICBENCH_CODEC_PLUGIN_SYMBOL, calls it with
 * CODEC_ABI_VERSION and validates the returned table (abi_version, name syntax, knob, function
 * pointers and strings present), and the analysis table when the plugin exports one. A codec whose
 * name is already registered is refused. On failure the library is unloaded again and err names the
 * file. */
int codec_registry_load_plugin(codec_registry *r, const char *path, char *err, size_t err_len);

/* Registers a command-line codec (codec_registry.h): checks the definition, refuses a name that
 * is already registered, resolves its programs (PATH; !path files must exist), runs its version
 * command once (that line and the SHA-256 of its !path files become its library_version()) and
 * adds a codec_vtable made for it, owned by the registry. The definition is copied. Errors:
 * "command codec NAME: ...". At most CODEC_COMMAND_MAX_CODECS command codecs exist at once in a
 * process. */
int codec_registry_add_command(codec_registry *r, const codec_command_def *def, char *err,
                               size_t err_len);
/* The definition a command codec was registered with (programs resolved to absolute paths), or
 * NULL for other codecs and tables not in this registry. */
const codec_command_def *codec_registry_command_def(const codec_registry *r,
                                                    const codec_vtable *vt);

size_t codec_registry_count(const codec_registry *r);
/* The i-th codec in registration order (built-ins first), or NULL if i >= count. */
const codec_vtable *codec_registry_at(const codec_registry *r, size_t i);
/* The codec with this exact name, or NULL. */
const codec_vtable *codec_registry_find(const codec_registry *r, const char *name);
/* The codec's analysis table (saicbench_codec.h: analysis reuse), or NULL when it has none or
 * vt is not in this registry. The built-in saic has one; a plugin has one when it exports
 * SAICBENCH_CODEC_ANALYSIS_SYMBOL (load_plugin validates it). */
const codec_analysis_vtable *codec_registry_analysis(const codec_registry *r,
                                                     const codec_vtable *vt);
/* The path a codec was loaded from as given to load_plugin; NULL for built-ins, command codecs
 * and tables not in this registry. */
const char *codec_registry_plugin_path(const codec_registry *r, const codec_vtable *vt);
/* Unloads the plugins (in reverse load order), frees the command codecs and the registry. NULL
 * is a no-op. */
void codec_registry_destroy(codec_registry *r);

/* The result contract of saicbench_codec.h, checked by the harness after every successful
 * encode and decode, so that a codec's (a plugin's) bad result is recorded as that image's
 * error instead of being stored: an encode returns data with 0 < stream_bytes <= size; a
 * decode returns an image of the original's size. Return 0 when kept, else non-zero with
 * "codec NAME broke its contract: ..." in err. */
int codec_check_encoded(const codec_vtable *vt, const codec_encoded *e, char *err, size_t err_len);
int codec_check_decoded(const codec_vtable *vt, const uint8_t *rgb, int width, int height,
                        int want_width, int want_height, char *err, size_t err_len);

/* Option-value parsers. `key` is only used in messages. All return 0 on success and non-zero
 * with a message naming the key and the rejected value otherwise; *out is untouched on error. */

/* true|false|1|0|yes|no|on|off (lowercase). */
int codec_option_parse_bool(const char *key, const char *value, int *out, char *err,
                            size_t err_len);
/* A decimal integer in [min, max], no surrounding spaces, no trailing characters. */
int codec_option_parse_int(const char *key, const char *value, int min, int max, int *out,
                           char *err, size_t err_len);
/* One of `choices` (NULL-terminated list), exactly; *out is its index. */
int codec_option_parse_choice(const char *key, const char *value, const char *const *choices,
                              int *out, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif /* SAICBENCH_CODEC_REGISTRY_H */
