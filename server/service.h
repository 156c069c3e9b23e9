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
#include "kura/store.h"

typedef struct {
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
	char object[KURA_ID_LEN + 1]; /* the object the request concerned ("" none): its audit record names it */
	char certificate[65];         /* the SHA-256 of the client certificate sent ("" none): in the audit record */
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
/* Records management (server/records_ops.c). */
void kura_api_hold(kura_api_call *call);
void kura_api_hold_release(kura_api_call *call);
void kura_api_event(kura_api_call *call);
void kura_api_delete(kura_api_call *call);
void kura_api_dispose_approve(kura_api_call *call);
void kura_api_dispose_refuse(kura_api_call *call);

/* Answers with j (taken) as JSON. */
void kura_api_json(kura_api_call *call, unsigned status, json_t *j);
/* Answers {"error": message} with status. */
void kura_api_error(kura_api_call *call, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The HTTP status of a library error kind. */
unsigned kura_api_status(int kura_code);
/* 1 if the account may see object (its JSON description): an account limited to
 * collections sees the objects whose metadata "collection" is one of them. */
int kura_api_sees(const kura_user *u, json_t *object);

/* The scheduler's work in the service (server/scheduler.c): a thread that,
 * every `every` seconds and holding lock, seals what is pending and renews what
 * is due; failures go to log. */
typedef struct kura_scheduler kura_scheduler;
int kura_scheduler_start(kura_scheduler **out, kura_store *st, pthread_mutex_t *lock, unsigned every,
			 void (*log)(void *ud, const char *line), void *ud, kura_error *err);
/* Waits for a round under way to finish, then stops the thread. */
void kura_scheduler_stop(kura_scheduler *s);
/* Seals what is pending in st now (the caller holds the lock), as the service. */
int kura_scheduler_seal(kura_store *st, size_t *sealed, kura_error *err);

#endif
