/* The group commit of the preservation service (docs/SERVICE.md): what many
 * requests write at about the same time -- the documents they submit and the
 * audit record of every request -- goes into the store in one commit: one
 * segment sync and one index write for all of them.
 *
 * INVARIANTS
 * - kura_group_commit returns 0 for an entry only after the commit holding its
 *   documents and its audit record returned, i.e. they are durable
 *   (archive/ingest.c, archive/store.c); the IDs it gives are then the ones a
 *   request may answer.
 * - One leader at a time: a request that finds no commit under way takes every
 *   entry waiting (its own among them) and commits them together under the
 *   store's writer lock; the others wait, each on its own semaphore, and find
 *   their result in their entry when the leader marks it done and wakes them.
 *   What arrives meanwhile waits for the next commit, whose leader (the first
 *   of those waiting) the finishing leader wakes alone: a commit wakes each
 *   thread once, never every thread to fight over the queue's lock.
 * - A failed commit fails every entry in it and acknowledges none of them: the
 *   segment is cut back to its committed end and the next commit is taken
 *   (archive/store.c; only a failed index write stops the writer handle).
 * - An entry whose documents are refused (its add fails) leaves none of them:
 *   everything added is dropped and the batch is made again without them; its
 *   audit record (saying the refusal) stays in the commit.
 * - Each entry's records carry its own account: the store's actor is set to it
 *   before its documents and its audit record are appended. */
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "kura/ingest.h"
#include "server/service.h"

/* A request waiting in kura_group_commit: on its own stack, woken once by its
 * own semaphore (to lead, or with its commit done), so that a commit does not
 * wake every waiting thread to fight over the queue's lock. */
struct waiter {
	kura_group_entry *e;
	sem_t wake;
	int lead; /* woken to lead the next commit (else: its entry is done) */
	struct waiter *next;
};

struct kura_group {
	kura_store *st;         /* the writer */
	pthread_mutex_t *wlock; /* the store's writer lock, held for a commit */
	pthread_mutex_t lock;   /* the queue's */
	struct waiter *head, *tail; /* waiting for the next commit */
	int busy;                   /* a leader is committing (or woken to) */
	unsigned long commits;      /* made so far (for tests and the log) */
	kura_ingest *in;            /* every commit's, kept (its compressor costs to make), under wlock */
};

int kura_group_new(kura_group **out, kura_store *st, pthread_mutex_t *wlock, kura_error *err)
{
	kura_group *g = calloc(1, sizeof *g);
	*out = g;
	if (!g)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	g->st = st;
	g->wlock = wlock;
	pthread_mutex_init(&g->lock, NULL);
	return 0;
}

void kura_group_free(kura_group *g)
{
	if (!g)
		return;
	kura_ingest_free(g->in); /* holds nothing: every try drops or commits what it added */
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* One try at committing list: 0 (committed; or failed: its error in *failed
 * and *err), or 1 when an entry's documents were refused (noted in it) and the
 * batch is to be made again without them. */
static int try_batch(kura_group *g, kura_group_entry *list, int *failed, kura_error *err)
{
	int rc = g->in ? 0 : kura_ingest_new(&g->in, g->st, NULL, NULL, err);
	kura_ingest *in = g->in;
	if (rc == 0)
		kura_ingest_hold(in); /* committed here, all together */
	for (kura_group_entry *e = list; rc == 0 && e; e = e->next) {
		rc = kura_store_set_actor(g->st, e->actor, err);
		if (rc == 0 && e->add && !e->refused) {
			size_t first = kura_ingest_pending(in);
			if ((e->refused = e->add(e->ud, in, &e->refusal)) != 0) {
				kura_ingest_drop(in); /* all that was added */
				return 1;
			}
			json_array_clear(e->ids);
			for (size_t i = first; i < kura_ingest_pending(in); i++)
				json_array_append_new(e->ids, json_string(kura_ingest_pending_id(in, i)));
			rc = kura_ingest_audit(in, err); /* the ingest's record of them, under e's account */
		}
		json_t *f = rc == 0 ? e->audit(e->ud, e->refused, &e->refusal, e->ids) : NULL;
		if (rc == 0)
			rc = f ? kura_ingest_add_audit(in, "api", f, err)
			       : kura_error_set(err, KURA_EINTERNAL, "out of memory");
		json_decref(f);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, err);
	if (in)
		kura_ingest_drop(in); /* after a failure: rolled back to the committed end */
	*failed = rc;
	return 0;
}

static void commit_list(kura_group *g, struct waiter *list)
{
	kura_error err = {0};
	int failed = 0;
	for (struct waiter *w = list; w; w = w->next) /* the entries' own chain, for try_batch */
		w->e->next = w->next ? w->next->e : NULL;
	pthread_mutex_lock(g->wlock);
	while (try_batch(g, list->e, &failed, &err) == 1)
		memset(&err, 0, sizeof err);
	pthread_mutex_unlock(g->wlock);
	for (struct waiter *w = list; w; w = w->next) {
		w->e->rc = failed;
		if (failed)
			w->e->err = err;
	}
}

static void wait_for(sem_t *s)
{
	while (sem_wait(s) != 0)
		; /* EINTR: a signal came; wait on */
}

int kura_group_commit(kura_group *g, kura_group_entry *e)
{
	e->next = NULL;
	e->done = 0;
	e->refused = 0;
	if (!e->ids && !(e->ids = json_array()))
		return kura_error_set(&e->err, KURA_EINTERNAL, "out of memory");
	struct waiter me = {.e = e};
	sem_init(&me.wake, 0, 0);
	pthread_mutex_lock(&g->lock);
	if (g->tail)
		g->tail->next = &me;
	else
		g->head = &me;
	g->tail = &me;
	if (!g->busy) /* no commit under way: this request leads the next */
		g->busy = me.lead = 1;
	pthread_mutex_unlock(&g->lock);
	if (!me.lead)
		wait_for(&me.wake);
	if (me.lead) {
		pthread_mutex_lock(&g->lock);
		struct waiter *list = g->head; /* me among them */
		g->head = g->tail = NULL;
		pthread_mutex_unlock(&g->lock);
		commit_list(g, list);
		pthread_mutex_lock(&g->lock);
		struct waiter *next = g->head; /* arrived meanwhile: the first leads the next commit */
		g->busy = next != NULL;
		if (next)
			next->lead = 1;
		g->commits++;
		pthread_mutex_unlock(&g->lock);
		for (struct waiter *w = list, *after; w; w = after) {
			after = w->next; /* w belongs to its request again once woken */
			w->e->done = 1;
			if (w != &me)
				sem_post(&w->wake);
		}
		if (next)
			sem_post(&next->wake);
	}
	sem_destroy(&me.wake);
	return e->rc;
}
unsigned long kura_group_commits(kura_group *g)
{
	pthread_mutex_lock(&g->lock);
	unsigned long n = g->commits;
	pthread_mutex_unlock(&g->lock);
	return n;
}
