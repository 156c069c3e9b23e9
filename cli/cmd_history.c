/* kura history STORE ID [--json]
 *
 * The record ID belongs to: every version (who made it, when, why) and every
 * audit record about it (metadata changes, events, holds, disposal), in the
 * order they happened (records/history.c). Text: one line each,
 *   TIME <TAB> ACTOR <TAB> WHAT <TAB> ID <TAB> REASON   (escaped)
 * the versions first (WHAT "created (imported: as the package claims)" for an
 * imported one: its time and actor are the package's claim; `kura show` gives
 * the first time-stamp, the proof), then the records an import brought about
 * it (WHAT "ACTION (imported)", as the store it came from wrote them), then
 * this store's records about it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/records.h"

static const char usage[] = "kura history STORE ID [--json]";
const char *const kura_usage_history = usage; /* kura help, --help (cli/help.c) */

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void line(const char *time, const char *actor, const char *what, const char *id, const char *reason)
{
	const char *fields[] = {time, actor, what, id, reason};
	for (size_t i = 0; i < 5; i++) {
		kura_escape_print(stdout, fields[i]);
		putchar(i < 4 ? '\t' : '\n');
	}
}

static void print_text(json_t *h)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(h, "versions"), i, v) {
		char what[64];
		snprintf(what, sizeof what, "%s%s", i == 0 ? "created" : "version",
			 json_object_get(v, "imported") ? " (imported: as the package claims)" : "");
		line(str(v, "ingested"), str(v, "actor"), what, str(v, "id"), str(v, "reason"));
	}
	json_array_foreach(json_object_get(h, "imported_trail"), i, v) {
		char what[160];
		if (strcmp(str(v, "action"), "ingest") == 0 || strcmp(str(v, "action"), "meta") == 0)
			continue; /* the versions above say it */
		snprintf(what, sizeof what, "%s (imported)", str(v, "action"));
		line(str(v, "time"), str(v, "actor"), what, str(v, "id"), str(v, "reason"));
	}
	json_array_foreach(json_object_get(h, "trail"), i, v)
		if (json_object_get(v, "action") && strcmp(str(v, "action"), "ingest") != 0 && strcmp(str(v, "action"), "meta") != 0)
			line(str(v, "time"), str(v, "actor"), str(v, "action"), str(v, "id"), str(v, "reason"));
}

int kura_cmd_history(int argc, char **argv)
{
	int json;
	int bad = kura_cli_json_option(argc, argv, usage, &json);
	if (bad)
		return bad;
	if (argc - optind != 2)
		return kura_cli_usage(usage, "history takes a STORE and an ID");
	kura_error err = {0};
	kura_store *st = NULL;
	json_t *h = NULL;
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_records_history(&h, st, argv[optind + 1], &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	if (json) {
		char *text = json_dumps(h, JSON_INDENT(2));
		printf("%s\n", text ? text : "null");
		free(text);
	} else
		print_text(h);
	json_decref(h);
	return 0;
}
