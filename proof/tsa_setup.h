/* Which TSAs a store uses and which TSA roots it trusts.
 *
 * A store with no TSA URLs uses its embedded TSA in STORE/tsa. Trusted TSA roots
 * are the embedded TSA's anchors (every root it ever had) plus the roots added
 * with `kura trust add STORE --tsa CA.pem` (STORE/trust/tsa.pem).
 * KURA_TSA_TIMEOUT (seconds) bounds each HTTP attempt; the default is 30. */
#ifndef KURA_TSA_SETUP_H
#define KURA_TSA_SETUP_H

#include <openssl/x509.h>

#include "evidence/stamper.h"
#include "kura/store.h"
#include "kura/tsa.h"

/* The init step that creates the embedded TSA (a kura_init_options.prepare);
 * ud is a kura_tsa_options or NULL for the defaults. */
int kura_tsa_setup_embedded(void *ud, const char *store_path, kura_error *err);

/* The certificates in the store's files named (relative to the store; absent
 * files are skipped; files ends with NULL). A new stack, the caller's. */
int kura_store_certs(STACK_OF(X509) **out, kura_store *st, const char *const *files, kura_error *err);

/* Every TSA root the store trusts (a new stack, the caller's: sk_X509_pop_free). */
int kura_tsa_setup_anchors(STACK_OF(X509) **out, kura_store *st, kura_error *err);

/* Stamper options for the store; release with kura_tsa_setup_close. Each TSA's
 * outcome (success with its token, or failure and why) is noted in the store's
 * state file (archive/state.h) for `kura status` and the daemon's alerts. */
typedef struct kura_tsa_setup {
	kura_stamper_options opts;
	kura_tsa *embedded;
	STACK_OF(X509) *anchors;
	char trust_hint[4200]; /* opts.trust_hint: the command that trusts a TSA root in this store */
	char store[4096]; /* the store's folder, where outcomes are noted */
} kura_tsa_setup;

/* s must stay where it is while open (opts points into it). */
int kura_tsa_setup_open(kura_tsa_setup *s, kura_store *st, kura_error *err);
void kura_tsa_setup_close(kura_tsa_setup *s);

#endif
