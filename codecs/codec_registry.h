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

#include "codec_command.h"
#include "saicbench_codec.h"

/* Largest image (in pixels) the built-ins encode or decode: 2^25, e.g. 8192 x 4096; 8K UHD
 * (7680 x 4320) fits. Decoders check a stream's declared size against it before decoding, so a
 * hostile header cannot make them allocate more than about 1 GiB (OpenJPEG keeps 3 x 32-bit
 * planes). */
#define CODEC_MAX_PIXELS ((size_t)1 << 25)

#ifdef __cplusplus
extern "C" {
#endif

typedef struct codec_registry codec_registry;

/* Creates a registry holding the built-in codecs (jpeg, webp, jpeg2000, avif, jxl, saic, in that
 * order). */
int codec_registry_create(codec_registry **out, char *err, size_t err_len);

/* Loads a plugin: dlopen()s path, looks up SAICBENCH_CODEC_PLUGIN_SYMBOL, calls it with
 * CODEC_ABI_VERSION and validates the returned table (abi_version, name syntax, knob, function
 * pointers and strings present). A codec whose name is already registered is refused. On failure
 * the library is unloaded again and err names the file. */
int codec_registry_load_plugin(codec_registry *r, const char *path, char *err, size_t err_len);

/* Registers a command-line codec (codec_command.h): checks the definition, refuses a name that
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
