/* The fault backend (archive/backend.h): wraps another backend and makes the nth
 * call of one operation fail (EIO, ENOSPC, or a write that puts half its bytes
 * in place and then fails), once or from then on. Tests drive the real store
 * through it to see what kura does when the storage under it fails; everything
 * else is handed to the inner backend unchanged. Calls are counted under a
 * mutex, so parallel readers count right. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "archive/backend.h"

typedef struct fault_backend {
	kura_backend be;
	kura_backend *inner;
	kura_fault_config cfg;
	pthread_mutex_t mu;
	unsigned long seen[KURA_FAULT_OVERWRITE + 1];
} fault_backend;

typedef struct fault_seg {
	kura_seg s;
	kura_seg *inner;
	uint64_t written; /* the end of what writes through here put in place */
} fault_seg;

#define INNER(s) (((fault_seg *)(s))->inner)
#define FB(be) ((fault_backend *)(be))

/* Counts a call of op; 1 when it is to fail (errno set for it). */
static int strikes(fault_backend *fb, enum kura_fault_op op)
{
	pthread_mutex_lock(&fb->mu);
	unsigned long n = ++fb->seen[op];
	pthread_mutex_unlock(&fb->mu);
	if (fb->cfg.op != op || fb->cfg.nth == 0 || n < fb->cfg.nth || (n > fb->cfg.nth && !fb->cfg.sticky))
		return 0;
	int space = fb->cfg.kind != KURA_FAULT_EIO && (op == KURA_FAULT_WRITE || op == KURA_FAULT_CREATE);
	errno = space ? ENOSPC : EIO;
	return 1;
}

static void fault_name(kura_backend *be, uint32_t segno, char *buf, size_t n)
{
	FB(be)->inner->name(FB(be)->inner, segno, buf, n);
}

static int fault_list(kura_backend *be, uint32_t **segnos, size_t *count)
{
	return FB(be)->inner->list(FB(be)->inner, segnos, count);
}

static int fault_stat(kura_backend *be, uint32_t segno, uint64_t *size)
{
	return FB(be)->inner->stat(FB(be)->inner, segno, size);
}

static int wrap(kura_backend *be, kura_seg **out, kura_seg *inner)
{
	fault_seg *fs = malloc(sizeof *fs);
	if (!fs) {
		inner->be->close(inner);
		errno = ENOMEM;
		return -1;
	}
	fs->s.be = be;
	fs->s.segno = inner->segno;
	fs->inner = inner;
	fs->written = 0;
	*out = &fs->s;
	return 0;
}

static int fault_create(kura_backend *be, kura_seg **out, uint32_t segno)
{
	kura_seg *inner;
	if (strikes(FB(be), KURA_FAULT_CREATE) || FB(be)->inner->create(FB(be)->inner, &inner, segno) != 0)
		return -1;
	return wrap(be, out, inner);
}

static int fault_open(kura_backend *be, kura_seg **out, uint32_t segno, int writable)
{
	kura_seg *inner;
	if (FB(be)->inner->open(FB(be)->inner, &inner, segno, writable) != 0)
		return -1;
	return wrap(be, out, inner);
}

static int fault_remove(kura_backend *be, uint32_t segno)
{
	return FB(be)->inner->remove(FB(be)->inner, segno);
}

static int fault_stage(kura_backend *be, kura_seg **out, uint32_t segno)
{
	kura_seg *inner;
	if (strikes(FB(be), KURA_FAULT_CREATE) || FB(be)->inner->stage(FB(be)->inner, &inner, segno) != 0)
		return -1;
	return wrap(be, out, inner);
}

static int fault_replace(kura_backend *be, uint32_t segno)
{
	if (strikes(FB(be), KURA_FAULT_REPLACE))
		return -1;
	return FB(be)->inner->replace(FB(be)->inner, segno);
}

static int fault_staged(kura_backend *be, uint32_t segno)
{
	return FB(be)->inner->staged(FB(be)->inner, segno);
}

static int fault_discard(kura_backend *be, uint32_t segno)
{
	return FB(be)->inner->discard(FB(be)->inner, segno);
}

static int fault_read(kura_seg *s, uint64_t off, void *buf, size_t n, size_t *got)
{
	if (strikes(FB(s->be), KURA_FAULT_READ))
		return -1;
	return INNER(s)->be->read(INNER(s), off, buf, n, got);
}

static int fault_write(kura_seg *s, uint64_t off, const void *p, size_t n)
{
	fault_backend *fb = FB(s->be);
	fault_seg *fs = (fault_seg *)s;
	int hit = strikes(fb, KURA_FAULT_WRITE);
	if (off < fs->written)
		hit |= strikes(fb, KURA_FAULT_OVERWRITE);
	if (!hit) {
		int rc = INNER(s)->be->write(INNER(s), off, p, n);
		if (rc == 0 && off + n > fs->written)
			fs->written = off + n;
		return rc;
	}
	if (fb->cfg.kind == KURA_FAULT_SHORT && n > 1 && INNER(s)->be->write(INNER(s), off, p, n / 2) == 0)
		errno = ENOSPC;
	return -1;
}

static void fault_writeback(kura_seg *s, uint64_t off, uint64_t n)
{
	if (INNER(s)->be->writeback)
		INNER(s)->be->writeback(INNER(s), off, n);
}

static int fault_sync(kura_seg *s)
{
	if (strikes(FB(s->be), KURA_FAULT_SYNC))
		return -1;
	return INNER(s)->be->sync(INNER(s));
}

static int fault_size(kura_seg *s, uint64_t *size)
{
	return INNER(s)->be->size(INNER(s), size);
}

static int fault_truncate(kura_seg *s, uint64_t size)
{
	return INNER(s)->be->truncate(INNER(s), size);
}

static void fault_close(kura_seg *s)
{
	if (!s)
		return;
	INNER(s)->be->close(INNER(s));
	free(s);
}

static int fault_lock(kura_backend *be, int wait, kura_error *err)
{
	return FB(be)->inner->lock(FB(be)->inner, wait, err);
}

static int fault_renew(kura_backend *be, kura_error *err)
{
	kura_backend *in = FB(be)->inner;
	return in->renew ? in->renew(in, err) : 0;
}

static void fault_unlock(kura_backend *be)
{
	FB(be)->inner->unlock(FB(be)->inner);
}

static void fault_free(kura_backend *be)
{
	pthread_mutex_destroy(&FB(be)->mu);
	free(be);
}

int kura_backend_fault_new(kura_backend **out, kura_backend *inner, const kura_fault_config *cfg, kura_error *err)
{
	fault_backend *fb = calloc(1, sizeof *fb);
	if (!fb)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	fb->inner = inner;
	fb->cfg = *cfg;
	pthread_mutex_init(&fb->mu, NULL);
	fb->be = (kura_backend){
		.max_segment_size = inner->max_segment_size,
		.name = fault_name,
		.list = fault_list,
		.stat = fault_stat,
		.create = fault_create,
		.open = fault_open,
		.remove = fault_remove,
		.stage = fault_stage,
		.replace = fault_replace,
		.staged = fault_staged,
		.discard = fault_discard,
		.read = fault_read,
		.write = fault_write,
		.writeback = fault_writeback,
		.sync = fault_sync,
		.size = fault_size,
		.truncate = fault_truncate,
		.close = fault_close,
		.lock = fault_lock,
		.renew = fault_renew,
		.unlock = fault_unlock,
		.free = fault_free,
	};
	*out = &fb->be;
	return 0;
}

unsigned long kura_backend_fault_count(const kura_backend *be, enum kura_fault_op op)
{
	fault_backend *fb = (fault_backend *)be;
	pthread_mutex_lock(&fb->mu);
	unsigned long n = fb->seen[op];
	pthread_mutex_unlock(&fb->mu);
	return n;
}
