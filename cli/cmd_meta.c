/* kura meta set STORE ID KEY=VALUE... --reason TEXT [--actor NAME] [--no-seal]
 *
 * Changes a record's metadata as a new version (records/meta.c): the old values
 * stay readable in the old version. Prints the new version's ID. A value ""
 * removes the key. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/records.h"

static const char usage[] = "kura meta set STORE ID KEY=VALUE... --reason TEXT [--actor NAME] [--no-seal]";
const char *const kura_usage_meta = usage; /* kura help, --help (cli/help.c) */

int kura_cmd_meta(int argc, char **argv)
{
	static const struct option opts[] = {
		{"reason", required_argument, NULL, 'R'},
		{"actor", required_argument, NULL, 'A'},
		{"no-seal", no_argument, NULL, 'n'},
		{0},
	};
	const char *reason = NULL, *actor = NULL;
	int c, no_seal = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'R')
			reason = optarg;
		else if (c == 'A')
			actor = optarg;
		else if (c == 'n')
			no_seal = 1;
		else
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (argc - optind < 4 || strcmp(argv[optind], "set") != 0)
		return kura_cli_usage(usage, "meta set needs a STORE, an ID and at least one KEY=VALUE");
	if (!reason)
		return kura_cli_usage(usage, "a metadata change needs --reason TEXT: say why");
	size_t n = (size_t)(argc - optind - 3);
	kura_meta *meta = calloc(n, sizeof *meta);
	if (!meta)
		return 3;
	for (size_t i = 0; i < n; i++) {
		char *arg = argv[optind + 3 + i];
		if (kura_cli_split(arg, &meta[i].key, &meta[i].value) != 0) {
			free(meta);
			return kura_cli_usage(usage, "KEY=VALUE, not '%s'", arg);
		}
	}
	kura_error err = {0};
	char id[KURA_ID_LEN + 1];
	int rc = kura_records_meta_set(argv[optind + 1], argv[optind + 2], meta, n, reason, actor, no_seal, id, &err);
	free(meta);
	if (rc != 0)
		return kura_cli_fail(&err);
	printf("%s\n", id);
	return 0;
}
