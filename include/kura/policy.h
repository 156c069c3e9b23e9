/* Renewal policies: when each hash and signature algorithm stops sufficing
 * (with the source of each date), and how long before an end evidence is
 * renewed; and the policy a store keeps (STORE/policy.yaml plus the sunsets
 * declared later, STORE/sunsets.json). The file format is described in
 * policies/policy.h. Every change to a store's policy is logged in its audit
 * trail. */
#ifndef KURA_PUBLIC_POLICY_H
#define KURA_PUBLIC_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"

/* A time that never comes: no end known. */
#define KURA_NEVER INT64_MAX

/* The policy a store gets when none is named. */
#define KURA_DEFAULT_POLICY "etsi-ts-119-312"

typedef struct kura_policy kura_policy;
typedef struct kura_store kura_store;

/* Parses YAML text of len bytes from memory (any bytes: never hangs, never
 * reads past len); origin names it in messages ("policy.yaml line 7: ...").
 * A syntax error, a key given twice, an unknown algorithm or a value of the
 * wrong type (an "until" that is no date and no null) is KURA_EINPUT.
 * *out is the caller's: kura_policy_free. */
int kura_policy_parse(kura_policy **out, const char *text, size_t len, const char *origin, kura_error *err);
/* A file path, or the name of a shipped policy. *out is the caller's
 * (kura_policy_free); *text (malloc'd, the caller's; text may be NULL)
 * receives the YAML that was parsed, for keeping a copy. */
int kura_policy_load(kura_policy **out, char **text, const char *file_or_name, kura_error *err);
void kura_policy_free(kura_policy *p);

/* The policy's name (owned by p). */
const char *kura_policy_name(const kura_policy *p);
int64_t kura_policy_margin_certificate(const kura_policy *p); /* ms */
int64_t kura_policy_margin_algorithm(const kura_policy *p);   /* ms */

/* When alg stops sufficing (ms after its last day; KURA_NEVER if no end), and
 * the source of that date (owned by p). KURA_ENOTFOUND if the policy does not
 * assess alg. */
int kura_policy_end(int64_t *end, const char **source, const kura_policy *p, const char *alg);

/* The hash algorithm a hash-tree renewal (or a seal under a hash that ends
 * soon) moves to: the strongest one that still suffices beyond now + the
 * algorithm margin. NULL if none does. */
const char *kura_policy_next_hash(const kura_policy *p, int64_t now);

/* 1 if name is one of kura's algorithm names. */
int kura_policy_known_algorithm(const char *name);

/* The TSA URLs the policy names (owned by p; 0 if it names none). */
size_t kura_policy_tsa_urls(const kura_policy *p, const char *const **urls);

/* The policy as JSON (name, title, margins, algorithms with until and source);
 * a new reference, the caller's (json_decref). */
json_t *kura_policy_json(const kura_policy *p);

/* The names of the shipped policies, NULL-terminated (static). */
const char *const *kura_policy_shipped(void);

/* ---- a store's policy ---- */

/* The store's policy with its sunsets; *out is the caller's (kura_policy_free). */
int kura_store_policy_load(kura_policy **out, kura_store *st, kura_error *err);

/* Replaces the store's policy (st open for writing) with a file or a shipped
 * policy; a policy naming TSA URLs makes them the store's TSAs. */
int kura_store_policy_set(kura_store *st, const char *file_or_name, kura_error *err);

/* Declares alg unsuitable from day (RFC 3339 date) on (st open for writing). */
int kura_store_policy_sunset(kura_store *st, const char *alg, const char *day, kura_error *err);

#endif
