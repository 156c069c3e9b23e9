/* A metadata change (`kura meta set`): never an overwrite, a new version of the
 * record with the same content (stored once) and the changed metadata; the old
 * version keeps its values, and the audit record says which keys went from what
 * to what, who changed them and why. */
#include <stdlib.h>
#include <string.h>

#include "kura/records.h"
#include "kura/seal.h"
#include "common/unicode.h"
#include "records/retention_impl.h"

/* The current metadata changed by meta: *out (kura_meta pointing into the JSON
 * objects) and the audit's old and new values. */
static int merged(json_t *cur_meta, const kura_meta *meta, size_t n, json_t *old, json_t *new_values, kura_error *err)
{
	for (size_t i = 0; i < n; i++) {
		int rc = kura_ingest_check_meta(&meta[i], err);
		if (rc != 0)
			return rc;
		json_t *was = json_object_get(cur_meta, meta[i].key);
		json_object_set(old, meta[i].key, was ? was : json_null());
		json_object_set_new(new_values, meta[i].key, meta[i].value[0] ? json_string(meta[i].value) : json_null());
	}
	return 0;
}

static kura_meta *meta_list(json_t *cur_meta, json_t *new_values, size_t *n)
{
	kura_meta *m = calloc(json_object_size(cur_meta) + json_object_size(new_values) + 1, sizeof *m);
	const char *key;
	json_t *v;
	*n = 0;
	json_object_foreach(cur_meta, key, v)
		if (m && !json_object_get(new_values, key) && json_is_string(v))
			m[(*n)++] = (kura_meta){key, json_string_value(v)};
	json_object_foreach(new_values, key, v)
		if (m && json_is_string(v))
			m[(*n)++] = (kura_meta){key, json_string_value(v)};
	return m;
}

static int change(kura_store *st, const kura_version_info *v, const kura_meta *meta, size_t n, const char *reason,
		  char new_id[KURA_ID_LEN + 1], kura_error *err)
{
	json_t *cur = NULL, *old = json_object(), *nv = json_object(), *fields = NULL, *audit = NULL;
	kura_ingest *in = NULL;
	kura_meta *list = NULL;
	size_t nlist = 0;
	int rc = kura_store_object(&cur, st, v->current, err);
	if (rc == 0)
		rc = merged(json_object_get(cur, "meta"), meta, n, old, nv, err);
	if (rc == 0 && json_equal(old, nv))
		rc = kura_error_set(err, KURA_EINPUT, "%s has these values already: nothing to change", v->current);
	if (rc == 0) {
		fields = json_pack("{s:s, s:s, s:s}", "record", v->record, "supersedes", v->current, "reason", reason);
		audit = json_pack("{s:s, s:s, s:O, s:O, s:s}", "record", v->record, "supersedes", v->current, "old", old,
				  "new", nv, "reason", reason);
		if (fields && json_object_get(cur, "class"))
			json_object_set(fields, "class", json_object_get(cur, "class"));
		list = meta_list(json_object_get(cur, "meta"), nv, &nlist);
		if (!fields || !audit || !list)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (rc == 0)
		rc = kura_ingest_new(&in, st, NULL, NULL, err);
	if (rc == 0) {
		kura_ingest_set_fields(in, fields);
		kura_ingest_set_audit(in, "meta", audit);
		rc = kura_ingest_add_version(in, v->current, list, nlist, new_id, err);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, err);
	kura_ingest_free(in);
	free(list);
	json_decref(cur);
	json_decref(old);
	json_decref(nv);
	json_decref(fields);
	json_decref(audit);
	return rc;
}

int kura_records_meta_set_st(kura_store *st, const char *id, const kura_meta *meta, size_t n, const char *reason,
			     char new_id[KURA_ID_LEN + 1], kura_error *err)
{
	if (!reason || !reason[0])
		return kura_error_set(err, KURA_EINPUT, "a metadata change needs --reason TEXT: say why");
	int bad = kura_unicode_check("--reason", reason, err);
	if (bad != 0)
		return bad;
	if (n == 0)
		return kura_error_set(err, KURA_EINPUT, "meta set needs at least one KEY=VALUE");
	kura_version_info v = {0};
	int rc = kura_records_version(&v, st, id, err);
	if (rc == KURA_ENOTFOUND)
		rc = kura_error_set(err, KURA_EINPUT, "%s: no such object in the store (kura ls %s --all-versions lists them)", id,
				    kura_store_path(st));
	if (rc == 0)
		rc = kura_records_check_own(&v, id, err);
	if (rc == 0 && v.disposed_by[0])
		rc = kura_error_set(err, KURA_EINPUT, "%s: its record was disposed of (audit record %s); nothing was changed", id,
				    v.disposed_by);
	if (rc == 0)
		rc = change(st, &v, meta, n, reason, new_id, err);
	kura_version_info_clear(&v);
	return rc;
}

int kura_records_meta_set(const char *store, const char *id, const kura_meta *meta, size_t n, const char *reason,
			  const char *actor, int no_seal, char new_id[KURA_ID_LEN + 1], kura_error *err)
{
	kura_store *st = NULL;
	int rc = kura_store_open(&st, store, KURA_STORE_WRITE, err);
	if (rc == 0 && actor)
		rc = kura_store_set_actor(st, actor, err);
	if (rc == 0)
		rc = kura_records_meta_set_st(st, id, meta, n, reason, new_id, err);
	if (rc == 0 && !no_seal) {
		kura_error serr = {0};
		if (kura_seal_all(NULL, st, NULL, &serr) != 0) {
			kura_error_wrap(&serr, "version %s is stored but not time-stamped; run kura seal %s later", new_id, store);
			*err = serr;
			rc = serr.code;
		}
	}
	kura_store_close(st);
	return rc;
}
