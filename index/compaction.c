/* The index keys of disposal and compaction (index.h): 'D' (which audit record
 * disposed of an object), 'K' (the journal of a segment's compaction), and the
 * move of every entry that points into a compacted segment. */
#include <stdlib.h>
#include <string.h>

#include "index/index_impl.h"

/* ---------------------------------------------------------------- 'D' */

void kura_index_batch_put_disposed(kura_index_batch *b, const char *id, const char *by)
{
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'D', id);
	rocksdb_writebatch_put(b->wb, key, sizeof key, by, KURA_ID_LEN);
}

int kura_index_get_disposed(kura_index *ix, const char *id, char by[KURA_ID_LEN + 1], kura_error *err)
{
	char key[1 + KURA_ID_LEN], *msg = NULL;
	size_t vlen;
	kura_index_id_key(key, 'D', id);
	char *val = rocksdb_get(ix->db, ix->ropts, key, sizeof key, &vlen, &msg);
	if (msg)
		return kura_index_db_error(err, msg, "read");
	if (!val)
		return KURA_ENOTFOUND;
	int rc = 0;
	if (vlen == KURA_ID_LEN) {
		memcpy(by, val, KURA_ID_LEN);
		by[KURA_ID_LEN] = '\0';
	} else {
		rc = kura_error_set(err, KURA_EIO, "the disposal entry of %s in the index is damaged; run kura reindex", id);
	}
	rocksdb_free(val);
	return rc;
}

/* Walks every key of namespace prefix (one byte); fn gets the key past it. */
typedef int (*walk_fn)(void *ud, const unsigned char *k, size_t klen, const unsigned char *v, size_t vlen,
		       kura_error *err);
static int walk(kura_index *ix, char prefix, walk_fn fn, void *ud, kura_error *err)
{
	char start = prefix, end = (char)(prefix + 1);
	struct kura_index_cursor c;
	int rc = kura_index_cursor_init(&c, ix, &start, 1, &end, 1, err);
	const void *k, *v;
	size_t klen, vlen;
	while (rc == 0 && (rc = kura_index_cursor_next(&c, &k, &klen, &v, &vlen, err)) == 1)
		rc = fn(ud, (const unsigned char *)k + 1, klen - 1, v, vlen, err);
	kura_index_cursor_fini(&c);
	return rc;
}

struct disposed_walk {
	kura_index_disposed_fn fn;
	void *ud;
};

static int disposed_step(void *ud, const unsigned char *k, size_t klen, const unsigned char *v, size_t vlen,
			 kura_error *err)
{
	struct disposed_walk *w = ud;
	char id[KURA_ID_LEN + 1], by[KURA_ID_LEN + 1];
	if (klen != KURA_ID_LEN || vlen != KURA_ID_LEN)
		return kura_error_set(err, KURA_EIO, "a disposal entry in the index is damaged; run kura reindex");
	memcpy(id, k, KURA_ID_LEN);
	memcpy(by, v, KURA_ID_LEN);
	id[KURA_ID_LEN] = by[KURA_ID_LEN] = '\0';
	return w->fn(w->ud, id, by, err);
}

int kura_index_each_disposed(kura_index *ix, kura_index_disposed_fn fn, void *ud, kura_error *err)
{
	struct disposed_walk w = {fn, ud};
	return walk(ix, 'D', disposed_step, &w, err);
}

/* ---------------------------------------------------------------- 'K' */

static void journal_key(unsigned char key[5], uint32_t segno)
{
	key[0] = 'K';
	for (int i = 0; i < 4; i++) /* big-endian, so keys sort by segment number */
		key[1 + i] = (unsigned char)(segno >> (8 * (3 - i)));
}

void kura_index_batch_put_compaction(kura_index_batch *b, const kura_index_compaction *c)
{
	unsigned char key[5], v[17];
	journal_key(key, c->segno);
	v[0] = (unsigned char)c->state;
	kura_le64_put(v + 1, c->old_size);
	kura_le64_put(v + 9, c->new_size);
	rocksdb_writebatch_put(b->wb, (const char *)key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_del_compaction(kura_index_batch *b, uint32_t segno)
{
	unsigned char key[5];
	journal_key(key, segno);
	rocksdb_writebatch_delete(b->wb, (const char *)key, sizeof key);
}

struct compaction_walk {
	kura_index_compaction_fn fn;
	void *ud;
};

static int compaction_step(void *ud, const unsigned char *k, size_t klen, const unsigned char *v, size_t vlen,
			   kura_error *err)
{
	struct compaction_walk *w = ud;
	if (klen != 4 || vlen != 17 || (v[0] != KURA_COMPACT_STAGING && v[0] != KURA_COMPACT_COMMITTED))
		return kura_error_set(err, KURA_EIO, "a compaction journal entry in the index is damaged; run kura reindex");
	kura_index_compaction c = {(uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3], (char)v[0],
				   kura_le64_get(v + 1), kura_le64_get(v + 9)};
	return w->fn(w->ud, &c, err);
}

int kura_index_each_compaction(kura_index *ix, kura_index_compaction_fn fn, void *ud, kura_error *err)
{
	struct compaction_walk w = {fn, ud};
	return walk(ix, 'K', compaction_step, &w, err);
}

void kura_index_batch_del_blob(kura_index_batch *b, const unsigned char sha256[32])
{
	char key[33];
	key[0] = 'b';
	memcpy(key + 1, sha256, 32);
	rocksdb_writebatch_delete(b->wb, key, sizeof key);
}

/* ---------------------------------------------------------------- relocation */

struct relocation {
	kura_index_batch *b;
	const kura_index_moves *segs;
	size_t nsegs;
	char prefix;
	unsigned char *val; /* the moved value, reused */
	size_t cap;
};

static const kura_index_moves *find_segment(const struct relocation *r, uint32_t segno)
{
	size_t lo = 0, hi = r->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->segs[mid].segno < segno)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < r->nsegs && r->segs[lo].segno == segno ? &r->segs[lo] : NULL;
}

static const kura_index_move *find_move(const kura_index_moves *m, uint64_t offset)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->moves[mid].from < offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->moves[lo].from == offset ? &m->moves[lo] : NULL;
}

static int relocate_step(void *ud, const unsigned char *k, size_t klen, const unsigned char *v, size_t vlen,
			 kura_error *err)
{
	struct relocation *r = ud;
	const kura_index_moves *seg = vlen >= 12 ? find_segment(r, kura_le32_get(v)) : NULL;
	if (!seg)
		return 0;
	uint64_t offset = kura_le64_get(v + 4);
	const kura_index_move *m = find_move(seg, offset);
	if (!m || (m->to == KURA_INDEX_GONE && r->prefix != 'b'))
		return kura_error_set(err, KURA_EIO, "the index ('%c' entry) names a record at segment %08u offset %llu "
				      "that the segment %s; run kura scrub", r->prefix, seg->segno,
				      (unsigned long long)offset, m ? "no longer keeps" : "does not hold");
	char key[KURA_INDEX_KEY_INLINE];
	if (klen + 1 > sizeof key)
		return kura_error_set(err, KURA_EIO, "an index key is longer than kura writes; run kura reindex");
	key[0] = r->prefix;
	memcpy(key + 1, k, klen);
	if (m->to == KURA_INDEX_GONE) {
		rocksdb_writebatch_delete(r->b->wb, key, klen + 1);
		return 0;
	}
	if (vlen > r->cap) {
		unsigned char *grown = realloc(r->val, vlen);
		if (!grown)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		r->val = grown;
		r->cap = vlen;
	}
	memcpy(r->val, v, vlen);
	kura_le64_put(r->val + 4, m->to);
	rocksdb_writebatch_put(r->b->wb, key, klen + 1, (const char *)r->val, vlen);
	return 0;
}

int kura_index_relocate(kura_index *ix, kura_index_batch *b, const kura_index_moves *segs, size_t nsegs,
			kura_error *err)
{
	static const char places[] = {'o', 'b', 'a', 'E', 'e', 'r'};
	struct relocation r = {b, segs, nsegs, 0, NULL, 0};
	int rc = 0;
	for (size_t i = 0; i < sizeof places && rc == 0; i++) {
		r.prefix = places[i];
		rc = walk(ix, places[i], relocate_step, &r, err);
	}
	free(r.val);
	return rc;
}
