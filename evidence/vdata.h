/* Validation data of a document signature: the certificates of its paths and
 * the revocation data (CRLs, OCSP responses) collected when it came in, kept in
 * the store as a member of the document's data object group, so that the
 * evidence record covers them and the signature can be decided decades later
 * without asking anyone. One DER structure made of CAdES types (RFC 5126,
 * explicit-tag module):
 *
 *   KuraValidationData ::= SEQUENCE {
 *       version       INTEGER (1),
 *       collected     GeneralizedTime,       -- when kura gathered it
 *       certificates  CertificateValues,     -- SEQUENCE OF Certificate
 *       revocation    RevocationValues }     -- crlVals [0], ocspVals [1] (BasicOCSPResponse)
 */
#ifndef KURA_VDATA_H
#define KURA_VDATA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "kura/error.h"

typedef struct kura_vdata kura_vdata;

/* An empty set, collected at collected_ms. */
int kura_vdata_new(kura_vdata **out, int64_t collected_ms, kura_error *err);
/* Parses DER (every byte must belong to it); KURA_EVERIFY when it is not one. */
int kura_vdata_parse(kura_vdata **out, const unsigned char *der, size_t len, kura_error *err);
void kura_vdata_free(kura_vdata *v);

/* Adds copies (up-refs) of what is not in the set yet. */
int kura_vdata_add_cert(kura_vdata *v, X509 *cert, kura_error *err);
int kura_vdata_add_crl(kura_vdata *v, X509_CRL *crl, kura_error *err);
int kura_vdata_add_ocsp(kura_vdata *v, OCSP_BASICRESP *resp, kura_error *err);

/* The contents (owned by v). */
int64_t kura_vdata_collected(const kura_vdata *v);
STACK_OF(X509) *kura_vdata_certs(const kura_vdata *v);
STACK_OF(X509_CRL) *kura_vdata_crls(const kura_vdata *v);
int kura_vdata_ocsp_count(const kura_vdata *v);
OCSP_BASICRESP *kura_vdata_ocsp(const kura_vdata *v, int i);

/* The DER encoding (malloc'd, the caller's); KURA_EVERIFY when it would not read back. */
int kura_vdata_encode(unsigned char **der, size_t *len, const kura_vdata *v, kura_error *err);

#endif
