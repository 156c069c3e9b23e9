/* Hash tree building, paths and reduction (rules in hashtree.h and ERS-RULES). */
#include <pthread.h>
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

/* Hashes node pairs with one digest context: a tree of a million leaves hashes
 * a million pairs, and a context made and freed for each costs a fifth of the
 * work. Each thread has its own. */
struct pairer {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	size_t hlen;
};

static int pairer_init(struct pairer *p, const EVP_MD *md)
{
	p->md = kura_hash_impl(md);
	p->hlen = (size_t)EVP_MD_get_size(md);
	p->ctx = EVP_MD_CTX_new();
	return p->ctx ? 0 : -1;
}

static int pair(struct pairer *p, unsigned char *out, const unsigned char *a, const unsigned char *b)
{
	if (memcmp(a, b, p->hlen) > 0) {
		const unsigned char *t = a;
		a = b;
		b = t;
	}
	return EVP_DigestInit_ex2(p->ctx, p->md, NULL) == 1 && EVP_DigestUpdate(p->ctx, a, p->hlen) == 1 &&
			       EVP_DigestUpdate(p->ctx, b, p->hlen) == 1 && EVP_DigestFinal_ex(p->ctx, out, NULL) == 1
		       ? 0
		       : -1;
}

/* The root of the tree over n leaves, level by level in effect: pairing
 * neighbours and moving an odd last node up gives the same root as perfect
 * subtrees over the binary digits of n, left to right, joined from the right
 * (the odd node of a level is always the root of the smallest one). A stack
 * holds one node per height. */
static int root_alone(unsigned char *root, struct pairer *h, const unsigned char *leaves, size_t n)
{
	unsigned char stack[65][EVP_MAX_MD_SIZE];
	size_t height[65], top = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		memcpy(stack[top], leaves + i * h->hlen, h->hlen);
		height[top++] = 0;
		for (; rc == 0 && top >= 2 && height[top - 2] == height[top - 1]; top--) {
			rc = pair(h, stack[top - 2], stack[top - 2], stack[top - 1]);
			height[top - 2]++;
		}
	}
	for (; rc == 0 && top >= 2; top--)
		rc = pair(h, stack[top - 2], stack[top - 2], stack[top - 1]);
	if (rc == 0)
		memcpy(root, stack[0], h->hlen);
	return rc;
}

/* ---------------------------------------------------------------- two cores
 * Big trees are hashed by this thread and one more: a seal of a million objects
 * hashes a million pairs for its root, and its reduced trees as many again. */

#define PARALLEL_LEAVES (1u << 16)
#define BLOCKS 16 /* at most, for the root: 8 to 15 blocks and a rest */

struct job {
	struct pairer h;
	const unsigned char *src;
	unsigned char *dst;
	int pairs;              /* 1: the pairs from..to of a level; 0: the roots of blocks from..to */
	size_t from, to, width; /* width: leaves per unit (2 for pairs) */
	size_t n;               /* the leaves (a block past them is the rest) */
	int rc;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	size_t hlen = j->h.hlen;
	for (size_t k = j->from; j->rc == 0 && k < j->to; k++) {
		size_t first = k * j->width, count = first + j->width <= j->n ? j->width : j->n - first;
		j->rc = j->pairs ? pair(&j->h, j->dst + k * hlen, j->src + first * hlen, j->src + (first + 1) * hlen)
				      : root_alone(j->dst + k * hlen, &j->h, j->src + first * hlen, count);
	}
	return NULL;
}

/* Runs units 0..units of the job, split in two halves when big enough. */
static int run_split(struct job *mine, size_t units, int split)
{
	struct job other = *mine;
	pthread_t t;
	int threaded = split && pairer_init(&other.h, mine->h.md) == 0;
	mine->from = 0;
	mine->to = threaded ? units / 2 : units;
	if (threaded) {
		other.from = units / 2;
		other.to = units;
		threaded = pthread_create(&t, NULL, run_job, &other) == 0;
		if (!threaded) {
			EVP_MD_CTX_free(other.h.ctx);
			mine->to = units;
		}
	}
	run_job(mine);
	if (threaded) {
		pthread_join(t, NULL);
		EVP_MD_CTX_free(other.h.ctx);
		mine->rc |= other.rc;
	}
	return mine->rc;
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
	struct job job = {.pairs = 1, .width = 2};
	kura_hashtree *t = calloc(1, sizeof *t);
	if (!t || pairer_init(&job.h, md) != 0) {
		free(t);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	int rc = 0;
	t->hlen = job.h.hlen;
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
		job.src = src;
		job.dst = dst;
		job.n = below;
		if (run_split(&job, below / 2, below >= PARALLEL_LEAVES) != 0)
			rc = kura_error_set(err, KURA_EINTERNAL, "hashing a tree node failed");
		if (below % 2) /* the unpaired last node moves up unchanged */
			memcpy(dst + (above - 1) * t->hlen, src + (below - 1) * t->hlen, t->hlen);
	}
	EVP_MD_CTX_free(job.h.ctx);
	if (rc != 0) {
		kura_hashtree_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int kura_hashtree_root_of(unsigned char *root, const EVP_MD *md, const unsigned char *leaves, size_t n,
			  kura_error *err)
{
	/* Aligned blocks of 2^j leaves are perfect subtrees whose roots are the
	 * nodes of level j; the leaves after the last whole block become level j's
	 * last node, the root of their own tree (their pairs never reach outside
	 * them below level j). So the root is the root over the blocks' roots and
	 * that rest's, and the blocks can be hashed on two cores. */
	unsigned char nodes[BLOCKS][EVP_MAX_MD_SIZE];
	struct job job = {.src = leaves, .dst = nodes[0], .n = n};
	if (n == 0)
		return kura_error_set(err, KURA_EINTERNAL, "a hash tree needs at least one leaf");
	if (pairer_init(&job.h, md) != 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc;
	if (n < PARALLEL_LEAVES) {
		rc = root_alone(root, &job.h, leaves, n);
	} else {
		size_t top = 0;
		while ((n >> top) > 1)
			top++;
		job.width = (size_t)1 << (top - 3); /* 8 to 15 whole blocks */
		size_t blocks = (n + job.width - 1) / job.width;
		rc = run_split(&job, blocks, 1);
		if (rc == 0)
			rc = root_alone(root, &job.h, nodes[0], blocks);
	}
	EVP_MD_CTX_free(job.h.ctx);
	return rc != 0 ? kura_error_set(err, KURA_EINTERNAL, "hashing a tree node failed") : 0;
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
