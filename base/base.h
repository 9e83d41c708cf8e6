/* base.h - sb_base, what every other library may use (prefix sb_): a growable string, clocks
 * and timestamps, hashing, small string helpers. No dependency on any other saicbench library.
 * Thread-safety: all functions are reentrant; an sb_buf belongs to one thread at a time. */
#ifndef SAICBENCH_BASE_H
#define SAICBENCH_BASE_H

#include <stddef.h>
#include <stdint.h>

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

#endif
