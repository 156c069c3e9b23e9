/* Index entries from segment records: rolling the index forward after a crash,
 * and rebuilding it from nothing (kura reindex). A reader's refresh, which
 * goes on from its last one, is archive/refresh.c.
 *
 * Both walk segments with full verification (header CRC, body CRC, trailer) and
 * turn each record into the index entries ingest would have written:
 *   blob record   -> 'b' + its SHA-256 (from the blob tail)
 *   object record -> its entries (kura_object_index, as ingest: 'o', 'p', records management's
 *                    and, in recovery, the search fields'; reindex fills those at its end)
 * Recovery starts at the committed end the index names and stops at the first
 * incomplete record (the torn tail, cut off when the writer opens). Reindex reads
 * everything, reports damaged records and goes on past them only at proven
 * record boundaries (RESYNC RULE, archive/segment.c), which the index it
 * replaces supplies.
 * An object adopted with an evidence record (its JSON names it: "adopted_with")
 * is indexed only when that record follows it directly, as kura_ingest_adopt
 * writes them: an object whose record a crash cut off was never imported.
 *
 * WHAT REINDEX NEVER DOES
 * - Index a record it did not reach at a proven boundary (see segment.c).
 * - Drop anything without naming it: every damaged or missing range is printed
 *   (segment, bytes), then everything the replaced index knew inside it (object
 *   IDs, evidence record IDs), and the damage is counted (exit 1).
 * - Let new records follow damage (a damaged record's length may reach over
 *   them): when the last segment ends in damage, the writer goes on in a new one.
 * - Call lost committed bytes an unfinished write: an unfinished record at the
 *   end of the last segment is a torn tail (cut off silently) only when it lies
 *   at or past the committed end the replaced index names; below it, or when a
 *   segment ends before the size it was committed with, it is loss. With no
 *   index to ask, a torn tail is taken as one, and the message says so.
 * - Leave its temporary index behind: the new index is built in index.rebuild
 *   and swapped in with one rename; kura_rebuild_tidy removes what a killed
 *   reindex left (at the next reindex, and at every open for writing). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "archive/blob.h"
#include "archive/compact.h"
#include "archive/evidence_frame.h"
#include "archive/loss.h"
#include "archive/mark.h"
#include "archive/places.h"
#include "archive/rebuild_impl.h"
#include "archive/store_impl.h"
#include "common/endian.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "common/log.h"
#include "common/progress.h"

#define MAX_OBJECT_RECORD (16u << 20)
#define MAX_EVIDENCE_RECORD (1u << 30)
#define BATCH_ENTRIES 10000


static void drop_held(struct applier *a)
{
	free(a->held.json);
	a->held.json = NULL;
}

/* Holds an adopted object back; 1 if it was one, -1 out of memory. */
static int hold_adopted(struct applier *a, json_t *j, const char *id, const kura_record_info *info)
{
	const char *with = json_string_value(json_object_get(j, "adopted_with"));
	if (!with)
		return 0;
	drop_held(a); /* an earlier one not followed by its record */
	if (strlen(with) != KURA_ID_LEN || !(a->held.json = malloc(a->len)))
		return strlen(with) != KURA_ID_LEN ? 1 : -1;
	memcpy(a->held.json, a->body, a->len);
	a->held.len = a->len;
	memcpy(a->held.id, id, sizeof a->held.id);
	memcpy(a->held.with, with, sizeof a->held.with);
	kura_mark_hold(&a->mark, info);
	a->held.segno = info->segno;
	a->held.offset = info->offset;
	a->held.digests_len = kura_pending_digests(a->held.digests, j);
	return 1;
}

/* The held object, if the evidence record body is the one it was adopted with. */
static void release_held(struct applier *a, const unsigned char *body)
{
	if (a->held.json && body[0] == KURA_EVIDENCE_IMPORTED && memcmp(body + 4, a->held.with, KURA_ID_LEN) == 0 &&
	    body[30] == 1 && body[31] == 0 && body[32] == 0 && body[33] == 0 &&
	    memcmp(body + 34, a->held.id, KURA_ID_LEN) == 0) {
		/* pending until the record that follows ends it, as at ingest */
		kura_index_object_entry e = {.id = a->held.id, .segno = a->held.segno, .offset = a->held.offset,
					     .json = a->held.json, .json_len = a->held.len,
					     .digests = a->held.digests, .digests_len = a->held.digests_len};
		json_t *j = json_loadb(a->held.json, a->held.len, 0, NULL);
		kura_object_index(a->b, &e, j, a->fs);
		json_decref(j);
		a->objects++;
	}
	drop_held(a);
}

static int apply_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n,
		      kura_error *err)
{
	struct applier *a = ud;
	kura_mark_body(&a->mark, info, off, p, n);
	if (info->type == KURA_RECORD_OBJECT || info->type == KURA_RECORD_EVIDENCE || info->type == KURA_RECORD_AUDIT) {
		size_t max = info->type == KURA_RECORD_EVIDENCE ? MAX_EVIDENCE_RECORD : MAX_OBJECT_RECORD;
		if (off == 0)
			a->len = 0;
		if (a->len + n > max)
			return kura_error_set(err, KURA_EINPUT, "segment %08u offset %llu: record over %zu bytes", info->segno,
					      (unsigned long long)info->offset, max);
		if (a->len + n + 1 > a->cap) {
			size_t cap = (a->len + n + 1) * 2;
			char *grown = realloc(a->body, cap);
			if (!grown)
				return kura_error_set(err, KURA_EINTERNAL, "out of memory");
			a->body = grown;
			a->cap = cap;
		}
		memcpy(a->body + a->len, p, n);
		a->len += n;
	} else if (info->type == KURA_RECORD_BLOB && info->body_len >= KURA_BLOB_TAIL) {
		uint64_t tail_at = info->body_len - KURA_BLOB_TAIL;
		for (size_t i = 0; i < n; i++)
			if (off + i >= tail_at)
				a->tail[off + i - tail_at] = p[i];
	}
	return 0;
}

static int add_lost(struct applier *a, uint32_t segno, uint64_t from, uint64_t to, const char *why, kura_error *err);

/* A record that checks but whose content makes no sense (bytes kura did not
 * write, or a bug): reindex reports and skips it; recovery refuses to go on. */
static int bad_content(struct applier *a, const kura_record_info *info, const char *what, kura_error *err)
{
	a->len = 0;
	if (!a->reindexing)
		return kura_error_set(err, KURA_EINPUT, "segment %08u offset %llu: %s", info->segno,
				      (unsigned long long)info->offset, what);
	return add_lost(a, info->segno, info->offset, info->offset + KURA_RECORD_OVERHEAD + info->body_len, what, err);
}

static int apply_record(void *ud, const kura_record_info *info, kura_error *err)
{
	struct applier *a = ud;
	kura_mark_record(&a->mark, info);
	if (info->type != KURA_RECORD_EVIDENCE)
		drop_held(a);
	if (info->type == KURA_RECORD_BLOB) {
		if (info->body_len < KURA_BLOB_PREFIX + KURA_BLOB_TAIL)
			return bad_content(a, info, "blob record too short", err);
		kura_index_blob blob = {info->segno, info->offset, kura_le64_get(a->tail), info->body_len};
		kura_index_batch_put_blob(a->b, a->tail + 8, &blob);
	} else if (info->type == KURA_RECORD_OBJECT) {
		json_error_t jerr;
		json_t *j = json_loadb(a->body, info->body_len ? a->len : 0, 0, &jerr);
		const char *id = json_string_value(json_object_get(j, "id"));
		char canon[KURA_ID_LEN + 1];
		if (!id || kura_id_parse(canon, id, NULL) != 0 || strcmp(canon, id) != 0) {
			json_decref(j);
			return bad_content(a, info, "object record without a valid id", err);
		}
		int held = hold_adopted(a, j, id, info);
		if (held == 0) {
			unsigned char digests[KURA_PENDING_MAX];
			size_t dlen = kura_pending_digests(digests, j); /* pending until a seal says otherwise */
			kura_index_object_entry e = {.id = id, .segno = info->segno, .offset = info->offset,
						     .json = a->body, .json_len = a->len, .digests = digests, .digests_len = dlen};
			kura_object_index(a->b, &e, j, a->fs);
			a->objects += !json_object_get(j, "system"); /* documents: not the audit trail's checkpoints */
		}
		json_decref(j);
		if (held < 0)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	} else if (info->type == KURA_RECORD_AUDIT) {
		if (kura_audit_index(a->b, a->body, a->len, info->segno, info->offset) != 0)
			return bad_content(a, info, "audit record without a valid id", err);
		if (a->loss && kura_loss_note_recorded(&a->recorded, a->body, a->len) != 0)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	} else if (info->type == KURA_RECORD_EVIDENCE) {
		if (kura_evidence_frame_check((unsigned char *)a->body, a->len) != 0)
			return bad_content(a, info, "malformed evidence record", err);
		release_held(a, (unsigned char *)a->body);
		kura_evidence_index(a->b, (unsigned char *)a->body, a->body + KURA_EVIDENCE_FRAME_HEAD, info->segno,
				    info->offset);
	} else {
		return kura_error_set(err, KURA_EINPUT,
				      "segment %08u offset %llu: record type '%c' is unknown to this kura (made by a newer one?)",
				      info->segno, (unsigned long long)info->offset, info->type);
	}
	a->len = 0;
	if (++a->in_batch >= BATCH_ENTRIES) {
		a->in_batch = 0;
		int rc = kura_index_write(a->ix, a->b, 0, err);
		kura_index_batch_clear(a->b);
		return rc;
	}
	return 0;
}

/* A damaged or missing range [from, to) of a segment: counted, printed, and kept
 * to name what the replaced index knew there. */
static int add_lost(struct applier *a, uint32_t segno, uint64_t from, uint64_t to, const char *why, kura_error *err)
{
	a->damaged++;
	if (to == UINT64_MAX) /* the whole segment */
		kura_log_message(KURA_LOG_ERROR, "segment %08u: %s", segno, why);
	else
		kura_log_message(KURA_LOG_ERROR, "segment %08u bytes %llu to %llu: %s", segno, (unsigned long long)from,
			(unsigned long long)(to > from ? to - 1 : from), why);
	if (a->nlost == a->caplost) {
		size_t cap = a->caplost ? a->caplost * 2 : 16;
		kura_lost_range *grown = realloc(a->lost, cap * sizeof *grown);
		if (!grown)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		a->lost = grown;
		a->caplost = cap;
	}
	a->lost[a->nlost++] = (kura_lost_range){segno, from, to};
	return 0;
}

/* The adopted object held back is lost: its evidence record does not follow intact. */
static void lose_held(struct applier *a)
{
	if (!a->held.json)
		return;
	a->damaged++;
	kura_log_message(KURA_LOG_LOST, "object %s (segment %08u offset %llu): not indexed, because the evidence record it "
		"was imported with (%s) does not follow it intact", a->held.id, a->held.segno,
		(unsigned long long)a->held.offset, a->held.with);
	drop_held(a);
}

static int note_damage(void *ud, uint32_t segno, uint64_t offset, uint64_t end, const char *why, int unfinished,
		       kura_error *err)
{
	struct applier *a = ud;
	uint64_t committed = kura_places_committed_end(a->old, segno);
	kura_mark_abandon(&a->mark);
	a->reached = end > a->reached ? end : a->reached;
	if (unfinished && a->last && (committed == 0 || offset >= committed)) {
		a->torn = 1; /* never acknowledged: cut off at the next write */
		if (a->reader)
			kura_log_message(KURA_LOG_INFO, "the end of segment %08u (from byte %llu) holds a write the writer has "
				"not finished: not indexed yet (kura reindex again to see it)", segno, (unsigned long long)offset);
		else
			kura_log_message(KURA_LOG_INFO, "the end of segment %08u (from byte %llu) holds an unfinished write from a crash; it "
			"will be cut off%s", segno, (unsigned long long)offset,
			committed ? "" : " (no index told where this segment's committed end was: if the segment was cut "
					 "short instead, compare it with a copy)");
		drop_held(a); /* its evidence record was never written: never imported */
		return 0;
	}
	lose_held(a);
	char text[768];
	snprintf(text, sizeof text, "%s%s", why,
		 unfinished && committed > offset ? " (below the committed end: committed records were lost)" : "");
	return add_lost(a, segno, offset, end, text, err);
}

static int known_boundary(void *ud, uint32_t segno, uint64_t offset, uint64_t *next)
{
	struct applier *a = ud;
	return kura_places_next(a->old, segno, offset, next);
}

static void show_progress(void *ud, uint64_t bytes)
{
	struct applier *a = ud;
	kura_progress_update(a->progress, a->done_before + bytes, a->objects);
}

const kura_scan_ops kura_rebuild_recover_ops = {apply_body, apply_record, NULL, NULL, NULL};
static const kura_scan_ops reindex_ops = {apply_body, apply_record, note_damage, show_progress, known_boundary};

int kura_rebuild_segment_size(kura_backend *be, uint32_t segno, uint64_t *size)
{
	return be->stat(be, segno, size);
}

void kura_rebuild_applier_free(struct applier *a)
{
	drop_held(a);
	kura_mark_free(&a->mark);
	kura_index_batch_free(a->b);
	free(a->body);
	free(a->lost);
	json_decref(a->loss);
	json_decref(a->recorded);
	kura_places_free(a->old);
}

int kura_rebuild_recover(kura_store *st, kura_error *err)
{
	kura_backend *be = kura_store_backend(st);
	kura_index *ix = kura_store_index(st);
	uint32_t state_seg, *segs = NULL, last_seg = 0;
	uint64_t state_end, last_end = 0;
	size_t nsegs;
	int rc = kura_index_get_state(ix, &state_seg, &state_end, err);
	if (rc == 0)
		rc = kura_segment_list(&segs, &nsegs, be, err);
	if (rc != 0)
		return rc;
	struct applier a = {.ix = ix, .fs = kura_store_fields(st)};
	if ((rc = kura_index_batch_new(&a.b, err)) != 0)
		goto out;
	for (size_t i = 0; i < nsegs && rc == 0; i++) {
		uint32_t segno = segs[i];
		if (segno < state_seg)
			continue;
		uint64_t size = 0, valid_end;
		if (segno > state_seg && i + 1 == nsegs && kura_rebuild_segment_size(be, segno, &size) == 0 &&
		    size < KURA_SEGMENT_FILE_HEADER) {
			/* a roll that a crash cut short: the new segment never got its header */
			char path[4096];
			be->name(be, segno, path, sizeof path);
			if (be->remove(be, segno) != 0)
				rc = kura_error_sys(err, KURA_EIO, "removing the unfinished segment %s", path);
			break;
		}
		rc = kura_segment_scan(be, segno, segno == state_seg ? state_end : 0, 0, &kura_rebuild_recover_ops, &a,
				       &valid_end, err);
		if (rc == 0 && last_seg != 0) /* the segment before this one was full when the crash came */
			kura_index_batch_put_sealed_size(a.b, last_seg, last_end);
		last_seg = segno;
		last_end = valid_end;
	}
	if (rc == 0 && last_seg == 0)
		rc = kura_error_set(err, KURA_EIO, "segment %08u, which the index names, is missing: the store is damaged",
				    state_seg);
	if (rc == 0 && (last_seg != state_seg || last_end != state_end)) {
		kura_index_batch_put_state(a.b, last_seg, last_end);
		rc = kura_index_write(ix, a.b, 1, err);
	}
	if (rc != 0)
		kura_error_wrap(err, "recovering the store after an interrupted write");
out:
	kura_rebuild_applier_free(&a);
	free(segs);
	return rc;
}

/* The mark of what the index now holds of the marked segment: up to *end, or up
 * to the adopted object still waiting for its evidence record (read again next
 * time: the writer may not have written that record yet). */
void kura_rebuild_put_mark(struct applier *a, uint64_t gen, uint64_t *end)
{
	unsigned char digest[32];
	int held = a->held.json && a->held.segno == a->mark.segno;
	kura_mark_digest(&a->mark, held, digest);
	if (held)
		*end = a->held.offset;
	kura_index_batch_put_refresh_mark(a->b, gen, digest);
}

/* ---------------------------------------------------------------- kura reindex */

int kura_rebuild_tidy(const char *path, kura_error *err)
{
	char live[4096], fresh[4096], old[4096];
	struct stat sb;
	snprintf(live, sizeof live, "%s/index", path);
	snprintf(fresh, sizeof fresh, "%s/index.rebuild", path);
	snprintf(old, sizeof old, "%s/index.old", path);
	int changed = 0;
	if (kura_migrate_settle(path, err) != 0) /* a kura migrate's index, after its switch */
		return err->code;
	if (lstat(fresh, &sb) == 0) { /* a reindex killed before its swap, or the index it swapped out */
		if (kura_fs_remove_tree(fresh) != 0)
			return kura_error_sys(err, KURA_EIO, "removing %s, left by an interrupted kura reindex", fresh);
		changed = 1;
	}
	if (lstat(old, &sb) == 0) { /* left by the two-rename fallback of an interrupted reindex */
		if (lstat(live, &sb) != 0 ? rename(old, live) != 0 : kura_fs_remove_tree(old) != 0)
			return kura_error_sys(err, KURA_EIO, "putting back %s, left by an interrupted kura reindex", old);
		changed = 1;
	}
	if (changed && kura_fs_sync_dir(path) != 0)
		return kura_error_sys(err, KURA_EIO, "syncing %s", path);
	return 0;
}

/* Puts the index built in fresh in place of live: one exchange of the two
 * folders when the file system can, so that there is always a whole index. */
static int swap_in(const char *path, const char *live, const char *fresh, kura_error *err)
{
	char old[4096];
	snprintf(old, sizeof old, "%s/index.old", path);
	struct stat sb;
	int rc = -1;
	if (lstat(live, &sb) != 0)
		rc = rename(fresh, live);
	else if ((rc = renameat2(AT_FDCWD, fresh, AT_FDCWD, live, RENAME_EXCHANGE)) != 0 &&
		 (errno == EINVAL || errno == ENOSYS || errno == ENOTSUP))
		rc = rename(live, old) != 0 || rename(fresh, live) != 0 ? -1 : 0;
	if (rc != 0 || kura_fs_sync_dir(path) != 0)
		return kura_error_sys(err, KURA_EIO, "putting the rebuilt index in place");
	return kura_rebuild_tidy(path, err); /* the replaced index */
}

static void print_lost(void *ud, const char *what, const char *id, const char *record, uint32_t segno,
		       uint64_t offset)
{
	if (ud)
		kura_loss_named(ud, what, id, record, segno, offset);
	if (strcmp(what, "object record") == 0)
		kura_log_message(KURA_LOG_LOST, "object %s (its object record at segment %08u offset %llu): not indexed", id,
			segno, (unsigned long long)offset);
	else if (strcmp(what, "content") == 0)
		kura_log_message(KURA_LOG_LOST, "the content of object %s (segment %08u offset %llu): it cannot be read", id,
			segno, (unsigned long long)offset);
	else
		kura_log_message(KURA_LOG_LOST, "%s %s (segment %08u offset %llu)%s", what, id, segno,
			(unsigned long long)offset,
			strcmp(what, "evidence record") == 0 ? ": the objects it concerns lose its time-stamps (a lost seal "
							       "leaves them waiting for a new, later one)" : "");
}

#define MAX_MISSING_SEGMENTS 10000u

/* Segments that are gone: those the replaced index knew, and, since segments
 * are numbered from 1 without gaps (a roll takes the next number; compaction
 * and migrate keep or renumber them so), every number missing before the last
 * one, whatever it held (the whole segment, its size unknown). */
static int missing_segments(struct applier *a, const uint32_t *segs, size_t nsegs, kura_error *err)
{
	const uint32_t *known;
	const uint64_t *ends;
	size_t n = kura_places_segments(a->old, &known, &ends);
	int rc = 0;
	for (size_t i = 0, j = 0; i < n && rc == 0; i++) {
		while (j < nsegs && segs[j] < known[i])
			j++;
		if (j == nsegs || segs[j] != known[i])
			rc = add_lost(a, known[i], KURA_SEGMENT_FILE_HEADER, ends[i], "the segment file is missing", err);
	}
	if (rc == 0 && nsegs > 0 && segs[nsegs - 1] - nsegs > MAX_MISSING_SEGMENTS) /* a stray file, not kura's losses */
		return kura_error_set(err, KURA_EIO, "the segment files are numbered up to %08u, but there are only %zu of "
				      "them: is %08u.seg a file kura did not write? Move it out of the segments folder (or "
				      "restore the missing ones from a copy) and run kura reindex again", segs[nsegs - 1],
				      nsegs, segs[nsegs - 1]);
	for (uint32_t segno = 1, j = 0, i = 0; nsegs > 0 && segno < segs[nsegs - 1] && rc == 0; segno++) {
		while (j < nsegs && segs[j] < segno)
			j++;
		while (i < n && known[i] < segno)
			i++;
		if (segs[j] != segno && (i == n || known[i] != segno))
			rc = add_lost(a, segno, 0, UINT64_MAX, "the segment file is missing (segments are numbered from 1 "
				      "without gaps; restore it from a copy)", err);
	}
	return rc;
}

/* Whether segment segno, missing with nothing known of it, was missing when the
 * replaced index was built: that index knows a later segment, and not this one
 * (else missing_segments would have taken it from the index). The reindex that
 * built it recorded the loss: reported again, not recorded again (every reindex
 * after a lost segment recorded it anew, and suspended disposal again). */
static int gone_before(const kura_places *old, uint32_t segno)
{
	const uint32_t *known;
	const uint64_t *ends;
	size_t n = kura_places_segments(old, &known, &ends);
	return n > 0 && known[n - 1] > segno;
}

/* Scans one segment into the new index; *end: where its committed part ends now. */
static int reindex_segment(struct applier *a, kura_backend *be, uint32_t segno, uint64_t *end, kura_error *err)
{
	uint64_t size = 0, valid_end = 0, committed = kura_places_committed_end(a->old, segno);
	kura_rebuild_segment_size(be, segno, &size);
	a->reached = 0;
	a->torn = 0;
	int rc = kura_segment_scan(be, segno, 0, 0, &reindex_ops, a, &valid_end, err);
	if (rc == KURA_EVERIFY && a->last && size < KURA_SEGMENT_FILE_HEADER && committed == 0) {
		/* a roll cut short by a crash: the segment starts over (a writer's now:
		 * recovery at open reads every segment the state names from its header) */
		kura_segment_writer *w = NULL;
		*end = a->loss ? KURA_SEGMENT_FILE_HEADER : 0;
		rc = a->loss ? kura_segment_writer_open(&w, be, segno, 0, err) : 0;
		kura_segment_writer_close(w);
		return rc;
	}
	if (rc == KURA_EVERIFY) { /* shorter than its file header */
		valid_end = 0;
		rc = add_lost(a, segno, 0, committed > size ? committed : size, err ? err->message : "bad file header", err);
	}
	if (rc != 0)
		return rc;
	a->reached = valid_end > a->reached ? valid_end : a->reached;
	if (committed > a->reached && !a->torn)
		rc = add_lost(a, segno, a->reached, committed, "missing: the segment ends before the end it was committed "
							     "with (it was cut short)", err);
	/* damaged bytes at the end that are not an unfinished write are kept: new
	 * records go after them, and scrub keeps reporting them */
	*end = a->torn ? valid_end : size > valid_end && valid_end > 0 ? size : valid_end;
	a->tail_damaged = a->last && !a->torn && size > valid_end && valid_end > 0;
	return rc;
}

/* Every segment into the new index; *end: where the last one's committed part ends now. */
static int reindex_segments(struct applier *a, kura_backend *be, const uint32_t *segs, size_t nsegs, uint64_t *end,
			    kura_error *err)
{
	int rc = 0;
	uint64_t size;
	for (size_t i = 0; i < nsegs && rc == 0; i++) {
		a->last = i + 1 == nsegs;
		rc = reindex_segment(a, be, segs[i], end, err);
		if (kura_rebuild_segment_size(be, segs[i], &size) == 0) {
			a->done_before += size;
			if (!a->last) /* as it is now: reindex accepts what it reported */
				kura_index_batch_put_sealed_size(a->b, segs[i], size);
		}
	}
	kura_mark_abandon(&a->mark); /* a torn tail */
	return rc;
}

/* The replaced index, read-only (*out NULL when none opens). A disk error
 * reading it stops the reindex: without it, what was lost could not be named. */
static int open_replaced(kura_index **out, const char *live, kura_error *err)
{
	struct stat sb;
	kura_error e = {0};
	*out = NULL;
	if (stat(live, &sb) != 0 || kura_index_open(out, live, KURA_INDEX_READONLY, &e) == 0)
		return 0;
	*out = NULL;
	if (strstr(e.message, "Input/output error"))
		return kura_error_set(err, KURA_EIO, "reading the index in place, which names what damaged records held: %s; "
				      "run kura reindex again once the disk reads", e.message);
	kura_log_message(KURA_LOG_ERROR, "the index in place cannot be read (%s): damaged records cannot be skipped, and what "
		"they held cannot be named", e.message);
	return 0;
}

/* A compaction a crash interrupted is finished or undone with the index it
 * journalled in (archive/compact.c), before the segments are read. Without an
 * index that opens, the old segments are in place and are read as they are. */
static int finish_compaction(kura_backend *be, const char *live, kura_error *err)
{
	struct stat sb;
	kura_index *ix = NULL;
	if (stat(live, &sb) != 0 || kura_index_open(&ix, live, 0, NULL) != 0)
		return 0;
	int rc = kura_compact_recover(be, ix, 1, err);
	kura_index_close(ix);
	return rc;
}

/* Builds the index of segments segs of be in folder fresh (closed when done):
 * replaced is the index it replaces (NULL: none), gen a reader's generation. */
static int build(struct applier *a, kura_backend *be, const char *fresh, kura_index *replaced, uint64_t gen,
		 const uint32_t *segs, size_t nsegs, kura_error *err)
{
	uint64_t total = 0, size, last_end = 0;
	int rc;
	for (size_t i = 0; i < nsegs; i++)
		if (kura_rebuild_segment_size(be, segs[i], &size) == 0)
			total += size;
	a->reindexing = 1;
	if ((rc = kura_places_new(&a->old, replaced, err)) != 0 ||
	    (rc = kura_index_open(&a->ix, fresh, KURA_INDEX_CREATE, err)) != 0 ||
	    (rc = kura_index_batch_new(&a->b, err)) != 0 || (rc = missing_segments(a, segs, nsegs, err)) != 0 ||
	    (a->reader && (rc = kura_mark_begin(&a->mark, segs[nsegs - 1], err)) != 0))
		return rc;
	a->progress = kura_progress_new("reindex", total);
	rc = reindex_segments(a, be, segs, nsegs, &last_end, err);
	/* the last record, adopted without its evidence record: lost if it was committed */
	if (a->held.json && kura_places_committed_end(a->old, a->held.segno) > a->held.offset)
		lose_held(a);
	if (rc == 0)
		rc = kura_places_name_lost(a->old, a->lost, a->nlost, print_lost, a->loss, err);
	for (size_t i = 0; a->loss && i < a->nlost; i++)
		kura_loss_range(a->loss, a->lost[i].segno, a->lost[i].from, a->lost[i].to,
				(a->lost[i].to == UINT64_MAX ? gone_before(a->old, a->lost[i].segno)
							     : a->lost[i].to <= kura_places_committed_end(a->old, a->lost[i].segno)) ||
					kura_loss_recorded(a->recorded, a->lost[i].segno, a->lost[i].from, a->lost[i].to));
	if (rc == 0 && a->loss)
		rc = kura_loss_put(a->b, a->loss, replaced, err);
	if (rc == 0 && a->reader)
		kura_rebuild_put_mark(a, gen, &last_end);
	uint32_t last_seg = segs[nsegs - 1];
	kura_segment_writer *w = NULL;
	if (rc == 0 && a->loss && a->tail_damaged && (rc = kura_segment_writer_open(&w, be, last_seg + 1, 0, err)) == 0) {
		kura_index_batch_put_sealed_size(a->b, last_seg++, last_end); /* full as it is */
		last_end = KURA_SEGMENT_FILE_HEADER;
	}
	kura_segment_writer_close(w);
	if (rc == 0) {
		kura_index_batch_put_state(a->b, last_seg, last_end);
		rc = kura_index_write(a->ix, a->b, 1, err);
	}
	if (rc == 0) /* the search fields' indexes, now that every definition and object is known */
		rc = kura_fields_build(a->ix, NULL, err);
	kura_index_close(a->ix);
	a->ix = NULL;
	kura_places_free(a->old);
	a->old = NULL;
	return rc;
}

int kura_store_reindex(const char *path, uint64_t *objects, uint64_t *damaged, kura_error *err)
{
	kura_store *st = NULL;
	int rc = kura_store_open_locked(&st, path, err);
	if (rc != 0)
		return rc;
	kura_backend *be = kura_store_backend(st);
	char live[4096], fresh[4096];
	snprintf(live, sizeof live, "%s/index", path);
	snprintf(fresh, sizeof fresh, "%s/index.rebuild", path);
	uint32_t *segs = NULL;
	size_t nsegs = 0;
	struct applier a = {0};
	kura_index *replaced = NULL;
	int reader = kura_store_is_reader(st); /* the writer's compactions are its own; see below */
	uint64_t gen = 0; /* a reader's: before anything is read (archive/refresh.c) */
	if ((rc = kura_rebuild_tidy(path, err)) != 0 || (!reader && (rc = finish_compaction(be, live, err)) != 0) ||
	    (reader && (rc = kura_mark_generation(be, &gen, err)) != 0) || (rc = kura_segment_list(&segs, &nsegs, be, err)) != 0)
		goto out;
	if (nsegs == 0) {
		rc = kura_error_set(err, KURA_EIO, "%s has no segments: nothing to rebuild the index from", path);
		goto out;
	}
	/* A reader's index is not the writer's: the writer may still cut off what it
	 * had written but not committed when the reader last looked, so the reader's
	 * index cannot say what was committed; the pool is read afresh. */
	a.reader = reader;
	if (!reader && (rc = open_replaced(&replaced, live, err)) == 0 && !(a.loss = kura_loss_new()))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0)
		goto out;
	rc = build(&a, be, fresh, replaced, gen, segs, nsegs, err);
	kura_index_close(replaced);
	replaced = NULL;
	if (rc == 0)
		rc = swap_in(path, live, fresh, err);
	kura_store_close(st); /* the lock: the record of a loss is written as any other */
	st = NULL;
	uint64_t unrecorded = 0; /* records the chain lacks, their loss recorded by none before */
	if (rc == 0 && !reader)
		rc = kura_loss_record(path, &unrecorded, err);
	*objects = a.objects;
	*damaged = a.damaged + (unrecorded > 0);
out:
	kura_progress_free(a.progress);
	kura_index_close(a.ix);
	kura_rebuild_applier_free(&a);
	kura_index_close(replaced);
	free(segs);
	if (rc != 0)
		kura_fs_remove_tree(fresh);
	kura_store_close(st);
	return rc;
}

int kura_rebuild_into(kura_backend *be, const char *dir, uint64_t *damaged, kura_error *err)
{
	uint32_t *segs = NULL;
	size_t nsegs = 0;
	struct applier a = {0};
	int rc = kura_segment_list(&segs, &nsegs, be, err);
	if (rc == 0 && nsegs == 0)
		rc = kura_error_set(err, KURA_EIO, "no segments to build the index from");
	if (rc == 0)
		rc = build(&a, be, dir, NULL, 0, segs, nsegs, err);
	*damaged = a.damaged;
	kura_progress_free(a.progress);
	kura_rebuild_applier_free(&a);
	free(segs);
	return rc;
}
