/* Time-stamp tokens (RFC 3161): parsing and verification with OpenSSL's TS API.
 * A token is always parsed from the exact bytes kura keeps; nothing here
 * re-encodes it. The CMS API is used rather than PKCS7 because real tokens carry
 * OCSP responses as "other" revocation info, which the PKCS7 parser rejects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/cms.h>
#include <openssl/ess.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "common/hash.h"
#include "evidence/revocation.h"
#include "evidence/tst.h"
#include "evidence/tst_revinfo.h"

#define KURA_TIME_BUFSZ_LOCAL 32

struct kura_tst {
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si; /* the one signer, owned by cms */
	STACK_OF(X509) *certs;
	TS_TST_INFO *info;
	int64_t gentime;
};

int kura_asn1_time_ms(int64_t *out, const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	int64_t ms = (int64_t)timegm(&tm) * 1000;
	/* ASN1_TIME_to_tm drops fractions: read "YYYYMMDDHHMMSS.fff" ourselves */
	const char *s = (const char *)ASN1_STRING_get0_data(t);
	int len = ASN1_STRING_length(t);
	if (ASN1_STRING_type(t) == V_ASN1_GENERALIZEDTIME && len > 15 && s[14] == '.') {
		int scale = 100;
		for (int i = 15; i < len && s[i] >= '0' && s[i] <= '9' && scale > 0; i++, scale /= 10)
			ms += (s[i] - '0') * scale;
	}
	*out = ms;
	return 0;
}

/* The version of the SignedData in a ContentInfo, or -1. OpenSSL does not
 * expose it; RFC 5652 requires 3 for a TSTInfo (5 when the token carries "other"
 * revocation data such as OCSP responses), which the ERS profiles check. */
static long signed_data_version(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	long n, left = (long)len;
	int tag, cls;
	/* ContentInfo SEQUENCE, contentType OID, [0], SignedData SEQUENCE, version INTEGER */
	if (ASN1_get_object(&p, &n, &tag, &cls, left) & 0x80 || tag != V_ASN1_SEQUENCE)
		return -1;
	if (ASN1_get_object(&p, &n, &tag, &cls, left - (p - der)) & 0x80 || tag != V_ASN1_OBJECT)
		return -1;
	p += n;
	if (ASN1_get_object(&p, &n, &tag, &cls, left - (p - der)) & 0x80 || cls != V_ASN1_CONTEXT_SPECIFIC || tag != 0)
		return -1;
	if (ASN1_get_object(&p, &n, &tag, &cls, left - (p - der)) & 0x80 || tag != V_ASN1_SEQUENCE)
		return -1;
	const unsigned char *q = p;
	ASN1_INTEGER *v = d2i_ASN1_INTEGER(NULL, &q, left - (p - der));
	long version = v ? ASN1_INTEGER_get(v) : -1;
	ASN1_INTEGER_free(v);
	return version;
}

int kura_tst_parse(kura_tst **out, const unsigned char *der, size_t len, kura_error *err)
{
	const unsigned char *p = der;
	kura_tst *t = calloc(1, sizeof *t);
	if (!t)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	t->cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	const char *why = NULL;
	if (!t->cms || p != der + len || OBJ_obj2nid(CMS_get0_type(t->cms)) != NID_pkcs7_signed)
		why = "the time-stamp token is not a CMS SignedData (damaged or not a token)";
	else if (OBJ_obj2nid(CMS_get0_eContentType(t->cms)) != NID_id_smime_ct_TSTInfo)
		why = "the SignedData does not hold a TSTInfo";
	else if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(t->cms)) != 1)
		why = "a time-stamp token must have exactly one signer";
	else if (signed_data_version(der, len) < 3)
		why = "the token's SignedData version is below 3 (RFC 5652 requires at least 3 for a TSTInfo)";
	if (!why) {
		ASN1_OCTET_STRING **content = CMS_get0_content(t->cms);
		const unsigned char *q = content && *content ? ASN1_STRING_get0_data(*content) : NULL;
		t->si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(t->cms), 0);
		t->certs = CMS_get1_certs(t->cms);
		if (!t->certs)
			t->certs = sk_X509_new_null();
		if (!q || !(t->info = d2i_TS_TST_INFO(NULL, &q, ASN1_STRING_length(*content))) ||
		    kura_asn1_time_ms(&t->gentime, TS_TST_INFO_get_time(t->info)) != 0)
			why = "the time-stamp token holds no valid TSTInfo";
	}
	ERR_clear_error();
	if (why) {
		kura_tst_free(t);
		return kura_error_set(err, KURA_EVERIFY, "%s", why);
	}
	*out = t;
	return 0;
}

void kura_tst_free(kura_tst *t)
{
	if (!t)
		return;
	CMS_ContentInfo_free(t->cms);
	sk_X509_pop_free(t->certs, X509_free);
	TS_TST_INFO_free(t->info);
	free(t);
}

int64_t kura_tst_gentime(const kura_tst *t) { return t->gentime; }

int kura_tst_imprint_nid(const kura_tst *t)
{
	const X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(t->info));
	const ASN1_OBJECT *obj;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	return OBJ_obj2nid(obj);
}

void kura_tst_imprint_oid(const kura_tst *t, char *buf, size_t n)
{
	const X509_ALGOR *alg = TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(t->info));
	const ASN1_OBJECT *obj;
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	OBJ_obj2txt(buf, (int)n, obj, 1);
}

const unsigned char *kura_tst_imprint(const kura_tst *t, size_t *len)
{
	ASN1_OCTET_STRING *m = TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(t->info));
	*len = (size_t)ASN1_STRING_length(m);
	return ASN1_STRING_get0_data(m);
}

const ASN1_INTEGER *kura_tst_nonce(const kura_tst *t)
{
	return TS_TST_INFO_get_nonce(t->info);
}

STACK_OF(X509) *kura_tst_certs(const kura_tst *t)
{
	return t->certs;
}

X509 *kura_tst_signer(const kura_tst *t)
{
	for (int i = 0; i < sk_X509_num(t->certs); i++)
		if (CMS_SignerInfo_cert_cmp(t->si, sk_X509_value(t->certs, i)) == 0)
			return sk_X509_value(t->certs, i);
	return NULL;
}

void kura_name_text(const X509_NAME *name, char *buf, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	buf[0] = '\0';
	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		int got = BIO_read(b, buf, (int)n - 1);
		buf[got > 0 ? got : 0] = '\0';
	}
	BIO_free(b);
}

void kura_tst_tsa_name(const kura_tst *t, char *buf, size_t n)
{
	X509 *signer = kura_tst_signer(t);
	if (signer) {
		kura_name_text(X509_get_subject_name(signer), buf, n);
		return;
	}
	GENERAL_NAME *gn = TS_TST_INFO_get_tsa(t->info);
	if (gn && gn->type == GEN_DIRNAME)
		kura_name_text(gn->d.dirn, buf, n);
	else
		snprintf(buf, n, "(TSA not named in the token)");
}

void kura_tst_sig_alg(const kura_tst *t, char *buf, size_t n)
{
	X509_ALGOR *dig, *sig;
	kura_hash_pair_ecdsa_sha3();
	CMS_SignerInfo_get0_algs(t->si, NULL, NULL, &dig, &sig);
	const ASN1_OBJECT *dobj, *sobj;
	X509_ALGOR_get0(&dobj, NULL, NULL, dig);
	X509_ALGOR_get0(&sobj, NULL, NULL, sig);
	int snid = OBJ_obj2nid(sobj), pair;
	/* name the pair when the token names only the key type */
	if ((snid == NID_rsaEncryption || snid == NID_X9_62_id_ecPublicKey) &&
	    OBJ_find_sigid_by_algs(&pair, OBJ_obj2nid(dobj), snid)) {
		snprintf(buf, n, "%s", OBJ_nid2ln(pair));
		return;
	}
	if (snid != NID_undef)
		snprintf(buf, n, "%s", OBJ_nid2ln(snid));
	else
		OBJ_obj2txt(buf, (int)n, sobj, 1);
}

const char *kura_tst_signature_hash(const kura_tst *t)
{
	X509_ALGOR *dig;
	const ASN1_OBJECT *obj;
	CMS_SignerInfo_get0_algs(t->si, NULL, NULL, &dig, NULL);
	X509_ALGOR_get0(&obj, NULL, NULL, dig);
	return kura_hash_name_by_nid(OBJ_obj2nid(obj));
}

void kura_tst_key_alg(const kura_tst *t, char *buf, size_t n)
{
	X509 *signer = kura_tst_signer(t);
	kura_key_alg_name(signer ? X509_get0_pubkey(signer) : NULL, buf, n);
}

void kura_key_alg_name(EVP_PKEY *key, char *buf, size_t n)
{
	if (!key) {
		snprintf(buf, n, "unknown");
		return;
	}
	int bits = EVP_PKEY_get_bits(key);
	if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS"))
		snprintf(buf, n, "rsa-%d", bits);
	else if (EVP_PKEY_is_a(key, "EC"))
		snprintf(buf, n, "ec-p%d", bits);
	else if (EVP_PKEY_is_a(key, "ED25519"))
		snprintf(buf, n, "ed25519");
	else if (EVP_PKEY_is_a(key, "ED448"))
		snprintf(buf, n, "ed448");
	else
		snprintf(buf, n, "%s-%d", EVP_PKEY_get0_type_name(key), bits);
}

int kura_signer_alg_check(CMS_SignerInfo *si, EVP_PKEY *key, char *why, size_t n)
{
	X509_ALGOR *dig, *sig;
	const ASN1_OBJECT *dobj, *sobj;
	kura_hash_pair_ecdsa_sha3(); /* else ecdsa-with-SHA3 names no key in OpenSSL 3.0 */
	CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, &sig);
	X509_ALGOR_get0(&dobj, NULL, NULL, dig);
	X509_ALGOR_get0(&sobj, NULL, NULL, sig);
	int snid = OBJ_obj2nid(sobj), dnid = OBJ_obj2nid(dobj), md_nid = NID_undef, pk_nid = NID_undef;
	int key_nid = key ? EVP_PKEY_get_base_id(key) : NID_undef;
	char name[80], keyname[32];
	OBJ_obj2txt(name, sizeof name, sobj, 0);
	kura_key_alg_name(key, keyname, sizeof keyname);
	if (snid == NID_rsaEncryption || snid == NID_X9_62_id_ecPublicKey) /* the key type alone (RFC 5652, RFC 5753) */
		pk_nid = snid;
	else if (!OBJ_find_sigid_algs(snid, &md_nid, &pk_nid))
		pk_nid = NID_undef;
	if (pk_nid == NID_rsassaPss)
		pk_nid = key_nid == EVP_PKEY_RSA_PSS ? EVP_PKEY_RSA_PSS : NID_rsaEncryption; /* PSS with an RSA key */
	if (pk_nid == NID_undef || pk_nid != key_nid) {
		snprintf(why, n, "its signature algorithm (%s) does not match its signer's key (%s)", name, keyname);
		return -1;
	}
	if (md_nid != NID_undef && md_nid != dnid) {
		snprintf(why, n, "its signature algorithm (%s) names another digest than its digestAlgorithm (%s)", name,
			 OBJ_nid2ln(dnid));
		return -1;
	}
	return 0;
}

/* The most telling OpenSSL error in the queue, as text. */
static void openssl_reason(char *buf, size_t n)
{
	unsigned long e;
	const char *data = NULL;
	int flags = 0;
	buf[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (data && (flags & ERR_TXT_STRING) && *data)
			snprintf(buf, n, "%s", data);
		else if (!buf[0])
			ERR_error_string_n(e, buf, n);
	}
	if (!buf[0])
		snprintf(buf, n, "unknown reason");
}

/* The signing-certificate attribute (ESSCertID v1 or v2) must name the signer
 * first; further entries (some TSAs list their whole path) must be certificates
 * of the token or trust anchors. */
static int check_ess(const kura_tst *t, X509 *signer, STACK_OF(X509) *anchors)
{
	ESS_SIGNING_CERT *v1 = NULL;
	ESS_SIGNING_CERT_V2 *v2 = NULL;
	ASN1_STRING *a = CMS_signed_get0_data_by_OBJ(t->si, OBJ_nid2obj(NID_id_smime_aa_signingCertificate), -3,
						     V_ASN1_SEQUENCE);
	ASN1_STRING *b = CMS_signed_get0_data_by_OBJ(t->si, OBJ_nid2obj(NID_id_smime_aa_signingCertificateV2), -3,
						     V_ASN1_SEQUENCE);
	const unsigned char *p;
	if (a && (p = ASN1_STRING_get0_data(a)))
		v1 = d2i_ESS_SIGNING_CERT(NULL, &p, ASN1_STRING_length(a));
	if (b && (p = ASN1_STRING_get0_data(b)))
		v2 = d2i_ESS_SIGNING_CERT_V2(NULL, &p, ASN1_STRING_length(b));
	STACK_OF(X509) *chain = sk_X509_new_null();
	sk_X509_push(chain, signer);
	for (int i = 0; i < sk_X509_num(t->certs); i++)
		if (sk_X509_value(t->certs, i) != signer)
			sk_X509_push(chain, sk_X509_value(t->certs, i));
	for (int i = 0; anchors && i < sk_X509_num(anchors); i++)
		sk_X509_push(chain, sk_X509_value(anchors, i));
	int ok = (v1 || v2) && OSSL_ESS_check_signing_certs(v1, v2, chain, 1) > 0;
	sk_X509_free(chain);
	ESS_SIGNING_CERT_free(v1);
	ESS_SIGNING_CERT_V2_free(v2);
	return ok;
}

/* The revocation data the token carries (renewal adds it, ERS-RULES) about the
 * certificates of its path: a revocation at or before at_ms is fatal when it came
 * before the token was made, or for a reason that makes the key suspect. No data
 * is no verdict: most tokens carry none. */
static int check_revocation(const kura_tst *t, X509 *signer, X509_STORE *store, STACK_OF(X509) *untrusted,
			    int64_t at_ms, kura_error *err)
{
	kura_vdata *v = NULL;
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *pool = sk_X509_dup(untrusted), *chain = NULL;
	int rc = 0;
	if (kura_tst_revinfo(&v, t->cms, NULL) == 0 && kura_vdata_ocsp_count(v) +
	    sk_X509_CRL_num(kura_vdata_crls(v)) > 0 && ctx && pool) {
		for (int i = 0; i < sk_X509_num(kura_vdata_certs(v)); i++)
			sk_X509_push(pool, sk_X509_value(kura_vdata_certs(v), i));
		if (X509_STORE_CTX_init(ctx, store, signer, pool) == 1 && X509_verify_cert(ctx) == 1)
			chain = X509_STORE_CTX_get1_chain(ctx);
	}
	for (int i = 0; chain && rc == 0 && i + 1 < sk_X509_num(chain); i++) {
		json_t *e = NULL;
		int64_t when = 0;
		int reason = -1;
		int st = kura_revocation_status(&e, v, sk_X509_value(chain, i), sk_X509_value(chain, i + 1), at_ms, &when, &reason);
		json_decref(e);
		if (st != KURA_REV_REVOKED || (when > t->gentime && kura_revocation_benign(reason)))
			continue;
		char subject[256], day[KURA_TIME_BUFSZ_LOCAL];
		time_t secs = (time_t)(when / 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%SZ", &tm);
		X509_NAME_oneline(X509_get_subject_name(sk_X509_value(chain, i)), subject, sizeof subject);
		rc = kura_error_set(err, KURA_EVERIFY, "time-stamp token: %s was revoked at %s (%s)%s", subject, day,
				    reason >= 0 ? OCSP_crl_reason_str(reason) : "no reason given",
				    when <= t->gentime ? ", before the token was made" : ": its tokens can no longer be trusted");
	}
	sk_X509_pop_free(chain, X509_free);
	sk_X509_free(pool);
	X509_STORE_CTX_free(ctx);
	kura_vdata_free(v);
	ERR_clear_error();
	return rc;
}

/* Did issuer sign subject (names and key identifiers fit, and the signature verifies)? */
static int issued_by(X509 *issuer, X509 *subject)
{
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	int ok = X509_check_issued(issuer, subject) == X509_V_OK && key && X509_verify(subject, key) == 1;
	ERR_clear_error();
	return ok;
}

void kura_cert_fingerprint(X509 *cert, char *buf, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	size_t at = 0;
	buf[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &len) != 1)
		len = 0;
	for (unsigned int i = 0; i < len && at + 4 <= n; i++)
		at += (size_t)snprintf(buf + at, n - at, "%s%02X", i ? ":" : "", md[i]);
}

int kura_tst_untrusted_root(const kura_tst *t, STACK_OF(X509) *anchors, char *buf, size_t n)
{
	char name[256], fp[100];
	X509 *cur = kura_tst_signer(t);
	for (int depth = 0; cur && depth < 8; depth++) {
		for (int i = 0; anchors && i < sk_X509_num(anchors); i++)
			if (X509_cmp(cur, sk_X509_value(anchors, i)) == 0 || issued_by(sk_X509_value(anchors, i), cur))
				return 0; /* the path reaches a trusted root: something else failed */
		if (issued_by(cur, cur)) { /* a root the token carries */
			kura_name_text(X509_get_subject_name(cur), name, sizeof name);
			kura_cert_fingerprint(cur, fp, sizeof fp);
			snprintf(buf, n, "%s (SHA-256 fingerprint %s)", name, fp);
			return 1;
		}
		X509 *next = NULL;
		for (int i = 0; !next && i < sk_X509_num(t->certs); i++)
			if (sk_X509_value(t->certs, i) != cur && issued_by(sk_X509_value(t->certs, i), cur))
				next = sk_X509_value(t->certs, i);
		if (!next) { /* the token ends below its root: only the root's name is known */
			kura_name_text(X509_get_issuer_name(cur), name, sizeof name);
			snprintf(buf, n, "%s (not sent with the token: get it and its SHA-256 fingerprint from the TSA's operator)",
				 name);
			return 1;
		}
		cur = next;
	}
	return 0;
}

int kura_tst_verify(const kura_tst *t, STACK_OF(X509) *anchors, STACK_OF(X509) *extra, int64_t at_ms,
		    kura_error *err)
{
	char when[KURA_TIME_BUFSZ_LOCAL];
	time_t secs = (time_t)(at_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	char root[512];
	if (anchors && sk_X509_num(anchors) == 0)
		return kura_tst_untrusted_root(t, anchors, root, sizeof root)
			       ? kura_error_set(err, KURA_EVERIFY, "no trust anchors to check the TSA certificate against; "
								   "its root %s " KURA_TST_UNTRUSTED_ROOT, root)
			       : kura_error_set(err, KURA_EVERIFY, "no trust anchors to check the TSA certificate against");
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509) *signers = NULL;
	int rc = 0;
	if (!store || !untrusted) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
	for (int i = 0; anchors && i < sk_X509_num(anchors); i++)
		X509_STORE_add_cert(store, sk_X509_value(anchors, i));
	for (int i = 0; extra && i < sk_X509_num(extra); i++)
		sk_X509_push(untrusted, sk_X509_value(extra, i));
	X509_VERIFY_PARAM *param = X509_STORE_get0_param(store);
	X509_VERIFY_PARAM_set_time(param, secs);
	/* timeStampSigning purpose: the TSA certificate needs the critical timeStamping EKU */
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_TIMESTAMP_SIGN);
	ERR_clear_error();
	X509 *signer = kura_tst_signer(t);
	if (!anchors && (!signer || X509_check_purpose(signer, X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1)) {
		rc = kura_error_set(err, KURA_EVERIFY, "the token's signer is not a time-stamping certificate "
						       "(critical extended key usage timeStamping missing)");
		goto out;
	}
	char why[200];
	if (signer && kura_signer_alg_check(t->si, X509_get0_pubkey(signer), why, sizeof why) != 0) {
		rc = kura_error_set(err, KURA_EVERIFY, "time-stamp token: %s", why); /* said before OpenSSL's vaguer failure */
		goto out;
	}
	if (CMS_verify(t->cms, untrusted, store, NULL, NULL, CMS_BINARY | (anchors ? 0 : CMS_NO_SIGNER_CERT_VERIFY)) != 1) {
		char why[512];
		openssl_reason(why, sizeof why);
		if (anchors && kura_tst_untrusted_root(t, anchors, root, sizeof root))
			rc = kura_error_set(err, KURA_EVERIFY, "time-stamp token not valid at %s: %s; its root %s "
					    KURA_TST_UNTRUSTED_ROOT, when, why, root);
		else
			rc = kura_error_set(err, KURA_EVERIFY, "time-stamp token not valid at %s: %s", when, why);
		goto out;
	}
	signers = CMS_get0_signers(t->cms);
	if (sk_X509_num(signers) != 1 || !check_ess(t, sk_X509_value(signers, 0), anchors)) {
		rc = kura_error_set(err, KURA_EVERIFY,
				    "time-stamp token: the signing-certificate attribute (ESSCertID) does not name the signer");
		goto out;
	}
	/* a TSA certificate cannot vouch for a time outside its own life (a backdated token) */
	time_t gen = (time_t)(t->gentime / 1000);
	X509 *s = sk_X509_value(signers, 0);
	if (kura_signer_alg_check(t->si, X509_get0_pubkey(s), why, sizeof why) != 0)
		rc = kura_error_set(err, KURA_EVERIFY, "time-stamp token: %s", why);
	else if (X509_cmp_time(X509_get0_notBefore(s), &gen) > 0 || X509_cmp_time(X509_get0_notAfter(s), &gen) < 0)
		rc = kura_error_set(err, KURA_EVERIFY, "time-stamp token: its genTime lies outside its TSA certificate's validity "
						      "(a backdated or postdated token)");
	else if (anchors)
		rc = check_revocation(t, s, store, untrusted, at_ms, err);
out:
	ERR_clear_error();
	sk_X509_free(signers);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	return rc;
}
