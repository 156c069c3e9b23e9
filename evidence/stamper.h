/* Getting one checked time-stamp token for a hash, from the embedded TSA or from
 * remote TSAs over HTTP (RFC 3161 section 3.4), failing over from one URL to the
 * next: also past a TSA whose token does not chain to a trusted root (a TSA that
 * moved to a new root), whose failure names that root, its fingerprint and how to
 * trust it. Each failure is reported on stderr; only when every TSA failed is it
 * an error. */
#ifndef KURA_STAMPER_H
#define KURA_STAMPER_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "evidence/tsa.h"
#include "kura/error.h"

typedef struct kura_stamper_options {
	kura_tsa *embedded;          /* used when no URL is given; borrowed */
	const char *const *urls;     /* remote TSAs, tried in order */
	size_t nurls;
	STACK_OF(X509) *anchors;     /* for remote tokens; NULL: path not checked */
	long timeout_s;              /* per HTTP attempt; 0: 30 */
	int attempts;                /* per URL; 0: 2 */
	/* how to trust a TSA's new root ("kura trust add STORE --tsa ROOT.pem"), added
	 * to the failure of a token whose root is not trusted; NULL: nothing added */
	const char *trust_hint;
	/* told each TSA's outcome, when it is known (may be NULL): its name, and the
	 * token it gave (failure NULL) or why it failed (token NULL); all borrowed */
	void (*outcome)(void *ud, const char *tsa, const unsigned char *token, size_t len, const char *failure);
	void *outcome_ud;
} kura_stamper_options;

/* Obtains a token over imprint (a digest under md). *token is the token's
 * ContentInfo as the TSA sent it (malloc'd, the caller's); *from names the TSA
 * that answered (static or an element of urls). KURA_EIO when no TSA answered. */
int kura_stamp(unsigned char **token, size_t *len, const char **from, const kura_stamper_options *o,
	       const EVP_MD *md, const unsigned char *imprint, kura_error *err);

#endif
