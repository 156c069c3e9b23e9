/* Upkeep of a store's embedded TSA: it is rolled over (a new key and
 * certificate, evidence/tsa.h) when its certificate ends within the policy's
 * margin or the policy stops accepting its kind of key. A store with remote
 * TSAs, or without an embedded TSA, needs none. */
#ifndef KURA_TSA_UPKEEP_H
#define KURA_TSA_UPKEEP_H

#include <stdint.h>

#include "kura/store.h"
#include "policies/policy.h"

/* Rolls the store's embedded TSA over if its certificate or key nears its end
 * (st open for writing); done before every seal and renewal. *rolled: 1 if it did. */
int kura_tsa_upkeep(int *rolled, kura_store *st, kura_error *err);

/* The same with the store's policy p and the time now given. */
int kura_tsa_upkeep_at(int *rolled, kura_store *st, const kura_policy *p, int64_t now, kura_error *err);

#endif
