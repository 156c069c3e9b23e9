/* Renewal policies: when each hash and signature algorithm stops sufficing
 * (with the source of each date), and how long before an end evidence is renewed.
 *
 * A policy is a YAML file (policies/ ships ETSI TS 119 312, BSI TR-02102-1,
 * NIST SP 800-131A and CRYPTREC profiles, built into kura by name):
 *   kura-policy: 1
 *   name: ...            title: ...
 *   margins: {certificate-days: 180, algorithm-days: 365}   # the defaults (why: policy.c)
 *   algorithms:
 *     sha256:   {until: null, source: "..."}       # null: no end known
 *     rsa-2048: {until: 2030-12-31, source: "..."} # the last day it suffices
 *   tsa-urls: [https://tsa.example/tsr, ...]       # optional: the TSAs to use
 * Algorithm names are kura's (KURA_POLICY_ALGORITHMS below). A store
 * keeps a copy of its policy (STORE/policy.yaml) plus sunsets declared later.
 * The public part is kura/policy.h; here what only kura's modules use. */
#ifndef KURA_POLICY_H
#define KURA_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"
#include "kura/policy.h"

/* kura_policy_end as a kura_er_verify_opts.algorithm_end (ud: the policy):
 * KURA_NEVER for an algorithm the policy does not assess. */
int64_t kura_policy_algorithm_end(void *ud, const char *alg);

/* Declares that alg no longer suffices from day on (a sunset): only ever earlier. */
int kura_policy_sunset(kura_policy *p, const char *alg, int64_t day, const char *source, kura_error *err);

/* kura's algorithm names, for messages. */
#define KURA_POLICY_ALGORITHMS                                                                                   \
	"sha1, sha224, sha256, sha384, sha512, sha512-224, sha512-256, sha3-224, sha3-256, sha3-384, sha3-512, "  \
	"ripemd160, rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384, ec-p521, ed25519, ed448"

#endif
