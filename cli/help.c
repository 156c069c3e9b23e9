/* Every subcommand's usage, in one table: `kura CMD --help` (or -h) and
 * `kura help CMD` print it on stdout and exit 0 (cli/main.c asks here before
 * running any command). The usage text itself stays beside the option parsing
 * it describes (cmd_*.c: the `usage` string, also printed after a usage
 * error); this table only names it. A command added to main.c's table needs a
 * line here too: tests/cli/test_help.sh asks every command `kura help` lists. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

extern const char *const kura_usage_daemon, *const kura_usage_dispose, *const kura_usage_evidence,
	*const kura_usage_export, *const kura_usage_field, *const kura_usage_get, *const kura_usage_history,
	*const kura_usage_hold, *const kura_usage_import, *const kura_usage_ingest, *const kura_usage_init,
	*const kura_usage_log, *const kura_usage_ls, *const kura_usage_meta, *const kura_usage_policy,
	*const kura_usage_reindex, *const kura_usage_renew, *const kura_usage_retention, *const kura_usage_scrub,
	*const kura_usage_seal, *const kura_usage_show, *const kura_usage_timeliness, *const kura_usage_trust,
	*const kura_usage_tsa, *const kura_usage_tsa_certify, *const kura_usage_verify, *const kura_usage_verify_er,
	*const kura_usage_verify_export, *const kura_usage_user, *const kura_usage_serve, *const kura_usage_report, *const kura_usage_status;
extern const char *const kura_usage_migrate, *const kura_usage_attach;

static const struct {
	const char *name;
	const char *const *usage;
	const char *const *more; /* a second usage (a command's further subcommands), or NULL */
} usages[] = {
	{"init", &kura_usage_init, NULL},
	{"ingest", &kura_usage_ingest, NULL},
	{"ls", &kura_usage_ls, NULL},
	{"field", &kura_usage_field, NULL},
	{"history", &kura_usage_history, NULL},
	{"log", &kura_usage_log, NULL},
	{"meta", &kura_usage_meta, NULL},
	{"retention", &kura_usage_retention, NULL},
	{"hold", &kura_usage_hold, NULL},
	{"dispose", &kura_usage_dispose, NULL},
	{"timeliness", &kura_usage_timeliness, NULL},
	{"get", &kura_usage_get, NULL},
	{"show", &kura_usage_show, NULL},
	{"scrub", &kura_usage_scrub, NULL},
	{"reindex", &kura_usage_reindex, NULL},
	{"migrate", &kura_usage_migrate, NULL},
	{"attach", &kura_usage_attach, NULL},
	{"seal", &kura_usage_seal, NULL},
	{"evidence", &kura_usage_evidence, NULL},
	{"verify", &kura_usage_verify, NULL},
	{"verify-er", &kura_usage_verify_er, NULL},
	{"export", &kura_usage_export, NULL},
	{"import", &kura_usage_import, NULL},
	{"verify-export", &kura_usage_verify_export, NULL},
	{"renew", &kura_usage_renew, NULL},
	{"daemon", &kura_usage_daemon, NULL},
	{"policy", &kura_usage_policy, NULL},
	{"trust", &kura_usage_trust, NULL},
	{"tsa", &kura_usage_tsa, &kura_usage_tsa_certify},
	{"user", &kura_usage_user, NULL},
	{"serve", &kura_usage_serve, NULL},
	{"report", &kura_usage_report, NULL},
	{"status", &kura_usage_status, NULL},
};

int kura_cli_help_command(const char *name, const char *summary)
{
	for (size_t i = 0; i < sizeof usages / sizeof *usages; i++) {
		if (strcmp(usages[i].name, name) != 0)
			continue;
		printf("usage: %s\n", *usages[i].usage);
		if (usages[i].more)
			printf("       %s\n", *usages[i].more);
		if (summary)
			printf("\n%s\n", summary);
		return 0;
	}
	/* a command without a line above still answers, from main.c's table */
	printf("usage: kura %s ...\n%s%s\n", name, summary ? "\n" : "", summary ? summary : "");
	return 0;
}

int kura_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}
