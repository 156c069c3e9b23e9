/* Sealing: every pending object of a store gets evidence. A seal takes the
 * pending objects (all of them, but for a backlog of more than ten million),
 * builds ONE hash tree over their hashes and gets ONE time-stamp over its root;
 * the seal record is appended only after the token was obtained and checked: a
 * failed seal writes nothing and leaves the objects pending. */
#ifndef KURA_PUBLIC_SEAL_H
#define KURA_PUBLIC_SEAL_H

#include <stddef.h>

#include "kura/store.h"

typedef struct kura_seal_result {
	size_t objects;                 /* 0: nothing was pending */
	int more;                       /* objects are still pending (over the limit of one seal) */
	char id[KURA_ID_LEN + 1];       /* the seal's record ID */
	char tsa[256];                  /* who time-stamped it */
	char gentime[32];
	/* of objects, the audit trail's checkpoints (docs/RECORDS.md): kura's own,
	 * not documents; the trail is time-stamped up to record trail_to */
	size_t checkpoints;
	unsigned long long trail_to;
} kura_seal_result;

/* What kura_seal_all tells its caller as it goes (every member may be NULL;
 * what they are given is borrowed for the call). */
typedef struct kura_seal_events {
	/* The store time-stamps with remote TSAs (url: the first) but trusts none of
	 * their roots: tokens are checked, not their certificate path. */
	void (*untrusted)(void *ud, const char *url);
	/* A seal was made; or, once at the end, res->objects is 0: nothing was pending. */
	void (*sealed)(void *ud, const kura_seal_result *res);
	void *ud;
} kura_seal_events;

/* Seals every pending object of st (open for writing): the embedded TSA's
 * upkeep first (rolled over when its certificate or key nears its end), then
 * as many seals as the backlog takes. *sealed (may be NULL) counts the objects
 * sealed. ev may be NULL. */
int kura_seal_all(size_t *sealed, kura_store *st, const kura_seal_events *ev, kura_error *err);
/* The same, first checkpointing the audit trail: when documents are pending
 * (the checkpoint is sealed with them) or, with KURA_SEAL_TRAIL, whenever the
 * trail has records no checkpoint holds (what `kura seal --audit-trail` does),
 * or, with KURA_SEAL_CHANGES, when among them is a change a person made (a
 * hold, an event, a metadata or trust change: not kura's own renewal records;
 * what the daemon does, so that no decision waits for the next document).
 * kura_seal_all is kura_seal_all_flags with 0. */
enum { KURA_SEAL_TRAIL = 1, KURA_SEAL_CHANGES = 2 };
int kura_seal_all_flags(size_t *sealed, kura_store *st, int flags, const kura_seal_events *ev, kura_error *err);

#endif
