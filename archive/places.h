/* What an index knows about where records are: the proven record boundaries of
 * the RESYNC RULE (archive/segment.c), how far each segment was committed, and
 * what the index knew inside a damaged or missing range (to name what is lost).
 * Reindex asks the index it replaces, scrub the live one. */
#ifndef KURA_PLACES_H
#define KURA_PLACES_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

typedef struct kura_places kura_places;

/* ix is borrowed and must outlive the result; NULL gives places that know
 * nothing (no boundary, no committed end). Free with kura_places_free. */
int kura_places_new(kura_places **out, kura_index *ix, kura_error *err);
void kura_places_free(kura_places *p);

/* The first record start after off in segment segno that the index knows: 1
 * and *next, or 0 (none, or the index could not be read: never a guess). The
 * index is read once for each segment asked about in turn. */
int kura_places_next(kura_places *p, uint32_t segno, uint64_t off, uint64_t *next);

/* Up to where the index had segment segno committed: its size when it was
 * rolled, or the writer's committed end in its last segment; 0 if unknown. */
uint64_t kura_places_committed_end(const kura_places *p, uint32_t segno);

/* The segments the index knows a committed end of, ascending; returns how many. */
size_t kura_places_segments(const kura_places *p, const uint32_t **segnos, const uint64_t **ends);

typedef struct kura_lost_range {
	uint32_t segno;
	uint64_t from, to; /* bytes [from, to) of the segment */
} kura_lost_range;

/* Calls fn for each thing the index knew inside one of the ranges (which it
 * sorts): what is "object record", "content" (the blob an object's or a group
 * member's bytes are in), "evidence record" or "audit entry"; id is the object's
 * or record's ID; record, for an object, the record it is a version of (its own
 * ID for a first version), else NULL; segno and offset where that record was. */
typedef void (*kura_lost_fn)(void *ud, const char *what, const char *id, const char *record, uint32_t segno,
			     uint64_t offset);
int kura_places_name_lost(kura_places *p, kura_lost_range *ranges, size_t n, kura_lost_fn fn, void *ud,
			  kura_error *err);

#endif
