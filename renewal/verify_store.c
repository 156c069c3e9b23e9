/* Store-wide verification (see verify_store.h).
 *
 * THE SHORTCUT, and why its reports equal the full way's. An object whose only
 * chain starts at a seal ('S', renewed by time-stamp renewals 'T' or not) gets a
 * record in which everything but the first archive time-stamp's reduced tree is
 * the same for every object of that seal: the tokens (as augmented by later
 * renewals), the renewals' first lists (hashes of the chain's earlier tokens)
 * and their trees' paths (at the seal's position in each renewal). The first
 * ATS holds the object's leaf (or its group's member values) and the path from
 * it to the root of the seal's tree. So, once per seal:
 *   - the root of the tree over ALL the seal's leaves must equal the imprint of
 *     the chain's first token (as the record carries it), under the seal's hash;
 *     then every leaf's path leads to the imprint, by the rule that matched for
 *     the first object (one-value lists pass through: the seal's binary tree);
 *   - the seal's first object that passes its own check below is verified the
 *     full way, and its report (before any document signature) is kept.
 * And for every object: its stored bytes are read back, decompressed and hashed
 * (the check that finds a damaged document, never skipped), and each digest must
 * be in its first list, as the full way requires. Then its report is the kept
 * one. Tokens, trust, algorithms and revocation at the right times were judged
 * by the full way, and depend on the chain alone.
 *
 * The full way remains for everything else, where the record differs per object
 * beyond its leaf or a check above fails, so that its report says exactly what it
 * says today: objects not sealed yet, chains started by a hash-tree renewal ('H':
 * their leaf is H'(H'(data) || H'(the object's earlier chains)), which takes the
 * object's own record to compute), imported records ('I': each object's own),
 * a seal whose tree does not lead to its token, damaged bytes, and a digest that
 * is not in the object's first list. A signed document's signature is decided
 * per object either way. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "evidence/tst.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "renewal/chains.h"
#include "renewal/policy.h"
#include "renewal/signed.h"
#include "renewal/store_policy.h"
#include "renewal/tsa_setup.h"
#include "renewal/verify_store.h"

#define SEALS 16     /* seals remembered; objects come in ingest order, so seal by seal */
#define FULL_WAY 1   /* the shortcut does not apply: go the full way */

struct seal {
	char id[KURA_ID_LEN + 1];
	int usable;     /* the tree over all leaves leads to the chain's first token */
	json_t *report; /* the report of its first object verified the full way */
};

struct kura_verifier {
	kura_store *st;
	int deep;
	STACK_OF(X509) *anchors;
	STACK_OF(X509) *signers;
	kura_policy *policy;
	kura_trust_cache *trust;
	kura_evidence_cache *cache;
	kura_er_verify_opts opts;
	struct seal seal[SEALS];
	unsigned next;
};

int kura_verifier_new(kura_verifier **out, kura_store *st, int flags, kura_error *err)
{
	kura_verifier *v = calloc(1, sizeof *v);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	v->st = st;
	v->deep = (flags & KURA_VERIFY_DEEP) != 0;
	int rc = kura_tsa_setup_anchors(&v->anchors, st, err);
	if (rc == 0)
		rc = kura_signed_anchors(&v->signers, st, err);
	if (rc == 0)
		rc = kura_store_policy_load(&v->policy, st, err);
	if (rc == 0)
		rc = kura_trust_cache_new(&v->trust, err);
	if (rc == 0)
		rc = kura_evidence_cache_new(&v->cache, err);
	if (rc == 0)
		rc = kura_clock_now(&v->opts.at_ms, err);
	if (rc != 0) {
		kura_verifier_free(v);
		return rc;
	}
	v->opts.anchors = v->anchors;
	v->opts.cache = v->trust;
	v->opts.algorithm_end = kura_policy_algorithm_end;
	v->opts.algorithm_ud = v->policy;
	*out = v;
	return 0;
}

void kura_verifier_free(kura_verifier *v)
{
	if (!v)
		return;
	for (int i = 0; i < SEALS; i++)
		json_decref(v->seal[i].report);
	kura_evidence_cache_free(v->cache);
	kura_trust_cache_free(v->trust);
	sk_X509_pop_free(v->anchors, X509_free);
	sk_X509_pop_free(v->signers, X509_free);
	kura_policy_free(v->policy);
	free(v);
}

/* ---------------------------------------------------------------- the full way */

struct object_data {
	kura_store *st;
	const char *id;
	int group; /* a data object group: a signed document */
};

/* The digests of the object's stored bytes (and its group's), read back and checked. */
static int digest_object(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	struct object_data *d = ud;
	int rc = kura_object_digests(out, count, d->st, d->id, md, 1, err);
	d->group |= rc == 0 && *count > 1;
	return rc;
}

static json_t *verdict_only(const char *verdict, const char *integrity, const char *reason)
{
	return json_pack("{s:s, s:s, s:s, s:[], s:s}", "verdict", verdict, "integrity", integrity, "trust",
			 "indeterminate", "chains", "reason", reason);
}

/* The object's record assembled and verified on its own. *whole: the report
 * came from the record's verification (not a damaged record or damaged bytes). */
static int full_way(json_t **report, int *group, int *whole, kura_verifier *v, const char *id, kura_error *err)
{
	unsigned char *der = NULL;
	size_t len = 0;
	kura_error e = {0};
	struct object_data d = {v->st, id, 0};
	kura_er_verify_opts o = v->opts;
	*whole = 0;
	int rc = kura_object_evidence(&der, &len, v->st, id, v->cache, &e);
	if (rc == KURA_ENOTFOUND && strstr(e.message, "not sealed")) {
		*report = verdict_only("indeterminate", "valid", e.message);
	} else if (rc == KURA_EVERIFY) {
		*report = verdict_only("invalid", "invalid", e.message);
	} else if (rc != 0) {
		*err = e;
		return rc;
	} else {
		o.digest = digest_object;
		o.digest_ud = &d;
		rc = kura_er_verify(report, der, len, &o, &e);
		free(der);
		if (rc == KURA_EVERIFY) { /* the stored bytes are damaged */
			*report = verdict_only("invalid", "invalid", e.message);
		} else if (rc != 0) {
			*err = e;
			return rc;
		} else {
			*whole = 1;
		}
	}
	*group = d.group;
	return 0;
}

/* ---------------------------------------------------------------- the shortcut */

/* Is the seal's tree over all its leaves the one its chain's first token stamped?
 * Anything unreadable or unexpected: no (the full way will say what). */
static int seal_usable(kura_verifier *v, const char *sid)
{
	const kura_chain_record *r = NULL;
	unsigned char **tok = NULL;
	size_t *tl = NULL, k = 0, ilen = 0;
	const EVP_MD *md = NULL;
	kura_tst *first = NULL;
	int ok = kura_chain_record_get(&r, v->cache, v->st, sid, NULL) == 0 && r->kind == KURA_EVIDENCE_SEAL &&
		 kura_chain_tokens(&tok, &tl, &k, NULL, &md, v->st, v->cache, sid, NULL, NULL) == 0 && k > 0 &&
		 kura_tst_parse(&first, tok[0], tl[0], NULL) == 0 &&
		 kura_tst_imprint_nid(first) == EVP_MD_get_type(md) &&
		 kura_chain_record_get_tree(&r, v->cache, v->st, sid, NULL) == 0 && r->md == md;
	const unsigned char *imprint = ok ? kura_tst_imprint(first, &ilen) : NULL;
	ok = ok && ilen == kura_hashtree_size(r->tree) && memcmp(imprint, kura_hashtree_root(r->tree), ilen) == 0;
	kura_tst_free(first);
	kura_free_tokens(tok, k);
	free(tl);
	return ok;
}

static struct seal *seal_of(kura_verifier *v, const char *sid)
{
	for (int i = 0; i < SEALS; i++)
		if (strcmp(v->seal[i].id, sid) == 0)
			return &v->seal[i];
	struct seal *s = &v->seal[v->next++ % SEALS];
	json_decref(s->report);
	s->report = NULL;
	memcpy(s->id, sid, sizeof s->id);
	s->usable = seal_usable(v, sid);
	return s;
}

/* Is every digest (count of them) in the first list of the object at position
 * pos of seal r: its group's member values, or its leaf? */
static int in_first_list(const kura_chain_record *r, uint32_t pos, const unsigned char *digests, size_t count)
{
	size_t hlen = (size_t)EVP_MD_get_size(r->md);
	int group = r->members && r->members[pos];
	const unsigned char *list = group ? r->values[pos] : r->leaves + (size_t)pos * hlen;
	size_t m = group ? r->members[pos] : 1;
	for (size_t i = 0; i < count; i++) {
		size_t j = 0;
		while (j < m && memcmp(digests + i * hlen, list + j * hlen, hlen) != 0)
			j++;
		if (j == m)
			return 0;
	}
	return 1;
}

/* Digests read ahead by the worker thread (see the whole store below). */
struct read_ahead {
	const EVP_MD *md;
	int rc;
	size_t count;
	unsigned char digests[KURA_ER_MAX_MEMBERS * EVP_MAX_MD_SIZE];
};

/* The object's report through its seal, or FULL_WAY. pre: its digests when
 * they were read ahead (NULL: read them here). */
static int shortcut(json_t **report, int *group, kura_verifier *v, const char *id, const struct read_ahead *pre,
		    kura_error *err)
{
	char *starts = NULL, sid[KURA_ID_LEN + 1];
	uint32_t *pos = NULL, p = 0;
	size_t n = 0, count = 0;
	int rc = kura_object_chain_starts(&starts, &pos, &n, v->st, id, NULL) == 0 && n == 1 ? 0 : FULL_WAY;
	if (rc == 0) {
		memcpy(sid, starts, KURA_ID_LEN);
		sid[KURA_ID_LEN] = '\0';
		p = pos[0];
	}
	free(starts);
	free(pos);
	struct seal *s = rc == 0 ? seal_of(v, sid) : NULL;
	const kura_chain_record *r = NULL;
	if (!s || !s->usable || kura_chain_record_get(&r, v->cache, v->st, sid, NULL) != 0 || p >= r->n)
		return FULL_WAY;
	unsigned char own[KURA_ER_MAX_MEMBERS * EVP_MAX_MD_SIZE];
	const unsigned char *digests = own;
	if (pre && pre->md == r->md) {
		rc = pre->rc;
		count = pre->count;
		digests = pre->digests;
	} else { /* not read ahead, or under another hash than the seal's */
		rc = kura_object_digests(own, &count, v->st, id, r->md, 1, NULL);
	}
	/* damaged bytes, or a digest the seal does not hold: the full way's words */
	if (rc != 0 || !in_first_list(r, p, digests, count))
		return FULL_WAY;
	if (s->report) {
		*report = json_incref(s->report);
		*group = count > 1;
		return 0;
	}
	int whole;
	if ((rc = full_way(report, group, &whole, v, id, err)) == 0 && whole)
		s->report = json_incref(*report);
	return rc;
}

/* ---------------------------------------------------------------- reports */

static int check(json_t **out, kura_verifier *v, const char *id, const struct read_ahead *pre, kura_error *err)
{
	json_t *report = NULL;
	int group = 0, whole;
	int rc = v->deep ? FULL_WAY : shortcut(&report, &group, v, id, pre, err);
	if (rc == FULL_WAY)
		rc = full_way(&report, &group, &whole, v, id, err);
	if (rc != 0)
		return rc;
	/* a signed document: its signature at the time the evidence proves */
	int64_t proven;
	json_t *sig = NULL;
	kura_error e = {0};
	if (group && kura_er_report_proven(&proven, report) == 0 &&
	    (rc = kura_signed_verify(&sig, v->st, id, v->signers, v->anchors, proven, &e)) != 0) {
		json_decref(report);
		*err = e;
		return rc;
	}
	if (sig) { /* on a copy: the report may be shared */
		json_t *own = json_deep_copy(report);
		json_decref(report);
		if (!(report = own)) {
			json_decref(sig);
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		}
		kura_er_report_signature(report, sig);
	}
	*out = report;
	return 0;
}

int kura_verifier_check(json_t **report, kura_verifier *v, const char *id, kura_error *err)
{
	return check(report, v, id, NULL, err);
}

/* ---------------------------------------------------------------- the whole store
 *
 * The second core: a worker thread parses a batch of descriptions and reads
 * back, decompresses and hashes those objects' stored bytes (under the store's
 * hash, through a store reader of its own: index lookups are safe from any
 * thread) while this thread checks and reports the batch before it. Everything
 * else (the evidence, the caches, the reports) stays on this thread, and a batch
 * changes hands only under the lock. */
#define BATCH 256

struct item {
	char id[KURA_ID_LEN + 1];
	char *text;     /* the description as stored */
	json_t *object; /* parsed by the worker (NULL: unreadable) */
	struct read_ahead pre;
};

struct batch {
	struct item item[BATCH];
	size_t n;
};

struct pipeline {
	kura_verifier *v;
	kura_verifier_report_fn fn;
	void *ud;
	kura_store_reader *reader; /* the worker's */
	struct batch batch[2];
	int filling;               /* the batch this thread fills */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *job;         /* the worker's, until it sets it NULL */
	int stop;
};

static void prepare(struct pipeline *p, struct item *it)
{
	it->object = json_loads(it->text, 0, NULL);
	it->pre.rc = FULL_WAY;
	if (it->object && json_is_object(it->object) && !p->v->deep)
		it->pre.rc = kura_store_reader_digests(it->pre.digests, &it->pre.count, 1 + KURA_INGEST_MAX_MEMBERS,
						       p->reader, it->object, it->pre.md, NULL);
}

static void *work(void *arg)
{
	struct pipeline *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->job && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->job)
			break;
		struct batch *b = p->job;
		pthread_mutex_unlock(&p->lock);
		for (size_t i = 0; i < b->n; i++)
			prepare(p, &b->item[i]);
		pthread_mutex_lock(&p->lock);
		p->job = NULL;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Waits until the worker has finished its batch. */
static void wait_worker(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->job)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static void clear_batch(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->item[i].text);
		json_decref(b->item[i].object);
	}
	b->n = 0;
}

/* Checks and reports a batch the worker has prepared, then empties it. */
static int report_batch(struct pipeline *p, struct batch *b, kura_error *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < b->n; i++) {
		struct item *it = &b->item[i];
		json_t *report = NULL;
		if (!it->object || !json_is_object(it->object))
			rc = kura_error_set(err, KURA_EIO, "object %s has an unreadable description; run kura reindex", it->id);
		else if ((rc = check(&report, p->v, it->id, &it->pre, err)) == 0)
			rc = p->fn(p->ud, it->id, report, err);
		json_decref(report);
	}
	clear_batch(b);
	return rc;
}

/* Gives the batch being filled to the worker and reports the one it prepared before. */
static int hand_over(struct pipeline *p, kura_error *err)
{
	struct batch *full = &p->batch[p->filling], *done = &p->batch[!p->filling];
	wait_worker(p);
	pthread_mutex_lock(&p->lock);
	p->job = full;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	p->filling = !p->filling;
	return report_batch(p, done, err);
}

static int collect(void *ud, const char *id, const char *json, size_t len, kura_error *err)
{
	struct pipeline *p = ud;
	struct batch *b = &p->batch[p->filling];
	struct item *it = &b->item[b->n];
	if (!(it->text = malloc(len + 1)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(it->text, json, len);
	it->text[len] = '\0';
	memcpy(it->id, id, KURA_ID_LEN);
	it->id[KURA_ID_LEN] = '\0';
	it->object = NULL;
	b->n++;
	return b->n == BATCH ? hand_over(p, err) : 0;
}

int kura_verifier_each(kura_verifier *v, kura_verifier_report_fn fn, void *ud, kura_error *err)
{
	struct pipeline *p = calloc(1, sizeof *p);
	pthread_t worker;
	int rc = p ? kura_store_reader_new(&p->reader, v->st, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0) {
		free(p);
		return rc;
	}
	p->v = v;
	p->fn = fn;
	p->ud = ud;
	for (int b = 0; b < 2; b++)
		for (size_t i = 0; i < BATCH; i++)
			p->batch[b].item[i].pre.md = kura_hash_by_name(kura_store_hash(v->st));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&worker, NULL, work, p) != 0) {
		rc = kura_error_set(err, KURA_EINTERNAL, "cannot start a thread");
	} else {
		rc = kura_store_each_description(v->st, collect, p, err);
		if (rc == 0) /* the last batch, partly filled, then the one the worker has */
			rc = hand_over(p, err);
		wait_worker(p);
		if (rc == 0)
			rc = report_batch(p, &p->batch[!p->filling], err);
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(worker, NULL);
	}
	clear_batch(&p->batch[0]);
	clear_batch(&p->batch[1]);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	kura_store_reader_free(p->reader);
	free(p);
	return rc;
}
