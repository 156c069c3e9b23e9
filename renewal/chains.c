/* An object's chains from the store's evidence records (formats in chains.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/id.h"
#include "evidence/record.h"
#include "renewal/chains.h"

#define CACHE_SLOTS 4

static const char *magic_of(char kind)
{
	return kind == 'S' ? "KSEAL1\n" : kind == 'H' ? "KHASH1\n" : kind == 'T' ? "KTSR1\n\0" : NULL;
}

static void put_u32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get_u32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

int kura_chain_payload(unsigned char **out, size_t *len, char kind, const EVP_MD *md, const unsigned char *leaves,
		       size_t n, unsigned char *const *aug, const size_t *auglen, const unsigned char *token, size_t tlen,
		       kura_error *err)
{
	const char *name = kura_hash_name_by_nid(EVP_MD_get_type(md));
	size_t hlen = (size_t)EVP_MD_get_size(md), nlen = strlen(name), total = 8 + 1 + nlen + 4 + n * hlen + 4 + tlen;
	for (size_t i = 0; kind == 'T' && i < n; i++)
		total += 4 + (aug && aug[i] ? auglen[i] : 0);
	unsigned char *p = malloc(total), *q = p;
	if (!p)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(q, magic_of(kind), 8);
	q += 8;
	*q++ = (unsigned char)nlen;
	memcpy(q, name, nlen);
	q += nlen;
	put_u32(q, (uint32_t)n);
	q += 4;
	memcpy(q, leaves, n * hlen);
	q += n * hlen;
	for (size_t i = 0; kind == 'T' && i < n; i++) {
		size_t m = aug && aug[i] ? auglen[i] : 0;
		put_u32(q, (uint32_t)m);
		if (m)
			memcpy(q + 4, aug[i], m);
		q += 4 + m;
	}
	put_u32(q, (uint32_t)tlen);
	memcpy(q + 4, token, tlen);
	*out = p;
	*len = total;
	return 0;
}

static void record_clear(kura_chain_record *r)
{
	kura_hashtree_free(r->tree);
	free(r->leaves);
	free(r->token);
	for (size_t i = 0; r->aug && i < r->n; i++)
		free(r->aug[i]);
	free(r->aug);
	free(r->auglen);
	memset(r, 0, sizeof *r);
}

static int parse(kura_chain_record *r, const kura_evidence *e, kura_error *err)
{
	const unsigned char *p = e->payload, *end = e->payload + e->len;
	const char *magic = magic_of(e->kind);
	char name[32];
	memset(r, 0, sizeof *r);
	if (!magic || e->len < 9 || memcmp(p, magic, 8) != 0 || p[8] >= sizeof name || (size_t)(end - p) < 9u + p[8] + 4)
		goto bad;
	memcpy(name, p + 9, p[8]);
	name[p[8]] = '\0';
	p += 9 + p[8];
	r->md = kura_hash_by_name(name);
	if (!r->md)
		goto bad;
	size_t hlen = (size_t)EVP_MD_get_size(r->md);
	r->n = get_u32(p);
	p += 4;
	if (r->n != e->nsubjects || r->n == 0 || (size_t)(end - p) / hlen < r->n)
		goto bad;
	if (!(r->leaves = malloc(r->n * hlen)))
		goto bad;
	memcpy(r->leaves, p, r->n * hlen);
	p += r->n * hlen;
	if (e->kind == 'T') {
		r->aug = calloc(r->n, sizeof *r->aug);
		r->auglen = calloc(r->n, sizeof *r->auglen);
		if (!r->aug || !r->auglen)
			goto bad;
		for (size_t i = 0; i < r->n; i++) {
			if (end - p < 4)
				goto bad;
			size_t m = get_u32(p);
			p += 4;
			if ((size_t)(end - p) < m)
				goto bad;
			if (m && !(r->aug[i] = malloc(m)))
				goto bad;
			if (m)
				memcpy(r->aug[i], p, m);
			r->auglen[i] = m;
			p += m;
		}
	}
	if (end - p < 4)
		goto bad;
	r->tlen = get_u32(p);
	p += 4;
	if ((size_t)(end - p) != r->tlen || !(r->token = malloc(r->tlen)))
		goto bad;
	memcpy(r->token, p, r->tlen);
	memcpy(r->id, e->id, sizeof r->id);
	r->kind = e->kind;
	return 0;
bad:
	record_clear(r);
	return kura_error_set(err, KURA_EVERIFY, "evidence record %s is malformed", e->id);
}

struct kura_evidence_cache {
	kura_chain_record slot[CACHE_SLOTS];
	unsigned next;
};

int kura_evidence_cache_new(kura_evidence_cache **out, kura_error *err)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

void kura_evidence_cache_free(kura_evidence_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++)
		record_clear(&c->slot[i]);
	free(c);
}

static int record_get(kura_chain_record **out, kura_evidence_cache *c, kura_store *st, const char *id,
		      kura_error *err)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (c->slot[i].token && strcmp(c->slot[i].id, id) == 0) {
			*out = &c->slot[i];
			return 0;
		}
	kura_evidence e;
	int rc = kura_store_read_evidence(&e, st, id, err);
	if (rc != 0)
		return rc;
	kura_chain_record *r = &c->slot[c->next++ % CACHE_SLOTS];
	record_clear(r);
	rc = parse(r, &e, err);
	kura_evidence_clear(&e);
	if (rc == 0)
		*out = r;
	return rc;
}

int kura_chain_record_get(const kura_chain_record **out, kura_evidence_cache *c, kura_store *st, const char *id,
			  kura_error *err)
{
	kura_chain_record *r;
	int rc = record_get(&r, c, st, id, err);
	if (rc == 0)
		*out = r;
	return rc;
}

int kura_chain_record_get_tree(const kura_chain_record **out, kura_evidence_cache *c, kura_store *st, const char *id,
			       kura_error *err)
{
	kura_chain_record *r;
	int rc = record_get(&r, c, st, id, err);
	if (rc == 0 && !r->tree)
		rc = kura_hashtree_build(&r->tree, r->md, r->leaves, r->n, err);
	if (rc == 0)
		*out = r;
	return rc;
}

/* ---------------------------------------------------------------- links */

struct link_list {
	char *ids;
	uint32_t *pos;
	size_t n, cap;
	const char *kinds; /* which kinds to keep */
	const char *upto;  /* only records with IDs below this (NULL: all) */
};

static int keep_link(void *ud, const char *record_id, char kind, uint32_t position, kura_error *err)
{
	struct link_list *l = ud;
	if (!strchr(l->kinds, kind) || (l->upto && strcmp(record_id, l->upto) >= 0))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char *ids = realloc(l->ids, cap * KURA_ID_LEN);
		uint32_t *pos = ids ? realloc(l->pos, cap * sizeof *pos) : NULL;
		if (ids)
			l->ids = ids;
		if (!ids || !pos)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		l->pos = pos;
		l->cap = cap;
	}
	memcpy(l->ids + l->n * KURA_ID_LEN, record_id, KURA_ID_LEN);
	l->pos[l->n++] = position;
	return 0;
}

int kura_object_chain_starts(char **ids, uint32_t **positions, size_t *n, kura_store *st, const char *id,
			     kura_error *err)
{
	struct link_list l = {.kinds = "SH"};
	int rc = kura_store_each_evidence_of(st, id, keep_link, &l, err);
	if (rc != 0) {
		free(l.ids);
		free(l.pos);
		return rc;
	}
	*ids = l.ids;
	*positions = l.pos;
	*n = l.n;
	return 0;
}

static void id_at(char out[KURA_ID_LEN + 1], const char *ids, size_t i)
{
	memcpy(out, ids + i * KURA_ID_LEN, KURA_ID_LEN);
	out[KURA_ID_LEN] = '\0';
}

void kura_free_tokens(unsigned char **tokens, size_t count)
{
	for (size_t i = 0; tokens && i < count; i++)
		free(tokens[i]);
	free(tokens);
}

/* The chain's renewals (T records, below upto) and the tokens as carried. */
static int chain_walk(unsigned char ***tokens, size_t **lens, size_t *count, struct link_list *renewals,
		      const kura_chain_record **start, kura_store *st, kura_evidence_cache *cache, const char *start_id,
		      const char *upto, kura_error *err)
{
	int rc = kura_chain_record_get(start, cache, st, start_id, err);
	const EVP_MD *md = rc == 0 ? (*start)->md : NULL;
	renewals->kinds = "T";
	renewals->upto = upto;
	if (rc == 0)
		rc = kura_store_each_evidence_of(st, start_id, keep_link, renewals, err);
	size_t k = renewals->n + 1;
	unsigned char **tok = rc == 0 ? calloc(k, sizeof *tok) : NULL;
	size_t *tl = rc == 0 ? calloc(k, sizeof *tl) : NULL;
	if (rc == 0 && (!tok || !tl))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0 && !(tok[0] = malloc((*start)->tlen)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		memcpy(tok[0], (*start)->token, (*start)->tlen);
		tl[0] = (*start)->tlen;
	}
	for (size_t i = 0; rc == 0 && i < renewals->n; i++) {
		char tid[KURA_ID_LEN + 1];
		const kura_chain_record *t;
		id_at(tid, renewals->ids, i);
		if ((rc = kura_chain_record_get(&t, cache, st, tid, err)) != 0)
			break;
		uint32_t p = renewals->pos[i];
		if (t->md != md || p >= t->n) {
			rc = kura_error_set(err, KURA_EVERIFY, "renewal %s does not fit chain %s", tid, start_id);
			break;
		}
		if (t->aug[p]) { /* the previous token, with its validation data added */
			free(tok[i]);
			if (!(tok[i] = malloc(t->auglen[p]))) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
				break;
			}
			memcpy(tok[i], t->aug[p], t->auglen[p]);
			tl[i] = t->auglen[p];
		}
		if (!(tok[i + 1] = malloc(t->tlen))) {
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
			break;
		}
		memcpy(tok[i + 1], t->token, t->tlen);
		tl[i + 1] = t->tlen;
		/* the start record may have left the cache: fetch it again for the caller */
		if ((rc = kura_chain_record_get(start, cache, st, start_id, err)) != 0)
			break;
	}
	if (rc != 0) {
		kura_free_tokens(tok, k);
		free(tl);
		return rc;
	}
	*tokens = tok;
	*lens = tl;
	*count = k;
	return 0;
}

int kura_chain_tokens(unsigned char ***tokens, size_t **lens, size_t *count, const EVP_MD **md, kura_store *st,
		      kura_evidence_cache *cache, const char *start, const char *upto, kura_error *err)
{
	struct link_list renewals = {0};
	const kura_chain_record *r = NULL;
	int rc = chain_walk(tokens, lens, count, &renewals, &r, st, cache, start, upto, err);
	if (rc == 0)
		*md = r->md;
	free(renewals.ids);
	free(renewals.pos);
	return rc;
}

/* Appends one chain of the object to the record being built. */
static int add_chain(kura_er_builder *b, kura_store *st, kura_evidence_cache *cache, const char *start_id,
		     uint32_t pos, const char *upto, kura_error *err)
{
	struct link_list renewals = {0};
	unsigned char **tok = NULL;
	size_t *tl = NULL, k = 0;
	const kura_chain_record *r;
	int rc = chain_walk(&tok, &tl, &k, &renewals, &r, st, cache, start_id, upto, err);
	if (rc == 0)
		rc = kura_chain_record_get_tree(&r, cache, st, start_id, err);
	if (rc != 0) {
		kura_free_tokens(tok, k);
		free(tl);
		free(renewals.ids);
		free(renewals.pos);
		return rc;
	}
	const EVP_MD *md = r->md;
	size_t hlen = (size_t)EVP_MD_get_size(md), counts[80], nsib;
	unsigned char *values = malloc((k + 70) * hlen);
	if (!values || pos >= r->n) {
		rc = kura_error_set(err, values ? KURA_EVERIFY : KURA_EINTERNAL, "chain %s has no leaf %u", start_id, pos);
		goto out;
	}
	/* ATS 0: the object's leaf, then the siblings in the start record's tree */
	memcpy(values, kura_hashtree_leaf(r->tree, pos), hlen);
	kura_hashtree_path(r->tree, pos, values + hlen, &nsib);
	for (size_t i = 0; i <= nsib; i++)
		counts[i] = 1;
	if ((rc = kura_er_builder_chain(b, err)) != 0 ||
	    (rc = kura_er_builder_ats(b, md, values, counts, nsib + 1, tok[0], tl[0], err)) != 0)
		goto out;
	/* ATS i: the hashes of every earlier token, then the siblings in renewal i's tree */
	for (size_t i = 1; i < k; i++) {
		char tid[KURA_ID_LEN + 1];
		const kura_chain_record *t;
		id_at(tid, renewals.ids, i - 1);
		for (size_t j = 0; j < i; j++)
			EVP_Digest(tok[j], tl[j], values + j * hlen, NULL, md, NULL);
		if ((rc = kura_chain_record_get_tree(&t, cache, st, tid, err)) != 0)
			goto out;
		kura_hashtree_path(t->tree, renewals.pos[i - 1], values + i * hlen, &nsib);
		counts[0] = i;
		for (size_t s = 1; s <= nsib; s++)
			counts[s] = 1;
		if ((rc = kura_er_builder_ats(b, md, values, counts, nsib + 1, tok[i], tl[i], err)) != 0)
			goto out;
	}
out:
	free(values);
	kura_free_tokens(tok, k);
	free(tl);
	free(renewals.ids);
	free(renewals.pos);
	return rc;
}

int kura_object_evidence(unsigned char **der, size_t *len, kura_store *st, const char *id, kura_evidence_cache *cache,
			 kura_error *err)
{
	char canon[KURA_ID_LEN + 1], *starts = NULL;
	uint32_t *pos = NULL;
	size_t n = 0;
	json_t *probe = NULL;
	int rc = kura_id_parse(canon, id, err);
	if (rc == 0)
		rc = kura_object_chain_starts(&starts, &pos, &n, st, canon, err);
	if (rc == 0 && n == 0 && (rc = kura_store_object(&probe, st, canon, err)) == 0) /* only objects have chains */
		rc = kura_error_set(err, KURA_ENOTFOUND, "object %s is not sealed yet; run kura seal", canon);
	json_decref(probe);
	kura_er_builder *b = NULL;
	if (rc == 0)
		rc = kura_er_builder_new(&b, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char sid[KURA_ID_LEN + 1], next[KURA_ID_LEN + 1];
		id_at(sid, starts, i);
		if (i + 1 < n)
			id_at(next, starts, i + 1);
		/* a chain ends where the next one starts: later renewals of a shared
		 * chain belong to the objects that still live in it */
		rc = add_chain(b, st, cache, sid, pos[i], i + 1 < n ? next : NULL, err);
	}
	if (rc == 0)
		rc = kura_er_builder_finish(b, der, len, err);
	kura_er_builder_free(b);
	free(starts);
	free(pos);
	return rc;
}
