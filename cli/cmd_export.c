/* kura export STORE -o OUT.tar[.zst] [ID... | --where 'FIELD OP VALUE'...] [--all-versions]:
 * objects with their evidence as a BagIt package that others check without
 * kura (package/package.h); with --where exactly the current versions the
 * conditions hold for (kura/search.h: "download on request"); --all-versions:
 * with every version of their records (for a migration that keeps the
 * history; a whole-store export has every version anyway). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/package.h"
#include "kura/records.h"

static const char usage[] = "kura export STORE -o OUT.tar[.zst] [ID... | --where 'FIELD OP VALUE'...] [--all-versions]";
const char *const kura_usage_export = usage; /* kura help, --help (cli/help.c) */

/* The IDs of every version of the records of[0..*n) belong to (*ids: its own
 * block, which replaces the one given). */
static int all_versions(char ***ids, size_t *n, const char *store, const char *const *of, kura_error *err)
{
	kura_store *st = NULL;
	char *flat = NULL, **v = NULL;
	size_t count = 0;
	int rc = kura_store_open(&st, store, KURA_STORE_READ, err);
	if (rc == 0)
		rc = kura_records_versions_of(&flat, &count, st, of, *n, err);
	kura_store_close(st);
	if (rc == 0 && (rc = kura_cli_id_list(&v, flat, count, err)) == 0) {
		free(*ids);
		*ids = v;
		*n = count;
	}
	free(flat);
	return rc;
}

int kura_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'}, {"where", required_argument, NULL, 'w'},
					     {"all-versions", no_argument, NULL, 'a'}, {0}};
	const char *out = NULL;
	struct kura_cli_where where = {0};
	kura_error err = {0};
	int c, rc = 0, all = 0;
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'w')
			rc = kura_cli_where_add(&where, optarg, &err);
		else if (c == 'a')
			all = 1;
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
	if (rc == 0 && all && n > 0)
		rc = all_versions(&ids, &n, argv[optind], (const char *const *)(ids ? ids : argv + optind + 1), &err);
	kura_export_result res;
	if (rc == 0)
		rc = kura_export_store(&res, argv[optind], out, (const char *const *)(ids ? ids : argv + optind + 1), n, &err);
	free(ids);
	kura_cli_where_clear(&where);
	if (rc != 0)
		return rc < 0 ? kura_cli_fail(&err) : rc;
	kura_cli_warn("exported %zu object(s), %llu bytes of documents, to %s%s%s", res.objects, (unsigned long long)res.bytes,
		      out, res.unsealed ? " (unsealed objects left out)" : "",
		      res.disposed ? " (objects disposed of left out: their content is no longer kept)" : "");
	if (res.audit_records)
		kura_cli_warn("with their audit trail: %zu record(s) and %zu checkpoint(s) with evidence (data/audit/)",
			      res.audit_records, res.checkpoints);
	return 0;
}
