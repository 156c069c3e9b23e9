/* RFC 3161 time-stamp tokens: parsing a token from its bytes, what it says
 * (genTime, imprint, TSA, signature algorithm), and verifying it against trust
 * anchors at a given time (signature, certificate path, the TSA certificate's
 * critical timeStamping EKU, ESSCertID/ESSCertIDv2). */
#ifndef KURA_TST_H
#define KURA_TST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/cms.h>
#include <openssl/x509.h>

#include "kura/error.h"

typedef struct kura_tst kura_tst;

/* Parses a ContentInfo holding a SignedData with a TSTInfo (BER accepted; every
 * byte must belong to it). KURA_EVERIFY when it is not a time-stamp token. */
int kura_tst_parse(kura_tst **out, const unsigned char *der, size_t len, kura_error *err);
void kura_tst_free(kura_tst *t);

int64_t kura_tst_gentime(const kura_tst *t);
/* The imprint: its hash algorithm's NID and the hashed message (owned by t). */
int kura_tst_imprint_nid(const kura_tst *t);
/* The imprint algorithm's OID in dotted form (also for unknown algorithms). */
void kura_tst_imprint_oid(const kura_tst *t, char *buf, size_t n);
const unsigned char *kura_tst_imprint(const kura_tst *t, size_t *len);
/* The signer certificate if the token carries it (owned by t), else NULL. */
X509 *kura_tst_signer(const kura_tst *t);
/* "CN=..., O=..." of the signer certificate (or the TSTInfo tsa field). */
void kura_tst_tsa_name(const kura_tst *t, char *buf, size_t n);
/* A certificate name as "CN=..., O=..." (RFC 2253 order, UTF-8 kept). */
void kura_name_text(const X509_NAME *name, char *buf, size_t n);
/* The signature algorithm, e.g. "sha256WithRSAEncryption", and key, e.g. "rsa-3072". */
void kura_tst_sig_alg(const kura_tst *t, char *buf, size_t n);
void kura_tst_key_alg(const kura_tst *t, char *buf, size_t n);
/* The hash of the token's signature ("sha256", ...), or NULL if kura does not know it. */
const char *kura_tst_signature_hash(const kura_tst *t);
/* kura's name of a public key's algorithm and size: "rsa-3072", "ec-p256", ... */
void kura_key_alg_name(EVP_PKEY *key, char *buf, size_t n);
/* 0 if si's signatureAlgorithm fits key (its type; RSA, EC or EdDSA) and names
 * no other digest than si's digestAlgorithm; else -1 and why. OpenSSL verifies
 * with the key's own algorithm and does not look at the OID, so a token that
 * claims RSA over an EC key would otherwise pass. */
int kura_signer_alg_check(CMS_SignerInfo *si, EVP_PKEY *key, char *why, size_t n);
/* The certificates the token carries (owned by t). */
STACK_OF(X509) *kura_tst_certs(const kura_tst *t);

/* The TSTInfo nonce, or NULL (owned by t). */
const ASN1_INTEGER *kura_tst_nonce(const kura_tst *t);

/* When a token's certificates lead to a root that is not among anchors: 1, and
 * in buf that root's name and SHA-256 fingerprint (or, when the token does not
 * carry it, its name alone). 0 when the path reaches an anchor or the token
 * carries no signer. kura_tst_verify's reason for such a token ends with
 * "its root ROOT " KURA_TST_UNTRUSTED_ROOT, which callers that know how to
 * trust a root (a store) look for to add the command. */
#define KURA_TST_UNTRUSTED_ROOT "is not a trusted TSA root"
int kura_tst_untrusted_root(const kura_tst *t, STACK_OF(X509) *anchors, char *buf, size_t n);
/* A certificate's SHA-256 fingerprint as `openssl x509 -fingerprint -sha256`
 * prints it ("AB:CD:..."; buf holds at least 96 bytes). */
void kura_cert_fingerprint(X509 *cert, char *buf, size_t n);

/* Verifies signature and signer at time at_ms against anchors; extra are
 * further untrusted intermediates. anchors NULL checks everything but the path:
 * the signature with the certificate the token carries, its critical
 * timeStamping EKU and the ESSCertID. KURA_EVERIFY with the reason on failure. */
int kura_tst_verify(const kura_tst *t, STACK_OF(X509) *anchors, STACK_OF(X509) *extra, int64_t at_ms,
		    kura_error *err);

/* GeneralizedTime to milliseconds since 1970 (fractions kept to the ms). */
int kura_asn1_time_ms(int64_t *out, const ASN1_GENERALIZEDTIME *t);

#endif
