/* Sealing and the evidence record of one object.
 *
 * A seal takes every pending object of a store, builds ONE hash tree over their
 * hashes (the store's algorithm) and gets ONE time-stamp over its root. The seal
 * record (the leaves in order and the token exactly as received) is appended to
 * the store only after the token was obtained and checked: a failed seal writes
 * nothing and leaves the objects pending.
 *
 * Seal payload (kind 'S', inside the store's evidence frame):
 *   "KSEAL1\n\0" | u8 length of the hash name | hash name | u32 n
 *   | n leaves (the objects' hashes, in the order of the frame's subjects)
 *   | u32 token length | the token (ContentInfo, as the TSA sent it)
 * The reduced tree of object i is derived from the leaves (binary tree, sorted
 * pairs, ERS-RULES) whenever its record is exported. */
#ifndef KURA_SEAL_H
#define KURA_SEAL_H

#include <stddef.h>

#include "evidence/stamper.h"
#include "kura/store.h"

typedef struct kura_seal_result {
	size_t objects;                 /* 0: nothing was pending */
	char id[KURA_ID_LEN + 1];       /* the seal's record ID */
	char tsa[256];                  /* who time-stamped it */
	char gentime[32];
} kura_seal_result;

/* Seals everything pending in st (open for writing). */
int kura_seal(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, kura_error *err);

/* The DER Evidence Record of object id (malloc'd, the caller's). KURA_ENOTFOUND
 * when the object is not sealed yet. */
typedef struct kura_evidence_cache kura_evidence_cache;
int kura_evidence_cache_new(kura_evidence_cache **out, kura_error *err);
void kura_evidence_cache_free(kura_evidence_cache *c);
int kura_object_evidence(unsigned char **der, size_t *len, kura_store *st, const char *id, kura_evidence_cache *cache,
			 kura_error *err);

#endif
