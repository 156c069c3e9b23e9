/* Trust: the certificates and revocation data a caller gives kura, and the
 * trust folder of a store: STORE/trust/tsa.pem (roots of foreign TSAs, checked
 * on every time-stamp from a remote TSA and when verifying) and
 * STORE/trust/signers.pem (roots of document signers). */
#ifndef KURA_PUBLIC_TRUST_H
#define KURA_PUBLIC_TRUST_H

#include <stdio.h>

#include <openssl/x509.h>

#include "kura/error.h"

typedef struct kura_store kura_store;

/* Reads every certificate of a PEM file (or one DER certificate) into out (the
 * caller's stack; the certificates become its): at most 1000 in a file of at
 * most 16 MiB (more is no list of trust anchors: an error). */
int kura_load_certs(STACK_OF(X509) *out, const char *path, kura_error *err);
/* The same from an open file (borrowed); what names it in messages. */
int kura_load_certs_from(STACK_OF(X509) *out, FILE *f, const char *what, kura_error *err);

/* Appends the CRLs of a file (PEM, one or more, or one DER) to out (the
 * caller's stack). KURA_EINPUT when it holds none. */
int kura_revocation_load_crls(STACK_OF(X509_CRL) *out, const char *path, kura_error *err);

typedef enum kura_trust_kind {
	KURA_TRUST_SIGNERS, /* trust/signers.pem */
	KURA_TRUST_TSA,     /* trust/tsa.pem */
} kura_trust_kind;

/* "signers" or "tsa": how a kind is named in files and messages (static). */
const char *kura_trust_kind_name(kura_trust_kind kind);

/* Adds the CA certificates of the PEM (or DER) file file to the store's anchors
 * of that kind, each logged in the audit trail (st open for writing: its lock
 * serialises changes). KURA_EINPUT, nothing written, if one is not a CA.
 * *added receives how many were added. */
int kura_trust_add(int *added, kura_store *st, kura_trust_kind kind, const char *file, kura_error *err);

#endif
