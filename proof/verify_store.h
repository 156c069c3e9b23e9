/* Verifying a store's objects against their evidence, as `kura verify` does:
 * each object's stored bytes re-read and hashed, its evidence record's trees,
 * renewals and time-stamps checked (tokens against the store's TSA roots, with
 * algorithms judged by the store's policy), and a signed document's signature
 * decided at the time the evidence proves.
 *
 * The full way assembles each object's RFC 4998 record (as `kura evidence`
 * gives it) and verifies it on its own. A million objects of one seal share
 * everything in their records but their leaf and its path, so the verifier
 * checks a seal once the full way (with its first object) and every further
 * object only against its leaf; the report is then the same. Where that does
 * not hold, it goes the full way (see verify_store.c). */
#ifndef KURA_VERIFY_STORE_H
#define KURA_VERIFY_STORE_H

#include <jansson.h>

#include "kura/store.h"

typedef struct kura_verifier kura_verifier;

/* Flags of kura_verifier_new. */
enum {
	/* every object the full way: its record assembled and verified on its own */
	KURA_VERIFY_DEEP = 1,
};

/* Sets up verification of st's objects (st is borrowed and must outlive the
 * verifier): the store's TSA and signer roots, its policy, and now (KURA_NOW).
 * Free it with kura_verifier_free. */
int kura_verifier_new(kura_verifier **out, kura_store *st, int flags, kura_error *err);
void kura_verifier_free(kura_verifier *v);

/* The report of object id (without its "id"): verdict, integrity, trust, chains,
 * reason, and for a signed document its signature (see evidence/verify.h). An
 * object that is not sealed yet is indeterminate, damaged bytes or a damaged
 * record are invalid: a verdict, not an error. *report is a new reference, the
 * caller's to json_decref; objects with the same evidence may get one shared
 * report, so treat it as read-only. Errors: KURA_ENOTFOUND (no such object),
 * I/O and internal failures. */
int kura_verifier_check(json_t **report, kura_verifier *v, const char *id, kura_error *err);

/* Calls fn with the report of every object of the store, in ingest order (the
 * report as kura_verifier_check gives it, borrowed for the call). */
typedef int (*kura_verifier_report_fn)(void *ud, const char *id, json_t *report, kura_error *err);
int kura_verifier_each(kura_verifier *v, kura_verifier_report_fn fn, void *ud, kura_error *err);
/* The same for the objects ids[0..n), in that order (KURA_ENOTFOUND for an
 * unknown one, after the ones before it were reported). */
int kura_verifier_each_of(kura_verifier *v, const char *const *ids, size_t n, kura_verifier_report_fn fn, void *ud,
			  kura_error *err);

#endif
