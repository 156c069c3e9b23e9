/* Sealing pending objects: one tree, one time-stamp (see seal.h). A seal goes
 * in three steps: choose what is pending and compute the tree's root (with the
 * store); get the time-stamp (without it: kura_seal_all_unlocking lets the
 * caller's lock go meanwhile); write the checkpoint and the seal record (with
 * the store; after letting it go, only once what was chosen is checked to be
 * still pending: else nothing is written and it chooses again). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/audit.h"
#include "common/bigmem.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "common/log.h"
#include "evidence/hashtree.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "proof/chains.h"
#include "proof/store_policy.h"
#include "proof/seal.h"
#include "proof/tsa_certified.h"
#include "proof/tsa_setup.h"
#include "proof/tsa_upkeep.h"

#define SEAL_TRIES 3 /* seals in a row that another seal overtook, before giving up for this round */


/* The pending objects, in arrays that grow without copying (common/bigmem.h). */
struct pending {
	void *ids;    /* n * KURA_ID_LEN */
	void *leaves; /* n * hlen: the digests ingest noted */
	void *noted;  /* n flags: is leaf i one of them? */
	size_t idcap, leafcap, notecap;
	size_t n, hlen, max;
};

static int add_pending(void *ud, const char *id, const unsigned char *digest, kura_error *err)
{
	struct pending *p = ud;
	if (p->n == p->max)
		return 1; /* enough for one seal: the walk stops */
	if (kura_bigmem_grow(&p->ids, &p->idcap, (p->n + 1) * KURA_ID_LEN) != 0 ||
	    kura_bigmem_grow(&p->leaves, &p->leafcap, (p->n + 1) * p->hlen) != 0 ||
	    kura_bigmem_grow(&p->noted, &p->notecap, p->n + 1) != 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory after %zu pending objects", p->n);
	unsigned char *leaves = p->leaves, *noted = p->noted;
	memcpy((char *)p->ids + p->n * KURA_ID_LEN, id, KURA_ID_LEN);
	if ((noted[p->n] = digest != NULL))
		memcpy(leaves + p->n * p->hlen, digest, p->hlen);
	p->n++;
	return 0;
}

/* The store's algorithm while the policy (p, may be NULL) accepts it, else the
 * one the policy moves evidence to: new seals never start on a dying hash. */
static const EVP_MD *seal_hash(kura_store *st, const kura_policy *p, int64_t now)
{
	int64_t end;
	const char *name = kura_store_hash(st);
	if (p && kura_policy_end(&end, NULL, p, name) == 0 && end != KURA_NEVER &&
	    end - kura_policy_margin_algorithm(p) <= now && kura_policy_next_hash(p, now))
		name = kura_policy_next_hash(p, now);
	return kura_hash_by_name(name);
}

/* A TSA whose key or signature hash the policy no longer accepts makes evidence
 * that will not verify: said at once, while it can still be changed. */
static void warn_unsuitable(const kura_policy *p, const kura_tst *t, int64_t now)
{
	char key[32];
	kura_tst_key_alg(t, key, sizeof key);
	const char *algs[] = {key, kura_tst_signature_hash(t)};
	for (size_t i = 0; p && i < 2; i++)
		if (algs[i] && kura_policy_algorithm_end((void *)p, algs[i]) <= now)
			kura_log_message(KURA_LOG_WARNING, "the TSA signed with %s, which the store's policy (%s) no longer accepts: "
					"its time-stamps will not verify; use a TSA with a stronger key, or another policy",
				algs[i], kura_policy_name(p));
}

/* A leaf per object: the digest ingest noted, or its group's node (signed
 * documents), or the digest computed now. Groups of several digests are kept in
 * *count and *values (made for the first one; the caller frees them). */
static int compute_leaves(const struct pending *p, uint8_t **countp, unsigned char ***valuesp, kura_store *st,
			  const EVP_MD *md, kura_error *err)
{
	size_t hlen = p->hlen;
	uint8_t *count = *countp;
	unsigned char **values = *valuesp;
	char cid[KURA_ID_LEN + 1];
	int rc = 0;
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		unsigned char group[(1 + KURA_INGEST_MAX_MEMBERS) * EVP_MAX_MD_SIZE];
		size_t m = 0;
		if (((unsigned char *)p->noted)[i])
			continue;
		memcpy(cid, (char *)p->ids + i * KURA_ID_LEN, KURA_ID_LEN);
		cid[KURA_ID_LEN] = '\0';
		if ((rc = kura_object_digests(group, &m, st, cid, md, 0, err)) != 0)
			break;
		if (m > 1) {
			if (!count && (!(count = calloc(p->n, 1)) || !(values = calloc(p->n, sizeof *values)))) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory for %zu leaves", p->n);
				break;
			}
			if (!(values[i] = malloc(m * hlen))) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
				break;
			}
			memcpy(values[i], group, m * hlen);
			count[i] = (uint8_t)m;
		}
		kura_hash_group((unsigned char *)p->leaves + i * hlen, md, group, m);
	}
	*countp = count;
	*valuesp = values;
	return rc;
}

/* What a stored seal tells its caller: how many objects, which TSA, when;
 * and a warning if that TSA's algorithms are ones the policy no longer accepts. */
static void fill_result(kura_seal_result *res, size_t objects, const char *from, const unsigned char *token, size_t tlen,
			const kura_policy *policy, int64_t now)
{
	kura_tst *t = NULL;
	res->objects = objects;
	snprintf(res->tsa, sizeof res->tsa, "%s", from);
	if (kura_tst_parse(&t, token, tlen, NULL) == 0) {
		kura_time_format(res->gentime, kura_tst_gentime(t));
		warn_unsuitable(policy, t, now);
	}
	kura_tst_free(t);
}

/* The audit trail's checkpoint as the last leaf (docs/RECORDS.md): its digest
 * now, its ID only once the time-stamp is had; it is written then, so that a
 * seal that fails leaves nothing behind. */
static int add_trail_leaf(struct pending *p, const kura_audit_pending *trail, const EVP_MD *md, kura_error *err)
{
	if (kura_bigmem_grow(&p->ids, &p->idcap, (p->n + 1) * KURA_ID_LEN) != 0 ||
	    kura_bigmem_grow(&p->leaves, &p->leafcap, (p->n + 1) * p->hlen) != 0 ||
	    kura_bigmem_grow(&p->noted, &p->notecap, p->n + 1) != 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory after %zu pending objects", p->n);
	memset((char *)p->ids + p->n * KURA_ID_LEN, '0', KURA_ID_LEN);
	if (EVP_Digest(trail->text, trail->len, (unsigned char *)p->leaves + p->n * p->hlen, NULL, md, NULL) != 1)
		return kura_error_set(err, KURA_EINTERNAL, "hashing the audit trail failed");
	((unsigned char *)p->noted)[p->n++] = 1;
	return 0;
}

/* Writes the checkpoint whose leaf is the last one, and gives that leaf its ID
 * (IDs grow: it follows every pending object's). */
static int write_trail(struct pending *p, kura_store *st, const kura_audit_pending *trail, kura_error *err)
{
	char id[KURA_ID_LEN + 1];
	char *slot = (char *)p->ids + (p->n - 1) * KURA_ID_LEN;
	int rc = kura_audit_checkpoint_write(id, st, trail, err);
	if (rc == 0 && p->n > 1 && memcmp(id, slot - KURA_ID_LEN, KURA_ID_LEN) <= 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "the audit trail's checkpoint %s does not follow the objects it is "
							  "sealed with", id);
	if (rc == 0)
		memcpy(slot, id, KURA_ID_LEN);
	return rc;
}

/* A seal between its steps: what was chosen, and then the time-stamp got. */
struct job {
	kura_policy *policy; /* none readable: the store's hash, no warnings */
	const EVP_MD *md;
	struct pending p;
	unsigned char **values; /* the groups' (kura_chain_groups) */
	uint8_t *count;
	const kura_audit_pending *trail; /* NULL: none in this seal */
	unsigned char root[EVP_MAX_MD_SIZE];
	unsigned char *token;
	size_t tlen;
	const char *from;
};

static void job_clear(struct job *j)
{
	kura_policy_free(j->policy);
	for (size_t i = 0; j->values && i < j->p.n; i++)
		free(j->values[i]);
	free(j->values);
	free(j->count);
	free(j->token);
	kura_bigmem_free(j->p.leaves, j->p.leafcap);
	kura_bigmem_free(j->p.noted, j->p.notecap);
	kura_bigmem_free(j->p.ids, j->p.idcap);
	memset(j, 0, sizeof *j);
}

/* Step 1, with the store: the oldest pending objects (all, or max; res->more:
 * some are left) and the trail's checkpoint, their leaves and the tree's root.
 * j->p.n is 0 when there is nothing to seal. */
static int choose(struct job *j, kura_seal_result *res, kura_store *st, size_t max, const kura_audit_pending *trail,
		  kura_error *err)
{
	int64_t now;
	int rc = kura_clock_now(&now, err);
	if (rc != 0)
		return rc;
	kura_store_policy_load(&j->policy, st, NULL);
	j->md = seal_hash(st, j->policy, now);
	j->p.hlen = (size_t)EVP_MD_get_size(j->md);
	j->p.max = max ? max : KURA_SEAL_MAX_BYTES / (KURA_ID_LEN + j->p.hlen);
	rc = kura_store_each_pending(st, kura_hash_name_by_nid(EVP_MD_get_type(j->md)), add_pending, &j->p, err);
	if (rc == 1) { /* stopped at the limit */
		res->more = 1;
		rc = 0;
	}
	if (res->more || (trail && !trail->text))
		trail = NULL; /* the trail goes with the last seal of a backlog */
	j->trail = trail;
	if (rc != 0 || (j->p.n == 0 && !trail))
		return rc;
	/* a leaf per object: the digest ingest noted, or its group's node (signed
	 * documents), or the digest computed now */
	rc = trail ? add_trail_leaf(&j->p, trail, j->md, err) : 0; /* first: the groups' arrays are made for every leaf */
	if (rc == 0)
		rc = compute_leaves(&j->p, &j->count, &j->values, st, j->md, err);
	if (rc == 0)
		rc = kura_hashtree_root_of(j->root, j->md, j->p.leaves, j->p.n, err);
	return rc;
}

/* Step 3, with the store: the checkpoint (if any) and the seal record. */
static int store_seal(kura_seal_result *res, kura_store *st, struct job *j, kura_error *err)
{
	int64_t now;
	kura_chain_parts payload = {0};
	int rc = j->trail ? write_trail(&j->p, st, j->trail, err) : 0;
	if (rc == 0)
		rc = kura_chain_payload(&payload, KURA_EVIDENCE_SEAL, j->md, j->p.leaves, j->p.n,
					&(kura_chain_groups){j->count, j->values}, NULL, NULL, j->token, j->tlen, err);
	if (rc == 0 && (rc = kura_clock_now(&now, err)) == 0 && (rc = kura_id_new(res->id, now, err)) == 0)
		rc = kura_store_add_evidence_marked(st, KURA_EVIDENCE_SEAL, kura_tsa_judge(st, j->token, j->tlen), res->id,
						    j->p.ids, j->p.n, payload.part, 3, err);
	if (rc == 0) {
		fill_result(res, j->p.n, j->from, j->token, j->tlen, j->policy, now);
		kura_audit_count_checkpoints(&res->checkpoints, &res->trail_to, st, j->p.ids, j->p.n);
	}
	kura_chain_parts_clear(&payload);
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, KURA_ID_LEN);
}

struct still {
	const char *ids; /* sorted */
	size_t n, found;
};

static int still_pending(void *ud, const char *id, const unsigned char *digest, kura_error *err)
{
	struct still *s = ud;
	(void)digest;
	(void)err;
	s->found += bsearch(id, s->ids, s->n, KURA_ID_LEN, cmp_id) != NULL;
	return 0;
}

/* Whether what step 1 chose may still be sealed after the store was let go:
 * every object chosen is still pending (*same 1), not sealed by another seal
 * meanwhile (nor disposed of). Objects added meanwhile have greater IDs than
 * every one chosen: they stay out of the seal's range and wait for the next. */
static int unchanged(int *same, kura_store *st, const struct job *j, kura_error *err)
{
	struct still s = {.ids = malloc(j->p.n * KURA_ID_LEN + 1), .n = j->p.n};
	*same = 0;
	if (!s.ids)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy((char *)s.ids, j->p.ids, j->p.n * KURA_ID_LEN);
	qsort((char *)s.ids, j->p.n, KURA_ID_LEN, cmp_id);
	int rc = kura_store_each_pending(st, kura_hash_name_by_nid(EVP_MD_get_type(j->md)), still_pending, &s, err);
	if (rc == 0)
		*same = s.found == j->p.n;
	free((char *)s.ids);
	return rc;
}

/* One seal (see kura_seal_with); with lock (held by the caller; then trail must
 * be NULL), the lock is let go while the TSA is asked and *changed set, sealing
 * nothing, when what was chosen changed meanwhile. */
static int seal_once(kura_seal_result *res, int *changed, kura_store *st, const kura_stamper_options *tsa, size_t max,
		     const kura_audit_pending *trail, pthread_mutex_t *lock, kura_error *err)
{
	struct job j = {0};
	int same = 1;
	memset(res, 0, sizeof *res);
	*changed = 0;
	int rc = choose(&j, res, st, max, trail, err);
	if (rc == 0 && j.p.n > 0) {
		char *actor = lock ? strdup(kura_store_actor(st)) : NULL;
		if (lock && !actor)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		if (actor)
			pthread_mutex_unlock(lock);
		if (rc == 0)
			rc = kura_stamp(&j.token, &j.tlen, &j.from, tsa, j.md, j.root, err);
		if (actor) { /* others set theirs meanwhile: what follows is the seal's */
			pthread_mutex_lock(lock);
			kura_store_set_actor(st, actor, NULL);
			free(actor);
		}
		if (rc == 0 && lock)
			rc = unchanged(&same, st, &j, err);
		if (rc == 0 && same)
			rc = store_seal(res, st, &j, err);
		*changed = !same;
		if (!same)
			memset(res, 0, sizeof *res);
	}
	if (rc != 0)
		kura_error_wrap(err, "sealing %zu pending object(s)", j.p.n);
	job_clear(&j);
	return rc;
}

int kura_seal(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, size_t max, kura_error *err)
{
	return kura_seal_with(res, st, tsa, max, NULL, err);
}

int kura_seal_with(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, size_t max,
		   const kura_audit_pending *trail, kura_error *err)
{
	int changed;
	return seal_once(res, &changed, st, tsa, max, trail, NULL, err);
}

static int stop_at_first(void *ud, const char *id, const unsigned char *digest, kura_error *err)
{
	(void)id;
	(void)digest;
	(void)err;
	*(int *)ud = 1;
	return 1;
}

/* Whether the trail's records due hold a change a person made (anything but
 * what kura does by itself: renewals, checkpoints, its embedded TSA's rollovers). */
static int holds_a_change(const kura_audit_pending *t)
{
	int found = 0;
	for (const char *line = t->text, *end = t->text + t->len; !found && line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		json_t *a = json_loadb(line, n, 0, NULL);
		const char *action = json_string_value(json_object_get(a, "action"));
		found = !action || (strcmp(action, "renew") != 0 && strcmp(action, "checkpoint") != 0 &&
				    strcmp(action, "tsa-rollover") != 0);
		json_decref(a);
		line += n + 1;
	}
	return found;
}

/* The audit trail's checkpoint due, when documents are pending (it is sealed
 * with them) or when asked (KURA_SEAL_TRAIL; KURA_SEAL_CHANGES: when a person's
 * change waits); trail->text stays NULL otherwise. */
static int checkpoint_due(kura_audit_pending *trail, kura_store *st, int flags, kura_error *err)
{
	int pending = 0;
	memset(trail, 0, sizeof *trail);
	int rc = flags & KURA_SEAL_TRAIL ? 0 : kura_store_each_pending(st, kura_store_hash(st), stop_at_first, &pending, err);
	if (rc < 0)
		return rc;
	if (!pending && !(flags & (KURA_SEAL_TRAIL | KURA_SEAL_CHANGES)))
		return 0;
	rc = kura_audit_checkpoint_due(trail, st, err);
	if (rc == 0 && trail->text && !pending && !(flags & KURA_SEAL_TRAIL) && !holds_a_change(trail))
		kura_audit_pending_clear(trail);
	return rc;
}

int kura_seal_all(size_t *sealed_out, kura_store *st, const kura_seal_events *ev, kura_error *err)
{
	return kura_seal_all_flags(sealed_out, st, 0, ev, err);
}

/* kura_seal_all_flags, letting lock go (if not NULL) while the TSA is asked. */
static int seal_all(size_t *sealed_out, kura_store *st, int flags, const kura_seal_events *ev, pthread_mutex_t *lock,
		    kura_error *err)
{
	kura_tsa_setup tsa;
	kura_seal_result res;
	int rolled, changed = 0, tries = 0;
	int rc = kura_tsa_upkeep(&rolled, st, err);
	if (rc == 0)
		rc = kura_tsa_setup_open(&tsa, st, err);
	if (rc == 0 && tsa.opts.nurls > 0 && !tsa.opts.anchors && ev && ev->untrusted)
		ev->untrusted(ev->ud, tsa.opts.urls[0]);
	kura_audit_pending trail = {0};
	if (rc == 0 && (rc = checkpoint_due(&trail, st, flags, err)) != 0)
		kura_tsa_setup_close(&tsa);
	if (rc != 0)
		return rc;
	size_t sealed = 0;
	do { /* a backlog larger than one seal takes several */
		char checkpoint[KURA_ID_LEN + 1];
		/* letting the lock go: the checkpoint is written first, an object
		 * pending like the others, so that the seal's range (evidence_frame.c)
		 * ends before whatever is added while the TSA is asked */
		if (lock && trail.text && (rc = kura_audit_checkpoint_write(checkpoint, st, &trail, err)) != 0)
			break;
		if (lock)
			kura_audit_pending_clear(&trail);
		rc = seal_once(&res, &changed, st, &tsa.opts, 0, lock ? NULL : &trail, lock, err);
		if (rc == 0 && changed && ++tries > SEAL_TRIES)
			rc = kura_error_set(err, KURA_EIO, "sealing: other seals took the pending objects %d times in a row; "
							   "sealed in the next round", SEAL_TRIES);
		if (rc == 0 && changed) { /* another seal was made meanwhile: choose again */
			kura_audit_pending_clear(&trail);
			rc = checkpoint_due(&trail, st, flags, err);
			res.more = 1;
			continue;
		}
		if (rc == 0 && res.objects && ev && ev->sealed)
			ev->sealed(ev->ud, &res);
		sealed += rc == 0 ? res.objects : 0;
	} while (rc == 0 && res.more);
	kura_tsa_setup_close(&tsa);
	kura_audit_pending_clear(&trail);
	if (rc == 0 && sealed == 0 && ev && ev->sealed) {
		memset(&res, 0, sizeof res);
		ev->sealed(ev->ud, &res);
	}
	if (sealed_out)
		*sealed_out = sealed;
	return rc;
}

int kura_seal_all_flags(size_t *sealed_out, kura_store *st, int flags, const kura_seal_events *ev, kura_error *err)
{
	return seal_all(sealed_out, st, flags, ev, NULL, err);
}

int kura_seal_all_unlocking(size_t *sealed_out, kura_store *st, int flags, pthread_mutex_t *lock, kura_error *err)
{
	return seal_all(sealed_out, st, flags, NULL, lock, err);
}
