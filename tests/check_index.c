/* The RocksDB index (index/index.c, index/cursor.c) on its own: objects, blobs
 * and the writer's state round-trip and persist; walks go in ID order and stop
 * when asked; pending entries are deleted one by one and by range (both ends
 * included); a seal's range is found for every ID it spans and for no ID
 * outside, also after a new range was written behind a lookup; links, record
 * places and audit places are walked as written; the writes counter counts every
 * batch. Cursors: ranges with the end excluded, empty ranges, a start between
 * keys, a namespace's end, seeking, a view fixed when the cursor opens, cursors
 * closed early; objects by ID and by time. (Through a store: check_index_store.c.) */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/id.h"
#include "index/index.h"
#include "testutil.h"

/* A 26-character ID for the number k (IDs sort like their numbers). */
static void id_of(char out[KURA_ID_LEN + 1], unsigned k)
{
	snprintf(out, KURA_ID_LEN + 1, "%0*u", KURA_ID_LEN, k);
}

static kura_index *open_new(const char *dir)
{
	char path[4096];
	kura_index *ix;
	kura_error err;
	snprintf(path, sizeof path, "%s/index", dir);
	ck_assert_msg(kura_index_open(&ix, path, KURA_INDEX_CREATE, &err) == 0, "%s", err.message);
	return ix;
}

static void write_batch(kura_index *ix, kura_index_batch *b)
{
	kura_error err;
	ck_assert_msg(kura_index_write(ix, b, 1, &err) == 0, "%s", err.message);
	kura_index_batch_clear(b);
}

/* Puts the entries of object id (kura_index_batch_put_object) with the given
 * pending digests (NULL: "d"). */
static void put_object(kura_index_batch *b, const char *id, uint32_t segno, uint64_t offset, const char *json,
		       size_t len, const unsigned char *digests, size_t dlen)
{
	kura_index_object_entry e = {.id = id, .segno = segno, .offset = offset, .json = json, .json_len = len,
				     .digests = digests ? digests : (const unsigned char *)"d", .digests_len = digests ? dlen : 1};
	kura_index_batch_put_object(b, &e);
}

struct walk {
	char ids[64][KURA_ID_LEN + 1];
	size_t n, stop_at;
};

static int keep_object(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)o;
	(void)err;
	struct walk *w = ud;
	snprintf(w->ids[w->n++], KURA_ID_LEN + 1, "%s", id);
	return w->n == w->stop_at ? 7 : 0;
}

START_TEST(objects_blobs_and_state_round_trip_and_persist)
{
	char *dir = kura_test_tmpdir(), id[KURA_ID_LEN + 1], path[4096];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	static const unsigned order[] = {5, 1, 9, 3, 7};
	for (size_t i = 0; i < 5; i++) { /* written out of order */
		char json[64];
		id_of(id, order[i]);
		int n = snprintf(json, sizeof json, "{\"n\":%u}", order[i]);
		put_object(b, id, order[i], 1000u * order[i], json, (size_t)n, NULL, 0);
	}
	unsigned char sha[32] = {1, 2, 3};
	kura_index_blob blob = {.segno = 4, .offset = 1ull << 40, .size = 12345, .stored = 678};
	kura_index_batch_put_blob(b, sha, &blob);
	kura_index_batch_put_state(b, 7, 99999);
	write_batch(ix, b);
	kura_index_close(ix);

	snprintf(path, sizeof path, "%s/index", dir);
	ck_assert_int_eq(kura_index_open(&ix, path, KURA_INDEX_READONLY, &err), 0);
	kura_index_object o = {0};
	id_of(id, 9);
	ck_assert_int_eq(kura_index_get_object(ix, id, &o, &err), 0);
	ck_assert_uint_eq(o.segno, 9);
	ck_assert_uint_eq(o.offset, 9000);
	ck_assert_str_eq(o.json, "{\"n\":9}");
	ck_assert_uint_eq(o.json_len, 7);
	kura_index_object_clear(&o);
	id_of(id, 2);
	ck_assert_int_eq(kura_index_get_object(ix, id, &o, &err), KURA_ENOTFOUND);

	kura_index_blob got;
	ck_assert_int_eq(kura_index_get_blob(ix, sha, &got, &err), 0);
	ck_assert_uint_eq(got.segno, 4);
	ck_assert_uint_eq(got.offset, 1ull << 40);
	ck_assert_uint_eq(got.size, 12345);
	ck_assert_uint_eq(got.stored, 678);
	sha[31] = 1; /* another digest */
	ck_assert_int_eq(kura_index_get_blob(ix, sha, &got, &err), KURA_ENOTFOUND);

	uint32_t segno;
	uint64_t end;
	ck_assert_int_eq(kura_index_get_state(ix, &segno, &end, &err), 0);
	ck_assert_uint_eq(segno, 7);
	ck_assert_uint_eq(end, 99999);

	struct walk w = {.stop_at = 0};
	ck_assert_int_eq(kura_index_each_object(ix, keep_object, &w, &err), 0);
	ck_assert_uint_eq(w.n, 5);
	for (unsigned i = 0; i < 5; i++) { /* ID order: 1 3 5 7 9 */
		id_of(id, 2 * i + 1);
		ck_assert_str_eq(w.ids[i], id);
	}
	struct walk w2 = {.stop_at = 2}; /* the callback's status ends the walk */
	ck_assert_int_eq(kura_index_each_object(ix, keep_object, &w2, &err), 7);
	ck_assert_uint_eq(w2.n, 2);
	kura_index_close(ix);
	/* a second create of the same index is refused */
	ck_assert_int_ne(kura_index_open(&ix, path, KURA_INDEX_CREATE, &err), 0);
	kura_index_batch_free(b);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(rollback_drops_what_came_after_the_mark_and_writes_are_counted)
{
	char *dir = kura_test_tmpdir(), id[KURA_ID_LEN + 1];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	ck_assert_uint_eq(kura_index_writes(ix), 0);
	id_of(id, 1);
	put_object(b, id, 1, 1, "{}", 2, NULL, 0);
	kura_index_batch_mark(b);
	id_of(id, 2);
	put_object(b, id, 1, 2, "{}", 2, NULL, 0);
	ck_assert_int_eq(kura_index_batch_rollback(b, &err), 0);
	kura_index_batch_mark(b);
	id_of(id, 3);
	put_object(b, id, 1, 3, "{}", 2, NULL, 0);
	kura_index_batch_release(b); /* 3 is kept */
	write_batch(ix, b);
	ck_assert_uint_eq(kura_index_writes(ix), 1);

	struct walk w = {0};
	ck_assert_int_eq(kura_index_each_object(ix, keep_object, &w, &err), 0);
	ck_assert_uint_eq(w.n, 2);
	id_of(id, 1);
	ck_assert_str_eq(w.ids[0], id);
	id_of(id, 3);
	ck_assert_str_eq(w.ids[1], id);

	write_batch(ix, b); /* an empty batch is a write too */
	ck_assert_uint_eq(kura_index_writes(ix), 2);
	kura_index_batch_free(b);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

static int keep_pending(void *ud, const char *id, const unsigned char *value, size_t len, kura_error *err)
{
	(void)err;
	struct walk *w = ud;
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(value[0], (unsigned char)atoi(id)); /* each ID keeps its own value */
	snprintf(w->ids[w->n++], KURA_ID_LEN + 1, "%s", id);
	return 0;
}

struct field_walk {
	char seen[8][64];
	size_t n;
};

static int keep_field_entry(void *ud, const unsigned char *value, size_t len, const char *id, kura_error *err)
{
	(void)err;
	struct field_walk *w = ud;
	if (w->n < 8)
		snprintf(w->seen[w->n++], sizeof w->seen[0], "%.*s %.4s", (int)len, (const char *)value, id + KURA_ID_LEN - 4);
	return 0;
}

/* A field's entries are kept aside and put in order when the batch is written:
 * what a rollback drops stays dropped, and the rest all arrive. */
START_TEST(field_entries_kept_aside_follow_marks_and_arrive_in_order)
{
	char *dir = kura_test_tmpdir(), id[KURA_ID_LEN + 1];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	const char *values[] = {"m", "c", "x", "a"};
	for (int i = 0; i < 4; i++) {
		id_of(id, i + 1);
		if (i == 2)
			kura_index_batch_mark(b);
		kura_index_batch_put_field_value(b, "f", 1, (const unsigned char *)values[i], 1, id);
		if (i == 2)
			ck_assert_int_eq(kura_index_batch_rollback(b, &err), 0); /* x is dropped */
	}
	write_batch(ix, b);
	id_of(id, 5);
	kura_index_batch_put_field_value(b, "f", 1, (const unsigned char *)"b", 1, id);
	kura_index_batch_clear(b); /* b is dropped */
	id_of(id, 6);
	kura_index_batch_put_field_value(b, "f", 1, (const unsigned char *)"d", 1, id);
	write_batch(ix, b);

	struct field_walk w = {0};
	ck_assert_int_eq(kura_index_field_walk(ix, "f", 1, NULL, 0, keep_field_entry, &w, &err), 0);
	ck_assert_uint_eq(w.n, 4);
	char want[4][64];
	const char *order[] = {"a", "c", "d", "m"};
	int ids[] = {4, 2, 6, 1};
	for (int i = 0; i < 4; i++) {
		id_of(id, ids[i]);
		snprintf(want[i], sizeof want[i], "%s %.4s", order[i], id + KURA_ID_LEN - 4);
		ck_assert_str_eq(w.seen[i], want[i]);
	}
	kura_index_batch_free(b);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(pending_entries_are_deleted_alone_and_by_range)
{
	char *dir = kura_test_tmpdir(), id[KURA_ID_LEN + 1], first[KURA_ID_LEN + 1], last[KURA_ID_LEN + 1];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	for (unsigned k = 1; k <= 8; k++) {
		unsigned char v[3] = {(unsigned char)k, 0xAA, 0xBB};
		id_of(id, k);
		put_object(b, id, 1, k, "{}", 2, v, sizeof v);
	}
	write_batch(ix, b);
	id_of(id, 1);
	kura_index_batch_del_pending(b, id);
	id_of(first, 3);
	id_of(last, 5);
	kura_index_batch_del_pending_range(b, first, last); /* 3, 4 and 5 */
	write_batch(ix, b);

	struct walk w = {0};
	ck_assert_int_eq(kura_index_each_pending(ix, keep_pending, &w, &err), 0);
	static const unsigned left[] = {2, 6, 7, 8};
	ck_assert_uint_eq(w.n, 4);
	for (size_t i = 0; i < 4; i++) {
		id_of(id, left[i]);
		ck_assert_str_eq(w.ids[i], id);
	}
	kura_index_batch_free(b);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

/* Seal k (k >= 1) spans IDs 10k .. 10k+k-1 (gaps between seals), record ID 5000+k. */
static void seal_range(kura_index_range *r, unsigned k)
{
	memset(r, 0, sizeof *r);
	id_of(r->record, 5000 + k);
	id_of(r->first, 10 * k);
	id_of(r->last, 10 * k + (k % 9));
	r->segno = k;
	r->offset = 100u * k;
	r->n = k % 9 + 1;
	r->kind = 'S';
}

struct ranges {
	unsigned n;
	char last[KURA_ID_LEN + 1];
};

static int check_range_order(void *ud, const kura_index_range *r, kura_error *err)
{
	(void)err;
	struct ranges *s = ud;
	ck_assert_int_gt(strcmp(r->last, s->last), 0);
	snprintf(s->last, sizeof s->last, "%s", r->last);
	s->n++;
	return 0;
}

START_TEST(seal_ranges_are_found_for_every_id_they_span)
{
	enum { SEALS = 150 }; /* more than one window of ranges */
	char *dir = kura_test_tmpdir(), id[KURA_ID_LEN + 1];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_index_range r, got;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	for (unsigned k = 1; k <= SEALS; k++) {
		seal_range(&r, k);
		kura_index_batch_put_range(b, &r);
	}
	write_batch(ix, b);
	for (unsigned k = 1; k <= SEALS; k++) {
		seal_range(&r, k);
		for (unsigned i = 10 * k - 1; i <= 10 * k + 9; i++) {
			id_of(id, i);
			int inside = i >= 10 * k && i <= 10 * k + (k % 9);
			int rc = kura_index_find_range(&got, ix, id, &err);
			ck_assert_msg(rc == (inside ? 0 : 1), "ID %u, seal %u: %d", i, k, rc);
			if (inside) {
				ck_assert_str_eq(got.record, r.record);
				ck_assert_str_eq(got.first, r.first);
				ck_assert_str_eq(got.last, r.last);
				ck_assert_uint_eq(got.n, r.n);
				ck_assert_uint_eq(got.segno, k);
				ck_assert_uint_eq(got.offset, 100u * k);
				ck_assert_int_eq(got.kind, 'S');
			}
		}
	}
	/* a seal written after a lookup is seen by the next lookup */
	id_of(id, 10 * SEALS + 1000);
	ck_assert_int_eq(kura_index_find_range(&got, ix, id, &err), 1);
	seal_range(&r, SEALS + 100);
	kura_index_batch_put_range(b, &r);
	write_batch(ix, b);
	ck_assert_int_eq(kura_index_find_range(&got, ix, id, &err), 0);
	ck_assert_str_eq(got.record, r.record);

	struct ranges s = {0};
	ck_assert_int_eq(kura_index_each_range(ix, check_range_order, &s, &err), 0);
	ck_assert_uint_eq(s.n, SEALS + 1);
	kura_index_batch_free(b);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

struct links {
	char seen[16][80];
	size_t n;
};

static int keep_link(void *ud, const kura_index_link *l, kura_error *err)
{
	(void)err;
	struct links *s = ud;
	snprintf(s->seen[s->n++], 80, "%s %u %llu %u %c", l->record + 20, l->segno, (unsigned long long)l->offset,
		 l->position, l->kind);
	return 0;
}

static int keep_any_link(void *ud, const char *subject, const kura_index_link *l, kura_error *err)
{
	(void)err;
	struct links *s = ud;
	snprintf(s->seen[s->n++], 80, "%s>%s", subject + 20, l->record + 20);
	return 0;
}

static int keep_place(void *ud, char kind, const char *id, uint32_t segno, uint64_t offset, kura_error *err)
{
	(void)err;
	struct links *s = ud;
	snprintf(s->seen[s->n++], 80, "%c %s %u %llu", kind, id + 20, segno, (unsigned long long)offset);
	return 0;
}

START_TEST(links_places_and_the_last_id)
{
	char *dir = kura_test_tmpdir(), a[KURA_ID_LEN + 1], c[KURA_ID_LEN + 1], rec1[KURA_ID_LEN + 1];
	char rec2[KURA_ID_LEN + 1], audit[KURA_ID_LEN + 1], last[KURA_ID_LEN + 1];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	ck_assert_int_eq(kura_index_last_id(ix, last, &err), 0);
	ck_assert_str_eq(last, ""); /* empty index */
	id_of(a, 100);
	id_of(c, 300);
	id_of(rec1, 400);
	id_of(rec2, 500);
	id_of(audit, 450);
	put_object(b, a, 1, 0, "{}", 2, NULL, 0);
	put_object(b, c, 1, 10, "{}", 2, NULL, 0);
	kura_index_batch_put_record(b, rec2, 3, 333);
	kura_index_batch_put_record(b, rec1, 2, 222);
	kura_index_batch_put_audit(b, audit, 2, 250);
	kura_index_link l = {.segno = 3, .offset = 333, .position = 1, .kind = 'T'};
	memcpy(l.record, rec2, sizeof l.record);
	kura_index_batch_put_link(b, a, &l); /* written newest first */
	l = (kura_index_link){.segno = 2, .offset = 222, .position = 4, .kind = 'S'};
	memcpy(l.record, rec1, sizeof l.record);
	kura_index_batch_put_link(b, a, &l);
	kura_index_batch_put_link(b, c, &l);
	write_batch(ix, b);

	struct links s = {0};
	ck_assert_int_eq(kura_index_each_link(ix, a, keep_link, &s, &err), 0);
	ck_assert_uint_eq(s.n, 2); /* oldest first */
	ck_assert_str_eq(s.seen[0], "000400 2 222 4 S");
	ck_assert_str_eq(s.seen[1], "000500 3 333 1 T");
	s.n = 0;
	ck_assert_int_eq(kura_index_each_link_all(ix, keep_any_link, &s, &err), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.seen[0], "000100>000400");
	ck_assert_str_eq(s.seen[1], "000100>000500");
	ck_assert_str_eq(s.seen[2], "000300>000400");
	s.n = 0;
	ck_assert_int_eq(kura_index_each_place(ix, keep_place, &s, &err), 0);
	ck_assert_uint_eq(s.n, 3); /* records, then audit entries */
	ck_assert_str_eq(s.seen[0], "E 000400 2 222");
	ck_assert_str_eq(s.seen[1], "E 000500 3 333");
	ck_assert_str_eq(s.seen[2], "a 000450 2 250");

	uint32_t segno;
	uint64_t off;
	ck_assert_int_eq(kura_index_get_record(ix, rec1, &segno, &off, &err), 0);
	ck_assert_uint_eq(segno, 2);
	ck_assert_uint_eq(off, 222);
	ck_assert_int_eq(kura_index_get_record(ix, audit, &segno, &off, &err), KURA_ENOTFOUND);

	ck_assert_int_eq(kura_index_last_id(ix, last, &err), 0);
	ck_assert_str_eq(last, rec2); /* a record is newer than every object */
	id_of(audit, 900);
	kura_index_batch_put_audit(b, audit, 4, 0);
	write_batch(ix, b);
	ck_assert_int_eq(kura_index_last_id(ix, last, &err), 0);
	ck_assert_str_eq(last, audit);
	kura_index_batch_free(b);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

static int keep_size(void *ud, uint32_t segno, uint64_t size, kura_error *err)
{
	(void)err;
	struct links *s = ud;
	snprintf(s->seen[s->n++], 80, "%u=%llu", segno, (unsigned long long)size);
	return 0;
}

START_TEST(sealed_segment_sizes_are_kept_per_segment)
{
	char *dir = kura_test_tmpdir();
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	kura_index_batch_put_sealed_size(b, 300, 3);
	kura_index_batch_put_sealed_size(b, 2, 1ull << 33);
	kura_index_batch_put_sealed_size(b, 256, 5);
	write_batch(ix, b);
	struct links s = {0};
	ck_assert_int_eq(kura_index_each_sealed_size(ix, keep_size, &s, &err), 0);
	ck_assert_uint_eq(s.n, 3);
	int seen2 = 0, seen256 = 0, seen300 = 0;
	for (size_t i = 0; i < s.n; i++) {
		seen2 += strcmp(s.seen[i], "2=8589934592") == 0;
		seen256 += strcmp(s.seen[i], "256=5") == 0;
		seen300 += strcmp(s.seen[i], "300=3") == 0;
	}
	ck_assert(seen2 && seen256 && seen300);
	kura_index_batch_free(b);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(an_objects_entries_are_its_place_its_json_and_its_pending_digests)
{
	char *dir = kura_test_tmpdir(), id[27];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	static const unsigned char digests[] = {6, 's', 'h', 'a', '2', '5', '6', 1, 0x42};
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	id_of(id, 7);
	kura_index_object_entry e = {.id = id, .segno = 3, .offset = 4096, .json = "{\"id\":7}", .json_len = 8,
				     .digests = digests, .digests_len = sizeof digests};
	kura_index_batch_put_object(b, &e);
	write_batch(ix, b);
	kura_index_object o = {0};
	ck_assert_int_eq(kura_index_get_object(ix, id, &o, &err), 0);
	ck_assert_uint_eq(o.segno, 3);
	ck_assert_uint_eq(o.offset, 4096);
	ck_assert_str_eq(o.json, "{\"id\":7}");
	kura_index_object_clear(&o);
	const void *k, *v;
	size_t klen, vlen;
	kura_index_cursor *c = kura_index_cursor_open(ix, "p", 1, NULL, 0, &err);
	ck_assert_int_eq(kura_index_cursor_next(c, &k, &klen, &v, &vlen, &err), 1);
	ck_assert_uint_eq(klen, 27);
	ck_assert_mem_eq((const char *)k + 1, id, 26);
	ck_assert_uint_eq(vlen, sizeof digests);
	ck_assert_mem_eq(v, digests, sizeof digests);
	ck_assert_int_eq(kura_index_cursor_next(c, &k, &klen, &v, &vlen, &err), 0);
	kura_index_cursor_close(c);
	kura_index_batch_free(b);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- cursors */

/* Reads what the cursor gives into ids (the ID part of 'o' and 'p' keys, or the
 * whole key's first byte for others); how many entries it gave. */
static size_t drain(kura_index_cursor *c, char ids[][27], size_t max)
{
	const void *k, *v;
	size_t klen, vlen, n = 0;
	kura_error err;
	int rc;
	while ((rc = kura_index_cursor_next(c, &k, &klen, &v, &vlen, &err)) == 1) {
		ck_assert_uint_lt(n, max);
		snprintf(ids[n++], 27, "%.*s", klen == 27 ? 26 : 1, (const char *)k + (klen == 27));
	}
	ck_assert_msg(rc == 0, "%s", err.message);
	return n;
}

static void okey(char *key, char kind, unsigned k)
{
	char id[27];
	id_of(id, k);
	key[0] = kind;
	memcpy(key + 1, id, 26);
}

/* objects 10, 20, ... 90 and pending entries 10, 20, 30, and the writer state */
static void fill_tens(kura_index *ix)
{
	kura_index_batch *b;
	kura_error err;
	char id[27];
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	for (unsigned k = 90; k >= 10; k -= 10) {
		id_of(id, k);
		put_object(b, id, 1, k, "{}", 2, NULL, 0);
		if (k > 30) /* pending: 10, 20, 30 */
			kura_index_batch_del_pending(b, id);
	}
	kura_index_batch_put_state(b, 1, 100);
	write_batch(ix, b);
	kura_index_batch_free(b);
}

START_TEST(cursors_walk_key_ranges_with_the_end_excluded)
{
	char *dir = kura_test_tmpdir(), got[16][27], from[27], to[27], id[27];
	kura_index *ix = open_new(dir);
	kura_error err;
	fill_tens(ix);

	okey(from, 'o', 20);
	okey(to, 'o', 50);
	kura_index_cursor *c = kura_index_cursor_open(ix, from, 27, to, 27, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(drain(c, got, 16), 3); /* 50 excluded */
	id_of(id, 20);
	ck_assert_str_eq(got[0], id);
	id_of(id, 40);
	ck_assert_str_eq(got[2], id);
	ck_assert_uint_eq(drain(c, got, 16), 0); /* done stays done */
	kura_index_cursor_close(c);

	okey(from, 'o', 25); /* a start between two keys */
	c = kura_index_cursor_open(ix, from, 27, to, 27, &err);
	ck_assert_uint_eq(drain(c, got, 16), 2);
	id_of(id, 30);
	ck_assert_str_eq(got[0], id);
	kura_index_cursor_close(c);

	c = kura_index_cursor_open(ix, to, 27, to, 27, &err); /* empty: start == end */
	ck_assert_uint_eq(drain(c, got, 16), 0);
	kura_index_cursor_close(c);
	c = kura_index_cursor_open(ix, to, 27, from, 27, &err); /* empty: start after end */
	ck_assert_uint_eq(drain(c, got, 16), 0);
	kura_index_cursor_close(c);
	c = kura_index_cursor_open(ix, "c", 1, NULL, 0, &err); /* a namespace without keys */
	ck_assert_uint_eq(drain(c, got, 16), 0);
	kura_index_cursor_close(c);

	okey(from, 'o', 80); /* no end: to the end of the 'o' namespace, not into 'p' */
	c = kura_index_cursor_open(ix, from, 27, NULL, 0, &err);
	ck_assert_uint_eq(drain(c, got, 16), 2);
	kura_index_cursor_close(c);
	c = kura_index_cursor_open(ix, "p", 1, NULL, 0, &err);
	ck_assert_uint_eq(drain(c, got, 16), 3);
	kura_index_cursor_close(c);
	c = kura_index_cursor_open(ix, NULL, 0, NULL, 0, &err); /* everything, in key order */
	ck_assert_uint_eq(drain(c, got, 16), 13);
	ck_assert_str_eq(got[12], "w");
	kura_index_cursor_close(c);

	c = kura_index_cursor_open(ix, "o", 1, NULL, 0, &err); /* seek forward, and not before the start */
	okey(from, 'o', 60);
	kura_index_cursor_seek(c, from, 27);
	ck_assert_uint_eq(drain(c, got, 16), 4);
	kura_index_cursor_seek(c, "a", 1);
	ck_assert_uint_eq(drain(c, got, 16), 9);
	kura_index_cursor_close(c);
	kura_index_cursor_close(NULL);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(a_cursor_sees_the_index_as_it_was_when_opened_and_closes_early)
{
	char *dir = kura_test_tmpdir(), got[32][27], path[4096], id[27];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	const void *k, *v;
	size_t klen, vlen;
	fill_tens(ix);
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);

	kura_index_cursor *c = kura_index_cursor_open(ix, "o", 1, NULL, 0, &err);
	ck_assert_int_eq(kura_index_cursor_next(c, &k, &klen, &v, &vlen, &err), 1);
	id_of(id, 15);
	put_object(b, id, 2, 0, "{}", 2, NULL, 0);
	id_of(id, 95);
	put_object(b, id, 2, 1, "{}", 2, NULL, 0);
	id_of(id, 20);
	kura_index_batch_del_pending(b, id);
	write_batch(ix, b);
	ck_assert_uint_eq(drain(c, got, 16), 8); /* 20 to 90: neither 15 nor 95 */
	kura_index_cursor_close(c);
	c = kura_index_cursor_open(ix, "o", 1, NULL, 0, &err);
	ck_assert_uint_eq(drain(c, got, 16), 11); /* a new cursor sees them */
	kura_index_cursor_close(c);
	c = kura_index_cursor_open(ix, "p", 1, NULL, 0, &err);
	ck_assert_uint_eq(drain(c, got, 16), 4); /* 10, 15, 30, 95 */
	kura_index_cursor_close(c);
	kura_index_batch_free(b);
	kura_index_close(ix);

	/* read-only: cursors closed early give their iterators to the next ones */
	snprintf(path, sizeof path, "%s/index", dir);
	ck_assert_int_eq(kura_index_open(&ix, path, KURA_INDEX_READONLY, &err), 0);
	for (int i = 0; i < 10; i++) {
		kura_index_cursor *two[2] = {kura_index_cursor_open(ix, "o", 1, NULL, 0, &err),
					     kura_index_cursor_open(ix, "p", 1, NULL, 0, &err)};
		ck_assert_int_eq(kura_index_cursor_next(two[0], &k, &klen, &v, &vlen, &err), 1);
		ck_assert_int_eq(kura_index_cursor_next(two[1], &k, &klen, &v, &vlen, &err), 1);
		ck_assert_uint_eq(klen, 27);
		ck_assert_int_eq(((const char *)k)[0], 'p');
		kura_index_cursor_close(two[i % 2]);
		kura_index_cursor_close(two[1 - i % 2]);
	}
	c = kura_index_cursor_open(ix, NULL, 0, NULL, 0, &err);
	ck_assert_uint_eq(drain(c, got, 32), 16); /* 11 objects, 4 pending, the writer state */
	kura_index_cursor_close(c);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(objects_by_id_range_and_by_time)
{
	char *dir = kura_test_tmpdir(), from[27], to[27], made[3][27];
	kura_index *ix = open_new(dir);
	kura_index_batch *b;
	kura_error err;
	const char *id;
	const kura_index_object *o;
	fill_tens(ix);
	id_of(from, 20);
	id_of(to, 40);
	kura_index_objects *c = kura_index_objects_open(ix, from, to, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(kura_index_objects_next(c, &id, &o, &err), 1);
	ck_assert_str_eq(id, from);
	ck_assert_uint_eq(o->offset, 20);
	ck_assert_str_eq(o->json, "{}");
	ck_assert_int_eq(kura_index_objects_next(c, &id, &o, &err), 1);
	ck_assert_uint_eq(o->offset, 30);
	ck_assert_int_eq(kura_index_objects_next(c, &id, &o, &err), 0);
	kura_index_objects_close(c);

	/* IDs made at three times (ms since 1970) */
	static const int64_t at[3] = {1700000000000, 1700000000500, 1700000001000};
	ck_assert_int_eq(kura_index_batch_new(&b, &err), 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(kura_id_new(made[i], at[i], &err), 0);
		put_object(b, made[i], 3, (uint64_t)i, "{\"t\":1}", 7, NULL, 0);
	}
	write_batch(ix, b);
	kura_index_batch_free(b);
	c = kura_index_objects_between(ix, at[1], at[2], &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(kura_index_objects_next(c, &id, &o, &err), 1);
	ck_assert_str_eq(id, made[1]);
	ck_assert_int_eq(kura_index_objects_next(c, &id, &o, &err), 0);
	kura_index_objects_close(c);
	c = kura_index_objects_between(ix, at[0] + 1, KURA_ID_MAX_MS + 1, &err); /* to the end */
	int n = 0;
	while (kura_index_objects_next(c, &id, &o, &err) == 1)
		n++;
	ck_assert_int_eq(n, 2);
	kura_index_objects_close(c);
	ck_assert_ptr_null(kura_index_objects_between(ix, at[2], at[1], &err));
	ck_assert_int_eq(err.code, KURA_EINPUT);
	kura_index_close(ix);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("index");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, objects_blobs_and_state_round_trip_and_persist);
	tcase_add_test(tc, rollback_drops_what_came_after_the_mark_and_writes_are_counted);
	tcase_add_test(tc, field_entries_kept_aside_follow_marks_and_arrive_in_order);
	tcase_add_test(tc, pending_entries_are_deleted_alone_and_by_range);
	tcase_add_test(tc, seal_ranges_are_found_for_every_id_they_span);
	tcase_add_test(tc, links_places_and_the_last_id);
	tcase_add_test(tc, sealed_segment_sizes_are_kept_per_segment);
	tcase_add_test(tc, an_objects_entries_are_its_place_its_json_and_its_pending_digests);
	tcase_add_test(tc, cursors_walk_key_ranges_with_the_end_excluded);
	tcase_add_test(tc, a_cursor_sees_the_index_as_it_was_when_opened_and_closes_early);
	tcase_add_test(tc, objects_by_id_range_and_by_time);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
