/* Renewal (renewal/renew.c, augment.c) on a real store with its embedded TSA,
 * under a clock fixed by KURA_NOW: a time-stamp renewal made before the TSA
 * certificate ends keeps the evidence valid after it ends (without it the
 * evidence is no longer valid); evidence whose last time-stamp no longer
 * verifies is refused, not renewed; a renewal whose TSA does not answer writes
 * nothing; a hash-tree renewal starts a new chain in the new hash for every
 * object, and the record still proves each document and no other. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/tst.h"
#include "kura/clock.h"
#include "renewal/augment.h"
#include "proof/chains.h"
#include "renewal/renew.h"
#include "proof/seal.h"
#include "proof/tsa_setup.h"
#include "testutil.h"

#define N 3

static const char *const texts[N] = {"minutes of the board\n", "ledger 2026\n", "contract\n"};
static const char *const names[N] = {"minutes.txt", "ledger.txt", "contract.txt"};
static char *dir;
static char store[4096];
static char ids[N * KURA_ID_LEN];
static char seal_id[KURA_ID_LEN + 1];

/* Sealed on 2026-01-01 by a TSA whose certificate ends on 2028-09-27. */
static void setup(void)
{
	kura_tsa_options to = {.name = "renew", .tsa_days = 1000};
	kura_store *st;
	kura_seal_result res;
	kura_error err;
	kura_test_now("2026-01-01T00:00:00Z");
	dir = kura_test_tmpdir();
	snprintf(store, sizeof store, "%s/store", dir);
	kura_test_store_init(store, NULL, &to);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	kura_test_ingest(st, texts, names, N, ids);
	kura_test_seal(st, &res);
	memcpy(seal_id, res.id, sizeof seal_id);
	kura_store_close(st);
}

static void teardown(void)
{
	kura_test_rmdir(dir);
	kura_test_now(NULL);
}

static void id_at(char out[KURA_ID_LEN + 1], size_t i)
{
	memcpy(out, ids + i * KURA_ID_LEN, KURA_ID_LEN);
	out[KURA_ID_LEN] = '\0';
}

/* The verdict of object i's record over text at time at, against the store's TSA roots. */
static char *verdict_of(size_t i, const char *text, const char *at, size_t *chains)
{
	kura_store *st;
	kura_evidence_cache *cache;
	STACK_OF(X509) *anchors;
	unsigned char *der;
	size_t len;
	char id[KURA_ID_LEN + 1];
	kura_error err;
	id_at(id, i);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_tsa_setup_anchors(&anchors, st, &err), 0);
	ck_assert_int_eq(kura_evidence_cache_new(&cache, &err), 0);
	ck_assert_msg(kura_object_evidence(&der, &len, st, id, cache, &err) == 0, "%s", err.message);
	json_t *r = kura_test_verify_text(der, len, text, anchors, at);
	char *v = strdup(kura_test_verdict(r));
	if (chains)
		*chains = json_array_size(json_object_get(r, "chains"));
	json_decref(r);
	free(der);
	kura_evidence_cache_free(cache);
	sk_X509_pop_free(anchors, X509_free);
	kura_store_close(st);
	return v;
}

static void assert_verdict(size_t i, const char *text, const char *at, const char *want)
{
	char *v = verdict_of(i, text, at, NULL);
	ck_assert_msg(strcmp(v, want) == 0, "object %zu at %s: %s, not %s", i, at, v, want);
	free(v);
}

/* Time-stamp renewal of the seal's chain at the clock's time. */
static int renew_seal(kura_renew_result *res, const kura_stamper_options *override, kura_error *err)
{
	kura_store *st;
	kura_tsa_setup ts;
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, err), 0);
	ck_assert_int_eq(kura_tsa_setup_open(&ts, st, err), 0);
	int rc = kura_renew_timestamps(res, st, seal_id, 1, override ? override : &ts.opts, ts.anchors, err);
	kura_tsa_setup_close(&ts);
	kura_store_close(st);
	return rc;
}

/* How many time-stamps the seal's chain has. */
static size_t chain_length(void)
{
	kura_store *st;
	kura_evidence_cache *cache;
	unsigned char **tok;
	size_t *tl, k;
	const EVP_MD *md;
	kura_error err;
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_evidence_cache_new(&cache, &err), 0);
	ck_assert_int_eq(kura_chain_tokens(&tok, &tl, &k, NULL, &md, st, cache, seal_id, NULL, &err), 0);
	kura_free_tokens(tok, k);
	free(tl);
	kura_evidence_cache_free(cache);
	kura_store_close(st);
	return k;
}

START_TEST(a_timestamp_renewal_outlives_the_tsa_certificate)
{
	char tsadir[4096];
	kura_renew_result res;
	kura_error err;
	assert_verdict(0, texts[0], "2027-01-01T00:00:00Z", "valid");
	char *v = verdict_of(0, texts[0], "2029-01-01T00:00:00Z", NULL); /* the certificate has ended */
	ck_assert_str_ne(v, "valid");
	free(v);

	kura_test_now("2028-06-01T00:00:00Z");
	snprintf(tsadir, sizeof tsadir, "%s/tsa", store);
	ck_assert_msg(kura_tsa_rollover(tsadir, "ec-p256", &err) == 0, "%s", err.message); /* a new certificate */
	ck_assert_msg(renew_seal(&res, NULL, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.renewed, 1);
	ck_assert_uint_eq(res.refused, 0);
	ck_assert_str_eq(res.gentime, "2028-06-01T00:00:00Z");
	ck_assert_uint_eq(chain_length(), 2);

	size_t chains;
	for (size_t i = 0; i < N; i++) {
		v = verdict_of(i, texts[i], "2029-01-01T00:00:00Z", &chains);
		ck_assert_msg(strcmp(v, "valid") == 0, "object %zu after renewal: %s", i, v);
		free(v);
		ck_assert_uint_eq(chains, 1);
		assert_verdict(i, texts[(i + 1) % N], "2029-01-01T00:00:00Z", "invalid"); /* another document */
	}
}
END_TEST

START_TEST(evidence_that_no_longer_verifies_is_refused)
{
	kura_renew_result res;
	kura_store *st;
	STACK_OF(X509) *anchors;
	kura_error err, why = {0};
	int64_t now;
	kura_test_now("2029-01-01T00:00:00Z"); /* too late: the certificate has ended */
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_tsa_setup_anchors(&anchors, st, &err), 0);
	ck_assert_int_eq(kura_clock_now(&now, &err), 0);
	ck_assert_int_eq(kura_renew_check_chain(st, seal_id, anchors, now, &why), KURA_EVERIFY);
	ck_assert_msg(strstr(why.message, "expired") || strstr(why.message, "valid"), "%s", why.message);
	ck_assert_int_eq(kura_renew_check_chain(st, seal_id, anchors, now - 3 * 365 * 86400000LL, &why), 0);
	sk_X509_pop_free(anchors, X509_free);
	kura_store_close(st);

	ck_assert_int_eq(renew_seal(&res, NULL, &err), 0);
	ck_assert_uint_eq(res.renewed, 0);
	ck_assert_uint_eq(res.refused, 1);
	ck_assert_uint_eq(chain_length(), 1); /* nothing written */
}
END_TEST

START_TEST(a_renewal_whose_tsa_does_not_answer_writes_nothing)
{
	static const char *const urls[] = {"http://127.0.0.1:1/tsr"}; /* nobody listens there */
	kura_stamper_options nobody = {.urls = urls, .nurls = 1, .timeout_s = 2, .attempts = 1};
	kura_renew_result res;
	kura_error err;
	kura_test_now("2027-01-01T00:00:00Z");
	ck_assert_int_eq(renew_seal(&res, &nobody, &err), KURA_EIO);
	ck_assert_msg(strstr(err.message, "127.0.0.1"), "%s", err.message);
	ck_assert_uint_eq(res.renewed, 0);
	ck_assert_uint_eq(chain_length(), 1);
	assert_verdict(1, texts[1], "2027-01-01T00:00:00Z", "valid");
}
END_TEST

START_TEST(a_hash_tree_renewal_starts_a_new_chain_for_every_object)
{
	kura_store *st;
	kura_tsa_setup ts;
	kura_renew_result res;
	kura_error err;
	kura_test_now("2027-01-01T00:00:00Z");
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_tsa_setup_open(&ts, st, &err), 0);
	ck_assert_msg(kura_renew_hashtree(&res, st, ids, N, EVP_sha512(), &ts.opts, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.renewed, N);
	kura_tsa_setup_close(&ts);
	for (size_t i = 0; i < N; i++) {
		char id[KURA_ID_LEN + 1], *starts;
		uint32_t *pos;
		size_t n;
		id_at(id, i);
		ck_assert_int_eq(kura_object_chain_starts(&starts, &pos, &n, st, id, &err), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert(memcmp(starts, seal_id, KURA_ID_LEN) == 0);
		ck_assert(memcmp(starts + KURA_ID_LEN, res.id, KURA_ID_LEN) == 0); /* the newest last */
		ck_assert_uint_eq(pos[1], (uint32_t)i);
		free(starts);
		free(pos);
	}
	kura_store_close(st);

	size_t chains;
	for (size_t i = 0; i < N; i++) {
		char *v = verdict_of(i, texts[i], "2027-06-01T00:00:00Z", &chains);
		ck_assert_msg(strcmp(v, "valid") == 0, "object %zu: %s", i, v);
		free(v);
		ck_assert_uint_eq(chains, 2);
		char changed[64];
		snprintf(changed, sizeof changed, "%s", texts[i]);
		changed[0] ^= 1; /* one flipped bit */
		assert_verdict(i, changed, "2027-06-01T00:00:00Z", "invalid");
	}
}
END_TEST

/* The embedded TSA's tokens carry their whole path (signer and root): the
 * augmenter adds nothing to them, so a renewal hashes them as they are.
 * (Certificates and revocation data added to a token: check_revocation.) */
START_TEST(a_token_that_lacks_nothing_is_left_alone)
{
	kura_store *st;
	kura_evidence_cache *cache;
	STACK_OF(X509) *anchors;
	unsigned char **tok, *aug = (unsigned char *)"x";
	size_t *tl, k, auglen = 1;
	const EVP_MD *md;
	kura_tst *t;
	kura_augmenter *a;
	kura_error err;
	int64_t now;
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_tsa_setup_anchors(&anchors, st, &err), 0);
	ck_assert_int_eq(kura_evidence_cache_new(&cache, &err), 0);
	ck_assert_int_eq(kura_chain_tokens(&tok, &tl, &k, NULL, &md, st, cache, seal_id, NULL, &err), 0);
	ck_assert_int_eq(kura_clock_now(&now, &err), 0);
	ck_assert_int_eq(kura_tst_parse(&t, tok[0], tl[0], &err), 0);
	int has_root = 0;
	for (int i = 0; i < sk_X509_num(kura_tst_certs(t)); i++)
		has_root |= X509_cmp(sk_X509_value(kura_tst_certs(t), i), sk_X509_value(anchors, 0)) == 0;
	ck_assert(has_root);
	ck_assert_int_eq(kura_augmenter_new(&a, anchors, 5, now, &err), 0);
	ck_assert_msg(kura_augment(&aug, &auglen, a, tok[0], tl[0], t, &err) == 0, "%s", err.message);
	ck_assert_ptr_null(aug);
	ck_assert_uint_eq(auglen, 0);
	kura_tst_free(t);
	kura_augmenter_free(a);
	kura_free_tokens(tok, k);
	free(tl);
	kura_evidence_cache_free(cache);
	sk_X509_pop_free(anchors, X509_free);
	kura_store_close(st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("renew");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_timestamp_renewal_outlives_the_tsa_certificate);
	tcase_add_test(tc, evidence_that_no_longer_verifies_is_refused);
	tcase_add_test(tc, a_renewal_whose_tsa_does_not_answer_writes_nothing);
	tcase_add_test(tc, a_hash_tree_renewal_starts_a_new_chain_for_every_object);
	tcase_add_test(tc, a_token_that_lacks_nothing_is_left_alone);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
