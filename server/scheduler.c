/* The scheduler's work inside the preservation service (docs/SERVICE.md): one
 * process owns the store, so the service seals what is pending every few
 * seconds and renews what falls due, as `kura daemon` would, on its own thread
 * and under the store's writer lock (server/service.c: readers work meanwhile;
 * submissions, and the audit records every request waits for, wait for it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kura/clock.h"
#include "kura/policy.h"
#include "kura/renew.h"
#include "kura/seal.h"
#include "server/service.h"

#define ACTOR "kura-service"

struct kura_scheduler {
	kura_store *st;
	pthread_mutex_t *lock;
	pthread_cond_t wake;
	int stopping;
	unsigned every;   /* seconds between rounds */
	int64_t next_due; /* of the renewals (INT64_MIN: run them in the next round) */
	void (*log)(void *ud, const char *line);
	void *ud;
	pthread_t thread;
};

static void say(kura_scheduler *s, const char *what, const kura_error *err)
{
	char line[1200];
	snprintf(line, sizeof line, "%s: %s", what, err->message);
	if (s->log)
		s->log(s->ud, line);
}

int kura_scheduler_seal(kura_store *st, size_t *sealed, kura_error *err)
{
	int rc = kura_store_set_actor(st, ACTOR, err);
	return rc ? rc : kura_seal_all_flags(sealed, st, KURA_SEAL_CHANGES, NULL, err);
}

/* One round, the lock held: seal; renew when due. */
static void round_of(kura_scheduler *s)
{
	kura_error err = {0};
	size_t sealed = 0;
	int64_t now = 0;
	if (kura_scheduler_seal(s->st, &sealed, &err) != 0)
		say(s, "sealing failed (it is tried again in the next round; kura status says more)", &err);
	if (kura_clock_now(&now, NULL) != 0 || now < s->next_due)
		return;
	kura_run_report r = {0};
	if (kura_run_renewals(&r, s->st, &err) != 0) {
		say(s, "renewal failed (tried again in an hour)", &err);
		s->next_due = now + 3600 * 1000;
	} else /* at the latest in a day: new sunsets, new TSA certificates */
		s->next_due = r.next_due == KURA_NEVER || r.next_due > now + 86400000 ? now + 86400000 : r.next_due;
}

static void *run(void *arg)
{
	kura_scheduler *s = arg;
	pthread_mutex_lock(s->lock);
	while (!s->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += s->every;
		while (!s->stopping && pthread_cond_timedwait(&s->wake, s->lock, &until) != ETIMEDOUT)
			;
		if (!s->stopping)
			round_of(s);
	}
	pthread_mutex_unlock(s->lock);
	return NULL;
}

int kura_scheduler_start(kura_scheduler **out, kura_store *st, pthread_mutex_t *lock, unsigned every,
			 void (*log)(void *ud, const char *line), void *ud, kura_error *err)
{
	kura_scheduler *s = calloc(1, sizeof *s);
	*out = NULL;
	if (!s)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	*s = (kura_scheduler){.st = st, .lock = lock, .every = every, .next_due = INT64_MIN, .log = log, .ud = ud};
	pthread_cond_init(&s->wake, NULL);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		pthread_cond_destroy(&s->wake);
		free(s);
		return kura_error_set(err, KURA_EINTERNAL, "cannot start the service's scheduler thread");
	}
	*out = s;
	return 0;
}

void kura_scheduler_stop(kura_scheduler *s)
{
	if (!s)
		return;
	pthread_mutex_lock(s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->wake);
	free(s);
}
