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
 *   store's writer lock; the others wait on the condition variable and find
 *   their result in their entry when the leader marks it done. What arrives
 *   meanwhile waits for the next commit, led by one of those waiting.
 * - A failed commit fails every entry in it and acknowledges none of them: the
 *   segment is cut back to its committed end and the next commit is taken
 *   (archive/store.c; only a failed index write stops the writer handle).
 * - An entry whose documents are refused (its add fails) leaves none of them:
 *   everything added is dropped and the batch is made again without them; its
 *   audit record (saying the refusal) stays in the commit.
 * - Each entry's records carry its own account: the store's actor is set to it
 *   before its documents and its audit record are appended. */
#include <stdlib.h>
#include <string.h>

#include "kura/ingest.h"
#include "server/service.h"

struct kura_group {
	kura_store *st;         /* the writer */
	pthread_mutex_t *wlock; /* the store's writer lock, held for a commit */
	pthread_mutex_t lock;   /* the queue's */
	pthread_cond_t done;
	kura_group_entry *head, *tail; /* waiting for the next commit */
	int busy;                      /* a leader is committing */
	unsigned long commits;         /* made so far (for tests and the log) */
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
	pthread_cond_init(&g->done, NULL);
	return 0;
}

void kura_group_free(kura_group *g)
{
	if (!g)
		return;
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->done);
	free(g);
}

/* One try at committing list: 0 (committed; or failed: its error in *failed
 * and *err), or 1 when an entry's documents were refused (noted in it) and the
 * batch is to be made again without them. */
static int try_batch(kura_group *g, kura_group_entry *list, int *failed, kura_error *err)
{
	kura_ingest *in = NULL;
	int rc = kura_ingest_new(&in, g->st, NULL, NULL, err);
	if (rc == 0)
		kura_ingest_hold(in); /* committed here, all together */
	for (kura_group_entry *e = list; rc == 0 && e; e = e->next) {
		rc = kura_store_set_actor(g->st, e->actor, err);
		if (rc == 0 && e->add && !e->refused) {
			size_t first = kura_ingest_pending(in);
			if ((e->refused = e->add(e->ud, in, &e->refusal)) != 0) {
				kura_ingest_free(in); /* drops all that was added */
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
	kura_ingest_free(in); /* after a failure: rolled back to the committed end */
	*failed = rc;
	return 0;
}

static void commit_list(kura_group *g, kura_group_entry *list)
{
	kura_error err = {0};
	int failed = 0;
	pthread_mutex_lock(g->wlock);
	while (try_batch(g, list, &failed, &err) == 1)
		memset(&err, 0, sizeof err);
	pthread_mutex_unlock(g->wlock);
	for (kura_group_entry *e = list; e; e = e->next) {
		e->rc = failed;
		if (failed)
			e->err = err;
	}
}

int kura_group_commit(kura_group *g, kura_group_entry *e)
{
	e->next = NULL;
	e->done = 0;
	e->refused = 0;
	if (!e->ids && !(e->ids = json_array()))
		return kura_error_set(&e->err, KURA_EINTERNAL, "out of memory");
	pthread_mutex_lock(&g->lock);
	if (g->tail)
		g->tail->next = e;
	else
		g->head = e;
	g->tail = e;
	while (!e->done) {
		if (g->busy) {
			pthread_cond_wait(&g->done, &g->lock);
			continue;
		}
		kura_group_entry *list = g->head; /* e is among them */
		g->head = g->tail = NULL;
		g->busy = 1;
		pthread_mutex_unlock(&g->lock);
		commit_list(g, list);
		pthread_mutex_lock(&g->lock);
		for (kura_group_entry *x = list, *next; x; x = next) {
			next = x->next; /* x belongs to its request again once done */
			x->done = 1;
		}
		g->commits++;
		g->busy = 0;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->lock);
	return e->rc;
}

unsigned long kura_group_commits(kura_group *g)
{
	pthread_mutex_lock(&g->lock);
	unsigned long n = g->commits;
	pthread_mutex_unlock(&g->lock);
	return n;
}
