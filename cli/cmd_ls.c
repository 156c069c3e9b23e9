/* kura ls STORE [--where 'FIELD OP VALUE']... [--sort FIELD] [--all-versions]
 *              [--disposed] [--system] [--json | --csv]
 * Each record's current version (every version with --all-versions; what was
 * disposed of with --disposed; with the audit trail's checkpoints with
 * --system), in ingest order (records/list.c); with --where only those the
 * conditions (ANDed) hold for, by the store's typed fields (kura/search.h),
 * and with --sort in the order of a field's values.
 * Text: ID <TAB> SIZE <TAB> INGESTED <TAB> NAME (escaped: common/escape.h).
 * JSON: one array, streamed. CSV: a header row, then per object its ID, name,
 * size, ingested, SHA-256 and every field of the store (values as given). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/records.h"
#include "kura/search.h"

static const char usage[] = "kura ls STORE [--where 'FIELD OP VALUE']... [--sort FIELD] [--all-versions] [--disposed]\n"
			    "              [--system] [--json | --csv]\n"
			    "  OP: = != < <= > >= ^= (starts with), or 'FIELD is empty'; conditions are ANDed";
const char *const kura_usage_ls = usage; /* kura help, --help (cli/help.c) */

struct lister {
	int json, csv;
	size_t n;
	kura_fields fields; /* the columns of --csv */
};

static void csv_row(struct lister *l, json_t *o)
{
	static const char *const head[] = {"id", "name", "size", "ingested", "sha256"};
	json_t *meta = json_object_get(o, "meta");
	if (l->n == 0)
		for (size_t i = 0; i < 5 + l->fields.n; i++)
			kura_csv_cell(stdout, i < 5 ? head[i] : l->fields.v[i - 5].name, i + 1 == 5 + l->fields.n);
	if (!o)
		return;
	char size[32], *name = kura_json_get_name(o, "name");
	snprintf(size, sizeof size, "%lld", (long long)json_integer_value(json_object_get(o, "size")));
	const char *cells[] = {json_string_value(json_object_get(o, "id")), name ? name : "", size,
			       json_string_value(json_object_get(o, "ingested")), json_string_value(json_object_get(o, "sha256"))};
	for (size_t i = 0; i < 5 + l->fields.n; i++) {
		const char *v = i < 5 ? cells[i] : json_string_value(json_object_get(meta, l->fields.v[i - 5].name));
		kura_csv_cell(stdout, v ? v : "", i + 1 == 5 + l->fields.n);
	}
	free(name);
}

static int print_object(void *ud, json_t *o, kura_error *err)
{
	(void)err;
	struct lister *l = ud;
	if (l->csv)
		csv_row(l, o);
	else if (l->json) {
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

static int list(kura_store *st, struct lister *l, const kura_query *q, int filtered, kura_error *err)
{
	int rc = l->csv ? kura_fields_load(&l->fields, st, err) : 0;
	if (rc != 0)
		return rc;
	if (l->json)
		printf("[");
	rc = filtered ? kura_search_each(st, q, print_object, l, err) : kura_records_each(st, q->flags, print_object, l, err);
	if (l->json)
		printf("%s]\n", l->n ? "\n" : "");
	if (l->csv && l->n == 0) /* the header alone */
		csv_row(l, NULL);
	kura_fields_clear(&l->fields);
	return rc;
}

int kura_cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"csv", no_argument, NULL, 'c'},
		{"where", required_argument, NULL, 'w'},
		{"sort", required_argument, NULL, 'o'},
		{"all-versions", no_argument, NULL, 'a'},
		{"system", no_argument, NULL, 's'},
		{"disposed", no_argument, NULL, 'd'},
		{0},
	};
	struct lister l = {0};
	kura_where *where = calloc((size_t)argc, sizeof *where);
	kura_query q = {.where = where};
	kura_error err = {0};
	int c, status = where ? 0 : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	optind = 0;
	opterr = 0;
	while (status == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j' || c == 'c')
			*(c == 'j' ? &l.json : &l.csv) = 1;
		else if (c == 'a' || c == 's' || c == 'd')
			q.flags |= c == 'a' ? KURA_LIST_ALL_VERSIONS : c == 's' ? KURA_LIST_SYSTEM : KURA_LIST_DISPOSED;
		else if (c == 'w')
			status = kura_where_parse(&where[q.n++], optarg, &err);
		else if (c == 'o')
			q.sort = optarg;
		else
			status = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (status == 0 && argc - optind != 1)
		status = kura_cli_usage(usage, "ls takes one STORE");
	if (status == 0 && l.json && l.csv)
		status = kura_cli_usage(usage, "give one of --json and --csv");
	if (status == 0 && (q.n || q.sort) && (q.flags & KURA_LIST_SYSTEM))
		status = kura_cli_usage(usage, "--system lists kura's own objects, which have no fields: not with --where or --sort");
	kura_store *st = NULL;
	if (status == 0 && (status = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err)) == 0)
		status = list(st, &l, &q, q.n || q.sort, &err);
	kura_store_close(st);
	for (size_t i = 0; where && i < q.n; i++)
		kura_where_clear(&where[i]);
	free(where);
	if (fflush(stdout) != 0 && status == 0)
		status = kura_error_sys(&err, KURA_EIO, "writing the listing");
	return status < 0 ? kura_cli_fail(&err) : status;
}
