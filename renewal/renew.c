/* Time-stamp renewal and hash-tree renewal (see renew.h). Each goes in three
 * steps: read the chains (and, for a hash tree, the objects) and build the
 * tree, from on->read; ask the TSA; take on->lock (if any), check that what was
 * read is still so (kura_renew_on) and write the renewal's record to on->write. */
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>

#include "common/hash.h"
#include "common/id.h"
#include "common/log.h"
#include "common/progress.h"
#include "evidence/ers_asn1.h"
#include "evidence/hashtree.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "renewal/augment.h"
#include "proof/chains.h"
#include "proof/tsa_certified.h"
#include "renewal/renew.h"

int kura_renew_check_chain(kura_store *st, const char *start, STACK_OF(X509) *anchors, int64_t now, kura_error *why)
{
	kura_evidence_cache *cache = NULL;
	unsigned char **tok = NULL;
	size_t *tl = NULL, k = 0;
	const EVP_MD *md;
	kura_tst *last = NULL;
	int rc = kura_evidence_cache_new(&cache, why);
	if (rc == 0)
		rc = kura_chain_tokens(&tok, &tl, &k, NULL, &md, st, cache, start, NULL, why);
	if (rc == 0)
		rc = kura_tst_parse(&last, tok[k - 1], tl[k - 1], why);
	if (rc == 0)
		rc = kura_tst_verify(last, anchors, NULL, now, why);
	kura_tst_free(last);
	kura_free_tokens(tok, k);
	free(tl);
	kura_evidence_cache_free(cache);
	return rc;
}

void kura_renew_log_refusal(kura_store *st, const char *start, const char *why)
{
	const char *path = kura_store_path(st);
	if (strstr(why, KURA_TST_UNTRUSTED_ROOT))
		kura_log_message(KURA_LOG_ERROR, "NOT RENEWED: chain %s: its last time-stamp does not verify now (%s); once that "
				 "root's fingerprint is confirmed, trust it (kura trust add %s --tsa ROOT.pem) and run kura renew %s",
				 start, why, path, path);
	else
		kura_log_message(KURA_LOG_ERROR, "NOT RENEWED: chain %s: its last time-stamp does not verify now (%s); its "
				 "evidence is broken and cannot be renewed: kura verify %s names the objects; they can get new "
				 "evidence, from today on, only by being ingested again (kura ingest %s FILE...)", start, why, path, path);
}

static void describe(kura_renew_result *res, const unsigned char *token, size_t tlen, const char *from)
{
	kura_tst *t = NULL;
	snprintf(res->tsa, sizeof res->tsa, "%s", from);
	if (kura_tst_parse(&t, token, tlen, NULL) == 0)
		kura_time_format(res->gentime, kura_tst_gentime(t));
	kura_tst_free(t);
}

/* A time-stamp renewal under way: what every chain is checked with, and the
 * chains kept so far (their leaves, their last tokens as augmented, their IDs). */
struct ts_renewal {
	kura_renew_result *res;
	const kura_renew_on *on;
	kura_evidence_cache *cache;
	kura_augmenter *augmenter;
	STACK_OF(X509) *anchors;
	int64_t now, latest; /* latest: the newest genTime among the chains' last tokens */
	const EVP_MD *md;    /* the first chain's; every other must have it too */
	size_t n, hlen, kept;
	unsigned char *leaves, **aug;
	size_t *auglen;
	size_t *ntok; /* per kept chain: its tokens when read (checked again before writing) */
	char *subjects;
};

/* Keeps a chain whose last token verified: its leaf is the group of the hashes
 * of every earlier token (k of them), the last as augmented. */
static int keep_chain(struct ts_renewal *r, const char *id, unsigned char **tok, const size_t *tl, size_t k,
		      kura_error *err)
{
	size_t hlen = r->hlen;
	/* the first list: the hashes of every earlier token, the last as augmented */
	unsigned char *list = malloc(k * hlen);
	if (!list)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t j = 0; j < k; j++) {
		int use_aug = j == k - 1 && r->aug[r->kept];
		EVP_Digest(use_aug ? r->aug[r->kept] : tok[j], use_aug ? r->auglen[r->kept] : tl[j], list + j * hlen, NULL,
			   r->md, NULL);
	}
	kura_hash_group(r->leaves + r->kept * hlen, r->md, list, k);
	free(list);
	r->ntok[r->kept] = k;
	memcpy(r->subjects + r->kept * KURA_ID_LEN, id, KURA_ID_LEN);
	r->kept++;
	return 0;
}

/* The chain starting at id: kept if its last time-stamp verifies now (and
 * could be augmented); refused, and said, if not. */
static int renew_chain(struct ts_renewal *r, const char *id, kura_error *err)
{
	unsigned char **tok = NULL;
	size_t *tl = NULL, k = 0, fixed = 0;
	const EVP_MD *cmd;
	int rc;
	if ((rc = kura_chain_tokens(&tok, &tl, &k, &fixed, &cmd, r->on->read, r->cache, id, NULL, err)) != 0)
		return rc;
	if (!r->md) {
		r->md = cmd;
		r->hlen = (size_t)EVP_MD_get_size(r->md);
		if (!(r->leaves = malloc(r->n * r->hlen)))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	} else if (cmd != r->md) {
		rc = kura_error_set(err, KURA_EINTERNAL, "chains with different hash algorithms renewed together");
	}
	/* never renew broken evidence: the last token must verify now */
	kura_tst *last = NULL;
	kura_error why = {0};
	int arc = 0;
	if (rc == 0 && (kura_tst_parse(&last, tok[k - 1], tl[k - 1], &why) != 0 ||
			kura_tst_verify(last, r->anchors, NULL, r->now, &why) != 0 ||
			/* an imported token stays as imported: the record that carries it is kept byte for byte */
			(k > fixed && (arc = kura_augment(&r->aug[r->kept], &r->auglen[r->kept], r->augmenter, tok[k - 1],
							  tl[k - 1], last, &why)) == KURA_EVERIFY))) {
		kura_renew_log_refusal(r->on->read, id, why.message);
		r->res->refused++;
	} else if (rc == 0 && arc != 0) {
		rc = arc;
		*err = why;
	} else if (rc == 0) {
		if (kura_tst_gentime(last) > r->latest)
			r->latest = kura_tst_gentime(last);
		rc = keep_chain(r, id, tok, tl, k, err);
	}
	kura_tst_free(last);
	kura_free_tokens(tok, k);
	free(tl);
	return rc;
}

/* Takes on's lock, if any, with on's actor as the writer's (other threads set
 * theirs meanwhile). */
static void take_lock(const kura_renew_on *on)
{
	if (!on->lock)
		return;
	pthread_mutex_lock(on->lock);
	if (on->actor)
		kura_store_set_actor(on->write, on->actor, NULL);
}

static void let_go(const kura_renew_on *on)
{
	if (on->lock)
		pthread_mutex_unlock(on->lock);
}

/* With the lock, after the TSA was asked: does every kept chain still have the
 * tokens it was read with (no renewal took it further meanwhile)? */
static int chains_unchanged(int *same, struct ts_renewal *r, kura_error *err)
{
	kura_evidence_cache *cache = NULL;
	int rc = kura_evidence_cache_new(&cache, err);
	*same = 1;
	for (size_t i = 0; rc == 0 && *same && i < r->kept; i++) {
		unsigned char **tok = NULL;
		size_t *tl = NULL, k = 0;
		const EVP_MD *md;
		char id[KURA_ID_LEN + 1];
		memcpy(id, r->subjects + i * KURA_ID_LEN, KURA_ID_LEN);
		id[KURA_ID_LEN] = '\0';
		if ((rc = kura_chain_tokens(&tok, &tl, &k, NULL, &md, r->on->write, cache, id, NULL, err)) == 0)
			*same = k == r->ntok[i];
		kura_free_tokens(tok, k);
		free(tl);
	}
	kura_evidence_cache_free(cache);
	return rc;
}

/* Time-stamps the root of the kept chains' leaves and adds the record that
 * renews them (its ID into res->id). */
static int stamp_kept(struct ts_renewal *r, const kura_stamper_options *tsa, kura_error *err)
{
	unsigned char *token = NULL, root[EVP_MAX_MD_SIZE];
	size_t tlen = 0;
	kura_chain_parts payload = {0};
	const char *from = NULL;
	int rc = kura_hashtree_root_of(root, r->md, r->leaves, r->kept, err);
	if (rc == 0)
		rc = kura_stamp(&token, &tlen, &from, tsa, r->md, root, err);
	if (rc == 0) { /* a chain's time-stamps must not go back in time */
		kura_tst *fresh = NULL;
		if (kura_tst_parse(&fresh, token, tlen, err) != 0)
			rc = err ? err->code : KURA_EVERIFY;
		else if (kura_tst_gentime(fresh) < r->latest)
			rc = kura_error_set(err, KURA_EIO, "the TSA (%s) dated its time-stamp before the chain's last one: "
							   "its clock is behind; nothing was written", from);
		kura_tst_free(fresh);
	}
	if (rc == 0)
		rc = kura_chain_payload(&payload, KURA_EVIDENCE_TIMESTAMP, r->md, r->leaves, r->kept, NULL, r->aug,
					r->auglen, token, tlen, err);
	if (rc == 0)
		rc = kura_id_new(r->res->id, r->now, err);
	int same = 1;
	take_lock(r->on);
	if (rc == 0 && r->on->lock)
		rc = chains_unchanged(&same, r, err);
	if (rc == 0 && same)
		rc = kura_store_add_evidence_marked(r->on->write, KURA_EVIDENCE_TIMESTAMP,
						    kura_tsa_judge(r->on->write, token, tlen), r->res->id, r->subjects, r->kept,
						    payload.part, 3, err);
	let_go(r->on);
	if (rc == 0 && !same) {
		r->res->changed = 1;
		r->res->id[0] = '\0';
	} else if (rc == 0) {
		r->res->renewed = r->kept;
		describe(r->res, token, tlen, from);
	}
	free(token);
	kura_chain_parts_clear(&payload);
	return rc;
}

int kura_renew_timestamps(kura_renew_result *res, kura_store *st, const char *starts, size_t n,
			  const kura_stamper_options *tsa, STACK_OF(X509) *anchors, kura_error *err)
{
	return kura_renew_timestamps_on(res, &(kura_renew_on){st, st, NULL, NULL}, starts, n, tsa, anchors, err);
}

int kura_renew_timestamps_on(kura_renew_result *res, const kura_renew_on *on, const char *starts, size_t n,
			     const kura_stamper_options *tsa, STACK_OF(X509) *anchors, kura_error *err)
{
	memset(res, 0, sizeof *res);
	struct ts_renewal r = {.res = res, .on = on, .anchors = anchors, .n = n, .latest = INT64_MIN};
	r.aug = calloc(n ? n : 1, sizeof *r.aug);
	r.auglen = calloc(n ? n : 1, sizeof *r.auglen);
	r.ntok = calloc(n ? n : 1, sizeof *r.ntok);
	r.subjects = malloc(n * KURA_ID_LEN + 1);
	int rc = kura_evidence_cache_new(&r.cache, err);
	if (rc == 0 && (!r.aug || !r.auglen || !r.ntok || !r.subjects))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_clock_now(&r.now, err);
	if (rc == 0)
		rc = kura_augmenter_new(&r.augmenter, anchors, tsa->timeout_s ? tsa->timeout_s : 30, r.now, err);
	for (size_t c = 0; rc == 0 && c < n; c++) {
		char id[KURA_ID_LEN + 1];
		memcpy(id, starts + c * KURA_ID_LEN, KURA_ID_LEN);
		id[KURA_ID_LEN] = '\0';
		rc = renew_chain(&r, id, err);
	}
	if (rc == 0 && r.kept > 0)
		rc = stamp_kept(&r, tsa, err);
	if (rc != 0)
		kura_error_wrap(err, "time-stamp renewal of %zu chain(s)", n);
	for (size_t i = 0; r.aug && i < n; i++)
		free(r.aug[i]);
	free(r.aug);
	kura_augmenter_free(r.augmenter);
	free(r.auglen);
	free(r.ntok);
	free(r.leaves);
	free(r.subjects);
	kura_evidence_cache_free(r.cache);
	return rc;
}

/* ha = md(DER of the object's ArchiveTimeStampSequence so far). */
static int chains_digest(unsigned char *ha, kura_store *st, kura_evidence_cache *cache, const char *id,
			 const EVP_MD *md, kura_error *err)
{
	unsigned char *der = NULL, *seq = NULL;
	size_t len;
	int rc = kura_object_evidence(&der, &len, st, id, cache, err);
	if (rc != 0)
		return rc;
	const unsigned char *p = der;
	KURA_ER *er = d2i_KURA_ER(NULL, &p, (long)len);
	int slen = er ? i2d_KURA_ATS_SEQ(er->archiveTimeStampSequence, &seq) : -1;
	KURA_ER_free(er);
	free(der);
	if (slen <= 0 || EVP_Digest(seq, (size_t)slen, ha, NULL, md, NULL) != 1)
		rc = kura_error_set(err, KURA_EINTERNAL, "encoding the chains of %s failed", id);
	OPENSSL_free(seq);
	return rc;
}

/* h' = md(md(object) || ha); for a group, one such value per member (*count of
 * them, into members) and the leaf is their group node. ha (chains_digest) is
 * kept in ha for the check before writing. */
static int rehash_leaf(unsigned char *leaf, unsigned char *members, size_t *count, unsigned char *ha, kura_store *st,
		       kura_evidence_cache *cache, const char *id, const EVP_MD *md, uint64_t *bytes, kura_error *err)
{
	unsigned char h[(1 + KURA_INGEST_MAX_MEMBERS) * EVP_MAX_MD_SIZE];
	size_t hlen = (size_t)EVP_MD_get_size(md);
	int rc = chains_digest(ha, st, cache, id, md, err);
	if (rc == 0)
		rc = kura_object_digests(h, count, st, id, md, 1, err);
	if (rc == 0) {
		json_t *o = NULL;
		if (kura_store_object(&o, st, id, NULL) == 0)
			*bytes += (uint64_t)json_integer_value(json_object_get(o, "size"));
		json_decref(o);
		for (size_t k = 0; rc == 0 && k < *count; k++)
			if (kura_hash_pair(members + k * hlen, md, h + k * hlen, ha, hlen, 0) != 0)
				rc = kura_error_set(err, KURA_EINTERNAL, "hashing a leaf failed");
		unsigned char sorted[(1 + KURA_INGEST_MAX_MEMBERS) * EVP_MAX_MD_SIZE];
		memcpy(sorted, members, *count * hlen);
		if (rc == 0 && kura_hash_group(leaf, md, sorted, *count) != 0)
			rc = kura_error_set(err, KURA_EINTERNAL, "hashing a leaf failed");
	}
	return rc;
}

/* With the lock, after the TSA was asked: is every object still there (not
 * disposed of) with the chains it was read with (has: their chains_digest)? */
static int objects_unchanged(int *same, kura_store *st, const char *objects, size_t n, const unsigned char *has,
			     const EVP_MD *md, kura_error *err)
{
	kura_evidence_cache *cache = NULL;
	size_t hlen = (size_t)EVP_MD_get_size(md);
	int rc = kura_evidence_cache_new(&cache, err);
	*same = 1;
	for (size_t i = 0; rc == 0 && *same && i < n; i++) {
		char id[KURA_ID_LEN + 1], by[KURA_ID_LEN + 1];
		unsigned char ha[EVP_MAX_MD_SIZE];
		memcpy(id, objects + i * KURA_ID_LEN, KURA_ID_LEN);
		id[KURA_ID_LEN] = '\0';
		int disposed = kura_store_disposed(st, id, by, err);
		if (disposed < 0)
			rc = disposed;
		else if (disposed)
			*same = 0;
		else if ((rc = chains_digest(ha, st, cache, id, md, err)) == 0)
			*same = memcmp(ha, has + i * hlen, hlen) == 0;
	}
	kura_evidence_cache_free(cache);
	return rc;
}

int kura_renew_hashtree(kura_renew_result *res, kura_store *st, const char *objects, size_t n, const EVP_MD *md,
			const kura_stamper_options *tsa, kura_error *err)
{
	return kura_renew_hashtree_on(res, &(kura_renew_on){st, st, NULL, NULL}, objects, n, md, tsa, err);
}

int kura_renew_hashtree_on(kura_renew_result *res, const kura_renew_on *on, const char *objects, size_t n,
			   const EVP_MD *md, const kura_stamper_options *tsa, kura_error *err)
{
	memset(res, 0, sizeof *res);
	kura_store *st = on->read;
	size_t hlen = (size_t)EVP_MD_get_size(md), tlen = 0;
	unsigned char *leaves = malloc(n * hlen + 1), *has = malloc(n * hlen + 1), *token = NULL, root[EVP_MAX_MD_SIZE];
	kura_chain_parts payload = {0};
	unsigned char **values = calloc(n + 1, sizeof *values);
	uint8_t *count = calloc(n + 1, 1);
	kura_evidence_cache *cache = NULL;
	kura_progress *progress = kura_progress_new("hash-tree renewal", 0);
	uint64_t bytes = 0;
	int64_t now;
	int rc = leaves && has && values && count ? kura_evidence_cache_new(&cache, err)
					   : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char id[KURA_ID_LEN + 1];
		unsigned char members[(1 + KURA_INGEST_MAX_MEMBERS) * EVP_MAX_MD_SIZE];
		size_t m = 0;
		memcpy(id, objects + i * KURA_ID_LEN, KURA_ID_LEN);
		id[KURA_ID_LEN] = '\0';
		rc = rehash_leaf(leaves + i * hlen, members, &m, has + i * hlen, st, cache, id, md, &bytes, err);
		if (rc == 0 && m > 1) { /* a signed document: keep its members' values */
			if (!(values[i] = malloc(m * hlen)))
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
			else
				memcpy(values[i], members, m * hlen);
			count[i] = (uint8_t)m;
		}
		kura_progress_update(progress, bytes, i + 1);
	}
	const char *from = NULL;
	if (rc == 0 && n > 0)
		rc = kura_hashtree_root_of(root, md, leaves, n, err);
	if (rc == 0 && n > 0)
		rc = kura_stamp(&token, &tlen, &from, tsa, md, root, err);
	if (rc == 0 && n > 0)
		rc = kura_chain_payload(&payload, KURA_EVIDENCE_HASHTREE, md, leaves, n,
					&(kura_chain_groups){count, values}, NULL, NULL, token, tlen, err);
	int same = 1;
	if (rc == 0 && n > 0) {
		take_lock(on);
		if (on->lock)
			rc = objects_unchanged(&same, on->write, objects, n, has, md, err);
		if (rc == 0 && same && (rc = kura_clock_now(&now, err)) == 0 && (rc = kura_id_new(res->id, now, err)) == 0)
			rc = kura_store_add_evidence_marked(on->write, KURA_EVIDENCE_HASHTREE,
							    kura_tsa_judge(on->write, token, tlen), res->id, objects, n,
							    payload.part, 3, err);
		let_go(on);
	}
	if (rc == 0 && !same) {
		res->changed = 1;
		res->id[0] = '\0';
	} else if (rc == 0 && n > 0) {
		res->renewed = n;
		describe(res, token, tlen, from);
	}
	if (rc != 0)
		kura_error_wrap(err, "hash-tree renewal of %zu object(s)", n);
	kura_progress_free(progress);
	kura_evidence_cache_free(cache);
	for (size_t i = 0; values && i < n; i++)
		free(values[i]);
	free(values);
	free(count);
	free(leaves);
	free(has);
	free(token);
	kura_chain_parts_clear(&payload);
	return rc;
}
