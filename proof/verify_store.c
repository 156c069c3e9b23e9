/* Store-wide verification (see verify_store.h).
 *
 * THE SHORTCUT, and why its reports equal the full way's. Objects whose chains
 * start at the same records (a seal 'S', then any hash-tree renewals 'H'; each
 * chain extended by the same time-stamp renewals 'T') get records that differ
 * only in the first archive time-stamp of each chain: its first list (the
 * object's leaf, or its group's member values) and the path from there to the
 * root of that record's tree. Everything else — the tokens (as augmented by later
 * renewals), the renewals' first lists (hashes of the chain's earlier tokens),
 * their paths (at the chain's position in each renewal) — is the same. So, once
 * per such state:
 *   - the root of the tree over ALL the leaves of each start record must equal
 *     the imprint of its chain's first token (as the record carries it), under
 *     the record's hash; then every leaf's path leads to the imprint, by the rule
 *     one-value lists pass through (kura's binary trees);
 *   - its first object that passes its own checks below is verified the full way,
 *     and its report (before any document signature) is kept.
 * And for every object: its stored bytes are read back, decompressed and hashed
 * (the check that finds a damaged document, never skipped); in chain 0 each
 * digest must be in its first list, and in each hash-tree renewal k each
 * H'(H'(data) || ha) must be, with ha = H'(DER of the object's own chains
 * 0..k-1): the first object's record decoded once, each chain's first ATS
 * replaced by this object's, and encoded as the verifier encodes it. Then its
 * report is the kept one: tokens, trust, algorithms and revocation at the right
 * times were judged by the full way and depend on the chains alone.
 *
 * The full way remains wherever that does not hold, so that its report says
 * exactly what it says today: objects not sealed yet, imported records ('I':
 * each object's own, kept byte for byte), a record whose tree does not lead to
 * its token, damaged bytes, a digest that is not in the object's first list (or
 * matches only the tolerated sorted form of a hash-tree renewal), more than
 * MAX_CHAINS chains. A signed document's signature is decided per object either
 * way. A disposed object (index key 'D') gets the verdict "disposed": its
 * content was removed by design; its object record is still checked. */
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "archive/audit.h"
#include "common/hash.h"
#include "evidence/ers_asn1.h"
#include "evidence/hashtree.h"
#include "evidence/tst.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "proof/chains.h"
#include "policies/policy.h"
#include "proof/signed.h"
#include "proof/store_policy.h"
#include "proof/tsa_certified.h"
#include "proof/tsa_setup.h"
#include "proof/verify_store.h"

#define STATES 16    /* chain states remembered; objects come in ingest order, so seal by seal */
#define MAX_CHAINS 8 /* a seal and hash-tree renewals; more: the full way */
#define FULL_WAY 1   /* the shortcut does not apply: go the full way */

/* The objects whose chains start at the same records: a seal, and the
 * hash-tree renewals after it (each chain with the same time-stamp renewals). */
struct state {
	char starts[MAX_CHAINS * KURA_ID_LEN];
	size_t n;
	int usable;     /* each record's tree over all its leaves leads to its chain's first token */
	KURA_ER *model; /* n > 1: an object's record, whose first ATSs of each chain
			   are replaced by each object's own to hash its earlier chains */
	json_t *report; /* the report of its first object verified the full way */
};

static void state_clear(struct state *s)
{
	json_decref(s->report);
	KURA_ER_free(s->model);
	memset(s, 0, sizeof *s);
}

struct kura_verifier {
	kura_store *st;
	int deep;
	STACK_OF(X509) *anchors;
	STACK_OF(X509) *signers;
	kura_policy *policy;
	kura_trust_cache *trust;
	kura_evidence_cache *cache;
	kura_er_verify_opts opts;
	struct state state[STATES];
	unsigned next;
	const EVP_MD *other_md; /* the last hash a chain needed other than the store's */
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

void kura_verifier_set_at(kura_verifier *v, int64_t at_ms)
{
	v->opts.at_ms = at_ms;
}

void kura_verifier_free(kura_verifier *v)
{
	if (!v)
		return;
	for (int i = 0; i < STATES; i++)
		state_clear(&v->state[i]);
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
	/* what was recorded of each token's TSA: the same for every object of a
	 * shortcut's state (the same records), so the shared report may carry it */
	int rc2 = kura_tsa_certified_report_with(*report, v->st, id, v->cache, err);
	if (rc2 != 0) {
		json_decref(*report);
		*report = NULL;
	}
	return rc2;
}

/* ---------------------------------------------------------------- the shortcut */

/* Is the tree over all the leaves of record sid (of kind) the one its chain's
 * first token stamped (the chain up to the record upto starts, NULL: all)?
 * Anything unreadable or unexpected: no (the full way will say what). */
static int chain_usable(kura_verifier *v, const char *sid, const char *upto, char kind)
{
	const kura_chain_record *r = NULL;
	unsigned char **tok = NULL;
	size_t *tl = NULL, k = 0, ilen = 0;
	const EVP_MD *md = NULL;
	kura_tst *first = NULL;
	int ok = kura_chain_record_get(&r, v->cache, v->st, sid, NULL) == 0 && r->kind == kind &&
		 kura_chain_tokens(&tok, &tl, &k, NULL, &md, v->st, v->cache, sid, upto, NULL) == 0 && k > 0 &&
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

static void id_at(char out[KURA_ID_LEN + 1], const char *ids, size_t i)
{
	memcpy(out, ids + i * KURA_ID_LEN, KURA_ID_LEN);
	out[KURA_ID_LEN] = '\0';
}

/* Judges the chains that start at starts (n of them) for the shortcut; id: an
 * object of theirs, whose record serves as the model of the earlier chains. */
static void state_judge(kura_verifier *v, struct state *s, const char *id)
{
	char sid[KURA_ID_LEN + 1], next[KURA_ID_LEN + 1];
	s->usable = 1;
	for (size_t k = 0; s->usable && k < s->n; k++) {
		id_at(sid, s->starts, k);
		if (k + 1 < s->n)
			id_at(next, s->starts, k + 1);
		s->usable = chain_usable(v, sid, k + 1 < s->n ? next : NULL, k == 0 ? KURA_EVIDENCE_SEAL : KURA_EVIDENCE_HASHTREE);
	}
	unsigned char *der = NULL;
	size_t len = 0;
	if (s->usable && s->n > 1 && kura_object_evidence(&der, &len, v->st, id, v->cache, NULL) == 0) {
		const unsigned char *p = der;
		s->model = d2i_KURA_ER(NULL, &p, (long)len);
	}
	free(der);
	if (s->n > 1) {
		KURA_ATS_SEQ *seq = s->model ? s->model->archiveTimeStampSequence : NULL;
		int ok = seq && (size_t)sk_KURA_ATS_CHAIN_num(seq) == s->n;
		for (size_t k = 0; ok && k < s->n; k++)
			ok = sk_KURA_ATS_num(sk_KURA_ATS_CHAIN_value(seq, (int)k)) > 0;
		s->usable &= ok;
	}
}

static struct state *state_of(kura_verifier *v, const char *starts, size_t n, const char *id)
{
	for (int i = 0; i < STATES; i++)
		if (v->state[i].n == n && memcmp(v->state[i].starts, starts, n * KURA_ID_LEN) == 0)
			return &v->state[i];
	struct state *s = &v->state[v->next++ % STATES];
	state_clear(s);
	memcpy(s->starts, starts, n * KURA_ID_LEN);
	s->n = n;
	state_judge(v, s, id);
	return s;
}

/* Is every value (count of them) in the first list of the object at position
 * pos of record r: its group's member values, or its leaf? */
static int in_first_list(const kura_chain_record *r, uint32_t pos, const unsigned char *values, size_t count)
{
	size_t hlen = (size_t)EVP_MD_get_size(r->md);
	int group = r->members && r->members[pos];
	const unsigned char *list = group ? r->values[pos] : r->leaves + (size_t)pos * hlen;
	size_t m = group ? r->members[pos] : 1;
	for (size_t i = 0; i < count; i++) {
		size_t j = 0;
		while (j < m && memcmp(values + i * hlen, list + j * hlen, hlen) != 0)
			j++;
		if (j == m)
			return 0;
	}
	return 1;
}

/* The reduced tree of the object at pos in record r, as its record carries it
 * (proof/chains.c): its leaf (or its group's member values), then the siblings
 * of its path, one list each. */
static STACK_OF(KURA_PHT) *reduced_tree(const kura_chain_record *r, uint32_t pos)
{
	size_t hlen = (size_t)EVP_MD_get_size(r->md), g = r->members && r->members[pos] ? r->members[pos] : 1, nsib = 0;
	unsigned char sib[64 * EVP_MAX_MD_SIZE];
	const unsigned char *values = g > 1 ? r->values[pos] : kura_hashtree_leaf(r->tree, pos);
	STACK_OF(KURA_PHT) *t = sk_KURA_PHT_new_null();
	kura_hashtree_path(r->tree, pos, sib, &nsib);
	for (size_t k = 0; t && k <= nsib; k++) {
		KURA_PHT *list = sk_ASN1_OCTET_STRING_new_null();
		if (!list || !sk_KURA_PHT_push(t, list)) {
			sk_ASN1_OCTET_STRING_free(list);
			goto bad;
		}
		for (size_t i = 0; i < (k == 0 ? g : 1); i++) {
			ASN1_OCTET_STRING *o = ASN1_OCTET_STRING_new();
			if (!o || !ASN1_OCTET_STRING_set(o, k == 0 ? values + i * hlen : sib + (k - 1) * hlen, (int)hlen) ||
			    !sk_ASN1_OCTET_STRING_push(list, o)) {
				ASN1_OCTET_STRING_free(o);
				goto bad;
			}
		}
	}
	return t;
bad:
	sk_KURA_PHT_pop_free(t, KURA_PHT_free);
	return NULL;
}

/* ha of a hash-tree renewal that starts chain k: H'(DER of chains 0..k-1), as
 * the verifier computes it from the object's record (evidence/verify.c). */
static int earlier_chains_hash(unsigned char *ha, KURA_ER *model, size_t k, const EVP_MD *md)
{
	KURA_ATS_SEQ *seq = model->archiveTimeStampSequence, *earlier = sk_KURA_ATS_CHAIN_new_null();
	for (size_t j = 0; earlier && j < k; j++)
		sk_KURA_ATS_CHAIN_push(earlier, sk_KURA_ATS_CHAIN_value(seq, (int)j));
	unsigned char *enc = NULL;
	int elen = earlier ? i2d_KURA_ATS_SEQ(earlier, &enc) : -1;
	int ok = elen > 0 && EVP_Digest(enc, (size_t)elen, ha, NULL, md, NULL) == 1;
	sk_KURA_ATS_CHAIN_free(earlier);
	OPENSSL_free(enc);
	return ok ? 0 : -1;
}

/* An object's digests under one hash, from its stored bytes read back. */
struct digests {
	const EVP_MD *md; /* NULL: none */
	int rc;
	size_t count;
	unsigned char value[KURA_ER_MAX_MEMBERS * EVP_MAX_MD_SIZE];
};

/* Hashes the worker thread reads ahead under (see the whole store below): the
 * store's, and the last other one that a chain needed. */
#define READ_AHEAD 2

/* Does the object (at pos[k] of each chain's start record) pass the per-object
 * checks of the shortcut: in chain 0 its digests in its first list, in each
 * hash-tree renewal k its H'(H'(data) || ha) (ha over its own earlier chains)?
 * *count: its digests (more than 1: a group). */
static int object_fits(struct state *s, kura_verifier *v, const char *id, const uint32_t *pos, const struct digests *pre,
		       size_t *count)
{
	struct digests own = {0};
	const struct digests *d = NULL;
	for (size_t k = 0; k < s->n; k++) {
		char sid[KURA_ID_LEN + 1];
		const kura_chain_record *r = NULL;
		id_at(sid, s->starts, k);
		if (kura_chain_record_get_tree(&r, v->cache, v->st, sid, NULL) != 0 || pos[k] >= r->n)
			return 0;
		for (int j = 0; pre && j < READ_AHEAD && (!d || d->md != r->md); j++)
			d = &pre[j];
		if (!d || d->md != r->md) { /* not read ahead, or under another hash */
			own.md = r->md;
			own.rc = kura_object_digests(own.value, &own.count, v->st, id, r->md, 1, NULL);
			d = &own;
			v->other_md = r->md;
		}
		/* damaged bytes, or a digest the record does not hold: the full way's words */
		if (d->rc != 0)
			return 0;
		size_t hlen = (size_t)EVP_MD_get_size(r->md);
		unsigned char leaves[KURA_ER_MAX_MEMBERS * EVP_MAX_MD_SIZE], ha[EVP_MAX_MD_SIZE];
		if (k == 0) {
			memcpy(leaves, d->value, d->count * hlen);
		} else {
			if (earlier_chains_hash(ha, s->model, k, r->md) != 0)
				return 0;
			for (size_t i = 0; i < d->count; i++)
				kura_hash_pair(leaves + i * hlen, r->md, d->value + i * hlen, ha, hlen, 0);
		}
		if (!in_first_list(r, pos[k], leaves, d->count))
			return 0;
		if (k + 1 < s->n) { /* this object's first ATS of chain k, for the ha of the next */
			KURA_ATS *ats = sk_KURA_ATS_value(sk_KURA_ATS_CHAIN_value(s->model->archiveTimeStampSequence, (int)k), 0);
			STACK_OF(KURA_PHT) *t = reduced_tree(r, pos[k]);
			if (!t)
				return 0;
			sk_KURA_PHT_pop_free(ats->reducedHashtree, KURA_PHT_free);
			ats->reducedHashtree = t;
		}
		if (k == 0)
			*count = d->count;
	}
	return 1;
}

/* The object's report through its chains' shared one, or FULL_WAY. pre: its
 * digests when they were read ahead (NULL: read them here). */
static int shortcut(json_t **report, int *group, kura_verifier *v, const char *id, const struct digests *pre,
		    kura_error *err)
{
	char *starts = NULL;
	uint32_t *pos = NULL;
	size_t n = 0, count = 0;
	int rc = kura_object_chain_starts(&starts, &pos, &n, v->st, id, NULL) == 0 && n >= 1 && n <= MAX_CHAINS ? 0 : FULL_WAY;
	struct state *s = rc == 0 ? state_of(v, starts, n, id) : NULL;
	if (!s || !s->usable || !object_fits(s, v, id, pos, pre, &count))
		rc = FULL_WAY;
	free(starts);
	free(pos);
	if (rc != 0)
		return rc;
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

/* A disposed object (archive/compact.c): its content is gone by design, which is
 * neither damage nor a failed proof; *out NULL when id was not disposed of. */
static int disposed(json_t **out, kura_verifier *v, const char *id, kura_error *err)
{
	char by[KURA_ID_LEN + 1], why[256];
	int rc = kura_store_disposed(v->st, id, by, err);
	*out = NULL;
	if (rc != 1)
		return rc;
	snprintf(why, sizeof why, "disposed of by audit record %s: its content is no longer kept; its object record "
				  "and evidence record stay", by);
	*out = verdict_only("disposed", "disposed", why);
	json_object_set_new(*out, "disposed_by", json_string(by));
	return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

static int check(json_t **out, kura_verifier *v, const char *id, const struct digests *pre, kura_error *err)
{
	json_t *report = NULL;
	int group = 0, whole;
	int rc = disposed(out, v, id, err);
	if (rc != 0 || *out)
		return rc;
	rc = v->deep ? FULL_WAY : shortcut(&report, &group, v, id, pre, err);
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

/* The object's own record, re-read and compared with its description in the
 * index, comes first: when it is damaged, that is the verdict. */
static json_t *damaged_record(const char *why)
{
	return verdict_only("invalid", "invalid", why);
}

int kura_verifier_check(json_t **report, kura_verifier *v, const char *id, kura_error *err)
{
	kura_error e = {0};
	int rc = kura_store_check_record(v->st, id, &e);
	if (rc == KURA_EVERIFY) {
		*report = damaged_record(e.message);
		return 0;
	}
	if (rc != 0) {
		*err = e;
		return rc;
	}
	return check(report, v, id, NULL, err);
}

/* ---------------------------------------------------------------- the whole store
 *
 * The second core: a worker thread prepares a batch of objects — parses their
 * descriptions and reads back, decompresses and hashes their stored bytes (under
 * the store's hash, through a store reader of its own: index lookups are safe
 * from any thread) — while this thread checks and reports the batch before it,
 * then helps prepare the rest of the worker's batch (items are taken one by one
 * with an atomic counter). Everything else (the evidence, the caches, the
 * reports) stays on this thread. Whoever prepares a batch's last item says so
 * under the lock, and the worker says when it lets go of a batch: only then is
 * it reported and filled again. */
#define BATCH 256

struct item {
	char id[KURA_ID_LEN + 1];
	char *text;     /* the description as stored */
	json_t *object; /* parsed by the worker (NULL: unreadable) */
	struct digests pre[READ_AHEAD];
	int record_rc;  /* its object record checked by the worker, and why not */
	char *record_why;
};

struct batch {
	struct item item[BATCH];
	size_t n;
	const EVP_MD *md[READ_AHEAD]; /* to read ahead under */
	atomic_size_t next;           /* the next item to prepare */
	atomic_size_t prepared;
};

struct pipeline {
	kura_verifier *v;
	kura_verifier_report_fn fn;
	void *ud;
	kura_store_reader *reader; /* the worker's */
	kura_store_reader *own;    /* this thread's, for helping */
	struct batch batch[2];
	int filling;               /* the batch this thread fills */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct batch *job;         /* being prepared; NULL once every item is */
	unsigned long jobs;        /* batches given so far */
	int busy;                  /* the worker is at a batch: it may still touch it */
	int stop;
	kura_id_set trail;         /* the audit trail's checkpoints: `kura log --verify` checks them */
};

static void prepare(struct pipeline *p, const struct batch *b, struct item *it, kura_store_reader *reader)
{
	kura_error e = {0};
	it->object = json_loads(it->text, 0, NULL);
	if ((it->record_rc = kura_store_reader_check_record(reader, it->id, &e)) != 0)
		it->record_why = strdup(e.message);
	for (int j = 0; j < READ_AHEAD; j++) {
		struct digests *d = &it->pre[j];
		d->md = b->md[j];
		d->rc = FULL_WAY;
		if (d->md && it->object && json_is_object(it->object) && !p->v->deep)
			d->rc = kura_store_reader_digests(d->value, &d->count, 1 + KURA_INGEST_MAX_MEMBERS, reader, it->object,
							  d->md, NULL);
	}
}

/* Prepares items of batch b until none is left to take. */
static void prepare_some(struct pipeline *p, struct batch *b, kura_store_reader *reader)
{
	for (size_t i; (i = atomic_fetch_add(&b->next, 1)) < b->n;) {
		prepare(p, b, &b->item[i], reader);
		if (atomic_fetch_add(&b->prepared, 1) + 1 == b->n) {
			pthread_mutex_lock(&p->lock);
			p->job = NULL;
			pthread_cond_broadcast(&p->cond);
			pthread_mutex_unlock(&p->lock);
		}
	}
}

static void *work(void *arg)
{
	struct pipeline *p = arg;
	unsigned long seen = 0;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->jobs == seen && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->jobs == seen)
			break;
		seen = p->jobs;
		struct batch *b = p->job;
		if (!b) /* this thread prepared all of it already */
			continue;
		p->busy = 1;
		pthread_mutex_unlock(&p->lock);
		prepare_some(p, b, p->reader);
		pthread_mutex_lock(&p->lock);
		p->busy = 0;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Waits until the worker's batch is prepared and the worker has let go of it. */
static void wait_worker(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->job || p->busy)
		pthread_cond_wait(&p->cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static void clear_batch(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->item[i].text);
		free(b->item[i].record_why);
		b->item[i].record_why = NULL;
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
		const char *why = it->record_why ? it->record_why : "out of memory";
		if (it->record_rc == KURA_EVERIFY)
			rc = p->fn(p->ud, it->id, report = damaged_record(why), err);
		else if (it->record_rc != 0)
			rc = kura_error_set(err, it->record_rc, "%s", why);
		else if (!it->object || !json_is_object(it->object))
			rc = kura_error_set(err, KURA_EIO, "object %s has an unreadable description; run kura reindex", it->id);
		else if ((rc = check(&report, p->v, it->id, it->pre, err)) == 0)
			rc = p->fn(p->ud, it->id, report, err);
		json_decref(report);
	}
	clear_batch(b);
	return rc;
}

/* Gives the batch being filled to the worker, reports the one prepared before,
 * then helps with the new one. */
static int hand_over(struct pipeline *p, kura_error *err)
{
	struct batch *full = &p->batch[p->filling], *done = &p->batch[!p->filling];
	wait_worker(p);
	full->md[0] = kura_hash_by_name(kura_store_hash(p->v->st));
	full->md[1] = p->v->other_md != full->md[0] ? p->v->other_md : NULL;
	atomic_store(&full->next, 0);
	atomic_store(&full->prepared, 0);
	if (full->n) { /* an empty batch would never be handed back */
		pthread_mutex_lock(&p->lock);
		p->job = full;
		p->jobs++;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	p->filling = !p->filling;
	int rc = report_batch(p, done, err);
	if (full->n)
		prepare_some(p, full, p->own);
	return rc;
}

static int collect(void *ud, const char *id, const char *json, size_t len, kura_error *err)
{
	struct pipeline *p = ud;
	struct batch *b = &p->batch[p->filling];
	struct item *it = &b->item[b->n];
	if (kura_id_set_has(&p->trail, id))
		return 0;
	if (!(it->text = malloc(len + 1)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(it->text, json, len);
	it->text[len] = '\0';
	memcpy(it->id, id, KURA_ID_LEN);
	it->id[KURA_ID_LEN] = '\0';
	it->object = NULL;
	it->record_rc = 0;
	it->record_why = NULL;
	b->n++;
	return b->n == BATCH ? hand_over(p, err) : 0;
}

int kura_verifier_each(kura_verifier *v, kura_verifier_report_fn fn, void *ud, kura_error *err)
{
	struct pipeline *p = calloc(1, sizeof *p);
	pthread_t worker;
	int rc = p ? kura_store_reader_new(&p->reader, v->st, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_reader_new(&p->own, v->st, err);
	if (rc == 0 && (rc = kura_audit_checkpoint_ids(&p->trail, v->st, err)) != 0)
		kura_store_reader_free(p->own);
	if (rc != 0) {
		if (p)
			kura_store_reader_free(p->reader);
		free(p);
		return rc;
	}
	p->v = v;
	p->fn = fn;
	p->ud = ud;
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
	kura_store_reader_free(p->own);
	kura_id_set_clear(&p->trail);
	free(p);
	return rc;
}

int kura_verifier_each_of(kura_verifier *v, const char *const *ids, size_t n, kura_verifier_report_fn fn, void *ud,
			  kura_error *err)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *probe = NULL, *report = NULL;
		if ((rc = kura_store_object(&probe, v->st, ids[i], err)) == 0) {
			const char *id = json_string_value(json_object_get(probe, "id")); /* as the store spells it */
			rc = kura_verifier_check(&report, v, id, err);
			if (rc == 0)
				rc = fn(ud, id, report, err);
			json_decref(report);
		}
		json_decref(probe);
	}
	return rc;
}
