/* Object IDs: 128-bit, time-ordered, written as 26 Crockford base32 characters
 * (the ULID layout: 48 bits of milliseconds, 80 random bits). IDs made by one
 * process sort in the order they were made, and IDs from different stores do not
 * collide, so an import never renames an object. */
#ifndef KURA_COMMON_ID_H
#define KURA_COMMON_ID_H

#include <stdint.h>

#include "kura/error.h"
#include "kura/id.h"

/* Writes a new ID (26 characters and a NUL) for time ms into out. */
int kura_id_new(char out[KURA_ID_LEN + 1], int64_t ms, kura_error *err);

/* The highest millisecond an ID can hold. */
#define KURA_ID_MAX_MS (((int64_t)1 << 48) - 1)

/* The smallest ID of millisecond ms (0 <= ms <= KURA_ID_MAX_MS): an ID made at
 * ms or later sorts at or above it, one made earlier below it. */
void kura_id_first(char out[KURA_ID_LEN + 1], int64_t ms);

/* Makes every later kura_id_new in this process return an ID above id (a
 * store's newest), so IDs keep ingest order even when the clock stands still
 * (KURA_NOW) or steps back. */
void kura_id_floor(const char *id);

/* Checks that text is an ID and writes its canonical (upper-case) form. */
int kura_id_parse(char out[KURA_ID_LEN + 1], const char *text, kura_error *err);

#endif
