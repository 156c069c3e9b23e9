/* kura reindex STORE: rebuild the RocksDB index from the segments alone. */
#include <stdio.h>

#include "cli.h"
#include "kura/store.h"

static const char usage[] = "kura reindex STORE";
const char *const kura_usage_reindex = usage; /* kura help, --help (cli/help.c) */

int kura_cmd_reindex(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return kura_cli_usage(usage, "reindex takes one STORE");
	kura_error err = {0};
	uint64_t objects = 0, damaged = 0;
	if (kura_store_reindex(argv[1], &objects, &damaged, &err) != 0)
		return kura_cli_fail(&err);
	printf("reindexed %llu objects\n", (unsigned long long)objects);
	if (damaged) {
		fprintf(stderr, "kura: %llu damaged or missing part(s) of segments, listed above with what they held, were "
			"not indexed; restore those segments from a copy and run kura reindex again (kura scrub lists the "
			"objects affected)\n", (unsigned long long)damaged);
		return 1;
	}
	return 0;
}
