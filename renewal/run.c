/* One renewal run (see run.h). With the writer's lock of a store other threads
 * write too (kura_run_renewals_unlocking, the preservation service), the run
 * reads, plans and asks the TSA without it, through a view of the store, and
 * takes it only to write (renewal/renew.h, kura_renew_on); when what it read
 * changed meanwhile it plans again, up to RENEW_TRIES times. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "evidence/tsa.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "renewal/plan.h"
#include "renewal/renew.h"
#include "renewal/run.h"
#include "proof/store_policy.h"
#include "proof/tsa_setup.h"
#include "proof/tsa_upkeep.h"

#define RENEW_TRIES 3 /* passes whose reading was overtaken by a change, before giving up for this run */

/* Chains whose evidence cannot even be read (due INT64_MIN, planned first) are
 * reported, not renewed. */
static void refuse_unreadable(kura_run_report *r, kura_plan_item *items, size_t n)
{
	for (size_t i = 0; i < n && items[i].due == INT64_MIN; i++) {
		kura_log_message(KURA_LOG_ERROR, "NOT RENEWED: chain %s: %s", items[i].chain, items[i].reason);
		r->refused++;
		items[i].action = 0;
		items[i].hash[0] = '\0';
	}
}

/* The objects of every due chain whose hash algorithm ends and whose last
 * time-stamp still verifies (*objects, *nobj: the caller frees *objects). A
 * chain that does not verify is refused; an I/O error stops the run. */
static int collect_rehash(char **objectsp, size_t *nobjp, size_t *checkpoints, kura_run_report *r, kura_store *st,
			  kura_tsa_setup *tsa, const kura_plan_item *items, size_t n, int64_t now, kura_error *err)
{
	char *objects = NULL;
	size_t nobj = 0, ncap = 0;
	int rc = 0;
	for (size_t i = 0; i < n && items[i].due <= now; i++) {
		if (items[i].action != 'H')
			continue;
		kura_error why = {0};
		if (kura_renew_check_chain(st, items[i].chain, tsa->opts.anchors, now, &why) != 0) {
			if (why.code == KURA_EIO) { /* the disk, not the evidence */
				if (err)
					*err = why;
				rc = why.code;
				break;
			}
			kura_renew_log_refusal(st, items[i].chain, why.message);
			r->refused++;
			continue;
		}
		if (nobj + items[i].objects > ncap) {
			ncap = (nobj + items[i].objects) * 2;
			char *g = realloc(objects, ncap * KURA_ID_LEN);
			if (!g) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
				break;
			}
			objects = g;
		}
		for (size_t k = 0; rc == 0 && k < items[i].objects; k++) {
			char id[KURA_ID_LEN + 1], by[KURA_ID_LEN + 1];
			memcpy(id, items[i].object_ids + k * KURA_ID_LEN, KURA_ID_LEN);
			id[KURA_ID_LEN] = '\0';
			int disposed = kura_store_disposed(st, id, by, err);
			if (disposed == 1) /* its content is gone: nothing to hash again; its chains stay as they are */
				kura_log_message(KURA_LOG_INFO, "object %s was disposed of (audit record %s): left out of the hash-tree "
					"renewal", id, by);
			else if (disposed == 0)
				memcpy(objects + nobj++ * KURA_ID_LEN, id, KURA_ID_LEN);
			else
				rc = disposed;
		}
		if (rc != 0)
			break;
		*checkpoints += items[i].checkpoints;
	}
	*objectsp = objects;
	*nobjp = nobj;
	return rc;
}

/* Every object whose hash algorithm ends: one hash-tree renewal. */
static int renew_hashtrees(kura_run_report *r, json_t *made, int *changed, const kura_renew_on *on, const kura_policy *p,
			   kura_tsa_setup *tsa, const kura_plan_item *items, size_t n, int64_t now, kura_error *err)
{
	char *objects = NULL;
	size_t nobj = 0;
	size_t checkpoints = 0;
	int rc = collect_rehash(&objects, &nobj, &checkpoints, r, on->read, tsa, items, n, now, err);
	if (rc == 0 && nobj > 0) {
		const char *to = kura_policy_next_hash(p, now);
		kura_renew_result res;
		if (!to)
			rc = kura_error_set(err, KURA_EINPUT, "no hash algorithm of policy %s suffices any more: a hash-tree "
							      "renewal is due but has nowhere to go; set a newer policy",
					    kura_policy_name(p));
		else if ((rc = kura_renew_hashtree_on(&res, on, objects, nobj, kura_hash_by_name(to), &tsa->opts, err)) == 0 &&
			 res.changed)
			*changed = 1;
		else if (rc == 0) {
			/* documents are counted; the audit trail's checkpoints apart */
			r->checkpoints_rehashed = checkpoints;
			r->objects_rehashed = res.renewed > checkpoints ? res.renewed - checkpoints : 0;
			snprintf(r->rehash_to, sizeof r->rehash_to, "%s", to);
			json_array_append_new(made, json_string(res.id));
			kura_log_message(KURA_LOG_INFO, "hash-tree renewal: %zu object(s) now in a %s chain, time-stamped %s by %s",
				r->objects_rehashed, to, res.gentime, res.tsa);
		}
	}
	free(objects);
	return rc;
}

/* Chains whose time-stamp ends: one time-stamp renewal per hash algorithm. */
static int renew_timestamps(kura_run_report *r, json_t *made, int *changed, const kura_renew_on *on, kura_tsa_setup *tsa,
			    kura_plan_item *items, size_t n, int64_t now, kura_error *err)
{
	char *chains = malloc(n * KURA_ID_LEN + 1);
	int rc = 0;
	if (!chains)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (;;) {
		size_t nch = 0;
		const char *hash = NULL;
		for (size_t i = 0; i < n && items[i].due <= now; i++) {
			if (items[i].action != 'T' || items[i].hash[0] == '\0' || (hash && strcmp(hash, items[i].hash) != 0))
				continue;
			hash = items[i].hash;
			memcpy(chains + nch++ * KURA_ID_LEN, items[i].chain, KURA_ID_LEN);
		}
		if (nch == 0)
			break;
		char done[16];
		snprintf(done, sizeof done, "%s", hash);
		kura_renew_result res;
		if ((rc = kura_renew_timestamps_on(&res, on, chains, nch, &tsa->opts, tsa->opts.anchors, err)) != 0)
			break;
		if (res.changed) { /* planned again */
			*changed = 1;
			break;
		}
		r->chains_renewed += res.renewed;
		r->refused += res.refused;
		if (res.renewed)
			json_array_append_new(made, json_string(res.id));
		if (res.renewed)
			kura_log_message(KURA_LOG_INFO, "time-stamp renewal: %zu %s chain(s), time-stamped %s by %s", res.renewed, done,
				res.gentime, res.tsa);
		for (size_t i = 0; i < n; i++) /* done with this algorithm */
			if (items[i].action == 'T' && strcmp(items[i].hash, done) == 0)
				items[i].hash[0] = '\0';
	}
	free(chains);
	return rc;
}

/* A run that renewed something says so in the audit trail (docs/RECORDS.md):
 * the evidence records it made and the counts. */
static int audit_run(const kura_run_report *r, json_t *made, kura_store *st, kura_error *err)
{
	if (r->chains_renewed == 0 && r->objects_rehashed == 0 && r->checkpoints_rehashed == 0)
		return 0;
	json_t *f = json_pack("{s:O, s:I, s:I, s:I, s:s, s:I}", "records", made, "chains_renewed",
			      (json_int_t)r->chains_renewed, "objects_rehashed", (json_int_t)r->objects_rehashed,
			      "checkpoints_rehashed", (json_int_t)r->checkpoints_rehashed, "rehashed_to", r->rehash_to,
			      "refused", (json_int_t)r->refused);
	int rc = f ? kura_store_audit_record(st, "renew", f, NULL, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_decref(f);
	return rc;
}

/* 1 if every object of the chain was disposed of: its content is gone, so no renewal
 * can take it further and nobody needs to act (its records stay as proof); 0 if not;
 * or an error code. */
static int all_disposed(kura_store *st, const kura_plan_item *it, kura_error *err)
{
	for (size_t k = 0; k < it->objects; k++) {
		char id[KURA_ID_LEN + 1], by[KURA_ID_LEN + 1];
		memcpy(id, it->object_ids + k * KURA_ID_LEN, KURA_ID_LEN);
		id[KURA_ID_LEN] = '\0';
		int disposed = kura_store_disposed(st, id, by, err);
		if (disposed != 1)
			return disposed;
	}
	return it->objects > 0;
}

/* What comes next, after what was just done: the earliest due item of a new plan. */
static int find_next_due(kura_run_report *r, kura_store *st, const kura_policy *p, int64_t now, kura_error *err)
{
	kura_plan_item *items = NULL;
	size_t n = 0;
	int rc = kura_plan(&items, &n, st, p, now, err);
	if (rc == 0)
		for (size_t i = 0; rc == 0 && i < n; i++) { /* overdue ones (refused or failed) come first */
			int gone = items[i].due <= now ? all_disposed(st, &items[i], err) : 0;
			if (gone < 0)
				rc = gone;
			/* a time-stamp of the last hour: renewed now (a remote TSA's clock may lag) */
			else if (items[i].due <= now && !gone && items[i].last_time >= now - 3600000)
				r->due_again++;
			else if (items[i].due <= now && !gone)
				r->overdue++;
			if (items[i].due < r->next_due) {
				r->next_due = items[i].due;
				snprintf(r->next_reason, sizeof r->next_reason, "%schain %s: %s", items[i].due <= now ? "OVERDUE: " : "",
					 items[i].chain, items[i].reason);
			}
		}
	kura_plan_free(items, n);
	return rc;
}

/* Every renewal due now, as planned now: hash trees, then time-stamps.
 * *changed: one was not written, what it read having changed meanwhile. */
static int renew_due(kura_run_report *r, json_t *made, int *changed, const kura_renew_on *on, const kura_policy *p,
		     kura_tsa_setup *tsa, int64_t now, kura_error *err)
{
	kura_plan_item *items = NULL;
	size_t n = 0;
	int rc = kura_plan(&items, &n, on->read, p, now, err);
	if (rc == 0) {
		refuse_unreadable(r, items, n);
		rc = renew_hashtrees(r, made, changed, on, p, tsa, items, n, now, err);
	}
	if (rc == 0 && !*changed)
		rc = renew_timestamps(r, made, changed, on, tsa, items, n, now, err);
	kura_plan_free(items, n);
	return rc;
}

/* Where a pass reads and writes: st itself, or with lock (held on entry) a
 * view of st opened now, the lock then let go. */
static int pass_begin(kura_renew_on *on, kura_store *st, pthread_mutex_t *lock, const char *actor, kura_error *err)
{
	*on = (kura_renew_on){st, st, NULL, NULL};
	if (!lock)
		return 0;
	kura_store *view = NULL;
	int rc = kura_store_view_open(&view, st, err);
	if (rc == 0) {
		*on = (kura_renew_on){view, st, lock, actor};
		pthread_mutex_unlock(lock);
	}
	return rc;
}

/* The lock taken back (with the run's actor) and the view closed. */
static void pass_end(kura_renew_on *on)
{
	if (!on->lock)
		return;
	pthread_mutex_lock(on->lock);
	kura_store_set_actor(on->write, on->actor, NULL);
	kura_store_close(on->read);
	*on = (kura_renew_on){on->write, on->write, NULL, NULL};
}

/* renew_due until nothing changed under it (at most RENEW_TRIES times), each
 * pass with a view of its own: what changed may have moved stored bytes (a
 * disposal compacts the segments). */
static int renew_until_settled(kura_run_report *r, json_t *made, kura_store *st, pthread_mutex_t *lock,
			       const char *actor, const kura_policy *p, kura_tsa_setup *tsa, int64_t now, kura_error *err)
{
	for (int tries = 1;; tries++) {
		int changed = 0;
		size_t refused = r->refused;
		kura_renew_on on;
		int rc = pass_begin(&on, st, lock, actor, err);
		if (rc == 0)
			rc = renew_due(r, made, &changed, &on, p, tsa, now, err);
		pass_end(&on);
		if (rc != 0 || !changed)
			return rc;
		r->refused = refused; /* counted again in the next pass */
		kura_log_message(KURA_LOG_INFO, "renewal: what was to be renewed changed while the TSA was asked; planned again");
		if (tries == RENEW_TRIES)
			return kura_error_set(err, KURA_EIO, "renewal: what was to be renewed changed %d times in a row while "
							     "the TSA was asked; tried again in the next run", RENEW_TRIES);
	}
}

/* kura_run_renewals, and with lock (held by the caller on entry and on return)
 * kura_run_renewals_unlocking. */
static int run(kura_run_report *r, kura_store *st, pthread_mutex_t *lock, kura_error *err)
{
	memset(r, 0, sizeof *r);
	r->next_due = KURA_NEVER;
	kura_policy *p = NULL;
	kura_tsa_setup tsa = {0};
	char *actor = lock ? strdup(kura_store_actor(st)) : NULL;
	json_t *made = json_array();
	int64_t now;
	int rc = made && (actor || !lock) ? kura_clock_now(&now, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_policy_load(&p, st, err);
	if (rc == 0)
		rc = kura_tsa_upkeep_at(&r->rolled_over, st, p, now, err);
	if (rc == 0)
		rc = kura_tsa_setup_open(&tsa, st, err);
	if (rc == 0)
		rc = renew_until_settled(r, made, st, lock, actor, p, &tsa, now, err);
	kura_error aerr = {0}; /* what a failed run did renew is recorded too */
	int arc = made ? audit_run(r, made, st, rc == 0 ? err : &aerr) : 0;
	if (rc == 0)
		rc = arc;
	json_decref(made);
	kura_renew_on on;
	if (rc == 0 && (rc = pass_begin(&on, st, lock, actor, err)) == 0) {
		rc = find_next_due(r, on.read, p, now, err);
		pass_end(&on);
	}
	kura_tsa_setup_close(&tsa);
	kura_policy_free(p);
	free(actor);
	return rc;
}

int kura_run_renewals(kura_run_report *r, kura_store *st, kura_error *err)
{
	return run(r, st, NULL, err);
}

int kura_run_renewals_unlocking(kura_run_report *r, kura_store *st, pthread_mutex_t *lock, kura_error *err)
{
	return run(r, st, lock, err);
}

int kura_run_plan(json_t **plan, char **policy_name, kura_store *st, kura_error *err)
{
	kura_policy *p = NULL;
	kura_plan_item *items = NULL;
	size_t n = 0;
	int64_t now;
	*plan = NULL;
	*policy_name = NULL;
	int rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_store_policy_load(&p, st, err);
	if (rc == 0)
		rc = kura_plan(&items, &n, st, p, now, err);
	if (rc == 0) {
		*plan = kura_plan_json(items, n, now);
		*policy_name = strdup(kura_policy_name(p));
		if (!*plan || !*policy_name) {
			json_decref(*plan);
			free(*policy_name);
			*plan = NULL;
			*policy_name = NULL;
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		}
	}
	kura_plan_free(items, n);
	kura_policy_free(p);
	return rc;
}
