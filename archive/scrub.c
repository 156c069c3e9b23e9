/* Scrub: re-read every committed byte of a store and prove it is what was written.
 *
 * Each record is checked completely (header CRC, body CRC, trailer); each blob is
 * decompressed and its SHA-256 recomputed. Then every object in the index must
 * point at a good object record and a good blob, or it is reported as damaged with
 * the place (segment, offset) and the reason. Damage that no object depends on
 * (an orphaned blob, say) is reported too, without an ID. A disposed object
 * (index key 'D') needs only its object record: its content is removed by
 * compaction. Past a record whose header is damaged, the walk goes on only at a
 * record start the index knows (RESYNC RULE, archive/segment.c). Only the
 * committed part of the last segment is read: bytes past it belong to a write
 * still in progress. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "archive/blob.h"
#include "archive/places.h"
#include "archive/state.h"
#include "archive/store_impl.h"
#include "common/hex.h"
#include "common/log.h"
#include "kura/clock.h"
#include "common/progress.h"

struct place {
	uint32_t segno;
	uint64_t offset;
};

struct damage {
	struct place at;
	char why[1024];
};

struct scrub {
	kura_blob_checker *checker;
	int blob_bad;
	char blob_why[1024];
	struct place *good; /* in scan order, which is sorted */
	size_t ngood, capgood;
	struct damage *bad;
	size_t nbad, capbad;
	int *bad_claimed;
	uint64_t done_before;
	kura_progress *progress;
	uint64_t records;
	kura_places *places; /* the record starts the index knows (RESYNC RULE) */
};

static int grow(void **arr, size_t *cap, size_t n, size_t elem, kura_error *err)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 1024;
	void *g = realloc(*arr, c * elem);
	if (!g)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	*arr = g;
	*cap = c;
	return 0;
}

static int add_bad(struct scrub *s, uint32_t segno, uint64_t offset, const char *why, kura_error *err)
{
	int rc = grow((void **)&s->bad, &s->capbad, s->nbad, sizeof *s->bad, err);
	if (rc != 0)
		return rc;
	struct damage *d = &s->bad[s->nbad++];
	d->at.segno = segno;
	d->at.offset = offset;
	snprintf(d->why, sizeof d->why, "%s", why);
	return 0;
}

static int on_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n,
		   kura_error *err)
{
	(void)err;
	struct scrub *s = ud;
	if (info->type != KURA_RECORD_BLOB)
		return 0;
	if (off == 0) {
		kura_blob_checker_reset(s->checker, info->body_len, NULL, NULL);
		s->blob_bad = 0;
	}
	kura_error why;
	if (!s->blob_bad && kura_blob_checker_feed(s->checker, off, p, n, &why) != 0) {
		s->blob_bad = 1;
		snprintf(s->blob_why, sizeof s->blob_why, "%s", why.message);
	}
	return 0;
}

static int on_record(void *ud, const kura_record_info *info, kura_error *err)
{
	struct scrub *s = ud;
	s->records++;
	if (info->type == KURA_RECORD_BLOB) {
		uint64_t size;
		unsigned char sha[32];
		kura_error why;
		if (info->body_len == 0)
			return add_bad(s, info->segno, info->offset, "empty blob record", err);
		if (s->blob_bad)
			return add_bad(s, info->segno, info->offset, s->blob_why, err);
		if (kura_blob_checker_done(s->checker, &size, sha, &why) != 0)
			return add_bad(s, info->segno, info->offset, why.message, err);
	}
	int rc = grow((void **)&s->good, &s->capgood, s->ngood, sizeof *s->good, err);
	if (rc == 0)
		s->good[s->ngood++] = (struct place){info->segno, info->offset};
	return rc;
}

static int on_damage(void *ud, uint32_t segno, uint64_t offset, uint64_t end, const char *why, int unfinished,
		     kura_error *err)
{
	(void)end;
	(void)unfinished; /* inside the committed part, even an unfinished write is damage */
	return add_bad(ud, segno, offset, why, err);
}

static int on_boundary(void *ud, uint32_t segno, uint64_t offset, uint64_t *next)
{
	struct scrub *s = ud;
	return kura_places_next(s->places, segno, offset, next);
}

static void on_progress(void *ud, uint64_t bytes)
{
	struct scrub *s = ud;
	kura_progress_update(s->progress, s->done_before + bytes, s->records);
}

static int cmp_place(const void *a, const void *b)
{
	const struct place *x = a, *y = b;
	if (x->segno != y->segno)
		return x->segno < y->segno ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int is_good(const struct scrub *s, uint32_t segno, uint64_t offset)
{
	struct place key = {segno, offset};
	return s->ngood > 0 && bsearch(&key, s->good, s->ngood, sizeof key, cmp_place) != NULL;
}

/* The damage report that explains a bad place: the last one at or before it. */
static const char *why_bad(struct scrub *s, uint32_t segno, uint64_t offset)
{
	const char *why = "record missing or unreadable";
	for (size_t i = 0; i < s->nbad; i++)
		if (s->bad[i].at.segno == segno && s->bad[i].at.offset <= offset) {
			why = s->bad[i].why;
			s->bad_claimed[i] = 1;
		}
	return why;
}

struct report {
	struct scrub *s;
	kura_store *st;
	kura_scrub_fn fn;
	void *ud;
	uint64_t damaged;
};

static int check_object(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)err;
	struct report *r = ud;
	const char *why = NULL;
	uint32_t segno = o->segno;
	uint64_t offset = o->offset;
	char by[KURA_ID_LEN + 1];
	int disposed = kura_index_get_disposed(kura_store_index(r->st), id, by, NULL) == 0;
	if (!is_good(r->s, o->segno, o->offset)) {
		why = why_bad(r->s, o->segno, o->offset);
	} else if (!disposed) { /* a disposed object's content is gone by design (archive/compact.c) */
		json_t *j = json_loadb(o->json, o->json_len, 0, NULL), *members = json_object_get(j, "members");
		/* the document, then every member of its group (signature, validation data) */
		for (size_t k = 0; !why && k <= json_array_size(members); k++) {
			json_t *what = k == 0 ? j : json_array_get(members, k - 1);
			const char *hex = json_string_value(json_object_get(what, "sha256"));
			unsigned char sha[32];
			kura_index_blob blob;
			if (!hex || kura_hex_decode(sha, 32, hex) != 0) {
				why = "object record has no valid sha256";
			} else if (kura_index_get_blob(kura_store_index(r->st), sha, &blob, NULL) != 0) {
				why = k ? "the content of a group member is missing from the store" : "its content is missing from the store";
			} else if (!is_good(r->s, blob.segno, blob.offset)) {
				segno = blob.segno;
				offset = blob.offset;
				why = why_bad(r->s, blob.segno, blob.offset);
			}
		}
		json_decref(j);
	}
	if (why) {
		r->damaged++;
		if (r->fn)
			r->fn(r->ud, id, segno, offset, why);
	}
	return 0;
}

/* Notes the scrub's outcome in the state file for `kura status` (archive/state.h);
 * a failure to note it is logged, the scrub's own result stands. */
static void note_scrub(kura_store *st, int rc, uint64_t damaged, const kura_error *err)
{
	int64_t now;
	json_t *f = json_object();
	if (!f || kura_clock_now(&now, NULL) != 0) {
		json_decref(f);
		return;
	}
	kura_time_put_json(f, "last", now);
	json_object_set_new(f, "result", json_string(rc != 0 ? "failed" : damaged ? "damaged" : "clean"));
	json_object_set_new(f, "damaged", json_integer((json_int_t)damaged));
	json_object_set_new(f, "message", rc != 0 && err ? json_string(err->message) : json_null());
	kura_error e = {0};
	if (kura_state_merge(kura_store_path(st), "scrub", NULL, f, &e) != 0)
		kura_log_message(KURA_LOG_WARNING, "the scrub's result was not noted for kura status: %s", e.message);
	json_decref(f);
}

int kura_store_scrub(kura_store *st, kura_scrub_fn fn, void *ud, uint64_t *damaged, kura_error *err)
{
	kura_backend *be = kura_store_backend(st);
	uint32_t *segs = NULL, last_seg;
	uint64_t last_end, total = 0;
	size_t nsegs = 0;
	struct scrub s = {0};
	struct report r = {&s, st, fn, ud, 0};
	int rc = kura_index_get_state(kura_store_index(st), &last_seg, &last_end, err);
	if (rc == 0)
		rc = kura_segment_list(&segs, &nsegs, be, err);
	if (rc == 0)
		rc = kura_blob_checker_new(&s.checker, err);
	if (rc == 0)
		rc = kura_places_new(&s.places, kura_store_index(st), err);
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < nsegs; i++) {
		uint64_t size;
		if (segs[i] <= last_seg && be->stat(be, segs[i], &size) == 0)
			total += segs[i] == last_seg ? last_end : size;
	}
	s.progress = kura_progress_new("scrub", total);
	static const kura_scan_ops ops = {on_body, on_record, on_damage, on_progress, on_boundary};
	for (size_t i = 0; i < nsegs && segs[i] <= last_seg; i++) {
		uint64_t end, size;
		if (be->stat(be, segs[i], &size) != 0 && (errno == ENOENT || errno == EUCLEAN))
			continue; /* listed but gone or misnamed (a RADOS object removed, its directory entry damaged,
				   * behind kura's back): as if not listed */
		rc = kura_segment_scan(be, segs[i], 0, segs[i] == last_seg ? last_end : 0, &ops, &s, &end, err);
		if (rc == KURA_EVERIFY) { /* the segment's own header is bad */
			rc = add_bad(&s, segs[i], 0, err ? err->message : "bad segment header", err);
		}
		if (rc != 0)
			goto out;
		if (be->stat(be, segs[i], &size) == 0)
			s.done_before += size;
	}
	if (!(s.bad_claimed = calloc(s.nbad + 1, sizeof *s.bad_claimed))) {
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = kura_index_each_object(kura_store_index(st), check_object, &r, err)) != 0)
		goto out;
	for (size_t i = 0; i < s.nbad; i++)
		if (!s.bad_claimed[i]) {
			r.damaged++;
			if (fn)
				fn(ud, NULL, s.bad[i].at.segno, s.bad[i].at.offset, s.bad[i].why);
		}
	*damaged = r.damaged;
out:
	note_scrub(st, rc, r.damaged, err);
	kura_progress_free(s.progress);
	kura_blob_checker_free(s.checker);
	kura_places_free(s.places);
	free(s.good);
	free(s.bad);
	free(s.bad_claimed);
	free(segs);
	return rc;
}
