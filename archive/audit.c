/* The audit trail: every change of a store's configuration (TSA URLs, trust
 * anchors, later policies) is appended as an 'A' record, a line of JSON
 *   {"id": ID, "time": RFC 3339, "event": "...", "detail": {...}}
 * durable before the command reports success, never rewritten, and indexed as
 * 'a' + ID. The configuration files say what is in force; the trail says who
 * changed what when. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/id.h"
#include "kura/clock.h"

int kura_store_audit(kura_store *st, const char *event, json_t *detail, kura_error *err)
{
	kura_segment_writer *w = kura_store_writer(st);
	if (!w)
		return kura_error_set(err, KURA_EINTERNAL, "the audit trail needs a store opened for writing");
	int64_t now;
	char id[KURA_ID_LEN + 1], when[KURA_TIME_BUFSZ];
	int rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = kura_id_new(id, now, err);
	if (rc != 0)
		return rc;
	kura_time_format(when, now);
	json_t *entry = json_pack("{s:s, s:s, s:s, s:O}", "id", id, "time", when, "event", event, "detail",
				  detail ? detail : json_null());
	char *text = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
	json_decref(entry);
	if (!text)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	kura_index_batch *b = NULL;
	kura_record_writer rec;
	uint64_t at = kura_segment_writer_tell(w);
	if ((rc = kura_index_batch_new(&b, err)) == 0 && (rc = kura_record_begin(w, &rec, KURA_RECORD_AUDIT, err)) == 0 &&
	    (rc = kura_record_append(w, &rec, text, strlen(text), err)) == 0 &&
	    (rc = kura_record_finish(w, &rec, err)) == 0) {
		kura_index_batch_put_audit(b, id, kura_segment_writer_segno(w), at);
		rc = kura_store_commit(st, b, err);
	}
	if (rc != 0)
		kura_store_rollback(st, NULL);
	kura_index_batch_free(b);
	free(text);
	return rc;
}
