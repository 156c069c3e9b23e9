/* kura serve STORE --listen HOST:PORT [--tls-cert F --tls-key F [--client-ca F]] [--max-body BYTES] [--max-connections N]
 *            [--seal-every SECONDS] [--alert-command CMD]
 *
 * The preservation service (kura/serve.h, docs/SERVICE.md) until SIGINT or
 * SIGTERM: prints "listening on http://HOST:PORT/" once it listens, then one
 * line per request on standard error (never a token). The scheduler's alerts go
 * to syslog (LOG_DAEMON) and to the alert command as kura daemon's do. Also the parsing of
 * --listen that `kura tsa serve` shares. */
#include <arpa/inet.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"
#include "kura/serve.h"

static const char usage[] =
	"kura serve STORE --listen HOST:PORT [--tls-cert CERT.pem --tls-key KEY.pem [--client-ca CA.pem]]\n"
	"                  [--max-body BYTES] [--max-connections N] [--seal-every SECONDS] [--alert-command CMD]\n"
	"  --client-ca: a client certificate issued by CA.pem and bound to an account (kura user cert) signs in\n"
	"  --alert-command: the scheduler's alerts, as kura daemon's (default: config.json \"alert_command\")";
const char *const kura_usage_serve = usage; /* kura help, --help (cli/help.c) */

int kura_cli_listen(struct sockaddr_in *sa, char host[256], const char *listen, const char *usage_text)
{
	const char *colon = strrchr(listen, ':');
	unsigned long long port = 0; /* 0: any free port (it is printed) */
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (!colon || colon - listen >= 256 || kura_cli_number(&port, colon + 1, 0, 65535) != 0)
		return kura_cli_usage(usage_text, "--listen takes HOST:PORT (an IPv4 address), not '%s'", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa->sin_addr) != 1)
		return kura_cli_usage(usage_text, "--listen takes an IPv4 address, not '%s'", host);
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static void log_line(void *ud, const char *line)
{
	(void)ud;
	fprintf(stderr, "kura: serve: %s\n", line);
}

int kura_cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"max-body", required_argument, NULL, 'b'},
		{"max-connections", required_argument, NULL, 'c'},
		{"seal-every", required_argument, NULL, 'e'},
		{"tls-cert", required_argument, NULL, 't'},
		{"tls-key", required_argument, NULL, 'k'},
		{"client-ca", required_argument, NULL, 'C'},
		{"alert-command", required_argument, NULL, 'a'},
		{0},
	};
	const char *listen = NULL, *cert = NULL, *key = NULL, *client_ca = NULL, *alert_command = NULL;
	unsigned long long body = 0, conns = 0, every = 0;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			listen = optarg;
		else if (c == 't')
			cert = optarg;
		else if (c == 'k')
			key = optarg;
		else if (c == 'C')
			client_ca = optarg;
		else if (c == 'a' && *optarg)
			alert_command = optarg;
		else if (c == 'b' && kura_cli_number(&body, optarg, 1, 1ull << 40) == 0)
			;
		else if (c == 'c' && kura_cli_number(&conns, optarg, 1, 100000) == 0)
			;
		else if (c == 'e' && kura_cli_number(&every, optarg, 1, 86400) == 0)
			;
		else
			return kura_cli_usage(usage, "unknown, incomplete or out of range option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 1 || !listen)
		return kura_cli_usage(usage, "serve takes STORE and --listen HOST:PORT");
	if (!cert != !key)
		return kura_cli_usage(usage, "--tls-cert and --tls-key go together");
	if (client_ca && !cert)
		return kura_cli_usage(usage, "--client-ca needs TLS: give --tls-cert and --tls-key too");
	char host[256];
	struct sockaddr_in sa;
	int bad = kura_cli_listen(&sa, host, listen, usage);
	if (bad)
		return bad;
	kura_service_options o = {.max_body = (size_t)body, .max_connections = (unsigned)conns,
				  .seal_every = (unsigned)every, .tls_cert = cert, .tls_key = key, .client_ca = client_ca,
				  .alert_command = alert_command, .log = log_line};
	kura_error err = {0};
	kura_service *s = NULL;
	signal(SIGPIPE, SIG_IGN); /* an alert command that does not read its input must not kill the service */
	openlog("kura", LOG_PID, LOG_DAEMON);
	if (kura_service_new(&s, argv[optind], &o, &err) != 0)
		return kura_cli_fail(&err);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL); /* the service's thread inherits the mask */
	unsigned bound = 0;
	if (kura_service_listen(s, &sa, listen, &bound, &err) != 0) {
		kura_service_free(s);
		return kura_cli_fail(&err);
	}
	printf("listening on http%s://%s:%u/\n", cert ? "s" : "", host, bound);
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	kura_service_free(s);
	closelog();
	fprintf(stderr, "kura: service stopped\n");
	return 0;
}
