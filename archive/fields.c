/* A store's search fields (kura/search.h, docs/SEARCH.md) as the archive
 * keeps them: their definitions (read from the index, which derives them from
 * "field-add" audit records), the check of a new object's metadata against
 * them, and the entries of their secondary indexes.
 *
 * INVARIANT: every version of every document has exactly one entry in the
 * index of every field whose definition says "built", and one vector holding
 * every field's value (index/fields.c 'f', 'g'): put by
 * kura_fields_index_object, ONE function for ingest, recovery and the
 * filling of an index (kura_fields_build: `field add` for the objects stored
 * before, reindex for all). A field is "built" only once that filling has
 * finished; until then queries on it are refused, never answered from half an
 * index. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "kura/progress.h"

#define BUILD_BATCH 10000

/* ---------------------------------------------------------------- definitions */

static int def_from_json(kura_field *f, const char *name, json_t *d, kura_error *err)
{
	const char *type = json_string_value(json_object_get(d, "type"));
	json_t *req = json_object_get(d, "required_for"), *v;
	size_t i;
	memset(f, 0, sizeof *f);
	if (!type || kura_field_type_parse(&f->type, type, NULL) != 0 || (req && !json_is_array(req)))
		return kura_error_set(err, KURA_EIO, "the definition of field '%s' in the index is damaged; run kura reindex", name);
	f->built = json_is_true(json_object_get(d, "built"));
	if (!(f->name = strdup(name)) || !(f->required_for = calloc(json_array_size(req) + 1, sizeof *f->required_for)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_array_foreach(req, i, v)
		if (json_is_string(v) && !(f->required_for[f->nrequired++] = strdup(json_string_value(v))))
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return 0;
}

static int take_def(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	kura_fields *fs = ud;
	kura_field *v = realloc(fs->v, (fs->n + 1) * sizeof *v);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	fs->v = v;
	json_t *d = json_loadb(value, vlen, 0, NULL);
	int rc = def_from_json(&fs->v[fs->n], name, d, err);
	fs->n++; /* cleared with the rest, whatever def_from_json filled */
	json_decref(d);
	return rc;
}

int kura_fields_load_index(kura_fields *out, kura_index *ix, kura_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = kura_index_each_field_def(ix, take_def, out, err);
	if (rc != 0)
		kura_fields_clear(out);
	return rc;
}

int kura_fields_load(kura_fields *out, kura_store *st, kura_error *err)
{
	return kura_fields_load_index(out, kura_store_index(st), err);
}

void kura_fields_clear(kura_fields *fs)
{
	for (size_t i = 0; fs && i < fs->n; i++) {
		for (size_t j = 0; j < fs->v[i].nrequired; j++)
			free(fs->v[i].required_for[j]);
		free(fs->v[i].required_for);
		free(fs->v[i].name);
	}
	if (fs) {
		free(fs->v);
		memset(fs, 0, sizeof *fs);
	}
}

const kura_field *kura_fields_find(const kura_fields *fs, const char *name)
{
	for (size_t i = 0; fs && i < fs->n; i++)
		if (strcmp(fs->v[i].name, name) == 0)
			return &fs->v[i];
	return NULL;
}

char *kura_field_def_json(const kura_field *f, int built)
{
	json_t *req = json_array();
	for (size_t i = 0; req && i < f->nrequired; i++)
		json_array_append_new(req, json_string(f->required_for[i]));
	json_t *d = json_pack("{s:s, s:s, s:o, s:b}", "name", f->name, "type", kura_field_type_name(f->type),
			      "required_for", req, "built", built);
	char *text = d ? json_dumps(d, JSON_COMPACT) : NULL;
	json_decref(d);
	return text;
}

/* ---------------------------------------------------------------- checks */

static int required_for(const kura_field *f, const char *cls)
{
	for (size_t i = 0; cls && i < f->nrequired; i++)
		if (strcmp(f->required_for[i], cls) == 0)
			return 1;
	return 0;
}

static int check_value(const kura_field *f, const char *cls, const char *value, kura_error *err)
{
	unsigned char enc[KURA_FIELD_VALUE_MAX];
	size_t len;
	if (!value || !*value)
		return required_for(f, cls) ? kura_error_set(err, KURA_EINPUT,
							     "field '%s' is required for class %s: give it a value (%s: %s=VALUE)",
							     f->name, cls, kura_field_type_name(f->type), f->name)
					    : 0;
	kura_error why = {0};
	if (kura_field_encode(enc, &len, f->type, value, 0, &why) != 0)
		return kura_error_set(err, KURA_EINPUT, "field '%s' (%s): %s", f->name, kura_field_type_name(f->type),
				      why.message);
	return 0;
}

int kura_fields_check_json(const kura_fields *fs, const char *cls, json_t *meta, kura_error *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && fs && i < fs->n; i++)
		rc = check_value(&fs->v[i], cls, json_string_value(json_object_get(meta, fs->v[i].name)), err);
	return rc;
}

/* ---------------------------------------------------------------- index entries */

/* The state of f's value in meta, and its encoding in enc (*len bytes). */
static int value_in(json_t *meta, const kura_field *f, unsigned char enc[KURA_FIELD_VALUE_MAX], size_t *len)
{
	const char *value = json_string_value(json_object_get(meta, f->name));
	*len = 0;
	if (!value || !*value)
		return KURA_FIELD_EMPTY;
	return kura_field_encode(enc, len, f->type, value, 0, NULL) == 0 ? KURA_FIELD_VALUE : KURA_FIELD_INVALID;
}

/* The entries of id in the indexes of the fields fs ('f'), and its vector
 * ('g': every field of all, so that a query decides a candidate without its
 * object record). Both from meta alone. */
static void put_entries(kura_index_batch *b, const kura_fields *fs, const kura_fields *all, const char *id,
			json_t *meta)
{
	unsigned char enc[KURA_FIELD_VALUE_MAX], *vec = malloc(all->n * (5 + 512 + KURA_FIELD_VALUE_MAX) + 1);
	size_t len, n = 0;
	for (size_t i = 0; i < all->n; i++) { /* each value encoded once, for both */
		const kura_field *f = &all->v[i];
		size_t k = strlen(f->name);
		int state = value_in(meta, f, enc, &len);
		if (fs == all || kura_fields_find(fs, f->name))
			kura_index_batch_put_field_value(b, f->name, state, enc, len, id);
		if (!vec)
			continue;
		vec[n++] = (unsigned char)(k >> 8); /* u16 name length, name, u8 state, u16 length, encoding */
		vec[n++] = (unsigned char)k;
		memcpy(vec + n, f->name, k);
		n += k;
		vec[n++] = (unsigned char)state;
		vec[n++] = (unsigned char)(len >> 8);
		vec[n++] = (unsigned char)len;
		memcpy(vec + n, enc, len);
		n += len;
	}
	if (vec) /* without it (no memory) a query reads the object record instead */
		kura_index_batch_put_field_vector(b, id, vec, n);
	free(vec);
}

void kura_fields_index_object(kura_index_batch *b, const kura_fields *fs, const char *id, json_t *object)
{
	if (fs && fs->n && !json_object_get(object, "system"))
		put_entries(b, fs, fs, id, json_object_get(object, "meta"));
}

int kura_fields_vector_find(const unsigned char *v, size_t n, const char *name, const unsigned char **enc,
			    size_t *len)
{
	size_t k = strlen(name);
	for (size_t at = 0; at + 5 <= n;) {
		size_t nk = (size_t)v[at] << 8 | v[at + 1];
		if (at + 5 + nk > n)
			return -1;
		size_t el = (size_t)v[at + 3 + nk] << 8 | v[at + 4 + nk];
		if (at + 5 + nk + el > n)
			return -1;
		if (nk == k && memcmp(v + at + 2, name, k) == 0) {
			*enc = v + at + 5 + nk;
			*len = el;
			return v[at + 2 + nk];
		}
		at += 5 + nk + el;
	}
	return -1;
}

struct builder {
	kura_index *ix;
	kura_index_batch *b;
	kura_fields *fs, *all; /* the fields to fill; every field (the vectors) */
	size_t in_batch;
	uint64_t done;
	kura_progress *progress;
};

static int build_step(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	struct builder *bl = ud;
	json_t *object = json_loadb(o->json, o->json_len, 0, NULL);
	if (!object)
		return kura_error_set(err, KURA_EIO, "object %s in the index is damaged; run kura reindex", id);
	if (!json_object_get(object, "system"))
		put_entries(bl->b, bl->fs, bl->all, id, json_object_get(object, "meta"));
	json_decref(object);
	int rc = 0;
	if (++bl->in_batch == BUILD_BATCH) {
		rc = kura_index_write(bl->ix, bl->b, 0, err);
		kura_index_batch_clear(bl->b);
		bl->in_batch = 0;
	}
	kura_progress_update(bl->progress, 0, ++bl->done);
	return rc;
}

int kura_fields_build(kura_index *ix, const char *only, kura_error *err)
{
	kura_fields all, some = {0};
	int rc = kura_fields_load_index(&all, ix, err);
	if (rc != 0)
		return rc;
	/* the fields to fill: shallow copies of all's (some owns only its array) */
	if (all.n && !(some.v = malloc(all.n * sizeof *some.v)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < all.n; i++)
		if (only ? strcmp(all.v[i].name, only) == 0 : !all.v[i].built)
			some.v[some.n++] = all.v[i];
	struct builder bl = {.ix = ix, .fs = &some, .all = &all};
	if (rc == 0 && some.n && (rc = kura_index_batch_new(&bl.b, err)) == 0) {
		bl.progress = kura_progress_new("indexing fields", 0);
		rc = kura_index_each_object(ix, build_step, &bl, err);
		kura_progress_free(bl.progress);
		for (size_t i = 0; rc == 0 && i < some.n; i++) {
			char *def = kura_field_def_json(&some.v[i], 1);
			if (!def)
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
			else
				kura_index_batch_put_field_def(bl.b, some.v[i].name, def);
			free(def);
		}
		if (rc == 0)
			rc = kura_index_write(ix, bl.b, 1, err);
		kura_index_batch_free(bl.b);
	}
	free(some.v);
	kura_fields_clear(&all);
	return rc;
}
