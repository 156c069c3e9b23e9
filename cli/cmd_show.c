/* kura show STORE ID [--json]: one object's description; of an object disposed
 * of, what its disposal was (its content is gone: no segment or offset). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/store.h"
#include "kura/tsa.h"

static const char usage[] = "kura show STORE ID [--json]";
const char *const kura_usage_show = usage; /* kura help, --help (cli/help.c) */

/* "label value": every name and value escaped (common/escape.h), one line each */
static void print_line(const char *label, const char *v1, const char *sep, const char *v2)
{
	printf("%-9s ", label);
	kura_escape_print(stdout, v1 ? v1 : "");
	if (sep) {
		fputs(sep, stdout);
		kura_escape_print(stdout, v2 ? v2 : "");
	}
	putchar('\n');
}

/* An imported object (package/import_origin.c): where from, and what of its
 * description is the package's claim rather than this store's knowledge. */
static void print_imported(json_t *o)
{
	json_t *imp = json_object_get(o, "imported");
	static const char *const dropped[] = {"id", "ingested", "supersedes"};
	if (!imp)
		return;
	const char *proven = json_string_value(json_object_get(imp, "proven"));
	printf("imported  %s from ", json_string_value(json_object_get(imp, "at")) ?: "?");
	kura_escape_print(stdout, json_string_value(json_object_get(imp, "package")) ?: "?");
	fputs(" by ", stdout);
	kura_escape_print(stdout, json_string_value(json_object_get(imp, "by")) ?: "?");
	printf("; ingested, actor and versions as the package claims them%s%s\n",
	       proven ? "; the first time-stamp proves the document existed at " : "", proven ? proven : "");
	for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++) {
		const char *v = json_string_value(json_object_get(imp, dropped[i]));
		if (!v || (i == 0 && strcmp(v, json_string_value(json_object_get(o, "id")) ?: "") == 0))
			continue;
		printf("imported  claimed %s not kept: ", dropped[i]);
		kura_escape_print(stdout, v);
		putchar('\n');
	}
}

static void print_text(json_t *o)
{
	static const char *order[] = {"id", "name", "path", "size", "stored", "ingested", "sha256", "segment", "offset"};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		json_t *v = json_object_get(o, order[i]);
		char *text = json_is_string(v) ? kura_json_get_name(o, order[i]) : NULL;
		if (text)
			print_line(order[i], text, NULL, NULL);
		else if (json_is_integer(v))
			printf("%-9s %lld\n", order[i], (long long)json_integer_value(v));
		free(text);
	}
	const char *disposed = json_string_value(json_object_get(json_object_get(o, "disposed"), "message"));
	if (disposed)
		print_line("disposed", disposed, NULL, NULL);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(o, "digests"), k, v)
		printf("digest    %s %s\n", k, json_string_value(v));
	json_object_foreach(json_object_get(o, "meta"), k, v)
		print_line("meta", k, "=", json_string_value(v));
	size_t i;
	json_array_foreach(json_object_get(o, "members"), i, v) {
		char *name = kura_json_get_name(v, "name");
		printf("member    %s ", json_string_value(json_object_get(v, "role")));
		kura_escape_print(stdout, name ? name : "");
		printf(" (%lld bytes, sha256 %s)\n", (long long)json_integer_value(json_object_get(v, "size")),
		       json_string_value(json_object_get(v, "sha256")));
		free(name);
	}
	json_array_foreach(json_object_get(o, "time_stamps"), i, v) {
		json_t *c = json_object_get(v, "tsa_certified");
		printf("timestamp %s %s %s, TSA %s", json_string_value(json_object_get(v, "record")),
		       json_string_value(json_object_get(v, "kind")), json_string_value(json_object_get(v, "gentime")) ?: "?",
		       json_is_true(c) ? "certified" : json_is_false(c) ? "not certified" : "certification unknown");
		if (json_object_get(v, "tsa")) {
			fputs(": ", stdout);
			kura_escape_print(stdout, json_string_value(json_object_get(v, "tsa")));
		}
		putchar('\n');
	}
	print_imported(o);
	json_t *sig = json_object_get(o, "signature");
	if (sig) {
		printf("signature %s at ingest%s", json_string_value(json_object_get(sig, "signature")),
		       json_object_get(sig, "reason") ? ": " : "");
		kura_escape_print(stdout, json_string_value(json_object_get(sig, "reason")) ?: "");
		putchar('\n');
	}
}

int kura_cmd_show(int argc, char **argv)
{
	int as_json, bad = kura_cli_json_option(argc, argv, usage, &as_json);
	if (bad)
		return bad;
	if (argc - optind != 2)
		return kura_cli_usage(usage, "show takes a STORE and one ID");
	kura_error err = {0};
	kura_store *st = NULL;
	json_t *o = NULL;
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_store_object(&o, st, argv[optind + 1], &err);
	if (rc == 0)
		rc = kura_tsa_certified_report(o, st, argv[optind + 1], &err);
	if (rc == 0)
		rc = kura_store_disposal_report(o, st, argv[optind + 1], &err);
	if (rc == 0) {
		if (as_json) {
			char *text = json_dumps(o, JSON_INDENT(2));
			printf("%s\n", text ? text : "null");
			free(text);
		} else {
			print_text(o);
		}
	}
	json_decref(o);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
