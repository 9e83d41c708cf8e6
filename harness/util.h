/* Small shared helpers for the harness: clocks, timestamps, hashing. (Growable strings: the
 * reports' report_buf, report_buf.h.) Thread-safety: all functions are reentrant. */
#ifndef SAICBENCH_UTIL_H
#define SAICBENCH_UTIL_H

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

/* strdup that tolerates NULL (returns NULL). */
char *util_strdup(const char *s);
/* Formats a double compactly and round-trip exactly enough for grid values ("0.125", "50"). */
void util_format_number(double v, char out[32]);

#endif
