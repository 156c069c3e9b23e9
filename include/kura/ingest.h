/* Ingest: documents into a store, durably and in batches.
 *
 * kura_ingest_add() appends a document's blob (unless the same content is stored
 * already) and its object record; kura_ingest_commit() makes everything added so
 * far durable (segment fdatasync, then a synced index write) and only then calls
 * done() for each object. An object is therefore never reported before it
 * survives a crash. add() commits by itself every 1024 objects, 64 MiB
 * or 200 ms, unless the ingest is held (kura_ingest_hold). */
#ifndef KURA_INGEST_H
#define KURA_INGEST_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "kura/error.h"
#include "kura/seal.h"
#include "kura/store.h"

typedef struct kura_ingest kura_ingest;

typedef struct kura_meta {
	const char *key;   /* letters and digits of any script, '_', '-', '.', ':'; at most 128; stored in NFC */
	const char *value; /* UTF-8 */
} kura_meta;

/* Called once per object, after it is durable. sha256_hex has 64 digits. */
typedef void (*kura_ingest_done_fn)(void *ud, const char *id, const char *sha256_hex, const char *path);

/* st must be open for writing and outlive the ingest. */
int kura_ingest_new(kura_ingest **out, kura_store *st, kura_ingest_done_fn done, void *ud, kura_error *err);
/* Discards whatever was added and not committed. */
void kura_ingest_free(kura_ingest *in);
/* Discards whatever was added and not committed (the store's segment is cut
 * back to its committed end); the ingest takes more, with its buffers and
 * compressor kept (the service reuses one for every group commit). */
void kura_ingest_drop(kura_ingest *in);

/* Checks a metadata key and value the way add() does. */
int kura_ingest_check_meta(const kura_meta *m, kura_error *err);

/* Reads fd to its end and adds it as one object. path is what done() reports,
 * name the original file name. */
int kura_ingest_add(kura_ingest *in, int fd, const char *path, const char *name, const kura_meta *meta,
		    size_t nmeta, kura_error *err);
/* add() of len bytes in memory (borrowed for the call), named name; id gets
 * the new object's ID (durable only once committed). */
int kura_ingest_add_bytes(kura_ingest *in, const void *data, size_t len, const char *name, char id[KURA_ID_LEN + 1],
			  kura_error *err);
/* From now on add() no longer commits by itself: everything added is made
 * durable by the next kura_ingest_commit, in one commit, or dropped by
 * kura_ingest_free (a refused document leaves nothing of the others). */
void kura_ingest_hold(kura_ingest *in);
/* Every commit also writes one audit record (docs/RECORDS.md): action "ingest"
 * with the IDs of the objects it made and the versions among them. */
int kura_ingest_commit(kura_ingest *in, kura_error *err);
/* The audit record commit would write for the objects added since the last
 * one, appended now (under the store's actor of the moment: the service writes
 * one per request, each naming its account); nothing when there are none. */
int kura_ingest_audit(kura_ingest *in, kura_error *err);
/* An audit record of action with fields (borrowed) in the next commit, chained
 * after those before it in the same commit (archive/audit.c). */
int kura_ingest_add_audit(kura_ingest *in, const char *action, json_t *fields, kura_error *err);
/* How many objects were added and are not committed yet, and the ID of the
 * ith of them (i < pending; durable only once committed). */
size_t kura_ingest_pending(const kura_ingest *in);
const char *kura_ingest_pending_id(const kura_ingest *in, size_t i);
/* A new version of object of (its ID) with the same content (stored once, not
 * read again) and meta as its metadata: what `kura meta set` makes. id gets the
 * new ID. The fields set with kura_ingest_set_fields apply. */
int kura_ingest_add_version(kura_ingest *in, const char *of, const kura_meta *meta, size_t nmeta,
			    char id[KURA_ID_LEN + 1], kura_error *err);
/* Records management (docs/RECORDS.md). Fields the records of the objects added
 * from now on carry besides their own ("record", "supersedes", "class",
 * "events", "reason", "system", "actor", "imported"): a JSON object (referenced, not copied; NULL:
 * none). The caller has checked them (records/). */
void kura_ingest_set_fields(kura_ingest *in, json_t *fields);
/* What an import keeps of the next object added (only that one): id, the ID
 * it had where it came from (NULL: a new one; the caller checked that nothing
 * in the store has it), and ingested_ms, its ingest time there (-1: now).
 * Fields (kura_ingest_set_fields) may also give its "actor". */
void kura_ingest_set_origin(kura_ingest *in, const char *id, int64_t ingested_ms);
/* The action of the commits' audit records from now on (NULL: "ingest"; a static
 * string) and further fields for them (referenced; NULL: none). */
void kura_ingest_set_audit(kura_ingest *in, const char *action, json_t *fields);

/* Reading, hashing and compressing documents ahead, on worker threads (one per
 * core), while the ingest appends and commits the ones before: paths[0..n) are
 * prefetched in order; a NULL entry is a document the caller ingests another
 * way (it is skipped). paths are borrowed until kura_prefetch_free. The workers
 * only read the files: durability and reporting stay as for kura_ingest_add. */
typedef struct kura_prefetch kura_prefetch;
int kura_prefetch_new(kura_prefetch **out, kura_store *st, const char *const *paths, size_t n, kura_error *err);
/* Stops the workers; documents not added are forgotten. */
void kura_prefetch_free(kura_prefetch *pf);
/* kura_ingest_add of document i of pf (its path not NULL), with the bytes the
 * workers read (a large document is streamed from its file here). Every index
 * i, NULL or not, is passed in increasing order to this or to
 * kura_prefetch_skip. */
int kura_ingest_add_prefetched(kura_ingest *in, kura_prefetch *pf, size_t i, const char *name, const kura_meta *meta,
			       size_t nmeta, kura_error *err);
void kura_prefetch_skip(kura_prefetch *pf, size_t i);

/* A further member of an object's data object group (RFC 4998): a signature or
 * its validation data. Stored as content of its own (once, like any content),
 * named in the object record under "members", and covered together with the
 * document by the object's evidence. */
#define KURA_INGEST_MAX_MEMBERS 3

typedef struct kura_member {
	const char *role; /* "signature", "validation-data" */
	const char *name; /* a file name for exports */
	const unsigned char *data;
	size_t len;
} kura_member;

/* add() for a document with group members; info (borrowed, may be NULL) is kept
 * in the object record as "signature" (what was found at ingest). */
int kura_ingest_add_group(kura_ingest *in, int fd, const char *path, const char *name, const kura_meta *meta,
			  size_t nmeta, const kura_member *members, size_t nmembers, json_t *info, kura_error *err);

/* Adds the document as one object together with an evidence record about it
 * (kind, payload: see kura_store_add_evidence), both in the same commit (made as
 * add() makes it; done() reports the object): after a crash the store holds both
 * or neither. If the record cannot be appended, everything not committed yet is
 * dropped (and never reported done). id receives the new ID. members and info
 * as for kura_ingest_add_group (none: 0 and NULL). */
int kura_ingest_adopt(kura_ingest *in, int fd, const char *path, const char *name, const kura_meta *meta,
		      size_t nmeta, const kura_member *members, size_t nmembers, json_t *info, char kind,
		      const unsigned char *payload, size_t len, char id[KURA_ID_LEN + 1], kura_error *err);

/* ---- ingesting files, folders and standard input (what `kura ingest` does) ----
 * The paths given are resolved first into a list of files, in order: folders
 * are walked recursively in byte order of the names; links to folders are not
 * followed, links to nothing and what is not a regular file are skipped (each
 * said), and the store's own folder is never taken into itself. Every path is
 * checked before anything is written: a missing one is KURA_EINPUT and leaves
 * the store untouched (archive/ingest_walk.c). Then plain files are read,
 * hashed and compressed ahead on worker threads, each document added and made
 * durable in batches, and everything pending sealed (kura/seal.h). A document
 * with a detached signature, and every file named *.p7m (attached CMS), is
 * stored with its signature and validation data as one data object group
 * (proof/ingest_files.c). */
typedef struct kura_ingest_list kura_ingest_list;

/* Hears of each path skipped, as a message ("skipping PATH: a link to nothing"),
 * borrowed for the call. */
typedef void (*kura_ingest_skip_fn)(void *ud, const char *message);

/* Resolves paths[0..n) for an ingest into the store at store (a path: only
 * compared with the folders walked). sizes: note every file's size (for a
 * progress line; else a folder's plain files need no stat). skip may be NULL.
 * *out is the caller's: kura_ingest_list_free. */
int kura_ingest_list_new(kura_ingest_list **out, const char *store, const char *const *paths, size_t n, int sizes,
			 kura_ingest_skip_fn skip, void *ud, kura_error *err);
void kura_ingest_list_free(kura_ingest_list *l);

/* How many files; the path of file i ("-": standard input; owned by the list);
 * its size as the walk saw it (0 when not noted); all sizes together. */
size_t kura_ingest_list_count(const kura_ingest_list *l);
const char *kura_ingest_list_path(const kura_ingest_list *l, size_t i);
uint64_t kura_ingest_list_size(const kura_ingest_list *l, size_t i);
uint64_t kura_ingest_list_bytes(const kura_ingest_list *l);

/* ---- a manifest: files each with its own metadata (kura ingest --manifest) ----
 * A CSV file (RFC 4180, UTF-8: Excel's "CSV UTF-8") whose first row names the
 * columns: "path", then metadata keys (as kura_ingest_check_meta allows them).
 * Every further row is one file: its path (relative to the manifest's folder,
 * or absolute), then its values; an empty cell leaves that key out for the
 * file. Rows whose cells are all empty are no files. Keys given to every file
 * besides (--meta) may not also be columns. */
typedef struct kura_manifest kura_manifest;

/* Reads and checks the manifest file: its text (archive/manifest.c), then
 * every file: there, a regular file (not a link), readable, named once. meta[0..nmeta)
 * (borrowed until kura_manifest_free) goes to every file as well. Every
 * problem is KURA_EINPUT naming the line (and column). *out: kura_manifest_free. */
int kura_manifest_load(kura_manifest **out, const char *file, const kura_meta *meta, size_t nmeta, kura_error *err);
/* What load does but the looking at files, on text[0..len) named name, whose
 * relative paths start in dir ("": the current folder; else ending in '/'). */
int kura_manifest_parse(kura_manifest **out, const char *text, size_t len, const char *name, const char *dir,
			const kura_meta *meta, size_t nmeta, kura_error *err);
void kura_manifest_free(kura_manifest *m);

/* How many files; their paths as ingest opens them (owned by m); the line
 * of file i's row; file i's metadata (*n entries, owned by m). */
size_t kura_manifest_count(const kura_manifest *m);
const char *const *kura_manifest_paths(const kura_manifest *m);
size_t kura_manifest_line(const kura_manifest *m, size_t i);
const kura_meta *kura_manifest_meta(const kura_manifest *m, size_t i, size_t *n);

/* How a signed document is taken in. */
typedef struct kura_signed_options {
	STACK_OF(X509_CRL) *crls;  /* CRLs the user gave (borrowed, may be NULL); fetched only where these say nothing */
	int allow_no_revocation;   /* store even though revocation data could not be had */
	int accept_invalid;        /* store even though the signature is not valid now */
	long timeout_s;            /* per HTTP fetch; 0: 30 */
} kura_signed_options;

typedef struct kura_ingest_options {
	const kura_meta *meta;       /* given to every document */
	size_t nmeta;
	/* The documents of a manifest: the paths given are kura_manifest_paths(manifest),
	 * each document gets its own metadata (meta is not used: the manifest has
	 * it), and all go in one commit: when one is refused, none is stored. NULL: none. */
	const kura_manifest *manifest;
	const char *signature;       /* a detached signature of the one document given; NULL: none */
	kura_signed_options signed_opts;
	int no_seal;                 /* leave the objects pending */
	const char *stdin_name;      /* the name of the document read from standard input ("-"); NULL: "stdin" */
	int sizes;                   /* note every file's size first, for progress */
	volatile sig_atomic_t *stop; /* set (by a signal handler): finish the document in hand, commit, stop */
	/* Records management (records/ingest.c sets these): who ingests (NULL: the
	 * default, kura_store_actor), and a hook called with the open store before
	 * each document, which may give it fields (kura_ingest_set_fields) or leave
	 * it out (*skip = 1, reported to warn). NULL: none. */
	const char *actor;
	int (*each)(void *ud, kura_store *st, kura_ingest *in, const char *path, int *skip, kura_error *err);
	void *each_ud;
} kura_ingest_options;

/* What the ingest tells its caller as it goes (every member may be NULL;
 * what they are given is borrowed for the call). */
typedef struct kura_ingest_events {
	kura_ingest_done_fn done;                    /* an object, once durable */
	void (*warn)(void *ud, const char *message); /* a path skipped, a signature stored though not valid,
						      * a seal that failed after the ingest failed */
	/* the first document is next: total_bytes of all (when sizes are noted);
	 * o->stop is looked at from here on */
	void (*start)(void *ud, uint64_t total_bytes);
	void (*progress)(void *ud, uint64_t done_bytes, uint64_t done_items); /* after each document */
	void (*end)(void *ud);                       /* the last document was added */
	/* the last commit was made (failed: something went wrong before or in it);
	 * objects: how many were reported done */
	void (*committed)(void *ud, uint64_t objects, int failed);
	const kura_seal_events *seal;                /* what the seal after the ingest says */
	void *ud;
} kura_ingest_events;

/* Ingests paths[0..n) (files, folders, "-": standard input) into the store at
 * store, opened for writing for the call. What was added before a failure is
 * still made durable, reported and sealed (but for a manifest's documents,
 * which are one commit: none). Everything is borrowed for the call; ev may be
 * NULL. */
int kura_ingest_paths(const char *store, const char *const *paths, size_t n, const kura_ingest_options *o,
		      const kura_ingest_events *ev, kura_error *err);

#endif
