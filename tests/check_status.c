/* A store's status (renewal/status.c, kura/status.h) and the daemon's alerts
 * (renewal/alert.c) on a real store sealed by its embedded TSA, the clock
 * moved with KURA_NOW: evidence valid, then AT RISK from the planner's due
 * time with the date it breaks, overdue a week later, broken after the TSA
 * certificate's end; what the state file says (a scrub's damage, a TSA
 * failing) becomes an attention item naming the command; alerts come once,
 * again after their back-off (an hour, doubling), at once when worse, and once
 * when they clear. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/state.h"
#include "kura/clock.h"
#include "kura/status.h"
#include "renewal/alert.h"
#include "testutil.h"

#define DAY_MS 86400000LL
#define NOW "2026-01-01T00:00:00Z"
#define TSA_DAYS 365 /* the certificate ends 2027-01-01; with a 30-day margin due 2026-12-02 */

static char *dir;
static char store[4096];

static void setup(void)
{
	static const char *const texts[] = {"one\n", "two\n", "three\n", "four\n"};
	static const char *const names[] = {"1.txt", "2.txt", "3.txt", "4.txt"};
	char policy[4200], ids[4 * KURA_ID_LEN];
	kura_tsa_options to = {.name = "status", .tsa_days = TSA_DAYS};
	kura_store *st;
	kura_seal_result res;
	kura_error err;
	kura_test_now(NOW);
	dir = kura_test_tmpdir();
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(policy, sizeof policy, "%s/p.yaml", dir);
	kura_test_write(dir, "p.yaml", "kura-policy: 1\nname: t\nmargins: {certificate-days: 30, algorithm-days: 30}\n"
				       "algorithms:\n  sha256: {until: null, source: s}\n  ec-p256: {until: null, source: s}\n");
	kura_test_store_init(store, policy, &to);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	kura_test_ingest(st, texts, names, 3, ids);
	kura_test_seal(st, &res);
	kura_test_ingest(st, texts + 3, names + 3, 1, ids + 3 * KURA_ID_LEN);
	kura_store_close(st);
}

static void teardown(void)
{
	kura_test_rmdir(dir);
	kura_test_now(NULL);
}

static json_t *status_at(const char *now)
{
	kura_store *st;
	kura_error err;
	json_t *s;
	kura_test_now(now);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_READ, &err), 0);
	ck_assert_msg(kura_status(&s, st, &err) == 0, "%s", err.message);
	kura_store_close(st);
	return s;
}

static long long num(json_t *s, const char *section, const char *key)
{
	return (long long)json_integer_value(json_object_get(json_object_get(s, section), key));
}

static const char *text(json_t *s, const char *section, const char *key)
{
	return json_string_value(json_object_get(json_object_get(s, section), key)) ?: "(none)";
}

/* The attention item of that key, or NULL. */
static json_t *item(json_t *s, const char *key)
{
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(s, "attention"), i, it)
		if (strcmp(json_string_value(json_object_get(it, "key")), key) == 0)
			return it;
	return NULL;
}

START_TEST(counts_and_valid_evidence)
{
	json_t *s = status_at(NOW);
	ck_assert_int_eq(num(s, "objects", "records"), 4);
	ck_assert_int_eq(num(s, "objects", "versions"), 4);
	ck_assert_int_eq(num(s, "objects", "pending"), 1);
	ck_assert_int_eq(num(s, "objects", "ingested_30d"), (long long)strlen("one\ntwo\nthree\nfour\n"));
	ck_assert_int_eq(num(s, "evidence", "valid"), 3);
	ck_assert_int_eq(num(s, "evidence", "at_risk") + num(s, "evidence", "overdue") + num(s, "evidence", "broken"), 0);
	ck_assert_str_eq(text(s, "next_renewal", "due"), "2026-12-02T00:00:00Z");
	ck_assert_msg(json_is_true(json_object_get(s, "healthy")), "%s", json_dumps(json_object_get(s, "attention"), 0));
	ck_assert_ptr_nonnull(item(s, "pending")); /* worth knowing, not unhealthy */
	json_t *tsa = json_array_get(json_object_get(s, "tsas"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(tsa, "name")), "embedded TSA");
	ck_assert_str_eq(json_string_value(json_object_get(tsa, "last_success")), NOW);
	ck_assert_str_eq(json_string_value(json_object_get(tsa, "cert_end")), "2027-01-01T00:00:00Z");
	ck_assert(json_is_true(json_object_get(tsa, "root_trusted")));
	ck_assert(json_is_false(json_object_get(tsa, "failing")));
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(tsa, "root_sha256"))), 64);
	json_decref(s);
}
END_TEST

START_TEST(at_risk_from_the_due_date_then_overdue_then_broken)
{
	json_t *s = status_at("2026-12-02T00:00:00Z");
	ck_assert_int_eq(num(s, "evidence", "at_risk"), 3);
	ck_assert_str_eq(text(s, "evidence", "at_risk_breaks"), "2027-01-01T00:00:00Z");
	ck_assert(json_is_false(json_object_get(s, "healthy")));
	json_t *it = item(s, "evidence-at-risk");
	ck_assert_ptr_nonnull(it);
	ck_assert_str_eq(json_string_value(json_object_get(it, "severity")), "warning");
	ck_assert_msg(strstr(json_string_value(json_object_get(it, "message")), "AT RISK") &&
			      strstr(json_string_value(json_object_get(it, "message")), "2027-01-01"),
		      "%s", json_string_value(json_object_get(it, "message")));
	char cmd[4300];
	snprintf(cmd, sizeof cmd, "kura renew %s", store);
	ck_assert_str_eq(json_string_value(json_object_get(it, "command")), cmd);
	json_t *chain = json_array_get(json_object_get(json_object_get(s, "evidence"), "chains"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(chain, "state")), "at_risk");
	ck_assert_str_eq(json_string_value(json_object_get(chain, "breaks")), "2027-01-01T00:00:00Z");
	ck_assert_int_eq(json_integer_value(json_object_get(chain, "objects")), 3);
	json_decref(s);

	s = status_at("2026-12-09T00:00:00Z"); /* a week after the due date */
	ck_assert_int_eq(num(s, "evidence", "at_risk"), 0);
	ck_assert_int_eq(num(s, "evidence", "overdue"), 3);
	ck_assert_str_eq(json_string_value(json_object_get(item(s, "evidence-at-risk"), "severity")), "error");
	json_decref(s);

	s = status_at("2027-01-01T00:00:00Z"); /* the TSA certificate has ended */
	ck_assert_int_eq(num(s, "evidence", "broken"), 3);
	ck_assert_int_eq(num(s, "evidence", "overdue"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(item(s, "evidence-broken"), "severity")), "critical");
	json_decref(s);
}
END_TEST

static json_t *fields(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	ck_assert_msg(j != NULL, "%s", jerr.text);
	return j;
}

START_TEST(the_state_file_becomes_attention)
{
	kura_error err;
	kura_store *st;
	const char *urls[] = {"http://tsa.invalid/"};
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_store_set_tsa_urls(st, urls, 1, &err), 0);
	kura_store_close(st);
	json_t *f = fields("{\"last\": \"2026-01-01T00:00:00Z\", \"result\": \"damaged\", \"damaged\": 2}");
	ck_assert_int_eq(kura_state_merge(store, "scrub", NULL, f, &err), 0);
	json_decref(f);
	f = fields("{\"last_failure\": \"2026-01-01T00:00:00Z\", \"failure\": \"self-signed certificate in certificate chain\"}");
	ck_assert_int_eq(kura_state_merge(store, "tsa", "http://tsa.invalid/", f, &err), 0);
	json_decref(f);
	json_t *s = status_at(NOW);
	ck_assert(json_is_false(json_object_get(s, "healthy")));
	ck_assert_str_eq(json_string_value(json_object_get(item(s, "scrub-damage"), "severity")), "critical");
	json_t *t = item(s, "tsa-failing:http://tsa.invalid/");
	ck_assert_ptr_nonnull(t);
	ck_assert_msg(strstr(json_string_value(json_object_get(t, "command")), "trust add") &&
			      strstr(json_string_value(json_object_get(t, "command")), "--tsa ROOT.pem"),
		      "%s", json_string_value(json_object_get(t, "command")));
	/* the embedded TSA, no longer used, is history beside it */
	json_t *old = json_array_get(json_object_get(s, "tsas"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(old, "name")), "embedded TSA");
	ck_assert(json_is_false(json_object_get(old, "configured")));
	ck_assert(json_is_true(json_object_get(old, "root_trusted")));
	json_decref(s);
	/* a failure of a TSA the store no longer uses is no longer its concern */
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_store_set_tsa_urls(st, NULL, 0, &err), 0);
	kura_store_close(st);
	s = status_at(NOW);
	ck_assert_ptr_null(item(s, "tsa-failing:http://tsa.invalid/"));
	json_decref(s);
}
END_TEST

/* A TSA whose last token chains to a root the store does not trust: the token
 * of another store's embedded TSA noted for the store's (remote) TSA. */
START_TEST(a_tsa_with_an_untrusted_root)
{
	static const char *const texts[] = {"x\n"};
	static const char *const names[] = {"x.txt"};
	char other[4200], ids[KURA_ID_LEN];
	kura_tsa_options to = {.name = "other"};
	kura_store *st;
	kura_seal_result res;
	kura_error err;
	json_t *state;
	const char *urls[] = {"http://tsa.invalid/"};
	snprintf(other, sizeof other, "%s/other", dir);
	kura_test_store_init(other, NULL, &to);
	ck_assert_int_eq(kura_store_open(&st, other, KURA_STORE_WRITE, &err), 0);
	kura_test_ingest(st, texts, names, 1, ids);
	kura_test_seal(st, &res);
	kura_store_close(st);
	ck_assert_int_eq(kura_state_read(&state, other, &err), 0);
	json_t *known = json_object_get(json_object_get(state, "tsa"), "embedded TSA");
	ck_assert_ptr_nonnull(known);
	ck_assert_int_eq(kura_state_merge(store, "tsa", "http://tsa.invalid/", known, &err), 0);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_store_set_tsa_urls(st, urls, 1, &err), 0);
	kura_store_close(st);
	json_t *s = status_at(NOW);
	json_t *t = json_array_get(json_object_get(s, "tsas"), 0);
	ck_assert(json_is_false(json_object_get(t, "root_trusted")));
	json_t *it = item(s, "tsa-untrusted:http://tsa.invalid/");
	ck_assert_ptr_nonnull(it);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(it, "details"), "root_sha256")),
			 json_string_value(json_object_get(known, "root_sha256")));
	ck_assert_msg(strstr(json_string_value(json_object_get(it, "command")), "trust add"), "%s",
		      json_string_value(json_object_get(it, "command")));
	json_decref(s);
	json_decref(state);
}
END_TEST

/* The alerts a daemon round would send, with the clock at now. */
static json_t *sent;

static void collect(void *ud, json_t *event, const char *command)
{
	(void)ud;
	ck_assert_ptr_null(command); /* none given, none in config.json */
	json_array_append(sent, event);
}

static size_t round_at(const char *now, int rc, const char *kind, const char *what)
{
	kura_daemon_options o = {.alert = collect};
	size_t n = 0, i;
	json_t *e;
	kura_test_now(now);
	json_array_clear(sent);
	kura_alert_round(store, rc, "no TSA gave a usable time-stamp", &o);
	json_array_foreach(sent, i, e)
		n += strcmp(json_string_value(json_object_get(e, "kind")), kind) == 0 &&
		     strcmp(json_string_value(json_object_get(e, "event")), what) == 0;
	return n;
}

START_TEST(alerts_back_off_and_clear)
{
	sent = json_array();
	ck_assert_uint_eq(round_at("2026-03-01T00:00:00Z", KURA_EIO, "round-failed", "alert"), 1);
	ck_assert_uint_eq(json_array_size(sent), 1);                 /* nothing else is wrong */
	ck_assert_uint_eq(round_at("2026-03-01T00:30:00Z", KURA_EIO, "round-failed", "repeat"), 0);
	ck_assert_uint_eq(json_array_size(sent), 0);                 /* an hour's back-off */
	ck_assert_uint_eq(round_at("2026-03-01T01:00:00Z", KURA_EIO, "round-failed", "repeat"), 1);
	ck_assert_uint_eq(round_at("2026-03-01T02:30:00Z", KURA_EIO, "round-failed", "repeat"), 0); /* now two hours */
	ck_assert_uint_eq(round_at("2026-03-01T03:00:00Z", KURA_EIO, "round-failed", "repeat"), 1);
	/* the state file remembers: a daemon started again does not alert at once */
	ck_assert_uint_eq(round_at("2026-03-01T03:10:00Z", KURA_EIO, "round-failed", "alert"), 0);
	ck_assert_uint_eq(round_at("2026-03-01T03:20:00Z", 0, "round-failed", "cleared"), 1);
	ck_assert_uint_eq(round_at("2026-03-01T03:30:00Z", 0, "round-failed", "cleared"), 0);
	ck_assert_uint_eq(json_array_size(sent), 0);
	/* evidence at risk, then overdue: worse at once, under the same key */
	ck_assert_uint_eq(round_at("2026-12-03T00:00:00Z", 0, "evidence-at-risk", "alert"), 1);
	ck_assert_uint_eq(round_at("2026-12-09T00:10:00Z", 0, "evidence-overdue", "worse"), 1);
	json_t *s = NULL;
	kura_error err;
	ck_assert_int_eq(kura_state_read(&s, store, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "daemon"), "result")), "ok");
	json_decref(s);
	json_decref(sent);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("status");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, counts_and_valid_evidence);
	tcase_add_test(tc, at_risk_from_the_due_date_then_overdue_then_broken);
	tcase_add_test(tc, the_state_file_becomes_attention);
	tcase_add_test(tc, a_tsa_with_an_untrusted_root);
	tcase_add_test(tc, alerts_back_off_and_clear);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
