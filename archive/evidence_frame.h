/* The frame of evidence records, shared by the store and index rebuilding
 * (format in archive/evidence.c). */
#ifndef KURA_EVIDENCE_FRAME_H
#define KURA_EVIDENCE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

/* 0 if body (len bytes) is a well-formed frame. */
int kura_evidence_frame_check(const unsigned char *body, size_t len);
/* Adds the index entries of a checked frame at segno/offset to b. */
void kura_evidence_index(kura_index_batch *b, const unsigned char *body, size_t len, uint32_t segno, uint64_t offset);

#endif
