/* Hash tree building, paths and reduction (rules in hashtree.h and ERS-RULES). */
#include <stdlib.h>
#include <string.h>

#include "common/bigmem.h"
#include "common/hash.h"
#include "evidence/hashtree.h"

struct kura_hashtree {
	size_t hlen;
	size_t nlevels;
	size_t count[64];     /* nodes per level; level 0 = the leaves */
	const unsigned char *leaves; /* borrowed: the caller's */
	unsigned char *level[64];    /* level[0] unused */
};

int kura_hash_pair(unsigned char *out, const EVP_MD *md, const unsigned char *a, const unsigned char *b,
		   size_t len, int sorted)
{
	unsigned char buf[2 * EVP_MAX_MD_SIZE];
	if (sorted && memcmp(a, b, len) > 0) {
		const unsigned char *t = a;
		a = b;
		b = t;
	}
	memcpy(buf, a, len);
	memcpy(buf + len, b, len);
	return EVP_Digest(buf, 2 * len, out, NULL, kura_hash_impl(md), NULL) == 1 ? 0 : -1;
}

/* Hashes the node pairs of one tree with one digest context: a tree of a
 * million leaves hashes a million pairs, and a context made and freed for each
 * costs a fifth of the work. */
struct pairer {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	size_t hlen;
};

static int pairer_init(struct pairer *p, const EVP_MD *md, kura_error *err)
{
	p->md = kura_hash_impl(md);
	p->hlen = (size_t)EVP_MD_get_size(md);
	p->ctx = EVP_MD_CTX_new();
	return p->ctx ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

static int pair(struct pairer *p, unsigned char *out, const unsigned char *a, const unsigned char *b, kura_error *err)
{
	if (memcmp(a, b, p->hlen) > 0) {
		const unsigned char *t = a;
		a = b;
		b = t;
	}
	if (EVP_DigestInit_ex2(p->ctx, p->md, NULL) != 1 || EVP_DigestUpdate(p->ctx, a, p->hlen) != 1 ||
	    EVP_DigestUpdate(p->ctx, b, p->hlen) != 1 || EVP_DigestFinal_ex(p->ctx, out, NULL) != 1)
		return kura_error_set(err, KURA_EINTERNAL, "hashing a tree node failed");
	return 0;
}

void kura_hashtree_free(kura_hashtree *t)
{
	if (!t)
		return;
	for (size_t i = 1; i < t->nlevels; i++)
		free(t->level[i]);
	free(t);
}

int kura_hashtree_build(kura_hashtree **out, const EVP_MD *md, const unsigned char *leaves, size_t n,
			kura_error *err)
{
	if (n == 0)
		return kura_error_set(err, KURA_EINTERNAL, "a hash tree needs at least one leaf");
	struct pairer h;
	kura_hashtree *t = calloc(1, sizeof *t);
	if (!t || pairer_init(&h, md, err) != 0) {
		free(t);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	int rc = 0;
	t->hlen = h.hlen;
	t->count[0] = n;
	t->leaves = leaves;
	t->nlevels = 1;
	while (rc == 0 && t->count[t->nlevels - 1] > 1) {
		size_t below = t->count[t->nlevels - 1], above = (below + 1) / 2, L = t->nlevels;
		const unsigned char *src = L == 1 ? leaves : t->level[L - 1];
		unsigned char *dst = malloc(above * t->hlen);
		if (!dst) {
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory for a hash tree of %zu leaves", n);
			break;
		}
		kura_bigmem_advise(dst, above * t->hlen);
		t->level[L] = dst;
		t->count[L] = above;
		t->nlevels++;
		for (size_t k = 0; rc == 0 && k + 1 < below; k += 2)
			rc = pair(&h, dst + (k / 2) * t->hlen, src + k * t->hlen, src + (k + 1) * t->hlen, err);
		if (below % 2) /* the unpaired last node moves up unchanged */
			memcpy(dst + (above - 1) * t->hlen, src + (below - 1) * t->hlen, t->hlen);
	}
	EVP_MD_CTX_free(h.ctx);
	if (rc != 0) {
		kura_hashtree_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

size_t kura_hashtree_size(const kura_hashtree *t) { return t->hlen; }

static const unsigned char *level(const kura_hashtree *t, size_t L)
{
	return L == 0 ? t->leaves : t->level[L];
}

const unsigned char *kura_hashtree_root(const kura_hashtree *t)
{
	return level(t, t->nlevels - 1);
}

const unsigned char *kura_hashtree_leaf(const kura_hashtree *t, size_t i)
{
	return t->leaves + i * t->hlen;
}

int kura_hashtree_root_of(unsigned char *root, const EVP_MD *md, const unsigned char *leaves, size_t n,
			  kura_error *err)
{
	/* Level by level, pairing neighbours and moving an odd last node up, gives
	 * the same root as this: perfect subtrees over the binary digits of n, left
	 * to right, joined from the right (the odd node of a level is always the
	 * root of the smallest one). A stack holds one node per height. */
	unsigned char stack[65][EVP_MAX_MD_SIZE];
	size_t height[65], top = 0;
	struct pairer h;
	if (n == 0)
		return kura_error_set(err, KURA_EINTERNAL, "a hash tree needs at least one leaf");
	int rc = pairer_init(&h, md, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		memcpy(stack[top], leaves + i * h.hlen, h.hlen);
		height[top++] = 0;
		for (; rc == 0 && top >= 2 && height[top - 2] == height[top - 1]; top--) {
			rc = pair(&h, stack[top - 2], stack[top - 2], stack[top - 1], err);
			height[top - 2]++;
		}
	}
	for (; rc == 0 && top >= 2; top--)
		rc = pair(&h, stack[top - 2], stack[top - 2], stack[top - 1], err);
	if (rc == 0)
		memcpy(root, stack[0], h.hlen);
	EVP_MD_CTX_free(h.ctx);
	return rc;
}

int kura_hashtree_path(const kura_hashtree *t, size_t i, unsigned char *siblings, size_t *n)
{
	if (i >= t->count[0])
		return -1;
	*n = 0;
	for (size_t L = 0; L + 1 < t->nlevels; L++, i /= 2) {
		size_t sib = i ^ 1;
		if (sib < t->count[L])
			memcpy(siblings + (*n)++ * t->hlen, level(t, L) + sib * t->hlen, t->hlen);
	}
	return 0;
}

static int cmp_digest(const void *a, const void *b, void *len)
{
	return memcmp(a, b, *(size_t *)len);
}

int kura_hashtree_reduce(unsigned char *root, const EVP_MD *md, const STACK_OF(KURA_PHT) *rht, int rule,
			 kura_error *err)
{
	size_t hlen = (size_t)EVP_MD_get_size(md);
	int lists = sk_KURA_PHT_num(rht);
	if (lists < 1)
		return kura_error_set(err, KURA_EVERIFY, "empty reduced hash tree");
	unsigned char *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	for (int l = 0; l < lists && rc == 0; l++) {
		const KURA_PHT *list = sk_KURA_PHT_value(rht, l);
		size_t n = (size_t)sk_ASN1_OCTET_STRING_num(list) + (l > 0);
		if (n == 0) {
			rc = kura_error_set(err, KURA_EVERIFY, "reduced hash tree list %d is empty", l + 1);
			break;
		}
		if (n * hlen > cap) {
			unsigned char *g = realloc(buf, n * hlen);
			if (!g) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
				break;
			}
			buf = g;
			cap = n * hlen;
		}
		size_t k = 0;
		if (l > 0)
			memcpy(buf + k++ * hlen, root, hlen);
		for (int v = 0; v < sk_ASN1_OCTET_STRING_num(list); v++) {
			const ASN1_OCTET_STRING *o = sk_ASN1_OCTET_STRING_value(list, v);
			if ((size_t)ASN1_STRING_length(o) != hlen) {
				rc = kura_error_set(err, KURA_EVERIFY, "reduced hash tree list %d holds a %d-byte value, not %zu",
						    l + 1, ASN1_STRING_length(o), hlen);
				break;
			}
			memcpy(buf + k++ * hlen, ASN1_STRING_get0_data(o), hlen);
		}
		if (rc != 0)
			break;
		if (n == 1 && rule == KURA_REDUCE_PASS) {
			memcpy(root, buf, hlen);
			continue;
		}
		qsort_r(buf, n, hlen, cmp_digest, &hlen);
		if (EVP_Digest(buf, n * hlen, root, NULL, kura_hash_impl(md), NULL) != 1)
			rc = kura_error_set(err, KURA_EINTERNAL, "hashing a reduced tree failed");
	}
	free(buf);
	return rc;
}

static int cmp_value(const void *a, const void *b, void *len)
{
	return memcmp(a, b, *(size_t *)len);
}

int kura_hash_group(unsigned char *out, const EVP_MD *md, unsigned char *values, size_t count)
{
	size_t hlen = (size_t)EVP_MD_get_size(md);
	if (count == 1) {
		memcpy(out, values, hlen);
		return 0;
	}
	qsort_r(values, count, hlen, cmp_value, &hlen);
	return EVP_Digest(values, count * hlen, out, NULL, md, NULL) == 1 ? 0 : -1;
}
