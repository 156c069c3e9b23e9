/* Export packages: what `kura export`, `kura verify-export` and `kura import` do
 * with BagIt bags of documents and their evidence (bag files: package/bag.h; package/package.h holds what only kura uses).
 *
 * Layout of a package NAME.tar[.zst] (docs/FORMAT.md has the details):
 *   NAME/bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
 *   NAME/VERIFY.md                   how to check the package without kura
 *   NAME/data/tsa-anchors.pem        the roots of every TSA the store trusts
 *   NAME/data/files/<path>           the document, under the path ingest was given
 *                                    (made safe; docs/FORMAT.md)
 *   NAME/data/<ID>/<name>.erp        its RFC 4998 Evidence Record (DER) in parts: the
 *                                    record without its tokens, and where each goes
 *   NAME/data/<ID>/object.json       what kura knows of it (id, name, meta, "file": where
 *                                    its document is, ...),
 *                                    "members": the files of its data object group
 *   NAME/data/tokens/<SHA-256>.tsr   each time-stamp token once (DER)
 *   NAME/data/tokens/INDEX.tsv       file, genTime, epoch seconds, hash, imprint
 *   NAME/data/INDEX.csv              one row per object; NAME/verify.sh checks it all
 * Packages of the earlier layouts (the document beside its record in data/<ID>/;
 * <name>.ers whole, data/<ID>/tokens/) are read too.
 * A document's name is kept (in NFC; a name that is not UTF-8 in its escaped
 * form, common/escape.h) unless it cannot be a file name as it is (a '/',
 * control characters, '%', "..", a reserved name): such characters become '_'. */
#ifndef KURA_PUBLIC_PACKAGE_H
#define KURA_PUBLIC_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "kura/store.h"

typedef struct kura_export_result {
	size_t objects;  /* exported */
	size_t unsealed; /* left out: no evidence record yet */
	size_t disposed; /* left out: disposed of (their content is removed) */
	uint64_t bytes;  /* document bytes */
	size_t audit_records; /* of the exported objects' audit trail (data/audit/trail.jsonl) */
	size_t checkpoints;   /* the trail's checkpoints that hold them, with their evidence */
	size_t withheld;      /* limited packages: the trail's records left out (they name no object seen) */
} kura_export_result;

/* Writes the package out (.tar or .tar.zst) with the objects named in ids (n of
 * them; none: every object but kura's own), in ID order, and their audit trail
 * (data/audit/: their audit records and the trail's checkpoints that hold them).
 * Memory stays constant in the size of the documents (26 bytes an object for
 * the trail's selection, its INDEX.csv row, 65 bytes a distinct token); a
 * damaged object fails the export and no package is left behind. */
int kura_export(kura_export_result *res, kura_store *st, const char *out, const char *const *ids, size_t n,
		kura_error *err);

/* kura_export of the store at path, as `kura export` does it: the store is read
 * without the writer's lock while the package is written, then opened for
 * writing to append the export's audit record (action "export": the objects,
 * the package's path, counts); a package whose export cannot be recorded is
 * removed again. */
int kura_export_store(kura_export_result *res, const char *path, const char *out, const char *const *ids, size_t n,
		      kura_error *err);
/* kura_export of st, which the caller holds open for writing (the preservation
 * service), followed by the export's audit record as kura_export_store writes
 * it, its "to" saying where the package went (NULL: out's path). */
int kura_export_recorded(kura_export_result *res, kura_store *st, const char *out, const char *to,
			 const char *const *ids, size_t n, kura_error *err);
/* A package for an account limited to collections (the preservation service;
 * docs/FORMAT.md, "A package for an account limited to collections"):
 * sees(ud, id) is 1 when the account sees object id; redact(ud, j) replaces in
 * j every ID or description of an object it does not see. Such a package
 * carries none of the trail's checkpoints (each holds every audit record of
 * its span, other collections' too), so its trail's records are unproven in
 * it; of the records, only those naming an object or record it sees, each
 * redacted (a line unchanged by it stays byte for byte as stored); its
 * report.html redacted; and says so in bag-info.txt. */
typedef struct kura_export_limit {
	int (*sees)(void *ud, const char *id);
	void (*redact)(void *ud, json_t *j);
	void *ud;
} kura_export_limit;

/* kura_export of st, which may be a view (kura_store_view_open: no writer lock
 * needed), giving the fields of the export's audit record (*fields, the
 * caller's) for the caller to write as action "export" with the writer; the
 * caller removes out if it cannot. limit: NULL, or what the account may see
 * (above; the audit record then says "limited": true). */
int kura_export_fields(kura_export_result *res, json_t **fields, kura_store *st, const char *out, const char *to,
		       const char *const *ids, size_t n, const kura_export_limit *limit, kura_error *err);

/* Checks a package (tar or folder): the bag's manifests, then every (FILE,
 * FILE.ers) pair in it against anchors (borrowed; NULL: the package's data/tsa-anchors.pem)
 * at time at_ms. *report (the caller's) holds "verdict", "manifest" {"verdict",
 * "problems"} and "objects" (each a verify-er report plus "document" and
 * "record"). Non-zero only when the package cannot be read or is unsafe
 * (KURA_EINPUT) or the check could not run. */
int kura_export_verify(json_t **report, const char *package, STACK_OF(X509) *anchors, int64_t at_ms,
		       kura_error *err);

typedef struct kura_import_options {
	int accept_invalid;  /* adopt records that do not verify (reported) */
	uint64_t max_entry;  /* largest file accepted from a tar (0: 64 GiB) */
	/* Hears of each object: new_id when it was imported, else NULL and why not. */
	void (*report)(void *ud, const char *document, const char *new_id, const char *verdict, const char *why);
	/* Hears what an imported object did not keep of what its package claims (a
	 * taken ID, a version link, an ingest time), or that it is in the store
	 * already (report hears of it too, with its ID). May be NULL. */
	void (*note)(void *ud, const char *document, const char *what);
	void *ud;
} kura_import_options;

typedef struct kura_import_result {
	size_t imported, refused;
	size_t present; /* in the store already: not imported again */
} kura_import_result;

/* Imports a kura package or a folder/tar of (FILE, FILE.ers) pairs into st (open
 * for writing): each record is verified against the store's TSA roots, then the
 * document and its record (kept byte-exact, evidence kind 'I') are added in one
 * commit, or nothing of that object is. An object of a kura package keeps its
 * ID, ingest time, actor, versions and retention fields where the store allows
 * (package/import_origin.c; docs/FORMAT.md "What an import keeps"). */
int kura_import(kura_import_result *res, kura_store *st, const char *package, const kura_import_options *o,
		kura_error *err);

#endif
