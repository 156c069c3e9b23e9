/* What an import keeps of where an object came from (docs/FORMAT.md "What an
 * import keeps"): the object's ID, ingest time, actor, versions and retention
 * fields, as its kura package's object.json gives them. All of it is a claim of
 * the package; the evidence record (verified before) proves only that the
 * document existed at its first time-stamp. The object record says so under
 * "imported": the package, when and by whom it was imported, the original ID,
 * the first time-stamp, and every claim that was not kept.
 *
 * INVARIANTS
 * - Nothing in the store is overwritten or joined: an ID is kept only when no
 *   object of the store has it (else the object gets a new ID; the same object
 *   -- same ID, content and ingest time -- is not imported twice), and a
 *   version is linked only to a version imported before it by the same import,
 *   of the same record, and that record's newest so far (a record never
 *   branches). Any other link is dropped: the object becomes a record of its own.
 * - A record's versions keep the order of their IDs: once one of its versions
 *   gets a new ID, its later versions get new IDs too (new IDs sort after
 *   every existing one). This needs the package's objects in ID order, as kura
 *   export writes them.
 * - A kept ID is not later than the import's clock (an ID from the future would
 *   push every later ID after it), and a kept ingest time is not later than the
 *   clock nor than the first time-stamp of the object's evidence. */
#include <stdio.h>
#include <string.h>

#include "common/escape.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "kura/clock.h"
#include "package/import_origin.h"
#include "policies/retention.h"

int kura_import_origin_new(kura_import_origin *o, kura_error *err)
{
	memset(o, 0, sizeof *o);
	o->seen = json_object();
	o->current = json_object();
	o->renamed = json_object();
	o->used = json_object();
	if (!o->seen || !o->current || !o->renamed || !o->used) {
		kura_import_origin_clear(o);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	return 0;
}

void kura_import_origin_clear(kura_import_origin *o)
{
	json_decref(o->seen);
	json_decref(o->current);
	json_decref(o->renamed);
	json_decref(o->used);
	memset(o, 0, sizeof *o);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The ms of an ID's time part. */
static int64_t id_ms(const char *id)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	int64_t v = 0;
	for (int i = 0; i < 10; i++)
		v = v * 32 + (int64_t)(strchr(alphabet, id[i]) - alphabet);
	return v;
}

static void note(char *notes, size_t cap, const char *fmt, const char *a, const char *b)
{
	size_t len = strlen(notes);
	if (len + 2 < cap) {
		if (len)
			snprintf(notes + len, cap - len, "; ");
		len = strlen(notes);
		snprintf(notes + len, cap - len, fmt, a, b ? b : "");
	}
}

/* Whether the store holds this very object already: its ID, its content (the
 * document's SHA-256, read from the file) and its ingest time. 1: yes, 0: no. */
static int present(kura_store *st, const char *id, const char *document, const char *ingested, kura_error *err)
{
	json_t *have = NULL;
	kura_error ignored;
	if (kura_store_object(&have, st, id, &ignored) != 0)
		return 0;
	unsigned char sha[32];
	char hex[65];
	int rc = kura_hash_file(sha, EVP_sha256(), document, err);
	if (rc == 0) {
		kura_hex_encode(hex, sha, 32);
		rc = strcmp(hex, str(have, "sha256") ?: "") == 0 && ingested && strcmp(ingested, str(have, "ingested") ?: "") == 0;
	}
	json_decref(have);
	return rc;
}

/* The ID to keep ("" for a new one), and why not in notes. */
static void choose_id(char keep[KURA_ID_LEN + 1], kura_import_origin *o, kura_store *st, const char *claimed,
		      const char *record, int64_t now, char *notes, size_t cap)
{
	kura_error ignored;
	json_t *have = NULL;
	keep[0] = '\0';
	if (!claimed || kura_id_parse(keep, claimed, &ignored) != 0) {
		keep[0] = '\0';
		return;
	}
	if (id_ms(keep) > now)
		note(notes, cap, "its ID %s is from the future: imported under a new ID", keep, NULL);
	else if (json_object_get(o->used, keep) || kura_store_object(&have, st, keep, &ignored) == 0)
		note(notes, cap, "its ID %s is taken by another object of this store: imported under a new ID", keep, NULL);
	else if (record && json_object_get(o->renamed, record))
		note(notes, cap, "an earlier version of its record (%s) got a new ID: so does it, to keep their order", record,
		     NULL);
	else
		return;
	json_decref(have);
	keep[0] = '\0';
}

/* The version link kept (supersedes and record, mapped to this store's IDs)
 * into f. object.json's "record" names the evidence record's file (the
 * package's layout): the record a version belongs to follows from the version
 * it supersedes. */
static void choose_links(json_t *f, json_t *imported, kura_import_origin *o, json_t *obj, char *notes, size_t cap)
{
	const char *supersedes = str(obj, "supersedes");
	if (!supersedes)
		return;
	json_t *prev = json_object_get(o->seen, supersedes);
	const char *record = str(prev, "record"), *cur = record ? str(o->current, record) : NULL;
	if (cur && strcmp(cur, str(prev, "id")) == 0) {
		json_object_set_new(f, "record", json_string(record));
		json_object_set_new(f, "supersedes", json_string(str(prev, "id")));
		return;
	}
	json_object_set_new(imported, "supersedes", json_string(supersedes));
	note(notes, cap, "it claims to follow %s, which this import did not bring before it as its record's newest "
		     "version: imported as a record of its own%s", supersedes, NULL);
}

/* The original ID of the record the object claims to belong to ("" when none). */
static void original_record(char out[KURA_ID_LEN + 1], kura_import_origin *o, json_t *obj, const char *id)
{
	json_t *prev = json_object_get(o->seen, str(obj, "supersedes") ?: "");
	snprintf(out, KURA_ID_LEN + 1, "%s", prev ? str(prev, "original_record") : id ? id : "");
}

/* The retention fields and the actor kept as claimed, where they have the right
 * form (events: those kura knows, with a date). */
static void copy_claims(json_t *f, json_t *obj)
{
	static const char *const strings[] = {"actor", "class", "reason"};
	for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
		if (json_is_string(json_object_get(obj, strings[i])))
			json_object_set(f, strings[i], json_object_get(obj, strings[i]));
	json_t *events = json_object_get(obj, "events"), *v, *kept = json_object();
	const char *name;
	int32_t day;
	json_object_foreach(events, name, v)
		if (kept && kura_retention_event_known(name) && json_is_string(v) &&
		    kura_date_parse(&day, json_string_value(v)) == 0)
			json_object_set(kept, name, v);
	if (json_object_size(kept))
		json_object_set(f, "events", kept);
	json_decref(kept);
}

int kura_import_origin_plan(kura_import_plan *p, kura_import_origin *o, kura_store *st, const kura_package_group *g,
			    const char *package, int64_t now, const char *proven, kura_error *err)
{
	memset(p, 0, sizeof *p);
	p->ingested_ms = -1;
	json_t *obj = g->object;
	const char *ingested = str(obj, "ingested");
	if (g->id) {
		int rc = present(st, g->id, g->files.member[0].path, ingested, err);
		if (rc != 0)
			return rc < 0 ? rc : 1;
	}
	char when[KURA_TIME_BUFSZ];
	kura_time_format(when, now);
	json_t *imported = json_pack("{s:o, s:s, s:s}", "package", kura_json_text(package), "at", when, "by",
				     kura_store_actor(st)); /* a file name need not be UTF-8 */
	if (!(p->fields = json_object()) || !imported) {
		json_decref(imported);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	json_object_set_new(p->fields, "imported", imported);
	if (proven)
		json_object_set_new(imported, "proven", json_string(proven));
	if (!obj)
		return 0; /* a (FILE, FILE.ers) pair: nothing is claimed */
	if (g->id)
		json_object_set_new(imported, "id", json_string(g->id));
	original_record(p->record, o, obj, g->id);
	choose_id(p->id, o, st, g->id, p->record, now, p->notes, sizeof p->notes);
	int64_t t, first;
	kura_error ignored;
	if (ingested && kura_time_parse(&t, ingested, &ignored) == 0 && t <= now &&
	    (!proven || (kura_time_parse(&first, proven, &ignored) == 0 && t <= first))) {
		p->ingested_ms = t;
	} else if (ingested) {
		json_object_set_new(imported, "ingested", json_string(ingested));
		note(p->notes, sizeof p->notes, "its ingest time %s is later than %s: the import's time was kept instead",
		     ingested, proven ? "its first time-stamp or now" : "now");
	}
	copy_claims(p->fields, obj);
	choose_links(p->fields, imported, o, obj, p->notes, sizeof p->notes);
	return 0;
}

int kura_import_origin_done(kura_import_origin *o, const kura_import_plan *p, const char *claimed, const char *id,
			    kura_error *err)
{
	const char *record = str(p->fields, "record");
	json_t *e = json_pack("{s:s, s:s, s:s}", "id", id, "record", record ? record : id, "original_record", p->record);
	int rc = e ? json_object_set_new(o->used, id, json_true()) : -1;
	if (rc == 0 && claimed)
		rc = json_object_set(o->seen, claimed, e);
	if (rc == 0)
		rc = json_object_set_new(o->current, record ? record : id, json_string(id));
	if (rc == 0 && claimed && p->record[0] && strcmp(claimed, id) != 0) /* renamed: its record's later versions too */
		rc = json_object_set_new(o->renamed, p->record, json_true());
	json_decref(e);
	return rc == 0 ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

void kura_import_plan_clear(kura_import_plan *p)
{
	json_decref(p->fields);
	memset(p, 0, sizeof *p);
}
