/* kura hold add STORE NAME --reason TEXT [--actor NAME] ID...
 * kura hold release STORE NAME --reason TEXT [--actor NAME]
 * kura hold ls STORE [--json]
 *
 * Legal holds (records/holds.c): a hold beats retention until it is released.
 * add and release print the audit record's ID; ls one line per hold:
 *   NAME <TAB> active|released <TAB> RECORDS <TAB> held TIME ACTOR REASON [<TAB> released TIME ACTOR REASON] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/retention.h"

static const char usage[] = "kura hold add STORE NAME --reason TEXT [--actor NAME] ID...\n"
			    "       kura hold release STORE NAME --reason TEXT [--actor NAME]\n"
			    "       kura hold ls STORE [--json]";
const char *const kura_usage_hold = usage; /* kura help, --help (cli/help.c) */

static void who(json_t *w, const char *label)
{
	const char *f[] = {"time", "actor", "reason"};
	printf("\t%s", label);
	for (size_t i = 0; i < 3; i++) {
		putchar(' ');
		kura_escape_print(stdout, json_string_value(json_object_get(w, f[i])) ?: "");
	}
}

static int list(kura_store *st, int json)
{
	kura_error err = {0};
	json_t *l = NULL, *h, *r;
	size_t i, k;
	if (kura_records_hold_list(&l, st, &err) != 0)
		return kura_cli_fail(&err);
	if (json)
		return kura_cli_print_json(l);
	json_array_foreach(l, i, h) {
		kura_escape_print(stdout, json_string_value(json_object_get(h, "name")));
		printf("\t%s\t", json_string_value(json_object_get(h, "state")));
		json_array_foreach(json_object_get(h, "records"), k, r)
			printf("%s%s", k ? "," : "", json_string_value(r) ?: "?");
		who(json_object_get(h, "held"), "held");
		if (json_object_get(h, "released"))
			who(json_object_get(h, "released"), "released");
		putchar('\n');
	}
	json_decref(l);
	return 0;
}

int kura_cmd_hold(int argc, char **argv)
{
	struct kura_cli_change o;
	const char *sub = argc > 1 ? argv[1] : "";
	int ls = strcmp(sub, "ls") == 0, add = strcmp(sub, "add") == 0, rel = strcmp(sub, "release") == 0;
	if (!ls && !add && !rel)
		return kura_cli_usage(usage, "hold takes add, release or ls");
	int bad = kura_cli_changes(&o, argc, argv, usage, ls);
	if (bad)
		return bad;
	int n = argc - optind;
	if (o.mode || o.all_of_class || (ls && (n != 2 || o.reason || o.actor)) || (add && n < 4) || (rel && n != 3))
		return kura_cli_usage(usage, ls ? "hold ls takes a STORE" : add ? "hold add takes a STORE, a NAME and the IDs it covers"
										: "hold release takes a STORE and a NAME");
	if (!ls && !o.reason)
		return kura_cli_usage(usage, "a hold and its release need --reason TEXT: say why");
	kura_error err = {0};
	kura_store *st = NULL;
	char id[KURA_ID_LEN + 1];
	int rc = kura_cli_open(&st, argv[optind + 1], !ls, o.actor, &err);
	if (rc == 0 && ls) {
		rc = list(st, o.json);
		kura_store_close(st);
		return rc;
	}
	if (rc == 0 && add)
		rc = kura_records_hold_add(st, argv[optind + 2], (const char *const *)argv + optind + 3, (size_t)(n - 3), o.reason,
					   id, &err);
	else if (rc == 0)
		rc = kura_records_hold_release(st, argv[optind + 2], o.reason, id, &err);
	kura_store_close(st);
	if (rc != 0)
		return kura_cli_fail(&err);
	printf("%s\n", id);
	return 0;
}
