/* The evidence part of an export package (package/export_evidence.c): tokens
 * once per package, records in parts, INDEX.csv. */
#ifndef KURA_EXPORT_EVIDENCE_H
#define KURA_EXPORT_EVIDENCE_H

#include <stddef.h>

#include <jansson.h>

#include "kura/store.h"
#include "package/package.h"

typedef struct kura_export_evidence kura_export_evidence;

/* For an export of st (borrowed; it must outlive x): its typed fields and a
 * verifier for INDEX.csv. Free with kura_export_evidence_free. */
int kura_export_evidence_new(kura_export_evidence **out, kura_store *st, kura_error *err);
void kura_export_evidence_free(kura_export_evidence *x);

/* Writes the record der[0, len) as the .erp at path (inside the bag), and
 * before it every token of it the package does not hold yet. */
int kura_export_evidence_record(kura_export_evidence *x, kura_bag_writer *w, const char *path,
				const unsigned char *der, size_t len, kura_error *err);

/* INDEX.csv's row of object id (o: its description): ID, path, name, the
 * store's typed fields, SHA-256, first time-stamp, verdict (as kura verify
 * gives it now), file (where the document is in the package). */
int kura_export_evidence_row(kura_export_evidence *x, const char *id, json_t *o, const char *file, kura_error *err);

/* Adds data/INDEX.csv and data/tokens/INDEX.tsv to the bag. */
int kura_export_evidence_finish(kura_export_evidence *x, kura_bag_writer *w, kura_error *err);

#endif
