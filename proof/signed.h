/* Signed documents in a store: what ingest keeps beside a CMS-signed document
 * (its detached signature and the validation data collected at ingest, members
 * of one data object group that the evidence covers), and the signature's
 * verdict later, from those members alone, at the time the evidence proves. */
#ifndef KURA_SIGNED_H
#define KURA_SIGNED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/verify.h"
#include "kura/ingest.h"
#include "kura/store.h"

typedef struct kura_signed {
	kura_member members[2]; /* the detached signature (if any), then the validation data */
	size_t nmembers;
	json_t *report;         /* the signature as found at ingest */
	unsigned char *sig, *vdata;
	char sig_name[256], vdata_name[256];
} kura_signed;

/* Checks the signature of the document at path (sig: a detached signature, or
 * NULL when the document is an attached one), collects its validation data and
 * fills out, to be passed to kura_ingest_add_group. Errors: KURA_EINPUT when the
 * signature is not CMS or does not belong to the document, KURA_EIO when
 * revocation data could not be had (unless allow_no_revocation), KURA_EVERIFY
 * when the signature is not valid now (unless accept_invalid); each says what
 * to do. out is filled (clear it) only on success. */
int kura_signed_prepare(kura_signed *out, kura_store *st, const char *path, const unsigned char *sig, size_t siglen,
			const char *sig_name, const kura_signed_options *o, kura_error *err);
/* The same for a document given as bytes (the preservation service's), named
 * name, with its detached signature sig (required). */
int kura_signed_prepare_bytes(kura_signed *out, kura_store *st, const char *name, const unsigned char *bytes,
			      size_t len, const unsigned char *sig, size_t siglen, const char *sig_name,
			      const kura_signed_options *o, kura_error *err);
void kura_signed_clear(kura_signed *s);

/* The store's trust anchors for document signers (kura trust add --signers). */
int kura_signed_anchors(STACK_OF(X509) **out, kura_store *st, kura_error *err);

/* Decides object id's signature at proven_ms from its stored members (a
 * signature time-stamp checked against tsa_anchors). *report is NULL when the
 * object is not signed. */
int kura_signed_verify(json_t **report, kura_store *st, const char *id, STACK_OF(X509) *anchors,
		       STACK_OF(X509) *tsa_anchors, int64_t proven_ms, kura_error *err);

/* Decides the signature of a data object group given as files (g: the document,
 * then the detached signature when detached, then the validation data) at the
 * time report proves, and adds it to report (kura_er_report_signature). */
int kura_signed_check_group(json_t *report, kura_er_group *g, int detached, STACK_OF(X509) *signers,
			    STACK_OF(X509) *tsa_anchors, kura_error *err);

#endif
