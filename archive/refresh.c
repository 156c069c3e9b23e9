/* Refreshing a reader (kura reindex of a store made by kura attach).
 *
 * A reader (kura attach) refreshes its index from the writer's pool without
 * reading it all: it goes on from the state its index names (segment S, end E)
 * as recovery does, when it can show that what it indexed before is still there:
 * - the pool's generation (archive/backend.h) is the one it saw then: no
 *   segment was replaced (compaction) or removed since, so the full segments
 *   before S hold what they held; and
 * - the records of S up to E are the ones it read then: the same digest (each
 *   record's type, place, length and body: the mark 'R' in its index). The
 *   writer may have cut off records it had written but not committed (a commit
 *   that failed) and written others in their place; a reader that had read them
 *   gets another digest.
 * Otherwise, or when a full segment past E does not read whole, or the
 * generation changed while it read, it reads the pool whole (kura_store_reindex,
 * which marks anew). A record still being written at the end of the last
 * segment, and an adopted object whose evidence record has not followed yet,
 * are left for the next refresh. */
#include <stdio.h>
#include <string.h>

#include "archive/mark.h"
#include "archive/rebuild_impl.h"
#include "archive/store_impl.h"

static int check_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n,
		      kura_error *err)
{
	(void)err;
	kura_mark_body(&((struct applier *)ud)->mark, info, off, p, n);
	return 0;
}

static int check_record(void *ud, const kura_record_info *info, kura_error *err)
{
	(void)err;
	kura_mark_record(&((struct applier *)ud)->mark, info);
	return 0;
}

static const kura_scan_ops check_ops = {check_body, check_record, NULL, NULL, NULL};

#define WHOLE(...) (snprintf(why, whylen, __VA_ARGS__), 1)

/* 0: refreshed from the state; 1: the pool must be read whole (why says why). */
static int refresh_from_state(struct applier *a, kura_store *st, uint64_t *left, char *why, size_t whylen,
			      kura_error *err)
{
	kura_backend *be = kura_store_backend(st);
	uint32_t seg, *segs = NULL, last;
	uint64_t end, gen, now, valid = 0, size = 0, last_end, last_size = 0;
	unsigned char mark[32], seen[32];
	size_t nsegs = 0;
	int rc = kura_index_get_state(a->ix, &seg, &end, err);
	if (rc == 0 && kura_index_get_refresh_mark(a->ix, &gen, mark, NULL) != 0)
		return WHOLE("its index has no refresh mark (it was never refreshed by this kura)");
	if (rc == 0 && (rc = kura_mark_generation(be, &now, err)) == 0 && now != gen)
		return WHOLE("the writer compacted or removed segments since the last refresh");
	if (rc != 0 || (rc = kura_segment_list(&segs, &nsegs, be, err)) != 0 || (rc = kura_mark_begin(&a->mark, seg, err)) != 0)
		goto out;
	rc = kura_segment_scan(be, seg, 0, end, &check_ops, a, &valid, err);
	kura_mark_abandon(&a->mark);
	kura_mark_digest(&a->mark, 0, seen);
	if (rc == KURA_EVERIFY || (rc == 0 && (valid != end || memcmp(seen, mark, 32) != 0))) {
		rc = WHOLE("segment %08u is not what it was up to offset %llu (the writer cut off records it had not "
			   "committed, or it is damaged)", seg, (unsigned long long)end);
		goto out;
	}
	last = seg;
	last_end = end;
	for (size_t i = 0; i < nsegs && rc == 0; i++) {
		uint32_t s = segs[i];
		if (s < seg)
			continue;
		if (kura_rebuild_segment_size(be, s, &size) != 0)
			size = 0;
		if (s > seg && i + 1 == nsegs && size < KURA_SEGMENT_FILE_HEADER)
			break; /* the writer is starting it: next time */
		if (s > seg && (rc = kura_mark_begin(&a->mark, s, err)) != 0)
			break;
		rc = kura_segment_scan(be, s, s == seg ? end : 0, 0, &kura_rebuild_recover_ops, a, &valid, err);
		kura_mark_abandon(&a->mark); /* a record still being written */
		if (rc == KURA_EVERIFY || (rc == 0 && i + 1 < nsegs && valid != size)) {
			rc = WHOLE("segment %08u does not read whole", s);
			break;
		}
		if (rc == 0 && s != last)
			kura_index_batch_put_sealed_size(a->b, last, last_end);
		last = s;
		last_end = valid;
		last_size = size;
	}
	if (rc == 0 && (rc = kura_mark_generation(be, &gen, err)) == 0 && gen != now)
		rc = WHOLE("the writer compacted segments while this refresh read");
	if (rc == 0) {
		kura_rebuild_put_mark(a, now, &last_end);
		*left = last_size > last_end ? last_size - last_end : 0;
		kura_index_batch_put_state(a->b, last, last_end);
		rc = kura_index_write(a->ix, a->b, 1, err);
	}
out:
	free(segs);
	return rc;
}

int kura_store_refresh(const char *path, int whole, kura_refresh_result *res, kura_error *err)
{
	kura_store *st = NULL;
	memset(res, 0, sizeof *res);
	int rc = kura_store_open_locked(&st, path, err);
	if (rc != 0)
		return rc;
	if (!kura_store_is_reader(st) || whole) {
		snprintf(res->why, sizeof res->why, "%s", whole ? "--whole was given" : ""); /* a writer: no reason needed */
	} else {
		char live[4096];
		kura_fields fs = {0};
		struct applier a = {.fs = &fs, .reader = 1};
		snprintf(live, sizeof live, "%s/index", path);
		if ((rc = kura_index_open(&a.ix, live, 0, err)) == 0 && (rc = kura_fields_load_index(&fs, a.ix, err)) == 0 &&
		    (rc = kura_index_batch_new(&a.b, err)) == 0)
			rc = refresh_from_state(&a, st, &res->left, res->why, sizeof res->why, err);
		if (rc == 0) /* fields the writer defined since */
			rc = kura_fields_build(a.ix, NULL, err);
		res->objects = a.objects;
		kura_index_close(a.ix);
		kura_fields_clear(&fs);
		kura_rebuild_applier_free(&a);
		if (rc != 1) {
			kura_store_close(st);
			return rc;
		}
		res->objects = 0;
	}
	kura_store_close(st);
	res->whole = 1;
	return kura_store_reindex(path, &res->objects, &res->damaged, err);
}
