/* kura verify-export PACKAGE [--trust CA.pem]... [--json]: checks a package made
 * by kura export (a tar or the unpacked folder) with nothing but the package:
 * its manifests, then every evidence record against its document. Exit 0 only
 * when everything is valid; 1 when something failed; 2 for bad arguments and
 * unreadable or unsafe packages. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/escape.h"
#include "kura/package.h"
#include "kura/trust.h"

static const char usage[] = "kura verify-export PACKAGE [--trust CA.pem]... [--json]";
const char *const kura_usage_verify_export = usage; /* kura help, --help (cli/help.c) */

/* PREFIX NAME <TAB> WHAT [<TAB> REASON] */
static void print_line(const char *prefix, json_t *v, const char *key, const char *what, const char *reason)
{
	char *name = kura_json_get_name(v, key);
	fputs(prefix, stdout);
	kura_escape_print(stdout, name ? name : "");
	putchar('\t');
	kura_escape_print(stdout, what ? what : "");
	if (reason) {
		putchar('\t');
		kura_escape_print(stdout, reason);
	}
	putchar('\n');
	free(name);
}

static void print_text(json_t *r)
{
	size_t i;
	json_t *v;
	/* names come back as their bytes (kura_json_get_name) and are printed escaped:
	 * a tab or newline in a name cannot forge a line */
	json_array_foreach(json_object_get(json_object_get(r, "manifest"), "problems"), i, v)
		print_line("MANIFEST\t", v, "file", json_string_value(json_object_get(v, "problem")), NULL);
	json_array_foreach(json_object_get(r, "objects"), i, v)
		print_line("", v, "document", json_string_value(json_object_get(v, "verdict")),
			   json_string_value(json_object_get(v, "reason")));
}

int kura_cmd_verify_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{"trust", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'}, {0}};
	int json = 0, c, status = 0;
	kura_error err = {0};
	STACK_OF(X509) *anchors = NULL;
	optind = 0;
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 't') {
			if (!anchors && !(anchors = sk_X509_new_null()))
				status = kura_cli_fail(&(kura_error){KURA_EINTERNAL, "out of memory"});
			else if (kura_load_certs(anchors, optarg, &err) != 0)
				status = kura_cli_fail(&err);
		} else {
			status = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (status == 0 && argc - optind != 1)
		status = kura_cli_usage(usage, "verify-export takes one PACKAGE");
	int64_t now = 0;
	json_t *report = NULL;
	if (status == 0 && (kura_clock_now(&now, &err) != 0 || kura_export_verify(&report, argv[optind], anchors, now, &err) != 0))
		status = kura_cli_fail(&err);
	if (status == 0) {
		if (json) {
			char *text = json_dumps(report, JSON_INDENT(2));
			printf("%s\n", text);
			free(text);
		} else {
			print_text(report);
		}
		fflush(stdout);
		size_t n = json_array_size(json_object_get(report, "objects")), valid = 0, i;
		json_t *v;
		json_array_foreach(json_object_get(report, "objects"), i, v)
			valid += strcmp(json_string_value(json_object_get(v, "verdict")), "valid") == 0;
		const char *verdict = json_string_value(json_object_get(report, "verdict"));
		fprintf(stderr, "kura: %s: manifest %s; %zu of %zu evidence record(s) valid (TSA roots: %s)\n", verdict,
			json_string_value(json_object_get(json_object_get(report, "manifest"), "verdict")), valid, n,
			json_string_value(json_object_get(report, "anchors")));
		json_t *a = json_object_get(report, "audit");
		const char *why = json_string_value(json_object_get(a, "reason"));
		if (a)
			fprintf(stderr, "kura: audit trail %s: %lld record(s), %lld proven by %zu checkpoint(s)%s%s%s\n",
				json_string_value(json_object_get(a, "verdict")), (long long)json_integer_value(json_object_get(a, "records")),
				(long long)json_integer_value(json_object_get(a, "proven")),
				json_array_size(json_object_get(a, "checkpoints")),
				json_integer_value(json_object_get(a, "proven")) < json_integer_value(json_object_get(a, "records"))
					? why ? " (" : " (the others were not sealed yet when exported)" : "",
				why ? why : "", why ? ")" : "");
		status = strcmp(verdict, "valid") == 0 ? 0 : 1;
	}
	json_decref(report);
	sk_X509_pop_free(anchors, X509_free);
	return status;
}
