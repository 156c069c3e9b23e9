/* The accounts over the preservation service (docs/SERVICE.md, "Accounts
 * through the API"): while kura serve runs it holds the store's writer, so an
 * admin adds, lists and removes accounts and binds client certificates here,
 * with the same library calls as `kura user` (access/users.c) made on the
 * service's writer under its lock: each change's audit record ("user-add",
 * "user-remove", "user-cert", naming the admin) is durable before users.json
 * changes, and the service reads users.json at every request, so the next
 * request sees the change (a removed account's token is refused at once).
 *
 * Only an admin of every collection may: an admin limited to collections could
 * otherwise make an account that sees all of them (403). UserAdd's answer holds
 * the new token, once; no answer holds a token's hash. */
#include <string.h>

#include <openssl/crypto.h>

#include "server/service.h"

#define COLLECTIONS_MAX 1000

/* The body as a JSON object with a string "name"; NULL with the call answered. */
static json_t *body_of(kura_api_call *call, const char *needs)
{
	json_t *b = call->user->ncollections ? NULL
					     : json_loadb((const char *)call->body, call->n, JSON_REJECT_DUPLICATES, NULL);
	if (call->user->ncollections)
		kura_api_error(call, MHD_HTTP_FORBIDDEN, "accounts are about every collection: an admin limited to "
							 "collections may not manage them");
	else if (!json_is_object(b) || !json_is_string(json_object_get(b, "name")))
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "this operation takes a JSON object: %s", needs);
	else
		return b;
	json_decref(b);
	return NULL;
}

/* Answers err about account name; the library's advice to run `kura user ...`
 * becomes the API's (the command cannot run while the service holds the store). */
static void fail(kura_api_call *call, const kura_error *err, const char *name)
{
	if (err->code == KURA_EEXIST && strncmp(err->message, "account '", 9) == 0)
		kura_api_error(call, MHD_HTTP_CONFLICT, "account '%s' exists; remove it first (UserRemove) to give it a "
							"new token", name);
	else if (err->code == KURA_ENOTFOUND)
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "no account '%s' (UserList lists them)", name);
	else
		kura_api_fail(call, err);
}

void kura_api_user_add(kura_api_call *call)
{
	static const char needs[] = "{\"name\": NAME, \"role\": admin|archivist|approver|auditor, "
				    "\"collections\": [C, ...] (optional: none is every collection)}";
	json_t *b = body_of(call, needs), *cols = json_object_get(b, "collections"), *v;
	const char *list[COLLECTIONS_MAX];
	char token[KURA_TOKEN_LEN + 1];
	kura_error err = {0};
	kura_role r;
	size_t i, n = 0;
	if (!b)
		return;
	int ok = !cols || (json_is_array(cols) && json_array_size(cols) <= COLLECTIONS_MAX);
	json_array_foreach(ok ? cols : NULL, i, v) {
		ok = ok && json_is_string(v);
		list[n++] = json_string_value(v);
	}
	if (!ok)
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "\"collections\" is a list of at most %d names: %s",
			       COLLECTIONS_MAX, needs);
	else if (kura_role_parse(&r, json_string_value(json_object_get(b, "role")), &err) != 0 ||
		 kura_user_add_in(call->st, json_string_value(json_object_get(b, "name")), r, list, n, token, &err) != 0)
		fail(call, &err, json_string_value(json_object_get(b, "name")));
	else {
		kura_api_json(call, MHD_HTTP_CREATED,
			      json_pack("{s:s, s:s, s:s, s:o, s:s}", "result", "ok", "name",
					json_string_value(json_object_get(b, "name")), "role", kura_role_name(r), "collections",
					cols ? json_incref(cols) : json_array(), "token", token));
		OPENSSL_cleanse(token, sizeof token);
	}
	json_decref(b);
}

void kura_api_user_list(kura_api_call *call)
{
	kura_user *users = NULL;
	size_t n = 0;
	kura_error err = {0};
	json_t *all = json_array();
	if (call->user->ncollections) {
		json_decref(all);
		kura_api_error(call, MHD_HTTP_FORBIDDEN, "accounts are about every collection: an admin limited to "
							 "collections may not list them");
		return;
	}
	if (kura_user_list(kura_store_path(call->st), &users, &n, &err) != 0) {
		json_decref(all);
		kura_api_fail(call, &err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(all, kura_user_json(&users[i]));
	kura_users_free(users, n);
	kura_api_json(call, MHD_HTTP_OK, json_pack("{s:s, s:o}", "result", "ok", "users", all));
}

void kura_api_user_remove(kura_api_call *call)
{
	json_t *b = body_of(call, "{\"name\": NAME}");
	kura_error err = {0};
	if (!b)
		return;
	if (kura_user_remove_in(call->st, json_string_value(json_object_get(b, "name")), &err) != 0)
		fail(call, &err, json_string_value(json_object_get(b, "name")));
	else
		kura_api_json(call, MHD_HTTP_OK, json_pack("{s:s, s:O}", "result", "ok", "name", json_object_get(b, "name")));
	json_decref(b);
}

void kura_api_user_cert(kura_api_call *call)
{
	json_t *b = body_of(call, "{\"name\": NAME, \"certificate\": PEM}");
	const char *pem = json_string_value(json_object_get(b, "certificate"));
	char sha256[65];
	kura_error err = {0};
	if (!b)
		return;
	if (!pem)
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "this operation takes {\"name\": NAME, \"certificate\": PEM}");
	else if (kura_user_cert_in(call->st, json_string_value(json_object_get(b, "name")), pem, strlen(pem), sha256,
				   &err) != 0)
		fail(call, &err, json_string_value(json_object_get(b, "name")));
	else
		kura_api_json(call, MHD_HTTP_OK, json_pack("{s:s, s:O, s:s}", "result", "ok", "name",
							   json_object_get(b, "name"), "sha256", sha256));
	json_decref(b);
}
