/* The one clock of kura, and RFC 3339 time text.
 *
 * Every "now" in kura (ingest time, object IDs, the planner, the embedded TSA,
 * verification) comes from kura_clock_now(). KURA_NOW=2031-05-01T00:00:00Z in
 * the environment fixes it, so tests can live through decades in seconds.
 * Times are milliseconds since 1970-01-01T00:00:00Z (UTC). */
#ifndef KURA_CLOCK_H
#define KURA_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"

/* Longest text kura_time_format writes, with its NUL. */
#define KURA_TIME_BUFSZ 32

/* Sets *out_ms to now: KURA_NOW if set (KURA_EINPUT if it does not parse), else
 * the system clock. */
int kura_clock_now(int64_t *out_ms, kura_error *err);

/* Parses RFC 3339 ("2031-05-01T00:00:00Z", "...T09:00:00.250+09:00") or a bare
 * date ("2031-05-01", midnight UTC). KURA_EINPUT on anything else. */
int kura_time_parse(int64_t *out_ms, const char *text, kura_error *err);

/* Writes UTC RFC 3339 text: seconds precision, milliseconds only when non-zero. */
void kura_time_format(char buf[KURA_TIME_BUFSZ], int64_t ms);
/* Sets key of the JSON object o to ms in that form (reports). */
void kura_time_put_json(json_t *o, const char *key, int64_t ms);

#endif
