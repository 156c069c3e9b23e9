/* kura seal STORE [--audit-trail]: one hash tree and one time-stamp over every
 * pending object, the audit trail's new records among them (docs/RECORDS.md);
 * --audit-trail: the trail's new records even when no document is pending. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "kura/seal.h"
#include "kura/store.h"

static const char usage[] = "kura seal STORE [--audit-trail]";
const char *const kura_usage_seal = usage; /* kura help, --help (cli/help.c) */

static void untrusted(void *ud, const char *url)
{
	(void)ud;
	fprintf(stderr, "kura: warning: no TSA root is trusted in this store, so time-stamps from %s are checked "
			"but not their certificate path, and kura verify will say indeterminate; add the TSA's root "
			"with kura trust add STORE --tsa ROOT.pem\n", url);
}

/* Documents are counted; the audit trail's checkpoints (kura's own objects) are
 * said apart. */
static void sealed(void *ud, const kura_seal_result *res)
{
	(void)ud;
	size_t documents = res->objects - res->checkpoints;
	if (documents)
		fprintf(stderr, "kura: sealed %zu object(s): seal %s, time-stamped %s by %s\n", documents, res->id,
			res->gentime, res->tsa);
	else if (res->checkpoints)
		fprintf(stderr, "kura: the audit trail is time-stamped to record %llu: seal %s, %s by %s\n", res->trail_to,
			res->id, res->gentime, res->tsa);
	else
		fprintf(stderr, "kura: nothing to seal\n");
	if (documents && res->checkpoints)
		fprintf(stderr, "kura: the audit trail is time-stamped to record %llu in the same seal\n", res->trail_to);
}

const kura_seal_events kura_cli_seal_events = {.untrusted = untrusted, .sealed = sealed};

int kura_cmd_seal(int argc, char **argv)
{
	int trail = argc == 3 && strcmp(argv[2], "--audit-trail") == 0;
	if ((argc != 2 && !trail) || argv[1][0] == '-')
		return kura_cli_usage(usage, "seal takes one STORE (and --audit-trail)");
	kura_error err = {0};
	kura_store *st = NULL;
	int rc = kura_store_open(&st, argv[1], KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_seal_all_flags(NULL, st, trail ? KURA_SEAL_TRAIL : 0, &kura_cli_seal_events, &err);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
