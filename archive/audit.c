/* The audit trail: who changed what, when and why (docs/RECORDS.md). Each change
 * is an 'A' record, one JSON object
 *   {"id", "seq", "prev", "time", "actor", "action", ...the action's fields}
 * durable before the command reports success, never rewritten, and indexed by
 * archive/records_index.c (which derives records management's keys from it).
 *
 * INVARIANTS
 * - The trail is a hash chain in the order written: seq counts from 1 and prev
 *   is the SHA-256 of the body of record seq - 1 (64 zeros for the first). The
 *   next seq and prev come from the last link put into the batch being built
 *   (several audit records may go in one commit, in order: the service's group
 *   commit), else from the chain's head in the index, which a commit moves; a
 *   commit that fails leaves the head where it was (nothing was acknowledged).
 * - Older records ({"id","time","event","detail"}, no seq) stand before the chain. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/actor.h"
#include "common/hex.h"
#include "common/id.h"
#include "kura/clock.h"

#define MAX_AUDIT_RECORD (64u << 20)

static json_t *entry_new(kura_store *st, const kura_index_batch *b, const char *action, json_t *fields,
			 char id[KURA_ID_LEN + 1], kura_error *err)
{
	kura_index_chain_link head;
	int64_t now;
	char when[KURA_TIME_BUFSZ], prev[65];
	int rc = kura_index_batch_chain_head(b, &head) ? 0 : kura_index_chain_head(kura_store_index(st), &head, err);
	if (rc == 0)
		rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_id_new(id, now, err);
	if (rc != 0)
		return NULL;
	kura_time_format(when, now);
	if (head.seq)
		kura_hex_encode(prev, head.hash, 32);
	else
		memset(prev, '0', 64), prev[64] = '\0';
	char user[KURA_ACTOR_MAX + 16];
	kura_actor_system_user(user, sizeof user);
	json_t *e = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "id", id, "seq", (json_int_t)(head.seq + 1), "prev",
			      prev, "time", when, "actor", kura_store_actor(st), "system_user", user, "action", action);
	if (e && fields && json_object_update_missing(e, fields) != 0) {
		json_decref(e);
		e = NULL;
	}
	if (!e)
		kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return e;
}

int kura_audit_append(kura_store *st, kura_index_batch *b, const char *action, json_t *fields,
		      char id[KURA_ID_LEN + 1], kura_error *err)
{
	kura_segment_writer *w = kura_store_writer(st);
	if (!w)
		return kura_error_set(err, KURA_EINTERNAL, "the audit trail needs a store opened for writing");
	json_t *entry = entry_new(st, b, action, fields, id, err);
	if (!entry)
		return err->code ? err->code : KURA_EINTERNAL;
	char *text = json_dumps(entry, JSON_COMPACT);
	json_decref(entry);
	if (!text)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	size_t len = strlen(text);
	kura_record_writer rec;
	uint64_t at = kura_segment_writer_tell(w);
	int rc = len > MAX_AUDIT_RECORD ? kura_error_set(err, KURA_EINPUT, "an audit record of %zu bytes is too large", len)
					: kura_record_begin(w, &rec, KURA_RECORD_AUDIT, err);
	if (rc == 0 && (rc = kura_record_append(w, &rec, text, len, err)) == 0)
		rc = kura_record_finish(w, &rec, err);
	if (rc == 0 && kura_audit_index(b, text, len, kura_segment_writer_segno(w), at) != 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "the audit record just made does not index");
	free(text);
	return rc;
}

int kura_store_audit_record(kura_store *st, const char *action, json_t *fields, char id[KURA_ID_LEN + 1],
			    kura_error *err)
{
	kura_index_batch *b = NULL;
	char own[KURA_ID_LEN + 1];
	int rc = kura_index_batch_new(&b, err);
	if (rc == 0 && (rc = kura_audit_append(st, b, action, fields, id ? id : own, err)) == 0)
		rc = kura_store_commit(st, b, err);
	if (rc != 0)
		kura_store_rollback(st, NULL);
	kura_index_batch_free(b);
	return rc;
}

int kura_store_audit(kura_store *st, const char *event, json_t *detail, kura_error *err)
{
	json_t *fields = json_pack("{s:O}", "detail", detail ? detail : json_null());
	if (!fields)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc = kura_store_audit_record(st, event, fields, NULL, err);
	json_decref(fields);
	return rc;
}

/* ---------------------------------------------------------------- reading */

struct body {
	const char *id;
	char *p;
	size_t len;
};

static int body_room(void *ud, const kura_record_info *info, kura_error *err)
{
	struct body *b = ud;
	if (info->type != KURA_RECORD_AUDIT || info->body_len > MAX_AUDIT_RECORD)
		return kura_error_set(err, KURA_EVERIFY, "audit record %s: the index points at something else; run kura reindex",
				      b->id);
	return (b->p = malloc((size_t)info->body_len + 1)) ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
}

static int take_body(void *ud, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	(void)err;
	struct body *b = ud;
	memcpy(b->p + off, p, n);
	b->len = (size_t)off + n;
	return 0;
}

int kura_store_audit_text(char **text, size_t *len, kura_store *st, const char *id, kura_error *err)
{
	uint32_t segno;
	uint64_t offset;
	struct body body = {id, NULL, 0};
	*text = NULL;
	int rc = kura_index_get_audit(kura_store_index(st), id, &segno, &offset, err);
	if (rc == 0)
		rc = kura_record_read_at(kura_store_backend(st), segno, offset, body_room, take_body, &body, err);
	if (rc != 0) {
		free(body.p);
		return rc;
	}
	body.p[body.len] = '\0';
	*text = body.p;
	*len = body.len;
	return 0;
}

int kura_store_audit_get(json_t **out, kura_store *st, const char *id, kura_error *err)
{
	char *text;
	size_t len;
	*out = NULL;
	int rc = kura_store_audit_text(&text, &len, st, id, err);
	if (rc == 0 && !(*out = json_loadb(text, len, 0, NULL)))
		rc = kura_error_set(err, KURA_EVERIFY, "audit record %s is not JSON", id);
	free(text);
	return rc;
}

int kura_store_audit_get_seq(json_t **out, kura_store *st, uint64_t seq, kura_error *err)
{
	kura_index_chain_link l;
	*out = NULL;
	int rc = kura_index_get_chain(kura_store_index(st), seq, &l, err);
	return rc ? rc : kura_store_audit_get(out, st, l.id, err);
}
