/* The RocksDB index of a store: what is where, for fast lookups.
 *
 * The index is derived data: everything in it can be rebuilt from the segments
 * (kura reindex). Keys:
 *   'o' + ID (26 chars)  -> u32 segment | u64 offset of the object record | object JSON
 *   'b' + SHA-256 (32)   -> u32 segment | u64 offset of the blob record | u64 size | u64 stored
 *   'w'                  -> u32 segment | u64 committed end (the writer's durable position)
 *   'R'                  -> u64 backend generation | SHA-256 (32): a reader's refresh mark
 *                           (archive/refresh.c), only in a reader's index
 *   'p' + ID             -> the object's digests (archive/evidence_frame.c): it waits for its first time-stamp (a seal)
 *   'a' + ID             -> u32 segment | u64 offset of an audit trail entry
 *   'z' + u32 segment    -> u64 size of a full (rolled) segment, which never changes again
 *   'E' + record ID      -> u32 segment | u64 offset of an evidence record
 *   'e' + ID + record ID -> u32 segment | u64 offset | u32 position of the object in the record | u8 kind
 *   'r' + last ID + record ID -> u32 segment | u64 offset | first ID | u32 n | u8 kind: a seal's
 *                           subjects, ascending IDs from first to last (one entry per seal, not one per object)
 *   'Y' + record ID      -> u8: the TSA mark of an evidence record's frame (whether the TSA of its new
 *                           token was certified then; archive/evidence_frame.c), absent when it has none
 *   'q' 'V' 'S' 'C' 'T' 'x' 'L' 'G' 'Q': records management (index/records.c, docs/RECORDS.md)
 *   'D' + version ID     -> the 26-character ID of the audit record that disposed of it
 *                           (written by the records layer; docs/RECORDS.md)
 *   'K' + u32 segment (big-endian) -> u8 state ('s' staging, 'c' committed) | u64 size before
 *                           | u64 size after: the journal of a compaction of that segment
 *                           (archive/compact.c), present only while one is under way
 * Every value that says where a record is starts with u32 segment | u64 offset
 * ('o', 'b', 'a', 'E', 'e', 'r'): kura_index_relocate moves them all.
 *   'k': the audit trail's checkpoints (index/checkpoints.c, docs/RECORDS.md)
 *   'F', 'f', 'g': search fields' definitions, their ordered secondary indexes and each
 *        version's vector of values (index/fields.c)
 * The layout of keys and values is index/'s business: outside it, code uses
 * typed lookups, batch functions, walks and cursors (index/cursor.c). An
 * object's entries ('o', 'p') are written by ONE function,
 * kura_index_batch_put_object, for ingest and for recovery and reindex alike.
 * Writes go in batches; a batch written with sync is durable when the call returns. */
#ifndef KURA_INDEX_H
#define KURA_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"
#include "kura/id.h"

typedef struct kura_index kura_index;

enum { KURA_INDEX_READONLY = 1, KURA_INDEX_CREATE = 2 };

int kura_index_open(kura_index **out, const char *path, int flags, kura_error *err);
void kura_index_close(kura_index *ix);

typedef struct kura_index_blob {
	uint32_t segno;
	uint64_t offset;
	uint64_t size;   /* uncompressed bytes */
	uint64_t stored; /* bytes of the record body in the segment */
} kura_index_blob;

typedef struct kura_index_object {
	uint32_t segno;
	uint64_t offset;
	char *json; /* NUL-terminated; owned by the struct, see kura_index_object_clear */
	size_t json_len;
} kura_index_object;

void kura_index_object_clear(kura_index_object *o);

/* KURA_ENOTFOUND when absent. */
int kura_index_get_blob(kura_index *ix, const unsigned char sha256[32], kura_index_blob *out, kura_error *err);
int kura_index_get_object(kura_index *ix, const char *id, kura_index_object *out, kura_error *err);
int kura_index_get_state(kura_index *ix, uint32_t *segno, uint64_t *end, kura_error *err);
/* A reader's refresh mark ('R'): KURA_ENOTFOUND when it has none. */
int kura_index_get_refresh_mark(kura_index *ix, uint64_t *generation, unsigned char digest[32], kura_error *err);

typedef struct kura_index_batch kura_index_batch;

int kura_index_batch_new(kura_index_batch **out, kura_error *err);
void kura_index_batch_free(kura_index_batch *b);
void kura_index_batch_clear(kura_index_batch *b);
void kura_index_batch_put_blob(kura_index_batch *b, const unsigned char sha256[32], const kura_index_blob *blob);
/* Everything the index holds about one object, as ingest writes it and
 * recovery and reindex rebuild it from the object record. */
typedef struct kura_index_object_entry {
	const char *id;                /* KURA_ID_LEN characters */
	uint32_t segno;                /* where the object record starts */
	uint64_t offset;
	const char *json;              /* the object record's body */
	size_t json_len;
	const unsigned char *digests;  /* what its first seal needs (kura_pending_digests) */
	size_t digests_len;
} kura_index_object_entry;
/* Puts every index entry of one object: ONE function, so that ingest and
 * reindex write the same bytes. Today: 'o' + ID (where, and the JSON) and
 * 'p' + ID (pending: its digests, until a seal or an imported record about it
 * deletes the entry). Entries for searching (names, metadata) go here too. */
void kura_index_batch_put_object(kura_index_batch *b, const kura_index_object_entry *e);
void kura_index_batch_put_state(kura_index_batch *b, uint32_t segno, uint64_t end);
void kura_index_batch_put_refresh_mark(kura_index_batch *b, uint64_t generation, const unsigned char digest[32]);
/* Marks the batch's current state; rollback drops what was put after the
 * newest mark, release forgets the newest mark and keeps what was put. */
void kura_index_batch_mark(kura_index_batch *b);
int kura_index_batch_rollback(kura_index_batch *b, kura_error *err);
void kura_index_batch_release(kura_index_batch *b);
/* Applies the batch atomically; with sync, durably, together with every
 * unsynced write before it (one log). Without sync it survives the process
 * dying but not a power loss, which may take any tail of the unsynced writes
 * (never one from the middle). Closing the index syncs what is unsynced. */
int kura_index_write(kura_index *ix, kura_index_batch *b, int sync, kura_error *err);
/* How many writes this handle has made (failed ones too: what the index holds
 * is then unknown): what was read before is stale once this changes. */
uint64_t kura_index_writes(const kura_index *ix);

/* ---------------------------------------------------------------- cursors
 *
 * A cursor walks the entries from start (included; NULL: the first key) to end
 * (excluded; NULL: the end of start's namespace, i.e. every key whose first
 * byte is start's first byte, or to the very end when start is NULL too), in
 * key order. It sees the index as it was when it was opened: writes made while
 * it is open are not seen. The pointers next() returns belong to the cursor
 * and stay valid until its next call (next, seek, close). Keys are raw: outside
 * index/ only tools and tests (a dump) use this one; callers use the typed
 * cursors and walks below, which keep the key layout private. */
typedef struct kura_index_cursor kura_index_cursor;
/* NULL on error (err says why). */
kura_index_cursor *kura_index_cursor_open(kura_index *ix, const void *start, size_t start_len, const void *end,
					  size_t end_len, kura_error *err);
/* 1: *key and *val are the next entry; 0: no more; < 0: an error (in err). */
int kura_index_cursor_next(kura_index_cursor *c, const void **key, size_t *klen, const void **val, size_t *vlen,
			   kura_error *err);
/* The next entry is the first at or after key (and never before start). */
void kura_index_cursor_seek(kura_index_cursor *c, const void *key, size_t len);
void kura_index_cursor_close(kura_index_cursor *c);

/* Objects in ID order (ingest order) with from <= ID < to (NULL: unbounded).
 * NULL on error. */
typedef struct kura_index_objects kura_index_objects;
kura_index_objects *kura_index_objects_open(kura_index *ix, const char *from, const char *to, kura_error *err);
/* Objects whose IDs were made from from_ms (included) to to_ms (excluded),
 * milliseconds since 1970 (the time of their ingest). */
kura_index_objects *kura_index_objects_between(kura_index *ix, int64_t from_ms, int64_t to_ms, kura_error *err);
/* 1: *id and *o are the next object, both the cursor's (valid until its next
 * call; do not clear *o); 0: no more; < 0: an error (in err). */
int kura_index_objects_next(kura_index_objects *c, const char **id, const kura_index_object **o, kura_error *err);
void kura_index_objects_close(kura_index_objects *c);

/* Walks all objects in ID order (which is ingest order). fn returning non-zero
 * stops the walk with that status. */
typedef int (*kura_index_object_fn)(void *ud, const char *id, const kura_index_object *o, kura_error *err);
int kura_index_each_object(kura_index *ix, kura_index_object_fn fn, void *ud, kura_error *err);

void kura_index_batch_put_audit(kura_index_batch *b, const char *id, uint32_t segno, uint64_t offset);
void kura_index_batch_put_sealed_size(kura_index_batch *b, uint32_t segno, uint64_t size);
typedef int (*kura_index_size_fn)(void *ud, uint32_t segno, uint64_t size, kura_error *err);
int kura_index_each_sealed_size(kura_index *ix, kura_index_size_fn fn, void *ud, kura_error *err);

void kura_index_batch_del_pending(kura_index_batch *b, const char *id);
/* Walks the objects waiting for a seal, in ID order, with their values. */
typedef int (*kura_index_pending_fn)(void *ud, const char *id, const unsigned char *value, size_t len,
				     kura_error *err);
int kura_index_each_pending(kura_index *ix, kura_index_pending_fn fn, void *ud, kura_error *err);

/* Evidence records (kind and payload are the renewal layer's business). */
typedef struct kura_index_link {
	char record[KURA_ID_LEN + 1];  /* the evidence record's ID */
	uint32_t segno;
	uint64_t offset;
	uint32_t position; /* of the subject in the record's subject list */
	char kind;         /* of the record */
} kura_index_link;

void kura_index_batch_put_record(kura_index_batch *b, const char *record, uint32_t segno, uint64_t offset);
void kura_index_batch_put_link(kura_index_batch *b, const char *subject, const kura_index_link *l);
int kura_index_get_record(kura_index *ix, const char *record, uint32_t *segno, uint64_t *offset, kura_error *err);
/* The TSA mark of an evidence record ('Y'): *mark is 0 when the record has none. */
void kura_index_batch_put_mark(kura_index_batch *b, const char *record, char mark);
int kura_index_get_mark(kura_index *ix, const char *record, char *mark, kura_error *err);
/* Walks the evidence records that concern subject, oldest first. */
typedef int (*kura_index_link_fn)(void *ud, const kura_index_link *l, kura_error *err);
int kura_index_each_link(kura_index *ix, const char *subject, kura_index_link_fn fn, void *ud, kura_error *err);
/* Walks every link of every subject (subjects in ID order, then records in ID order). */
typedef int (*kura_index_any_link_fn)(void *ud, const char *subject, const kura_index_link *l, kura_error *err);
int kura_index_each_link_all(kura_index *ix, kura_index_any_link_fn fn, void *ud, kura_error *err);

/* A record whose n subjects are ascending IDs from first to last, indexed by one
 * entry instead of n links (seals: a seal takes every pending object, and IDs
 * grow, so seals' ranges never overlap). A subject's position in the record is
 * found in the record's subject list. */
typedef struct kura_index_range {
	char record[KURA_ID_LEN + 1];
	uint32_t segno;
	uint64_t offset;
	char first[KURA_ID_LEN + 1], last[KURA_ID_LEN + 1];
	uint32_t n;
	char kind;
} kura_index_range;

void kura_index_batch_put_range(kura_index_batch *b, const kura_index_range *r);
/* Deletes the pending entries of every ID from first to last, both included. */
void kura_index_batch_del_pending_range(kura_index_batch *b, const char *first, const char *last);
/* The range that spans id (first <= id <= last); 1 (no error) if none does. */
int kura_index_find_range(kura_index_range *out, kura_index *ix, const char *id, kura_error *err);
/* Walks the ranges in ascending order of their last IDs. */
typedef int (*kura_index_range_fn)(void *ud, const kura_index_range *r, kura_error *err);
int kura_index_each_range(kura_index *ix, kura_index_range_fn fn, void *ud, kura_error *err);

/* The highest object or evidence record ID in the index (empty string if none). */
int kura_index_last_id(kura_index *ix, char out[KURA_ID_LEN + 1], kura_error *err);

/* Walks the places of evidence records (kind 'E') and audit entries ('a'). */
typedef int (*kura_index_place_fn)(void *ud, char kind, const char *id, uint32_t segno, uint64_t offset,
				   kura_error *err);
int kura_index_each_place(kura_index *ix, kura_index_place_fn fn, void *ud, kura_error *err);

typedef int (*kura_index_blob_fn)(void *ud, const unsigned char sha256[32], const kura_index_blob *b,
				  kura_error *err);
int kura_index_each_blob(kura_index *ix, kura_index_blob_fn fn, void *ud, kura_error *err);

/* ---------------------------------------------------------------- records management
 * (index/records.c; which record makes which key: archive/records_index.c) */

/* Walks names or IDs under a key prefix: name is the rest of the key (a string),
 * value its value (not NUL-terminated). */
typedef int (*kura_index_name_fn)(void *ud, const char *name, const char *value, size_t vlen, kura_error *err);
typedef int (*kura_index_seq_fn)(void *ud, uint64_t seq, kura_error *err);

/* The audit chain: the nth audit record written (seq from 1), its ID and the
 * SHA-256 of its body. */
typedef struct kura_index_chain_link {
	uint64_t seq;
	char id[KURA_ID_LEN + 1];
	unsigned char hash[32];
} kura_index_chain_link;
/* Where audit record id is ('a'). */
int kura_index_get_audit(kura_index *ix, const char *id, uint32_t *segno, uint64_t *offset, kura_error *err);
void kura_index_batch_put_chain(kura_index_batch *b, uint64_t seq, const char *id, const unsigned char hash[32]);
/* The last link put into b since it was cleared (or up to its mark, after a
 * rollback): 1 and *out, or 0 when there is none. */
int kura_index_batch_chain_head(const kura_index_batch *b, kura_index_chain_link *out);
/* The newest link (seq 0 when the chain is empty). */
int kura_index_chain_head(kura_index *ix, kura_index_chain_link *out, kura_error *err);
int kura_index_get_chain(kura_index *ix, uint64_t seq, kura_index_chain_link *out, kura_error *err);
typedef int (*kura_index_chain_fn)(void *ud, const kura_index_chain_link *l, kura_error *err);
int kura_index_each_chain(kura_index *ix, kura_index_chain_fn fn, void *ud, kura_error *err);

/* Versions: the versions of a record, oldest first; a version's successor
 * (KURA_ENOTFOUND: it is the current one); every superseded version in ID order. */
void kura_index_batch_put_version(kura_index_batch *b, const char *record, const char *version);
int kura_index_each_version(kura_index *ix, const char *record, kura_index_name_fn fn, void *ud, kura_error *err);
void kura_index_batch_put_successor(kura_index_batch *b, const char *version, const char *next);
int kura_index_get_successor(kura_index *ix, const char *version, char next[KURA_ID_LEN + 1], kura_error *err);
int kura_index_each_superseded(kura_index *ix, kura_index_name_fn fn, void *ud, kura_error *err);

/* Retention: the records of a class; a record's events (name -> date). */
void kura_index_batch_put_class(kura_index_batch *b, const char *class_name, const char *record);
int kura_index_each_of_class(kura_index *ix, const char *class_name, kura_index_name_fn fn, void *ud, kura_error *err);
void kura_index_batch_put_event(kura_index_batch *b, const char *record, const char *name, const char *date);
int kura_index_each_event(kura_index *ix, const char *record, kura_index_name_fn fn, void *ud, kura_error *err);

/* The audit records about an object or record (by seq), other than its ingest. */
void kura_index_batch_put_about(kura_index_batch *b, const char *id, uint64_t seq);
int kura_index_each_about(kura_index *ix, const char *id, kura_index_seq_fn fn, void *ud, kura_error *err);

/* Holds: held 1 puts, 0 deletes "hold covers record"; the walk gives "HOLD\0RECORD"
 * as name (the hold's name, then the record's ID after its NUL). */
void kura_index_batch_put_held(kura_index_batch *b, const char *hold, const char *record, int held);
int kura_index_each_held(kura_index *ix, kura_index_name_fn fn, void *ud, kura_error *err);

/* Named states as JSON text: a hold's ('G'), a disposal request's ('Q'), the
 * loss that suspends disposal ('U', name "disposal"). get: *json malloc'd (the
 * caller frees), KURA_ENOTFOUND when absent. */
#define KURA_INDEX_HOLD 'G'
#define KURA_INDEX_REQUEST 'Q'
#define KURA_INDEX_SUSPENDED 'U'
void kura_index_batch_put_state_of(kura_index_batch *b, char ns, const char *name, const char *json);
void kura_index_batch_del_state_of(kura_index_batch *b, char ns, const char *name);
int kura_index_get_state_of(kura_index *ix, char ns, const char *name, char **json, kura_error *err);
int kura_index_each_state_of(kura_index *ix, char ns, kura_index_name_fn fn, void *ud, kura_error *err);

/* What a reindex lost, as JSON, until the audit record that says so is
 * committed (archive/loss.c): put NULL deletes it; get: KURA_ENOTFOUND when none. */
void kura_index_batch_put_loss(kura_index_batch *b, const char *json);
int kura_index_get_loss(kura_index *ix, char **json, kura_error *err);

/* ---------------------------------------------------------------- disposal and compaction */

/* by: the ID of the audit record that disposed of object id (both KURA_ID_LEN characters). */
void kura_index_batch_put_disposed(kura_index_batch *b, const char *id, const char *by);
/* KURA_ENOTFOUND (no message set) when id was not disposed of. */
int kura_index_get_disposed(kura_index *ix, const char *id, char by[KURA_ID_LEN + 1], kura_error *err);
/* Walks the disposed objects in ID order. */
typedef int (*kura_index_disposed_fn)(void *ud, const char *id, const char *by, kura_error *err);
int kura_index_each_disposed(kura_index *ix, kura_index_disposed_fn fn, void *ud, kura_error *err);

/* The journal of a compaction of one segment (archive/compact.c). */
typedef struct kura_index_compaction {
	uint32_t segno;
	char state;        /* KURA_COMPACT_STAGING or KURA_COMPACT_COMMITTED */
	uint64_t old_size; /* the segment's size before */
	uint64_t new_size; /* its replacement's (0 while staging) */
} kura_index_compaction;
#define KURA_COMPACT_STAGING 's'
#define KURA_COMPACT_COMMITTED 'c'
void kura_index_batch_put_compaction(kura_index_batch *b, const kura_index_compaction *c);
void kura_index_batch_del_compaction(kura_index_batch *b, uint32_t segno);
typedef int (*kura_index_compaction_fn)(void *ud, const kura_index_compaction *c, kura_error *err);
int kura_index_each_compaction(kura_index *ix, kura_index_compaction_fn fn, void *ud, kura_error *err);

void kura_index_batch_del_blob(kura_index_batch *b, const unsigned char sha256[32]);

/* A record moved from offset from to offset to (KURA_INDEX_GONE: dropped; only
 * a blob may be), in one segment. */
#define KURA_INDEX_GONE UINT64_MAX
typedef struct kura_index_move {
	uint64_t from, to;
} kura_index_move;
typedef struct kura_index_moves {
	uint32_t segno;
	const kura_index_move *moves; /* ascending by from */
	size_t n;
} kura_index_moves;
/* Puts into b every index entry that points into one of the segments of segs
 * (nsegs, ascending by segno) ('o', 'b', 'a', 'E', 'e', 'r') with its offset
 * moved as that segment's moves say; a blob's entry whose record is gone is
 * deleted. One walk over the index. KURA_EIO when an entry points at an offset
 * its moves do not name, or at a dropped record other than a blob: the index and
 * the segment disagree, and nothing is to be moved. */
int kura_index_relocate(kura_index *ix, kura_index_batch *b, const kura_index_moves *segs, size_t nsegs,
			kura_error *err);
/* ---------------------------------------------------------------- the audit trail's checkpoints
 * (index/checkpoints.c): the object that holds audit records from..to. */
typedef struct kura_index_checkpoint {
	char id[KURA_ID_LEN + 1];
	uint64_t from, to;
} kura_index_checkpoint;
void kura_index_batch_put_checkpoint(kura_index_batch *b, const char *id, uint64_t from, uint64_t to);
/* The checkpoint with the highest `to` (to == 0: there is none). */
int kura_index_last_checkpoint(kura_index *ix, kura_index_checkpoint *out, kura_error *err);
/* In the order of the records they hold; _back newest first. fn returning
 * non-zero stops the walk with that status. */
typedef int (*kura_index_checkpoint_fn)(void *ud, const kura_index_checkpoint *c, kura_error *err);
int kura_index_each_checkpoint(kura_index *ix, kura_index_checkpoint_fn fn, void *ud, kura_error *err);
int kura_index_each_checkpoint_back(kura_index *ix, kura_index_checkpoint_fn fn, void *ud, kura_error *err);
/* Every audit record's ID ('a'), chained or not, in ID order. */
typedef int (*kura_index_id_fn)(void *ud, const char *id, kura_error *err);
int kura_index_each_audit(kura_index *ix, kura_index_id_fn fn, void *ud, kura_error *err);

/* ---------------------------------------------------------------- search fields (index/fields.c) */

void kura_index_batch_put_field_def(kura_index_batch *b, const char *name, const char *json);
/* fn gets each field's name and definition (JSON, vlen bytes), in name order. */
int kura_index_each_field_def(kura_index *ix, kura_index_name_fn fn, void *ud, kura_error *err);
enum { KURA_FIELD_EMPTY = 0, KURA_FIELD_VALUE = 1, KURA_FIELD_INVALID = 2 };
/* The entry of version id in field name's index: state and its value's encoding. */
void kura_index_batch_put_field_value(kura_index_batch *b, const char *name, int state, const unsigned char *value,
				      size_t len, const char *id);
/* fn gets the entries of field name in state, in order, from the first whose
 * value is at or after from[0..from_len): the value's encoding and the version's
 * ID (KURA_ID_LEN characters, not terminated). fn returns 0 to go on, > 0 to
 * stop (the walk then returns 0), < 0 an error. */
typedef int (*kura_index_field_fn)(void *ud, const unsigned char *value, size_t len, const char *id, kura_error *err);
int kura_index_field_walk(kura_index *ix, const char *name, int state, const unsigned char *from, size_t from_len,
			  kura_index_field_fn fn, void *ud, kura_error *err);
/* A version's vector of field values (archive/fields.c makes and reads it):
 * *v the caller's (free()); KURA_ENOTFOUND when it has none. */
void kura_index_batch_put_field_vector(kura_index_batch *b, const char *id, const unsigned char *v, size_t n);
int kura_index_get_field_vector(kura_index *ix, const char *id, unsigned char **v, size_t *n, kura_error *err);

#endif
