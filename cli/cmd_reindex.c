/* kura reindex STORE [--whole]: rebuild the RocksDB index from the segments alone;
 * a reader (kura attach) reads only what its writer added since its last refresh,
 * when it can (kura_store_refresh). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kura/store.h"

static const char usage[] = "kura reindex STORE [--whole]\n"
			    "  a reader (kura attach) reads what the writer added since its last refresh;\n"
			    "  --whole reads every segment, as for a writer's store";
const char *const kura_usage_reindex = usage; /* kura help, --help (cli/help.c) */

int kura_cmd_reindex(int argc, char **argv)
{
	int whole = argc == 3 && strcmp(argv[2], "--whole") == 0;
	if (argc != 2 + whole || argv[1][0] == '-')
		return kura_cli_usage(usage, "reindex takes one STORE, and --whole");
	kura_error err = {0};
	kura_refresh_result res;
	if (kura_store_refresh(argv[1], whole, &res, &err) != 0)
		return kura_cli_fail(&err);
	if (!res.whole) {
		printf("refreshed: %llu new objects\n", (unsigned long long)res.objects);
		if (res.left)
			printf("%llu bytes at the end, a record the writer is still writing, are left for the next refresh\n",
			       (unsigned long long)res.left);
		return 0;
	}
	printf("reindexed %llu objects%s%s%s\n", (unsigned long long)res.objects, res.why[0] ? " (read whole: " : "",
	       res.why, res.why[0] ? ")" : "");
	if (res.damaged) {
		fprintf(stderr, "kura: %llu damaged or missing part(s) of segments, listed above with what they held, were "
			"not indexed, and the loss is accepted: the audit trail records it (kura log: reindex-loss) and "
			"disposal waits for kura dispose STORE --resume; kura scrub lists the objects affected\n",
			(unsigned long long)res.damaged);
		return 1;
	}
	return 0;
}
