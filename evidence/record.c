/* Evidence Record assembly from parts encoded once, with the ASN.1 templates of
 * ers_asn1.c (see record.h).
 *
 * Every part is an ASN1_TYPE of type SEQUENCE holding one complete DER element,
 * which OpenSSL writes out unchanged inside KURA_ATS_PARTS and KURA_ER_PARTS. The
 * bytes of a part are always what i2d of its own type gives, so a record put
 * together from parts is byte for byte the record KURA_ER would encode whole;
 * what is saved is building the same ASN.1 values again, and OpenSSL's walks over
 * deeply nested values (each level measures its contents again). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/ers_asn1.h"
#include "evidence/record.h"

static int oom(kura_error *err)
{
	return kura_error_set(err, KURA_EINTERNAL, "out of memory building an evidence record");
}

/* An empty part. */
static ASN1_TYPE *part_new(void)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_STRING *s = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
	if (!t || !s) {
		ASN1_TYPE_free(t);
		ASN1_STRING_free(s);
		return NULL;
	}
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
	return t;
}

/* Encodes v (of type it) into the part, replacing what it held. */
static int part_encode(ASN1_TYPE *part, const void *v, const ASN1_ITEM *it)
{
	unsigned char *der = NULL;
	int n = ASN1_item_i2d((const ASN1_VALUE *)v, &der, it);
	if (n <= 0)
		return -1;
	ASN1_STRING_set0(part->value.sequence, der, n);
	return 0;
}

/* Encodes v (of type it) into the part, whose buffer (*cap bytes) is reused
 * when it is large enough: what a part is encoded into for every object is not
 * allocated again, nor measured by a pass of its own. bound must be at least the
 * length of the encoding (a DER header takes at most 6 bytes below 4 GiB). The
 * string's fields are set directly (struct asn1_string_st is public): the API
 * would free or copy the buffer. */
static int part_encode_again(ASN1_TYPE *part, size_t *cap, const void *v, const ASN1_ITEM *it, size_t bound)
{
	ASN1_STRING *s = part->value.sequence;
	if (bound > INT_MAX)
		return -1;
	if (bound > *cap) {
		unsigned char *g = OPENSSL_realloc(s->data, bound);
		if (!g)
			return -1;
		s->data = g;
		*cap = bound;
	}
	unsigned char *p = s->data;
	int n = ASN1_item_i2d((const ASN1_VALUE *)v, &p, it);
	if (n <= 0)
		return -1;
	s->length = n;
	return 0;
}

#define DER_HEADER_MAX 6

static X509_ALGOR *algorithm(const EVP_MD *md)
{
	X509_ALGOR *a = X509_ALGOR_new();
	if (a && !X509_ALGOR_set0(a, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_UNDEF, NULL)) {
		X509_ALGOR_free(a);
		return NULL;
	}
	return a;
}

/* ---------------------------------------------------------------- ATSs */

struct kura_er_ats {
	int nid;        /* of its digestAlgorithm */
	ASN1_TYPE *alg; /* that AlgorithmIdentifier, for the record's digestAlgorithms */
	ASN1_TYPE *der; /* the ArchiveTimeStamp */
};

/* One list of the reduced tree as the previous object had it. */
struct list {
	int valid;
	size_t count;
	unsigned char *values;
	ASN1_TYPE *der; /* the PartialHashtree */
	size_t cap;     /* of its buffer */
};

struct kura_er_first {
	size_t hlen;
	KURA_ATS_PARTS parts; /* digestAlgorithm and timeStamp owned; the tree's parts lent by lists */
	KURA_PHT *scratch;    /* the list being encoded */
	struct list *lists;
	size_t cap;
	kura_er_ats ats; /* the last object's */
	size_t ats_cap;  /* of its buffer */
};

void kura_er_first_free(kura_er_first *f)
{
	if (!f)
		return;
	X509_ALGOR_free(f->parts.digestAlgorithm);
	ASN1_TYPE_free(f->parts.timeStamp);
	sk_ASN1_TYPE_free(f->parts.reducedHashtree);
	sk_ASN1_OCTET_STRING_pop_free(f->scratch, ASN1_OCTET_STRING_free);
	for (size_t k = 0; k < f->cap; k++) {
		free(f->lists[k].values);
		ASN1_TYPE_free(f->lists[k].der);
	}
	free(f->lists);
	ASN1_TYPE_free(f->ats.alg);
	ASN1_TYPE_free(f->ats.der);
	free(f);
}

int kura_er_first_new(kura_er_first **out, const EVP_MD *md, const unsigned char *token, size_t tlen,
		      kura_error *err)
{
	kura_er_first *f = calloc(1, sizeof *f);
	if (!f)
		return oom(err);
	f->hlen = (size_t)EVP_MD_get_size(md);
	f->ats.nid = EVP_MD_get_type(md);
	/* the token is one part: its bytes exactly as the TSA sent them */
	if (tlen > INT_MAX || !(f->parts.digestAlgorithm = algorithm(md)) || !(f->parts.timeStamp = part_new()) ||
	    !ASN1_STRING_set(f->parts.timeStamp->value.sequence, token, (int)tlen) ||
	    !(f->parts.reducedHashtree = sk_ASN1_TYPE_new_null()) || !(f->scratch = sk_ASN1_OCTET_STRING_new_null()) ||
	    !(f->ats.alg = part_new()) || part_encode(f->ats.alg, f->parts.digestAlgorithm, ASN1_ITEM_rptr(X509_ALGOR)) ||
	    !(f->ats.der = part_new())) {
		kura_er_first_free(f);
		return oom(err);
	}
	*out = f;
	return 0;
}

/* Encodes values (count of them) as list l. */
static int list_encode(kura_er_first *f, struct list *l, const unsigned char *values, size_t count)
{
	KURA_PHT *s = f->scratch;
	while ((size_t)sk_ASN1_OCTET_STRING_num(s) > count)
		ASN1_OCTET_STRING_free(sk_ASN1_OCTET_STRING_pop(s));
	while ((size_t)sk_ASN1_OCTET_STRING_num(s) < count) {
		ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
		if (!o || !sk_ASN1_OCTET_STRING_push(s, o)) {
			ASN1_OCTET_STRING_free(o);
			return -1;
		}
	}
	for (size_t v = 0; v < count; v++)
		if (!ASN1_OCTET_STRING_set(sk_ASN1_OCTET_STRING_value(s, (int)v), values + v * f->hlen, (int)f->hlen))
			return -1;
	l->valid = 0;
	unsigned char *copy = realloc(l->values, count * f->hlen + 1);
	if (!copy)
		return -1;
	l->values = copy;
	memcpy(copy, values, count * f->hlen);
	size_t bound = DER_HEADER_MAX + count * (DER_HEADER_MAX + f->hlen);
	if (part_encode_again(l->der, &l->cap, s, ASN1_ITEM_rptr(KURA_PHT), bound) != 0)
		return -1;
	l->count = count;
	l->valid = 1;
	return 0;
}

int kura_er_first_ats(const kura_er_ats **out, kura_er_first *f, const unsigned char *values, const size_t *counts,
		      size_t nlists, kura_error *err)
{
	if (nlists > f->cap) {
		struct list *g = realloc(f->lists, nlists * sizeof *g);
		if (!g)
			return oom(err);
		f->lists = g;
		for (; f->cap < nlists; f->cap++) {
			memset(&g[f->cap], 0, sizeof g[f->cap]);
			if (!(g[f->cap].der = part_new()))
				return oom(err);
		}
	}
	KURA_PARTS *tree = f->parts.reducedHashtree;
	size_t bound = 3 * DER_HEADER_MAX + (size_t)ASN1_STRING_length(f->ats.alg->value.sequence) +
		       (size_t)ASN1_STRING_length(f->parts.timeStamp->value.sequence);
	sk_ASN1_TYPE_zero(tree);
	for (size_t k = 0; k < nlists; k++) {
		struct list *l = &f->lists[k];
		size_t bytes = counts[k] * f->hlen;
		if ((!l->valid || l->count != counts[k] || memcmp(l->values, values, bytes) != 0) &&
		    list_encode(f, l, values, counts[k]) != 0)
			return oom(err);
		if (!sk_ASN1_TYPE_push(tree, l->der))
			return oom(err);
		bound += (size_t)ASN1_STRING_length(l->der->value.sequence);
		values += bytes;
	}
	if (nlists == 0) /* no reduced tree at all */
		f->parts.reducedHashtree = NULL;
	int rc = part_encode_again(f->ats.der, &f->ats_cap, &f->parts, ASN1_ITEM_rptr(KURA_ATS_PARTS), bound);
	f->parts.reducedHashtree = tree;
	if (rc != 0)
		return oom(err);
	*out = &f->ats;
	return 0;
}

void kura_er_ats_free(kura_er_ats *a)
{
	if (!a)
		return;
	ASN1_TYPE_free(a->alg);
	ASN1_TYPE_free(a->der);
	free(a);
}

int kura_er_ats_new(kura_er_ats **out, const EVP_MD *md, const unsigned char *values, const size_t *counts,
		    size_t nlists, const unsigned char *token, size_t tlen, kura_error *err)
{
	kura_er_first *f = NULL;
	const kura_er_ats *made;
	kura_er_ats *a = calloc(1, sizeof *a);
	int rc = a ? kura_er_first_new(&f, md, token, tlen, err) : oom(err);
	if (rc == 0)
		rc = kura_er_first_ats(&made, f, values, counts, nlists, err);
	if (rc == 0) { /* take the encoded parts over */
		*a = f->ats;
		f->ats.alg = f->ats.der = NULL;
		*out = a;
		a = NULL;
	}
	kura_er_first_free(f);
	free(a);
	return rc;
}

/* ---------------------------------------------------------------- adopted records */

struct kura_er_adopted {
	KURA_ER *er;       /* lends version, cryptoInfos and encryptionInfo */
	KURA_PARTS *algs;  /* its digestAlgorithms */
	int *nids;         /* theirs */
	STACK_OF(KURA_PARTS) *chains; /* its chains' ATSs */
};

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

static void parts_free(KURA_PARTS *p)
{
	sk_ASN1_TYPE_pop_free(p, ASN1_TYPE_free);
}

void kura_er_adopted_free(kura_er_adopted *a)
{
	if (!a)
		return;
	sk_KURA_PARTS_pop_free(a->chains, parts_free);
	parts_free(a->algs);
	free(a->nids);
	KURA_ER_free(a->er);
	free(a);
}

/* Encodes v (of type it) as a new part at the end of list. */
static int push_encoded(KURA_PARTS *list, const void *v, const ASN1_ITEM *it)
{
	ASN1_TYPE *part = part_new();
	if (!part || part_encode(part, v, it) != 0 || !sk_ASN1_TYPE_push(list, part)) {
		ASN1_TYPE_free(part);
		return -1;
	}
	return 0;
}

int kura_er_adopted_new(kura_er_adopted **out, const unsigned char *der, size_t len, kura_error *err)
{
	kura_er_adopted *a = calloc(1, sizeof *a);
	if (!a)
		return oom(err);
	if (!(a->er = parse_record(der, len, err))) {
		kura_er_adopted_free(a);
		return KURA_EVERIFY;
	}
	int nalgs = sk_X509_ALGOR_num(a->er->digestAlgorithms);
	int ok = (a->algs = sk_ASN1_TYPE_new_null()) && (a->chains = sk_KURA_PARTS_new_null()) &&
		 (a->nids = calloc((size_t)nalgs + 1, sizeof *a->nids));
	for (int i = 0; ok && i < nalgs; i++) {
		const X509_ALGOR *alg = sk_X509_ALGOR_value(a->er->digestAlgorithms, i);
		const ASN1_OBJECT *obj;
		X509_ALGOR_get0(&obj, NULL, NULL, alg);
		a->nids[i] = OBJ_obj2nid(obj);
		ok = push_encoded(a->algs, alg, ASN1_ITEM_rptr(X509_ALGOR)) == 0;
	}
	KURA_ATS_SEQ *seq = a->er->archiveTimeStampSequence;
	for (int c = 0; ok && c < sk_KURA_ATS_CHAIN_num(seq); c++) {
		KURA_ATS_CHAIN *chain = sk_KURA_ATS_CHAIN_value(seq, c);
		KURA_PARTS *parts = sk_ASN1_TYPE_new_null();
		if (!parts || !sk_KURA_PARTS_push(a->chains, parts)) {
			sk_ASN1_TYPE_free(parts);
			ok = 0;
		}
		for (int i = 0; ok && i < sk_KURA_ATS_num(chain); i++)
			ok = push_encoded(parts, sk_KURA_ATS_value(chain, i), ASN1_ITEM_rptr(KURA_ATS)) == 0;
	}
	if (!ok) {
		kura_er_adopted_free(a);
		return oom(err);
	}
	*out = a;
	return 0;
}

/* ---------------------------------------------------------------- records */

struct kura_er_builder {
	KURA_ER_PARTS rec;  /* lent parts; its lists owned */
	ASN1_INTEGER *one;  /* the version of the records kura makes */
	int *nids;          /* of rec.digestAlgorithms */
	size_t cap_nids;
	KURA_PARTS **pool;  /* chain lists, the first ones in use by rec */
	size_t npool;
	KURA_PARTS *chain;  /* the current one */
	kura_er_ats **owned; /* made by kura_er_builder_ats */
	size_t nowned;
};

void kura_er_builder_clear(kura_er_builder *b)
{
	sk_ASN1_TYPE_zero(b->rec.digestAlgorithms);
	for (size_t i = 0; i < b->npool; i++)
		sk_ASN1_TYPE_zero(b->pool[i]);
	sk_KURA_PARTS_zero(b->rec.archiveTimeStampSequence);
	b->rec.version = b->one;
	b->rec.cryptoInfos = NULL;
	b->rec.encryptionInfo = NULL;
	b->chain = NULL;
	for (size_t i = 0; i < b->nowned; i++)
		kura_er_ats_free(b->owned[i]);
	free(b->owned);
	b->owned = NULL;
	b->nowned = 0;
}

void kura_er_builder_free(kura_er_builder *b)
{
	if (!b)
		return;
	kura_er_builder_clear(b);
	sk_ASN1_TYPE_free(b->rec.digestAlgorithms);
	sk_KURA_PARTS_free(b->rec.archiveTimeStampSequence);
	for (size_t i = 0; i < b->npool; i++)
		sk_ASN1_TYPE_free(b->pool[i]);
	free(b->pool);
	free(b->nids);
	ASN1_INTEGER_free(b->one);
	free(b);
}

int kura_er_builder_new(kura_er_builder **out, kura_error *err)
{
	kura_er_builder *b = calloc(1, sizeof *b);
	if (!b || !(b->one = ASN1_INTEGER_new()) || !ASN1_INTEGER_set(b->one, 1) ||
	    !(b->rec.digestAlgorithms = sk_ASN1_TYPE_new_null()) ||
	    !(b->rec.archiveTimeStampSequence = sk_KURA_PARTS_new_null())) {
		kura_er_builder_free(b);
		return oom(err);
	}
	b->rec.version = b->one;
	*out = b;
	return 0;
}

int kura_er_builder_chain(kura_er_builder *b, kura_error *err)
{
	size_t used = (size_t)sk_KURA_PARTS_num(b->rec.archiveTimeStampSequence);
	if (used == b->npool) {
		KURA_PARTS **g = realloc(b->pool, (b->npool + 1) * sizeof *g);
		if (!g)
			return oom(err);
		b->pool = g;
		if (!(g[b->npool] = sk_ASN1_TYPE_new_null()))
			return oom(err);
		b->npool++;
	}
	if (!sk_KURA_PARTS_push(b->rec.archiveTimeStampSequence, b->pool[used]))
		return oom(err);
	b->chain = b->pool[used];
	return 0;
}

/* Lists the algorithm in digestAlgorithms unless it is there already. */
static int note_algorithm(kura_er_builder *b, int nid, ASN1_TYPE *alg)
{
	size_t n = (size_t)sk_ASN1_TYPE_num(b->rec.digestAlgorithms);
	for (size_t i = 0; i < n; i++)
		if (b->nids[i] == nid)
			return 0;
	if (n == b->cap_nids) {
		int *g = realloc(b->nids, (n + 4) * sizeof *g);
		if (!g)
			return -1;
		b->nids = g;
		b->cap_nids = n + 4;
	}
	if (!sk_ASN1_TYPE_push(b->rec.digestAlgorithms, alg))
		return -1;
	b->nids[n] = nid;
	return 0;
}

int kura_er_builder_put(kura_er_builder *b, const kura_er_ats *ats, kura_error *err)
{
	if (!b->chain && kura_er_builder_chain(b, err) != 0)
		return KURA_EINTERNAL;
	if (note_algorithm(b, ats->nid, ats->alg) != 0 || !sk_ASN1_TYPE_push(b->chain, ats->der))
		return oom(err);
	return 0;
}

int kura_er_builder_ats(kura_er_builder *b, const EVP_MD *md, const unsigned char *values, const size_t *counts,
			size_t nlists, const unsigned char *token, size_t tlen, kura_error *err)
{
	kura_er_ats *a = NULL;
	kura_er_ats **g = realloc(b->owned, (b->nowned + 1) * sizeof *g);
	if (!g)
		return oom(err);
	b->owned = g;
	int rc = kura_er_ats_new(&a, md, values, counts, nlists, token, tlen, err);
	if (rc != 0)
		return rc;
	b->owned[b->nowned++] = a;
	return kura_er_builder_put(b, a, err);
}

int kura_er_builder_adopt(kura_er_builder *b, const kura_er_adopted *a, kura_error *err)
{
	b->rec.version = a->er->version;
	b->rec.cryptoInfos = a->er->cryptoInfos;
	b->rec.encryptionInfo = a->er->encryptionInfo;
	for (int i = 0; i < sk_ASN1_TYPE_num(a->algs); i++)
		if (note_algorithm(b, a->nids[i], sk_ASN1_TYPE_value(a->algs, i)) != 0)
			return oom(err);
	for (int c = 0; c < sk_KURA_PARTS_num(a->chains); c++) {
		const KURA_PARTS *chain = sk_KURA_PARTS_value(a->chains, c);
		if (kura_er_builder_chain(b, err) != 0)
			return KURA_EINTERNAL;
		for (int i = 0; i < sk_ASN1_TYPE_num(chain); i++)
			if (!sk_ASN1_TYPE_push(b->chain, sk_ASN1_TYPE_value(chain, i)))
				return oom(err);
	}
	return 0;
}

static size_t parts_length(const KURA_PARTS *parts)
{
	size_t n = DER_HEADER_MAX;
	for (int i = 0; i < sk_ASN1_TYPE_num(parts); i++)
		n += (size_t)ASN1_STRING_length(sk_ASN1_TYPE_value(parts, i)->value.sequence);
	return n;
}

int kura_er_builder_finish(kura_er_builder *b, unsigned char **der, size_t *len, kura_error *err)
{
	/* the buffer holds at least the parts and the headers around them: one
	 * pass of OpenSSL's encoder fewer than measuring the record first */
	const KURA_ER_PARTS *r = &b->rec;
	size_t bound = 0;
	if (r->cryptoInfos || r->encryptionInfo) { /* an adopted record's (rare): measured */
		int m = ASN1_item_i2d((const ASN1_VALUE *)r, NULL, ASN1_ITEM_rptr(KURA_ER_PARTS));
		bound = m > 0 ? (size_t)m : 0;
	} else {
		bound = 2 * DER_HEADER_MAX + (size_t)i2d_ASN1_INTEGER(r->version, NULL) + parts_length(r->digestAlgorithms);
		for (int c = 0; c < sk_KURA_PARTS_num(r->archiveTimeStampSequence); c++)
			bound += parts_length(sk_KURA_PARTS_value(r->archiveTimeStampSequence, c));
	}
	unsigned char *buf = bound > 0 && bound <= INT_MAX ? malloc(bound) : NULL, *p = buf;
	int n = buf ? ASN1_item_i2d((const ASN1_VALUE *)r, &p, ASN1_ITEM_rptr(KURA_ER_PARTS)) : -1;
	kura_er_builder_clear(b);
	if (n <= 0) {
		free(buf);
		return kura_error_set(err, KURA_EINTERNAL, "encoding the evidence record failed");
	}
	*der = buf;
	*len = (size_t)n;
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
