/* What an import keeps of where an object came from (package/import_origin.c). */
#ifndef KURA_PACKAGE_IMPORT_ORIGIN_H
#define KURA_PACKAGE_IMPORT_ORIGIN_H

#include <stdint.h>

#include <jansson.h>

#include "kura/id.h"
#include "package/package.h"

/* What one import has brought so far: original ID -> {"id", "record"} in this
 * store (seen), a record's newest version (current), the original records whose
 * versions get new IDs (renamed), the IDs used (used). Owned; clear it. */
typedef struct kura_import_origin {
	json_t *seen, *current, *renamed, *used;
} kura_import_origin;

int kura_import_origin_new(kura_import_origin *o, kura_error *err);
void kura_import_origin_clear(kura_import_origin *o);

/* For one object: the ID to keep ("": a new one), the ingest time to keep (-1:
 * now), the fields of its object record (kura_ingest_set_fields; owned), the
 * original record it claims to belong to, and what was not kept and why
 * ("" when all was). */
typedef struct kura_import_plan {
	char id[KURA_ID_LEN + 1];
	int64_t ingested_ms;
	json_t *fields;
	char record[KURA_ID_LEN + 1];
	char notes[1024];
} kura_import_plan;

/* Plans the import of the object of group g (verified already; proven: the
 * genTime of its evidence's first time-stamp, RFC 3339, or NULL) from package
 * (its file name) at time now. 1 when the store holds this very object already
 * (nothing to import), 0, or an error. Clear p in every case. */
int kura_import_origin_plan(kura_import_plan *p, kura_import_origin *o, kura_store *st, const kura_package_group *g,
			    const char *package, int64_t now, const char *proven, kura_error *err);
/* The object planned by p was imported as id (claimed: its original ID or NULL). */
int kura_import_origin_done(kura_import_origin *o, const kura_import_plan *p, const char *claimed, const char *id,
			    kura_error *err);
void kura_import_plan_clear(kura_import_plan *p);

#endif
