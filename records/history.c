/* A record's history (`kura history`): its versions, oldest first, and every
 * audit record about it (metadata changes, events, holds, disposal) in the
 * order written, each with who, when and why. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "kura/records.h"

struct collect {
	kura_store *st;
	json_t *list;
};

static int add_version(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	struct collect *c = ud;
	json_t *o = NULL;
	int rc = kura_store_object(&o, c->st, name, err);
	if (rc == 0) {
		char next[KURA_ID_LEN + 1];
		kura_error lerr = {0};
		int s = kura_index_get_successor(kura_store_index(c->st), name, next, &lerr);
		if (s == 0)
			json_object_set_new(o, "superseded_by", json_string(next));
		else if (s != KURA_ENOTFOUND) {
			json_decref(o);
			*err = lerr;
			return s;
		}
		json_array_append_new(c->list, o);
	}
	return rc;
}

static int add_audit(void *ud, uint64_t seq, kura_error *err)
{
	struct collect *c = ud;
	json_t *a = NULL;
	int rc = kura_store_audit_get_seq(&a, c->st, seq, err);
	if (rc == 0)
		json_array_append_new(c->list, a);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, KURA_ID_LEN);
}

/* The IDs of the versions, those they had before an import and the versions
 * an import claimed they follow, sorted (n of them). */
static char *version_ids(json_t *versions, size_t *n)
{
	size_t i;
	json_t *v;
	char *ids = malloc(3 * json_array_size(versions) * KURA_ID_LEN + 1);
	*n = 0;
	json_array_foreach(versions, i, v) {
		json_t *imp = json_object_get(v, "imported");
		const char *both[] = {json_string_value(json_object_get(v, "id")), json_string_value(json_object_get(imp, "id")),
				      json_string_value(json_object_get(imp, "supersedes"))};
		for (size_t k = 0; ids && k < 3; k++)
			if (both[k] && strlen(both[k]) == KURA_ID_LEN)
				memcpy(ids + (*n)++ * KURA_ID_LEN, both[k], KURA_ID_LEN);
	}
	if (ids)
		qsort(ids, *n, KURA_ID_LEN, cmp_id);
	return ids;
}

/* The records about the versions that the trails imported with them hold
 * (package/import.c keeps each package's trail in one "imported-trail" record). */
static json_t *imported_trail(json_t *versions, json_t *trail)
{
	size_t n, i, k;
	json_t *t, *line, *out = json_array();
	char *ids = version_ids(versions, &n);
	if (!ids || !out) {
		free(ids);
		json_decref(out);
		return NULL;
	}
	json_array_foreach(trail, i, t) {
		const char *action = json_string_value(json_object_get(t, "action"));
		if (!action || strcmp(action, "imported-trail") != 0)
			continue;
		json_array_foreach(json_object_get(t, "imported_trail"), k, line) {
			json_t *old = json_is_string(line) ? json_loads(json_string_value(line), 0, NULL) : NULL;
			if (old && kura_records_names_any(old, ids, n))
				json_array_append(out, old);
			json_decref(old);
		}
	}
	free(ids);
	return out;
}

static int add_flat(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	json_t *list = ud;
	return json_array_append_new(list, json_stringn(name, KURA_ID_LEN)) == 0
		       ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

int kura_records_versions_of(char **out, size_t *nout, kura_store *st, const char *const *of, size_t n, kura_error *err)
{
	json_t *list = json_array();
	int rc = list ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		kura_version_info v;
		if ((rc = kura_records_version(&v, st, of[i], err)) != 0)
			break;
		rc = add_flat(list, v.record, NULL, 0, err);
		if (rc == 0)
			rc = kura_index_each_version(kura_store_index(st), v.record, add_flat, list, err);
		kura_version_info_clear(&v);
	}
	*nout = rc == 0 ? json_array_size(list) : 0;
	*out = rc == 0 ? malloc(*nout * KURA_ID_LEN + 1) : NULL;
	if (rc == 0 && !*out)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < *nout; i++)
		memcpy(*out + i * KURA_ID_LEN, json_string_value(json_array_get(list, i)), KURA_ID_LEN);
	json_decref(list);
	return rc;
}

int kura_records_history(json_t **out, kura_store *st, const char *id, kura_error *err)
{
	kura_version_info v;
	*out = NULL;
	int rc = kura_records_version(&v, st, id, err);
	if (rc != 0)
		return rc;
	json_t *versions = json_array(), *trail = json_array();
	struct collect c = {st, versions};
	rc = versions && trail ? add_version(&c, v.record, NULL, 0, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_index_each_version(kura_store_index(st), v.record, add_version, &c, err);
	c.list = trail;
	if (rc == 0)
		rc = kura_index_each_about(kura_store_index(st), v.record, add_audit, &c, err);
	json_t *imported = rc == 0 ? imported_trail(versions, trail) : NULL;
	if (rc == 0 && !(*out = json_pack("{s:s, s:s, s:o, s:o, s:o}", "record", v.record, "current", v.current, "versions",
					  versions, "trail", trail, "imported_trail", imported)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0) {
		json_decref(versions);
		json_decref(trail);
	}
	kura_version_info_clear(&v);
	return rc;
}
