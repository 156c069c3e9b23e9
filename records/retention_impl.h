/* What records/retention.c, holds.c and dispose.c share: the classes of a
 * store, a record's end of retention, and the records a command names. */
#ifndef KURA_RECORDS_RETENTION_IMPL_H
#define KURA_RECORDS_RETENTION_IMPL_H

#include <stddef.h>

#include "kura/records.h"
#include "kura/retention.h"
#include "policies/retention.h"

#define KURA_RECORDS_MAX_EVENTS 64

/* The shipped classes and the store's own (STORE/retention.yaml: KURA_EIO if
 * it is there but unreadable or wrong). */
int kura_records_classes(kura_retention *out, kura_store *st, kura_error *err);

/* What decides a record's retention: its class (NULL: none, or one not
 * defined), its first version's description, its events (ingest among them). */
typedef struct kura_record_retention {
	char record[KURA_ID_LEN + 1];
	const kura_retention_class *cls;
	char class_name[64];
	json_t *first;
	char names[KURA_RECORDS_MAX_EVENTS][32];
	kura_retention_event ev[KURA_RECORDS_MAX_EVENTS];
	size_t nev;
	kura_retention_end end;
} kura_record_retention;
int kura_records_retention_of(kura_record_retention *out, kura_store *st, const kura_retention *classes,
			      const char *record, kura_error *err);
void kura_record_retention_clear(kura_record_retention *r);

/* Today's day number by the clock (KURA_NOW). */
int kura_records_today(int32_t *day, kura_error *err);
/* 0 when an event's day has come (today by the clock, or tomorrow: today east
 * of UTC); else KURA_EINPUT, "<what>: that day has not come ...": an event is
 * recorded once it has happened (an end of retention from a day that may not
 * come would let a record go early, or shown past 9999). */
int kura_records_event_past(int32_t day, const char *what, kura_error *err);

/* The distinct records that ids[0..n) (any of their versions) belong to, in
 * the order given (*out the caller's: free): an unknown ID is KURA_EINPUT. */
int kura_records_resolve(char (**out)[KURA_ID_LEN + 1], size_t *nout, kura_store *st, const char *const *ids, size_t n,
			 kura_error *err);
/* 1 if the record was disposed of (by: the disposing audit record), 0 if not, < 0 an error. */
int kura_records_disposed(kura_store *st, const char *record, char by[KURA_ID_LEN + 1], kura_error *err);
/* KURA_EINPUT if v is kura's own object (an audit-trail checkpoint, "system"):
 * it gets no versions, metadata, holds or events. id: as the user gave it. */
int kura_records_check_own(const kura_version_info *v, const char *id, kura_error *err);
/* Where a record is stored, as a number that grows in the order written
 * (segment << 40 | offset: records are appended, compaction keeps their
 * order): of audit record id, and of an object from its index entry. */
int kura_records_audit_place(kura_store *st, const char *id, uint64_t *place, kura_error *err);
#define KURA_RECORDS_PLACE(segno, offset) ((uint64_t)(segno) << 40 | (uint64_t)(offset))
/* 0 if the audit trail in the index is whole and in order (records/log_verify.c):
 * no record missing between 1 and the head or past it (a checkpoint holds
 * more) unless a reindex recorded its loss after it (reindex-loss), each stored
 * after the one before, and no recorded loss waiting for a person (kura dispose
 * --resume); else KURA_EIO saying what to do. A disposal needs it: the index's
 * holds and events are derived from the trail in the order stored, and a record
 * damaged, cut or moved changes them. */
int kura_records_trail_whole(kura_store *st, kura_error *err);
/* The same without asking for a loss to be reviewed: what --resume needs (a
 * loss nobody recorded, or a record out of order, cannot be reviewed). */
int kura_records_trail_in_order(kura_store *st, kura_error *err);
/* 0 unless a loss that reindex recorded (archive/loss.c) waits for kura dispose --resume. */
int kura_records_loss_reviewed(kura_store *st, kura_error *err);
/* 0 when reason is given and UTF-8; else KURA_EINPUT: "WHAT needs --reason TEXT". */
int kura_records_need_reason(const char *reason, const char *what, kura_error *err);
/* A name for a hold or an event: 1 to 128 bytes of UTF-8 without control characters. */
int kura_records_check_name(const char *what, const char *name, kura_error *err);
/* Time-stamps the audit trail now (a checkpoint sealed at once), for a record
 * that must not wait for the next seal: a disposal (the proof of what was
 * destroyed), a legal hold (one cut off the end of the trail before it is
 * sealed would leave no trace). A failure is a warning naming what (the record
 * stands; the next seal covers it). */
void kura_records_seal_trail(kura_store *st, const char *what);
/* Checks what an ingest gives a new record: a known class, known events with valid dates. */
int kura_records_check_retention(kura_store *st, const char *class_name, const kura_event *ev, size_t n,
				 kura_error *err);

#endif
