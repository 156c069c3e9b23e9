/* A reader's backend (archive/backend.h): a store folder made by `kura attach`
 * on another machine reads the segments a writer keeps in a RADOS pool, and
 * never changes them. It wraps the RADOS backend (owned) for reading; the lock
 * it takes is the reader folder's own flock on STORE/lock (through a local-file
 * backend, owned), which keeps two reindexes of the same reader folder apart and
 * never touches the writer's lock in the pool.
 *
 * INVARIANTS
 * - Nothing that changes the pool passes: create, open for writing, remove,
 *   stage, replace, discard, write, sync and truncate fail with EROFS. (Store
 *   opens for writing are refused before they get here, with a message saying
 *   what to do: archive/store.c.)
 * - Segments are opened through the inner backend: they are its segments, read
 *   through it, closed through it.
 */
#include <errno.h>
#include <stdlib.h>

#include "archive/backend.h"

typedef struct reader_backend {
	kura_backend be;
	kura_backend *inner; /* the pool */
	kura_backend *local; /* STORE/lock of the reader folder */
} reader_backend;

static kura_backend *inner(kura_backend *be) { return ((reader_backend *)be)->inner; }

static int refuse(void)
{
	errno = EROFS;
	return -1;
}

static void rd_name(kura_backend *be, uint32_t segno, char *buf, size_t n) { inner(be)->name(inner(be), segno, buf, n); }
static int rd_list(kura_backend *be, uint32_t **segnos, size_t *count) { return inner(be)->list(inner(be), segnos, count); }
static int rd_stat(kura_backend *be, uint32_t segno, uint64_t *size) { return inner(be)->stat(inner(be), segno, size); }
static int rd_staged(kura_backend *be, uint32_t segno) { return inner(be)->staged(inner(be), segno); }
static int rd_generation(kura_backend *be, uint64_t *gen)
{
	if (!inner(be)->generation) {
		errno = ENOTSUP;
		return -1;
	}
	return inner(be)->generation(inner(be), gen);
}

static int rd_open(kura_backend *be, kura_seg **out, uint32_t segno, int writable)
{
	return writable ? refuse() : inner(be)->open(inner(be), out, segno, 0);
}

static int rd_create(kura_backend *be, kura_seg **out, uint32_t segno)
{
	(void)be, (void)out, (void)segno;
	return refuse();
}

static int rd_segno_op(kura_backend *be, uint32_t segno)
{
	(void)be, (void)segno;
	return refuse();
}

static int rd_write(kura_seg *s, uint64_t off, const void *p, size_t n)
{
	(void)s, (void)off, (void)p, (void)n;
	return refuse();
}

static int rd_sync(kura_seg *s)
{
	(void)s;
	return refuse();
}

static int rd_truncate(kura_seg *s, uint64_t size)
{
	(void)s, (void)size;
	return refuse();
}

static int rd_read(kura_seg *s, uint64_t off, void *buf, size_t n, size_t *got) { return s->be->read(s, off, buf, n, got); }
static int rd_size(kura_seg *s, uint64_t *size) { return s->be->size(s, size); }
static void rd_close(kura_seg *s)
{
	if (s)
		s->be->close(s);
}

static int rd_lock(kura_backend *be, int wait, kura_error *err)
{
	kura_backend *l = ((reader_backend *)be)->local;
	return l->lock(l, wait, err);
}

static void rd_unlock(kura_backend *be)
{
	kura_backend *l = ((reader_backend *)be)->local;
	l->unlock(l);
}

static void rd_free(kura_backend *be)
{
	reader_backend *rd = (reader_backend *)be;
	kura_backend_free(rd->local);
	kura_backend_free(rd->inner);
	free(rd);
}

int kura_backend_reader_new(kura_backend **out, kura_backend *pool, const char *store, kura_error *err)
{
	reader_backend *rd = calloc(1, sizeof *rd);
	if (!rd) {
		kura_backend_free(pool);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	rd->inner = pool;
	int rc = kura_backend_file_open(&rd->local, store, err);
	if (rc != 0) {
		rd_free(&rd->be);
		return rc;
	}
	rd->be = (kura_backend){
		.max_segment_size = pool->max_segment_size,
		.name = rd_name,
		.list = rd_list,
		.stat = rd_stat,
		.create = rd_create,
		.open = rd_open,
		.remove = rd_segno_op,
		.stage = rd_create,
		.replace = rd_segno_op,
		.staged = rd_staged,
		.discard = rd_segno_op,
		.read = rd_read,
		.write = rd_write,
		.writeback = NULL,
		.sync = rd_sync,
		.size = rd_size,
		.truncate = rd_truncate,
		.close = rd_close,
		.lock = rd_lock,
		.renew = NULL,
		.unlock = rd_unlock,
		.free = rd_free,
		.generation = rd_generation,
	};
	*out = &rd->be;
	return 0;
}
