/* The renewal planner (renewal/plan.c) on a real store sealed by its embedded
 * TSA under a fixed clock: each live chain is due at the earliest of its TSA
 * certificate's end minus the certificate margin (time-stamp renewal), the
 * end of its token's key or signature hash minus the algorithm margin
 * (time-stamp renewal) and the end of its hash algorithm minus the algorithm
 * margin (hash-tree renewal), with that reason; unsealed objects are in no
 * chain. Which hash a hash-tree renewal moves to. (Revocation of a TSA
 * certificate needs an OCSP responder: tests/cli/test_tsa_revocation.sh.) */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kura/clock.h"
#include "renewal/plan.h"
#include "proof/seal.h"
#include "proof/store_policy.h"
#include "testutil.h"

#define DAY_MS 86400000LL
#define NOW "2026-01-01T00:00:00Z"
#define TSA_DAYS 1000

static char *dir;
static char store[4096];
static char ids[4 * KURA_ID_LEN];
static char seal_id[KURA_ID_LEN + 1];

static int64_t ms(const char *t)
{
	int64_t v;
	kura_error err;
	ck_assert_msg(kura_time_parse(&v, t, &err) == 0, "%s", err.message);
	return v;
}

/* A store with three sealed objects and a fourth one unsealed, made at NOW by a
 * TSA whose certificate lasts TSA_DAYS. */
static void setup(void)
{
	static const char *const texts[] = {"one\n", "two\n", "three\n", "four\n"};
	static const char *const names[] = {"1.txt", "2.txt", "3.txt", "4.txt"};
	kura_tsa_options to = {.name = "plan", .tsa_days = TSA_DAYS};
	kura_store *st;
	kura_seal_result res;
	kura_error err;
	kura_test_now(NOW);
	dir = kura_test_tmpdir();
	snprintf(store, sizeof store, "%s/store", dir);
	kura_test_store_init(store, NULL, &to);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	kura_test_ingest(st, texts, names, 3, ids);
	kura_test_seal(st, &res);
	ck_assert_uint_eq(res.objects, 3);
	memcpy(seal_id, res.id, sizeof seal_id);
	kura_test_ingest(st, texts + 3, names + 3, 1, ids + 3 * KURA_ID_LEN);
	kura_store_close(st);
}

static void teardown(void)
{
	kura_test_rmdir(dir);
	kura_test_now(NULL);
}

/* The plan of the store under a policy with these ends ("null" or a last day). */
static kura_plan_item *plan(size_t *n, const char *sha256, const char *ec_p256)
{
	char text[1024];
	snprintf(text, sizeof text,
		 "kura-policy: 1\nname: t\nmargins: {certificate-days: 30, algorithm-days: 200}\nalgorithms:\n"
		 "  sha256: {until: %s, source: \"hash source\"}\n  ec-p256: {until: %s, source: \"key source\"}\n",
		 sha256, ec_p256);
	kura_policy *p;
	kura_store *st;
	kura_plan_item *items;
	kura_error err;
	ck_assert_msg(kura_policy_parse(&p, text, strlen(text), "t.yaml", &err) == 0, "%s", err.message);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	ck_assert_msg(kura_plan(&items, n, st, p, ms(NOW), &err) == 0, "%s", err.message);
	kura_store_close(st);
	kura_policy_free(p);
	return items;
}

START_TEST(the_tsa_certificate_end_minus_its_margin)
{
	size_t n;
	kura_plan_item *items = plan(&n, "null", "null");
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(items[0].chain, seal_id);
	ck_assert_int_eq(items[0].action, 'T');
	ck_assert_int_eq(items[0].due, ms(NOW) + TSA_DAYS * DAY_MS - 30 * DAY_MS);
	ck_assert_msg(strstr(items[0].reason, "TSA certificate") && strstr(items[0].reason, "expires"), "%s",
		      items[0].reason);
	ck_assert_str_eq(items[0].hash, "sha256");
	ck_assert_uint_eq(items[0].objects, 3); /* not the unsealed fourth */
	ck_assert_mem_eq(items[0].object_ids, ids, 3 * KURA_ID_LEN);

	json_t *j = kura_plan_json(items, n, ms(NOW));
	json_t *e = json_array_get(j, 0);
	ck_assert_str_eq(json_string_value(json_object_get(e, "action")), "time-stamp renewal");
	ck_assert(json_is_false(json_object_get(e, "due_now")));
	json_decref(j);
	j = kura_plan_json(items, n, items[0].due); /* due on the day itself */
	ck_assert(json_is_true(json_object_get(json_array_get(j, 0), "due_now")));
	json_decref(j);
	kura_plan_free(items, n);
}
END_TEST

START_TEST(the_token_key_end_minus_the_algorithm_margin)
{
	size_t n;
	kura_plan_item *items = plan(&n, "null", "2027-06-30");
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(items[0].action, 'T');
	ck_assert_int_eq(items[0].due, ms("2027-07-01") - 200 * DAY_MS);
	ck_assert_msg(strstr(items[0].reason, "ec-p256") && strstr(items[0].reason, "2027-06-30") &&
			      strstr(items[0].reason, "key source"),
		      "%s", items[0].reason);
	kura_plan_free(items, n);
	/* a key ending after the certificate changes nothing */
	items = plan(&n, "null", "2035-01-01");
	ck_assert_int_eq(items[0].due, ms(NOW) + (TSA_DAYS - 30) * DAY_MS);
	kura_plan_free(items, n);
}
END_TEST

START_TEST(the_hash_end_asks_for_a_hash_tree_renewal)
{
	size_t n;
	kura_plan_item *items = plan(&n, "2027-03-31", "null");
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(items[0].action, 'H');
	ck_assert_int_eq(items[0].due, ms("2027-04-01") - 200 * DAY_MS);
	ck_assert_msg(strstr(items[0].reason, "hash algorithm sha256") && strstr(items[0].reason, "2027-03-31"), "%s",
		      items[0].reason);
	kura_plan_free(items, n);
	/* hash and key ending the same day: the hash-tree renewal answers both */
	items = plan(&n, "2027-03-31", "2027-03-31");
	ck_assert_int_eq(items[0].action, 'H');
	kura_plan_free(items, n);
	/* the key ending a day earlier comes first */
	items = plan(&n, "2027-03-31", "2027-03-30");
	ck_assert_int_eq(items[0].action, 'T');
	ck_assert_int_eq(items[0].due, ms("2027-03-31") - 200 * DAY_MS);
	kura_plan_free(items, n);
}
END_TEST

START_TEST(each_seal_is_a_chain_sorted_by_due)
{
	kura_store *st;
	kura_seal_result res;
	kura_error err;
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	kura_test_seal(st, &res); /* the fourth object */
	ck_assert_uint_eq(res.objects, 1);
	kura_store_close(st);
	size_t n;
	kura_plan_item *items = plan(&n, "null", "null");
	ck_assert_uint_eq(n, 2);
	int first = strcmp(items[0].chain, seal_id) == 0 ? 0 : 1;
	ck_assert_str_eq(items[first].chain, seal_id);
	ck_assert_uint_eq(items[first].objects, 3);
	ck_assert_str_eq(items[1 - first].chain, res.id);
	ck_assert_uint_eq(items[1 - first].objects, 1);
	ck_assert_mem_eq(items[1 - first].object_ids, ids + 3 * KURA_ID_LEN, KURA_ID_LEN);
	ck_assert_int_le(items[0].due, items[1].due);
	kura_plan_free(items, n);
}
END_TEST

START_TEST(a_hash_tree_renewal_moves_to_the_strongest_hash_that_lasts)
{
	const char *text = "kura-policy: 1\nname: t\nmargins: {algorithm-days: 100}\nalgorithms:\n"
			   "  sha512: {until: 2030-12-31, source: s}\n  sha3-512: {until: 2029-12-31, source: s}\n"
			   "  sha384: {until: null, source: s}\n  sha256: {until: 2020-01-01, source: s}\n";
	kura_policy *p;
	kura_error err;
	ck_assert_int_eq(kura_policy_parse(&p, text, strlen(text), "t.yaml", &err), 0);
	ck_assert_str_eq(kura_policy_next_hash(p, ms("2029-01-01")), "sha512");
	ck_assert_str_eq(kura_policy_next_hash(p, ms("2030-10-01")), "sha384"); /* sha512 ends within the margin */
	kura_policy_free(p);
	text = "kura-policy: 1\nname: t\nalgorithms:\n  sha256: {until: 2020-01-01, source: s}\n";
	ck_assert_int_eq(kura_policy_parse(&p, text, strlen(text), "t.yaml", &err), 0);
	ck_assert_ptr_null(kura_policy_next_hash(p, ms("2026-01-01"))); /* none lasts */
	kura_policy_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, the_tsa_certificate_end_minus_its_margin);
	tcase_add_test(tc, the_token_key_end_minus_the_algorithm_margin);
	tcase_add_test(tc, the_hash_end_asks_for_a_hash_tree_renewal);
	tcase_add_test(tc, each_seal_is_a_chain_sorted_by_due);
	tcase_add_test(tc, a_hash_tree_renewal_moves_to_the_strongest_hash_that_lasts);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
