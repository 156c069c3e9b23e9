/* What ingest.c takes from the prefetcher (archive/prefetch.c): one document,
 * read, hashed and compressed ahead by a worker thread (not public). */
#ifndef KURA_PREFETCH_H
#define KURA_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/hash.h"
#include "kura/ingest.h"

enum kura_prefetched_state {
	KURA_PREFETCHED_PACKED, /* body holds the blob body (kura_blob_pack) */
	KURA_PREFETCHED_LARGE,  /* too large to hold: the ingest streams it from the file */
	KURA_PREFETCHED_FAILED, /* err says why (opening or reading the file) */
};

typedef struct kura_prefetched {
	enum kura_prefetched_state state;
	kura_error err;
	unsigned char sha256[32];
	unsigned char extra[KURA_HASH_MAX];
	size_t extra_len;
	uint64_t size;
	unsigned char *body;
	size_t len;
	uint32_t crc; /* of body: its record's body CRC */
} kura_prefetched;

/* Waits for document i (the next in order: 0, 1, ...; its path not NULL) and
 * lends it until kura_prefetch_release(pf, i). */
const kura_prefetched *kura_prefetch_take(kura_prefetch *pf, size_t i);
void kura_prefetch_release(kura_prefetch *pf, size_t i);
/* The path of document i. */
const char *kura_prefetch_path(const kura_prefetch *pf, size_t i);

#endif
