/* base.h - sb_base, what every other library may use (prefix sb_): a growable string, clocks
 * and timestamps, hashing, small string helpers. No dependency on any other saicbench library.
 * Thread-safety: all functions are reentrant; an sb_buf belongs to one thread at a time. */
#ifndef SAICBENCH_BASE_H
#define SAICBENCH_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

/* ---------------------------------------------------------------- growable string */

/* NUL-terminated growable string. Zero-initialise ({0}) before use. On allocation failure the
 * buffer is marked failed and further appends are ignored, so callers check sb_buf_failed()
 * once at the end instead of after every append. data is NULL until the first append. */
typedef struct sb_buf {
  char *data;
  size_t len, cap;
  int failed;
} sb_buf;

void sb_buf_append(sb_buf *b, const char *s, size_t n);
void sb_buf_puts(sb_buf *b, const char *s);
void sb_buf_printf(sb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sb_buf_failed(const sb_buf *b);
/* The contents as a C string ("" when empty; never NULL). Valid until the next append/free. */
const char *sb_buf_str(const sb_buf *b);
void sb_buf_reset(sb_buf *b); /* length 0, keeps memory, clears nothing else */
/* Hands the string over (malloc()ed, "" when empty; the caller frees it) and leaves the buffer
 * zeroed; returns NULL instead when the buffer failed (its memory is freed). */
char *sb_buf_take(sb_buf *b);
void sb_buf_free(sb_buf *b);

/* ---------------------------------------------------------------- clocks, hashing, strings */

/* Monotonic clock in milliseconds (for durations only). */
double sb_now_ms(void);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void sb_iso8601_utc(char out[32]);
/* XXH3-128 of a buffer as 32 lowercase hex characters plus NUL. */
void sb_hash128_hex(const void *data, size_t size, char out[33]);

/* SHA-256 of a file's bytes as 64 lowercase hex characters plus NUL (OpenSSL). Returns 0, or
 * -1 with a message naming the file. */
int sb_sha256_file(const char *path, char out[65], char *err, size_t err_len);

/* Formats a one-line message into err (err_len bytes; err may be NULL): newlines and carriage
 * returns become spaces, since messages carry strings from files and databases. Returns -1, so
 * that callers can `return sb_errf(...)`. */
int sb_errf(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* strerror(e) into buf (len bytes), thread-safe (XSI strerror_r); "error N" when unknown. */
const char *sb_errno_text(int e, char *buf, size_t len);

/* The one boolean spelling of every input (suites, codec settings, gate options, training
 * configurations): true/false, yes/no, on/off, 1/0, letters in any case. Returns 0 with *out
 * set, or -1 (out untouched) for anything else, NULL included. */
int sb_parse_bool(const char *s, int *out);

/* strdup that tolerates NULL (returns NULL). */
char *sb_strdup(const char *s);
/* Formats a double compactly and round-trip exactly enough for grid values ("0.125", "50"). */
void sb_format_number(double v, char out[32]);

/* ---------------------------------------------------------------- files */

/* Creates dir and its missing parents (mode 0777 & ~umask). An existing directory is fine; an
 * existing non-directory is an error naming the path. */
int sb_mkdirs(const char *dir, char *err, size_t err_len);

/* Writes len bytes to dir/name through dir/name.tmp: write, fsync, then rename over the final
 * name, so a crash leaves either the old file or the complete new one under that name (never a
 * half-written one). On failure the .tmp file is removed and err names the file. */
int sb_write_file(const char *dir, const char *name, const char *data, size_t len, char *err,
                  size_t err_len);

/* The end of every writer that builds its file in memory: writes b's text with sb_write_file,
 * or fails with "out of memory building 'dir/name'" when b failed (an incomplete file is never
 * written). Frees b either way. */
int sb_buf_write_file(sb_buf *b, const char *dir, const char *name, char *err, size_t err_len);

/* ---------------------------------------------------------------- YAML */

/* libyaml documents (prefix sb_yaml_): the one YAML layer of the suites (harness/suite.c), the
 * gate's parser of a suite's `gate:` mapping (gate/gate_config.c) and the training
 * configurations (train/config_yaml.c), so that both load a document with the same
 * limits and point at problems the same way: "file:line:col: message". Thread-safety:
 * reentrant (no shared state). */

/* A parse in progress: the document and where its errors go. */
typedef struct sb_yaml_ctx {
  yaml_document_t *doc;
  const char *file; /* named in messages */
  char *err;
  size_t err_len;
} sb_yaml_ctx;

/* Writes "file:line:col: message" (1-based position of n) into c->err, or "file: message" when
 * n is NULL. Always returns -1 so callers can `return sb_yaml_fail(...)`. */
int sb_yaml_fail(sb_yaml_ctx *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The text of a scalar node; NULL when n is NULL or not a scalar. */
const char *sb_yaml_scalar(const yaml_node_t *n);

/* Whether s is a decimal number: [+-] digits [. digits] [e|E [+-] digits] (".5" and "5." too).
 * Hexadecimal ("0x32"), "inf", "nan" and surrounding spaces, which strtod also reads, are not:
 * a suite value means what it says in decimal. */
int sb_yaml_is_decimal(const char *s);

/* Limits of sb_yaml_load: collections nested deeper than this (the root mapping is level 1),
 * more anchors (&name) or aliases (*name) than these are refused. libyaml's scanner costs
 * O(depth) per token and its loader O(anchors) per anchor and alias; with these bounds the
 * work is linear in the text's size. */
#define SB_YAML_MAX_DEPTH 64
#define SB_YAML_MAX_ANCHORS 64
#define SB_YAML_MAX_ALIASES 1024

/* Parses text (len bytes; file is named in messages) into *doc (free it with
 * yaml_document_delete), refusing with "file:line:col: ..." a YAML syntax error, a second
 * document, nesting deeper than SB_YAML_MAX_DEPTH, too many anchors or aliases, and a mapping
 * key given twice. An empty text gives a document without a root node. */
int sb_yaml_load(const char *text, size_t len, const char *file, yaml_document_t *doc, char *err,
                 size_t err_len);

#endif
