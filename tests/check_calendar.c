/* Japan's business days (policies/calendar.c): the shipped holidays' years, what
 * is and is not a business day (weekends, 祝日, 振替休日, 国民の休日, the 2019
 * days), counting N business days from a receipt (day 0) across Golden Week,
 * the year's end and a substitute holiday, a store's own closed days and its
 * 事務処理規程 (2 months, then 7 business days), years the calendar does not
 * know refused with a message saying how to add them, and store files with
 * mistakes refused naming the line. Every expected day is worked out by hand
 * in the comments. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "policies/calendar.h"
#include "policies/retention.h"
#include "testutil.h"


static kura_calendar *calendar(const char *store_file)
{
	kura_calendar *c = NULL;
	kura_error err = {0};
	ck_assert_msg(kura_calendar_new(&c, &err) == 0, "%s", err.message);
	if (store_file)
		ck_assert_msg(kura_calendar_add_store(c, store_file, strlen(store_file), "calendar.yaml", &err) == 0, "%s",
			      err.message);
	return c;
}

/* "business" or why not */
static const char *why(kura_calendar *c, const char *date)
{
	int business = -1;
	const char *reason = NULL;
	kura_error err = {0};
	ck_assert_msg(kura_calendar_is_business(&business, &reason, c, kura_test_day(date), &err) == 0, "%s", err.message);
	return business ? "business" : reason;
}

static const char *plus(kura_calendar *c, const char *date, int n)
{
	int32_t out;
	kura_error err = {0};
	ck_assert_msg(kura_calendar_add_business(&out, c, kura_test_day(date), n, &err) == 0, "%s", err.message);
	return kura_test_day_text(out);
}

static const char *deadline(kura_calendar *c, const char *received)
{
	int32_t out;
	kura_error err = {0};
	ck_assert_msg(kura_calendar_deadline(&out, c, kura_test_day(received), &err) == 0, "%s", err.message);
	return kura_test_day_text(out);
}

START_TEST(the_shipped_days_are_not_business_days)
{
	kura_calendar *c = calendar(NULL);
	int first, last;
	kura_calendar_shipped_years(c, &first, &last);
	ck_assert_int_eq(first, 2000);
	ck_assert_int_eq(last, 2027);
	ck_assert_str_eq(why(c, "2026-04-29"), "昭和の日");
	ck_assert_str_eq(why(c, "2026-05-04"), "みどりの日");
	ck_assert_str_eq(why(c, "2026-05-06"), "休日"); /* 振替休日 for 5/3, a Sunday */
	ck_assert_str_eq(why(c, "2026-09-22"), "休日"); /* 国民の休日 between 敬老の日 and 秋分の日 */
	ck_assert_str_eq(why(c, "2019-04-30"), "休日");
	ck_assert_str_eq(why(c, "2019-05-01"), "休日（祝日扱い）");
	ck_assert_str_eq(why(c, "2019-10-22"), "休日（祝日扱い）");
	ck_assert_str_eq(why(c, "2020-07-24"), "スポーツの日"); /* the Olympic move */
	ck_assert_str_eq(why(c, "2020-10-12"), "business");  /* where スポーツの日 would have been */
	ck_assert_str_eq(why(c, "2026-05-02"), "Saturday");
	ck_assert_str_eq(why(c, "2026-05-03"), "Sunday"); /* 憲法記念日 on a Sunday: a weekend day first */
	ck_assert_str_eq(why(c, "2026-05-07"), "business");
	ck_assert_str_eq(why(c, "2026-12-29"), "business"); /* the law knows no year-end days */
	kura_calendar_free(c);
}
END_TEST

START_TEST(business_days_count_from_the_receipt_as_day_0)
{
	kura_calendar *c = calendar(NULL);
	ck_assert_str_eq(plus(c, "2026-04-06", 0), "2026-04-06");
	ck_assert_str_eq(plus(c, "2026-04-06", 1), "2026-04-07");
	ck_assert_str_eq(plus(c, "2026-04-10", 1), "2026-04-13"); /* Friday: Monday */
	/* Golden Week: Fri 4/24; 27 28 (29 昭和の日) 30, 5/1 (2-6) 7 8 11 */
	ck_assert_str_eq(deadline(c, "2026-04-24"), "2026-05-11");
	/* received on a holiday (Sunday 5/3): it is day 0 all the same; 7 8 11 12 13 14 15 */
	ck_assert_str_eq(deadline(c, "2026-05-03"), "2026-05-15");
	/* the year's end: Fri 12/25; 28 29 30 31 (1/1 元日, 2-3 weekend) 4 5 6 */
	ck_assert_str_eq(deadline(c, "2026-12-25"), "2027-01-06");
	/* a substitute holiday: Fri 2026-09-18; (21 敬老 22 休日 23 秋分) 24 25 28 29 30 10/1 2 */
	ck_assert_str_eq(deadline(c, "2026-09-18"), "2026-10-02");
	/* 2019's ten days: Fri 4/26; (4/27-5/6) 7 8 9 10 13 14 15 */
	ck_assert_str_eq(deadline(c, "2019-04-26"), "2019-05-15");
	int n = -1;
	kura_error err = {0};
	ck_assert_int_eq(kura_calendar_business_between(&n, c, kura_test_day("2026-04-24"), kura_test_day("2026-05-11"), &err), 0);
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(kura_calendar_business_between(&n, c, kura_test_day("2026-04-24"), kura_test_day("2026-05-06"), &err), 0);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(kura_calendar_business_between(&n, c, kura_test_day("2026-05-11"), kura_test_day("2026-05-01"), &err), 0);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(kura_calendar_jimu_shori_kitei(c), 0);
	kura_calendar_free(c);
}
END_TEST

START_TEST(a_store_closes_its_own_days_and_may_have_a_jimu_shori_kitei)
{
	kura_calendar *c = calendar("kura-calendar: 1\n"
				    "jimu-shori-kitei: true\n"
				    "closed-every-year: {\"12-29\": 年末休業, \"12-30\": 年末休業, \"12-31\": 年末休業,"
				    " \"01-02\": 年始休業, \"01-03\": 年始休業}\n"
				    "closed:\n  2026-08-14: 夏季休業\n");
	ck_assert_str_eq(why(c, "2026-12-29"), "年末休業");
	ck_assert_str_eq(why(c, "2027-01-02"), "Saturday");
	ck_assert_str_eq(why(c, "2025-12-30"), "年末休業");
	ck_assert_str_eq(why(c, "2026-08-14"), "夏季休業");
	ck_assert_str_eq(why(c, "2027-08-13"), "business");
	ck_assert_int_eq(kura_calendar_jimu_shori_kitei(c), 1);
	/* 2 months after 4/10 end on 6/10 (Wed); then 11 12 15 16 17 18 19 */
	ck_assert_str_eq(deadline(c, "2026-04-10"), "2026-06-19");
	/* 2 months after 10/23 end on 12/23 (Wed); then 24 25 28 (29-31 closed, 1/1 元日, 2-3 closed) 4 5 6 7 */
	ck_assert_str_eq(deadline(c, "2026-10-23"), "2027-01-07");
	/* 2 months after 6/12 end on 8/12 (Wed); then 13 (14 closed) 17 18 19 20 21 24 */
	ck_assert_str_eq(deadline(c, "2026-06-12"), "2026-08-24");
	kura_calendar_free(c);
	/* without the 事務処理規程 but with the year's end closed: Fri 12/25; 28 (29-3) 4 5 6 7 8 (11 成人の日) 12 */
	c = calendar("kura-calendar: 1\nclosed-every-year: {\"12-29\": a, \"12-30\": a, \"12-31\": a, \"01-02\": a, \"01-03\": a}\n");
	ck_assert_str_eq(deadline(c, "2026-12-25"), "2027-01-12");
	kura_calendar_free(c);
}
END_TEST

START_TEST(a_year_without_holidays_is_refused_never_guessed)
{
	kura_calendar *c = calendar(NULL);
	int32_t out;
	int business;
	kura_error err = {0};
	/* Fri 2027-12-24: 27 28 29 30 31, then 2028, which kura does not ship */
	ck_assert_int_eq(kura_calendar_deadline(&out, c, kura_test_day("2027-12-24"), &err), KURA_EINPUT);
	ck_assert_msg(strstr(err.message, "no national holidays for 2028 (it ships 2000 to 2027)") &&
			      strstr(err.message, "'holidays:' in STORE/calendar.yaml"),
		      "%s", err.message);
	ck_assert_int_eq(kura_calendar_is_business(&business, NULL, c, kura_test_day("1999-12-31"), &err), KURA_EINPUT);
	ck_assert_msg(strstr(err.message, "for 1999"), "%s", err.message);
	kura_calendar_free(c);
	/* a store gives 2028's holidays: known from its 元日 on */
	c = calendar("kura-calendar: 1\nholidays:\n  2028-01-01: 元日\n  2028-01-10: 成人の日\n");
	ck_assert_str_eq(deadline(c, "2027-12-24"), "2028-01-04"); /* 27 28 29 30 31 (1/1-2 weekend) 3 4 */
	ck_assert_str_eq(why(c, "2028-01-10"), "成人の日");
	kura_calendar_free(c);
}
END_TEST

static const struct {
	const char *yaml;
	int line;
	const char *says;
} bad_files[] = {
	{"kura-calendar: 2\n", 1, "kura-calendar: 1 is missing"},
	{"closed: {}\n", 0, "kura-calendar: 1 is missing"},
	{"kura-calendar: 1\nclosd: {}\n", 2, "'closd' is not part of a calendar file"},
	{"kura-calendar: 1\njimu-shori-kitei: yes\n", 2, "jimu-shori-kitei is true or false, not 'yes'"},
	{"kura-calendar: 1\nclosed:\n  2026-02-30: x\n", 3, "'2026-02-30' is no date"},
	{"kura-calendar: 1\nclosed: [2026-08-14]\n", 2, "closed is a mapping of dates to names"},
	{"kura-calendar: 1\nclosed-every-year:\n  \"12-32\": x\n", 3, "'12-32' is no day of the year"},
	{"kura-calendar: 1\nclosed-every-year:\n  2026-12-29: x\n", 3, "is no day of the year"},
	{"kura-calendar: 1\nholidays:\n  2028-01-01: [a]\n", 3, "a day's name is text"},
};

START_TEST(a_store_file_with_a_mistake_is_refused)
{
	kura_calendar *c = calendar(NULL);
	kura_error err = {0};
	const char *y = bad_files[_i].yaml;
	ck_assert_int_eq(kura_calendar_add_store(c, y, strlen(y), "calendar.yaml", &err), KURA_EINPUT);
	ck_assert_msg(strstr(err.message, bad_files[_i].says), "file %d: '%s' lacks '%s'", _i, err.message, bad_files[_i].says);
	char where[64];
	snprintf(where, sizeof where, bad_files[_i].line ? "calendar.yaml line %d:" : "calendar.yaml:", bad_files[_i].line);
	ck_assert_msg(strncmp(err.message, where, strlen(where)) == 0, "file %d: '%s' does not start '%s'", _i, err.message,
		      where);
	kura_calendar_free(c);
}
END_TEST

START_TEST(a_holiday_list_with_a_mistake_is_refused)
{
	kura_calendar *c = calendar(NULL);
	kura_error err = {0};
	const char *csv = "date,name\n2028-01-01,元日\n2028-02-30,x\n";
	ck_assert_int_eq(kura_calendar_add_csv(c, csv, strlen(csv), "h.csv", &err), KURA_EINPUT);
	ck_assert_str_eq(err.message, "h.csv line 3: '2028-02-30' is no date (YYYY-MM-DD)");
	csv = "2028-01-01;元日\n";
	ck_assert_int_eq(kura_calendar_add_csv(c, csv, strlen(csv), "h.csv", &err), KURA_EINPUT);
	ck_assert_str_eq(err.message, "h.csv line 1: a line is YYYY-MM-DD,NAME");
	kura_calendar_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("calendar");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, the_shipped_days_are_not_business_days);
	tcase_add_test(tc, business_days_count_from_the_receipt_as_day_0);
	tcase_add_test(tc, a_store_closes_its_own_days_and_may_have_a_jimu_shori_kitei);
	tcase_add_test(tc, a_year_without_holidays_is_refused_never_guessed);
	tcase_add_loop_test(tc, a_store_file_with_a_mistake_is_refused, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
	tcase_add_test(tc, a_holiday_list_with_a_mistake_is_refused);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
