/* One renewal run: what `kura renew` and each round of `kura daemon` do.
 * It rolls the embedded TSA over when its certificate or key nears its end,
 * then does every renewal the planner says is due now, with as few time-stamps
 * as possible (one hash-tree renewal for all objects whose hash algorithm ends,
 * one time-stamp renewal per hash algorithm), and says what comes next. */
#ifndef KURA_RUN_H
#define KURA_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "kura/store.h"

typedef struct kura_run_report {
	int rolled_over;        /* the embedded TSA got a new certificate */
	size_t chains_renewed;  /* time-stamp renewal */
	size_t objects_rehashed;/* hash-tree renewal */
	char rehash_to[16];
	size_t refused;         /* chains whose evidence was broken: not renewed */
	int64_t next_due;       /* KURA_NEVER: nothing foreseen */
	char next_reason[400];
} kura_run_report;

/* What is due when: one JSON entry per live chain (renewal/plan.h,
 * kura_plan_json), due now first, and the name of the store's policy. Both are
 * the caller's (json_decref, free). */
int kura_run_plan(json_t **plan, char **policy_name, kura_store *st, kura_error *err);

/* st open for writing. */
int kura_run_renewals(kura_run_report *r, kura_store *st, kura_error *err);

#endif
