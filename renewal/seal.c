/* Sealing pending objects and assembling an object's evidence record from the
 * seal (payload format in seal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "evidence/hashtree.h"
#include "evidence/record.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "renewal/seal.h"

#define SEAL_MAGIC "KSEAL1\n"

struct pending {
	char *ids; /* n * KURA_ID_LEN */
	size_t n, cap;
};

static int add_pending(void *ud, const char *id, kura_error *err)
{
	struct pending *p = ud;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		char *g = realloc(p->ids, cap * KURA_ID_LEN);
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		p->ids = g;
		p->cap = cap;
	}
	memcpy(p->ids + p->n++ * KURA_ID_LEN, id, KURA_ID_LEN);
	return 0;
}

/* The object's digest under the store's algorithm, from its description. */
static int object_digest(unsigned char *out, kura_store *st, const char *id, size_t hlen, kura_error *err)
{
	json_t *o = NULL;
	int rc = kura_store_object(&o, st, id, err);
	if (rc != 0)
		return rc;
	const char *hex = json_string_value(json_object_get(json_object_get(o, "digests"), kura_store_hash(st)));
	if (!hex || kura_hex_decode(out, hlen, hex) != 0)
		rc = kura_error_set(err, KURA_EIO, "object %s has no %s digest in the index; run kura reindex", id,
				    kura_store_hash(st));
	json_decref(o);
	return rc;
}

static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get_u32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int kura_seal(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, kura_error *err)
{
	memset(res, 0, sizeof *res);
	struct pending p = {0};
	const EVP_MD *md = kura_hash_by_name(kura_store_hash(st));
	size_t hlen = (size_t)EVP_MD_get_size(md), nlen = strlen(kura_store_hash(st));
	unsigned char *leaves = NULL, *token = NULL, *payload = NULL;
	size_t tlen = 0;
	kura_hashtree *tree = NULL;
	char cid[KURA_ID_LEN + 1];
	int rc = kura_store_each_pending(st, add_pending, &p, err);
	if (rc != 0 || p.n == 0)
		goto out;
	if (!(leaves = malloc(p.n * hlen))) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory for %zu leaves", p.n);
		goto out;
	}
	for (size_t i = 0; i < p.n && rc == 0; i++) {
		memcpy(cid, p.ids + i * KURA_ID_LEN, KURA_ID_LEN);
		cid[KURA_ID_LEN] = '\0';
		rc = object_digest(leaves + i * hlen, st, cid, hlen, err);
	}
	const char *from = NULL;
	if (rc == 0)
		rc = kura_hashtree_build(&tree, md, leaves, p.n, err);
	if (rc == 0)
		rc = kura_stamp(&token, &tlen, &from, tsa, md, kura_hashtree_root(tree), err);
	if (rc != 0)
		goto out;
	size_t plen = 8 + 1 + nlen + 4 + p.n * hlen + 4 + tlen;
	if (!(payload = malloc(plen))) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
	unsigned char *q = payload;
	memcpy(q, SEAL_MAGIC, 8);
	q += 8;
	*q++ = (unsigned char)nlen;
	memcpy(q, kura_store_hash(st), nlen);
	q += nlen;
	put_u32(q, (uint32_t)p.n);
	q += 4;
	memcpy(q, leaves, p.n * hlen);
	q += p.n * hlen;
	put_u32(q, (uint32_t)tlen);
	memcpy(q + 4, token, tlen);
	int64_t now;
	if ((rc = kura_clock_now(&now, err)) != 0 || (rc = kura_id_new(res->id, now, err)) != 0)
		goto out;
	rc = kura_store_add_evidence(st, KURA_EVIDENCE_SEAL, res->id, p.ids, p.n, payload, plen, err);
	if (rc == 0) {
		kura_tst *t = NULL;
		res->objects = p.n;
		snprintf(res->tsa, sizeof res->tsa, "%s", from);
		if (kura_tst_parse(&t, token, tlen, NULL) == 0)
			kura_time_format(res->gentime, kura_tst_gentime(t));
		kura_tst_free(t);
	}
out:
	if (rc != 0)
		kura_error_wrap(err, "sealing %zu pending object(s)", p.n);
	kura_hashtree_free(tree);
	free(leaves);
	free(token);
	free(payload);
	free(p.ids);
	return rc;
}

/* ---------------------------------------------------------------- export */

struct kura_evidence_cache {
	char seal[KURA_ID_LEN + 1];
	const EVP_MD *md;
	kura_hashtree *tree;
	unsigned char *token;
	size_t tlen;
};

int kura_evidence_cache_new(kura_evidence_cache **out, kura_error *err)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

static void cache_clear(kura_evidence_cache *c)
{
	kura_hashtree_free(c->tree);
	free(c->token);
	memset(c, 0, sizeof *c);
}

void kura_evidence_cache_free(kura_evidence_cache *c)
{
	if (!c)
		return;
	cache_clear(c);
	free(c);
}

/* Parses a seal payload into the cache (tree rebuilt from the leaves). */
static int load_seal(kura_evidence_cache *c, const kura_evidence *e, kura_error *err)
{
	const unsigned char *p = e->payload, *end = e->payload + e->len;
	char name[32];
	cache_clear(c);
	if (e->len < 9 || memcmp(p, SEAL_MAGIC, 8) != 0 || p[8] >= sizeof name || p + 9 + p[8] + 4 > end)
		goto bad;
	memcpy(name, p + 9, p[8]);
	name[p[8]] = '\0';
	p += 9 + p[8];
	c->md = kura_hash_by_name(name);
	if (!c->md)
		goto bad;
	size_t hlen = (size_t)EVP_MD_get_size(c->md), n = get_u32(p);
	p += 4;
	if (n != e->nsubjects || n == 0 || (size_t)(end - p) < n * hlen + 4)
		goto bad;
	const unsigned char *leaves = p;
	p += n * hlen;
	c->tlen = get_u32(p);
	p += 4;
	if ((size_t)(end - p) != c->tlen || !(c->token = malloc(c->tlen)))
		goto bad;
	memcpy(c->token, p, c->tlen);
	int rc = kura_hashtree_build(&c->tree, c->md, leaves, n, err);
	if (rc != 0) {
		cache_clear(c);
		return rc;
	}
	memcpy(c->seal, e->id, sizeof c->seal);
	return 0;
bad:
	cache_clear(c);
	return kura_error_set(err, KURA_EVERIFY, "seal record %s is malformed", e->id);
}

struct first_seal {
	char record[KURA_ID_LEN + 1];
	uint32_t position;
	int found;
};

static int find_seal(void *ud, const char *record_id, char kind, uint32_t position, kura_error *err)
{
	(void)err;
	struct first_seal *f = ud;
	if (!f->found && kind == KURA_EVIDENCE_SEAL) {
		snprintf(f->record, sizeof f->record, "%s", record_id);
		f->position = position;
		f->found = 1;
	}
	return 0;
}

int kura_object_evidence(unsigned char **der, size_t *len, kura_store *st, const char *id, kura_evidence_cache *cache,
			 kura_error *err)
{
	char canon[KURA_ID_LEN + 1];
	json_t *probe = NULL;
	int rc = kura_id_parse(canon, id, err);
	if (rc == 0)
		rc = kura_store_object(&probe, st, canon, err);
	json_decref(probe);
	if (rc != 0)
		return rc;
	struct first_seal f = {0};
	if ((rc = kura_store_each_evidence_of(st, canon, find_seal, &f, err)) != 0)
		return rc;
	if (!f.found)
		return kura_error_set(err, KURA_ENOTFOUND, "object %s is not sealed yet; run kura seal", canon);
	if (strcmp(cache->seal, f.record) != 0) {
		kura_evidence e;
		if ((rc = kura_store_read_evidence(&e, st, f.record, err)) != 0)
			return rc;
		rc = load_seal(cache, &e, err);
		kura_evidence_clear(&e);
		if (rc != 0)
			return rc;
	}
	size_t hlen = kura_hashtree_size(cache->tree), nsib = 0, counts[66];
	unsigned char values[66 * EVP_MAX_MD_SIZE];
	memcpy(values, kura_hashtree_leaf(cache->tree, f.position), hlen);
	kura_hashtree_path(cache->tree, f.position, values + hlen, &nsib);
	for (size_t i = 0; i <= nsib; i++)
		counts[i] = 1;
	kura_er_builder *b = NULL;
	if ((rc = kura_er_builder_new(&b, err)) == 0 &&
	    (rc = kura_er_builder_ats(b, cache->md, values, counts, nsib + 1, cache->token, cache->tlen, err)) == 0)
		rc = kura_er_builder_finish(b, der, len, err);
	kura_er_builder_free(b);
	return rc;
}
