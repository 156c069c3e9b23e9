/* kura init STORE [--tsa-url URL]... [--hash sha256|sha384|sha512] [--segment-size BYTES] [--group NAME]
 * Without --tsa-url the store gets an embedded TSA (proof/tsa_setup.c). The store is
 * its owner's alone (0700/0600), or also readable by group NAME (02750/0640). */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "kura/escape.h"
#include "kura/policy.h"
#include "kura/store.h"
#include "kura/tsa.h"

static const char usage[] = "kura init STORE [--tsa-url URL]... [--hash sha256|sha384|sha512] [--policy FILE|NAME]\n"
			    "                 [--segment-size BYTES] [--group NAME]\n"
			    "                 [--tsa-days DAYS] [--tsa-root-days DAYS] [--tsa-key ec-p256|ec-p384|rsa-2048|rsa-3072|rsa-4096]";

int kura_cmd_init(int argc, char **argv)
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
		{0},
	};
	kura_tsa_options tsa = {.name = "kura"};
	const char *policy = NULL;
	kura_init_options io = {0};
	const char **urls = calloc((size_t)argc, sizeof *urls);
	if (!urls)
		return 3;
	io.tsa_urls = urls;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			io.hash = optarg;
			break;
		case 'u':
			urls[io.ntsa_urls++] = optarg;
			break;
		case 'p':
			policy = optarg;
			break;
		case 'k':
			tsa.key = optarg;
			break;
		case 'g':
			io.group = optarg;
			break;
		case 'd':
		case 'r': {
			unsigned long long v;
			if (kura_cli_number(&v, optarg, 1, 36525) != 0) {
				free(urls);
				return kura_cli_usage(usage, "--%s takes a number of days (1 to 36525), not '%s'",
						      c == 'd' ? "tsa-days" : "tsa-root-days", optarg);
			}
			*(c == 'd' ? &tsa.tsa_days : &tsa.root_days) = (int)v;
			break;
		}
		case 's': {
			unsigned long long v;
			if (kura_cli_number(&v, optarg, 1, 1ull << 50) != 0) {
				free(urls);
				return kura_cli_usage(usage, "--segment-size takes a number of bytes (at most 2^50), not '%s'", optarg);
			}
			io.segment_size = v;
			break;
		}
		default:
			free(urls);
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1) {
		free(urls);
		return kura_cli_usage(usage, "init takes exactly one STORE folder");
	}
	/* check the policy and the key kind before anything is made */
	kura_error err = {0};
	if (tsa.key && !kura_tsa_key_kind_known(tsa.key)) {
		free(urls);
		return kura_cli_usage(usage, "--tsa-key must be ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096, not '%s'", tsa.key);
	}
	int rc = kura_store_create(argv[optind], &io, policy, &tsa, &err);
	free(urls);
	if (rc != 0)
		return kura_cli_fail(&err);
	fputs("initialised kura store ", stdout); /* names escaped: one line whatever the path holds */
	kura_escape_print(stdout, argv[optind]);
	printf(" (hash %s, policy ", io.hash ? io.hash : "sha256");
	kura_escape_print(stdout, policy ? policy : KURA_DEFAULT_POLICY);
	fputs(")\n", stdout);
	if (io.ntsa_urls == 0)
		fprintf(stderr, "kura: time-stamps come from the store's embedded TSA. It proves time only as far as this\n"
				"machine's clock is trusted; for evidence others rely on, use --tsa-url with a trusted TSA.\n");
	return 0;
}
