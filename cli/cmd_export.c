/* kura export STORE -o OUT.tar[.zst] [ID...]: objects with their evidence as a
 * BagIt package that others check without kura (package/package.h). */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "kura/package.h"

static const char usage[] = "kura export STORE -o OUT.tar[.zst] [ID...]";

int kura_cmd_export(int argc, char **argv)
{
	const char *out;
	int bad = kura_cli_output_option(argc, argv, usage, &out);
	if (bad)
		return bad;
	if (argc - optind < 1 || !out)
		return kura_cli_usage(usage, "export takes a STORE, -o OUT.tar or OUT.tar.zst, and optionally IDs");
	kura_error err = {0};
	kura_export_result res;
	int rc = kura_export_store(&res, argv[optind], out, (const char *const *)argv + optind + 1,
				   (size_t)(argc - optind - 1), &err);
	if (rc != 0)
		return kura_cli_fail(&err);
	kura_cli_warn("exported %zu object(s), %llu bytes of documents, to %s%s", res.objects, (unsigned long long)res.bytes,
		      out, res.unsealed ? " (unsealed objects left out)" : "");
	if (res.audit_records)
		kura_cli_warn("with their audit trail: %zu record(s) and %zu checkpoint(s) with evidence (data/audit/)",
			      res.audit_records, res.checkpoints);
	return 0;
}
