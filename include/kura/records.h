/* Records management (docs/RECORDS.md): a record is the chain of its versions;
 * a correction or a metadata change is a new version, and nothing is
 * overwritten. Who did what and why is in the audit trail. */
#ifndef KURA_RECORDS_H
#define KURA_RECORDS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "kura/error.h"
#include "kura/id.h"
#include "kura/ingest.h"
#include "kura/store.h"

/* Where a version stands: the record it belongs to, the record's current
 * version, and the version's description (*object, the caller's: json_decref).
 * KURA_ENOTFOUND for an unknown ID. */
typedef struct kura_version_info {
	char record[KURA_ID_LEN + 1];
	char current[KURA_ID_LEN + 1];
	char disposed_by[KURA_ID_LEN + 1]; /* the audit record that disposed of the record; "" if it was not */
	json_t *object;
} kura_version_info;
int kura_records_version(kura_version_info *out, kura_store *st, const char *id, kura_error *err);
void kura_version_info_clear(kura_version_info *v);

/* A retention event of a record: a name and a date (YYYY-MM-DD). */
typedef struct kura_event {
	const char *name;
	const char *date;
} kura_event;

/* What records management adds to an ingest (all may be NULL or 0). */
typedef struct kura_records_ingest {
	const char *actor;      /* who ingests; NULL: the default */
	const char *supersedes; /* the one document given is a new version of the record this ID belongs to */
	int versions_by_path;   /* a file with the path of a version of a record: the bytes of the record's
				 * current version or of a version with that path, left out (unchanged);
				 * else a new version of that record (of the newest with that path) */
	const char *class_name; /* the retention class of the new records */
	const kura_event *events;
	size_t nevents;
	const char *reason;     /* why (a correction needs one) */
} kura_records_ingest;
/* kura_ingest_paths (kura/ingest.h) with r's records management: everything r
 * names is checked against the store before the first document is written
 * (an unknown or disposed ID, a missing reason: KURA_EINPUT, nothing stored).
 * o is copied. Documents left out are reported to ev->warn. */
int kura_records_ingest_paths(const char *store, const char *const *paths, size_t n, const kura_ingest_options *o,
			      const kura_records_ingest *r, const kura_ingest_events *ev, kura_error *err);
/* What records management gives the objects of an ingest into st (open for
 * writing; the preservation service's): r's class, events and reason, or with
 * r->supersedes the fields of a new version of that record (kura_ingest_set_fields
 * takes them; *out the caller's: json_decref), all checked as
 * kura_records_ingest_paths checks them (KURA_EINPUT, nothing written). r->actor
 * and r->versions_by_path are not used here. */
int kura_records_new_fields(json_t **out, kura_store *st, const kura_records_ingest *r, kura_error *err);

/* A new version of the record id belongs to, with the same content and its
 * current metadata changed by meta[0..n) (a value "" removes the key), made and
 * sealed (unless no_seal); reason is required. new_id gets the new version's
 * ID. The audit record ("meta") keeps the old and the new values. */
int kura_records_meta_set(const char *store, const char *id, const kura_meta *meta, size_t n, const char *reason,
			  const char *actor, int no_seal, char new_id[KURA_ID_LEN + 1], kura_error *err);
/* The same change in st, open for writing (its actor is the change's), not sealed. */
int kura_records_meta_set_st(kura_store *st, const char *id, const kura_meta *meta, size_t n, const char *reason,
			     char new_id[KURA_ID_LEN + 1], kura_error *err);

/* The history of the record id belongs to, as JSON (*out the caller's):
 * {"record", "current", "versions": [descriptions, oldest first, each with
 * "superseded_by"], "trail": [the audit records about it, in order],
 * "imported_trail": [the records about it that the trail an import brought
 * holds (each as the store it came from wrote it), in order]}. */
int kura_records_history(json_t **out, kura_store *st, const char *id, kura_error *err);
/* Every version of the records the objects of[0..n) belong to (`export
 * --all-versions`): *out (the caller's: free()) gets *nout IDs back to back,
 * KURA_ID_LEN characters each, each record's oldest first (a record named
 * twice is there twice). */
int kura_records_versions_of(char **out, size_t *nout, kura_store *st, const char *const *of, size_t n, kura_error *err);

/* Calls fn for the objects ls shows, in ID order: by default each record's
 * current version; KURA_LIST_ALL_VERSIONS every version; objects kura made
 * itself (the audit trail's checkpoints) only with KURA_LIST_SYSTEM; disposed
 * records' versions never, but with KURA_LIST_DISPOSED only those. */
enum { KURA_LIST_ALL_VERSIONS = 1, KURA_LIST_SYSTEM = 2, KURA_LIST_DISPOSED = 4 };
int kura_records_each(kura_store *st, int flags, kura_store_object_fn fn, void *ud, kura_error *err);

/* What kura_records_each would list, counted from the descriptions as the index
 * holds them (no lookups per object: kura status): records (current versions)
 * and versions, not disposed, not kura's own; the versions' bytes, and of them
 * those ingested at or after since (ms). */
typedef struct kura_records_counts {
	uint64_t records, versions, bytes, bytes_since;
} kura_records_counts;
int kura_records_count(kura_records_counts *out, kura_store *st, int64_t since, kura_error *err);

/* ---- 電子帳簿保存法: time-stamped in time? (records/timeliness.c, docs/DENCHO.md) ---- */

/* Compares each object's first time-stamp (the earliest genTime among the
 * tokens of its evidence record) with its "received_at" metadata (a date, or
 * an RFC 3339 datetime: its date in Japan time), by the business-day calendar
 * (policies/jp-holidays.csv and STORE/calendar.yaml): on time when the
 * time-stamp's date in Japan time is no later than the deadline (received_at
 * + 7 business days; with the store's 事務処理規程, the end of 2 months after
 * it + 7 business days). The objects: ids[0..n), or with ids NULL every
 * current version that has a received_at value or is of class jp-dencho.
 * *out (the caller's: json_decref): {"rule", "jimu_shori_kitei", "calendar",
 * "objects": [{"id", "name" (with "name_hex" when not UTF-8, as kura/escape.h), "class",
 * "received_at", "received" (its day in Japan),
 * "first_timestamp" (UTC), "first_timestamp_jst", "timestamp_date" (its day in Japan),
 * "timestamped_as" (when the bytes were first time-stamped as an earlier version of
 * the record: that version), "tsa", "tsa_certified" (null: not decided here),
 * "deadline", "business_days", "verdict", "late_business_days", "overdue" (not
 * time-stamped and the deadline passed), "reason"}...], "summary": {"objects", "on_time",
 * "late", "not_time_stamped", "no_received_at", "undecided"}}; verdict is
 * "on-time", "late", "not-time-stamped", "no-received-at" or "undecided" (a
 * received_at that is not a date, or a year the calendar lacks: "reason" says
 * which). Errors: an unknown ID (KURA_ENOTFOUND), a STORE/calendar.yaml with a
 * mistake (KURA_EINPUT naming the line), I/O and internal failures. */
int kura_records_timeliness(json_t **out, kura_store *st, const char *const *ids, size_t n, kura_error *err);

/* ---- the audit trail (records/log.c, records/log_verify.c; `kura log`) ---- */

/* Which audit records: about the object (or the record it belongs to) object
 * (NULL: all), or about any of the nids objects or records ids (KURA_ID_LEN
 * characters each; NULL: all); written from since to until
 * (milliseconds since 1970, both included; INT64_MIN and INT64_MAX:
 * unbounded); chain_only: neither the records from before the chain nor the
 * trails imports brought. */
typedef struct kura_log_query {
	const char *object;
	int64_t since, until;
	const char *ids;
	size_t nids;
	int chain_only;
} kura_log_query;
/* How a record stands: in the chain; from before it (no "seq"); brought by an
 * import (an entry of the "imported_trail" of the record before it: the
 * record as the store it came from had it). */
enum { KURA_LOG_CHAINED, KURA_LOG_UNCHAINED, KURA_LOG_IMPORTED };
/* A record: its body exactly as stored (len bytes), parsed (e), both borrowed
 * for the call; kind: KURA_LOG_CHAINED, _UNCHAINED or _IMPORTED. */
typedef int (*kura_log_fn)(void *ud, const char *text, size_t len, json_t *e, int kind, kura_error *err);
/* Calls fn for the records q wants, the unchained ones first, then the chain in
 * the order written, each chained record followed by the trail it imported.
 * KURA_ENOTFOUND for an unknown q->object or q->ids. */
int kura_records_log(kura_store *st, const kura_log_query *q, kura_log_fn fn, void *ud, kura_error *err);
/* Whether the audit record e names one of ids[0..n) (KURA_ID_LEN characters
 * each, sorted) as an object, record, version or disposed version. */
int kura_records_names_any(json_t *e, const char *ids, size_t n);

/* The trail an export carries (records/trail.c): the chain's records about the
 * objects or records ids[0..n) (KURA_ID_LEN characters each: give the records
 * the objects belong to too), each body as stored followed by "\n" (text, len bytes, NUL-terminated;
 * records of them), and the checkpoints holding any of them (ncheckpoints IDs
 * back to back, in the order of the records they hold). Clear it with
 * kura_trail_clear. */
typedef struct kura_trail {
	char *text;
	size_t len, records;
	char *checkpoints;
	size_t ncheckpoints;
} kura_trail;
int kura_records_trail(kura_trail *out, kura_store *st, const char *ids, size_t n, kura_error *err);
void kura_trail_clear(kura_trail *t);

/* What `kura log --verify` found: the chain's records, the checkpoints whose
 * content and evidence verified, the records no sealed checkpoint covers yet,
 * and the problems (each also told to problem with the seq it concerns). */
typedef struct kura_log_check {
	uint64_t records, checkpoints, uncovered, problems;
} kura_log_check;
typedef void (*kura_log_problem_fn)(void *ud, uint64_t seq, const char *what);
/* Checks the chain (every record from 1 to the head there, seq consecutive, each
 * prev the SHA-256 of the body before), every checkpoint's content against the
 * records it holds, byte for byte, and each checkpoint's evidence
 * (kura/verify.h). Returns 0 when it could look at everything (problems or
 * not); errors are I/O and internal failures. */
int kura_records_log_verify(kura_log_check *out, kura_store *st, kura_log_problem_fn problem, void *ud,
			    kura_error *err);

#endif
