/* kura policy show STORE [--json]
 * kura policy set STORE FILE|NAME          choose another policy (logged)
 * kura policy sunset STORE ALGORITHM DATE  declare an algorithm unsuitable from DATE (logged) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/policy.h"
#include "kura/store.h"

static const char usage[] =
	"kura policy show STORE [--json] | kura policy set STORE FILE|NAME | kura policy sunset STORE ALGORITHM DATE";
const char *const kura_usage_policy = usage; /* kura help, --help (cli/help.c) */

static void print_text(json_t *j)
{
	printf("policy   %s\ntitle    %s\nmargins  renew %lld days before a TSA certificate expires, %lld days before "
	       "an algorithm ends\n",
	       json_string_value(json_object_get(j, "name")), json_string_value(json_object_get(j, "title")),
	       (long long)json_integer_value(json_object_get(json_object_get(j, "margins"), "certificate-days")),
	       (long long)json_integer_value(json_object_get(json_object_get(j, "margins"), "algorithm-days")));
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(j, "tsa-urls"), i, u)
		printf("tsa      %s\n", json_string_value(u));
	const char *alg;
	json_t *v;
	json_object_foreach(json_object_get(j, "algorithms"), alg, v) {
		const char *until = json_string_value(json_object_get(v, "until"));
		printf("%-9s %-12s %s\n", alg, until ? until : "no end", json_string_value(json_object_get(v, "source")));
	}
}

int kura_cmd_policy(int argc, char **argv)
{
	if (argc < 3)
		return kura_cli_usage(usage, "policy takes show, set or sunset, and a STORE");
	const char *verb = argv[1], *store = argv[2];
	int show = strcmp(verb, "show") == 0, set = strcmp(verb, "set") == 0, sunset = strcmp(verb, "sunset") == 0;
	int json = show && argc == 4 && strcmp(argv[3], "--json") == 0;
	if (!(show && (argc == 3 || json)) && !(set && argc == 4) && !(sunset && argc == 5))
		return kura_cli_usage(usage, "wrong arguments for policy %s", verb);
	kura_error err = {0};
	kura_store *st = NULL;
	kura_policy *p = NULL;
	int rc = kura_store_open(&st, store, show ? KURA_STORE_READ : KURA_STORE_WRITE, &err);
	if (rc == 0 && set)
		rc = kura_store_policy_set(st, argv[3], &err);
	if (rc == 0 && sunset)
		rc = kura_store_policy_sunset(st, argv[3], argv[4], &err);
	if (rc == 0)
		rc = kura_store_policy_load(&p, st, &err);
	if (rc == 0) {
		json_t *j = kura_policy_json(p);
		if (json) {
			char *text = json_dumps(j, JSON_INDENT(2));
			printf("%s\n", text);
			free(text);
		} else {
			print_text(j);
		}
		json_decref(j);
	}
	kura_policy_free(p);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
