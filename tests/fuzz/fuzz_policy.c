/* Harness: renewal policies (policies/policy.c), YAML text parsed from a buffer as
 * `kura init --policy` and the store's policy.yaml are; a policy that parses is
 * asked what kura asks of one (its ends, margins, TSAs, JSON, a sunset). */
#include <stdlib.h>

#include "policies/policy.h"
#include "tests/fuzz/fuzz_common.h"

int fuzz_one(const uint8_t *data, size_t size)
{
	kura_policy *p = NULL;
	if (kura_policy_parse(&p, (const char *)data, size, "fuzz.yaml", NULL) != 0)
		return 0;
	int64_t end;
	const char *source;
	kura_policy_end(&end, &source, p, "sha256");
	kura_policy_algorithm_end(p, "rsa-2048");
	kura_policy_margin_certificate(p);
	kura_policy_margin_algorithm(p);
	kura_policy_name(p);
	const char *const *urls;
	kura_policy_tsa_urls(p, &urls);
	json_decref(kura_policy_json(p));
	kura_policy_sunset(p, "sha256", FUZZ_NOW_MS, "fuzz", NULL);
	kura_policy_free(p);
	return 0;
}
