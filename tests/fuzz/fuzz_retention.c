/* Harness: retention files (policies/retention.c), YAML text parsed from a buffer as
 * `kura retention set` and a store's retention.yaml are; a file that parses is merged
 * with the shipped classes and asked what kura asks of it (each class's rule in
 * words, its JSON, and each class's end for a record with every event on one day). */
#include <stdlib.h>

#include "policies/retention.h"
#include "tests/fuzz/fuzz_common.h"

int fuzz_one(const uint8_t *data, size_t size)
{
	kura_retention own, all;
	if (kura_retention_parse(&own, (const char *)data, size, "fuzz.yaml", NULL) != 0)
		return 0;
	char rule[512];
	kura_retention_event ev[] = {{"fiscal-year-end", 20000}, {"handover", 20100}, {"trial-end", 20200},
				     {"approval", 20300},        {"discontinued", 20400}, {"ingest", 19999}};
	for (size_t i = 0; i < own.n; i++) {
		kura_retention_end e;
		kura_retention_rule_text(rule, sizeof rule, &own.c[i]);
		kura_retention_compute(&e, &own.c[i], ev, sizeof ev / sizeof ev[0]);
		kura_retention_compute(&e, &own.c[i], ev, i % 6);
		kura_retention_over(&e, 30000);
	}
	json_decref(kura_retention_json(&own));
	if (kura_retention_shipped(&all, NULL) == 0) {
		kura_retention_merge(&all, &own, NULL);
		kura_retention_free(&all);
	}
	kura_retention_free(&own);
	return 0;
}
