/* Compaction (archive/compact.c), the storage side of disposal: the blobs that
 * only disposed objects use are removed (a blob shared with a live object stays;
 * a disposed group's members go too), every other object still reads and
 * verifies at its new place, the removed content's 'b' entry is gone (the same
 * content ingested again is stored again), reindex builds the same index, and
 * a storage failure at any write, sync, create or replace of a compaction leaves
 * a store that is consistent and usable (archive/backend_fault.c). */
#include <check.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/hex.h"
#include "index/index.h"
#include "kura/clock.h"
#include "kura/ingest.h"
#include "kura/package.h"
#include "kura/verify.h"
#include "testutil.h"

#define AUDIT_ID "01JZZZZZZZZZZZZZZZZZZZZZZZ" /* stands for the disposal's audit record */
#define TEXT 3000                             /* bytes: each commit fills a 4096-byte segment */
#define OBJECTS 7

/* What the fixture store holds: objects 0, 1 and 4 (a group) are disposed of;
 * 1 shares its content with the live 2; 6 is in the active segment. */
struct fixture {
	char *dir;
	char store[4096];
	char ids[OBJECTS][KURA_ID_LEN + 1];
	char text[OBJECTS][TEXT + 1];
	char sig[TEXT + 1]; /* the group's signature member */
};
static const int disposed_of[OBJECTS] = {1, 1, 0, 0, 1, 0, 0};

static void make_text(char *out, unsigned seed)
{
	for (size_t i = 0; i < TEXT; i++) {
		seed = seed * 1103515245u + 12345u;
		out[i] = (char)(' ' + (seed >> 16) % 94);
	}
	out[TEXT] = '\0';
}

static void keep_done_id(void *ud, const char *id, const char *sha256_hex, const char *path)
{
	(void)sha256_hex, (void)path;
	memcpy(ud, id, KURA_ID_LEN + 1);
}

static void ingest_one(kura_store *st, const char *text, const kura_member *sig, char *id)
{
	kura_ingest *in;
	kura_error err;
	char ids[KURA_ID_LEN];
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fflush(f);
	rewind(f);
	if (!sig) {
		const char *texts[] = {text};
		const char *names[] = {"doc.txt"};
		fclose(f);
		kura_test_ingest(st, texts, names, 1, ids);
		memcpy(id, ids, KURA_ID_LEN);
		id[KURA_ID_LEN] = '\0';
		return;
	}
	ck_assert_int_eq(kura_ingest_new(&in, st, keep_done_id, id, &err), 0);
	ck_assert_msg(kura_ingest_add_group(in, fileno(f), "doc.txt", "doc.txt", NULL, 0, sig, 1, NULL, &err) == 0, "%s",
		      err.message);
	ck_assert_msg(kura_ingest_commit(in, &err) == 0, "%s", err.message);
	kura_ingest_free(in);
	fclose(f);
}

static void mark_disposed(kura_store *st, const struct fixture *fx)
{
	kura_index_batch *b;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	for (int i = 0; i < OBJECTS; i++)
		if (disposed_of[i])
			kura_index_batch_put_disposed(b, fx->ids[i], AUDIT_ID);
	ck_assert_int_eq(kura_index_write(kura_store_index(st), b, 1, &err), 0);
	kura_index_batch_free(b);
}

static void mark_disposed_at(const char *store, const struct fixture *fx)
{
	kura_store *st;
	kura_error err;
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	mark_disposed(st, fx);
	kura_store_close(st);
}

/* A sealed store in fx->dir/store (segments of 4096 bytes, or one large one),
 * its disposed objects marked. */
static void fixture_make(struct fixture *fx, uint64_t segment_size)
{
	kura_init_options o = {.segment_size = segment_size};
	kura_store *st;
	kura_error err;
	fx->dir = kura_test_tmpdir();
	snprintf(fx->store, sizeof fx->store, "%s/store", fx->dir);
	ck_assert_msg(kura_store_create(fx->store, &o, NULL, NULL, &err) == 0, "%s", err.message);
	ck_assert_int_eq(kura_store_open(&st, fx->store, KURA_STORE_WRITE, &err), 0);
	for (int i = 0; i < OBJECTS; i++)
		make_text(fx->text[i], 7u + (unsigned)i);
	memcpy(fx->text[2], fx->text[1], sizeof fx->text[1]); /* one content, two objects */
	make_text(fx->sig, 99);
	kura_member sig = {"signature", "doc.p7s", (const unsigned char *)fx->sig, TEXT};
	for (int i = 0; i < OBJECTS - 1; i++)
		ingest_one(st, fx->text[i], i == 4 ? &sig : NULL, fx->ids[i]);
	kura_test_seal(st, NULL);
	ingest_one(st, fx->text[OBJECTS - 1], NULL, fx->ids[OBJECTS - 1]);
	kura_test_seal(st, NULL);
	mark_disposed(st, fx);
	kura_store_close(st);
}

static int collect(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	(void)err;
	char **buf = ud;
	size_t have = strlen(*buf);
	ck_assert_uint_le(have + n, TEXT);
	memcpy(*buf + have, p, n);
	(*buf)[have + n] = '\0';
	return 0;
}

static uint64_t store_bytes(kura_store *st)
{
	kura_backend *be = kura_store_backend(st);
	uint32_t *segs;
	size_t n;
	uint64_t total = 0, size;
	ck_assert_int_eq(kura_segment_list(&segs, &n, be, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(be->stat(be, segs[i], &size), 0);
		total += size;
	}
	free(segs);
	return total;
}

/* The segment of content text's blob (its 'b' entry); 0 when there is none.
 * *bytes (may be NULL) gets the length of its record. */
static uint32_t content_place(kura_store *st, const char *text, uint64_t *bytes)
{
	unsigned char sha[32];
	kura_index_blob b;
	kura_error err;
	ck_assert_ptr_nonnull(SHA256((const unsigned char *)text, strlen(text), sha));
	int rc = kura_index_get_blob(kura_store_index(st), sha, &b, &err);
	ck_assert(rc == 0 || rc == KURA_ENOTFOUND);
	if (bytes)
		*bytes = rc == 0 ? b.stored + KURA_RECORD_OVERHEAD : 0;
	return rc == 0 ? b.segno : 0;
}

static uint32_t content_segment(kura_store *st, const char *text)
{
	return content_place(st, text, NULL);
}

static int has_content(kura_store *st, const char *text)
{
	return content_segment(st, text) != 0;
}

/* Every live object reads back byte for byte and verifies; every disposed one
 * says so (read: not found, "disposed"; verify: "disposed"); scrub is clean. */
static void check_store(kura_store *st, const struct fixture *fx)
{
	kura_error err = {0};
	kura_verifier *v;
	char text[TEXT + 1], *p = text;
	ck_assert_msg(kura_verifier_new(&v, st, 0, &err) == 0, "%s", err.message);
	for (int i = 0; i < OBJECTS; i++) {
		text[0] = '\0';
		int rc = kura_store_read(st, fx->ids[i], collect, &p, &err);
		json_t *report = NULL;
		ck_assert_msg(kura_verifier_check(&report, v, fx->ids[i], &err) == 0, "%s", err.message);
		const char *verdict = json_string_value(json_object_get(report, "verdict"));
		if (disposed_of[i]) {
			ck_assert_int_eq(rc, KURA_ENOTFOUND);
			ck_assert_msg(strstr(err.message, "disposed of (audit record " AUDIT_ID ")"), "%s", err.message);
			ck_assert_str_eq(verdict, "disposed");
		} else {
			ck_assert_msg(rc == 0, "object %d: %s", i, err.message);
			ck_assert_str_eq(text, fx->text[i]);
			ck_assert_msg(strcmp(verdict, "valid") == 0, "object %d: %s: %s", i, verdict,
				      json_string_value(json_object_get(report, "reason")));
		}
		json_decref(report);
	}
	kura_verifier_free(v);
	uint64_t damaged = 1;
	ck_assert_msg(kura_store_scrub(st, NULL, NULL, &damaged, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(damaged, 0);
}

/* The dump of the index without the records layer's 'D' entries (reindex
 * leaves those to the records layer, which derives them from audit records). */
static char *dump_without_disposal(const char *store)
{
	unsigned kinds[256];
	char *text = kura_test_dump_index(store, kinds), *out = text;
	ck_assert_uint_eq(kinds['K'], 0); /* no compaction journal left */
	for (char *line = text, *next; *line; line = next) {
		next = strchr(line, '\n') + 1;
		if (strncmp(line, "44", 2) != 0) { /* 'D' */
			memmove(out, line, (size_t)(next - line));
			out += next - line;
		}
	}
	*out = '\0';
	return text;
}

START_TEST(compaction_removes_what_only_disposed_objects_use)
{
	struct fixture fx;
	kura_store *st;
	kura_error err;
	kura_compact_result res;
	fixture_make(&fx, 4096);
	ck_assert_int_eq(kura_store_open(&st, fx.store, KURA_STORE_WRITE, &err), 0);
	uint64_t before = store_bytes(st);
	uint64_t la, lb, lc;
	uint32_t a = content_place(st, fx.text[0], &la), b = content_place(st, fx.text[4], &lb);
	uint32_t c = content_place(st, fx.sig, &lc);
	ck_assert(a && b && c && a != b);
	ck_assert_msg(kura_store_compact(st, &res, &err) == 0, "%s", err.message);
	/* object 0's content, the group's document and signature; not the shared one */
	ck_assert_uint_eq(res.blobs, 3);
	ck_assert_uint_eq(res.segments, 2 + (c != a && c != b));
	ck_assert_uint_eq(res.bytes_before - res.bytes_after, la + lb + lc);
	ck_assert_uint_eq(before - store_bytes(st), res.bytes_before - res.bytes_after);
	ck_assert(!has_content(st, fx.text[0]) && !has_content(st, fx.text[4]) && !has_content(st, fx.sig));
	ck_assert(has_content(st, fx.text[1]));
	check_store(st, &fx);
	/* again: nothing left to remove */
	ck_assert_msg(kura_store_compact(st, &res, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.blobs, 0);
	kura_store_close(st);

	/* a reader and a new writer see the same; export leaves the disposed out and
	 * its package verifies; reindex builds the same index */
	ck_assert_int_eq(kura_store_open(&st, fx.store, KURA_STORE_READ, &err), 0);
	check_store(st, &fx);
	char pkg[4096];
	kura_export_result x;
	json_t *report = NULL;
	snprintf(pkg, sizeof pkg, "%s/pkg.tar", fx.dir);
	ck_assert_msg(kura_export(&x, st, pkg, NULL, 0, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(x.disposed, 3);
	ck_assert_uint_eq(x.objects, OBJECTS - 3);
	int64_t now;
	ck_assert_int_eq(kura_clock_now(&now, &err), 0);
	ck_assert_msg(kura_export_verify(&report, pkg, NULL, now, &err) == 0, "%s", err.message);
	ck_assert_str_eq(json_string_value(json_object_get(report, "verdict")), "valid");
	json_decref(report);
	kura_store_close(st);
	char *compacted = dump_without_disposal(fx.store);
	uint64_t objects, damaged;
	ck_assert_msg(kura_store_reindex(fx.store, &objects, &damaged, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(damaged, 0);
	ck_assert_uint_eq(objects, OBJECTS);
	char *rebuilt = dump_without_disposal(fx.store);
	kura_test_same_lines(rebuilt, compacted);
	free(compacted);
	free(rebuilt);

	/* the removed content, ingested again, is stored again */
	char id[KURA_ID_LEN + 1], text[TEXT + 1], *p = text;
	ck_assert_int_eq(kura_store_open(&st, fx.store, KURA_STORE_WRITE, &err), 0);
	ingest_one(st, fx.text[0], NULL, id);
	ck_assert(has_content(st, fx.text[0]));
	text[0] = '\0';
	ck_assert_msg(kura_store_read(st, id, collect, &p, &err) == 0, "%s", err.message);
	ck_assert_str_eq(text, fx.text[0]);
	kura_store_close(st);
	kura_test_rmdir(fx.dir);
}
END_TEST

START_TEST(the_active_segment_is_rolled_first)
{
	struct fixture fx;
	kura_store *st;
	kura_error err;
	kura_compact_result res;
	fixture_make(&fx, 1u << 30); /* everything in segment 1, the active one */
	ck_assert_int_eq(kura_store_open(&st, fx.store, KURA_STORE_WRITE, &err), 0);
	ck_assert_uint_eq(kura_segment_writer_segno(kura_store_writer(st)), 1);
	ck_assert_msg(kura_store_compact(st, &res, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.segments, 1);
	ck_assert_uint_eq(res.blobs, 3);
	ck_assert_uint_eq(kura_segment_writer_segno(kura_store_writer(st)), 2);
	check_store(st, &fx);
	char id[KURA_ID_LEN + 1];
	ingest_one(st, "written after the compaction", NULL, id);
	kura_store_close(st);
	ck_assert_int_eq(kura_store_open(&st, fx.store, KURA_STORE_WRITE, &err), 0);
	check_store(st, &fx);
	kura_store_close(st);
	kura_test_rmdir(fx.dir);
}
END_TEST

/* A live object whose description names content in another form than kura's
 * compact JSON (spaces after the colons) still keeps that content: compaction
 * reads such a description whole rather than miss what it uses. */
START_TEST(content_named_in_any_json_form_is_kept)
{
	struct fixture fx;
	kura_store *st;
	kura_error err;
	kura_compact_result res;
	kura_index_object o = {0};
	kura_index_batch *b;
	unsigned char sha[32];
	char hex[65], json[256];
	fixture_make(&fx, 4096);
	ck_assert_int_eq(kura_store_open(&st, fx.store, KURA_STORE_WRITE, &err), 0);
	ck_assert_ptr_nonnull(SHA256((const unsigned char *)fx.text[0], TEXT, sha));
	kura_hex_encode(hex, sha, 32);
	static const char id[] = "01JYYYYYYYYYYYYYYYYYYYYYYY"; /* after the fixture's, before the stand-in audit ID */
	snprintf(json, sizeof json, "{\"id\": \"%s\", \"sha256\": \"%s\"}", id, hex);
	/* placed at object 3's record, so that the index stays one compaction can move */
	ck_assert_int_eq(kura_index_get_object(kura_store_index(st), fx.ids[3], &o, &err), 0);
	kura_index_object_entry e = {id, o.segno, o.offset, json, strlen(json), NULL, 0};
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	kura_index_batch_put_object(b, &e);
	kura_index_batch_del_pending(b, id);
	ck_assert_int_eq(kura_index_write(kura_store_index(st), b, 1, &err), 0);
	kura_index_batch_free(b);
	kura_index_object_clear(&o);
	ck_assert_msg(kura_store_compact(st, &res, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.blobs, 2); /* the group's two; object 0's content is used */
	ck_assert(has_content(st, fx.text[0]) && !has_content(st, fx.sig));
	kura_store_close(st);
	kura_test_rmdir(fx.dir);
}
END_TEST

/* ---------------------------------------------------------------- faults */

static void copy_store(const char *from, const char *to)
{
	char cmd[8300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
	ck_assert_int_eq(system(cmd), 0);
}

/* Compacts store through a fault backend with cfg; *counts (may be NULL) gets
 * the calls of each operation. Returns the compaction's status. */
static int compact_under(const char *store, const kura_fault_config *cfg, unsigned long counts[KURA_FAULT_REPLACE + 1])
{
	kura_backend *inner, *be;
	kura_store *st;
	kura_error err;
	kura_compact_result res;
	ck_assert_int_eq(kura_backend_file_open(&inner, store, &err), 0);
	ck_assert_int_eq(kura_backend_fault_new(&be, inner, cfg, &err), 0);
	int rc = kura_store_open_with_backend(&st, store, KURA_STORE_WRITE, be, &err);
	if (rc == 0) {
		rc = kura_store_compact(st, &res, &err);
		ck_assert(rc == 0 || err.message[0]);
		kura_store_close(st);
	}
	for (int op = 0; counts && op <= KURA_FAULT_REPLACE; op++)
		counts[op] = kura_backend_fault_count(be, (enum kura_fault_op)op);
	be->free(be);
	inner->free(inner);
	return rc;
}

/* After a failed compaction: the next open takes the store up, every object
 * reads and verifies as before, and compaction then completes. */
static void usable_after(const char *store, const struct fixture *fx, const char *what)
{
	kura_store *st;
	kura_error err;
	kura_compact_result res;
	ck_assert_msg(kura_store_open(&st, store, KURA_STORE_WRITE, &err) == 0, "%s: %s", what, err.message);
	check_store(st, fx);
	ck_assert_msg(kura_store_compact(st, &res, &err) == 0, "%s: %s", what, err.message);
	ck_assert_msg(!has_content(st, fx->text[0]) && !has_content(st, fx->sig), "%s", what);
	check_store(st, fx);
	kura_store_close(st);
}

START_TEST(a_failure_at_any_step_leaves_a_consistent_store)
{
	struct fixture fx;
	char base[4096], run[4096], what[128];
	unsigned long counts[KURA_FAULT_REPLACE + 1], sweeps = 0;
	fixture_make(&fx, 4096);
	snprintf(base, sizeof base, "%s", fx.store);
	snprintf(run, sizeof run, "%s/run", fx.dir);
	copy_store(base, run);
	kura_fault_config none = {0};
	ck_assert_int_eq(compact_under(run, &none, counts), 0);
	static const struct {
		enum kura_fault_op op;
		enum kura_fault_kind kind;
	} sweep[] = {{KURA_FAULT_WRITE, KURA_FAULT_EIO},     {KURA_FAULT_WRITE, KURA_FAULT_ENOSPC},
		     {KURA_FAULT_WRITE, KURA_FAULT_SHORT},   {KURA_FAULT_SYNC, KURA_FAULT_EIO},
		     {KURA_FAULT_CREATE, KURA_FAULT_ENOSPC}, {KURA_FAULT_REPLACE, KURA_FAULT_EIO}};
	ck_assert_uint_ge(counts[KURA_FAULT_REPLACE], 2);
	for (size_t s = 0; s < sizeof sweep / sizeof sweep[0]; s++)
		for (unsigned long n = 1; n <= counts[sweep[s].op]; n++) {
			kura_fault_config cfg = {sweep[s].op, sweep[s].kind, n, 0};
			copy_store(base, run);
			snprintf(what, sizeof what, "op %d kind %d at call %lu", sweep[s].op, sweep[s].kind, n);
			compact_under(run, &cfg, NULL);
			usable_after(run, &fx, what);
			cfg.sticky = 1; /* and a full disk from there on */
			copy_store(base, run);
			compact_under(run, &cfg, NULL);
			usable_after(run, &fx, what);
			sweeps++;
		}
	ck_assert_uint_ge(sweeps, 10);
	kura_test_rmdir(fx.dir);
}
END_TEST

/* The crash window between the index's move and the swap: a reader, reindex
 * and the next writer each find the store as compacted. */
START_TEST(a_compaction_cut_before_its_swap_is_finished_by_whoever_comes_next)
{
	struct fixture fx;
	char run[4096];
	kura_store *st;
	kura_error err;
	uint64_t objects, damaged;
	kura_fault_config cut = {KURA_FAULT_REPLACE, KURA_FAULT_EIO, 1, 1};
	fixture_make(&fx, 4096);
	snprintf(run, sizeof run, "%s/run", fx.dir);
	for (int who = 0; who < 3; who++) {
		copy_store(fx.store, run);
		ck_assert_int_eq(compact_under(run, &cut, NULL), KURA_EIO);
		if (who == 1) {
			ck_assert_msg(kura_store_reindex(run, &objects, &damaged, &err) == 0, "%s", err.message);
			ck_assert_uint_eq(damaged, 0);
			mark_disposed_at(run, &fx); /* the records layer's part of reindex */
		}
		ck_assert_int_eq(kura_store_open(&st, run, who == 0 ? KURA_STORE_READ : KURA_STORE_WRITE, &err), 0);
		check_store(st, &fx);
		/* the first segment's compaction was committed when the swap failed */
		ck_assert(!has_content(st, fx.text[0]) || !has_content(st, fx.text[4]) || !has_content(st, fx.sig));
		kura_backend *be = kura_store_backend(st);
		for (uint32_t segno = 1; segno < 10; segno++)
			ck_assert_int_ne(be->staged(be, segno), 0);
		kura_store_close(st);
	}
	kura_test_rmdir(fx.dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("compact");
	TCase *t = tcase_create("compact");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, compaction_removes_what_only_disposed_objects_use);
	tcase_add_test(t, the_active_segment_is_rolled_first);
	tcase_add_test(t, content_named_in_any_json_form_is_kept);
	tcase_add_test(t, a_failure_at_any_step_leaves_a_consistent_store);
	tcase_add_test(t, a_compaction_cut_before_its_swap_is_finished_by_whoever_comes_next);
	suite_add_tcase(s, t);
	return kura_test_run(s);
}
