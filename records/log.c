/* The audit trail as a reader sees it (`kura log`, docs/RECORDS.md): every audit
 * record in the order written, each exactly as stored. Records from before the
 * chain (no "seq") come first, marked unchained; then the chain by seq. A query
 * narrows it to a time span and to the records about one object or its record:
 * the index's 'x' keys name the changes to a record (metadata, events, holds,
 * disposal), and the records that name one of its versions (its ingest, import,
 * export) are found by looking at each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "kura/clock.h"
#include "kura/records.h"

struct ids {
	char *v; /* n IDs of KURA_ID_LEN characters */
	size_t n;
	uint64_t *seqs; /* the 'x' references */
	size_t nseqs;
};

struct walk {
	kura_store *st;
	const kura_log_query *q;
	struct ids about;
	kura_log_fn fn;
	void *ud;
};

static int add_id(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	struct ids *s = ud;
	char *v = realloc(s->v, (s->n + 1) * KURA_ID_LEN);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	s->v = v;
	memcpy(s->v + s->n++ * KURA_ID_LEN, name, KURA_ID_LEN);
	return 0;
}

static int add_seq(void *ud, uint64_t seq, kura_error *err)
{
	struct ids *s = ud;
	uint64_t *v = realloc(s->seqs, (s->nseqs + 1) * sizeof *v);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	s->seqs = v;
	s->seqs[s->nseqs++] = seq;
	return 0;
}

/* The versions of the record q->object belongs to, and the audit records the
 * index names as about it or about the object. */
static int load_about(struct ids *s, kura_store *st, const char *object, kura_error *err)
{
	kura_version_info v;
	int rc = kura_records_version(&v, st, object, err);
	if (rc != 0)
		return rc;
	kura_index *ix = kura_store_index(st);
	const char *id = json_string_value(json_object_get(v.object, "id"));
	rc = add_id(s, v.record, NULL, 0, err);
	if (rc == 0)
		rc = kura_index_each_version(ix, v.record, add_id, s, err);
	if (rc == 0)
		rc = kura_index_each_about(ix, v.record, add_seq, s, err);
	if (rc == 0 && id && strcmp(id, v.record) != 0)
		rc = kura_index_each_about(ix, id, add_seq, s, err);
	kura_version_info_clear(&v);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, KURA_ID_LEN);
}

static int names_one(const struct ids *s, json_t *v)
{
	const char *id = json_string_value(v);
	if (!id && json_is_object(v))
		return names_one(s, json_object_get(v, "id")) || names_one(s, json_object_get(v, "record"));
	return id && strlen(id) == KURA_ID_LEN && s->n && bsearch(id, s->v, s->n, KURA_ID_LEN, cmp_id);
}

/* The objects or records q->ids. */
static int load_ids(struct ids *s, const char *ids, size_t n, kura_error *err)
{
	if (!(s->v = malloc(n * KURA_ID_LEN + 1)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (n)
		memcpy(s->v, ids, n * KURA_ID_LEN);
	s->n = n;
	return 0;
}

/* Whether the record e names one of the versions in s (sorted). */
static int names_any(const struct ids *s, json_t *e)
{
	static const char *const lists[] = {"objects", "records", "versions", "disposed"};
	static const char *const single[] = {"object", "record", "supersedes"};
	for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
		size_t k;
		json_t *v;
		json_array_foreach(json_object_get(e, lists[i]), k, v)
			if (names_one(s, v))
				return 1;
	}
	for (size_t i = 0; i < sizeof single / sizeof *single; i++)
		if (names_one(s, json_object_get(e, single[i])))
			return 1;
	return 0;
}

int kura_records_names_any(json_t *e, const char *ids, size_t n)
{
	struct ids s = {.v = (char *)ids, .n = n};
	return names_any(&s, e);
}

/* Whether the record e (seq) is about one of the versions in s. */
static int is_about(const struct ids *s, json_t *e, uint64_t seq)
{
	for (size_t i = 0; i < s->nseqs; i++)
		if (s->seqs[i] == seq)
			return 1;
	return names_any(s, e);
}

static int in_span(const struct walk *w, json_t *e)
{
	int64_t t;
	const char *time = json_string_value(json_object_get(e, "time"));
	if (w->q->since == INT64_MIN && w->q->until == INT64_MAX)
		return 1;
	return time && kura_time_parse(&t, time, NULL) == 0 && t >= w->q->since && t <= w->q->until;
}

/* The trail an import brought with it (package/import.c): each entry as it was
 * in the store it came from, in the span asked for. */
static int visit_imported(struct walk *w, json_t *e, kura_error *err)
{
	size_t i;
	json_t *v;
	int rc = 0;
	json_array_foreach(json_object_get(e, "imported_trail"), i, v) {
		const char *text = json_string_value(v);
		json_t *old = text ? json_loads(text, 0, NULL) : NULL;
		if (old && rc == 0 && in_span(w, old))
			rc = w->fn(w->ud, text, strlen(text), old, KURA_LOG_IMPORTED, err);
		json_decref(old);
	}
	return rc;
}

/* Reads the record id and hands it on if the query wants it; chained: 1 for the
 * chain's records (unchained ones only when they have no seq). */
static int visit(struct walk *w, const char *id, int chained, kura_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = kura_store_audit_text(&text, &len, w->st, id, err);
	if (rc != 0)
		return rc;
	json_t *e = json_loadb(text, len, 0, NULL);
	json_int_t seq = json_integer_value(json_object_get(e, "seq"));
	int about = e && ((!w->q->object && !w->q->ids) || is_about(&w->about, e, (uint64_t)seq));
	if (!e)
		rc = kura_error_set(err, KURA_EVERIFY, "audit record %s is not JSON; kura log --verify says more", id);
	else if ((chained || seq <= 0) && about && in_span(w, e))
		rc = w->fn(w->ud, text, len, e, chained ? KURA_LOG_CHAINED : KURA_LOG_UNCHAINED, err);
	if (rc == 0 && e && chained && about && !w->q->chain_only)
		rc = visit_imported(w, e, err);
	json_decref(e);
	free(text);
	return rc;
}

static int visit_link(void *ud, const kura_index_chain_link *l, kura_error *err)
{
	return visit(ud, l->id, 1, err);
}

static int visit_unchained(void *ud, const char *id, kura_error *err)
{
	return visit(ud, id, 0, err);
}

static int count_one(void *ud, const char *id, kura_error *err)
{
	(void)id;
	(void)err;
	++*(uint64_t *)ud;
	return 0;
}

int kura_records_log(kura_store *st, const kura_log_query *q, kura_log_fn fn, void *ud, kura_error *err)
{
	struct walk w = {.st = st, .q = q, .fn = fn, .ud = ud};
	kura_index *ix = kura_store_index(st);
	kura_index_chain_link head;
	uint64_t all = 0;
	int rc = q->object ? load_about(&w.about, st, q->object, err) : q->ids ? load_ids(&w.about, q->ids, q->nids, err) : 0;
	if (rc == 0 && w.about.n > 1)
		qsort(w.about.v, w.about.n, KURA_ID_LEN, cmp_id);
	if (rc == 0)
		rc = kura_index_chain_head(ix, &head, err);
	if (rc == 0)
		rc = kura_index_each_audit(ix, count_one, &all, err);
	if (rc == 0 && all > head.seq && !q->chain_only) /* records from before the chain, or a chain with gaps */
		rc = kura_index_each_audit(ix, visit_unchained, &w, err);
	if (rc == 0)
		rc = kura_index_each_chain(ix, visit_link, &w, err);
	free(w.about.v);
	free(w.about.seqs);
	return rc;
}
