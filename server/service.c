/* The preservation service's core (kura/serve.h, docs/SERVICE.md): connections,
 * bounded request bodies, accounts and roles, the audit record of every
 * request, and the routes to the operations (operations.c).
 *
 * INVARIANTS
 * - Every request under /api/ is answered only after its audit record is
 *   durable: who (the account, or "anonymous" for a missing or wrong token or
 *   client certificate; the certificate's SHA-256 too when one was sent),
 *   what (method, path without its query, the object) and the status, refusals
 *   included. A request whose record cannot be written is answered 503 with
 *   nothing of what it asked for.
 * - A token is read from the Authorization header, compared as a hash
 *   (access/users.c) and never written anywhere: not in a log line, not in an
 *   audit record.
 * - Requests are served one at a time on the service's one thread, taking turns
 *   with the scheduler's thread (scheduler.c) under one lock; MHD reads and
 *   writes the sockets of many connections
 *   meanwhile, so a slow client holds up no one while its bytes arrive. Bodies,
 *   headers, connections and idle time are bounded. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/id.h"
#include "kura/escape.h"
#include "kura/serve.h"
#include "server/client_cert.h"
#include "server/service.h"

#define API "/api/v1/"
#define HEADERS_MAX (64u << 10)
#define PATH_KEPT 1024 /* bytes of a request's path its audit record keeps (anyone may send a long one) */

struct kura_service {
	kura_store *st; /* open for writing while the service lives; used under lock */
	char store[4096];
	kura_service_options o;
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock; /* the store's: requests and the scheduler take turns */
	kura_scheduler *scheduler;
	char *tls_cert, *tls_key; /* PEM, in memory while the daemon runs; NULL: plain HTTP */
	char *client_ca;          /* PEM: client certificates are asked for and checked (client_cert.c); NULL: not */
};

struct request {
	unsigned char *body;
	size_t n, cap;
};

static const struct route {
	const char *method, *path; /* path: exact, or a prefix ending in '/' followed by an ID and suffix */
	const char *suffix;        /* after the ID; NULL: no ID */
	kura_action action;
	kura_api_fn fn;
} routes[] = {
	{"GET", API "openapi.json", NULL, KURA_DO_READ, kura_api_openapi},
	{"GET", API "RetrieveInfo", NULL, KURA_DO_READ, kura_api_retrieve_info},
	{"POST", API "PreservePO", NULL, KURA_DO_SUBMIT, kura_api_preserve},
	{"POST", API "Search", NULL, KURA_DO_SEARCH, kura_api_search},
	{"GET", API "po/", "", KURA_DO_READ, kura_api_retrieve},
	{"GET", API "po/", "/evidence", KURA_DO_READ, kura_api_retrieve_evidence},
	{"GET", API "po/", "/info", KURA_DO_READ, kura_api_describe},
	{"GET", API "po/", "/trace", KURA_DO_READ, kura_api_retrieve_trace},
	{"POST", API "ValidateEvidence", NULL, KURA_DO_VERIFY, kura_api_validate},
	{"POST", API "Hold", NULL, KURA_DO_RECORDS, kura_api_hold},
	{"POST", API "HoldRelease", NULL, KURA_DO_RECORDS, kura_api_hold_release},
	{"POST", API "Event", NULL, KURA_DO_RECORDS, kura_api_event},
	{"POST", API "DeletePO", NULL, KURA_DO_DISPOSE_REQUEST, kura_api_delete},
	{"POST", API "DisposalApprove", NULL, KURA_DO_DISPOSE_APPROVE, kura_api_dispose_approve},
	{"POST", API "DisposalRefuse", NULL, KURA_DO_DISPOSE_APPROVE, kura_api_dispose_refuse},
	{"POST", API "UpdatePOC", NULL, KURA_DO_SUBMIT, kura_api_update},
	{"GET", API "po/", "/package", KURA_DO_EXPORT, kura_api_package},
	{"POST", API "RetrievePO", NULL, KURA_DO_EXPORT, kura_api_packages},
	{"GET", API "po/", "/report", KURA_DO_EXPORT, kura_api_report},
	{"POST", API "Report", NULL, KURA_DO_EXPORT, kura_api_reports},
	{"GET", API "status", NULL, KURA_DO_STATUS, kura_api_store_status},
	{"GET", "/metrics", NULL, KURA_DO_STATUS, kura_api_metrics},
};

static void logline(kura_service *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logline(kura_service *s, const char *fmt, ...)
{
	char line[1024];
	if (!s->o.log)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	s->o.log(s->o.ud, line);
}

/* The route of method and url; *id gets the ID in it. NULL, with *known set when
 * the path exists for another method, if there is none. */
static const struct route *route_of(const char *method, const char *url, char id[KURA_ID_LEN + 1], int *known)
{
	*known = 0;
	for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
		const struct route *r = &routes[i];
		size_t k = strlen(r->path);
		int match = !r->suffix ? strcmp(url, r->path) == 0
				       : strncmp(url, r->path, k) == 0 && strlen(url + k) >= KURA_ID_LEN &&
						 strcmp(url + k + KURA_ID_LEN, r->suffix) == 0;
		if (match && r->suffix) {
			char text[KURA_ID_LEN + 1];
			memcpy(text, url + k, KURA_ID_LEN);
			text[KURA_ID_LEN] = '\0';
			match = kura_id_parse(id, text, NULL) == 0;
		}
		if (match && strcmp(method, r->method) == 0)
			return r;
		*known |= match;
	}
	return NULL;
}

/* The account of the request's client certificate (with --client-ca) or bearer
 * token: 0, KURA_EDENIED (none or a wrong one), or another error (the accounts
 * cannot be read). */
static int account(kura_service *s, kura_api_call *call, kura_user *u, kura_error *err)
{
	const char *h = MHD_lookup_connection_value(call->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *token = h && strncmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
	int cert = s->client_ca ? kura_client_cert_account(s->store, call->c, token, call->certificate, u, err)
				: KURA_ENOTFOUND;
	if (cert != KURA_ENOTFOUND) /* a certificate was sent: it decides */
		return cert;
	if (!token)
		return kura_error_set(err, KURA_EDENIED, "sign in: send 'Authorization: Bearer TOKEN'%s (an admin makes "
							 "accounts with kura user add)", s->client_ca ? " or a client certificate" : "");
	int rc = kura_user_authenticate(s->store, token, u, err);
	if (rc == KURA_EDENIED)
		kura_error_set(err, KURA_EDENIED, "the token is not an account's (ask an admin: kura user ls)");
	return rc;
}

/* account(), answering 401 or 503 when there is none: 0, or -1. */
static int authenticate(kura_service *s, kura_api_call *call, kura_user *u)
{
	kura_error err = {0};
	int rc = account(s, call, u, &err);
	if (rc != 0)
		kura_api_error(call, rc == KURA_EDENIED ? MHD_HTTP_UNAUTHORIZED : MHD_HTTP_SERVICE_UNAVAILABLE, "%s",
			       err.message);
	return rc == 0 ? 0 : -1;
}

/* The audit record of the request; 0, or -1 (the call now answers 503). */
static int record(kura_service *s, kura_api_call *call, const char *method, const char *url)
{
	kura_error err = {0};
	const char *who = call->user ? call->user->name : "anonymous";
	/* the method and path are the sender's bytes: kept and logged escaped, the path cut */
	char *m = kura_escape(method, strnlen(method, 64)), *path = kura_escape(url, strnlen(url, PATH_KEPT));
	json_t *f = m && path ? json_pack("{s:s, s:s, s:i}", "method", m, "path", path, "status", (int)call->status)
			      : NULL;
	if (f && call->object[0])
		json_object_set_new(f, "object", json_string(call->object));
	if (f && call->certificate[0]) /* its SHA-256: who signed in with what, or tried to */
		json_object_set_new(f, "certificate", json_string(call->certificate));
	int rc = f ? kura_store_set_actor(s->st, who, &err) : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_audit_record(s->st, "api", f, NULL, &err);
	json_decref(f);
	logline(s, "%s %s %u %s%s%s", m ? m : "?", path ? path : "?", call->status, who, rc ? ": not recorded: " : "",
		rc ? err.message : "");
	free(m);
	free(path);
	if (rc == 0)
		return 0;
	free(call->out);
	call->out = NULL;
	kura_api_error(call, MHD_HTTP_SERVICE_UNAVAILABLE, "the request could not be recorded in the audit trail (%s); "
							   "nothing was answered", err.message);
	return -1;
}

static void serve(kura_service *s, kura_api_call *call, const char *method, const char *url)
{
	char id[KURA_ID_LEN + 1];
	int known;
	kura_user u = {0};
	kura_error err = {0};
	const struct route *r = route_of(method, url, id, &known);
	if (authenticate(s, call, &u) != 0)
		; /* answered 401 */
	else if ((call->user = &u), !r)
		kura_api_error(call, known ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND, "%s %s: no such operation",
			       method, url);
	else if (!kura_role_allows(u.role, r->action))
		kura_api_error(call, MHD_HTTP_FORBIDDEN, "an account with role %s may not do this",
			       kura_role_name(u.role));
	else if (kura_store_set_actor(s->st, u.name, &err) != 0) /* what the operation writes is the account's */
		kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.message);
	else {
		call->id = r->suffix ? id : NULL;
		r->fn(call);
	}
	record(s, call, method, url);
	kura_user_clear(&u);
}

static enum MHD_Result answer(struct MHD_Connection *c, kura_api_call *call)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(call->out_len, call->out ? call->out : (void *)"",
								 call->out ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		free(call->out);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, call->type ? call->type : "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (call->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"kura\"");
	enum MHD_Result ok = MHD_queue_response(c, call->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Takes a chunk of the body; 0, or -1 when the body is larger than allowed. */
static int take(kura_service *s, struct request *q, const char *data, size_t n)
{
	if (n > s->o.max_body - q->n)
		return -1;
	if (q->n + n > q->cap) {
		size_t cap = q->cap ? q->cap : 65536;
		while (cap < q->n + n)
			cap *= 2;
		unsigned char *b = realloc(q->body, cap);
		if (!b)
			return -1;
		q->body = b;
		q->cap = cap;
	}
	memcpy(q->body + q->n, data, n);
	q->n += n;
	return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **state)
{
	(void)version;
	kura_service *s = cls;
	struct request *q = *state;
	kura_api_call call = {.st = s->st, .c = c};
	if (!q) { /* the headers are in: refuse a body announced too large before it comes */
		const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (!(q = *state = calloc(1, sizeof *q)))
			return MHD_NO;
		if (!(len && strtoull(len, NULL, 10) > s->o.max_body))
			return MHD_YES;
		q->n = SIZE_MAX; /* answered */
		kura_api_error(&call, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than the %zu bytes allowed",
			       s->o.max_body);
	} else if (*size) {
		int over = q->n == SIZE_MAX || take(s, q, data, *size) != 0;
		*size = 0;
		if (!over)
			return MHD_YES;
		if (q->n == SIZE_MAX)
			return MHD_YES; /* the answer is queued; the rest is read and dropped */
		q->n = SIZE_MAX;
		kura_api_error(&call, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than the %zu bytes allowed",
			       s->o.max_body);
	} else if (q->n == SIZE_MAX) {
		return MHD_YES;
	} else if (strcmp(url, "/health") == 0) {
		kura_api_json(&call, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"));
		return answer(c, &call);
	} else if (kura_web_is_page(url)) { /* public, holds no data (web.c) */
		return kura_web_answer(c, method, url);
	} else {
		call.body = q->body;
		call.n = q->n;
		pthread_mutex_lock(&s->lock);
		serve(s, &call, method, url);
		pthread_mutex_unlock(&s->lock);
		return answer(c, &call);
	}
	kura_user u = {0}; /* the refused body: whose it was, for its audit record */
	call.user = account(s, &call, &u, &(kura_error){0}) == 0 ? &u : NULL;
	pthread_mutex_lock(&s->lock);
	record(s, &call, method, url);
	pthread_mutex_unlock(&s->lock);
	kura_user_clear(&u);
	return answer(c, &call);
}

static void done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	struct request *q = *state;
	if (q)
		free(q->body);
	free(q);
	*state = NULL;
}

int kura_service_new(kura_service **out, const char *store, const kura_service_options *o, kura_error *err)
{
	kura_service *s = calloc(1, sizeof *s);
	*out = NULL;
	if (!s)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (o)
		s->o = *o;
	s->o.max_body = s->o.max_body ? s->o.max_body : 64u << 20;
	s->o.max_connections = s->o.max_connections ? s->o.max_connections : 1000;
	s->o.timeout = s->o.timeout ? s->o.timeout : 30;
	s->o.seal_every = s->o.seal_every ? s->o.seal_every : 60;
	snprintf(s->store, sizeof s->store, "%s", store);
	pthread_mutex_init(&s->lock, NULL);
	int rc = kura_store_open(&s->st, store, KURA_STORE_WRITE, err);
	if (rc == 0)
		rc = kura_scheduler_start(&s->scheduler, s->st, &s->lock, s->o.seal_every, s->o.log, s->o.ud, err);
	if (rc != 0) {
		kura_service_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* The PEM file path read whole into *out (the caller frees it). */
static int read_pem(char **out, const char *path, const char *what, kura_error *err)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 0;
	char buf[4096];
	*out = NULL;
	if (!f)
		return kura_error_sys(err, KURA_EINPUT, "reading the %s %s", what, path);
	for (size_t got; (got = fread(buf, 1, sizeof buf, f)) > 0 && n < (1u << 20);) {
		char *p = n + got + 1 > cap ? realloc(*out, cap = 2 * (n + got + 1)) : *out;
		if (!p) {
			fclose(f);
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		}
		*out = p;
		memcpy(*out + n, buf, got);
		n += got;
	}
	fclose(f);
	if (n)
		(*out)[n] = '\0'; /* room for it was kept */
	if (!n || !strstr(*out, "-----BEGIN "))
		return kura_error_set(err, KURA_EINPUT, "the %s %s is not PEM", what, path);
	return 0;
}

int kura_service_listen(kura_service *s, const struct sockaddr_in *addr, const char *listen, unsigned *bound_port,
			kura_error *err)
{
	int tls = s->o.tls_cert || s->o.tls_key;
	if (tls && !(s->o.tls_cert && s->o.tls_key))
		return kura_error_set(err, KURA_EINPUT, "TLS needs both a certificate and its key");
	int rc = tls ? read_pem(&s->tls_cert, s->o.tls_cert, "TLS certificate", err) : 0;
	if (rc == 0 && tls)
		rc = read_pem(&s->tls_key, s->o.tls_key, "TLS key", err);
	if (rc == 0 && s->o.client_ca)
		rc = tls ? read_pem(&s->client_ca, s->o.client_ca, "client CA certificate", err)
			 : kura_error_set(err, KURA_EINPUT, "client certificates need TLS: give --tls-cert and --tls-key "
						     "with --client-ca");
	if (rc == 0 && s->client_ca)
		rc = kura_client_cert_check_ca(s->client_ca, s->o.client_ca, err);
	if (rc != 0)
		return rc;
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_SOCK_ADDR, 0, (void *)addr},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)done, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout, NULL},
		{MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections, NULL},
		{MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADERS_MAX, NULL},
		{tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->tls_cert},
		{tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls_key},
		{s->client_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, s->client_ca},
		{MHD_OPTION_END, 0, NULL},
	};
	s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (tls ? MHD_USE_TLS : 0), 0, NULL,
				     NULL, handle, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!s->daemon)
		return kura_error_set(err, KURA_EIO, "cannot listen on %s (port in use or not allowed%s?)", listen,
				      tls ? ", or a TLS certificate and key that do not belong together" : "");
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info ? info->port : ntohs(addr->sin_port);
	logline(s, "serving %s on %s%s%s", s->store, listen, tls ? " with TLS" : "",
		s->client_ca ? " and client certificates" : "");
	return 0;
}

void kura_service_free(kura_service *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	kura_scheduler_stop(s->scheduler);
	kura_store_close(s->st);
	pthread_mutex_destroy(&s->lock);
	free(s->tls_cert);
	if (s->tls_key)
		OPENSSL_cleanse(s->tls_key, strlen(s->tls_key));
	free(s->tls_key);
	free(s->client_ca);
	free(s);
}
