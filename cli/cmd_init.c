/* kura init STORE [--hash sha256|sha384|sha512] [--segment-size BYTES] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "kura/store.h"

static const char usage[] = "kura init STORE [--hash sha256|sha384|sha512] [--segment-size BYTES]";

int kura_cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{"hash", required_argument, NULL, 'h'},
		{"segment-size", required_argument, NULL, 's'},
		{0},
	};
	kura_init_options io = {0};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			io.hash = optarg;
			break;
		case 's': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || v == 0)
				return kura_cli_usage(usage, "--segment-size takes a number of bytes, not '%s'", optarg);
			io.segment_size = v;
			break;
		}
		default:
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return kura_cli_usage(usage, "init takes exactly one STORE folder");
	kura_error err = {0};
	if (kura_store_init(argv[optind], &io, &err) != 0)
		return kura_cli_fail(&err);
	printf("initialised kura store %s (hash %s)\n", argv[optind], io.hash ? io.hash : "sha256");
	return 0;
}
