/* CMS document signatures: parsing, validation data, and deciding them at the
 * proven time (see signature.h).
 *
 * A SignerInfo with signed attributes is checked as RFC 5652 section 5.4 says:
 * the signature over the attributes, and the messageDigest attribute against
 * the document's digest (computed by the caller, streaming, for a detached
 * signature). Without signed attributes the signature is over the document's
 * digest itself (RSA PKCS#1 v1.5 and ECDSA). Paths are built by OpenSSL at the
 * proven time from the certificates in the signature and the validation data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h> /* before cms.h, which then declares PEM_read_bio_CMS */
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "evidence/revocation.h"
#include "evidence/signature.h"
#include "evidence/tst.h"
#include "kura/clock.h"

struct kura_sig {
	CMS_ContentInfo *cms;
};

int kura_sig_parse(kura_sig **out, const unsigned char *data, size_t len, kura_error *err)
{
	const unsigned char *p = data;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	if (!cms) {
		BIO *b = BIO_new_mem_buf(data, (int)len);
		cms = b ? PEM_read_bio_CMS(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
	}
	ERR_clear_error();
	if (!cms || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		CMS_ContentInfo_free(cms);
		return kura_error_set(err, KURA_EINPUT, "not a CMS signature (SignedData, DER or PEM)");
	}
	if (sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)) < 1) {
		CMS_ContentInfo_free(cms);
		return kura_error_set(err, KURA_EINPUT, "the CMS signature has no signer");
	}
	*out = calloc(1, sizeof **out);
	if (!*out) {
		CMS_ContentInfo_free(cms);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	(*out)->cms = cms;
	return 0;
}

void kura_sig_free(kura_sig *s)
{
	if (!s)
		return;
	CMS_ContentInfo_free(s->cms);
	free(s);
}

int kura_sig_attached(const kura_sig *s)
{
	return !CMS_is_detached(s->cms);
}

static void subject_of(X509 *c, char *buf, size_t n)
{
	X509_NAME_oneline(X509_get_subject_name(c), buf, (int)n);
}

/* Every certificate the signature and the validation data carry (a new stack of
 * borrowed pointers; the owned ones are in *owned). */
static STACK_OF(X509) *cert_pool(const kura_sig *s, const kura_vdata *v, STACK_OF(X509) **owned)
{
	*owned = CMS_get1_certs(s->cms);
	STACK_OF(X509) *pool = *owned ? sk_X509_dup(*owned) : sk_X509_new_null();
	for (int i = 0; pool && v && i < sk_X509_num(kura_vdata_certs(v)); i++)
		sk_X509_push(pool, sk_X509_value(kura_vdata_certs(v), i));
	return pool;
}

static X509 *find_signer(CMS_SignerInfo *si, STACK_OF(X509) *pool)
{
	for (int i = 0; i < sk_X509_num(pool); i++)
		if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(pool, i)) == 0)
			return sk_X509_value(pool, i);
	return NULL;
}

/* The signer's path at at_ms (the caller's, signer first, anchor last), or NULL
 * with why. *untrusted says the path failed only for want of a trust anchor. */
static STACK_OF(X509) *build_path(X509 *signer, STACK_OF(X509) *pool, STACK_OF(X509) *anchors, int64_t at_ms,
				  char *why, size_t n, int *untrusted)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;
	*untrusted = 0;
	for (int i = 0; store && anchors && i < sk_X509_num(anchors); i++)
		X509_STORE_add_cert(store, sk_X509_value(anchors, i));
	if (store && ctx && X509_STORE_CTX_init(ctx, store, signer, pool) == 1) {
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)(at_ms / 1000));
		if (X509_verify_cert(ctx) == 1) {
			chain = X509_STORE_CTX_get1_chain(ctx);
		} else {
			int e = X509_STORE_CTX_get_error(ctx);
			*untrusted = e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
				     e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;
			char subject[256];
			X509 *at = X509_STORE_CTX_get_current_cert(ctx);
			subject_of(at ? at : signer, subject, sizeof subject);
			snprintf(why, n, "certificate path of the signer: %s (at %s)", X509_verify_cert_error_string(e), subject);
		}
	} else {
		snprintf(why, n, "cannot set up path building");
	}
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return chain;
}

int kura_sig_collect(kura_vdata **out, const kura_sig *s, STACK_OF(X509) *anchors, STACK_OF(X509_CRL) *crls,
		     int fetch, long timeout_s, int64_t at_ms, kura_error *err)
{
	kura_vdata *v = NULL;
	STACK_OF(X509) *owned = NULL, *pool = NULL;
	int rc = kura_vdata_new(&v, at_ms, err);
	for (int i = 0; rc == 0 && crls && i < sk_X509_CRL_num(crls); i++)
		rc = kura_vdata_add_crl(v, sk_X509_CRL_value(crls, i), err);
	if (rc == 0 && !(pool = cert_pool(s, NULL, &owned)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	char failures[1024] = "";
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(s->cms);
	for (int i = 0; rc == 0 && i < sk_CMS_SignerInfo_num(sis); i++) {
		X509 *signer = find_signer(sk_CMS_SignerInfo_value(sis, i), pool);
		char why[512];
		int untrusted;
		STACK_OF(X509) *chain = signer ? build_path(signer, pool, anchors, at_ms, why, sizeof why, &untrusted) : NULL;
		if (!chain) /* the check will say why; keep what there is */
			chain = signer ? sk_X509_new_null() : NULL;
		if (signer && chain && sk_X509_num(chain) == 0)
			X509_up_ref(signer), sk_X509_push(chain, signer);
		for (int c = 0; rc == 0 && chain && c < sk_X509_num(chain); c++)
			rc = kura_vdata_add_cert(v, sk_X509_value(chain, c), err);
		/* every certificate but the anchor needs its status */
		for (int c = 0; rc == 0 && chain && c + 1 < sk_X509_num(chain); c++) {
			X509 *cert = sk_X509_value(chain, c), *issuer = sk_X509_value(chain, c + 1);
			kura_error e = {0};
			if (kura_revocation_known(v, cert, issuer))
				continue;
			if (!fetch) {
				char subject[256];
				subject_of(cert, subject, sizeof subject);
				kura_error_set(&e, KURA_EIO, "no revocation data for %s among the CRLs given", subject);
			} else if (kura_revocation_fetch(v, cert, issuer, timeout_s, &e) == 0) {
				continue;
			}
			size_t used = strlen(failures);
			snprintf(failures + used, sizeof failures - used, "%s%s", used ? "; " : "", e.message);
		}
		sk_X509_pop_free(chain, X509_free);
	}
	sk_X509_free(pool);
	sk_X509_pop_free(owned, X509_free);
	if (rc != 0) {
		kura_vdata_free(v);
		return rc;
	}
	*out = v;
	return failures[0] ? kura_error_set(err, KURA_EIO, "%s", failures) : 0;
}

/* ---------------------------------------------------------------- checking */

struct outcome {
	int invalid, indeterminate;
	json_t *notes;
	char reason[512];
};

static void flag(struct outcome *o, int invalid, const char *why)
{
	if (!o->reason[0] || (invalid && !o->invalid))
		snprintf(o->reason, sizeof o->reason, "%s", why);
	if (invalid)
		o->invalid = 1;
	else
		o->indeterminate = 1;
}

/* The signed document's digest under md. */
static int content_digest(const kura_sig *s, kura_sig_content_fn content, void *ud, const EVP_MD *md,
			  unsigned char *out, kura_error *err)
{
	if (CMS_is_detached(s->cms)) {
		if (!content)
			return kura_error_set(err, KURA_EINPUT, "a detached signature needs its document");
		return content(ud, md, out, err);
	}
	ASN1_OCTET_STRING **pos = CMS_get0_content(s->cms);
	if (!pos || !*pos)
		return kura_error_set(err, KURA_EINPUT, "the signature holds no document");
	if (EVP_Digest(ASN1_STRING_get0_data(*pos), (size_t)ASN1_STRING_length(*pos), out, NULL, md, NULL) != 1)
		return kura_error_set(err, KURA_EINTERNAL, "digest failed");
	return 0;
}

/* Does si's signature hold over the document? */
static int signature_holds(const kura_sig *s, CMS_SignerInfo *si, X509 *signer, kura_sig_content_fn content, void *ud,
			   char *why, size_t n, kura_error *err)
{
	X509_ALGOR *dig = NULL, *sig = NULL;
	EVP_PKEY *pk = NULL;
	CMS_SignerInfo_get0_algs(si, &pk, NULL, &dig, &sig);
	const ASN1_OBJECT *obj = NULL;
	X509_ALGOR_get0(&obj, NULL, NULL, dig);
	const EVP_MD *md = EVP_get_digestbyobj(obj);
	unsigned char digest[EVP_MAX_MD_SIZE];
	char mismatch[200];
	if (!md) {
		snprintf(why, n, "the signature's digest algorithm is unknown");
		return 0;
	}
	if (kura_signer_alg_check(si, X509_get0_pubkey(signer), mismatch, sizeof mismatch) != 0) {
		snprintf(why, n, "the signature: %s", mismatch);
		return 0;
	}
	int rc = content_digest(s, content, ud, md, digest, err);
	if (rc != 0)
		return -1;
	size_t dlen = (size_t)EVP_MD_get_size(md);
	int ok;
	CMS_SignerInfo_set1_signer_cert(si, signer);
	if (CMS_signed_get_attr_count(si) >= 0) {
		ASN1_OCTET_STRING *md_attr = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_messageDigest), -3,
									   V_ASN1_OCTET_STRING);
		ok = CMS_SignerInfo_verify(si) == 1;
		if (!ok)
			snprintf(why, n, "the signature does not verify with the signer's key (signature or attributes altered)");
		else if (!(ok = md_attr && (size_t)ASN1_STRING_length(md_attr) == dlen &&
				memcmp(ASN1_STRING_get0_data(md_attr), digest, dlen) == 0))
			snprintf(why, n, "the document does not match the signature (messageDigest differs: another or altered document)");
	} else {
		ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(X509_get0_pubkey(signer), NULL);
		ok = ctx && EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1 &&
		     EVP_PKEY_verify(ctx, ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), digest, dlen) == 1;
		EVP_PKEY_CTX_free(ctx);
		if (!ok)
			snprintf(why, n, "the signature does not verify over the document (another or altered document)");
	}
	ERR_clear_error();
	return ok;
}

/* A signature time-stamp over si's signature value that verifies at at_ms moves
 * the proven time back to its genTime. */
static int64_t signature_timestamp(json_t *j, struct outcome *o, CMS_SignerInfo *si, STACK_OF(X509) *tsa_anchors,
				   int64_t at_ms)
{
	int idx = CMS_unsigned_get_attr_by_NID(si, NID_id_smime_aa_timeStampToken, -1);
	if (idx < 0)
		return at_ms;
	ASN1_TYPE *t = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(si, idx), 0);
	kura_tst *tok = NULL;
	kura_error why = {0};
	json_t *ts = json_object();
	json_object_set_new(j, "signature_timestamp", ts);
	int ok = t && t->type == V_ASN1_SEQUENCE &&
		 kura_tst_parse(&tok, t->value.sequence->data, (size_t)t->value.sequence->length, &why) == 0;
	if (ok) {
		char tsa[256];
		size_t ilen;
		const unsigned char *imprint = kura_tst_imprint(tok, &ilen);
		const EVP_MD *md = EVP_get_digestbynid(kura_tst_imprint_nid(tok));
		ASN1_OCTET_STRING *value = CMS_SignerInfo_get0_signature(si);
		unsigned char h[EVP_MAX_MD_SIZE];
		kura_tst_tsa_name(tok, tsa, sizeof tsa);
		kura_time_put_json(ts, "genTime", kura_tst_gentime(tok));
		json_object_set_new(ts, "tsa", json_string(tsa));
		if (!md || (size_t)EVP_MD_get_size(md) != ilen ||
		    EVP_Digest(ASN1_STRING_get0_data(value), (size_t)ASN1_STRING_length(value), h, NULL, md, NULL) != 1 ||
		    memcmp(h, imprint, ilen) != 0)
			ok = 0, kura_error_set(&why, KURA_EVERIFY, "its imprint is not the hash of the signature value");
		else if (kura_tst_verify(tok, tsa_anchors, NULL, at_ms, &why) != 0)
			ok = 0;
	} else if (!why.message[0]) {
		kura_error_set(&why, KURA_EVERIFY, "the attribute holds no time-stamp token");
	}
	int64_t proven = ok && kura_tst_gentime(tok) < at_ms ? kura_tst_gentime(tok) : at_ms;
	json_object_set_new(ts, "status", json_string(ok ? "valid" : "not valid"));
	if (!ok) {
		char note[600];
		snprintf(note, sizeof note, "the signature time-stamp does not verify (%s): the signature is decided at the "
					    "archive time-stamp's time instead", why.message);
		json_object_set_new(ts, "reason", json_string(why.message));
		json_array_append_new(o->notes, json_string(note));
	}
	kura_tst_free(tok);
	ERR_clear_error();
	return proven;
}

static json_t *check_signer(struct outcome *o, const kura_sig *s, CMS_SignerInfo *si, STACK_OF(X509) *pool,
			    kura_sig_content_fn content, void *ud, const kura_vdata *v, STACK_OF(X509) *anchors,
			    STACK_OF(X509) *tsa_anchors, int64_t *at_ms, kura_error *err, int *rc)
{
	json_t *j = json_object();
	char why[512], subject[256];
	X509 *signer = find_signer(si, pool);
	if (!signer) {
		flag(o, 0, "the signer's certificate is neither in the signature nor in the validation data");
		return j;
	}
	subject_of(signer, subject, sizeof subject);
	json_object_set_new(j, "subject", json_string(subject));
	ASN1_TYPE *st = CMS_signed_get0_data_by_OBJ(si, OBJ_nid2obj(NID_pkcs9_signingTime), -3, V_ASN1_ANY);
	int64_t claimed;
	if (st && (st->type == V_ASN1_UTCTIME || st->type == V_ASN1_GENERALIZEDTIME) &&
	    kura_asn1_time_ms(&claimed, (ASN1_GENERALIZEDTIME *)st->value.ptr) == 0)
		kura_time_put_json(j, "claimed_signing_time", claimed);
	int holds = signature_holds(s, si, signer, content, ud, why, sizeof why, err);
	if (holds < 0) {
		*rc = err ? err->code : KURA_EIO;
		return j;
	}
	if (!holds) {
		flag(o, 1, why);
		return j;
	}
	int64_t proven = *at_ms = signature_timestamp(j, o, si, tsa_anchors, *at_ms);
	int untrusted;
	STACK_OF(X509) *chain = build_path(signer, pool, anchors, proven, why, sizeof why, &untrusted);
	if (!chain) {
		if (untrusted && (!anchors || sk_X509_num(anchors) == 0))
			snprintf(why, sizeof why, "no signer trust anchors: add the signer's CA with kura trust add STORE --signers CA.pem");
		flag(o, !untrusted, why);
		return j;
	}
	json_t *path = json_array(), *revs = json_array();
	json_object_set_new(j, "path", path);
	json_object_set_new(j, "revocation", revs);
	for (int c = 0; c < sk_X509_num(chain); c++) {
		subject_of(sk_X509_value(chain, c), subject, sizeof subject);
		json_array_append_new(path, json_string(subject));
	}
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(signer, NID_key_usage, NULL, NULL);
	if (ku && !ASN1_BIT_STRING_get_bit(ku, 0) && !ASN1_BIT_STRING_get_bit(ku, 1))
		flag(o, 1, "the signer's certificate is not for signatures (key usage lacks digitalSignature and nonRepudiation)");
	ASN1_BIT_STRING_free(ku);
	for (int c = 0; c + 1 < sk_X509_num(chain); c++) {
		json_t *e = NULL;
		X509 *cert = sk_X509_value(chain, c);
		int status = v ? kura_revocation_status(&e, v, cert, sk_X509_value(chain, c + 1), proven, NULL, NULL)
			       : KURA_REV_UNKNOWN;
		subject_of(cert, subject, sizeof subject);
		if (!e)
			e = json_pack("{s:s, s:s}", "certificate", subject, "status", "unknown");
		json_array_append_new(revs, e);
		const char *rev_at = json_string_value(json_object_get(e, "revoked_at"));
		if (status == KURA_REV_REVOKED) {
			snprintf(why, sizeof why, "%s was revoked at %s, before the time the signature is proven to exist", subject, rev_at);
			flag(o, 1, why);
		} else if (status == KURA_REV_REVOKED_LATER) {
			snprintf(why, sizeof why, "%s was revoked at %s, after the time the signature is proven to exist: "
						  "the signature stays valid", subject, rev_at);
			json_array_append_new(o->notes, json_string(why));
		} else if (status == KURA_REV_UNKNOWN) {
			snprintf(why, sizeof why, "no revocation data for %s was kept: its status at the proven time is unknown", subject);
			flag(o, 0, why);
		}
	}
	int64_t now_ms;
	time_t now = kura_clock_now(&now_ms, NULL) == 0 ? (time_t)(now_ms / 1000) : (time_t)(proven / 1000);
	if (X509_cmp_time(X509_get0_notAfter(signer), &now) < 0)
		json_array_append_new(o->notes, json_string("the signer's certificate has expired since; the evidence proves the signature was made while it was valid"));
	sk_X509_pop_free(chain, X509_free);
	return j;
}

int kura_sig_check(json_t **report, const kura_sig *s, kura_sig_content_fn content, void *ud, const kura_vdata *v,
		   STACK_OF(X509) *anchors, STACK_OF(X509) *tsa_anchors, int64_t at_ms, kura_error *err)
{
	int64_t proven = at_ms; /* the earliest any signer's time-stamp proves */
	struct outcome o = {.notes = json_array()};
	STACK_OF(X509) *owned = NULL, *pool = cert_pool(s, v, &owned);
	json_t *signers = json_array();
	int rc = pool ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(s->cms);
	for (int i = 0; rc == 0 && i < sk_CMS_SignerInfo_num(sis); i++) {
		int64_t t = at_ms;
		json_array_append_new(signers, check_signer(&o, s, sk_CMS_SignerInfo_value(sis, i), pool, content, ud, v,
							    anchors, tsa_anchors, &t, err, &rc));
		if (t < proven)
			proven = t;
	}
	sk_X509_free(pool);
	sk_X509_pop_free(owned, X509_free);
	if (rc != 0) {
		json_decref(signers);
		json_decref(o.notes);
		return rc;
	}
	json_t *r = json_pack("{s:s, s:s, s:o}", "signature", o.invalid ? "invalid" : o.indeterminate ? "indeterminate" : "valid",
			      "format", kura_sig_attached(s) ? "CMS, attached" : "CMS, detached", "signers", signers);
	kura_time_put_json(r, "proven_at", proven);
	if (o.reason[0])
		json_object_set_new(r, "reason", json_string(o.reason));
	if (json_array_size(o.notes))
		json_object_set_new(r, "notes", o.notes);
	else
		json_decref(o.notes);
	*report = r;
	return 0;
}
