/* Progress of long operations (ingest, scrub, export, renewal), reported to the
 * log handler's progress function (kura/log.h) at most five times a second;
 * every function accepts NULL, so library code can take an optional progress. */
#ifndef KURA_PROGRESS_H
#define KURA_PROGRESS_H

#include <stdint.h>

typedef struct kura_progress kura_progress;

/* A progress line "label: done/total MiB (n items)"; total_bytes 0 if unknown.
 * Returns NULL when the handler measures no progress (or out of memory). */
kura_progress *kura_progress_new(const char *label, uint64_t total_bytes);
void kura_progress_update(kura_progress *p, uint64_t done_bytes, uint64_t done_items);
/* Reports the end (if anything was reported) and frees p. */
void kura_progress_free(kura_progress *p);

#endif
