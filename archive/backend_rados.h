/* The RADOS backend's own header (archive/backend_rados.c, the segments and the
 * lock; archive/backend_rados_health.c, loading librados, timeouts and damage
 * found in the directory): the backend's state and the librados calls, which go
 * through kura_rados_lib (librados is loaded with dlopen). Nothing else in kura
 * includes it. */
#ifndef KURA_BACKEND_RADOS_H
#define KURA_BACKEND_RADOS_H

#include <pthread.h>
#include <rados/librados.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "archive/backend.h"

#define DIR_OID "kura.segments"
#define KURA_RADOS_EPOCH_DIGITS 20

typedef struct rados_backend {
	kura_backend be;
	rados_t cluster;
	rados_ioctx_t io;   /* the pool given by --pool: the directory (omap, lock, xattrs) */
	rados_ioctx_t data; /* the segment objects: the data pool (--data-pool), or io itself */
	char where[512]; /* rados:POOL/NAMESPACE, for messages */
	char data_where[512]; /* rados:DATA_POOL/NAMESPACE: where the segment objects are */
	char rados_args[512]; /* "-p POOL [-N NAMESPACE]": the rados command's, for messages */
	char data_args[512];  /* the same for the segment objects' pool */
	pthread_mutex_t note_mu; /* guards damage */
	char damage[1024]; /* what is wrong with the directory, found last; "": nothing */
	char cookie[320];
	int lease; /* seconds */
	int op_timeout; /* seconds an operation may wait for the cluster */
	atomic_int timed_out; /* an operation timed out: the cluster or an OSD is unreachable */
	atomic_llong down_until; /* ms (monotonic): until then operations fail at once */
	pthread_mutex_t mu; /* guards the lock's state below */
	int locked, lost;
	int renew_error; /* the errno of a refused or failed renewal; 0: none */
	struct timespec renewed; /* when the last lock or renewal was sent */
	pthread_cond_t stop;     /* signalled by unlock: the renewing thread ends */
	pthread_t renewer;
	int renewing;            /* the renewing thread runs */
	uint64_t epoch;          /* the writer epoch taken with the lock; 0: none (archive/backend_rados_fence.c) */
	char epoch_text[KURA_RADOS_EPOCH_DIGITS + 1];
	atomic_int fenced;       /* a write was refused: a writer of a newer epoch took over */
} rados_backend;

static inline rados_backend *rb_of(kura_backend *be) { return (rados_backend *)be; }

/* The pool an object is in: the directory in io, every other object (a
 * segment) in the data pool. */
static inline rados_ioctx_t kura_rados_io(rados_backend *rb, const char *oid)
{
	return strcmp(oid, DIR_OID) == 0 ? rb->io : rb->data;
}

static inline void seg_oid(char *buf, size_t n, uint32_t segno, char letter)
{
	snprintf(buf, n, "kura.seg.%08u.%c", segno, letter);
}

/* librados is loaded when the first RADOS store is opened (dlopen), so that
 * every other kura command does not load Ceph's libraries (about a hundred
 * shared objects' worth of start-up). Calls go through lib. */
#define LIBRADOS_FUNCTIONS(X) \
	X(rados_aio_create_completion2) \
	X(rados_aio_get_return_value) \
	X(rados_aio_release) \
	X(rados_aio_wait_for_complete) \
	X(rados_aio_write_op_operate) \
	X(rados_conf_get) \
	X(rados_conf_read_file) \
	X(rados_conf_set) \
	X(rados_connect) \
	X(rados_create) \
	X(rados_create_read_op) \
	X(rados_create_write_op) \
	X(rados_getxattr) \
	X(rados_ioctx_create) \
	X(rados_ioctx_destroy) \
	X(rados_ioctx_pool_required_alignment2) \
	X(rados_ioctx_pool_requires_alignment2) \
	X(rados_ioctx_set_namespace) \
	X(rados_list_lockers) \
	X(rados_lock_exclusive) \
	X(rados_nobjects_list_close) \
	X(rados_nobjects_list_next) \
	X(rados_nobjects_list_open) \
	X(rados_omap_get_end) \
	X(rados_omap_get_next2) \
	X(rados_read) \
	X(rados_read_op_omap_get_vals2) \
	X(rados_read_op_omap_get_vals_by_keys2) \
	X(rados_read_op_operate) \
	X(rados_release_read_op) \
	X(rados_release_write_op) \
	X(rados_remove) \
	X(rados_shutdown) \
	X(rados_stat) \
	X(rados_trunc) \
	X(rados_unlock) \
	X(rados_write_full) \
	X(rados_write_op_cmpxattr) \
	X(rados_write_op_create) \
	X(rados_write_op_omap_rm_keys2) \
	X(rados_write_op_omap_set2) \
	X(rados_write_op_operate) \
	X(rados_write_op_remove) \
	X(rados_write_op_setxattr) \
	X(rados_write_op_truncate) \
	X(rados_write_op_write) \
	X(rados_write_op_write_full)


struct kura_rados_lib {
#define X(f) __typeof__(f) *f;
	LIBRADOS_FUNCTIONS(X)
#undef X
};
extern struct kura_rados_lib kura_rados_lib;

/* Loads librados once: 0, or KURA_EUNSUPPORTED saying to install it. */
int kura_rados_ready(kura_error *err);

/* An operation timed out: for the next op_timeout seconds kura_rados_down() is 1. */
void kura_rados_timed_out(rados_backend *rb);
/* 1 (errno ETIMEDOUT) while operations fail at once after a timeout; 0 otherwise. */
int kura_rados_down(rados_backend *rb);

/* Remembers what is wrong with the directory, for kura_rados_explain(). */
void kura_rados_note(rados_backend *rb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A letter of an object of segment segno holding at least a segment header: 0, or -1. */
int kura_rados_object_of(rados_backend *rb, uint32_t segno, char *letter);
/* Notes that segment segno has object letter but no directory key. */
void kura_rados_note_unnamed(rados_backend *rb, uint32_t segno, char letter);
/* The directory names segments list[0..n), ascending: 0, or -EUCLEAN (noted)
 * when a segment it does not name (in a gap, the next, or any when n is 0) has an object. */
int kura_rados_unnamed(rados_backend *rb, const uint32_t *list, size_t n);
/* No directory: 0 when no segment object is there either, -EUCLEAN (noted) when one is. */
int kura_rados_orphans(rados_backend *rb);
/* The backend's explain (archive/backend.h): a timeout, damage noted, fencing. */
void kura_rados_explain(kura_backend *be, kura_error *err);

/* One page of the directory's segment keys after *after (archive/backend_rados.c):
 * 0 or the negative errno. */
int kura_rados_dir_page(rados_backend *rb, char *after, uint32_t **list, size_t *n, size_t *cap, unsigned char *more);
/* The letter of the object the directory names for segment segno: 0, or -1 with errno. */
int kura_rados_dir_letter(rados_backend *rb, uint32_t segno, char *letter);

/* Fencing (archive/backend_rados_fence.c): each returns 0 or the negative errno
 * (ECANCELED, also noted in rb->fenced: a writer of a newer epoch took over). */
/* Raises the writer epoch on the directory, stamps the last two segments. */
int kura_rados_fence_take(rados_backend *rb);
/* Adds to op the check of the object's epoch: equal to ours (exact), or not newer. */
void kura_rados_guard(rados_backend *rb, rados_write_op_t op, int exact);
/* Runs op on oid and releases it. */
int kura_rados_operate(rados_backend *rb, rados_write_op_t op, const char *oid);
/* Puts our epoch on oid unless a newer one is there. */
int kura_rados_stamp(rados_backend *rb, const char *oid);
/* oid empty with our epoch (made if absent), unless a newer one is there. */
int kura_rados_empty(rados_backend *rb, const char *oid);
/* Removes oid unless a newer epoch is there. */
int kura_rados_remove(rados_backend *rb, const char *oid);
/* Says (append 0: as err's message; 1: added to it) that a writer of a newer
 * epoch took over and this one's writes were refused. KURA_EIO. */
int kura_rados_fenced_say(rados_backend *rb, kura_error *err, int append);
/* Tests only: 1 in the write KURA_RADOS_STOP_AT names, where the process stops. */
int kura_rados_test_stop_due(void);

/* The writer lock (archive/backend_rados_lock.c): the backend's lock, renew
 * and unlock, and renew() for a handle (write() renews when a third of the
 * lease has passed). */
int kura_rados_lock(kura_backend *be, int wait, kura_error *err);
int kura_rados_renew(kura_backend *be, kura_error *err);
void kura_rados_unlock(kura_backend *be);
int kura_rados_renew_due(rados_backend *rb, kura_error *err);

#endif
