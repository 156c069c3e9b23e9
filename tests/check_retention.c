/* Retention's arithmetic and classes (policies/retention.c): calendar dates
 * checked, years and months added as the Civil Code counts periods (a missing
 * day rolls to the 1st, the period ends the day before), every shipped class's
 * end from its events worked out here by hand, "the later of" terms with
 * alternatives, the last recorded event counting, the boundary (kept to the
 * end of the last day), and retention files with mistakes refused whole. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "policies/retention.h"
#include "testutil.h"


START_TEST(dates_are_checked_calendar_days)
{
	int32_t d;
	ck_assert_int_eq(kura_test_day("1970-01-01"), 0);
	ck_assert_int_eq(kura_test_day("2000-03-01") - kura_test_day("2000-02-28"), 2); /* 2000 is a leap year */
	ck_assert_int_eq(kura_test_day("2100-03-01") - kura_test_day("2100-02-28"), 1); /* 2100 is not */
	ck_assert_str_eq(kura_test_day_text(kura_test_day("2024-02-29")), "2024-02-29");
	const char *bad[] = {"2026-02-30", "2025-02-29", "2100-02-29", "2026-04-31", "2026-13-01", "2026-00-10",
			     "2026-01-00", "2026-1-01",  "2026-01-1",  "26-01-01",   "2026/01/01", "2026-01-01x",
			     "",           "0999-12-31", "2026-01-0a", " 2026-01-01"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(kura_date_parse(&d, bad[i]) != 0, "'%s' must be refused", bad[i]);
}
END_TEST

START_TEST(years_and_months_are_calendar_arithmetic)
{
	ck_assert_str_eq(kura_test_day_text(kura_date_add(kura_test_day("2024-02-29"), 1, 0)), "2025-03-01"); /* no Feb 29: the 1st of March */
	ck_assert_str_eq(kura_test_day_text(kura_date_add(kura_test_day("2024-02-29"), 4, 0)), "2028-02-29");
	ck_assert_str_eq(kura_test_day_text(kura_date_add(kura_test_day("2025-01-31"), 0, 1)), "2025-03-01");
	ck_assert_str_eq(kura_test_day_text(kura_date_add(kura_test_day("2025-11-30"), 0, 3)), "2026-03-01");
	ck_assert_str_eq(kura_test_day_text(kura_date_add(kura_test_day("2025-12-15"), 0, 14)), "2027-02-15");
	/* a period after D runs from D + 1 and ends the day before the corresponding day */
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2025-03-31"), 0, 2)), "2025-05-31");
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2025-06-30"), 0, 2)), "2025-08-31"); /* not Aug 30 */
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2025-02-28"), 0, 2)), "2025-04-30");
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2025-01-30"), 0, 1)), "2025-02-28"); /* no Feb 31: its last day */
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2028-02-28"), 1, 0)), "2029-02-28");
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2028-02-29"), 1, 0)), "2029-02-28");
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2026-03-15"), 25, 0)), "2051-03-15");
	ck_assert_str_eq(kura_test_day_text(kura_date_period_end(kura_test_day("2026-03-15"), 0, 0)), "2026-03-15");
}
END_TEST

static kura_retention shipped(void)
{
	kura_retention r;
	kura_error err = {0};
	ck_assert_msg(kura_retention_shipped(&r, &err) == 0, "%s", err.message);
	return r;
}

/* The end of a record of class name with events "NAME=DATE" (NULL-ended), or "kept" (indefinitely). */
static const char *end_of(const kura_retention *r, const char *name, const char *const *events)
{
	const kura_retention_class *c = kura_retention_find(r, name);
	ck_assert_msg(c != NULL, "class %s is shipped", name);
	kura_retention_event ev[8];
	char names[8][32];
	size_t n = 0;
	for (; events[n]; n++) {
		const char *eq = strchr(events[n], '=');
		snprintf(names[n], sizeof names[n], "%.*s", (int)(eq - events[n]), events[n]);
		ev[n] = (kura_retention_event){names[n], kura_test_day(eq + 1)};
	}
	kura_retention_end e;
	kura_retention_compute(&e, c, ev, n);
	return e.known ? kura_test_day_text(e.end) : "kept";
}

#define END(cls, ...) end_of(&r, cls, (const char *const[]){__VA_ARGS__, NULL})

START_TEST(every_shipped_class_ends_as_its_law_says)
{
	kura_retention r = shipped();
	/* tax: filing deadline 2 months after the fiscal year's end, then 7 (10) years from the day after it */
	ck_assert_str_eq(END("jp-tax-books", "fiscal-year-end=2025-03-31"), "2032-05-31");
	ck_assert_str_eq(END("jp-tax-books", "fiscal-year-end=2025-06-30"), "2032-08-31");
	ck_assert_str_eq(END("jp-tax-books", "fiscal-year-end=2024-02-29"), "2031-04-30");
	ck_assert_str_eq(END("jp-tax-books", "fiscal-year-end=2025-12-31"), "2033-02-28");
	ck_assert_str_eq(END("jp-tax-books", "ingest=2025-04-01"), "kept");
	ck_assert_str_eq(END("jp-tax-books-10y", "fiscal-year-end=2025-03-31"), "2035-05-31");
	ck_assert_str_eq(END("jp-dencho", "fiscal-year-end=2026-03-31"), "2033-05-31");
	ck_assert_str_eq(END("jp-construction-books", "handover=2026-01-05"), "2031-01-05");
	ck_assert_str_eq(END("jp-construction-books", "ingest=2026-01-05"), "kept");
	ck_assert_str_eq(END("jp-construction-housing", "handover=2026-01-05"), "2036-01-05");
	ck_assert_str_eq(END("jp-architect-drawings", "ingest=2026-04-01"), "2041-04-01");
	ck_assert_str_eq(END("eu-ctr-tmf", "trial-end=2026-03-15"), "2051-03-15");
	ck_assert_str_eq(END("eu-ctr-tmf", "trial-end=2028-02-29"), "2053-02-28");
	ck_assert_str_eq(END("eu-ctr-tmf", "approval=2026-03-15"), "kept");
	ck_assert_str_eq(END("eu-atmp", "trial-end=2026-03-15"), "2056-03-15");
	/* J-GCP: the later of (approval, or 3 years after discontinued) and 3 years after the trial's end */
	ck_assert_str_eq(END("j-gcp", "trial-end=2029-01-01"), "kept");
	ck_assert_str_eq(END("j-gcp", "approval=2030-06-01"), "kept");
	ck_assert_str_eq(END("j-gcp", "trial-end=2029-01-01", "approval=2030-06-01"), "2032-01-01");
	ck_assert_str_eq(END("j-gcp", "trial-end=2029-01-01", "approval=2035-01-01"), "2035-01-01");
	ck_assert_str_eq(END("j-gcp", "trial-end=2029-01-01", "discontinued=2030-01-10"), "2033-01-10");
	/* FDA: 2 years after approval, or after discontinuation: the later of those that happened */
	ck_assert_str_eq(END("us-fda-ind", "trial-end=2029-01-01"), "kept");
	ck_assert_str_eq(END("us-fda-ind", "approval=2030-06-01"), "2032-06-01");
	ck_assert_str_eq(END("us-fda-ind", "discontinued=2031-02-01"), "2033-02-01");
	ck_assert_str_eq(END("us-fda-ind", "discontinued=2031-02-01", "approval=2030-06-01"), "2033-02-01");
	/* the last recorded value of an event counts */
	ck_assert_str_eq(END("jp-construction-books", "handover=2026-01-05", "handover=2027-03-31"), "2032-03-31");
	ck_assert_str_eq(END("jp-construction-books", "handover=2027-03-31", "handover=2026-01-05"), "2031-01-05");
	kura_retention_free(&r);
}
END_TEST

/* jp-dencho declares the keys 電子帳簿保存法 asks for: the three search keys and received_at */
START_TEST(a_class_declares_its_fields)
{
	kura_retention r = shipped();
	const kura_retention_class *c = kura_retention_find(&r, "jp-dencho");
	ck_assert_ptr_nonnull(c);
	static const char *const want[][3] = {{"txn_date", "date", "1"}, {"counterparty", "text", "1"},
					      {"received_at", "date", "1"}, {"amount", "amount", "0"}};
	ck_assert_uint_eq(c->nfields, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(c->field[i].name, want[i][0]);
		ck_assert_str_eq(c->field[i].type, want[i][1]);
		ck_assert_int_eq(c->field[i].required, want[i][2][0] == '1');
	}
	ck_assert_uint_eq(kura_retention_find(&r, "jp-tax-books")->nfields, 0);
	json_t *j = kura_retention_json(&r), *f = NULL;
	for (size_t i = 0; i < json_array_size(j); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(j, i), "name")), "jp-dencho") == 0)
			f = json_object_get(json_array_get(j, i), "fields");
	ck_assert_uint_eq(json_array_size(f), 4);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 3), "type")), "amount");
	ck_assert(json_is_false(json_object_get(json_array_get(f, 3), "required")));
	json_decref(j);
	kura_retention_free(&r);
	/* a store's class may declare keys in any script */
	const char *y = "kura-retention: 1\nclasses:\n  works:\n    keep: [{from: handover, years: 5}]\n    source: x\n"
			"    fields:\n      - {name: 工事番号, type: keyword, required: true}\n";
	kura_error err = {0};
	ck_assert_msg(kura_retention_parse(&r, y, strlen(y), "own.yaml", &err) == 0, "%s", err.message);
	ck_assert_str_eq(r.c[0].field[0].name, "工事番号");
	ck_assert_int_eq(r.c[0].field[0].required, 1);
	kura_retention_free(&r);
}
END_TEST

START_TEST(a_record_is_kept_to_the_end_of_its_last_day)
{
	kura_retention r = shipped();
	kura_retention_event ev = {"handover", kura_test_day("2026-01-05")};
	kura_retention_end e;
	kura_retention_compute(&e, kura_retention_find(&r, "jp-construction-books"), &ev, 1);
	ck_assert(e.known);
	ck_assert_str_eq(e.start_event, "handover");
	ck_assert_str_eq(kura_test_day_text(e.start), "2026-01-05");
	ck_assert(!kura_retention_over(&e, kura_test_day("2031-01-04")));
	ck_assert(!kura_retention_over(&e, kura_test_day("2031-01-05")));
	ck_assert(kura_retention_over(&e, kura_test_day("2031-01-06")));
	kura_retention_compute(&e, kura_retention_find(&r, "eu-ctr-tmf"), &ev, 1);
	ck_assert(!e.known);
	ck_assert_str_eq(e.missing, "trial-end");
	ck_assert(!kura_retention_over(&e, kura_test_day("9999-12-31")));
	kura_retention_free(&r);
}
END_TEST

static const char own[] = "kura-retention: 1\n"
			  "classes:\n"
			  "  contracts:\n"
			  "    title: Contracts\n"
			  "    keep:\n"
			  "      - {from: ingest, years: 10}\n"
			  "      - any: [{from: handover, years: 3}, {from: discontinued, months: 6}]\n"
			  "    source: \"house rule 12\"\n";

START_TEST(a_store_adds_classes_but_redefines_none)
{
	kura_retention r = shipped(), mine, twice;
	kura_error err = {0};
	ck_assert_msg(kura_retention_parse(&mine, own, strlen(own), "own.yaml", &err) == 0, "%s", err.message);
	ck_assert_int_eq(kura_retention_merge(&r, &mine, &err), 0);
	const kura_retention_class *c = kura_retention_find(&r, "contracts");
	ck_assert(c && !c->shipped && c->nterms == 2 && c->term[1].nalts == 2);
	char rule[256];
	kura_retention_rule_text(rule, sizeof rule, c);
	ck_assert_str_eq(rule, "the later of ingest + 10 years and handover + 3 years or discontinued + 6 months");
	ck_assert(kura_retention_find(&r, "jp-tax-books")->shipped);
	ck_assert_int_eq(kura_retention_merge(&r, &mine, &err), KURA_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.message, "contracts is defined twice"));
	const char redefine[] = "kura-retention: 1\nclasses:\n  eu-ctr-tmf: {keep: [{from: trial-end, years: 1}], source: x}\n";
	ck_assert_int_eq(kura_retention_parse(&twice, redefine, strlen(redefine), "r.yaml", &err), 0);
	kura_retention fresh = shipped();
	ck_assert_int_eq(kura_retention_merge(&fresh, &twice, &err), KURA_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.message, "shipped class cannot be redefined"));
	kura_retention_free(&fresh);
	kura_retention_free(&twice);
	kura_retention_free(&mine);
	kura_retention_free(&r);
}
END_TEST

static const struct {
	const char *yaml;
	int line;
	const char *says;
} bad_files[] = {
	{"classes: {}\n", 0, "kura-retention: 1 is missing"},
	{"kura-retention: 1\n", 0, "classes must be a mapping"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: handover, years: 5}]}\n", 3, "needs a source"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: handovr, years: 5}], source: x}\n", 3, "from must name an event"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: handover, year: 5}], source: x}\n", 3, "'year' is not part of a rule"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: handover, years: five}], source: x}\n", 3, "years must be a whole number"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: handover, years: -5}], source: x}\n", 3, "years must be a whole number"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [], source: x}\n", 3, "keep must be a list of 1 to 4"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}, {from: ingest}, {from: ingest}, {from: ingest}, {from: ingest}], source: x}\n", 3, "keep must be a list of 1 to 4"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{any: []}], source: x}\n", 3, "any must be a list of 1 to 4 rules"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x, titel: y}\n", 3, "'titel' is not part of a class"},
	{"kura-retention: 1\nclasses:\n  A B: {keep: [{from: ingest}], source: x}\n", 3, "is no class name"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x}\n  a: {keep: [{from: ingest}], source: x}\n", 4, "given twice"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: &s x}\n", 3, "anchor or alias"},
	{"kura-retention: 1\nclasses:\n\ta: 1\n", 3, "not valid YAML"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x, fields: [{name: d, type: datum}]}\n", 3,
	 "a field's type is one of date, datetime, amount, integer, text, keyword, not 'datum'"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x, fields: [{name: 'a b', type: date}]}\n", 3,
	 "'a b' is no field name"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x, fields: [{name: d, type: date, required: yes}]}\n",
	 3, "required is true or false, not 'yes'"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x, fields: [{name: d, type: date, size: 1}]}\n", 3,
	 "'size' is not part of a field"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x, fields: [{name: d, type: date}, {name: d, type: text}]}\n",
	 3, "field 'd' is given twice"},
	{"kura-retention: 1\nclasses:\n  a: {keep: [{from: ingest}], source: x, fields: {name: d}}\n", 3,
	 "fields must be a list"},
};

START_TEST(a_file_with_a_mistake_is_refused_whole)
{
	kura_retention r;
	kura_error err = {0};
	const char *y = bad_files[_i].yaml;
	ck_assert_int_eq(kura_retention_parse(&r, y, strlen(y), "bad.yaml", &err), KURA_EINPUT);
	ck_assert_msg(strstr(err.message, bad_files[_i].says), "file %d: '%s' lacks '%s'", _i, err.message, bad_files[_i].says);
	char where[64];
	snprintf(where, sizeof where, bad_files[_i].line ? "bad.yaml line %d:" : "bad.yaml:", bad_files[_i].line);
	ck_assert_msg(strncmp(err.message, where, strlen(where)) == 0, "file %d: '%s' does not start '%s'", _i, err.message, where);
	ck_assert_int_eq(r.n, 0);
	ck_assert_ptr_null(r.c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("retention");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, dates_are_checked_calendar_days);
	tcase_add_test(tc, years_and_months_are_calendar_arithmetic);
	tcase_add_test(tc, every_shipped_class_ends_as_its_law_says);
	tcase_add_test(tc, a_class_declares_its_fields);
	tcase_add_test(tc, a_record_is_kept_to_the_end_of_its_last_day);
	tcase_add_test(tc, a_store_adds_classes_but_redefines_none);
	tcase_add_loop_test(tc, a_file_with_a_mistake_is_refused_whole, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
