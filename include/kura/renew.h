/* Renewal: keeping evidence verifiable for decades. A renewal run rolls the
 * embedded TSA over when its certificate or key nears its end, then does every
 * renewal the planner says is due now, with as few time-stamps as possible (one
 * hash-tree renewal for all objects whose hash algorithm ends, one time-stamp
 * renewal per hash algorithm), and says what comes next. The scheduler
 * (`kura daemon`) runs rounds of sealing and renewing, sleeping until the next
 * due time (at most an hour, so new objects are sealed promptly); a round that
 * fails is retried with growing pauses (a minute, doubling up to an hour); bad
 * input, a format this kura does not read and a denied permission stop it:
 * trying again would not help. */
#ifndef KURA_PUBLIC_RENEW_H
#define KURA_PUBLIC_RENEW_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/seal.h"
#include "kura/store.h"

typedef struct kura_run_report {
	int rolled_over;        /* the embedded TSA got a new certificate */
	size_t chains_renewed;  /* time-stamp renewal */
	size_t objects_rehashed;/* hash-tree renewal: documents */
	size_t checkpoints_rehashed; /* and the audit trail's checkpoints with them (docs/RECORDS.md) */
	char rehash_to[16];
	size_t refused;         /* chains whose evidence was broken: not renewed */
	size_t overdue;         /* chains due after the run that it did not renew (refused ones
				 * among them): a person must act */
	size_t due_again;       /* chains the run renewed that are due again at once (their new
				 * time-stamp's certificate ends within the policy's margin) */
	int64_t next_due;       /* KURA_NEVER (kura/policy.h): nothing foreseen; INT64_MIN: overdue */
	char next_reason[400];
} kura_run_report;

/* Renews what is due now in st (open for writing); *r says what was done. */
int kura_run_renewals(kura_run_report *r, kura_store *st, kura_error *err);
/* The same for a store other threads write too (the preservation service): the
 * caller holds lock, the store's writer lock, on entry and on return; the run
 * lets it go while it reads the chains and objects (through a view of st) and
 * asks the TSA, and takes it to write each renewal (renewal/renew.h). */
int kura_run_renewals_unlocking(kura_run_report *r, kura_store *st, pthread_mutex_t *lock, kura_error *err);

/* What is due when: one JSON entry per live chain (chain, action, due,
 * due_now, reason, hash, objects), due now first, and the name of the store's
 * policy. Both are the caller's (json_decref, free). */
int kura_run_plan(json_t **plan, char **policy_name, kura_store *st, kura_error *err);

/* ---- the scheduler (renewal/daemon.c) ---- */
typedef struct kura_daemon_options {
	int once;                     /* one round, then return */
	volatile sig_atomic_t *stop;  /* set (by a signal handler) to stop between rounds and in pauses; may be NULL */
	/* what the scheduler does, as lines without their end ("started on STORE",
	 * "round failed: ..."), borrowed for the call */
	void (*log)(void *ud, const char *line);
	/* after every round that succeeded: what it did */
	void (*round)(void *ud, const kura_run_report *r);
	const kura_seal_events *seal; /* what each round's seal says; may be NULL */
	/* After every round the round's result goes into the store's state file and
	 * the store's status is compared with the alerts sent before (renewal/alert.h):
	 * alert hears of each event (JSON, borrowed: event, kind, severity, store,
	 * message, command, details, time, since) with the command to hand it to
	 * (alert_command, else the store's config.json "alert_command"; NULL: none).
	 * The caller runs it and logs (syslog). May be NULL: no alerts. */
	void (*alert)(void *ud, json_t *event, const char *alert_command);
	const char *alert_command;
	void *ud;
	/* who runs the rounds, noted with each round's result ("by") so that kura
	 * status says which: NULL is "kura daemon" */
	const char *runner;
} kura_daemon_options;

/* One round on the store at path: opened for writing, sealed, renewed, closed
 * (the round's result is not noted: kura_daemon_run does that). */
int kura_daemon_round(kura_run_report *r, const char *path, const kura_seal_events *seal, kura_error *err);

/* Runs rounds until *o->stop is set (or after one round with o->once). Returns
 * 0 when the last round succeeded, else that round's error code with err
 * saying what failed. */
int kura_daemon_run(const char *path, const kura_daemon_options *o, kura_error *err);

/* What kura_daemon_run does after each round, for a scheduler that runs its
 * rounds itself (the preservation service, server/scheduler.c): notes the
 * round's result (rc 0: ok; else failed with message) in the store's state
 * file, for kura status, and sends the alerts due to o->alert (o->log,
 * o->alert_command and o->ud as for kura_daemon_run; the rest unused). st: the
 * open store to read the status from (NULL: path is opened for reading).
 * Failures are logged through o->log, never returned. */
void kura_daemon_note_round(kura_store *st, const char *path, int rc, const char *message, const kura_daemon_options *o);

/* Hands one alert event (as o->alert gets it) on: to syslog (as opened by the
 * caller; LOG_DAEMON for kura's commands), to log (not its repeats while a
 * problem persists) and, unless command is NULL, to command (run by /bin/sh,
 * the event as one line of JSON on its standard input; SIGPIPE should be
 * ignored). A command that fails is said through log. */
void kura_alert_deliver(json_t *event, const char *command, void (*log)(void *ud, const char *line), void *ud);

#endif
