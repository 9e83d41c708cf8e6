/* saic_crc8.h - CRC-8/SMBUS (prefix saic_crc8_): polynomial x^8 + x^2 + x + 1 (0x07), initial
 * value 0x00, bits processed most significant first (no reflection), no final xor. Check value:
 * 0xF4 for the nine ASCII bytes "123456789". It detects every single-bit error and every error
 * burst of up to 8 bits in a message, and any other error with probability 255/256.
 * Used for the SAIC bitstream's check byte (saic_codec.h). Table-driven, no state. */
#ifndef SAIC_CRC8_H
#define SAIC_CRC8_H

#include <stddef.h>
#include <stdint.h>

#define SAIC_CRC8_POLY 0x07
#define SAIC_CRC8_CHECK 0xF4 /* saic_crc8("123456789", 9) */

/* Continues a CRC: crc is the value over the bytes so far (0 before the first), data the next
 * len bytes (may be NULL when len is 0). saic_crc8_update(saic_crc8_update(0, a, n), b, m) is the
 * CRC of a followed by b. */
uint8_t saic_crc8_update(uint8_t crc, const void *data, size_t len);

/* The CRC of len bytes (saic_crc8_update from 0). */
uint8_t saic_crc8(const void *data, size_t len);

#endif
