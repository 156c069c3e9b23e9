/* Blob records: one document's bytes, zstd-compressed, in a segment record.
 *
 * Body layout: u8 codec (1 = zstd) | 7 reserved zero bytes | zstd frame
 *              | u64 uncompressed size | 32-byte SHA-256 of the uncompressed bytes.
 * The digest sits at the end so a blob can be streamed without knowing it first. */
#ifndef KURA_BLOB_H
#define KURA_BLOB_H

#include <stdint.h>

#include "archive/segment.h"
#include "kura/error.h"

#define KURA_BLOB_PREFIX 8
#define KURA_BLOB_TAIL 40

typedef struct kura_blob_writer kura_blob_writer;

int kura_blob_writer_new(kura_blob_writer **out, int level, kura_error *err);
void kura_blob_writer_free(kura_blob_writer *bw);

/* Starts a blob record at the segment's end; then update with the document's
 * bytes in any pieces, and finish with its size and SHA-256. */
int kura_blob_begin(kura_blob_writer *bw, kura_segment_writer *w, kura_error *err);
int kura_blob_update(kura_blob_writer *bw, const void *p, size_t n, kura_error *err);
int kura_blob_finish(kura_blob_writer *bw, uint64_t size, const unsigned char sha256[32], kura_error *err);
/* The body of a blob record (as begin, update and finish write it) for a
 * document held whole in memory, made without a segment: threads that prepare
 * documents ahead (archive/prefetch.c) each pack with a writer of their own.
 * body has room for cap bytes, at least kura_blob_pack_bound(n); *len gets
 * how many were used. */
size_t kura_blob_pack_bound(size_t n);
int kura_blob_pack(kura_blob_writer *bw, unsigned char *body, size_t cap, size_t *len, const void *p, size_t n,
		   const unsigned char sha256[32], kura_error *err);
/* Appends a packed body to w as a blob record; crc is kura_record_crc(body, len),
 * taken by whoever packed it (a prefetch worker, while the body is in its cache). */
int kura_blob_put(kura_segment_writer *w, const unsigned char *body, size_t len, uint32_t crc, kura_error *err);

/* Streams the document's bytes to out, checking the record's CRC, the zstd frame
 * and the SHA-256 against expected (and the blob's own tail). KURA_EVERIFY on any
 * mismatch: by then out has seen bytes that must not be trusted. */
typedef int (*kura_blob_out_fn)(void *ud, const unsigned char *p, size_t n, kura_error *err);
int kura_blob_read(kura_backend *be, uint32_t segno, uint64_t offset, const unsigned char expected[32],
		   kura_blob_out_fn out, void *ud, kura_error *err);

/* Reads blobs one after another (kura_blob_read's checks), keeping the zstd
 * context and the last segment opened: reading many small blobs costs no more
 * than their bytes. */
typedef struct kura_blob_reader kura_blob_reader;
/* be is borrowed: it outlives the reader. */
int kura_blob_reader_new(kura_blob_reader **out, kura_backend *be, kura_error *err);
void kura_blob_reader_free(kura_blob_reader *r);
int kura_blob_reader_read(kura_blob_reader *r, uint32_t segno, uint64_t offset, const unsigned char expected[32],
			  kura_blob_out_fn out, void *ud, kura_error *err);

/* Checks the record of type at (segno, offset) completely (header, body CRC,
 * trailer) and that its body is the len bytes at body (the index's copy).
 * KURA_EVERIFY naming the place when it is damaged or another. */
int kura_blob_reader_check_record(kura_blob_reader *r, uint32_t segno, uint64_t offset, uint8_t type,
				  const void *body, size_t len, kura_error *err);

/* A blob body consumer for scans: feed it the body pieces of one record, then
 * ask whether the content matched the digest in the tail. */
typedef struct kura_blob_checker kura_blob_checker;
int kura_blob_checker_new(kura_blob_checker **out, kura_error *err);
void kura_blob_checker_free(kura_blob_checker *c);
void kura_blob_checker_reset(kura_blob_checker *c, uint64_t body_len, kura_blob_out_fn out, void *ud);
int kura_blob_checker_feed(kura_blob_checker *c, uint64_t body_off, const unsigned char *p, size_t n,
			   kura_error *err);
/* After the last piece: KURA_EVERIFY if the content does not match; size and
 * sha256 are the ones the tail states. */
int kura_blob_checker_done(kura_blob_checker *c, uint64_t *size, unsigned char sha256[32], kura_error *err);

#endif
