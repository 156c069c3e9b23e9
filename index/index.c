/* The RocksDB index (see index.h for the keys): opening it, lookups, batches.
 * All RocksDB calls of kura live in index/ (cursors and walks: cursor.c); the
 * rest of the code sees typed lookups, batches, walks and cursors. */
#include <stdlib.h>
#include <string.h>

#include "index/index_impl.h"

/* A writer leaving more than this in the memtable flushes it on close: else every
 * later open (each kura command) replays that much of the write-ahead log. */
#define FLUSH_ON_CLOSE (8u << 20)


int kura_index_db_error(kura_error *err, char *msg, const char *what)
{
	int rc = kura_error_set(err, KURA_EIO, "index %s failed: %s", what, msg ? msg : "unknown error");
	rocksdb_free(msg);
	return rc;
}

/* Sized for an archive on any volume, not for a database benchmark: by default
 * RocksDB reserves (fallocate) 1.1 x its 64 MiB write buffer for every log file
 * and 4 MiB for every manifest before writing a byte, so a store on a volume with
 * 60 MB free could not seal a 4-byte document. Without preallocation a file takes
 * the room of what is written; a 16 MiB write buffer (a log of at most ~16 MiB
 * replayed by the next open) still takes a 20k-file ingest in one memtable. */
static rocksdb_options_t *index_options(char **msg)
{
	rocksdb_options_t *base = rocksdb_options_create(), *o = rocksdb_options_create();
	rocksdb_get_options_from_string(base, "allow_fallocate=false", o, msg);
	rocksdb_options_destroy(base);
	if (*msg) {
		rocksdb_options_destroy(o);
		return NULL;
	}
	rocksdb_options_set_write_buffer_size(o, 16u << 20);
	rocksdb_options_set_max_total_wal_size(o, 64u << 20);
	rocksdb_options_set_manifest_preallocation_size(o, 64u << 10);
	/* After a power loss the log's unsynced tail may be torn: the index opens as
	 * of the last whole batch before it, a prefix of the writes (the store's
	 * recovery rolls the rest forward from the segments: archive/store.c) */
	rocksdb_options_set_wal_recovery_mode(o, 2 /* kPointInTimeRecovery */);
	return o;
}

int kura_index_open(kura_index **out, const char *path, int flags, kura_error *err)
{
	kura_index *ix = calloc(1, sizeof *ix);
	if (!ix)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	char *msg = NULL;
	if ((ix->opts = index_options(&msg)) == NULL) {
		int rc = kura_index_db_error(err, msg, "setup");
		kura_index_close(ix);
		return rc;
	}
	rocksdb_options_set_create_if_missing(ix->opts, (flags & KURA_INDEX_CREATE) != 0);
	rocksdb_options_set_error_if_exists(ix->opts, (flags & KURA_INDEX_CREATE) != 0);
	rocksdb_options_set_max_open_files(ix->opts, 256);
	rocksdb_options_set_info_log_level(ix->opts, 4 /* only fatal messages in LOG */);
	rocksdb_options_set_keep_log_file_num(ix->opts, 2);
	/* Bloom filters: most lookups at ingest ask for content that is not stored yet */
	rocksdb_block_based_table_options_t *table = rocksdb_block_based_options_create();
	rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom(10));
	rocksdb_options_set_block_based_table_factory(ix->opts, table);
	rocksdb_block_based_options_destroy(table);
	/* RocksDB counts every key comparison in a thread-local perf context by
	 * default, which costs more than many comparisons themselves */
	rocksdb_set_perf_level(rocksdb_disable);
	ix->ropts = rocksdb_readoptions_create();
	ix->wsync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(ix->wsync, 1);
	ix->wnosync = rocksdb_writeoptions_create();
	ix->readonly = (flags & KURA_INDEX_READONLY) != 0;
	pthread_mutex_init(&ix->window_lock, NULL);
	if (flags & KURA_INDEX_READONLY)
		ix->db = rocksdb_open_for_read_only(ix->opts, path, 0, &msg);
	else
		ix->db = rocksdb_open(ix->opts, path, &msg);
	if (!ix->db) {
		/* RocksDB's own lock: another process (or handle) has the index open for writing */
		int locked = msg && (strstr(msg, "While lock file") || strstr(msg, "lock hold by current process"));
		int rc = kura_index_db_error(err, msg, "open");
		if (locked && err)
			err->code = KURA_ELOCKED;
		if (locked)
			rc = KURA_ELOCKED;
		kura_error_wrap(err, "%s", path);
		kura_index_close(ix);
		return rc;
	}
	*out = ix;
	return 0;
}

void kura_index_close(kura_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nspare; i++)
		rocksdb_iter_destroy(ix->spare[i]);
	uint64_t mem = 0;
	if (ix->db && !ix->readonly && rocksdb_property_int(ix->db, "rocksdb.cur-size-all-mem-tables", &mem) == 0 &&
	    mem > FLUSH_ON_CLOSE) {
		rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
		char *msg = NULL;
		rocksdb_flush(ix->db, fo, &msg); /* best effort: the log still holds it all */
		rocksdb_free(msg);
		rocksdb_flushoptions_destroy(fo);
	}
	if (ix->db && __atomic_load_n(&ix->unsynced, __ATOMIC_ACQUIRE) == 1) {
		char *msg = NULL;
		rocksdb_flush_wal(ix->db, 1, &msg); /* best effort: a lost tail is rolled forward again */
		rocksdb_free(msg);
	}
	if (ix->db)
		rocksdb_close(ix->db);
	rocksdb_options_destroy(ix->opts);
	rocksdb_readoptions_destroy(ix->ropts);
	rocksdb_writeoptions_destroy(ix->wsync);
	rocksdb_writeoptions_destroy(ix->wnosync);
	pthread_mutex_destroy(&ix->window_lock);
	free(ix);
}

void kura_index_object_clear(kura_index_object *o)
{
	free(o->json);
	memset(o, 0, sizeof *o);
}

int kura_index_get_raw(kura_index *ix, const char *key, size_t klen, char **val, size_t *vlen, kura_error *err)
{
	char *msg = NULL;
	*val = rocksdb_get(ix->db, ix->ropts, key, klen, vlen, &msg);
	if (msg)
		return kura_index_db_error(err, msg, "read");
	return 0;
}

int kura_index_decode_blob(kura_index_blob *out, const char *v, size_t n)
{
	const unsigned char *p = (const unsigned char *)v;
	if (n != 28)
		return -1;
	out->segno = kura_le32_get(p);
	out->offset = kura_le64_get(p + 4);
	out->size = kura_le64_get(p + 12);
	out->stored = kura_le64_get(p + 20);
	return 0;
}

static int decode_object(kura_index_object *out, const char *v, size_t n)
{
	const unsigned char *p = (const unsigned char *)v;
	if (n < 12 || !(out->json = malloc(n - 12 + 1)))
		return -1;
	out->segno = kura_le32_get(p);
	out->offset = kura_le64_get(p + 4);
	memcpy(out->json, v + 12, n - 12);
	out->json[n - 12] = '\0';
	out->json_len = n - 12;
	return 0;
}

int kura_index_get_blob(kura_index *ix, const unsigned char sha256[32], kura_index_blob *out, kura_error *err)
{
	char key[33], *val;
	size_t vlen;
	key[0] = 'b';
	memcpy(key + 1, sha256, 32);
	int rc = kura_index_get_raw(ix, key, sizeof key, &val, &vlen, err);
	if (rc != 0)
		return rc;
	if (!val)
		return kura_error_set(err, KURA_ENOTFOUND, "no such content in the index");
	rc = kura_index_decode_blob(out, val, vlen) == 0 ? 0 : kura_error_set(err, KURA_EIO, "index entry for a blob is damaged; run kura reindex");
	rocksdb_free(val);
	return rc;
}

int kura_index_get_object(kura_index *ix, const char *id, kura_index_object *out, kura_error *err)
{
	char key[1 + KURA_ID_LEN], *val;
	size_t vlen;
	key[0] = 'o';
	memcpy(key + 1, id, KURA_ID_LEN);
	int rc = kura_index_get_raw(ix, key, sizeof key, &val, &vlen, err);
	if (rc != 0)
		return rc;
	if (!val)
		return kura_error_set(err, KURA_ENOTFOUND, "no object %s in this store", id);
	rc = decode_object(out, val, vlen) == 0 ? 0 : kura_error_set(err, KURA_EIO, "index entry of %s is damaged; run kura reindex", id);
	rocksdb_free(val);
	return rc;
}

int kura_index_get_state(kura_index *ix, uint32_t *segno, uint64_t *end, kura_error *err)
{
	char *val;
	size_t vlen;
	int rc = kura_index_get_raw(ix, "w", 1, &val, &vlen, err);
	if (rc != 0)
		return rc;
	if (!val)
		return kura_error_set(err, KURA_ENOTFOUND, "the index has no writer state");
	if (vlen == 12) {
		*segno = kura_le32_get((unsigned char *)val);
		*end = kura_le64_get((unsigned char *)val + 4);
	} else {
		rc = kura_error_set(err, KURA_EIO, "writer state in the index is damaged; run kura reindex");
	}
	rocksdb_free(val);
	return rc;
}

int kura_index_batch_new(kura_index_batch **out, kura_error *err)
{
	kura_index_batch *b = calloc(1, sizeof *b);
	if (!b || !(b->wb = rocksdb_writebatch_create())) {
		free(b);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	*out = b;
	return 0;
}

void kura_index_batch_free(kura_index_batch *b)
{
	if (!b)
		return;
	rocksdb_writebatch_destroy(b->wb);
	free(b->sorted.buf);
	free(b->sorted.keys);
	free(b);
}

static void sorted_clear(struct kura_index_sorted *s)
{
	s->len = s->n = s->mark_len = s->mark_n = 0;
}

void kura_index_batch_clear(kura_index_batch *b)
{
	rocksdb_writebatch_clear(b->wb);
	sorted_clear(&b->sorted);
	b->chain.seq = b->chain_mark.seq = 0;
}

void kura_index_batch_put_sorted(kura_index_batch *b, const unsigned char *key, size_t klen)
{
	struct kura_index_sorted *s = &b->sorted;
	if (s->len + klen > s->cap) {
		size_t cap = (s->cap ? 2 * s->cap : 4096) + klen;
		unsigned char *buf = realloc(s->buf, cap);
		if (!buf)
			goto direct;
		s->buf = buf;
		s->cap = cap;
	}
	if (s->n == s->ncap) {
		size_t ncap = s->ncap ? 2 * s->ncap : 256;
		struct kura_index_sorted_key *keys = realloc(s->keys, ncap * sizeof *keys);
		if (!keys)
			goto direct;
		s->keys = keys;
		s->ncap = ncap;
	}
	memcpy(s->buf + s->len, key, klen);
	s->keys[s->n++] = (struct kura_index_sorted_key){.at = s->len, .len = klen};
	s->len += klen;
	return;
direct: /* out of memory: the same entry, only not in order */
	rocksdb_writebatch_put(b->wb, (const char *)key, klen, "", 0);
}

static int sorted_cmp(const void *a, const void *b)
{
	const struct kura_index_sorted_key *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Moves the keys kept aside into the batch, in ascending order. */
static void sorted_flush(kura_index_batch *b)
{
	struct kura_index_sorted *s = &b->sorted;
	for (size_t i = 0; i < s->n; i++)
		s->keys[i].p = s->buf + s->keys[i].at;
	if (s->n > 1)
		qsort(s->keys, s->n, sizeof *s->keys, sorted_cmp);
	for (size_t i = 0; i < s->n; i++)
		rocksdb_writebatch_put(b->wb, (const char *)s->keys[i].p, s->keys[i].len, "", 0);
	sorted_clear(s);
}

void kura_index_batch_put_blob(kura_index_batch *b, const unsigned char sha256[32], const kura_index_blob *blob)
{
	char key[33];
	unsigned char v[28];
	key[0] = 'b';
	memcpy(key + 1, sha256, 32);
	kura_le32_put(v, blob->segno);
	kura_le64_put(v + 4, blob->offset);
	kura_le64_put(v + 12, blob->size);
	kura_le64_put(v + 20, blob->stored);
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_put_object(kura_index_batch *b, const kura_index_object_entry *e)
{
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'o', e->id);
	unsigned char loc[12];
	kura_le32_put(loc, e->segno);
	kura_le64_put(loc + 4, e->offset);
	/* a value in two parts, so the JSON is not copied once more */
	const char *parts[2] = {(const char *)loc, e->json};
	size_t sizes[2] = {sizeof loc, e->json_len};
	const char *kparts[1] = {key};
	size_t ksizes[1] = {sizeof key};
	rocksdb_writebatch_putv(b->wb, 1, kparts, ksizes, 2, parts, sizes);
	key[0] = 'p';
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)e->digests, e->digests_len);
}

void kura_index_batch_put_state(kura_index_batch *b, uint32_t segno, uint64_t end)
{
	unsigned char v[12];
	kura_le32_put(v, segno);
	kura_le64_put(v + 4, end);
	rocksdb_writebatch_put(b->wb, "w", 1, (const char *)v, sizeof v);
}

void kura_index_batch_put_refresh_mark(kura_index_batch *b, uint64_t generation, const unsigned char digest[32])
{
	unsigned char v[40];
	kura_le64_put(v, generation);
	memcpy(v + 8, digest, 32);
	rocksdb_writebatch_put(b->wb, "R", 1, (const char *)v, sizeof v);
}

int kura_index_get_refresh_mark(kura_index *ix, uint64_t *generation, unsigned char digest[32], kura_error *err)
{
	char *val;
	size_t vlen;
	int rc = kura_index_get_raw(ix, "R", 1, &val, &vlen, err);
	if (rc != 0)
		return rc;
	if (!val)
		return kura_error_set(err, KURA_ENOTFOUND, "the index has no refresh mark");
	if (vlen == 40) {
		*generation = kura_le64_get((unsigned char *)val);
		memcpy(digest, val + 8, 32);
	} else {
		rc = kura_error_set(err, KURA_EIO, "the refresh mark in the index is damaged");
	}
	rocksdb_free(val);
	return rc;
}

void kura_index_batch_mark(kura_index_batch *b)
{
	rocksdb_writebatch_set_save_point(b->wb);
	b->sorted.mark_n = b->sorted.n;
	b->sorted.mark_len = b->sorted.len;
	b->chain_mark = b->chain;
}

int kura_index_batch_rollback(kura_index_batch *b, kura_error *err)
{
	char *msg = NULL;
	rocksdb_writebatch_rollback_to_save_point(b->wb, &msg);
	b->sorted.n = b->sorted.mark_n;
	b->sorted.len = b->sorted.mark_len;
	b->chain = b->chain_mark;
	return msg ? kura_index_db_error(err, msg, "batch rollback") : 0;
}

void kura_index_batch_release(kura_index_batch *b)
{
	char *msg = NULL;
	rocksdb_writebatch_pop_save_point(b->wb, &msg);
	rocksdb_free(msg);
}

uint64_t kura_index_writes(const kura_index *ix) { return __atomic_load_n(&ix->writes, __ATOMIC_ACQUIRE); }

int kura_index_write(kura_index *ix, kura_index_batch *b, int sync, kura_error *err)
{
	char *msg = NULL;
	sorted_flush(b);
	rocksdb_write(ix->db, sync ? ix->wsync : ix->wnosync, b->wb, &msg);
	__atomic_fetch_add(&ix->writes, 1, __ATOMIC_RELEASE);
	/* a synced write syncs the whole log, the unsynced writes before it too; after
	 * a failed one RocksDB's log takes no more calls (the next open recovers) */
	if (msg || __atomic_load_n(&ix->unsynced, __ATOMIC_ACQUIRE) >= 0)
		__atomic_store_n(&ix->unsynced, msg ? -1 : !sync, __ATOMIC_RELEASE);
	if (msg)
		return kura_index_db_error(err, msg, "write");
	return 0;
}




void kura_index_batch_del_pending(kura_index_batch *b, const char *id)
{
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'p', id);
	rocksdb_writebatch_delete(b->wb, key, sizeof key);
}


void kura_index_batch_put_record(kura_index_batch *b, const char *record, uint32_t segno, uint64_t offset)
{
	char key[1 + KURA_ID_LEN];
	unsigned char v[12];
	kura_index_id_key(key, 'E', record);
	kura_le32_put(v, segno);
	kura_le64_put(v + 4, offset);
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_put_mark(kura_index_batch *b, const char *record, char mark)
{
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'Y', record);
	rocksdb_writebatch_put(b->wb, key, sizeof key, &mark, 1);
}

int kura_index_get_mark(kura_index *ix, const char *record, char *mark, kura_error *err)
{
	char key[1 + KURA_ID_LEN], *val;
	size_t vlen;
	kura_index_id_key(key, 'Y', record);
	*mark = 0;
	int rc = kura_index_get_raw(ix, key, sizeof key, &val, &vlen, err);
	if (rc != 0 || !val)
		return rc;
	if (vlen == 1)
		*mark = val[0];
	else
		rc = kura_error_set(err, KURA_EIO, "index entry of evidence record %s's TSA mark is damaged; run kura reindex",
				    record);
	rocksdb_free(val);
	return rc;
}

void kura_index_batch_put_audit(kura_index_batch *b, const char *id, uint32_t segno, uint64_t offset)
{
	char key[1 + KURA_ID_LEN];
	unsigned char v[12];
	kura_index_id_key(key, 'a', id);
	kura_le32_put(v, segno);
	kura_le64_put(v + 4, offset);
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_put_link(kura_index_batch *b, const char *subject, const kura_index_link *l)
{
	char key[1 + 2 * KURA_ID_LEN];
	unsigned char v[17];
	kura_index_id_key(key, 'e', subject);
	memcpy(key + 1 + KURA_ID_LEN, l->record, KURA_ID_LEN);
	kura_le32_put(v, l->segno);
	kura_le64_put(v + 4, l->offset);
	kura_le32_put(v + 12, l->position);
	v[16] = (unsigned char)l->kind;
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

int kura_index_get_record(kura_index *ix, const char *record, uint32_t *segno, uint64_t *offset, kura_error *err)
{
	char key[1 + KURA_ID_LEN], *val;
	size_t vlen;
	kura_index_id_key(key, 'E', record);
	int rc = kura_index_get_raw(ix, key, sizeof key, &val, &vlen, err);
	if (rc != 0)
		return rc;
	if (!val)
		return kura_error_set(err, KURA_ENOTFOUND, "no evidence record %s in this store", record);
	if (vlen == 12) {
		*segno = kura_le32_get((unsigned char *)val);
		*offset = kura_le64_get((unsigned char *)val + 4);
	} else {
		rc = kura_error_set(err, KURA_EIO, "index entry of evidence record %s is damaged; run kura reindex", record);
	}
	rocksdb_free(val);
	return rc;
}


/* ---------------------------------------------------------------- ranges */

void kura_index_batch_put_range(kura_index_batch *b, const kura_index_range *r)
{
	char key[1 + 2 * KURA_ID_LEN];
	unsigned char v[KURA_INDEX_RANGE_VALUE];
	kura_index_id_key(key, 'r', r->last);
	memcpy(key + 1 + KURA_ID_LEN, r->record, KURA_ID_LEN);
	kura_le32_put(v, r->segno);
	kura_le64_put(v + 4, r->offset);
	memcpy(v + 12, r->first, KURA_ID_LEN);
	kura_le32_put(v + 12 + KURA_ID_LEN, r->n);
	v[KURA_INDEX_RANGE_VALUE - 1] = (unsigned char)r->kind;
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_del_pending_range(kura_index_batch *b, const char *first, const char *last)
{
	char from[1 + KURA_ID_LEN], to[2 + KURA_ID_LEN];
	kura_index_id_key(from, 'p', first);
	kura_index_id_key(to, 'p', last);
	to[1 + KURA_ID_LEN] = '\0'; /* the first key after 'p' + last: the end is excluded */
	rocksdb_writebatch_delete_range(b->wb, from, sizeof from, to, sizeof to);
}


void kura_index_batch_put_sealed_size(kura_index_batch *b, uint32_t segno, uint64_t size)
{
	unsigned char key[5], v[8];
	key[0] = 'z';
	for (int i = 0; i < 4; i++) /* big-endian, so keys sort by segment number */
		key[1 + i] = (unsigned char)(segno >> (8 * (3 - i)));
	kura_le64_put(v, size);
	rocksdb_writebatch_put(b->wb, (const char *)key, sizeof key, (const char *)v, sizeof v);
}

