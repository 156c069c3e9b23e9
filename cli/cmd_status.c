/* kura status STORE [--json | --prometheus]: the store at a glance (kura/status.h).
 * Text by default: counts, evidence health, the next renewal, the daemon, each
 * TSA, the last scrub, space, records management, then every item that needs
 * attention with the command to run. --json prints the status object;
 * --prometheus the text exposition format (for node_exporter's textfile
 * collector). Exit 0 healthy, 1 needs attention, 3 cannot tell. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/status.h"

static const char usage[] = "kura status STORE [--json | --prometheus]";
const char *const kura_usage_status = usage; /* kura help, --help (cli/help.c) */

static const char *s_(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)) ?: "?";
}

static long long n_(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void print_tsas(json_t *tsas)
{
	size_t i;
	json_t *t, *trusted;
	json_array_foreach(tsas, i, t) {
		trusted = json_object_get(t, "root_trusted");
		printf("TSA %s: last success %s, last failure %s%s%s%s; certificate ends %s; root %s\n", s_(t, "name"),
		       json_is_string(json_object_get(t, "last_success")) ? s_(t, "last_success") : "never",
		       json_is_string(json_object_get(t, "last_failure")) ? s_(t, "last_failure") : "never",
		       json_is_true(json_object_get(t, "failing")) ? " (FAILING: " : "",
		       json_is_true(json_object_get(t, "failing")) ? s_(t, "failure") : "",
		       json_is_true(json_object_get(t, "failing")) ? ")" : "",
		       json_is_string(json_object_get(t, "cert_end")) ? s_(t, "cert_end") : "unknown",
		       json_is_true(trusted) ? "trusted" : json_is_false(trusted) ? "NOT TRUSTED" : "not known yet");
	}
}

static void print_text(json_t *s)
{
	json_t *o = json_object_get(s, "objects"), *e = json_object_get(s, "evidence"), *nr = json_object_get(s, "next_renewal");
	json_t *d = json_object_get(s, "daemon"), *sc = json_object_get(s, "scrub"), *sp = json_object_get(s, "space");
	json_t *r = json_object_get(s, "records"), *it;
	printf("store %s at %s: %s\n", s_(s, "store"), s_(s, "now"),
	       json_is_true(json_object_get(s, "healthy")) ? "healthy" : "NEEDS ATTENTION");
	printf("objects: %lld record(s), %lld version(s), %lld pending; %lld bytes, %lld ingested in the last 30 days\n",
	       n_(o, "records"), n_(o, "versions"), n_(o, "pending"), n_(o, "bytes"), n_(o, "ingested_30d"));
	printf("evidence: %lld valid, %lld AT RISK", n_(e, "valid"), n_(e, "at_risk"));
	if (n_(e, "at_risk"))
		printf(" (breaks %s)", s_(e, "at_risk_breaks"));
	printf(", %lld overdue", n_(e, "overdue"));
	if (n_(e, "overdue"))
		printf(" (breaks %s)", s_(e, "overdue_breaks"));
	printf(", %lld broken\n", n_(e, "broken"));
	if (json_is_object(nr))
		printf("next renewal: %s (%s)\n", s_(nr, "due"), s_(nr, "reason"));
	else
		printf("next renewal: none foreseen\n");
	if (json_is_object(d)) /* whose: kura daemon's, or kura serve's scheduler's */
		printf("%s: last round %s %s%s%s\n", strcmp(s_(d, "by"), "kura serve") == 0 ? "kura serve" : "daemon",
		       s_(d, "last_round"), s_(d, "result"),
		       strcmp(s_(d, "result"), "ok") ? ": " : "", strcmp(s_(d, "result"), "ok") ? s_(d, "message") : "");
	else
		printf("daemon: no round recorded (kura daemon %s)\n", s_(s, "store"));
	print_tsas(json_object_get(s, "tsas"));
	if (json_is_object(sc))
		printf("scrub: last %s, %s, %lld damaged\n", s_(sc, "last"), s_(sc, "result"), n_(sc, "damaged"));
	else
		printf("scrub: never\n");
	if (json_is_object(sp) && json_is_integer(json_object_get(sp, "days_left")))
		printf("space: %lld MiB free; %lld day(s) left at the last 30 days' growth\n", n_(sp, "free") >> 20,
		       n_(sp, "days_left"));
	else if (json_is_object(sp))
		printf("space: %lld MiB free\n", n_(sp, "free") >> 20);
	printf("records: %lld hold(s) active, %lld record(s) due for disposal\n", n_(r, "holds_active"), n_(r, "disposal_due"));
	size_t i;
	json_array_foreach(json_object_get(s, "attention"), i, it) {
		char sev[16];
		snprintf(sev, sizeof sev, "%s", s_(it, "severity"));
		for (char *p = sev; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		printf("%s: %s\n  run: %s\n", sev, s_(it, "message"), s_(it, "command"));
	}
}

int kura_cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {"prometheus", no_argument, NULL, 'p'}, {0}};
	int c, form = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j' && c != 'p')
			return kura_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
		if (form && form != c)
			return kura_cli_usage(usage, "give --json or --prometheus, not both");
		form = c;
	}
	if (argc - optind != 1)
		return kura_cli_usage(usage, "status takes one STORE");
	kura_store *st = NULL;
	kura_error err = {0};
	json_t *s = NULL;
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_status(&s, st, &err);
	kura_store_close(st);
	if (rc != 0) {
		kura_cli_fail(&err);
		return 3; /* cannot tell */
	}
	if (form == 'j')
		rc = kura_cli_print_json(json_incref(s)); /* it takes a reference */
	else if (form == 'p')
		rc = kura_status_prometheus(stdout, s, &err) == 0 ? 0 : kura_cli_fail(&err);
	else
		print_text(s);
	int healthy = json_is_true(json_object_get(s, "healthy"));
	json_decref(s);
	fflush(stdout);
	return rc ? rc : healthy ? 0 : 1;
}
