/* The renewal planner (see plan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/audit.h"
#include "common/hash.h"
#include <openssl/ocsp.h>

#include "evidence/revocation.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "proof/chains.h"
#include "renewal/plan.h"
#include "proof/tsa_setup.h"

/* (chain, object) pairs: each object's newest chain */
struct live {
	char *pairs; /* 2 * KURA_ID_LEN per pair: chain then object */
	size_t n, cap;
	char subject[KURA_ID_LEN + 1];
	char last_start[KURA_ID_LEN + 1];
};

static int flush_subject(struct live *l, kura_error *err)
{
	if (!l->last_start[0])
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		char *g = realloc(l->pairs, cap * 2 * KURA_ID_LEN);
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		l->pairs = g;
		l->cap = cap;
	}
	memcpy(l->pairs + l->n * 2 * KURA_ID_LEN, l->last_start, KURA_ID_LEN);
	memcpy(l->pairs + l->n * 2 * KURA_ID_LEN + KURA_ID_LEN, l->subject, KURA_ID_LEN);
	l->n++;
	l->last_start[0] = '\0';
	return 0;
}

static int see_link(void *ud, const char *subject, const char *record_id, char kind, uint32_t position, kura_error *err)
{
	(void)position;
	struct live *l = ud;
	if (strcmp(subject, l->subject) != 0) {
		int rc = flush_subject(l, err);
		if (rc != 0)
			return rc;
		memcpy(l->subject, subject, sizeof l->subject);
	}
	if (kind == 'S' || kind == 'H' || kind == KURA_EVIDENCE_IMPORTED)
		memcpy(l->last_start, record_id, sizeof l->last_start); /* links come oldest first */
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	return memcmp(a, b, 2 * KURA_ID_LEN);
}

static int cmp_due(const void *a, const void *b)
{
	const kura_plan_item *x = a, *y = b;
	return x->due < y->due ? -1 : x->due > y->due;
}

static void day_text(char *buf, int64_t ms)
{
	kura_time_format(buf, ms);
	buf[10] = '\0';
}

/* What the TSAs' revocation sources say now of the certificates that signed the
 * live chains' last tokens, asked once per certificate per plan. */
struct revoked {
	X509 *cert; /* up-ref'd */
	int revoked, reason;
	int64_t at;
};

struct rev_cache {
	struct revoked *r;
	size_t n;
	STACK_OF(X509) *anchors;
	long timeout_s;
};

static const struct revoked *tsa_revocation(struct rev_cache *c, const kura_tst *t)
{
	X509 *signer = kura_tst_signer(t), *issuer = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (X509_cmp(c->r[i].cert, signer) == 0)
			return &c->r[i];
	struct revoked *g = realloc(c->r, (c->n + 1) * sizeof *g);
	if (!g)
		return NULL;
	c->r = g;
	struct revoked *r = &g[c->n++];
	memset(r, 0, sizeof *r);
	X509_up_ref(signer);
	r->cert = signer;
	STACK_OF(X509) *pool[2] = {kura_tst_certs(t), c->anchors};
	for (int k = 0; k < 2 && !issuer; k++)
		for (int i = 0; !issuer && i < sk_X509_num(pool[k]); i++)
			if (X509_check_issued(sk_X509_value(pool[k], i), signer) == X509_V_OK)
				issuer = sk_X509_value(pool[k], i);
	kura_vdata *v = NULL;
	int64_t now;
	if (issuer && kura_revocation_has_sources(signer) && kura_clock_now(&now, NULL) == 0 &&
	    kura_vdata_new(&v, now, NULL) == 0 && kura_revocation_fetch(v, signer, issuer, c->timeout_s, NULL) == 0) {
		json_t *e = NULL;
		int st = kura_revocation_status(&e, v, signer, issuer, now, &r->at, &r->reason);
		r->revoked = st == KURA_REV_REVOKED;
		json_decref(e);
	}
	kura_vdata_free(v);
	return r;
}

static void rev_cache_clear(struct rev_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		X509_free(c->r[i].cert);
	free(c->r);
	sk_X509_pop_free(c->anchors, X509_free);
}

/* The last token judged, parsed: the chains renewed together share their last token. */
struct last_token {
	unsigned char *bytes;
	size_t len;
	kura_tst *t;
};

static void last_token_clear(struct last_token *m)
{
	free(m->bytes);
	kura_tst_free(m->t);
	memset(m, 0, sizeof *m);
}

/* The token with these bytes, parsed (borrowed from m), or NULL if it cannot be read. */
static const kura_tst *parsed(struct last_token *m, const unsigned char *bytes, size_t len)
{
	if (m->t && m->len == len && memcmp(m->bytes, bytes, len) == 0)
		return m->t;
	last_token_clear(m);
	if (!(m->bytes = malloc(len)) || kura_tst_parse(&m->t, bytes, len, NULL) != 0) {
		last_token_clear(m);
		return NULL;
	}
	memcpy(m->bytes, bytes, len);
	m->len = len;
	return m->t;
}

/* When item's chain is due by its last token t: the TSA certificate's end, the
 * policy's ends for its key, its signature hash and the chain's hash, and a
 * revocation of its TSA certificate, whichever comes first. A chain whose hash
 * no longer suffices by now is renewed by hash tree whatever came first: a
 * time-stamp renewal keeps the hash, so the chain would stay overdue. */
static void judge_last_token(kura_plan_item *it, const kura_tst *t, struct rev_cache *revs, const kura_policy *p,
			     int64_t now)
{
	char day[KURA_TIME_BUFSZ], key[32];
	const char *source;
	int64_t end;
	X509 *signer = kura_tst_signer(t);
	if (signer && kura_asn1_time_ms(&end, X509_get0_notAfter(signer)) == 0 &&
	    end - kura_policy_margin_certificate(p) < it->due) {
		it->due = end - kura_policy_margin_certificate(p);
		it->breaks = end < it->breaks ? end : it->breaks;
		day_text(day, end);
		char tsa[200];
		kura_tst_tsa_name(t, tsa, sizeof tsa);
		snprintf(it->reason, sizeof it->reason, "the TSA certificate of its last time-stamp (%s) expires %s", tsa, day);
	}
	kura_tst_key_alg(t, key, sizeof key);
	if (kura_policy_end(&end, &source, p, key) == 0 && end != KURA_NEVER &&
	    end - kura_policy_margin_algorithm(p) < it->due) {
		it->due = end - kura_policy_margin_algorithm(p);
		it->breaks = end < it->breaks ? end : it->breaks;
		day_text(day, end - 86400000);
		snprintf(it->reason, sizeof it->reason, "its last time-stamp's key %s suffices only until %s (%s)", key, day, source);
	}
	const char *sighash = kura_tst_signature_hash(t);
	if (sighash && kura_policy_end(&end, &source, p, sighash) == 0 && end != KURA_NEVER &&
	    end - kura_policy_margin_algorithm(p) < it->due) {
		it->due = end - kura_policy_margin_algorithm(p);
		it->breaks = end < it->breaks ? end : it->breaks;
		day_text(day, end - 86400000);
		snprintf(it->reason, sizeof it->reason, "its last time-stamp is signed with %s, which suffices only until %s (%s)",
			 sighash, day, source);
	}
	if (kura_policy_end(&end, &source, p, it->hash) == 0 && end != KURA_NEVER &&
	    end - kura_policy_margin_algorithm(p) <= it->due) {
		it->due = end - kura_policy_margin_algorithm(p);
		it->breaks = end < it->breaks ? end : it->breaks;
		it->action = 'H';
		day_text(day, end - 86400000);
		snprintf(it->reason, sizeof it->reason, "its hash algorithm %s suffices only until %s (%s)", it->hash, day, source);
	}
	const struct revoked *r = signer ? tsa_revocation(revs, t) : NULL;
	if (r && r->revoked && r->at < it->due) {
		char tsa[200];
		it->due = r->at;
		it->action = 'T';
		kura_time_format(day, r->at);
		kura_tst_tsa_name(t, tsa, sizeof tsa);
		snprintf(it->reason, sizeof it->reason, "the TSA certificate of its last time-stamp (%s) was revoked at %s (%s)", tsa,
			 day, r->reason >= 0 ? OCSP_crl_reason_str(r->reason) : "no reason given");
	}
	if (it->action == 'T' && kura_policy_end(&end, &source, p, it->hash) == 0 && end != KURA_NEVER &&
	    end - kura_policy_margin_algorithm(p) <= now) {
		size_t len = strlen(it->reason);
		it->action = 'H';
		day_text(day, end - 86400000);
		snprintf(it->reason + len, sizeof it->reason - len, "; by hash tree, as its hash algorithm %s suffices only "
			 "until %s (%s)", it->hash, day, source);
	}
	if (it->due != KURA_NEVER && it->action == 'T' && !kura_hash_makes(it->hash)) {
		/* a chain in a hash of other producers goes on in a new chain: kura asks no TSA for such time-stamps */
		size_t len = strlen(it->reason);
		it->action = 'H';
		snprintf(it->reason + len, sizeof it->reason - len, "; by hash tree, as kura makes no evidence with %s", it->hash);
	}
}

/* Fills in when item's chain is due, judging its last token. */
static int judge(kura_plan_item *it, kura_store *st, kura_evidence_cache *cache, struct last_token *memo,
		 struct rev_cache *revs, const kura_policy *p, int64_t now, kura_error *err)
{
	unsigned char **tok = NULL;
	size_t *tl = NULL, k = 0;
	const EVP_MD *md;
	kura_error why = {0};
	if (kura_chain_tokens(&tok, &tl, &k, NULL, &md, st, cache, it->chain, NULL, &why) != 0) {
		/* a disk that fails is not damaged evidence: the plan stops (exit 3) and
		 * the next run, once the disk reads, plans the chain as ever */
		if (why.code == KURA_EIO) {
			if (err)
				*err = why;
			kura_error_wrap(err, "reading the evidence of chain %s", it->chain);
			return why.code;
		}
		/* one damaged record must not stop the planning of the others */
		it->due = INT64_MIN;
		it->breaks = INT64_MIN;
		it->action = 'T';
		snprintf(it->hash, sizeof it->hash, "?");
		snprintf(it->reason, sizeof it->reason, "its evidence cannot be read (%s): run kura scrub", why.message);
		return 0;
	}
	snprintf(it->hash, sizeof it->hash, "%s", kura_hash_name_by_nid(EVP_MD_get_type(md)));
	it->due = KURA_NEVER;
	it->breaks = KURA_NEVER;
	it->action = 'T';
	snprintf(it->reason, sizeof it->reason, "nothing foreseen");
	const kura_tst *t = parsed(memo, tok[k - 1], tl[k - 1]);
	if (!t) {
		it->due = INT64_MIN;
		it->breaks = INT64_MIN;
		snprintf(it->reason, sizeof it->reason, "its last time-stamp cannot be read");
	} else {
		it->last_time = kura_tst_gentime(t);
		judge_last_token(it, t, revs, p, now);
	}
	kura_free_tokens(tok, k);
	free(tl);
	return 0;
}

int kura_plan(kura_plan_item **items, size_t *n, kura_store *st, const kura_policy *p, int64_t now, kura_error *err)
{
	struct live l = {0};
	kura_plan_item *out = NULL;
	size_t count = 0;
	kura_evidence_cache *cache = NULL;
	struct last_token memo = {0};
	const char *timeout = getenv("KURA_TSA_TIMEOUT");
	struct rev_cache revs = {.timeout_s = timeout && atol(timeout) > 0 ? atol(timeout) : 30};
	kura_id_set trail = {0};
	int rc = kura_tsa_setup_anchors(&revs.anchors, st, err);
	if (rc == 0)
		rc = kura_audit_checkpoint_ids(&trail, st, err);
	if (rc == 0)
		rc = kura_store_each_link(st, see_link, &l, err);
	if (rc == 0)
		rc = flush_subject(&l, err);
	if (rc == 0)
		rc = kura_evidence_cache_new(&cache, err);
	if (rc != 0)
		goto out;
	if (l.n > 0)
		qsort(l.pairs, l.n, 2 * KURA_ID_LEN, cmp_pair);
	for (size_t i = 0; i < l.n;) {
		size_t j = i;
		while (j < l.n && memcmp(l.pairs + j * 2 * KURA_ID_LEN, l.pairs + i * 2 * KURA_ID_LEN, KURA_ID_LEN) == 0)
			j++;
		kura_plan_item *g = realloc(out, (count + 1) * sizeof *out);
		if (!g) {
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
			goto out;
		}
		out = g;
		kura_plan_item *it = &out[count++];
		memset(it, 0, sizeof *it);
		memcpy(it->chain, l.pairs + i * 2 * KURA_ID_LEN, KURA_ID_LEN);
		it->objects = j - i;
		if (!(it->object_ids = malloc(it->objects * KURA_ID_LEN))) {
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
			goto out;
		}
		for (size_t k = i; k < j; k++) {
			memcpy(it->object_ids + (k - i) * KURA_ID_LEN, l.pairs + k * 2 * KURA_ID_LEN + KURA_ID_LEN, KURA_ID_LEN);
			it->checkpoints += (size_t)kura_id_set_has(&trail, it->object_ids + (k - i) * KURA_ID_LEN);
		}
		if ((rc = judge(it, st, cache, &memo, &revs, p, now, err)) != 0)
			goto out;
		i = j;
	}
	if (count > 0)
		qsort(out, count, sizeof *out, cmp_due);
out:
	free(l.pairs);
	kura_id_set_clear(&trail);
	last_token_clear(&memo);
	kura_evidence_cache_free(cache);
	rev_cache_clear(&revs);
	if (rc != 0) {
		kura_plan_free(out, count);
		return rc;
	}
	*items = out;
	*n = count;
	return 0;
}

void kura_plan_free(kura_plan_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		free(items[i].object_ids);
	free(items);
}

json_t *kura_plan_json(const kura_plan_item *items, size_t n, int64_t now)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const kura_plan_item *it = &items[i];
		char when[KURA_TIME_BUFSZ];
		json_t *due = json_null();
		if (it->due != KURA_NEVER) {
			kura_time_format(when, it->due == INT64_MIN ? now : it->due);
			due = json_string(when);
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:b, s:s, s:s, s:I}", "chain", it->chain, "action",
						     it->action == 'H' ? "hash-tree renewal" : "time-stamp renewal", "due", due,
						     "due_now", it->due <= now, "reason", it->reason, "hash", it->hash,
						     "objects", (json_int_t)(it->objects - it->checkpoints)));
	}
	return arr;
}
