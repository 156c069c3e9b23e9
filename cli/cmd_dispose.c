/* kura dispose STORE --plan [--json]
 * kura dispose STORE --request [ID...] --reason TEXT [--actor NAME]
 * kura dispose STORE --approve REQUEST --reason TEXT [--actor NAME]
 * kura dispose STORE --refuse REQUEST --reason TEXT [--actor NAME]
 * kura dispose STORE --compact      (removes what disposals left stored: after a failed compaction)
 * kura dispose STORE --resume --reason TEXT [--actor NAME]   (after a reindex that lost parts of segments)
 *
 * Disposal decisions (records/dispose.c). The plan: one line per record past
 * retention that no hold covers,
 *   RECORD <TAB> CLASS <TAB> START_EVENT START <TAB> RETENTION_END [<TAB> requested REQUEST]
 * A request prints its ID (without IDs it takes every record of the plan not
 * requested yet); an approval and a refusal print their audit records' IDs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/retention.h"

static const char usage[] = "kura dispose STORE --plan [--json]\n"
			    "       kura dispose STORE --request [ID...] --reason TEXT [--actor NAME]\n"
			    "       kura dispose STORE (--approve | --refuse) REQUEST --reason TEXT [--actor NAME]\n"
			    "       kura dispose STORE --compact\n"
			    "       kura dispose STORE --resume --reason TEXT [--actor NAME]   (after a reindex lost records)";
const char *const kura_usage_dispose = usage; /* kura help, --help (cli/help.c) */

/* While a reindex's loss is unreviewed the plan still lists what retention allows, and says
 * on stderr that none of it can be requested yet (stdout stays the list scripts read). */
static int plan(kura_store *st, int json)
{
	kura_error err = {0}, why = {0};
	json_t *p = NULL, *e;
	size_t i;
	if (kura_records_dispose_plan(&p, st, &err) != 0)
		return kura_cli_fail(&err);
	if (kura_records_disposal_suspended(st, &why))
		kura_cli_warn("%s; the plan below cannot be requested until then", why.message);
	if (json)
		return kura_cli_print_json(p);
	json_array_foreach(p, i, e) {
		printf("%s\t", json_string_value(json_object_get(e, "record")));
		kura_escape_print(stdout, json_string_value(json_object_get(e, "class")));
		printf("\t%s %s\t%s", json_string_value(json_object_get(e, "start_event")),
		       json_string_value(json_object_get(e, "start")), json_string_value(json_object_get(e, "retention_end")));
		if (json_object_get(e, "request"))
			printf("\trequested %s", json_string_value(json_object_get(e, "request")));
		putchar('\n');
	}
	json_decref(p);
	return 0;
}

static int compact(kura_store *st)
{
	kura_error err = {0};
	kura_compact_result res;
	if (kura_store_compact(st, &res, &err) != 0)
		return kura_cli_fail(&err);
	printf("compacted %llu segments: %llu blobs removed, %llu bytes freed\n", (unsigned long long)res.segments,
	       (unsigned long long)res.blobs, (unsigned long long)(res.bytes_before - res.bytes_after));
	return 0;
}

static int decide(kura_store *st, const struct kura_cli_change *o, char **ids, size_t n)
{
	kura_error err = {0};
	char id[KURA_ID_LEN + 1];
	json_t *done = NULL;
	int rc;
	if (o->mode == 'q')
		rc = kura_records_dispose_request(st, (const char *const *)ids, n, o->reason, id, &err);
	else if (o->mode == 'a')
		rc = kura_records_dispose_approve(&done, st, o->request, o->reason, id, &err);
	else if (o->mode == 'r')
		rc = kura_records_dispose_resume(st, o->reason, id, &err);
	else
		rc = kura_records_dispose_refuse(st, o->request, o->reason, id, &err);
	if (rc != 0)
		return kura_cli_fail(&err);
	printf("%s\n", id);
	json_t *c = json_object_get(done, "compaction");
	if (done)
		kura_cli_warn("disposal %s approved: %zu versions of %zu records disposed of; %lld bytes freed in %lld segments",
			      o->request, json_array_size(json_object_get(done, "disposed")),
			      json_array_size(json_object_get(done, "records")),
			      (long long)(json_integer_value(json_object_get(c, "bytes_before")) -
					  json_integer_value(json_object_get(c, "bytes_after"))),
			      (long long)json_integer_value(json_object_get(c, "segments")));
	json_decref(done);
	return 0;
}

int kura_cmd_dispose(int argc, char **argv)
{
	struct kura_cli_change o;
	int bad = kura_cli_changes(&o, argc, argv, usage, 1);
	if (bad)
		return bad;
	int n = argc - optind;
	if (!o.mode || o.all_of_class || n < 1 || (o.mode != 'q' && n != 1) ||
	    (strchr("pc", o.mode) && (o.reason || o.actor)) || (o.mode != 'p' && o.json))
		return kura_cli_usage(usage, "dispose takes a STORE and one of --plan, --request [ID...], --approve REQUEST, "
					     "--refuse REQUEST, --resume, --compact");
	if (!strchr("pc", o.mode) && !o.reason)
		return kura_cli_usage(usage, "a disposal decision needs --reason TEXT: say why");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_cli_open(&st, argv[optind], o.mode != 'p', o.actor, &err);
	if (rc != 0)
		return kura_cli_fail(&err);
	rc = o.mode == 'p' ? plan(st, o.json) : o.mode == 'c' ? compact(st) : decide(st, &o, argv + optind + 1, (size_t)(n - 1));
	kura_store_close(st);
	return rc;
}
