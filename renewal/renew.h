/* Renewal: keeping evidence valid past the end of a TSA certificate or an
 * algorithm (RFC 4998 section 5.2, with the hashing ERS-RULES fixes).
 *
 * Time-stamp renewal of chains (all with one hash algorithm): each chain's last
 * token is verified first (broken evidence is never renewed: it is reported),
 * missing certificates of its path are added to it (the augmented bytes are what
 * the renewal hashes and what exported records carry from then on), and ONE new
 * time-stamp covers all of them: a tree over one leaf per chain, the leaf being
 * the hashes of all earlier tokens of that chain.
 *
 * Hash-tree renewal of objects: a new chain with hash algorithm md for each: leaf
 * = md(md(object bytes) || md(DER of all its earlier chains)), every stored
 * object read back in full, ONE time-stamp for the batch. Nothing is written
 * until the token is in hand, so an interrupted renewal leaves the store as it
 * was and the next run starts it again. */
#ifndef KURA_RENEW_H
#define KURA_RENEW_H

#include <pthread.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "evidence/stamper.h"
#include "kura/store.h"

typedef struct kura_renew_result {
	size_t renewed;  /* chains (time-stamp renewal) or objects (hash-tree renewal) */
	size_t refused;  /* chains whose last token did not verify: not renewed */
	char id[KURA_ID_LEN + 1];
	char gentime[32];
	char tsa[256];
	int changed; /* with a lock: what was read changed before it could be written
		      * (a chain renewed, an object disposed of): nothing was written */
} kura_renew_result;

/* Where a renewal reads and writes. Without lock, read and write are the same
 * store, open for writing. With lock (the writer's lock of a store that other
 * threads write too: the preservation service), read is a view of write
 * (kura_store_view_open) and the caller does NOT hold lock: the chains and
 * objects are read, and the TSA asked, without it; it is taken only to check
 * that what was read is still so (no chain renewed meanwhile, no object
 * disposed of; else res->changed and nothing is written) and to write the
 * renewal's record with write, whose actor is set to actor first. */
typedef struct kura_renew_on {
	kura_store *read, *write;
	pthread_mutex_t *lock;
	const char *actor;
} kura_renew_on;

/* Does the chain's last token verify now? (Broken evidence is never renewed, by
 * either kind of renewal.) 0 yes; KURA_EVERIFY with the reason in why; other
 * codes for failures to read. */
int kura_renew_check_chain(kura_store *st, const char *start, STACK_OF(X509) *anchors, int64_t now, kura_error *why);

/* Logs why chain start was NOT renewed (its last token does not verify now:
 * why) and what a person can do: trust a TSA root that is not trusted, or, for
 * evidence that expired, time-stamp the documents afresh. */
void kura_renew_log_refusal(kura_store *st, const char *start, const char *why);

/* starts: n chain start IDs (KURA_ID_LEN characters each). */
int kura_renew_timestamps(kura_renew_result *res, kura_store *st, const char *starts, size_t n,
			  const kura_stamper_options *tsa, STACK_OF(X509) *anchors, kura_error *err);

/* objects: n object IDs. md: the new chain's hash algorithm. */
int kura_renew_hashtree(kura_renew_result *res, kura_store *st, const char *objects, size_t n, const EVP_MD *md,
			const kura_stamper_options *tsa, kura_error *err);

/* The same two, reading and writing where on says. */
int kura_renew_timestamps_on(kura_renew_result *res, const kura_renew_on *on, const char *starts, size_t n,
			     const kura_stamper_options *tsa, STACK_OF(X509) *anchors, kura_error *err);
int kura_renew_hashtree_on(kura_renew_result *res, const kura_renew_on *on, const char *objects, size_t n,
			   const EVP_MD *md, const kura_stamper_options *tsa, kura_error *err);

#endif
