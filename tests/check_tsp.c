/* RFC 3161 requests and responses (evidence/tsp.c, tst.c) against the embedded
 * TSA: a request carries the imprint, a fresh nonce and certReq and no policy;
 * a granted response is accepted and its token says what was asked (genTime,
 * imprint, nonce, the TSA's policy, TSA, key); a rejection, a "waiting", a grant
 * without a token, a nonce or imprint of another request, a changed byte,
 * garbage or an unknown TSA root are refused, each with its reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include "evidence/tsa.h"
#include "evidence/tsp.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "testutil.h"

static char *dir;
static kura_tsa *tsa;
static unsigned char imprint[32], other[32];

static void setup(void)
{
	char path[4096];
	kura_error err;
	kura_test_now("2026-04-01T12:00:00.250Z");
	dir = kura_test_tmpdir();
	snprintf(path, sizeof path, "%s/tsa", dir);
	kura_tsa_options o = {.name = "tsp"};
	ck_assert_int_eq(kura_tsa_create(path, &o, &err), 0);
	ck_assert_int_eq(kura_tsa_open(&tsa, path, &err), 0);
	EVP_Digest("document", 8, imprint, NULL, EVP_sha256(), NULL);
	EVP_Digest("another", 7, other, NULL, EVP_sha256(), NULL);
}

static void teardown(void)
{
	kura_tsa_close(tsa);
	kura_test_rmdir(dir);
	kura_test_now(NULL);
}

/* The embedded TSA's answer to r. */
static unsigned char *answer(size_t *len, const kura_tsp_request *r)
{
	unsigned char *resp;
	kura_error err;
	ck_assert_msg(kura_tsa_respond(tsa, r->der, r->len, &resp, len, &err) == 0, "%s", err.message);
	return resp;
}

/* kura_tsp_check's code; its message in why. */
static int check(const kura_tsp_request *r, const unsigned char *resp, size_t len, STACK_OF(X509) *anchors,
		 kura_error *why)
{
	unsigned char *token = NULL;
	size_t tlen = 0;
	int rc = kura_tsp_check(&token, &tlen, r, resp, len, anchors, why);
	ck_assert(rc == 0 ? token != NULL : token == NULL);
	free(token);
	return rc;
}

START_TEST(a_request_carries_imprint_nonce_and_certreq)
{
	kura_tsp_request a, b;
	kura_error err;
	ck_assert_int_eq(kura_tsp_request_init(&a, EVP_sha256(), imprint, &err), 0);
	ck_assert_int_eq(kura_tsp_request_init(&b, EVP_sha256(), imprint, &err), 0);
	ck_assert(a.nonce != b.nonce); /* 63 random bits each */
	const unsigned char *p = a.der;
	TS_REQ *req = d2i_TS_REQ(NULL, &p, (long)a.len);
	ck_assert_ptr_nonnull(req);
	ck_assert(p == a.der + a.len);
	ck_assert_int_eq(TS_REQ_get_version(req), 1);
	ck_assert_int_eq(TS_REQ_get_cert_req(req), 1);
	ck_assert_ptr_null(TS_REQ_get_policy_id(req)); /* any policy the TSA has */
	uint64_t nonce;
	ck_assert_int_eq(ASN1_INTEGER_get_uint64(&nonce, TS_REQ_get_nonce(req)), 1);
	ck_assert_uint_eq(nonce, a.nonce);
	TS_MSG_IMPRINT *mi = TS_REQ_get_msg_imprint(req);
	const ASN1_OBJECT *oid;
	int ptype;
	const void *pval;
	X509_ALGOR_get0(&oid, &ptype, &pval, TS_MSG_IMPRINT_get_algo(mi));
	ck_assert_int_eq(OBJ_obj2nid(oid), NID_sha256);
	ck_assert_int_eq(ptype, V_ASN1_UNDEF); /* parameters absent, not NULL */
	ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(mi);
	ck_assert_int_eq(ASN1_STRING_length(msg), 32);
	ck_assert_mem_eq(ASN1_STRING_get0_data(msg), imprint, 32);
	TS_REQ_free(req);
	kura_tsp_request_clear(&a);
	kura_tsp_request_clear(&b);
}
END_TEST

START_TEST(a_granted_token_says_what_was_asked)
{
	kura_tsp_request r;
	kura_error err;
	unsigned char *token;
	size_t rlen, tlen;
	ck_assert_int_eq(kura_tsp_request_init(&r, EVP_sha256(), imprint, &err), 0);
	unsigned char *resp = answer(&rlen, &r);
	ck_assert_msg(kura_tsp_check(&token, &tlen, &r, resp, rlen, kura_tsa_anchors(tsa), &err) == 0, "%s", err.message);

	kura_tst *t;
	ck_assert_int_eq(kura_tst_parse(&t, token, tlen, &err), 0);
	int64_t want;
	ck_assert_int_eq(kura_time_parse(&want, "2026-04-01T12:00:00.250Z", &err), 0);
	ck_assert_int_eq(kura_tst_gentime(t), want);
	size_t ilen;
	ck_assert_int_eq(kura_tst_imprint_nid(t), NID_sha256);
	ck_assert_mem_eq(kura_tst_imprint(t, &ilen), imprint, 32);
	char buf[256];
	kura_tst_imprint_oid(t, buf, sizeof buf);
	ck_assert_str_eq(buf, "2.16.840.1.101.3.4.2.1");
	uint64_t nonce;
	ck_assert_int_eq(ASN1_INTEGER_get_uint64(&nonce, kura_tst_nonce(t)), 1);
	ck_assert_uint_eq(nonce, r.nonce);
	kura_tst_key_alg(t, buf, sizeof buf);
	ck_assert_str_eq(buf, "ec-p256");
	ck_assert_str_eq(kura_tst_signature_hash(t), "sha256");
	kura_tst_tsa_name(t, buf, sizeof buf);
	ck_assert_msg(strstr(buf, "tsp"), "%s", buf);
	ck_assert_int_eq(X509_cmp(kura_tst_signer(t), kura_tsa_cert(tsa)), 0);
	ck_assert_int_eq(kura_tst_verify(t, kura_tsa_anchors(tsa), NULL, want, &err), 0);
	/* not before its certificate, nor after it ended */
	ck_assert_int_eq(kura_tst_verify(t, kura_tsa_anchors(tsa), NULL, want - 86400000, &err), KURA_EVERIFY);
	ck_assert_int_eq(kura_tst_verify(t, kura_tsa_anchors(tsa), NULL, want + 6 * 366 * 86400000LL, &err), KURA_EVERIFY);
	kura_tst_free(t);

	/* the TSTInfo's policy is the embedded TSA's */
	const unsigned char *p = token;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)tlen);
	TS_TST_INFO *info = p7 ? PKCS7_to_TS_TST_INFO(p7) : NULL;
	ck_assert_ptr_nonnull(info);
	OBJ_obj2txt(buf, sizeof buf, TS_TST_INFO_get_policy_id(info), 1);
	ck_assert_str_eq(buf, KURA_TSA_POLICY);
	TS_TST_INFO_free(info);
	PKCS7_free(p7);

	/* a token is nothing else: a byte more, or garbage, is refused */
	unsigned char *longer = malloc(tlen + 1);
	memcpy(longer, token, tlen);
	longer[tlen] = 0;
	ck_assert_int_eq(kura_tst_parse(&t, longer, tlen + 1, &err), KURA_EVERIFY);
	ck_assert_int_eq(kura_tst_parse(&t, resp, rlen, &err), KURA_EVERIFY); /* a response is no token */
	free(longer);
	free(token);
	free(resp);
	kura_tsp_request_clear(&r);
}
END_TEST

START_TEST(another_requests_nonce_or_imprint_is_refused)
{
	kura_tsp_request asked, again, elsewhere;
	kura_error err;
	size_t rlen, olen;
	ck_assert_int_eq(kura_tsp_request_init(&asked, EVP_sha256(), imprint, &err), 0);
	ck_assert_int_eq(kura_tsp_request_init(&again, EVP_sha256(), imprint, &err), 0);
	ck_assert_int_eq(kura_tsp_request_init(&elsewhere, EVP_sha256(), other, &err), 0);
	unsigned char *resp = answer(&rlen, &asked), *oresp = answer(&olen, &elsewhere);
	ck_assert_int_eq(check(&asked, resp, rlen, kura_tsa_anchors(tsa), &err), 0);
	/* a replayed answer: same imprint, an earlier request's nonce */
	ck_assert_int_eq(check(&again, resp, rlen, kura_tsa_anchors(tsa), &err), KURA_EVERIFY);
	ck_assert_msg(strstr(err.message, "nonce"), "%s", err.message);
	/* an answer about another document */
	ck_assert_int_eq(check(&asked, oresp, olen, kura_tsa_anchors(tsa), &err), KURA_EVERIFY);
	ck_assert_msg(strstr(err.message, "another imprint"), "%s", err.message);
	free(resp);
	free(oresp);
	kura_tsp_request_clear(&asked);
	kura_tsp_request_clear(&again);
	kura_tsp_request_clear(&elsewhere);
}
END_TEST

START_TEST(a_changed_byte_garbage_or_an_unknown_root_is_refused)
{
	kura_tsp_request r;
	kura_error err;
	size_t rlen;
	ck_assert_int_eq(kura_tsp_request_init(&r, EVP_sha256(), imprint, &err), 0);
	unsigned char *resp = answer(&rlen, &r);
	ck_assert_int_eq(check(&r, resp, rlen, NULL, &err), 0); /* no anchors: all but the path is checked */
	resp[rlen - 3] ^= 0x20;                               /* inside the signature value */
	ck_assert_int_eq(check(&r, resp, rlen, NULL, &err), KURA_EVERIFY);
	resp[rlen - 3] ^= 0x20;
	ck_assert_int_eq(check(&r, resp, rlen - 1, NULL, &err), KURA_EVERIFY); /* cut short */
	ck_assert_int_eq(check(&r, (const unsigned char *)"HTTP/1.1 500", 12, NULL, &err), KURA_EVERIFY);
	ck_assert_msg(strstr(err.message, "not a TimeStampResp"), "%s", err.message);

	/* a TSA whose root nobody gave kura */
	char path[4096];
	kura_tsa *stranger;
	snprintf(path, sizeof path, "%s/stranger", dir);
	ck_assert_int_eq(kura_tsa_create(path, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_open(&stranger, path, &err), 0);
	ck_assert_int_eq(check(&r, resp, rlen, kura_tsa_anchors(stranger), &err), KURA_EVERIFY);
	kura_tsa_close(stranger);
	free(resp);
	kura_tsp_request_clear(&r);
}
END_TEST

/* A token whose root is not trusted (a TSA that moved to a new root) is refused
 * naming that root and its SHA-256 fingerprint, as openssl x509 -fingerprint
 * prints it; a token that chains to a trusted root gets no such words. */
START_TEST(an_untrusted_root_is_named_with_its_fingerprint)
{
	kura_tsp_request r;
	kura_error err;
	size_t rlen;
	ck_assert_int_eq(kura_tsp_request_init(&r, EVP_sha256(), imprint, &err), 0);
	unsigned char *resp = answer(&rlen, &r);
	char path[4096], want[200] = "", name[256];
	kura_tsa *stranger;
	snprintf(path, sizeof path, "%s/stranger", dir);
	ck_assert_int_eq(kura_tsa_create(path, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_open(&stranger, path, &err), 0);
	ck_assert_int_eq(check(&r, resp, rlen, kura_tsa_anchors(stranger), &err), KURA_EVERIFY);

	X509 *root = sk_X509_value(kura_tsa_anchors(tsa), 0);
	unsigned char md[32];
	unsigned int len = 0;
	ck_assert_int_eq(X509_digest(root, EVP_sha256(), md, &len), 1);
	strcpy(want, "SHA-256 fingerprint ");
	for (unsigned i = 0; i < len; i++)
		sprintf(want + strlen(want), i ? ":%02X" : "%02X", md[i]);
	kura_name_text(X509_get_subject_name(root), name, sizeof name);
	ck_assert_msg(strstr(err.message, want), "%s", err.message);
	ck_assert_msg(strstr(err.message, name), "%s", err.message);
	ck_assert_msg(strstr(err.message, KURA_TST_UNTRUSTED_ROOT), "%s", err.message);

	/* a trusted root: a token that fails for another reason (its certificate has ended) names none */
	unsigned char *token = NULL;
	size_t tlen = 0;
	kura_tst *t = NULL;
	ck_assert_int_eq(kura_tsp_check(&token, &tlen, &r, resp, rlen, kura_tsa_anchors(tsa), &err), 0);
	ck_assert_int_eq(kura_tst_parse(&t, token, tlen, &err), 0);
	ck_assert_int_eq(kura_tst_verify(t, kura_tsa_anchors(tsa), NULL, kura_tst_gentime(t) + 6 * 366 * 86400000LL, &err),
			 KURA_EVERIFY);
	ck_assert_msg(!strstr(err.message, KURA_TST_UNTRUSTED_ROOT), "%s", err.message);
	kura_tst_free(t);
	free(token);
	kura_tsa_close(stranger);
	free(resp);
	kura_tsp_request_clear(&r);
}
END_TEST

/* A DER PKIStatusInfo: status and, if text is not NULL, one line of text. */
static size_t status_info(unsigned char *out, int status, const char *text)
{
	size_t tl = text ? strlen(text) : 0, n = 0;
	ck_assert_uint_lt(tl, 100);
	out[n++] = 0x30;
	out[n++] = (unsigned char)(3 + (text ? tl + 4 : 0));
	out[n++] = 0x02, out[n++] = 0x01, out[n++] = (unsigned char)status;
	if (text) {
		out[n++] = 0x30, out[n++] = (unsigned char)(tl + 2);
		out[n++] = 0x0c, out[n++] = (unsigned char)tl;
		memcpy(out + n, text, tl);
		n += tl;
	}
	return n;
}

/* kura_tsp_check of a response with this status and token (may be NULL). */
static int check_status(const kura_tsp_request *r, int status, const char *text, const unsigned char *token, size_t tlen,
			kura_error *why)
{
	unsigned char si[128], *resp;
	size_t slen = status_info(si, status, text), rlen;
	kura_error err;
	ck_assert_int_eq(kura_tsp_response(&resp, &rlen, si, slen, token, tlen, &err), 0);
	int rc = check(r, resp, rlen, kura_tsa_anchors(tsa), why);
	free(resp);
	return rc;
}

START_TEST(only_a_grant_with_a_token_is_accepted)
{
	kura_tsp_request r;
	kura_error err;
	unsigned char *token;
	size_t rlen, tlen;
	ck_assert_int_eq(kura_tsp_request_init(&r, EVP_sha256(), imprint, &err), 0);
	unsigned char *resp = answer(&rlen, &r);
	ck_assert_int_eq(kura_tsp_check(&token, &tlen, &r, resp, rlen, NULL, &err), 0);
	free(resp);

	ck_assert_int_eq(check_status(&r, 0, NULL, token, tlen, &err), 0);              /* granted */
	ck_assert_int_eq(check_status(&r, 1, "rounded", token, tlen, &err), 0);         /* grantedWithMods */
	ck_assert_int_eq(check_status(&r, 0, NULL, NULL, 0, &err), KURA_EVERIFY);        /* no token */
	ck_assert_msg(strstr(err.message, "no token"), "%s", err.message);
	ck_assert_int_eq(check_status(&r, 2, "unknown policy", NULL, 0, &err), KURA_EVERIFY); /* rejection */
	ck_assert_msg(strstr(err.message, "refused") && strstr(err.message, "status 2: unknown policy"), "%s", err.message);
	ck_assert_int_eq(check_status(&r, 3, NULL, NULL, 0, &err), KURA_EVERIFY); /* waiting */
	ck_assert_msg(strstr(err.message, "status 3"), "%s", err.message);
	ck_assert_int_eq(check_status(&r, 2, NULL, token, tlen, &err), KURA_EVERIFY); /* a token with a rejection */
	free(token);

	/* the embedded TSA itself rejects when its clock cannot be read */
	kura_test_now("not a time");
	resp = answer(&rlen, &r);
	ck_assert_int_eq(check(&r, resp, rlen, NULL, &err), KURA_EVERIFY);
	ck_assert_msg(strstr(err.message, "status 2") && strstr(err.message, "clock"), "%s", err.message);
	free(resp);
	/* and a request that is no request */
	kura_tsp_request junk = r;
	junk.der = (unsigned char *)"\x30\x03\x02\x01\x07";
	junk.len = 5;
	kura_test_now("2026-04-01T12:00:00Z");
	resp = answer(&rlen, &junk);
	ck_assert_int_eq(check(&r, resp, rlen, NULL, &err), KURA_EVERIFY);
	ck_assert_msg(strstr(err.message, "refused"), "%s", err.message);
	free(resp);
	kura_tsp_request_clear(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tsp");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_request_carries_imprint_nonce_and_certreq);
	tcase_add_test(tc, a_granted_token_says_what_was_asked);
	tcase_add_test(tc, another_requests_nonce_or_imprint_is_refused);
	tcase_add_test(tc, a_changed_byte_garbage_or_an_unknown_root_is_refused);
	tcase_add_test(tc, an_untrusted_root_is_named_with_its_fingerprint);
	tcase_add_test(tc, only_a_grant_with_a_token_is_accepted);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
