/* Making a whole store: kura_store_init with the store's policy and, when it
 * has no remote TSA, its embedded TSA (what `kura init` does). */
#ifndef KURA_STORE_INIT_H
#define KURA_STORE_INIT_H

#include "evidence/tsa.h"
#include "kura/store.h"

/* Creates the store at path as kura_store_init does (o's prepare is not used),
 * with the policy policy (a file or a shipped name; NULL: KURA_DEFAULT_POLICY),
 * checked first, and, when o names no TSA URL, an embedded TSA made with tsa
 * (NULL: the defaults). Everything is borrowed for the call. */
int kura_store_create(const char *path, const kura_init_options *o, const char *policy, const kura_tsa_options *tsa,
		      kura_error *err);

#endif
