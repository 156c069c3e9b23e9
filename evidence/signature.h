/* CMS (RFC 5652) signatures of documents, attached (.p7m: the document inside)
 * or detached (.p7s beside it): checking one when it comes in, collecting its
 * validation data (certificate paths, OCSP responses, CRLs), and deciding it
 * again decades later from that data alone, at the time the evidence proves.
 *
 * The time that matters is the proven time: the genTime of the first archive
 * time-stamp over the signature (or now, at ingest) or, earlier, that of a
 * signature time-stamp the signer obtained (CAdES-T, RFC 5126: the unsigned
 * attribute id-aa-signatureTimeStampToken over the signature value), when it
 * verifies against the TSA trust anchors. The signer's path must be valid at
 * that time and no certificate in it revoked at or before it; a revocation
 * after it does not invalidate (it is reported as a note). */
#ifndef KURA_SIGNATURE_H
#define KURA_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "evidence/vdata.h"
#include "kura/error.h"

typedef struct kura_sig kura_sig;

/* Parses a CMS SignedData (DER or PEM). KURA_EINPUT when it is not one. */
int kura_sig_parse(kura_sig **out, const unsigned char *data, size_t len, kura_error *err);
void kura_sig_free(kura_sig *s);
/* 1 when the signed document is inside the signature. */
int kura_sig_attached(const kura_sig *s);

/* For a detached signature: writes the digest under md of the signed document. */
typedef int (*kura_sig_content_fn)(void *ud, const EVP_MD *md, unsigned char *out, kura_error *err);

/* At ingest (now = at_ms): builds each signer's path against anchors and
 * collects validation data for every certificate in it: the CRLs given (may be
 * NULL), then OCSP or CRLs fetched over HTTP when fetch is set. *out (the
 * caller's) holds what was found even when fetching failed, which is then
 * KURA_EIO naming each source that failed. */
int kura_sig_collect(kura_vdata **out, const kura_sig *s, STACK_OF(X509) *anchors, STACK_OF(X509_CRL) *crls,
		     int fetch, long timeout_s, int64_t at_ms, kura_error *err);

/* Decides the signature at at_ms from the signature, the document (content;
 * NULL for attached) and the validation data v (NULL: none) alone; anchors are
 * the signers' trust anchors, tsa_anchors those for a signature time-stamp.
 * *report (the caller's) holds "signature": valid | invalid | indeterminate,
 * "proven_at", the signers with their paths and revocation status, "reason"
 * and "notes". Returns non-zero only when the document could not be read. */
int kura_sig_check(json_t **report, const kura_sig *s, kura_sig_content_fn content, void *ud, const kura_vdata *v,
		   STACK_OF(X509) *anchors, STACK_OF(X509) *tsa_anchors, int64_t at_ms, kura_error *err);

#endif
