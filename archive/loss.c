/* What a reindex lost, told to the audit trail (docs/RECORDS.md, "reindex-loss").
 *
 * A damaged or missing part of a segment may have held a legal hold, a
 * retention event or a version. Once reindex has accepted the loss, nothing in
 * the index it built shows that they were ever there, and a disposal would go
 * ahead as if they had not been. So:
 *
 * INVARIANTS
 * - Reindex writes what it lost (the ranges, and what the index it replaced
 *   knew inside them) into the index it builds, key 'l', merged with an 'l'
 *   the replaced index still had: it goes into place with the same rename as
 *   the rest, so a reindex that accepted a loss always leaves it written down.
 *   A damaged range inside what the replaced index had committed, in which it
 *   knew nothing, was lost by an earlier reindex, which recorded it: it is
 *   reported again, not recorded again. Past that end (an older index put
 *   back), or without a replaced index, nobody knows what a range held:
 *   recorded.
 * - The audit record "reindex-loss" carries that list, and "gaps": the records
 *   the chain lacks once the index is rebuilt, [{from, to}]. Only a loss record
 *   that lists a gap explains it (a checkpoint's lost_by line, disposal after
 *   --resume): a record cut out cleanly after a loss was recorded is not
 *   covered by that loss. A gap no earlier loss record lists is recorded so too,
 *   with nothing else lost: disposal is suspended, as for any loss.
 * - The audit record "reindex-loss" carries that list; its commit deletes 'l'.
 *   Until then (the write failed, or the process was killed) disposal is
 *   refused, and the next reindex carries 'l' over and writes the record.
 * - From "reindex-loss" on, disposal is suspended (the 'U' state it derives)
 *   until a person has checked the holds and events and says so with
 *   kura dispose --resume ("dispose-resume"). Both are in the trail, so a
 *   reindex derives the same state again.
 * - New IDs sort after every ID the loss names, as after every one indexed:
 *   an ID handed out before is never handed out again.
 * - The record goes on from the last audit record left (seq, prev), as every
 *   record written after a reindex does: reindex is the acceptance of a loss
 *   (kura says "restore the segments from a copy, or accept the loss with
 *   kura reindex"). Audit records restored from a copy after it no longer fit
 *   the chain, which kura log --verify then reports. */
#include <stdlib.h>
#include <string.h>

#include "archive/audit.h"
#include "archive/loss.h"
#include "archive/store_impl.h"
#include "common/id.h"
#include "common/log.h"

#define MAX_NAMED 10000 /* the rest are counted: the record stays a few MiB at most */

json_t *kura_loss_new(void)
{
	return json_pack("{s:[], s:[], s:[], s:[], s:I}", "ranges", "named", "objects", "records", "named_more",
			 (json_int_t)0);
}

void kura_loss_range(json_t *loss, uint32_t segno, uint64_t from, uint64_t to, int known)
{
	json_t *r = to == UINT64_MAX /* a missing segment nobody knew: all of it, its size unknown */
			    ? json_pack("{s:I, s:b, s:b}", "segment", (json_int_t)segno, "whole", 1, "known", known)
			    : json_pack("{s:I, s:I, s:I, s:b}", "segment", (json_int_t)segno, "from", (json_int_t)from, "to",
					(json_int_t)to, "known", known);
	json_array_append_new(json_object_get(loss, "ranges"), r);
}

void kura_loss_named(json_t *loss, const char *what, const char *id, const char *record, uint32_t segno,
		     uint64_t offset)
{
	json_t *named = json_object_get(loss, "named");
	if (json_array_size(named) >= MAX_NAMED) {
		json_object_set_new(loss, "named_more", json_integer(json_integer_value(json_object_get(loss, "named_more")) + 1));
		return;
	}
	int version = record && strcmp(record, id) != 0; /* an object that is not its record's first version */
	json_array_append_new(named, json_pack("{s:s, s:s, s:s*, s:I, s:I}", "what", what, "id", id, "record",
					       version ? record : NULL, "segment", (json_int_t)segno, "offset",
					       (json_int_t)offset));
	int object = strcmp(what, "object record") == 0;
	if (object) /* kura history ID shows the record */
		json_array_append_new(json_object_get(loss, "objects"), json_string(id));
	if (record && (version || !object)) /* and kura history of any version of its record */
		json_array_append_new(json_object_get(loss, "records"), json_string(record));
}

/* Appends what an earlier reindex lost and could not record (replaced's 'l'). */
static int merge_earlier(json_t *loss, kura_index *replaced, kura_error *err)
{
	char *text = NULL;
	kura_error lerr = {0};
	if (!replaced || kura_index_get_loss(replaced, &text, &lerr) != 0)
		return 0;
	json_t *old = json_loads(text, 0, NULL);
	free(text);
	json_t *earlier = json_object_get(loss, "earlier");
	if (!old)
		return kura_error_set(err, KURA_EIO, "the index in place names a loss that does not read: run kura reindex with "
				      "the index of a copy, or restore the segments");
	if (!earlier) {
		earlier = json_array();
		json_object_set_new(loss, "earlier", earlier);
	}
	json_array_append_new(earlier, old);
	return 0;
}

int kura_loss_any(const json_t *loss)
{
	size_t i;
	json_t *r;
	if (!loss || json_object_get(loss, "earlier") || json_array_size(json_object_get(loss, "named")) > 0)
		return loss != NULL;
	/* a range inside what the replaced index had committed, in which it knew
	 * nothing, or one a reindex-loss record in the trail holds, was lost before
	 * (and recorded then); past that end, or without an index, nobody can tell */
	json_array_foreach(json_object_get(loss, "ranges"), i, r)
		if (!json_is_true(json_object_get(r, "known")))
			return 1;
	return 0;
}

static int note_ranges(json_t *ranges, const json_t *lost)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(lost, "ranges"), i, v)
		if (json_array_append(ranges, v) != 0)
			return -1;
	json_array_foreach(json_object_get(lost, "earlier"), i, v)
		if (note_ranges(ranges, v) != 0)
			return -1;
	return 0;
}

int kura_loss_note_recorded(json_t **ranges, const char *body, size_t len)
{
	static const char action[] = "\"action\":\"reindex-loss\"";
	if (!memmem(body, len, action, sizeof action - 1))
		return 0;
	json_t *e = json_loadb(body, len, 0, NULL);
	const char *what = json_string_value(json_object_get(e, "action"));
	int rc = 0;
	if (what && strcmp(what, "reindex-loss") == 0) {
		if (!*ranges)
			*ranges = json_array();
		rc = *ranges ? note_ranges(*ranges, json_object_get(e, "lost")) : -1;
	}
	json_decref(e);
	return rc;
}

int kura_loss_recorded(const json_t *ranges, uint32_t segno, uint64_t from, uint64_t to)
{
	size_t i;
	json_t *r;
	json_array_foreach(ranges, i, r) {
		if (json_integer_value(json_object_get(r, "segment")) != (json_int_t)segno)
			continue;
		if (to == UINT64_MAX ? json_is_true(json_object_get(r, "whole"))
				     : !json_object_get(r, "whole") &&
					       json_integer_value(json_object_get(r, "from")) == (json_int_t)from &&
					       json_integer_value(json_object_get(r, "to")) == (json_int_t)to)
			return 1;
	}
	return 0;
}

int kura_loss_put(kura_index_batch *b, json_t *loss, kura_index *replaced, kura_error *err)
{
	int rc = merge_earlier(loss, replaced, err);
	if (rc == 0 && !replaced)
		json_object_set_new(loss, "unknown", json_true());
	if (rc != 0 || !kura_loss_any(loss))
		return rc;
	char *text = json_dumps(loss, JSON_COMPACT);
	if (!text)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	kura_index_batch_put_loss(b, text);
	free(text);
	return 0;
}

/* New IDs above every ID loss names (and the earlier losses in it). */
static void floor_named(json_t *loss)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(loss, "named"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		if (id && strlen(id) == KURA_ID_LEN)
			kura_id_floor(id);
	}
	json_array_foreach(json_object_get(loss, "earlier"), i, v)
		floor_named(v);
}

struct gaps {
	kura_store *st;
	json_t *list;
	uint64_t next, unrecorded;
	int check; /* whether to count unrecorded (not when a loss is written anyway) */
	kura_audit_lost lost;
};

/* Records next..l->seq-1 are missing from the chain: listed, and counted in
 * unrecorded unless an earlier "reindex-loss" lists them. From the first one
 * none lists on, the rest of the gap counts as unrecorded: a lookup that fails
 * reads the trail to its head, and doing so for each record of a large gap
 * would take quadratic time (recording a gap twice costs one more review). */
static int gap(void *ud, const kura_index_chain_link *l, kura_error *err)
{
	struct gaps *g = ud;
	if (l->seq > g->next) {
		if (json_array_append_new(g->list, json_pack("{s:I, s:I}", "from", (json_int_t)g->next, "to",
							     (json_int_t)l->seq - 1)) != 0)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		if (g->check)
			g->unrecorded += l->seq - kura_audit_first_unrecorded(&g->lost, g->st, g->next, l->seq);
	}
	g->next = l->seq + 1;
	return 0;
}

int kura_loss_record(const char *path, uint64_t *unrecorded, kura_error *err)
{
	kura_store *st = NULL;
	kura_index_batch *b = NULL;
	char *text = NULL, id[KURA_ID_LEN + 1];
	kura_error lerr = {0};
	struct gaps g = {.next = 1, .list = json_array()};
	*unrecorded = 0;
	int rc = g.list ? kura_store_open(&st, path, KURA_STORE_WRITE, err)
			: kura_error_set(err, KURA_EINTERNAL, "out of memory");
	g.st = st;
	int noted = rc == 0 && kura_index_get_loss(kura_store_index(st), &text, &lerr) == 0;
	g.check = !noted;
	if (rc == 0)
		rc = kura_index_each_chain(kura_store_index(st), gap, &g, err);
	if (rc == 0 && !noted && g.unrecorded == 0) {
		json_decref(g.list);
		kura_store_close(st);
		return 0; /* nothing lost */
	}
	if (rc == 0 && g.unrecorded > 0)
		kura_log_message(KURA_LOG_ERROR, "the audit trail lacks %llu record(s) (kura log --verify names them) whose loss "
			"no reindex recorded: recorded now", (unsigned long long)g.unrecorded);
	*unrecorded = g.unrecorded;
	json_t *lost = text ? json_loads(text, 0, NULL) : kura_loss_new();
	json_t *fields = lost ? json_pack("{s:o, s:o}", "lost", lost, "gaps", g.list) : NULL;
	if (rc == 0 && !fields)
		rc = kura_error_set(err, KURA_EIO, "the index's note of what a reindex lost does not read");
	lost = json_object_get(fields, "lost"); /* fields owns it (or it is gone) */
	floor_named(lost);
	json_t *objects = json_object_get(lost, "objects"), *records = json_object_get(lost, "records");
	if (objects) /* at the top, as the other actions name the objects and records they concern */
		json_object_set(fields, "objects", objects);
	if (json_array_size(records) > 0)
		json_object_set(fields, "records", records);
	if (rc == 0 && (rc = kura_index_batch_new(&b, err)) == 0 &&
	    (rc = kura_audit_append(st, b, "reindex-loss", fields, id, err)) == 0) {
		kura_index_batch_put_loss(b, NULL);
		rc = kura_store_commit(st, b, err);
	}
	if (rc != 0 && st)
		kura_store_rollback(st, NULL);
	if (rc != 0)
		kura_error_wrap(err, "the index was rebuilt, but the audit record of what it lost was not written, so "
				       "nothing is disposed of until it is (run kura reindex again)");
	json_decref(fields);
	free(text);
	kura_index_batch_free(b);
	kura_store_close(st);
	return rc;
}
