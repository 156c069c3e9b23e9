/* The state of an ingest (archive/ingest.c), private to the archive module. */
#ifndef KURA_INGEST_IMPL_H
#define KURA_INGEST_IMPL_H

#include <stdint.h>
#include <time.h>

#include "archive/blob.h"
#include "archive/store_impl.h"
#include "common/hash.h"
#include "kura/ingest.h"

struct done_entry {
	char id[KURA_ID_LEN + 1];
	char sha256_hex[65];
	char *path;
};

struct new_blob {
	unsigned char sha256[32];
	kura_index_blob loc;
};

struct kura_ingest {
	kura_store *st;
	kura_segment_writer *w;
	kura_blob_writer *bw;
	kura_hasher *hasher;
	kura_index_batch *batch;
	unsigned char *buf;
	kura_ingest_done_fn done;
	void *ud;
	struct done_entry *pending; /* BATCH_OBJECTS, more when held */
	size_t npending, cap_pending;
	struct new_blob *blobs; /* BATCH_BLOBS, more when held */
	size_t nblobs, cap_blobs;
	size_t *slots;      /* blobs by digest: 2 * cap_blobs slots (a power of two), index + 1 or 0 */
	size_t nslots_used; /* at most cap_blobs; slots of a dropped document's blobs stay until a rebuild */
	int held; /* kura_ingest_hold: only kura_ingest_commit commits */
	size_t audited; /* pending[0..audited) are named in an audit record appended already */
	int records;    /* audit records appended by kura_ingest_add_audit since the last commit */
	uint64_t pending_bytes;
	struct timespec batch_start;
	int64_t last_commit_ms; /* how long the last commit took */
	json_t *fields;       /* records-management fields of the next objects (kura_ingest_set_fields) */
	const char *action;   /* of the commit's audit record; NULL: "ingest" */
	json_t *audit_fields; /* more fields for it */
	json_t *versions;     /* the batch's new versions: {"id", "supersedes", "record"} */
	char origin_id[KURA_ID_LEN + 1]; /* kura_ingest_set_origin: the next object's ID ("": a new one) */
	int64_t origin_ms;               /* and its ingest time (-1: now) */
};

#endif
