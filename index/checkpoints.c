/* The index keys of the audit trail's checkpoints and the walk over every audit
 * record (docs/RECORDS.md). A checkpoint is an object kura makes at a seal, holding
 * the audit records from..to; its key is derived from its object record
 * (archive/records_index.c), so reindex rebuilds it.
 *
 *   'k' + u64 to (big-endian)   -> checkpoint object ID (26) | u64 from (big-endian)
 *
 * Checkpoints cover consecutive ranges of the chain, so the key with the
 * highest `to` is the last checkpoint. */
#include <stdlib.h>
#include <string.h>

#include "index/index_impl.h"

#define CHECKPOINT_VALUE (KURA_ID_LEN + 8)

void kura_index_batch_put_checkpoint(kura_index_batch *b, const char *id, uint64_t from, uint64_t to)
{
	char key[9] = {'k'};
	unsigned char v[CHECKPOINT_VALUE];
	kura_index_be64_put((unsigned char *)key + 1, to);
	memcpy(v, id, KURA_ID_LEN);
	kura_index_be64_put(v + KURA_ID_LEN, from);
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, sizeof v);
}

static int decode(kura_index_checkpoint *out, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	if (klen != 8 || vlen != CHECKPOINT_VALUE)
		return kura_error_set(err, KURA_EIO, "an audit checkpoint in the index is damaged; run kura reindex");
	out->to = kura_index_be64_get((const unsigned char *)k);
	memcpy(out->id, v, KURA_ID_LEN);
	out->id[KURA_ID_LEN] = '\0';
	out->from = kura_index_be64_get((const unsigned char *)v + KURA_ID_LEN);
	return 0;
}

int kura_index_last_checkpoint(kura_index *ix, kura_index_checkpoint *out, kura_error *err)
{
	memset(out, 0, sizeof *out);
	rocksdb_iterator_t *it = rocksdb_create_iterator(ix->db, ix->ropts);
	const char end[2] = {'k', (char)0xff};
	rocksdb_iter_seek_for_prev(it, end, sizeof end);
	size_t klen, vlen;
	const char *k = rocksdb_iter_valid(it) ? rocksdb_iter_key(it, &klen) : NULL;
	int rc = 0;
	if (k && klen >= 1 && k[0] == 'k') {
		const char *v = rocksdb_iter_value(it, &vlen);
		rc = decode(out, k + 1, klen - 1, v, vlen, err);
	}
	char *msg = NULL;
	rocksdb_iter_get_error(it, &msg);
	rocksdb_iter_destroy(it);
	return msg ? kura_index_db_error(err, msg, "read") : rc;
}

struct walk {
	kura_index_checkpoint_fn fn;
	void *ud;
};

static int step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct walk *w = ud;
	kura_index_checkpoint c;
	int rc = decode(&c, k, klen, v, vlen, err);
	return rc ? rc : w->fn(w->ud, &c, err);
}

int kura_index_each_checkpoint(kura_index *ix, kura_index_checkpoint_fn fn, void *ud, kura_error *err)
{
	struct walk w = {fn, ud};
	return kura_index_each_prefix(ix, "k", 1, step, &w, err);
}

int kura_index_each_checkpoint_back(kura_index *ix, kura_index_checkpoint_fn fn, void *ud, kura_error *err)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator(ix->db, ix->ropts);
	const char end[2] = {'k', (char)0xff};
	int rc = 0;
	for (rocksdb_iter_seek_for_prev(it, end, sizeof end); rc == 0 && rocksdb_iter_valid(it); rocksdb_iter_prev(it)) {
		size_t klen, vlen;
		const char *k = rocksdb_iter_key(it, &klen);
		if (klen < 1 || k[0] != 'k')
			break;
		const char *v = rocksdb_iter_value(it, &vlen);
		kura_index_checkpoint c;
		if ((rc = decode(&c, k + 1, klen - 1, v, vlen, err)) == 0)
			rc = fn(ud, &c, err);
	}
	char *msg = NULL;
	rocksdb_iter_get_error(it, &msg);
	rocksdb_iter_destroy(it);
	return msg ? kura_index_db_error(err, msg, "read") : rc;
}

struct audit_walk {
	kura_index_id_fn fn;
	void *ud;
};

static int audit_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	(void)v;
	(void)vlen;
	struct audit_walk *w = ud;
	char id[KURA_ID_LEN + 1];
	if (klen != KURA_ID_LEN)
		return kura_error_set(err, KURA_EIO, "an audit entry in the index is damaged; run kura reindex");
	memcpy(id, k, KURA_ID_LEN);
	id[KURA_ID_LEN] = '\0';
	return w->fn(w->ud, id, err);
}

int kura_index_each_audit(kura_index *ix, kura_index_id_fn fn, void *ud, kura_error *err)
{
	struct audit_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "a", 1, audit_step, &w, err);
}
