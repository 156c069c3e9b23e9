/* The scheduler's work inside the preservation service (docs/SERVICE.md): one
 * process owns the store, so the service seals what is pending every few
 * seconds and renews what falls due, as `kura daemon` would, on its own thread
 * and under the store's writer lock (server/service.c: readers work meanwhile;
 * submissions, and the audit records every request waits for, wait for it),
 * but for the TSA requests of seals and renewals, made without it
 * (kura_seal_all_unlocking, kura_run_renewals_unlocking: a renewal also reads
 * the chains and objects it renews without it).
 * Each round's result goes into the store's state file and the alerts due are
 * sent as after a daemon's round (kura_daemon_note_round, renewal/alert.c),
 * without the lock: when the result changes, when the round did something, and
 * otherwise once a minute (the store's status it compares costs a read of the
 * store's index). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kura/clock.h"
#include "kura/policy.h"
#include "kura/renew.h"
#include "kura/seal.h"
#include "proof/seal.h"
#include "server/service.h"

#define ACTOR "kura-service"
#define NOTE_EVERY_MS 60000 /* a round's result is noted at least this often */

struct kura_scheduler {
	kura_store *st;
	pthread_mutex_t *lock;
	pthread_cond_t wake;
	int stopping;
	unsigned every;   /* seconds between rounds */
	int64_t next_due; /* of the renewals (INT64_MIN: run them in the next round) */
	void (*log)(void *ud, const char *line);
	void *ud;
	char path[4096];           /* the store's */
	const char *alert_command; /* NULL: the store's config.json "alert_command", if any */
	int last_rc;               /* of the last round noted (-1: none yet) */
	char last_message[1024];
	int64_t last_noted;
	pthread_t thread;
};

/* What a round did and how it ended. */
struct round {
	size_t sealed;
	int renewed; /* renewals ran */
	int rc;
	kura_error err;
};

static void say(kura_scheduler *s, const char *what, const kura_error *err)
{
	char line[1200];
	snprintf(line, sizeof line, "%s: %s", what, err->message);
	if (s->log)
		s->log(s->ud, line);
}

int kura_scheduler_seal(kura_store *st, pthread_mutex_t *lock, size_t *sealed, kura_error *err)
{
	int rc = kura_store_set_actor(st, ACTOR, err);
	if (rc == 0 && lock)
		rc = kura_seal_all_unlocking(sealed, st, KURA_SEAL_CHANGES, lock, err);
	else if (rc == 0)
		rc = kura_seal_all_flags(sealed, st, KURA_SEAL_CHANGES, NULL, err);
	return rc;
}

/* One round, the lock held: seal; renew when due. */
static void round_of(kura_scheduler *s, struct round *o)
{
	kura_error err = {0};
	int64_t now = 0;
	if ((o->rc = kura_scheduler_seal(s->st, s->lock, &o->sealed, &err)) != 0) {
		say(s, "sealing failed (it is tried again in the next round; kura status says more)", &err);
		o->err = err;
	}
	if (kura_clock_now(&now, NULL) != 0 || now < s->next_due)
		return;
	kura_run_report r = {0};
	o->renewed = 1;
	int rc = kura_store_set_actor(s->st, ACTOR, &err); /* the seal let the lock go: others set theirs */
	if (rc == 0)
		rc = kura_run_renewals_unlocking(&r, s->st, s->lock, &err);
	if (rc != 0) {
		say(s, "renewal failed (tried again in an hour)", &err);
		s->next_due = now + 3600 * 1000;
		if (o->rc == 0) {
			o->rc = rc;
			o->err = err;
		}
	} else /* at the latest in a day: new sunsets, new TSA certificates */
		s->next_due = r.next_due == KURA_NEVER || r.next_due > now + 86400000 ? now + 86400000 : r.next_due;
}

static void alert(void *ud, json_t *event, const char *command)
{
	kura_scheduler *s = ud;
	kura_alert_deliver(event, command, s->log, s->ud);
}

/* After a round, the lock released: its result noted, the alerts due sent. */
static void note(kura_scheduler *s, const struct round *o)
{
	int64_t now = 0;
	const char *message = o->rc ? o->err.message : "";
	if (kura_clock_now(&now, NULL) != 0)
		return;
	if (o->rc == s->last_rc && strcmp(message, s->last_message) == 0 && o->sealed == 0 && !o->renewed &&
	    now - s->last_noted < NOTE_EVERY_MS)
		return;
	kura_store *view = NULL;
	kura_error err = {0};
	if (kura_store_view_open(&view, s->st, &err) != 0) {
		say(s, "the round's result was not noted for kura status", &err);
		return;
	}
	kura_daemon_options d = {.log = s->log, .alert = alert, .alert_command = s->alert_command, .ud = s,
				 .runner = "kura serve"};
	kura_daemon_note_round(view, s->path, o->rc, message, &d);
	kura_store_close(view);
	s->last_rc = o->rc;
	snprintf(s->last_message, sizeof s->last_message, "%s", message);
	s->last_noted = now;
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
		if (s->stopping)
			break;
		struct round o = {0};
		round_of(s, &o);
		pthread_mutex_unlock(s->lock);
		note(s, &o);
		pthread_mutex_lock(s->lock);
	}
	pthread_mutex_unlock(s->lock);
	return NULL;
}

int kura_scheduler_start(kura_scheduler **out, kura_store *st, pthread_mutex_t *lock, unsigned every,
			 const char *alert_command, void (*log)(void *ud, const char *line), void *ud, kura_error *err)
{
	kura_scheduler *s = calloc(1, sizeof *s);
	*out = NULL;
	if (!s)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	*s = (kura_scheduler){.st = st, .lock = lock, .every = every, .next_due = INT64_MIN, .log = log, .ud = ud,
			      .alert_command = alert_command, .last_rc = -1};
	snprintf(s->path, sizeof s->path, "%s", kura_store_path(st));
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
