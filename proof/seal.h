/* Sealing and the evidence record of one object.
 *
 * A seal takes the pending objects of a store (all of them, but for a backlog of
 * more than ten million), builds ONE hash tree over their
 * hashes (the store's algorithm) and gets ONE time-stamp over its root. The seal
 * record (the leaves in order and the token exactly as received) is appended to
 * the store only after the token was obtained and checked: a failed seal writes
 * nothing and leaves the objects pending.
 The seal record's payload is described in proof/chains.h. The public part
 is kura/seal.h. */
#ifndef KURA_SEAL_H
#define KURA_SEAL_H

#include <pthread.h>
#include <stddef.h>

#include "evidence/stamper.h"
#include "kura/seal.h"
#include "kura/store.h"

/* A seal's record (26-byte subject IDs and the leaves) is kept below this size:
 * reindex reads one record at a time into memory, up to 1 GiB. A seal of
 * SHA-256 leaves holds up to 13.8 million objects; a larger backlog takes
 * several seals. */
#define KURA_SEAL_MAX_BYTES (768u << 20)

/* Seals the oldest pending objects of st (open for writing): all of them, or
 * max (0: as many as KURA_SEAL_MAX_BYTES allows). res->more says whether some
 * are still pending; seal again then. */
int kura_seal(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, size_t max, kura_error *err);
/* The same with the audit trail's checkpoint trail (archive/audit.h; NULL or
 * its text NULL: none) as the last leaf of the last seal of the backlog: it is
 * written, and gets its ID, only once the time-stamp was obtained. */
struct kura_audit_pending;
int kura_seal_with(kura_seal_result *res, kura_store *st, const kura_stamper_options *tsa, size_t max,
		   const struct kura_audit_pending *trail, kura_error *err);

/* kura_seal_all_flags for a store other threads write too (the preservation
 * service): the caller holds lock, the store's writer lock, and it is let go
 * while each seal's TSA is asked, so that submissions and audit records need
 * not wait for a remote TSA; what was chosen is checked again once the lock is
 * taken back (proof/seal.c). The audit trail's checkpoint is written before the
 * TSA is asked (so that documents added meanwhile fall outside the seal's range
 * of IDs) and sealed like a document: if no TSA answers, it stays pending for
 * the next seal. Nothing is said as it goes (no events). */
int kura_seal_all_unlocking(size_t *sealed, kura_store *st, int flags, pthread_mutex_t *lock, kura_error *err);

#endif
