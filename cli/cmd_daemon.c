/* kura daemon STORE [--once]: the renewal scheduler. Each round seals what is
 * pending and renews what is due, logs what it did, then sleeps until the next
 * due time (at most an hour, so new objects are sealed promptly). A TSA that
 * fails is retried with growing pauses (the stamper moves through the TSA list
 * first). SIGTERM or SIGINT stops it cleanly between rounds. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kura/clock.h"
#include "policies/policy.h"
#include "renewal/run.h"

static const char usage[] = "kura daemon STORE [--once]";

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void logline(const char *fmt, const char *a, const char *b)
{
	int64_t now;
	char when[KURA_TIME_BUFSZ] = "?";
	if (kura_clock_now(&now, NULL) == 0)
		kura_time_format(when, now);
	fprintf(stderr, "%s kura daemon: ", when);
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
}

/* Sleeps up to secs, waking early when asked to stop. */
static void pause_for(long secs)
{
	for (long i = 0; i < secs && !stopping; i++)
		sleep(1);
}

static int round_once(const char *store, kura_run_report *r, kura_error *err)
{
	kura_store *st = NULL;
	int rc = kura_store_open(&st, store, KURA_STORE_WRITE, err);
	if (rc == 0)
		rc = kura_cli_seal(st, err);
	if (rc == 0)
		rc = kura_run_renewals(r, st, err);
	kura_store_close(st);
	return rc;
}

int kura_cmd_daemon(int argc, char **argv)
{
	int once = argc == 3 && strcmp(argv[2], "--once") == 0;
	if (!(argc == 2 || once) || argv[1][0] == '-')
		return kura_cli_usage(usage, "daemon takes a STORE and optionally --once");
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	long backoff = 60;
	int status = 0;
	logline("started on %s%s", argv[1], once ? " (one round)" : "");
	while (!stopping) {
		kura_error err = {0};
		kura_run_report r;
		int rc = round_once(argv[1], &r, &err);
		if (rc != 0) {
			logline("round failed: %s%s", err.message, "");
			status = kura_cli_exit_status(rc);
			if (once || status == 2) /* bad input: trying again will not help */
				break;
			logline("retrying in %s%s", backoff >= 3600 ? "an hour" : backoff >= 120 ? "a few minutes" : "a minute", "");
			pause_for(backoff);
			backoff = backoff * 2 > 3600 ? 3600 : backoff * 2;
			continue;
		}
		backoff = 60;
		status = kura_cli_report_run(&r, 0);
		if (once)
			break;
		int64_t now;
		long wait = 3600;
		if (r.next_due != KURA_NEVER && kura_clock_now(&now, NULL) == 0 && r.next_due > now &&
		    (r.next_due - now) / 1000 < wait)
			wait = (long)((r.next_due - now) / 1000) + 1;
		pause_for(wait > 0 ? wait : 1);
	}
	logline("stopped%s%s", "", "");
	return status;
}
