/* The audit trail's checkpoints (archive/audit_checkpoint.c, docs/RECORDS.md):
 * objects kura makes itself at a seal, holding the audit records written since
 * the last checkpoint, so that the seal time-stamps the trail like a document. */
#ifndef KURA_ARCHIVE_AUDIT_H
#define KURA_ARCHIVE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"
#include "kura/id.h"
#include "kura/store.h"

/* The object record's "system" of a checkpoint. */
#define KURA_AUDIT_TRAIL "audit-trail"

/* The checkpoint due: the bodies of the records after the last checkpoint,
 * each followed by "\n" (text, len bytes; malloc'd), and which they are
 * (from..to). text is NULL when none is due: no records since, or only the
 * last checkpoint's own commit record (an idle store gets no checkpoints).
 * Clear it with kura_audit_pending_clear. */
typedef struct kura_audit_pending {
	char *text;
	size_t len;
	uint64_t from, to;
} kura_audit_pending;
int kura_audit_checkpoint_due(kura_audit_pending *out, kura_store *st, kura_error *err);
/* Ingests and commits c as the checkpoint object audit-trail-FROM-TO.jsonl (st
 * open for writing); id gets its ID. */
int kura_audit_checkpoint_write(char id[KURA_ID_LEN + 1], kura_store *st, const kura_audit_pending *c, kura_error *err);
void kura_audit_pending_clear(kura_audit_pending *c);

/* The line a checkpoint holds for record seq, which the chain lacks: c->line
 * (c->len bytes) is {"seq":N,"lost_by":"ID"}, ID the first "reindex-loss" record
 * after it whose "gaps" hold seq. KURA_ENOTFOUND when no reindex recorded its
 * loss. c caches the answer for the rest of that gap: zero it before the first
 * call. */
typedef struct kura_audit_lost {
	uint64_t from, upto;
	char by[KURA_ID_LEN + 1];
	char line[128];
	size_t len;
} kura_audit_lost;
int kura_audit_lost_line(kura_audit_lost *c, kura_store *st, uint64_t seq, kura_error *err);
/* Of the records from..to-1 the chain lacks, the first whose loss no
 * "reindex-loss" lists (to when every one's is), asked with c as above. */
uint64_t kura_audit_first_unrecorded(kura_audit_lost *c, kura_store *st, uint64_t from, uint64_t to);
/* Whether the "reindex-loss" record loss lists seq among the records the chain
 * lacked when it was written ("gaps": [{"from", "to"}]): 1 and that gap. */
int kura_audit_loss_gap(const json_t *loss, uint64_t seq, uint64_t *from, uint64_t *to);

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
