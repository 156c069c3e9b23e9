/* Evidence layer: hash trees and reduced trees agree for every size and
 * algorithm, records built from an embedded-TSA token verify (and stop verifying
 * when anything is changed), and every public vector round-trips byte-exact. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/hash.h"
#include "evidence/ers_asn1.h"
#include "evidence/hashtree.h"
#include "evidence/record.h"
#include "evidence/stamper.h"
#include "evidence/tsa.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "testutil.h"

static const char *algs[] = {"sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512"};

/* A reduced tree [[leaf], [s1], [s2], ...] as the ASN.1 type, for reducing. */
static STACK_OF(KURA_PHT) *reduced(const unsigned char *values, size_t nlists, size_t hlen)
{
	STACK_OF(KURA_PHT) *rht = sk_KURA_PHT_new_null();
	for (size_t k = 0; k < nlists; k++) {
		KURA_PHT *l = sk_ASN1_OCTET_STRING_new_null();
		ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(o, values + k * hlen, (int)hlen);
		sk_ASN1_OCTET_STRING_push(l, o);
		sk_KURA_PHT_push(rht, l);
	}
	return rht;
}

static void free_rht(STACK_OF(KURA_PHT) *rht)
{
	for (int i = 0; i < sk_KURA_PHT_num(rht); i++)
		sk_ASN1_OCTET_STRING_pop_free(sk_KURA_PHT_value(rht, i), ASN1_OCTET_STRING_free);
	sk_KURA_PHT_free(rht);
}

START_TEST(every_path_leads_to_the_root)
{
	const EVP_MD *md = kura_hash_by_name(algs[_i % 6]);
	size_t n = (size_t)(_i / 6) * 7 + 1, hlen = (size_t)EVP_MD_get_size(md);
	unsigned char *leaves = malloc(n * hlen);
	for (size_t i = 0; i < n * hlen; i++)
		leaves[i] = (unsigned char)(i * 31 + _i);
	kura_hashtree *t;
	kura_error err;
	ck_assert_int_eq(kura_hashtree_build(&t, md, leaves, n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char values[66 * EVP_MAX_MD_SIZE], root[EVP_MAX_MD_SIZE];
		size_t nsib;
		memcpy(values, leaves + i * hlen, hlen);
		ck_assert_int_eq(kura_hashtree_path(t, i, values + hlen, &nsib), 0);
		STACK_OF(KURA_PHT) *rht = reduced(values, nsib + 1, hlen);
		ck_assert_int_eq(kura_hashtree_reduce(root, md, rht, KURA_REDUCE_PASS, &err), 0);
		ck_assert_msg(memcmp(root, kura_hashtree_root(t), hlen) == 0, "%s n=%zu leaf %zu: wrong root", algs[_i % 6], n, i);
		/* a path that hashes one-value lists again cannot reach the same root */
		ck_assert_int_eq(kura_hashtree_reduce(root, md, rht, KURA_REDUCE_DOUBLE, &err), 0);
		ck_assert(memcmp(root, kura_hashtree_root(t), hlen) != 0);
		free_rht(rht);
	}
	if (n == 1)
		ck_assert_mem_eq(kura_hashtree_root(t), leaves, hlen);
	kura_hashtree_free(t);
	free(leaves);
}
END_TEST

/* The seal's root in constant memory is the built tree's root, for every n. */
START_TEST(root_alone_equals_the_tree_root)
{
	const EVP_MD *md = kura_hash_by_name(algs[_i % 6]);
	size_t hlen = (size_t)EVP_MD_get_size(md);
	unsigned char *leaves = malloc(600 * hlen);
	for (size_t i = 0; i < 600 * hlen; i++)
		leaves[i] = (unsigned char)(i * 131 + _i);
	kura_error err;
	for (size_t n = 1; n <= 600; n += 1 + n / 50) {
		kura_hashtree *t;
		unsigned char root[EVP_MAX_MD_SIZE];
		ck_assert_int_eq(kura_hashtree_build(&t, md, leaves, n, &err), 0);
		ck_assert_int_eq(kura_hashtree_root_of(root, md, leaves, n, &err), 0);
		ck_assert_msg(memcmp(root, kura_hashtree_root(t), hlen) == 0, "%s n=%zu: roots differ", algs[_i % 6], n);
		kura_hashtree_free(t);
	}
	ck_assert_int_ne(kura_hashtree_root_of(leaves, md, leaves, 0, &err), 0);
	free(leaves);
}
END_TEST

/* Level by level, the plainest way: what the trees hashed on two cores must give. */
static void reference_root(unsigned char *root, const EVP_MD *md, const unsigned char *leaves, size_t n)
{
	size_t hlen = (size_t)EVP_MD_get_size(md);
	unsigned char *level = malloc(n * hlen);
	memcpy(level, leaves, n * hlen);
	for (; n > 1; n = (n + 1) / 2) {
		for (size_t k = 0; k + 1 < n; k += 2)
			kura_hash_pair(level + k / 2 * hlen, md, level + k * hlen, level + (k + 1) * hlen, hlen, 1);
		if (n % 2)
			memmove(level + n / 2 * hlen, level + (n - 1) * hlen, hlen);
	}
	memcpy(root, level, hlen);
	free(level);
}

START_TEST(big_trees_hashed_on_two_cores_have_the_plain_root)
{
	static const size_t sizes[] = {1u << 16, (1u << 17) + 1, 300001, (1u << 18) - 1};
	const EVP_MD *md = _i ? EVP_sha512() : EVP_sha256();
	size_t n = sizes[_i % 4], hlen = (size_t)EVP_MD_get_size(md);
	unsigned char *leaves = malloc(n * hlen), expect[EVP_MAX_MD_SIZE], root[EVP_MAX_MD_SIZE];
	for (size_t i = 0; i < n * hlen; i++)
		leaves[i] = (unsigned char)(i * 2654435761u >> 13);
	reference_root(expect, md, leaves, n);
	kura_error err;
	kura_hashtree *t;
	ck_assert_int_eq(kura_hashtree_root_of(root, md, leaves, n, &err), 0);
	ck_assert_msg(memcmp(root, expect, hlen) == 0, "n=%zu: the root alone differs", n);
	ck_assert_int_eq(kura_hashtree_build(&t, md, leaves, n, &err), 0);
	ck_assert_msg(memcmp(kura_hashtree_root(t), expect, hlen) == 0, "n=%zu: the tree's root differs", n);
	kura_hashtree_free(t);
	free(leaves);
}
END_TEST

START_TEST(pairs_are_sorted_and_an_odd_node_is_promoted)
{
	const EVP_MD *md = EVP_sha256();
	unsigned char leaves[3 * 32], ab[32], expect[32];
	memset(leaves, 0xbb, 32);      /* a > b: the pair must be hashed as b || a */
	memset(leaves + 32, 0xaa, 32);
	memset(leaves + 64, 0x11, 32); /* promoted, then paired with H(b||a) */
	unsigned char cat[64];
	memcpy(cat, leaves + 32, 32);
	memcpy(cat + 32, leaves, 32);
	EVP_Digest(cat, 64, ab, NULL, md, NULL);
	memcpy(cat, leaves + 64, 32); /* 0x11.. sorts before any digest starting higher */
	memcpy(cat + 32, ab, 32);
	if (memcmp(leaves + 64, ab, 32) > 0) {
		memcpy(cat, ab, 32);
		memcpy(cat + 32, leaves + 64, 32);
	}
	EVP_Digest(cat, 64, expect, NULL, md, NULL);
	kura_hashtree *t;
	kura_error err;
	ck_assert_int_eq(kura_hashtree_build(&t, md, leaves, 3, &err), 0);
	ck_assert_mem_eq(kura_hashtree_root(t), expect, 32);
	size_t nsib;
	unsigned char sib[64 * 32];
	kura_hashtree_path(t, 2, sib, &nsib);
	ck_assert_uint_eq(nsib, 1); /* no sibling on the level where it was promoted */
	ck_assert_mem_eq(sib, ab, 32);
	kura_hashtree_free(t);
}
END_TEST

struct data {
	unsigned char digest[EVP_MAX_MD_SIZE];
	const EVP_MD *md;
};

static int give_digest(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	struct data *d = ud;
	if (md != d->md)
		return kura_error_set(err, KURA_EINTERNAL, "unexpected algorithm");
	memcpy(out, d->digest, (size_t)EVP_MD_get_size(md));
	*count = 1;
	return 0;
}

static json_t *verify(const unsigned char *der, size_t len, struct data *d, STACK_OF(X509) *anchors)
{
	kura_er_verify_opts o = {.anchors = anchors, .digest = give_digest, .digest_ud = d};
	kura_error err;
	json_t *r = NULL;
	ck_assert_int_eq(kura_clock_now(&o.at_ms, &err), 0);
	ck_assert_int_eq(kura_er_verify(&r, der, len, &o, &err), 0);
	return r;
}

static const char *verdict(json_t *r)
{
	return json_string_value(json_object_get(r, "verdict"));
}

START_TEST(records_from_the_embedded_tsa_verify)
{
	char *dir = kura_test_tmpdir(), tsadir[4096], otherdir[4096];
	snprintf(tsadir, sizeof tsadir, "%s/tsa", dir);
	snprintf(otherdir, sizeof otherdir, "%s/other", dir);
	kura_error err;
	kura_tsa *tsa, *other;
	ck_assert_int_eq(kura_tsa_create(tsadir, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_create(tsadir, NULL, &err), KURA_EINPUT); /* never overwritten */
	ck_assert_int_eq(kura_tsa_create(otherdir, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_open(&tsa, tsadir, &err), 0);
	ck_assert_int_eq(kura_tsa_open(&other, otherdir, &err), 0);

	const EVP_MD *md = EVP_sha384();
	size_t n = 5, hlen = 48;
	unsigned char leaves[5 * 48];
	for (size_t i = 0; i < sizeof leaves; i++)
		leaves[i] = (unsigned char)(i * 7);
	kura_hashtree *t;
	ck_assert_int_eq(kura_hashtree_build(&t, md, leaves, n, &err), 0);
	unsigned char *token;
	size_t tlen;
	const char *from;
	kura_stamper_options so = {.embedded = tsa};
	ck_assert_msg(kura_stamp(&token, &tlen, &from, &so, md, kura_hashtree_root(t), &err) == 0, "%s", err.message);

	for (size_t i = 0; i < n; i++) {
		unsigned char values[66 * 48];
		size_t nsib, counts[66];
		memcpy(values, leaves + i * hlen, hlen);
		kura_hashtree_path(t, i, values + hlen, &nsib);
		for (size_t k = 0; k <= nsib; k++)
			counts[k] = 1;
		kura_er_builder *b;
		unsigned char *der;
		size_t len;
		ck_assert_int_eq(kura_er_builder_new(&b, &err), 0);
		ck_assert_int_eq(kura_er_builder_ats(b, md, values, counts, nsib + 1, token, tlen, &err), 0);
		ck_assert_int_eq(kura_er_builder_finish(b, &der, &len, &err), 0);
		kura_er_builder_free(b);

		struct data d = {.md = md};
		memcpy(d.digest, leaves + i * hlen, hlen);
		json_t *r = verify(der, len, &d, kura_tsa_anchors(tsa));
		ck_assert_msg(strcmp(verdict(r), "valid") == 0, "leaf %zu: %s", i, json_string_value(json_object_get(r, "reason")));
		json_decref(r);

		r = verify(der, len, &d, kura_tsa_anchors(other)); /* the wrong trust anchor */
		ck_assert_str_eq(verdict(r), "invalid");
		ck_assert_str_eq(json_string_value(json_object_get(r, "trust")), "invalid");
		json_decref(r);

		r = verify(der, len, &d, NULL); /* no anchors: cannot say */
		ck_assert_str_eq(verdict(r), "indeterminate");
		json_decref(r);

		d.digest[0] ^= 1; /* other data */
		r = verify(der, len, &d, kura_tsa_anchors(tsa));
		ck_assert_str_eq(verdict(r), "invalid");
		ck_assert_str_eq(json_string_value(json_object_get(r, "integrity")), "invalid");
		json_decref(r);
		d.digest[0] ^= 1;

		/* every flipped byte of the record's own structure (everything before the
		 * token: version, algorithms, reduced tree), of the token's imprint and of
		 * its signature is caught */
		const unsigned char *tok = memmem(der, len, token, tlen);
		const unsigned char *imp = memmem(der, len, kura_hashtree_root(t), hlen);
		ck_assert_ptr_nonnull(tok);
		ck_assert_ptr_nonnull(imp);
		size_t spans[3][2] = {{0, (size_t)(tok - der)}, {(size_t)(imp - der), (size_t)(imp - der) + hlen}, {len - 16, len}};
		for (int sp = 0; sp < 3; sp++)
			for (size_t k = spans[sp][0]; k < spans[sp][1]; k++) {
				der[k] ^= 0x01;
				r = verify(der, len, &d, kura_tsa_anchors(tsa));
				ck_assert_msg(strcmp(verdict(r), "valid") != 0, "flipping byte %zu of %zu went unnoticed", k, len);
				json_decref(r);
				der[k] ^= 0x01;
			}
		free(der);
	}
	free(token);
	kura_hashtree_free(t);
	kura_tsa_close(tsa);
	kura_tsa_close(other);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(vectors_round_trip_byte_exact)
{
	static const char *files[] = {
		"bc-java/Testdaten_ERS-Testool/rfc4998/1Chain1ATS/BIN_ER.ers",
		"bc-java/Testdaten_ERS-Testool/rfc4998/1Chain2ATS/BIN_ER.ers",
		"bc-java/Testdaten_ERS-Testool/rfc4998/1Chain2ATS/testRenewal.ers",
		"bc-java/Testdaten_ERS-Testool/rfc4998/2Chains3ATS/BIN_ER.ers",
		"bsi-erverifytool/decoded/bin/ATS1_BIN_ER.ers",
		"bsi-erverifytool/decoded/bin/example_invalidTSPs.ers",
		"bsi-erverifytool/decoded/xaip/xaip_ok.rehashed.ers",
	};
	const char *root = getenv("KURA_VECTORS");
	char path[4096];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", root ? root : SHARED_VECTORS, files[i]);
		char *buf;
		size_t len;
		ck_assert_msg(kura_fs_read_file(path, 1 << 24, &buf, &len) == 0, "cannot read %s", path);
		const unsigned char *p = (unsigned char *)buf;
		KURA_ER *er = d2i_KURA_ER(NULL, &p, (long)len);
		ck_assert_ptr_nonnull(er);
		unsigned char *out = NULL;
		int n = i2d_KURA_ER(er, &out);
		ck_assert_int_eq(n, (int)len);
		ck_assert_msg(memcmp(out, buf, len) == 0, "%s does not re-encode to the same bytes", files[i]);
		OPENSSL_free(out);
		KURA_ER_free(er);
		free(buf);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evidence");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, every_path_leads_to_the_root, 0, 6 * 20);
	tcase_add_loop_test(tc, root_alone_equals_the_tree_root, 0, 6);
	tcase_add_loop_test(tc, big_trees_hashed_on_two_cores_have_the_plain_root, 0, 5);
	tcase_add_test(tc, pairs_are_sorted_and_an_odd_node_is_promoted);
	tcase_add_test(tc, records_from_the_embedded_tsa_verify);
	tcase_add_test(tc, vectors_round_trip_byte_exact);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
