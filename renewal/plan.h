/* The renewal planner: for every live chain (the newest chain of at least one
 * object), when its evidence next needs renewal and why:
 *   - its last time-stamp's TSA certificate expires (notAfter - certificate margin),
 *   - that certificate's signature algorithm and key stop sufficing (policy end -
 *     algorithm margin),
 *   - that certificate was revoked (asked now of the OCSP responder or CRL
 *     distribution point it names; due at once),
 *   all answered by a time-stamp renewal ('T'), or
 *   - the chain's hash algorithm stops sufficing (policy end - algorithm margin),
 *     answered by a hash-tree renewal ('H') of every object in the chain; also
 *     when a time-stamp reason came first but the hash has ended too by the
 *     time of the plan (a new time-stamp would not help the old hash). */
#ifndef KURA_PLAN_H
#define KURA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/store.h"
#include "policies/policy.h"

typedef struct kura_plan_item {
	char chain[KURA_ID_LEN + 1]; /* the chain's start record */
	char action;                 /* 'T' time-stamp renewal, 'H' hash-tree renewal */
	int64_t due;                 /* KURA_NEVER: nothing foreseen */
	int64_t last_time;           /* genTime of its last time-stamp; 0 when it cannot be read */
	int64_t breaks;              /* when the chain's evidence stops verifying unless renewed (the end
				      * due was counted back from: a certificate's or an algorithm's);
				      * KURA_NEVER: no end known; INT64_MIN: broken now (unreadable) */
	char reason[400];
	char hash[16];               /* the chain's hash algorithm */
	size_t objects;              /* objects whose newest chain this is */
	char *object_ids;            /* their IDs, objects * KURA_ID_LEN characters */
	size_t checkpoints;          /* of them, the audit trail's checkpoints (not documents: the JSON's
				      * "objects" leaves them out) */
} kura_plan_item;

/* The plan made at now, sorted by due time: a chain whose hash no longer
 * suffices by now is planned for a hash-tree renewal even when a time-stamp
 * reason came first (that would leave it overdue). *items is the caller's:
 * kura_plan_free. */
int kura_plan(kura_plan_item **items, size_t *n, kura_store *st, const kura_policy *p, int64_t now, kura_error *err);
void kura_plan_free(kura_plan_item *items, size_t n);

json_t *kura_plan_json(const kura_plan_item *items, size_t n, int64_t now);

#endif
