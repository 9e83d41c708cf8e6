/* saicbench codec interface — the one public header a codec (built in or plugin) implements.
 *
 * A codec is a table of functions (codec_vtable). The harness creates one instance per codec
 * entry of a suite from its settings (key/value strings), then calls encode/decode on that
 * instance from many threads at once: an instance is immutable after create(), and
 * encode()/decode() must be thread-safe and must not keep state between calls.
 *
 * Plugins: an out-of-tree codec is a shared library exporting
 *
 *     const codec_vtable *saicbench_codec_plugin_v1(uint32_t host_abi_version);
 *
 * (symbol name SAICBENCH_CODEC_PLUGIN_SYMBOL). It returns its table, whose abi_version must
 * equal CODEC_ABI_VERSION, or NULL if it cannot serve this host. The harness loads it with
 * `saicbench --plugin PATH` or `plugins: [PATH]` in a suite. This header has no dependencies
 * beyond the C standard library so a plugin needs nothing else from saicbench.
 *
 * Memory: buffers returned by encode() and decode() are allocated with malloc() and released by
 * the caller with free().
 *
 * Errors: every fallible function returns 0 on success and non-zero on failure, writing a
 * one-line, NUL-terminated reason into err (at most err_len bytes, err_len >= 1).
 */
#ifndef SAICBENCH_CODEC_H
#define SAICBENCH_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CODEC_ABI_VERSION 1u
#define SAICBENCH_CODEC_PLUGIN_SYMBOL "saicbench_codec_plugin_v1"

/* Whether the knob takes integer values only (JPEG quality) or any real value in range. */
typedef enum codec_knob_kind { CODEC_KNOB_INT = 0, CODEC_KNOB_REAL = 1 } codec_knob_kind;

/* The codec's single rate knob. The harness's bpp-target search bisects on it, so the file
 * size must be (approximately) monotone in the knob. For CODEC_KNOB_INT the harness passes whole
 * numbers; a codec rounds any other value to the nearest integer. encode() rejects values
 * outside [min, max] and NaN. */
typedef struct codec_knob {
  const char *name;        /* e.g. "quality", "ratio"; used in --codec jpeg:quality=... */
  const char *description; /* one line for `saicbench codecs` */
  codec_knob_kind kind;
  double min, max;    /* inclusive range */
  int rate_increases; /* +1: larger knob -> more bytes; -1: larger knob -> fewer bytes */
} codec_knob;

/* One setting from a suite or the command line, e.g. {"subsampling", "444"}. */
typedef struct codec_option {
  const char *key;
  const char *value;
} codec_option;

/* Result of one encode. data is malloc()ed; caller frees. */
typedef struct codec_encoded {
  uint8_t *data;       /* complete, independently decodable file */
  size_t size;         /* file bytes ("bpp" of docs/metrics.md uses this) */
  size_t stream_bytes; /* bytes that vary per image (file minus fixed headers/tables);
                        * 0 < stream_bytes <= size. Each codec documents its definition. */
} codec_encoded;

typedef struct codec_vtable {
  uint32_t abi_version; /* must be CODEC_ABI_VERSION */
  const char *name;     /* short identifier: lowercase letters, digits, '-', '_' */
  const char *description;
  codec_knob knob;
  /* Version string of the library behind the codec, e.g. "libjpeg-turbo 2.1.5". Static. */
  const char *(*library_version)(void);
  /* Lists the accepted settings, one "key=values  description" line each (static string). */
  const char *settings_help;

  /* Creates an instance from settings (n_options may be 0: defaults). Unknown keys and bad
   * values are errors naming the key. *instance may be NULL on success if the codec keeps no
   * per-instance state. */
  int (*create)(const codec_option *options, size_t n_options, void **instance, char *err,
                size_t err_len);
  void (*destroy)(void *instance);

  /* Encodes a packed RGB8 image (width*height*3 bytes, row-major) at the given knob value.
   * Must be thread-safe for one instance. */
  int (*encode)(const void *instance, const uint8_t *rgb, int width, int height, double knob,
                codec_encoded *out, char *err, size_t err_len);
  /* Decodes bytes produced by encode() into a malloc()ed packed RGB8 image. Input is hostile:
   * truncated or corrupt data must fail cleanly. Must be thread-safe for one instance. */
  int (*decode)(const void *instance, const uint8_t *data, size_t size, uint8_t **rgb, int *width,
                int *height, char *err, size_t err_len);
} codec_vtable;

/* ---- Optional: analysis reuse ("encode once, quantize per knob") ----
 *
 * Some codecs spend most of an encode on an analysis step that the knob does not change (a learned
 * codec's analysis transform, whose latent the knob only scales before rounding). For those the
 * harness can run the analysis once per image and code its result at every knob value the grid
 * and the bpp-target search ask for: a bpp target then costs one analysis plus entropy coding per
 * probe instead of a whole encode per probe. A codec offers this with a second, optional table:
 *   - a plugin by also exporting
 *         const codec_analysis_vtable *saicbench_codec_analysis_v1(uint32_t host_abi_version);
 *     (symbol SAICBENCH_CODEC_ANALYSIS_SYMBOL; absent, or returning NULL: the plugin is used
 *     through encode() only);
 *   - a built-in through the registry.
 * codec_vtable is unchanged, so plugins built without it keep working as they are.
 *
 * Contract (the harness relies on it without checking): for every image and every knob value,
 * encode_analyzed(analyze(image), knob) returns exactly the bytes and stream_bytes that
 * encode(image, knob) returns. Results are therefore identical with or without reuse; the
 * stored encode time stays that of a whole encode (analysis plus coding). analyze() returns an
 * opaque result (malloc()ed or not) that the caller releases with free_analysis(); once made it is
 * read-only, and encode_analyzed() must be thread-safe for one instance and one analysis.
 * encode_analyzed() rejects knob values outside [min, max] and NaN, like encode(). */
#define CODEC_ANALYSIS_ABI_VERSION 1u
#define SAICBENCH_CODEC_ANALYSIS_SYMBOL "saicbench_codec_analysis_v1"

typedef struct codec_analysis_vtable {
  uint32_t abi_version; /* must be CODEC_ANALYSIS_ABI_VERSION */
  /* The knob-independent part of encode() for a packed RGB8 image; *analysis receives the
   * result (non-NULL on success). */
  int (*analyze)(const void *instance, const uint8_t *rgb, int width, int height, void **analysis,
                 char *err, size_t err_len);
  /* The rest of encode() at one knob value, from an analysis of this instance. */
  int (*encode_analyzed)(const void *instance, const void *analysis, double knob,
                         codec_encoded *out, char *err, size_t err_len);
  /* Releases an analysis (NULL is a no-op). */
  void (*free_analysis)(const void *instance, void *analysis);
} codec_analysis_vtable;

typedef const codec_analysis_vtable *(*codec_analysis_entry_fn)(uint32_t host_abi_version);

typedef const codec_vtable *(*codec_plugin_entry_fn)(uint32_t host_abi_version);

/* Marks the plugin entry point as exported even when the plugin is built with hidden symbol
 * visibility (-fvisibility=hidden, recommended so a plugin's internals cannot clash with the
 * host's). The declaration also gives plugin sources the prototype that -Wmissing-prototypes
 * asks for; the host never defines this symbol, it looks it up with dlsym(). */
#if defined(_WIN32)
#define SAICBENCH_CODEC_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define SAICBENCH_CODEC_EXPORT __attribute__((visibility("default")))
#else
#define SAICBENCH_CODEC_EXPORT
#endif
SAICBENCH_CODEC_EXPORT const codec_vtable *saicbench_codec_plugin_v1(uint32_t host_abi_version);
SAICBENCH_CODEC_EXPORT const codec_analysis_vtable *
saicbench_codec_analysis_v1(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif
#endif /* SAICBENCH_CODEC_H */
