/* Typed values and conditions of search (common/field_value.c, search/where.c):
 * what each type accepts and refuses, and the invariant the secondary indexes
 * rest on — encodings sort exactly as the values do — checked on values worked
 * out by hand and on many random pairs against plain arithmetic. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kura/search.h"

static int enc(unsigned char *out, size_t *len, kura_field_type t, const char *v)
{
	return kura_field_encode(out, len, t, v, 0, NULL);
}

/* -1, 0, 1: how a's encoding sorts against b's */
static int order(kura_field_type t, const char *a, const char *b)
{
	unsigned char x[KURA_FIELD_VALUE_MAX], y[KURA_FIELD_VALUE_MAX];
	size_t xl, yl;
	ck_assert_msg(enc(x, &xl, t, a) == 0, "'%s' is a %s", a, kura_field_type_name(t));
	ck_assert_msg(enc(y, &yl, t, b) == 0, "'%s' is a %s", b, kura_field_type_name(t));
	int c = memcmp(x, y, xl < yl ? xl : yl);
	c = c ? c : (xl > yl) - (xl < yl);
	return (c > 0) - (c < 0);
}

START_TEST(forms_accepted_and_refused)
{
	unsigned char e[KURA_FIELD_VALUE_MAX];
	size_t n;
	const struct {
		kura_field_type t;
		const char *v;
		int ok;
	} cases[] = {
		{KURA_FIELD_DATE, "2026-04-01", 1},      {KURA_FIELD_DATE, "2024-02-29", 1},
		{KURA_FIELD_DATE, "２０２６-０４-０１", 1}, /* full-width digits: NFKC */
		{KURA_FIELD_DATE, "2025-02-29", 0},      {KURA_FIELD_DATE, "2026-4-1", 0},
		{KURA_FIELD_DATE, "2026-04-01T00:00Z", 0}, {KURA_FIELD_DATE, "", 0},
		{KURA_FIELD_DATETIME, "2026-04-01T09:00:00+09:00", 1}, {KURA_FIELD_DATETIME, "2026-04-01T00:00Z", 1},
		{KURA_FIELD_DATETIME, "2026-04-01T00:00:00.123456Z", 1},
		{KURA_FIELD_DATETIME, "2026-04-01T00:00:00.1234567Z", 0}, /* finer than kept */
		{KURA_FIELD_DATETIME, "2026-04-01T00:00:00", 0},          /* no offset: which day? */
		{KURA_FIELD_DATETIME, "2026-04-01T24:00Z", 0},
		{KURA_FIELD_INTEGER, "-9223372036854775808", 1}, {KURA_FIELD_INTEGER, "9223372036854775807", 1},
		{KURA_FIELD_INTEGER, "9223372036854775808", 0},  {KURA_FIELD_INTEGER, "1.5", 0},
		{KURA_FIELD_INTEGER, "-", 0},
		{KURA_FIELD_AMOUNT, "120000", 1},  {KURA_FIELD_AMOUNT, "¥120,000", 1}, {KURA_FIELD_AMOUNT, "１２０，０００円", 1},
		{KURA_FIELD_AMOUNT, "1234.50 USD", 1}, {KURA_FIELD_AMOUNT, "EUR 0.000001", 1},
		{KURA_FIELD_AMOUNT, "0.0000001", 0}, /* more than 6 decimals */
		{KURA_FIELD_AMOUNT, "12,00", 0},     {KURA_FIELD_AMOUNT, "1,2345", 0}, {KURA_FIELD_AMOUNT, ",100", 0},
		{KURA_FIELD_AMOUNT, "100.", 0},      {KURA_FIELD_AMOUNT, "abc", 0},  {KURA_FIELD_AMOUNT, "100 usd", 0},
		{KURA_FIELD_AMOUNT, "¥100 USD", 0},  {KURA_FIELD_AMOUNT, "1e5", 0},
		{KURA_FIELD_AMOUNT, "999999999999999999999999999999", 1}, {KURA_FIELD_AMOUNT, "1000000000000000000000000000000", 0},
		{KURA_FIELD_TEXT, "山田商事", 1},     {KURA_FIELD_KEYWORD, "A-1", 1},
		{KURA_FIELD_KEYWORD, "\xff", 0},     /* not UTF-8 */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg((enc(e, &n, cases[i].t, cases[i].v) == 0) == cases[i].ok, "%s '%s' should be %s",
			      kura_field_type_name(cases[i].t), cases[i].v, cases[i].ok ? "accepted" : "refused");
	kura_error err = {0};
	ck_assert_int_eq(kura_field_encode(e, &n, KURA_FIELD_AMOUNT, "12,00", 0, &err), KURA_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.message, "'12,00' is not an amount"));
}
END_TEST

START_TEST(equal_values_encode_alike)
{
	ck_assert_int_eq(order(KURA_FIELD_AMOUNT, "120000", "¥120,000.00"), 0);
	ck_assert_int_eq(order(KURA_FIELD_AMOUNT, "120000", "JPY 120000"), 0);
	ck_assert_int_eq(order(KURA_FIELD_AMOUNT, "１２０，０００円", "120000"), 0);
	ck_assert_int_eq(order(KURA_FIELD_AMOUNT, "-0", "0"), 0);
	ck_assert_int_eq(order(KURA_FIELD_DATETIME, "2026-04-01T09:00+09:00", "2026-04-01T00:00:00Z"), 0);
	ck_assert_int_eq(order(KURA_FIELD_TEXT, "ﾔﾏﾀﾞ商事", "ヤマダ商事"), 0);  /* half-width katakana */
	ck_assert_int_eq(order(KURA_FIELD_TEXT, "ＡＢＣ Corp", "abc corp"), 0); /* full-width, case */
	ck_assert_int_eq(order(KURA_FIELD_TEXT, " abc ", "abc"), 0);
	ck_assert_int_ne(order(KURA_FIELD_KEYWORD, "ABC", "abc"), 0);           /* keyword: exactly */
	ck_assert_int_ne(order(KURA_FIELD_TEXT, "山田", "やまだ"), 0);            /* no reading is guessed */
}
END_TEST

START_TEST(encodings_sort_as_values)
{
	ck_assert_int_eq(order(KURA_FIELD_DATE, "0001-01-01", "9999-12-31"), -1);
	ck_assert_int_eq(order(KURA_FIELD_DATETIME, "2026-04-01T08:59:59.999999+09:00", "2026-03-31T23:59:59.999999Z"), 0);
	ck_assert_int_eq(order(KURA_FIELD_DATETIME, "1969-12-31T23:59:59Z", "1970-01-01T00:00Z"), -1);
	ck_assert_int_eq(order(KURA_FIELD_AMOUNT, "-1.5", "-1.25"), -1);
	ck_assert_int_eq(order(KURA_FIELD_AMOUNT, "0.000001", "0"), 1);
	ck_assert_int_eq(order(KURA_FIELD_TEXT, "ab", "abc"), -1); /* a prefix first */
	srand(20261207);
	for (int i = 0; i < 20000; i++) {
		long long a = (long long)(((unsigned long long)rand() << 33) ^ ((unsigned long long)rand() << 2) ^ (unsigned)rand());
		long long b = i % 3 ? a + (rand() % 2001 - 1000) : -a;
		char x[64], y[64];
		int want = (a > b) - (a < b);
		snprintf(x, sizeof x, "%lld", a), snprintf(y, sizeof y, "%lld", b);
		ck_assert_msg(order(KURA_FIELD_INTEGER, x, y) == want, "%s vs %s", x, y);
		/* amounts: a/10^6 with every decimal written out */
		snprintf(x, sizeof x, "%s%lld.%06lld", a < 0 ? "-" : "", llabs(a / 1000000), llabs(a % 1000000));
		snprintf(y, sizeof y, "%s%lld.%06lld", b < 0 ? "-" : "", llabs(b / 1000000), llabs(b % 1000000));
		ck_assert_msg(order(KURA_FIELD_AMOUNT, x, y) == want, "%s vs %s", x, y);
		/* datetimes: seconds around 1970..2100, offsets moving the instant */
		long long s = llabs(a) % 4102444800LL, t = llabs(b) % 4102444800LL;
		int oh = rand() % 24;
		char dx[64], dy[64];
		time_t ts = (time_t)(s + oh * 3600), tt = (time_t)t;
		struct tm ga, gb;
		gmtime_r(&ts, &ga), gmtime_r(&tt, &gb);
		strftime(dx, sizeof dx, "%Y-%m-%dT%H:%M:%S", &ga), strftime(dy, sizeof dy, "%Y-%m-%dT%H:%M:%S", &gb);
		snprintf(x, sizeof x, "%s+%02d:00", dx, oh), snprintf(y, sizeof y, "%sZ", dy);
		ck_assert_msg(order(KURA_FIELD_DATETIME, x, y) == (s > t) - (s < t), "%s vs %s", x, y);
		strftime(x, 11, "%Y-%m-%d", &ga), strftime(y, 11, "%Y-%m-%d", &gb);
		ck_assert_msg(order(KURA_FIELD_DATE, x, y) == (strcmp(x, y) > 0) - (strcmp(x, y) < 0), "%s vs %s", x, y);
	}
}
END_TEST

START_TEST(where_clauses)
{
	kura_where w;
	ck_assert_int_eq(kura_where_parse(&w, "amount>=100000", NULL), 0);
	ck_assert_str_eq(w.field, "amount");
	ck_assert_int_eq(w.op, KURA_WHERE_GE);
	ck_assert_str_eq(w.value, "100000");
	kura_where_clear(&w);
	ck_assert_int_eq(kura_where_parse(&w, "取引先 ^= 山田", NULL), 0);
	ck_assert_str_eq(w.field, "取引先");
	ck_assert_int_eq(w.op, KURA_WHERE_PREFIX);
	ck_assert_str_eq(w.value, "山田");
	kura_where_clear(&w);
	ck_assert_int_eq(kura_where_parse(&w, "amount is empty", NULL), 0);
	ck_assert_int_eq(w.op, KURA_WHERE_EMPTY);
	ck_assert_ptr_null(w.value);
	kura_where_clear(&w);
	ck_assert_int_eq(kura_where_parse(&w, "note=a=b", NULL), 0); /* the value may hold operators */
	ck_assert_str_eq(w.value, "a=b");
	kura_where_clear(&w);
	const char *bad[] = {"amount", "=5", "amount=", "amount~5", "amount is", ">=3", "amount is emptyish"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		kura_error err = {0};
		ck_assert_msg(kura_where_parse(&w, bad[i], &err) == KURA_EINPUT, "'%s' must be refused", bad[i]);
		ck_assert_ptr_null(w.field);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("values");
	tcase_add_test(tc, forms_accepted_and_refused);
	tcase_add_test(tc, equal_values_encode_alike);
	tcase_add_test(tc, encodings_sort_as_values);
	tcase_add_test(tc, where_clauses);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
