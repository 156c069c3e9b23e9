/* What the preservation service's core (service.c: connections, accounts,
 * audit) hands an operation (operations.c), and what the operation gives back. */
#ifndef KURA_SERVER_SERVICE_H
#define KURA_SERVER_SERVICE_H

#include <pthread.h>
#include <stddef.h>

#include <jansson.h>
#include <microhttpd.h>

#include "kura/access.h"
#include "kura/id.h"
#include "kura/ingest.h"
#include "kura/store.h"

typedef struct kura_api_call {
	kura_store *st;
	struct MHD_Connection *c;
	const kura_user *user;
	const char *id; /* the ID in the path (checked), or NULL */
	const unsigned char *body;
	size_t n;
	/* the answer */
	unsigned status;
	void *out; /* malloc'd; NULL: none */
	size_t out_len;
	const char *type;
	const char *trail; /* NULL, or the Kura-Audit-Trail header's value (a limited account's package) */
	char object[KURA_ID_LEN + 1]; /* the object the request concerned ("" none): its audit record names it */
	char certificate[65];         /* the SHA-256 of the client certificate sent ("" none): in the audit record */
	/* Documents written in the group commit (commit.c) together with the
	 * request's audit record: an operation that submits sets status (its
	 * answer if all goes well), add, finish and pending (its own data). add is
	 * called with the commit's ingest, on whichever request's thread leads the
	 * commit; finish once, on the request's own thread, after the commit: ids
	 * the new objects' IDs, in order, when rc is 0; else rc and err say why
	 * (add refused, or the commit failed). finish frees pending. */
	int (*add)(struct kura_api_call *call, kura_ingest *in, kura_error *err);
	void (*finish)(struct kura_api_call *call, int rc, const kura_error *err, json_t *ids);
	void *pending;
	/* The store's writer and its lock, for what finish does to the store after
	 * the commit (?wait=sealed). */
	kura_store *writer;
	pthread_mutex_t *wlock;
} kura_api_call;

typedef void (*kura_api_fn)(kura_api_call *call);

/* The operations (server/operations.c). */
void kura_api_retrieve_info(kura_api_call *call);
void kura_api_preserve(kura_api_call *call);
void kura_api_retrieve(kura_api_call *call);
void kura_api_retrieve_evidence(kura_api_call *call);
void kura_api_describe(kura_api_call *call);
void kura_api_search(kura_api_call *call);
void kura_api_retrieve_trace(kura_api_call *call);
void kura_api_validate(kura_api_call *call);
void kura_api_openapi(kura_api_call *call);
/* New versions and metadata changes (server/update_ops.c). */
void kura_api_update(kura_api_call *call);
/* Export packages and reports (server/export_ops.c). */
void kura_api_package(kura_api_call *call);
void kura_api_packages(kura_api_call *call);
void kura_api_report(kura_api_call *call);
void kura_api_reports(kura_api_call *call);
/* The store's status and metrics (server/status_ops.c). */
void kura_api_store_status(kura_api_call *call);
void kura_api_metrics(kura_api_call *call);
/* Records management (server/records_ops.c). */
void kura_api_hold(kura_api_call *call);
void kura_api_hold_release(kura_api_call *call);
void kura_api_event(kura_api_call *call);
void kura_api_delete(kura_api_call *call);
void kura_api_dispose_approve(kura_api_call *call);
void kura_api_dispose_refuse(kura_api_call *call);

/* The accounts, for admins (server/user_ops.c). */
void kura_api_user_add(kura_api_call *call);
void kura_api_user_list(kura_api_call *call);
void kura_api_user_remove(kura_api_call *call);
void kura_api_user_cert(kura_api_call *call);

/* The web page (server/web.c): 1 if url is one of its paths (/ and /web/...),
 * which are public; kura_web_answer() queues its answer. */
int kura_web_is_page(const char *url);
enum MHD_Result kura_web_answer(struct MHD_Connection *c, const char *method, const char *url);

/* Answers with j (taken) as JSON. */
void kura_api_json(kura_api_call *call, unsigned status, json_t *j);
/* Answers with bytes (malloc'd, taken) of the given content type. */
void kura_api_bytes(kura_api_call *call, unsigned status, void *bytes, size_t len, const char *type);
/* Answers {"error": message} with status. */
void kura_api_error(kura_api_call *call, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Answers with the error err holds, with the status of its kind. */
void kura_api_fail(kura_api_call *call, const kura_error *err);
/* The HTTP status of a library error kind. */
unsigned kura_api_status(int kura_code);
/* The object of the call's ID if the account sees it (*out: the caller's, its
 * description); else answers 404 ("no object": whether it exists is not said)
 * and gives NULL. Sets call->object. */
json_t *kura_api_visible(kura_api_call *call);
/* The IDs (*out, a JSON array, the caller's) of the current versions matching
 * where (a JSON array of "FIELD OP VALUE" texts, ANDed) that the account sees. */
int kura_api_where(json_t **out, kura_api_call *call, json_t *where, kura_error *err);
/* The bytes of object id (checked: damaged ones are an error), *out malloc'd. */
int kura_api_read(unsigned char **out, size_t *len, kura_api_call *call, const char *id, kura_error *err);
/* Adds len bytes as a document named name with its metadata to in. */
int kura_api_ingest_bytes(kura_ingest *in, const unsigned char *bytes, size_t len, const char *name,
			  const kura_meta *meta, size_t nmeta, kura_error *err);
/* Answers 201 {"result": "ok", "poId": ids} for new objects (the first named in
 * the audit record), sealing them first when the query says wait=sealed. */
void kura_api_created(kura_api_call *call, json_t *ids);
/* 1 if the account may see object (its JSON description): an account limited to
 * collections sees the objects whose metadata "collection" is one of them. */
int kura_api_sees(const kura_user *u, json_t *object);
/* 1 if the account sees the object id and the current version of its record:
 * what changes a record (a new version, a hold, an event, a disposal) must
 * not reach a record moved out of the account's collections through an older
 * version's ID. */
int kura_api_sees_record(kura_api_call *call, const char *id);
/* For an account limited to collections, replaces in j (a trace, a report)
 * every ID of an object it does not see, and every description of one, by
 * "(not shown: another collection)": the audit records about a record (a hold,
 * an event, a disposal) may name records of other collections beside it, and
 * its versions may have been re-filed out of the account's collections. */
void kura_api_redact(kura_api_call *call, json_t *j);

/* What a request gives, taken as strictly by every route (server/input.c). */
#define KURA_API_META_MAX 64 /* metadata pairs of one document, in a query or a JSON body */
typedef struct kura_api_meta {
	kura_meta v[KURA_API_META_MAX];
	size_t n;
	char *text[KURA_API_META_MAX]; /* each pair's KEY\0VALUE (v points into them): the struct's own */
} kura_api_meta;
/* The query's meta=KEY=VALUE pairs into m (kura_api_meta_clear frees them): 0,
 * or KURA_EINPUT (err says which) for more than KURA_API_META_MAX of them, one
 * without '=' or one holding a NUL byte (%00), as the JSON form refuses them. */
int kura_api_query_meta(kura_api_meta *m, kura_api_call *call, kura_error *err);
void kura_api_meta_clear(kura_api_meta *m);
/* The query's argument key (*value NULL when it is not given): 0, or
 * KURA_EINPUT for one given twice, one holding a NUL byte (%00), or an empty
 * one when nonempty is set. */
int kura_api_query_arg(const char **value, kura_api_call *call, const char *key, int nonempty, kura_error *err);
/* The bytes (*out malloc'd, the caller's) of v, a JSON string of strict
 * base64 (common/base64.h): 0, or KURA_EINPUT naming field for anything else. */
int kura_api_base64(unsigned char **out, size_t *len, json_t *v, const char *field, kura_error *err);

/* The group commit (server/commit.c): every request's audit record, and the
 * documents it submits, committed with those of the requests waiting at the
 * same time. An entry is the request's until kura_group_commit returns. */
typedef struct kura_group kura_group;
typedef struct kura_group_entry {
	/* the request's */
	const char *actor; /* its account */
	/* its documents into in (NULL: none): 0, or a refusal (*err) */
	int (*add)(void *ud, kura_ingest *in, kura_error *err);
	/* its audit record's fields (a new reference; NULL: out of memory), given
	 * add's refusal (0: none) and the IDs of what add added */
	json_t *(*audit)(void *ud, int refused, const kura_error *refusal, json_t *ids);
	void *ud;
	/* the commit's */
	int refused;        /* add's refusal, in refusal */
	kura_error refusal;
	json_t *ids;        /* the IDs of the documents added (the caller decrefs it) */
	int rc;             /* of the commit: 0 (durable), or err */
	kura_error err;
	int done;
	struct kura_group_entry *next;
} kura_group_entry;
/* wlock is the store's writer lock (held by the leader while it commits). */
int kura_group_new(kura_group **out, kura_store *st, pthread_mutex_t *wlock, kura_error *err);
void kura_group_free(kura_group *g);
/* Commits e with the others waiting (see the invariants in commit.c): e->rc. */
int kura_group_commit(kura_group *g, kura_group_entry *e);
/* How many commits were made. */
unsigned long kura_group_commits(kura_group *g);

/* The scheduler's work in the service (server/scheduler.c): a thread that,
 * every `every` seconds and holding lock (the store's writer lock), seals what is pending and renews what
 * is due, letting the lock go while a TSA is asked; failures go to log; each round's result goes to the store's state
 * file and its alerts to syslog, log and alert_command (NULL: the store's
 * config.json "alert_command", if any), as the daemon's. */
typedef struct kura_scheduler kura_scheduler;
int kura_scheduler_start(kura_scheduler **out, kura_store *st, pthread_mutex_t *lock, unsigned every,
			 const char *alert_command, void (*log)(void *ud, const char *line), void *ud, kura_error *err);
/* Waits for a round under way to finish, then stops the thread. */
void kura_scheduler_stop(kura_scheduler *s);
/* Seals what is pending in st now, as the service: the caller holds the
 * store's writer lock; with lock (that lock) it is let go while the TSA is
 * asked (proof/seal.h); NULL: held throughout. */
int kura_scheduler_seal(kura_store *st, pthread_mutex_t *lock, size_t *sealed, kura_error *err);

#endif
