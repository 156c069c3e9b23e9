/* Sealing pending objects: one tree, one time-stamp (see seal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "evidence/hashtree.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "renewal/chains.h"
#include "renewal/plan.h"
#include "renewal/store_policy.h"
#include "renewal/seal.h"


struct pending {
	char *ids; /* n * KURA_ID_LEN */
	unsigned char *leaves; /* n * hlen: the digests ingest noted */
	unsigned char *noted;  /* n flags: is leaf i one of them? */
	size_t n, cap, hlen;
};

static int add_pending(void *ud, const char *id, const unsigned char *digest, kura_error *err)
{
	struct pending *p = ud;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		char *g = realloc(p->ids, cap * KURA_ID_LEN);
		if (g)
			p->ids = g;
		unsigned char *l = g ? realloc(p->leaves, cap * p->hlen) : NULL;
		if (l)
			p->leaves = l;
		unsigned char *f = l ? realloc(p->noted, cap) : NULL;
		if (!f)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		p->noted = f;
		p->cap = cap;
	}
	memcpy(p->ids + p->n * KURA_ID_LEN, id, KURA_ID_LEN);
	if ((p->noted[p->n] = digest != NULL))
		memcpy(p->leaves + p->n * p->hlen, digest, p->hlen);
	p->n++;
	return 0;
}

/* The object's digest under md: from its description when ingest computed it,
 * else from its stored bytes (read back and checked). */
static int object_digest(unsigned char *out, kura_store *st, const char *id, const EVP_MD *md, kura_error *err)
{
	json_t *o = NULL;
	const char *name = kura_hash_name_by_nid(EVP_MD_get_type(md));
	int rc = kura_store_object(&o, st, id, err);
	if (rc != 0)
		return rc;
	const char *hex = json_string_value(json_object_get(json_object_get(o, "digests"), name));
	int known = hex && kura_hex_decode(out, (size_t)EVP_MD_get_size(md), hex) == 0;
	json_decref(o); /* hex pointed into it */
	return known ? 0 : kura_store_digest(out, st, id, md, err);
}

/* The store's algorithm while the policy accepts it, else the one the policy
 * moves evidence to: new seals never start on a dying hash. */
static const EVP_MD *seal_hash(kura_store *st)
{
	kura_policy *p = NULL;
	int64_t now, end;
	const char *name = kura_store_hash(st);
	if (kura_clock_now(&now, NULL) == 0 && kura_store_policy_load(&p, st, NULL) == 0 &&
	    kura_policy_end(&end, NULL, p, name) == 0 && end != KURA_NEVER &&
	    end - kura_policy_margin_algorithm(p) <= now && kura_plan_next_hash(p, now))
		name = kura_plan_next_hash(p, now);
	kura_policy_free(p);
	return kura_hash_by_name(name);
}


int kura_seal(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, kura_error *err)
{
	memset(res, 0, sizeof *res);
	const EVP_MD *md = seal_hash(st);
	size_t hlen = (size_t)EVP_MD_get_size(md);
	struct pending p = {.hlen = hlen};
	unsigned char *token = NULL, *payload = NULL;
	size_t tlen = 0;
	kura_hashtree *tree = NULL;
	char cid[KURA_ID_LEN + 1];
	int rc = kura_store_each_pending(st, kura_hash_name_by_nid(EVP_MD_get_type(md)), add_pending, &p, err);
	if (rc != 0 || p.n == 0)
		goto out;
	for (size_t i = 0; i < p.n && rc == 0; i++) {
		if (p.noted[i])
			continue;
		memcpy(cid, p.ids + i * KURA_ID_LEN, KURA_ID_LEN);
		cid[KURA_ID_LEN] = '\0';
		rc = object_digest(p.leaves + i * hlen, st, cid, md, err);
	}
	const char *from = NULL;
	if (rc == 0)
		rc = kura_hashtree_build(&tree, md, p.leaves, p.n, err);
	if (rc == 0)
		rc = kura_stamp(&token, &tlen, &from, tsa, md, kura_hashtree_root(tree), err);
	if (rc != 0)
		goto out;
	size_t plen;
	if ((rc = kura_chain_payload(&payload, &plen, KURA_EVIDENCE_SEAL, md, p.leaves, p.n, NULL, NULL, token, tlen, err)) != 0)
		goto out;
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
	free(p.leaves);
	free(p.noted);
	free(token);
	free(payload);
	free(p.ids);
	return rc;
}

