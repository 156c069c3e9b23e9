/* kura evidence STORE ID -o FILE.ers: the object's DER Evidence Record. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "kura/evidence.h"

static const char usage[] = "kura evidence STORE ID -o FILE.ers";
const char *const kura_usage_evidence = usage; /* kura help, --help (cli/help.c) */

int kura_cmd_evidence(int argc, char **argv)
{
	const char *out;
	int bad = kura_cli_output_option(argc, argv, usage, &out);
	if (bad)
		return bad;
	if (argc - optind != 2 || !out)
		return kura_cli_usage(usage, "evidence takes a STORE, one ID and -o FILE");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_object_evidence_save(st, argv[optind + 1], out, &err);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
