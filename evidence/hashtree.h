/* Hash trees of RFC 4998 as ERS-RULES fixes them.
 *
 * Building: a binary tree over N leaf values; parent = H(sort(left, right)),
 * concatenated in ascending unsigned byte order; an unpaired node is promoted
 * unchanged. The path of leaf i lists, level by level, the sibling it is paired
 * with (levels where it is promoted have none).
 *
 * Reducing (verification, RFC 4998 section 4.3 literally): for each list of a
 * reduced tree, add the previous result (not to the first); a list of exactly one
 * value passes it on unhashed, longer lists are sorted, concatenated and hashed.
 * The tolerated variant hashes one-value lists too ("double hash"). */
#ifndef KURA_HASHTREE_H
#define KURA_HASHTREE_H

#include <stddef.h>

#include <openssl/evp.h>

#include "evidence/ers_asn1.h"
#include "kura/error.h"

typedef struct kura_hashtree kura_hashtree;

/* Builds the tree over n leaves of EVP_MD_get_size(md) bytes each, laid out
 * back to back. n >= 1. The tree is the caller's (kura_hashtree_free); it
 * borrows leaves, which must outlive it. */
int kura_hashtree_build(kura_hashtree **out, const EVP_MD *md, const unsigned char *leaves, size_t n,
			kura_error *err);
/* The root of that tree alone, in constant memory (a seal of ten million objects
 * needs no tree). */
int kura_hashtree_root_of(unsigned char *root, const EVP_MD *md, const unsigned char *leaves, size_t n,
			  kura_error *err);
void kura_hashtree_free(kura_hashtree *t);

size_t kura_hashtree_size(const kura_hashtree *t); /* digest length */
const unsigned char *kura_hashtree_root(const kura_hashtree *t);
const unsigned char *kura_hashtree_leaf(const kura_hashtree *t, size_t i);

/* Writes the siblings of leaf i (at most 64 of them, each size() bytes) to
 * siblings and their count to *n. */
int kura_hashtree_path(const kura_hashtree *t, size_t i, unsigned char *siblings, size_t *n);

/* H(a || b) or, with sorted, H of the two in ascending byte order. */
int kura_hash_pair(unsigned char *out, const EVP_MD *md, const unsigned char *a, const unsigned char *b,
		   size_t len, int sorted);

/* The node of a data object group (or of any first list): its one value as it
 * is, or H of its values sorted in ascending byte order and concatenated
 * (RFC 4998 section 4.3). values is sorted in place. */
int kura_hash_group(unsigned char *out, const EVP_MD *md, unsigned char *values, size_t count);

enum kura_reduce_rule {
	KURA_REDUCE_PASS = 0,   /* one-value lists pass through (RFC 4998 as written) */
	KURA_REDUCE_DOUBLE = 1, /* one-value lists are hashed again (tolerated variant) */
};

/* Computes the root a reduced tree leads to. Every value must have the digest's
 * length (KURA_EVERIFY otherwise). */
int kura_hashtree_reduce(unsigned char *root, const EVP_MD *md, const STACK_OF(KURA_PHT) *rht, int rule,
			 kura_error *err);

#endif
