/* Renewal policies: when each hash and signature algorithm stops sufficing
 * (with the source of each date), and how long before an end evidence is renewed.
 *
 * A policy is a YAML file (policies/ ships ETSI TS 119 312, BSI TR-02102-1,
 * NIST SP 800-131A and CRYPTREC profiles, built into kura by name):
 *   kura-policy: 1
 *   name: ...            title: ...
 *   margins: {certificate-days: 90, algorithm-days: 365}
 *   algorithms:
 *     sha256:   {until: null, source: "..."}       # null: no end known
 *     rsa-2048: {until: 2030-12-31, source: "..."} # the last day it suffices
 *   tsa-urls: [https://tsa.example/tsr, ...]       # optional: the TSAs to use
 * Algorithm names are kura's (KURA_POLICY_ALGORITHMS below). A store
 * keeps a copy of its policy (STORE/policy.yaml) plus sunsets declared later. */
#ifndef KURA_POLICY_H
#define KURA_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"

#define KURA_NEVER INT64_MAX

typedef struct kura_policy kura_policy;

/* Parses YAML text of len bytes from memory (any bytes: never hangs, never
 * reads past len); origin names it in messages ("policy.yaml line 7: ...").
 * A syntax error, a key given twice, an unknown algorithm or a value of the
 * wrong type (an "until" that is no date and no null) is KURA_EINPUT. */
int kura_policy_parse(kura_policy **out, const char *text, size_t len, const char *origin, kura_error *err);
/* A file path, or the name of a shipped policy. *text (malloc'd, may be NULL)
 * receives the YAML that was parsed, for keeping a copy. */
int kura_policy_load(kura_policy **out, char **text, const char *file_or_name, kura_error *err);
void kura_policy_free(kura_policy *p);

const char *kura_policy_name(const kura_policy *p);
int64_t kura_policy_margin_certificate(const kura_policy *p); /* ms */
int64_t kura_policy_margin_algorithm(const kura_policy *p);   /* ms */

/* When alg stops sufficing (ms after its last day; KURA_NEVER if no end), and
 * the source of that date. KURA_ENOTFOUND if the policy does not assess alg. */
int kura_policy_end(int64_t *end, const char **source, const kura_policy *p, const char *alg);
/* kura_policy_end as a kura_er_verify_opts.algorithm_end (ud: the policy):
 * KURA_NEVER for an algorithm the policy does not assess. */
int64_t kura_policy_algorithm_end(void *ud, const char *alg);

/* Declares that alg no longer suffices from day on (a sunset): only ever earlier. */
int kura_policy_sunset(kura_policy *p, const char *alg, int64_t day, const char *source, kura_error *err);

/* kura's algorithm names, for messages. */
#define KURA_POLICY_ALGORITHMS                                                                                   \
	"sha1, sha224, sha256, sha384, sha512, sha512-224, sha512-256, sha3-224, sha3-256, sha3-384, sha3-512, "  \
	"ripemd160, rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384, ec-p521, ed25519, ed448"

/* 1 if name is one of kura's algorithm names. */
int kura_policy_known_algorithm(const char *name);

/* The TSA URLs the policy names (owned by p; 0 if it names none). */
size_t kura_policy_tsa_urls(const kura_policy *p, const char *const **urls);

/* The policy as JSON (name, title, margins, algorithms with until and source). */
json_t *kura_policy_json(const kura_policy *p);

/* The names of the shipped policies, NULL-terminated. */
const char *const *kura_policy_shipped(void);

#endif
