/* Fencing for the RADOS backend (archive/backend_rados.c): the writer epoch.
 * A RADOS lock does not stop writes, and librados keeps and resends the writes
 * a client has sent (across a network partition, a stalled OSD, a process that
 * was stopped), so a write of a writer whose lease ran out can reach the OSD
 * after another writer took the lock. The epoch makes the OSD refuse it.
 *
 * - kura.segments has the xattr "kura.epoch": twenty decimal digits, raised by
 *   every writer that takes the lock (kura_rados_fence_take) in one operation
 *   that also checks nobody raised it since it was read; to the time in
 *   microseconds, or one more when that is not more, so that a directory made
 *   again (removed behind kura's back) starts above the epochs on the segments.
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
 * before it is sent, once the writes before it have completed (a stopped
 * process's messenger sends nothing): it arrives whenever the process is continued. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	int rc = lib.rados_write_op_operate(op, kura_rados_io(rb, oid), oid, NULL, 0);
	lib.rados_release_write_op(op);
	if (rc == -ECANCELED)
		atomic_store(&rb->fenced, 1);
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
		return lib.rados_write_full(kura_rados_io(rb, oid), oid, "", 0);
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

/* The epoch on oid: 0 and *e (0: none), or the negative errno (EUCLEAN: not
 * an epoch). */
static int read_epoch(rados_backend *rb, const char *oid, uint64_t *e)
{
	char cur[KURA_RADOS_EPOCH_DIGITS + 1] = "";
	int n = lib.rados_getxattr(kura_rados_io(rb, oid), oid, EPOCH_XATTR, cur, KURA_RADOS_EPOCH_DIGITS);
	*e = 0;
	if (n == -ENODATA)
		return 0;
	if (n < 0)
		return n;
	if (n != KURA_RADOS_EPOCH_DIGITS || strspn(cur, "0123456789") != KURA_RADOS_EPOCH_DIGITS)
		return -EUCLEAN;
	*e = strtoull(cur, NULL, 10);
	return 0;
}

/* Stamps the last two segments the directory names. Refused (ECANCELED):
 * *newer is the largest epoch found on them. */
static int stamp_last(rados_backend *rb, uint64_t *newer)
{
	uint32_t *list = NULL;
	size_t n = 0, cap = 0;
	char after[32] = "";
	unsigned char more = 1;
	int rc = 0, refused = 0;
	while (rc == 0 && more)
		rc = kura_rados_dir_page(rb, after, &list, &n, &cap, &more);
	for (size_t i = n > 2 ? n - 2 : 0; rc == 0 && i < n; i++) {
		char letter, oid[48];
		uint64_t e;
		if (kura_rados_dir_letter(rb, list[i], &letter) != 0) {
			rc = -errno;
			break;
		}
		seg_oid(oid, sizeof oid, list[i], letter);
		rc = kura_rados_stamp(rb, oid);
		if (rc == -ECANCELED && read_epoch(rb, oid, &e) == 0) {
			*newer = e > *newer ? e : *newer;
			refused = 1;
			rc = 0;
		}
		if (rc == -ENOENT)
			rc = 0; /* named but gone: damage the store's checks report */
	}
	free(list);
	if (rc == -ENOENT)
		rc = 0;
	return rc == 0 && refused ? -ECANCELED : rc;
}

/* Sets the directory's epoch to next if it is still below it: 0, or the negative errno. */
static int raise_to(rados_backend *rb, uint64_t next)
{
	char text[KURA_RADOS_EPOCH_DIGITS + 1];
	epoch_text(next, text);
	rados_write_op_t op = lib.rados_create_write_op();
	lib.rados_write_op_cmpxattr(op, EPOCH_XATTR, LIBRADOS_CMPXATTR_OP_GT, text, KURA_RADOS_EPOCH_DIGITS);
	lib.rados_write_op_setxattr(op, EPOCH_XATTR, text, KURA_RADOS_EPOCH_DIGITS);
	int rc = lib.rados_write_op_operate(op, rb->io, DIR_OID, NULL, 0);
	lib.rados_release_write_op(op);
	if (rc == 0) {
		rb->epoch = next;
		memcpy(rb->epoch_text, text, sizeof text);
		atomic_store(&rb->fenced, 0);
	}
	return rc;
}

/* The next epoch is above the directory's and, so that a directory made again
 * (removed behind kura's back: the lock makes a new one) does not go back below
 * the epochs on the segments, at least the time in microseconds. */
int kura_rados_fence_take(rados_backend *rb)
{
	uint64_t floor = 0;
	for (int tries = 0; tries < 4; tries++) {
		uint64_t old;
		int rc = read_epoch(rb, DIR_OID, &old);
		if (rc == -EUCLEAN)
			kura_rados_note(rb, "the writer epoch (xattr %s of kura.segments) of %s is not %d digits: it was "
					"changed behind kura's back. Remove it (`rados %s rmxattr kura.segments %s`: the "
					"next writer sets a new one), then run the command again",
					EPOCH_XATTR, rb->where, KURA_RADOS_EPOCH_DIGITS, rb->rados_args, EPOCH_XATTR);
		if (rc != 0)
			return rc;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		uint64_t next = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
		next = next > old + 1 ? next : old + 1;
		next = next > floor + 1 ? next : floor + 1;
		rc = raise_to(rb, next);
		if (rc == -ECANCELED)
			continue; /* raised by another since it was read */
		if (rc != 0 || (rc = stamp_last(rb, &floor)) != -ECANCELED)
			return rc;
		/* a segment has a newer epoch: a newer writer raised the directory's
		 * since (we are fenced), or the directory's went back (made again) */
		if ((rc = read_epoch(rb, DIR_OID, &old)) != 0 || old != rb->epoch)
			return rc != 0 ? rc : -ECANCELED;
	}
	return -ECANCELED;
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

int kura_rados_test_stop_due(void)
{
	static atomic_long n = -1;
	if (atomic_load(&n) < 0) {
		const char *e = getenv("KURA_RADOS_STOP_AT");
		atomic_store(&n, e ? atol(e) : 0);
	}
	return atomic_load(&n) > 0 && atomic_fetch_sub(&n, 1) == 1;
}
