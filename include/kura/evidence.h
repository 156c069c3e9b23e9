/* The RFC 4998 Evidence Record of one object of a store: its chains of seals
 * and renewals assembled into the DER record others verify without kura. */
#ifndef KURA_PUBLIC_EVIDENCE_H
#define KURA_PUBLIC_EVIDENCE_H

#include <stddef.h>

#include "kura/store.h"

/* Remembers the last parsed records (a seal shared by a million objects is read
 * and its tree built once), and for kura_object_evidence what the records of one
 * chain's objects share (its renewals, their ATSs encoded once): a record for the
 * next object of the same chain costs its own reduced tree. Use one cache for many
 * objects, best in ID order (neighbours share chains); what it keeps of a chain
 * is rebuilt when the store was written through its handle since. One thread.
 * *out is the caller's: kura_evidence_cache_free. */
typedef struct kura_evidence_cache kura_evidence_cache;
int kura_evidence_cache_new(kura_evidence_cache **out, kura_error *err);
void kura_evidence_cache_free(kura_evidence_cache *c);

/* The DER Evidence Record of object id (*der malloc'd, the caller's). cache is
 * borrowed. KURA_ENOTFOUND when the object is not sealed yet. */
int kura_object_evidence(unsigned char **der, size_t *len, kura_store *st, const char *id, kura_evidence_cache *cache,
			 kura_error *err);

/* Writes the DER Evidence Record of object id to the file path, whole or not
 * at all (proof/record_file.c). */
int kura_object_evidence_save(kura_store *st, const char *id, const char *path, kura_error *err);

#endif
