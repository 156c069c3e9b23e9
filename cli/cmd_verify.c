/* kura verify STORE [ID...] [--json] [--deep]: every object (or the ones named)
 * checked against its evidence record by proof/verify_store.c: the hash
 * recomputed from the stored bytes, the reduced tree, and the time-stamps against
 * the store's TSA roots; for a signed document also its signature at the time the
 * evidence proves. Algorithms are judged by the store's policy. --deep verifies
 * each object's assembled record on its own (slower, the same reports).
 * --json prints one JSON object per line, one line per object. Exit 0 only when
 * every verdict is valid, or "disposed" (an object whose content was removed on
 * purpose, with its evidence kept). --at TIME verifies as of that time (RFC 3339
 * or a date), as verify-er --at does: what breaks then if nothing is renewed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/escape.h"
#include "kura/verify.h"

static const char usage[] = "kura verify STORE [ID... | --where 'FIELD OP VALUE'...] [--json] [--deep] [--at TIME]";
const char *const kura_usage_verify = usage; /* kura help, --help (cli/help.c) */

struct run {
	kura_verifier *v;
	int json;
	size_t total, valid, disposed;
	/* the text of the last report printed: objects of one seal share their report */
	json_t *last;
	char *text;
	size_t textlen;
};

/* Prints report with "id" last, as one line. */
static int print_json(struct run *r, json_t *report, const char *id, kura_error *err)
{
	if (report != r->last) {
		free(r->text);
		json_decref(r->last);
		r->last = json_incref(report); /* held: its address cannot be reused meanwhile */
		r->text = json_dumps(report, JSON_COMPACT);
		if (!r->text || (r->textlen = strlen(r->text)) < 2)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	/* the report without its closing brace, then the id (an ID needs no escaping) */
	printf("%.*s%s\"id\":\"%s\"}\n", (int)(r->textlen - 1), r->text, r->textlen > 2 ? "," : "", id);
	return 0;
}

static int print_report(void *ud, const char *id, json_t *report, kura_error *err)
{
	struct run *r = ud;
	int rc = 0;
	const char *verdict = json_string_value(json_object_get(report, "verdict"));
	r->total++;
	r->valid += strcmp(verdict, "valid") == 0;
	r->disposed += strcmp(verdict, "disposed") == 0;
	if (r->json) {
		rc = print_json(r, report, id, err);
	} else {
		const char *reason = json_string_value(json_object_get(report, "reason"));
		const char *sig = json_string_value(json_object_get(report, "signature"));
		printf("%s\t%s", id, verdict);
		if (sig)
			printf("\tsignature %s at %s", sig, json_string_value(json_object_get(report, "signature_at")) ?: "?");
		if (reason) {
			putchar('\t');
			kura_escape_print(stdout, reason);
		}
		putchar('\n');
	}
	return rc;
}

int kura_cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"deep", no_argument, NULL, 'd'}, {"where", required_argument, NULL, 'w'},
		{"at", required_argument, NULL, 'a'}, {0}};
	const char *at = NULL;
	int64_t at_ms = 0;
	struct run r = {0};
	struct kura_cli_where where = {0};
	kura_error err = {0};
	int c, flags = 0, rc = 0;
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			r.json = 1;
		else if (c == 'd')
			flags |= KURA_VERIFY_DEEP;
		else if (c == 'w')
			rc = kura_cli_where_add(&where, optarg, &err);
		else if (c == 'a' && kura_time_parse(&at_ms, optarg, &err) != 0)
			rc = kura_cli_usage(usage, "--at takes a time such as 2031-05-01T00:00:00Z or 2031-05-01, not '%s'", optarg);
		else if (c == 'a')
			at = optarg;
		else
			rc = kura_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
	}
	if (rc == 0 && argc - optind < 1)
		rc = kura_cli_usage(usage, "verify takes a STORE and optionally IDs or --where");
	if (rc == 0 && where.n && argc - optind > 1)
		rc = kura_cli_usage(usage, "give IDs or --where, not both");
	char **ids = NULL;
	size_t n = rc == 0 ? (size_t)(argc - optind - 1) : 0;
	if (rc == 0 && where.n)
		rc = kura_cli_where_ids(&ids, &n, argv[optind], &where, &err);
	kura_cli_where_clear(&where);
	if (rc > 0)
		return rc;
	kura_store *st = NULL;
	if (rc == 0)
		rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_verifier_new(&r.v, st, flags, &err);
	if (rc == 0 && at)
		kura_verifier_set_at(r.v, at_ms);
	if (rc == 0 && n == 0)
		rc = kura_verifier_each(r.v, print_report, &r, &err);
	else if (rc == 0)
		rc = kura_verifier_each_of(r.v, (const char *const *)(ids ? ids : argv + optind + 1), n, print_report, &r, &err);
	free(ids);
	free(r.text);
	json_decref(r.last);
	kura_verifier_free(r.v);
	kura_store_close(st);
	fflush(stdout);
	if (rc != 0)
		return kura_cli_fail(&err);
	if ((!r.json || r.total != r.valid + r.disposed) && r.disposed == 0)
		fprintf(stderr, "kura: %zu of %zu object(s) verified valid\n", r.valid, r.total);
	else if (!r.json || r.total != r.valid + r.disposed)
		fprintf(stderr, "kura: %zu of %zu object(s) verified valid, %zu disposed of\n", r.valid, r.total, r.disposed);
	return r.valid + r.disposed == r.total ? 0 : 1;
}
