/* The index through a store: reindex writes byte for byte the index entries
 * that ingest (with group members and an adopted object), seal and the audit
 * trail wrote, entry kind by entry kind (the one writer of an object's entries,
 * index/index.c, and the reindex rules of archive/rebuild.c agree). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/hex.h"
#include "index/index.h"
#include "kura/ingest.h"
#include "testutil.h"

/* Every entry of the store's index, one "key=value" line each (hex); counts
 * the entries of each namespace (first key byte) in kinds. */
static char *dump_index(const char *store, unsigned kinds[256])
{
	char path[4096], *text = NULL, *hk, *hv;
	size_t size = 0, klen, vlen;
	const void *k, *v;
	kura_index *ix;
	kura_error err;
	snprintf(path, sizeof path, "%s/index", store);
	ck_assert_msg(kura_index_open(&ix, path, KURA_INDEX_READONLY, &err) == 0, "%s", err.message);
	FILE *f = open_memstream(&text, &size);
	kura_index_cursor *c = kura_index_cursor_open(ix, NULL, 0, NULL, 0, &err);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(c);
	memset(kinds, 0, 256 * sizeof kinds[0]);
	int rc;
	while ((rc = kura_index_cursor_next(c, &k, &klen, &v, &vlen, &err)) == 1) {
		kinds[((const unsigned char *)k)[0]]++;
		ck_assert_ptr_nonnull(hk = malloc(2 * klen + 1));
		ck_assert_ptr_nonnull(hv = malloc(2 * vlen + 1));
		kura_hex_encode(hk, k, klen);
		kura_hex_encode(hv, v, vlen);
		fprintf(f, "%s=%s\n", hk, hv);
		free(hk);
		free(hv);
	}
	ck_assert_msg(rc == 0, "%s", err.message);
	kura_index_cursor_close(c);
	kura_index_close(ix);
	fclose(f);
	return text;
}

/* Fails naming the first line where a and b differ. */
static void same_lines(const char *a, const char *b)
{
	size_t line = 1, i = 0;
	for (; a[i] && a[i] == b[i]; i++)
		line += a[i] == '\n';
	while (i > 0 && a[i - 1] != '\n')
		i--;
	ck_assert_msg(strcmp(a, b) == 0, "entry %zu differs: %.120s versus %.120s", line, a + i, b + i);
}

static void ingest_with_members_and_adopted(kura_store *st)
{
	kura_ingest *in;
	kura_error err;
	char id[KURA_ID_LEN + 1];
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	fputs("a signed document", f);
	fflush(f);
	ck_assert_int_eq(kura_ingest_new(&in, st, NULL, NULL, &err), 0);
	kura_meta meta[2] = {{"source", "scanner 4"}, {"title", "Ledger 2026"}};
	kura_member sig = {"signature", "doc.p7s", (const unsigned char *)"not really CMS", 14};
	rewind(f);
	ck_assert_msg(kura_ingest_add_group(in, fileno(f), "doc.txt", "doc.txt", meta, 2, &sig, 1, NULL, &err) == 0, "%s",
		      err.message);
	rewind(f); /* the same content again: an object record only */
	ck_assert_msg(kura_ingest_add(in, fileno(f), "again.txt", "again.txt", meta, 1, &err) == 0, "%s", err.message);
	rewind(f);
	ck_assert_msg(kura_ingest_adopt(in, fileno(f), "imported.txt", "imported.txt", NULL, 0, NULL, 0, NULL,
					KURA_EVIDENCE_IMPORTED, (const unsigned char *)"an ERS", 6, id, &err) == 0,
		      "%s", err.message);
	ck_assert_msg(kura_ingest_commit(in, &err) == 0, "%s", err.message);
	kura_ingest_free(in);
	fclose(f);
}

/* Records management's entries: a version (with a class and an event given at
 * ingest), an event, a hold and its release, each by its own audit record. */
static void versions_events_and_holds(kura_store *st, const char *first)
{
	kura_ingest *in;
	kura_error err;
	char id[KURA_ID_LEN + 1], rec[KURA_ID_LEN + 1];
	memcpy(rec, first, KURA_ID_LEN);
	rec[KURA_ID_LEN] = '\0';
	json_t *fields = json_pack("{s:s, s:s, s:s, s:{s:s}}", "record", rec, "supersedes", rec, "class", "eu-ctr-tmf",
				   "events", "trial-end", "2030-01-31");
	ck_assert_int_eq(kura_ingest_new(&in, st, NULL, NULL, &err), 0);
	kura_ingest_set_fields(in, fields);
	kura_meta meta = {"工事番号", "K-2026-001"};
	ck_assert_msg(kura_ingest_add_version(in, rec, &meta, 1, id, &err) == 0, "%s", err.message);
	ck_assert_msg(kura_ingest_commit(in, &err) == 0, "%s", err.message);
	kura_ingest_free(in);
	json_decref(fields);
	json_t *ev = json_pack("{s:s, s:s, s:[s], s:s}", "name", "trial-end", "date", "2031-03-31", "records", rec, "reason", "moved");
	json_t *hold = json_pack("{s:s, s:[s], s:s}", "name", "tax audit", "records", rec, "reason", "inspection");
	ck_assert_msg(kura_store_audit_record(st, "event", ev, NULL, &err) == 0, "%s", err.message);
	ck_assert_msg(kura_store_audit_record(st, "hold", hold, NULL, &err) == 0, "%s", err.message);
	json_object_set_new(hold, "name", json_string("released hold"));
	ck_assert_msg(kura_store_audit_record(st, "hold", hold, NULL, &err) == 0, "%s", err.message);
	ck_assert_msg(kura_store_audit_record(st, "release", hold, NULL, &err) == 0, "%s", err.message);
	json_decref(ev);
	json_decref(hold);
}

START_TEST(reindex_writes_the_entries_ingest_wrote)
{
	char *dir = kura_test_tmpdir(), store[4096], ids[5 * KURA_ID_LEN];
	unsigned before[256], after[256];
	kura_store *st;
	kura_error err;
	snprintf(store, sizeof store, "%s/store", dir);
	kura_test_store_init(store, NULL, NULL);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	static const char *const texts[] = {"one", "two", "three", "four", "one"};
	static const char *const names[] = {"1.txt", "2.txt", "3.txt", "4.txt", "5.txt"};
	kura_test_ingest(st, texts, names, 3, ids);
	ingest_with_members_and_adopted(st);
	kura_test_seal(st, NULL);
	kura_test_ingest(st, texts + 3, names + 3, 2, ids); /* pending after the seal */
	ck_assert_msg(kura_store_audit(st, "test", NULL, &err) == 0, "%s", err.message);
	versions_events_and_holds(st, ids);
	kura_store_close(st);

	char *ingested = dump_index(store, before);
	uint64_t objects, damaged;
	ck_assert_msg(kura_store_reindex(store, &objects, &damaged, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(objects, 9);
	ck_assert_uint_eq(damaged, 0);
	char *rebuilt = dump_index(store, after);
	same_lines(rebuilt, ingested);
	/* every kind of entry was compared */
	ck_assert_uint_eq(before['o'], 9);
	ck_assert_uint_eq(before['p'], 3);
	ck_assert_uint_ge(before['b'], 6);
	ck_assert_uint_ge(before['E'], 2);
	ck_assert_uint_eq(before['r'], 1);
	ck_assert_uint_eq(before['e'], 1);
	ck_assert_uint_eq(before['a'], 9); /* four ingest commits, the test's, event, two holds, a release */
	ck_assert_uint_eq(before['q'], 9);
	ck_assert_uint_eq(before['V'], 1);
	ck_assert_uint_eq(before['S'], 1);
	ck_assert_uint_eq(before['C'], 1);
	ck_assert_uint_eq(before['T'], 1); /* the event's date replaced the one given at ingest */
	ck_assert_uint_eq(before['x'], 5); /* the version's ingest, the event, the holds and the release */
	ck_assert_uint_eq(before['L'], 1); /* the released hold's entry is gone */
	ck_assert_uint_eq(before['G'], 2);
	ck_assert_uint_eq(before['w'], 1);
	free(ingested);
	free(rebuilt);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("index_store");
	TCase *store = tcase_create("store");
	tcase_add_test(store, reindex_writes_the_entries_ingest_wrote);
	suite_add_tcase(s, store);
	return kura_test_run(s);
}
