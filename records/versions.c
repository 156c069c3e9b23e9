/* Versions (docs/RECORDS.md): which record a version belongs to and which is
 * current, a new version by ingest (--supersedes, --versions-by-path) and by a
 * metadata change.
 *
 * INVARIANTS
 * - A new version always follows its record's CURRENT version (given any
 *   version's ID, the chain is continued at its end): a record never branches.
 * - Versions carry their record's retention class.
 * - Everything a request names is checked against the open store before the
 *   first document is written: a refused request stores nothing. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "archive/store_impl.h"
#include "common/hash.h"
#include "common/hex.h"
#include "kura/records.h"
#include "kura/seal.h"
#include "common/unicode.h"
#include "records/retention_impl.h"

void kura_version_info_clear(kura_version_info *v)
{
	json_decref(v->object);
	memset(v, 0, sizeof *v);
}

static int last_version(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	(void)err;
	snprintf(ud, KURA_ID_LEN + 1, "%s", name);
	return 0;
}

int kura_records_version(kura_version_info *out, kura_store *st, const char *id, kura_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = kura_store_object(&out->object, st, id, err);
	if (rc != 0)
		return rc;
	const char *record = json_string_value(json_object_get(out->object, "record"));
	snprintf(out->record, sizeof out->record, "%s", record ? record : json_string_value(json_object_get(out->object, "id")));
	memcpy(out->current, out->record, sizeof out->current);
	rc = kura_index_each_version(kura_store_index(st), out->record, last_version, out->current, err);
	if (rc == 0 && (rc = kura_index_get_disposed(kura_store_index(st), out->current, out->disposed_by, err)) == KURA_ENOTFOUND)
		rc = 0;
	if (rc != 0)
		kura_version_info_clear(out);
	return rc;
}

/* The fields of a new version of the record v is about. */
static json_t *version_fields(const kura_version_info *v, kura_store *st, const char *reason, kura_error *err)
{
	json_t *cur = NULL;
	if (kura_store_object(&cur, st, v->current, err) != 0)
		return NULL;
	json_t *f = json_pack("{s:s, s:s}", "record", v->record, "supersedes", v->current);
	json_t *cls = json_object_get(cur, "class"), *meta = json_object_get(cur, "meta");
	if (f && cls)
		json_object_set(f, "class", cls);
	if (f && json_object_size(meta))
		json_object_set(f, "meta", meta);
	if (f && reason)
		json_object_set_new(f, "reason", json_string(reason));
	json_decref(cur);
	if (!f)
		kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return f;
}

/* ---------------------------------------------------------------- ingest */

struct path_entry {
	char *path;
	char id[KURA_ID_LEN + 1];
	char record[KURA_ID_LEN + 1]; /* the record it is a version of */
	char sha256[65];
};

struct ingest_hook {
	const kura_records_ingest *r;
	const kura_ingest_events *ev;
	int started;
	json_t *fields;           /* the fields of new records, or with --supersedes the new version's */
	struct path_entry *paths; /* --versions-by-path: every object's path, the newest object of each */
	size_t npaths, cap;
};

static int by_path(const void *a, const void *b)
{
	const struct path_entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	return c ? c : strcmp(x->id, y->id);
}

static int note_path(void *ud, const char *id, const char *json, size_t len, kura_error *err)
{
	struct ingest_hook *h = ud;
	json_t *o = json_loadb(json, len, 0, NULL);
	const char *path = json_string_value(json_object_get(o, "path"));
	const char *sha = json_string_value(json_object_get(o, "sha256"));
	const char *record = json_string_value(json_object_get(o, "record"));
	int rc = 0;
	if (path && sha && !json_object_get(o, "system")) {
		if (h->npaths == h->cap) {
			size_t cap = h->cap ? 2 * h->cap : 256;
			struct path_entry *p = realloc(h->paths, cap * sizeof *p);
			if (!p)
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
			else
				h->paths = p, h->cap = cap;
		}
		struct path_entry *e = rc == 0 ? &h->paths[h->npaths] : NULL;
		if (e && (e->path = strdup(path))) {
			snprintf(e->id, sizeof e->id, "%s", id);
			snprintf(e->record, sizeof e->record, "%s", record ? record : id);
			snprintf(e->sha256, sizeof e->sha256, "%s", sha);
			h->npaths++;
		} else if (rc == 0)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	json_decref(o);
	return rc;
}

/* The newest object that has path, or NULL. */
static const struct path_entry *find_path(const struct ingest_hook *h, const char *path)
{
	const struct path_entry *found = NULL;
	size_t lo = 0, hi = h->npaths;
	while (lo < hi) { /* the first entry >= path */
		size_t mid = (lo + hi) / 2;
		if (strcmp(h->paths[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < h->npaths && strcmp(h->paths[lo].path, path) == 0; lo++)
		found = &h->paths[lo];
	return found;
}

/* A version of newest's record with newest's path whose content is sha256_hex,
 * or NULL (newest: what find_path found, the last of its path's entries). */
static const struct path_entry *same_bytes(const struct ingest_hook *h, const struct path_entry *newest,
					   const char *sha256_hex)
{
	for (size_t i = (size_t)(newest - h->paths) + 1; i-- > 0 && strcmp(h->paths[i].path, newest->path) == 0;)
		if (strcmp(h->paths[i].record, newest->record) == 0 && strcmp(h->paths[i].sha256, sha256_hex) == 0)
			return &h->paths[i];
	return NULL;
}

/* What a new version may not lack or carry. */
static int check_request(const kura_records_ingest *r, kura_error *err)
{
	if (r->supersedes && (!r->reason || !r->reason[0]))
		return kura_error_set(err, KURA_EINPUT, "a new version needs --reason TEXT: say why it replaces %s",
				      r->supersedes);
	int bad = kura_unicode_check("--reason", r->reason, err);
	if (bad != 0)
		return bad;
	if (r->supersedes && (r->class_name || r->nevents))
		return kura_error_set(err, KURA_EINPUT, "a new version keeps its record's class; events of a record: kura retention event");
	return 0;
}

/* The fields of new records: their class, events and reason. */
static json_t *base_fields(const kura_records_ingest *r)
{
	json_t *f = json_object(), *ev = r->nevents ? json_object() : NULL;
	if (f && r->class_name)
		json_object_set_new(f, "class", json_string(r->class_name));
	for (size_t i = 0; ev && i < r->nevents; i++)
		json_object_set_new(ev, r->events[i].name, json_string(r->events[i].date));
	if (f && ev)
		json_object_set_new(f, "events", ev);
	if (f && r->reason)
		json_object_set_new(f, "reason", json_string(r->reason));
	return f;
}

int kura_records_new_fields(json_t **out, kura_store *st, const kura_records_ingest *r, kura_error *err)
{
	*out = NULL;
	int rc = check_request(r, err);
	if (rc != 0)
		return rc;
	rc = kura_records_check_retention(st, r->class_name, r->events, r->nevents, err);
	if (rc != 0)
		return rc;
	if (!r->supersedes) {
		*out = base_fields(r);
		return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	kura_version_info v;
	if ((rc = kura_records_version(&v, st, r->supersedes, err)) != 0)
		return rc == KURA_ENOTFOUND ? kura_error_set(err, KURA_EINPUT,
							      "--supersedes %s: no such object in the store (kura ls %s --all-versions lists them)",
							      r->supersedes, kura_store_path(st))
					    : rc;
	rc = kura_records_check_own(&v, r->supersedes, err);
	if (rc == 0 && v.disposed_by[0])
		rc = kura_error_set(err, KURA_EINPUT, "--supersedes %s: its record was disposed of (audit record %s); "
						      "a disposed record gets no new versions", r->supersedes, v.disposed_by);
	*out = rc == 0 ? version_fields(&v, st, r->reason, err) : NULL;
	kura_version_info_clear(&v);
	return *out ? 0 : rc ? rc : err->code;
}

/* What is checked once, with the store open, before anything is written. */
static int hook_start(struct ingest_hook *h, kura_store *st, kura_error *err)
{
	int rc = kura_records_new_fields(&h->fields, st, h->r, err);
	if (rc == 0 && h->r->versions_by_path) {
		rc = kura_store_each_description(st, note_path, h, err);
		if (rc == 0 && h->npaths)
			qsort(h->paths, h->npaths, sizeof *h->paths, by_path);
	}
	return rc;
}

static void say(const struct ingest_hook *h, const char *fmt, const char *a, const char *b)
{
	char msg[8192];
	snprintf(msg, sizeof msg, fmt, a, b);
	if (h->ev && h->ev->warn)
		h->ev->warn(h->ev->ud, msg);
}

/* --versions-by-path: the fields of path's document, or *skip when it is
 * unchanged: the same bytes as the record's current version, or as a version
 * that had this path (a re-scan of a folder never puts back the content a
 * correction replaced). */
static int by_path_fields(struct ingest_hook *h, kura_store *st, kura_ingest *in, const char *path, int *skip,
			  kura_error *err)
{
	const struct path_entry *e = find_path(h, path);
	if (!e) {
		kura_ingest_set_fields(in, h->fields);
		return 0;
	}
	unsigned char sha[32];
	char hex[65];
	kura_version_info v;
	int rc = kura_hash_file(sha, EVP_sha256(), path, err);
	if (rc == 0)
		rc = kura_records_version(&v, st, e->id, err);
	if (rc != 0)
		return rc;
	kura_hex_encode(hex, sha, 32);
	const struct path_entry *same = same_bytes(h, e, hex);
	json_t *cur = NULL;
	if (v.disposed_by[0]) { /* that record is gone: this is a new one */
		kura_ingest_set_fields(in, h->fields);
		kura_version_info_clear(&v);
		return 0;
	}
	if ((rc = kura_store_object(&cur, st, v.current, err)) == 0 &&
	    strcmp(hex, json_string_value(json_object_get(cur, "sha256"))) == 0) {
		*skip = 1;
		say(h, "%s is unchanged: it is version %s", path, v.current);
	} else if (rc == 0 && same) {
		*skip = 1;
		char both[2 * KURA_ID_LEN + 64];
		snprintf(both, sizeof both, "%s, which %s superseded", same->id, v.current);
		say(h, "%s is unchanged: it is version %s (left as it is)", path, both);
	} else if (rc == 0) {
		json_t *f = version_fields(&v, st, h->r->reason, err);
		kura_ingest_set_fields(in, f);
		rc = f ? 0 : err->code;
		json_decref(f);
	}
	json_decref(cur);
	kura_version_info_clear(&v);
	return rc;
}

static int hook(void *ud, kura_store *st, kura_ingest *in, const char *path, int *skip, kura_error *err)
{
	struct ingest_hook *h = ud;
	if (!h->started) {
		h->started = 1;
		int rc = hook_start(h, st, err);
		if (rc != 0)
			return rc;
		kura_ingest_set_fields(in, h->fields);
	}
	return h->r->versions_by_path ? by_path_fields(h, st, in, path, skip, err) : 0;
}

int kura_records_ingest_paths(const char *store, const char *const *paths, size_t n, const kura_ingest_options *o,
			      const kura_records_ingest *r, const kura_ingest_events *ev, kura_error *err)
{
	if (r->supersedes && (n != 1 || r->versions_by_path))
		return kura_error_set(err, KURA_EINPUT, "--supersedes takes exactly one document, and not with --versions-by-path");
	int rc = check_request(r, err);
	if (rc != 0)
		return rc;
	struct ingest_hook h = {.r = r, .ev = ev};
	kura_ingest_options oo = *o;
	oo.actor = r->actor;
	oo.each = hook;
	oo.each_ud = &h;
	rc = kura_ingest_paths(store, paths, n, &oo, ev, err);
	for (size_t i = 0; i < h.npaths; i++)
		free(h.paths[i].path);
	free(h.paths);
	json_decref(h.fields);
	return rc;
}
