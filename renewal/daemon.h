/* The renewal scheduler (what `kura daemon` runs). Each round seals what is
 * pending and renews what is due (renewal/run.h), then sleeps until the next
 * due time (at most an hour, so new objects are sealed promptly). A round that
 * fails is retried with growing pauses (a minute, doubling up to an hour; the
 * stamper moves through the TSA list first); bad input (KURA_EINPUT) stops it. */
#ifndef KURA_DAEMON_H
#define KURA_DAEMON_H

#include <signal.h>

#include "proof/seal.h"
#include "renewal/run.h"

typedef struct kura_daemon_options {
	int once;                     /* one round, then return */
	volatile sig_atomic_t *stop;  /* set (by a signal handler) to stop between rounds and in pauses; may be NULL */
	/* what the scheduler does, as lines without their end ("started on STORE", "round failed: ...") */
	void (*log)(void *ud, const char *line);
	/* after every round that succeeded: what it did */
	void (*round)(void *ud, const kura_run_report *r);
	const kura_seal_events *seal; /* what each round's seal says; may be NULL */
	void *ud;
} kura_daemon_options;

/* One round on the store at path: opened for writing, sealed, renewed, closed. */
int kura_daemon_round(kura_run_report *r, const char *path, const kura_seal_events *seal, kura_error *err);

/* Runs rounds until *o->stop is set (or after one round with o->once). Returns
 * 0 when the last round succeeded, else that round's error code with err
 * saying what failed. */
int kura_daemon_run(const char *path, const kura_daemon_options *o, kura_error *err);

#endif
