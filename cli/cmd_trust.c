/* kura trust add STORE (--signers | --tsa) CA.pem
 * Adds trust anchors: roots of foreign TSAs (checked on every time-stamp from a
 * remote TSA and when verifying), or of document signers. Kept as PEM in
 * STORE/trust/tsa.pem and STORE/trust/signers.pem. */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "kura/store.h"
#include "kura/trust.h"

static const char usage[] = "kura trust add STORE (--signers | --tsa) CA.pem";
const char *const kura_usage_trust = usage; /* kura help, --help (cli/help.c) */

int kura_cmd_trust(int argc, char **argv)
{
	static const struct option opts[] = {
		{"signers", no_argument, NULL, 's'},
		{"tsa", no_argument, NULL, 't'},
		{0},
	};
	int kind = -1;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's' || c == 't') {
			if (kind >= 0)
				return kura_cli_usage(usage, "give either --signers or --tsa");
			kind = c == 's' ? KURA_TRUST_SIGNERS : KURA_TRUST_TSA;
		} else {
			return kura_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 3 || strcmp(argv[optind], "add") != 0 || kind < 0)
		return kura_cli_usage(usage, "trust add takes a STORE, --signers or --tsa, and a certificate file");
	const char *store = argv[optind + 1], *file = argv[optind + 2];
	kura_error err = {0};
	kura_store *st = NULL;
	int added = 0;
	int rc = kura_store_open(&st, store, KURA_STORE_WRITE, &err); /* the writer lock serialises changes */
	if (rc == 0)
		rc = kura_trust_add(&added, st, kind, file, &err);
	if (rc == 0)
		kura_cli_warn("%d %s trust anchor(s) added to %s", added, kura_trust_kind_name(kind), store);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
