/* Retention events and legal holds (docs/RECORDS.md): each an audit record
 * ("event", "hold", "release") whose index entries archive/records_index.c
 * derives: 'T' (a record's event dates), 'L' (what a hold covers now), 'G'
 * (a hold's last record). Everything named is checked before the one audit
 * record is written: a refusal writes nothing.
 *
 * INVARIANT: a hold's name is unique while it is active; its release names
 * exactly the records its hold covered, so the release deletes every 'L' the
 * hold put. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/unicode.h"
#include "records/retention_impl.h"

int kura_records_need_reason(const char *reason, const char *what, kura_error *err)
{
	if (reason && reason[0])
		return kura_unicode_check("--reason", reason, err);
	return kura_error_set(err, KURA_EINPUT, "%s needs --reason TEXT: say why; nothing was changed", what);
}

static json_t *id_list(char (*ids)[KURA_ID_LEN + 1], size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(ids[i]));
	return a;
}

/* Refuses a record disposed of. */
static int refuse_disposed(kura_store *st, char (*records)[KURA_ID_LEN + 1], size_t n, kura_error *err)
{
	char by[KURA_ID_LEN + 1];
	for (size_t i = 0; i < n; i++) {
		int rc = kura_records_disposed(st, records[i], by, err);
		if (rc != 0)
			return rc < 0 ? rc : kura_error_set(err, KURA_EINPUT, "record %s was disposed of (audit record %s); "
									     "nothing was changed", records[i], by);
	}
	return 0;
}

/* ---------------------------------------------------------------- events */

struct of_class {
	kura_store *st;
	char (*ids)[KURA_ID_LEN + 1];
	size_t n, cap;
};

static int take_record(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	struct of_class *c = ud;
	const char *record = name; /* the walk of a class gives its records' IDs */
	char by[KURA_ID_LEN + 1];
	int rc = kura_records_disposed(c->st, record, by, err);
	if (rc != 0)
		return rc < 0 ? rc : 0; /* a disposed record has no retention left to start */
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		char(*ids)[KURA_ID_LEN + 1] = realloc(c->ids, cap * sizeof *ids);
		if (!ids)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		c->ids = ids;
		c->cap = cap;
	}
	snprintf(c->ids[c->n++], KURA_ID_LEN + 1, "%s", record);
	return 0;
}

static int records_of_class(struct of_class *c, const char *cls, kura_error *err)
{
	kura_retention classes;
	int rc = kura_records_classes(&classes, c->st, err);
	if (rc == 0 && !kura_retention_find(&classes, cls))
		rc = kura_error_set(err, KURA_EINPUT, "--all-of-class %s: no such retention class (kura retention show %s); "
						      "nothing was changed", cls, kura_store_path(c->st));
	kura_retention_free(&classes);
	if (rc == 0)
		rc = kura_index_each_of_class(kura_store_index(c->st), cls, take_record, c, err);
	if (rc == 0 && c->n == 0)
		rc = kura_error_set(err, KURA_EINPUT, "no record of class %s is kept (none, or all disposed of); nothing was "
						      "changed", cls);
	return rc;
}

int kura_records_event(kura_store *st, const char *name, const char *date, const char *const *ids, size_t n,
		       const char *all_of_class, const char *reason, char id[KURA_ID_LEN + 1], kura_error *err)
{
	int32_t day;
	struct of_class c = {.st = st};
	int rc = kura_records_need_reason(reason, "an event", err);
	if (rc == 0 && !kura_retention_event_known(name))
		rc = kura_error_set(err, KURA_EINPUT, "%s: unknown event (kura knows " KURA_RETENTION_EVENTS "; ingest is "
						      "implicit); nothing was changed", name);
	if (rc == 0 && kura_date_parse(&day, date) != 0)
		rc = kura_error_set(err, KURA_EINPUT, "%s: not a calendar date YYYY-MM-DD; nothing was changed", date);
	if (rc == 0)
		rc = kura_records_event_past(day, date, err);
	if (rc == 0 && (!all_of_class) == (n == 0))
		rc = kura_error_set(err, KURA_EINPUT, "an event is for IDs or for --all-of-class CLASS (one of the two)");
	if (rc == 0 && all_of_class)
		rc = records_of_class(&c, all_of_class, err);
	else if (rc == 0 && (rc = kura_records_resolve(&c.ids, &c.n, st, ids, n, err)) == 0)
		rc = refuse_disposed(st, c.ids, c.n, err);
	json_t *fields = rc == 0 ? json_pack("{s:s, s:s, s:o, s:s}", "name", name, "date", date, "records", id_list(c.ids, c.n),
					     "reason", reason)
				 : NULL;
	if (rc == 0)
		rc = fields ? kura_store_audit_record(st, "event", fields, id, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_decref(fields);
	free(c.ids);
	return rc;
}

/* ---------------------------------------------------------------- holds */

/* The hold's last audit record (*state: NULL when the name was never held). */
static int hold_state(json_t **state, kura_store *st, const char *name, kura_error *err)
{
	char *text = NULL;
	kura_error lerr = {0};
	*state = NULL;
	int rc = kura_index_get_state_of(kura_store_index(st), KURA_INDEX_HOLD, name, &text, &lerr);
	if (rc == KURA_ENOTFOUND)
		return 0;
	if (rc != 0) {
		*err = lerr;
		return rc;
	}
	*state = json_loads(text, 0, NULL);
	free(text);
	return *state ? 0 : kura_error_set(err, KURA_EIO, "the state of hold %s in the index is damaged; run kura reindex", name);
}

static int active(json_t *state)
{
	const char *a = json_string_value(json_object_get(state, "action"));
	return a && strcmp(a, "hold") == 0;
}

int kura_records_hold_add(kura_store *st, const char *name, const char *const *ids, size_t n, const char *reason,
			  char id[KURA_ID_LEN + 1], kura_error *err)
{
	json_t *state = NULL, *fields = NULL;
	char(*records)[KURA_ID_LEN + 1] = NULL;
	size_t nrec = 0;
	int rc = kura_records_need_reason(reason, "a hold", err);
	if (rc == 0)
		rc = kura_records_check_name("hold", name, err);
	if (rc == 0 && n == 0)
		rc = kura_error_set(err, KURA_EINPUT, "a hold needs the IDs of the records it covers");
	if (rc == 0 && (rc = hold_state(&state, st, name, err)) == 0 && active(state))
		rc = kura_error_set(err, KURA_EEXIST, "hold %s is active already (placed %s by %s): release it first or choose "
						      "another name; nothing was changed", name,
				    json_string_value(json_object_get(state, "time")), json_string_value(json_object_get(state, "actor")));
	if (rc == 0 && (rc = kura_records_resolve(&records, &nrec, st, ids, n, err)) == 0)
		rc = refuse_disposed(st, records, nrec, err);
	if (rc == 0 && !(fields = json_pack("{s:s, s:o, s:s}", "name", name, "records", id_list(records, nrec), "reason", reason)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_audit_record(st, "hold", fields, id, err);
	if (rc == 0)
		kura_records_seal_trail(st, "hold");
	json_decref(fields);
	json_decref(state);
	free(records);
	return rc;
}

int kura_records_hold_release(kura_store *st, const char *name, const char *reason, char id[KURA_ID_LEN + 1],
			      kura_error *err)
{
	json_t *state = NULL, *fields = NULL;
	int rc = kura_records_need_reason(reason, "a release", err);
	if (rc == 0)
		rc = kura_records_check_name("hold", name, err);
	if (rc == 0 && (rc = hold_state(&state, st, name, err)) == 0 && !active(state))
		rc = kura_error_set(err, KURA_EINPUT, "no active hold named %s (kura hold ls %s lists them); nothing was changed",
				    name, kura_store_path(st));
	if (rc == 0 && !(fields = json_pack("{s:s, s:O, s:s, s:O}", "name", name, "records", json_object_get(state, "records"),
					    "reason", reason, "hold", json_object_get(state, "id"))))
		rc = kura_error_set(err, KURA_EIO, "the state of hold %s in the index is damaged; run kura reindex", name);
	if (rc == 0)
		rc = kura_store_audit_record(st, "release", fields, id, err);
	json_decref(fields);
	json_decref(state);
	return rc;
}

static json_t *who(json_t *a)
{
	return json_pack("{s:O?, s:O?, s:O?, s:O?}", "id", json_object_get(a, "id"), "actor", json_object_get(a, "actor"),
			 "time", json_object_get(a, "time"), "reason", json_object_get(a, "reason"));
}

struct listing {
	kura_store *st;
	json_t *list;
};

static int list_one(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	struct listing *l = ud;
	json_t *s = json_loadb(value, vlen, 0, NULL), *held = NULL;
	if (!s)
		return kura_error_set(err, KURA_EIO, "the state of hold %s in the index is damaged; run kura reindex", name);
	int rc = 0, on = active(s);
	if (!on && (rc = kura_store_audit_get(&held, l->st, json_string_value(json_object_get(s, "hold")), err)) != 0) {
		json_decref(s);
		return rc;
	}
	json_t *e = json_pack("{s:s, s:s, s:O, s:o}", "name", name, "state", on ? "active" : "released", "records",
			      json_object_get(s, "records"), "held", who(on ? s : held));
	if (e && !on)
		json_object_set_new(e, "released", who(s));
	json_decref(held);
	json_decref(s);
	return e && json_array_append_new(l->list, e) == 0 ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

int kura_records_hold_list(json_t **out, kura_store *st, kura_error *err)
{
	struct listing l = {st, json_array()};
	int rc = l.list ? kura_index_each_state_of(kura_store_index(st), KURA_INDEX_HOLD, list_one, &l, err)
			: kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0) {
		json_decref(l.list);
		l.list = NULL;
	}
	*out = l.list;
	return rc;
}
