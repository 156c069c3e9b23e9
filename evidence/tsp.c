/* RFC 3161 requests and response checks (see tsp.h). The response is decoded
 * with a template of our own, so the token's bytes stay exactly as received
 * (OpenSSL's TS_RESP would re-encode it through PKCS7, which rejects tokens that
 * carry OCSP responses). */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ts.h>

#include "evidence/tsp.h"
#include "evidence/tst.h"

typedef struct {
	ASN1_TYPE *status; /* PKIStatusInfo, decoded with d2i_TS_STATUS_INFO */
	ASN1_TYPE *token;  /* OPTIONAL ContentInfo, raw */
} KURA_TSRESP;

ASN1_SEQUENCE(KURA_TSRESP) = {
	ASN1_SIMPLE(KURA_TSRESP, status, ASN1_ANY),
	ASN1_OPT(KURA_TSRESP, token, ASN1_ANY),
} ASN1_SEQUENCE_END(KURA_TSRESP)

DECLARE_ASN1_FUNCTIONS(KURA_TSRESP)
IMPLEMENT_ASN1_FUNCTIONS(KURA_TSRESP)

int kura_tsp_request_init(kura_tsp_request *r, const EVP_MD *md, const unsigned char *imprint, kura_error *err)
{
	memset(r, 0, sizeof *r);
	r->md = md;
	memcpy(r->imprint, imprint, (size_t)EVP_MD_get_size(md));
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *nonce = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int n = -1;
	if (RAND_bytes((unsigned char *)&r->nonce, sizeof r->nonce) != 1)
		goto out;
	r->nonce &= 0x7fffffffffffffffull;
	if (req && mi && alg && nonce && TS_REQ_set_version(req, 1) &&
	    X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_UNDEF, NULL) &&
	    TS_MSG_IMPRINT_set_algo(mi, alg) && TS_MSG_IMPRINT_set_msg(mi, r->imprint, EVP_MD_get_size(md)) &&
	    TS_REQ_set_msg_imprint(req, mi) && ASN1_INTEGER_set_uint64(nonce, r->nonce) && TS_REQ_set_nonce(req, nonce) &&
	    TS_REQ_set_cert_req(req, 1))
		n = i2d_TS_REQ(req, &der);
out:
	TS_REQ_free(req);
	TS_MSG_IMPRINT_free(mi);
	X509_ALGOR_free(alg);
	ASN1_INTEGER_free(nonce);
	if (n <= 0 || !(r->der = malloc((size_t)n))) {
		OPENSSL_free(der);
		ERR_clear_error();
		return kura_error_set(err, KURA_EINTERNAL, "building a time-stamp request failed");
	}
	memcpy(r->der, der, (size_t)n);
	r->len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

void kura_tsp_request_clear(kura_tsp_request *r)
{
	free(r->der);
	r->der = NULL;
}

static void status_text(TS_STATUS_INFO *si, char *buf, size_t n)
{
	const STACK_OF(ASN1_UTF8STRING) *text = TS_STATUS_INFO_get0_text(si);
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	int len = 0;
	len = snprintf(buf, n, "status %ld", status);
	for (int i = 0; i < sk_ASN1_UTF8STRING_num(text) && (size_t)len < n; i++)
		len += snprintf(buf + len, n - (size_t)len, ": %s",
				(const char *)ASN1_STRING_get0_data(sk_ASN1_UTF8STRING_value(text, i)));
}

int kura_tsp_check(unsigned char **token, size_t *tlen, const kura_tsp_request *r, const unsigned char *resp,
		   size_t rlen, STACK_OF(X509) *anchors, kura_error *err)
{
	const unsigned char *p = resp;
	KURA_TSRESP *tr = d2i_KURA_TSRESP(NULL, &p, (long)rlen);
	kura_tst *t = NULL;
	int rc = 0;
	TS_STATUS_INFO *si = NULL;
	if (tr && tr->status->type == V_ASN1_SEQUENCE) {
		const unsigned char *q = ASN1_STRING_get0_data(tr->status->value.sequence);
		si = d2i_TS_STATUS_INFO(NULL, &q, ASN1_STRING_length(tr->status->value.sequence));
	}
	if (!tr || p != resp + rlen || !si) {
		rc = kura_error_set(err, KURA_EVERIFY, "the TSA's answer is not a TimeStampResp (%zu bytes of garbage)", rlen);
		goto out;
	}
	long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(si));
	if (status != TS_STATUS_GRANTED && status != TS_STATUS_GRANTED_WITH_MODS) {
		char why[512];
		status_text(si, why, sizeof why);
		rc = kura_error_set(err, KURA_EVERIFY, "the TSA refused the request (%s)", why);
		goto out;
	}
	if (!tr->token || tr->token->type != V_ASN1_SEQUENCE) {
		rc = kura_error_set(err, KURA_EVERIFY, "the TSA granted the request but sent no token");
		goto out;
	}
	const unsigned char *tb = ASN1_STRING_get0_data(tr->token->value.sequence);
	size_t tblen = (size_t)ASN1_STRING_length(tr->token->value.sequence);
	if ((rc = kura_tst_parse(&t, tb, tblen, err)) != 0)
		goto out;
	size_t ilen;
	const unsigned char *imprint = kura_tst_imprint(t, &ilen);
	if (kura_tst_imprint_nid(t) != EVP_MD_get_type(r->md) || ilen != (size_t)EVP_MD_get_size(r->md) ||
	    memcmp(imprint, r->imprint, ilen) != 0) {
		rc = kura_error_set(err, KURA_EVERIFY, "the TSA's token is over another imprint than the one requested");
		goto out;
	}
	uint64_t nonce = 0;
	const ASN1_INTEGER *tn = kura_tst_nonce(t);
	if (!tn || ASN1_INTEGER_get_uint64(&nonce, tn) != 1 || nonce != r->nonce) {
		rc = kura_error_set(err, KURA_EVERIFY, "the TSA's token does not carry the request's nonce (a replayed answer?)");
		goto out;
	}
	if ((rc = kura_tst_verify(t, anchors, NULL, kura_tst_gentime(t), err)) != 0)
		goto out;
	if (!(*token = malloc(tblen))) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(*token, tb, tblen);
	*tlen = tblen;
out:
	ERR_clear_error();
	kura_tst_free(t);
	TS_STATUS_INFO_free(si);
	KURA_TSRESP_free(tr);
	return rc;
}

static ASN1_TYPE *raw_sequence(const unsigned char *der, size_t len)
{
	ASN1_STRING *str = ASN1_STRING_new();
	ASN1_TYPE *t = ASN1_TYPE_new();
	if (!str || !t || !ASN1_STRING_set(str, der, (int)len)) {
		ASN1_STRING_free(str);
		ASN1_TYPE_free(t);
		return NULL;
	}
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, str);
	return t;
}

int kura_tsp_response(unsigned char **out, size_t *len, const unsigned char *status, size_t slen,
		      const unsigned char *token, size_t tlen, kura_error *err)
{
	KURA_TSRESP *r = KURA_TSRESP_new();
	unsigned char *der = NULL;
	int n = -1;
	if (r) {
		ASN1_TYPE_free(r->status);
		r->status = raw_sequence(status, slen);
		r->token = token ? raw_sequence(token, tlen) : NULL;
		if (r->status && (!token || r->token))
			n = i2d_KURA_TSRESP(r, &der);
	}
	KURA_TSRESP_free(r);
	if (n <= 0 || !(*out = malloc((size_t)n))) {
		OPENSSL_free(der);
		return kura_error_set(err, KURA_EINTERNAL, "encoding a time-stamp response failed");
	}
	memcpy(*out, der, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}
