/* Sealing and the evidence record of one object.
 *
 * A seal takes every pending object of a store, builds ONE hash tree over their
 * hashes (the store's algorithm) and gets ONE time-stamp over its root. The seal
 * record (the leaves in order and the token exactly as received) is appended to
 * the store only after the token was obtained and checked: a failed seal writes
 * nothing and leaves the objects pending.
 The seal record's payload is described in renewal/chains.h. */
#ifndef KURA_SEAL_H
#define KURA_SEAL_H

#include <stddef.h>

#include "evidence/stamper.h"
#include "kura/store.h"

typedef struct kura_seal_result {
	size_t objects;                 /* 0: nothing was pending */
	char id[KURA_ID_LEN + 1];       /* the seal's record ID */
	char tsa[256];                  /* who time-stamped it */
	char gentime[32];
} kura_seal_result;

/* Seals everything pending in st (open for writing). */
int kura_seal(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, kura_error *err);

#endif
