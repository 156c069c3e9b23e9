/* Harness: RFC 3161 time-stamp tokens and TSA answers (evidence/tst.c, tsp.c).
 *
 * Input: a mode byte, then the bytes. Even: a token (ContentInfo with a TSTInfo)
 * is parsed, everything kura reads from it is read, and it is verified without
 * and with the fuzz anchors at its genTime and at a fixed time. Odd: a
 * TimeStampResp is checked as kura checks a TSA's answer, against a request
 * with the imprint and nonce the answer's own TSTInfo names (so the checks go
 * past them when the answer is well formed). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ts.h>

#include "evidence/tsp.h"
#include "evidence/tst.h"
#include "tests/fuzz/fuzz_common.h"

static void token(const uint8_t *data, size_t size)
{
	kura_tst *t = NULL;
	if (kura_tst_parse(&t, data, size, NULL) != 0)
		return;
	char buf[1024];
	size_t len;
	kura_tst_imprint_oid(t, buf, sizeof buf);
	kura_tst_imprint(t, &len);
	kura_tst_imprint_nid(t);
	kura_tst_signer(t);
	kura_tst_tsa_name(t, buf, sizeof buf);
	kura_tst_sig_alg(t, buf, sizeof buf);
	kura_tst_key_alg(t, buf, sizeof buf);
	kura_tst_signature_hash(t);
	kura_tst_certs(t);
	kura_tst_nonce(t);
	kura_tst_verify(t, NULL, NULL, kura_tst_gentime(t), NULL);
	kura_tst_verify(t, fuzz_anchors(), NULL, kura_tst_gentime(t), NULL);
	kura_tst_verify(t, fuzz_anchors(), NULL, FUZZ_NOW_MS, NULL);
	kura_tst_free(t);
}

/* The TSTInfo of a TimeStampResp, read without parsing the token's certificates
 * (OpenSSL 3.0 builds a public-key decoder for each, which was most of this
 * harness's time): the path below (definite lengths, or indefinite ones for the
 * elements entered). NULL otherwise: the caller then parses the whole answer. */
static const struct {
	int tag, cls, enter; /* enter the element, or skip it */
} tst_info_path[] = {
	{V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1},	  /* TimeStampResp */
	{V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 0},	  /*   status */
	{V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1},	  /*   ContentInfo */
	{V_ASN1_OBJECT, V_ASN1_UNIVERSAL, 0},	  /*     contentType */
	{0, V_ASN1_CONTEXT_SPECIFIC, 1},	  /*     [0] */
	{V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1},	  /*       SignedData */
	{V_ASN1_INTEGER, V_ASN1_UNIVERSAL, 0},	  /*         version */
	{V_ASN1_SET, V_ASN1_UNIVERSAL, 0},	  /*         digestAlgorithms */
	{V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, 1},	  /*         EncapsulatedContentInfo */
	{V_ASN1_OBJECT, V_ASN1_UNIVERSAL, 0},	  /*           eContentType */
	{0, V_ASN1_CONTEXT_SPECIFIC, 1},	  /*           [0] */
	{V_ASN1_OCTET_STRING, V_ASN1_UNIVERSAL, 1}, /*             the TSTInfo's DER */
};

static TS_TST_INFO *tst_info_of(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	long len = (long)size;
	for (size_t i = 0; i < sizeof tst_info_path / sizeof tst_info_path[0]; i++) {
		const unsigned char *q = p;
		long n;
		int tag, cls, constructed = tst_info_path[i].tag == V_ASN1_SEQUENCE || tst_info_path[i].tag == V_ASN1_SET ||
					    tst_info_path[i].cls == V_ASN1_CONTEXT_SPECIFIC;
		int rc = len > 0 ? ASN1_get_object(&q, &n, &tag, &cls, len) : 0x80;
		int indefinite = rc == (V_ASN1_CONSTRUCTED | 1) && tst_info_path[i].enter; /* BER, as some TSAs answer */
		if ((rc != (constructed ? V_ASN1_CONSTRUCTED : 0) && !indefinite) || tag != tst_info_path[i].tag ||
		    cls != tst_info_path[i].cls)
			return NULL;
		if (indefinite) /* its contents run to an end-of-contents mark: at most the rest */
			len -= q - p, p = q;
		else if (tst_info_path[i].enter)
			p = q, len = n;
		else
			len -= q + n - p, p = q + n;
	}
	return d2i_TS_TST_INFO(NULL, &p, len);
}

/* The request the answer claims to answer (SHA-256 when it names another hash). */
static void request_for(kura_tsp_request *r, const uint8_t *data, size_t size)
{
	memset(r, 0, sizeof *r);
	r->md = EVP_sha256();
	TS_RESP *resp = NULL;
	TS_TST_INFO *own = tst_info_of(data, size), *info = own;
	if (!info) { /* not DER as expected: what OpenSSL's own parse makes of it */
		const unsigned char *p = data;
		resp = d2i_TS_RESP(NULL, &p, (long)size);
		info = resp ? TS_RESP_get_tst_info(resp) : NULL;
	}
	if (info) {
		TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(info);
		const EVP_MD *md = EVP_get_digestbyobj(TS_MSG_IMPRINT_get_algo(mi)->algorithm);
		ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(mi);
		if (md && ASN1_STRING_length(msg) == EVP_MD_get_size(md)) {
			r->md = md;
			memcpy(r->imprint, ASN1_STRING_get0_data(msg), (size_t)ASN1_STRING_length(msg));
		}
		const ASN1_INTEGER *nonce = TS_TST_INFO_get_nonce(info);
		if (nonce)
			ASN1_INTEGER_get_uint64(&r->nonce, nonce);
	}
	TS_TST_INFO_free(own);
	TS_RESP_free(resp);
}

static void answer(const uint8_t *data, size_t size)
{
	kura_tsp_request r;
	request_for(&r, data, size);
	unsigned char *tok = NULL;
	size_t tlen = 0;
	if (kura_tsp_check(&tok, &tlen, &r, data, size, NULL, NULL) == 0)
		free(tok);
	tok = NULL;
	if (kura_tsp_check(&tok, &tlen, &r, data, size, fuzz_anchors(), NULL) == 0)
		free(tok);
}

int fuzz_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		answer(data + 1, size - 1);
	else
		token(data + 1, size - 1);
	return 0;
}
