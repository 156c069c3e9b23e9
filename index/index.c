/* The RocksDB index (see index.h for the keys). All RocksDB calls of kura live
 * here; the rest of the code sees typed lookups and batches. */
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#include "common/endian.h"
#include "common/id.h"
#include "index/index.h"

#define SPARE_ITERATORS 4
/* A writer leaving more than this in the memtable flushes it on close: else every
 * later open (each kura command) replays that much of the write-ahead log. */
#define FLUSH_ON_CLOSE (8u << 20)

/* Consecutive seal ranges read by the last lookup: objects are mostly looked up
 * in ID order, and the next object's seal is then found without a seek. */
#define WINDOW 64
struct range_window {
	int valid, to_end;         /* to_end: no range after the last one held */
	uint64_t writes;           /* ix->writes when read */
	char from[KURA_ID_LEN];  /* they start at the first range whose last ID is >= from */
	size_t n;
	kura_index_range r[WINDOW];
};

struct kura_index {
	int readonly;
	uint64_t writes; /* batches written through this handle */
	struct range_window window;
	/* A read-only index never changes, so its iterators are kept for the next
	 * scan (creating one costs more than a short scan); a writable index gets a
	 * fresh one per scan, which sees the writes before it. */
	rocksdb_iterator_t *spare[SPARE_ITERATORS];
	size_t nspare;
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_readoptions_t *ropts;
	rocksdb_writeoptions_t *wsync;
	rocksdb_writeoptions_t *wnosync;
};

struct kura_index_batch {
	rocksdb_writebatch_t *wb;
};

static int db_error(kura_error *err, char *msg, const char *what)
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
	return o;
}

int kura_index_open(kura_index **out, const char *path, int flags, kura_error *err)
{
	kura_index *ix = calloc(1, sizeof *ix);
	if (!ix)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	char *msg = NULL;
	if ((ix->opts = index_options(&msg)) == NULL) {
		int rc = db_error(err, msg, "setup");
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
	ix->ropts = rocksdb_readoptions_create();
	ix->wsync = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(ix->wsync, 1);
	ix->wnosync = rocksdb_writeoptions_create();
	ix->readonly = (flags & KURA_INDEX_READONLY) != 0;
	if (flags & KURA_INDEX_READONLY)
		ix->db = rocksdb_open_for_read_only(ix->opts, path, 0, &msg);
	else
		ix->db = rocksdb_open(ix->opts, path, &msg);
	if (!ix->db) {
		/* RocksDB's own lock: another process (or handle) has the index open for writing */
		int locked = msg && (strstr(msg, "While lock file") || strstr(msg, "lock hold by current process"));
		int rc = db_error(err, msg, "open");
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
	if (ix->db)
		rocksdb_close(ix->db);
	rocksdb_options_destroy(ix->opts);
	rocksdb_readoptions_destroy(ix->ropts);
	rocksdb_writeoptions_destroy(ix->wsync);
	rocksdb_writeoptions_destroy(ix->wnosync);
	free(ix);
}

void kura_index_object_clear(kura_index_object *o)
{
	free(o->json);
	memset(o, 0, sizeof *o);
}

/* Reads key; *val is NULL when absent. The caller frees *val with rocksdb_free. */
static int get(kura_index *ix, const char *key, size_t klen, char **val, size_t *vlen, kura_error *err)
{
	char *msg = NULL;
	*val = rocksdb_get(ix->db, ix->ropts, key, klen, vlen, &msg);
	if (msg)
		return db_error(err, msg, "read");
	return 0;
}

static int decode_blob(kura_index_blob *out, const char *v, size_t n)
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
	int rc = get(ix, key, sizeof key, &val, &vlen, err);
	if (rc != 0)
		return rc;
	if (!val)
		return kura_error_set(err, KURA_ENOTFOUND, "no such content in the index");
	rc = decode_blob(out, val, vlen) == 0 ? 0 : kura_error_set(err, KURA_EIO, "index entry for a blob is damaged; run kura reindex");
	rocksdb_free(val);
	return rc;
}

int kura_index_get_object(kura_index *ix, const char *id, kura_index_object *out, kura_error *err)
{
	char key[1 + KURA_ID_LEN], *val;
	size_t vlen;
	key[0] = 'o';
	memcpy(key + 1, id, KURA_ID_LEN);
	int rc = get(ix, key, sizeof key, &val, &vlen, err);
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
	int rc = get(ix, "w", 1, &val, &vlen, err);
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
	free(b);
}

void kura_index_batch_clear(kura_index_batch *b)
{
	rocksdb_writebatch_clear(b->wb);
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

void kura_index_batch_put_object(kura_index_batch *b, const char *id, uint32_t segno, uint64_t offset,
				 const char *json, size_t json_len)
{
	char key[1 + KURA_ID_LEN];
	key[0] = 'o';
	memcpy(key + 1, id, KURA_ID_LEN);
	unsigned char loc[12];
	kura_le32_put(loc, segno);
	kura_le64_put(loc + 4, offset);
	/* a value in two parts, so the JSON is not copied once more */
	const char *parts[2] = {(const char *)loc, json};
	size_t sizes[2] = {sizeof loc, json_len};
	const char *kparts[1] = {key};
	size_t ksizes[1] = {sizeof key};
	rocksdb_writebatch_putv(b->wb, 1, kparts, ksizes, 2, parts, sizes);
}

void kura_index_batch_put_state(kura_index_batch *b, uint32_t segno, uint64_t end)
{
	unsigned char v[12];
	kura_le32_put(v, segno);
	kura_le64_put(v + 4, end);
	rocksdb_writebatch_put(b->wb, "w", 1, (const char *)v, sizeof v);
}

void kura_index_batch_mark(kura_index_batch *b)
{
	rocksdb_writebatch_set_save_point(b->wb);
}

int kura_index_batch_rollback(kura_index_batch *b, kura_error *err)
{
	char *msg = NULL;
	rocksdb_writebatch_rollback_to_save_point(b->wb, &msg);
	return msg ? db_error(err, msg, "batch rollback") : 0;
}

void kura_index_batch_release(kura_index_batch *b)
{
	char *msg = NULL;
	rocksdb_writebatch_pop_save_point(b->wb, &msg);
	rocksdb_free(msg);
}

uint64_t kura_index_writes(const kura_index *ix) { return ix->writes; }

int kura_index_write(kura_index *ix, kura_index_batch *b, int sync, kura_error *err)
{
	char *msg = NULL;
	rocksdb_write(ix->db, sync ? ix->wsync : ix->wnosync, b->wb, &msg);
	ix->writes++;
	if (msg)
		return db_error(err, msg, "write");
	return 0;
}

static rocksdb_iterator_t *iterator_take(kura_index *ix)
{
	return ix->nspare ? ix->spare[--ix->nspare] : rocksdb_create_iterator(ix->db, ix->ropts);
}

static void iterator_give(kura_index *ix, rocksdb_iterator_t *it, int failed)
{
	if (ix->readonly && !failed && ix->nspare < SPARE_ITERATORS)
		ix->spare[ix->nspare++] = it;
	else
		rocksdb_iter_destroy(it);
}

/* Walks every key that starts with prefix; fn gets key and value past the prefix. */
static int each_prefix(kura_index *ix, const char *prefix, size_t plen,
		       int (*fn)(void *, const char *, size_t, const char *, size_t, kura_error *), void *ud, kura_error *err)
{
	rocksdb_iterator_t *it = iterator_take(ix);
	int rc = 0;
	for (rocksdb_iter_seek(it, prefix, plen); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		if (klen < plen || memcmp(k, prefix, plen) != 0)
			break;
		const char *v = rocksdb_iter_value(it, &vlen);
		if ((rc = fn(ud, k + plen, klen - plen, v, vlen, err)) != 0)
			break;
	}
	char *msg = NULL;
	if (rc == 0) {
		rocksdb_iter_get_error(it, &msg);
		if (msg)
			rc = db_error(err, msg, "scan");
	}
	iterator_give(ix, it, msg != NULL);
	return rc;
}

struct object_walk {
	kura_index_object_fn fn;
	void *ud;
};

static int object_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct object_walk *w = ud;
	char id[KURA_ID_LEN + 1];
	kura_index_object o = {0};
	if (klen != KURA_ID_LEN || decode_object(&o, v, vlen) != 0)
		return kura_error_set(err, KURA_EIO, "an object entry in the index is damaged; run kura reindex");
	memcpy(id, k, KURA_ID_LEN);
	id[KURA_ID_LEN] = '\0';
	int rc = w->fn(w->ud, id, &o, err);
	kura_index_object_clear(&o);
	return rc;
}

int kura_index_each_object(kura_index *ix, kura_index_object_fn fn, void *ud, kura_error *err)
{
	struct object_walk w = {fn, ud};
	return each_prefix(ix, "o", 1, object_step, &w, err);
}

struct blob_walk {
	kura_index_blob_fn fn;
	void *ud;
};

static int blob_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct blob_walk *w = ud;
	kura_index_blob b;
	if (klen != 32 || decode_blob(&b, v, vlen) != 0)
		return kura_error_set(err, KURA_EIO, "a blob entry in the index is damaged; run kura reindex");
	return w->fn(w->ud, (const unsigned char *)k, &b, err);
}

int kura_index_each_blob(kura_index *ix, kura_index_blob_fn fn, void *ud, kura_error *err)
{
	struct blob_walk w = {fn, ud};
	return each_prefix(ix, "b", 1, blob_step, &w, err);
}

static void id_key(char *key, char prefix, const char *id)
{
	key[0] = prefix;
	memcpy(key + 1, id, KURA_ID_LEN);
}

void kura_index_batch_put_pending(kura_index_batch *b, const char *id, const void *value, size_t len)
{
	char key[1 + KURA_ID_LEN];
	id_key(key, 'p', id);
	rocksdb_writebatch_put(b->wb, key, sizeof key, value, len);
}

void kura_index_batch_del_pending(kura_index_batch *b, const char *id)
{
	char key[1 + KURA_ID_LEN];
	id_key(key, 'p', id);
	rocksdb_writebatch_delete(b->wb, key, sizeof key);
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
	return each_prefix(ix, "p", 1, pending_step, &w, err);
}

void kura_index_batch_put_record(kura_index_batch *b, const char *record, uint32_t segno, uint64_t offset)
{
	char key[1 + KURA_ID_LEN];
	unsigned char v[12];
	id_key(key, 'E', record);
	kura_le32_put(v, segno);
	kura_le64_put(v + 4, offset);
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_put_audit(kura_index_batch *b, const char *id, uint32_t segno, uint64_t offset)
{
	char key[1 + KURA_ID_LEN];
	unsigned char v[12];
	id_key(key, 'a', id);
	kura_le32_put(v, segno);
	kura_le64_put(v + 4, offset);
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_put_link(kura_index_batch *b, const char *subject, const kura_index_link *l)
{
	char key[1 + 2 * KURA_ID_LEN];
	unsigned char v[17];
	id_key(key, 'e', subject);
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
	id_key(key, 'E', record);
	int rc = get(ix, key, sizeof key, &val, &vlen, err);
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
	int rc = each_prefix(ix, "E", 1, place_step, &w, err);
	w.kind = 'a';
	return rc != 0 ? rc : each_prefix(ix, "a", 1, place_step, &w, err);
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
	return each_prefix(ix, "e", 1, any_link_step, &w, err);
}

int kura_index_each_link(kura_index *ix, const char *subject, kura_index_link_fn fn, void *ud, kura_error *err)
{
	char prefix[1 + KURA_ID_LEN];
	struct link_walk w = {fn, ud};
	id_key(prefix, 'e', subject);
	return each_prefix(ix, prefix, sizeof prefix, link_step, &w, err);
}

/* ---------------------------------------------------------------- ranges */

#define RANGE_VALUE (4 + 8 + KURA_ID_LEN + 4 + 1)

void kura_index_batch_put_range(kura_index_batch *b, const kura_index_range *r)
{
	char key[1 + 2 * KURA_ID_LEN];
	unsigned char v[RANGE_VALUE];
	id_key(key, 'r', r->last);
	memcpy(key + 1 + KURA_ID_LEN, r->record, KURA_ID_LEN);
	kura_le32_put(v, r->segno);
	kura_le64_put(v + 4, r->offset);
	memcpy(v + 12, r->first, KURA_ID_LEN);
	kura_le32_put(v + 12 + KURA_ID_LEN, r->n);
	v[RANGE_VALUE - 1] = (unsigned char)r->kind;
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

void kura_index_batch_del_pending_range(kura_index_batch *b, const char *first, const char *last)
{
	char from[1 + KURA_ID_LEN], to[2 + KURA_ID_LEN];
	id_key(from, 'p', first);
	id_key(to, 'p', last);
	to[1 + KURA_ID_LEN] = '\0'; /* the first key after 'p' + last: the end is excluded */
	rocksdb_writebatch_delete_range(b->wb, from, sizeof from, to, sizeof to);
}

static int decode_range(kura_index_range *r, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	if (klen != 2 * KURA_ID_LEN || vlen != RANGE_VALUE)
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
	r->kind = v[RANGE_VALUE - 1];
	return 0;
}

/* Fills the window with the ranges from the first whose last ID is >= id on. */
static int window_fill(kura_index *ix, const char *id, kura_error *err)
{
	struct range_window *w = &ix->window;
	char key[1 + KURA_ID_LEN];
	id_key(key, 'r', id);
	w->n = 0;
	w->valid = 0;
	rocksdb_iterator_t *it = iterator_take(ix);
	int rc = 0;
	for (rocksdb_iter_seek(it, key, sizeof key); rc == 0 && w->n < WINDOW && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen), *v;
		if (klen == 0 || k[0] != 'r')
			break;
		v = rocksdb_iter_value(it, &vlen);
		rc = decode_range(&w->r[w->n++], k + 1, klen - 1, v, vlen, err);
	}
	char *msg = NULL;
	rocksdb_iter_get_error(it, &msg);
	iterator_give(ix, it, msg != NULL);
	if (msg)
		return db_error(err, msg, "scan");
	if (rc == 0) {
		memcpy(w->from, id, KURA_ID_LEN);
		w->to_end = w->n < WINDOW;
		w->writes = ix->writes;
		w->valid = 1;
	}
	return rc;
}

int kura_index_find_range(kura_index_range *out, kura_index *ix, const char *id, kura_error *err)
{
	struct range_window *w = &ix->window;
	int inside = w->valid && w->writes == ix->writes && memcmp(id, w->from, KURA_ID_LEN) >= 0 &&
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
	return each_prefix(ix, "r", 1, range_step, &w, err);
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
	return each_prefix(ix, "z", 1, size_step, &w, err);
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
	return msg ? db_error(err, msg, "scan") : 0;
}
