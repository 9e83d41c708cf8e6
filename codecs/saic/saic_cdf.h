/* saic_cdf.h - integer CDF tables for the range coder, built from a learned density's pmf, and
 * their serialisation (prefix saic_cdf_).
 *
 * A table codes the integer values min .. min + nvalues - 1 as symbols 0 .. nvalues - 1, plus
 * one escape symbol (index nvalues, the last) that carries the density's tail mass: a value
 * outside [min, max] is coded as the escape followed by its overflow in bypass bits (see
 * saic_coder.h). Like CompressAI's pmf_to_quantized_cdf, but with a documented procedure that
 * is exactly reproducible (integers only once the floats have been read).
 *
 * Quantisation (saic_cdf_quantize), for m = nvalues + 1 symbols with probabilities p[0..m-1]
 * (the pmf, then the tail mass):
 *   1. Each p must be finite and in [0, 1] (a pmf's entries; they need not sum to 1: only their
 *      ratios matter). It becomes the integer weight w = floor(p * 2^32), computed exactly
 *      (float -> double and the power-of-two scaling are exact). All w = 0 is refused.
 *   2. Symbols whose proportional share would fall below one count get exactly 1 (frequency
 *      >= 1 keeps every symbol codable): sort by (w ascending, index ascending) and take the
 *      smallest k such that the k-th symbol's share w_(k) * (65536 - k) / W_k >= 1, where W_k
 *      is the summed weight of the symbols from position k on; the k symbols before it get 1.
 *      This is the water-filling that minimises the expected code length up to rounding, and
 *      it matters: at 0.125 bpp most latents are the mode, whose cost is -log2 q(mode), so the
 *      mass handed to rare symbols is taken from rare symbols first, not from the mode.
 *   3. The other symbols share B = 65536 - k counts: each gets floor(w * B / W_k) (>= 1 by the
 *      choice of k), and the B - sum leftover counts go one each to the symbols with the
 *      largest remainders (w * B mod W_k), ties to the lower index (largest-remainder method).
 * The result sums to exactly 65536 with every frequency >= 1; requires m <= 65536.
 *
 * Serialised table set (format 1, all integers little-endian), e.g. for a checkpoint:
 *   0   char[8]  magic "SAICCDF1"
 *   8   u32      format version (1)
 *   12  u32      precision (16; anything else is refused)
 *   16  u32      table count T, 1 .. SAIC_CDF_MAX_TABLES
 *   20  T x {i32 min, u32 nsym}    nsym = nvalues + 1 (escape included), 2 .. 65536
 *       then, per table in order, u16 cdf[1 .. nsym-1] (cdf[0] = 0 and cdf[nsym] = 65536 are
 *       implicit), strictly increasing
 *   The byte count must match exactly. The loader treats the bytes as hostile: it checks every
 *   field and length before use and refuses with a message naming the table and the problem.
 *
 * Bounds: every representable value satisfies |v| < SAIC_CDF_VALUE_LIMIT (2^20), table ranges
 * included, so escape overflows stay small and bounded.
 *
 * Errors: fallible functions return SAIC_OK (0) or a negative SAIC_E_* code (saic_rc.h) and write
 * a one-line, NUL-terminated reason into err (at most err_len bytes; err may be NULL).
 *
 * Thread-safety: no global state. A set is built by one thread; once complete it is only read
 * (by the coder) and may be shared between any number of threads. */
#ifndef SAIC_CDF_H
#define SAIC_CDF_H

#include <stddef.h>
#include <stdint.h>

#include "saic_rc.h"

#define SAIC_CDF_MAX_SYMBOLS 65536 /* per table, escape included */
#define SAIC_CDF_MAX_TABLES 65536
#define SAIC_CDF_VALUE_LIMIT (1 << 20) /* every coded value v has |v| < this */
#define SAIC_CDF_MAGIC "SAICCDF1"
#define SAIC_CDF_VERSION 1u

/* One table, read-only. Values min .. min + nsym - 2 are symbols 0 .. nsym - 2; symbol nsym - 1
 * is the escape. cdf has nsym + 1 entries in the form saic_rc.h requires. */
typedef struct saic_cdf {
  int32_t min;
  uint32_t nsym;
  const uint32_t *cdf;
} saic_cdf;

typedef struct saic_cdf_set saic_cdf_set; /* opaque: a numbered list of tables */

/* The pure quantiser (procedure above): pmf[0 .. nvalues-1] plus tail_mass for the escape ->
 * cdf_out[0 .. nvalues+1]. 1 <= nvalues <= SAIC_CDF_MAX_SYMBOLS - 1. */
int saic_cdf_quantize(const float *pmf, int nvalues, float tail_mass, uint32_t *cdf_out, char *err,
                      size_t err_len);

/* A set of ntables (1 .. SAIC_CDF_MAX_TABLES) tables, all unset; NULL if out of memory or
 * ntables is out of range. Every table must be set before the set is serialised or coded with. */
saic_cdf_set *saic_cdf_set_new(int ntables);
void saic_cdf_set_free(saic_cdf_set *s);
int saic_cdf_set_count(const saic_cdf_set *s);
/* Table i, or NULL if i is out of range or the table is unset. */
const saic_cdf *saic_cdf_set_get(const saic_cdf_set *s, int i);
/* SAIC_OK if every table is set; otherwise SAIC_E_ARG naming the first unset one. */
int saic_cdf_set_check_complete(const saic_cdf_set *s, char *err, size_t err_len);

/* Sets table i from a pmf over the values min .. min + nvalues - 1 and the tail mass (the
 * density's mass outside that range), by saic_cdf_quantize. The value range must lie within
 * (-SAIC_CDF_VALUE_LIMIT, SAIC_CDF_VALUE_LIMIT). Replaces an earlier table i. */
int saic_cdf_set_from_pmf(saic_cdf_set *s, int i, int32_t min, const float *pmf, int nvalues,
                          float tail_mass, char *err, size_t err_len);
/* Sets table i from a ready CDF (nsym + 1 entries, escape last), after validating it exactly as
 * the loader does. For tests and tools that build tables by other means. */
int saic_cdf_set_from_cdf(saic_cdf_set *s, int i, int32_t min, const uint32_t *cdf, uint32_t nsym,
                          char *err, size_t err_len);

/* Serialises a complete set (format above) into a malloc()ed buffer the caller frees. */
int saic_cdf_set_serialize(const saic_cdf_set *s, uint8_t **out, size_t *out_len, char *err,
                           size_t err_len);
/* Parses and validates serialised bytes (hostile). On success *out is a complete set. */
int saic_cdf_set_deserialize(const uint8_t *data, size_t len, saic_cdf_set **out, char *err,
                             size_t err_len);

#endif
