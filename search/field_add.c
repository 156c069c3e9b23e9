/* kura field add (kura/search.h): a field's definition is an audit record
 * ("field-add": name, type, required_for), from which the index derives it
 * (archive/records_index.c); its secondary index is then filled for the
 * objects stored before (archive/fields.c kura_fields_build) and only then
 * marked built. A kill in between leaves it unbuilt: queries on it are
 * refused until `field add` runs again (which finishes it) or reindex.
 * Refused before anything is written: a name that is not a metadata key, an
 * unknown class, another type for an existing field, and a current version
 * holding a value that is not of the type (the user corrects it with
 * `kura meta set` first, or chooses text or keyword). */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/unicode.h"
#include "kura/records.h"
#include "records/retention_impl.h"

#define NAMED_MAX 10

struct scan {
	const kura_field *f;
	uint64_t bad;
	char named[NAMED_MAX * (KURA_ID_LEN + 2)];
};

static int scan_step(void *ud, json_t *object, kura_error *err)
{
	(void)err;
	struct scan *s = ud;
	const char *v = json_string_value(json_object_get(json_object_get(object, "meta"), s->f->name));
	unsigned char e[KURA_FIELD_VALUE_MAX];
	size_t len;
	if (v && *v && kura_field_encode(e, &len, s->f->type, v, 0, NULL) != 0 && s->bad++ < NAMED_MAX) {
		strcat(s->named, s->bad > 1 ? ", " : "");
		strncat(s->named, json_string_value(json_object_get(object, "id")), KURA_ID_LEN);
	}
	return 0;
}

/* The definition to record: f, with the classes of old (the field as it was) kept. */
static json_t *definition(const kura_field *f, const kura_field *old)
{
	json_t *req = json_array();
	for (size_t i = 0; old && req && i < old->nrequired; i++)
		json_array_append_new(req, json_string(old->required_for[i]));
	for (size_t i = 0; req && i < f->nrequired; i++) {
		size_t j = 0;
		while (j < json_array_size(req) && strcmp(json_string_value(json_array_get(req, j)), f->required_for[i]) != 0)
			j++;
		if (j == json_array_size(req))
			json_array_append_new(req, json_string(f->required_for[i]));
	}
	return json_pack("{s:s, s:s, s:o}", "name", f->name, "type", kura_field_type_name(f->type), "required_for", req);
}

static int check_new(kura_store *st, const kura_field *f, const kura_field *old, kura_error *err)
{
	if (old && old->type != f->type)
		return kura_error_set(err, KURA_EINPUT, "field '%s' is %s already; a field keeps its type", f->name,
				      kura_field_type_name(old->type));
	kura_retention classes;
	int rc = f->nrequired ? kura_records_classes(&classes, st, err) : 0, loaded = f->nrequired && rc == 0;
	for (size_t i = 0; rc == 0 && i < f->nrequired; i++)
		if (!kura_retention_find(&classes, f->required_for[i]))
			rc = kura_error_set(err, KURA_EINPUT, "--required-for %s: no such retention class (kura retention show "
							      "lists them)", f->required_for[i]);
	if (loaded)
		kura_retention_free(&classes);
	struct scan s = {.f = f};
	if (rc == 0 && (rc = kura_records_each(st, 0, scan_step, &s, err)) == 0 && s.bad)
		rc = kura_error_set(err, KURA_EINPUT,
				    "%llu current version%s hold%s a value of '%s' that is not %s (%s%s); correct them with "
				    "kura meta set STORE ID %s=VALUE --reason TEXT, or make the field text or keyword",
				    (unsigned long long)s.bad, s.bad > 1 ? "s" : "", s.bad > 1 ? "" : "s", f->name,
				    kura_field_type_name(f->type), s.named, s.bad > NAMED_MAX ? ", ..." : "", f->name);
	return rc;
}

int kura_field_add(const char *store, const char *name, kura_field_type t, const char *const *required_for,
		   size_t nreq, const char *actor, kura_error *err)
{
	kura_meta key = {name, ""};
	kura_field f = {.type = t, .required_for = (char **)required_for, .nrequired = nreq};
	kura_store *st = NULL;
	json_t *def = NULL;
	int rc = kura_ingest_check_meta(&key, err);
	if (rc == 0)
		rc = kura_unicode_nfc(&f.name, name, strlen(name), err);
	if (rc == 0 && (rc = kura_store_open(&st, store, KURA_STORE_WRITE, err)) == 0 && actor)
		rc = kura_store_set_actor(st, actor, err);
	const kura_field *old = rc == 0 ? kura_fields_find(kura_store_fields(st), f.name) : NULL;
	if (rc == 0)
		rc = check_new(st, &f, old, err);
	if (rc == 0 && !(def = definition(&f, old)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_audit_record(st, "field-add", def, NULL, err);
	if (rc == 0)
		rc = kura_fields_build(kura_store_index(st), f.name, err);
	if (rc == 0)
		rc = kura_store_reload_fields(st, err);
	json_decref(def);
	free(f.name);
	kura_store_close(st);
	return rc;
}
