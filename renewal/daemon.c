/* The renewal scheduler's loop (see kura/renew.h). It sleeps in steps of a second
 * so that a stop request is heard within one. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "kura/clock.h"
#include "policies/policy.h"
#include "kura/renew.h"
#include "renewal/alert.h"

static void logline(const kura_daemon_options *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logline(const kura_daemon_options *o, const char *fmt, ...)
{
	char line[8192];
	if (!o->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	o->log(o->ud, line);
}

static int stopping(const kura_daemon_options *o)
{
	return o->stop && *o->stop;
}

/* Sleeps up to secs, waking early when asked to stop. */
static void pause_for(const kura_daemon_options *o, long secs)
{
	for (long i = 0; i < secs && !stopping(o); i++)
		sleep(1);
}

int kura_daemon_round(kura_run_report *r, const char *path, const kura_seal_events *seal, kura_error *err)
{
	kura_store *st = NULL;
	int rc = kura_store_open(&st, path, KURA_STORE_WRITE, err);
	if (rc == 0)
		rc = kura_seal_all_flags(NULL, st, KURA_SEAL_CHANGES, seal, err);
	if (rc == 0)
		rc = kura_run_renewals(r, st, err);
	kura_store_close(st);
	return rc;
}

int kura_daemon_run(const char *path, const kura_daemon_options *o, kura_error *err)
{
	long backoff = 60;
	int status = 0;
	logline(o, "started on %s%s", path, o->once ? " (one round)" : "");
	while (!stopping(o)) {
		kura_error rerr = {0};
		kura_run_report r;
		int rc = kura_daemon_round(&r, path, o->seal, &rerr);
		kura_alert_round(path, rc, rerr.message, o);
		if (rc != 0) {
			logline(o, "round failed: %s", rerr.message);
			status = rc;
			if (err)
				*err = rerr;
			/* bad input, a format this kura does not read, no permission: trying again will not help */
			if (o->once || rc == KURA_EINPUT || rc == KURA_EUNSUPPORTED || rc == KURA_EDENIED || rc == KURA_EEXIST)
				break;
			logline(o, "retrying in %s", backoff >= 3600 ? "an hour" : backoff >= 120 ? "a few minutes" : "a minute");
			pause_for(o, backoff);
			backoff = backoff * 2 > 3600 ? 3600 : backoff * 2;
			continue;
		}
		backoff = 60;
		status = 0;
		if (o->round)
			o->round(o->ud, &r);
		if (o->once)
			break;
		int64_t now;
		long wait = 3600;
		if (r.next_due != KURA_NEVER && kura_clock_now(&now, NULL) == 0 && r.next_due > now &&
		    (r.next_due - now) / 1000 < wait)
			wait = (long)((r.next_due - now) / 1000) + 1;
		pause_for(o, wait > 0 ? wait : 1);
	}
	logline(o, "stopped");
	return status;
}
