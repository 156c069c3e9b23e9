/* kura seal STORE: one hash tree and one time-stamp over every pending object. */
#include <stdio.h>

#include "cli.h"
#include "kura/seal.h"
#include "kura/store.h"

static const char usage[] = "kura seal STORE";

static void untrusted(void *ud, const char *url)
{
	(void)ud;
	fprintf(stderr, "kura: warning: no TSA root is trusted in this store, so time-stamps from %s are checked "
			"but not their certificate path, and kura verify will say indeterminate; add the TSA's root "
			"with kura trust add STORE --tsa ROOT.pem\n", url);
}

static void sealed(void *ud, const kura_seal_result *res)
{
	(void)ud;
	if (res->objects)
		fprintf(stderr, "kura: sealed %zu object(s): seal %s, time-stamped %s by %s\n", res->objects, res->id,
			res->gentime, res->tsa);
	else
		fprintf(stderr, "kura: nothing to seal\n");
}

const kura_seal_events kura_cli_seal_events = {.untrusted = untrusted, .sealed = sealed};

int kura_cmd_seal(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return kura_cli_usage(usage, "seal takes one STORE");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, argv[1], KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_seal_all(NULL, st, &kura_cli_seal_events, &err);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
