/* Disposal decisions (docs/RECORDS.md): the plan (records past retention that
 * no hold covers), a request, its approval by a second actor (four eyes,
 * unless config.json says "four_eyes": false) or its refusal. Each decision is
 * one audit record; archive/records_index.c derives 'Q' (a request's state)
 * and, from an approval, 'D' for every version it disposed of.
 *
 * INVARIANTS
 * - Whole records go, every version: a request lists them all, and an
 *   approval is refused if the record has gained one since.
 * - Everything is checked again at approval against the state then (a hold
 *   placed, a class changed, the clock): a request is no promise.
 * - The approval's "disposed" says, for each version, what it was (ID, hash,
 *   size, ingest) and why it could go (class, rule and source, start event and
 *   day, end of retention): proof of what was destroyed and under which rule,
 *   which the next seal time-stamps with the rest of the trail.
 * - Nothing is disposed of while a loss a reindex recorded waits for a person
 *   (archive/loss.c); kura dispose --resume is that person's word, audited. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/actor.h"
#include "common/log.h"
#include "kura/seal.h"
#include "records/retention_impl.h"

/* What every check needs, read once. */
struct ctx {
	kura_store *st;
	kura_retention classes;
	int32_t today;
	json_t *held;    /* {record: hold name} */
	json_t *pending; /* {record: request ID} of requests neither approved nor refused */
	kura_error *err;
};

static int take_held(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	(void)err;
	struct ctx *c = ud;
	json_object_set_new(c->held, name + strlen(name) + 1, json_string(name));
	return 0;
}

static int take_request(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	struct ctx *c = ud;
	json_t *s = json_loadb(value, vlen, 0, NULL), *r;
	size_t i;
	if (!s)
		return kura_error_set(err, KURA_EIO, "the state of disposal request %s in the index is damaged; run kura reindex", name);
	if (strcmp(json_string_value(json_object_get(s, "action")) ?: "", "dispose-request") == 0)
		json_array_foreach(json_object_get(s, "records"), i, r)
			if (json_is_string(r))
				json_object_set_new(c->pending, json_string_value(r), json_string(name));
	json_decref(s);
	return 0;
}

static int ctx_open(struct ctx *c, kura_store *st, kura_error *err)
{
	memset(c, 0, sizeof *c);
	c->st = st;
	c->err = err;
	c->held = json_object();
	c->pending = json_object();
	int rc = c->held && c->pending ? kura_records_classes(&c->classes, st, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_records_today(&c->today, err);
	if (rc == 0)
		rc = kura_index_each_held(kura_store_index(st), take_held, c, err);
	if (rc == 0)
		rc = kura_index_each_state_of(kura_store_index(st), KURA_INDEX_REQUEST, take_request, c, err);
	return rc;
}

static void ctx_close(struct ctx *c)
{
	kura_retention_free(&c->classes);
	json_decref(c->held);
	json_decref(c->pending);
}

static int first_about(void *ud, uint64_t seq, kura_error *err)
{
	(void)err;
	*(uint64_t *)ud = seq;
	return 1; /* the first is enough */
}

/* The first version's events are applied before the audit records about the
 * record (reindex derives them in the order stored): a first version stored
 * after them was moved there, and its events would replace later ones. */
static int stored_in_order(struct ctx *c, const char *record)
{
	kura_index *ix = kura_store_index(c->st);
	kura_index_object o = {0};
	kura_index_chain_link l;
	uint64_t seq = 0, at = 0;
	int rc = kura_index_each_about(ix, record, first_about, &seq, c->err);
	if (rc != 1 || seq == 0)
		return rc == 1 ? 0 : rc;
	if ((rc = kura_index_get_chain(ix, seq, &l, c->err)) == 0 &&
	    (rc = kura_records_audit_place(c->st, l.id, &at, c->err)) == 0 &&
	    (rc = kura_index_get_object(ix, record, &o, c->err)) == 0 && KURA_RECORDS_PLACE(o.segno, o.offset) > at)
		rc = kura_error_set(c->err, KURA_EIO, "record %s is stored after audit record %llu about it: the segments were "
				    "reordered, so its retention events may not be what was recorded; nothing is disposed of "
				    "(restore the segments from a copy and run kura reindex)", record, (unsigned long long)seq);
	kura_index_object_clear(&o);
	return rc;
}

/* 0 if record r may be disposed of now (request: the one being approved, whose
 * own pending entry does not count); else KURA_EINPUT saying why not. */
static int check(struct ctx *c, kura_record_retention *r, const char *request)
{
	char by[KURA_ID_LEN + 1], end[KURA_DATE_BUFSZ], from[KURA_DATE_BUFSZ];
	const char *id = r->record, *hold = json_string_value(json_object_get(c->held, id));
	const char *req = json_string_value(json_object_get(c->pending, id));
	int rc = kura_records_disposed(c->st, id, by, c->err);
	if (rc != 0)
		return rc < 0 ? rc : kura_error_set(c->err, KURA_EINPUT, "record %s was disposed of already (audit record %s)", id, by);
	if (!r->class_name[0])
		return kura_error_set(c->err, KURA_EINPUT, "record %s has no retention class: it is kept indefinitely", id);
	if (!r->cls)
		return kura_error_set(c->err, KURA_EINPUT, "record %s has class %s, which this store does not define: it is "
							   "kept indefinitely", id, r->class_name);
	if (!r->end.known)
		return kura_error_set(c->err, KURA_EINPUT, "record %s (class %s) is kept until its %s is recorded (kura "
							   "retention event)", id, r->class_name, r->end.missing);
	kura_date_format(end, r->end.end);
	kura_date_format(from, r->end.end + 1);
	if (!kura_retention_over(&r->end, c->today))
		return kura_error_set(c->err, KURA_EINPUT, "record %s (class %s) is kept until the end of %s: it can be "
							   "disposed of from %s", id, r->class_name, end, from);
	if (hold)
		return kura_error_set(c->err, KURA_EINPUT, "record %s is under legal hold %s (kura hold release)", id, hold);
	if (req && (!request || strcmp(req, request) != 0))
		return kura_error_set(c->err, KURA_EINPUT, "record %s is in disposal request %s already (approve or refuse it)", id, req);
	return stored_in_order(c, id);
}

static int add_version(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	(void)err;
	return json_array_append_new(ud, json_string(name));
}

/* Every version of record, oldest first. */
static json_t *versions_of(kura_store *st, const char *record, kura_error *err)
{
	json_t *v = json_pack("[s]", record);
	if (v && kura_index_each_version(kura_store_index(st), record, add_version, v, err) == 0)
		return v;
	if (!v)
		kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_decref(v);
	return NULL;
}

static json_t *plan_entry(struct ctx *c, kura_record_retention *r)
{
	char rule[512], start[KURA_DATE_BUFSZ], end[KURA_DATE_BUFSZ], from[KURA_DATE_BUFSZ];
	kura_retention_rule_text(rule, sizeof rule, r->cls);
	kura_date_format(start, r->end.start);
	kura_date_format(end, r->end.end);
	kura_date_format(from, r->end.end + 1);
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "record", r->record, "class", r->class_name,
			      "rule", rule, "source", r->cls->source, "start_event", r->end.start_event, "start", start,
			      "retention_end", end, "disposable_from", from, "versions", versions_of(c->st, r->record, c->err));
	json_t *req = json_object_get(c->pending, r->record);
	if (e && req)
		json_object_set(e, "request", req);
	return e;
}

/* ---------------------------------------------------------------- the plan */

struct plan {
	struct ctx *c;
	json_t *list;
};

static int plan_record(void *ud, const char *name, const char *value, size_t vlen, kura_error *err)
{
	(void)value;
	(void)vlen;
	struct plan *p = ud;
	kura_record_retention r;
	int rc = kura_records_retention_of(&r, p->c->st, &p->c->classes, name, err);
	if (rc != 0)
		return rc;
	kura_error why = {0};
	struct ctx *c = p->c;
	c->err = &why;
	int no = check(c, &r, json_string_value(json_object_get(c->pending, name)));
	c->err = err;
	if (no == 0)
		rc = json_array_append_new(p->list, plan_entry(c, &r)) == 0 ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	else if (no != KURA_EINPUT) {
		*err = why;
		rc = no;
	}
	kura_record_retention_clear(&r);
	return rc;
}

static int by_record(const void *a, const void *b)
{
	json_t *const *x = a, *const *y = b;
	return strcmp(json_string_value(json_object_get(*x, "record")), json_string_value(json_object_get(*y, "record")));
}

static json_t *sorted(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **v = calloc(n + 1, sizeof *v), *out = json_array();
	for (size_t i = 0; v && i < n; i++)
		v[i] = json_array_get(list, i);
	if (v && n)
		qsort(v, n, sizeof *v, by_record);
	for (size_t i = 0; v && out && i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(list);
	return out;
}

static int plan_with(json_t **out, struct ctx *c, kura_error *err)
{
	struct plan p = {c, json_array()};
	int rc = p.list ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < c->classes.n; i++)
		rc = kura_index_each_of_class(kura_store_index(c->st), c->classes.c[i].name, plan_record, &p, err);
	*out = rc == 0 ? sorted(p.list) : NULL;
	if (rc != 0)
		json_decref(p.list);
	return rc == 0 && !*out ? kura_error_set(err, KURA_EINTERNAL, "out of memory") : rc;
}

int kura_records_dispose_plan(json_t **out, kura_store *st, kura_error *err)
{
	struct ctx c;
	int rc = ctx_open(&c, st, err);
	*out = NULL;
	if (rc == 0)
		rc = plan_with(out, &c, err);
	ctx_close(&c);
	return rc;
}

/* ---------------------------------------------------------------- request */

/* The records of the plan not requested yet. */
static int unrequested(char (**out)[KURA_ID_LEN + 1], size_t *n, struct ctx *c, kura_error *err)
{
	json_t *plan = NULL, *e;
	size_t i;
	int rc = plan_with(&plan, c, err);
	*n = 0;
	*out = rc == 0 ? calloc(json_array_size(plan) + 1, sizeof **out) : NULL;
	if (rc == 0 && !*out)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_array_foreach(rc == 0 ? plan : NULL, i, e)
		if (!json_object_get(e, "request"))
			snprintf((*out)[(*n)++], KURA_ID_LEN + 1, "%s", json_string_value(json_object_get(e, "record")));
	if (rc == 0 && *n == 0)
		rc = kura_error_set(err, KURA_EINPUT, "nothing to dispose of: no record past retention that no hold covers "
						      "and no request names (kura dispose %s --plan)", kura_store_path(c->st));
	json_decref(plan);
	return rc;
}

/* Checks each record; *versions gets every version of each. */
static int check_all(struct ctx *c, char (*records)[KURA_ID_LEN + 1], size_t n, const char *request, json_t *versions)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		kura_record_retention r;
		if ((rc = kura_records_retention_of(&r, c->st, &c->classes, records[i], c->err)) != 0)
			break;
		if ((rc = check(c, &r, request)) == 0) {
			json_t *v = versions_of(c->st, records[i], c->err);
			rc = v ? json_array_extend(versions, v) : c->err->code;
			json_decref(v);
		}
		kura_record_retention_clear(&r);
	}
	if (rc == KURA_EINPUT)
		kura_error_wrap(c->err, "dispose: nothing was changed");
	return rc;
}

int kura_records_dispose_request(kura_store *st, const char *const *ids, size_t n, const char *reason,
				 char id[KURA_ID_LEN + 1], kura_error *err)
{
	struct ctx c;
	char(*records)[KURA_ID_LEN + 1] = NULL;
	size_t nrec = 0;
	int bad = kura_records_need_reason(reason, "a disposal request", err);
	if (bad != 0)
		return bad;
	json_t *versions = json_array(), *list = json_array(), *fields = NULL;
	int rc = ctx_open(&c, st, err);
	if (rc == 0)
		rc = kura_records_trail_whole(st, err);
	if (rc == 0)
		rc = n ? kura_records_resolve(&records, &nrec, st, ids, n, err) : unrequested(&records, &nrec, &c, err);
	if (rc == 0)
		rc = check_all(&c, records, nrec, NULL, versions);
	for (size_t i = 0; rc == 0 && i < nrec; i++)
		json_array_append_new(list, json_string(records[i]));
	if (rc == 0 && !(fields = json_pack("{s:O, s:O, s:s}", "records", list, "versions", versions, "reason", reason)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_audit_record(st, "dispose-request", fields, id, err);
	json_decref(fields);
	json_decref(versions);
	json_decref(list);
	free(records);
	ctx_close(&c);
	return rc;
}

/* ---------------------------------------------------------------- approval, refusal */

/* The state of a pending request (*s the caller's). */
static int pending_request(json_t **s, kura_store *st, const char *request, kura_error *err)
{
	char *text = NULL;
	kura_error lerr = {0};
	*s = NULL;
	int rc = kura_index_get_state_of(kura_store_index(st), KURA_INDEX_REQUEST, request, &text, &lerr);
	if (rc == KURA_ENOTFOUND)
		return kura_error_set(err, KURA_EINPUT, "no disposal request %s (kura dispose --request prints their IDs); "
						       "nothing was changed", request);
	if (rc != 0) {
		*err = lerr;
		return rc;
	}
	*s = json_loads(text, 0, NULL);
	free(text);
	if (!*s)
		return kura_error_set(err, KURA_EIO, "the state of disposal request %s in the index is damaged; run kura reindex", request);
	const char *action = json_string_value(json_object_get(*s, "action"));
	if (action && strcmp(action, "dispose-request") == 0)
		return 0;
	rc = kura_error_set(err, KURA_EINPUT, "disposal request %s was %s already (%s, by %s); nothing was changed", request,
			    action && strcmp(action, "dispose-approve") == 0 ? "approved" : "refused",
			    json_string_value(json_object_get(*s, "time")), json_string_value(json_object_get(*s, "actor")));
	json_decref(*s);
	*s = NULL;
	return rc;
}

/* What one disposed version was, and the rule it went under. */
static json_t *disposed_entry(struct ctx *c, const kura_record_retention *r, const char *version)
{
	json_t *o = NULL;
	char rule[1200], text[512], start[KURA_DATE_BUFSZ], end[KURA_DATE_BUFSZ];
	if (kura_store_object(&o, c->st, version, c->err) != 0)
		return NULL;
	kura_retention_rule_text(text, sizeof text, r->cls);
	snprintf(rule, sizeof rule, "%s: %s (%s)", r->class_name, text, r->cls->source);
	kura_date_format(start, r->end.start);
	kura_date_format(end, r->end.end);
	json_t *e = json_pack("{s:s, s:O?, s:O?, s:s, s:s, s:s, s:s, s:s, s:O?}", "id", version, "sha256",
			      json_object_get(o, "sha256"), "size", json_object_get(o, "size"), "class", r->class_name, "rule",
			      rule, "start_event", r->end.start_event, "start", start, "retention_end", end, "ingested",
			      json_object_get(o, "ingested"));
	json_decref(o);
	if (!e)
		kura_error_set(c->err, KURA_EINTERNAL, "out of memory");
	return e;
}

/* Checks the request's records again and lists their versions in *disposed. */
static int recheck(struct ctx *c, json_t *state, const char *request, json_t *disposed)
{
	json_t *now = json_array(), *r;
	size_t i;
	int rc = now ? 0 : kura_error_set(c->err, KURA_EINTERNAL, "out of memory");
	json_array_foreach(rc == 0 ? json_object_get(state, "records") : NULL, i, r) {
		kura_record_retention rr;
		const char *record = json_string_value(r);
		if (!record || (rc = kura_records_retention_of(&rr, c->st, &c->classes, record, c->err)) != 0)
			break;
		json_t *v = (rc = check(c, &rr, request)) == 0 ? versions_of(c->st, record, c->err) : NULL;
		size_t k;
		json_t *one;
		json_array_foreach(v, k, one) {
			json_array_append(now, one);
			json_t *e = disposed_entry(c, &rr, json_string_value(one));
			if (!e || json_array_append_new(disposed, e) != 0)
				rc = c->err->code ? c->err->code : KURA_EINTERNAL;
		}
		if (rc == 0 && !v)
			rc = c->err->code;
		json_decref(v);
		kura_record_retention_clear(&rr);
		if (rc != 0)
			break;
	}
	if (rc == 0 && !json_equal(now, json_object_get(state, "versions")))
		rc = kura_error_set(c->err, KURA_EINPUT, "a record of request %s has a version made after the request: refuse "
							 "it and request again", request);
	json_decref(now);
	if (rc == KURA_EINPUT)
		kura_error_wrap(c->err, "dispose --approve %s: nothing was changed", request);
	return rc;
}

/* Where the bytes go: the blobs only disposed versions used are removed right
 * after the approval (archive/compact.c). A failure leaves the approval
 * standing (it is durable); the next approval's compaction, or `kura dispose
 * STORE --compact`, finishes the job. */
static int remove_bytes(kura_store *st, json_t *fields, kura_error *err)
{
	kura_compact_result res = {0};
	int rc = kura_store_compact(st, &res, err);
	if (rc != 0)
		kura_error_wrap(err, "the disposal is recorded, but its bytes are still stored; run kura dispose %s --compact",
				kura_store_path(st));
	else
		json_object_set_new(fields, "compaction",
				    json_pack("{s:I, s:I, s:I, s:I}", "segments", (json_int_t)res.segments, "blobs",
					      (json_int_t)res.blobs, "bytes_before", (json_int_t)res.bytes_before,
					      "bytes_after", (json_int_t)res.bytes_after));
	return rc;
}

void kura_records_seal_trail(kura_store *st, const char *what)
{
	kura_error serr = {0};
	if (kura_seal_all_flags(NULL, st, KURA_SEAL_TRAIL, NULL, &serr) != 0)
		kura_log_message(KURA_LOG_WARNING, "the %s is recorded but not time-stamped yet (%s); run kura seal %s --audit-trail",
				 what, serr.message, kura_store_path(st));
}

int kura_records_dispose_approve(json_t **out, kura_store *st, const char *request, const char *reason,
				 char id[KURA_ID_LEN + 1], kura_error *err)
{
	struct ctx c;
	if (out)
		*out = NULL;
	int bad = kura_records_need_reason(reason, "an approval", err);
	if (bad != 0)
		return bad;
	json_t *state = NULL, *disposed = json_array(), *fields = NULL;
	int rc = ctx_open(&c, st, err);
	if (rc == 0)
		rc = kura_records_trail_whole(st, err);
	if (rc == 0)
		rc = pending_request(&state, st, request, err);
	const char *requester = json_string_value(json_object_get(state, "actor"));
	if (rc == 0 && kura_store_four_eyes(st) && requester &&
	    kura_actor_same(requester, kura_store_actor(st))) /* "josé", "JOSE\u0301", "ｊｏｓé" */
		rc = kura_error_set(err, KURA_EDENIED, "%s requested disposal %s: another actor must approve it (--actor NAME; "
						       "a store made with kura init --single-approver allows one); nothing was changed",
				    requester, request);
	if (rc == 0)
		rc = recheck(&c, state, request, disposed);
	if (rc == 0 && (rc = kura_seal_all(NULL, st, NULL, err)) != 0) /* no version's content goes before it is time-stamped */
		kura_error_wrap(err, "what is to be disposed of must be time-stamped first, and sealing failed; nothing was disposed of");
	if (rc == 0 && !(fields = json_pack("{s:s, s:s?, s:s, s:O, s:O}", "request", request, "requester", requester, "reason",
					    reason, "records", json_object_get(state, "records"), "disposed", disposed)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_audit_record(st, "dispose-approve", fields, id, err);
	if (rc == 0) /* the proof of what is destroyed is time-stamped before the bytes go */
		kura_records_seal_trail(st, "disposal");
	if (rc == 0)
		rc = remove_bytes(st, fields, err);
	if (rc == 0 && out)
		*out = json_incref(fields);
	json_decref(fields);
	json_decref(disposed);
	json_decref(state);
	ctx_close(&c);
	return rc;
}

int kura_records_dispose_refuse(kura_store *st, const char *request, const char *reason, char id[KURA_ID_LEN + 1],
				kura_error *err)
{
	json_t *state = NULL, *fields = NULL;
	int bad = kura_records_need_reason(reason, "a refusal", err);
	if (bad != 0)
		return bad;
	int rc = pending_request(&state, st, request, err);
	if (rc == 0 && !(fields = json_pack("{s:s, s:s, s:O}", "request", request, "reason", reason, "records",
					    json_object_get(state, "records"))))
		rc = kura_error_set(err, KURA_EIO, "the state of disposal request %s in the index is damaged; run kura reindex", request);
	if (rc == 0)
		rc = kura_store_audit_record(st, "dispose-refuse", fields, id, err);
	json_decref(fields);
	json_decref(state);
	return rc;
}

int kura_records_disposal_suspended(kura_store *st, kura_error *why)
{
	return kura_records_loss_reviewed(st, why) != 0;
}

int kura_records_dispose_resume(kura_store *st, const char *reason, char id[KURA_ID_LEN + 1], kura_error *err)
{
	char *text = NULL;
	kura_error lerr = {0};
	int bad = kura_records_need_reason(reason, "resuming disposal", err);
	if (bad != 0)
		return bad;
	if (kura_index_get_state_of(kura_store_index(st), KURA_INDEX_SUSPENDED, "disposal", &text, &lerr) != 0)
		return kura_error_set(err, KURA_EINPUT, "disposal is not suspended in %s: no reindex recorded a loss since "
				      "the last kura dispose --resume; nothing was changed", kura_store_path(st));
	if ((bad = kura_records_trail_in_order(st, err)) != 0) {
		free(text);
		return bad;
	}
	json_t *loss = json_loads(text, 0, NULL);
	free(text);
	json_t *fields = json_pack("{s:s, s:s?}", "reason", reason, "loss", json_string_value(json_object_get(loss, "id")));
	int rc = fields ? kura_store_audit_record(st, "dispose-resume", fields, id, err)
			: kura_error_set(err, KURA_EINTERNAL, "out of memory");
	json_decref(fields);
	json_decref(loss);
	return rc;
}
