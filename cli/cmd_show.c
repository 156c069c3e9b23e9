/* kura show STORE ID [--json]: one object's description. */
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "kura/store.h"

static const char usage[] = "kura show STORE ID [--json]";

static void print_text(json_t *o)
{
	static const char *order[] = {"id", "name", "path", "size", "stored", "ingested", "sha256", "segment", "offset"};
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		json_t *v = json_object_get(o, order[i]);
		if (json_is_string(v))
			printf("%-9s %s\n", order[i], json_string_value(v));
		else if (json_is_integer(v))
			printf("%-9s %lld\n", order[i], (long long)json_integer_value(v));
	}
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(o, "digests"), k, v)
		printf("digest    %s %s\n", k, json_string_value(v));
	json_object_foreach(json_object_get(o, "meta"), k, v)
		printf("meta      %s=%s\n", k, json_string_value(v));
	size_t i;
	json_array_foreach(json_object_get(o, "members"), i, v)
		printf("member    %s %s (%lld bytes, sha256 %s)\n", json_string_value(json_object_get(v, "role")),
		       json_string_value(json_object_get(v, "name")), (long long)json_integer_value(json_object_get(v, "size")),
		       json_string_value(json_object_get(v, "sha256")));
	json_t *sig = json_object_get(o, "signature");
	if (sig)
		printf("signature %s at ingest%s%s\n", json_string_value(json_object_get(sig, "signature")),
		       json_object_get(sig, "reason") ? ": " : "", json_string_value(json_object_get(sig, "reason")) ?: "");
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
