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
 *   nothing of what it asked for. The one exception is bounded and counted:
 *   past REFUSALS_RECORDED refusals without an account from one address within
 *   REFUSALS_EVERY seconds, further ones in that interval are answered at once
 *   and counted, and the count goes into the next record of a refusal from that
 *   address (or, when the service stops, a record of its own): a flood of bad
 *   tokens cannot fill the audit trail, and that refusals happened is never lost.
 * - A token is read from the Authorization header, compared as a hash
 *   (access/users.c) and never written anywhere: not in a log line, not in an
 *   audit record, not even when a client puts it in the path (mask_tokens).
 *
 * THREADS
 * - One thread per connection (libmicrohttpd): a handler may block -- on the
 *   group commit's sync, a seal, a large verification -- and holds up only its
 *   own connection; a slow or stalled client (a body sent byte by byte, an
 *   answer not read) likewise. Bodies, headers, connections and idle time are
 *   bounded, and one client address may hold at most three quarters of the
 *   connections, so clients holding connections open from one address cannot
 *   shut out the others.
 * - The store's writer handle (s->st) is used only under s->wlock: by the
 *   routes marked "writes", by the group commit's leader (commit.c) and by the
 *   scheduler (scheduler.c). A seal lets the lock go while it asks its TSA and
 *   does not touch the store meanwhile (kura_seal_all_unlocking); a renewal
 *   lets it go while it reads (through a view) and asks its TSA
 *   (kura_run_renewals_unlocking).
 * - Every other route reads through a view of its own (kura_store_view_open):
 *   it shares the index (RocksDB is safe for threads) and the segments (read
 *   with pread through its own blob reader) and takes no lock, so a reader
 *   never waits for a writer's sync. Its audit record then joins the next group
 *   commit like every request's.
 * - Documents submitted (PreservePO) are added by the group commit's leader,
 *   together with the audit records of every request waiting: one segment sync
 *   and one index write for them all (commit.c). */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/id.h"
#include "kura/escape.h"
#include "kura/serve.h"
#include "server/client_cert.h"
#include "server/service.h"

#define API "/api/v1/"
#define HEADERS_MAX (64u << 10)
#define TLS_VERSIONS "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" /* GnuTLS: not 1.0 or 1.1 (RFC 8996) */
#define PATH_KEPT 1024 /* bytes of a request's path its audit record keeps (anyone may send a long one) */
#define REFUSALS_EVERY 10    /* seconds: refusals without an account from one address... */
#define REFUSALS_RECORDED 20 /* ...recorded one by one in each such interval; the rest counted */
#define REFUSERS 256      /* addresses whose refusals are counted at once (more: each is recorded) */

struct refuser {
	char addr[64];          /* "" free */
	time_t since;           /* the start of its interval */
	unsigned recorded;      /* refusals recorded in it */
	unsigned long counted;  /* refusals answered without a record of their own since its last record */
};

struct kura_service {
	kura_store *st; /* open for writing while the service lives; used under wlock */
	char store[4096];
	kura_service_options o;
	struct MHD_Daemon *daemon;
	pthread_mutex_t wlock; /* the store's writer: writing routes, the group commit and the scheduler take turns */
	kura_group *group;
	kura_scheduler *scheduler;
	char *tls_cert, *tls_key; /* PEM, in memory while the daemon runs; NULL: plain HTTP */
	char *client_ca;          /* PEM: client certificates are asked for and checked (client_cert.c); NULL: not */
	pthread_mutex_t refusers_lock;
	struct refuser refusers[REFUSERS];
};

struct request {
	unsigned char *body;
	size_t n, cap;
	kura_user u;           /* its account, admitted when its headers came (admitted()) */
	char certificate[65];  /* the SHA-256 of the client certificate sent ("" none) */
	int public;            /* /health or the web page: no account, and a body is dropped unread */
};

static const struct route {
	const char *method, *path; /* path: exact, or a prefix ending in '/' followed by an ID and suffix */
	const char *suffix;        /* after the ID; NULL: no ID */
	kura_action action;
	kura_api_fn fn;
	int writes; /* 1: runs with the store's writer under its lock; 0: reads through a view of its own
		     * (PreservePO: its documents go in the group commit, call->add) */
} routes[] = {
	{"GET", API "openapi.json", NULL, KURA_DO_READ, kura_api_openapi, 0},
	{"GET", API "RetrieveInfo", NULL, KURA_DO_READ, kura_api_retrieve_info, 0},
	{"POST", API "PreservePO", NULL, KURA_DO_SUBMIT, kura_api_preserve, 0},
	{"POST", API "Search", NULL, KURA_DO_SEARCH, kura_api_search, 0},
	{"GET", API "po/", "", KURA_DO_READ, kura_api_retrieve, 0},
	{"GET", API "po/", "/evidence", KURA_DO_READ, kura_api_retrieve_evidence, 0},
	{"GET", API "po/", "/info", KURA_DO_READ, kura_api_describe, 0},
	{"GET", API "po/", "/trace", KURA_DO_READ, kura_api_retrieve_trace, 0},
	{"POST", API "ValidateEvidence", NULL, KURA_DO_VERIFY, kura_api_validate, 0},
	{"POST", API "Hold", NULL, KURA_DO_RECORDS, kura_api_hold, 1},
	{"POST", API "HoldRelease", NULL, KURA_DO_RECORDS, kura_api_hold_release, 1},
	{"POST", API "Event", NULL, KURA_DO_RECORDS, kura_api_event, 1},
	{"POST", API "DeletePO", NULL, KURA_DO_DISPOSE_REQUEST, kura_api_delete, 1},
	{"POST", API "DisposalApprove", NULL, KURA_DO_DISPOSE_APPROVE, kura_api_dispose_approve, 1},
	{"POST", API "DisposalRefuse", NULL, KURA_DO_DISPOSE_APPROVE, kura_api_dispose_refuse, 1},
	{"POST", API "UpdatePOC", NULL, KURA_DO_SUBMIT, kura_api_update, 1},
	{"GET", API "po/", "/package", KURA_DO_EXPORT, kura_api_package, 0},
	{"POST", API "RetrievePO", NULL, KURA_DO_EXPORT, kura_api_packages, 0},
	{"GET", API "po/", "/report", KURA_DO_EXPORT, kura_api_report, 0},
	{"POST", API "Report", NULL, KURA_DO_EXPORT, kura_api_reports, 0},
	{"GET", API "status", NULL, KURA_DO_STATUS, kura_api_store_status, 0},
	{"GET", "/metrics", NULL, KURA_DO_STATUS, kura_api_metrics, 0},
	{"POST", API "UserAdd", NULL, KURA_DO_ADMIN, kura_api_user_add, 1},
	{"GET", API "UserList", NULL, KURA_DO_ADMIN, kura_api_user_list, 0},
	{"POST", API "UserRemove", NULL, KURA_DO_ADMIN, kura_api_user_remove, 1},
	{"POST", API "UserCert", NULL, KURA_DO_ADMIN, kura_api_user_cert, 1},
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

/* libmicrohttpd's own messages: a request it answers itself before any route
 * sees it (headers too large, a malformed request line), a TLS handshake that
 * failed. Those requests reach no audit record (a flood of them would flood the
 * trail); the log says they came. Escaped: they may quote what a client sent. */
static void mhd_message(void *cls, const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	char *esc = kura_escape(line, strlen(line));
	logline(cls, "libmicrohttpd: %s", esc ? esc : "(out of memory)");
	free(esc);
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

/* The token of an Authorization header's value h ("Bearer TOKEN"; the scheme in
 * any case and one or more spaces after it, RFC 7235 and 6750), or NULL. */
static const char *bearer(const char *h)
{
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	for (h += 7; *h == ' ';)
		h++;
	return h;
}

/* The account of the request's client certificate (with --client-ca) or bearer
 * token: 0, KURA_EDENIED (none or a wrong one), or another error (the accounts
 * cannot be read). */
static int account(kura_service *s, kura_api_call *call, kura_user *u, kura_error *err)
{
	const char *h = MHD_lookup_connection_value(call->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *token = bearer(h);
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

/* What the group commit needs of a request for its audit record. */
struct audited {
	kura_api_call *call;
	char *m, *path;        /* the method and path, escaped (the sender's bytes), the path cut */
	char from[64];         /* the client's address, for a refusal without an account ("": not named) */
	unsigned long counted; /* refusals from there answered without a record since its last one */
};

static json_t *audit_fields(void *ud, int refused, const kura_error *refusal, json_t *ids)
{
	struct audited *a = ud;
	kura_api_call *call = a->call;
	if (refused) /* its documents were refused: so is the request */
		kura_api_error(call, kura_api_status(refused), "%s", refusal->message);
	else if (json_array_size(ids))
		snprintf(call->object, sizeof call->object, "%s", json_string_value(json_array_get(ids, 0)));
	json_t *f = json_pack("{s:s, s:s, s:i}", "method", a->m, "path", a->path, "status", (int)call->status);
	if (f && call->object[0])
		json_object_set_new(f, "object", json_string(call->object));
	if (f && call->certificate[0]) /* its SHA-256: who signed in with what, or tried to */
		json_object_set_new(f, "certificate", json_string(call->certificate));
	if (f && a->from[0])
		json_object_set_new(f, "from", json_string(a->from));
	if (f && a->counted)
		json_object_set_new(f, "refusedUnrecorded", json_integer((json_int_t)a->counted));
	return f;
}

static int add_documents(void *ud, kura_ingest *in, kura_error *err)
{
	struct audited *a = ud;
	return a->call->add(a->call, in, err);
}

/* A refusal without an account: 1 when it is only counted (REFUSALS_RECORDED
 * from the same address were recorded in its interval); 0 when it is to be
 * recorded, with a->from and the count of those only counted before it. */
static int refusal_counted(kura_service *s, struct MHD_Connection *c, struct audited *a)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t len = sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (!sa || getnameinfo(sa, len, a->from, sizeof a->from, NULL, 0, NI_NUMERICHOST) != 0)
		return a->from[0] = '\0', 0;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct refuser *r = NULL, *spare = NULL;
	pthread_mutex_lock(&s->refusers_lock);
	for (size_t i = 0; !r && i < REFUSERS; i++) {
		struct refuser *x = &s->refusers[i];
		if (strcmp(x->addr, a->from) == 0)
			r = x;
		else if (!spare && (!x->addr[0] || (now.tv_sec - x->since >= REFUSALS_EVERY && !x->counted)))
			spare = x;
	}
	int counted = r && now.tv_sec - r->since < REFUSALS_EVERY && r->recorded >= REFUSALS_RECORDED;
	if (counted)
		r->counted++;
	else if (r && now.tv_sec - r->since < REFUSALS_EVERY)
		r->recorded++;
	else if (r || (r = spare)) { /* a new interval */
		a->counted = strcmp(r->addr, a->from) == 0 ? r->counted : 0;
		snprintf(r->addr, sizeof r->addr, "%s", a->from);
		r->since = now.tv_sec;
		r->recorded = 1;
		r->counted = 0;
	}
	pthread_mutex_unlock(&s->refusers_lock);
	return counted;
}

/* Gives back counts taken for a record that was not written. */
static void refusals_uncounted(kura_service *s, const struct audited *a)
{
	pthread_mutex_lock(&s->refusers_lock);
	for (size_t i = 0; a->counted && i < REFUSERS; i++)
		if (strcmp(s->refusers[i].addr, a->from) == 0)
			s->refusers[i].counted += a->counted;
	pthread_mutex_unlock(&s->refusers_lock);
}

/* Overwrites with x's what in text looks like an account's token (kura_ and
 * hex digits, access/users.c), or the start of one: a client that put its
 * token in a path by mistake leaves it in no log line and no audit record. */
static void mask_tokens(char *text)
{
	for (char *p = text; p && (p = strstr(p, "kura_")); p += 5)
		memset(p + 5, 'x', strspn(p + 5, "0123456789abcdefABCDEF"));
}

/* The audit record of the request, in the group commit with what the request
 * submits (call->add); then call->finish. 0, or -1 (the call now answers 503). */
static int record(kura_service *s, kura_api_call *call, const char *method, const char *url)
{
	const char *who = call->user ? call->user->name : "anonymous";
	struct audited a = {.call = call, .m = kura_escape(method, strnlen(method, 64)),
			    .path = kura_escape(url, strnlen(url, PATH_KEPT))};
	kura_group_entry e = {.actor = who, .add = call->add ? add_documents : NULL, .audit = audit_fields, .ud = &a};
	int rc = 0, counted = 0;
	mask_tokens(a.m);
	mask_tokens(a.path);
	if (!a.m || !a.path)
		rc = kura_error_set(&e.err, KURA_EINTERNAL, "out of memory");
	else if (!call->user && call->status == MHD_HTTP_UNAUTHORIZED && (counted = refusal_counted(s, call->c, &a)))
		; /* counted: its number is in the next record of a refusal from there */
	else if ((rc = kura_group_commit(s->group, &e)) != 0 && a.counted)
		refusals_uncounted(s, &a);
	if (call->finish)
		call->finish(call, rc ? rc : e.refused, rc ? &e.err : &e.refusal, e.ids);
	json_decref(e.ids);
	logline(s, "%s %s %u %s%s%s%s", a.m ? a.m : "?", a.path ? a.path : "?", call->status, who,
		counted ? " (counted)" : "", rc ? ": not recorded: " : "", rc ? e.err.message : "");
	free(a.m);
	free(a.path);
	if (rc == 0)
		return 0;
	free(call->out);
	call->out = NULL;
	kura_api_error(call, MHD_HTTP_SERVICE_UNAVAILABLE, "the request could not be recorded in the audit trail (%s); "
							   "nothing was answered", e.err.message);
	return -1;
}

static enum MHD_Result count_lengths(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	(void)value;
	unsigned *n = cls;
	n[0] += strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0;
	n[1] += strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0;
	return MHD_YES;
}

/* 0 if the request says its body's length one way only; else -1 with the call
 * answered 400 (a proxy in front could take another length than ours, and
 * smuggle a request inside a body). */
static int one_length(kura_api_call *call)
{
	unsigned n[2] = {0, 0};
	MHD_get_connection_values(call->c, MHD_HEADER_KIND, count_lengths, n);
	if (n[0] + n[1] <= 1)
		return 0;
	kura_api_error(call, MHD_HTTP_BAD_REQUEST, "the body's length is given %u ways: send one Content-Length, or "
						   "Transfer-Encoding: chunked alone", n[0] + n[1]);
	return -1;
}

/* The request's account, route and role, checked as soon as its headers are in
 * (before any body is read: what a client without an account or the right role
 * sends is never kept): the route, with its ID in id; or NULL with the call
 * answered (401, 404, 405, 403 or 503). call->user is set when the account is
 * known (*u: kura_user_clear). */
static const struct route *admitted(kura_service *s, kura_api_call *call, const char *method, const char *url,
				    kura_user *u, char id[KURA_ID_LEN + 1])
{
	int known;
	const struct route *r = route_of(method, url, id, &known);
	if (authenticate(s, call, u) != 0)
		return NULL; /* answered 401 */
	call->user = u;
	if (!r)
		kura_api_error(call, known ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND, "%s %s: no such operation",
			       method, url);
	else if (!kura_role_allows(u->role, r->action))
		kura_api_error(call, MHD_HTTP_FORBIDDEN, "an account with role %s may not do this",
			       kura_role_name(u->role));
	return call->status ? NULL : r;
}

/* Runs the admitted request (call->user set) and records it. */
static void serve(kura_service *s, kura_api_call *call, const char *method, const char *url)
{
	char id[KURA_ID_LEN + 1];
	int known;
	kura_error err = {0};
	kura_store *view = NULL;
	const struct route *r = route_of(method, url, id, &known);
	if (r->writes) {
		pthread_mutex_lock(&s->wlock);
		if (kura_store_set_actor(s->st, call->user->name, &err) != 0) /* what the operation writes is the account's */
			kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.message);
		else {
			call->id = r->suffix ? id : NULL;
			call->st = s->st;
			r->fn(call);
		}
		pthread_mutex_unlock(&s->wlock);
	} else if (kura_store_view_open(&view, s->st, &err) != 0)
		kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.message);
	else {
		call->id = r->suffix ? id : NULL;
		call->st = view;
		r->fn(call);
	}
	record(s, call, method, url);
	call->st = NULL;
	kura_store_close(view);
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
	if (call->trail)
		MHD_add_response_header(r, "Kura-Audit-Trail", call->trail);
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
	kura_api_call call = {.c = c, .writer = s->st, .wlock = &s->wlock};
	if (q && q->u.name) { /* admitted when its headers came */
		call.user = &q->u;
		memcpy(call.certificate, q->certificate, sizeof call.certificate);
	}
	if (!q) { /* the headers are in: admit the request, and refuse a body announced too large, before it comes */
		const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		char id[KURA_ID_LEN + 1];
		if (!(q = *state = calloc(1, sizeof *q)))
			return MHD_NO;
		if ((q->public = strcmp(url, "/health") == 0 || kura_web_is_page(url)))
			return MHD_YES; /* a body sent with it is dropped (below) */
		if (admitted(s, &call, method, url, &q->u, id) && one_length(&call) == 0) {
			memcpy(q->certificate, call.certificate, sizeof q->certificate);
			if (!(len && strtoull(len, NULL, 10) > s->o.max_body))
				return MHD_YES;
			kura_api_error(&call, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than the %zu bytes allowed",
				       s->o.max_body);
		}
		q->n = SIZE_MAX; /* answered: a body that comes is read and dropped */
	} else if (*size && q->public) {
		*size = 0;
		return MHD_YES;
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
		serve(s, &call, method, url);
		return answer(c, &call);
	}
	record(s, &call, method, url);
	return answer(c, &call);
}

static void done(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)c;
	(void)why;
	struct request *q = *state;
	if (q) {
		free(q->body);
		kura_user_clear(&q->u);
	}
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
	s->o.max_connections = s->o.max_connections ? s->o.max_connections : 2000;
	s->o.timeout = s->o.timeout ? s->o.timeout : 30;
	s->o.seal_every = s->o.seal_every ? s->o.seal_every : 60;
	snprintf(s->store, sizeof s->store, "%s", store);
	pthread_mutex_init(&s->wlock, NULL);
	pthread_mutex_init(&s->refusers_lock, NULL);
	json_object_seed(0); /* before the threads: jansson's hashing seed is set once */
	int rc = kura_store_open(&s->st, store, KURA_STORE_WRITE, err);
	if (rc == 0)
		rc = kura_group_new(&s->group, s->st, &s->wlock, err);
	if (rc == 0)
		rc = kura_scheduler_start(&s->scheduler, s->st, &s->wlock, s->o.seal_every, s->o.alert_command, s->o.log,
					  s->o.ud, err);
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
	struct rlimit fds; /* a descriptor for each connection, and the store's files besides */
	if (getrlimit(RLIMIT_NOFILE, &fds) == 0 && fds.rlim_cur < s->o.max_connections + 1024u) {
		fds.rlim_cur = fds.rlim_max < s->o.max_connections + 1024u ? fds.rlim_max : s->o.max_connections + 1024u;
		setrlimit(RLIMIT_NOFILE, &fds);
	}
	struct MHD_OptionItem opts[] = {
		{MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_message, s}, /* first: it takes the messages of the rest */
		{MHD_OPTION_SOCK_ADDR, 0, (void *)addr},
		{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)done, NULL},
		{MHD_OPTION_CONNECTION_TIMEOUT, s->o.timeout, NULL},
		{MHD_OPTION_CONNECTION_LIMIT, s->o.max_connections, NULL},
		/* one address (a client holding connections open idle) never takes the last quarter */
		{MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->o.max_connections - s->o.max_connections / 4, NULL},
		{MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADERS_MAX, NULL},
		{tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, s->tls_cert},
		{tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, s->tls_key},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_VERSIONS},
		{s->client_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, s->client_ca},
		{MHD_OPTION_END, 0, NULL},
	};
	/* a thread per connection: see THREADS above (poll: more than 1,024 descriptors) */
	s->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
					     (tls ? MHD_USE_TLS : 0),
				     0, NULL, NULL, handle, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!s->daemon)
		return kura_error_set(err, KURA_EIO, "cannot listen on %s (port in use or not allowed%s?)", listen,
				      tls ? ", or a TLS certificate and key that do not belong together" : "");
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info ? info->port : ntohs(addr->sin_port);
	char what[512]; /* a writing kura command fails at once, naming the service, instead of waiting for ever */
	const char *colon = strrchr(listen, ':');
	snprintf(what, sizeof what, "kura serve on http%s://%.*s:%u/", tls ? "s" : "", colon ? (int)(colon - listen) : 0,
		 listen, *bound_port);
	kura_error herr = {0};
	if (kura_store_hold(s->st, what, &herr) != 0)
		logline(s, "kura commands that write will wait for the service rather than fail at once: %s", herr.message);
	logline(s, "serving %s on %s%s%s", s->store, listen, tls ? " with TLS" : "",
		s->client_ca ? " and client certificates" : "");
	return 0;
}

/* When the service stops: a record of the refusals only counted since the
 * last record from their address (no request is served any more). */
static void record_counted(kura_service *s)
{
	for (size_t i = 0; s->st && i < REFUSERS; i++) {
		struct refuser *r = &s->refusers[i];
		kura_error err = {0};
		json_t *f = r->counted ? json_pack("{s:s, s:s, s:i, s:s, s:I}", "method", "", "path", "", "status", MHD_HTTP_UNAUTHORIZED,
						  "from", r->addr, "refusedUnrecorded", (json_int_t)r->counted)
				       : NULL;
		if (f && (kura_store_set_actor(s->st, "anonymous", &err) != 0 ||
			  kura_store_audit_record(s->st, "api", f, NULL, &err) != 0))
			logline(s, "%lu refusals from %s could not be recorded: %s", r->counted, r->addr, err.message);
		json_decref(f);
	}
}

void kura_service_free(kura_service *s)
{
	if (!s)
		return;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	kura_scheduler_stop(s->scheduler);
	record_counted(s);
	kura_group_free(s->group);
	kura_store_close(s->st);
	pthread_mutex_destroy(&s->wlock);
	pthread_mutex_destroy(&s->refusers_lock);
	free(s->tls_cert);
	if (s->tls_key)
		OPENSSL_cleanse(s->tls_key, strlen(s->tls_key));
	free(s->tls_key);
	free(s->client_ca);
	free(s);
}
