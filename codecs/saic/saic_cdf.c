/* saic_cdf.c - CDF quantisation, table sets and their (hostile-input) serialisation. */
#include "saic_coder.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct saic_cdf_set {
  int ntables;
  saic_cdf *tables; /* tables[i].cdf == NULL while unset */
  uint32_t **owned; /* owned[i] is the storage behind tables[i].cdf */
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int
fail(char *err, size_t err_len, int code, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* ---- quantisation -------------------------------------------------------------------------- */

typedef struct qsym {
  uint64_t w;   /* weight (step 1), later the remainder w * B mod W (step 3) */
  uint32_t idx; /* symbol index */
} qsym;

static int cmp_weight_asc(const void *a, const void *b) {
  const qsym *x = a, *y = b;
  if (x->w != y->w)
    return x->w < y->w ? -1 : 1;
  return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

static int cmp_remainder_desc(const void *a, const void *b) {
  const qsym *x = a, *y = b;
  if (x->w != y->w)
    return x->w > y->w ? -1 : 1;
  return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* floor(p * 2^32) for p in [0, 1], exact: the product is an exact double and fits 33 bits. */
static uint64_t weight_of(float p) { return (uint64_t)floor(ldexp((double)p, 32)); }

int saic_cdf_quantize(const float *pmf, int nvalues, float tail_mass, uint32_t *cdf_out, char *err,
                      size_t err_len) {
  if (!pmf || !cdf_out)
    return fail(err, err_len, SAIC_E_ARG, "saic_cdf_quantize: NULL pmf or output");
  if (nvalues < 1 || nvalues > SAIC_CDF_MAX_SYMBOLS - 1)
    return fail(err, err_len, SAIC_E_ARG,
                "saic_cdf_quantize: %d values (need 1..%d, one symbol is kept for the escape)",
                nvalues, SAIC_CDF_MAX_SYMBOLS - 1);
  const uint32_t m = (uint32_t)nvalues + 1;
  qsym *q = malloc(m * sizeof *q);
  uint32_t *freq = malloc(m * sizeof *freq);
  if (!q || !freq) {
    free(q);
    free(freq);
    return fail(err, err_len, SAIC_E_NOMEM, "saic_cdf_quantize: out of memory");
  }
  uint64_t total = 0; /* <= 65536 * 2^32: no overflow */
  for (uint32_t i = 0; i < m; i++) {
    float p = i < (uint32_t)nvalues ? pmf[i] : tail_mass;
    if (!(p >= 0.0f && p <= 1.0f)) { /* also catches NaN */
      free(q);
      free(freq);
      if (i == (uint32_t)nvalues)
        return fail(err, err_len, SAIC_E_ARG, "saic_cdf_quantize: tail mass %g is not in [0, 1]",
                    (double)p);
      return fail(err, err_len, SAIC_E_ARG, "saic_cdf_quantize: pmf[%u] = %g is not in [0, 1]", i,
                  (double)p);
    }
    q[i].w = weight_of(p);
    q[i].idx = i;
    total += q[i].w;
  }
  if (total == 0) {
    free(q);
    free(freq);
    return fail(err, err_len, SAIC_E_ARG,
                "saic_cdf_quantize: pmf and tail mass are all zero (below 2^-32)");
  }
  /* Step 2: find the clamped prefix in (weight, index) order. */
  qsort(q, m, sizeof *q, cmp_weight_asc);
  uint32_t k = 0;
  uint64_t rest = total; /* W_k */
  while (k + 1 < m && q[k].w * (uint64_t)(SAIC_RC_TOTAL - k) < rest) {
    freq[q[k].idx] = 1;
    rest -= q[k].w;
    k++; /* never reaches m - 1 (the largest weight always passes, as m <= 65536); the
          * bound is belt and braces */
  }
  /* Step 3: largest remainders over the unclamped symbols q[k .. m-1]. */
  const uint64_t budget = SAIC_RC_TOTAL - k;
  uint64_t given = 0;
  for (uint32_t j = k; j < m; j++) {
    uint64_t num = q[j].w * budget; /* <= 2^32 * 2^16 */
    freq[q[j].idx] = (uint32_t)(num / rest);
    given += num / rest;
    q[j].w = num % rest;
  }
  qsort(q + k, m - k, sizeof *q, cmp_remainder_desc);
  for (uint64_t j = 0; j < budget - given; j++) /* budget - given < m - k */
    freq[q[k + j].idx]++;
  cdf_out[0] = 0;
  for (uint32_t i = 0; i < m; i++)
    cdf_out[i + 1] = cdf_out[i] + freq[i];
  free(q);
  free(freq);
  return SAIC_OK; /* cdf_out[m] == 65536 by construction */
}

/* ---- table sets ---------------------------------------------------------------------------- */

saic_cdf_set *saic_cdf_set_new(int ntables) {
  if (ntables < 1 || ntables > SAIC_CDF_MAX_TABLES)
    return NULL;
  saic_cdf_set *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->ntables = ntables;
  s->tables = calloc((size_t)ntables, sizeof *s->tables);
  s->owned = calloc((size_t)ntables, sizeof *s->owned);
  if (!s->tables || !s->owned) {
    saic_cdf_set_free(s);
    return NULL;
  }
  return s;
}

void saic_cdf_set_free(saic_cdf_set *s) {
  if (!s)
    return;
  if (s->owned)
    for (int i = 0; i < s->ntables; i++)
      free(s->owned[i]);
  free(s->owned);
  free(s->tables);
  free(s);
}

int saic_cdf_set_count(const saic_cdf_set *s) { return s ? s->ntables : 0; }

const saic_cdf *saic_cdf_set_get(const saic_cdf_set *s, int i) {
  if (!s || i < 0 || i >= s->ntables || !s->tables[i].cdf)
    return NULL;
  return &s->tables[i];
}

int saic_cdf_set_check_complete(const saic_cdf_set *s, char *err, size_t err_len) {
  if (!s)
    return fail(err, err_len, SAIC_E_ARG, "CDF table set is NULL");
  for (int i = 0; i < s->ntables; i++)
    if (!s->tables[i].cdf)
      return fail(err, err_len, SAIC_E_ARG, "CDF table %d of %d is not set", i, s->ntables);
  return SAIC_OK;
}

/* The checks shared by every way a table enters a set (the loader's included). who names the
 * table in messages. */
static int check_table(const char *who, int32_t min, uint32_t nsym, const uint32_t *cdf, char *err,
                       size_t err_len) {
  if (nsym < 2 || nsym > SAIC_CDF_MAX_SYMBOLS)
    return fail(err, err_len, SAIC_E_CORRUPT, "%s: %u symbols (need 2..%d, escape included)", who,
                nsym, SAIC_CDF_MAX_SYMBOLS);
  int64_t max = (int64_t)min + (int64_t)nsym - 2;
  if (min <= -SAIC_CDF_VALUE_LIMIT || max >= SAIC_CDF_VALUE_LIMIT)
    return fail(err, err_len, SAIC_E_CORRUPT, "%s: value range %d..%lld exceeds |v| < %d", who,
                (int)min, (long long)max, SAIC_CDF_VALUE_LIMIT);
  if (!cdf)
    return SAIC_OK; /* the caller checks the entries itself */
  if (cdf[0] != 0 || cdf[nsym] != SAIC_RC_TOTAL)
    return fail(err, err_len, SAIC_E_CORRUPT, "%s: CDF runs %u..%u (must be 0..%u)", who, cdf[0],
                cdf[nsym], SAIC_RC_TOTAL);
  for (uint32_t j = 0; j < nsym; j++)
    if (cdf[j + 1] <= cdf[j])
      return fail(err, err_len, SAIC_E_CORRUPT,
                  "%s: CDF not strictly increasing at symbol %u (%u then %u)", who, j, cdf[j],
                  cdf[j + 1]);
  return SAIC_OK;
}

static int set_index_ok(const saic_cdf_set *s, int i, char *err, size_t err_len) {
  if (!s)
    return fail(err, err_len, SAIC_E_ARG, "CDF table set is NULL");
  if (i < 0 || i >= s->ntables)
    return fail(err, err_len, SAIC_E_ARG, "CDF table index %d out of range 0..%d", i,
                s->ntables - 1);
  return SAIC_OK;
}

/* Installs storage (nsym + 1 entries, already valid) as table i, taking ownership. */
static void install(saic_cdf_set *s, int i, int32_t min, uint32_t nsym, uint32_t *storage) {
  free(s->owned[i]);
  s->owned[i] = storage;
  s->tables[i].min = min;
  s->tables[i].nsym = nsym;
  s->tables[i].cdf = storage;
}

int saic_cdf_set_from_pmf(saic_cdf_set *s, int i, int32_t min, const float *pmf, int nvalues,
                          float tail_mass, char *err, size_t err_len) {
  int rc = set_index_ok(s, i, err, err_len);
  if (rc != SAIC_OK)
    return rc;
  if (nvalues < 1 || nvalues > SAIC_CDF_MAX_SYMBOLS - 1)
    return fail(err, err_len, SAIC_E_ARG, "CDF table %d: %d values (need 1..%d)", i, nvalues,
                SAIC_CDF_MAX_SYMBOLS - 1);
  char who[48];
  snprintf(who, sizeof who, "CDF table %d", i);
  rc = check_table(who, min, (uint32_t)nvalues + 1, NULL, err, err_len);
  if (rc != SAIC_OK)
    return SAIC_E_RANGE;
  uint32_t *cdf = malloc(((size_t)nvalues + 2) * sizeof *cdf);
  if (!cdf)
    return fail(err, err_len, SAIC_E_NOMEM, "CDF table %d: out of memory", i);
  char qerr[200];
  rc = saic_cdf_quantize(pmf, nvalues, tail_mass, cdf, qerr, sizeof qerr);
  if (rc != SAIC_OK) {
    free(cdf);
    return fail(err, err_len, rc, "CDF table %d: %s", i, qerr);
  }
  install(s, i, min, (uint32_t)nvalues + 1, cdf);
  return SAIC_OK;
}

int saic_cdf_set_from_cdf(saic_cdf_set *s, int i, int32_t min, const uint32_t *cdf, uint32_t nsym,
                          char *err, size_t err_len) {
  int rc = set_index_ok(s, i, err, err_len);
  if (rc != SAIC_OK)
    return rc;
  if (!cdf)
    return fail(err, err_len, SAIC_E_ARG, "CDF table %d: NULL CDF", i);
  char who[48];
  snprintf(who, sizeof who, "CDF table %d", i);
  rc = check_table(who, min, nsym, NULL, err, err_len);
  if (rc == SAIC_OK)
    rc = check_table(who, min, nsym, cdf, err, err_len);
  if (rc != SAIC_OK)
    return SAIC_E_ARG;
  uint32_t *copy = malloc(((size_t)nsym + 1) * sizeof *copy);
  if (!copy)
    return fail(err, err_len, SAIC_E_NOMEM, "CDF table %d: out of memory", i);
  memcpy(copy, cdf, ((size_t)nsym + 1) * sizeof *copy);
  install(s, i, min, nsym, copy);
  return SAIC_OK;
}

/* ---- serialisation ------------------------------------------------------------------------- */

#define HEADER_BYTES 20u
#define ENTRY_BYTES 8u

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Two's complement without the implementation-defined unsigned -> signed conversion. */
static int32_t get_i32(const uint8_t *p) {
  uint32_t u = get_u32(p);
  return u <= INT32_MAX ? (int32_t)u : -(int32_t)(~u) - 1;
}

int saic_cdf_set_serialize(const saic_cdf_set *s, uint8_t **out, size_t *out_len, char *err,
                           size_t err_len) {
  if (!out || !out_len)
    return fail(err, err_len, SAIC_E_ARG, "saic_cdf_set_serialize: NULL output");
  *out = NULL;
  *out_len = 0;
  int rc = saic_cdf_set_check_complete(s, err, err_len);
  if (rc != SAIC_OK)
    return rc;
  /* At most 20 + 65536 * (8 + 2 * 65535) bytes: fits size_t on any 64-bit or 32-bit host. */
  uint64_t size = HEADER_BYTES + (uint64_t)s->ntables * ENTRY_BYTES;
  for (int i = 0; i < s->ntables; i++)
    size += 2u * ((uint64_t)s->tables[i].nsym - 1);
  if (size > SIZE_MAX)
    return fail(err, err_len, SAIC_E_NOMEM, "CDF table set too large to serialise");
  uint8_t *buf = malloc((size_t)size);
  if (!buf)
    return fail(err, err_len, SAIC_E_NOMEM, "saic_cdf_set_serialize: out of memory");
  memcpy(buf, SAIC_CDF_MAGIC, 8);
  put_u32(buf + 8, SAIC_CDF_VERSION);
  put_u32(buf + 12, SAIC_RC_PRECISION);
  put_u32(buf + 16, (uint32_t)s->ntables);
  uint8_t *p = buf + HEADER_BYTES;
  for (int i = 0; i < s->ntables; i++, p += ENTRY_BYTES) {
    put_u32(p, (uint32_t)s->tables[i].min); /* two's complement, as C11 requires of int32_t */
    put_u32(p + 4, s->tables[i].nsym);
  }
  for (int i = 0; i < s->ntables; i++)
    for (uint32_t j = 1; j < s->tables[i].nsym; j++, p += 2) {
      p[0] = (uint8_t)s->tables[i].cdf[j];
      p[1] = (uint8_t)(s->tables[i].cdf[j] >> 8);
    }
  *out = buf;
  *out_len = (size_t)size;
  return SAIC_OK;
}

int saic_cdf_set_deserialize(const uint8_t *data, size_t len, saic_cdf_set **out, char *err,
                             size_t err_len) {
  if (!out)
    return fail(err, err_len, SAIC_E_ARG, "saic_cdf_set_deserialize: NULL output");
  *out = NULL;
  if (!data && len > 0)
    return fail(err, err_len, SAIC_E_ARG, "saic_cdf_set_deserialize: NULL data");
  if (len < HEADER_BYTES)
    return fail(err, err_len, SAIC_E_CORRUPT,
                "CDF tables: %zu bytes, shorter than the %u-byte header", len, HEADER_BYTES);
  if (memcmp(data, SAIC_CDF_MAGIC, 8) != 0)
    return fail(err, err_len, SAIC_E_CORRUPT, "CDF tables: bad magic (not a %s blob)",
                SAIC_CDF_MAGIC);
  uint32_t version = get_u32(data + 8), precision = get_u32(data + 12), n = get_u32(data + 16);
  if (version != SAIC_CDF_VERSION)
    return fail(err, err_len, SAIC_E_CORRUPT, "CDF tables: format version %u (this build reads %u)",
                version, SAIC_CDF_VERSION);
  if (precision != SAIC_RC_PRECISION)
    return fail(err, err_len, SAIC_E_CORRUPT, "CDF tables: precision %u bits (must be %d)",
                precision, SAIC_RC_PRECISION);
  if (n < 1 || n > SAIC_CDF_MAX_TABLES)
    return fail(err, err_len, SAIC_E_CORRUPT, "CDF tables: table count %u (must be 1..%d)", n,
                SAIC_CDF_MAX_TABLES);
  /* Every size is computed in 64 bits from bounded fields and compared with len before any read. */
  uint64_t need = HEADER_BYTES + (uint64_t)n * ENTRY_BYTES;
  if (len < need)
    return fail(err, err_len, SAIC_E_CORRUPT,
                "CDF tables: %zu bytes cannot hold the directory of %u tables (%llu bytes)", len, n,
                (unsigned long long)need);
  const uint8_t *dir = data + HEADER_BYTES;
  char who[48];
  for (uint32_t i = 0; i < n; i++) {
    snprintf(who, sizeof who, "CDF table %u", i);
    int rc = check_table(who, get_i32(dir + ENTRY_BYTES * i), get_u32(dir + ENTRY_BYTES * i + 4),
                         NULL, err, err_len);
    if (rc != SAIC_OK)
      return rc;
    need += 2u * ((uint64_t)get_u32(dir + ENTRY_BYTES * i + 4) - 1);
  }
  if (need != len)
    return fail(err, err_len, SAIC_E_CORRUPT,
                "CDF tables: %zu bytes, but the directory describes %llu (%s)", len,
                (unsigned long long)need, len < need ? "truncated" : "trailing bytes");
  saic_cdf_set *s = saic_cdf_set_new((int)n);
  if (!s)
    return fail(err, err_len, SAIC_E_NOMEM, "CDF tables: out of memory for %u tables", n);
  const uint8_t *p = dir + (size_t)n * ENTRY_BYTES;
  for (uint32_t i = 0; i < n; i++) {
    int32_t min = get_i32(dir + ENTRY_BYTES * i);
    uint32_t nsym = get_u32(dir + ENTRY_BYTES * i + 4);
    uint32_t *cdf = malloc(((size_t)nsym + 1) * sizeof *cdf);
    if (!cdf) {
      saic_cdf_set_free(s);
      return fail(err, err_len, SAIC_E_NOMEM, "CDF table %u: out of memory", i);
    }
    cdf[0] = 0;
    for (uint32_t j = 1; j < nsym; j++, p += 2)
      cdf[j] = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    cdf[nsym] = SAIC_RC_TOTAL;
    snprintf(who, sizeof who, "CDF table %u", i);
    int rc = check_table(who, min, nsym, cdf, err, err_len);
    if (rc != SAIC_OK) {
      free(cdf);
      saic_cdf_set_free(s);
      return rc;
    }
    install(s, (int)i, min, nsym, cdf);
  }
  *out = s;
  return SAIC_OK;
}
