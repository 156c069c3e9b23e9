/* kura verify-er --data FILE --er FILE.ers [--trust CA.pem]... [--at TIME] [--json]
 *                [--signature SIG] [--validation-data VD] [--signers CA.pem]... [--policy FILE|NAME]
 * Verifies an Evidence Record without any store: the full RFC 4998 walk. For a
 * signed document (a data object group: document, detached signature if any,
 * validation data) every member's hash must be covered, and the signature is
 * decided at the time the record proves. With --policy, every token's and
 * chain's algorithms must still have sufficed when they were relied on.
 * Exit 0 only for a valid verdict; 1 for invalid or indeterminate; 2 for bad
 * arguments or unreadable files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/trust.h"
#include "kura/verify.h"

static const char usage[] =
	"kura verify-er --data FILE --er FILE.ers [--trust CA.pem]... [--at TIME] [--json]\n"
	"               [--signature SIG] [--validation-data VD] [--signers CA.pem]... [--policy FILE|NAME]";
const char *const kura_usage_verify_er = usage; /* kura help, --help (cli/help.c) */

static void print_text(json_t *r)
{
	printf("verdict: %s (integrity %s, trust %s)\n", json_string_value(json_object_get(r, "verdict")),
	       json_string_value(json_object_get(r, "integrity")), json_string_value(json_object_get(r, "trust")));
	if (json_object_get(r, "reason"))
		printf("reason:  %s\n", json_string_value(json_object_get(r, "reason")));
	size_t c, a;
	json_t *chain, *ats;
	json_array_foreach(json_object_get(r, "chains"), c, chain) {
		printf("chain %zu (%s)\n", c + 1, json_string_value(json_object_get(chain, "hash")) ?: "?");
		json_array_foreach(json_object_get(chain, "ats"), a, ats) {
			printf("  ATS %zu  %s  %s\n", a + 1, json_string_value(json_object_get(ats, "genTime")) ?: "?",
			       json_string_value(json_object_get(ats, "tsa")) ?: "?");
			printf("         covers %s; rule: %s\n", json_string_value(json_object_get(ats, "covers")) ?: "?",
			       json_string_value(json_object_get(ats, "rule")) ?: "none matched");
			printf("         %s, %s; trust %s%s%s\n",
			       json_string_value(json_object_get(ats, "signature_algorithm")) ?: "?",
			       json_string_value(json_object_get(ats, "key")) ?: "?",
			       json_string_value(json_object_get(ats, "trust")) ?: "not checked",
			       json_object_get(ats, "checked_at") ? " at " : "",
			       json_string_value(json_object_get(ats, "checked_at")) ?: "");
			if (json_object_get(ats, "reason"))
				printf("         FAILED: %s\n", json_string_value(json_object_get(ats, "reason")));
		}
	}
	if (json_object_get(r, "signature")) {
		json_t *d = json_object_get(r, "signature_details"), *note;
		size_t i;
		printf("signature: %s at %s%s%s\n", json_string_value(json_object_get(r, "signature")),
		       json_string_value(json_object_get(r, "signature_at")) ?: "?", json_object_get(d, "reason") ? ": " : "",
		       json_string_value(json_object_get(d, "reason")) ?: "");
		json_array_foreach(json_object_get(d, "notes"), i, note)
			printf("  note: %s\n", json_string_value(note));
	}
}

int kura_cmd_verify_er(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'}, {"er", required_argument, NULL, 'e'},
		{"trust", required_argument, NULL, 't'}, {"at", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},         {"signature", required_argument, NULL, 's'},
		{"validation-data", required_argument, NULL, 'v'}, {"signers", required_argument, NULL, 'S'},
		{"policy", required_argument, NULL, 'p'}, {0},
	};
	const char *data = NULL, *erpath = NULL, *at = NULL, *sig = NULL, *vdata = NULL;
	int as_json = 0, c, status = 0;
	kura_error err = {0};
	STACK_OF(X509) *anchors = sk_X509_new_null(), *signers = sk_X509_new_null();
	kura_policy *policy = NULL;
	optind = 0;
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'e': erpath = optarg; break;
		case 'a': at = optarg; break;
		case 'j': as_json = 1; break;
		case 's': sig = optarg; break;
		case 'p':
			kura_policy_free(policy);
			policy = NULL;
			if (kura_policy_load(&policy, NULL, optarg, &err) != 0)
				status = kura_cli_fail(&err);
			break;
		case 'v': vdata = optarg; break;
		case 't':
		case 'S':
			if (kura_load_certs(c == 't' ? anchors : signers, optarg, &err) != 0)
				status = kura_cli_fail(&err);
			break;
		default:
			status = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (status == 0 && (!data || !erpath || optind != argc))
		status = kura_cli_usage(usage, "verify-er needs --data and --er, and nothing else");
	if (status == 0 && sig && !vdata)
		status = kura_cli_usage(usage, "--signature goes with --validation-data (kura get STORE ID --member validation-data)");
	kura_er_files f = {.data = data, .er = erpath, .signature = sig, .validation_data = vdata,
			   .anchors = anchors, .signers = signers, .policy = policy, .at = at};
	json_t *report = NULL;
	if (status == 0 && kura_er_verify_files(&report, &f, &err) != 0)
		status = kura_cli_fail(&err);
	if (status == 0) {
		if (as_json) {
			char *text = json_dumps(report, JSON_INDENT(2));
			printf("%s\n", text);
			free(text);
		} else {
			print_text(report);
		}
		status = strcmp(json_string_value(json_object_get(report, "verdict")), "valid") == 0 ? 0 : 1;
	}
	json_decref(report);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(signers, X509_free);
	kura_policy_free(policy);
	return status;
}
