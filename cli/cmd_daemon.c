/* kura daemon STORE [--once] [--alert-command CMD]: the renewal scheduler
 * (kura/renew.h, renewal/daemon.c): each round seals what is pending and renews
 * what is due, logs what it did, then sleeps until the next due time. SIGTERM or
 * SIGINT stops it cleanly between rounds. Alerts (renewal/alert.h) go to syslog
 * (LOG_DAEMON; journald under systemd), to the daemon's log on stderr (but their
 * repeats while a problem persists), and, with --alert-command or the store's
 * config.json "alert_command", to that command (run by /bin/sh, the event as one
 * line of JSON on its standard input). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"
#include "kura/clock.h"
#include "kura/renew.h"

static const char usage[] = "kura daemon STORE [--once] [--alert-command CMD]";
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

/* One alert: to syslog, to the daemon's log, and to the alert command. */
static void alert(void *ud, json_t *event, const char *command)
{
	fflush(stdout); /* the round's report before what the command prints */
	kura_alert_deliver(event, command, logline, ud);
}

int kura_cmd_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{"once", no_argument, NULL, 'o'}, {"alert-command", required_argument, NULL, 'a'}, {0}};
	int c, once = 0;
	const char *command = NULL;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'o')
			once = 1;
		else if (c == 'a' && *optarg)
			command = optarg;
		else
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1)
		return kura_cli_usage(usage, "daemon takes a STORE, and optionally --once and --alert-command CMD");
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* an alert command that does not read its input must not kill the daemon */
	openlog("kura", LOG_PID, LOG_DAEMON);
	struct round_status status = {argv[optind], 0};
	kura_daemon_options o = {.once = once, .stop = &stopping, .log = logline, .round = report,
				 .seal = &kura_cli_seal_events, .alert = alert, .alert_command = command, .ud = &status};
	kura_error err = {0};
	int rc = kura_daemon_run(argv[optind], &o, &err);
	closelog();
	return rc ? kura_cli_exit_status(rc) : status.status;
}
