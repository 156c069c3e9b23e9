/* kura timeliness STORE [ID... | --where 'FIELD OP VALUE'...] [--json]: was each document time-stamped in
 * time after it was received (電子帳簿保存法 施行規則4条1項2号; records/timeliness.c
 * counts, docs/DENCHO.md explains)? One line per object, then a summary; exit 0
 * when every one is on time, 1 when any is late, not time-stamped yet, without
 * received_at or undecided, 2 for bad input. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/records.h"

static const char usage[] = "kura timeliness STORE [ID... | --where 'FIELD OP VALUE'...] [--json]";
const char *const kura_usage_timeliness = usage; /* kura help, --help (cli/help.c) */

static const char *str(json_t *row, const char *key)
{
	const char *s = json_string_value(json_object_get(row, key));
	return s ? s : "-";
}

/* ID, name, received_at, first time-stamp, deadline, business days taken, verdict */
static void print_row(json_t *row)
{
	const char *verdict = str(row, "verdict");
	json_t *taken = json_object_get(row, "business_days"), *late = json_object_get(row, "late_business_days");
	char *name = kura_json_get_name(row, "name"); /* its bytes, escaped once (as kura ls) */
	printf("%s\t", str(row, "id"));
	kura_escape_print(stdout, name ? name : "-");
	free(name);
	putchar('\t');
	kura_escape_print(stdout, str(row, "received_at"));
	printf("\t%s\t%s\t", str(row, "first_timestamp_jst"), str(row, "deadline"));
	if (json_is_integer(taken))
		printf("%lld", (long long)json_integer_value(taken));
	else
		putchar('-');
	if (strcmp(verdict, "on-time") == 0)
		printf("\ton time\n");
	else if (strcmp(verdict, "late") == 0 && json_is_integer(late))
		printf("\tLATE by %lld business day%s\n", (long long)json_integer_value(late),
		       json_integer_value(late) == 1 ? "" : "s");
	else if (strcmp(verdict, "not-time-stamped") == 0)
		printf("\tnot time-stamped yet%s\n", json_is_true(json_object_get(row, "overdue")) ? " (deadline passed)" : "");
	else if (strcmp(verdict, "no-received-at") == 0)
		printf("\tno received_at\n");
	else {
		printf("\t%s: ", strcmp(verdict, "late") == 0 ? "LATE" : verdict);
		kura_escape_print(stdout, str(row, "reason"));
		putchar('\n');
	}
}

static json_int_t count(json_t *summary, const char *key)
{
	return json_integer_value(json_object_get(summary, key));
}

static void print_text(json_t *j)
{
	size_t i;
	json_t *row, *s = json_object_get(j, "summary");
	json_array_foreach(json_object_get(j, "objects"), i, row)
		print_row(row);
	printf("%lld object%s: %lld on time, %lld late, %lld not time-stamped yet, %lld without received_at, "
	       "%lld undecided (rule: %s)\n",
	       (long long)count(s, "objects"), count(s, "objects") == 1 ? "" : "s", (long long)count(s, "on_time"),
	       (long long)count(s, "late"), (long long)count(s, "not_time_stamped"), (long long)count(s, "no_received_at"),
	       (long long)count(s, "undecided"), str(j, "rule"));
}

int kura_cmd_timeliness(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"where", required_argument, NULL, 'w'}, {0}};
	struct kura_cli_where where = {0};
	kura_error err = {0};
	int c, as_json = 0, rc = 0;
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			as_json = 1;
		else if (c == 'w')
			rc = kura_cli_where_add(&where, optarg, &err);
		else
			rc = kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (rc == 0 && argc - optind < 1)
		rc = kura_cli_usage(usage, "timeliness takes a STORE, and IDs or --where (none: every object with "
					   "received_at or of class jp-dencho)");
	if (rc == 0 && where.n && argc - optind > 1)
		rc = kura_cli_usage(usage, "give IDs or --where, not both");
	/* the IDs named or found, or NULL: the default set */
	char **found = NULL;
	size_t n = rc == 0 ? (size_t)(argc - optind - 1) : 0;
	if (rc == 0 && where.n)
		rc = kura_cli_where_ids(&found, &n, argv[optind], &where, &err);
	kura_cli_where_clear(&where);
	const char *const *ids = found ? (const char *const *)found : n ? (const char *const *)argv + optind + 1 : NULL;
	kura_store *st = NULL;
	json_t *j = NULL;
	if (rc == 0)
		rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_records_timeliness(&j, st, ids, n, &err);
	kura_store_close(st);
	free(found);
	if (rc != 0)
		return rc > 0 ? rc : kura_cli_fail(&err);
	json_t *s = json_object_get(j, "summary");
	int status = count(s, "objects") == count(s, "on_time") ? 0 : 1;
	if (as_json)
		return kura_cli_print_json(j) ? 3 : status;
	print_text(j);
	json_decref(j);
	return status;
}
