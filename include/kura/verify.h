/* Verification: objects of a store against their evidence records
 * (proof/verify_store.c), and an Evidence Record against files, with no store
 * (proof/verify_files.c). Reports are JSON: "verdict" (valid | invalid |
 * indeterminate), "integrity", "trust", "chains" (one entry per chain, each
 * with its "ats"), "reason", and for a signed document its "signature".
 *
 * Verifying a store's objects against their evidence, as `kura verify` does:
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
 * not hold, it goes the full way (see proof/verify_store.c). */
#ifndef KURA_PUBLIC_VERIFY_H
#define KURA_PUBLIC_VERIFY_H

#include <stddef.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "kura/policy.h"
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
/* Verifies as of at_ms instead of now (`kura verify --at`): the last time-stamp
 * of each chain is judged at that time, so a certificate or an algorithm that
 * ends before it, with no renewal after, fails as it will then. Call it before
 * the first check. */
void kura_verifier_set_at(kura_verifier *v, int64_t at_ms);

/* The report of object id (without its "id"): verdict, integrity, trust, chains,
 * reason, and for a signed document its signature (see evidence/verify.h). An
 * object that is not sealed yet is indeterminate, damaged bytes or a damaged
 * record are invalid: a verdict, not an error. *report is a new reference, the
 * caller's to json_decref; objects with the same evidence may get one shared
 * report, so treat it as read-only. Errors: KURA_ENOTFOUND (no such object),
 * I/O and internal failures. */
int kura_verifier_check(json_t **report, kura_verifier *v, const char *id, kura_error *err);

/* Calls fn with the report of every object of the store but the audit trail's
 * checkpoints (kura's own objects: `kura log --verify` checks them), in ingest order (the
 * report as kura_verifier_check gives it, borrowed for the call). */
typedef int (*kura_verifier_report_fn)(void *ud, const char *id, json_t *report, kura_error *err);
int kura_verifier_each(kura_verifier *v, kura_verifier_report_fn fn, void *ud, kura_error *err);
/* The same for the objects ids[0..n), in that order (KURA_ENOTFOUND for an
 * unknown one, after the ones before it were reported). */
int kura_verifier_each_of(kura_verifier *v, const char *const *ids, size_t n, kura_verifier_report_fn fn, void *ud,
			  kura_error *err);

/* ---- an Evidence Record against files, no store needed (what `kura verify-er` does) ----
 * The full RFC 4998 walk over the document; for a signed document (a data
 * object group: document, detached signature if any, validation data) every
 * member's hash must be covered, and the signature is decided at the time the
 * record proves. */
typedef struct kura_er_files {
	const char *data;            /* the document */
	const char *er;              /* its DER Evidence Record */
	const char *signature;       /* a detached signature of it, or NULL */
	const char *validation_data; /* the group's validation data (needed with signature), or NULL: unsigned */
	STACK_OF(X509) *anchors;     /* trusted TSA roots (borrowed) */
	STACK_OF(X509) *signers;     /* trusted roots of document signers (borrowed) */
	kura_policy *policy;         /* every algorithm must have sufficed when relied on; NULL: not judged */
	const char *at;              /* verify as of this time (RFC 3339); NULL: now */
} kura_er_files;

/* *report (the caller's, json_decref) holds the verdict and its reasons, as
 * kura_er_verify gives it. A record that cannot be parsed is a verdict; errors
 * are unreadable files and bad times (KURA_EINPUT) and failures to compute. */
int kura_er_verify_files(json_t **report, const kura_er_files *f, kura_error *err);

#endif
