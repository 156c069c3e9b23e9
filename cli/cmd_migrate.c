/* A store's segments elsewhere (docs/CEPH.md):
 * kura migrate STORE --to-backend rados --ceph-conf FILE --pool POOL [--namespace NS] [--ceph-user NAME]
 *                    [--lease-seconds N] [--data-pool POOL] | --to-backend local
 *   moves the segments to a Ceph pool or back (archive/migrate.c);
 * kura attach READER --from STORE [--ceph-conf FILE] [--ceph-user NAME]
 *   makes READER a reader of the RADOS store STORE (its folder, or a copy) on this
 *   machine, with its own index (archive/attach.c). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/store.h"

static const char usage[] = "kura migrate STORE --to-backend rados --ceph-conf FILE --pool POOL [--namespace NS]\n"
			    "                    [--ceph-user NAME] [--lease-seconds N] [--data-pool EC_POOL]\n"
			    "       kura migrate STORE --to-backend local";
const char *const kura_usage_migrate = usage; /* kura help, --help (cli/help.c) */
static const char attach_usage[] = "kura attach READER --from STORE [--ceph-conf FILE] [--ceph-user NAME]";
const char *const kura_usage_attach = attach_usage;

static const struct option opts[] = {
	{"to-backend", required_argument, NULL, 'b'},
	{"ceph-conf", required_argument, NULL, 'c'},
	{"pool", required_argument, NULL, 'P'},
	{"namespace", required_argument, NULL, 'n'},
	{"ceph-user", required_argument, NULL, 'U'},
	{"lease-seconds", required_argument, NULL, 'l'},
	{"data-pool", required_argument, NULL, 'D'},
	{"from", required_argument, NULL, 'f'},
	{0},
};

struct args {
	const char *backend, *from;
	kura_rados_options o;
	char conf[PATH_MAX];
};

/* Options for u (migrate's usage or attach's): 0, or the usage status. */
static int parse(struct args *a, int argc, char **argv, const char *u)
{
	int c;
	unsigned long long v;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': a->backend = optarg; break;
		case 'c': a->o.ceph_conf = optarg; break;
		case 'P': a->o.pool = optarg; break;
		case 'n': a->o.ns = optarg; break;
		case 'U': a->o.user = optarg; break;
		case 'D': a->o.data_pool = optarg; break;
		case 'f': a->from = optarg; break;
		case 'l':
			if (kura_cli_number(&v, optarg, 5, 3600) != 0)
				return kura_cli_usage(u, "--lease-seconds takes a number of seconds (5 to 3600), not '%s'", optarg);
			a->o.lease_seconds = (int)v;
			break;
		default:
			return kura_cli_usage(u, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return kura_cli_usage(u, "one STORE, please");
	if (a->o.ceph_conf && !realpath(a->o.ceph_conf, a->conf)) {
		kura_cli_warn("cannot read the Ceph configuration %s: %s", a->o.ceph_conf, strerror(errno));
		return 2;
	}
	if (a->o.ceph_conf)
		a->o.ceph_conf = a->conf;
	return 0;
}

int kura_cmd_migrate(int argc, char **argv)
{
	struct args a = {0};
	int rc = parse(&a, argc, argv, usage);
	if (rc != 0)
		return rc;
	if (a.from)
		return kura_cli_usage(usage, "--from goes with kura attach");
	int rados = a.backend && strcmp(a.backend, "rados") == 0;
	if (!a.backend || (!rados && strcmp(a.backend, "local") != 0))
		return kura_cli_usage(usage, "--to-backend must be rados or local");
	if (rados && (!a.o.ceph_conf || !a.o.pool || !*a.o.pool))
		return kura_cli_usage(usage, "--to-backend rados needs --ceph-conf FILE and --pool POOL");
	if (!rados && (a.o.ceph_conf || a.o.pool || a.o.ns || a.o.user || a.o.lease_seconds || a.o.data_pool))
		return kura_cli_usage(usage, "--ceph-conf, --pool, --data-pool, --namespace, --ceph-user and --lease-seconds "
					     "go with --to-backend rados");
	kura_error err = {0};
	int already = 0;
	const char *store = argv[optind];
	if (kura_store_migrate(store, rados ? &a.o : NULL, &already, &err) != 0)
		return kura_cli_fail(&err);
	char line[4096]; /* names escaped: one line whatever the store's path, pool or namespace hold */
	if (already)
		snprintf(line, sizeof line, "%s keeps its segments %s already: nothing to do", store,
			 rados ? "there" : "in local files");
	else
		snprintf(line, sizeof line, "migrated %s: its segments are %s%s%s%s now", store,
			 rados ? "in rados:" : "in local files", rados ? a.o.pool : "", rados ? "/" : "",
			 rados && a.o.ns ? a.o.ns : "");
	kura_escape_print(stdout, line);
	putchar('\n');
	return 0;
}

int kura_cmd_attach(int argc, char **argv)
{
	struct args a = {0};
	int rc = parse(&a, argc, argv, attach_usage);
	if (rc != 0)
		return rc;
	if (!a.from)
		return kura_cli_usage(attach_usage, "attach needs --from STORE (the writer's store folder, or a copy of it)");
	if (a.backend || a.o.pool || a.o.data_pool || a.o.ns || a.o.lease_seconds)
		return kura_cli_usage(attach_usage, "the pools and namespace are the writer's (its config.json): only "
						    "--ceph-conf and --ceph-user may differ");
	kura_error err = {0};
	uint64_t objects = 0;
	if (kura_store_attach(argv[optind], a.from, a.o.ceph_conf, a.o.user, &objects, &err) != 0)
		return kura_cli_fail(&err);
	char line[4096];
	snprintf(line, sizeof line, "attached %s: a reader with %llu objects (kura reindex %s sees what the writer adds "
				    "later)", argv[optind], (unsigned long long)objects, argv[optind]);
	kura_escape_print(stdout, line);
	putchar('\n');
	return 0;
}
