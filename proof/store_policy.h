/* A store's policy: STORE/policy.yaml (a copy of the policy chosen at init or
 * later with `kura policy set`) and STORE/sunsets.json (ends declared later with
 * `kura policy sunset`, applied on top). Every change is logged in the store's
 * audit trail. Loading, setting and sunsets are public (kura/policy.h). */
#ifndef KURA_STORE_POLICY_H
#define KURA_STORE_POLICY_H

#include "kura/store.h"
#include "kura/policy.h"
#include "policies/policy.h"

/* Writes the policy (a file or shipped name) into a store folder being made. */
int kura_store_policy_init(const char *store_path, const char *file_or_name, kura_error *err);

/* The JSON object in STORE/file (an empty one when the file is absent; NULL
 * with *rc set when it is there but unreadable or not an object: "the store's
 * WHAT are damaged"). The caller's (json_decref). */
json_t *kura_store_json_load(const char *store, const char *file, const char *what, kura_error *err, int *rc);

#endif
