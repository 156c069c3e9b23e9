/* Gathering a report (kura/report.h): each chosen object's verify report, with
 * its description, its record's versions and the renewal plan's entry for its
 * evidence beside it. Only the public API: the report says what `verify
 * --json`, `show --json`, `history --json` and `renew --plan --json` say. */
#include <stdlib.h>
#include <string.h>

#include "kura/clock.h"
#include "kura/records.h"
#include "kura/renew.h"
#include "kura/report.h"
#include "kura/verify.h"

struct gather {
	kura_store *st;
	json_t *objects; /* the report's "objects" */
	json_t *plan;    /* kura_run_plan's entries */
};

/* The start record of the object's newest chain: the last of its time-stamps
 * that opened a chain (a seal, a hash-tree renewal or an import). */
static const char *live_chain(json_t *report)
{
	const char *chain = NULL;
	size_t i;
	json_t *ts;
	json_array_foreach(json_object_get(report, "time_stamps"), i, ts) {
		const char *kind = json_string_value(json_object_get(ts, "kind"));
		if (kind && strcmp(kind, "time-stamp renewal") != 0)
			chain = json_string_value(json_object_get(ts, "record"));
	}
	return chain;
}

static json_t *next_renewal(const struct gather *g, json_t *report)
{
	const char *chain = live_chain(report);
	size_t i;
	json_t *e;
	json_array_foreach(g->plan, i, e) {
		const char *c = json_string_value(json_object_get(e, "chain"));
		if (chain && c && strcmp(c, chain) == 0)
			return json_pack("{s:O, s:O, s:O, s:O}", "action", json_object_get(e, "action"), "due",
					 json_object_get(e, "due"), "due_now", json_object_get(e, "due_now"), "reason",
					 json_object_get(e, "reason"));
	}
	return json_null();
}

/* The versions of the record id belongs to, as a reader needs them. */
static int versions_of(json_t **out, kura_store *st, const char *id, kura_error *err)
{
	json_t *h = NULL, *v;
	size_t i;
	int rc = kura_records_history(&h, st, id, err);
	if (rc != 0)
		return rc;
	*out = json_array();
	json_array_foreach(json_object_get(h, "versions"), i, v) {
		json_t *e = json_object();
		static const char *keep[] = {"id", "ingested", "name", "superseded_by"};
		for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
			if (json_object_get(v, keep[k]))
				json_object_set(e, keep[k], json_object_get(v, keep[k]));
		json_array_append_new(*out, e);
	}
	json_decref(h);
	return 0;
}

static int add_object(void *ud, const char *id, json_t *report, kura_error *err)
{
	struct gather *g = ud;
	json_t *e = json_object(), *object = NULL, *versions = NULL;
	if (!e || json_object_update(e, report) != 0) /* shallow: the verifier's report stays untouched */
		return json_decref(e), kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_object_set_new(e, "id", json_string(id));
	int rc = kura_store_object(&object, g->st, id, err);
	if (rc == 0)
		rc = versions_of(&versions, g->st, id, err);
	if (rc == 0) {
		json_object_set_new(e, "object", object);
		json_object_set_new(e, "versions", versions);
		json_object_set_new(e, "next_renewal", next_renewal(g, report));
		json_array_append(g->objects, e);
	} else {
		json_decref(object);
	}
	json_decref(e);
	return rc;
}

int kura_report_build(json_t **out, kura_store *st, const char *const *ids, size_t n, const kura_report_options *o,
		      kura_error *err)
{
	struct gather g = {.st = st, .objects = json_array()};
	kura_verifier *v = NULL;
	char *policy = NULL, made[KURA_TIME_BUFSZ];
	int64_t now = 0;
	*out = NULL;
	int rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_run_plan(&g.plan, &policy, st, err);
	if (rc == 0)
		rc = kura_verifier_new(&v, st, 0, err);
	if (rc == 0 && n == 0)
		rc = kura_verifier_each(v, add_object, &g, err);
	else if (rc == 0)
		rc = kura_verifier_each_of(v, ids, n, add_object, &g, err);
	if (rc == 0) {
		kura_time_format(made, now);
		*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "kura",
				 o->kura_version ? o->kura_version : "", "store", o->store ? o->store : kura_store_path(st), "made", made,
				 "selection", o->selection ? o->selection : "the objects named", "policy", policy,
				 "objects", g.objects);
		if (!*out)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	kura_verifier_free(v);
	json_decref(g.plan);
	json_decref(g.objects);
	free(policy);
	return rc;
}
