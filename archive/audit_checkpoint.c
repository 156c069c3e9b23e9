/* The audit trail's checkpoints (docs/RECORDS.md): at a seal, the audit records
 * written since the last checkpoint become one object, audit-trail-FROM-TO.jsonl,
 * whose content is their bodies exactly as stored, each followed by "\n"; the
 * seal then covers it like any document, so the trail has RFC 4998 evidence.
 *
 * INVARIANTS
 * - Checkpoints hold consecutive ranges of the chain: the next one starts at
 *   the record after the last one's `to` (the index's 'k' keys, derived from the
 *   checkpoint objects' "audit" field, so reindex rebuilds them).
 * - A checkpoint is written only once its seal's time-stamp was obtained
 *   (proof/seal.c): a seal that fails leaves nothing behind.
 * - Making a checkpoint commits an ingest, which writes an audit record itself
 *   (action "checkpoint"). That record is covered by the next checkpoint, which
 *   is made only when something else was written too: an idle store gets no
 *   checkpoint at every seal.
 * - One checkpoint holds at most MAX_CONTENT bytes; the rest waits for the next.
 * - A record the chain lacks is held as the line {"seq":N,"lost_by":"ID"} when a
 *   reindex recorded its loss (ID: the first "reindex-loss" record after it
 *   whose "gaps" list it: the reindex that found the chain without it wrote
 *   that list, archive/loss.c; any other loss record after it says nothing of
 *   it, and a gap cut cleanly after a loss is not explained away by that loss's
 *   record); kura log --verify expects that line in a checkpoint made after that
 *   record, and still reports the gap. So the trail written after a loss is
 *   time-stamped again, and says where it lacks what. A record lacking without
 *   a recorded loss stops the checkpoint (kura reindex records it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "archive/audit.h"
#include "archive/store_impl.h"
#include "kura/ingest.h"

#define MAX_CONTENT (64u << 20)

struct buf {
	char *p;
	size_t len, cap;
};

static int append(struct buf *b, const char *s, size_t n, kura_error *err)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Whether the record at seq is the commit record of checkpoint id. */
static int is_own_record(kura_store *st, uint64_t seq, const char *id, kura_error *err)
{
	json_t *a = NULL;
	int rc = kura_store_audit_get_seq(&a, st, seq, err);
	if (rc != 0)
		return rc;
	const char *action = json_string_value(json_object_get(a, "action"));
	const char *first = json_string_value(json_array_get(json_object_get(a, "objects"), 0));
	int own = action && strcmp(action, "checkpoint") == 0 && first && strcmp(first, id) == 0;
	json_decref(a);
	return own ? 1 : 0;
}

int kura_audit_loss_gap(const json_t *loss, uint64_t seq, uint64_t *from, uint64_t *to)
{
	size_t i;
	json_t *g;
	json_array_foreach(json_object_get(loss, "gaps"), i, g) {
		json_int_t f = json_integer_value(json_object_get(g, "from")), t = json_integer_value(json_object_get(g, "to"));
		if (f > 0 && f <= t && (uint64_t)f <= seq && seq <= (uint64_t)t) {
			*from = (uint64_t)f;
			*to = (uint64_t)t;
			return 1;
		}
	}
	return 0;
}

int kura_audit_lost_line(kura_audit_lost *c, kura_store *st, uint64_t seq, kura_error *err)
{
	if (c->by[0] && seq >= c->from && seq < c->upto) /* in the gap of the record asked before */
		goto found;
	kura_index_chain_link head, l;
	int rc = kura_index_chain_head(kura_store_index(st), &head, err);
	for (uint64_t s = seq + 1; rc == 0 && s <= head.seq; s++) {
		kura_error lerr = {0};
		json_t *a = NULL;
		if (kura_index_get_chain(kura_store_index(st), s, &l, &lerr) != 0 ||
		    kura_store_audit_get_seq(&a, st, s, &lerr) != 0)
			continue; /* lacking too, or unreadable: not the record of the loss */
		const char *action = json_string_value(json_object_get(a, "action"));
		uint64_t gfrom = 0, gto = 0;
		int loss = action && strcmp(action, "reindex-loss") == 0 && kura_audit_loss_gap(a, seq, &gfrom, &gto);
		json_decref(a);
		if (loss) {
			*c = (kura_audit_lost){.from = gfrom, .upto = gto + 1};
			memcpy(c->by, l.id, sizeof c->by);
			goto found;
		}
	}
	return rc != 0 ? rc : kura_error_set(err, KURA_ENOTFOUND, "audit record %llu is missing and no reindex recorded "
				      "its loss: run kura reindex %s (or restore the segments from a copy)",
				      (unsigned long long)seq, kura_store_path(st));
found:
	c->len = (size_t)snprintf(c->line, sizeof c->line, "{\"seq\":%llu,\"lost_by\":\"%s\"}", (unsigned long long)seq,
				  c->by);
	return 0;
}

uint64_t kura_audit_first_unrecorded(kura_audit_lost *c, kura_store *st, uint64_t from, uint64_t to)
{
	kura_error ignored = {0};
	uint64_t seq = from;
	while (seq < to && kura_audit_lost_line(c, st, seq, &ignored) == 0)
		seq++;
	return seq;
}

/* The bodies of records from..head, each with "\n" (at most MAX_CONTENT bytes
 * but always the first); *to gets the last one taken. */
static int collect(struct buf *b, uint64_t *to, kura_store *st, uint64_t from, uint64_t head, kura_error *err)
{
	int rc = 0;
	kura_audit_lost lost = {0};
	for (uint64_t seq = from; rc == 0 && seq <= head; seq++) {
		kura_index_chain_link l;
		char *text = NULL;
		size_t len = 0;
		rc = kura_index_get_chain(kura_store_index(st), seq, &l, err);
		if (rc == KURA_ENOTFOUND && (rc = kura_audit_lost_line(&lost, st, seq, err)) == 0)
			text = strndup(lost.line, len = lost.len);
		else if (rc == 0)
			rc = kura_store_audit_text(&text, &len, st, l.id, err);
		if (rc == 0 && !text)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		if (rc == 0 && seq > from && b->len + len + 1 > MAX_CONTENT) {
			free(text);
			break;
		}
		if (rc == 0 && (rc = append(b, text, len, err)) == 0)
			rc = append(b, "\n", 1, err);
		free(text);
		if (rc == 0)
			*to = seq;
	}
	if (rc != 0)
		kura_error_wrap(err, "checkpointing the audit trail");
	return rc;
}

static void keep_id(void *ud, const char *id, const char *sha256_hex, const char *path)
{
	(void)sha256_hex;
	(void)path;
	memcpy(ud, id, KURA_ID_LEN + 1);
}

static int ingest(char id[KURA_ID_LEN + 1], kura_store *st, const struct buf *b, uint64_t from, uint64_t to,
		  kura_error *err)
{
	char name[80];
	snprintf(name, sizeof name, "audit-trail-%llu-%llu.jsonl", (unsigned long long)from, (unsigned long long)to);
	json_t *range = json_pack("{s:I, s:I}", "from", (json_int_t)from, "to", (json_int_t)to);
	json_t *fields = range ? json_pack("{s:s, s:O}", "system", KURA_AUDIT_TRAIL, "audit", range) : NULL;
	json_t *audit = range ? json_pack("{s:O}", "audit", range) : NULL;
	kura_ingest *in = NULL;
	char made[KURA_ID_LEN + 1] = "";
	int rc = fields && audit ? kura_ingest_new(&in, st, keep_id, made, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		kura_ingest_set_fields(in, fields);
		kura_ingest_set_audit(in, "checkpoint", audit);
		rc = kura_ingest_add_bytes(in, b->p, b->len, name, id, err);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, err);
	if (rc == 0 && strcmp(made, id) != 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "the audit trail's checkpoint was not committed");
	kura_ingest_free(in);
	json_decref(range);
	json_decref(fields);
	json_decref(audit);
	return rc;
}

int kura_audit_checkpoint_due(kura_audit_pending *out, kura_store *st, kura_error *err)
{
	kura_index_chain_link head;
	kura_index_checkpoint last;
	memset(out, 0, sizeof *out);
	int rc = kura_index_chain_head(kura_store_index(st), &head, err);
	if (rc == 0)
		rc = kura_index_last_checkpoint(kura_store_index(st), &last, err);
	if (rc != 0)
		return rc;
	uint64_t from = last.to + 1, to = 0;
	if (head.seq < from)
		return 0;
	if (head.seq == from && last.to > 0 && (rc = is_own_record(st, from, last.id, err)) != 0)
		return rc < 0 ? rc : 0;
	struct buf b = {0};
	rc = collect(&b, &to, st, from, head.seq, err);
	if (rc != 0) {
		free(b.p);
		return rc;
	}
	out->text = b.p;
	out->len = b.len;
	out->from = from;
	out->to = to;
	return 0;
}

int kura_audit_checkpoint_write(char id[KURA_ID_LEN + 1], kura_store *st, const kura_audit_pending *c, kura_error *err)
{
	struct buf b = {c->text, c->len, c->len};
	return ingest(id, st, &b, c->from, c->to, err);
}

void kura_audit_pending_clear(kura_audit_pending *c)
{
	free(c->text);
	memset(c, 0, sizeof *c);
}

/* ---------------------------------------------------------------- the set of checkpoints */

static int add_id(void *ud, const kura_index_checkpoint *c, kura_error *err)
{
	kura_id_set *s = ud;
	char *p = realloc(s->ids, (s->n + 1) * KURA_ID_LEN);
	if (!p)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	s->ids = p;
	memcpy(s->ids + s->n++ * KURA_ID_LEN, c->id, KURA_ID_LEN);
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, KURA_ID_LEN);
}

struct count {
	const char *ids;
	size_t n, *count;
	unsigned long long *to;
};

static int count_one(void *ud, const kura_index_checkpoint *c, kura_error *err)
{
	(void)err;
	struct count *t = ud;
	if (memcmp(c->id, t->ids, KURA_ID_LEN) < 0)
		return 1;
	if (bsearch(c->id, t->ids, t->n, KURA_ID_LEN, cmp_id)) {
		++*t->count;
		if (c->to > *t->to)
			*t->to = c->to;
	}
	return 0;
}

void kura_audit_count_checkpoints(size_t *count, unsigned long long *to, kura_store *st, const char *ids, size_t n)
{
	struct count t = {ids, n, count, to};
	kura_error ignored = {0};
	*count = 0;
	*to = 0;
	if (n > 0 && kura_index_each_checkpoint_back(kura_store_index(st), count_one, &t, &ignored) < 0)
		*count = 0, *to = 0;
}

int kura_audit_checkpoint_ids(kura_id_set *out, kura_store *st, kura_error *err)
{
	memset(out, 0, sizeof *out);
	int rc = kura_index_each_checkpoint(kura_store_index(st), add_id, out, err);
	if (rc != 0)
		kura_id_set_clear(out);
	else if (out->n > 1)
		qsort(out->ids, out->n, KURA_ID_LEN, cmp_id);
	return rc;
}

int kura_id_set_has(const kura_id_set *s, const char *id)
{
	return s->n && bsearch(id, s->ids, s->n, KURA_ID_LEN, cmp_id) != NULL;
}

void kura_id_set_clear(kura_id_set *s)
{
	free(s->ids);
	s->ids = NULL;
	s->n = 0;
}
