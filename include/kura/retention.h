/* Retention, retention events, legal holds and disposal decisions (issue 14,
 * docs/RECORDS.md). Every change is one audit record, durable on return, with
 * the store's actor (kura_store_set_actor) and a reason; anything refused
 * (KURA_EINPUT, or KURA_EDENIED for an approval by the requester) writes
 * nothing. st is opened for writing for changes, for reading otherwise. JSON
 * returned in *out is the caller's (json_decref); id gets the audit record's ID. */
#ifndef KURA_RETENTION_H
#define KURA_RETENTION_H

#include <stddef.h>
#include <jansson.h>

#include "kura/error.h"
#include "kura/id.h"
#include "kura/store.h"

/* The classes (shipped and the store's own): [{name, title, keep, rule,
 * source, note, shipped}...], and the events a record may be given. */
int kura_records_retention_show(json_t **out, kura_store *st, kura_error *err);

/* Replaces the store's own classes by the retention file file (STORE/retention.yaml,
 * audit "retention-set" with its text). Refused: a shipped class's name, or a
 * change that would shorten the retention of an existing record (the message
 * names the record and by how much). */
int kura_records_retention_set(kura_store *st, const char *file, const char *reason, char id[KURA_ID_LEN + 1],
			       kura_error *err);

/* Records event name on date (YYYY-MM-DD) for the records the ids[0..n) (any
 * of their versions) belong to, or for every record of class all_of_class
 * (then n is 0). Audit "event". */
int kura_records_event(kura_store *st, const char *name, const char *date, const char *const *ids, size_t n,
		       const char *all_of_class, const char *reason, char id[KURA_ID_LEN + 1], kura_error *err);

/* Legal holds: add (a name not held now) over the records of ids[0..n);
 * release (of an active hold, every record it covers); the list:
 * [{name, state: "active"|"released", records, held: {id, actor, time, reason},
 * released: {...}}...]. */
int kura_records_hold_add(kura_store *st, const char *name, const char *const *ids, size_t n, const char *reason,
			  char id[KURA_ID_LEN + 1], kura_error *err);
int kura_records_hold_release(kura_store *st, const char *name, const char *reason, char id[KURA_ID_LEN + 1],
			      kura_error *err);
int kura_records_hold_list(json_t **out, kura_store *st, kura_error *err);

/* The records whose retention has ended (the day after their end has begun,
 * by the clock: KURA_NOW) and that no hold covers, not disposed of, in ID
 * order: [{record, class, rule, source, start_event, start, retention_end,
 * disposable_from, versions, request (a pending request's ID, or absent)}...]. */
int kura_records_dispose_plan(json_t **out, kura_store *st, kura_error *err);
/* A disposal request for the records of ids[0..n) (n 0: every record of the
 * plan not requested yet): each must be past retention, under no hold, not
 * disposed of, not in a pending request. Audit "dispose-request"; id is the
 * request's ID. */
int kura_records_dispose_request(kura_store *st, const char *const *ids, size_t n, const char *reason,
				 char id[KURA_ID_LEN + 1], kura_error *err);
/* Approves request: everything checked again, and by another actor than the
 * requester unless the store allows one (config.json "four_eyes": false).
 * Audit "dispose-approve" (its "disposed" lists every version); *out (may be
 * NULL) gets that audit record. */
int kura_records_dispose_approve(json_t **out, kura_store *st, const char *request, const char *reason,
				 char id[KURA_ID_LEN + 1], kura_error *err);
/* Refuses (or withdraws) a pending request. Audit "dispose-refuse". */
int kura_records_dispose_refuse(kura_store *st, const char *request, const char *reason, char id[KURA_ID_LEN + 1],
				kura_error *err);
/* 1 when disposal is suspended by a loss that a reindex recorded and no person
 * has reviewed yet (kura dispose --resume), with why saying so; else 0. */
int kura_records_disposal_suspended(kura_store *st, kura_error *why);
/* Ends the suspension of disposal that a reindex's loss began (archive/loss.c):
 * the actor says the holds and events were checked. Audit "dispose-resume";
 * KURA_EINPUT when disposal is not suspended. */
int kura_records_dispose_resume(kura_store *st, const char *reason, char id[KURA_ID_LEN + 1], kura_error *err);

#endif
