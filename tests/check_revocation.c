/* Revocation (evidence/revocation.c, vdata.c, tst_revinfo.c) with a small PKI,
 * CRLs and OCSP responses made here with OpenSSL's API: a certificate's status
 * at a time from CRLs and OCSP responses alone (revoked, revoked later, good,
 * unknown; the newest source wins), only from sources its issuer authorised
 * (its own key, or a responder it gave the OCSPSigning EKU, valid when it
 * answered); validation data survives encoding and refuses a changed byte; a
 * time-stamp token takes CRLs and OCSP responses in, still verifies, and gives
 * them back. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "evidence/revocation.h"
#include "evidence/tsa.h"
#include "evidence/tsp.h"
#include "evidence/tst.h"
#include "evidence/tst_revinfo.h"
#include "evidence/vdata.h"
#include "testutil.h"

#define DAY 86400

/* The PKI: a CA, a leaf it issued, a responder with OCSPSigning, one without,
 * one whose validity ended before it answered; a stranger CA with the same name. */
static EVP_PKEY *ca_key, *leaf_key, *resp_key, *stranger_key;
static X509 *ca, *leaf, *responder, *no_eku, *expired_responder, *stranger;
static time_t now;

static void ext(X509 *c, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, c, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ck_assert_ptr_nonnull(e);
	X509_add_ext(c, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for key named cn, valid from..to, signed by ikey (issuer NULL: self-signed CA). */
static X509 *make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, time_t from, time_t to, long serial,
		  const char *eku)
{
	X509 *c = X509_new();
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_version(c, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_set_subject_name(c, name);
	X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
	X509_NAME_free(name);
	ASN1_TIME_set(X509_getm_notBefore(c), from);
	ASN1_TIME_set(X509_getm_notAfter(c), to);
	X509_set_pubkey(c, key);
	ext(c, issuer ? issuer : c, NID_basic_constraints, issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
	if (eku)
		ext(c, issuer, NID_ext_key_usage, eku);
	if (issuer && !eku)
		ext(c, issuer, NID_info_access, "OCSP;URI:http://127.0.0.1:1/ocsp");
	ck_assert_int_gt(X509_sign(c, ikey, EVP_sha256()), 0);
	return c;
}

static void setup(void)
{
	now = time(NULL);
	ca_key = EVP_EC_gen("P-256");
	leaf_key = EVP_EC_gen("P-256");
	resp_key = EVP_EC_gen("P-256");
	stranger_key = EVP_EC_gen("P-256");
	ca = make("Test CA", ca_key, NULL, ca_key, now - 400 * DAY, now + 400 * DAY, 1, NULL);
	stranger = make("Test CA", stranger_key, NULL, stranger_key, now - 400 * DAY, now + 400 * DAY, 1, NULL);
	leaf = make("Test TSA", leaf_key, ca, ca_key, now - 300 * DAY, now + 300 * DAY, 1001, NULL);
	responder = make("Test OCSP", resp_key, ca, ca_key, now - 10 * DAY, now + 10 * DAY, 2001, "OCSPSigning");
	no_eku = make("Test OCSP", resp_key, ca, ca_key, now - 10 * DAY, now + 10 * DAY, 2002, "serverAuth");
	expired_responder = make("Test OCSP", resp_key, ca, ca_key, now - 10 * DAY, now - 5 * DAY, 2003, "OCSPSigning");
}

static void teardown(void)
{
	X509 *certs[] = {ca, leaf, responder, no_eku, expired_responder, stranger};
	EVP_PKEY *keys[] = {ca_key, leaf_key, resp_key, stranger_key};
	for (size_t i = 0; i < 6; i++)
		X509_free(certs[i]);
	for (size_t i = 0; i < 4; i++)
		EVP_PKEY_free(keys[i]);
}

/* A CRL by issuer's key issued at last; revoked (may be NULL) revoked at rev_at for reason (-1: none given). */
static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *ikey, time_t last, X509 *revoked, time_t rev_at, int reason)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
	ASN1_TIME_set(t, last);
	X509_CRL_set1_lastUpdate(crl, t);
	ASN1_TIME_set(t, last + 7 * DAY);
	X509_CRL_set1_nextUpdate(crl, t);
	if (revoked) {
		X509_REVOKED *r = X509_REVOKED_new();
		X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked));
		ASN1_TIME_set(t, rev_at);
		X509_REVOKED_set_revocationDate(r, t);
		if (reason >= 0) {
			ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
			ASN1_ENUMERATED_set(e, reason);
			X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
			ASN1_ENUMERATED_free(e);
		}
		X509_CRL_add0_revoked(crl, r);
	}
	ASN1_TIME_free(t);
	X509_CRL_sort(crl);
	ck_assert_int_gt(X509_CRL_sign(crl, ikey, EVP_sha256()), 0);
	/* decoded from DER like every CRL kura meets (OpenSSL fills in a CRL's
	 * digest, which X509_CRL_match compares, only when decoding one) */
	unsigned char *der = NULL;
	int n = i2d_X509_CRL(crl, &der);
	const unsigned char *p = der;
	X509_CRL *decoded = d2i_X509_CRL(NULL, &p, n);
	ck_assert_ptr_nonnull(decoded);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return decoded;
}

/* An OCSP answer about cert (issued by ca) with status as of this_upd, signed by signer. */
static OCSP_BASICRESP *make_ocsp(X509 *cert, X509 *signer, EVP_PKEY *skey, int status, time_t this_upd, time_t rev_at,
				 int reason, const EVP_MD *idmd)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(idmd, cert, ca);
	ASN1_TIME *tu = ASN1_TIME_set(NULL, this_upd), *rt = ASN1_TIME_set(NULL, rev_at);
	ck_assert_ptr_nonnull(OCSP_basic_add1_status(bs, id, status, reason, status == V_OCSP_CERTSTATUS_REVOKED ? rt : NULL,
						     tu, NULL));
	ck_assert_int_eq(OCSP_basic_sign(bs, signer, skey, EVP_sha256(), NULL, 0), 1);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(rt);
	return bs;
}

static kura_vdata *vdata(void)
{
	kura_vdata *v;
	kura_error err;
	ck_assert_int_eq(kura_vdata_new(&v, (int64_t)now * 1000, &err), 0);
	return v;
}

/* leaf's status at time at from v; revoked_at and reason as said. */
static int status_at(const kura_vdata *v, time_t at, int64_t *revoked_at, int *reason, char *source)
{
	json_t *e = NULL;
	int64_t ra = -1;
	int re = -2;
	int st = kura_revocation_status(&e, v, leaf, ca, (int64_t)at * 1000, &ra, &re);
	ck_assert_ptr_nonnull(e);
	if (revoked_at)
		*revoked_at = ra;
	if (reason)
		*reason = re;
	if (source)
		snprintf(source, 16, "%s", json_string_value(json_object_get(e, "source")) ?: "-");
	json_decref(e);
	return st;
}

START_TEST(a_crl_decides_at_a_time)
{
	kura_vdata *v = vdata();
	kura_error err;
	time_t revoked = now - 20 * DAY;
	ck_assert_int_eq(status_at(v, now, NULL, NULL, NULL), KURA_REV_UNKNOWN); /* no data */
	ck_assert_int_eq(kura_revocation_known(v, leaf, ca), 0);
	X509_CRL *crl = make_crl(ca, ca_key, now - DAY, leaf, revoked, CRL_REASON_KEY_COMPROMISE);
	ck_assert_int_eq(kura_vdata_add_crl(v, crl, &err), 0);
	ck_assert_int_eq(kura_revocation_known(v, leaf, ca), 1);
	int64_t at;
	int reason;
	char source[16];
	ck_assert_int_eq(status_at(v, revoked, &at, &reason, source), KURA_REV_REVOKED); /* at the very second */
	ck_assert_int_eq(at, (int64_t)revoked * 1000);
	ck_assert_int_eq(reason, CRL_REASON_KEY_COMPROMISE);
	ck_assert_str_eq(source, "crl");
	ck_assert_int_eq(status_at(v, revoked - 1, NULL, NULL, NULL), KURA_REV_REVOKED_LATER);
	ck_assert_int_eq(kura_revocation_benign(reason), 0);
	X509_CRL_free(crl);
	kura_vdata_free(v);

	/* a CRL that does not list it: good */
	v = vdata();
	crl = make_crl(ca, ca_key, now - DAY, NULL, 0, -1);
	kura_vdata_add_crl(v, crl, &err);
	ck_assert_int_eq(status_at(v, now, NULL, NULL, source), KURA_REV_GOOD);
	X509_CRL_free(crl);
	kura_vdata_free(v);

	/* a CRL in the issuer's name but not by its key counts for nothing */
	v = vdata();
	crl = make_crl(stranger, stranger_key, now - DAY, leaf, revoked, -1);
	kura_vdata_add_crl(v, crl, &err);
	ck_assert_int_eq(status_at(v, now, NULL, NULL, NULL), KURA_REV_UNKNOWN);
	X509_CRL_free(crl);
	kura_vdata_free(v);
}
END_TEST

START_TEST(the_newest_source_wins)
{
	X509_CRL *old_good = make_crl(ca, ca_key, now - 30 * DAY, NULL, 0, -1);
	X509_CRL *new_revoked = make_crl(ca, ca_key, now - DAY, leaf, now - 5 * DAY, CRL_REASON_SUPERSEDED);
	OCSP_BASICRESP *newest_good = make_ocsp(leaf, ca, ca_key, V_OCSP_CERTSTATUS_GOOD, now - 3600, 0, 0, EVP_sha1());
	kura_error err;
	for (int order = 0; order < 2; order++) {
		kura_vdata *v = vdata();
		kura_vdata_add_crl(v, order ? new_revoked : old_good, &err);
		kura_vdata_add_crl(v, order ? old_good : new_revoked, &err);
		int reason;
		ck_assert_int_eq(status_at(v, now, NULL, &reason, NULL), KURA_REV_REVOKED);
		ck_assert_int_eq(kura_revocation_benign(reason), 1); /* superseded */
		kura_vdata_add_ocsp(v, newest_good, &err);          /* a newer answer says good (an unrevocation) */
		char source[16];
		ck_assert_int_eq(status_at(v, now, NULL, NULL, source), KURA_REV_GOOD);
		ck_assert_str_eq(source, "ocsp");
		kura_vdata_free(v);
	}
	X509_CRL_free(old_good);
	X509_CRL_free(new_revoked);
	OCSP_BASICRESP_free(newest_good);
}
END_TEST

START_TEST(an_ocsp_answer_counts_only_from_whom_the_issuer_authorised)
{
	kura_error err;
	time_t revoked = now - 2 * DAY;
	struct {
		X509 *signer;
		EVP_PKEY *key;
		const EVP_MD *idmd;
		int want;
	} cases[] = {
		{ca, ca_key, EVP_sha1(), KURA_REV_REVOKED},          /* the issuer itself */
		{responder, resp_key, EVP_sha256(), KURA_REV_REVOKED}, /* a delegated responder; SHA-256 IDs */
		{no_eku, resp_key, EVP_sha1(), KURA_REV_UNKNOWN},     /* no OCSPSigning */
		{expired_responder, resp_key, EVP_sha1(), KURA_REV_UNKNOWN}, /* ended before it answered */
		{stranger, stranger_key, EVP_sha1(), KURA_REV_UNKNOWN},      /* a CA of the same name */
		{leaf, leaf_key, EVP_sha1(), KURA_REV_UNKNOWN},              /* the certificate itself */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		kura_vdata *v = vdata();
		OCSP_BASICRESP *bs = make_ocsp(leaf, cases[i].signer, cases[i].key, V_OCSP_CERTSTATUS_REVOKED, now - 3600,
					       revoked, OCSP_REVOKED_STATUS_CESSATIONOFOPERATION, cases[i].idmd);
		kura_vdata_add_ocsp(v, bs, &err);
		int64_t at;
		int reason;
		ck_assert_msg(status_at(v, now, &at, &reason, NULL) == cases[i].want, "case %zu", i);
		if (cases[i].want == KURA_REV_REVOKED) {
			ck_assert_int_eq(at, (int64_t)revoked * 1000);
			ck_assert_int_eq(reason, OCSP_REVOKED_STATUS_CESSATIONOFOPERATION);
			ck_assert_int_eq(kura_revocation_benign(reason), 1);
			ck_assert_int_eq(status_at(v, revoked - DAY, NULL, NULL, NULL), KURA_REV_REVOKED_LATER);
		}
		OCSP_BASICRESP_free(bs);
		kura_vdata_free(v);
	}
	/* an answer about another certificate, or "unknown", says nothing of leaf */
	kura_vdata *v = vdata();
	OCSP_BASICRESP *other = make_ocsp(responder, ca, ca_key, V_OCSP_CERTSTATUS_REVOKED, now, now, 0, EVP_sha1());
	OCSP_BASICRESP *unknown = make_ocsp(leaf, ca, ca_key, V_OCSP_CERTSTATUS_UNKNOWN, now, 0, 0, EVP_sha1());
	kura_vdata_add_ocsp(v, other, &err);
	kura_vdata_add_ocsp(v, unknown, &err);
	ck_assert_int_eq(status_at(v, now, NULL, NULL, NULL), KURA_REV_UNKNOWN);
	OCSP_BASICRESP_free(other);
	OCSP_BASICRESP_free(unknown);
	kura_vdata_free(v);
	ck_assert_int_eq(kura_revocation_has_sources(leaf), 1); /* its AIA names a responder */
	ck_assert_int_eq(kura_revocation_has_sources(ca), 0);
}
END_TEST

START_TEST(validation_data_survives_encoding_and_refuses_a_changed_byte)
{
	kura_vdata *v = vdata(), *back;
	kura_error err;
	X509_CRL *crl = make_crl(ca, ca_key, now - DAY, leaf, now - 10 * DAY, CRL_REASON_KEY_COMPROMISE);
	OCSP_BASICRESP *bs = make_ocsp(leaf, responder, resp_key, V_OCSP_CERTSTATUS_GOOD, now - 3600, 0, 0, EVP_sha1());
	ck_assert_int_eq(kura_vdata_add_cert(v, ca, &err), 0);
	ck_assert_int_eq(kura_vdata_add_cert(v, ca, &err), 0); /* once only */
	ck_assert_int_eq(kura_vdata_add_cert(v, responder, &err), 0);
	ck_assert_int_eq(kura_vdata_add_crl(v, crl, &err), 0);
	ck_assert_int_eq(kura_vdata_add_crl(v, crl, &err), 0);
	ck_assert_int_eq(kura_vdata_add_ocsp(v, bs, &err), 0);
	ck_assert_int_eq(kura_vdata_add_ocsp(v, bs, &err), 0);
	ck_assert_int_eq(sk_X509_num(kura_vdata_certs(v)), 2);
	ck_assert_int_eq(sk_X509_CRL_num(kura_vdata_crls(v)), 1);
	ck_assert_int_eq(kura_vdata_ocsp_count(v), 1);
	unsigned char *der;
	size_t len;
	ck_assert_int_eq(kura_vdata_encode(&der, &len, v, &err), 0);
	ck_assert_msg(kura_vdata_parse(&back, der, len, &err) == 0, "%s", err.message);
	ck_assert_int_eq(kura_vdata_collected(back), (int64_t)now * 1000);
	ck_assert_int_eq(sk_X509_num(kura_vdata_certs(back)), 2);
	ck_assert_int_eq(sk_X509_CRL_num(kura_vdata_crls(back)), 1);
	ck_assert_int_eq(kura_vdata_ocsp_count(back), 1);
	/* the same decisions from the decoded data: the CRL is older than the OCSP answer */
	ck_assert_int_eq(status_at(back, now, NULL, NULL, NULL), KURA_REV_GOOD);
	ck_assert_int_eq(status_at(v, now, NULL, NULL, NULL), KURA_REV_GOOD);
	kura_vdata_free(back);

	unsigned char *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	ck_assert_int_eq(kura_vdata_parse(&back, longer, len + 1, &err), KURA_EVERIFY); /* a byte more */
	ck_assert_int_eq(kura_vdata_parse(&back, der, len - 1, &err), KURA_EVERIFY);    /* a byte less */
	der[0] ^= 0x10;                                                                 /* no SEQUENCE */
	ck_assert_int_eq(kura_vdata_parse(&back, der, len, &err), KURA_EVERIFY);
	free(longer);
	free(der);
	X509_CRL_free(crl);
	OCSP_BASICRESP_free(bs);
	kura_vdata_free(v);
}
END_TEST

START_TEST(crl_files_in_pem_and_der)
{
	char *dir = kura_test_tmpdir(), path[4096];
	STACK_OF(X509_CRL) *out = sk_X509_CRL_new_null();
	kura_error err;
	X509_CRL *a = make_crl(ca, ca_key, now - DAY, leaf, now - DAY, -1), *b = make_crl(ca, ca_key, now, NULL, 0, -1);
	snprintf(path, sizeof path, "%s/two.pem", dir);
	FILE *f = fopen(path, "w");
	PEM_write_X509_CRL(f, a);
	PEM_write_X509_CRL(f, b);
	fclose(f);
	ck_assert_int_eq(kura_revocation_load_crls(out, path, &err), 0);
	ck_assert_int_eq(sk_X509_CRL_num(out), 2);
	snprintf(path, sizeof path, "%s/one.der", dir);
	f = fopen(path, "wb");
	i2d_X509_CRL_fp(f, a);
	fclose(f);
	ck_assert_int_eq(kura_revocation_load_crls(out, path, &err), 0);
	ck_assert_int_eq(sk_X509_CRL_num(out), 3);
	ck_assert_int_eq(X509_CRL_cmp(sk_X509_CRL_value(out, 2), a), 0);
	kura_test_write(dir, "junk.pem", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
	snprintf(path, sizeof path, "%s/junk.pem", dir);
	ck_assert_int_eq(kura_revocation_load_crls(out, path, &err), KURA_EINPUT);
	ck_assert_msg(strstr(err.message, "holds no CRL"), "%s", err.message);
	snprintf(path, sizeof path, "%s/absent.pem", dir);
	ck_assert_int_eq(kura_revocation_load_crls(out, path, &err), KURA_EINPUT);
	ck_assert_int_eq(sk_X509_CRL_num(out), 3);
	sk_X509_CRL_pop_free(out, X509_CRL_free);
	X509_CRL_free(a);
	X509_CRL_free(b);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(a_token_carries_revocation_data_and_gives_it_back)
{
	char *dir = kura_test_tmpdir(), path[4096];
	kura_tsa *tsa;
	kura_tsp_request r;
	kura_error err;
	unsigned char imprint[32], *resp, *token, *with, *again;
	size_t rlen, tlen, wlen, alen;
	snprintf(path, sizeof path, "%s/tsa", dir);
	ck_assert_int_eq(kura_tsa_create(path, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_open(&tsa, path, &err), 0);
	EVP_Digest("doc", 3, imprint, NULL, EVP_sha256(), NULL);
	ck_assert_int_eq(kura_tsp_request_init(&r, EVP_sha256(), imprint, &err), 0);
	ck_assert_int_eq(kura_tsa_respond(tsa, r.der, r.len, &resp, &rlen, &err), 0);
	ck_assert_int_eq(kura_tsp_check(&token, &tlen, &r, resp, rlen, kura_tsa_anchors(tsa), &err), 0);

	kura_vdata *v = vdata(), *got;
	X509_CRL *crl = make_crl(ca, ca_key, now - DAY, leaf, now - DAY, -1);
	OCSP_BASICRESP *bs = make_ocsp(leaf, responder, resp_key, V_OCSP_CERTSTATUS_GOOD, now, 0, 0, EVP_sha1());
	kura_vdata_add_cert(v, responder, &err);
	kura_vdata_add_crl(v, crl, &err);
	kura_vdata_add_ocsp(v, bs, &err);
	kura_vdata_add_ocsp(v, bs, &err); /* the same answer twice goes in once */
	ck_assert_msg(kura_tst_add_revinfo(&with, &wlen, token, tlen, v, &err) == 0, "%s", err.message);
	ck_assert_ptr_nonnull(with);

	kura_tst *t;
	ck_assert_int_eq(kura_tst_parse(&t, with, wlen, &err), 0);
	int64_t gen = kura_tst_gentime(t);
	ck_assert_msg(kura_tst_verify(t, kura_tsa_anchors(tsa), NULL, gen, &err) == 0, "%s", err.message);
	size_t ilen;
	ck_assert_mem_eq(kura_tst_imprint(t, &ilen), imprint, 32);
	kura_tst_free(t);

	const unsigned char *p = with;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)wlen);
	ck_assert_ptr_nonnull(cms);
	ck_assert_int_eq(kura_tst_revinfo(&got, cms, &err), 0);
	ck_assert_int_eq(sk_X509_CRL_num(kura_vdata_crls(got)), 1);
	ck_assert_int_eq(X509_CRL_cmp(sk_X509_CRL_value(kura_vdata_crls(got), 0), crl), 0);
	ck_assert_int_eq(kura_vdata_ocsp_count(got), 1);
	ck_assert_int_ge(sk_X509_num(kura_vdata_certs(got)), 2); /* the TSA's own and the responder */
	ck_assert_int_eq(status_at(got, now, NULL, NULL, NULL), KURA_REV_GOOD); /* the OCSP answer is the newest */
	kura_vdata_free(got);
	CMS_ContentInfo_free(cms);

	/* what it carries already is not added twice */
	ck_assert_int_eq(kura_tst_add_revinfo(&again, &alen, with, wlen, v, &err), 0);
	ck_assert_ptr_null(again);
	ck_assert_uint_eq(alen, 0);

	/* a changed byte in the token's signature makes it fail */
	with[wlen - 3] ^= 0x01;
	if (kura_tst_parse(&t, with, wlen, &err) == 0) {
		ck_assert_int_eq(kura_tst_verify(t, kura_tsa_anchors(tsa), NULL, gen, &err), KURA_EVERIFY);
		kura_tst_free(t);
	}
	free(with);
	X509_CRL_free(crl);
	OCSP_BASICRESP_free(bs);
	kura_vdata_free(v);
	free(token);
	free(resp);
	kura_tsp_request_clear(&r);
	kura_tsa_close(tsa);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("revocation");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_crl_decides_at_a_time);
	tcase_add_test(tc, the_newest_source_wins);
	tcase_add_test(tc, an_ocsp_answer_counts_only_from_whom_the_issuer_authorised);
	tcase_add_test(tc, validation_data_survives_encoding_and_refuses_a_changed_byte);
	tcase_add_test(tc, crl_files_in_pem_and_der);
	tcase_add_test(tc, a_token_carries_revocation_data_and_gives_it_back);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
