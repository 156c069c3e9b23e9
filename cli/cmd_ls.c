/* kura ls STORE [--all-versions] [--disposed] [--system] [--json]: each record's
 * current version (every version with --all-versions; what was disposed of with
 * --disposed; with the audit trail's checkpoints with --system), in ingest order
 * (records/list.c).
 * Text: ID <TAB> SIZE <TAB> INGESTED <TAB> NAME (escaped: common/escape.h).
 * JSON: one array, streamed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/records.h"

static const char usage[] = "kura ls STORE [--all-versions] [--disposed] [--system] [--json]";

struct lister {
	int json;
	size_t n;
};

static int print_object(void *ud, json_t *o, kura_error *err)
{
	(void)err;
	struct lister *l = ud;
	if (l->json) {
		char *text = json_dumps(o, JSON_COMPACT);
		printf("%s%s", l->n ? ",\n" : "\n", text ? text : "null");
		free(text);
	} else {
		char *name = kura_json_get_name(o, "name");
		printf("%s\t%lld\t%s\t", json_string_value(json_object_get(o, "id")),
		       (long long)json_integer_value(json_object_get(o, "size")), json_string_value(json_object_get(o, "ingested")));
		kura_escape_print(stdout, name ? name : "");
		putchar('\n');
		free(name);
	}
	l->n++;
	return 0;
}

int kura_cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"all-versions", no_argument, NULL, 'a'},
		{"system", no_argument, NULL, 's'},
		{"disposed", no_argument, NULL, 'd'},
		{0},
	};
	struct lister l = {0};
	int c, flags = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			l.json = 1;
		else if (c == 'a')
			flags |= KURA_LIST_ALL_VERSIONS;
		else if (c == 's')
			flags |= KURA_LIST_SYSTEM;
		else if (c == 'd')
			flags |= KURA_LIST_DISPOSED;
		else
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return kura_cli_usage(usage, "ls takes one STORE");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0) {
		if (l.json)
			printf("[");
		rc = kura_records_each(st, flags, print_object, &l, &err);
		if (l.json)
			printf("%s]\n", l.n ? "\n" : "");
	}
	kura_store_close(st);
	if (fflush(stdout) != 0 && rc == 0)
		rc = kura_error_sys(&err, KURA_EIO, "writing the listing");
	return rc ? kura_cli_fail(&err) : 0;
}
