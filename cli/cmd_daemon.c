/* kura daemon STORE [--once]: the renewal scheduler (kura/renew.h, renewal/daemon.c): each
 * round seals what is pending and renews what is due, logs what it did, then
 * sleeps until the next due time. SIGTERM or SIGINT stops it cleanly between
 * rounds. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/renew.h"

static const char usage[] = "kura daemon STORE [--once]";
const char *const kura_usage_daemon = usage; /* kura help, --help (cli/help.c) */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void logline(void *ud, const char *line)
{
	(void)ud;
	int64_t now;
	char when[KURA_TIME_BUFSZ] = "?";
	if (kura_clock_now(&now, NULL) == 0)
		kura_time_format(when, now);
	fprintf(stderr, "%s kura daemon: %s\n", when, line);
}

struct round_status {
	const char *store;
	int status;
};

static void report(void *ud, const kura_run_report *r)
{
	struct round_status *s = ud;
	s->status = kura_cli_report_run(r, 0, s->store);
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
	struct round_status status = {argv[1], 0};
	kura_daemon_options o = {.once = once, .stop = &stopping, .log = logline, .round = report,
				 .seal = &kura_cli_seal_events, .ud = &status};
	kura_error err = {0};
	int rc = kura_daemon_run(argv[1], &o, &err);
	return rc ? kura_cli_exit_status(rc) : status.status;
}
