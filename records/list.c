/* What `kura ls` lists: by default each record's current version, leaving out
 * superseded versions, disposed records and the objects kura made itself;
 * with KURA_LIST_DISPOSED only what was disposed of. The superseded
 * versions are read first (usually few: one per correction) and the objects
 * then walked once in ID order beside them, so listing current versions costs
 * about what listing every object does. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "kura/clock.h"
#include "kura/records.h"

struct ids {
	char *v; /* n IDs of KURA_ID_LEN characters, ascending */
	size_t n, cap;
};

static int take_id(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	struct ids *s = ud;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		char *v = realloc(s->v, cap * KURA_ID_LEN);
		if (!v)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v + s->n++ * KURA_ID_LEN, name, KURA_ID_LEN);
	return 0;
}

static int take_disposed(void *ud, const char *id, const char *by, kura_error *err)
{
	(void)by;
	return take_id(ud, id, NULL, 0, err);
}

/* Whether id is in s, which the walk goes through in ascending order (*at: where it stands). */
static int among(const struct ids *s, size_t *at, const char *id)
{
	while (*at < s->n && memcmp(s->v + *at * KURA_ID_LEN, id, KURA_ID_LEN) < 0)
		(*at)++;
	return *at < s->n && memcmp(s->v + *at * KURA_ID_LEN, id, KURA_ID_LEN) == 0;
}

struct filter {
	int flags;
	struct ids superseded, disposed;
	size_t at_disposed;
	size_t at; /* the first superseded ID not below the objects seen so far */
	kura_store_object_fn fn;
	void *ud;
};

static int step(void *ud, json_t *o, kura_error *err)
{
	struct filter *f = ud;
	const char *id = json_string_value(json_object_get(o, "id"));
	if (!id || strlen(id) != KURA_ID_LEN)
		return kura_error_set(err, KURA_EIO, "an object in the index has no ID; run kura reindex");
	if (!(f->flags & KURA_LIST_ALL_VERSIONS) && among(&f->superseded, &f->at, id))
		return 0;
	if (among(&f->disposed, &f->at_disposed, id) != !!(f->flags & KURA_LIST_DISPOSED))
		return 0;
	if (!(f->flags & KURA_LIST_SYSTEM) && json_object_get(o, "system"))
		return 0;
	return f->fn(f->ud, o, err);
}

int kura_records_each(kura_store *st, int flags, kura_store_object_fn fn, void *ud, kura_error *err)
{
	struct filter f = {.flags = flags, .fn = fn, .ud = ud};
	int rc = flags & KURA_LIST_ALL_VERSIONS ? 0 : kura_index_each_superseded(kura_store_index(st), take_id, &f.superseded, err);
	if (rc == 0)
		rc = kura_index_each_disposed(kura_store_index(st), take_disposed, &f.disposed, err);
	if (rc == 0)
		rc = (flags & KURA_LIST_SYSTEM ? kura_store_each_object_all : kura_store_each_object)(st, step, &f, err);
	free(f.superseded.v);
	free(f.disposed.v);
	return rc;
}

/* ---- counts for kura status: the same filter over the descriptions as stored ---- */

struct counting {
	struct filter f;
	int64_t since;
	kura_records_counts *c;
};

static int count_one(void *ud, const char *id, const char *text, size_t len, kura_error *err)
{
	struct counting *k = ud;
	int64_t t;
	if (strlen(id) != KURA_ID_LEN || among(&k->f.disposed, &k->f.at_disposed, id))
		return 0;
	json_t *o = json_loadb(text, len, 0, NULL);
	if (!o)
		return kura_error_set(err, KURA_EIO, "the description of object %s in the index does not parse; run kura reindex", id);
	if (!json_object_get(o, "system")) {
		uint64_t size = (uint64_t)json_integer_value(json_object_get(o, "size"));
		const char *when = json_string_value(json_object_get(o, "ingested"));
		k->c->versions++;
		k->c->records += !among(&k->f.superseded, &k->f.at, id);
		k->c->bytes += size;
		if (when && kura_time_parse(&t, when, NULL) == 0 && t >= k->since)
			k->c->bytes_since += size;
	}
	json_decref(o);
	return 0;
}

int kura_records_count(kura_records_counts *out, kura_store *st, int64_t since, kura_error *err)
{
	struct counting k = {.since = since, .c = out};
	memset(out, 0, sizeof *out);
	int rc = kura_index_each_superseded(kura_store_index(st), take_id, &k.f.superseded, err);
	if (rc == 0)
		rc = kura_index_each_disposed(kura_store_index(st), take_disposed, &k.f.disposed, err);
	if (rc == 0)
		rc = kura_store_each_description(st, count_one, &k, err);
	free(k.f.superseded.v);
	free(k.f.disposed.v);
	return rc;
}
