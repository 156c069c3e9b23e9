/* Evidence Record assembly with the ASN.1 templates of ers_asn1.c (see record.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/ers_asn1.h"
#include "evidence/record.h"

struct kura_er_builder {
	KURA_ER *er;
	KURA_ATS_CHAIN *chain; /* the current one, owned by er */
};

int kura_er_builder_new(kura_er_builder **out, kura_error *err)
{
	kura_er_builder *b = calloc(1, sizeof *b);
	if (!b || !(b->er = KURA_ER_new()) || !ASN1_INTEGER_set(b->er->version, 1)) {
		kura_er_builder_free(b);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	*out = b;
	return 0;
}

void kura_er_builder_free(kura_er_builder *b)
{
	if (!b)
		return;
	KURA_ER_free(b->er);
	free(b);
}

int kura_er_builder_chain(kura_er_builder *b, kura_error *err)
{
	KURA_ATS_CHAIN *c = sk_KURA_ATS_new_null();
	if (!c || !sk_KURA_ATS_CHAIN_push(b->er->archiveTimeStampSequence, c)) {
		sk_KURA_ATS_free(c);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	b->chain = c;
	return 0;
}

static X509_ALGOR *algorithm(const EVP_MD *md)
{
	X509_ALGOR *a = X509_ALGOR_new();
	if (a && !X509_ALGOR_set0(a, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_UNDEF, NULL)) {
		X509_ALGOR_free(a);
		return NULL;
	}
	return a;
}

/* Lists the algorithm in digestAlgorithms unless it is there already. */
static int note_algorithm(KURA_ER *er, const EVP_MD *md)
{
	for (int i = 0; i < sk_X509_ALGOR_num(er->digestAlgorithms); i++) {
		const ASN1_OBJECT *obj;
		X509_ALGOR_get0(&obj, NULL, NULL, sk_X509_ALGOR_value(er->digestAlgorithms, i));
		if (OBJ_obj2nid(obj) == EVP_MD_get_type(md))
			return 0;
	}
	X509_ALGOR *a = algorithm(md);
	if (!a || !sk_X509_ALGOR_push(er->digestAlgorithms, a)) {
		X509_ALGOR_free(a);
		return -1;
	}
	return 0;
}

int kura_er_builder_ats(kura_er_builder *b, const EVP_MD *md, const unsigned char *values, const size_t *counts,
			size_t nlists, const unsigned char *token, size_t tlen, kura_error *err)
{
	if (!b->chain && kura_er_builder_chain(b, err) != 0)
		return KURA_EINTERNAL;
	size_t hlen = (size_t)EVP_MD_get_size(md);
	KURA_ATS *ats = KURA_ATS_new();
	ASN1_STRING *raw = ASN1_STRING_new();
	if (!ats || !raw || !(ats->digestAlgorithm = algorithm(md)) || !ASN1_STRING_set(raw, token, (int)tlen))
		goto oom;
	ASN1_TYPE_set(ats->timeStamp, V_ASN1_SEQUENCE, raw);
	raw = NULL;
	if (nlists > 0 && !(ats->reducedHashtree = sk_KURA_PHT_new_null()))
		goto oom;
	for (size_t k = 0; k < nlists; k++) {
		KURA_PHT *list = sk_ASN1_OCTET_STRING_new_null();
		if (!list || !sk_KURA_PHT_push(ats->reducedHashtree, list)) {
			sk_ASN1_OCTET_STRING_free(list);
			goto oom;
		}
		for (size_t v = 0; v < counts[k]; v++, values += hlen) {
			ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
			if (!o || !ASN1_OCTET_STRING_set(o, values, (int)hlen) || !sk_ASN1_OCTET_STRING_push(list, o)) {
				ASN1_OCTET_STRING_free(o);
				goto oom;
			}
		}
	}
	if (note_algorithm(b->er, md) != 0 || !sk_KURA_ATS_push(b->chain, ats))
		goto oom;
	return 0;
oom:
	ASN1_STRING_free(raw);
	KURA_ATS_free(ats);
	return kura_error_set(err, KURA_EINTERNAL, "out of memory building an evidence record");
}

int kura_er_builder_finish(kura_er_builder *b, unsigned char **der, size_t *len, kura_error *err)
{
	unsigned char *enc = NULL;
	int n = i2d_KURA_ER(b->er, &enc);
	if (n <= 0 || !(*der = malloc((size_t)n))) {
		OPENSSL_free(enc);
		return kura_error_set(err, KURA_EINTERNAL, "encoding the evidence record failed");
	}
	memcpy(*der, enc, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(enc);
	return 0;
}

static KURA_ER *parse_record(const unsigned char *der, size_t len, kura_error *err)
{
	const unsigned char *p = der;
	KURA_ER *er = len <= LONG_MAX ? d2i_KURA_ER(NULL, &p, (long)len) : NULL;
	if (!er || p != der + len || sk_KURA_ATS_CHAIN_num(er->archiveTimeStampSequence) < 1) {
		KURA_ER_free(er);
		kura_error_set(err, KURA_EVERIFY, "not an RFC 4998 Evidence Record (DER), or one without chains");
		return NULL;
	}
	return er;
}

int kura_er_builder_adopt(kura_er_builder *b, const unsigned char *der, size_t len, kura_error *err)
{
	KURA_ER *er = parse_record(der, len, err);
	if (!er)
		return KURA_EVERIFY;
	KURA_ER_free(b->er);
	b->er = er;
	KURA_ATS_SEQ *seq = er->archiveTimeStampSequence;
	b->chain = sk_KURA_ATS_CHAIN_value(seq, sk_KURA_ATS_CHAIN_num(seq) - 1);
	return 0;
}

int kura_er_each_token(const unsigned char *der, size_t len, kura_er_token_fn fn, void *ud, size_t *nchains,
		       kura_error *err)
{
	KURA_ER *er = parse_record(der, len, err);
	if (!er)
		return KURA_EVERIFY;
	int rc = 0;
	KURA_ATS_SEQ *seq = er->archiveTimeStampSequence;
	for (int c = 0; rc == 0 && c < sk_KURA_ATS_CHAIN_num(seq); c++) {
		KURA_ATS_CHAIN *chain = sk_KURA_ATS_CHAIN_value(seq, c);
		int n = sk_KURA_ATS_num(chain);
		if (n == 0)
			rc = kura_error_set(err, KURA_EVERIFY, "chain %d of the record is empty", c + 1);
		for (int a = 0; rc == 0 && a < n; a++) {
			const ASN1_TYPE *t = sk_KURA_ATS_value(chain, a)->timeStamp;
			if (!t || t->type != V_ASN1_SEQUENCE)
				rc = kura_error_set(err, KURA_EVERIFY, "ATS %d of chain %d holds no token", a + 1, c + 1);
			else
				rc = fn(ud, (size_t)c + 1, (size_t)a + 1, (size_t)n, ASN1_STRING_get0_data(t->value.sequence),
					(size_t)ASN1_STRING_length(t->value.sequence), err);
		}
	}
	if (nchains)
		*nchains = (size_t)sk_KURA_ATS_CHAIN_num(seq);
	KURA_ER_free(er);
	return rc;
}
