/* The embedded TSA: a small RFC 3161 time-stamping authority that lives in a
 * folder (STORE/tsa for a store, any folder for `kura tsa serve --dir`).
 *
 * Layout: DIR/root.key DIR/root.pem (its own root CA), DIR/tsa.key DIR/tsa.pem
 * (the time-stamping certificate, critical EKU timeStamping), DIR/anchors.pem
 * (every root it ever used), DIR/tsa.json (validities and key types it was made
 * with). Keys are mode 0600 (the rest as the umask leaves it). Its clock is kura's clock, so
 * KURA_NOW sets genTime. It proves time only as far as this machine's clock is
 * trusted. The public part is kura/tsa.h (loading certificates: kura/trust.h);
 * here what only kura's modules use. */
#ifndef KURA_TSA_H
#define KURA_TSA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "kura/error.h"
#include "kura/trust.h"
#include "kura/tsa.h"

/* The TSA's current certificate (owned by t). */
X509 *kura_tsa_cert(kura_tsa *t);

/* Rolls the TSA in dir over: a new key and certificate, and a new root as well
 * when the root would end first. Old certificates are kept in dir/old, old keys
 * are destroyed, and anchors.pem keeps every root, so old tokens stay verifiable.
 * The switch is one rename (a journal, tsa_files.c): a crash at any point leaves
 * the old TSA or the new one, whole, and the next open finishes or undoes it. */
int kura_tsa_rollover(const char *dir, const char *key, kura_error *err);
/* The kind of key the TSA signs with now ("ec-p256", "rsa-2048", ...). */
void kura_tsa_key_alg(kura_tsa *t, char *buf, size_t n);

/* Every root the TSA ever used (owned by t). */
STACK_OF(X509) *kura_tsa_anchors(kura_tsa *t);

#endif
