/* A store's policy: STORE/policy.yaml (a copy of the policy chosen at init or
 * later with `kura policy set`) and STORE/sunsets.json (ends declared later with
 * `kura policy sunset`, applied on top). Every change is logged in the store's
 * audit trail. */
#ifndef KURA_STORE_POLICY_H
#define KURA_STORE_POLICY_H

#include "kura/store.h"
#include "policies/policy.h"

#define KURA_DEFAULT_POLICY "etsi-ts-119-312"

/* Writes the policy (a file or shipped name) into a store folder being made. */
int kura_store_policy_init(const char *store_path, const char *file_or_name, kura_error *err);

/* The store's policy with its sunsets; the caller frees it. */
int kura_store_policy_load(kura_policy **out, kura_store *st, kura_error *err);

/* Replaces the store's policy (st open for writing); a policy naming TSA URLs
 * makes them the store's TSAs. */
int kura_store_policy_set(kura_store *st, const char *file_or_name, kura_error *err);

/* Declares alg unsuitable from day (RFC 3339 date) on (st open for writing). */
int kura_store_policy_sunset(kura_store *st, const char *alg, const char *day, kura_error *err);

#endif
