/* Storage backends: where the bytes of a store's segments live. Every byte of a
 * segment is created, written, synced, read, listed and removed through one of
 * these, and the store's writer lock is taken through it; nothing else in kura
 * names a segment's file or holds its descriptor. The local-file backend
 * (archive/backend_file.c) keeps segments as STORE/segments/NNNNNNNN.seg; the
 * fault backend (archive/backend_fault.c) wraps another one and fails a chosen
 * operation, for tests. A backend with objects of bounded size, appends, ranged
 * reads and a lock with a lease (Ceph RADOS) fits the same operations.
 *
 * CONTRACT (each backend keeps it; archive/segment.c relies on nothing more)
 * - Segments are addressed by number (1, 2, ...). A segment is a byte string
 *   that only its writer changes, and only through an open segment (kura_seg).
 * - Segment operations return 0, or -1 with errno set (ENOENT: no such segment),
 *   as POSIX calls do; the caller writes the message, naming the segment with
 *   name(). Lock operations report through kura_error, as they say what they hold.
 * - write(s, off, p, n) puts n bytes at off, with off at most the segment's
 *   size: the writer appends, or overwrites bytes it wrote since its last sync
 *   (the header of the record still being written), never earlier ones. A write
 *   that fails may have put any part of its bytes in place.
 * - sync(s) returns only when every byte written to s so far is durable (it
 *   survives a crash and power loss), and so is the segment's existence (in
 *   list()) when s was made by create(). Nothing written is acknowledged to
 *   anyone (an ID printed, an index entry written) before the sync that covers it
 *   has returned 0.
 * - read(s, off, buf, n, &got) reads the range [off, off + n); *got < n only
 *   when the segment ends first (0 at or past its end: not an error).
 * - size() is the segment's length now: what was written, synced or not.
 * - truncate(s, n) drops every byte from n on; durable at the next sync.
 * - list() gives the numbers of the segments present, ascending (malloc'd; the
 *   caller frees). remove() deletes a segment durably.
 * - create() makes segment segno empty (an older one of that number is dropped)
 *   and opens it for writing; open() opens an existing one for reading or writing.
 * - lock(wait) takes the store's one writer lock: 0 when held, 1 when another
 *   holds it and wait is 0; with wait it waits. unlock() lets it go; so does the
 *   end of the process. renew() (NULL when the lock has no lease) is called before
 *   every commit: a backend whose lease ran out fails it, and nothing is
 *   acknowledged.
 * - max_segment_size: the largest segment the backend stores (0: no limit). The
 *   store rolls to a new segment at the first commit that reaches it (or its own
 *   segment size, the smaller); a write past it fails (EFBIG). A record longer
 *   than what is left of a segment does not fit such a backend (not split yet).
 * - Backend operations may be called from several threads at once, each on its
 *   own open segments (parallel readers); an open segment is used by one thread.
 * - Replacing a segment (compaction, archive/compact.c): stage(segno) makes an
 *   empty replacement of segment segno (an older replacement is dropped) and
 *   opens it for writing; it is written and synced like a segment, but is not
 *   the segment: list(), stat(), open() and read() still see the old one.
 *   replace(segno) makes the synced replacement the segment in one step, durably
 *   on return: after a crash at any point segno is wholly the old segment or
 *   wholly the replacement, never a mix; ENOENT when there is no replacement.
 *   staged(segno) says whether a replacement is there (0 yes, -1 ENOENT no);
 *   discard(segno) removes it durably (0 also when there was none). An open
 *   segment keeps the bytes it was opened on: open it again after a replace.
 */
#ifndef KURA_BACKEND_H
#define KURA_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"
#include "kura/store.h"

typedef struct kura_backend kura_backend;

/* An open segment. A backend's own handle starts with this. */
typedef struct kura_seg {
	kura_backend *be; /* that opened it */
	uint32_t segno;
} kura_seg;

struct kura_backend {
	uint64_t max_segment_size;
	/* A name of segment segno for messages (a path, an object name); segno 0,
	 * never a segment's, names where the segments are (a folder, a pool). */
	void (*name)(kura_backend *be, uint32_t segno, char *buf, size_t n);
	int (*list)(kura_backend *be, uint32_t **segnos, size_t *count);
	int (*stat)(kura_backend *be, uint32_t segno, uint64_t *size);
	int (*create)(kura_backend *be, kura_seg **out, uint32_t segno);
	int (*open)(kura_backend *be, kura_seg **out, uint32_t segno, int writable);
	int (*remove)(kura_backend *be, uint32_t segno);
	int (*stage)(kura_backend *be, kura_seg **out, uint32_t segno);
	int (*replace)(kura_backend *be, uint32_t segno);
	int (*staged)(kura_backend *be, uint32_t segno);
	int (*discard)(kura_backend *be, uint32_t segno);

	int (*read)(kura_seg *s, uint64_t off, void *buf, size_t n, size_t *got);
	int (*write)(kura_seg *s, uint64_t off, const void *p, size_t n);
	/* Starts making [off, off + n) durable without waiting: a hint, may be NULL. */
	void (*writeback)(kura_seg *s, uint64_t off, uint64_t n);
	int (*sync)(kura_seg *s);
	int (*size)(kura_seg *s, uint64_t *size);
	int (*truncate)(kura_seg *s, uint64_t size);
	void (*close)(kura_seg *s);

	/* Appends to err's message what the backend knows of why its operations
	 * failed (the cluster did not answer in time, its directory is gone) and what
	 * to do; NULL, or nothing appended, when it knows nothing more. */
	void (*explain)(kura_backend *be, kura_error *err);
	/* A count the backend raises before a segment's bytes are replaced or a
	 * segment is removed, kept where the segments are: a reader on another
	 * machine that saw it unchanged knows the segments it indexed before still
	 * hold what they held (kura reindex of a reader, archive/refresh.c). NULL:
	 * the backend keeps none. */
	int (*generation)(kura_backend *be, uint64_t *gen);

	int (*lock)(kura_backend *be, int wait, kura_error *err);
	int (*renew)(kura_backend *be, kura_error *err);
	void (*unlock)(kura_backend *be);
	/* Closes what the backend holds (the lock too) and frees it. */
	void (*free)(kura_backend *be);
};

/* The local-file backend of the store folder store: segments in store/segments/
 * (made by kura init), the writer lock on store/lock (flock). */
int kura_backend_file_open(kura_backend **out, const char *store, kura_error *err);

/* The RADOS backend (archive/backend_rados.c): segments as objects of pool
 * o->pool in namespace o->ns of the cluster o->ceph_conf names, the writer lock a
 * RADOS lock with a lease. Connects now; KURA_EINPUT when the pool is missing. */
int kura_backend_rados_open(kura_backend **out, const kura_rados_options *o, kura_error *err);

/* The backend config.json's "backend" names (a JSON object; NULL or absent: the
 * local-file one of store). */
int kura_backend_from_config(kura_backend **out, const char *store, const json_t *cfg, kura_error *err);
/* A reader's backend (archive/backend_reader.c): reads segments through pool
 * (taken: freed with the result, or now on failure), refuses every change
 * (EROFS), and locks the local STORE/lock of the reader folder store. */
int kura_backend_reader_new(kura_backend **out, kura_backend *pool, const char *store, kura_error *err);
/* Whether config.json's "backend" cfg is a reader's ("reader": true, kura attach). */
int kura_backend_config_reader(const json_t *cfg);

/* config.json's "backend" for o (NULL: out of memory). */
json_t *kura_backend_config_json(const kura_rados_options *o);

/* Which operation the fault backend fails, and how. */
/* CREATE counts create and stage; REPLACE counts replace (a rename for local files);
 * OVERWRITE counts the writes (also counted as WRITE) to bytes that a write through
 * this wrapper had put in place before (a record header's patch). */
enum kura_fault_op {
	KURA_FAULT_WRITE,
	KURA_FAULT_SYNC,
	KURA_FAULT_READ,
	KURA_FAULT_CREATE,
	KURA_FAULT_REPLACE,
	KURA_FAULT_OVERWRITE,
};
enum kura_fault_kind {
	KURA_FAULT_EIO,    /* the call fails with EIO */
	KURA_FAULT_ENOSPC, /* the call fails with ENOSPC (writes and creates; others EIO) */
	KURA_FAULT_SHORT,  /* a write puts half its bytes in place, then fails with ENOSPC */
};
typedef struct kura_fault_config {
	enum kura_fault_op op;
	enum kura_fault_kind kind;
	unsigned long nth;  /* the nth call of op (1 = the first) fails; 0: none */
	int sticky;         /* and every one after it (a full disk) */
} kura_fault_config;

/* Wraps inner (borrowed: it must outlive the result) so that the calls cfg
 * names fail. Free with be->free(be), which leaves inner alone. */
int kura_backend_fault_new(kura_backend **out, kura_backend *inner, const kura_fault_config *cfg, kura_error *err);
/* How many calls of op the fault backend has seen. */
unsigned long kura_backend_fault_count(const kura_backend *be, enum kura_fault_op op);

static inline void kura_backend_free(kura_backend *be)
{
	if (be)
		be->free(be);
}

#endif
