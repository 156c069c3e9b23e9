/* Revocation evidence: OCSP and CRL fetching and offline status (see revocation.h).
 *
 * An OCSP response counts only when it is signed by the issuer itself or by a
 * responder certificate that the issuer signed with the OCSPSigning EKU and that
 * was valid when the response was produced; a CRL only when the issuer's key
 * verifies it. Certificate IDs with SHA-1 and SHA-256 are both understood. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "evidence/http.h"
#include "evidence/revocation.h"
#include "evidence/tst.h"
#include "kura/clock.h"

static void subject_of(X509 *c, char *buf, size_t n)
{
	X509_NAME_oneline(X509_get_subject_name(c), buf, (int)n);
}

static int64_t time_ms(const ASN1_TIME *t)
{
	int64_t ms = 0;
	return kura_asn1_time_ms(&ms, t) == 0 ? ms : 0;
}

/* Is the response signed by someone issuer authorised to speak for it? */
static int ocsp_authorised(OCSP_BASICRESP *bs, STACK_OF(X509) *certs, X509 *issuer)
{
	X509 *signer = NULL;
	X509_STORE *none = X509_STORE_new();
	STACK_OF(X509) *pool = sk_X509_dup(certs);
	int ok = none && pool && sk_X509_push(pool, issuer);
	ok = ok && OCSP_resp_get0_signer(bs, &signer, pool) == 1;
	/* the signature only: the path is decided here, at the response's time */
	ok = ok && OCSP_basic_verify(bs, pool, none, OCSP_NOVERIFY | OCSP_NOCHECKS | OCSP_NOEXPLICIT) > 0;
	if (ok && X509_cmp(signer, issuer) != 0) {
		const ASN1_GENERALIZEDTIME *produced = OCSP_resp_get0_produced_at(bs);
		time_t at = (time_t)(time_ms(produced) / 1000);
		ok = X509_check_issued(issuer, signer) == X509_V_OK && X509_verify(signer, X509_get0_pubkey(issuer)) == 1 &&
		     (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(signer) & XKU_OCSP_SIGN) &&
		     X509_cmp_time(X509_get0_notBefore(signer), &at) <= 0 && X509_cmp_time(X509_get0_notAfter(signer), &at) >= 0;
	}
	sk_X509_free(pool);
	X509_STORE_free(none);
	ERR_clear_error();
	return ok;
}

struct status {
	int found;
	int revoked, reason;
	int64_t as_of, revoked_at;
	const char *source;
};

/* The newest OCSP answer about cert in v that issuer authorised. */
static void ocsp_status(struct status *s, const kura_vdata *v, X509 *cert, X509 *issuer)
{
	const EVP_MD *mds[] = {EVP_sha1(), EVP_sha256()};
	for (int i = 0; i < kura_vdata_ocsp_count(v); i++) {
		OCSP_BASICRESP *bs = kura_vdata_ocsp(v, i);
		for (size_t m = 0; m < sizeof mds / sizeof mds[0]; m++) {
			OCSP_CERTID *id = OCSP_cert_to_id(mds[m], cert, issuer);
			int st = -1, reason;
			ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
			int hit = id && OCSP_resp_find_status(bs, id, &st, &reason, &rev, &thisupd, &nextupd) == 1;
			OCSP_CERTID_free(id);
			if (!hit || st == V_OCSP_CERTSTATUS_UNKNOWN || !ocsp_authorised(bs, kura_vdata_certs(v), issuer))
				continue;
			int64_t as_of = time_ms(thisupd);
			if (s->found && as_of <= s->as_of)
				continue;
			s->found = 1;
			s->as_of = as_of;
			s->revoked = st == V_OCSP_CERTSTATUS_REVOKED;
			s->revoked_at = s->revoked ? time_ms(rev) : 0;
			s->reason = s->revoked ? reason : -1;
			s->source = "ocsp";
		}
	}
	ERR_clear_error();
}

/* The newest CRL in v that issuer signed, if newer than what s holds. */
static void crl_status(struct status *s, const kura_vdata *v, X509 *cert, X509 *issuer)
{
	STACK_OF(X509_CRL) *crls = kura_vdata_crls(v);
	for (int i = 0; i < sk_X509_CRL_num(crls); i++) {
		X509_CRL *crl = sk_X509_CRL_value(crls, i);
		X509_REVOKED *rev = NULL;
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
		    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1)
			continue;
		int64_t as_of = time_ms(X509_CRL_get0_lastUpdate(crl));
		if (s->found && as_of <= s->as_of)
			continue;
		s->found = 1;
		s->as_of = as_of;
		s->revoked = X509_CRL_get0_by_cert(crl, &rev, cert) == 1;
		s->revoked_at = s->revoked ? time_ms(X509_REVOKED_get0_revocationDate(rev)) : 0;
		ASN1_ENUMERATED *why = s->revoked ? X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL) : NULL;
		s->reason = why ? (int)ASN1_ENUMERATED_get(why) : -1;
		ASN1_ENUMERATED_free(why);
		s->source = "crl";
	}
	ERR_clear_error();
}

int kura_revocation_load_crls(STACK_OF(X509_CRL) *out, const char *path, kura_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return kura_error_sys(err, KURA_EINPUT, "cannot read CRL file %s", path);
	int n = 0;
	X509_CRL *crl;
	while ((crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) && sk_X509_CRL_push(out, crl))
		n++;
	if (n == 0) {
		rewind(f);
		if ((crl = d2i_X509_CRL_fp(f, NULL)) && sk_X509_CRL_push(out, crl))
			n++;
	}
	fclose(f);
	ERR_clear_error();
	return n ? 0 : kura_error_set(err, KURA_EINPUT, "%s holds no CRL (PEM or DER)", path);
}

int kura_revocation_known(const kura_vdata *v, X509 *cert, X509 *issuer)
{
	struct status s = {0};
	ocsp_status(&s, v, cert, issuer);
	crl_status(&s, v, cert, issuer);
	return s.found;
}

int kura_revocation_benign(int reason)
{
	return reason == OCSP_REVOKED_STATUS_SUPERSEDED || reason == OCSP_REVOKED_STATUS_CESSATIONOFOPERATION ||
	       reason == OCSP_REVOKED_STATUS_AFFILIATIONCHANGED || reason == OCSP_REVOKED_STATUS_PRIVILEGEWITHDRAWN;
}

int kura_revocation_has_sources(X509 *cert)
{
	STACK_OF(OPENSSL_STRING) *ocsp = X509_get1_ocsp(cert);
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	int any = sk_OPENSSL_STRING_num(ocsp) > 0 || sk_DIST_POINT_num(dps) > 0;
	X509_email_free(ocsp);
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
	return any;
}

int kura_revocation_status(json_t **entry, const kura_vdata *v, X509 *cert, X509 *issuer, int64_t at_ms,
			   int64_t *revoked_at, int *reason)
{
	struct status s = {0};
	char subject[512];
	subject_of(cert, subject, sizeof subject);
	ocsp_status(&s, v, cert, issuer);
	crl_status(&s, v, cert, issuer);
	json_t *e = json_pack("{s:s}", "certificate", subject);
	int verdict;
	if (!s.found) {
		json_object_set_new(e, "status", json_string("unknown"));
		json_object_set_new(e, "reason", json_string("no OCSP response or CRL from its issuer in the validation data"));
		verdict = KURA_REV_UNKNOWN;
	} else {
		json_object_set_new(e, "source", json_string(s.source));
		kura_time_put_json(e, "as_of", s.as_of);
		if (!s.revoked) {
			json_object_set_new(e, "status", json_string("good"));
			verdict = KURA_REV_GOOD;
		} else {
			kura_time_put_json(e, "revoked_at", s.revoked_at);
			if (s.reason >= 0)
				json_object_set_new(e, "revocation_reason", json_string(OCSP_crl_reason_str(s.reason)));
			if (revoked_at)
				*revoked_at = s.revoked_at;
			if (reason)
				*reason = s.reason;
			verdict = s.revoked_at <= at_ms ? KURA_REV_REVOKED : KURA_REV_REVOKED_LATER;
			json_object_set_new(e, "status", json_string(verdict == KURA_REV_REVOKED ? "revoked" : "revoked later"));
		}
	}
	*entry = e;
	return verdict;
}

/* ---------------------------------------------------------------- fetching */

static int fetch_ocsp(kura_vdata *v, X509 *cert, X509 *issuer, const char *url, long timeout_s, kura_error *err)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	unsigned char *der = NULL, *answer = NULL;
	size_t alen = 0;
	int rc = 0, len = -1;
	if (!req || !id || !OCSP_request_add0_id(req, id)) {
		OCSP_CERTID_free(id);
		rc = kura_error_set(err, KURA_EINTERNAL, "cannot build an OCSP request");
		goto out;
	}
	OCSP_request_add1_nonce(req, NULL, -1);
	if ((len = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		rc = kura_error_set(err, KURA_EINTERNAL, "cannot encode an OCSP request");
		goto out;
	}
	if ((rc = kura_http_fetch(&answer, &alen, url, "application/ocsp-request", der, (size_t)len, timeout_s, err)) != 0)
		goto out;
	const unsigned char *p = answer;
	if (!(resp = d2i_OCSP_RESPONSE(NULL, &p, (long)alen)) ||
	    OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL || !(bs = OCSP_response_get1_basic(resp))) {
		rc = kura_error_set(err, KURA_EVERIFY, "the answer is not a successful OCSP response");
		goto out;
	}
	if (OCSP_check_nonce(req, bs) <= 0) {
		rc = kura_error_set(err, KURA_EVERIFY, "the OCSP response does not carry our nonce (a replay?)");
		goto out;
	}
	STACK_OF(X509) *rcerts = (STACK_OF(X509) *)OCSP_resp_get0_certs(bs);
	for (int i = 0; rc == 0 && i < sk_X509_num(rcerts); i++)
		rc = kura_vdata_add_cert(v, sk_X509_value(rcerts, i), err);
	if (rc == 0)
		rc = kura_vdata_add_ocsp(v, bs, err);
out:
	ERR_clear_error();
	OPENSSL_free(der);
	free(answer);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OCSP_REQUEST_free(req);
	return rc;
}

static int fetch_crl(kura_vdata *v, const char *url, long timeout_s, kura_error *err)
{
	unsigned char *answer = NULL;
	size_t alen = 0;
	int rc = kura_http_fetch(&answer, &alen, url, NULL, NULL, 0, timeout_s, err);
	if (rc != 0)
		return rc;
	const unsigned char *p = answer;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)alen);
	if (!crl) { /* some distribution points serve PEM */
		BIO *b = BIO_new_mem_buf(answer, (int)alen);
		crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
	}
	rc = crl ? kura_vdata_add_crl(v, crl, err) : kura_error_set(err, KURA_EVERIFY, "the answer is not a CRL");
	X509_CRL_free(crl);
	free(answer);
	ERR_clear_error();
	return rc;
}

static void note_failure(char *buf, size_t n, const char *what, const char *url, const char *why)
{
	size_t used = strlen(buf);
	snprintf(buf + used, n - used, "%s%s %s: %s", used ? "; " : "", what, url, why);
}

int kura_revocation_fetch(kura_vdata *v, X509 *cert, X509 *issuer, long timeout_s, kura_error *err)
{
	char failures[1024] = "", subject[512];
	subject_of(cert, subject, sizeof subject);
	STACK_OF(OPENSSL_STRING) *ocsp = X509_get1_ocsp(cert);
	int done = 0;
	for (int i = 0; !done && i < sk_OPENSSL_STRING_num(ocsp); i++) {
		kura_error e = {0};
		const char *url = sk_OPENSSL_STRING_value(ocsp, i);
		if (fetch_ocsp(v, cert, issuer, url, timeout_s, &e) == 0 && kura_revocation_known(v, cert, issuer))
			done = 1;
		else
			note_failure(failures, sizeof failures, "OCSP", url, e.message[0] ? e.message : "no usable answer about it");
	}
	X509_email_free(ocsp);
	STACK_OF(DIST_POINT) *dps = done ? NULL : X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	for (int i = 0; !done && i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		GENERAL_NAMES *names = dp->distpoint->name.fullname;
		for (int j = 0; !done && j < sk_GENERAL_NAME_num(names); j++) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
			if (gn->type != GEN_URI)
				continue;
			const char *url = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
			kura_error e = {0};
			if (fetch_crl(v, url, timeout_s, &e) == 0 && kura_revocation_known(v, cert, issuer))
				done = 1;
			else
				note_failure(failures, sizeof failures, "CRL", url, e.message[0] ? e.message : "not signed by its issuer");
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	ERR_clear_error();
	if (done)
		return 0;
	return kura_error_set(err, KURA_EIO, "no revocation data for %s (%s)", subject,
			      failures[0] ? failures : "its certificate names no OCSP responder and no CRL distribution point");
}
