/* Fencing for the RADOS backend (archive/backend_rados.c): the writer epoch.
 * A RADOS lock does not stop writes, and librados keeps and resends the writes
 * a client has sent (across a network partition, a stalled OSD, a process that
 * was stopped), so a write of a writer whose lease ran out can reach the OSD
 * after another writer took the lock. The epoch makes the OSD refuse it.
 *
 * - kura.segments has the xattr "kura.epoch": twenty decimal digits, raised by
 *   one by every writer that takes the lock (kura_rados_fence_take), in one
 *   operation that also checks nobody raised it since it was read.
 * - Every object a writer writes has its epoch in the same xattr: the writer
 *   stamps it on the last two segments the directory names when it takes the
 *   lock (a writer writes only to the last one, or to the one before when
 *   starting the next failed after naming it), before the store reads them,
 *   and on every object it makes or opens for writing.
 * - Every write operation of a writer holding an epoch carries the check of
 *   the object's epoch: equal to the writer's for appends, truncates and
 *   directory changes; not newer than the writer's for stamping, emptying and
 *   removing. RADOS applies an operation whole or not at all, so a write of an
 *   older epoch fails (ECANCELED) and changes nothing; the old writer reports it
 *   and acknowledges nothing more.
 * - RADOS applies the operations on one object in order: an old write applied
 *   before the new writer's stamp is in the bytes the new writer reads after it
 *   (a tail it rolls forward or cuts off, as after a crash); one after is refused.
 * - A backend that has not taken the lock (kura init's first segment, in a
 *   namespace no store uses) has no epoch and writes without the check.
 *
 * KURA_RADOS_STOP_AT=N (tests only: tests/cli/test_rados_fence.sh) stops the
 * whole process (SIGSTOP) in the Nth segment write, after its lease check and
 * before it is sent: the write arrives whenever the process is continued. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "archive/backend_rados.h"

#define lib kura_rados_lib

#define EPOCH_XATTR "kura.epoch"

static void epoch_text(uint64_t e, char buf[KURA_RADOS_EPOCH_DIGITS + 1])
{
	snprintf(buf, KURA_RADOS_EPOCH_DIGITS + 1, "%0*llu", KURA_RADOS_EPOCH_DIGITS, (unsigned long long)e);
}

void kura_rados_guard(rados_backend *rb, rados_write_op_t op, int exact)
{
	if (rb->epoch == 0)
		return;
	/* RADOS compares the text given with the object's: EQ, or GTE (ours >= the
	 * object's; an object without the xattr has "", older than any) */
	lib.rados_write_op_cmpxattr(op, EPOCH_XATTR, exact ? LIBRADOS_CMPXATTR_OP_EQ : LIBRADOS_CMPXATTR_OP_GTE,
				    rb->epoch_text, KURA_RADOS_EPOCH_DIGITS);
}

int kura_rados_operate(rados_backend *rb, rados_write_op_t op, const char *oid)
{
	int rc = lib.rados_write_op_operate(op, rb->io, oid, NULL, 0);
	lib.rados_release_write_op(op);
	if (rc == -ECANCELED)
		atomic_store(&rb->fenced, 1);
	return rc;
}

int kura_rados_aio_write(rados_backend *rb, const char *oid, rados_completion_t c, const char *b, size_t len,
			 uint64_t off)
{
	rados_write_op_t op = lib.rados_create_write_op();
	kura_rados_guard(rb, op, 1);
	lib.rados_write_op_write(op, b, len, off); /* copies the bytes */
	int rc = lib.rados_aio_write_op_operate(op, rb->io, c, oid, NULL, 0);
	lib.rados_release_write_op(op);
	return rc;
}

int kura_rados_stamp(rados_backend *rb, const char *oid)
{
	if (rb->epoch == 0)
		return 0;
	rados_write_op_t op = lib.rados_create_write_op();
	kura_rados_guard(rb, op, 0);
	lib.rados_write_op_setxattr(op, EPOCH_XATTR, rb->epoch_text, KURA_RADOS_EPOCH_DIGITS);
	return kura_rados_operate(rb, op, oid);
}

int kura_rados_empty(rados_backend *rb, const char *oid)
{
	if (rb->epoch == 0)
		return lib.rados_write_full(rb->io, oid, "", 0);
	for (int tries = 0; tries < 3; tries++) {
		/* an object that is there (a crash left it unnamed, or a replacement's
		 * letter): emptied unless a newer writer stamped it */
		rados_write_op_t op = lib.rados_create_write_op();
		kura_rados_guard(rb, op, 0);
		lib.rados_write_op_write_full(op, "", 0);
		lib.rados_write_op_setxattr(op, EPOCH_XATTR, rb->epoch_text, KURA_RADOS_EPOCH_DIGITS);
		int rc = kura_rados_operate(rb, op, oid);
		if (rc != -ENOENT)
			return rc;
		/* none: made new (a check on an object that is not there fails) */
		op = lib.rados_create_write_op();
		lib.rados_write_op_create(op, LIBRADOS_CREATE_EXCLUSIVE, NULL);
		lib.rados_write_op_setxattr(op, EPOCH_XATTR, rb->epoch_text, KURA_RADOS_EPOCH_DIGITS);
		if ((rc = kura_rados_operate(rb, op, oid)) != -EEXIST)
			return rc;
	}
	return -EEXIST;
}

int kura_rados_remove(rados_backend *rb, const char *oid)
{
	rados_write_op_t op = lib.rados_create_write_op();
	kura_rados_guard(rb, op, 0);
	lib.rados_write_op_remove(op);
	return kura_rados_operate(rb, op, oid);
}

/* Stamps the last two segments the directory names. */
static int stamp_last(rados_backend *rb)
{
	uint32_t *list = NULL;
	size_t n = 0, cap = 0;
	char after[32] = "";
	unsigned char more = 1;
	int rc = 0;
	while (rc == 0 && more)
		rc = kura_rados_dir_page(rb, after, &list, &n, &cap, &more);
	for (size_t i = n > 2 ? n - 2 : 0; rc == 0 && i < n; i++) {
		char letter, oid[48];
		if (kura_rados_dir_letter(rb, list[i], &letter) != 0) {
			rc = -errno;
			break;
		}
		seg_oid(oid, sizeof oid, list[i], letter);
		rc = kura_rados_stamp(rb, oid);
		if (rc == -ENOENT)
			rc = 0; /* named but gone: damage the store's checks report */
	}
	free(list);
	return rc == -ENOENT ? 0 : rc;
}

int kura_rados_fence_take(rados_backend *rb)
{
	for (int tries = 0;; tries++) {
		char cur[KURA_RADOS_EPOCH_DIGITS + 1] = "", next[KURA_RADOS_EPOCH_DIGITS + 1];
		uint64_t old = 0;
		int n = lib.rados_getxattr(rb->io, DIR_OID, EPOCH_XATTR, cur, KURA_RADOS_EPOCH_DIGITS);
		if (n == KURA_RADOS_EPOCH_DIGITS && strspn(cur, "0123456789") == KURA_RADOS_EPOCH_DIGITS)
			old = strtoull(cur, NULL, 10);
		else if (n >= 0) {
			kura_rados_note(rb, "the writer epoch (xattr %s of kura.segments) of %s is not %d digits: it was "
					"changed behind kura's back. Set it to a number above every writer's: `rados %s "
					"setxattr kura.segments %s 10000000000000000000`, then run the command again",
					EPOCH_XATTR, rb->where, KURA_RADOS_EPOCH_DIGITS, rb->rados_args, EPOCH_XATTR);
			return -EUCLEAN;
		} else if (n != -ENODATA)
			return n;
		epoch_text(old + 1, next);
		rados_write_op_t op = lib.rados_create_write_op();
		/* ours is above the one there: nobody raised it since it was read */
		lib.rados_write_op_cmpxattr(op, EPOCH_XATTR, LIBRADOS_CMPXATTR_OP_GT, next, KURA_RADOS_EPOCH_DIGITS);
		lib.rados_write_op_setxattr(op, EPOCH_XATTR, next, KURA_RADOS_EPOCH_DIGITS);
		int rc = lib.rados_write_op_operate(op, rb->io, DIR_OID, NULL, 0);
		lib.rados_release_write_op(op);
		if (rc == 0) {
			rb->epoch = old + 1;
			memcpy(rb->epoch_text, next, sizeof next);
			atomic_store(&rb->fenced, 0);
			return stamp_last(rb);
		}
		if (rc != -ECANCELED || tries == 2)
			return rc;
	}
}

int kura_rados_fenced_say(rados_backend *rb, kura_error *err, int append)
{
	if (!err)
		return KURA_EIO;
	size_t n = append ? strlen(err->message) : 0;
	snprintf(err->message + n, sizeof err->message - n,
		 "%sanother writer took %s over after this writer's lease ran out (the writer epoch on kura.segments "
		 "is newer than this writer's, %llu): the cluster refused this writer's late writes, so they changed "
		 "nothing the other writer wrote, and nothing more is written or acknowledged by this run (what was "
		 "printed before is stored); run the command again when the other writer has finished%s",
		 append ? " (" : "", rb->where, (unsigned long long)rb->epoch, append ? ")" : "");
	if (!append)
		err->code = KURA_EIO;
	return KURA_EIO;
}

void kura_rados_test_stop(void)
{
	static atomic_long n = -1;
	if (atomic_load(&n) < 0) {
		const char *e = getenv("KURA_RADOS_STOP_AT");
		atomic_store(&n, e ? atol(e) : 0);
	}
	if (atomic_load(&n) > 0 && atomic_fetch_sub(&n, 1) == 1)
		raise(SIGSTOP);
}
