/* Records management over the preservation service (docs/SERVICE.md): legal
 * holds, retention events and disposal (DeletePO is a disposal request, which
 * another account approves), each the same library call as the kura command,
 * made by the request's account. Every record named must be one the account
 * sees, its current version too (kura_api_sees_record): any other is "not
 * found". So must every record of a hold an account limited to collections
 * releases, and of a disposal request it approves or refuses: a hold or
 * request that reaches into another collection is "not found" to it, as one
 * that does not exist. */
#include <stdlib.h>
#include <string.h>

#include "kura/retention.h"
#include "server/service.h"

#define IDS_MAX 10000

struct args {
	json_t *body;
	const char **ids;
	size_t n;
	const char *name, *date, *reason, *request;
};

static void args_clear(struct args *a)
{
	free(a->ids);
	json_decref(a->body);
}

/* 1 if the account sees every record of the JSON array records (an empty one: 0). */
static int sees_all(kura_api_call *call, json_t *records)
{
	json_t *v;
	size_t i;
	json_array_foreach(records, i, v)
		if (!kura_api_sees_record(call, json_string_value(v)))
			return 0;
	return json_array_size(records) > 0;
}

/* The body's fields; 0, or -1 with the call answered. need: which are required
 * ("i" poId, "n" name, "d" date, "r" reason, "q" request). */
static int take_args(kura_api_call *call, struct args *a, const char *need)
{
	memset(a, 0, sizeof *a);
	a->body = json_loadb((const char *)call->body, call->n, JSON_REJECT_DUPLICATES, NULL);
	json_t *ids = json_object_get(a->body, "poId"), *v;
	size_t i;
	if (!json_is_object(a->body)) {
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "the body is not a JSON object");
		return -1;
	}
	a->name = json_string_value(json_object_get(a->body, "name"));
	a->date = json_string_value(json_object_get(a->body, "date"));
	a->reason = json_string_value(json_object_get(a->body, "reason"));
	a->request = json_string_value(json_object_get(a->body, "request"));
	if ((strchr(need, 'i') && (!json_is_array(ids) || !json_array_size(ids) || json_array_size(ids) > IDS_MAX)) ||
	    (strchr(need, 'n') && !a->name) || (strchr(need, 'd') && !a->date) || (strchr(need, 'r') && !a->reason) ||
	    (strchr(need, 'q') && !a->request)) {
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "this operation needs %s%s%s%s%s",
			       strchr(need, 'i') ? "\"poId\": [1 to 10000 IDs] " : "", strchr(need, 'n') ? "\"name\" " : "",
			       strchr(need, 'd') ? "\"date\": YYYY-MM-DD " : "", strchr(need, 'r') ? "\"reason\" " : "",
			       strchr(need, 'q') ? "\"request\": its ID" : "");
		return -1;
	}
	if (json_array_size(ids) && !(a->ids = calloc(json_array_size(ids), sizeof *a->ids))) {
		kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return -1;
	}
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);
		if (!kura_api_sees_record(call, id)) {
			kura_api_error(call, MHD_HTTP_NOT_FOUND, "no object %s", id ? id : "(not a string)");
			return -1;
		}
		a->ids[a->n++] = id;
	}
	return 0;
}

/* Whether name is an active hold: 0 none, 1 one over records the account all
 * sees, 2 one over a record it does not see; -1 with the call answered. */
static int active_hold(kura_api_call *call, const char *name)
{
	json_t *list = NULL, *h;
	kura_error err = {0};
	size_t i;
	int found = 0;
	if (kura_records_hold_list(&list, call->st, &err) != 0) {
		kura_api_fail(call, &err);
		return -1;
	}
	json_array_foreach(list, i, h)
		if (strcmp(json_string_value(json_object_get(h, "name")) ?: "", name) == 0 &&
		    strcmp(json_string_value(json_object_get(h, "state")) ?: "", "active") == 0)
			found = sees_all(call, json_object_get(h, "records")) ? 1 : 2;
	json_decref(list);
	return found;
}

/* For an account limited to collections: 0 if name is an active hold over
 * records it all sees; else -1 with the call answered 404. Others: 0. */
static int hold_seen(kura_api_call *call, const char *name)
{
	int found = call->user->ncollections ? active_hold(call, name) : 1;
	if (found == 0 || found == 2)
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "no active hold named %s over this account's collections", name);
	return found == 1 ? 0 : -1;
}

/* For an account limited to collections: -1 with the call answered 409 if name
 * is an active hold over a record it does not see. That hold is "not found" to
 * it (HoldRelease), but its name cannot be taken twice: the answer says only
 * that, nothing of the hold (who placed it, when, over what). Else 0. */
static int hold_name_free(kura_api_call *call, const char *name)
{
	int found = call->user->ncollections ? active_hold(call, name) : 0;
	if (found == 2)
		kura_api_error(call, MHD_HTTP_CONFLICT, "the hold name %s is taken: choose another name; nothing was changed",
			       name);
	return found == 0 || found == 1 ? 0 : -1;
}

/* For an account limited to collections: 0 if request is a disposal request
 * of records it all sees; else -1 with the call answered 404. Others: 0. */
static int request_seen(kura_api_call *call, const char *request)
{
	json_t *rec = NULL;
	if (!call->user->ncollections)
		return 0;
	int seen = kura_store_audit_get(&rec, call->st, request, NULL) == 0 &&
		   strcmp(json_string_value(json_object_get(rec, "action")) ?: "", "dispose-request") == 0 &&
		   sees_all(call, json_object_get(rec, "records"));
	json_decref(rec);
	if (!seen)
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "no disposal request %s over this account's collections", request);
	return seen ? 0 : -1;
}

/* Answers with the audit record's ID (status), or the library's error. */
static void done(kura_api_call *call, int rc, const char *id, unsigned status, const kura_error *err)
{
	if (rc != 0) {
		kura_api_error(call, kura_api_status(err->code), "%s", err->message);
		return;
	}
	snprintf(call->object, sizeof call->object, "%s", id);
	kura_api_json(call, status, json_pack("{s:s, s:s}", "result", "ok", "auditRecord", id));
}

void kura_api_hold(kura_api_call *call)
{
	struct args a;
	char id[KURA_ID_LEN + 1] = "";
	kura_error err = {0};
	if (take_args(call, &a, "inr") == 0 && hold_name_free(call, a.name) == 0)
		done(call, kura_records_hold_add(call->st, a.name, a.ids, a.n, a.reason, id, &err), id, MHD_HTTP_CREATED,
		     &err);
	args_clear(&a);
}

void kura_api_hold_release(kura_api_call *call)
{
	struct args a;
	char id[KURA_ID_LEN + 1] = "";
	kura_error err = {0};
	if (take_args(call, &a, "nr") == 0 && hold_seen(call, a.name) == 0)
		done(call, kura_records_hold_release(call->st, a.name, a.reason, id, &err), id, MHD_HTTP_OK, &err);
	args_clear(&a);
}

void kura_api_event(kura_api_call *call)
{
	struct args a;
	char id[KURA_ID_LEN + 1] = "";
	kura_error err = {0};
	if (take_args(call, &a, "indr") == 0)
		done(call, kura_records_event(call->st, a.name, a.date, a.ids, a.n, NULL, a.reason, id, &err), id,
		     MHD_HTTP_CREATED, &err);
	args_clear(&a);
}

void kura_api_delete(kura_api_call *call)
{
	struct args a;
	char id[KURA_ID_LEN + 1] = "";
	kura_error err = {0};
	if (take_args(call, &a, "ir") == 0)
		done(call, kura_records_dispose_request(call->st, a.ids, a.n, a.reason, id, &err), id,
		     MHD_HTTP_ACCEPTED, &err);
	args_clear(&a);
}

void kura_api_dispose_approve(kura_api_call *call)
{
	struct args a;
	char id[KURA_ID_LEN + 1] = "";
	kura_error err = {0};
	json_t *rec = NULL;
	int taken = take_args(call, &a, "qr") == 0 && request_seen(call, a.request) == 0;
	int rc = taken ? kura_records_dispose_approve(&rec, call->st, a.request, a.reason, id, &err) : 0;
	if (taken && rc != 0)
		done(call, rc, id, MHD_HTTP_OK, &err);
	else if (taken) {
		snprintf(call->object, sizeof call->object, "%s", id);
		kura_api_json(call, MHD_HTTP_OK, json_pack("{s:s, s:s, s:O}", "result", "ok", "auditRecord", id, "disposed",
							   rec ? json_object_get(rec, "disposed") : json_null()));
	}
	json_decref(rec);
	args_clear(&a);
}

void kura_api_dispose_refuse(kura_api_call *call)
{
	struct args a;
	char id[KURA_ID_LEN + 1] = "";
	kura_error err = {0};
	if (take_args(call, &a, "qr") == 0 && request_seen(call, a.request) == 0)
		done(call, kura_records_dispose_refuse(call->st, a.request, a.reason, id, &err), id, MHD_HTTP_OK, &err);
	args_clear(&a);
}
