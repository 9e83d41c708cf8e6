#include "base.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <xxhash.h>

double sb_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

void sb_iso8601_utc(char out[32]) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void sb_hash128_hex(const void *data, size_t size, char out[33]) {
  XXH128_hash_t h = XXH3_128bits(data, size);
  snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64, (unsigned long long)h.low64);
}

char *sb_strdup(const char *s) { return s ? strdup(s) : NULL; }

int sb_errf(char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    for (char *p = err; *p; p++)
      if (*p == '\n' || *p == '\r')
        *p = ' ';
  }
  return -1;
}

const char *sb_errno_text(int e, char *buf, size_t len) {
  if (strerror_r(e, buf, len) != 0)
    snprintf(buf, len, "error %d", e);
  return buf;
}

int sb_parse_bool(const char *s, int *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; s && i < 4; i++) {
    if (!strcasecmp(s, yes[i]))
      return *out = 1, 0;
    if (!strcasecmp(s, no[i]))
      return *out = 0, 0;
  }
  return -1;
}

void sb_format_number(double v, char out[32]) {
  /* Shortest %g form that reads back to the same double. */
  for (int prec = 6; prec <= 17; prec++) {
    snprintf(out, 32, "%.*g", prec, v);
    if (strtod(out, NULL) == v)
      return;
  }
}

int sb_sha256_file(const char *path, char out[65], char *err, size_t err_len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: %s", path, strerror(errno));
    return -1;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  unsigned char buf[1 << 16];
  size_t n;
  while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
    ok = EVP_DigestUpdate(ctx, buf, n);
  int read_error = ferror(f);
  fclose(f);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  ok = ok && !read_error && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len == 32;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    snprintf(err, err_len, "%s: %s", path, read_error ? "read error" : "cannot compute SHA-256");
    return -1;
  }
  for (unsigned i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
  return 0;
}
