/* Revocation data in time-stamp tokens (see tst_revinfo.h).
 *
 * Certificates and CRLs go through OpenSSL's CMS API. OCSP responses as other
 * revocation info cannot be made with it, so they are spliced into the DER of
 * the SignedData's crls field here; the token is first re-encoded in DER by
 * OpenSSL (the signature covers the TSTInfo and signed attributes, which DER
 * re-encoding leaves as they are). */
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "evidence/tst_revinfo.h"

/* id-ri-ocsp-response 1.3.6.1.5.5.7.16.2, DER */
static const unsigned char OID_RI_OCSP[] = {0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02};

struct tlv {
	int tag;                  /* the identifier octet */
	const unsigned char *at;  /* the whole element */
	size_t hdr, len;          /* header and content lengths */
};

/* The DER element at p (at most left bytes), or -1. */
static int tlv_at(struct tlv *t, const unsigned char *p, size_t left)
{
	const unsigned char *q = p;
	long len;
	int tag, cls;
	if (left == 0 || (ASN1_get_object(&q, &len, &tag, &cls, (long)left) & 0x80) || (*p & 0x1F) == 0x1F)
		return -1;
	if ((size_t)(q - p) + (size_t)len > left || (p[1] == 0x80))
		return -1;
	t->tag = *p;
	t->at = p;
	t->hdr = (size_t)(q - p);
	t->len = (size_t)len;
	return 0;
}

/* The children of a constructed element, at most max. */
static int kids(struct tlv *out, int max, const struct tlv *parent)
{
	const unsigned char *p = parent->at + parent->hdr, *end = p + parent->len;
	int n = 0;
	while (p < end) {
		if (n == max || tlv_at(&out[n], p, (size_t)(end - p)) != 0)
			return -1;
		p += out[n].hdr + out[n].len;
		n++;
	}
	return n;
}

/* A growing byte buffer. */
struct buf {
	unsigned char *p;
	size_t n, cap;
	int failed;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->n + n > b->cap) {
		size_t cap = (b->n + n) * 2;
		unsigned char *g = realloc(b->p, cap);
		if (!g) {
			b->failed = 1;
			return;
		}
		b->p = g;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_header(struct buf *b, int tag, size_t len)
{
	unsigned char h[6] = {(unsigned char)tag};
	size_t hl = 2;
	if (len < 0x80) {
		h[1] = (unsigned char)len;
	} else {
		int bytes = len > 0xFFFFFF ? 4 : len > 0xFFFF ? 3 : len > 0xFF ? 2 : 1;
		h[1] = (unsigned char)(0x80 | bytes);
		for (int i = 0; i < bytes; i++)
			h[2 + i] = (unsigned char)(len >> (8 * (bytes - 1 - i)));
		hl = 2 + (size_t)bytes;
	}
	put(b, h, hl);
}

static void put_tlv(struct buf *b, const struct tlv *t)
{
	put(b, t->at, t->hdr + t->len);
}

/* The SignedData of a DER token: ContentInfo, its [0], the SignedData and its
 * children (at most 8). */
static int signed_data(struct tlv path[3], struct tlv sd_kids[8], int *nkids, const unsigned char *der, size_t len)
{
	struct tlv ci_kids[2];
	if (tlv_at(&path[0], der, len) != 0 || path[0].tag != 0x30 || kids(ci_kids, 2, &path[0]) != 2 ||
	    ci_kids[1].tag != 0xA0)
		return -1;
	path[1] = ci_kids[1];
	if (kids(&path[2], 1, &path[1]) != 1 || path[2].tag != 0x30)
		return -1;
	*nkids = kids(sd_kids, 8, &path[2]);
	return *nkids < 4 ? -1 : 0;
}

/* Calls fn for every OCSP response the DER token carries as other revocation info. */
static int each_ocsp(const unsigned char *der, size_t len, int (*fn)(void *, const struct tlv *), void *ud)
{
	struct tlv path[3], sd[8], items[256];
	int n, rc = 0;
	if (signed_data(path, sd, &n, der, len) != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (sd[i].tag != 0xA1)
			continue;
		int m = kids(items, 256, &sd[i]);
		for (int j = 0; j < m && rc == 0; j++) {
			struct tlv parts[2];
			if (items[j].tag == 0xA1 && kids(parts, 2, &items[j]) == 2 && parts[0].hdr + parts[0].len == sizeof OID_RI_OCSP &&
			    memcmp(parts[0].at, OID_RI_OCSP, sizeof OID_RI_OCSP) == 0)
				rc = fn(ud, &parts[1]);
		}
	}
	return rc;
}

struct collect {
	kura_vdata *v;
	kura_error *err;
};

static int collect_ocsp(void *ud, const struct tlv *resp)
{
	struct collect *c = ud;
	const unsigned char *p = resp->at;
	OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)(resp->hdr + resp->len));
	OCSP_BASICRESP *bs = r ? OCSP_response_get1_basic(r) : NULL;
	int rc = bs ? kura_vdata_add_ocsp(c->v, bs, c->err) : 0; /* an unreadable one is no evidence */
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(r);
	ERR_clear_error();
	return rc;
}

static int der_of(unsigned char **der, int *len, CMS_ContentInfo **cms, const unsigned char *tok, size_t tlen)
{
	const unsigned char *p = tok;
	*der = NULL;
	*cms = d2i_CMS_ContentInfo(NULL, &p, (long)tlen);
	*len = *cms ? i2d_CMS_ContentInfo(*cms, der) : -1;
	return *len > 0 ? 0 : -1;
}

int kura_tst_revinfo(kura_vdata **out, CMS_ContentInfo *cms, kura_error *err)
{
	unsigned char *der = NULL;
	int dlen = i2d_CMS_ContentInfo(cms, &der); /* DER, for the OCSP responses OpenSSL does not show */
	kura_vdata *v = NULL;
	int rc = dlen > 0 ? kura_vdata_new(&v, 0, err) : kura_error_set(err, KURA_EVERIFY, "the token cannot be encoded");
	STACK_OF(X509) *certs = rc == 0 ? CMS_get1_certs(cms) : NULL;
	STACK_OF(X509_CRL) *crls = rc == 0 ? CMS_get1_crls(cms) : NULL;
	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++)
		rc = kura_vdata_add_cert(v, sk_X509_value(certs, i), err);
	for (int i = 0; rc == 0 && i < sk_X509_CRL_num(crls); i++)
		rc = kura_vdata_add_crl(v, sk_X509_CRL_value(crls, i), err);
	struct collect c = {v, err};
	if (rc == 0)
		each_ocsp(der, (size_t)dlen, collect_ocsp, &c);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	OPENSSL_free(der);
	ERR_clear_error();
	if (rc != 0) {
		kura_vdata_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

struct present {
	const unsigned char *der;
	size_t len;
	int found;
};

static int same_ocsp(void *ud, const struct tlv *resp)
{
	struct present *p = ud;
	p->found |= resp->hdr + resp->len == p->len && memcmp(resp->at, p->der, p->len) == 0;
	return 0;
}

/* Adds to cms the certificates and CRLs of v it does not hold yet (through the
 * CMS API): how many it added. */
static int add_certs_and_crls(CMS_ContentInfo *cms, const kura_vdata *v)
{
	int added = 0;
	STACK_OF(X509) *have = CMS_get1_certs(cms);
	STACK_OF(X509_CRL) *have_crls = CMS_get1_crls(cms);
	for (int i = 0; i < sk_X509_num(kura_vdata_certs(v)); i++) {
		X509 *c = sk_X509_value(kura_vdata_certs(v), i);
		int present = 0;
		for (int j = 0; j < sk_X509_num(have); j++)
			present |= X509_cmp(c, sk_X509_value(have, j)) == 0;
		if (!present && CMS_add1_cert(cms, c))
			added++;
	}
	for (int i = 0; i < sk_X509_CRL_num(kura_vdata_crls(v)); i++) {
		X509_CRL *c = sk_X509_CRL_value(kura_vdata_crls(v), i);
		int present = 0;
		for (int j = 0; j < sk_X509_CRL_num(have_crls); j++)
			present |= X509_CRL_match(c, sk_X509_CRL_value(have_crls, j)) == 0;
		if (!present && CMS_add1_crl(cms, c))
			added++;
	}
	sk_X509_pop_free(have, X509_free);
	sk_X509_CRL_pop_free(have_crls, X509_CRL_free);
	return added;
}

/* Writes into extra, as other revocation info, the OCSP responses of v that
 * the token (der) does not hold yet. */
static void missing_ocsp(struct buf *extra, const unsigned char *der, int dlen, const kura_vdata *v)
{
	for (int i = 0; dlen > 0 && i < kura_vdata_ocsp_count(v); i++) {
		OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, kura_vdata_ocsp(v, i));
		unsigned char *rd = NULL;
		int rlen = r ? i2d_OCSP_RESPONSE(r, &rd) : -1;
		struct present p = {rd, (size_t)rlen, 0};
		if (rlen > 0 && each_ocsp(der, (size_t)dlen, same_ocsp, &p) == 0 && !p.found) {
			put_header(extra, 0xA1, sizeof OID_RI_OCSP + (size_t)rlen);
			put(extra, OID_RI_OCSP, sizeof OID_RI_OCSP);
			put(extra, rd, (size_t)rlen);
		}
		OPENSSL_free(rd);
		OCSP_RESPONSE_free(r);
	}
}

/* The whole ContentInfo again with extra spliced into its SignedData (path[0]
 * the ContentInfo, sd its n fields): version 5, then every field, the crls
 * field extended (or new). whole->failed if memory ran out. */
static void splice_crls(struct buf *whole, const struct tlv *path, const struct tlv *sd, int n,
			const struct buf *extra)
{
	struct buf body = {0};
	static const unsigned char v5[] = {0x02, 0x01, 0x05};
	int crls_done = 0;
	put(&body, v5, sizeof v5);
	for (int i = 1; i < n; i++) {
		if (sd[i].tag == 0xA1) {
			put_header(&body, 0xA1, sd[i].len + extra->n);
			put(&body, sd[i].at + sd[i].hdr, sd[i].len);
			put(&body, extra->p, extra->n);
			crls_done = 1;
			continue;
		}
		if (i == n - 1 && !crls_done) { /* before signerInfos */
			put_header(&body, 0xA1, extra->n);
			put(&body, extra->p, extra->n);
		}
		put_tlv(&body, &sd[i]);
	}
	struct buf sdata = {0}, explicit0 = {0};
	put_header(&sdata, 0x30, body.n);
	put(&sdata, body.p, body.n);
	put_header(&explicit0, 0xA0, sdata.n);
	put(&explicit0, sdata.p, sdata.n);
	struct tlv ci_kids[2];
	kids(ci_kids, 2, &path[0]);
	put_header(whole, 0x30, ci_kids[0].hdr + ci_kids[0].len + explicit0.n);
	put_tlv(whole, &ci_kids[0]);
	put(whole, explicit0.p, explicit0.n);
	int failed = sdata.failed || explicit0.failed || body.failed;
	free(sdata.p);
	free(explicit0.p);
	free(body.p);
	if (failed)
		whole->failed = 1;
}

int kura_tst_add_revinfo(unsigned char **out, size_t *olen, const unsigned char *tok, size_t len, const kura_vdata *v,
			 kura_error *err)
{
	*out = NULL;
	*olen = 0;
	CMS_ContentInfo *cms = NULL;
	unsigned char *der = NULL;
	int dlen;
	if (der_of(&der, &dlen, &cms, tok, len) != 0) {
		CMS_ContentInfo_free(cms);
		return kura_error_set(err, KURA_EVERIFY, "not a CMS token");
	}
	int added = add_certs_and_crls(cms, v);
	if (added) {
		OPENSSL_free(der);
		der = NULL;
		dlen = i2d_CMS_ContentInfo(cms, &der);
	}
	CMS_ContentInfo_free(cms);
	/* OCSP responses as other revocation info, spliced into the DER */
	struct buf extra = {0};
	missing_ocsp(&extra, der, dlen, v);
	int rc = 0;
	struct tlv path[3], sd[8];
	int n;
	if (dlen <= 0 || extra.failed || signed_data(path, sd, &n, der, (size_t)dlen) != 0) {
		rc = kura_error_set(err, KURA_EINTERNAL, "cannot add revocation data to a time-stamp token");
		goto out;
	}
	if (extra.n == 0 && !added)
		goto out;
	struct buf whole = {0};
	if (extra.n == 0)
		put(&whole, der, (size_t)dlen);
	else
		splice_crls(&whole, path, sd, n, &extra);
	if (whole.failed) {
		free(whole.p);
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
	*out = whole.p;
	*olen = whole.n;
out:
	free(extra.p);
	OPENSSL_free(der);
	ERR_clear_error();
	return rc;
}
