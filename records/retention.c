/* Retention applied to a store's records (docs/RECORDS.md): the store's classes
 * (shipped, policies/retention.yaml, and its own, STORE/retention.yaml), a
 * record's end of retention from its class, its events (index 'T', the last
 * recorded for a name counting) and its first version's ingest day, and what
 * an ingest, an event, a hold or a disposal names checked before anything is
 * written. The arithmetic itself is policies/retention.c's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/fsutil.h"
#include "common/unicode.h"
#include "kura/clock.h"
#include "records/retention_impl.h"

#define RETENTION_FILE_MAX (1u << 20)

int kura_records_classes(kura_retention *out, kura_store *st, kura_error *err)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	kura_retention own = {0};
	int rc = kura_retention_shipped(out, err);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof path, "%s/retention.yaml", kura_store_path(st));
	if (kura_fs_read_file(path, RETENTION_FILE_MAX, &text, &len) != 0) {
		if (errno == ENOENT)
			return 0;
		rc = kura_error_sys(err, KURA_EIO, "reading %s", path);
	} else if ((rc = kura_retention_parse(&own, text, len, path, err)) == 0)
		rc = kura_retention_merge(out, &own, err);
	if (rc == KURA_EINPUT) { /* the store's own file, which retention set checked: damaged since */
		char was[sizeof err->message];
		snprintf(was, sizeof was, "%s", err->message);
		rc = kura_error_set(err, KURA_EIO, "%s; the store's retention classes are damaged: put back the file "
						   "the last retention-set audit record holds", was);
	}
	free(text);
	kura_retention_free(&own);
	if (rc != 0)
		kura_retention_free(out);
	return rc;
}

int kura_records_today(int32_t *day, kura_error *err)
{
	int64_t now;
	int rc = kura_clock_now(&now, err);
	if (rc == 0)
		*day = (int32_t)(now >= 0 ? now / 86400000 : (now - 86399999) / 86400000);
	return rc;
}

int kura_records_event_past(int32_t day, const char *what, kura_error *err)
{
	int32_t today;
	char text[KURA_DATE_BUFSZ];
	int rc = kura_records_today(&today, err);
	if (rc != 0 || day <= today + 1) /* + 1: today east of UTC (in Japan from 00:00 JST) */
		return rc;
	kura_date_format(text, today);
	return kura_error_set(err, KURA_EINPUT, "%s: that day has not come (today is %s, UTC): record an event once it "
						"has happened; nothing was changed", what, text);
}

void kura_record_retention_clear(kura_record_retention *r)
{
	json_decref(r->first);
	memset(r, 0, sizeof *r);
}

static void add_event(kura_record_retention *r, const char *name, const char *date, size_t dlen)
{
	char buf[11];
	int32_t day;
	if (r->nev == KURA_RECORDS_MAX_EVENTS || strlen(name) >= sizeof r->names[0] || dlen != 10)
		return;
	memcpy(buf, date, 10);
	buf[10] = '\0';
	if (kura_date_parse(&day, buf) != 0)
		return;
	snprintf(r->names[r->nev], sizeof r->names[0], "%s", name);
	r->ev[r->nev] = (kura_retention_event){r->names[r->nev], day};
	r->nev++;
}

static int take_event(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)err;
	add_event(ud, name, value, vlen);
	return 0;
}

int kura_records_retention_of(kura_record_retention *out, kura_store *st, const kura_retention *classes,
			      const char *record, kura_error *err)
{
	memset(out, 0, sizeof *out);
	snprintf(out->record, sizeof out->record, "%s", record);
	int rc = kura_store_object(&out->first, st, record, err);
	if (rc != 0)
		return rc;
	const char *cls = json_string_value(json_object_get(out->first, "class"));
	const char *ingested = json_string_value(json_object_get(out->first, "ingested"));
	snprintf(out->class_name, sizeof out->class_name, "%s", cls ? cls : "");
	out->cls = kura_retention_find(classes, cls);
	if (ingested && strlen(ingested) >= 10)
		add_event(out, "ingest", ingested, 10);
	rc = kura_index_each_event(kura_store_index(st), record, take_event, out, err);
	for (size_t i = 0; i < out->nev; i++) /* the names moved as the array filled: point them again */
		out->ev[i].name = out->names[i];
	if (rc == 0 && out->cls)
		kura_retention_compute(&out->end, out->cls, out->ev, out->nev);
	if (rc != 0)
		kura_record_retention_clear(out);
	return rc;
}

int kura_records_resolve(char (**out)[KURA_ID_LEN + 1], size_t *nout, kura_store *st, const char *const *ids, size_t n,
			 kura_error *err)
{
	char(*list)[KURA_ID_LEN + 1] = calloc(n + 1, sizeof *list);
	size_t k = 0;
	int rc = list ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		kura_version_info v;
		rc = kura_records_version(&v, st, ids[i], err);
		if (rc == KURA_ENOTFOUND)
			rc = kura_error_set(err, KURA_EINPUT, "%s: no such object in the store (kura ls %s --all-versions lists "
							      "them); nothing was changed", ids[i], kura_store_path(st));
		if (rc != 0)
			break;
		rc = kura_records_check_own(&v, ids[i], err);
		size_t j = 0;
		while (rc == 0 && j < k && strcmp(list[j], v.record) != 0)
			j++;
		if (rc == 0 && j == k)
			memcpy(list[k++], v.record, KURA_ID_LEN + 1);
		kura_version_info_clear(&v);
	}
	if (rc != 0) {
		free(list);
		return rc;
	}
	*out = list;
	*nout = k;
	return 0;
}

int kura_records_check_own(const kura_version_info *v, const char *id, kura_error *err)
{
	if (!json_object_get(v->object, "system"))
		return 0;
	return kura_error_set(err, KURA_EINPUT, "%s is kura's own object (a checkpoint of the audit trail): it gets no "
			      "versions, metadata, holds or events; nothing was changed", id);
}

int kura_records_disposed(kura_store *st, const char *record, char by[KURA_ID_LEN + 1], kura_error *err)
{
	int rc = kura_index_get_disposed(kura_store_index(st), record, by, err);
	return rc == 0 ? 1 : rc == KURA_ENOTFOUND ? 0 : rc;
}

int kura_records_check_name(const char *what, const char *name, kura_error *err)
{
	size_t n = name ? strlen(name) : 0;
	int ok = n > 0 && n <= 128 && kura_unicode_valid(name, n);
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
	return ok ? 0 : kura_error_set(err, KURA_EINPUT, "a %s's name has 1 to 128 bytes of UTF-8, no control characters", what);
}

/* The fields a class declares (jp-dencho: txn_date, counterparty, amount,
 * received_at) must be the store's, of the declared types, and required for
 * the class where the class requires them: the store's fields are what ingest
 * checks each document's values against (archive/fields.c). The refusal names
 * the command for every field missing. */
static int check_class_fields(kura_store *st, const kura_retention_class *c, kura_error *err)
{
	char todo[1024] = "";
	for (size_t i = 0; i < c->nfields; i++) {
		const kura_retention_field *d = &c->field[i];
		const kura_field *f = kura_fields_find(kura_store_fields(st), d->name);
		int required = 0;
		for (size_t j = 0; f && j < f->nrequired; j++)
			required |= strcmp(f->required_for[j], c->name) == 0;
		if (f && strcmp(kura_field_type_name(f->type), d->type) == 0 && (required || !d->required))
			continue;
		size_t n = strlen(todo);
		snprintf(todo + n, sizeof todo - n, "%skura field add %s %s %s%s%s", n ? "; " : "", kura_store_path(st),
			 d->name, d->type, d->required ? " --required-for " : "", d->required ? c->name : "");
	}
	return *todo ? kura_error_set(err, KURA_EINPUT, "class %s needs its fields in the store, of their types: %s; "
							"nothing was stored", c->name, todo)
		     : 0;
}

int kura_records_check_retention(kura_store *st, const char *class_name, const kura_event *ev, size_t n,
				 kura_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int32_t day;
		if (!kura_retention_event_known(ev[i].name))
			return kura_error_set(err, KURA_EINPUT, "--event %s: unknown event (kura knows " KURA_RETENTION_EVENTS
								"; ingest is implicit); nothing was stored", ev[i].name);
		if (kura_date_parse(&day, ev[i].date) != 0)
			return kura_error_set(err, KURA_EINPUT, "--event %s=%s: not a calendar date YYYY-MM-DD; nothing was "
								"stored", ev[i].name, ev[i].date);
		char what[96];
		snprintf(what, sizeof what, "--event %.40s=%s", ev[i].name, ev[i].date);
		int rc = kura_records_event_past(day, what, err);
		if (rc != 0)
			return rc;
	}
	if (!class_name)
		return 0;
	kura_retention classes;
	int rc = kura_records_classes(&classes, st, err);
	const kura_retention_class *c = rc == 0 ? kura_retention_find(&classes, class_name) : NULL;
	if (rc == 0 && !c)
		rc = kura_error_set(err, KURA_EINPUT, "--class %s: no such retention class (kura retention show %s lists "
						      "them); nothing was stored", class_name, kura_store_path(st));
	if (rc == 0 && c)
		rc = check_class_fields(st, c, err);
	kura_retention_free(&classes);
	return rc;
}

int kura_records_retention_show(json_t **out, kura_store *st, kura_error *err)
{
	kura_retention classes;
	*out = NULL;
	int rc = kura_records_classes(&classes, st, err);
	if (rc != 0)
		return rc;
	json_t *events = json_pack("[s, s, s, s, s, s]", "fiscal-year-end", "handover", "trial-end", "approval",
				   "discontinued", "ingest");
	*out = json_pack("{s:o, s:o, s:s}", "classes", kura_retention_json(&classes), "events", events, "boundary",
			 "a record is kept to the end of its retention_end day (UTC) and may be disposed of from the next");
	kura_retention_free(&classes);
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}
