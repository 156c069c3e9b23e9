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
#include <time.h>

#include "archive/backend.h"

#define DIR_OID "kura.segments"

typedef struct rados_backend {
	kura_backend be;
	rados_t cluster;
	rados_ioctx_t io;
	char where[512]; /* rados:POOL/NAMESPACE, for messages */
	char rados_args[512]; /* "-p POOL [-N NAMESPACE]": the rados command's, for messages */
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
} rados_backend;

static inline rados_backend *rb_of(kura_backend *be) { return (rados_backend *)be; }

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
	X(rados_aio_write) \
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
	X(rados_setxattr) \
	X(rados_shutdown) \
	X(rados_stat) \
	X(rados_trunc) \
	X(rados_unlock) \
	X(rados_write_full) \
	X(rados_write_op_omap_rm_keys2) \
	X(rados_write_op_omap_set2) \
	X(rados_write_op_operate)


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
/* The backend's explain (archive/backend.h): a timeout, damage noted. */
void kura_rados_explain(kura_backend *be, kura_error *err);

#endif
