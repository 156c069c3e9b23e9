/* What index.c (the database, lookups, batches) and cursor.c (cursors and the
 * walks built on them) share; private to index/. Nothing outside index/ sees a
 * RocksDB type or a key's layout (index.h lists the keys). */
#ifndef KURA_INDEX_IMPL_H
#define KURA_INDEX_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rocksdb/c.h>

#include "common/endian.h"
#include "common/id.h"
#include "index/index.h"

#define KURA_INDEX_SPARE_ITERATORS 4
/* Start and end keys up to this long are kept in the cursor itself (every key
 * kura writes is shorter); longer ones are copied to the heap. */
#define KURA_INDEX_KEY_INLINE 64

/* Consecutive seal ranges read by the last lookup: objects are mostly looked up
 * in ID order, and the next object's seal is then found without a seek. */
#define KURA_INDEX_WINDOW 64
struct kura_index_window {
	int valid, to_end;         /* to_end: no range after the last one held */
	uint64_t writes;           /* ix->writes when read */
	char from[KURA_ID_LEN]; /* they start at the first range whose last ID is >= from */
	size_t n;
	kura_index_range r[KURA_INDEX_WINDOW];
};

struct kura_index {
	int readonly;
	/* Threads may share a handle (RocksDB is safe for that): the handle's own
	 * state that changes is writes (atomic) and window (under window_lock). */
	pthread_mutex_t window_lock;
	uint64_t writes; /* batches written through this handle (__atomic) */
	int unsynced;    /* 1: the last write was not synced, close syncs the log; -1: it failed (__atomic) */
	struct kura_index_window window;
	/* A read-only index never changes, so its iterators are kept for the next
	 * cursor (creating one costs more than a short scan); a writable index gets a
	 * fresh one per cursor, which sees the writes before it. */
	rocksdb_iterator_t *spare[KURA_INDEX_SPARE_ITERATORS];
	size_t nspare;
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_readoptions_t *ropts;
	rocksdb_writeoptions_t *wsync;
	rocksdb_writeoptions_t *wnosync;
};

/* Keys with empty values kept aside until the batch is written, then put in
 * ascending order (index.c, kura_index_write): a field's index entries arrive in
 * the order of their values, which is random, and RocksDB's memtable inserts a
 * run of ascending keys for a fraction of the cost of the same keys at random. */
struct kura_index_sorted_key {
	size_t at, len;         /* where in buf, how long */
	const unsigned char *p; /* buf + at, set when sorting (buf moves as it grows) */
};

struct kura_index_sorted {
	unsigned char *buf; /* the keys' bytes, one after another */
	size_t len, cap;
	struct kura_index_sorted_key *keys;
	size_t n, ncap;
	size_t mark_n, mark_len; /* at kura_index_batch_mark */
};

struct kura_index_batch {
	rocksdb_writebatch_t *wb;
	struct kura_index_sorted sorted;
	/* the last audit chain link put (seq 0: none), and as it was at the mark */
	kura_index_chain_link chain, chain_mark;
};

/* Adds key (with an empty value) to the keys b puts in order when written. */
void kura_index_batch_put_sorted(kura_index_batch *b, const unsigned char *key, size_t klen);

/* Reads key; *val is NULL when absent. The caller frees *val with rocksdb_free. */
int kura_index_get_raw(kura_index *ix, const char *key, size_t klen, char **val, size_t *vlen, kura_error *err);

/* A cursor (see kura_index_cursor_open). Inside index/ it lives on the stack:
 * kura_index_cursor_init / kura_index_cursor_fini, no allocation. */
struct kura_index_cursor {
	kura_index *ix;
	rocksdb_iterator_t *it;
	int positioned; /* the iterator stands on the entry next() returns (after a seek) */
	int done;       /* the end was reached: next() returns 0 from now on */
	int failed;     /* an error code once the iterator failed */
	int bounded;    /* there is an end */
	size_t start_len, end_len;
	unsigned char *start, *end; /* the inline buffers below, or the heap */
	unsigned char start_buf[KURA_INDEX_KEY_INLINE], end_buf[KURA_INDEX_KEY_INLINE];
};

struct kura_index_objects {
	struct kura_index_cursor c;
	char id[KURA_ID_LEN + 1];
	kura_index_object o; /* o.json: a buffer of cap bytes, reused */
	size_t cap;
};

int kura_index_cursor_init(struct kura_index_cursor *c, kura_index *ix, const void *start, size_t start_len,
			   const void *end, size_t end_len, kura_error *err);
void kura_index_cursor_fini(struct kura_index_cursor *c);

/* Walks every key that starts with prefix (at most KURA_INDEX_KEY_INLINE bytes,
 * not all 0xff); fn gets key and value past the prefix. */
typedef int (*kura_index_step_fn)(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err);
int kura_index_each_prefix(kura_index *ix, const char *prefix, size_t plen, kura_index_step_fn fn, void *ud,
			   kura_error *err);

/* Sets err from a RocksDB message (and frees it); returns KURA_EIO. */
int kura_index_db_error(kura_error *err, char *msg, const char *what);

/* key = prefix + the ID's characters */
static inline void kura_index_id_key(char *key, char prefix, const char *id)
{
	key[0] = prefix;
	memcpy(key + 1, id, KURA_ID_LEN);
}

/* Sequence numbers in keys are big-endian, so that keys sort in their order. */
static inline void kura_index_be64_put(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t kura_index_be64_get(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The value of a seal range ('r') */
#define KURA_INDEX_RANGE_VALUE (4 + 8 + KURA_ID_LEN + 4 + 1)

/* Values: 0, or -1 when the value does not have the layout of its kind. */
int kura_index_decode_blob(kura_index_blob *out, const char *v, size_t n);

#endif
