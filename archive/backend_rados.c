/* The RADOS backend (archive/backend.h): a store's segments are objects of a
 * Ceph pool (in a namespace of it), written and read through librados. With its
 * header and archive/backend_rados_health.c (loading librados, timeouts, damage
 * found in the directory) it is the only code of kura that includes librados,
 * which is loaded only when a RADOS store is opened.
 *
 * Objects, in the pool's namespace:
 * - kura.segments: the directory. Its omap maps "NNNNNNNN" (the segment number,
 *   eight digits) to the letter of the object holding the segment now, "a" or
 *   "b", and "NNNNNNNN.staged" to the letter of a replacement being made. Its
 *   lock "kura.writer" is the store's writer lock.
 * - kura.seg.NNNNNNNN.a and kura.seg.NNNNNNNN.b: a segment's bytes. With a data
 *   pool (config.json "data_pool"; it may be erasure-coded, with overwrites
 *   allowed) these are in it, in the same namespace, and only kura.segments is
 *   in the pool: kura_rados_io() picks the pool of an object.
 * - The directory's xattr "kura.generation": a decimal count, raised before a
 *   segment is replaced or removed (absent: 0), which readers compare
 *   (archive/rebuild.c). Only the writer raises it, under the writer lock.
 *
 * INVARIANTS
 * - Segment segno exists when the directory names it, and is the object the
 *   directory names. create() writes the object before it names it, remove()
 *   unnames it before it deletes it: a crash leaves at most an unnamed object
 *   (never read; the next create or stage of that number empties and reuses it).
 * - RADOS has no rename. A replacement is written as the other letter's object
 *   and named in "NNNNNNNN.staged"; replace() names it as the segment and drops
 *   the ".staged" key in one write operation on the directory, which RADOS
 *   applies whole or not at all; only then is the old object deleted. So after a
 *   crash segno is wholly the old object or wholly the replacement.
 * - A write is sent asynchronously (librados copies its bytes); sync() waits
 *   until every write sent on that segment is complete, which for RADOS means
 *   applied on every replica the pool keeps (size, at least min_size up). Reads,
 *   size and truncate of a segment wait for its writes first.
 * - A write of at most HOLD_MAX bytes (a record header's patch) is held and
 *   sent in one write operation with the next write, which RADOS applies whole
 *   and in order: a large document is one operation, not two. Whatever is held
 *   is sent before sync(), a read, size, truncate or close waits.
 * - The writer lock: archive/backend_rados_lock.c.
 * - No operation waits for ever: librados's operation and mount timeouts are the
 *   store's op_timeout_seconds (config.json; KURA_RADOS_DEFAULT_OP_TIMEOUT), so
 *   while an OSD holding the pool's data is down a write, a sync or a renewal
 *   fails with ETIMEDOUT after that long; if the OSD is back before, it
 *   completes. After a timeout every operation fails at once for op_timeout
 *   seconds (kura_rados_down()), so a command gives up after one timeout, not one per
 *   operation its clean-up makes, and does not unlock (its lease runs out).
 *   explain() adds to the failure's message what is wrong and what to do.
 * - Fencing (archive/backend_rados_fence.c): taking the lock raises the writer
 *   epoch (xattr kura.epoch of kura.segments) and stamps it on the last two
 *   segments before anything reads them; every write operation of the writer
 *   (segment writes, truncates, makes, removes, directory changes) carries the
 *   check of the object's epoch, so a write a writer had sent before its lease ran
 *   out, reaching the OSD after another writer took over, changes nothing: it
 *   fails with ECANCELED, and that writer acknowledges nothing more.
 */
#include <errno.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <rados/librados.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive/backend_rados.h"

#define lib kura_rados_lib

#define DEFAULT_MAX_OBJECT (128ull << 20) /* osd_max_object_size's default */
#define CHUNK (4u << 20)                  /* bytes per RADOS read or write operation */
#define MAX_PENDING 32                    /* writes in flight per segment */

#define HOLD_MAX 4096 /* a write this small waits to go with the next one */
#define HOLD_PIECES 4

typedef struct rados_seg {
	kura_seg s;
	char oid[48];
	rados_completion_t pending[MAX_PENDING];
	size_t npending;
	int failed; /* the errno of a write that failed since the last sync; 0: none */
	/* small writes held back (a record header's patch): sent in one write
	 * operation with the next write, or before a sync, read, size, truncate, close */
	struct {
		uint64_t off;
		size_t len;
	} held[HOLD_PIECES];
	size_t nheld, held_bytes;
	unsigned char hold[HOLD_MAX];
} rados_seg;

/* -1 with errno set from librados's negative errno; remembers a timeout. */
static int fail(rados_backend *rb, int negerr)
{
	if (negerr == -ETIMEDOUT)
		kura_rados_timed_out(rb);
	if (negerr == -ECANCELED) /* an epoch check failed: fenced */
		atomic_store(&rb->fenced, 1);
	errno = -negerr;
	return -1;
}

/* ---------------------------------------------------------------- the directory */

/* The letter the directory has for key "NNNNNNNN" + suffix: 0, or -1 (ENOENT:
 * none; EUCLEAN: a value that is not a letter, noted). */
static int dir_get(rados_backend *rb, uint32_t segno, const char *suffix, char *letter)
{
	if (kura_rados_down(rb))
		return -1;
	char key[32];
	snprintf(key, sizeof key, "%08u%s", segno, suffix);
	const char *keys[] = {key};
	size_t lens[] = {strlen(key)};
	rados_omap_iter_t it = NULL;
	int prval = 0, rc;
	rados_read_op_t op = lib.rados_create_read_op();
	lib.rados_read_op_omap_get_vals_by_keys2(op, keys, 1, lens, &it, &prval);
	rc = lib.rados_read_op_operate(op, rb->io, DIR_OID, 0);
	lib.rados_release_read_op(op);
	if (rc == 0 && prval != 0)
		rc = prval;
	char *k = NULL, *v = NULL;
	size_t klen = 0, vlen = 0;
	if (rc == 0 && (rc = lib.rados_omap_get_next2(it, &k, &v, &klen, &vlen)) == 0 && !k)
		rc = -ENOENT; /* no such key */
	if (rc == 0 && (vlen != 1 || (v[0] != 'a' && v[0] != 'b'))) {
		kura_rados_note(rb, "the directory kura.segments of %s names key %s with %zu byte(s) that are not the letter a or "
			 "b: it was changed behind kura's back. Name the object that holds the segment again: `rados %s "
			 "setomapval kura.segments %s a` (or b: the one of kura.seg.%s.a and .b that `rados %s stat` shows "
			 "larger), then run the command again",
		     rb->where, key, vlen, rb->rados_args, key, key, rb->data_args);
		rc = -EUCLEAN;
	}
	if (rc == 0)
		*letter = v[0];
	if (it)
		lib.rados_omap_get_end(it);
	return rc == 0 ? 0 : fail(rb, rc);
}

int kura_rados_dir_letter(rados_backend *rb, uint32_t segno, char *letter) { return dir_get(rb, segno, "", letter); }

/* Sets "NNNNNNNN" + set_suffix to letter (unless set_suffix is NULL) and removes
 * "NNNNNNNN" + rm_suffix (unless NULL), in one operation. */
static int dir_update(rados_backend *rb, uint32_t segno, const char *set_suffix, char letter, const char *rm_suffix)
{
	char skey[32], rkey[32];
	if (kura_rados_down(rb))
		return -1;
	rados_write_op_t op = lib.rados_create_write_op();
	kura_rados_guard(rb, op, 1);
	if (set_suffix) {
		snprintf(skey, sizeof skey, "%08u%s", segno, set_suffix);
		const char *keys[] = {skey}, *vals[] = {&letter};
		size_t klens[] = {strlen(skey)}, vlens[] = {1};
		lib.rados_write_op_omap_set2(op, keys, vals, klens, vlens, 1);
	}
	if (rm_suffix) {
		snprintf(rkey, sizeof rkey, "%08u%s", segno, rm_suffix);
		const char *keys[] = {rkey};
		size_t klens[] = {strlen(rkey)};
		lib.rados_write_op_omap_rm_keys2(op, keys, klens, 1);
	}
	int rc = lib.rados_write_op_operate(op, rb->io, DIR_OID, NULL, 0);
	lib.rados_release_write_op(op);
	return rc == 0 ? 0 : fail(rb, rc);
}

static int is_segment_key(const char *k, size_t len)
{
	if (len != 8)
		return 0;
	for (size_t i = 0; i < 8; i++)
		if (k[i] < '0' || k[i] > '9')
			return 0;
	return 1;
}

/* Adds the segment keys of one page of the directory after *after to the list. */
int kura_rados_dir_page(rados_backend *rb, char *after, uint32_t **list, size_t *n, size_t *cap, unsigned char *more)
{
	rados_omap_iter_t it = NULL;
	int prval = 0;
	if (kura_rados_down(rb))
		return -ETIMEDOUT;
	rados_read_op_t op = lib.rados_create_read_op();
	lib.rados_read_op_omap_get_vals2(op, after, "", 1000, &it, more, &prval);
	int rc = lib.rados_read_op_operate(op, rb->io, DIR_OID, 0);
	lib.rados_release_read_op(op);
	if (rc == 0 && prval != 0)
		rc = prval;
	char *k, *v;
	size_t klen, vlen;
	while (rc == 0 && lib.rados_omap_get_next2(it, &k, &v, &klen, &vlen) == 0 && k) {
		if (klen < 32)
			snprintf(after, 32, "%.*s", (int)klen, k);
		if (!is_segment_key(k, klen))
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			uint32_t *grown = realloc(*list, *cap * sizeof **list);
			if (!grown) {
				rc = -ENOMEM;
				break;
			}
			*list = grown;
		}
		(*list)[(*n)++] = (uint32_t)strtoul(k, NULL, 10);
	}
	if (it)
		lib.rados_omap_get_end(it);
	return rc;
}

static int rb_list(kura_backend *be, uint32_t **out, size_t *count)
{
	uint32_t *list = NULL;
	size_t n = 0, cap = 0;
	char after[32] = "";
	unsigned char more = 1;
	int rc = 0;
	while (rc == 0 && more)
		rc = kura_rados_dir_page(rb_of(be), after, &list, &n, &cap, &more);
	if (rc == -ENOENT) /* no directory yet: no segments, unless it was removed */
		rc = kura_rados_orphans(rb_of(be));
	else if (rc == 0)
		rc = kura_rados_unnamed(rb_of(be), list, n);
	if (rc != 0) {
		free(list);
		return fail(rb_of(be), rc);
	}
	*out = list; /* omap keys come sorted, and the numbers are zero-padded */
	*count = n;
	return 0;
}

/* ---------------------------------------------------------------- segments */

static void rb_name(kura_backend *be, uint32_t segno, char *buf, size_t n)
{
	if (segno == 0)
		snprintf(buf, n, "%s", rb_of(be)->where);
	else
		snprintf(buf, n, "%s/kura.seg.%08u", rb_of(be)->data_where, segno);
}

static int rb_stat(kura_backend *be, uint32_t segno, uint64_t *size)
{
	char letter, oid[48];
	time_t mtime;
	if (dir_get(rb_of(be), segno, "", &letter) != 0)
		return -1;
	seg_oid(oid, sizeof oid, segno, letter);
	int rc = lib.rados_stat(rb_of(be)->data, oid, size, &mtime);
	return rc == 0 ? 0 : fail(rb_of(be), rc);
}

static int seg_new(kura_backend *be, kura_seg **out, uint32_t segno, char letter)
{
	rados_seg *rs = calloc(1, sizeof *rs);
	if (!rs) {
		errno = ENOMEM;
		return -1;
	}
	rs->s.be = be;
	rs->s.segno = segno;
	seg_oid(rs->oid, sizeof rs->oid, segno, letter);
	*out = &rs->s;
	return 0;
}

/* An empty object of that letter, in place of whatever it held. */
static int make_empty(rados_backend *rb, uint32_t segno, char letter)
{
	char oid[48];
	seg_oid(oid, sizeof oid, segno, letter);
	if (kura_rados_down(rb))
		return -1;
	int rc = kura_rados_empty(rb, oid);
	return rc == 0 ? 0 : fail(rb, rc);
}

static int rb_create(kura_backend *be, kura_seg **out, uint32_t segno)
{
	rados_backend *rb = rb_of(be);
	char letter;
	int named = dir_get(rb, segno, "", &letter) == 0;
	if (!named && errno != ENOENT)
		return -1;
	if (!named)
		letter = 'a';
	if (make_empty(rb, segno, letter) != 0 || (!named && dir_update(rb, segno, "", letter, NULL) != 0))
		return -1;
	return seg_new(be, out, segno, letter);
}

static int rb_open(kura_backend *be, kura_seg **out, uint32_t segno, int writable)
{
	char letter, oid[48];
	uint64_t size;
	time_t mtime;
	if (dir_get(rb_of(be), segno, "", &letter) != 0) {
		if (errno == ENOENT && kura_rados_object_of(rb_of(be), segno, &letter) == 0) {
			kura_rados_note_unnamed(rb_of(be), segno, letter);
			errno = EUCLEAN;
		}
		return -1;
	}
	seg_oid(oid, sizeof oid, segno, letter);
	int rc = lib.rados_stat(rb_of(be)->data, oid, &size, &mtime); /* named but gone: missing too */
	if (rc == 0 && writable)
		rc = kura_rados_stamp(rb_of(be), oid);
	return rc == 0 ? seg_new(be, out, segno, letter) : fail(rb_of(be), rc);
}

static void remove_object(rados_backend *rb, uint32_t segno, char letter)
{
	char oid[48];
	seg_oid(oid, sizeof oid, segno, letter);
	if (!kura_rados_down(rb))
		kura_rados_remove(rb, oid); /* if this fails, the object is unnamed: never read, reused later */
}

#define GENERATION_XATTR "kura.generation"

static int rb_generation(kura_backend *be, uint64_t *gen)
{
	rados_backend *rb = rb_of(be);
	char buf[32];
	if (kura_rados_down(rb))
		return fail(rb, -ETIMEDOUT);
	int n = lib.rados_getxattr(rb->io, DIR_OID, GENERATION_XATTR, buf, sizeof buf - 1);
	if (n == -ENODATA) {
		*gen = 0;
		return 0;
	}
	if (n < 0)
		return fail(rb, n);
	buf[n] = 0;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(buf, &end, 10);
	if (n == 0 || *end || errno) {
		errno = EUCLEAN;
		return -1;
	}
	*gen = v;
	return 0;
}

/* Raised before a segment's bytes change place (replace, remove). */
static int raise_generation(rados_backend *rb)
{
	uint64_t gen;
	char buf[32];
	if (rb_generation(&rb->be, &gen) != 0)
		return -1;
	int n = snprintf(buf, sizeof buf, "%llu", (unsigned long long)gen + 1);
	rados_write_op_t op = lib.rados_create_write_op();
	kura_rados_guard(rb, op, 1);
	lib.rados_write_op_setxattr(op, GENERATION_XATTR, buf, (size_t)n);
	int rc = kura_rados_operate(rb, op, DIR_OID);
	return rc == 0 ? 0 : fail(rb, rc);
}

static int rb_remove(kura_backend *be, uint32_t segno)
{
	rados_backend *rb = rb_of(be);
	char letter;
	if (dir_get(rb, segno, "", &letter) != 0 || raise_generation(rb) != 0 || dir_update(rb, segno, NULL, 0, "") != 0)
		return -1;
	remove_object(rb, segno, letter);
	return 0;
}

static char other(char letter) { return letter == 'a' ? 'b' : 'a'; }

static int rb_stage(kura_backend *be, kura_seg **out, uint32_t segno)
{
	rados_backend *rb = rb_of(be);
	char live;
	if (dir_get(rb, segno, "", &live) != 0) {
		if (errno != ENOENT)
			return -1;
		live = 'a';
	}
	char letter = other(live);
	if (make_empty(rb, segno, letter) != 0 || dir_update(rb, segno, ".staged", letter, NULL) != 0)
		return -1;
	return seg_new(be, out, segno, letter);
}

static int rb_replace(kura_backend *be, uint32_t segno)
{
	rados_backend *rb = rb_of(be);
	char staged, live;
	if (dir_get(rb, segno, ".staged", &staged) != 0)
		return -1;
	int had = dir_get(rb, segno, "", &live) == 0;
	if (!had && errno != ENOENT)
		return -1;
	if (raise_generation(rb) != 0 || dir_update(rb, segno, "", staged, ".staged") != 0) /* the one step */
		return -1;
	if (had && live != staged)
		remove_object(rb, segno, live);
	return 0;
}

static int rb_staged(kura_backend *be, uint32_t segno)
{
	char letter;
	return dir_get(rb_of(be), segno, ".staged", &letter);
}

static int rb_discard(kura_backend *be, uint32_t segno)
{
	rados_backend *rb = rb_of(be);
	char letter;
	if (dir_get(rb, segno, ".staged", &letter) != 0)
		return errno == ENOENT ? 0 : -1;
	if (dir_update(rb, segno, NULL, 0, ".staged") != 0)
		return -1;
	remove_object(rb, segno, letter);
	return 0;
}

/* ---------------------------------------------------------------- an open segment */

/* Waits for the oldest write in flight; remembers its failure. */
static void wait_oldest(rados_seg *rs)
{
	rados_completion_t c = rs->pending[0];
	lib.rados_aio_wait_for_complete(c);
	int rc = lib.rados_aio_get_return_value(c);
	lib.rados_aio_release(c);
	if (rc == -ETIMEDOUT)
		kura_rados_timed_out(rb_of(rs->s.be));
	if (rc == -ECANCELED)
		atomic_store(&rb_of(rs->s.be)->fenced, 1);
	if (rc < 0 && !rs->failed)
		rs->failed = -rc;
	memmove(rs->pending, rs->pending + 1, --rs->npending * sizeof *rs->pending);
}

/* Sends the held writes, then n bytes at off (none when n is 0), as one write
 * operation with the epoch check: RADOS applies it whole and in order. 0 or the
 * negative errno. */
static int send_write(rados_seg *rs, uint64_t off, const char *p, size_t n)
{
	rados_backend *rb = rb_of(rs->s.be);
	rados_completion_t c;
	if (rs->npending == MAX_PENDING)
		wait_oldest(rs);
	int rc = lib.rados_aio_create_completion2(NULL, NULL, &c);
	if (rc != 0)
		return rc;
	rados_write_op_t op = lib.rados_create_write_op();
	kura_rados_guard(rb, op, 1);
	size_t at = 0;
	for (size_t i = 0; i < rs->nheld; at += rs->held[i++].len)
		lib.rados_write_op_write(op, (const char *)rs->hold + at, rs->held[i].len, rs->held[i].off); /* copied */
	if (n > 0)
		lib.rados_write_op_write(op, p, n, off);
	rc = lib.rados_aio_write_op_operate(op, rb->data, c, rs->oid, NULL, 0);
	lib.rados_release_write_op(op);
	rs->nheld = rs->held_bytes = 0;
	if (rc != 0) {
		lib.rados_aio_release(c);
		return rc;
	}
	rs->pending[rs->npending++] = c;
	return 0;
}

/* Sends what is held, then waits for every write in flight: 0, or -1 with the
 * errno of one that failed. */
static int drain(rados_seg *rs)
{
	int rc = rs->nheld ? send_write(rs, 0, NULL, 0) : 0;
	if (rc != 0 && !rs->failed)
		rs->failed = -rc;
	while (rs->npending > 0)
		wait_oldest(rs);
	if (rs->failed) {
		errno = rs->failed;
		rs->failed = 0;
		return -1;
	}
	return 0;
}


static int rb_write(kura_seg *s, uint64_t off, const void *p, size_t n)
{
	rados_seg *rs = (rados_seg *)s;
	rados_backend *rb = rb_of(s->be);
	if (kura_rados_renew_due(rb, NULL) != 0) {
		errno = ENOLCK;
		return -1;
	}
	if (kura_rados_down(rb))
		return -1;
	if (kura_rados_test_stop_due()) {
		while (rs->npending > 0)
			wait_oldest(rs);
		raise(SIGSTOP);
	}
	const char *b = p;
	if (rs->nheld < HOLD_PIECES && n <= HOLD_MAX - rs->held_bytes) {
		memcpy(rs->hold + rs->held_bytes, p, n);
		rs->held[rs->nheld].off = off;
		rs->held[rs->nheld++].len = n;
		rs->held_bytes += n;
		return 0;
	}
	while (n > 0) {
		size_t len = n < CHUNK ? n : CHUNK;
		int rc = send_write(rs, off, b, len);
		if (rc != 0) {
			drain(rs);
			return fail(rb, rc);
		}
		b += len;
		off += len;
		n -= len;
	}
	return 0;
}

static int rb_sync(kura_seg *s) { return drain((rados_seg *)s); }

static int rb_read(kura_seg *s, uint64_t off, void *buf, size_t n, size_t *got)
{
	rados_seg *rs = (rados_seg *)s;
	if (drain(rs) != 0)
		return -1;
	if (kura_rados_down(rb_of(s->be)))
		return -1;
	*got = 0;
	while (*got < n) {
		size_t len = n - *got < CHUNK ? n - *got : CHUNK;
		int rc = lib.rados_read(rb_of(s->be)->data, rs->oid, (char *)buf + *got, len, off + *got);
		if (rc < 0)
			return fail(rb_of(s->be), rc);
		*got += (size_t)rc;
		if ((size_t)rc < len)
			break; /* the object ends here */
	}
	return 0;
}

static int rb_size(kura_seg *s, uint64_t *size)
{
	rados_seg *rs = (rados_seg *)s;
	time_t mtime;
	if (drain(rs) != 0 || kura_rados_down(rb_of(s->be)))
		return -1;
	int rc = lib.rados_stat(rb_of(s->be)->data, rs->oid, size, &mtime);
	return rc == 0 ? 0 : fail(rb_of(s->be), rc);
}

static int rb_truncate(kura_seg *s, uint64_t size)
{
	rados_seg *rs = (rados_seg *)s;
	if (drain(rs) != 0 || kura_rados_down(rb_of(s->be)))
		return -1;
	rados_write_op_t op = lib.rados_create_write_op();
	kura_rados_guard(rb_of(s->be), op, 1);
	lib.rados_write_op_truncate(op, size);
	int rc = kura_rados_operate(rb_of(s->be), op, rs->oid);
	return rc == 0 ? 0 : fail(rb_of(s->be), rc);
}

static void rb_close(kura_seg *s)
{
	if (!s)
		return;
	drain((rados_seg *)s); /* what was not synced is not acknowledged: its fate does not matter */
	free(s);
}

static void rb_free(kura_backend *be)
{
	rados_backend *rb = rb_of(be);
	if (rb->io) {
		kura_rados_unlock(be);
		lib.rados_ioctx_destroy(rb->io);
	}
	if (rb->data && rb->data != rb->io)
		lib.rados_ioctx_destroy(rb->data);
	if (rb->cluster)
		lib.rados_shutdown(rb->cluster);
	pthread_mutex_destroy(&rb->mu);
	pthread_mutex_destroy(&rb->note_mu);
	free(rb);
}

/* ---------------------------------------------------------------- open */

/* The largest object the cluster takes (osd_max_object_size), or its default. */
static uint64_t max_object(rados_t cluster)
{
	char buf[64];
	if (lib.rados_conf_get(cluster, "osd_max_object_size", buf, sizeof buf) != 0)
		return DEFAULT_MAX_OBJECT;
	unsigned long long v = strtoull(buf, NULL, 10);
	return v >= (1u << 20) ? v : DEFAULT_MAX_OBJECT;
}

/* The data pool given apart from the pool, or NULL. */
static const char *data_pool(const kura_rados_options *o)
{
	return o->data_pool && *o->data_pool && strcmp(o->data_pool, o->pool) != 0 ? o->data_pool : NULL;
}

/* Opens pool in the store's namespace as *io: 0, or the kura error. */
static int open_pool(rados_backend *rb, const kura_rados_options *o, const char *pool, rados_ioctx_t *io,
		     kura_error *err)
{
	int rc = lib.rados_ioctx_create(rb->cluster, pool, io);
	if (rc != 0) {
		*io = NULL;
		errno = -rc;
		if (rc == -ENOENT)
			return kura_error_set(err, KURA_EINPUT, "the Ceph cluster of %s has no pool '%s' (an administrator "
							       "makes it: ceph osd pool create %s)",
					      o->ceph_conf, pool, pool);
		return kura_error_sys(err, KURA_EIO, "opening pool '%s' of the Ceph cluster of %s", pool, o->ceph_conf);
	}
	lib.rados_ioctx_set_namespace(*io, o->ns && *o->ns ? o->ns : NULL);
	return 0;
}

/* The pools take what kura does: the directory's pool is replicated (an
 * erasure-coded pool, whose objects have a stripe width, has no omap), and the
 * segments' pool, if erasure-coded, takes overwrites (a record header patched,
 * a torn tail cut off; librados says "requires alignment" when it does not). */
static int check_pools(rados_backend *rb, const kura_rados_options *o, kura_error *err)
{
	uint64_t stripe = 0;
	int aligned = 0;
	if (lib.rados_ioctx_pool_required_alignment2(rb->io, &stripe) == 0 && stripe > 0)
		return kura_error_set(err, KURA_EINPUT, "pool '%s' of the Ceph cluster of %s is erasure-coded, and kura "
						       "keeps its directory of segments in omap, which erasure-coded pools "
						       "do not have: give a replicated pool as --pool and '%s' as "
						       "--data-pool (docs/CEPH.md)",
				      o->pool, o->ceph_conf, o->pool);
	if (lib.rados_ioctx_pool_requires_alignment2(rb->data, &aligned) == 0 && aligned)
		return kura_error_set(err, KURA_EINPUT, "the data pool '%s' of the Ceph cluster of %s is erasure-coded "
						       "without overwrites, and kura overwrites parts of its segments (a "
						       "record's header, a torn tail cut off): an administrator allows them "
						       "with `ceph osd pool set %s allow_ec_overwrites true` (BlueStore OSDs "
						       "only: docs/CEPH.md), then run the command again",
				      o->data_pool, o->ceph_conf, o->data_pool);
	return 0;
}

static int connect_cluster(rados_backend *rb, const kura_rados_options *o, kura_error *err)
{
	const char *user = o->user && *o->user ? o->user : "admin";
	int rc = lib.rados_create(&rb->cluster, user);
	if (rc != 0) {
		rb->cluster = NULL;
		errno = -rc;
		return kura_error_sys(err, KURA_EIO, "starting librados");
	}
	lib.rados_conf_set(rb->cluster, "log_to_stderr", "false");
	if ((rc = lib.rados_conf_read_file(rb->cluster, o->ceph_conf)) != 0) {
		errno = -rc;
		return kura_error_sys(err, KURA_EIO, "reading the Ceph configuration %s", o->ceph_conf);
	}
	/* Fail rather than hang when the cluster cannot be reached or an OSD is down
	 * (librados waits for ever by default): the store's op_timeout_seconds, over
	 * whatever ceph.conf says. */
	char secs[16];
	snprintf(secs, sizeof secs, "%d", rb->op_timeout);
	lib.rados_conf_set(rb->cluster, "client_mount_timeout", secs);
	lib.rados_conf_set(rb->cluster, "rados_osd_op_timeout", secs);
	lib.rados_conf_set(rb->cluster, "rados_mon_op_timeout", secs);
	if ((rc = lib.rados_connect(rb->cluster)) != 0) {
		errno = -rc;
		return kura_error_sys(err, KURA_EIO, "connecting to the Ceph cluster of %s as client.%s (is it running, "
					       "and is the key of client.%s in the keyring ceph.conf names?)",
				      o->ceph_conf, user, user);
	}
	if ((rc = open_pool(rb, o, o->pool, &rb->io, err)) != 0)
		return rc;
	if (!data_pool(o))
		rb->data = rb->io;
	else if ((rc = open_pool(rb, o, o->data_pool, &rb->data, err)) != 0)
		return rc;
	return check_pools(rb, o, err);
}

int kura_backend_rados_open(kura_backend **out, const kura_rados_options *o, kura_error *err)
{
	int rc = kura_rados_ready(err);
	if (rc != 0)
		return rc;
	rados_backend *rb = calloc(1, sizeof *rb);
	if (!rb)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	pthread_mutex_init(&rb->mu, NULL);
	pthread_mutex_init(&rb->note_mu, NULL);
	snprintf(rb->where, sizeof rb->where, "rados:%s/%s", o->pool, o->ns && *o->ns ? o->ns : "");
	snprintf(rb->data_where, sizeof rb->data_where, "rados:%s/%s", data_pool(o) ? data_pool(o) : o->pool,
		 o->ns && *o->ns ? o->ns : "");
	snprintf(rb->rados_args, sizeof rb->rados_args, "-p %s%s%s", o->pool, o->ns && *o->ns ? " -N " : "",
		 o->ns && *o->ns ? o->ns : "");
	snprintf(rb->data_args, sizeof rb->data_args, "-p %s%s%s", data_pool(o) ? data_pool(o) : o->pool,
		 o->ns && *o->ns ? " -N " : "", o->ns && *o->ns ? o->ns : "");
	char host[256] = "?";
	gethostname(host, sizeof host - 1);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	snprintf(rb->cookie, sizeof rb->cookie, "kura on host %s, pid %ld, %lx", host, (long)getpid(),
		 (unsigned long)now.tv_nsec);
	rb->lease = o->lease_seconds > 0 ? o->lease_seconds : KURA_RADOS_DEFAULT_LEASE;
	rb->op_timeout = o->op_timeout_seconds > 0 ? o->op_timeout_seconds : KURA_RADOS_DEFAULT_OP_TIMEOUT;
	rb->be = (kura_backend){
		.name = rb_name,
		.list = rb_list,
		.stat = rb_stat,
		.create = rb_create,
		.open = rb_open,
		.remove = rb_remove,
		.stage = rb_stage,
		.replace = rb_replace,
		.staged = rb_staged,
		.discard = rb_discard,
		.read = rb_read,
		.write = rb_write,
		.writeback = NULL,
		.sync = rb_sync,
		.size = rb_size,
		.truncate = rb_truncate,
		.close = rb_close,
		.explain = kura_rados_explain,
		.lock = kura_rados_lock,
		.renew = kura_rados_renew,
		.unlock = kura_rados_unlock,
		.free = rb_free,
		.generation = rb_generation,
	};
	rc = connect_cluster(rb, o, err);
	if (rc != 0) {
		rb_free(&rb->be);
		return rc;
	}
	rb->be.max_segment_size = max_object(rb->cluster);
	*out = &rb->be;
	return 0;
}
