/* Export packages: what kura's modules share about them (the public part,
 * with the layout of a package, is kura/package.h). */
#ifndef KURA_PACKAGE_H
#define KURA_PACKAGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "package/bag.h"
#include "evidence/verify.h"
#include "kura/package.h"
#include "kura/store.h"

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

/* file: the document's path relative to root; record: its evidence record's
 * (NULL: beside file), whose folder holds object.json and the members. A
 * document under data/files/ must be the one object.json's "file" names, and
 * one beside its record must not have a "file". KURA_EINPUT (why in err) when
 * object.json is unreadable, not JSON, has a duplicated key or a field of the
 * wrong type, or names a member that is not a plain file beside the record.
 * Clear the group in every case. */
int kura_package_group_load(kura_package_group *g, const char *root, const char *file, const char *record,
			    kura_error *err);
/* The same with object.json's bytes given (len of them; e.g. by a fuzzer):
 * nothing is read from the file system. */
int kura_package_group_parse(kura_package_group *g, const char *root, const char *file, const char *record,
			     const char *text, size_t len, kura_error *err);
void kura_package_group_clear(kura_package_group *g);

/* How verify-export and import both account for a package: the bag's manifest
 * problems and those of the documents object.json's "file" names (problems:
 * [{"file", "problem"}]; the first outside any object folder in
 * package_problem, "" if none), its object folders ("data/<ID>" -> {"why": its
 * first problem or null, "pairs": pairs found, and when its document is under
 * data/files/ and usable: "file" and "record"}) and the documents under
 * data/files/ ("data/files/..." -> the folder whose object.json names it).
 * Owned; clear it. */
typedef struct kura_package_audit {
	json_t *problems, *folders, *claims;
	size_t unusable; /* object folders whose object.json cannot be read (the reason: "unusable") */
	char package_problem[1024];
} kura_package_audit;

int kura_package_audit_run(kura_package_audit *a, const kura_package *p, kura_error *err);
void kura_package_audit_clear(kura_package_audit *a);

/* fn hears of every (FILE, FILE.ers) pair of the package, with why: NULL, or the
 * manifest problem of its object folder; then, in the order of their names, of
 * every object folder in which no such pair was found: a document under
 * data/files/ with its record, or file is the folder, record NULL, why its
 * first problem or NULL (its document and record are both gone, manifests and
 * all). */
typedef int (*kura_package_object_fn)(void *ud, const char *file, const char *record, const char *why,
				      kura_error *err);
int kura_package_each_object(kura_package_audit *a, const kura_package *p, kura_package_object_fn fn, void *ud,
			     kura_error *err);

/* The audit trail a package carries (package/trail_read.c, docs/FORMAT.md):
 * data/audit/trail.jsonl (lines: nlines records, as exported) and the
 * checkpoints under data/audit/<ID>/ whose evidence verified (their lines:
 * proven). covered: how many of the trail's lines are proven. */
typedef struct kura_package_trail {
	char *text, **lines;
	size_t nlines, covered, checkpoints;
	char **texts, **proven; /* the checkpoints' contents; their lines, sorted once finished */
	size_t ntexts, nproven;
} kura_package_trail;
/* Whether a package file belongs to the trail (data/audit/...). */
int kura_package_is_trail(const char *file);
/* Takes the checkpoint root/file, whose evidence record verified. */
int kura_package_trail_add_checkpoint(kura_package_trail *t, const char *root, const char *file, kura_error *err);
/* Reads data/audit/trail.jsonl (none: no lines) and counts what is proven. */
int kura_package_trail_finish(kura_package_trail *t, const char *root, kura_error *err);
/* Whether line i is proven (after finish). */
int kura_package_trail_proven(const kura_package_trail *t, size_t i);
void kura_package_trail_clear(kura_package_trail *t);

/* Evidence records in parts (package/record_parts.c): each token once per
 * package in data/tokens/<SHA-256>.tsr, each record as NAME.erp.
 * kura_parts_header: the first line of a .erp for the record der[0, dlen)
 * whose n tokens start at offsets[] (ascending) and are named tokens[] (their
 * SHA-256 in hex); *out is the caller's. */
int kura_parts_header(char **out, size_t *len, const unsigned char *der, size_t dlen, const size_t *offsets,
		      const char (*tokens)[65], size_t n, kura_error *err);
/* The whole record rebuilt from the .erp text[0, tlen) named file (relative to
 * root, the bag's folder) and root/data/tokens/: KURA_EINPUT saying what is
 * wrong with any reference, or when the result is not the size and SHA-256 the
 * .erp gives. *out (len bytes) is the caller's. */
int kura_parts_rebuild(unsigned char **out, size_t *len, const char *root, const char *file, const char *text,
		       size_t tlen, kura_error *err);
int kura_parts_load(unsigned char **out, size_t *len, const char *root, const char *file, kura_error *err);
/* A package's record (root/record): a .erp rebuilt, else an .ers read whole. */
int kura_package_read_record(unsigned char **out, size_t *len, const char *root, const char *record, kura_error *err);

#endif
