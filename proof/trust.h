/* The trust folder of a store: STORE/trust/tsa.pem (roots of foreign TSAs,
 * checked on every time-stamp from a remote TSA and when verifying; read by
 * tsa_setup.c) and STORE/trust/signers.pem (roots of document signers). */
#ifndef KURA_TRUST_H
#define KURA_TRUST_H

#include "kura/store.h"

typedef enum kura_trust_kind {
	KURA_TRUST_SIGNERS, /* trust/signers.pem */
	KURA_TRUST_TSA,     /* trust/tsa.pem */
} kura_trust_kind;

/* "signers" or "tsa": how a kind is named in files and messages. */
const char *kura_trust_kind_name(kura_trust_kind kind);

/* Adds the CA certificates of the PEM (or DER) file file to the store's anchors
 * of that kind, each logged in the audit trail (st open for writing: its lock
 * serialises changes). KURA_EINPUT, nothing written, if one is not a CA.
 * *added receives how many were added. */
int kura_trust_add(int *added, kura_store *st, kura_trust_kind kind, const char *file, kura_error *err);

#endif
