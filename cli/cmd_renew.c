/* kura renew STORE [--plan] [--json]
 * --plan lists every live chain with when its evidence next needs renewal and
 * why (due now first); without it, everything due now is renewed. Exit 1 when
 * the run leaves a chain refused or overdue without renewing it: a person must
 * act, and the message says how. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/policy.h"
#include "kura/renew.h"

static const char usage[] = "kura renew STORE [--plan] [--json]";
const char *const kura_usage_renew = usage; /* kura help, --help (cli/help.c) */

static int show_plan(kura_store *st, int json, kura_error *err)
{
	json_t *j = NULL;
	char *policy = NULL;
	int rc = kura_run_plan(&j, &policy, st, err);
	if (rc == 0) {
		if (json) {
			char *text = json_dumps(j, JSON_INDENT(2));
			printf("%s\n", text);
			free(text);
		} else {
			size_t i;
			json_t *it;
			printf("policy %s; %zu live chain(s)\n", policy, json_array_size(j));
			json_array_foreach(j, i, it) {
				printf("%s  %-18s %-9s %s  %s chain, %lld object(s): %s\n",
				       json_is_true(json_object_get(it, "due_now")) ? "DUE NOW" : "later  ",
				       json_string_value(json_object_get(it, "action")),
				       json_string_value(json_object_get(it, "chain")) + 16,
				       json_string_value(json_object_get(it, "due")) ?: "never",
				       json_string_value(json_object_get(it, "hash")),
				       (long long)json_integer_value(json_object_get(it, "objects")),
				       json_string_value(json_object_get(it, "reason")));
			}
		}
	}
	json_decref(j);
	free(policy);
	return rc;
}

/* What a person must do after a run that left something overdue or refused (1), or renewed
 * chains that are due again at once (a warning: the run did what it could; 0). */
static int report_attention(const kura_run_report *r, const char *store)
{
	if (r->refused)
		fprintf(stderr, "kura: %zu chain(s) were NOT renewed because their last time-stamp no longer verifies; "
				"the messages above say what to do for each\n", r->refused);
	if (r->overdue > r->refused)
		fprintf(stderr, "kura: %zu chain(s) are OVERDUE for renewal and this run did not renew them; their evidence "
				"breaks when their last time-stamp's certificate or algorithm ends: kura renew %s --plan says why "
				"for each; give the store a TSA that can renew them (kura tsa urls %s --set URL..., kura trust add "
				"%s --tsa ROOT.pem), then run kura renew %s\n",
			r->overdue - r->refused, store, store, store, store);
	if (r->due_again)
		fprintf(stderr, "kura: %zu chain(s) renewed now are due again at once: the certificate of the TSA that "
				"renewed them ends within the policy's margin (kura renew %s --plan says when); ask its operator "
				"for a longer-lived certificate or add a TSA that has one (kura tsa urls %s --set URL...)\n",
			r->due_again, store, store);
	return r->refused || r->overdue ? 1 : 0;
}

int kura_cli_report_run(const kura_run_report *r, int json, const char *store)
{
	char next[KURA_TIME_BUFSZ] = "never";
	int64_t now = 0;
	if (r->next_due != KURA_NEVER && r->next_due == INT64_MIN && kura_clock_now(&now, NULL) == 0)
		kura_time_format(next, now); /* overdue: a chain whose last token cannot be read */
	else if (r->next_due != KURA_NEVER)
		kura_time_format(next, r->next_due);
	if (json) {
		json_t *j = json_pack("{s:b, s:I, s:I, s:s, s:I, s:I, s:I, s:s, s:s}", "tsa_rolled_over", r->rolled_over,
				      "chains_renewed", (json_int_t)r->chains_renewed, "objects_rehashed",
				      (json_int_t)r->objects_rehashed, "rehashed_to", r->rehash_to, "refused",
				      (json_int_t)r->refused, "overdue", (json_int_t)r->overdue, "due_again",
				      (json_int_t)r->due_again, "next_due", next, "next_reason", r->next_reason);
		char *text = json_dumps(j, JSON_COMPACT);
		printf("%s\n", text);
		free(text);
		json_decref(j);
	} else {
		printf("renewed %zu chain(s) by time-stamp, %zu object(s) by hash tree%s%s; next due %s%s%s\n",
		       r->chains_renewed, r->objects_rehashed, r->objects_rehashed ? " to " : "", r->rehash_to, next,
		       r->next_reason[0] ? ": " : "", r->next_reason);
	}
	fflush(stdout); /* the daemon's log: each round as it happens */
	return report_attention(r, store);
}

int kura_cmd_renew(int argc, char **argv)
{
	static const struct option opts[] = {{"plan", no_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'}, {0}};
	int c, plan = 0, json = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p')
			plan = 1;
		else if (c == 'j')
			json = 1;
		else
			return kura_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return kura_cli_usage(usage, "renew takes one STORE");
	kura_error err = {0};
	kura_store *st = NULL;
	kura_run_report r;
	int rc = kura_store_open(&st, argv[optind], plan ? KURA_STORE_READ : KURA_STORE_WRITE, &err), status = 0;
	if (rc == 0 && plan)
		rc = show_plan(st, json, &err);
	else if (rc == 0 && (rc = kura_run_renewals(&r, st, &err)) == 0)
		status = kura_cli_report_run(&r, json, argv[optind]);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : status;
}
