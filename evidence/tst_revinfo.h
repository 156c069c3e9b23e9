/* Revocation data inside a time-stamp token: the RevocationInfoChoices of its
 * SignedData (RFC 5652) — CRLs, and OCSP responses as "other" revocation info
 * (RFC 5940, id-ri-ocsp-response) — together with its certificates. This is
 * where ERS-RULES puts the validation data of an archive time-stamp when it is
 * renewed, so the record carries it to every later verifier. */
#ifndef KURA_TST_REVINFO_H
#define KURA_TST_REVINFO_H

#include <stddef.h>

#include <openssl/cms.h>

#include "evidence/vdata.h"
#include "kura/error.h"

/* The certificates, CRLs and OCSP responses a parsed token carries (*out: the caller's). */
int kura_tst_revinfo(kura_vdata **out, CMS_ContentInfo *cms, kura_error *err);

/* The token with v's certificates, CRLs and OCSP responses added where missing,
 * re-encoded in DER (*out malloc'd, the caller's; *olen 0 and *out NULL when
 * nothing was missing). The SignedData version becomes 5 when it carries OCSP. */
int kura_tst_add_revinfo(unsigned char **out, size_t *olen, const unsigned char *tok, size_t len, const kura_vdata *v,
			 kura_error *err);

#endif
