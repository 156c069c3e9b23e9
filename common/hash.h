/* Hash algorithms by kura's names (sha256, sha384, sha512, sha3-256, sha3-384,
 * sha3-512, which kura makes evidence with; and sha1, sha224, sha512-224,
 * sha512-256, sha3-224, ripemd160, which it verifies in records of other
 * producers) and a hasher that computes SHA-256 plus, optionally, one more of them
 * over the same bytes in one pass (the store's own algorithm, when it is not SHA-256). */
#ifndef KURA_HASH_H
#define KURA_HASH_H

#include <stddef.h>

#include <openssl/evp.h>

#include "kura/error.h"

#define KURA_HASH_MAX 64

/* The OpenSSL digest for a kura name, or NULL if the name is not one of them or
 * this OpenSSL cannot compute it. */
const EVP_MD *kura_hash_by_name(const char *name);

/* 1 if kura makes evidence with the algorithm of that name (the first six above),
 * 0 for one it only verifies (or does not know). */
int kura_hash_makes(const char *name);

/* The same digest fetched once from the provider: use it where many small
 * inputs are hashed (tree nodes), because OpenSSL 3 looks a legacy EVP_MD such
 * as EVP_sha256() up again at every digest init, which costs more than hashing
 * 64 bytes. Returns md itself for algorithms kura does not know. */
const EVP_MD *kura_hash_impl(const EVP_MD *md);

/* The kura name of an OpenSSL digest (by NID), or NULL if kura does not know it. */
const char *kura_hash_name_by_nid(int nid);
/* The OpenSSL digest for a NID among kura's algorithms, or NULL (not one of
 * them, or this OpenSSL cannot compute it). */
const EVP_MD *kura_hash_by_nid(int nid);

/* Teaches OpenSSL which digest and key the ecdsa-with-SHA3 signature OIDs pair
 * (OpenSSL 3.0 knows the OIDs but not the pairing, so CMS refuses to sign with
 * ECDSA over SHA-3 and cannot name the key of such a signature). Call before
 * making or checking a CMS signature; cheap after the first call, thread-safe. */
void kura_hash_pair_ecdsa_sha3(void);

/* The digest under md of the file at path: KURA_ENOTFOUND if it is absent,
 * KURA_EINPUT if it cannot be read. */
int kura_hash_file(unsigned char *out, const EVP_MD *md, const char *path, kura_error *err);

typedef struct kura_hasher kura_hasher;

/* extra: a second algorithm name, or NULL/"sha256" for SHA-256 alone. */
int kura_hasher_new(kura_hasher **out, const char *extra, kura_error *err);
void kura_hasher_free(kura_hasher *h);
int kura_hasher_reset(kura_hasher *h, kura_error *err);
int kura_hasher_update(kura_hasher *h, const void *p, size_t n, kura_error *err);
/* sha256 gets 32 bytes; extra (if the hasher has one) gets *extra_len bytes. */
int kura_hasher_final(kura_hasher *h, unsigned char sha256[32], unsigned char extra[KURA_HASH_MAX],
		      size_t *extra_len, kura_error *err);
/* The name of the extra algorithm, or NULL. */
const char *kura_hasher_extra_name(const kura_hasher *h);

#endif
