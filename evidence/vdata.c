/* Validation data as a DER structure of CAdES types (see vdata.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>

#include "evidence/tst.h"
#include "evidence/vdata.h"

typedef struct {
	STACK_OF(X509_CRL) *crls;
	OPENSSL_STACK *ocsps; /* of OCSP_BASICRESP; OpenSSL declares no typed stack for it */
} KURA_REVVALS;

typedef struct {
	ASN1_INTEGER *version;
	ASN1_GENERALIZEDTIME *collected;
	STACK_OF(X509) *certs;
	KURA_REVVALS *rev;
} KURA_VDATA;

ASN1_SEQUENCE(KURA_REVVALS) = {
	ASN1_EXP_SEQUENCE_OF_OPT(KURA_REVVALS, crls, X509_CRL, 0),
	ASN1_EXP_SEQUENCE_OF_OPT(KURA_REVVALS, ocsps, OCSP_BASICRESP, 1),
} ASN1_SEQUENCE_END(KURA_REVVALS)

ASN1_SEQUENCE(KURA_VDATA) = {
	ASN1_SIMPLE(KURA_VDATA, version, ASN1_INTEGER),
	ASN1_SIMPLE(KURA_VDATA, collected, ASN1_GENERALIZEDTIME),
	ASN1_SEQUENCE_OF(KURA_VDATA, certs, X509),
	ASN1_SIMPLE(KURA_VDATA, rev, KURA_REVVALS),
} ASN1_SEQUENCE_END(KURA_VDATA)

DECLARE_ASN1_FUNCTIONS(KURA_VDATA)
IMPLEMENT_ASN1_FUNCTIONS(KURA_VDATA)

struct kura_vdata {
	KURA_VDATA *asn;
	int64_t collected;
};

static int set_defaults(KURA_VDATA *a, int64_t collected_ms)
{
	time_t t = (time_t)(collected_ms / 1000);
	if (!ASN1_INTEGER_set(a->version, 1) || !ASN1_GENERALIZEDTIME_set(a->collected, t))
		return -1;
	if (!a->certs && !(a->certs = sk_X509_new_null()))
		return -1;
	if (!a->rev->crls && !(a->rev->crls = sk_X509_CRL_new_null()))
		return -1;
	if (!a->rev->ocsps && !(a->rev->ocsps = OPENSSL_sk_new_null()))
		return -1;
	return 0;
}

int kura_vdata_new(kura_vdata **out, int64_t collected_ms, kura_error *err)
{
	kura_vdata *v = calloc(1, sizeof *v);
	if (!v || !(v->asn = KURA_VDATA_new()) || set_defaults(v->asn, collected_ms) != 0) {
		kura_vdata_free(v);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	v->collected = collected_ms / 1000 * 1000;
	*out = v;
	return 0;
}

int kura_vdata_parse(kura_vdata **out, const unsigned char *der, size_t len, kura_error *err)
{
	const unsigned char *p = der;
	kura_vdata *v = calloc(1, sizeof *v);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	v->asn = d2i_KURA_VDATA(NULL, &p, (long)len);
	int ok = v->asn && p == der + len && ASN1_INTEGER_get(v->asn->version) == 1 &&
		 kura_asn1_time_ms(&v->collected, v->asn->collected) == 0 && set_defaults(v->asn, v->collected) == 0;
	ERR_clear_error();
	if (!ok) {
		kura_vdata_free(v);
		return kura_error_set(err, KURA_EVERIFY, "the validation data is not a kura validation data structure "
							 "(damaged or of another kind)");
	}
	*out = v;
	return 0;
}

void kura_vdata_free(kura_vdata *v)
{
	if (!v)
		return;
	KURA_VDATA_free(v->asn);
	free(v);
}

int kura_vdata_add_cert(kura_vdata *v, X509 *cert, kura_error *err)
{
	for (int i = 0; i < sk_X509_num(v->asn->certs); i++)
		if (X509_cmp(sk_X509_value(v->asn->certs, i), cert) == 0)
			return 0;
	if (!X509_up_ref(cert))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (!sk_X509_push(v->asn->certs, cert)) {
		X509_free(cert);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	return 0;
}

int kura_vdata_add_crl(kura_vdata *v, X509_CRL *crl, kura_error *err)
{
	for (int i = 0; i < sk_X509_CRL_num(v->asn->rev->crls); i++)
		if (X509_CRL_match(sk_X509_CRL_value(v->asn->rev->crls, i), crl) == 0)
			return 0;
	if (!X509_CRL_up_ref(crl))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (!sk_X509_CRL_push(v->asn->rev->crls, crl)) {
		X509_CRL_free(crl);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	return 0;
}

/* Whether a and b encode to the same DER. */
static int same_ocsp(OCSP_BASICRESP *a, OCSP_BASICRESP *b)
{
	unsigned char *da = NULL, *db = NULL;
	int na = i2d_OCSP_BASICRESP(a, &da), nb = i2d_OCSP_BASICRESP(b, &db);
	int same = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return same;
}

int kura_vdata_add_ocsp(kura_vdata *v, OCSP_BASICRESP *resp, kura_error *err)
{
	for (int i = 0; i < kura_vdata_ocsp_count(v); i++)
		if (same_ocsp(kura_vdata_ocsp(v, i), resp))
			return 0;
	/* OCSP_BASICRESP has no up-ref: keep a copy */
	OCSP_BASICRESP *copy = ASN1_item_dup(ASN1_ITEM_rptr(OCSP_BASICRESP), resp);
	if (!copy || !OPENSSL_sk_push(v->asn->rev->ocsps, copy)) {
		OCSP_BASICRESP_free(copy);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	return 0;
}

int64_t kura_vdata_collected(const kura_vdata *v) { return v->collected; }
STACK_OF(X509) *kura_vdata_certs(const kura_vdata *v) { return v->asn->certs; }
STACK_OF(X509_CRL) *kura_vdata_crls(const kura_vdata *v) { return v->asn->rev->crls; }
int kura_vdata_ocsp_count(const kura_vdata *v) { return OPENSSL_sk_num(v->asn->rev->ocsps); }
OCSP_BASICRESP *kura_vdata_ocsp(const kura_vdata *v, int i) { return OPENSSL_sk_value(v->asn->rev->ocsps, i); }

int kura_vdata_encode(unsigned char **der, size_t *len, const kura_vdata *v, kura_error *err)
{
	unsigned char *p = NULL;
	int n = i2d_KURA_VDATA(v->asn, &p);
	if (n <= 0)
		return kura_error_set(err, KURA_EINTERNAL, "encoding validation data failed");
	/* What kura stores it must read again decades later: OpenSSL re-encodes some
	 * odd encodings it accepted (an OCSP response's algorithm parameters with an
	 * unusual tag, found by tests/fuzz) into bytes it then refuses. */
	kura_vdata *back = NULL;
	if (kura_vdata_parse(&back, p, (size_t)n, NULL) != 0) {
		OPENSSL_free(p);
		return kura_error_set(err, KURA_EVERIFY, "the validation data collected cannot be stored so that it reads "
							 "back (a certificate, CRL or OCSP response of unusual encoding)");
	}
	kura_vdata_free(back);
	*der = malloc((size_t)n);
	if (*der)
		memcpy(*der, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	return *der ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}
