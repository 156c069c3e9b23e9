/* Retention classes and their arithmetic (issue 14, docs/RECORDS.md): pure
 * functions of the rules and a record's event dates, knowing nothing of a
 * store (records/retention.c applies them to one).
 *
 * A retention file (policies/retention.yaml ships kura's; STORE/retention.yaml
 * holds a store's own):
 *   kura-retention: 1
 *   classes:
 *     NAME:
 *       title: "..."
 *       keep:                                   # until the LATER of these terms' ends
 *         - {from: EVENT, months: M, years: Y}  # one rule
 *         - any: [RULE, RULE...]                # alternatives: the latest of those whose event happened
 *       source: "the law and article"
 *       note: "..."                             # optional
 *       fields:                                 # optional: the metadata its records carry
 *         - {name: KEY, type: TYPE, required: true}   # TYPE: KURA_RETENTION_FIELD_TYPES
 *         - {name: KEY, type: TYPE}                   # required: false (the default): when there is one
 * EVENT is one of KURA_RETENTION_EVENTS or "ingest" (the day the record's first
 * version was ingested).
 *
 * THE ARITHMETIC (one place: retention.c)
 * - Dates are calendar days, YYYY-MM-DD (checked: 2026-02-30 is refused), as
 *   day numbers from 1970-01-01; no time of day and no time zone: UTC.
 * - A period of M months (or Y years) after day D runs from D + 1 and ends on
 *   the day before the corresponding day M months later; with no corresponding
 *   day (the 29th to 31st) it ends on the last day of that month (Japanese
 *   Civil Code arts. 140 and 143; the same for "N years after the end of the
 *   trial"). So adding months to a day that does not exist in the target month
 *   rolls to the first of the next month (Feb 29 + 1 year = Mar 1), and the
 *   period ends the day before: Feb 28.
 * - A rule ends M months after its event, then Y years after that day (tax:
 *   the filing deadline is 2 months after the fiscal year's end; 7 years run
 *   from the day after it). M = Y = 0: the event's day itself.
 * - The retention END is a day: the record is kept to the END of it (23:59:59
 *   UTC) and may be disposed of from the start of the next day.
 * - A term with alternatives is known once one of its events happened (the
 *   latest end of those that did counts); a class's end is known once every
 *   term's is: until then the record is kept indefinitely. */
#ifndef KURA_POLICIES_RETENTION_H
#define KURA_POLICIES_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"

#define KURA_RETENTION_EVENTS "fiscal-year-end, handover, trial-end, approval, discontinued"
#define KURA_RETENTION_MAX_TERMS 4
#define KURA_RETENTION_MAX_ALTS 4
#define KURA_RETENTION_MAX_FIELDS 16
/* The names of kura/search.h's field types (kura_field_type_parse reads them). */
#define KURA_RETENTION_FIELD_TYPES "date, datetime, amount, integer, text, keyword"

/* ---------------------------------------------------------------- dates */

/* 0 and *day for a valid YYYY-MM-DD (years 1000 to 9999), else -1. */
int kura_date_parse(int32_t *day, const char *text);
/* YYYY-MM-DD; a year past 9999 (an end 200 years after an event late in
 * 9999) in full, never cut: "10199-05-31". */
#define KURA_DATE_BUFSZ 16
void kura_date_format(char buf[KURA_DATE_BUFSZ], int32_t day);
/* The year, month (1-12) and day of the month of day. */
void kura_date_civil(int32_t day, int *year, int *month, int *mday);
/* day + years and months, a day missing in the target month rolling to the 1st of the next. */
int32_t kura_date_add(int32_t day, int years, int months);
/* The last day of a period of years and months after day (see THE ARITHMETIC). */
int32_t kura_date_period_end(int32_t day, int years, int months);

/* 1 if name is an event a record may be given (not "ingest", which is implicit). */
int kura_retention_event_known(const char *name);

/* ---------------------------------------------------------------- classes */

typedef struct kura_retention_rule {
	char event[32];
	int years, months;
} kura_retention_rule;

/* A metadata key a class declares: its type and whether every record of the
 * class must have a value (for ingest's typed-field checking to enforce:
 * kura/search.h). */
typedef struct kura_retention_field {
	char name[64]; /* a metadata key: Unicode letters and digits, '_', '-', '.', ':' */
	char type[16]; /* one of KURA_RETENTION_FIELD_TYPES */
	int required;
} kura_retention_field;

typedef struct kura_retention_class {
	char name[64];
	char title[256];
	char source[512];
	char note[512];
	int shipped; /* from policies/retention.yaml */
	struct {
		kura_retention_rule alt[KURA_RETENTION_MAX_ALTS];
		size_t nalts;
	} term[KURA_RETENTION_MAX_TERMS];
	size_t nterms;
	kura_retention_field field[KURA_RETENTION_MAX_FIELDS];
	size_t nfields;
} kura_retention_class;

/* A set of classes. */
typedef struct kura_retention {
	kura_retention_class *c;
	size_t n;
} kura_retention;

/* Parses a retention file (origin names it in messages); KURA_EINPUT, naming
 * the line, for anything wrong: *out is then empty. Free with kura_retention_free. */
int kura_retention_parse(kura_retention *out, const char *text, size_t len, const char *origin, kura_error *err);
/* The shipped classes (policies/retention.yaml, built in). */
int kura_retention_shipped(kura_retention *out, kura_error *err);
/* Adds add's classes to into (a shipped class cannot be redefined: KURA_EINPUT). */
int kura_retention_merge(kura_retention *into, const kura_retention *add, kura_error *err);
void kura_retention_free(kura_retention *r);
/* The class named name, or NULL. */
const kura_retention_class *kura_retention_find(const kura_retention *r, const char *name);
/* [{name, title, keep: [[{from, years, months}...]...], rule (as text), source, note, shipped,
 * fields: [{name, type, required}...]}...] (caller's). */
json_t *kura_retention_json(const kura_retention *r);
/* The rule of c in words, e.g. "7 years after 2 months after fiscal-year-end". */
void kura_retention_rule_text(char *buf, size_t n, const kura_retention_class *c);

/* ---------------------------------------------------------------- a record's end */

typedef struct kura_retention_event {
	const char *name;
	int32_t day;
} kura_retention_event;

typedef struct kura_retention_end {
	int known;               /* 0: kept indefinitely, awaiting the event named missing */
	int32_t end;             /* the last day kept; disposable from end + 1 */
	const char *start_event; /* the event of the rule that gave end (the class's) */
	int32_t start;           /* its day */
	const char *missing;
} kura_retention_end;

/* The end of retention of a record of class c with events ev[0..n) (the last
 * given for a name counts; "ingest" among them). Strings point into c. */
void kura_retention_compute(kura_retention_end *out, const kura_retention_class *c, const kura_retention_event *ev,
			    size_t n);
/* 1 if a record with end e may be disposed of on day today (its end known and past). */
int kura_retention_over(const kura_retention_end *e, int32_t today);

#endif
