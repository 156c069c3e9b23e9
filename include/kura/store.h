/* A kura store: a folder holding append-only segments (the truth), a RocksDB index
 * (derived, rebuildable) and a small configuration.
 *
 *   STORE/FORMAT          "kura store" and the format version; its presence makes a store
 *   STORE/config.json     hash algorithm, segment size, compression level
 *   STORE/segments/       00000001.seg, 00000002.seg, ... (format in archive/segment.c)
 *   STORE/index/          RocksDB (keys in index/index.h)
 *   STORE/lock            held (flock) by the one process that writes
 * A store made with a RADOS backend keeps its segments as objects of a Ceph pool
 * instead of STORE/segments/ (config.json "backend"; archive/backend_rados.c).
 *
 * A store is opened for reading (any number of processes, no lock) or for writing
 * (one process; opening also finishes the work a crash interrupted). */
#ifndef KURA_STORE_H
#define KURA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kura/error.h"
#include "kura/id.h"

typedef struct kura_store kura_store;

/* Where a store's segments live when they are kept on a Ceph cluster. */
#define KURA_RADOS_DEFAULT_LEASE 30
#define KURA_RADOS_DEFAULT_OP_TIMEOUT 30
typedef struct kura_rados_options {
	const char *ceph_conf; /* the cluster's ceph.conf (monitors, keyring) */
	const char *pool;      /* an existing pool: the directory (omap, lock), and the segments
				* unless data_pool is given */
	const char *data_pool; /* a pool for the segment objects (may be erasure-coded, with
				* allow_ec_overwrites); NULL or "": pool */
	const char *ns;        /* a namespace in it; NULL or "": the default one */
	const char *user;      /* the cephx user without "client."; NULL: admin */
	int lease_seconds;     /* of the writer lock; 0: KURA_RADOS_DEFAULT_LEASE */
	int op_timeout_seconds; /* an operation the cluster has not completed by then fails
				 * (ETIMEDOUT); 0: KURA_RADOS_DEFAULT_OP_TIMEOUT */
} kura_rados_options;

typedef struct kura_init_options {
	const char *hash;      /* sha256 (default), sha384 or sha512 */
	uint64_t segment_size; /* roll segments past this many bytes; 0: 1 GiB */
	int zstd_level;        /* 0: 3 */
	const char *const *tsa_urls; /* remote TSAs, in order of preference */
	const char *group;     /* a group that may read the store (folders 02750, files 0640); NULL: its owner alone */
	size_t ntsa_urls;
	int single_approver;   /* config.json "four_eyes": false: a disposal may be approved by its requester */
	const kura_rados_options *rados; /* segments in a Ceph pool; NULL: in STORE/segments/ */
	/* Called once the folder is laid out and before FORMAT makes it a store, to
	 * add what other layers keep in it (the embedded TSA). May be NULL. */
	int (*prepare)(void *ud, const char *path, kura_error *err);
	void *prepare_ud;
} kura_init_options;

/* Creates a store at path (an absent or empty folder). KURA_EINPUT if path is a
 * store already or a folder with other things in it. */
int kura_store_init(const char *path, const kura_init_options *opts, kura_error *err);

/* Creates a whole store as `kura init` does (proof/store_init.c): kura_store_init
 * (o's prepare is not used) with the policy policy (a file or a shipped name;
 * NULL: KURA_DEFAULT_POLICY of kura/policy.h), checked before anything is made,
 * and, when o names no TSA URL, an embedded TSA made with tsa (kura/tsa.h; NULL:
 * the defaults). Everything is borrowed for the call. */
struct kura_tsa_options;
int kura_store_create(const char *path, const kura_init_options *o, const char *policy,
		      const struct kura_tsa_options *tsa, kura_error *err);

enum { KURA_STORE_READ = 0, KURA_STORE_WRITE = 1 };

/* Opens the store at path. The store is the caller's; close it with kura_store_close.
 * Refuses a store with a symbolic link among its own files (KURA_EIO). Opened for
 * writing, the store sets the process's umask (077, or 027 with a group) until it
 * is closed, so that every file made in it is private (archive/store_files.c). */
int kura_store_open(kura_store **out, const char *path, int mode, kura_error *err);
void kura_store_close(kura_store *st);

/* The store's hash algorithm name (owned by the store). */
const char *kura_store_hash(const kura_store *st);
/* The folder of the store (owned by the store). */
const char *kura_store_path(const kura_store *st);
/* How many index writes this handle made: it changes whenever the store changes under
 * the handle (a store opened for reading sees no later writes), so caches of what
 * the index says compare it to know they are still valid. */
uint64_t kura_store_generation(const kura_store *st);
/* The remote TSA URLs of the store's configuration (owned by the store). */
size_t kura_store_tsa_urls(const kura_store *st, const char *const **urls);
/* Replaces them (none: the embedded TSA), logged in the audit trail. */
int kura_store_set_tsa_urls(kura_store *st, const char *const *urls, size_t n, kura_error *err);
/* The same, and STORE/file (a top-level file: "policy.yaml") gets file_text in the
 * same change: after a crash both are new or both old. */
int kura_store_set_tsa_urls_with(kura_store *st, const char *const *urls, size_t n, const char *file,
				 const char *file_text, kura_error *err);
/* Writes STORE/rel (e.g. "trust/tsa.pem") durably, its folder made if absent,
 * never through a symbolic link. Needs the store opened for writing. */
int kura_store_write_file(kura_store *st, const char *rel, const void *buf, size_t n, kura_error *err);

/* The object's description as JSON: id, name, path, size, stored, ingested,
 * sha256, digests, meta, segment, offset. *out is the caller's (json_decref). */
int kura_store_object(json_t **out, kura_store *st, const char *id, kura_error *err);

/* Calls fn for every document (every object but kura's own: the audit trail's
 * checkpoints, docs/RECORDS.md), in ingest order; fn's JSON is borrowed for the
 * call. _all: for kura's own objects too. */
typedef int (*kura_store_object_fn)(void *ud, json_t *object, kura_error *err);
int kura_store_each_object(kura_store *st, kura_store_object_fn fn, void *ud, kura_error *err);
int kura_store_each_object_all(kura_store *st, kura_store_object_fn fn, void *ud, kura_error *err);

/* Calls fn with the ID and the description of every object, in ingest order:
 * the description's JSON text as stored (len bytes, borrowed for the call;
 * without kura_store_object's "stored", "segment" and "offset", which cost more
 * lookups). */
typedef int (*kura_store_described_fn)(void *ud, const char *id, const char *json, size_t len, kura_error *err);
int kura_store_each_description(kura_store *st, kura_store_described_fn fn, void *ud, kura_error *err);

/* Streams an object's bytes to fn, verifying the SHA-256 as it goes: KURA_EVERIFY
 * (after fn has seen the bytes) if they are damaged. */
typedef int (*kura_store_bytes_fn)(void *ud, const unsigned char *p, size_t n, kura_error *err);
int kura_store_read(kura_store *st, const char *id, kura_store_bytes_fn fn, void *ud, kura_error *err);
/* The same for member k of the object's data object group: 0 the document,
 * k >= 1 the k-th entry of its description's "members" (signature, validation
 * data). KURA_ENOTFOUND when there is no such member. */
int kura_store_read_member(kura_store *st, const char *id, size_t k, kura_store_bytes_fn fn, void *ud,
			   kura_error *err);

/* Writes the bytes of the object id (role NULL), or of the member of its group
 * with that role ("signature", "validation-data"), verified as they stream: to
 * the file out, made whole only once they matched (a damaged object leaves no
 * file; out's folder must exist), or, out NULL, to fd. KURA_ENOTFOUND before
 * anything is written for an unknown ID or role (archive/store_get.c). */
int kura_store_get(kura_store *st, const char *id, const char *role, const char *out, int fd, kura_error *err);

/* ---- evidence records ----
 * Payloads the evidence layer writes about objects: a seal and its time-stamp,
 * later renewals. The store frames each with a kind, its own ID and the IDs it
 * concerns (its subjects), makes it durable, indexes it, and never looks inside.
 * Kind 'S' (a seal) or 'I' (an evidence record imported with its object) is the
 * first evidence of its subjects: they stop being pending. */
#define KURA_EVIDENCE_SEAL 'S'
#define KURA_EVIDENCE_IMPORTED 'I'

/* A piece of a payload (borrowed): a payload is written as its parts in order,
 * so that a million leaves need not be copied into one buffer first. */
typedef struct kura_store_part {
	const void *p;
	size_t len;
} kura_store_part;

/* subjects: n IDs of KURA_ID_LEN characters back to back; a seal's must be
 * ascending (they are: it takes every pending object, in ID order). Durable on
 * return. */
int kura_store_add_evidence(kura_store *st, char kind, const char *record_id, const char *subjects, size_t n,
			    const kura_store_part *payload, size_t nparts, kura_error *err);

/* The same with a TSA mark: a byte the store keeps in the record's frame and
 * indexes, never judging it. The evidence layer says with it whether the TSA of
 * the record's new token was certified when it stamped (kura/tsa.h, certified
 * TSAs): KURA_EVIDENCE_TSA_CERTIFIED or _UNCERTIFIED; 0 is "not said" (every
 * record made before kura kept the mark, imported records). */
#define KURA_EVIDENCE_TSA_CERTIFIED 'C'
#define KURA_EVIDENCE_TSA_UNCERTIFIED 'N'
int kura_store_add_evidence_marked(kura_store *st, char kind, char mark, const char *record_id, const char *subjects,
				   size_t n, const kura_store_part *payload, size_t nparts, kura_error *err);
/* The TSA mark of the record (0: none; from the index, a lookup). */
int kura_store_evidence_mark(char *mark, kura_store *st, const char *record_id, kura_error *err);

typedef struct kura_evidence {
	char kind;
	char id[KURA_ID_LEN + 1];
	size_t nsubjects;       /* the subject IDs themselves are not read */
	unsigned char *payload; /* malloc'd, owned by the struct */
	size_t len;
} kura_evidence;

/* Reads a record's payload by its ID; clear it with kura_evidence_clear. */
int kura_store_read_evidence(kura_evidence *out, kura_store *st, const char *record_id, kura_error *err);
void kura_evidence_clear(kura_evidence *e);

/* The objects still waiting for a seal, in ingest order, each with its digest
 * under the algorithm named hash when ingest noted it (borrowed for the call),
 * else NULL: then compute it from the object. */
typedef int (*kura_store_pending_fn)(void *ud, const char *id, const unsigned char *digest, kura_error *err);
int kura_store_each_pending(kura_store *st, const char *hash, kura_store_pending_fn fn, void *ud, kura_error *err);

/* The evidence records that concern subject, oldest first, with their kind and
 * the subject's position in each record's subject list. */
typedef int (*kura_store_link_fn)(void *ud, const char *record_id, char kind, uint32_t position, kura_error *err);
int kura_store_each_evidence_of(kura_store *st, const char *subject, kura_store_link_fn fn, void *ud,
				kura_error *err);

/* Every (subject, evidence record) pair, subjects in ID order and each subject's
 * records oldest first. */
typedef int (*kura_store_any_link_fn)(void *ud, const char *subject, const char *record_id, char kind,
				      uint32_t position, kura_error *err);
int kura_store_each_link(kura_store *st, kura_store_any_link_fn fn, void *ud, kura_error *err);

/* ---- who acts, and the audit trail (docs/RECORDS.md) ----
 * Every audit record and object record names its actor: by default $KURA_ACTOR
 * or the operating system's user; a service acting for a person names the
 * person. KURA_EINPUT for a name that is empty, too long (128 bytes), not UTF-8
 * or holds control characters. The actor is copied; kura_store_actor's answer is
 * the store's. */
int kura_store_set_actor(kura_store *st, const char *actor, kura_error *err);
/* Says that st (open for writing) is held for as long as its process runs (a
 * service): what (e.g. "kura serve on http://HOST:PORT/") goes into
 * STORE/holder.json, and until st is closed a writer of another process fails
 * at once with KURA_ELOCKED naming it, instead of waiting for the lock. */
int kura_store_hold(kura_store *st, const char *what, kura_error *err);
const char *kura_store_actor(kura_store *st);
/* Whether a disposal needs a second person's approval (config.json "four_eyes"; default yes). */
int kura_store_four_eyes(const kura_store *st);
/* Appends a record to the store's audit trail (st open for writing) and commits
 * it: {"id", "seq", "prev", "time", "actor", "action", ...fields} (fields
 * borrowed, may be NULL; its members are copied in). id (may be NULL) gets the
 * record's ID. The records-management actions and the index entries each makes
 * are in docs/RECORDS.md. Durable on return. */
int kura_store_audit_record(kura_store *st, const char *action, json_t *fields, char id[KURA_ID_LEN + 1],
			    kura_error *err);
/* The audit record with that ID, or the seq-th of the chain (seq from 1), as
 * JSON (*out the caller's). */
int kura_store_audit_get(json_t **out, kura_store *st, const char *id, kura_error *err);
int kura_store_audit_get_seq(json_t **out, kura_store *st, uint64_t seq, kura_error *err);
/* Its body exactly as stored (the chain hashes these bytes): *text malloc'd,
 * NUL-terminated, the caller's. */
int kura_store_audit_text(char **text, size_t *len, kura_store *st, const char *id, kura_error *err);
/* Appends an entry to the store's audit trail (st open for writing): event names
 * the change, detail (borrowed, may be NULL) says what it was. Durable on return. */
int kura_store_audit(kura_store *st, const char *event, json_t *detail, kura_error *err);

/* The digest under md of member k of an object's group (0 the document), read
 * back from its stored bytes and checked against its SHA-256 (KURA_EVERIFY if
 * they are damaged). */
int kura_store_digest_member(unsigned char *out, kura_store *st, const char *id, size_t k, const EVP_MD *md,
			     kura_error *err);
/* The digests under md of every member of the object's group (document first):
 * *count of them, at most max (KURA_EVERIFY if the object names more). reread:
 * always from the stored bytes (checked); else from the object's description
 * where ingest computed them. */
int kura_store_digest_group(unsigned char *out, size_t *count, size_t max, kura_store *st, const char *id,
			    const EVP_MD *md, int reread, kura_error *err);
/* A reading handle on st for another thread of the same process (the
 * preservation service's readers): it shares st's index, segments and
 * configuration and has its own reader and caches, so it may be used while
 * st's thread writes; it sees what st has committed. Closed with
 * kura_store_close, before st is. st's configuration and search fields must not
 * change while it is open. */
int kura_store_view_open(kura_store **out, kura_store *st, kura_error *err);
/* Reading from another thread. A store's functions share its one reader of
 * stored bytes and belong to one thread at a time; lookups in its index are safe
 * from any thread. So a second thread that reads objects' bytes (while the
 * first goes on with the store) does it through a reader of its own. */
typedef struct kura_store_reader kura_store_reader;
int kura_store_reader_new(kura_store_reader **out, kura_store *st, kura_error *err);
void kura_store_reader_free(kura_store_reader *r);
/* kura_store_digest_group, always from the stored bytes, for an object whose
 * description (parsed) the caller has. */
int kura_store_reader_digests(unsigned char *out, size_t *count, size_t max, kura_store_reader *r, json_t *object,
			      const EVP_MD *md, kura_error *err);

/* Re-reads the object's own record in its segment (header, body and trailer
 * checks) and compares it with the description the index holds: KURA_EVERIFY,
 * naming the place, when it is damaged. The second form through a reader. */
int kura_store_check_record(kura_store *st, const char *id, kura_error *err);
int kura_store_reader_check_record(kura_store_reader *r, const char *id, kura_error *err);

/* Re-reads every record of every segment; fn (may be NULL) hears of each damaged
 * place with the IDs of the objects that depend on it. *damaged counts them. */
typedef void (*kura_scrub_fn)(void *ud, const char *id, uint32_t segno, uint64_t offset, const char *why);
int kura_store_scrub(kura_store *st, kura_scrub_fn fn, void *ud, uint64_t *damaged, kura_error *err);

/* ---- disposal's storage side ----
 * 1 when object id was disposed of (by gets the ID of the audit record that did
 * it), 0 when it was not. */
int kura_store_disposed(kura_store *st, const char *id, char by[KURA_ID_LEN + 1], kura_error *err);
/* For kura show: when object id (as given) was disposed of, adds to report (its
 * description) "disposed": {"audit_record", "time", "rule", "approved_by",
 * "message" (what kura get of it says)} and drops "segment", "offset" and
 * "stored" (where its content no longer is); nothing when it was not. */
int kura_store_disposal_report(json_t *report, kura_store *st, const char *id, kura_error *err);

typedef struct kura_compact_result {
	uint64_t segments;     /* segments rewritten */
	uint64_t blobs;        /* blob records removed */
	uint64_t bytes_before; /* the rewritten segments' sizes before */
	uint64_t bytes_after;  /* and after */
} kura_compact_result;

/* Removes the bytes of disposed objects (st opened for writing): every blob
 * record that only disposed objects use (as document or group member) goes, by
 * rewriting the segments that hold one (archive/compact.c: crash-safe, the
 * active segment rolled first); object, evidence and audit records stay. The
 * index then points at the new places and forgets the removed content. */
int kura_store_compact(kura_store *st, kura_compact_result *res, kura_error *err);

/* Rebuilds the index of the store at path from its segments alone (the store
 * is opened for writing). *objects counts the documents (not the audit trail's
 * checkpoints), *damaged the records that could not be read. */
int kura_store_reindex(const char *path, uint64_t *objects, uint64_t *damaged, kura_error *err);

/* What kura_store_refresh did. */
typedef struct kura_refresh_result {
	int whole;         /* it read the pool (or folder) whole, as kura_store_reindex */
	char why[256];     /* why it did, when it did */
	uint64_t objects;  /* documents indexed: new ones, or (whole) all */
	uint64_t damaged;  /* whole: records that could not be read */
	uint64_t left;     /* not whole: bytes at the end of the last segment left for the next
			    * refresh (a record the writer is still writing) */
} kura_refresh_result;

/* Brings the index of the reader at path (kura attach) up to the writer's pool,
 * reading only what was added since the last refresh when nothing before it
 * changed (archive/rebuild.c, "refreshing a reader"); otherwise, with whole,
 * or for a store that is not a reader, as kura_store_reindex. */
int kura_store_refresh(const char *path, int whole, kura_refresh_result *res, kura_error *err);

/* Moves the segments of the store at path to a RADOS pool (to) or back to
 * STORE/segments (to NULL), copied, synced and compared, then config.json
 * switched; the old copy removed after (archive/migrate.c). *already is 1 when
 * the store was there already (nothing done). Segments larger than the target's
 * objects are split between records, and the index built anew for them
 * (archive/migrate_split.c). KURA_EINPUT for a target holding a store's
 * segments, or a record larger than the target's objects. */
int kura_store_migrate(const char *path, const kura_rados_options *to, int *already, kura_error *err);

/* Makes path (absent or empty) a reader of the RADOS store whose folder (or a
 * copy of it) is from: its configuration with "reader": true (ceph_conf and
 * user, when not NULL, in place of from's), its public trust files (policy,
 * trust anchors, TSA certificates, never a key, users or the index), then its
 * own index built from the pool (archive/attach.c). */
int kura_store_attach(const char *path, const char *from, const char *ceph_conf, const char *user, uint64_t *objects,
		      kura_error *err);
/* The store is such a reader: opens for writing are refused (KURA_EINPUT). */
int kura_store_is_reader(const kura_store *st);
/* What a reader would put in the writer's audit trail (an export), which it
 * cannot write: appended to the reader's own STORE/reader-log.jsonl, one JSON
 * line {"time", "actor", "action", ...fields}, durable on return. */
int kura_store_reader_record(const char *path, const char *action, json_t *fields, kura_error *err);

#endif
