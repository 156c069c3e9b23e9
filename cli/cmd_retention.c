/* kura retention show STORE [--json]
 * kura retention event STORE NAME DATE (ID... | --all-of-class CLASS) --reason TEXT [--actor NAME]
 * kura retention set STORE FILE.yaml --reason TEXT [--actor NAME]
 *
 * The retention classes (shipped and the store's own), a retention event of
 * records, and the store's own classes replaced (records/retention.c,
 * holds.c, retention_set.c). Changes print the audit record's ID. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/retention.h"

static const char usage[] = "kura retention show STORE [--json]\n"
			    "       kura retention event STORE NAME DATE (ID... | --all-of-class CLASS) --reason TEXT [--actor NAME]\n"
			    "       kura retention set STORE FILE.yaml --reason TEXT [--actor NAME]";
const char *const kura_usage_retention = usage; /* kura help, --help (cli/help.c) */

int kura_cli_open(kura_store **st, const char *path, int write, const char *actor, kura_error *err)
{
	int rc = kura_store_open(st, path, write ? KURA_STORE_WRITE : KURA_STORE_READ, err);
	if (rc == 0 && actor && (rc = kura_store_set_actor(*st, actor, err)) != 0) {
		kura_store_close(*st);
		*st = NULL;
	}
	return rc;
}

int kura_cli_changes(struct kura_cli_change *o, int argc, char **argv, const char *use, int json_ok)
{
	static const struct option opts[] = {
		{"reason", required_argument, NULL, 'R'}, {"actor", required_argument, NULL, 'A'},
		{"json", no_argument, NULL, 'j'},         {"all-of-class", required_argument, NULL, 'C'},
		{"plan", no_argument, NULL, 'p'},         {"request", no_argument, NULL, 'q'},
		{"approve", required_argument, NULL, 'a'}, {"refuse", required_argument, NULL, 'f'},
		{"compact", no_argument, NULL, 'c'},      {"resume", no_argument, NULL, 'r'},
		{0},
	};
	int c;
	memset(o, 0, sizeof *o);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'R')
			o->reason = optarg;
		else if (c == 'A')
			o->actor = optarg;
		else if (c == 'j' && json_ok)
			o->json = 1;
		else if (c == 'C')
			o->all_of_class = optarg;
		else if (strchr("pqafcr", c) && o->mode)
			return kura_cli_usage(use, "--plan, --request, --approve, --refuse, --resume and --compact go one at a time");
		else if (c == 'p' || c == 'q' || c == 'c' || c == 'r')
			o->mode = c;
		else if (c == 'a' || c == 'f') {
			o->mode = c;
			o->request = optarg;
		} else
			return kura_cli_usage(use, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	return 0;
}

int kura_cli_print_json(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	printf("%s\n", text ? text : "null");
	free(text);
	json_decref(j);
	return text ? 0 : 3;
}

/* "    fields: txn_date (date, required), amount (amount)" */
static void print_fields(json_t *fields)
{
	size_t i;
	json_t *f;
	json_array_foreach(fields, i, f) {
		fputs(i ? ", " : "\n    fields: ", stdout);
		kura_escape_print(stdout, json_string_value(json_object_get(f, "name")) ?: "");
		printf(" (%s%s)", json_string_value(json_object_get(f, "type")) ?: "",
		       json_is_true(json_object_get(f, "required")) ? ", required" : "");
	}
}

static void print_classes(json_t *show)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(show, "classes"), i, c) {
		const char *f[] = {"name", "title", "rule", "source", "note"};
		for (size_t k = 0; k < 5; k++) {
			const char *v = json_string_value(json_object_get(c, f[k]));
			if (k == 4 && (!v || !*v))
				break;
			if (k == 1)
				fputs("  ", stdout);
			else if (k > 1)
				printf("\n    %s: ", f[k]);
			kura_escape_print(stdout, v ? v : "");
		}
		print_fields(json_object_get(c, "fields"));
		printf("\n    %s\n", json_is_true(json_object_get(c, "shipped")) ? "(shipped with kura)" : "(this store's own)");
	}
	printf("events: fiscal-year-end, handover, trial-end, approval, discontinued; ingest (implicit)\n"
	       "a record is kept to the end of its last day (UTC) and may be disposed of from the next\n");
}

static int show(int argc, char **argv)
{
	struct kura_cli_change o;
	int bad = kura_cli_changes(&o, argc, argv, usage, 1);
	if (bad)
		return bad;
	if (argc - optind != 2 || o.reason || o.actor || o.mode || o.all_of_class)
		return kura_cli_usage(usage, "retention show takes a STORE and --json");
	kura_error err = {0};
	kura_store *st = NULL;
	json_t *j = NULL;
	int rc = kura_cli_open(&st, argv[optind + 1], 0, NULL, &err);
	if (rc == 0)
		rc = kura_records_retention_show(&j, st, &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	if (o.json)
		return kura_cli_print_json(j);
	print_classes(j);
	json_decref(j);
	return 0;
}

static int change(int argc, char **argv, int event)
{
	struct kura_cli_change o;
	int bad = kura_cli_changes(&o, argc, argv, usage, 0);
	if (bad)
		return bad;
	int n = argc - optind;
	if (o.mode || (event && n < 4) || (event && (n > 4) == (o.all_of_class != NULL)) || (!event && (n != 3 || o.all_of_class)))
		return kura_cli_usage(usage, event ? "retention event takes a STORE, a NAME, a DATE and IDs or --all-of-class CLASS"
						   : "retention set takes a STORE and a FILE");
	if (!o.reason)
		return kura_cli_usage(usage, "a change of retention needs --reason TEXT: say why");
	kura_error err = {0};
	kura_store *st = NULL;
	char id[KURA_ID_LEN + 1];
	int rc = kura_cli_open(&st, argv[optind + 1], 1, o.actor, &err);
	if (rc == 0 && event)
		rc = kura_records_event(st, argv[optind + 2], argv[optind + 3], (const char *const *)argv + optind + 4,
					(size_t)(n - 4), o.all_of_class, o.reason, id, &err);
	else if (rc == 0)
		rc = kura_records_retention_set(st, argv[optind + 2], o.reason, id, &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	printf("%s\n", id);
	return 0;
}

int kura_cmd_retention(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "show") == 0)
		return show(argc, argv);
	if (strcmp(sub, "event") == 0 || strcmp(sub, "set") == 0)
		return change(argc, argv, sub[0] == 'e');
	return kura_cli_usage(usage, "retention takes show, event or set");
}
