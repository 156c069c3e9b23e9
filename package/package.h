/* Export packages: what `kura export`, `kura verify-export` and `kura import` do
 * with BagIt bags of documents and their evidence (bag files: package/bag.h).
 *
 * Layout of a package NAME.tar[.zst] (docs/FORMAT.md has the details):
 *   NAME/bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
 *   NAME/VERIFY.md                   how to check the package without kura
 *   NAME/data/tsa-anchors.pem        the roots of every TSA the store trusts
 *   NAME/data/<ID>/<name>            the document, under its original name
 *   NAME/data/<ID>/<name>.ers        its RFC 4998 Evidence Record (DER)
 *   NAME/data/<ID>/object.json       what kura knows of it (id, name, meta, ...),
 *                                    "members": the files of its data object group
 *   NAME/data/<ID>/tokens/C-A.tsr    the time-stamp token of chain C, ATS A (DER)
 *   NAME/data/<ID>/tokens/INDEX.tsv  file, genTime, epoch seconds, hash, imprint
 * A document's name is kept (in NFC; a name that is not UTF-8 in its escaped
 * form, common/escape.h) unless it cannot be a file name as it is (a '/',
 * control characters, '%', "..", a reserved name): such characters become '_'. */
#ifndef KURA_PACKAGE_H
#define KURA_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "package/bag.h"
#include "evidence/verify.h"
#include "kura/store.h"

typedef struct kura_export_result {
	size_t objects;  /* exported */
	size_t unsealed; /* left out: no evidence record yet */
	uint64_t bytes;  /* document bytes */
} kura_export_result;

/* Writes the package out (.tar or .tar.zst) with the objects named in ids (n of
 * them; none: every object), in ID order. Memory stays constant in the number
 * and size of the documents; a damaged object fails the export and no package
 * is left behind. */
int kura_export(kura_export_result *res, kura_store *st, const char *out, const char *const *ids, size_t n,
		kura_error *err);

/* Checks a package (tar or folder): the bag's manifests, then every (FILE,
 * FILE.ers) pair in it against anchors (NULL: the package's data/tsa-anchors.pem)
 * at time at_ms. *report (the caller's) holds "verdict", "manifest" {"verdict",
 * "problems"} and "objects" (each a verify-er report plus "document" and
 * "record"). Non-zero only when the package cannot be read or is unsafe
 * (KURA_EINPUT) or the check could not run. */
int kura_export_verify(json_t **report, const char *package, STACK_OF(X509) *anchors, int64_t at_ms,
		       kura_error *err);

/* A document's data object group in a package, from its folder's object.json
 * (a kura export; package/package_read.c): the document, then its detached
 * signature (if any) and its validation data (if any), as files. object is
 * object.json (owned; NULL when there is none: a group of one); id, name, meta
 * (an object of strings) and signature (what the exporting store found at
 * ingest) are borrowed from it, NULL when absent, and type-checked. */
typedef struct kura_package_group {
	kura_er_group files;
	char paths[3][4096];
	int detached, signed_doc;
	json_t *object;
	const char *id, *name;
	json_t *meta, *signature;
} kura_package_group;

/* file: the document's path relative to root. KURA_EINPUT (why in err) when
 * object.json is unreadable, not JSON, has a duplicated key or a field of the
 * wrong type, or names a member that is not a plain file beside the document.
 * Clear the group in every case. */
int kura_package_group_load(kura_package_group *g, const char *root, const char *file, kura_error *err);
/* The same with object.json's bytes given (len of them; e.g. by a fuzzer):
 * nothing is read from the file system. */
int kura_package_group_parse(kura_package_group *g, const char *root, const char *file, const char *text, size_t len,
			     kura_error *err);
void kura_package_group_clear(kura_package_group *g);

/* How verify-export and import both account for a package: the bag's manifest
 * problems (problems: [{"file", "problem"}]; the first outside any object
 * folder in package_problem, "" if none) and its object folders ("data/<ID>" ->
 * {"why": its first problem or null, "pairs": pairs found}). Owned; clear it. */
typedef struct kura_package_audit {
	json_t *problems, *folders;
	char package_problem[1024];
} kura_package_audit;

int kura_package_audit_run(kura_package_audit *a, const kura_package *p, kura_error *err);
void kura_package_audit_clear(kura_package_audit *a);

/* fn hears of every (FILE, FILE.ers) pair of the package, with why: NULL, or the
 * manifest problem of its object folder; then of every object folder in which
 * no pair was found: file is the folder, record NULL, why its manifest problem
 * or NULL (its document and record are both gone, manifests and all). */
typedef int (*kura_package_object_fn)(void *ud, const char *file, const char *record, const char *why,
				      kura_error *err);
int kura_package_each_object(kura_package_audit *a, const kura_package *p, kura_package_object_fn fn, void *ud,
			     kura_error *err);

typedef struct kura_import_options {
	int accept_invalid;  /* adopt records that do not verify (reported) */
	uint64_t max_entry;  /* largest file accepted from a tar (0: 64 GiB) */
	/* Hears of each object: new_id when it was imported, else NULL and why not. */
	void (*report)(void *ud, const char *document, const char *new_id, const char *verdict, const char *why);
	void *ud;
} kura_import_options;

typedef struct kura_import_result {
	size_t imported, refused;
} kura_import_result;

/* Imports a kura package or a folder/tar of (FILE, FILE.ers) pairs into st (open
 * for writing): each record is verified against the store's TSA roots, then the
 * document and its record (kept byte-exact, evidence kind 'I') are added in one
 * commit, or nothing of that object is. */
int kura_import(kura_import_result *res, kura_store *st, const char *package, const kura_import_options *o,
		kura_error *err);

#endif
