/* kura verify-er --data FILE --er FILE.ers [--trust CA.pem]... [--at TIME] [--json]
 * Verifies an Evidence Record without any store: the full RFC 4998 walk.
 * Exit 0 only for a valid verdict; 1 for invalid or indeterminate; 2 for bad
 * arguments or unreadable files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "cli/cli.h"
#include "common/fsutil.h"
#include "evidence/tsa.h"
#include "evidence/verify.h"
#include "kura/clock.h"

static const char usage[] =
	"kura verify-er --data FILE --er FILE.ers [--trust CA.pem]... [--at TIME] [--json]";

#define MAX_ER_SIZE (256u << 20)

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
}

int kura_cmd_verify_er(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data", required_argument, NULL, 'd'}, {"er", required_argument, NULL, 'e'},
		{"trust", required_argument, NULL, 't'}, {"at", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},         {0},
	};
	const char *data = NULL, *erpath = NULL, *at = NULL;
	int as_json = 0, c, status = 0;
	kura_error err = {0};
	STACK_OF(X509) *anchors = sk_X509_new_null();
	optind = 0;
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'e': erpath = optarg; break;
		case 'a': at = optarg; break;
		case 'j': as_json = 1; break;
		case 't':
			if (kura_load_certs(anchors, optarg, &err) != 0)
				status = kura_cli_fail(&err);
			break;
		default:
			status = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (status == 0 && (!data || !erpath || optind != argc))
		status = kura_cli_usage(usage, "verify-er needs --data and --er, and nothing else");
	kura_er_verify_opts o = {.anchors = anchors, .digest = kura_er_digest_file};
	kura_er_file df = {.path = data};
	o.digest_ud = &df;
	if (status == 0 && (at ? kura_time_parse(&o.at_ms, at, &err) : kura_clock_now(&o.at_ms, &err)) != 0)
		status = kura_cli_fail(&err);
	char *der = NULL;
	size_t len = 0;
	if (status == 0 && kura_fs_read_file(erpath, MAX_ER_SIZE, &der, &len) != 0) {
		kura_error_sys(&err, KURA_EINPUT, "cannot read %s", erpath);
		status = kura_cli_fail(&err);
	}
	if (status == 0 && access(data, R_OK) != 0) {
		kura_error_sys(&err, KURA_EINPUT, "cannot read %s", data);
		status = kura_cli_fail(&err);
	}
	json_t *report = NULL;
	if (status == 0 && kura_er_verify(&report, (unsigned char *)der, len, &o, &err) != 0)
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
	free(der);
	sk_X509_pop_free(anchors, X509_free);
	return status;
}
