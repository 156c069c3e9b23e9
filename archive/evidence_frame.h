/* The frame of evidence records, shared by the store and index rebuilding
 * (format in archive/evidence_frame.c). */
#ifndef KURA_EVIDENCE_FRAME_H
#define KURA_EVIDENCE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "archive/segment.h"
#include "index/index.h"
#include "kura/store.h"

/* kind, TSA mark, 2 reserved bytes, record ID, u32 subject count */
#define KURA_EVIDENCE_FRAME_HEAD (4 + KURA_ID_LEN + 4)

/* 0 if body (len bytes) is a well-formed frame. */
int kura_evidence_frame_check(const unsigned char *body, size_t len);
/* Adds the index entries of a checked frame at segno/offset to b: head is its
 * first KURA_EVIDENCE_FRAME_HEAD bytes, subjects the IDs that follow them. */
void kura_evidence_index(kura_index_batch *b, const unsigned char *head, const char *subjects, uint32_t segno,
			 uint64_t offset);

/* Appends an evidence record to w and its index entries to b, without
 * committing: the caller commits it together with whatever else b holds. */
int kura_evidence_append(kura_segment_writer *w, kura_index_batch *b, char kind, char mark, const char *record_id,
			 const char *subjects, size_t n, const kura_store_part *payload, size_t nparts, kura_error *err);

#endif
