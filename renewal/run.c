/* One renewal run (see run.h). */
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

int kura_run_renewals(kura_run_report *r, kura_store *st, kura_error *err)
{
	memset(r, 0, sizeof *r);
	r->next_due = KURA_NEVER;
	kura_policy *p = NULL;
	kura_plan_item *items = NULL;
	size_t n = 0;
	kura_tsa_setup tsa = {0};
	int64_t now;
	char *objects = NULL, *chains = NULL;
	int rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_store_policy_load(&p, st, err);
	if (rc == 0)
		rc = kura_tsa_upkeep_at(&r->rolled_over, st, p, now, err);
	if (rc == 0)
		rc = kura_tsa_setup_open(&tsa, st, err);
	if (rc == 0)
		rc = kura_plan(&items, &n, st, p, err);
	if (rc != 0)
		goto out;

	/* chains whose evidence cannot even be read are reported, not renewed */
	for (size_t i = 0; i < n && items[i].due == INT64_MIN; i++) {
		kura_log_message(KURA_LOG_ERROR, "NOT RENEWED: chain %s: %s", items[i].chain, items[i].reason);
		r->refused++;
		items[i].action = 0;
		items[i].hash[0] = '\0';
	}

	/* every object whose hash algorithm ends: one hash-tree renewal */
	size_t nobj = 0, ncap = 0;
	for (size_t i = 0; i < n && items[i].due <= now; i++) {
		if (items[i].action != 'H')
			continue;
		kura_error why = {0};
		if (kura_renew_check_chain(st, items[i].chain, tsa.opts.anchors, now, &why) != 0) {
			if (why.code == KURA_EIO) { /* the disk, not the evidence */
				if (err)
					*err = why;
				rc = why.code;
				goto out;
			}
			kura_log_message(KURA_LOG_ERROR, "NOT RENEWED: chain %s: its last time-stamp does not verify now (%s); its "
					"evidence is broken and needs a person's attention", items[i].chain, why.message);
			r->refused++;
			continue;
		}
		if (nobj + items[i].objects > ncap) {
			ncap = (nobj + items[i].objects) * 2;
			char *g = realloc(objects, ncap * KURA_ID_LEN);
			if (!g) {
				rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
				goto out;
			}
			objects = g;
		}
		memcpy(objects + nobj * KURA_ID_LEN, items[i].object_ids, items[i].objects * KURA_ID_LEN);
		nobj += items[i].objects;
	}
	if (nobj > 0) {
		const char *to = kura_policy_next_hash(p, now);
		if (!to) {
			rc = kura_error_set(err, KURA_EINPUT, "no hash algorithm of policy %s suffices any more: a hash-tree "
							      "renewal is due but has nowhere to go; set a newer policy",
					    kura_policy_name(p));
			goto out;
		}
		kura_renew_result res;
		if ((rc = kura_renew_hashtree(&res, st, objects, nobj, kura_hash_by_name(to), &tsa.opts, err)) != 0)
			goto out;
		r->objects_rehashed = res.renewed;
		snprintf(r->rehash_to, sizeof r->rehash_to, "%s", to);
		kura_log_message(KURA_LOG_INFO, "hash-tree renewal: %zu object(s) now in a %s chain, time-stamped %s by %s",
			res.renewed, to, res.gentime, res.tsa);
	}

	/* chains whose time-stamp ends: one time-stamp renewal per hash algorithm */
	if (!(chains = malloc(n * KURA_ID_LEN + 1))) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
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
		if ((rc = kura_renew_timestamps(&res, st, chains, nch, &tsa.opts, tsa.opts.anchors, err)) != 0)
			goto out;
		r->chains_renewed += res.renewed;
		r->refused += res.refused;
		if (res.renewed)
			kura_log_message(KURA_LOG_INFO, "time-stamp renewal: %zu %s chain(s), time-stamped %s by %s", res.renewed, done,
				res.gentime, res.tsa);
		for (size_t i = 0; i < n; i++) /* done with this algorithm */
			if (items[i].action == 'T' && strcmp(items[i].hash, done) == 0)
				items[i].hash[0] = '\0';
	}

	/* what comes next, after what was just done */
	kura_plan_free(items, n);
	items = NULL;
	if ((rc = kura_plan(&items, &n, st, p, err)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) /* overdue ones (refused or failed) come first */
		if (items[i].due < r->next_due) {
			r->next_due = items[i].due;
			snprintf(r->next_reason, sizeof r->next_reason, "%schain %s: %s", items[i].due <= now ? "OVERDUE: " : "",
				 items[i].chain, items[i].reason);
		}
out:
	free(objects);
	free(chains);
	kura_plan_free(items, n);
	kura_tsa_setup_close(&tsa);
	kura_policy_free(p);
	return rc;
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
		rc = kura_plan(&items, &n, st, p, err);
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
