/* The RFC 3161 protocol from the requester's side: building a TimeStampReq
 * (nonce, certReq, parameters of the hash AlgorithmIdentifier absent) and
 * checking a TimeStampResp: status granted, imprint and nonce as asked, the
 * token's signature, its signer's critical timeStamping EKU and ESSCertID(v2),
 * and, when trust anchors are known, its certificate path at genTime. */
#ifndef KURA_TSP_H
#define KURA_TSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "kura/error.h"

typedef struct kura_tsp_request {
	unsigned char *der; /* malloc'd */
	size_t len;
	const EVP_MD *md;
	unsigned char imprint[EVP_MAX_MD_SIZE];
	uint64_t nonce;
} kura_tsp_request;

int kura_tsp_request_init(kura_tsp_request *r, const EVP_MD *md, const unsigned char *imprint, kura_error *err);
void kura_tsp_request_clear(kura_tsp_request *r);

/* Checks resp against r. On success *token is the token's ContentInfo exactly as
 * the TSA sent it (malloc'd, the caller's). anchors NULL: the path is not checked
 * (a TSA nobody told kura to trust), everything else is. KURA_EVERIFY when the
 * response is unusable. */
int kura_tsp_check(unsigned char **token, size_t *tlen, const kura_tsp_request *r, const unsigned char *resp,
		   size_t rlen, STACK_OF(X509) *anchors, kura_error *err);

/* A DER TimeStampResp from a DER PKIStatusInfo and, if granted, a token
 * (ContentInfo); *out is malloc'd, the caller's. */
int kura_tsp_response(unsigned char **out, size_t *len, const unsigned char *status, size_t slen,
		      const unsigned char *token, size_t tlen, kura_error *err);

#endif
