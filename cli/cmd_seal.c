/* kura seal STORE: one hash tree and one time-stamp over every pending object. */
#include <stdio.h>

#include "cli/cli.h"
#include "renewal/run.h"
#include "proof/seal.h"
#include "proof/tsa_setup.h"

static const char usage[] = "kura seal STORE";

int kura_cli_seal(kura_store *st, kura_error *err)
{
	kura_tsa_setup tsa;
	kura_seal_result res;
	int rolled;
	int rc = kura_run_tsa_upkeep(&rolled, st, err);
	if (rc == 0)
		rc = kura_tsa_setup_open(&tsa, st, err);
	if (rc == 0 && tsa.opts.nurls > 0 && !tsa.opts.anchors)
		fprintf(stderr, "kura: warning: no TSA root is trusted in this store, so time-stamps from %s are checked "
				"but not their certificate path, and kura verify will say indeterminate; add the TSA's root "
				"with kura trust add STORE --tsa ROOT.pem\n", tsa.opts.urls[0]);
	if (rc != 0)
		return rc;
	size_t sealed = 0;
	do { /* a backlog larger than one seal takes several */
		rc = kura_seal(&res, st, &tsa.opts, 0, err);
		if (rc == 0 && res.objects)
			fprintf(stderr, "kura: sealed %zu object(s): seal %s, time-stamped %s by %s\n", res.objects, res.id,
				res.gentime, res.tsa);
		sealed += rc == 0 ? res.objects : 0;
	} while (rc == 0 && res.more);
	kura_tsa_setup_close(&tsa);
	if (rc == 0 && sealed == 0)
		fprintf(stderr, "kura: nothing to seal\n");
	return rc;
}

int kura_cmd_seal(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return kura_cli_usage(usage, "seal takes one STORE");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, argv[1], KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_cli_seal(st, &err);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
