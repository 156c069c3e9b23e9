/* Search by typed fields (docs/SEARCH.md): a store's fields give metadata keys
 * a type; values of a field are checked at ingest and kept in one ordered
 * secondary index per field, which `kura ls --where` (and export, verify and
 * timeliness with --where) walks. */
#ifndef KURA_SEARCH_H
#define KURA_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"
#include "kura/id.h"
#include "kura/ingest.h"
#include "kura/store.h"

/* ---- typed values (search/value.c: pure, no store) ---- */

typedef enum {
	KURA_FIELD_DATE,     /* YYYY-MM-DD */
	KURA_FIELD_DATETIME, /* YYYY-MM-DDTHH:MM[:SS[.fff...]](Z|+HH:MM|-HH:MM) */
	KURA_FIELD_AMOUNT,   /* a decimal, optional currency: "120000", "¥120,000", "1234.50 USD" (default JPY) */
	KURA_FIELD_INTEGER,  /* a signed 64-bit integer */
	KURA_FIELD_TEXT,     /* compared after NFKC and case folding; the value kept as given */
	KURA_FIELD_KEYWORD,  /* compared exactly */
} kura_field_type;

/* 0 and *t for "date", "datetime", ...; KURA_EINPUT otherwise. */
int kura_field_type_parse(kura_field_type *t, const char *name, kura_error *err);
const char *kura_field_type_name(kura_field_type t);

/* The order-preserving encoding of a value of type t: byte strings that compare
 * (memcmp, then length) as the values do. KURA_FIELD_VALUE_MAX bytes at most.
 * KURA_EINPUT (saying what is wrong and what a value looks like) when value is
 * not a t. prefix: encode a prefix for ^= (text and keyword only: no terminator). */
#define KURA_FIELD_VALUE_MAX 4200
int kura_field_encode(unsigned char *out, size_t *len, kura_field_type t, const char *value, int prefix,
		      kura_error *err);

/* ---- a store's fields (search/fields.c) ---- */

typedef struct kura_field {
	char *name; /* NFC */
	kura_field_type type;
	char **required_for; /* retention classes whose records must have a value */
	size_t nrequired;
	int built; /* 0 while `field add` fills its index for the objects stored before */
} kura_field;

typedef struct kura_fields {
	kura_field *v;
	size_t n;
} kura_fields;

/* The store's fields, from its index. Clear with kura_fields_clear. */
int kura_fields_load(kura_fields *out, kura_store *st, kura_error *err);
void kura_fields_clear(kura_fields *fs);
const kura_field *kura_fields_find(const kura_fields *fs, const char *name);

/* kura field add: defines field name of type t (required for the classes
 * required_for[0..nreq)), recorded in the audit trail ("field-add"), then
 * indexes the values objects stored before have. Adding a field again with the
 * same type finishes an interrupted add and adds required classes; with
 * another type it is KURA_EINPUT. KURA_EINPUT too when a current version holds
 * a value that is not a t (naming it: correct it with kura meta set first).
 * Progress goes to the log handler (kura/progress.h). */
int kura_field_add(const char *store, const char *name, kura_field_type t, const char *const *required_for,
		   size_t nreq, const char *actor, kura_error *err);

/* ---- queries (search/where.c, search/query.c) ---- */

typedef enum {
	KURA_WHERE_EQ, KURA_WHERE_NE, KURA_WHERE_LT, KURA_WHERE_LE, KURA_WHERE_GT, KURA_WHERE_GE,
	KURA_WHERE_PREFIX, /* ^= */
	KURA_WHERE_EMPTY,  /* is empty: no value, or "" */
} kura_where_op;

typedef struct kura_where {
	char *field; /* NFC */
	kura_where_op op;
	char *value; /* NULL for is empty */
} kura_where;

/* Parses "FIELD OP VALUE" ("amount>=100000", "counterparty^=山田",
 * "amount is empty"). Clear with kura_where_clear. */
int kura_where_parse(kura_where *out, const char *text, kura_error *err);
void kura_where_clear(kura_where *w);

typedef struct kura_query {
	const kura_where *where; /* ANDed */
	size_t n;
	int flags;        /* KURA_LIST_ALL_VERSIONS, KURA_LIST_DISPOSED (kura/records.h) */
	const char *sort; /* NULL: ID order; else a field (values ascending, empty last, then ID) */
} kura_query;

/* The objects matching q: *ids gets *n IDs of KURA_ID_LEN characters back to
 * back (the caller's: free()), in q's order. A field the store does not have,
 * a value that is not the field's type, an operator the type has no use for
 * (^= on a date): KURA_EINPUT. */
int kura_search_ids(char **ids, size_t *n, kura_store *st, const kura_query *q, kura_error *err);

/* Calls fn with each hit's description, in q's order. */
int kura_search_each(kura_store *st, const kura_query *q, kura_store_object_fn fn, void *ud, kura_error *err);

#endif
