/* kura import STORE PACKAGE [--accept-invalid] [--max-size BYTES]: adopts the
 * documents and evidence records of a kura export or of (FILE, FILE.ers) pairs
 * (package/package.h). Prints one line per object: OK <TAB> ID <TAB> file (the
 * original ID where free: package/import_origin.c), or REFUSED <TAB> file <TAB>
 * why; what an object did not keep of its package's claims, and objects in the
 * store already, on stderr. Exit 0 when every object was imported, 1 when
 * any was refused, 2 for bad arguments or an unreadable or unsafe package. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/package.h"

static const char usage[] = "kura import STORE PACKAGE [--accept-invalid] [--max-size BYTES]";
const char *const kura_usage_import = usage; /* kura help, --help (cli/help.c) */

static void report(void *ud, const char *document, const char *new_id, const char *verdict, const char *why)
{
	(void)ud;
	if (new_id) {
		printf("OK\t%s\t", new_id);
		kura_escape_print(stdout, document);
		printf("%s%s\n", why ? "\tADOPTED " : "", why ? verdict : "");
	} else {
		fputs("REFUSED\t", stdout);
		kura_escape_print(stdout, document);
		putchar('\t');
		kura_escape_print(stdout, why);
		putchar('\n');
	}
	fflush(stdout);
}

static void note(void *ud, const char *document, const char *what)
{
	(void)ud;
	kura_cli_warn("%s: %s", document, what);
}

int kura_cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{"accept-invalid", no_argument, NULL, 'a'}, {"max-size", required_argument, NULL, 'm'}, {0}};
	kura_import_options o = {.report = report, .note = note};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long long v;
		if (c == 'a') {
			o.accept_invalid = 1;
		} else if (c == 'm') {
			if (kura_cli_number(&v, optarg, 1, 1ull << 50) != 0)
				return kura_cli_usage(usage, "--max-size takes a number of bytes (1 to 2^50), not '%s'", optarg);
			o.max_entry = v;
		} else {
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return kura_cli_usage(usage, "import takes a STORE and one PACKAGE (a tar or a folder)");
	kura_error err = {0};
	kura_store *st = NULL;
	kura_import_result res = {0};
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_import(&res, st, argv[optind + 1], &o, &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	if (res.imported + res.refused + res.present == 0) {
		kura_cli_warn("%s holds no (FILE, FILE.ers) pair: nothing to import", argv[optind + 1]);
		return 1;
	}
	fprintf(stderr, "kura: imported %zu object(s), refused %zu%s", res.imported, res.refused,
		res.refused ? " (see the REFUSED lines; nothing of those was written)" : "");
	if (res.present)
		fprintf(stderr, ", %zu in the store already", res.present);
	fputc('\n', stderr);
	return res.refused ? 1 : 0;
}
