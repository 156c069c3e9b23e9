/* Hash tree building, paths and reduction (rules in hashtree.h and ERS-RULES). */
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "evidence/hashtree.h"

struct kura_hashtree {
	size_t hlen;
	size_t nlevels;
	size_t count[64];     /* nodes per level; level 0 = leaves */
	unsigned char *level[64];
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

void kura_hashtree_free(kura_hashtree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nlevels; i++)
		free(t->level[i]);
	free(t);
}

int kura_hashtree_build(kura_hashtree **out, const EVP_MD *md, const unsigned char *leaves, size_t n,
			kura_error *err)
{
	if (n == 0)
		return kura_error_set(err, KURA_EINTERNAL, "a hash tree needs at least one leaf");
	kura_hashtree *t = calloc(1, sizeof *t);
	if (!t)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	t->hlen = (size_t)EVP_MD_get_size(md);
	t->count[0] = n;
	t->level[0] = malloc(n * t->hlen);
	t->nlevels = 1;
	if (!t->level[0])
		goto oom;
	memcpy(t->level[0], leaves, n * t->hlen);
	while (t->count[t->nlevels - 1] > 1) {
		size_t below = t->count[t->nlevels - 1], above = (below + 1) / 2, L = t->nlevels;
		const unsigned char *src = t->level[L - 1];
		unsigned char *dst = malloc(above * t->hlen);
		if (!dst)
			goto oom;
		t->level[L] = dst;
		t->count[L] = above;
		t->nlevels++;
		for (size_t k = 0; k + 1 < below; k += 2)
			if (kura_hash_pair(dst + (k / 2) * t->hlen, md, src + k * t->hlen, src + (k + 1) * t->hlen, t->hlen, 1) != 0) {
				kura_hashtree_free(t);
				return kura_error_set(err, KURA_EINTERNAL, "hashing a tree node failed");
			}
		if (below % 2) /* the unpaired last node moves up unchanged */
			memcpy(dst + (above - 1) * t->hlen, src + (below - 1) * t->hlen, t->hlen);
	}
	*out = t;
	return 0;
oom:
	kura_hashtree_free(t);
	return kura_error_set(err, KURA_EINTERNAL, "out of memory for a hash tree of %zu leaves", n);
}

size_t kura_hashtree_size(const kura_hashtree *t) { return t->hlen; }

const unsigned char *kura_hashtree_root(const kura_hashtree *t)
{
	return t->level[t->nlevels - 1];
}

const unsigned char *kura_hashtree_leaf(const kura_hashtree *t, size_t i)
{
	return t->level[0] + i * t->hlen;
}

int kura_hashtree_path(const kura_hashtree *t, size_t i, unsigned char *siblings, size_t *n)
{
	if (i >= t->count[0])
		return -1;
	*n = 0;
	for (size_t L = 0; L + 1 < t->nlevels; L++, i /= 2) {
		size_t sib = i ^ 1;
		if (sib < t->count[L])
			memcpy(siblings + (*n)++ * t->hlen, t->level[L] + sib * t->hlen, t->hlen);
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
