/* Verification of an RFC 4998 Evidence Record (section 5.3, with the tolerant
 * rules of ERS-RULES) into a report that names every chain and archive
 * time-stamp: its genTime, TSA, algorithms, the rule that matched, the time it
 * was checked at and why it failed.
 *
 * integrity: the hash trees, renewals and ordering alone.
 * trust:     each token's signature, certificate path, revocation (from the data
 *            the token carries) and algorithms at the time of the next
 *            time-stamp that covers it (the last one: at_ms).
 * verdict:   invalid if either is invalid; indeterminate if trust could not be
 *            decided (no trust anchors); else valid. */
#ifndef KURA_VERIFY_H
#define KURA_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kura/error.h"

#define KURA_ER_MAX_MEMBERS 16

/* Writes the digests, under md, of the data object the record protects: one, or
 * one per member of a data object group (at most KURA_ER_MAX_MEMBERS). */
typedef int (*kura_er_digest_fn)(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err);

/* Remembers token checks (by the SHA-256 of the token's bytes and the time it was
 * checked at), so that verifying a million objects of one seal checks its token
 * once. */
typedef struct kura_trust_cache kura_trust_cache;
int kura_trust_cache_new(kura_trust_cache **out, kura_error *err);
void kura_trust_cache_free(kura_trust_cache *c);

typedef struct kura_er_verify_opts {
	STACK_OF(X509) *anchors; /* empty or NULL: trust is indeterminate */
	int64_t at_ms;           /* "now" for the last token */
	kura_er_digest_fn digest;
	void *digest_ud;
	kura_trust_cache *cache; /* may be NULL */
	/* May be NULL: algorithms are then not judged. Else when an algorithm (kura's
	 * names: "sha256", "rsa-2048", "ec-p256", ...) stops sufficing, in ms
	 * (INT64_MAX: no end known): each token's key and signature hash must still
	 * suffice when it is checked, each chain's hash until the next chain starts
	 * (or at_ms for the last). */
	int64_t (*algorithm_end)(void *ud, const char *name);
	void *algorithm_ud;
} kura_er_verify_opts;

/* A kura_er_digest_fn over the bytes of a file (digest_ud: a kura_er_file that
 * names it; each algorithm's digest is computed once and remembered). */
typedef struct kura_er_file {
	const char *path;
	int cached_nid[8];
	unsigned char cached[8][EVP_MAX_MD_SIZE];
	int ncached;
} kura_er_file;
int kura_er_digest_file(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err);

/* The same over the files of a data object group (document first, then its
 * signature and validation data): digest_ud is a kura_er_group. */
typedef struct kura_er_group {
	kura_er_file member[3];
	size_t n;
} kura_er_group;
int kura_er_digest_group(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err);

/* Verifies the DER record der. A record that cannot be parsed is a verdict
 * (invalid, with the reason), not an error: the return value is non-zero only
 * when the data could not be hashed or memory ran out. *report is the caller's. */
int kura_er_verify(json_t **report, const unsigned char *der, size_t len, const kura_er_verify_opts *o,
		   kura_error *err);

/* The time a report proves its data existed: the genTime of its first archive
 * time-stamp. KURA_ENOTFOUND when the report has none. */
int kura_er_report_proven(int64_t *ms, json_t *report);

/* Adds a document signature's verdict (from kura_sig_check; sig is stolen) to
 * a record's report: "signature" (valid | invalid | indeterminate),
 * "signature_at" (the proven time it was decided at) and "signature_details".
 * An invalid signature makes the verdict invalid; an undecided one makes a
 * valid verdict indeterminate. */
void kura_er_report_signature(json_t *report, json_t *sig);

#endif
