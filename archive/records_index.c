/* Which index entries an audit record makes (docs/RECORDS.md lists them): ONE
 * function for the writer (archive/audit.c) and for recovery and reindex
 * (archive/rebuild.c), so that the records-management state in the index is
 * always what the segments say. Each entry follows from the record's own body:
 * nothing is looked up, and applying the records in the order written gives
 * the state after the last one (a later event date replaces an earlier one, a
 * release deletes what its hold put). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive/store_impl.h"
#include "common/id.h"
#include <openssl/evp.h>

static int valid_id(const char *s)
{
	char canon[KURA_ID_LEN + 1];
	return s && kura_id_parse(canon, s, NULL) == 0 && strcmp(canon, s) == 0;
}

/* Calls about() for each valid ID in the array. */
static void each_id(json_t *list, void (*fn)(kura_index_batch *, const char *, void *), kura_index_batch *b, void *ud)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (valid_id(json_string_value(v)))
			fn(b, json_string_value(v), ud);
}

struct ctx {
	json_t *e;
	uint64_t seq;
};

static void about(kura_index_batch *b, const char *id, void *ud)
{
	kura_index_batch_put_about(b, id, ((struct ctx *)ud)->seq);
}

static void event(kura_index_batch *b, const char *id, void *ud)
{
	json_t *e = ((struct ctx *)ud)->e;
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *date = json_string_value(json_object_get(e, "date"));
	if (name && date)
		kura_index_batch_put_event(b, id, name, date);
	about(b, id, ud);
}

static void hold(kura_index_batch *b, const char *id, void *ud)
{
	json_t *e = ((struct ctx *)ud)->e;
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *action = json_string_value(json_object_get(e, "action"));
	if (name)
		kura_index_batch_put_held(b, name, id, strcmp(action, "hold") == 0);
	about(b, id, ud);
}

/* A named state ('G' hold, 'Q' request): the record itself, the last word. */
static void state(kura_index_batch *b, char ns, const char *name, json_t *e)
{
	char *text = name ? json_dumps(e, JSON_COMPACT) : NULL;
	if (text)
		kura_index_batch_put_state_of(b, ns, name, text);
	free(text);
}

/* Calls fn with the ID under key of each element of list (an array of objects)
 * that has a valid one: a disposal's versions ("id"), new versions' records ("record"). */
static void each_member_id(json_t *list, const char *key, void (*fn)(kura_index_batch *, const char *, void *),
			   kura_index_batch *b, void *ud)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *id = json_string_value(json_object_get(v, key));
		if (valid_id(id))
			fn(b, id, ud);
	}
}

static void disposed(kura_index_batch *b, const char *id, void *by)
{
	kura_index_batch_put_disposed(b, id, by);
}

/* A field's definition, not yet built: kura_fields_build fills its index (the
 * command that added it, or reindex at its end). */
static void field_def(kura_index_batch *b, json_t *e)
{
	kura_field_type t;
	const char *name = json_string_value(json_object_get(e, "name"));
	const char *type = json_string_value(json_object_get(e, "type"));
	json_t *req = json_object_get(e, "required_for");
	if (!name || !type || kura_field_type_parse(&t, type, NULL) != 0 || (req && !json_is_array(req)))
		return;
	json_t *d = json_pack("{s:s, s:s, s:o, s:b}", "name", name, "type", type, "required_for",
			      req ? json_incref(req) : json_array(), "built", 0);
	char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
	if (text)
		kura_index_batch_put_field_def(b, name, text);
	free(text);
	json_decref(d);
}

int kura_audit_index(kura_index_batch *b, const char *body, size_t len, uint32_t segno, uint64_t offset)
{
	json_t *e = json_loadb(body, len, 0, NULL);
	const char *id = json_string_value(json_object_get(e, "id"));
	if (!valid_id(id)) {
		json_decref(e);
		return -1;
	}
	kura_index_batch_put_audit(b, id, segno, offset);
	json_int_t seq = json_integer_value(json_object_get(e, "seq"));
	const char *action = json_string_value(json_object_get(e, "action"));
	if (seq > 0 && action) {
		unsigned char h[32];
		EVP_Digest(body, len, h, NULL, EVP_sha256(), NULL);
		kura_index_batch_put_chain(b, (uint64_t)seq, id, h);
		struct ctx c = {e, (uint64_t)seq};
		json_t *records = json_object_get(e, "records");
		each_member_id(json_object_get(e, "versions"), "record", about, b, &c);
		if (strcmp(action, "event") == 0)
			each_id(records, event, b, &c);
		else if (strcmp(action, "hold") == 0 || strcmp(action, "release") == 0) {
			each_id(records, hold, b, &c);
			state(b, KURA_INDEX_HOLD, json_string_value(json_object_get(e, "name")), e);
		} else if (strcmp(action, "field-add") == 0) {
			field_def(b, e);
		} else if (strcmp(action, "imported-trail") == 0) { /* package/import.c: history shows it */
			each_id(json_object_get(e, "objects"), about, b, &c);
		} else if (strcmp(action, "reindex-loss") == 0) { /* archive/loss.c: disposal waits for a person */
			each_id(json_object_get(e, "objects"), about, b, &c);
			each_id(records, about, b, &c);
			state(b, KURA_INDEX_SUSPENDED, "disposal", e);
		} else if (strcmp(action, "dispose-resume") == 0) {
			kura_index_batch_del_state_of(b, KURA_INDEX_SUSPENDED, "disposal");
		} else if (strncmp(action, "dispose-", 8) == 0) {
			each_id(records, about, b, &c);
			const char *req = json_string_value(json_object_get(e, "request"));
			state(b, KURA_INDEX_REQUEST, strcmp(action, "dispose-request") == 0 ? id : req, e);
			if (strcmp(action, "dispose-approve") == 0)
				each_member_id(json_object_get(e, "disposed"), "id", disposed, b, (void *)id);
		}
	}
	json_decref(e);
	return 0;
}

void kura_object_index(kura_index_batch *b, const kura_index_object_entry *e, json_t *object, const kura_fields *fs)
{
	kura_index_batch_put_object(b, e);
	kura_fields_index_object(b, fs, e->id, object);
	const char *record = json_string_value(json_object_get(object, "record"));
	const char *supersedes = json_string_value(json_object_get(object, "supersedes"));
	const char *cls = json_string_value(json_object_get(object, "class"));
	if (!valid_id(record))
		record = e->id;
	if (record != e->id)
		kura_index_batch_put_version(b, record, e->id);
	if (valid_id(supersedes))
		kura_index_batch_put_successor(b, supersedes, e->id);
	if (cls)
		kura_index_batch_put_class(b, cls, record);
	json_t *audit = json_object_get(object, "audit"); /* a checkpoint of the audit trail (archive/audit_checkpoint.c) */
	json_int_t from = json_integer_value(json_object_get(audit, "from")), to = json_integer_value(json_object_get(audit, "to"));
	const char *sys = json_string_value(json_object_get(object, "system"));
	if (sys && strcmp(sys, "audit-trail") == 0 && from > 0 && to >= from)
		kura_index_batch_put_checkpoint(b, e->id, (uint64_t)from, (uint64_t)to);
	const char *name;
	json_t *date;
	json_object_foreach(json_object_get(object, "events"), name, date)
		if (json_is_string(date))
			kura_index_batch_put_event(b, record, name, json_string_value(date));
}
