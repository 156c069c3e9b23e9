/* Making a whole store: the store itself (archive/store.c), and what the
 * evidence and renewal layers keep in it before it becomes one: its policy
 * (store_policy.c) and, when it has no remote TSA, its embedded TSA
 * (tsa_setup.c). The policy is checked before anything is made. */
#include <stddef.h>

#include "kura/store.h"
#include "kura/tsa.h"
#include "proof/store_policy.h"
#include "proof/tsa_setup.h"

struct prepare {
	int embedded;                /* 0: remote TSAs only */
	const kura_tsa_options *tsa; /* NULL: the defaults */
	const char *policy;
};

/* What the evidence and renewal layers keep in a new store, before it is one. */
static int prepare(void *ud, const char *path, kura_error *err)
{
	struct prepare *p = ud;
	int rc = kura_store_policy_init(path, p->policy, err);
	if (rc == 0 && p->embedded)
		rc = kura_tsa_setup_embedded((void *)p->tsa, path, err);
	return rc;
}

int kura_store_create(const char *path, const kura_init_options *o, const char *policy, const kura_tsa_options *tsa,
		      kura_error *err)
{
	kura_policy *p = NULL;
	int rc = kura_policy_load(&p, NULL, policy ? policy : KURA_DEFAULT_POLICY, err);
	kura_policy_free(p);
	if (rc != 0)
		return rc;
	struct prepare prep = {.embedded = o->ntsa_urls == 0, .tsa = tsa, .policy = policy};
	kura_init_options io = *o;
	io.prepare = prepare;
	io.prepare_ud = &prep;
	return kura_store_init(path, &io, err);
}
