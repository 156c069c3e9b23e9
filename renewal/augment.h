/* What a time-stamp renewal adds to the token it covers (ERS-RULES): the
 * certificates of the token's path it lacks and revocation data for them,
 * fetched at the time of the renewal (OCSP, CRLs; added as CMS revocation
 * info, see evidence/tst_revinfo.h). One renewal run covers many chains, so
 * each distinct token is augmented once, each TSA certificate's revocation data
 * fetched once, and a TSA whose tokens lack nothing has its path built once. */
#ifndef KURA_AUGMENT_H
#define KURA_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "evidence/tst.h"
#include "kura/error.h"

typedef struct kura_augmenter kura_augmenter;

/* anchors (borrowed, must outlive it): the TSA roots; now: the renewal's time. */
int kura_augmenter_new(kura_augmenter **out, STACK_OF(X509) *anchors, long timeout_s, int64_t now, kura_error *err);
void kura_augmenter_free(kura_augmenter *a);

/* The token last (its bytes: tok) with its validation data added: *aug is
 * malloc'd, the caller's, or NULL when nothing was missing. KURA_EVERIFY (why
 * in err) when the token with what was added fails verification now, e.g. its
 * TSA certificate was revoked for key compromise. */
int kura_augment(unsigned char **aug, size_t *auglen, kura_augmenter *a, const unsigned char *tok, size_t len,
		 const kura_tst *last, kura_error *err);

#endif
