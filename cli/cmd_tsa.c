/* kura tsa ca STORE                 print the embedded TSA's trust anchors (PEM)
 * kura tsa urls STORE [--set URL... | --embedded]
 *   shows or changes the TSAs the store time-stamps with (logged in the audit trail)
 * kura tsa certify | uncertify | certified: certified TSAs (cli/cmd_tsa_certify.c)
 * kura tsa serve (--store STORE | --dir DIR) --listen HOST:PORT
 *   serves RFC 3161 over HTTP (libmicrohttpd): POST application/timestamp-query,
 *   answer application/timestamp-reply. --dir creates a TSA there if it has none.
 *   Prints "listening on http://HOST:PORT/" once ready; stops on SIGINT/SIGTERM. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/pem.h>

#include "cli.h"
#include "kura/store.h"
#include "kura/tsa.h"

static const char usage[] = "kura tsa ca STORE | kura tsa urls STORE [--set URL... | --embedded] | "
			    "kura tsa serve (--store STORE | --dir DIR) --listen HOST:PORT | "
			    "kura tsa certify|uncertify|certified STORE ...";
const char *const kura_usage_tsa = usage; /* kura help, --help (cli/help.c) */

static int tsa_ca(int argc, char **argv)
{
	if (argc != 2)
		return kura_cli_usage(usage, "tsa ca takes one STORE");
	kura_error err = {0};
	kura_store *st = NULL;
	STACK_OF(X509) *anchors = NULL;
	int rc = kura_store_open(&st, argv[1], KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_tsa_setup_roots(&anchors, st, &err);
	for (int i = 0; rc == 0 && i < sk_X509_num(anchors); i++)
		PEM_write_X509(stdout, sk_X509_value(anchors, i));
	sk_X509_pop_free(anchors, X509_free);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}

static void request_failed(void *ud, const char *message)
{
	(void)ud;
	fprintf(stderr, "kura: tsa: %s\n", message);
}

static int tsa_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},
		{"dir", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{0},
	};
	const char *store = NULL, *dir = NULL, *listen = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			store = optarg;
		else if (c == 'd')
			dir = optarg;
		else if (c == 'l')
			listen = optarg;
		else
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (optind != argc || !listen || !store == !dir)
		return kura_cli_usage(usage, "tsa serve takes --store STORE or --dir DIR, and --listen HOST:PORT");
	char host[256];
	struct sockaddr_in sa;
	int bad = kura_cli_listen(&sa, host, listen, usage);
	if (bad)
		return bad;

	kura_error err = {0};
	kura_tsa_server *server = NULL;
	if (kura_tsa_server_new(&server, store, dir, request_failed, NULL, &err) != 0)
		return kura_cli_fail(&err);

	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL); /* the server thread inherits the mask */
	unsigned bound = 0;
	if (kura_tsa_server_listen(server, &sa, listen, &bound, &err) != 0) {
		kura_tsa_server_free(server);
		return kura_cli_fail(&err);
	}
	printf("listening on http://%s:%u/\n", host, bound);
	fflush(stdout);
	int sig;
	sigwait(&stop, &sig);
	kura_tsa_server_free(server);
	fprintf(stderr, "kura: TSA stopped\n");
	return 0;
}

static int tsa_urls(int argc, char **argv)
{
	static const struct option opts[] = {
		{"set", no_argument, NULL, 's'},
		{"embedded", no_argument, NULL, 'e'},
		{0},
	};
	int c, set = 0, embedded = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			set = 1;
		else if (c == 'e')
			embedded = 1;
		else
			return kura_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
	}
	int nurls = argc - optind - 1;
	if (nurls < 0 || (set && embedded) || (set && nurls == 0) || (!set && nurls > 0))
		return kura_cli_usage(usage, "tsa urls takes a STORE, then --set URL... or --embedded, or nothing to show them");
	const char *store = argv[optind];
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, store, set || embedded ? KURA_STORE_WRITE : KURA_STORE_READ, &err);
	if (rc == 0 && (set || embedded))
		rc = kura_tsa_setup_use(st, (const char *const *)argv + optind + 1, (size_t)nurls, &err);
	if (rc == 0) {
		const char *const *urls;
		size_t n = kura_store_tsa_urls(st, &urls);
		for (size_t i = 0; i < n; i++)
			printf("%s\n", urls[i]);
		if (n == 0)
			printf("embedded\n");
	}
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}

int kura_cmd_tsa(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "urls") == 0)
		return tsa_urls(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ca") == 0)
		return tsa_ca(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return tsa_serve(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "certify") == 0 || strcmp(argv[1], "uncertify") == 0 ||
			  strcmp(argv[1], "certified") == 0))
		return kura_cmd_tsa_certify(argc - 1, argv + 1);
	return kura_cli_usage(usage, "tsa takes 'ca', 'urls', 'serve', 'certify', 'uncertify' or 'certified'");
}
