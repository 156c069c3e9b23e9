/* The writer lock of a RADOS store (archive/backend_rados.c): an exclusive RADOS
 * lock "kura.writer" on the directory kura.segments, with a lease.
 *
 * INVARIANTS
 * - The writer lock is an exclusive RADOS lock with a lease (lease seconds).
 *   While it is held a thread renews it every third of the lease, and so do
 *   renew() (before each commit) and write() when a third has passed. If the
 *   lease has run out by this machine's monotonic clock (the cluster could not
 *   be reached, the process was stopped) or a renewal was refused, renew fails
 *   and stays failed: another writer may hold the store now, so nothing more is
 *   acknowledged. The cookie names the host and pid, for the message a second
 *   writer gets.
 * - A lock(wait) waits at most twice the lease (long enough for the lock of a
 *   writer that died to run out), then refuses, naming who holds it.
 * - Taking it raises the writer epoch (archive/backend_rados_fence.c) before
 *   anything is written: a lock whose epoch could not be raised is let go.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <rados/librados.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "archive/backend_rados.h"

#define lib kura_rados_lib
#define LOCK_NAME "kura.writer"

static double seconds_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* "client.4123 at 127.0.0.1:0/2 (kura on host H, pid P)" or what could be found. */
static void holder(rados_backend *rb, char *buf, size_t n)
{
	char tag[256], clients[1024], cookies[1024], addrs[1024];
	size_t tl = sizeof tag, cl = sizeof clients, kl = sizeof cookies, al = sizeof addrs;
	int exclusive;
	ssize_t k = lib.rados_list_lockers(rb->io, DIR_OID, LOCK_NAME, &exclusive, tag, &tl, clients, &cl, cookies, &kl,
				       addrs, &al);
	if (k <= 0)
		snprintf(buf, n, "another kura process (it let go just now; try again)");
	else
		snprintf(buf, n, "%s at %s (%s)", clients, addrs, cookies);
}

/* Takes or renews (renewal: LIBRADOS_LOCK_FLAG_MUST_RENEW) the lock: 0, or the negative errno. */
static int lock_op(rados_backend *rb, uint8_t flags)
{
	struct timeval d = {.tv_sec = rb->lease};
	struct timespec sent;
	clock_gettime(CLOCK_MONOTONIC, &sent);
	if (kura_rados_down(rb))
		return -ETIMEDOUT;
	int rc = lib.rados_lock_exclusive(rb->io, DIR_OID, LOCK_NAME, rb->cookie, "kura writer", &d, flags);
	if (rc == 0)
		rb->renewed = sent; /* the lease runs from no earlier than this */
	return rc;
}

static int renew_locked(rados_backend *rb);

/* The renewing thread: every third of the lease until unlock. */
static void *renew_loop(void *arg)
{
	rados_backend *rb = arg;
	pthread_mutex_lock(&rb->mu);
	while (rb->locked) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += rb->lease / 3 > 0 ? rb->lease / 3 : 1;
		pthread_cond_timedwait(&rb->stop, &rb->mu, &until);
		if (rb->locked)
			renew_locked(rb); /* when due */
	}
	pthread_mutex_unlock(&rb->mu);
	return NULL;
}

static void start_renewer(rados_backend *rb)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rb->stop, &ca);
	pthread_condattr_destroy(&ca);
	/* without the thread, renew() and write() still renew: only a long idle time loses the lease */
	rb->renewing = pthread_create(&rb->renewer, NULL, renew_loop, rb) == 0;
	if (!rb->renewing)
		pthread_cond_destroy(&rb->stop);
}

int kura_rados_lock(kura_backend *be, int wait, kura_error *err)
{
	rados_backend *rb = rb_of(be);
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pthread_mutex_lock(&rb->mu);
		int rc = lock_op(rb, 0);
		if (rc == 0) {
			rb->locked = 1;
			rb->lost = 0;
		}
		pthread_mutex_unlock(&rb->mu);
		if (rc == 0 && (rc = kura_rados_fence_take(rb)) != 0) {
			kura_rados_unlock(be);
			errno = -rc;
			kura_error_sys(err, KURA_EIO, "raising the writer epoch of %s (xattr kura.epoch of kura.segments) "
				       "after taking its writer lock", rb->where);
			kura_rados_explain(be, err);
			return KURA_EIO;
		}
		if (rc == 0) {
			start_renewer(rb);
			return 0;
		}
		if (rc == -EPERM) /* the cls "lock" methods need the x cap */
			return kura_error_set(err, KURA_EIO, "taking the writer lock of %s: the cephx key may not (a writer's "
							     "key needs osd 'allow rwx pool=POOL namespace=NS': docs/CEPH.md)",
					      rb->where);
		if (rc != -EBUSY && rc != -EEXIST) {
			if (rc == -ETIMEDOUT)
				kura_rados_timed_out(rb); /* the unlock and the rest fail at once */
			errno = -rc;
			kura_error_sys(err, KURA_EIO, "taking the writer lock of %s", rb->where);
			kura_rados_explain(be, err);
			return KURA_EIO;
		}
		if (!wait)
			return 1;
		if (seconds_since(&start) > 2.0 * rb->lease) {
			char who[2048];
			holder(rb, who, sizeof who);
			return kura_error_set(err, KURA_ELOCKED,
					      "%s is locked by %s, another writer of this store, which kept renewing its "
					      "lease (%d s) for the %.0f s this command waited: run the command again when "
					      "that writer has finished",
					      rb->where, who, rb->lease, seconds_since(&start));
		}
		sleep(1);
	}
}

/* With rb->mu held: renews the lease when a third of it has passed; marks it
 * lost when it has run out or the renewal is refused. 0, or -1 when lost. */
static int renew_locked(rados_backend *rb)
{
	if (rb->locked && !rb->lost && atomic_load(&rb->fenced))
		rb->lost = 1; /* a writer of a newer epoch took over */
	if (rb->locked && !rb->lost) {
		double age = seconds_since(&rb->renewed);
		int rc;
		if (age >= rb->lease)
			rb->lost = 1;
		else if (age >= rb->lease / 3.0 && (rc = lock_op(rb, LIBRADOS_LOCK_FLAG_MUST_RENEW)) != 0) {
			rb->lost = 1;
			rb->renew_error = -rc;
			if (rc == -ETIMEDOUT)
				kura_rados_timed_out(rb);
		}
	}
	return rb->locked && rb->lost ? -1 : 0;
}

int kura_rados_renew_due(rados_backend *rb, kura_error *err)
{
	pthread_mutex_lock(&rb->mu);
	int rc = 0;
	if (renew_locked(rb) != 0 && (atomic_load(&rb->timed_out) || rb->renew_error == ETIMEDOUT))
		rc = kura_error_set(err, KURA_EIO,
				    "the Ceph cluster of %s did not answer within %d s, so the writer lock's lease (%d s) "
				    "could not be renewed and nothing more is written by this run: an OSD (or the monitor) "
				    "is down or the pool's placement groups are not active; check `ceph -s` and `ceph osd "
				    "tree`, bring it back, then run the command again (what was printed before is stored)",
				    rb->where, rb->op_timeout, rb->lease);
	else if (rb->locked && rb->lost && atomic_load(&rb->fenced))
		rc = kura_rados_fenced_say(rb, err, 0);
	else if (rb->locked && rb->lost)
		rc = kura_error_set(err, KURA_ELOCKED,
				    "the writer lock of %s ran out (its lease of %d s was not renewed in time): another "
				    "writer may hold the store now, so nothing more is written by this run; run the "
				    "command again", rb->where, rb->lease);
	pthread_mutex_unlock(&rb->mu);
	return rc;
}

int kura_rados_renew(kura_backend *be, kura_error *err) { return kura_rados_renew_due(rb_of(be), err); }

void kura_rados_unlock(kura_backend *be)
{
	rados_backend *rb = rb_of(be);
	pthread_mutex_lock(&rb->mu);
	if (rb->locked && !atomic_load(&rb->timed_out)) /* else it would wait again: the lease runs out */
		lib.rados_unlock(rb->io, DIR_OID, LOCK_NAME, rb->cookie);
	rb->locked = 0;
	if (rb->renewing)
		pthread_cond_signal(&rb->stop);
	pthread_mutex_unlock(&rb->mu);
	if (rb->renewing) {
		pthread_join(rb->renewer, NULL);
		pthread_cond_destroy(&rb->stop);
		rb->renewing = 0;
	}
}
