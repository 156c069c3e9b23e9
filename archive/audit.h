/* The audit trail's checkpoints (archive/audit_checkpoint.c, docs/RECORDS.md):
 * objects kura makes itself at a seal, holding the audit records written since
 * the last checkpoint, so that the seal time-stamps the trail like a document. */
#ifndef KURA_ARCHIVE_AUDIT_H
#define KURA_ARCHIVE_AUDIT_H

#include <stddef.h>

#include "kura/error.h"
#include "kura/id.h"
#include "kura/store.h"

/* The object record's "system" of a checkpoint. */
#define KURA_AUDIT_TRAIL "audit-trail"

/* Ingests a checkpoint of the records after the last checkpoint, unless there
 * are none or the only one is the last checkpoint's own commit record (an idle
 * store gets no checkpoints). *made says whether one was made, id its ID. st
 * must be open for writing. */
int kura_audit_checkpoint(int *made, char id[KURA_ID_LEN + 1], kura_store *st, kura_error *err);

/* Of the objects ids[0..n) (ascending), how many are checkpoints (*count) and
 * the last record they hold (*to; both 0 when none or unreadable). Walks the
 * checkpoints from the newest back to the first older than ids[0]. */
void kura_audit_count_checkpoints(size_t *count, unsigned long long *to, kura_store *st, const char *ids, size_t n);

/* A sorted set of object IDs: n of KURA_ID_LEN characters back to back. */
typedef struct kura_id_set {
	char *ids;
	size_t n;
} kura_id_set;
/* The IDs of every checkpoint of the store: kura's own objects, which what
 * counts documents (verify of a whole store, renewal counts, export) leaves out. */
int kura_audit_checkpoint_ids(kura_id_set *out, kura_store *st, kura_error *err);
int kura_id_set_has(const kura_id_set *s, const char *id);
void kura_id_set_clear(kura_id_set *s);

#endif
