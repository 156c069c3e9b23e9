/* The index keys of records management (docs/RECORDS.md): the audit chain, the
 * versions of a record, retention classes and events, holds, named states. All
 * of them are derived from object and audit records (archive/records_index.c
 * says which record makes which key), so reindex rebuilds them.
 *
 *   'q' + u64 seq (big-endian)             -> audit ID (26) | SHA-256 of its body (32)
 *   'V' + record ID + version ID           -> (empty)
 *   'S' + version ID                       -> the ID of the version after it
 *   'C' + class + '\0' + record ID         -> (empty)
 *   'T' + record ID + event name           -> date
 *   'x' + object or record ID + u64 seq    -> (empty)
 *   'L' + hold name + '\0' + record ID     -> (empty)
 *   'G' + hold name, 'Q' + request ID      -> JSON (a hold's, a disposal request's state)
 *   'U' + "disposal"                       -> JSON: the reindex-loss record that suspends disposal
 * ('D', disposed versions, and the compaction journal: index/compaction.c)
 *
 * One key is NOT derived: 'l', what a reindex lost, written with the index it
 * built and deleted by the commit of the audit record that says so
 * (archive/loss.c); it lives only between the two. */
#include <stdlib.h>
#include <string.h>

#include "index/index_impl.h"

#define NAME_MAX_KEY 256 /* class, event and hold names are shorter (records/ checks them) */

/* key = prefix + a + b (a, b: any bytes); its length, 0 when too long. */
static size_t key2(char *key, size_t cap, char prefix, const void *a, size_t alen, const void *b, size_t blen)
{
	if (1 + alen + blen > cap)
		return 0;
	key[0] = prefix;
	if (alen) /* a or b may be NULL when empty (a class's walk names no record) */
		memcpy(key + 1, a, alen);
	if (blen)
		memcpy(key + 1 + alen, b, blen);
	return 1 + alen + blen;
}

static void put(kura_index_batch *b, const char *key, size_t klen, const void *v, size_t vlen)
{
	if (klen)
		rocksdb_writebatch_put(b->wb, key, klen, v, vlen);
}

/* ---------------------------------------------------------------- the audit chain */

void kura_index_batch_put_chain(kura_index_batch *b, uint64_t seq, const char *id, const unsigned char hash[32])
{
	char key[9] = {'q'};
	unsigned char v[KURA_ID_LEN + 32];
	kura_index_be64_put((unsigned char *)key + 1, seq);
	memcpy(v, id, KURA_ID_LEN);
	memcpy(v + KURA_ID_LEN, hash, 32);
	put(b, key, sizeof key, v, sizeof v);
	b->chain.seq = seq;
	memcpy(b->chain.id, id, KURA_ID_LEN);
	b->chain.id[KURA_ID_LEN] = '\0';
	memcpy(b->chain.hash, hash, 32);
}

int kura_index_batch_chain_head(const kura_index_batch *b, kura_index_chain_link *out)
{
	if (!b->chain.seq)
		return 0;
	*out = b->chain;
	return 1;
}

int kura_index_chain_head(kura_index *ix, kura_index_chain_link *out, kura_error *err)
{
	memset(out, 0, sizeof *out);
	rocksdb_iterator_t *it = rocksdb_create_iterator(ix->db, ix->ropts);
	const char end[2] = {'q', (char)0xff};
	rocksdb_iter_seek_for_prev(it, end, sizeof end);
	size_t klen, vlen;
	const char *k = rocksdb_iter_valid(it) ? rocksdb_iter_key(it, &klen) : NULL;
	int rc = 0;
	if (k && klen == 9 && k[0] == 'q') {
		const char *v = rocksdb_iter_value(it, &vlen);
		if (vlen != KURA_ID_LEN + 32)
			rc = kura_error_set(err, KURA_EIO, "the audit chain's head in the index is damaged; run kura reindex");
		else {
			out->seq = kura_index_be64_get((const unsigned char *)k + 1);
			memcpy(out->id, v, KURA_ID_LEN);
			memcpy(out->hash, v + KURA_ID_LEN, 32);
		}
	}
	char *msg = NULL;
	rocksdb_iter_get_error(it, &msg);
	rocksdb_iter_destroy(it);
	return msg ? kura_index_db_error(err, msg, "read") : rc;
}

struct chain_walk {
	kura_index_chain_fn fn;
	void *ud;
};

static int chain_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct chain_walk *w = ud;
	kura_index_chain_link l = {0};
	if (klen != 8 || vlen != KURA_ID_LEN + 32)
		return kura_error_set(err, KURA_EIO, "the audit chain in the index is damaged; run kura reindex");
	l.seq = kura_index_be64_get((const unsigned char *)k);
	memcpy(l.id, v, KURA_ID_LEN);
	memcpy(l.hash, v + KURA_ID_LEN, 32);
	return w->fn(w->ud, &l, err);
}

int kura_index_each_chain(kura_index *ix, kura_index_chain_fn fn, void *ud, kura_error *err)
{
	struct chain_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "q", 1, chain_step, &w, err);
}

int kura_index_get_chain(kura_index *ix, uint64_t seq, kura_index_chain_link *out, kura_error *err)
{
	char key[9] = {'q'}, *v;
	size_t vlen;
	kura_index_be64_put((unsigned char *)key + 1, seq);
	int rc = kura_index_get_raw(ix, key, sizeof key, &v, &vlen, err);
	if (rc != 0)
		return rc;
	if (!v)
		return kura_error_set(err, KURA_ENOTFOUND, "no audit record %llu", (unsigned long long)seq);
	if (vlen == KURA_ID_LEN + 32) {
		out->seq = seq;
		memcpy(out->id, v, KURA_ID_LEN);
		out->id[KURA_ID_LEN] = '\0';
		memcpy(out->hash, v + KURA_ID_LEN, 32);
	}
	rocksdb_free(v);
	return vlen == KURA_ID_LEN + 32 ? 0 : kura_error_set(err, KURA_EIO, "the audit chain in the index is damaged; run kura reindex");
}

/* ---------------------------------------------------------------- names and IDs */

/* A walk that hands fn the rest of each key past the prefix, as a string. */
struct name_walk {
	kura_index_name_fn fn;
	void *ud;
};

static int name_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct name_walk *w = ud;
	char name[NAME_MAX_KEY + 1];
	if (klen > NAME_MAX_KEY)
		return kura_error_set(err, KURA_EIO, "an index key is too long; run kura reindex");
	memcpy(name, k, klen);
	name[klen] = '\0';
	return w->fn(w->ud, name, v, vlen, err);
}

static int each_under(kura_index *ix, char prefix, const void *a, size_t alen, kura_index_name_fn fn, void *ud,
		      kura_error *err)
{
	char key[1 + NAME_MAX_KEY];
	size_t klen = key2(key, sizeof key, prefix, a, alen, "", 0);
	if (!klen)
		return kura_error_set(err, KURA_EINPUT, "name too long");
	struct name_walk w = {fn, ud};
	return kura_index_each_prefix(ix, key, klen, name_step, &w, err);
}

void kura_index_batch_put_version(kura_index_batch *b, const char *record, const char *version)
{
	char key[1 + 2 * KURA_ID_LEN];
	put(b, key, key2(key, sizeof key, 'V', record, KURA_ID_LEN, version, KURA_ID_LEN), "", 0);
}

int kura_index_each_version(kura_index *ix, const char *record, kura_index_name_fn fn, void *ud, kura_error *err)
{
	return each_under(ix, 'V', record, KURA_ID_LEN, fn, ud, err);
}

void kura_index_batch_put_successor(kura_index_batch *b, const char *version, const char *next)
{
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'S', version);
	put(b, key, sizeof key, next, KURA_ID_LEN);
}

int kura_index_get_successor(kura_index *ix, const char *version, char next[KURA_ID_LEN + 1], kura_error *err)
{
	char key[1 + KURA_ID_LEN], *v;
	size_t vlen;
	kura_index_id_key(key, 'S', version);
	int rc = kura_index_get_raw(ix, key, sizeof key, &v, &vlen, err);
	if (rc != 0)
		return rc;
	if (!v)
		return kura_error_set(err, KURA_ENOTFOUND, "%.26s is the current version", version);
	if (vlen == KURA_ID_LEN) {
		memcpy(next, v, KURA_ID_LEN);
		next[KURA_ID_LEN] = '\0';
	}
	rocksdb_free(v);
	return vlen == KURA_ID_LEN ? 0 : kura_error_set(err, KURA_EIO, "a version link in the index is damaged; run kura reindex");
}

int kura_index_each_superseded(kura_index *ix, kura_index_name_fn fn, void *ud, kura_error *err)
{
	return each_under(ix, 'S', "", 0, fn, ud, err);
}

/* name + '\0' + ID */
static size_t name_id_key(char *key, size_t cap, char prefix, const char *name, const char *id)
{
	char part[NAME_MAX_KEY + 1];
	size_t n = strlen(name);
	if (n >= NAME_MAX_KEY)
		return 0;
	memcpy(part, name, n + 1);
	return key2(key, cap, prefix, part, n + 1, id, id ? KURA_ID_LEN : 0);
}

void kura_index_batch_put_class(kura_index_batch *b, const char *class_name, const char *record)
{
	char key[2 + NAME_MAX_KEY + KURA_ID_LEN];
	put(b, key, name_id_key(key, sizeof key, 'C', class_name, record), "", 0);
}

int kura_index_each_of_class(kura_index *ix, const char *class_name, kura_index_name_fn fn, void *ud, kura_error *err)
{
	char key[2 + NAME_MAX_KEY];
	size_t klen = name_id_key(key, sizeof key, 'C', class_name, NULL);
	return klen ? each_under(ix, 'C', key + 1, klen - 1, fn, ud, err) : kura_error_set(err, KURA_EINPUT, "name too long");
}

void kura_index_batch_put_event(kura_index_batch *b, const char *record, const char *name, const char *date)
{
	char key[1 + KURA_ID_LEN + NAME_MAX_KEY];
	put(b, key, key2(key, sizeof key, 'T', record, KURA_ID_LEN, name, strlen(name)), date, strlen(date));
}

int kura_index_each_event(kura_index *ix, const char *record, kura_index_name_fn fn, void *ud, kura_error *err)
{
	return each_under(ix, 'T', record, KURA_ID_LEN, fn, ud, err);
}

void kura_index_batch_put_about(kura_index_batch *b, const char *id, uint64_t seq)
{
	char key[1 + KURA_ID_LEN + 8];
	unsigned char s[8];
	kura_index_be64_put(s, seq);
	put(b, key, key2(key, sizeof key, 'x', id, KURA_ID_LEN, s, 8), "", 0);
}

struct about_walk {
	kura_index_seq_fn fn;
	void *ud;
};

static int about_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	(void)v;
	(void)vlen;
	struct about_walk *w = ud;
	if (klen != 8)
		return kura_error_set(err, KURA_EIO, "an audit reference in the index is damaged; run kura reindex");
	return w->fn(w->ud, kura_index_be64_get((const unsigned char *)k), err);
}

int kura_index_each_about(kura_index *ix, const char *id, kura_index_seq_fn fn, void *ud, kura_error *err)
{
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'x', id);
	struct about_walk w = {fn, ud};
	return kura_index_each_prefix(ix, key, sizeof key, about_step, &w, err);
}

void kura_index_batch_put_held(kura_index_batch *b, const char *hold, const char *record, int held)
{
	char key[2 + NAME_MAX_KEY + KURA_ID_LEN];
	size_t klen = name_id_key(key, sizeof key, 'L', hold, record);
	if (klen && held)
		rocksdb_writebatch_put(b->wb, key, klen, "", 0);
	else if (klen)
		rocksdb_writebatch_delete(b->wb, key, klen);
}

int kura_index_each_held(kura_index *ix, kura_index_name_fn fn, void *ud, kura_error *err)
{
	return each_under(ix, 'L', "", 0, fn, ud, err);
}

/* ---------------------------------------------------------------- named states */

static int state_ns_ok(char ns)
{
	return ns == KURA_INDEX_HOLD || ns == KURA_INDEX_REQUEST || ns == KURA_INDEX_SUSPENDED;
}

void kura_index_batch_put_state_of(kura_index_batch *b, char ns, const char *name, const char *json)
{
	char key[1 + NAME_MAX_KEY];
	if (state_ns_ok(ns))
		put(b, key, key2(key, sizeof key, ns, name, strlen(name), "", 0), json, strlen(json));
}

void kura_index_batch_del_state_of(kura_index_batch *b, char ns, const char *name)
{
	char key[1 + NAME_MAX_KEY];
	size_t klen = state_ns_ok(ns) ? key2(key, sizeof key, ns, name, strlen(name), "", 0) : 0;
	if (klen)
		rocksdb_writebatch_delete(b->wb, key, klen);
}

/* *json: the value of key as a string (malloc'd); KURA_ENOTFOUND when absent. */
static int get_text(kura_index *ix, const char *key, size_t klen, const char *name, char **json, kura_error *err)
{
	char *v;
	size_t vlen;
	*json = NULL;
	if (!klen)
		return kura_error_set(err, KURA_ENOTFOUND, "no such name: %s", name);
	int rc = kura_index_get_raw(ix, key, klen, &v, &vlen, err);
	if (rc == 0 && !v)
		rc = kura_error_set(err, KURA_ENOTFOUND, "no such name: %s", name);
	if (rc != 0)
		return rc;
	*json = malloc(vlen + 1);
	if (*json) {
		memcpy(*json, v, vlen);
		(*json)[vlen] = '\0';
	}
	rocksdb_free(v);
	return *json ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

int kura_index_get_state_of(kura_index *ix, char ns, const char *name, char **json, kura_error *err)
{
	char key[1 + NAME_MAX_KEY];
	size_t klen = state_ns_ok(ns) ? key2(key, sizeof key, ns, name, strlen(name), "", 0) : 0;
	return get_text(ix, key, klen, name, json, err);
}

void kura_index_batch_put_loss(kura_index_batch *b, const char *json)
{
	if (json)
		rocksdb_writebatch_put(b->wb, "l", 1, json, strlen(json));
	else
		rocksdb_writebatch_delete(b->wb, "l", 1);
}

int kura_index_get_loss(kura_index *ix, char **json, kura_error *err)
{
	return get_text(ix, "l", 1, "the loss of a reindex", json, err);
}

int kura_index_each_state_of(kura_index *ix, char ns, kura_index_name_fn fn, void *ud, kura_error *err)
{
	return state_ns_ok(ns) ? each_under(ix, ns, "", 0, fn, ud, err) : 0;
}

int kura_index_get_audit(kura_index *ix, const char *id, uint32_t *segno, uint64_t *offset, kura_error *err)
{
	char key[1 + KURA_ID_LEN], *v;
	size_t vlen;
	kura_index_id_key(key, 'a', id);
	int rc = kura_index_get_raw(ix, key, sizeof key, &v, &vlen, err);
	if (rc == 0 && !v)
		rc = kura_error_set(err, KURA_ENOTFOUND, "no audit record %.26s", id);
	if (rc != 0)
		return rc;
	if (vlen == 12) {
		*segno = kura_le32_get((const unsigned char *)v);
		*offset = kura_le64_get((const unsigned char *)v + 4);
	}
	rocksdb_free(v);
	return vlen == 12 ? 0 : kura_error_set(err, KURA_EIO, "an audit entry in the index is damaged; run kura reindex");
}
