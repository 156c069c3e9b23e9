/* kura get STORE ID [--member ROLE] [-o FILE]: the object's bytes (or those of a
 * member of its group: signature, validation-data), verified while they stream.
 * With -o the bytes go to a temporary file that becomes FILE only once the
 * SHA-256 matched: a damaged object never leaves a file that looks complete.
 * To stdout the bytes stream; damage then ends the run with exit status 1. */
#include <getopt.h>
#include <unistd.h>

#include "cli.h"
#include "kura/store.h"

static const char usage[] = "kura get STORE ID [--member signature|validation-data] [-o FILE]";
const char *const kura_usage_get = usage; /* kura help, --help (cli/help.c) */

int kura_cmd_get(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"member", required_argument, NULL, 'm'}, {0}};
	const char *out = NULL, *role = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'm')
			role = optarg;
		else
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 2)
		return kura_cli_usage(usage, "get takes a STORE and one ID");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_store_get(st, argv[optind + 1], role, out, STDOUT_FILENO, &err);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
