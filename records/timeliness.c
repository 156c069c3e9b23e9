/* 電子帳簿保存法: was each document time-stamped in time after it reached the
 * firm? (`kura timeliness`, docs/DENCHO.md). 施行規則4条1項2号 asks that a
 * document received electronically be time-stamped 速やかに (イ; 取扱通達 4-17:
 * おおむね7営業日以内), or, where the firm has an 事務処理規程, 速やかに after the
 * usual time its processing takes (ロ; at most 2 months).
 *
 * HOW DAYS COUNT (the arithmetic is policies/calendar.c's, THE COUNTING)
 * - received_at is the object's metadata: a date (YYYY-MM-DD, a day in Japan)
 *   or an RFC 3339 datetime, which counts as its date in Japan time (+09:00).
 * - The time-stamp is the object's FIRST: the earliest genTime among the tokens
 *   of its evidence record (its seal's, before any renewal), as a date in
 *   Japan time.
 * - The receipt day is day 0. A business day is a day that is neither a
 *   Saturday, a Sunday, a national holiday (policies/jp-holidays.csv) nor a day
 *   the store closes (STORE/calendar.yaml).
 * - The deadline is the 7th business day after the receipt day; with the
 *   store's 事務処理規程 (jimu-shori-kitei: true), the 7th business day after
 *   the last day of the 2 months following the receipt day (Civil Code arts.
 *   140 and 143, as retention periods count).
 * - On time: the time-stamp's date is no later than the deadline. Business
 *   days taken: those after the receipt day up to the time-stamp's date; late
 *   by N: those after the deadline up to the time-stamp's date. In both the
 *   time-stamp's own date counts as one even when it is not a business day (a
 *   document stamped on the Saturday after a Friday deadline is 1 day late).
 * - A year the calendar has no national holidays for is never guessed: the
 *   verdict is "undecided", and the reason says how to add that year.
 * Whether the token's TSA was certified (総務大臣認定) is left null here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "evidence/record.h"
#include "evidence/tst.h"
#include "index/index.h"
#include "proof/chains.h"
#include "kura/clock.h"
#include "kura/records.h"
#include "kura/tsa.h"
#include "policies/calendar.h"
#include "policies/retention.h"

#define DENCHO_CLASS "jp-dencho"
#define RECEIVED_KEY "received_at"
#define JST_MS (9 * 3600 * 1000LL)
#define DAY_MS 86400000LL
#define CALENDAR_FILE_MAX (1u << 20)

struct first {
	int64_t ms;
	int found;
	char tsa[256];
};

#define SEEN 16 /* chains remembered */

struct run {
	kura_store *st;
	kura_calendar *cal;
	kura_evidence_cache *cache;
	json_t *rows;
	int32_t today; /* in Japan */
	size_t on_time, late, unstamped, unreceived, undecided;
	struct {
		char start[KURA_ID_LEN + 1];
		struct first f;
	} seen[SEEN];
	size_t next;
};

static int32_t jst_day(int64_t ms)
{
	int64_t t = ms + JST_MS;
	return (int32_t)(t >= 0 ? t / DAY_MS : (t - DAY_MS + 1) / DAY_MS);
}

static void put_day(json_t *row, const char *key, int32_t day)
{
	char buf[KURA_DATE_BUFSZ];
	kura_date_format(buf, day);
	json_object_set_new(row, key, json_string(buf));
}

/* ---------------------------------------------------------------- the calendar */

static int load_calendar(kura_calendar **out, kura_store *st, kura_error *err)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	int rc = kura_calendar_new(out, err);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof path, "%s/calendar.yaml", kura_store_path(st));
	if (kura_fs_read_file(path, CALENDAR_FILE_MAX, &text, &len) != 0) {
		if (errno != ENOENT)
			rc = kura_error_sys(err, KURA_EIO, "reading %s", path);
	} else {
		rc = kura_calendar_add_store(*out, text, len, path, err);
	}
	free(text);
	if (rc != 0) {
		kura_calendar_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---------------------------------------------------------------- the first time-stamp */

static int take_token(void *ud, size_t chain, size_t ats, size_t nats, const unsigned char *tok, size_t len,
		      kura_error *err)
{
	struct first *f = ud;
	kura_tst *t = NULL;
	(void)chain, (void)ats, (void)nats;
	int rc = kura_tst_parse(&t, tok, len, err);
	if (rc == 0 && (!f->found || kura_tst_gentime(t) < f->ms)) {
		f->found = 1;
		f->ms = kura_tst_gentime(t);
		kura_tst_tsa_name(t, f->tsa, sizeof f->tsa);
	}
	kura_tst_free(t);
	return rc;
}

/* The earliest token of the chain started by evidence record start: the
 * record's own token (a seal, a hash-tree renewal), or for an imported record
 * every token it carries. Renewals of the chain come later. Objects of one
 * seal share it: remembered. */
static int chain_timestamp(struct first *f, struct run *r, const char *start, kura_error *err)
{
	const kura_chain_record *rec;
	for (size_t i = 0; i < SEEN; i++)
		if (strcmp(r->seen[i].start, start) == 0) {
			*f = r->seen[i].f;
			return 0;
		}
	memset(f, 0, sizeof *f);
	int rc = kura_chain_record_get(&rec, r->cache, r->st, start, err);
	if (rc == 0 && rec->kind == KURA_EVIDENCE_IMPORTED)
		rc = kura_er_each_token(rec->er, rec->erlen, take_token, f, NULL, err);
	else if (rc == 0)
		rc = take_token(f, 1, 1, 1, rec->token, rec->tlen, err);
	if (rc == 0) {
		snprintf(r->seen[r->next].start, sizeof r->seen[0].start, "%s", start);
		r->seen[r->next].f = *f;
		r->next = (r->next + 1) % SEEN;
	}
	return rc;
}

/* The earliest token over object id's chains (proof/chains.h); f->found 0: not sealed yet. */
static int object_timestamp(struct first *f, struct run *r, const char *id, kura_error *err)
{
	char *starts = NULL;
	uint32_t *pos = NULL;
	size_t n = 0;
	int rc = kura_object_chain_starts(&starts, &pos, &n, r->st, id, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char start[KURA_ID_LEN + 1];
		struct first g;
		memcpy(start, starts + i * KURA_ID_LEN, KURA_ID_LEN);
		start[KURA_ID_LEN] = '\0';
		rc = chain_timestamp(&g, r, start, err);
		if (rc == 0 && g.found && (!f->found || g.ms < f->ms))
			*f = g;
	}
	free(starts);
	free(pos);
	return rc;
}

/* The same bytes in an earlier version of the record (a version made by
 * `kura meta set` shares its content): their first time-stamp is the object's. */
struct same {
	struct run *r;
	struct first *f;
	const char *sha256;
	char from[KURA_ID_LEN + 1];
};

static int same_content(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	struct same *s = ud;
	struct first g = {0};
	json_t *o = NULL;
	(void)value, (void)vlen;
	int rc = kura_store_object(&o, s->r->st, name, err);
	const char *sha = rc == 0 ? json_string_value(json_object_get(o, "sha256")) : NULL;
	if (sha && s->sha256 && strcmp(sha, s->sha256) == 0)
		rc = object_timestamp(&g, s->r, name, err);
	if (rc == 0 && g.found && (!s->f->found || g.ms < s->f->ms)) {
		*s->f = g;
		snprintf(s->from, sizeof s->from, "%s", name);
	}
	json_decref(o);
	return rc;
}

/* The first time-stamp over object's bytes: its own, or an earlier version's. */
static int first_timestamp(struct first *f, struct run *r, json_t *object, char from[KURA_ID_LEN + 1], kura_error *err)
{
	const char *id = json_string_value(json_object_get(object, "id"));
	const char *record = json_string_value(json_object_get(object, "record"));
	struct same s = {r, f, json_string_value(json_object_get(object, "sha256")), ""};
	memset(f, 0, sizeof *f);
	int rc = object_timestamp(f, r, id, err);
	if (rc == 0 && record && strlen(record) == KURA_ID_LEN) {
		rc = same_content(&s, record, NULL, 0, err);
		if (rc == 0)
			rc = kura_index_each_version(kura_store_index(r->st), record, same_content, &s, err);
	}
	snprintf(from, KURA_ID_LEN + 1, "%s", s.from);
	return rc;
}

/* ---------------------------------------------------------------- one object */

/* The day of received_at in Japan, or -1 and why not in row's "reason". */
static int received_day(int32_t *day, json_t *row, const char *value)
{
	int64_t ms;
	kura_error e = {0};
	if (kura_date_parse(day, value) == 0)
		return 0;
	if (strlen(value) > 10 && kura_time_parse(&ms, value, &e) == 0) {
		*day = jst_day(ms);
		return 0;
	}
	json_object_set_new(row, "reason", json_string("received_at is neither a date (YYYY-MM-DD) nor an RFC 3339 "
						       "datetime (2026-04-01T10:30:00+09:00): correct it with kura meta set"));
	return -1;
}

/* taken/late: business days after from up to day, day itself counted as one. */
static int days_after(json_t *row, const char *key, struct run *r, int32_t from, int32_t day, kura_error *err)
{
	int n = 0, business = 1;
	if (day > from) {
		int rc = kura_calendar_business_between(&n, r->cal, from, day, err);
		if (rc == 0)
			rc = kura_calendar_is_business(&business, NULL, r->cal, day, err);
		if (rc != 0)
			return rc;
	}
	json_object_set_new(row, key, json_integer(n + !business));
	return 0;
}

/* The verdict of a received, dated object: deadline, days taken, on time or late. */
static void judge(struct run *r, json_t *row, int32_t received, const struct first *f)
{
	int32_t deadline, stamp = f->found ? jst_day(f->ms) : 0;
	kura_error e = {0}, *err = &e; /* the calendar's only error: a year it does not know */
	int rc = kura_calendar_deadline(&deadline, r->cal, received, err);
	if (rc == 0) {
		put_day(row, "deadline", deadline);
		if (!f->found) {
			json_object_set_new(row, "overdue", json_boolean(r->today > deadline));
			r->unstamped++;
			json_object_set_new(row, "verdict", json_string("not-time-stamped"));
			return;
		}
		rc = days_after(row, "business_days", r, received, stamp, err);
	}
	if (rc == 0 && stamp > deadline)
		rc = days_after(row, "late_business_days", r, deadline, stamp, err);
	if (rc != 0) {
		json_object_set_new(row, "reason", json_string(e.message));
		if (!json_object_get(row, "deadline") || !f->found || stamp <= deadline) {
			r->undecided++;
			json_object_set_new(row, "verdict", json_string("undecided"));
			return;
		} /* late, by a count the calendar cannot give */
	}
	if (f->found && stamp > deadline)
		r->late++;
	else
		r->on_time++;
	json_object_set_new(row, "verdict", json_string(f->found && stamp > deadline ? "late" : "on-time"));
}

static json_t *new_row(json_t *object, const char *id)
{
	const char *cls = json_string_value(json_object_get(object, "class"));
	json_t *recv = json_object_get(json_object_get(object, "meta"), RECEIVED_KEY);
	json_t *row = json_pack("{s:s, s:n, s:s?, s:O, s:n, s:n, s:n, s:n, s:n, s:n, s:n}", "id", id, "name", "class",
				cls, RECEIVED_KEY, recv ? recv : json_null(), "received", "first_timestamp",
				"timestamp_date", "tsa", "tsa_certified", "deadline", "business_days");
	char *name = kura_json_get_name(object, "name"); /* its bytes: "name" is escaped when not UTF-8 */
	if (row && name && kura_json_set_name(row, "name", name) != 0)
		json_decref(row), row = NULL;
	free(name);
	return row;
}

static int check_object(struct run *r, json_t *object, kura_error *err)
{
	const char *id = json_string_value(json_object_get(object, "id"));
	const char *recv = json_string_value(json_object_get(json_object_get(object, "meta"), RECEIVED_KEY));
	json_t *row = id ? new_row(object, id) : NULL;
	struct first f;
	char from[KURA_ID_LEN + 1];
	int32_t day;
	int rc = row ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = first_timestamp(&f, r, object, from, err);
	if (rc == 0 && f.found) {
		char jst[KURA_TIME_BUFSZ + 8];
		kura_time_put_json(row, "first_timestamp", f.ms);
		kura_time_format(jst, f.ms + JST_MS); /* "...Z" read as Japan time */
		strcpy(jst + strlen(jst) - 1, "+09:00");
		json_object_set_new(row, "first_timestamp_jst", json_string(jst));
		put_day(row, "timestamp_date", jst_day(f.ms));
		json_object_set_new(row, "tsa", json_string(f.tsa));
		if (*from) /* the bytes were time-stamped as an earlier version */
			json_object_set_new(row, "timestamped_as", json_string(from));
		int certified; /* was that token's TSA certified (総務大臣認定) when it was obtained? */
		if ((rc = kura_tsa_first_certified(&certified, r->st, *from ? from : id, err)) == 0)
			json_object_set_new(row, "tsa_certified", certified < 0 ? json_null() : json_boolean(certified));
	}
	if (rc == 0 && (!recv || !*recv)) {
		r->unreceived++;
		json_object_set_new(row, "verdict", json_string("no-received-at"));
		json_object_set_new(row, "reason", json_string("no received_at: give the day it was received with kura meta "
							       "set ID received_at=YYYY-MM-DD --reason ..."));
	} else if (rc == 0 && received_day(&day, row, recv) != 0) {
		r->undecided++;
		json_object_set_new(row, "verdict", json_string("undecided"));
	} else if (rc == 0) {
		put_day(row, "received", day);
		judge(r, row, day, &f);
	}
	if (rc == 0)
		json_array_append(r->rows, row);
	json_decref(row);
	return rc;
}

/* ---------------------------------------------------------------- which objects */

static int each_default(void *ud, json_t *object, kura_error *err)
{
	const char *cls = json_string_value(json_object_get(object, "class"));
	if (!json_object_get(json_object_get(object, "meta"), RECEIVED_KEY) && !(cls && strcmp(cls, DENCHO_CLASS) == 0))
		return 0;
	return check_object(ud, object, err);
}

static int each_named(struct run *r, const char *const *ids, size_t n, kura_error *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *o = NULL;
		rc = kura_store_object(&o, r->st, ids[i], err);
		if (rc == 0)
			rc = check_object(r, o, err);
		json_decref(o);
	}
	return rc;
}

static json_t *report(struct run *r)
{
	int first, last;
	char cal[160];
	kura_calendar_shipped_years(r->cal, &first, &last);
	snprintf(cal, sizeof cal, "national holidays %d-%d (policies/jp-holidays.csv, 内閣府), and STORE/calendar.yaml",
		 first, last);
	int kitei = kura_calendar_jimu_shori_kitei(r->cal);
	return json_pack("{s:s, s:b, s:s, s:O, s:{s:I, s:I, s:I, s:I, s:I, s:I}}", "rule",
			 kitei ? "2 months after receipt, then 7 business days (施行規則4条1項2号ロ, 事務処理規程)"
			       : "7 business days after receipt (施行規則4条1項2号イ, 取扱通達4-17)",
			 "jimu_shori_kitei", kitei, "calendar", cal, "objects", r->rows, "summary", "objects",
			 (json_int_t)json_array_size(r->rows), "on_time", (json_int_t)r->on_time, "late",
			 (json_int_t)r->late, "not_time_stamped", (json_int_t)r->unstamped, "no_received_at",
			 (json_int_t)r->unreceived, "undecided", (json_int_t)r->undecided);
}

int kura_records_timeliness(json_t **out, kura_store *st, const char *const *ids, size_t n, kura_error *err)
{
	struct run r = {.st = st, .rows = json_array()};
	int64_t now;
	*out = NULL;
	int rc = r.rows ? load_calendar(&r.cal, st, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_evidence_cache_new(&r.cache, err);
	if (rc == 0)
		rc = kura_clock_now(&now, err);
	if (rc == 0) {
		r.today = jst_day(now);
		rc = ids ? each_named(&r, ids, n, err) : kura_records_each(st, 0, each_default, &r, err);
	}
	if (rc == 0 && !(*out = report(&r)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	kura_evidence_cache_free(r.cache);
	kura_calendar_free(r.cal);
	json_decref(r.rows);
	return rc;
}
