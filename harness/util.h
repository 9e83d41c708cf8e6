/* Small shared helpers for the harness: clocks, timestamps, hashing, growable strings.
 * Thread-safety: all functions are reentrant; an sbuf belongs to one thread at a time. */
#ifndef SAICBENCH_UTIL_H
#define SAICBENCH_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in milliseconds (for durations only). */
double util_now_ms(void);
/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void util_iso8601_utc(char out[32]);
/* XXH3-128 of a buffer as 32 lowercase hex characters plus NUL. */
void util_hash128_hex(const void *data, size_t size, char out[33]);

/* SHA-256 of a file's bytes as 64 lowercase hex characters plus NUL (OpenSSL). Returns 0, or
 * -1 with a message naming the file. */
int util_sha256_file(const char *path, char out[65], char *err, size_t err_len);

/* Growable NUL-terminated string. On allocation failure the buffer is marked failed and
 * further appends are ignored; check sbuf_failed() once at the end. */
typedef struct sbuf {
  char *data;
  size_t len, cap;
  int failed;
} sbuf;
void sbuf_append(sbuf *b, const char *s, size_t n);
void sbuf_puts(sbuf *b, const char *s);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sbuf_failed(const sbuf *b);
/* Returns the string (owned by the caller) and resets the buffer; NULL if it failed. */
char *sbuf_take(sbuf *b);
void sbuf_free(sbuf *b);

/* strdup that tolerates NULL (returns NULL). */
char *util_strdup(const char *s);
/* Formats a double compactly and round-trip exactly enough for grid values ("0.125", "50"). */
void util_format_number(double v, char out[32]);

#endif
