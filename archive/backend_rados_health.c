/* Loading librados, and what the RADOS backend (archive/backend_rados.c) does
 * when the cluster does not answer or its directory was damaged behind kura's
 * back: the timeouts' fail-at-once window, the checks that find segment objects
 * the directory does not name, and the message that says what is wrong and what
 * to do (archive/backend.h explain). INVARIANTS: archive/backend_rados.c. */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "archive/backend_rados.h"
#include "archive/segment.h"

#define lib kura_rados_lib

struct kura_rados_lib kura_rados_lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static char lib_error[256];

static void lib_load(void)
{
	void *h = dlopen("librados.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(lib_error, sizeof lib_error, "%s", dlerror());
		return;
	}
#define X(f)                                                                                              \
	if (!(kura_rados_lib.f = (__typeof__(f) *)dlsym(h, #f)) && !lib_error[0])                                   \
		snprintf(lib_error, sizeof lib_error, "librados.so.2 has no %s", #f);
	LIBRADOS_FUNCTIONS(X)
#undef X
}

int kura_rados_ready(kura_error *err)
{
	pthread_once(&lib_once, lib_load);
	return lib_error[0] ? kura_error_set(err, KURA_EUNSUPPORTED, "this store keeps its segments in Ceph, and "
								     "librados cannot be loaded (%s): install librados2",
					     lib_error)
			    : 0;
}

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* An operation timed out: for the next op_timeout seconds every operation fails
 * at once, so that a command gives up after one timeout, not one per operation
 * it still has to make (the rollback, the audit trail, the unlock). */
void kura_rados_timed_out(rados_backend *rb)
{
	atomic_store(&rb->timed_out, 1);
	atomic_store(&rb->down_until, now_ms() + 1000LL * rb->op_timeout);
}

/* 1 (errno ETIMEDOUT) while operations fail at once; 0 otherwise. */
int kura_rados_down(rados_backend *rb)
{
	if (now_ms() >= atomic_load(&rb->down_until))
		return 0;
	errno = ETIMEDOUT;
	return 1;
}

/* Remembers what is wrong with the directory, for explain(). */
void kura_rados_note(rados_backend *rb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&rb->note_mu);
	vsnprintf(rb->damage, sizeof rb->damage, fmt, ap);
	pthread_mutex_unlock(&rb->note_mu);
	va_end(ap);
}

/* A letter of an object of segment segno that holds at least a segment's
 * header: 0 and *letter, or -1. (An unnamed object that a crash left, INVARIANTS,
 * is empty or shorter than a header: create names it before writing the header,
 * and only a header-less segment is ever removed.) */
int kura_rados_object_of(rados_backend *rb, uint32_t segno, char *letter)
{
	for (const char *l = "ab"; *l; l++) {
		char oid[48];
		uint64_t size;
		time_t mtime;
		seg_oid(oid, sizeof oid, segno, *l);
		if (lib.rados_stat(rb->data, oid, &size, &mtime) == 0 && size >= KURA_SEGMENT_FILE_HEADER) {
			*letter = *l;
			return 0;
		}
	}
	return -1;
}

void kura_rados_note_unnamed(rados_backend *rb, uint32_t segno, char letter)
{
	kura_rados_note(rb, "the directory kura.segments of %s does not name segment %08u, yet the pool holds its object "
		 "kura.seg.%08u.%c: the directory was changed behind kura's back, and kura does not guess. Name it "
		 "again: `rados %s setomapval kura.segments %08u %c` (docs/FORMAT.md), then run the command again",
	     rb->where, segno, segno, letter, rb->rados_args, segno, letter);
}

/* The directory names segments list[0..n): 0, or -EUCLEAN (noted) when a
 * segment it does not name (one in a gap, or the next) has an object. */
int kura_rados_unnamed(rados_backend *rb, const uint32_t *list, size_t n)
{
	if (n == 0) /* a new store, or its directory was emptied (a lock makes the object again) */
		return kura_rados_orphans(rb);
	uint32_t want = 1;
	char letter;
	for (size_t i = 0; i <= n; i++) {
		uint32_t upto = i < n ? list[i] : want + 1; /* after the last: the next one */
		for (; want < upto; want++)
			if (kura_rados_object_of(rb, want, &letter) == 0) {
				kura_rados_note_unnamed(rb, want, letter);
				return -EUCLEAN;
			}
		want = upto + 1;
	}
	return 0;
}

/* No directory, or one naming no segment: 0 when the namespace has no segment
 * object either (a new store), -EUCLEAN (noted) when it has: the directory was
 * removed or emptied. */
int kura_rados_orphans(rados_backend *rb)
{
	rados_list_ctx_t ctx;
	int rc = lib.rados_nobjects_list_open(rb->data, &ctx); /* the segments' pool */
	if (rc != 0)
		return rc;
	const char *entry;
	unsigned segno;
	char letter, found[64] = "";
	size_t count = 0;
	while ((rc = lib.rados_nobjects_list_next(ctx, &entry, NULL, NULL)) == 0)
		if (sscanf(entry, "kura.seg.%8u.%c", &segno, &letter) == 2 && kura_rados_object_of(rb, segno, &letter) == 0 &&
		    count++ == 0)
			snprintf(found, sizeof found, "%s", entry);
	lib.rados_nobjects_list_close(ctx);
	if (rc != -ENOENT) /* the end of the list */
		return rc;
	if (count == 0)
		return 0;
	kura_rados_note(rb, "the directory kura.segments of %s names no segment, yet the pool holds %zu segment object(s) (%s, "
		 "...): it was removed or emptied behind kura's back, and kura does not guess which objects are the segments. "
		 "Restore it from a backup of the pool, or name each segment again: for each object kura.seg.N.L that "
		 "`rados %s ls` lists, `rados %s setomapval kura.segments N L` (where both N.a and N.b are there, the "
		 "larger), then run the command again",
	     rb->where, count, found, rb->data_args, rb->rados_args);
	return -EUCLEAN;
}

/* The hint added to a failure's message (archive/backend.h). */
void kura_rados_explain(kura_backend *be, kura_error *err)
{
	rados_backend *rb = rb_of(be);
	if (!err)
		return;
	pthread_mutex_lock(&rb->note_mu);
	size_t n = strlen(err->message);
	/* only on a failure of that kind: a later, other one is not explained by it */
	if (rb->damage[0] && strstr(err->message, strerror(EUCLEAN)) && !strstr(err->message, rb->damage))
		snprintf(err->message + n, sizeof err->message - n, " (%s)", rb->damage);
	pthread_mutex_unlock(&rb->note_mu);
	if (atomic_load(&rb->fenced) && !strstr(err->message, "another writer took") &&
	    (strstr(err->message, strerror(ECANCELED)) || strstr(err->message, strerror(ENOLCK)))) {
		kura_rados_fenced_say(rb, err, 1);
		return;
	}
	/* ETIMEDOUT comes only from rados_osd_op_timeout; ENOLCK only after one */
	if (strstr(err->message, "did not answer within") ||
	    !(strstr(err->message, strerror(ETIMEDOUT)) ||
	      (atomic_load(&rb->timed_out) && strstr(err->message, strerror(ENOLCK)))))
		return;
	n = strlen(err->message);
	snprintf(err->message + n, sizeof err->message - n,
		 " (the Ceph cluster of %s did not answer within %d s, the store's op_timeout_seconds: an OSD "
		 "(or the monitor) is down or the pool's placement groups are not active; check `ceph -s` and "
		 "`ceph osd tree`, bring it back, then run the command again: what was printed before is stored, "
		 "nothing after it was acknowledged)",
		 rb->where, rb->op_timeout);
}
