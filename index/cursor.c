/* Cursors over key ranges of the index, and every walk of the index built on
 * them: ONE iteration code path (a lookup of the newest ID, kura_index_last_id,
 * is the only other use of an iterator).
 *
 * INVARIANTS
 * - A cursor sees the index as it was when the cursor was opened: a RocksDB
 *   iterator is a consistent view (an implicit snapshot) from its creation on.
 *   A writable index gives every cursor a fresh iterator, so a cursor sees every
 *   write made before it was opened and none made while it is open. A
 *   read-only index never changes, so its iterators are reused.
 * - The end of a range is checked here, by comparing bytes as RocksDB orders
 *   keys, not with RocksDB's iterate_upper_bound: an iterator kept for reuse
 *   cannot change its bound.
 * - The key and value a cursor returns are RocksDB's own buffers, valid until
 *   the cursor's next call (next, seek, close). */
#include <stdlib.h>
#include <string.h>

#include "index/index_impl.h"

static rocksdb_iterator_t *iterator_take(kura_index *ix)
{
	return ix->nspare ? ix->spare[--ix->nspare] : rocksdb_create_iterator(ix->db, ix->ropts);
}

static void iterator_give(kura_index *ix, rocksdb_iterator_t *it, int failed)
{
	if (ix->readonly && !failed && ix->nspare < KURA_INDEX_SPARE_ITERATORS)
		ix->spare[ix->nspare++] = it;
	else
		rocksdb_iter_destroy(it);
}

/* Bytewise order, as RocksDB's default comparator. */
static int key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	return c != 0 ? c : (alen > blen) - (alen < blen);
}

static unsigned char *key_copy(unsigned char *inline_buf, const void *key, size_t len)
{
	unsigned char *p = len <= KURA_INDEX_KEY_INLINE ? inline_buf : malloc(len);
	if (p && len)
		memcpy(p, key, len);
	return p;
}

static void seek(struct kura_index_cursor *c, const void *key, size_t len)
{
	rocksdb_iter_seek(c->it, key, len);
	c->positioned = 1;
	c->done = 0;
}

int kura_index_cursor_init(struct kura_index_cursor *c, kura_index *ix, const void *start, size_t start_len,
			   const void *end, size_t end_len, kura_error *err)
{
	memset(c, 0, offsetof(struct kura_index_cursor, start_buf));
	unsigned char next_space;
	if (!start)
		start_len = 0;
	if (!end && start_len > 0 && ((const unsigned char *)start)[0] != 0xff) {
		next_space = (unsigned char)(((const unsigned char *)start)[0] + 1); /* the end of start's namespace */
		end = &next_space;
		end_len = 1;
	}
	c->bounded = end != NULL;
	c->start_len = start_len;
	c->end_len = c->bounded ? end_len : 0;
	c->start = key_copy(c->start_buf, start, c->start_len);
	c->end = key_copy(c->end_buf, end, c->end_len);
	if (!c->start || !c->end) {
		kura_index_cursor_fini(c);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	c->ix = ix;
	c->it = iterator_take(ix);
	seek(c, c->start, c->start_len);
	return 0;
}

void kura_index_cursor_fini(struct kura_index_cursor *c)
{
	if (c->it)
		iterator_give(c->ix, c->it, c->failed != 0);
	if (c->start && c->start != c->start_buf)
		free(c->start);
	if (c->end && c->end != c->end_buf)
		free(c->end);
	c->it = NULL;
	c->start = c->end = NULL;
}

kura_index_cursor *kura_index_cursor_open(kura_index *ix, const void *start, size_t start_len, const void *end,
					  size_t end_len, kura_error *err)
{
	kura_index_cursor *c = malloc(sizeof *c);
	if (!c) {
		kura_error_set(err, KURA_EINTERNAL, "out of memory");
		return NULL;
	}
	if (kura_index_cursor_init(c, ix, start, start_len, end, end_len, err) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

int kura_index_cursor_next(kura_index_cursor *c, const void **key, size_t *klen, const void **val, size_t *vlen,
			   kura_error *err)
{
	if (c->failed)
		return kura_error_set(err, c->failed, "index scan failed before");
	if (c->done)
		return 0;
	if (!c->positioned)
		rocksdb_iter_next(c->it);
	c->positioned = 0;
	if (!rocksdb_iter_valid(c->it)) {
		char *msg = NULL;
		c->done = 1;
		rocksdb_iter_get_error(c->it, &msg);
		if (msg)
			c->failed = kura_index_db_error(err, msg, "scan");
		return c->failed;
	}
	size_t n;
	const char *k = rocksdb_iter_key(c->it, &n);
	if (c->bounded && key_cmp(k, n, c->end, c->end_len) >= 0) {
		c->done = 1;
		return 0;
	}
	*key = k;
	*klen = n;
	*val = rocksdb_iter_value(c->it, vlen);
	return 1;
}

void kura_index_cursor_seek(kura_index_cursor *c, const void *key, size_t len)
{
	if (c->failed)
		return;
	if (key_cmp(key, len, c->start, c->start_len) < 0)
		seek(c, c->start, c->start_len);
	else
		seek(c, key, len);
}

void kura_index_cursor_close(kura_index_cursor *c)
{
	if (!c)
		return;
	kura_index_cursor_fini(c);
	free(c);
}

/* ---------------------------------------------------------------- walks */

/* The first key after every key that starts with prefix (plen > 0 bytes, not
 * all 0xff) into out; its length. */
static size_t prefix_end(unsigned char *out, const void *prefix, size_t plen)
{
	memcpy(out, prefix, plen);
	while (plen > 1 && out[plen - 1] == 0xff)
		plen--;
	out[plen - 1]++;
	return plen;
}


int kura_index_each_prefix(kura_index *ix, const char *prefix, size_t plen, kura_index_step_fn fn, void *ud,
			   kura_error *err)
{
	unsigned char end[KURA_INDEX_KEY_INLINE];
	struct kura_index_cursor c;
	int rc = kura_index_cursor_init(&c, ix, prefix, plen, end, prefix_end(end, prefix, plen), err);
	const void *k, *v;
	size_t klen, vlen;
	while (rc == 0 && (rc = kura_index_cursor_next(&c, &k, &klen, &v, &vlen, err)) == 1)
		rc = fn(ud, (const char *)k + plen, klen - plen, v, vlen, err);
	kura_index_cursor_fini(&c);
	return rc;
}

/* ---------------------------------------------------------------- objects */

static int object_init(kura_index_objects *c, kura_index *ix, const char *from, const char *to, kura_error *err)
{
	char start[1 + KURA_ID_LEN] = {'o'}, end[1 + KURA_ID_LEN];
	memset(c, 0, sizeof *c);
	if (from)
		kura_index_id_key(start, 'o', from);
	if (to)
		kura_index_id_key(end, 'o', to);
	return kura_index_cursor_init(&c->c, ix, start, from ? sizeof start : 1, to ? end : NULL, to ? sizeof end : 0,
				      err);
}

static void object_fini(kura_index_objects *c)
{
	kura_index_cursor_fini(&c->c);
	free(c->o.json);
}

/* The next object into c->id and c->o (its JSON in c's buffer). */
static int object_next(kura_index_objects *c, kura_error *err)
{
	const void *k, *v;
	size_t klen, vlen;
	int rc = kura_index_cursor_next(&c->c, &k, &klen, &v, &vlen, err);
	if (rc != 1)
		return rc;
	if (klen != 1 + KURA_ID_LEN || vlen < 12)
		return kura_error_set(err, KURA_EIO, "an object entry in the index is damaged; run kura reindex");
	size_t n = vlen - 12;
	if (n + 1 > c->cap) {
		char *g = realloc(c->o.json, 2 * n + 1);
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		c->o.json = g;
		c->cap = 2 * n + 1;
	}
	memcpy(c->id, (const char *)k + 1, KURA_ID_LEN);
	c->id[KURA_ID_LEN] = '\0';
	c->o.segno = kura_le32_get(v);
	c->o.offset = kura_le64_get((const unsigned char *)v + 4);
	memcpy(c->o.json, (const char *)v + 12, n);
	c->o.json[n] = '\0';
	c->o.json_len = n;
	return 1;
}

kura_index_objects *kura_index_objects_open(kura_index *ix, const char *from, const char *to, kura_error *err)
{
	kura_index_objects *c = malloc(sizeof *c);
	if (!c)
		kura_error_set(err, KURA_EINTERNAL, "out of memory");
	else if (object_init(c, ix, from, to, err) != 0) {
		free(c);
		c = NULL;
	}
	return c;
}

kura_index_objects *kura_index_objects_between(kura_index *ix, int64_t from_ms, int64_t to_ms, kura_error *err)
{
	char from[KURA_ID_LEN + 1], to[KURA_ID_LEN + 1];
	if (from_ms < 0 || from_ms > to_ms || to_ms > KURA_ID_MAX_MS + 1) {
		kura_error_set(err, KURA_EINPUT, "objects from %lld to %lld ms: not a time range (from 0 to 2^48 ms, from <= to)",
			       (long long)from_ms, (long long)to_ms);
		return NULL;
	}
	kura_id_first(from, from_ms);
	if (to_ms <= KURA_ID_MAX_MS)
		kura_id_first(to, to_ms);
	return kura_index_objects_open(ix, from, to_ms <= KURA_ID_MAX_MS ? to : NULL, err);
}

int kura_index_objects_next(kura_index_objects *c, const char **id, const kura_index_object **o, kura_error *err)
{
	int rc = object_next(c, err);
	if (rc == 1) {
		*id = c->id;
		*o = &c->o;
	}
	return rc;
}

void kura_index_objects_close(kura_index_objects *c)
{
	if (!c)
		return;
	object_fini(c);
	free(c);
}

int kura_index_each_object(kura_index *ix, kura_index_object_fn fn, void *ud, kura_error *err)
{
	kura_index_objects c;
	int rc = object_init(&c, ix, NULL, NULL, err);
	while (rc == 0 && (rc = object_next(&c, err)) == 1)
		rc = fn(ud, c.id, &c.o, err);
	object_fini(&c);
	return rc;
}

struct blob_walk {
	kura_index_blob_fn fn;
	void *ud;
};

static int blob_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct blob_walk *w = ud;
	kura_index_blob b;
	if (klen != 32 || kura_index_decode_blob(&b, v, vlen) != 0)
		return kura_error_set(err, KURA_EIO, "a blob entry in the index is damaged; run kura reindex");
	return w->fn(w->ud, (const unsigned char *)k, &b, err);
}

int kura_index_each_blob(kura_index *ix, kura_index_blob_fn fn, void *ud, kura_error *err)
{
	struct blob_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "b", 1, blob_step, &w, err);
}

struct pending_walk {
	kura_index_pending_fn fn;
	void *ud;
};

static int pending_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct pending_walk *w = ud;
	char id[KURA_ID_LEN + 1];
	if (klen != KURA_ID_LEN)
		return kura_error_set(err, KURA_EIO, "a pending entry in the index is damaged; run kura reindex");
	memcpy(id, k, KURA_ID_LEN);
	id[KURA_ID_LEN] = '\0';
	return w->fn(w->ud, id, (const unsigned char *)v, vlen, err);
}

int kura_index_each_pending(kura_index *ix, kura_index_pending_fn fn, void *ud, kura_error *err)
{
	struct pending_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "p", 1, pending_step, &w, err);
}

struct place_walk {
	kura_index_place_fn fn;
	void *ud;
	char kind;
};

static int place_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct place_walk *w = ud;
	char id[KURA_ID_LEN + 1];
	if (klen != KURA_ID_LEN || vlen != 12)
		return kura_error_set(err, KURA_EIO, "an index entry of a record is damaged; run kura reindex");
	memcpy(id, k, KURA_ID_LEN);
	id[KURA_ID_LEN] = '\0';
	return w->fn(w->ud, w->kind, id, kura_le32_get((const unsigned char *)v), kura_le64_get((const unsigned char *)v + 4), err);
}

int kura_index_each_place(kura_index *ix, kura_index_place_fn fn, void *ud, kura_error *err)
{
	struct place_walk w = {fn, ud, 'E'};
	int rc = kura_index_each_prefix(ix, "E", 1, place_step, &w, err);
	w.kind = 'a';
	return rc != 0 ? rc : kura_index_each_prefix(ix, "a", 1, place_step, &w, err);
}

struct link_walk {
	kura_index_link_fn fn;
	void *ud;
};

static int link_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct link_walk *w = ud;
	kura_index_link l;
	if (klen != KURA_ID_LEN || vlen != 17)
		return kura_error_set(err, KURA_EIO, "an evidence link in the index is damaged; run kura reindex");
	memcpy(l.record, k, KURA_ID_LEN);
	l.record[KURA_ID_LEN] = '\0';
	l.segno = kura_le32_get((const unsigned char *)v);
	l.offset = kura_le64_get((const unsigned char *)v + 4);
	l.position = kura_le32_get((const unsigned char *)v + 12);
	l.kind = v[16];
	return w->fn(w->ud, &l, err);
}

struct any_link_walk {
	kura_index_any_link_fn fn;
	void *ud;
};

static int any_link_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct any_link_walk *w = ud;
	char subject[KURA_ID_LEN + 1];
	kura_index_link l;
	if (klen != 2 * KURA_ID_LEN || vlen != 17)
		return kura_error_set(err, KURA_EIO, "an evidence link in the index is damaged; run kura reindex");
	memcpy(subject, k, KURA_ID_LEN);
	subject[KURA_ID_LEN] = '\0';
	memcpy(l.record, k + KURA_ID_LEN, KURA_ID_LEN);
	l.record[KURA_ID_LEN] = '\0';
	l.segno = kura_le32_get((const unsigned char *)v);
	l.offset = kura_le64_get((const unsigned char *)v + 4);
	l.position = kura_le32_get((const unsigned char *)v + 12);
	l.kind = v[16];
	return w->fn(w->ud, subject, &l, err);
}

int kura_index_each_link_all(kura_index *ix, kura_index_any_link_fn fn, void *ud, kura_error *err)
{
	struct any_link_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "e", 1, any_link_step, &w, err);
}

int kura_index_each_link(kura_index *ix, const char *subject, kura_index_link_fn fn, void *ud, kura_error *err)
{
	char prefix[1 + KURA_ID_LEN];
	struct link_walk w = {fn, ud};
	kura_index_id_key(prefix, 'e', subject);
	return kura_index_each_prefix(ix, prefix, sizeof prefix, link_step, &w, err);
}

static int decode_range(kura_index_range *r, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	if (klen != 2 * KURA_ID_LEN || vlen != KURA_INDEX_RANGE_VALUE)
		return kura_error_set(err, KURA_EIO, "a seal range in the index is damaged; run kura reindex");
	const unsigned char *u = (const unsigned char *)v;
	memcpy(r->last, k, KURA_ID_LEN);
	r->last[KURA_ID_LEN] = '\0';
	memcpy(r->record, k + KURA_ID_LEN, KURA_ID_LEN);
	r->record[KURA_ID_LEN] = '\0';
	r->segno = kura_le32_get(u);
	r->offset = kura_le64_get(u + 4);
	memcpy(r->first, v + 12, KURA_ID_LEN);
	r->first[KURA_ID_LEN] = '\0';
	r->n = kura_le32_get(u + 12 + KURA_ID_LEN);
	r->kind = v[KURA_INDEX_RANGE_VALUE - 1];
	return 0;
}

/* Fills the window with the ranges from the first whose last ID is >= id on. */
static int window_fill(kura_index *ix, const char *id, kura_error *err)
{
	struct kura_index_window *w = &ix->window;
	uint64_t writes = kura_index_writes(ix); /* before the scan: a write during it makes the window stale */
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'r', id);
	w->n = 0;
	w->valid = 0;
	struct kura_index_cursor c;
	int rc = kura_index_cursor_init(&c, ix, key, sizeof key, NULL, 0, err);
	const void *k, *v;
	size_t klen, vlen;
	while (rc == 0 && w->n < KURA_INDEX_WINDOW && (rc = kura_index_cursor_next(&c, &k, &klen, &v, &vlen, err)) == 1)
		rc = decode_range(&w->r[w->n++], (const char *)k + 1, klen - 1, v, vlen, err);
	kura_index_cursor_fini(&c);
	if (rc == 0) {
		memcpy(w->from, id, KURA_ID_LEN);
		w->to_end = w->n < KURA_INDEX_WINDOW;
		w->writes = writes;
		w->valid = 1;
	}
	return rc;
}

static int find_in_window(kura_index_range *out, kura_index *ix, const char *id, kura_error *err);

int kura_index_find_range(kura_index_range *out, kura_index *ix, const char *id, kura_error *err)
{
	pthread_mutex_lock(&ix->window_lock);
	int rc = find_in_window(out, ix, id, err);
	pthread_mutex_unlock(&ix->window_lock);
	return rc;
}

/* kura_index_find_range under window_lock. */
static int find_in_window(kura_index_range *out, kura_index *ix, const char *id, kura_error *err)
{
	struct kura_index_window *w = &ix->window;
	int inside = w->valid && w->writes == kura_index_writes(ix) && memcmp(id, w->from, KURA_ID_LEN) >= 0 &&
		     (w->to_end || (w->n > 0 && memcmp(id, w->r[w->n - 1].last, KURA_ID_LEN) <= 0));
	int rc = inside ? 0 : window_fill(ix, id, err);
	if (rc != 0)
		return rc;
	size_t lo = 0, hi = w->n; /* the first range whose last ID is >= id */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(w->r[mid].last, id, KURA_ID_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == w->n || memcmp(w->r[lo].first, id, KURA_ID_LEN) > 0)
		return 1;
	*out = w->r[lo];
	return 0;
}

struct range_walk {
	kura_index_range_fn fn;
	void *ud;
};

static int range_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct range_walk *w = ud;
	kura_index_range r;
	int rc = decode_range(&r, k, klen, v, vlen, err);
	return rc != 0 ? rc : w->fn(w->ud, &r, err);
}

int kura_index_each_range(kura_index *ix, kura_index_range_fn fn, void *ud, kura_error *err)
{
	struct range_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "r", 1, range_step, &w, err);
}

struct size_walk {
	kura_index_size_fn fn;
	void *ud;
};

static int size_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct size_walk *w = ud;
	const unsigned char *kk = (const unsigned char *)k;
	if (klen != 4 || vlen != 8)
		return kura_error_set(err, KURA_EIO, "a segment size entry in the index is damaged; run kura reindex");
	uint32_t segno = (uint32_t)kk[0] << 24 | (uint32_t)kk[1] << 16 | (uint32_t)kk[2] << 8 | kk[3];
	return w->fn(w->ud, segno, kura_le64_get((const unsigned char *)v), err);
}

int kura_index_each_sealed_size(kura_index *ix, kura_index_size_fn fn, void *ud, kura_error *err)
{
	struct size_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "z", 1, size_step, &w, err);
}

int kura_index_last_id(kura_index *ix, char out[KURA_ID_LEN + 1], kura_error *err)
{
	static const char prefixes[] = {'o', 'E', 'a'};
	out[0] = '\0';
	rocksdb_iterator_t *it = rocksdb_create_iterator(ix->db, ix->ropts);
	for (size_t i = 0; i < sizeof prefixes; i++) {
		char end[2] = {prefixes[i], (char)0xff};
		rocksdb_iter_seek_for_prev(it, end, 2);
		size_t klen;
		const char *k = rocksdb_iter_valid(it) ? rocksdb_iter_key(it, &klen) : NULL;
		if (k && klen == 1 + KURA_ID_LEN && k[0] == prefixes[i] && memcmp(k + 1, out, KURA_ID_LEN) > 0) {
			memcpy(out, k + 1, KURA_ID_LEN);
			out[KURA_ID_LEN] = '\0';
		}
	}
	char *msg = NULL;
	rocksdb_iter_get_error(it, &msg);
	rocksdb_iter_destroy(it);
	return msg ? kura_index_db_error(err, msg, "scan") : 0;
}
