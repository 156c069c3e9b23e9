/* What renewal/status.c and the alerts share (see kura/status.h). */
#ifndef KURA_STATUS_IMPL_H
#define KURA_STATUS_IMPL_H

#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"

/* Fills s's "attention" (and "healthy") from the rest of s, a status being
 * made at now: one item per thing a person should do, each {"key" (what it is
 * about, stable while it lasts: alerts are sent per key), "kind", "severity",
 * "message", "command", "details"}. */
int kura_status_attention(json_t *s, int64_t now, kura_error *err);

#endif
