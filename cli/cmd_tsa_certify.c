/* kura tsa certify STORE URL --from DATE [--until DATE] [--cert TSA.pem] [--reason TEXT] [--actor NAME]
 *   marks the TSA at URL certified (総務大臣認定) for that period: its signing
 *   certificate (from --cert, or from a token it is asked for now) is what is
 *   certified, not the URL. The embedded TSA is refused (exit 2).
 * kura tsa uncertify STORE URL [--reason TEXT] [--actor NAME]
 *   removes the certifications of URL; tokens obtained before keep what was recorded.
 * kura tsa certified STORE [--json]
 *   lists the certifications: URL, period ("until" is the first instant no longer
 *   covered), certificate SHA-256, subject, who and when.
 * Every change is logged in the audit trail (kura/tsa.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/store.h"
#include "kura/tsa.h"

static const char usage[] =
	"kura tsa certify STORE URL --from DATE [--until DATE] [--cert TSA.pem] [--reason TEXT] [--actor NAME]\n"
	"       kura tsa uncertify STORE URL [--reason TEXT] [--actor NAME]\n"
	"       kura tsa certified STORE [--json]";
const char *const kura_usage_tsa_certify = usage; /* kura help, --help (cli/help.c) */

static void print_entry(json_t *c)
{
	const char *until = json_string_value(json_object_get(c, "until"));
	kura_escape_print(stdout, json_string_value(json_object_get(c, "url")) ?: "");
	printf("\tfrom %s until %s\tsha256:%s\t", json_string_value(json_object_get(c, "from")) ?: "?",
	       until ? until : "(open)", json_string_value(json_object_get(c, "certificate_sha256")) ?: "?");
	kura_escape_print(stdout, json_string_value(json_object_get(c, "subject")) ?: "");
	printf("\tby ");
	kura_escape_print(stdout, json_string_value(json_object_get(c, "by")) ?: "");
	printf(" at %s\n", json_string_value(json_object_get(c, "at")) ?: "?");
}

static int list(const char *store, int json)
{
	kura_error err = {0};
	kura_store *st = NULL;
	json_t *l = NULL, *c;
	size_t i;
	int rc = kura_store_open(&st, store, KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_tsa_certified_list(&l, st, &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	if (json)
		return kura_cli_print_json(l);
	json_array_foreach(l, i, c)
		print_entry(c);
	json_decref(l);
	return 0;
}

int kura_cmd_tsa_certify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"from", required_argument, NULL, 'f'},	 {"until", required_argument, NULL, 'u'},
		{"cert", required_argument, NULL, 'c'},	 {"reason", required_argument, NULL, 'r'},
		{"actor", required_argument, NULL, 'a'}, {"json", no_argument, NULL, 'j'},
		{0},
	};
	const char *sub = argv[0], *actor = NULL;
	kura_tsa_certification c = {0};
	int opt, json = 0, certify = strcmp(sub, "certify") == 0, listing = strcmp(sub, "certified") == 0;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		const char **to = opt == 'f' ? &c.from : opt == 'u' ? &c.until : opt == 'c' ? &c.cert
				: opt == 'r' ? &c.reason : opt == 'a' ? &actor : NULL;
		if (to && (certify || opt == 'r' || opt == 'a') && !listing)
			*to = optarg;
		else if (opt == 'j' && listing)
			json = 1;
		else
			return kura_cli_usage(usage, "unknown or misplaced option '%s'", argv[optind - 1]);
	}
	int n = argc - optind;
	if (listing)
		return n == 1 ? list(argv[optind], json) : kura_cli_usage(usage, "tsa certified takes one STORE");
	if (n != 2)
		return kura_cli_usage(usage, "tsa %s takes a STORE and a URL", sub);
	if (certify && !c.from)
		return kura_cli_usage(usage, "tsa certify needs --from DATE: when the TSA's certification began");
	kura_error err = {0};
	kura_store *st = NULL;
	json_t *entry = NULL;
	size_t removed = 0;
	c.url = argv[optind + 1];
	int rc = kura_cli_open(&st, argv[optind], 1, actor, &err);
	if (rc == 0 && certify)
		rc = kura_tsa_certify(&entry, st, &c, &err);
	else if (rc == 0)
		rc = kura_tsa_uncertify(&removed, st, c.url, c.reason, &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	if (certify)
		print_entry(entry);
	else
		printf("%zu certification(s) of %s removed\n", removed, c.url);
	json_decref(entry);
	return 0;
}
