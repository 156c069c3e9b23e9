/* kura export STORE -o OUT.tar[.zst] [ID... | --where 'FIELD OP VALUE'...]:
 * objects with their evidence as a BagIt package that others check without
 * kura (package/package.h); with --where exactly the current versions the
 * conditions hold for (kura/search.h: "download on request"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/package.h"

static const char usage[] = "kura export STORE -o OUT.tar[.zst] [ID... | --where 'FIELD OP VALUE'...]";
const char *const kura_usage_export = usage; /* kura help, --help (cli/help.c) */

int kura_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'}, {"where", required_argument, NULL, 'w'}, {0}};
	const char *out = NULL;
	struct kura_cli_where where = {0};
	kura_error err = {0};
	int c, rc = 0;
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'w')
			rc = kura_cli_where_add(&where, optarg, &err);
		else
			rc = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (rc == 0 && (argc - optind < 1 || !out))
		rc = kura_cli_usage(usage, "export takes a STORE, -o OUT.tar or OUT.tar.zst, and optionally IDs or --where");
	if (rc == 0 && where.n && argc - optind > 1)
		rc = kura_cli_usage(usage, "give IDs or --where, not both");
	char **ids = NULL;
	size_t n = (size_t)(argc - optind - 1);
	if (rc == 0 && where.n)
		rc = kura_cli_where_ids(&ids, &n, argv[optind], &where, &err);
	kura_export_result res;
	if (rc == 0)
		rc = kura_export_store(&res, argv[optind], out, (const char *const *)(ids ? ids : argv + optind + 1), n, &err);
	free(ids);
	kura_cli_where_clear(&where);
	if (rc != 0)
		return rc < 0 ? kura_cli_fail(&err) : rc;
	kura_cli_warn("exported %zu object(s), %llu bytes of documents, to %s%s", res.objects, (unsigned long long)res.bytes,
		      out, res.unsealed ? " (unsealed objects left out)" : "");
	if (res.audit_records)
		kura_cli_warn("with their audit trail: %zu record(s) and %zu checkpoint(s) with evidence (data/audit/)",
			      res.audit_records, res.checkpoints);
	return 0;
}
