/* Renewal policies (policies/policy.c) read from memory, and a store's policy
 * with its declared sunsets (proof/store_policy.c): what a policy says of each
 * algorithm (its end is the day after its last day), that a policy with any
 * mistake is refused whole with the line named, that sunsets only ever move an
 * end earlier, and that a store keeps its sunsets across opens. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kura/clock.h"
#include "policies/policy.h"
#include "proof/store_policy.h"
#include "testutil.h"

#define DAY_MS 86400000LL

static const char good[] = "kura-policy: 1\n"
			   "name: test-policy\n"
			   "title: A policy for tests\n"
			   "margins: {certificate-days: 30, algorithm-days: 200}\n"
			   "algorithms:\n"
			   "  sha256: {until: null, source: \"no end\"}\n"
			   "  sha1: {until: 2009-12-31, source: \"broken\"}\n"
			   "  rsa-2048: {until: 2030-12-31, source: \"112 bits\"}\n"
			   "tsa-urls: [http://tsa.invalid/a, https://tsa.invalid/b]\n";

static int64_t ms(const char *t)
{
	int64_t v;
	kura_error err;
	ck_assert_msg(kura_time_parse(&v, t, &err) == 0, "%s", err.message);
	return v;
}

static kura_policy *parse_ok(const char *text)
{
	kura_policy *p = NULL;
	kura_error err;
	ck_assert_msg(kura_policy_parse(&p, text, strlen(text), "test.yaml", &err) == 0, "%s", err.message);
	return p;
}

START_TEST(a_policy_says_when_each_algorithm_ends)
{
	kura_policy *p = parse_ok(good);
	int64_t end;
	const char *source;
	ck_assert_str_eq(kura_policy_name(p), "test-policy");
	ck_assert_int_eq(kura_policy_margin_certificate(p), 30 * DAY_MS);
	ck_assert_int_eq(kura_policy_margin_algorithm(p), 200 * DAY_MS);
	ck_assert_int_eq(kura_policy_end(&end, &source, p, "sha256"), 0);
	ck_assert_int_eq(end, KURA_NEVER);
	ck_assert_str_eq(source, "no end");
	ck_assert_int_eq(kura_policy_end(&end, &source, p, "rsa-2048"), 0);
	ck_assert_int_eq(end, ms("2031-01-01")); /* it suffices through its last day */
	ck_assert_str_eq(source, "112 bits");
	ck_assert_int_eq(kura_policy_end(&end, &source, p, "sha384"), KURA_ENOTFOUND); /* not assessed */
	ck_assert_int_eq(kura_policy_end(&end, &source, p, "md5"), KURA_ENOTFOUND);    /* not kura's */
	ck_assert_int_eq(kura_policy_algorithm_end(p, "sha1"), ms("2010-01-01"));
	ck_assert_int_eq(kura_policy_algorithm_end(p, "sha384"), KURA_NEVER);

	const char *const *urls;
	ck_assert_uint_eq(kura_policy_tsa_urls(p, &urls), 2);
	ck_assert_str_eq(urls[1], "https://tsa.invalid/b");

	json_t *j = kura_policy_json(p);
	ck_assert_str_eq(json_string_value(json_object_get(j, "title")), "A policy for tests");
	json_t *rsa = json_object_get(json_object_get(j, "algorithms"), "rsa-2048");
	ck_assert_str_eq(json_string_value(json_object_get(rsa, "until")), "2030-12-31");
	ck_assert(json_is_null(json_object_get(json_object_get(json_object_get(j, "algorithms"), "sha256"), "until")));
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "margins"), "algorithm-days")), 200);
	json_decref(j);
	kura_policy_free(p);
}
END_TEST

/* Policies with one mistake each, the line it is on, and a word the message must hold. */
static const struct {
	const char *text;
	int line;
	const char *says;
} bad[] = {
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: 2030-02-30, source: s}\n", 4, "date"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: 2030-13-01, source: s}\n", 4, "date"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: 2030-1-01, source: s}\n", 4, "date"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: \"null\", source: s}\n", 4, "date"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: , source: s}\n", 4, "date"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: [2030-01-01], source: s}\n", 4, "a list"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {source: s}\n", 4, "needs"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: null}\n", 4, "needs"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  md5: {until: null, source: s}\n", 4, "unknown algorithm"},
	{"kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: null, source: s}\n  sha256: {until: null, source: t}\n",
	 5, "twice"},
	{"kura-policy: 1\nname: x\nname: y\nalgorithms: {}\n", 3, "twice"},
	{"kura-policy: 2\nname: x\nalgorithms: {}\n", 1, "kura-policy: 1"},
	{"name: x\nalgorithms: {}\n", 0, "kura-policy: 1"},
	{"kura-policy: 1\nalgorithms: {}\n", 0, "no name"},
	{"kura-policy: 1\nname: x\n", 0, "no algorithms"},
	{"kura-policy: 1\nname: x\nmargins: {certificate-days: -1}\nalgorithms: {}\n", 3, "number of days"},
	{"kura-policy: 1\nname: x\nmargins: {algorithm-days: 12x}\nalgorithms: {}\n", 3, "number of days"},
	{"kura-policy: 1\nname: x\nalgorithms: {}\ntsa-urls: [ftp://tsa.invalid]\n", 4, "TSA URL"},
	{"kura-policy: 1\nname: x\nalgorithms:\n\tsha256: {until: null, source: s}\n", 4, "tab"},
	{"- just\n- a list\n", 0, "mapping"},
};

START_TEST(a_policy_with_a_mistake_is_refused_naming_its_line)
{
	kura_policy *p = NULL;
	kura_error err;
	const char *text = bad[_i].text;
	int rc = kura_policy_parse(&p, text, strlen(text), "bad.yaml", &err);
	ck_assert_msg(rc == KURA_EINPUT, "policy %d was accepted (rc %d):\n%s", _i, rc, text);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(err.message, bad[_i].says), "policy %d: '%s' lacks '%s'", _i, err.message, bad[_i].says);
	ck_assert_msg(strncmp(err.message, "bad.yaml", 8) == 0, "policy %d: '%s' names no file", _i, err.message);
	if (bad[_i].line) {
		char where[32];
		snprintf(where, sizeof where, "bad.yaml line %d:", bad[_i].line);
		ck_assert_msg(strstr(err.message, where), "policy %d: '%s' does not name line %d", _i, err.message,
			      bad[_i].line);
	}
}
END_TEST

START_TEST(bytes_past_the_length_are_not_read)
{
	/* the text is cut inside a date: what follows in memory must not complete it */
	const char *full = "kura-policy: 1\nname: x\nalgorithms:\n  sha256: {until: 2030-01-01, source: s}\n";
	size_t cut = (size_t)(strstr(full, "2030-01") - full) + 7;
	kura_policy *p = NULL;
	kura_error err;
	ck_assert_int_eq(kura_policy_parse(&p, full, cut, "cut.yaml", &err), KURA_EINPUT);
	/* a NUL byte inside the text is not its end */
	char withnul[] = "kura-policy: 1\nname: x\nalgorithms: {}\n\0garbage: [\n";
	ck_assert_int_ne(kura_policy_parse(&p, withnul, sizeof withnul - 1, "nul.yaml", &err), 0);
	ck_assert_int_eq(kura_policy_parse(&p, withnul, strlen(withnul), "nul.yaml", &err), 0);
	kura_policy_free(p);
}
END_TEST

START_TEST(sunsets_only_move_an_end_earlier)
{
	kura_policy *p = parse_ok(good);
	kura_error err;
	ck_assert_int_eq(kura_policy_sunset(p, "rsa-2048", ms("2032-01-01"), "later", &err), 0);
	ck_assert_int_eq(kura_policy_algorithm_end(p, "rsa-2048"), ms("2031-01-01")); /* unchanged */
	ck_assert_int_eq(kura_policy_sunset(p, "rsa-2048", ms("2028-06-01"), "earlier", &err), 0);
	ck_assert_int_eq(kura_policy_algorithm_end(p, "rsa-2048"), ms("2028-06-01"));
	ck_assert_int_eq(kura_policy_sunset(p, "sha256", ms("2040-01-01"), "quantum", &err), 0);
	ck_assert_int_eq(kura_policy_algorithm_end(p, "sha256"), ms("2040-01-01"));
	ck_assert_int_eq(kura_policy_sunset(p, "sha512", ms("2041-01-01"), "new", &err), 0); /* was not assessed */
	ck_assert_int_eq(kura_policy_algorithm_end(p, "sha512"), ms("2041-01-01"));
	ck_assert_int_eq(kura_policy_sunset(p, "md5", ms("2000-01-01"), "x", &err), KURA_EINPUT);
	kura_policy_free(p);
}
END_TEST

START_TEST(every_shipped_policy_loads_by_name)
{
	const char *const *names = kura_policy_shipped();
	int n = 0;
	kura_error err;
	for (; names[n]; n++) {
		kura_policy *p;
		char *text = NULL;
		int64_t end;
		ck_assert_msg(kura_policy_load(&p, &text, names[n], &err) == 0, "%s: %s", names[n], err.message);
		ck_assert_str_eq(kura_policy_name(p), names[n]);
		ck_assert_ptr_nonnull(strstr(text, "kura-policy: 1"));
		ck_assert_msg(kura_policy_end(&end, NULL, p, "sha256") == 0, "%s does not assess sha256", names[n]);
		ck_assert_int_lt(kura_policy_algorithm_end(p, "sha1"), ms("2031-01-01")); /* nobody trusts SHA-1 */
		free(text);
		kura_policy_free(p);
	}
	ck_assert_int_ge(n, 4);
	kura_policy *p = NULL;
	ck_assert_int_eq(kura_policy_load(&p, NULL, "no-such-policy", &err), KURA_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.message, KURA_DEFAULT_POLICY)); /* the message lists what there is */
}
END_TEST

START_TEST(a_store_keeps_its_policy_and_sunsets)
{
	char *dir = kura_test_tmpdir(), store[4096], file[4096];
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(file, sizeof file, "%s/test.yaml", dir);
	kura_test_write(dir, "test.yaml", good);
	kura_test_store_init(store, file, NULL);
	kura_test_now("2026-03-01T00:00:00Z");

	kura_store *st;
	kura_policy *p;
	kura_error err;
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_store_policy_sunset(st, "sha256", "2035-07-01", &err), 0);
	ck_assert_int_eq(kura_store_policy_sunset(st, "rsa-2048", "2040-01-01", &err), 0); /* later than the policy */
	ck_assert_int_eq(kura_store_policy_sunset(st, "sha256", "2035-02-30", &err), KURA_EINPUT);
	ck_assert_int_eq(kura_store_policy_sunset(st, "md5", "2030-01-01", &err), KURA_EINPUT);
	kura_store_close(st);

	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	ck_assert_msg(kura_store_policy_load(&p, st, &err) == 0, "%s", err.message);
	ck_assert_str_eq(kura_policy_name(p), "test-policy");
	int64_t end;
	const char *source;
	ck_assert_int_eq(kura_policy_end(&end, &source, p, "sha256"), 0);
	ck_assert_int_eq(end, ms("2035-07-01")); /* unsuitable from that day on */
	ck_assert_ptr_nonnull(strstr(source, "2026-03-01"));
	ck_assert_int_eq(kura_policy_algorithm_end(p, "rsa-2048"), ms("2031-01-01"));
	kura_policy_free(p);
	kura_store_close(st);

	/* damaged sunsets are an error, never ignored */
	kura_test_write(store, "sunsets.json", "{\"sha256\": {\"from\": \"soon\"}}");
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	p = NULL;
	ck_assert_int_eq(kura_store_policy_load(&p, st, &err), KURA_EIO);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(err.message, "sha256"));
	kura_store_close(st);
	kura_test_now(NULL);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, a_policy_says_when_each_algorithm_ends);
	tcase_add_loop_test(tc, a_policy_with_a_mistake_is_refused_naming_its_line, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, bytes_past_the_length_are_not_read);
	tcase_add_test(tc, sunsets_only_move_an_end_earlier);
	tcase_add_test(tc, every_shipped_policy_loads_by_name);
	tcase_add_test(tc, a_store_keeps_its_policy_and_sunsets);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
