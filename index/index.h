/* The RocksDB index of a store: what is where, for fast lookups.
 *
 * The index is derived data: everything in it can be rebuilt from the segments
 * (kura reindex). Keys:
 *   'o' + ID (26 chars)  -> u32 segment | u64 offset of the object record | object JSON
 *   'b' + SHA-256 (32)   -> u32 segment | u64 offset of the blob record | u64 size | u64 stored
 *   'w'                  -> u32 segment | u64 committed end (the writer's durable position)
 * Writes go in batches; a batch written with sync is durable when the call returns. */
#ifndef KURA_INDEX_H
#define KURA_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"

typedef struct kura_index kura_index;

enum { KURA_INDEX_READONLY = 1, KURA_INDEX_CREATE = 2 };

int kura_index_open(kura_index **out, const char *path, int flags, kura_error *err);
void kura_index_close(kura_index *ix);

typedef struct kura_index_blob {
	uint32_t segno;
	uint64_t offset;
	uint64_t size;   /* uncompressed bytes */
	uint64_t stored; /* bytes of the record body in the segment */
} kura_index_blob;

typedef struct kura_index_object {
	uint32_t segno;
	uint64_t offset;
	char *json; /* NUL-terminated; owned by the struct, see kura_index_object_clear */
	size_t json_len;
} kura_index_object;

void kura_index_object_clear(kura_index_object *o);

/* KURA_ENOTFOUND when absent. */
int kura_index_get_blob(kura_index *ix, const unsigned char sha256[32], kura_index_blob *out, kura_error *err);
int kura_index_get_object(kura_index *ix, const char *id, kura_index_object *out, kura_error *err);
int kura_index_get_state(kura_index *ix, uint32_t *segno, uint64_t *end, kura_error *err);

typedef struct kura_index_batch kura_index_batch;

int kura_index_batch_new(kura_index_batch **out, kura_error *err);
void kura_index_batch_free(kura_index_batch *b);
void kura_index_batch_clear(kura_index_batch *b);
void kura_index_batch_put_blob(kura_index_batch *b, const unsigned char sha256[32], const kura_index_blob *blob);
void kura_index_batch_put_object(kura_index_batch *b, const char *id, uint32_t segno, uint64_t offset,
				 const char *json, size_t json_len);
void kura_index_batch_put_state(kura_index_batch *b, uint32_t segno, uint64_t end);
/* Marks the batch's current state; rollback drops what was put after the
 * newest mark, release forgets the newest mark and keeps what was put. */
void kura_index_batch_mark(kura_index_batch *b);
int kura_index_batch_rollback(kura_index_batch *b, kura_error *err);
void kura_index_batch_release(kura_index_batch *b);
/* Applies the batch atomically; with sync, durably. */
int kura_index_write(kura_index *ix, kura_index_batch *b, int sync, kura_error *err);

/* Walks all objects in ID order (which is ingest order). fn returning non-zero
 * stops the walk with that status. */
typedef int (*kura_index_object_fn)(void *ud, const char *id, const kura_index_object *o, kura_error *err);
int kura_index_each_object(kura_index *ix, kura_index_object_fn fn, void *ud, kura_error *err);

typedef int (*kura_index_blob_fn)(void *ud, const unsigned char sha256[32], const kura_index_blob *b,
				  kura_error *err);
int kura_index_each_blob(kura_index *ix, kura_index_blob_fn fn, void *ud, kura_error *err);

#endif
