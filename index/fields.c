/* The index keys of search fields (kura/search.h, docs/SEARCH.md): each
 * field's definition and its ordered secondary index. Both are derived from
 * records (the definition from its "field-add" audit record, the entries from
 * object records: archive/fields.c), so reindex rebuilds them.
 *
 *   'F' + field name                         -> the definition (JSON)
 *   'f' + field name + '\0' + state + value + version ID (26)  -> (empty)
 *   'g' + version ID                         -> the version's vector: for each field,
 *        u16 name length, name, u8 state, u16 length (both big-endian), value
 *
 * state: KURA_FIELD_EMPTY (no value; value is empty), KURA_FIELD_VALUE (value:
 * the order-preserving encoding of common/field_value.c), KURA_FIELD_INVALID (a
 * value that is not of the type, as an import may bring; value empty). Every
 * version of every document has one entry per field; the ID last makes each key
 * unique and keeps equal values in ID order. */
#include <stdlib.h>
#include <string.h>

#include "index/index_impl.h"

#define FIELD_NAME_MAX 512 /* bytes; archive/ingest.c allows 128 characters */

void kura_index_batch_put_field_def(kura_index_batch *b, const char *name, const char *json)
{
	size_t n = strlen(name);
	char key[1 + FIELD_NAME_MAX];
	if (n > FIELD_NAME_MAX)
		return;
	key[0] = 'F';
	memcpy(key + 1, name, n);
	rocksdb_writebatch_put(b->wb, key, 1 + n, json, strlen(json));
}

struct def_walk {
	kura_index_name_fn fn;
	void *ud;
};

static int def_step(void *ud, const char *k, size_t klen, const char *v, size_t vlen, kura_error *err)
{
	struct def_walk *w = ud;
	char name[FIELD_NAME_MAX + 1];
	if (klen > FIELD_NAME_MAX)
		return kura_error_set(err, KURA_EIO, "a field definition in the index is damaged; run kura reindex");
	memcpy(name, k, klen);
	name[klen] = '\0';
	return w->fn(w->ud, name, v, vlen, err);
}

int kura_index_each_field_def(kura_index *ix, kura_index_name_fn fn, void *ud, kura_error *err)
{
	struct def_walk w = {fn, ud};
	return kura_index_each_prefix(ix, "F", 1, def_step, &w, err);
}

/* 'f' + name + '\0' + state: the start of a field's entries in one state; its length. */
static size_t field_key(unsigned char *key, const char *name, int state)
{
	size_t n = strlen(name);
	if (n > FIELD_NAME_MAX)
		return 0;
	key[0] = 'f';
	memcpy(key + 1, name, n);
	key[1 + n] = 0;
	key[2 + n] = (unsigned char)state;
	return 3 + n;
}

void kura_index_batch_put_field_value(kura_index_batch *b, const char *name, int state, const unsigned char *value,
				      size_t len, const char *id)
{
	unsigned char head[3 + FIELD_NAME_MAX];
	size_t h = field_key(head, name, state);
	unsigned char *key = h ? malloc(h + len + KURA_ID_LEN) : NULL;
	if (!key)
		return; /* a name too long was refused when the field was added */
	memcpy(key, head, h);
	if (len)
		memcpy(key + h, value, len);
	memcpy(key + h + len, id, KURA_ID_LEN);
	kura_index_batch_put_sorted(b, key, h + len + KURA_ID_LEN);
	free(key);
}

int kura_index_field_walk(kura_index *ix, const char *name, int state, const unsigned char *from, size_t from_len,
			  kura_index_field_fn fn, void *ud, kura_error *err)
{
	unsigned char head[3 + FIELD_NAME_MAX], end[3 + FIELD_NAME_MAX];
	size_t h = field_key(head, name, state);
	if (!h)
		return kura_error_set(err, KURA_EINPUT, "field name too long");
	memcpy(end, head, h);
	end[h - 1]++; /* the next state */
	unsigned char *start = malloc(h + from_len);
	if (!start)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(start, head, h);
	if (from_len)
		memcpy(start + h, from, from_len);
	struct kura_index_cursor c;
	int rc = kura_index_cursor_init(&c, ix, start, h + from_len, end, h, err);
	free(start);
	const void *k, *v;
	size_t klen, vlen;
	while (rc == 0 && (rc = kura_index_cursor_next(&c, &k, &klen, &v, &vlen, err)) == 1) {
		if (klen < h + KURA_ID_LEN)
			rc = kura_error_set(err, KURA_EIO, "a field entry in the index is damaged; run kura reindex");
		else
			rc = fn(ud, (const unsigned char *)k + h, klen - h - KURA_ID_LEN, (const char *)k + klen - KURA_ID_LEN, err);
	}
	kura_index_cursor_fini(&c);
	return rc > 0 ? 0 : rc;
}

void kura_index_batch_put_field_vector(kura_index_batch *b, const char *id, const unsigned char *v, size_t n)
{
	char key[1 + KURA_ID_LEN];
	kura_index_id_key(key, 'g', id);
	rocksdb_writebatch_put(b->wb, key, sizeof key, (const char *)v, n);
}

int kura_index_get_field_vector(kura_index *ix, const char *id, unsigned char **v, size_t *n, kura_error *err)
{
	char key[1 + KURA_ID_LEN], *raw;
	kura_index_id_key(key, 'g', id);
	*v = NULL;
	*n = 0;
	int rc = kura_index_get_raw(ix, key, sizeof key, &raw, n, err);
	if (rc != 0 || !raw)
		return rc ? rc : KURA_ENOTFOUND;
	if ((*v = malloc(*n + 1)))
		memcpy(*v, raw, *n);
	rocksdb_free(raw);
	return *v ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}
