/* What archive/rebuild.c (recovery, reindex) and archive/refresh.c (a reader's
 * refresh) share: the applier that turns segment records into index entries. */
#ifndef KURA_ARCHIVE_REBUILD_IMPL_H
#define KURA_ARCHIVE_REBUILD_IMPL_H

#include <jansson.h>

#include "archive/blob.h"
#include "archive/mark.h"
#include "archive/places.h"
#include "archive/segment.h"
#include "archive/store_impl.h"
#include "common/progress.h"

struct applier {
	kura_index *ix;
	kura_index_batch *b;
	size_t in_batch;
	char *body;
	size_t len, cap;
	unsigned char tail[KURA_BLOB_TAIL];
	uint64_t objects, damaged;
	int reindexing;
	int reader;           /* of another's pool (kura attach): the writer may be writing */
	const kura_fields *fs; /* recovery: the store's fields (reindex fills their indexes at its end) */
	kura_places *old;     /* what the replaced index knew (reindex) */
	kura_lost_range *lost; /* damaged or missing ranges, named at the end */
	json_t *loss;         /* the same for the audit trail (a writer's reindex: archive/loss.c) */
	json_t *recorded;     /* the ranges the trail's reindex-loss records hold (lost before) */
	size_t nlost, caplost;
	int last;             /* scanning the last segment */
	int torn;             /* its end holds an unfinished write */
	int tail_damaged;     /* its end holds damage: new records go in a new segment */
	uint64_t reached;     /* the end of what the scan of this segment accounted for */
	uint64_t done_before; /* bytes of earlier segments, for progress */
	kura_progress *progress;
	struct {              /* an adopted object, until its evidence record is seen */
		char *json;
		size_t len;
		char id[KURA_ID_LEN + 1], with[KURA_ID_LEN + 1];
		uint32_t segno;
		uint64_t offset;
		unsigned char digests[KURA_PENDING_MAX];
		size_t digests_len;
	} held;
	kura_mark mark; /* a reader's (archive/refresh.c) */
};

/* Scan ops that index every record read (recovery, a reader's refresh). */
extern const kura_scan_ops kura_rebuild_recover_ops;
int kura_rebuild_segment_size(kura_backend *be, uint32_t segno, uint64_t *size);
void kura_rebuild_applier_free(struct applier *a);
/* The mark of what the index now holds of the marked segment: up to *end, or up
 * to the adopted object still waiting for its evidence record. */
void kura_rebuild_put_mark(struct applier *a, uint64_t gen, uint64_t *end);

#endif
