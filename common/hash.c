/* Hash algorithm names and the one-pass multi-digest hasher (see hash.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/provider.h>

#include "common/fsutil.h"
#include "common/hash.h"

/* Every digest evidence records use that OpenSSL offers. kura makes evidence
 * with the first six only (the others it verifies: records of other producers);
 * which of them still sufficed at a time is the policy's judgement, not this
 * table's. RIPEMD-160 is in OpenSSL's default provider from 3.0.7 and in the
 * legacy provider before: where neither has it, it cannot be computed. */
#define NALGORITHMS 12
static const struct {
	const char *name;   /* kura's */
	const char *fetch;  /* OpenSSL's */
	int nid;
} algorithms[NALGORITHMS] = {
	{"sha256", "SHA256", NID_sha256},         {"sha384", "SHA384", NID_sha384},
	{"sha512", "SHA512", NID_sha512},         {"sha3-256", "SHA3-256", NID_sha3_256},
	{"sha3-384", "SHA3-384", NID_sha3_384},   {"sha3-512", "SHA3-512", NID_sha3_512},
	{"sha1", "SHA1", NID_sha1},               {"sha224", "SHA224", NID_sha224},
	{"sha512-224", "SHA512-224", NID_sha512_224}, {"sha512-256", "SHA512-256", NID_sha512_256},
	{"sha3-224", "SHA3-224", NID_sha3_224},   {"ripemd160", "RIPEMD160", NID_ripemd160},
};

/* The digests fetched from the provider once, for the life of the process
 * (NULL: this OpenSSL cannot compute it). */
static const EVP_MD *fetched[NALGORITHMS];
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	for (size_t i = 0; i < NALGORITHMS; i++) {
		EVP_MD *md = EVP_MD_fetch(NULL, algorithms[i].fetch, NULL);
		if (!md && algorithms[i].nid == NID_ripemd160 && OSSL_PROVIDER_try_load(NULL, "legacy", 1))
			md = EVP_MD_fetch(NULL, algorithms[i].fetch, NULL);
		fetched[i] = md;
	}
	ERR_clear_error(); /* a digest this OpenSSL lacks is no error of the caller's */
}

static const EVP_MD *md_at(size_t i)
{
	pthread_once(&fetch_once, fetch_all);
	return fetched[i];
}

static pthread_once_t pair_once = PTHREAD_ONCE_INIT;

static void pair_all(void)
{
	static const int pairs[][2] = {{NID_ecdsa_with_SHA3_224, NID_sha3_224},
				       {NID_ecdsa_with_SHA3_256, NID_sha3_256},
				       {NID_ecdsa_with_SHA3_384, NID_sha3_384},
				       {NID_ecdsa_with_SHA3_512, NID_sha3_512}};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		int md, pk;
		if (!OBJ_find_sigid_algs(pairs[i][0], &md, &pk)) /* newer OpenSSL has them */
			OBJ_add_sigid(pairs[i][0], pairs[i][1], NID_X9_62_id_ecPublicKey);
	}
	ERR_clear_error();
}

void kura_hash_pair_ecdsa_sha3(void) { pthread_once(&pair_once, pair_all); }

static int index_of_name(const char *name)
{
	for (size_t i = 0; i < NALGORITHMS; i++)
		if (strcmp(name, algorithms[i].name) == 0)
			return (int)i;
	return -1;
}

static int index_of_nid(int nid)
{
	for (size_t i = 0; i < NALGORITHMS; i++)
		if (algorithms[i].nid == nid)
			return (int)i;
	return -1;
}

/* The digest as OpenSSL names it (EVP_sha256() ...: callers may compare these),
 * if this OpenSSL can compute it. */
static const EVP_MD *md_if_computable(int i)
{
	return i < 0 || !md_at((size_t)i) ? NULL : EVP_get_digestbynid(algorithms[i].nid);
}

const EVP_MD *kura_hash_by_name(const char *name)
{
	return md_if_computable(index_of_name(name));
}

int kura_hash_makes(const char *name)
{
	int i = name ? index_of_name(name) : -1;
	return i >= 0 && i < 6; /* the table's first six */
}

const EVP_MD *kura_hash_impl(const EVP_MD *md)
{
	int i = index_of_nid(EVP_MD_get_type(md));
	return i < 0 || !md_at((size_t)i) ? md : md_at((size_t)i);
}

const char *kura_hash_name_by_nid(int nid)
{
	int i = index_of_nid(nid);
	return i < 0 ? NULL : algorithms[i].name;
}

const EVP_MD *kura_hash_by_nid(int nid)
{
	return md_if_computable(index_of_nid(nid));
}

struct kura_hasher {
	EVP_MD_CTX *sha256;
	EVP_MD_CTX *extra;
	const EVP_MD *extra_md;
	char *extra_name;
};

int kura_hasher_new(kura_hasher **out, const char *extra, kura_error *err)
{
	kura_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (extra && strcmp(extra, "sha256") != 0) {
		h->extra_md = kura_hash_by_name(extra);
		if (!h->extra_md) {
			free(h);
			return kura_error_set(err, KURA_EINPUT, "unknown hash algorithm '%s'", extra);
		}
		h->extra_name = strdup(extra);
		h->extra = EVP_MD_CTX_new();
	}
	h->sha256 = EVP_MD_CTX_new();
	if (!h->sha256 || (h->extra_md && (!h->extra || !h->extra_name))) {
		kura_hasher_free(h);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	int rc = kura_hasher_reset(h, err);
	if (rc != 0) {
		kura_hasher_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void kura_hasher_free(kura_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->sha256);
	EVP_MD_CTX_free(h->extra);
	free(h->extra_name);
	free(h);
}

int kura_hasher_reset(kura_hasher *h, kura_error *err)
{
	if (EVP_DigestInit_ex(h->sha256, md_at(0), NULL) != 1 ||
	    (h->extra && EVP_DigestInit_ex(h->extra, kura_hash_impl(h->extra_md), NULL) != 1))
		return kura_error_set(err, KURA_EINTERNAL, "OpenSSL digest init failed");
	return 0;
}

int kura_hasher_update(kura_hasher *h, const void *p, size_t n, kura_error *err)
{
	if (EVP_DigestUpdate(h->sha256, p, n) != 1 || (h->extra && EVP_DigestUpdate(h->extra, p, n) != 1))
		return kura_error_set(err, KURA_EINTERNAL, "OpenSSL digest update failed");
	return 0;
}

int kura_hasher_final(kura_hasher *h, unsigned char sha256[32], unsigned char extra[KURA_HASH_MAX],
		      size_t *extra_len, kura_error *err)
{
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(h->sha256, sha256, &n) != 1)
		return kura_error_set(err, KURA_EINTERNAL, "OpenSSL digest final failed");
	*extra_len = 0;
	if (h->extra) {
		if (EVP_DigestFinal_ex(h->extra, extra, &n) != 1)
			return kura_error_set(err, KURA_EINTERNAL, "OpenSSL digest final failed");
		*extra_len = n;
	}
	return 0;
}

const char *kura_hasher_extra_name(const kura_hasher *h)
{
	return h->extra_name;
}

int kura_hash_file(unsigned char *out, const EVP_MD *md, const char *path, kura_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kura_error_sys(err, errno == ENOENT ? KURA_ENOTFOUND : KURA_EINPUT, "cannot read %s", path);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[1 << 16];
	size_t got;
	int rc = ctx && EVP_DigestInit_ex(ctx, md, NULL) == 1 ? 0 : kura_error_set(err, KURA_EINTERNAL, "digest init failed");
	while (rc == 0) {
		if (kura_fs_read_full(fd, buf, sizeof buf, &got) != 0)
			rc = kura_error_sys(err, KURA_EINPUT, "reading %s", path);
		else if (got == 0)
			break;
		else
			EVP_DigestUpdate(ctx, buf, got);
	}
	if (rc == 0)
		EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}
