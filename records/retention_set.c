/* `kura retention set`: the store's own retention classes replaced by a file.
 *
 * INVARIANT: a change never shortens the retention of an existing record. Every
 * record of every class the old or the new file names (and not disposed of) is
 * compared under both: with its events as recorded, and, where an event has
 * not happened yet, as if every missing event happened today. An earlier end,
 * or an end where there was none, is refused, naming the record and by how
 * much; so is the removal of a class that records have.
 * The file is written, then the audit record "retention-set" holding its text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/escape.h"
#include "common/fsutil.h"
#include "common/unicode.h"
#include "records/retention_impl.h"

struct compare {
	kura_store *st;
	const kura_retention *old, *fresh;
	int32_t today;
	kura_error *err;
};

/* r with every event a class may wait for that it lacks, on today. */
static void probe(kura_record_retention *r, int32_t today)
{
	static const char *const names[] = {"fiscal-year-end", "handover", "trial-end", "approval", "discontinued"};
	for (size_t i = 0; i < 5; i++) {
		size_t j = 0;
		while (j < r->nev && strcmp(r->names[j], names[i]) != 0)
			j++;
		if (j == r->nev && r->nev < KURA_RECORDS_MAX_EVENTS) {
			snprintf(r->names[r->nev], sizeof r->names[0], "%s", names[i]);
			r->ev[r->nev] = (kura_retention_event){r->names[r->nev], today};
			r->nev++;
		}
	}
}

/* The end under classes c (known 0: indefinitely). */
static kura_retention_end end_under(const kura_retention *c, kura_record_retention *r)
{
	kura_retention_end e = {0};
	const kura_retention_class *cls = kura_retention_find(c, r->class_name);
	if (cls)
		kura_retention_compute(&e, cls, r->ev, r->nev);
	return e;
}

static int shorter(struct compare *c, kura_record_retention *r, const char *when)
{
	kura_retention_end a = end_under(c->old, r), b = end_under(c->fresh, r);
	char was[KURA_DATE_BUFSZ], now[KURA_DATE_BUFSZ];
	if (!b.known || (a.known && b.end >= a.end))
		return 0;
	kura_date_format(now, b.end);
	if (!a.known)
		return kura_error_set(c->err, KURA_EINPUT, "retention set: record %s (class %s) would be kept until %s%s instead "
							   "of indefinitely: a change may not shorten retention; nothing was changed",
				      r->record, r->class_name, now, when);
	kura_date_format(was, a.end);
	return kura_error_set(c->err, KURA_EINPUT, "retention set: record %s (class %s) would be kept until %s instead of %s%s "
						   "(%ld days less): a change may not shorten retention; nothing was changed",
			      r->record, r->class_name, now, was, when, (long)(a.end - b.end));
}

static int compare_record(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	struct compare *c = ud;
	const char *record = name; /* the walk of a class gives its records' IDs */
	kura_record_retention r;
	char by[KURA_ID_LEN + 1];
	int rc = kura_records_disposed(c->st, record, by, err);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if ((rc = kura_records_retention_of(&r, c->st, c->old, record, err)) != 0)
		return rc;
	if (r.cls && !kura_retention_find(c->fresh, r.class_name))
		rc = kura_error_set(err, KURA_EINPUT, "retention set: class %s is the class of record %s: it cannot be "
						      "removed; nothing was changed", r.class_name, record);
	if (rc == 0)
		rc = shorter(c, &r, "");
	if (rc == 0) {
		probe(&r, c->today);
		rc = shorter(c, &r, " once its events happen");
	}
	kura_record_retention_clear(&r);
	return rc;
}

static int compare_class(struct compare *c, const char *cls)
{
	char key[80];
	snprintf(key, sizeof key, "%s", cls);
	return kura_index_each_of_class(kura_store_index(c->st), key, compare_record, c, c->err);
}

static int compare_all(struct compare *c, const kura_retention *own)
{
	int rc = kura_records_today(&c->today, c->err);
	for (size_t i = 0; rc == 0 && i < c->old->n; i++)
		if (!c->old->c[i].shipped)
			rc = compare_class(c, c->old->c[i].name);
	for (size_t i = 0; rc == 0 && i < own->n; i++)
		if (!kura_retention_find(c->old, own->c[i].name))
			rc = compare_class(c, own->c[i].name);
	return rc;
}

static int record_change(kura_store *st, const kura_retention *own, const char *text, const char *file,
			 const char *reason, char id[KURA_ID_LEN + 1], kura_error *err)
{
	json_t *names = json_array();
	for (size_t i = 0; names && i < own->n; i++)
		json_array_append_new(names, json_string(own->c[i].name));
	json_t *fields = json_pack("{s:o, s:s, s:s}", "classes", names ? names : json_null(), "text", text, "reason", reason);
	if (fields && kura_json_set_name(fields, "file", file) != 0) /* a path: any bytes */
		json_decref(fields), fields = NULL;
	int rc = fields ? kura_store_write_file(st, "retention.yaml", text, strlen(text), err)
			: kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_audit_record(st, "retention-set", fields, id, err);
	json_decref(fields);
	return rc;
}

int kura_records_retention_set(kura_store *st, const char *file, const char *reason, char id[KURA_ID_LEN + 1],
			       kura_error *err)
{
	char *text = NULL;
	size_t len = 0;
	kura_retention old = {0}, own = {0}, fresh = {0};
	if (!reason || !reason[0])
		return kura_error_set(err, KURA_EINPUT, "retention set needs --reason TEXT: say why the classes change");
	int bad = kura_unicode_check("--reason", reason, err);
	if (bad != 0)
		return bad;
	if (kura_fs_read_file(file, 1u << 20, &text, &len) != 0)
		return kura_error_sys(err, errno == EIO || errno == ENOMEM ? KURA_EIO : KURA_EINPUT, "cannot read %s", file);
	int rc = strlen(text) != len ? kura_error_set(err, KURA_EINPUT, "%s holds a NUL byte: not a retention file", file)
				     : kura_retention_parse(&own, text, len, file, err);
	if (rc == 0)
		rc = kura_records_classes(&old, st, err);
	if (rc == 0)
		rc = kura_retention_shipped(&fresh, err);
	if (rc == 0)
		rc = kura_retention_merge(&fresh, &own, err);
	if (rc == 0) {
		struct compare c = {st, &old, &fresh, 0, err};
		rc = compare_all(&c, &own);
	}
	if (rc == 0)
		rc = record_change(st, &own, text, file, reason, id, err);
	free(text);
	kura_retention_free(&old);
	kura_retention_free(&own);
	kura_retention_free(&fresh);
	return rc;
}
