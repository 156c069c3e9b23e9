/* Revocation of certificates: fetching the evidence (OCSP from the certificate's
 * AIA, RFC 6960; CRLs from its distribution points, RFC 5280) into validation
 * data, and deciding, from that data alone, a certificate's status at a past
 * time. Nothing here asks the network when deciding: a verification in 2050 must
 * give the answer it gave in 2026. */
#ifndef KURA_REVOCATION_H
#define KURA_REVOCATION_H

#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "evidence/vdata.h"
#include "kura/error.h"
#include "kura/trust.h"

/* Adds to v revocation data for cert (issued by issuer): an OCSP response from
 * each responder in the AIA until one answers, else the CRLs of its distribution
 * points. Certificates the responder used are added too. KURA_EIO with every
 * failure named when no source answered; KURA_EVERIFY when an answer is not
 * about cert or not signed by whom it must be. */
int kura_revocation_fetch(kura_vdata *v, X509 *cert, X509 *issuer, long timeout_s, kura_error *err);

/* Whether v holds revocation data for cert from a source its issuer authorised. */
int kura_revocation_known(const kura_vdata *v, X509 *cert, X509 *issuer);

enum {
	KURA_REV_GOOD = 0,          /* not revoked, as of the data's time */
	KURA_REV_REVOKED_LATER = 1, /* revoked after at_ms: does not matter at at_ms */
	KURA_REV_REVOKED = 2,       /* revoked at or before at_ms */
	KURA_REV_UNKNOWN = 3,       /* no usable data */
};

/* cert's status at at_ms from v: one of KURA_REV_*. *entry (the caller's) says
 * which source answered (ocsp, crl), as of when, and the revocation time and
 * reason. *revoked_at and *reason (each may be NULL) get the revocation's time
 * and CRL reason code (-1: none given) when it is revoked. */
int kura_revocation_status(json_t **entry, const kura_vdata *v, X509 *cert, X509 *issuer, int64_t at_ms,
			   int64_t *revoked_at, int *reason);

/* Whether a revocation for this CRL reason leaves what the certificate signed
 * before it trustworthy (superseded, cessationOfOperation, affiliationChanged,
 * privilegeWithdrawn) rather than suspect (keyCompromise, cACompromise,
 * unspecified, no reason). */
int kura_revocation_benign(int reason);

/* Whether cert names any OCSP responder or CRL distribution point to ask. */
int kura_revocation_has_sources(X509 *cert);

#endif
