/* UpdatePOC over the preservation service (docs/SERVICE.md): a new version of
 * a record (a corrected document: `kura ingest --supersedes ID`) or a change
 * of its metadata (`kura meta set`), each with a reason and made by the
 * request's account, through the same records-management calls as the kura
 * command. The object named must be one the account sees (else "not found"),
 * and an account limited to collections cannot move a record out of them. */
#include <stdlib.h>
#include <string.h>

#include "kura/records.h"
#include "server/service.h"

#define META_MAX KURA_API_META_MAX

struct update {
	const char *id, *reason, *name;
	const unsigned char *bytes; /* the new version's document; NULL: a metadata change */
	size_t len;
	unsigned char *decoded;     /* bytes decoded from base64 (the update's) */
	kura_meta meta[META_MAX];
	size_t nmeta;
	kura_api_meta query; /* the query's meta=KEY=VALUE */
	json_t *body;
};

/* The JSON body: {"poId": ID, "reason": TEXT, "binaryValue": BASE64 (a new
 * version; else a metadata change), "name": NAME, "meta": {KEY: VALUE}}. */
static int from_json(struct update *u, kura_error *err)
{
	json_t *meta = json_object_get(u->body, "meta"), *b64 = json_object_get(u->body, "binaryValue"), *v;
	const char *k;
	u->id = json_string_value(json_object_get(u->body, "poId"));
	u->reason = json_string_value(json_object_get(u->body, "reason"));
	u->name = json_string_value(json_object_get(u->body, "name"));
	if (u->name && !u->name[0])
		return kura_error_set(err, KURA_EINPUT, "name is empty: give the new version's file name, or leave name out");
	if ((meta && !json_is_object(meta)) || json_object_size(meta) > META_MAX)
		return kura_error_set(err, KURA_EINPUT, "meta is an object of at most %d strings", META_MAX);
	json_object_foreach(meta, k, v) {
		if (!json_is_string(v))
			return kura_error_set(err, KURA_EINPUT, "meta %s is not a string (\"\" removes the key)", k);
		u->meta[u->nmeta++] = (kura_meta){k, json_string_value(v)};
	}
	if (!b64)
		return 0;
	int rc = kura_api_base64(&u->decoded, &u->len, b64, "binaryValue", err);
	u->bytes = u->decoded;
	return rc;
}

/* The query: ?poId=ID&reason=TEXT[&name=NAME][&meta=KEY=VALUE...], as strict as the JSON form. */
static int from_query(kura_api_call *call, struct update *u, kura_error *err)
{
	int rc = kura_api_query_arg(&u->id, call, "poId", 0, err);
	if (rc == 0)
		rc = kura_api_query_arg(&u->reason, call, "reason", 0, err);
	if (rc == 0)
		rc = kura_api_query_arg(&u->name, call, "name", 1, err);
	if (rc == 0)
		rc = kura_api_query_meta(&u->query, call, err);
	memcpy(u->meta, u->query.v, u->query.n * sizeof u->meta[0]);
	u->nmeta = u->query.n;
	return rc;
}

/* The request: a JSON body, or the new version's document itself with
 * ?poId=ID&reason=TEXT[&name=NAME][&meta=KEY=VALUE...]. */
static int take(kura_api_call *call, struct update *u, kura_error *err)
{
	const char *type = MHD_lookup_connection_value(call->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	int rc = 0;
	if (type && strncmp(type, "application/json", 16) == 0) {
		if (!(u->body = json_loadb((const char *)call->body, call->n, JSON_REJECT_DUPLICATES, NULL)) ||
		    !json_is_object(u->body))
			return kura_error_set(err, KURA_EINPUT, "the body is not a JSON object");
		rc = from_json(u, err);
	} else {
		u->bytes = call->body;
		u->len = call->n;
		if (!call->n)
			return kura_error_set(err, KURA_EINPUT, "send the new version's document as the body, with "
								"?poId=ID&reason=TEXT (a metadata change: application/json)");
		rc = from_query(call, u, err);
	}
	if (rc == 0 && (!u->id || !u->reason || !u->reason[0]))
		rc = kura_error_set(err, KURA_EINPUT, "UpdatePOC needs \"poId\" (the record's ID) and \"reason\" (why)");
	if (rc == 0 && !u->bytes && !u->nmeta)
		rc = kura_error_set(err, KURA_EINPUT, "UpdatePOC needs \"binaryValue\" (a new version) or \"meta\" (a change)");
	return rc;
}

/* KURA_EDENIED when the change would take the record out of the account's collections. */
static int check_collection(kura_api_call *call, const struct update *u, kura_error *err)
{
	for (size_t i = 0; i < u->nmeta; i++) {
		if (strcmp(u->meta[i].key, "collection") != 0)
			continue;
		json_t *o = json_pack("{s:{s:s}}", "meta", "collection", u->meta[i].value);
		int sees = o && kura_api_sees(call->user, o);
		json_decref(o);
		if (!sees)
			return kura_error_set(err, KURA_EDENIED, "this account may keep records only in its collections: "
								 "give collection=ONE_OF_THEM");
	}
	return 0;
}

static void made(void *ud, const char *id, const char *sha256_hex, const char *path)
{
	(void)sha256_hex;
	(void)path;
	snprintf(ud, KURA_ID_LEN + 1, "%s", id);
}

/* A new version of the record of u->id with u's document. */
static int new_version(kura_api_call *call, const struct update *u, json_t *current, char id[KURA_ID_LEN + 1],
		       kura_error *err)
{
	kura_records_ingest r = {.supersedes = u->id, .reason = u->reason};
	json_t *fields = NULL;
	kura_ingest *in = NULL;
	const char *name = u->name ? u->name : json_string_value(json_object_get(current, "name"));
	int rc = kura_records_new_fields(&fields, call->st, &r, err);
	if (rc == 0)
		rc = kura_ingest_new(&in, call->st, made, id, err);
	if (rc == 0) {
		kura_ingest_hold(in);
		kura_ingest_set_fields(in, fields);
		rc = kura_api_ingest_bytes(in, u->bytes, u->len, name ? name : "document", u->meta, u->nmeta, err);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, err);
	kura_ingest_free(in);
	json_decref(fields);
	return rc;
}

/* 0 with id the new version's, a library error (err), or 1: answered (404). */
static int update(kura_api_call *call, struct update *u, char id[KURA_ID_LEN + 1], kura_error *err)
{
	int rc = take(call, u, err);
	if (rc != 0)
		return rc;
	call->id = strlen(u->id) == KURA_ID_LEN && !strchr(u->id, '/') ? u->id : "-";
	json_t *current = kura_api_visible(call);
	if (current && !kura_api_sees_record(call, u->id)) { /* moved out of its collections since */
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "no object %s", call->id);
		json_decref(current);
		current = NULL;
	}
	if (!current)
		return 1;
	rc = check_collection(call, u, err);
	if (rc == 0 && u->bytes)
		rc = new_version(call, u, current, id, err);
	else if (rc == 0)
		rc = kura_records_meta_set_st(call->st, u->id, u->meta, u->nmeta, u->reason, id, err);
	json_decref(current);
	return rc;
}

void kura_api_update(kura_api_call *call)
{
	struct update *u = calloc(1, sizeof *u);
	kura_error err = {0};
	char id[KURA_ID_LEN + 1] = "";
	json_t *ids = NULL;
	int rc = u ? update(call, u, id, &err) : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (rc == 0 && !(ids = json_pack("[s]", id)))
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		kura_api_created(call, ids);
	else if (rc != 1)
		kura_api_fail(call, &err);
	json_decref(ids);
	if (u) {
		json_decref(u->body);
		free(u->decoded);
		kura_api_meta_clear(&u->query);
	}
	free(u);
}
