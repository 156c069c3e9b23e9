/* Record places an index knows (see places.h): the boundaries that let a scan
 * go on after a record whose header is damaged, without ever searching for
 * records in bytes that may be a document's (RESYNC RULE, archive/segment.c). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive/places.h"
#include "common/hex.h"

struct kura_places {
	kura_index *ix;
	uint32_t cached_seg; /* the segment whose record starts are in starts */
	int cached;
	uint64_t *starts;
	size_t nstarts, capstarts;
	uint32_t *segs; /* committed ends, by segment */
	uint64_t *ends;
	size_t nsegs, capsegs;
};

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 64;
	void *g = realloc(*arr, c * elem);
	if (!g)
		return -1;
	*arr = g;
	*cap = c;
	return 0;
}

static int add_end(kura_places *p, uint32_t segno, uint64_t end)
{
	for (size_t i = 0; i < p->nsegs; i++)
		if (p->segs[i] == segno) {
			p->ends[i] = end > p->ends[i] ? end : p->ends[i];
			return 0;
		}
	size_t cap = p->capsegs;
	if (grow((void **)&p->segs, &cap, p->nsegs, sizeof *p->segs) != 0 ||
	    grow((void **)&p->ends, &p->capsegs, p->nsegs, sizeof *p->ends) != 0)
		return -1;
	size_t i = p->nsegs++;
	for (; i > 0 && p->segs[i - 1] > segno; i--) { /* kept sorted */
		p->segs[i] = p->segs[i - 1];
		p->ends[i] = p->ends[i - 1];
	}
	p->segs[i] = segno;
	p->ends[i] = end;
	return 0;
}

static int sealed_step(void *ud, uint32_t segno, uint64_t size, kura_error *err)
{
	(void)err;
	return add_end(ud, segno, size) == 0 ? 0 : KURA_EINTERNAL;
}

int kura_places_new(kura_places **out, kura_index *ix, kura_error *err)
{
	kura_places *p = calloc(1, sizeof *p);
	if (!p)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	p->ix = ix;
	uint32_t segno;
	uint64_t end;
	/* an index that cannot say knows nothing: no boundary is better than a guess */
	if (ix && kura_index_get_state(ix, &segno, &end, NULL) == 0 && add_end(p, segno, end) != 0) {
		kura_places_free(p);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (ix)
		kura_index_each_sealed_size(ix, sealed_step, p, NULL);
	*out = p;
	return 0;
}

void kura_places_free(kura_places *p)
{
	if (!p)
		return;
	free(p->starts);
	free(p->segs);
	free(p->ends);
	free(p);
}

static int add_start(kura_places *p, uint32_t segno, uint64_t offset)
{
	if (segno != p->cached_seg)
		return 0;
	if (grow((void **)&p->starts, &p->capstarts, p->nstarts, sizeof *p->starts) != 0)
		return KURA_EINTERNAL;
	p->starts[p->nstarts++] = offset;
	return 0;
}

static int object_start(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)id;
	(void)err;
	return add_start(ud, o->segno, o->offset);
}

static int blob_start(void *ud, const unsigned char *sha, const kura_index_blob *b, kura_error *err)
{
	(void)sha;
	(void)err;
	return add_start(ud, b->segno, b->offset);
}

static int place_start(void *ud, char kind, const char *id, uint32_t segno, uint64_t offset, kura_error *err)
{
	(void)kind;
	(void)id;
	(void)err;
	return add_start(ud, segno, offset);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int kura_places_next(kura_places *p, uint32_t segno, uint64_t off, uint64_t *next)
{
	if (!p || !p->ix)
		return 0;
	if (!p->cached || p->cached_seg != segno) {
		p->cached = 1;
		p->cached_seg = segno;
		p->nstarts = 0;
		if (kura_index_each_object(p->ix, object_start, p, NULL) != 0 ||
		    kura_index_each_blob(p->ix, blob_start, p, NULL) != 0 ||
		    kura_index_each_place(p->ix, place_start, p, NULL) != 0)
			p->nstarts = 0;
		qsort(p->starts, p->nstarts, sizeof *p->starts, cmp_u64);
	}
	size_t lo = 0, hi = p->nstarts; /* the first start > off */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->starts[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == p->nstarts)
		return 0;
	*next = p->starts[lo];
	return 1;
}

uint64_t kura_places_committed_end(const kura_places *p, uint32_t segno)
{
	for (size_t i = 0; p && i < p->nsegs; i++)
		if (p->segs[i] == segno)
			return p->ends[i];
	return 0;
}

size_t kura_places_segments(const kura_places *p, const uint32_t **segnos, const uint64_t **ends)
{
	*segnos = p->segs;
	*ends = p->ends;
	return p->nsegs;
}

/* ---------------------------------------------------------------- naming what is lost */

struct lost_blob {
	unsigned char sha[32];
	uint32_t segno;
	uint64_t offset;
};

struct naming {
	kura_lost_range *r;
	uint64_t *reach; /* reach[i]: the furthest end of ranges 0..i of r[i]'s segment */
	size_t n;
	kura_lost_fn fn;
	void *ud;
	struct lost_blob *blobs; /* inside the ranges, sorted by SHA-256 once collected */
	size_t nblobs, capblobs;
};

static int cmp_range(const void *a, const void *b)
{
	const kura_lost_range *x = a, *y = b;
	if (x->segno != y->segno)
		return x->segno < y->segno ? -1 : 1;
	return x->from < y->from ? -1 : x->from > y->from;
}

static int inside(const struct naming *w, uint32_t segno, uint64_t offset)
{
	size_t lo = 0, hi = w->n; /* the last range starting at or before (segno, offset) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const kura_lost_range *m = &w->r[mid];
		if (m->segno < segno || (m->segno == segno && m->from <= offset))
			lo = mid + 1;
		else
			hi = mid;
	}
	/* ranges may overlap: the furthest end of those before, within the segment */
	return lo > 0 && w->r[lo - 1].segno == segno && offset < w->reach[lo - 1];
}

static int lost_blob(void *ud, const unsigned char *sha, const kura_index_blob *b, kura_error *err)
{
	struct naming *w = ud;
	if (!inside(w, b->segno, b->offset))
		return 0;
	if (grow((void **)&w->blobs, &w->capblobs, w->nblobs, sizeof *w->blobs) != 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	struct lost_blob *l = &w->blobs[w->nblobs++];
	memcpy(l->sha, sha, 32);
	l->segno = b->segno;
	l->offset = b->offset;
	return 0;
}

static int cmp_sha(const void *a, const void *b)
{
	return memcmp(a, b, 32); /* the SHA-256 is the first member */
}

/* The lost blob that holds what (an object or a group member), or NULL. */
static const struct lost_blob *lost_content(const struct naming *w, json_t *what)
{
	unsigned char sha[32];
	const char *hex = json_string_value(json_object_get(what, "sha256"));
	if (!hex || kura_hex_decode(sha, 32, hex) != 0)
		return NULL;
	return bsearch(sha, w->blobs, w->nblobs, sizeof *w->blobs, cmp_sha);
}

static int lost_object(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)err;
	struct naming *w = ud;
	int whole = inside(w, o->segno, o->offset);
	if (!whole && w->nblobs == 0)
		return 0;
	json_t *j = json_loadb(o->json, o->json_len, 0, NULL), *members = json_object_get(j, "members");
	const char *record = json_string_value(json_object_get(j, "record"));
	record = record && strlen(record) == KURA_ID_LEN ? record : id;
	if (whole)
		w->fn(w->ud, "object record", id, record, o->segno, o->offset);
	for (size_t k = 0; !whole && k <= json_array_size(members); k++) {
		const struct lost_blob *l = lost_content(w, k == 0 ? j : json_array_get(members, k - 1));
		if (l) {
			w->fn(w->ud, "content", id, record, l->segno, l->offset);
			break;
		}
	}
	json_decref(j);
	return 0;
}

static int lost_place(void *ud, char kind, const char *id, uint32_t segno, uint64_t offset, kura_error *err)
{
	(void)err;
	struct naming *w = ud;
	if (inside(w, segno, offset))
		w->fn(w->ud, kind == 'E' ? "evidence record" : "audit entry", id, NULL, segno, offset);
	return 0;
}

int kura_places_name_lost(kura_places *p, kura_lost_range *ranges, size_t n, kura_lost_fn fn, void *ud,
			  kura_error *err)
{
	if (!p || !p->ix || n == 0)
		return 0;
	qsort(ranges, n, sizeof *ranges, cmp_range);
	struct naming w = {.r = ranges, .n = n, .fn = fn, .ud = ud, .reach = malloc(n * sizeof *w.reach)};
	if (!w.reach)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++)
		w.reach[i] = i > 0 && ranges[i - 1].segno == ranges[i].segno && w.reach[i - 1] > ranges[i].to ? w.reach[i - 1]
													       : ranges[i].to;
	int rc = kura_index_each_blob(p->ix, lost_blob, &w, err);
	if (rc == 0 && w.nblobs > 1)
		qsort(w.blobs, w.nblobs, sizeof *w.blobs, cmp_sha);
	if (rc == 0)
		rc = kura_index_each_object(p->ix, lost_object, &w, err);
	if (rc == 0)
		rc = kura_index_each_place(p->ix, lost_place, &w, err);
	free(w.blobs);
	free(w.reach);
	return rc;
}
