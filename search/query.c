/* Answering a search (kura/search.h): the conditions ANDed, over the fields'
 * secondary indexes (index/fields.c).
 *
 * Each condition is a range of one field's index: "amount>=100000" starts at
 * the encoding of JPY 100000 and ends where JPY does; "name^=山田" covers the
 * encodings that start with 山田's; the conditions on one field together make
 * one range ("d>=A d<=B": from A to B), walked once. The plan: walk the fields'
 * ranges, = and ^= first, keeping the IDs of each walk; the first walk whole,
 * each further one only while it has at most 2 times the candidates so far
 * (else it is dropped), the candidates being the IDs every finished walk had;
 * then check every condition on each candidate's own values, in ID order. So
 * a query costs about the entries of its most selective ranges, not the size
 * of the store.
 *
 * INVARIANT: a hit is decided by the candidate's own values, every condition
 * checked on them, never by the ranges walked alone: its vector of field
 * values ('g', which archive/fields.c writes from its object record together
 * with its 'f' entries, the ONE function for ingest, recovery and reindex), or
 * its object record itself where the vector lacks a field. Versions: by default each record's current
 * version, not disposed of; KURA_LIST_ALL_VERSIONS and KURA_LIST_DISPOSED as
 * `ls` (records/list.c). Semantics: a comparison (= != < <= > >= ^=) holds only
 * for a value of the type ("amount!=0" does not hold for an amount left empty,
 * nor across currencies for < <= > >=); "is empty" holds for no value or "". */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "kura/records.h"

struct cond {
	const kura_where *w;
	const kura_field *f;
	unsigned char v[KURA_FIELD_VALUE_MAX]; /* the value's encoding (a prefix for ^=) */
	size_t len;
};

static int cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c ? c : (alen > blen) - (alen < blen);
}

/* The amount's currency, which < <= > >= do not cross. */
static int same_group(const struct cond *c, const unsigned char *e, size_t len)
{
	return c->f->type != KURA_FIELD_AMOUNT || (len >= 3 && memcmp(e, c->v, 3) == 0);
}

static int holds(const struct cond *c, int state, const unsigned char *e, size_t len)
{
	if (c->w->op == KURA_WHERE_EMPTY)
		return state == KURA_FIELD_EMPTY;
	if (state != KURA_FIELD_VALUE)
		return 0;
	int d = cmp(e, len, c->v, c->len);
	switch (c->w->op) {
	case KURA_WHERE_EQ: return d == 0;
	case KURA_WHERE_NE: return d != 0;
	case KURA_WHERE_LT: return d < 0 && same_group(c, e, len);
	case KURA_WHERE_LE: return d <= 0 && same_group(c, e, len);
	case KURA_WHERE_GT: return d > 0 && same_group(c, e, len);
	case KURA_WHERE_GE: return d >= 0 && same_group(c, e, len);
	case KURA_WHERE_PREFIX: return len >= c->len && memcmp(e, c->v, c->len) == 0;
	default: return 0;
	}
}

/* 1 when no entry at or after e in the walk can hold. */
static int past(const struct cond *c, const unsigned char *e, size_t len)
{
	int d = cmp(e, len, c->v, c->len);
	switch (c->w->op) {
	case KURA_WHERE_EQ: case KURA_WHERE_LE: return d > 0;
	case KURA_WHERE_LT: return d >= 0;
	case KURA_WHERE_GT: case KURA_WHERE_GE: return !same_group(c, e, len);
	case KURA_WHERE_PREFIX: return d > 0 && !holds(c, KURA_FIELD_VALUE, e, len);
	default: return 0;
	}
}

/* Where the walk of c's range starts: its state, and the encoding to seek. */
static int start_of(const struct cond *c, size_t *from)
{
	switch (c->w->op) {
	case KURA_WHERE_EMPTY: *from = 0; return KURA_FIELD_EMPTY;
	case KURA_WHERE_EQ: case KURA_WHERE_GE: case KURA_WHERE_GT: case KURA_WHERE_PREFIX: *from = c->len; break;
	case KURA_WHERE_LT: case KURA_WHERE_LE: *from = c->f->type == KURA_FIELD_AMOUNT ? 3 : 0; break;
	default: *from = 0;
	}
	return KURA_FIELD_VALUE;
}

static int prepare(struct cond *c, const kura_where *w, const kura_fields *fs, kura_error *err)
{
	c->w = w;
	if (!(c->f = kura_fields_find(fs, w->field)))
		return kura_error_set(err, KURA_EINPUT, "the store has no field '%s': see kura field ls, or add it with kura field add",
				      w->field);
	if (!c->f->built)
		return kura_error_set(err, KURA_EIO, "the index of field '%s' is not complete (a field add was interrupted): "
						     "run kura field add STORE %s %s again, or kura reindex",
				      w->field, w->field, kura_field_type_name(c->f->type));
	int text = c->f->type == KURA_FIELD_TEXT || c->f->type == KURA_FIELD_KEYWORD;
	if (w->op == KURA_WHERE_PREFIX && !text)
		return kura_error_set(err, KURA_EINPUT, "^= (starts with) needs a text or keyword field; '%s' is %s", w->field,
				      kura_field_type_name(c->f->type));
	kura_error why = {0};
	if (w->op != KURA_WHERE_EMPTY && kura_field_encode(c->v, &c->len, c->f->type, w->value, w->op == KURA_WHERE_PREFIX, &why) != 0)
		return kura_error_set(err, KURA_EINPUT, "in --where %s: %s", w->field, why.message);
	return 0;
}

/* ---------------------------------------------------------------- walking a range */

/* A walk of the index of one field, from the start of its driving condition c
 * on: it stops where any condition on that field is past, and collects the IDs
 * of the entries every condition on that field holds for (so "d>=A d<=B" is
 * one range), at most limit of them (a walk that passes limit is cut). */
struct walk {
	const struct cond *c, *all;
	size_t nall;
	uint64_t limit;
	char *ids; /* nids * KURA_ID_LEN; unsorted */
	size_t nids, cap;
	int state, cut;
};

static int walk_step(void *ud, const unsigned char *e, size_t len, const char *id, kura_error *err)
{
	struct walk *w = ud;
	for (size_t i = 0; i < w->nall; i++)
		if (w->all[i].f == w->c->f && w->state == KURA_FIELD_VALUE && past(&w->all[i], e, len))
			return 1;
	for (size_t i = 0; i < w->nall; i++)
		if (w->all[i].f == w->c->f && !holds(&w->all[i], w->state, e, len))
			return 0;
	if (w->nids == w->limit) {
		w->cut = 1;
		return 1;
	}
	if (w->nids == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 256;
		char *v = realloc(w->ids, cap * KURA_ID_LEN);
		if (!v)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		w->ids = v;
		w->cap = cap;
	}
	memcpy(w->ids + w->nids++ * KURA_ID_LEN, id, KURA_ID_LEN);
	return 0;
}

static int walk(struct walk *w, kura_index *ix, kura_error *err)
{
	size_t from;
	w->state = start_of(w->c, &from);
	return kura_index_field_walk(ix, w->c->f->name, w->state, w->c->v, from, walk_step, w, err);
}

/* ---------------------------------------------------------------- the plan */

/* How early a condition drives a walk of its field: = and ^= (usually the
 * narrowest), then lower bounds (they start inside the field), then the rest;
 * 0: never (!= when there are other conditions: nearly the whole field). */
static int rank(const struct cond *c, size_t nc)
{
	switch (c->w->op) {
	case KURA_WHERE_EQ: case KURA_WHERE_PREFIX: return 3;
	case KURA_WHERE_GE: case KURA_WHERE_GT: return 2;
	case KURA_WHERE_NE: return nc > 1 ? 0 : 1;
	default: return 1;
	}
}

/* 1 when c drives its field's walk: the first of the field's conditions of the
 * highest rank (one walk a field; the others bound it). */
static int drives(const struct cond *c, size_t i, size_t nc)
{
	int r = rank(&c[i], nc);
	for (size_t j = 0; r && j < nc; j++)
		if (j != i && c[j].f == c[i].f && (rank(&c[j], nc) > r || (rank(&c[j], nc) == r && j < i)))
			return 0;
	return r > 0;
}

static uint64_t id_hash(const char *id)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < KURA_ID_LEN; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
	return h;
}

/* Keeps in a the IDs that are also in b. */
static int intersect(struct walk *a, const struct walk *b, kura_error *err)
{
	size_t size = 16;
	while (size < 2 * b->nids)
		size *= 2;
	uint32_t *slot = calloc(size, sizeof *slot); /* 1 + the index in b, 0: free */
	if (!slot)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < b->nids; i++) {
		size_t s = id_hash(b->ids + i * KURA_ID_LEN) & (size - 1);
		while (slot[s])
			s = (s + 1) & (size - 1);
		slot[s] = (uint32_t)i + 1;
	}
	size_t kept = 0;
	for (size_t i = 0; i < a->nids; i++) {
		const char *id = a->ids + i * KURA_ID_LEN;
		size_t s = id_hash(id) & (size - 1);
		while (slot[s] && memcmp(b->ids + (slot[s] - 1) * (size_t)KURA_ID_LEN, id, KURA_ID_LEN) != 0)
			s = (s + 1) & (size - 1);
		if (slot[s])
			memmove(a->ids + kept++ * KURA_ID_LEN, id, KURA_ID_LEN);
	}
	a->nids = kept;
	free(slot);
	return 0;
}

/* How many entries a further walk may take, per candidate it might rule out
 * before each is checked (checking a candidate, its vector and version
 * lookups, costs about as much as walking a dozen entries; a walk that is
 * dropped was wasted, so it may not run long). */
#define WALK_BUDGET 2

/* The candidates (*ids, *n; unsorted): the IDs in every walked range. One walk
 * a field (drives), = and ^= first; the first walk is whole, each further one
 * may take WALK_BUDGET times the candidates so far, and is dropped when it
 * passes that (its condition is then checked on the records alone). */
static int candidates(char **ids, size_t *n, kura_index *ix, const struct cond *c, size_t nc, kura_error *err)
{
	struct walk got = {0};
	int rc = 0, any = 0;
	for (int r = 3; r >= 0 && rc == 0; r--)
		for (size_t i = 0; rc == 0 && i < nc; i++) {
			int driver = drives(c, i, nc) && rank(&c[i], nc) == r;
			if (!driver && !(r == 0 && i == 0 && !any)) /* no driver at all: walk the first */
				continue;
			if (any && got.nids == 0)
				break; /* nothing can hold */
			struct walk w = {.c = &c[i], .all = c, .nall = nc,
					 .limit = any ? WALK_BUDGET * (uint64_t)got.nids : UINT64_MAX};
			rc = walk(&w, ix, err);
			if (rc == 0 && !w.cut && any)
				rc = intersect(&got, &w, err);
			if (rc == 0 && !any) {
				got = w;
				w.ids = NULL;
				any = 1;
			}
			free(w.ids);
		}
	*ids = got.ids;
	*n = rc == 0 ? got.nids : 0;
	return rc;
}

/* ---------------------------------------------------------------- checking a candidate */

struct hit {
	char id[KURA_ID_LEN];
	int state;          /* of the sort field's value */
	unsigned char *key; /* its encoding (the hit's) */
	size_t len;
};

/* The state and encoding of the value object's metadata has for f. */
static int value_of(json_t *object, const kura_field *f, unsigned char *e, size_t *len)
{
	const char *v = json_string_value(json_object_get(json_object_get(object, "meta"), f->name));
	*len = 0;
	if (!v || !*v)
		return KURA_FIELD_EMPTY;
	return kura_field_encode(e, len, f->type, v, 0, NULL) == 0 ? KURA_FIELD_VALUE : KURA_FIELD_INVALID;
}

/* Which versions q wants: 1 for one it lists. */
static int wanted(kura_index *ix, int flags, const char *id, kura_error *err)
{
	char other[KURA_ID_LEN + 1];
	kura_error scratch;
	int rc = flags & KURA_LIST_ALL_VERSIONS ? KURA_ENOTFOUND : kura_index_get_successor(ix, id, other, &scratch);
	if (rc != KURA_ENOTFOUND) /* superseded, or an error */
		return rc == 0 ? 0 : (*err = scratch, rc);
	rc = kura_index_get_disposed(ix, id, other, &scratch);
	if (rc != 0 && rc != KURA_ENOTFOUND)
		return *err = scratch, rc;
	return (rc == 0) == !!(flags & KURA_LIST_DISPOSED);
}

/* Fills h's sort key: a value's state and encoding. */
static int set_key(struct hit *h, int state, const unsigned char *e, size_t len, kura_error *err)
{
	h->state = state;
	h->len = len;
	if (len && !(h->key = malloc(len)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (len)
		memcpy(h->key, e, len);
	return 0;
}

/* Fills h's sort key from object (sort: the field, or NULL). */
static int sort_key(struct hit *h, json_t *object, const kura_field *sort, kura_error *err)
{
	unsigned char e[KURA_FIELD_VALUE_MAX];
	size_t len = 0;
	if (!sort)
		return 0;
	int state = value_of(object, sort, e, &len); /* before len is read */
	return set_key(h, state, e, len, err);
}

/* A candidate: its vector of field values (index/fields.c 'g'), and its
 * object record, read only when the vector lacks a field or the hit is kept. */
struct cand {
	kura_index *ix;
	char id[KURA_ID_LEN + 1];
	unsigned char *vec; /* NULL: none */
	size_t vn;
	kura_index_object o;
	json_t *object;
};

static int cand_object(struct cand *k, kura_error *err)
{
	if (k->object)
		return 0;
	int rc = kura_index_get_object(k->ix, k->id, &k->o, err);
	if (rc != 0)
		return rc == KURA_ENOTFOUND ? kura_error_set(err, KURA_EIO, "object %s is in a field's index but not in the "
									    "index of objects; run kura reindex", k->id)
					    : rc;
	if (!(k->object = json_loadb(k->o.json, k->o.json_len, 0, NULL)))
		return kura_error_set(err, KURA_EIO, "object %s in the index is damaged; run kura reindex", k->id);
	return 0;
}

/* The state of the candidate's value of f and its encoding (*e: in the vector
 * or in buf); < 0: an error. */
static int cand_value(struct cand *k, const kura_field *f, const unsigned char **e, size_t *len,
		      unsigned char buf[KURA_FIELD_VALUE_MAX], kura_error *err)
{
	int state = k->vec ? kura_fields_vector_find(k->vec, k->vn, f->name, e, len) : -1;
	if (state >= 0)
		return state;
	int rc = cand_object(k, err);
	*e = buf;
	return rc ? rc : value_of(k->object, f, buf, len);
}

/* 1 when candidate id is a hit (then h is filled, and *keep, when not NULL,
 * gets its description as kura_records_each gives it: the caller's), 0 when not. */
static int check(kura_store *st, const kura_query *q, const struct cond *c, size_t nc, const kura_field *sort,
		 const char *id, struct hit *h, json_t **keep, kura_error *err)
{
	struct cand k = {.ix = kura_store_index(st)};
	memcpy(k.id, id, KURA_ID_LEN);
	memcpy(h->id, id, KURA_ID_LEN);
	int rc = wanted(k.ix, q->flags, k.id, err);
	if (rc <= 0)
		return rc;
	if ((rc = kura_index_get_field_vector(k.ix, k.id, &k.vec, &k.vn, err)) == KURA_ENOTFOUND)
		rc = 0;
	unsigned char buf[KURA_FIELD_VALUE_MAX];
	const unsigned char *e = NULL;
	size_t len = 0;
	int state = KURA_FIELD_EMPTY, hit = 1;
	for (size_t i = 0; rc == 0 && hit && i < nc; i++) {
		if (i == 0 || c[i].f != c[i - 1].f) /* a field's value read once for its conditions in a row */
			rc = (state = cand_value(&k, c[i].f, &e, &len, buf, err)) < 0 ? state : 0;
		hit = rc == 0 && holds(&c[i], state, e, len);
	}
	if (rc == 0 && hit && sort && (rc = (state = cand_value(&k, sort, &e, &len, buf, err)) < 0 ? state : 0) == 0)
		rc = set_key(h, state, e, len, err);
	if (rc == 0 && hit && keep && (rc = cand_object(&k, err)) == 0) { /* ls --json is one shape */
		kura_store_describe(k.object, &k.o, k.ix);
		*keep = k.object;
		k.object = NULL;
	}
	free(k.vec);
	json_decref(k.object);
	kura_index_object_clear(&k.o);
	return rc ? rc : hit;
}

/* ---------------------------------------------------------------- the answer */

struct answer {
	struct hit *v;
	size_t n, cap;
	const kura_field *sort;
	kura_store_object_fn emit; /* not NULL: each hit goes to emit as it is found (ID order), not into v */
	void *ud;
};

static struct hit *next_hit(struct answer *a, kura_error *err)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 256;
		struct hit *v = realloc(a->v, cap * sizeof *v);
		if (!v) {
			kura_error_set(err, KURA_EINTERNAL, "out of memory");
			return NULL;
		}
		a->v = v;
		a->cap = cap;
	}
	memset(&a->v[a->n], 0, sizeof a->v[a->n]);
	return &a->v[a->n];
}

static int every_step(void *ud, json_t *object, kura_error *err)
{
	struct answer *a = ud;
	struct hit *h = next_hit(a, err);
	const char *id = json_string_value(json_object_get(object, "id"));
	if (!h)
		return KURA_EINTERNAL;
	memcpy(h->id, id, KURA_ID_LEN); /* records/list.c checked it */
	int rc = sort_key(h, object, a->sort, err);
	a->n += rc == 0;
	return rc;
}

static int cmp_id(const void *x, const void *y) { return memcmp(x, y, KURA_ID_LEN); }

static int by_id(const void *x, const void *y)
{
	return memcmp(((const struct hit *)x)->id, ((const struct hit *)y)->id, KURA_ID_LEN);
}

/* Values in order, then no value (empty, or not of the type), each then by ID. */
static int by_value(const void *x, const void *y)
{
	const struct hit *a = x, *b = y;
	int av = a->state == KURA_FIELD_VALUE, bv = b->state == KURA_FIELD_VALUE;
	int d = av != bv ? bv - av : av ? cmp(a->key, a->len, b->key, b->len) : 0;
	return d ? d : by_id(x, y);
}

static int answer(struct answer *a, kura_store *st, const kura_query *q, kura_error *err)
{
	const kura_fields *fs = kura_store_fields(st);
	struct cond *c = q->n ? calloc(q->n, sizeof *c) : NULL;
	char *ids = NULL;
	size_t nids = 0;
	int rc = q->n && !c ? kura_error_set(err, KURA_EINTERNAL, "out of memory") : 0;
	if (rc == 0 && q->sort && !(a->sort = kura_fields_find(fs, q->sort)))
		rc = kura_error_set(err, KURA_EINPUT, "--sort %s: the store has no such field (kura field ls)", q->sort);
	for (size_t i = 0; rc == 0 && i < q->n; i++)
		rc = prepare(&c[i], &q->where[i], fs, err);
	if (rc == 0 && q->n == 0)
		rc = kura_records_each(st, q->flags, every_step, a, err);
	if (rc == 0 && q->n)
		rc = candidates(&ids, &nids, kura_store_index(st), c, q->n, err);
	if (rc == 0 && nids) /* hits in ID order, and the index read in key order */
		qsort(ids, nids, KURA_ID_LEN, cmp_id);
	for (size_t i = 0; rc == 0 && i < nids; i++) {
		struct hit *h = next_hit(a, err);
		json_t *object = NULL;
		rc = h ? check(st, q, c, q->n, a->sort, ids + i * KURA_ID_LEN, h, a->emit ? &object : NULL, err)
		       : KURA_EINTERNAL;
		if (rc == 1 && a->emit) {
			rc = a->emit(a->ud, object, err);
			json_decref(object);
		} else {
			a->n += rc == 1;
			rc = rc == 1 ? 0 : rc;
		}
	}
	if (rc == 0 && a->n) /* no hit: a->v is NULL, which qsort must not get */
		qsort(a->v, a->n, sizeof *a->v, a->sort ? by_value : by_id);
	free(ids);
	free(c);
	return rc;
}

static void answer_clear(struct answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].key);
	free(a->v);
}

int kura_search_ids(char **ids, size_t *n, kura_store *st, const kura_query *q, kura_error *err)
{
	struct answer a = {0};
	int rc = answer(&a, st, q, err);
	*ids = NULL;
	*n = 0;
	if (rc == 0 && !(*ids = malloc(a.n * KURA_ID_LEN + 1)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < a.n; i++)
		memcpy(*ids + i * KURA_ID_LEN, a.v[i].id, KURA_ID_LEN);
	if (rc == 0)
		*n = a.n;
	answer_clear(&a);
	return rc;
}

int kura_search_each(kura_store *st, const kura_query *q, kura_store_object_fn fn, void *ud, kura_error *err)
{
	if (q->n && !q->sort) { /* in ID order: each hit as it is checked, its description read once */
		struct answer a = {.emit = fn, .ud = ud};
		int rc = answer(&a, st, q, err);
		answer_clear(&a);
		return rc;
	}
	char *ids = NULL, id[KURA_ID_LEN + 1] = {0};
	size_t n = 0;
	int rc = kura_search_ids(&ids, &n, st, q, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *object = NULL; /* described as kura_records_each does: ls --json is one shape */
		memcpy(id, ids + i * KURA_ID_LEN, KURA_ID_LEN);
		if ((rc = kura_store_object(&object, st, id, err)) == 0)
			rc = fn(ud, object, err);
		json_decref(object);
	}
	free(ids);
	return rc;
}
