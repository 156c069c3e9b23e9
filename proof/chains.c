/* An object's chains from the store's evidence records (formats in chains.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/endian.h"
#include "common/hash.h"
#include "common/id.h"
#include "evidence/record.h"
#include "evidence/tst.h"
#include "proof/chains.h"

#define CACHE_SLOTS 4

#define IMPORTED_MAGIC "KIMP1\n\0"

static const char *magic_of(char kind, int groups)
{
	if (groups)
		return kind == 'S' ? "KSEAL2\n" : kind == 'H' ? "KHASH2\n" : NULL;
	return kind == 'S' ? "KSEAL1\n" : kind == 'H' ? "KHASH1\n" : kind == 'T' ? "KTSR1\n\0" : NULL;
}

int kura_chain_imported_payload(unsigned char **out, size_t *len, const unsigned char *der, size_t dlen, kura_error *err)
{
	if (!(*out = malloc(8 + dlen)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(*out, IMPORTED_MAGIC, 8);
	memcpy(*out + 8, der, dlen);
	*len = 8 + dlen;
	return 0;
}

int kura_chain_payload(kura_chain_parts *out, char kind, const EVP_MD *md, const unsigned char *leaves, size_t n,
		       const kura_chain_groups *groups, unsigned char *const *aug, const size_t *auglen,
		       const unsigned char *token, size_t tlen, kura_error *err)
{
	const char *name = kura_hash_name_by_nid(EVP_MD_get_type(md));
	size_t hlen = (size_t)EVP_MD_get_size(md), nlen = strlen(name), headlen = 8 + 1 + nlen + 4, taillen = 4 + tlen;
	uint32_t g = 0;
	memset(out, 0, sizeof *out);
	for (size_t i = 0; kind == 'T' && i < n; i++)
		taillen += 4 + (aug && aug[i] ? auglen[i] : 0);
	for (size_t i = 0; groups && groups->count && kind != 'T' && i < n; i++)
		if (groups->count[i]) {
			g++;
			taillen += 4 + 1 + groups->count[i] * hlen;
		}
	if (g)
		taillen += 4;
	unsigned char *h = malloc(headlen), *t = malloc(taillen), *q = t;
	if (!h || !t) {
		free(h);
		free(t);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	memcpy(h, magic_of(kind, g > 0), 8);
	h[8] = (unsigned char)nlen;
	memcpy(h + 9, name, nlen);
	kura_le32_put(h + 9 + nlen, (uint32_t)n);
	if (g) {
		kura_le32_put(q, g);
		q += 4;
		for (size_t i = 0; i < n; i++)
			if (groups->count[i]) {
				kura_le32_put(q, (uint32_t)i);
				q[4] = groups->count[i];
				memcpy(q + 5, groups->values[i], groups->count[i] * hlen);
				q += 5 + groups->count[i] * hlen;
			}
	}
	for (size_t i = 0; kind == 'T' && i < n; i++) {
		size_t m = aug && aug[i] ? auglen[i] : 0;
		kura_le32_put(q, (uint32_t)m);
		if (m)
			memcpy(q + 4, aug[i], m);
		q += 4 + m;
	}
	kura_le32_put(q, (uint32_t)tlen);
	memcpy(q + 4, token, tlen);
	out->head = h;
	out->tail = t;
	out->part[0] = (kura_store_part){h, headlen};
	out->part[1] = (kura_store_part){leaves, n * hlen};
	out->part[2] = (kura_store_part){t, taillen};
	return 0;
}

void kura_chain_parts_clear(kura_chain_parts *p)
{
	free(p->head);
	free(p->tail);
	memset(p, 0, sizeof *p);
}

int kura_object_digests(unsigned char *out, size_t *count, kura_store *st, const char *id, const EVP_MD *md,
			int reread, kura_error *err)
{
	return kura_store_digest_group(out, count, 1 + KURA_INGEST_MAX_MEMBERS, st, id, md, reread, err);
}

static void record_clear(kura_chain_record *r)
{
	kura_hashtree_free(r->tree);
	free(r->payload);
	free(r->token);
	for (size_t i = 0; r->aug && i < r->n; i++)
		free(r->aug[i]);
	free(r->aug);
	free(r->auglen);
	for (size_t i = 0; r->values && i < r->n; i++)
		free(r->values[i]);
	free(r->members);
	free(r->values);
	for (size_t i = 0; r->tokens && i < r->ntokens; i++)
		free(r->tokens[i]);
	free(r->tokens);
	free(r->toklens);
	free(r->er);
	memset(r, 0, sizeof *r);
}

/* Collects the tokens of the record's last chain (each chain's replace the one before). */
static int last_chain_token(void *ud, size_t chain, size_t ats, size_t nats, const unsigned char *tok, size_t len,
			    kura_error *err)
{
	(void)chain;
	kura_chain_record *r = ud;
	if (ats == 1) {
		for (size_t i = 0; r->tokens && i < r->ntokens; i++)
			free(r->tokens[i]);
		free(r->tokens);
		free(r->toklens);
		r->ntokens = 0;
		r->tokens = calloc(nats, sizeof *r->tokens);
		r->toklens = calloc(nats, sizeof *r->toklens);
		if (!r->tokens || !r->toklens)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (!(r->tokens[r->ntokens] = malloc(len)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(r->tokens[r->ntokens], tok, len);
	r->toklens[r->ntokens++] = len;
	return 0;
}

/* An imported record: its bytes, its last chain's tokens and that chain's hash algorithm. */
static int parse_imported(kura_chain_record *r, const kura_evidence *e, kura_error *err)
{
	memset(r, 0, sizeof *r);
	kura_tst *last = NULL;
	int rc = 0;
	if (e->len <= 8 || memcmp(e->payload, IMPORTED_MAGIC, 8) != 0 || e->nsubjects != 1 ||
	    !(r->er = malloc(e->len - 8)))
		rc = kura_error_set(err, KURA_EVERIFY, "evidence record %s is malformed", e->id);
	if (rc == 0) {
		r->erlen = e->len - 8;
		memcpy(r->er, e->payload + 8, r->erlen);
		rc = kura_er_each_token(r->er, r->erlen, last_chain_token, r, NULL, err);
	}
	if (rc == 0 && (rc = kura_tst_parse(&last, r->tokens[r->ntokens - 1], r->toklens[r->ntokens - 1], err)) == 0 &&
	    !(r->md = kura_hash_by_nid(kura_tst_imprint_nid(last))))
		rc = kura_error_set(err, KURA_EVERIFY, "the imported record %s uses a hash algorithm kura does not know", e->id);
	kura_tst_free(last);
	if (rc == 0 && !(r->token = malloc(r->toklens[r->ntokens - 1])))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0) {
		record_clear(r);
		return rc == KURA_EINTERNAL ? rc : kura_error_wrap(err, "imported evidence record %s", e->id);
	}
	r->tlen = r->toklens[r->ntokens - 1];
	memcpy(r->token, r->tokens[r->ntokens - 1], r->tlen);
	r->n = 1;
	r->kind = 'I';
	memcpy(r->id, e->id, sizeof r->id);
	return 0;
}

/* A grouped record's members of each group, from *pp on: the leaf must be
 * their node. -1 if they are malformed. */
static int parse_groups(kura_chain_record *r, const unsigned char **pp, const unsigned char *end, size_t hlen)
{
	const unsigned char *p = *pp;
	if (end - p < 4 || !(r->members = calloc(r->n, 1)) || !(r->values = calloc(r->n, sizeof *r->values)))
		return -1;
	size_t g = kura_le32_get(p);
	p += 4;
	for (size_t i = 0; i < g; i++) {
		if (end - p < 5)
			return -1;
		size_t at = kura_le32_get(p), m = p[4];
		p += 5;
		unsigned char node[EVP_MAX_MD_SIZE], sorted[255 * EVP_MAX_MD_SIZE];
		if (at >= r->n || m == 0 || r->members[at] || (size_t)(end - p) / hlen < m)
			return -1;
		memcpy(sorted, p, m * hlen);
		if (kura_hash_group(node, r->md, sorted, m) != 0 || memcmp(node, r->leaves + at * hlen, hlen) != 0)
			return -1;
		if (!(r->values[at] = malloc(m * hlen)))
			return -1;
		memcpy(r->values[at], p, m * hlen);
		r->members[at] = (uint8_t)m;
		p += m * hlen;
	}
	*pp = p;
	return 0;
}

/* A time-stamp renewal's augmented tokens, one per chain, from *pp on. -1 if
 * they are malformed. */
static int parse_augmented(kura_chain_record *r, const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	r->aug = calloc(r->n, sizeof *r->aug);
	r->auglen = calloc(r->n, sizeof *r->auglen);
	if (!r->aug || !r->auglen)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		if (end - p < 4)
			return -1;
		size_t m = kura_le32_get(p);
		p += 4;
		if ((size_t)(end - p) < m)
			return -1;
		if (m && !(r->aug[i] = malloc(m)))
			return -1;
		if (m)
			memcpy(r->aug[i], p, m);
		r->auglen[i] = m;
		p += m;
	}
	*pp = p;
	return 0;
}

/* Parses e's payload, which the record takes over (its leaves stay in it). */
static int parse(kura_chain_record *r, kura_evidence *e, kura_error *err)
{
	const unsigned char *p = e->payload, *end = e->payload + e->len;
	const char *magic = magic_of(e->kind, 0), *magic2 = magic_of(e->kind, 1);
	char name[32];
	memset(r, 0, sizeof *r);
	if (!magic || e->len < 9 || p[8] >= sizeof name || (size_t)(end - p) < 9u + p[8] + 4)
		goto bad;
	int grouped = magic2 && memcmp(p, magic2, 8) == 0;
	if (!grouped && memcmp(p, magic, 8) != 0)
		goto bad;
	memcpy(name, p + 9, p[8]);
	name[p[8]] = '\0';
	p += 9 + p[8];
	r->md = kura_hash_by_name(name);
	if (!r->md)
		goto bad;
	size_t hlen = (size_t)EVP_MD_get_size(r->md);
	r->n = kura_le32_get(p);
	p += 4;
	if (r->n != e->nsubjects || r->n == 0 || (size_t)(end - p) / hlen < r->n)
		goto bad;
	r->leaves = p;
	p += r->n * hlen;
	if (grouped && parse_groups(r, &p, end, hlen) != 0)
		goto bad;
	if (e->kind == 'T' && parse_augmented(r, &p, end) != 0)
		goto bad;
	if (end - p < 4)
		goto bad;
	r->tlen = kura_le32_get(p);
	p += 4;
	if ((size_t)(end - p) != r->tlen || !(r->token = malloc(r->tlen)))
		goto bad;
	memcpy(r->token, p, r->tlen);
	memcpy(r->id, e->id, sizeof r->id);
	r->kind = e->kind;
	r->ntokens = 1;
	r->payload = e->payload;
	e->payload = NULL;
	return 0;
bad:
	record_clear(r);
	return kura_error_set(err, KURA_EVERIFY, "evidence record %s is malformed", e->id);
}

/* What the records of every object in one chain share, up to a limit (the start
 * of the object's next chain, or none): the ATSs of the chain's renewals, encoded
 * once, and the token and algorithm of its first ATS; or an imported record's
 * chains. Only the first ATS's reduced tree is the object's own. Built from what
 * the index says of the chain's renewals, so valid while the store's generation
 * stays the same. */
struct chain_state {
	char start[KURA_ID_LEN + 1];
	char upto[KURA_ID_LEN + 1]; /* "" for none */
	uint64_t generation;
	kura_er_first *first;       /* kura's own start record */
	kura_er_adopted *adopted;   /* an imported one */
	kura_er_ats **later;        /* the ATSs of its renewals, oldest first */
	size_t nlater;
	uint64_t used_by;           /* the record that used it last: the builder holds its parts */
};

/* Chain states kept (more when one object has more chains). */
#define STATE_SLOTS 8

struct kura_evidence_cache {
	kura_chain_record slot[CACHE_SLOTS];
	unsigned next;
	struct chain_state *state; /* nstates, never fewer than one record's chains + 1 */
	size_t nstates, next_state;
	uint64_t record;           /* counts records, for chain_state.used_by */
	kura_er_builder *builder;  /* reused from record to record */
};

static void state_clear(struct chain_state *s)
{
	kura_er_first_free(s->first);
	kura_er_adopted_free(s->adopted);
	for (size_t i = 0; i < s->nlater; i++)
		kura_er_ats_free(s->later[i]);
	free(s->later);
	memset(s, 0, sizeof *s);
}

int kura_evidence_cache_new(kura_evidence_cache **out, kura_error *err)
{
	kura_evidence_cache *c = calloc(1, sizeof *c);
	if (!c || !(c->state = calloc(STATE_SLOTS, sizeof *c->state))) {
		free(c);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	c->nstates = STATE_SLOTS;
	int rc = kura_er_builder_new(&c->builder, err);
	if (rc != 0) {
		free(c->state);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void kura_evidence_cache_free(kura_evidence_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++)
		record_clear(&c->slot[i]);
	for (size_t i = 0; i < c->nstates; i++)
		state_clear(&c->state[i]);
	free(c->state);
	kura_er_builder_free(c->builder);
	free(c);
}

static int record_get(kura_chain_record **out, kura_evidence_cache *c, kura_store *st, const char *id,
		      kura_error *err)
{
	for (int i = 0; i < CACHE_SLOTS; i++)
		if (c->slot[i].id[0] && strcmp(c->slot[i].id, id) == 0) {
			*out = &c->slot[i];
			return 0;
		}
	kura_evidence e;
	int rc = kura_store_read_evidence(&e, st, id, err);
	if (rc != 0)
		return rc;
	kura_chain_record *r = &c->slot[c->next++ % CACHE_SLOTS];
	record_clear(r);
	rc = e.kind == KURA_EVIDENCE_IMPORTED ? parse_imported(r, &e, err) : parse(r, &e, err);
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
	if (rc == 0 && !r->tree && !r->leaves)
		rc = kura_error_set(err, KURA_EINTERNAL, "evidence record %s has no hash tree", id);
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
	struct link_list l = {.kinds = "SHI"};
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
	size_t m = rc == 0 ? (*start)->ntokens : 0, fixed = rc == 0 && (*start)->kind == KURA_EVIDENCE_IMPORTED ? m : 0;
	renewals->kinds = "T";
	renewals->upto = upto;
	if (rc == 0)
		rc = kura_store_each_evidence_of(st, start_id, keep_link, renewals, err);
	size_t k = renewals->n + m;
	unsigned char **tok = rc == 0 ? calloc(k, sizeof *tok) : NULL;
	size_t *tl = rc == 0 ? calloc(k, sizeof *tl) : NULL;
	if (rc == 0 && (!tok || !tl))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t j = 0; rc == 0 && j < m; j++) {
		const unsigned char *src = m == 1 ? (*start)->token : (*start)->tokens[j];
		tl[j] = m == 1 ? (*start)->tlen : (*start)->toklens[j];
		if (!(tok[j] = malloc(tl[j])))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		else
			memcpy(tok[j], src, tl[j]);
	}
	for (size_t i = 0; rc == 0 && i < renewals->n; i++) {
		char tid[KURA_ID_LEN + 1];
		const kura_chain_record *t;
		size_t prev = m - 1 + i;
		id_at(tid, renewals->ids, i);
		if ((rc = kura_chain_record_get(&t, cache, st, tid, err)) != 0)
			break;
		uint32_t p = renewals->pos[i];
		if (t->md != md || p >= t->n) {
			rc = kura_error_set(err, KURA_EVERIFY, "renewal %s does not fit chain %s", tid, start_id);
			break;
		}
		if (t->aug[p] && prev >= fixed) { /* the previous token, with its validation data added */
			free(tok[prev]);
			if (!(tok[prev] = malloc(t->auglen[p]))) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
				break;
			}
			memcpy(tok[prev], t->aug[p], t->auglen[p]);
			tl[prev] = t->auglen[p];
		}
		if (!(tok[prev + 1] = malloc(t->tlen))) {
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
			break;
		}
		memcpy(tok[prev + 1], t->token, t->tlen);
		tl[prev + 1] = t->tlen;
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

int kura_chain_tokens(unsigned char ***tokens, size_t **lens, size_t *count, size_t *fixed, const EVP_MD **md,
		      kura_store *st, kura_evidence_cache *cache, const char *start, const char *upto, kura_error *err)
{
	struct link_list renewals = {0};
	const kura_chain_record *r = NULL;
	int rc = chain_walk(tokens, lens, count, &renewals, &r, st, cache, start, upto, err);
	if (rc == 0) {
		*md = r->md;
		if (fixed)
			*fixed = r->kind == KURA_EVIDENCE_IMPORTED ? r->ntokens : 0;
	}
	free(renewals.ids);
	free(renewals.pos);
	return rc;
}

/* Builds what every object of chain start_id (renewals below upto, NULL: all)
 * shares in its record. */
static int state_build(struct chain_state *s, kura_store *st, kura_evidence_cache *cache, const char *start_id,
		       const char *upto, kura_error *err)
{
	struct link_list renewals = {0};
	unsigned char **tok = NULL, *values = NULL;
	size_t *tl = NULL, k = 0;
	const kura_chain_record *r;
	int rc = chain_walk(&tok, &tl, &k, &renewals, &r, st, cache, start_id, upto, err);
	const EVP_MD *md = rc == 0 ? r->md : NULL;
	size_t m = rc == 0 ? r->ntokens : 0, hlen = md ? (size_t)EVP_MD_get_size(md) : 0, counts[80], nsib;
	if (rc == 0 && r->kind == KURA_EVIDENCE_IMPORTED) /* its chains as imported; renewals extend the last */
		rc = kura_er_adopted_new(&s->adopted, r->er, r->erlen, err);
	else if (rc == 0) /* ATS 0: only its token and algorithm are shared */
		rc = kura_er_first_new(&s->first, md, tok[0], tl[0], err);
	if (rc == 0 && (!(values = malloc((k + 70) * hlen)) || !(s->later = calloc(k - m + 1, sizeof *s->later))))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	/* ATS i: the hashes of every earlier token, then the siblings in renewal i's tree */
	for (size_t i = m; rc == 0 && i < k; i++) {
		char tid[KURA_ID_LEN + 1];
		const kura_chain_record *t;
		id_at(tid, renewals.ids, i - m);
		for (size_t j = 0; j < i; j++)
			EVP_Digest(tok[j], tl[j], values + j * hlen, NULL, md, NULL);
		if ((rc = kura_chain_record_get_tree(&t, cache, st, tid, err)) != 0)
			break;
		kura_hashtree_path(t->tree, renewals.pos[i - m], values + i * hlen, &nsib);
		counts[0] = i;
		for (size_t q = 1; q <= nsib; q++)
			counts[q] = 1;
		if ((rc = kura_er_ats_new(&s->later[s->nlater], md, values, counts, nsib + 1, tok[i], tl[i], err)) == 0)
			s->nlater++;
	}
	if (rc == 0) {
		snprintf(s->start, sizeof s->start, "%s", start_id);
		snprintf(s->upto, sizeof s->upto, "%s", upto ? upto : "");
		s->generation = kura_store_generation(st);
	} else {
		state_clear(s);
	}
	free(values);
	kura_free_tokens(tok, k);
	free(tl);
	free(renewals.ids);
	free(renewals.pos);
	return rc;
}

/* The state of a chain, from the cache or built; kept until the record being
 * built is finished. */
static int state_get(struct chain_state **out, kura_evidence_cache *c, kura_store *st, const char *start,
		     const char *upto, kura_error *err)
{
	uint64_t generation = kura_store_generation(st);
	const char *u = upto ? upto : "";
	for (size_t i = 0; i < c->nstates; i++) {
		struct chain_state *s = &c->state[i];
		if (s->start[0] && s->generation == generation && strcmp(s->start, start) == 0 && strcmp(s->upto, u) == 0) {
			s->used_by = c->record;
			*out = s;
			return 0;
		}
	}
	struct chain_state *s = &c->state[c->next_state++ % c->nstates];
	while (s->start[0] && s->used_by == c->record) /* there are more slots than the record's chains */
		s = &c->state[c->next_state++ % c->nstates];
	state_clear(s);
	int rc = state_build(s, st, c, start, upto, err);
	if (rc == 0) {
		s->used_by = c->record;
		*out = s;
	}
	return rc;
}

/* Appends one chain of the object to the record being built. */
static int add_chain(kura_er_builder *b, kura_store *st, kura_evidence_cache *cache, const char *start_id,
		     uint32_t pos, const char *upto, kura_error *err)
{
	struct chain_state *s;
	const kura_chain_record *r;
	int rc = state_get(&s, cache, st, start_id, upto, err);
	if (rc == 0 && s->adopted) {
		rc = pos == 0 ? kura_er_builder_adopt(b, s->adopted, err)
			      : kura_error_set(err, KURA_EVERIFY, "chain %s has no leaf %u", start_id, pos);
	} else if (rc == 0 && (rc = kura_chain_record_get_tree(&r, cache, st, start_id, err)) == 0) {
		/* ATS 0: the object's leaf (or its group's members), then the siblings in the start record's tree */
		unsigned char values[(255 + 64) * EVP_MAX_MD_SIZE];
		size_t hlen = (size_t)EVP_MD_get_size(r->md), counts[1 + 64], nsib = 0;
		size_t g = pos < r->n && r->members && r->members[pos] ? r->members[pos] : 1;
		const kura_er_ats *ats;
		if (pos >= r->n)
			return kura_error_set(err, KURA_EVERIFY, "chain %s has no leaf %u", start_id, pos);
		memcpy(values, g > 1 ? r->values[pos] : kura_hashtree_leaf(r->tree, pos), g * hlen);
		kura_hashtree_path(r->tree, pos, values + g * hlen, &nsib);
		counts[0] = g;
		for (size_t i = 1; i <= nsib; i++)
			counts[i] = 1;
		if ((rc = kura_er_first_ats(&ats, s->first, values, counts, nsib + 1, err)) == 0 &&
		    (rc = kura_er_builder_chain(b, err)) == 0)
			rc = kura_er_builder_put(b, ats, err);
	}
	for (size_t i = 0; rc == 0 && i < s->nlater; i++)
		rc = kura_er_builder_put(b, s->later[i], err);
	return rc;
}

/* Makes room for a record of n chains: its chain states all stay until it is
 * finished. */
static int states_reserve(kura_evidence_cache *c, size_t n, kura_error *err)
{
	if (n < c->nstates)
		return 0;
	struct chain_state *g = realloc(c->state, (n + 1) * sizeof *g);
	if (!g)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memset(g + c->nstates, 0, (n + 1 - c->nstates) * sizeof *g);
	c->state = g;
	c->nstates = n + 1;
	return 0;
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
	if (rc == 0)
		rc = states_reserve(cache, n, err);
	cache->record++;
	if (rc == 0 && n == 1) { /* an imported record not renewed yet is given out exactly as it came */
		char sid[KURA_ID_LEN + 1];
		struct chain_state *s;
		const kura_chain_record *r;
		id_at(sid, starts, 0);
		if ((rc = state_get(&s, cache, st, sid, NULL, err)) == 0 && s->adopted && s->nlater == 0) {
			free(starts);
			free(pos);
			if ((rc = kura_chain_record_get(&r, cache, st, sid, err)) != 0)
				return rc;
			if (!(*der = malloc(r->erlen)))
				return kura_error_set(err, KURA_EINTERNAL, "out of memory");
			memcpy(*der, r->er, r->erlen);
			*len = r->erlen;
			return 0;
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char sid[KURA_ID_LEN + 1], next[KURA_ID_LEN + 1];
		id_at(sid, starts, i);
		if (i + 1 < n)
			id_at(next, starts, i + 1);
		/* a chain ends where the next one starts: later renewals of a shared
		 * chain belong to the objects that still live in it */
		rc = add_chain(cache->builder, st, cache, sid, pos[i], i + 1 < n ? next : NULL, err);
	}
	if (rc == 0)
		rc = kura_er_builder_finish(cache->builder, der, len, err);
	else
		kura_er_builder_clear(cache->builder);
	free(starts);
	free(pos);
	return rc;
}
