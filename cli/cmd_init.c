/* kura init STORE [--tsa-url URL]... [--hash sha256|sha384|sha512] [--segment-size BYTES] [--group NAME]
 * --backend rados --ceph-conf FILE --pool POOL [--data-pool POOL] [--namespace NS] [--ceph-user NAME]
 * [--lease-seconds N]: the segments go to a Ceph pool (archive/backend_rados.c; with --data-pool the
 * segment objects go there, an erasure-coded pool may be); the index and configuration stay in STORE.
 * --single-approver: a disposal may be approved by the actor who requested it (config.json "four_eyes": false).
 * Without --tsa-url the store gets an embedded TSA (proof/tsa_setup.c). The store is
 * its owner's alone (0700/0600), or also readable by group NAME (02750/0640). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/policy.h"
#include "kura/store.h"
#include "kura/tsa.h"

static const char usage[] = "kura init STORE [--tsa-url URL]... [--hash sha256|sha384|sha512] [--policy FILE|NAME]\n"
			    "                 [--segment-size BYTES] [--group NAME] [--single-approver]\n"
			    "                 [--tsa-days DAYS] [--tsa-root-days DAYS] [--tsa-key ec-p256|ec-p384|rsa-2048|rsa-3072|rsa-4096]\n"
			    "                 [--backend file|rados --ceph-conf FILE --pool POOL [--namespace NS] [--ceph-user NAME]\n"
			    "                  [--lease-seconds N] [--data-pool EC_POOL]]";
const char *const kura_usage_init = usage; /* kura help, --help (cli/help.c) */

/* What the command line asks for: filled by parse_init, handed to kura_store_create. */
struct init_args {
	kura_init_options io;
	kura_tsa_options tsa;
	kura_rados_options rados;
	const char *backend;
	char ceph_conf[PATH_MAX];
	const char *policy;
	const char *store;
};

/* --tsa-days, --tsa-root-days (c is 'd' or 'r') and --segment-size: 0, or the usage status. */
static int parse_number(struct init_args *a, int c, const char *arg)
{
	unsigned long long v;
	if (c == 's') {
		if (kura_cli_number(&v, arg, 1, 1ull << 50) != 0)
			return kura_cli_usage(usage, "--segment-size takes a number of bytes (at most 2^50), not '%s'", arg);
		a->io.segment_size = v;
		return 0;
	}
	if (kura_cli_number(&v, arg, 1, 36525) != 0)
		return kura_cli_usage(usage, "--%s takes a number of days (1 to 36525), not '%s'",
				      c == 'd' ? "tsa-days" : "tsa-root-days", arg);
	*(c == 'd' ? &a->tsa.tsa_days : &a->tsa.root_days) = (int)v;
	return 0;
}

/* --backend and the RADOS settings: 0, or the usage status. */
static int parse_backend(struct init_args *a, int c, const char *arg)
{
	unsigned long long v;
	switch (c) {
	case 'b':
		a->backend = arg;
		break;
	case 'c':
		a->rados.ceph_conf = arg;
		break;
	case 'P':
		a->rados.pool = arg;
		break;
	case 'n':
		a->rados.ns = arg;
		break;
	case 'U':
		a->rados.user = arg;
		break;
	case 'D':
		a->rados.data_pool = arg;
		break;
	default:
		if (kura_cli_number(&v, arg, 5, 3600) != 0)
			return kura_cli_usage(usage, "--lease-seconds takes a number of seconds (5 to 3600), not '%s'", arg);
		a->rados.lease_seconds = (int)v;
	}
	return 0;
}

/* The backend options agree with each other; --ceph-conf made absolute. */
static int check_backend(struct init_args *a)
{
	int rados = a->backend && strcmp(a->backend, "rados") == 0;
	if (a->backend && !rados && strcmp(a->backend, "file") != 0)
		return kura_cli_usage(usage, "--backend must be file or rados, not '%s'", a->backend);
	int any = a->rados.ceph_conf || a->rados.pool || a->rados.ns || a->rados.user || a->rados.lease_seconds ||
		  a->rados.data_pool;
	if (!rados && any)
		return kura_cli_usage(usage, "--ceph-conf, --pool, --data-pool, --namespace, --ceph-user and --lease-seconds "
					     "go with --backend rados");
	if (!rados)
		return 0;
	if (!a->rados.ceph_conf || !a->rados.pool || !*a->rados.pool)
		return kura_cli_usage(usage, "--backend rados needs --ceph-conf FILE and --pool POOL");
	if (!realpath(a->rados.ceph_conf, a->ceph_conf)) {
		kura_cli_warn("cannot read the Ceph configuration %s: %s", a->rados.ceph_conf, strerror(errno));
		return 2;
	}
	a->rados.ceph_conf = a->ceph_conf;
	a->io.rados = &a->rados;
	return 0;
}

/* Fills a from argv; urls (argc entries) receives the --tsa-url values.
 * 0, or the usage status after saying what is wrong. */
static int parse_init(struct init_args *a, const char **urls, int argc, char **argv)
{
	static const struct option opts[] = {
		{"hash", required_argument, NULL, 'h'},
		{"segment-size", required_argument, NULL, 's'},
		{"tsa-url", required_argument, NULL, 'u'},
		{"tsa-days", required_argument, NULL, 'd'},
		{"tsa-root-days", required_argument, NULL, 'r'},
		{"policy", required_argument, NULL, 'p'},
		{"tsa-key", required_argument, NULL, 'k'},
		{"group", required_argument, NULL, 'g'},
		{"single-approver", no_argument, NULL, '1'},
		{"backend", required_argument, NULL, 'b'},
		{"ceph-conf", required_argument, NULL, 'c'},
		{"pool", required_argument, NULL, 'P'},
		{"namespace", required_argument, NULL, 'n'},
		{"ceph-user", required_argument, NULL, 'U'},
		{"lease-seconds", required_argument, NULL, 'l'},
		{"data-pool", required_argument, NULL, 'D'},
		{0},
	};
	int c, rc;
	a->io.tsa_urls = urls;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			a->io.hash = optarg;
			break;
		case 'u':
			urls[a->io.ntsa_urls++] = optarg;
			break;
		case 'p':
			a->policy = optarg;
			break;
		case 'k':
			a->tsa.key = optarg;
			break;
		case 'g':
			a->io.group = optarg;
			break;
		case '1':
			a->io.single_approver = 1;
			break;
		case 'b':
		case 'c':
		case 'P':
		case 'n':
		case 'U':
		case 'l':
		case 'D':
			if ((rc = parse_backend(a, c, optarg)) != 0)
				return rc;
			break;
		case 'd':
		case 'r':
		case 's':
			if ((rc = parse_number(a, c, optarg)) != 0)
				return rc;
			break;
		default:
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return kura_cli_usage(usage, "init takes exactly one STORE folder");
	a->store = argv[optind];
	if ((rc = check_backend(a)) != 0)
		return rc;
	/* check the policy and the key kind before anything is made */
	if (a->tsa.key && !kura_tsa_key_kind_known(a->tsa.key))
		return kura_cli_usage(usage, "--tsa-key must be ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096, not '%s'",
				      a->tsa.key);
	return 0;
}

static void print_initialised(const struct init_args *a)
{
	fputs("initialised kura store ", stdout); /* names escaped: one line whatever the path holds */
	kura_escape_print(stdout, a->store);
	printf(" (hash %s, policy ", a->io.hash ? a->io.hash : "sha256");
	kura_escape_print(stdout, a->policy ? a->policy : KURA_DEFAULT_POLICY);
	fputs(")\n", stdout);
	if (a->io.ntsa_urls == 0)
		fprintf(stderr, "kura: time-stamps come from the store's embedded TSA. It proves time only as far as this\n"
				"machine's clock is trusted; for evidence others rely on, use --tsa-url with a trusted TSA.\n");
}

int kura_cmd_init(int argc, char **argv)
{
	struct init_args a = {.tsa = {.name = "kura"}};
	const char **urls = calloc((size_t)argc, sizeof *urls);
	if (!urls)
		return 3;
	int rc = parse_init(&a, urls, argc, argv);
	if (rc != 0) {
		free(urls);
		return rc;
	}
	kura_error err = {0};
	rc = kura_store_create(a.store, &a.io, a.policy, &a.tsa, &err);
	free(urls);
	if (rc != 0)
		return kura_cli_fail(&err);
	print_initialised(&a);
	return 0;
}
