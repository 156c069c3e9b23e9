/* Segment files: the append-only source of truth of a store (format in segment.c).
 *
 * A writer appends records through a buffer and makes them durable with
 * kura_segment_writer_sync(); a scanner walks records in order, verifying each
 * one completely, and either stops at the first bad one (recovery: that is the
 * torn tail) or reports it and goes on at the next proven record boundary
 * (scrub, reindex). */
#ifndef KURA_SEGMENT_H
#define KURA_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "archive/backend.h"
#include "kura/error.h"

#define KURA_SEGMENT_FILE_HEADER 16
#define KURA_RECORD_HEADER 20
#define KURA_RECORD_TRAILER 8
#define KURA_RECORD_OVERHEAD (KURA_RECORD_HEADER + KURA_RECORD_TRAILER)

enum kura_record_type {
	KURA_RECORD_BLOB = 'B',   /* compressed document bytes, see blob.c */
	KURA_RECORD_OBJECT = 'O', /* one ingest: ID, digests, name, metadata (JSON) */
	KURA_RECORD_EVIDENCE = 'E', /* evidence about objects, see archive/evidence_frame.c */
	KURA_RECORD_AUDIT = 'A',    /* a configuration change, see archive/audit.c */
};

/* ---- writing ---- */

typedef struct kura_segment_writer kura_segment_writer;

/* Opens segment segno of be (borrowed: it outlives the writer) for appending at
 * offset end, discarding any bytes after end (an uncommitted tail). end == 0
 * creates the segment (its file header is written and synced, the segment's
 * existence with it). */
int kura_segment_writer_open(kura_segment_writer **out, kura_backend *be, uint32_t segno, uint64_t end,
			     kura_error *err);
/* Opens a writer on a new replacement of segment segno (backend stage(),
 * archive/backend.h): its file header is written and synced; records appended
 * go to the replacement, which becomes the segment only by the backend's
 * replace(). Rolling such a writer is not allowed. */
int kura_segment_writer_replacement(kura_segment_writer **out, kura_backend *be, uint32_t segno, kura_error *err);
/* Closes without syncing: unsynced bytes may or may not survive. */
void kura_segment_writer_close(kura_segment_writer *w);

uint32_t kura_segment_writer_segno(const kura_segment_writer *w);
/* Offset where the next record starts (buffered bytes included). */
uint64_t kura_segment_writer_tell(const kura_segment_writer *w);
/* Writes buffered bytes and syncs: everything before tell() is durable. */
int kura_segment_writer_sync(kura_segment_writer *w, kura_error *err);
/* Drops everything from off on (only ever the uncommitted tail). */
int kura_segment_writer_truncate(kura_segment_writer *w, uint64_t off, kura_error *err);
/* Syncs this segment and continues in a new one, segno + 1. */
int kura_segment_writer_roll(kura_segment_writer *w, kura_error *err);

/* One record being appended; the body may be streamed in any number of pieces. */
typedef struct kura_record_writer {
	uint64_t start;
	uint64_t body_len;
	uint32_t crc;
	uint8_t type;
} kura_record_writer;

int kura_record_begin(kura_segment_writer *w, kura_record_writer *r, uint8_t type, kura_error *err);
int kura_record_append(kura_segment_writer *w, kura_record_writer *r, const void *p, size_t n,
		       kura_error *err);
int kura_record_finish(kura_segment_writer *w, kura_record_writer *r, kura_error *err);
/* Appends body bytes without computing their CRC: for a copy of a record that
 * was read and checked whole (compaction), whose body CRC the caller puts in
 * r->crc before kura_record_finish. */
int kura_record_append_copy(kura_segment_writer *w, kura_record_writer *r, const void *p, size_t n,
			    kura_error *err);
/* The CRC-32 a record's trailer keeps of a body of these n bytes. */
uint32_t kura_record_crc(const void *p, size_t n);
/* Appends a whole record whose body and body CRC (kura_record_crc) are known.
 * One that fits in the write buffer reaches the backend in one write, its header
 * final: it is never a later patch of bytes written before (an overwrite costs a
 * read-modify-write in an erasure-coded RADOS pool and a deferred write in
 * BlueStore, where appends cost neither). */
int kura_record_put(kura_segment_writer *w, uint8_t type, const void *body, size_t len, uint32_t body_crc,
		    kura_error *err);

/* ---- reading ---- */

typedef struct kura_record_info {
	uint32_t segno;
	uint64_t offset;   /* of the record header in the segment */
	uint8_t type;
	uint64_t body_len;
} kura_record_info;

/* Reads and checks a record header at off of open segment s; KURA_EVERIFY if it
 * is not one. */
int kura_record_read_header(kura_record_info *info, kura_seg *s, uint64_t off, uint64_t file_size, kura_error *err);

/* The same checks on a header already read (KURA_RECORD_HEADER bytes at h). */
int kura_record_parse_header(kura_record_info *info, const unsigned char *h, uint32_t segno, uint64_t off,
			     uint64_t file_size, kura_error *err);

/* Streams the body of a record to fn in pieces and checks its CRC and trailer.
 * KURA_EVERIFY if the stored bytes are damaged; fn's own failures pass through. */
typedef int (*kura_record_body_fn)(void *ud, uint64_t body_off, const unsigned char *p, size_t n,
				   kura_error *err);
int kura_record_read_body(kura_seg *s, const kura_record_info *info, kura_record_body_fn fn, void *ud,
			  kura_error *err);

/* Reads the record at offset of segment segno of be: its header, then (once
 * check, which sees the header, returned 0: the type and length it expects,
 * room for the body) its body to fn, as kura_record_read_body. A damaged record
 * is KURA_EVERIFY naming its segment and offset. */
typedef int (*kura_record_check_fn)(void *ud, const kura_record_info *info, kura_error *err);
int kura_record_read_at(kura_backend *be, uint32_t segno, uint64_t offset, kura_record_check_fn check,
			kura_record_body_fn fn, void *ud, kura_error *err);

/* kura_record_read_body's checks on a record read whole: body (info->body_len
 * bytes) and the trailer after it. fn sees the body in one piece, once its CRC
 * is checked. */
int kura_record_check_body(const unsigned char *body, const unsigned char *trailer, const kura_record_info *info,
			   kura_record_body_fn fn, void *ud, kura_error *err);

/* A whole-segment walk (RESYNC RULE in segment.c). body (optional) sees each
 * record's body as it is read; record is called once the record has verified
 * completely. damage NULL means recovery mode: stop at the first bad record.
 * Otherwise damage is told about each bad range [offset, end): unfinished (1) for
 * a write that never completed (a placeholder header, or a record cut off by the
 * end of the file), after which the walk ends; otherwise the walk goes on at end
 * when end is a proven record boundary (the end of a record whose header checks,
 * or a record start that boundary, optional, knows: it returns 1 and sets *next
 * to the first record start after offset in segment segno), and ends when end is
 * the end of the segment. A damaged file header is reported as [0, 16) and the
 * records after it are read all the same. */
typedef struct kura_scan_ops {
	int (*body)(void *ud, const kura_record_info *info, uint64_t body_off, const unsigned char *p,
		    size_t n, kura_error *err);
	int (*record)(void *ud, const kura_record_info *info, kura_error *err);
	int (*damage)(void *ud, uint32_t segno, uint64_t offset, uint64_t end, const char *why, int unfinished,
		      kura_error *err);
	void (*progress)(void *ud, uint64_t bytes_done);
	int (*boundary)(void *ud, uint32_t segno, uint64_t offset, uint64_t *next);
} kura_scan_ops;

/* Walks segment segno of be from offset from (0: the first record) up to offset
 * to (0: its end): the record reader that recovery, reindex and scrub use.
 * *valid_end is where the last good record ends: in recovery mode, where the
 * tail is torn. KURA_EVERIFY when the segment is shorter than its header (or, in
 * recovery mode from the start of the segment, its header is bad). */
int kura_segment_scan(kura_backend *be, uint32_t segno, uint64_t from, uint64_t to, const kura_scan_ops *ops,
		      void *ud, uint64_t *valid_end, kura_error *err);

/* Lists the segment numbers present in be (ascending); *out is malloc'd, caller
 * frees. */
int kura_segment_list(uint32_t **out, size_t *count, kura_backend *be, kura_error *err);

/* Opens segment segno of be (named name in messages) to read a record the index
 * places there. A segment that is gone (ENOENT: its file or RADOS object removed
 * behind kura's back) is damage to the documents in it, as scrub counts it:
 * KURA_EVERIFY naming the segment, so that get and verify report those documents
 * and go on. Any other failure (EIO, a cluster that does not answer, a damaged
 * directory entry) is an I/O error: kura_segment_io_error. */
int kura_segment_open_read(kura_backend *be, kura_seg **seg, uint32_t segno, const char *name, kura_error *err);

/* Records a failed operation of backend be (errno set) as kura_error_sys does,
 * KURA_EIO, with what be knows of why (be->explain). Returns KURA_EIO. */
int kura_segment_io_error(kura_backend *be, kura_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
