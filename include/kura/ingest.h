/* Ingest: documents into a store, durably and in batches.
 *
 * kura_ingest_add() appends a document's blob (unless the same content is stored
 * already) and its object record; kura_ingest_commit() makes everything added so
 * far durable (segment fdatasync, then a synced index write) and only then calls
 * done() for each object. An object is therefore never reported before it
 * survives a crash. add() commits by itself every 1024 objects, 64 MiB
 * or 200 ms. */
#ifndef KURA_INGEST_H
#define KURA_INGEST_H

#include <stddef.h>

#include <jansson.h>

#include "kura/error.h"
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

/* Checks a metadata key and value the way add() does. */
int kura_ingest_check_meta(const kura_meta *m, kura_error *err);

/* Reads fd to its end and adds it as one object. path is what done() reports,
 * name the original file name. */
int kura_ingest_add(kura_ingest *in, int fd, const char *path, const char *name, const kura_meta *meta,
		    size_t nmeta, kura_error *err);
int kura_ingest_commit(kura_ingest *in, kura_error *err);

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

#endif
