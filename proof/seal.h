/* Sealing and the evidence record of one object.
 *
 * A seal takes the pending objects of a store (all of them, but for a backlog of
 * more than ten million), builds ONE hash tree over their
 * hashes (the store's algorithm) and gets ONE time-stamp over its root. The seal
 * record (the leaves in order and the token exactly as received) is appended to
 * the store only after the token was obtained and checked: a failed seal writes
 * nothing and leaves the objects pending.
 The seal record's payload is described in proof/chains.h. */
#ifndef KURA_SEAL_H
#define KURA_SEAL_H

#include <stddef.h>

#include "evidence/stamper.h"
#include "kura/store.h"

typedef struct kura_seal_result {
	size_t objects;                 /* 0: nothing was pending */
	int more;                       /* objects are still pending (over the limit of one seal) */
	char id[KURA_ID_LEN + 1];       /* the seal's record ID */
	char tsa[256];                  /* who time-stamped it */
	char gentime[32];
} kura_seal_result;

/* A seal's record (26-byte subject IDs and the leaves) is kept below this size:
 * reindex reads one record at a time into memory, up to 1 GiB. A seal of
 * SHA-256 leaves holds up to 13.8 million objects; a larger backlog takes
 * several seals. */
#define KURA_SEAL_MAX_BYTES (768u << 20)

/* Seals the oldest pending objects of st (open for writing): all of them, or
 * max (0: as many as KURA_SEAL_MAX_BYTES allows). res->more says whether some
 * are still pending; seal again then. */
int kura_seal(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, size_t max, kura_error *err);

/* What kura_seal_all tells its caller as it goes (every member may be NULL). */
typedef struct kura_seal_events {
	/* The store time-stamps with remote TSAs (url: the first) but trusts none of
	 * their roots: tokens are checked, not their certificate path. */
	void (*untrusted)(void *ud, const char *url);
	/* A seal was made; or, once at the end, res->objects is 0: nothing was pending. */
	void (*sealed)(void *ud, const kura_seal_result *res);
	void *ud;
} kura_seal_events;

/* Seals every pending object of st (open for writing): the TSA's upkeep first
 * (proof/tsa_upkeep.h), then as many seals as the backlog takes. *sealed (may
 * be NULL) counts the objects sealed. ev may be NULL. */
int kura_seal_all(size_t *sealed, kura_store *st, const kura_seal_events *ev, kura_error *err);

#endif
