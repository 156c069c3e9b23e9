/* Japan's business days (calendar.h says the store file and THE COUNTING,
 * which is enforced here and only here). The days a calendar knows are kept
 * sorted; a year is known once its 元日 (January 1st) is among the national
 * holidays, and asking about any other year is an error, never a guess. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/calendar.h"
#include "policies/retention.h"
#include "policies/yaml_doc.h"

extern const char kura_shipped_jp_holidays[];

#define NAME_MAX_BYTES 96
#define MAX_DAYS 100000 /* holidays and closed days together: about 250 years of both */
#define SEARCH_LIMIT 800 /* days to look for one business day before giving up */

enum { KIND_HOLIDAY, KIND_CLOSED };

struct day_entry {
	int32_t day;
	int kind;
	char name[NAME_MAX_BYTES];
};

struct kura_calendar {
	struct day_entry *days; /* sorted by day once `sorted` */
	size_t n, cap;
	int sorted;
	struct {
		int month, mday;
		char name[NAME_MAX_BYTES];
	} yearly[366];
	size_t nyearly;
	int kitei;
	int first, last; /* the shipped years */
};

static int cmp_day(const void *a, const void *b)
{
	const struct day_entry *x = a, *y = b;
	return x->day < y->day ? -1 : x->day > y->day;
}

static int add_day(kura_calendar *c, int32_t day, int kind, const char *name, size_t nlen, kura_error *err)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 512;
		if (c->n == MAX_DAYS)
			return kura_error_set(err, KURA_EINPUT, "more than %d holidays and closed days", MAX_DAYS);
		cap = cap < MAX_DAYS ? cap : MAX_DAYS;
		struct day_entry *d = realloc(c->days, cap * sizeof *d);
		if (!d)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		c->days = d;
		c->cap = cap;
	}
	struct day_entry *e = &c->days[c->n++];
	e->day = day;
	e->kind = kind;
	snprintf(e->name, sizeof e->name, "%.*s", (int)(nlen < sizeof e->name ? nlen : sizeof e->name - 1), name);
	c->sorted = 0;
	return 0;
}

static const struct day_entry *find_day(const kura_calendar *c, int32_t day, int kind)
{
	struct day_entry key = {.day = day};
	const struct day_entry *e = c->n ? bsearch(&key, c->days, c->n, sizeof key, cmp_day) : NULL;
	if (!e)
		return NULL;
	while (e > c->days && e[-1].day == day) /* the first of equal days */
		e--;
	for (; e < c->days + c->n && e->day == day; e++)
		if (e->kind == kind)
			return e;
	return NULL;
}

static void sort_days(kura_calendar *c)
{
	if (!c->sorted && c->n)
		qsort(c->days, c->n, sizeof *c->days, cmp_day);
	c->sorted = 1;
}

static int year_known(const kura_calendar *c, int year)
{
	int32_t jan1;
	char buf[11];
	snprintf(buf, sizeof buf, "%04d-01-01", year);
	return year >= 1000 && year <= 9999 && kura_date_parse(&jan1, buf) == 0 && find_day(c, jan1, KIND_HOLIDAY);
}

/* ---------------------------------------------------------------- the shipped list and CSV */

static int csv_line(kura_calendar *c, const char *s, size_t len, const char *origin, int line, kura_error *err)
{
	char date[11];
	int32_t day;
	if (len == 0 || s[0] == '#' || (len == 9 && memcmp(s, "date,name", 9) == 0))
		return 0;
	if (len < 12 || len - 11 >= NAME_MAX_BYTES || s[10] != ',')
		return kura_error_set(err, KURA_EINPUT, "%s line %d: a line is YYYY-MM-DD,NAME", origin, line);
	memcpy(date, s, 10);
	date[10] = '\0';
	if (kura_date_parse(&day, date) != 0)
		return kura_error_set(err, KURA_EINPUT, "%s line %d: '%s' is no date (YYYY-MM-DD)", origin, line, date);
	return add_day(c, day, KIND_HOLIDAY, s + 11, len - 11, err);
}

int kura_calendar_add_csv(kura_calendar *c, const char *text, size_t len, const char *origin, kura_error *err)
{
	int line = 1, rc = 0;
	for (size_t at = 0; rc == 0 && at < len; line++) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
		if (n && text[at + n - 1] == '\r')
			n--;
		rc = csv_line(c, text + at, n, origin, line, err);
		at = end + 1;
	}
	sort_days(c);
	return rc;
}

int kura_calendar_new(kura_calendar **out, kura_error *err)
{
	kura_calendar *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc = kura_calendar_add_csv(c, kura_shipped_jp_holidays, strlen(kura_shipped_jp_holidays),
				       "policies/jp-holidays.csv", err);
	if (rc == 0 && c->n == 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "the shipped holidays are empty");
	if (rc != 0) {
		kura_calendar_free(c);
		return rc;
	}
	int m, d;
	kura_date_civil(c->days[0].day, &c->first, &m, &d);
	kura_date_civil(c->days[c->n - 1].day, &c->last, &m, &d);
	*out = c;
	return 0;
}

void kura_calendar_free(kura_calendar *c)
{
	if (!c)
		return;
	free(c->days);
	free(c);
}

/* ---------------------------------------------------------------- a store's file */

/* Each pair of a mapping of DATE: NAME (mmdd: MM-DD) as a day of kind. */
static int read_days(kura_calendar *c, struct kura_yaml *y, yaml_node_t *map, const char *key, int kind, int mmdd)
{
	if (!map)
		return 0;
	if (map->type != YAML_MAPPING_NODE)
		return kura_yaml_bad(y, map, "%s is a mapping of dates to names (2026-08-14: 夏季休業)", key);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key), *v = yaml_document_get_node(&y->doc, p->value);
		const char *date = kura_yaml_scalar(k), *name = kura_yaml_scalar(v);
		char full[16];
		int32_t day;
		if (!name || strlen(name) >= NAME_MAX_BYTES)
			return kura_yaml_bad(y, v ? v : k, "a day's name is text of at most 95 bytes (%s)", key);
		snprintf(full, sizeof full, "%s%s", mmdd ? "2000-" : "", date ? date : "");
		if (!date || strlen(date) != (mmdd ? 5u : 10u) || kura_date_parse(&day, full) != 0)
			return kura_yaml_bad(y, k, mmdd ? "'%s' is no day of the year (MM-DD, e.g. \"12-29\")"
						      : "'%s' is no date (YYYY-MM-DD)", date ? date : "?");
		if (!mmdd) {
			int rc = add_day(c, day, kind, name, strlen(name), y->err);
			if (rc != 0)
				return rc;
			continue;
		}
		if (c->nyearly == sizeof c->yearly / sizeof c->yearly[0])
			return kura_yaml_bad(y, k, "more days than a year has in %s", key);
		c->yearly[c->nyearly].month = atoi(date);
		c->yearly[c->nyearly].mday = atoi(date + 3);
		snprintf(c->yearly[c->nyearly++].name, NAME_MAX_BYTES, "%s", name);
	}
	return 0;
}

static int read_store(kura_calendar *c, struct kura_yaml *y)
{
	static const char *const keys[] = {"kura-calendar", "jimu-shori-kitei", "closed-every-year", "closed", "holidays", NULL};
	yaml_node_t *root = yaml_document_get_root_node(&y->doc), *n = NULL;
	const char *s;
	if (!root || root->type != YAML_MAPPING_NODE)
		return kura_yaml_bad(y, NULL, "a calendar file is a YAML mapping starting kura-calendar: 1%s", "");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		size_t i = 0;
		while (kura_yaml_scalar(k) && keys[i] && strcmp(keys[i], kura_yaml_scalar(k)) != 0)
			i++;
		if (!kura_yaml_scalar(k) || !keys[i])
			return kura_yaml_bad(y, k, "'%s' is not part of a calendar file (kura-calendar, jimu-shori-kitei, "
						   "closed-every-year, closed, holidays)", kura_yaml_scalar(k) ? kura_yaml_scalar(k) : "?");
	}
	int rc = kura_yaml_lookup_scalar(&s, &n, y, root, "kura-calendar");
	if (rc == 0 && (!s || strcmp(s, "1") != 0))
		rc = kura_yaml_bad(y, n, "kura-calendar: 1 is missing (this kura reads calendar format 1)%s", "");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&s, &n, y, root, "jimu-shori-kitei");
	if (rc == 0 && s && strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
		rc = kura_yaml_bad(y, n, "jimu-shori-kitei is true or false, not '%s'", s);
	if (rc == 0)
		c->kitei = s && strcmp(s, "true") == 0;
	const char *lists[] = {"closed-every-year", "closed", "holidays"};
	for (int i = 0; rc == 0 && i < 3; i++)
		if ((rc = kura_yaml_lookup(&n, y, root, lists[i])) == 0)
			rc = read_days(c, y, n, lists[i], i == 2 ? KIND_HOLIDAY : KIND_CLOSED, i == 0);
	return rc;
}

int kura_calendar_add_store(kura_calendar *c, const char *text, size_t len, const char *origin, kura_error *err)
{
	struct kura_yaml y;
	int rc = kura_yaml_load(&y, text, len, origin, err);
	if (rc == 0)
		rc = read_store(c, &y);
	kura_yaml_free(&y);
	sort_days(c);
	return rc;
}

int kura_calendar_jimu_shori_kitei(const kura_calendar *c)
{
	return c->kitei;
}

void kura_calendar_shipped_years(const kura_calendar *c, int *first, int *last)
{
	*first = c->first;
	*last = c->last;
}

/* ---------------------------------------------------------------- counting */

int kura_calendar_is_business(int *business, const char **why, const kura_calendar *c, int32_t day, kura_error *err)
{
	static const char *const weekday[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
	int y, m, d, wd = (int)(((day + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	const struct day_entry *e;
	const char *reason = NULL;
	kura_date_civil(day, &y, &m, &d);
	if (!year_known(c, y))
		return kura_error_set(err, KURA_EINPUT,
				      "kura's calendar has no national holidays for %d (it ships %d to %d): add that year's "
				      "holidays, as the Cabinet Office publishes them, under 'holidays:' in STORE/calendar.yaml "
				      "(docs/DENCHO.md), or use a kura that ships them",
				      y, c->first, c->last);
	if (wd == 0 || wd == 6)
		reason = weekday[wd];
	else if ((e = find_day(c, day, KIND_HOLIDAY)) || (e = find_day(c, day, KIND_CLOSED)))
		reason = e->name;
	for (size_t i = 0; !reason && i < c->nyearly; i++)
		if (c->yearly[i].month == m && c->yearly[i].mday == d)
			reason = c->yearly[i].name;
	*business = reason == NULL;
	if (why)
		*why = reason;
	return 0;
}

int kura_calendar_add_business(int32_t *out, const kura_calendar *c, int32_t day, int n, kura_error *err)
{
	int business, rc = 0, since = 0;
	while (rc == 0 && n > 0) {
		day++;
		rc = kura_calendar_is_business(&business, NULL, c, day, err);
		if (rc == 0 && business)
			n--, since = 0;
		else if (rc == 0 && ++since > SEARCH_LIMIT)
			rc = kura_error_set(err, KURA_EINPUT, "the calendar has no business day for %d days: check "
							      "STORE/calendar.yaml", SEARCH_LIMIT);
	}
	*out = day;
	return rc;
}

int kura_calendar_business_between(int *n, const kura_calendar *c, int32_t from, int32_t to, kura_error *err)
{
	int business, rc = 0;
	*n = 0;
	for (int32_t day = from + 1; rc == 0 && day <= to; day++)
		if ((rc = kura_calendar_is_business(&business, NULL, c, day, err)) == 0)
			*n += business;
	return rc;
}

int kura_calendar_deadline(int32_t *deadline, const kura_calendar *c, int32_t received, kura_error *err)
{
	int32_t from = c->kitei ? kura_date_period_end(received, 0, KURA_CALENDAR_MONTHS) : received;
	return kura_calendar_add_business(deadline, c, from, KURA_CALENDAR_DAYS, err);
}
