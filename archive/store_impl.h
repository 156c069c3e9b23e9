/* What the archive module's files share about an open store (not public). */
#ifndef KURA_STORE_IMPL_H
#define KURA_STORE_IMPL_H

#include <string.h>
#include <sys/types.h>

#include "archive/backend.h"
#include "archive/blob.h"
#include "archive/segment.h"
#include "index/index.h"
#include "kura/search.h"
#include "kura/store.h"

/* A TSA URL config.json can keep: http:// or https://, then printable ASCII
 * only (anything else percent-encoded, RFC 3986); 1 if so, else 0. */
static inline int kura_store_tsa_url_ok(const char *url)
{
	size_t skip = strncmp(url, "http://", 7) == 0 ? 7 : strncmp(url, "https://", 8) == 0 ? 8 : 0;
	for (const char *p = url + skip; skip && *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return skip != 0;
}

kura_index *kura_store_index(kura_store *st);
/* The backend every byte of the store's segments goes through (archive/backend.h). */
kura_backend *kura_store_backend(const kura_store *st);

/* The store's own blob reader (NULL until the first read; closed with the store). */
kura_blob_reader **kura_store_blob_reader(kura_store *st);
int kura_store_zstd_level(const kura_store *st);
/* The segment writer of a store opened for writing (NULL when read-only). */
kura_segment_writer *kura_store_writer(kura_store *st);
/* 1 for a view (kura_store_view_open) of another handle. */
int kura_store_is_view(const kura_store *st);

/* Makes every record appended so far durable: segment fdatasync (the one sync
 * of a commit), then batch b (plus the new committed end) written to the index,
 * synced at most once a second (a lost unsynced tail is rolled forward from the
 * segments at the next open for writing: archive/store.c). Then, if the segment
 * is past its size limit, continues in a new one (that index write synced). */
int kura_store_commit(kura_store *st, kura_index_batch *b, kura_error *err);
/* Continues in a new segment (nothing may be pending): the one before becomes
 * full ('z'), and never changes again but by compaction. */
int kura_store_roll(kura_store *st, kura_error *err);
/* Bytes the segments hold past the committed end the index of a store opened
 * for reading names (0 for a writer and its views): a write under way, or what
 * a crash left (a torn tail) or a power loss (acknowledged records a lagging
 * index lost), which the next open for writing takes up. */
uint64_t kura_store_untaken(kura_store *st);
/* Drops every record appended since the last commit. */
int kura_store_rollback(kura_store *st, kura_error *err);

/* The index value of a pending object: its digests, so that a seal need not
 * look the objects up (format in archive/evidence_frame.c), made from its description
 * ("digests"; ingest and reindex write the same bytes). Empty for a data object
 * group, whose seal needs every member's digest. Returns the length. */
#define KURA_PENDING_MAX 160
size_t kura_pending_digests(unsigned char value[KURA_PENDING_MAX], json_t *object);

/* The subject list of the seal looked up last, kept by the open store for the
 * next lookup (archive/evidence_frame.c); the store frees it on close. */
typedef struct kura_subject_list kura_subject_list;
kura_subject_list **kura_store_subject_list(kura_store *st);
void kura_subject_list_free(kura_subject_list *l);

/* kura_store_open with the segments in be (borrowed: it must outlive the store,
 * whose close releases the writer lock taken through it); NULL is the store's
 * local-file backend. Tests open a store through a fault backend with it. */
int kura_store_open_with_backend(kura_store **out, const char *path, int mode, kura_backend *be, kura_error *err);

/* Opens a store's configuration and takes the writer lock, without the index
 * (for rebuilding it). A reader's (kura attach) too: its lock is local. */
int kura_store_open_locked(kura_store **out, const char *path, kura_error *err);
/* config.json's "backend" (NULL: local files), owned by the store. */
const json_t *kura_store_backend_config(const kura_store *st);
/* 0 when be holds no segments of a store (or only the empty first one an
 * interrupted kura init left); KURA_EINPUT saying so when it does. */
int kura_store_backend_unused(kura_backend *be, kura_error *err);


/* Who holds the writer lock for long (archive/store_holder.c): KURA_ELOCKED
 * naming it when STORE/holder.json names a live process; else 0. */
int kura_store_holder_check(const char *store, kura_error *err);
/* Removes STORE/holder.json (a holder's, when it lets the lock go; a stale one). */
void kura_store_holder_clear(const char *store);

/* The store's folder as files (archive/store_files.c). Refuses a symbolic link
 * among the store's entries (KURA_EIO, saying what to do). */
int kura_store_files_check(const char *store, kura_error *err);
/* Sets the process's umask for the store (077, or 027 with group; *old_umask
 * gets the previous one) and tightens the modes of an older, looser store. */
int kura_store_files_private(mode_t *old_umask, const char *store, const char *group, kura_error *err);
/* The id of group name (KURA_EINPUT when there is none). */
int kura_store_files_group(gid_t *gid, const char *name, kura_error *err);
/* Writes store/rel durably (its folder made if absent), never through a link. */
int kura_store_files_write(const char *store, const char *rel, const void *buf, size_t n, kura_error *err);

/* Writes the top-level files names (policy.yaml, config.json, sunsets.json) with
 * texts as one change: all or none survive a crash (common/safefs.h's switch). */
int kura_store_files_write_together(const char *store, const char *const *names, const char *const *texts, size_t n,
				    kura_error *err);
/* Finishes or undoes such a change a crash interrupted (under the writer lock);
 * 1 when it changed a file, 0 when there was none. */
int kura_store_files_finish(const char *store, kura_error *err);

/* 1 if folder path holds only what a kura init killed before FORMAT left (names
 * init makes, no link, no segment past its header); clear removes it. */
int kura_store_files_init_leftovers(const char *path);
int kura_store_files_clear_leftovers(const char *path);

/* Index entries for records found in segments (archive/rebuild.c): rolls the
 * index forward over complete records past the committed end after a crash. */
int kura_rebuild_recover(kura_store *st, kura_error *err);
/* Removes what an interrupted kura reindex left in the store folder path
 * (index.rebuild; index.old, put back when there is no index), and finishes
 * what an interrupted kura migrate left (kura_migrate_settle): with the writer
 * lock held. */
int kura_rebuild_tidy(const char *path, kura_error *err);
/* Builds the index of every segment of be in the new folder dir (kura migrate's
 * index for the segments it split, archive/migrate_split.c); *damaged counts the
 * damaged or missing ranges found. */
int kura_rebuild_into(kura_backend *be, const char *dir, uint64_t *damaged, kura_error *err);
/* Where the index of store path is (into out): STORE/index, or the index a
 * kura migrate that split segments built for its target (STORE/index.migrate)
 * once config.json names that target while the move's journal is there
 * (archive/migrate_split.c). */
int kura_migrate_index(char *out, size_t n, const char *path, kura_error *err);
/* With the writer lock: puts such an index in place of STORE/index (called by
 * kura_rebuild_tidy, so at every open for writing and every reindex). */
int kura_migrate_settle(const char *path, kura_error *err);
/* Closes st's index (kura migrate, before it puts another in its place): st
 * then only closes. */
void kura_store_drop_index(kura_store *st);

/* The audit trail (archive/audit.c): appends an audit record of action with
 * fields (borrowed, may be NULL) to the writer and its index entries to b,
 * without committing; several may go into one b (each chained to the one
 * before). id gets its ID. */
int kura_audit_append(kura_store *st, kura_index_batch *b, const char *action, json_t *fields,
		      char id[KURA_ID_LEN + 1], kura_error *err);
/* Every index entry of an object (e), with those its record-management fields
 * make (object: its parsed description) and its entries in the indexes of the
 * fields fs (NULL: none; reindex fills them at its end with kura_fields_build):
 * ONE function for ingest, recovery and reindex (archive/records_index.c). */
void kura_object_index(kura_index_batch *b, const kura_index_object_entry *e, json_t *object, const kura_fields *fs);
/* Every index entry an audit record's body makes (archive/records_index.c), for
 * its writer and for reindex alike; -1 (nothing put) when it has no valid id. */
int kura_audit_index(kura_index_batch *b, const char *body, size_t len, uint32_t segno, uint64_t offset);

/* Adds to j, the parsed JSON of index entry o, what kura_store_object's
 * description has besides (stored, segment, offset). */
void kura_store_describe(json_t *j, const kura_index_object *o, kura_index *ix);

/* ---- search fields (archive/fields.c) ---- */

/* The fields of the store, loaded when it was opened (kura_store_reload_fields
 * after a change). */
const kura_fields *kura_store_fields(const kura_store *st);
int kura_store_reload_fields(kura_store *st, kura_error *err);
int kura_fields_load_index(kura_fields *out, kura_index *ix, kura_error *err);
/* A definition as the 'F' key keeps it (JSON text, the caller's; NULL: no memory). */
char *kura_field_def_json(const kura_field *f, int built);
/* Checks the metadata of a new object of retention class cls (may be NULL)
 * as an object record holds it against the fields: every value of a field is
 * of its type, every field required for cls has one. KURA_EINPUT naming the
 * field, the value and the type. */
int kura_fields_check_json(const kura_fields *fs, const char *cls, json_t *meta, kura_error *err);
/* Puts object's entries in the index of each field of fs, and its vector of
 * every field's state and encoding (none for an object kura made itself). */
void kura_fields_index_object(kura_index_batch *b, const kura_fields *fs, const char *id, json_t *object);
/* The state of field name in vector v (n bytes, as kura_index_get_field_vector
 * gives it) and its encoding (*enc, *len: in v); -1 when v does not hold it. */
int kura_fields_vector_find(const unsigned char *v, size_t n, const char *name, const unsigned char **enc,
			    size_t *len);
/* Fills the index of field only (NULL: of every field not built) for every
 * object in ix, then marks it built; durable when it returns. */
int kura_fields_build(kura_index *ix, const char *only, kura_error *err);

/* The metadata key in NFC (*nfc, the caller frees it), or KURA_EINPUT saying
 * why it is not allowed (archive/meta_key.c). */
int kura_meta_key_nfc(char **nfc, const char *key, kura_error *err);

#endif
