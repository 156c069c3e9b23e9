/* kura user add STORE NAME --role ROLE [--collection C]... [--actor NAME]
 * kura user ls STORE [--json]
 * kura user remove STORE NAME [--actor NAME]
 * kura user cert STORE NAME CLIENT.pem [--actor NAME]
 *
 * The accounts of the preservation service (kura/access.h). add prints the new
 * account's token once, alone on standard output; ls one line per account:
 *   NAME <TAB> ROLE <TAB> collections (C,C or "all") <TAB> created <TAB>
 *   client certificate's SHA-256 <TAB> its subject ("-" and "-" for none)
 * cert binds a client certificate to an account (kura serve --client-ca) and
 * prints its SHA-256. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/access.h"
#include "kura/escape.h"

static const char usage[] = "kura user add STORE NAME --role ROLE [--collection C]... [--actor NAME]\n"
			    "       kura user ls STORE [--json]\n"
			    "       kura user remove STORE NAME [--actor NAME]\n"
			    "       kura user cert STORE NAME CLIENT.pem [--actor NAME]   (binds a client certificate)\n"
			    "  ROLE: admin, archivist, approver or auditor";
const char *const kura_usage_user = usage; /* kura help, --help (cli/help.c) */

/* The failure of a change to the accounts; while kura serve holds the store
 * (KURA_ELOCKED at once, not a wait), names the API operation that does it. */
static int fail(kura_error *err, const char *operation)
{
	if (err->code == KURA_ELOCKED) {
		size_t k = strlen(err->message);
		snprintf(err->message + k, sizeof err->message - k, "; while it runs, an admin does this through its API: "
			 "%s with an admin account's token (docs/SERVICE.md, \"Accounts through the API\")", operation);
	}
	return kura_cli_fail(err);
}

static int add(int argc, char **argv)
{
	static const struct option opts[] = {
		{"role", required_argument, NULL, 'r'},
		{"collection", required_argument, NULL, 'c'},
		{"actor", required_argument, NULL, 'a'},
		{0},
	};
	const char **cols = calloc((size_t)argc, sizeof *cols), *actor = NULL, *role = NULL;
	size_t ncols = 0;
	int c;
	optind = 1;
	opterr = 0;
	while (cols && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'r')
			role = optarg;
		else if (c == 'c')
			cols[ncols++] = optarg;
		else if (c == 'a')
			actor = optarg;
		else {
			free(cols);
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	kura_error err = {0};
	kura_role r;
	char token[KURA_TOKEN_LEN + 1];
	int rc;
	if (!cols)
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	else if (argc - optind != 2 || !role)
		rc = kura_cli_usage(usage, "user add takes STORE NAME --role ROLE");
	else if ((rc = kura_role_parse(&r, role, &err)) == 0 &&
		 (rc = kura_user_add(argv[optind], argv[optind + 1], r, cols, ncols, actor, token, &err)) == 0) {
		printf("%s\n", token);
		fprintf(stderr, "kura: account '%s' (%s) made; its token is above and is not kept: give it to its owner now\n",
			argv[optind + 1], role);
	}
	free(cols);
	return rc < 0 ? fail(&err, "POST /api/v1/UserAdd") : rc;
}

static void print_user(const kura_user *u)
{
	kura_escape_print(stdout, u->name);
	printf("\t%s\t", kura_role_name(u->role));
	for (size_t j = 0; j < u->ncollections; j++) {
		printf("%s", j ? "," : "");
		kura_escape_print(stdout, u->collections[j]);
	}
	printf("%s\t%s\t%s\t", u->ncollections ? "" : "all", u->created, u->cert_sha256 ? u->cert_sha256 : "-");
	kura_escape_print(stdout, u->cert_subject ? u->cert_subject : "-");
	printf("\n");
}

static int list(int argc, char **argv)
{
	int json = 0, status = kura_cli_json_option(argc, argv, usage, &json);
	if (status != 0)
		return status;
	if (argc - optind != 1)
		return kura_cli_usage(usage, "user ls takes one STORE");
	kura_error err = {0};
	kura_user *users = NULL;
	size_t n = 0;
	int rc = kura_user_list(argv[optind], &users, &n, &err);
	json_t *all = json_array();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_array_append_new(all, kura_user_json(&users[i]));
		if (!json)
			print_user(&users[i]);
	}
	if (rc == 0 && json)
		rc = kura_cli_print_json(json_incref(all)) ? KURA_EIO : 0;
	json_decref(all);
	kura_users_free(users, n);
	return rc ? kura_cli_fail(&err) : 0;
}

/* The --actor option of remove and cert: 0, or the usage error's status. */
static int actor_option(int argc, char **argv, const char **actor)
{
	static const struct option opts[] = {{"actor", required_argument, NULL, 'a'}, {0}};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'a')
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		*actor = optarg;
	}
	return 0;
}

static int remove_user(int argc, char **argv)
{
	const char *actor = NULL;
	int bad = actor_option(argc, argv, &actor);
	if (bad)
		return bad;
	if (argc - optind != 2)
		return kura_cli_usage(usage, "user remove takes STORE NAME");
	kura_error err = {0};
	int rc = kura_user_remove(argv[optind], argv[optind + 1], actor, &err);
	if (rc == 0)
		fprintf(stderr, "kura: account '%s' removed; its token no longer signs in\n", argv[optind + 1]);
	return rc ? fail(&err, "POST /api/v1/UserRemove") : 0;
}

static int cert(int argc, char **argv)
{
	const char *actor = NULL;
	int bad = actor_option(argc, argv, &actor);
	if (bad)
		return bad;
	if (argc - optind != 3)
		return kura_cli_usage(usage, "user cert takes STORE NAME CLIENT.pem");
	kura_error err = {0};
	char sha256[65];
	int rc = kura_user_cert(argv[optind], argv[optind + 1], argv[optind + 2], actor, sha256, &err);
	if (rc != 0)
		return fail(&err, "POST /api/v1/UserCert");
	printf("%s\n", sha256);
	fprintf(stderr, "kura: account '%s' signs in with this certificate (SHA-256 above) where kura serve has "
			"--client-ca\n", argv[optind + 1]);
	return 0;
}

int kura_cmd_user(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return add(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ls") == 0)
		return list(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "remove") == 0)
		return remove_user(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "cert") == 0)
		return cert(argc - 1, argv + 1);
	return kura_cli_usage(usage, "user takes add, ls, remove or cert");
}
