/* kura log STORE [--object ID] [--since TIME] [--until TIME] [--json | --csv] [--verify]
 *
 * The audit trail (records/log.c): every record in the order written, those from
 * before the chain first. Text: one escaped line per record,
 *   SEQ <TAB> TIME <TAB> ACTOR <TAB> ACTION <TAB> OBJECTS <TAB> REASON
 * (SEQ "-" and ACTION "EVENT (unchained)" for a record from before the chain;
 * SEQ "imported:N" and ACTION "ACTION (imported)" for one of the trail an import
 * brought, after the import's record;
 * OBJECTS: the IDs it names, the first three and "+N more", or a configuration
 * change's detail). --json: an array of the records exactly as stored. --csv:
 * RFC 4180 (a header row, CRLF, quoted where needed, UTF-8) for spreadsheets.
 * --verify: the chain, the checkpoints and their evidence (records/log_verify.c);
 * exit 1 when anything fails. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/escape.h"
#include "kura/records.h"

static const char usage[] = "kura log STORE [--object ID] [--since TIME] [--until TIME] [--json | --csv] [--verify]";
const char *const kura_usage_log = usage; /* kura help, --help (cli/help.c) */

enum { TEXT, JSON, CSV };

struct out {
	int format;
	size_t n;
};

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* The IDs a record names, space-separated; at most max of them then "+N more"
 * (max 0: all). malloc'd. */
static char *objects_of(json_t *e, size_t max)
{
	static const char *const lists[] = {"objects", "records", "disposed"};
	static const char *const single[] = {"object", "request"};
	size_t total = 0, k, cap = 64, len = 0;
	char *s = calloc(1, cap);
	json_t *v;
	for (size_t i = 0; s && i < sizeof lists / sizeof *lists + sizeof single / sizeof *single; i++) {
		json_t *list = i < 3 ? json_object_get(e, lists[i]) : json_pack("[O]", json_object_get(e, single[i - 3]));
		json_array_foreach(list, k, v) {
			const char *id = json_is_object(v) ? str(v, "id") : json_string_value(v);
			if (!id || !*id || (max && total++ >= max))
				continue;
			size_t n = strlen(id);
			char *g = len + n + 2 > cap ? realloc(s, cap = 2 * (len + n + 2)) : s;
			if (!g)
				break;
			s = g;
			len += (size_t)sprintf(s + len, "%s%s", len ? " " : "", id);
		}
		if (i >= 3)
			json_decref(list);
	}
	if (s && max && total > max) {
		char *g = realloc(s, len + 32);
		if (g)
			snprintf((s = g) + len, 32, " +%zu more", total - max);
	}
	return s;
}

/* The detail of a configuration change, compact JSON (malloc'd), or NULL. */
static char *detail_of(json_t *e)
{
	json_t *d = json_object_get(e, "detail");
	return d && !json_is_null(d) ? json_dumps(d, JSON_COMPACT) : NULL;
}

/* SEQ and ACTION of a record as kind says it stands. */
static void seq_action(char seq[32], char action[160], json_t *e, int kind)
{
	long long n = (long long)json_integer_value(json_object_get(e, "seq"));
	if (kind == KURA_LOG_UNCHAINED)
		snprintf(seq, 32, "-");
	else
		snprintf(seq, 32, kind == KURA_LOG_IMPORTED ? "imported:%lld" : "%lld", n);
	snprintf(action, 160, "%s%s", kind == KURA_LOG_UNCHAINED ? str(e, "event") : str(e, "action"),
		 kind == KURA_LOG_UNCHAINED ? " (unchained)" : kind == KURA_LOG_IMPORTED ? " (imported)" : "");
}

static void text_line(json_t *e, int kind)
{
	char seq[32], action[160];
	char *objects = objects_of(e, 3), *detail = NULL;
	seq_action(seq, action, e, kind);
	if (objects && !*objects && (detail = detail_of(e)))
		free(objects), objects = NULL;
	const char *fields[] = {seq, str(e, "time"), str(e, "actor"), action, objects ? objects : detail ? detail : "",
				str(e, "reason")};
	for (size_t i = 0; i < 6; i++) {
		kura_escape_print(stdout, fields[i]);
		putchar(i < 5 ? '\t' : '\n');
	}
	free(objects);
	free(detail);
}

static void csv_line(json_t *e, int kind)
{
	char seq[32], action[160];
	char *objects = objects_of(e, 0), *detail = detail_of(e);
	seq_action(seq, action, e, kind);
	const char *fields[] = {kind == KURA_LOG_UNCHAINED ? "" : seq, str(e, "id"), str(e, "time"), str(e, "actor"), action,
				objects ? objects : "", str(e, "reason"), detail ? detail : ""};
	for (size_t i = 0; i < 8; i++)
		kura_csv_cell(stdout, fields[i], i == 7);
	free(objects);
	free(detail);
}

static int print_one(void *ud, const char *text, size_t len, json_t *e, int kind, kura_error *err)
{
	(void)err;
	struct out *o = ud;
	if (o->format == JSON && kind == KURA_LOG_IMPORTED)
		return 0; /* it is in its import's record already, as "imported_trail" */
	if (o->format == JSON) {
		fputs(o->n ? ",\n" : "[\n", stdout);
		fwrite(text, 1, len, stdout);
	} else if (o->format == CSV)
		csv_line(e, kind);
	else
		text_line(e, kind);
	o->n++;
	return 0;
}

static void problem(void *ud, uint64_t seq, const char *what)
{
	(void)ud;
	printf("FAIL\trecord %llu\t", (unsigned long long)seq);
	kura_escape_print(stdout, what);
	putchar('\n');
}

static int verify(kura_store *st, const char *path, kura_error *err)
{
	kura_log_check c;
	int rc = kura_records_log_verify(&c, st, problem, NULL, err);
	if (rc != 0)
		return rc;
	printf("audit trail: %llu record(s) in the chain, %llu checkpoint(s) with valid evidence, %llu problem(s)\n",
	       (unsigned long long)c.records, (unsigned long long)c.checkpoints, (unsigned long long)c.problems);
	if (c.uncovered) {
		printf("%llu record(s) not yet covered by a sealed checkpoint: run kura seal ", (unsigned long long)c.uncovered);
		kura_escape_print(stdout, path);
		printf(" --audit-trail\n");
	}
	return c.problems ? kura_error_set(err, KURA_EVERIFY, "the audit trail does not verify (%llu problem(s) above)",
					  (unsigned long long)c.problems) : 0;
}

/* A time option: RFC 3339, or a date (for --until: the whole day). */
static int parse_time(int64_t *out, const char *text, int until)
{
	kura_error err = {0};
	if (kura_time_parse(out, text, &err) != 0)
		return kura_cli_usage(usage, "%s: give an RFC 3339 time (2026-04-01T09:00:00+09:00) or a date (2026-04-01)", text);
	if (until && strlen(text) == 10)
		*out += 86400000 - 1;
	return 0;
}

int kura_cmd_log(int argc, char **argv)
{
	static const struct option opts[] = {{"object", required_argument, NULL, 'o'}, {"since", required_argument, NULL, 's'},
					     {"until", required_argument, NULL, 'u'}, {"json", no_argument, NULL, 'j'},
					     {"csv", no_argument, NULL, 'c'}, {"verify", no_argument, NULL, 'v'}, {0}};
	kura_log_query q = {.since = INT64_MIN, .until = INT64_MAX};
	struct out o = {TEXT, 0};
	int c, check = 0, formats = 0, bad = 0;
	opterr = 0;
	while (!bad && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o')
			q.object = optarg;
		else if (c == 's' || c == 'u')
			bad = parse_time(c == 's' ? &q.since : &q.until, optarg, c == 'u');
		else if (c == 'j' || c == 'c')
			o.format = c == 'j' ? JSON : CSV, formats++;
		else if (c == 'v')
			check = 1;
		else
			return kura_cli_usage(usage, "unknown option %s", argv[optind - 1]);
	}
	if (bad)
		return bad;
	if (argc - optind != 1)
		return kura_cli_usage(usage, "log takes one STORE");
	if (formats > 1 || (check && (formats || q.object || q.since != INT64_MIN || q.until != INT64_MAX)))
		return kura_cli_usage(usage, "give one of --json and --csv; --verify takes no other option");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	if (rc == 0 && check)
		rc = verify(st, argv[optind], &err);
	else if (rc == 0) {
		if (o.format == CSV)
			fputs("seq,id,time,actor,action,objects,reason,detail\r\n", stdout);
		rc = kura_records_log(st, &q, print_one, &o, &err);
		if (o.format == JSON)
			fputs(o.n ? "\n]\n" : "[]\n", stdout);
	}
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
