/* Helpers shared by the Check unit tests. */
#ifndef KURA_TESTUTIL_H
#define KURA_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/tsa.h"
#include "kura/store.h"

/* A new empty folder under /tmp (malloc'd path). */
char *kura_test_tmpdir(void);
/* Removes the folder and frees the path. */
void kura_test_rmdir(char *dir);

/* The local-file backend of store folder dir, its segments/ folder made here
 * (free with kura_backend_free). */
struct kura_backend;
struct kura_backend *kura_test_file_backend(const char *dir);

/* A date (YYYY-MM-DD) as days since 1970-01-01 (fails the test if it is not
 * one), and back: the text lives until four more calls. */
int32_t kura_test_day(const char *s);
const char *kura_test_day_text(int32_t d);

/* Writes text into dir/name (fails the test if it cannot). */
void kura_test_write(const char *dir, const char *name, const char *text);

/* Makes a store at path as `kura init` does: the policy (a file or shipped name;
 * NULL: the default) and an embedded TSA made with tsa (NULL: defaults). */
void kura_test_store_init(const char *path, const char *policy, const kura_tsa_options *tsa);

/* Ingests n documents (texts[i] named names[i]) into st (open for writing) in
 * one commit; ids receives their IDs, KURA_ID_LEN characters each. */
void kura_test_ingest(kura_store *st, const char *const *texts, const char *const *names, size_t n, char *ids);

/* Seals every pending object of st (open for writing) with the store's TSA
 * setup; res (may be NULL) gets the result. */
struct kura_seal_result;
void kura_test_seal(kura_store *st, struct kura_seal_result *res);

/* Verifies the DER evidence record der over the document text against anchors
 * at time at (RFC 3339); the report (the caller's). */
json_t *kura_test_verify_text(const unsigned char *der, size_t len, const char *text, STACK_OF(X509) *anchors,
			      const char *at);
/* The report's verdict ("valid", "invalid", "indeterminate"). */
const char *kura_test_verdict(json_t *report);

/* Sets KURA_NOW (NULL: unsets it). */
void kura_test_now(const char *rfc3339);

/* Every entry of the index of the store at store, one "key=value" line each
 * (hex; the caller frees the text); counts the entries of each namespace (first
 * key byte) in kinds. */
char *kura_test_dump_index(const char *store, unsigned kinds[256]);
/* Fails naming the first line where a and b differ. */
void kura_test_same_lines(const char *a, const char *b);

#include <check.h>

/* Runs every test of the suite; the process exit status. */
int kura_test_run(Suite *s);

#endif
