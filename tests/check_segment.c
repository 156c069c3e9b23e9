/* Segment format: records round-trip, a torn tail is never read as data, damage
 * in the middle is reported and skipped, and a reopened writer cuts the torn tail. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "archive/segment.h"
#include "testutil.h"

/* The file of segment segno of store folder dir. */
static void segment_path(char *buf, size_t n, const char *dir, uint32_t segno)
{
	snprintf(buf, n, "%s/segments/%08u.seg", dir, segno);
}

struct seen {
	int n;
	uint8_t types[16];
	uint64_t offsets[16];
	unsigned char *bodies[16];
	uint64_t lens[16];
	int damage;
	uint64_t damage_at[16], damage_end[16];
	int unfinished[16];
	uint64_t known; /* a record start the "index" knows (0: none) */
};

static int on_body(void *ud, const kura_record_info *info, uint64_t off, const unsigned char *p, size_t n, kura_error *err)
{
	(void)err;
	struct seen *s = ud;
	if (off == 0) { /* a damaged record before may have left a body behind */
		free(s->bodies[s->n]);
		s->bodies[s->n] = malloc(info->body_len + 1);
	}
	memcpy(s->bodies[s->n] + off, p, n);
	return 0;
}

static int on_record(void *ud, const kura_record_info *info, kura_error *err)
{
	(void)err;
	struct seen *s = ud;
	s->types[s->n] = info->type;
	s->offsets[s->n] = info->offset;
	s->lens[s->n] = info->body_len;
	s->n++;
	return 0;
}

static int on_damage(void *ud, uint32_t segno, uint64_t offset, uint64_t end, const char *why, int unfinished,
		     kura_error *err)
{
	(void)segno;
	(void)why;
	(void)err;
	struct seen *s = ud;
	s->unfinished[s->damage] = unfinished;
	s->damage_end[s->damage] = end;
	s->damage_at[s->damage++] = offset;
	return 0;
}

static int on_boundary(void *ud, uint32_t segno, uint64_t offset, uint64_t *next)
{
	(void)segno;
	struct seen *s = ud;
	*next = s->known;
	return s->known > offset;
}

static const kura_scan_ops recovery = {on_body, on_record, NULL, NULL, NULL};
static const kura_scan_ops scrubbing = {on_body, on_record, on_damage, NULL, on_boundary};


static void free_seen(struct seen *s)
{
	for (int i = 0; i < 16; i++)
		free(s->bodies[i]);
	memset(s, 0, sizeof *s);
}

static void write_record(kura_segment_writer *w, uint8_t type, const unsigned char *p, size_t n, size_t piece)
{
	kura_record_writer r;
	kura_error err;
	ck_assert_int_eq(kura_record_begin(w, &r, type, &err), 0);
	for (size_t off = 0; off < n; off += piece)
		ck_assert_int_eq(kura_record_append(w, &r, p + off, n - off < piece ? n - off : piece, &err), 0);
	ck_assert_int_eq(kura_record_finish(w, &r, &err), 0);
}

static unsigned char *pattern(size_t n, unsigned seed)
{
	unsigned char *p = malloc(n);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

static void flip_byte(const char *dir, uint64_t off)
{
	char path[4096];
	segment_path(path, sizeof path, dir, 1);
	int fd = open(path, O_RDWR);
	unsigned char b;
	ck_assert_int_eq(pread(fd, &b, 1, (off_t)off), 1);
	b ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static uint64_t file_size(const char *dir)
{
	char path[4096];
	struct stat st;
	segment_path(path, sizeof path, dir, 1);
	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

START_TEST(records_round_trip)
{
	char *dir = kura_test_tmpdir();
	kura_backend *be = kura_test_file_backend(dir);
	kura_segment_writer *w;
	kura_error err;
	size_t big = 5 * 1024 * 1024 + 17; /* larger than the write buffer: header patched on disk */
	unsigned char *a = pattern(100, 1), *b = pattern(big, 2);
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, 0, &err), 0);
	write_record(w, KURA_RECORD_OBJECT, a, 100, 7);
	write_record(w, KURA_RECORD_BLOB, b, big, 65536);
	write_record(w, KURA_RECORD_OBJECT, (const unsigned char *)"", 0, 1);
	uint64_t end = kura_segment_writer_tell(w);
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);
	ck_assert_uint_eq(file_size(dir), end);

	struct seen s = {0};
	uint64_t valid_end;
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &recovery, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_uint_eq(valid_end, end);
	ck_assert_int_eq(s.types[0], KURA_RECORD_OBJECT);
	ck_assert_int_eq(s.types[1], KURA_RECORD_BLOB);
	ck_assert_uint_eq(s.lens[0], 100);
	ck_assert_uint_eq(s.lens[1], big);
	ck_assert_uint_eq(s.lens[2], 0);
	ck_assert_mem_eq(s.bodies[0], a, 100);
	ck_assert_int_eq(memcmp(s.bodies[1], b, big), 0);
	ck_assert_uint_eq(s.offsets[0], KURA_SEGMENT_FILE_HEADER);
	free_seen(&s);
	free(a);
	free(b);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(whole_records_are_appends)
{
	char *dir = kura_test_tmpdir();
	kura_backend *be = kura_test_file_backend(dir), *counting;
	kura_fault_config none = {KURA_FAULT_OVERWRITE, KURA_FAULT_EIO, 0, 0};
	kura_segment_writer *w;
	kura_error err;
	/* bodies of 1.5 MiB and a few bytes: whole records, in a buffer of 4 MiB, cross its end often */
	size_t sizes[] = {1536 * 1024, 7, 1536 * 1024 + 3, 1536 * 1024, 100, 1536 * 1024 + 1, 1536 * 1024};
	enum { N = sizeof sizes / sizeof sizes[0] };
	unsigned char *bodies[N];
	ck_assert_int_eq(kura_backend_fault_new(&counting, be, &none, &err), 0);
	ck_assert_int_eq(kura_segment_writer_open(&w, counting, 1, 0, &err), 0);
	for (int i = 0; i < N; i++) {
		bodies[i] = pattern(sizes[i], 10 + (unsigned)i);
		ck_assert_int_eq(kura_record_put(w, KURA_RECORD_BLOB, bodies[i], sizes[i],
						 kura_record_crc(bodies[i], sizes[i]), &err), 0);
	}
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);
	ck_assert_uint_eq(kura_backend_fault_count(counting, KURA_FAULT_OVERWRITE), 0);
	ck_assert_uint_ge(kura_backend_fault_count(counting, KURA_FAULT_WRITE), 3);
	kura_backend_free(counting);

	struct seen s = {0};
	uint64_t valid_end;
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &recovery, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, N);
	for (int i = 0; i < N; i++) {
		ck_assert_uint_eq(s.lens[i], sizes[i]);
		ck_assert_int_eq(memcmp(s.bodies[i], bodies[i], sizes[i]), 0);
		free(bodies[i]);
	}
	free_seen(&s);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

/* The records' CRC is zlib's crc32 (the format's), whichever library computes it. */
START_TEST(record_crc_is_zlibs)
{
	unsigned char *p = pattern(70000, 3);
	for (size_t n = 0; n < 300; n++)
		ck_assert_uint_eq(kura_record_crc(p, n), (uint32_t)crc32(0, p, (uInt)n));
	ck_assert_uint_eq(kura_record_crc(p, 70000), (uint32_t)crc32(0, p, 70000));
	ck_assert_uint_eq(kura_record_crc("123456789", 9), 0xCBF43926u); /* the CRC-32 check value */
	free(p);
}
END_TEST

START_TEST(torn_tail_is_not_data)
{
	char *dir = kura_test_tmpdir();
	kura_backend *be = kura_test_file_backend(dir);
	kura_segment_writer *w;
	kura_error err;
	unsigned char *a = pattern(5000, 3);
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, 0, &err), 0);
	write_record(w, KURA_RECORD_OBJECT, a, 5000, 5000);
	write_record(w, KURA_RECORD_OBJECT, a, 4000, 5000);
	uint64_t committed = kura_segment_writer_tell(w);
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	/* a crash in the middle of an append: header placeholder and part of the body on disk */
	kura_record_writer r;
	ck_assert_int_eq(kura_record_begin(w, &r, KURA_RECORD_BLOB, &err), 0);
	ck_assert_int_eq(kura_record_append(w, &r, a, 3000, &err), 0);
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);
	ck_assert_uint_gt(file_size(dir), committed);

	struct seen s = {0};
	uint64_t valid_end;
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &recovery, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(valid_end, committed);
	free_seen(&s);

	/* in scrub mode the torn tail is reported as an unfinished write, and the walk ends there */
	struct seen t = {0};
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &t, &valid_end, &err), 0);
	ck_assert_int_eq(t.n, 2);
	ck_assert_int_eq(t.damage, 1);
	ck_assert_int_eq(t.unfinished[0], 1);
	ck_assert_uint_eq(t.damage_at[0], committed);
	free_seen(&t);

	/* the torn tail ends in a cut-short body with a finished-looking header: still refused */
	unsigned char h[KURA_RECORD_HEADER];
	char path[4096];
	segment_path(path, sizeof path, dir, 1);
	int fd = open(path, O_RDWR);
	ck_assert_int_eq(pread(fd, h, sizeof h, (off_t)KURA_SEGMENT_FILE_HEADER), (ssize_t)sizeof h);
	ck_assert_int_eq(pwrite(fd, h, sizeof h, (off_t)committed), (ssize_t)sizeof h); /* claims 5000 bytes */
	close(fd);
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &recovery, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(valid_end, committed);
	free_seen(&s);

	/* reopening the writer at the committed end cuts the tail off, and appends go on */
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, committed, &err), 0);
	ck_assert_uint_eq(file_size(dir), committed);
	write_record(w, KURA_RECORD_OBJECT, a, 10, 10);
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &recovery, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 3);
	free_seen(&s);
	free(a);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(damage_is_reported_and_skipped)
{
	char *dir = kura_test_tmpdir();
	kura_backend *be = kura_test_file_backend(dir);
	kura_segment_writer *w;
	kura_error err;
	unsigned char *a = pattern(2000, 4);
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, 0, &err), 0);
	uint64_t at[3];
	for (int i = 0; i < 3; i++) {
		at[i] = kura_segment_writer_tell(w);
		write_record(w, KURA_RECORD_OBJECT, a, 2000, 300);
	}
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);

	flip_byte(dir, at[1] + 9); /* the length field of the second record */
	struct seen s = {0};
	uint64_t valid_end;
	/* its length is unknown: nothing after it is read, the rest is one damaged range */
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_uint_eq(s.damage_at[0], at[1]);
	ck_assert_uint_eq(s.damage_end[0], file_size(dir));
	ck_assert_int_eq(s.unfinished[0], 0);
	free_seen(&s);
	/* unless the index knows where the next record starts */
	s.known = at[2];
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_uint_eq(s.damage_end[0], at[2]);
	ck_assert_uint_eq(s.offsets[1], at[2]);
	free_seen(&s);

	flip_byte(dir, at[1] + 9);
	flip_byte(dir, at[2] + KURA_RECORD_HEADER + 1000); /* a body byte of the third */
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_int_eq(s.unfinished[0], 0); /* complete but damaged: not a torn tail */
	free_seen(&s);
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_uint_eq(s.damage_at[0], at[2]);
	free_seen(&s);
	/* in recovery mode the same damage ends the walk */
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &recovery, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(valid_end, at[2]);
	free_seen(&s);
	free(a);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(bad_file_header_and_truncate)
{
	char *dir = kura_test_tmpdir();
	kura_backend *be = kura_test_file_backend(dir);
	kura_segment_writer *w;
	kura_error err;
	unsigned char *a = pattern(100, 5);
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, 0, &err), 0);
	write_record(w, KURA_RECORD_OBJECT, a, 100, 100);
	uint64_t mid = kura_segment_writer_tell(w);
	write_record(w, KURA_RECORD_OBJECT, a, 50, 100);
	ck_assert_int_eq(kura_segment_writer_truncate(w, mid, &err), 0); /* still buffered */
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	ck_assert_uint_eq(file_size(dir), mid);
	kura_segment_writer_close(w);

	flip_byte(dir, 2);
	struct seen s = {0};
	uint64_t valid_end;
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &recovery, &s, &valid_end, &err), KURA_EVERIFY);
	ck_assert_ptr_nonnull(strstr(err.message, "not kura segment"));
	free_seen(&s);
	/* reporting damage, the records after a damaged file header are read all the same */
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_uint_eq(s.damage_at[0], 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(valid_end, mid);
	free_seen(&s);
	/* a writer must not open a segment shorter than its committed end */
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, mid + 100, &err), KURA_EIO);
	free(a);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(records_inside_a_damaged_record_are_not_read)
{
	/* a document that contains a perfect copy of a record must not turn into
	 * one when its own record is damaged */
	char *dir = kura_test_tmpdir();
	kura_backend *be = kura_test_file_backend(dir);
	kura_segment_writer *w;
	kura_error err;
	unsigned char inner[200];
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, 0, &err), 0);
	write_record(w, KURA_RECORD_OBJECT, (const unsigned char *)"fake", 4, 4);
	uint64_t fake_len = kura_segment_writer_tell(w) - KURA_SEGMENT_FILE_HEADER;
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);
	char path[4096];
	segment_path(path, sizeof path, dir, 1);
	FILE *f = fopen(path, "rb");
	fseek(f, KURA_SEGMENT_FILE_HEADER, SEEK_SET);
	ck_assert_uint_eq(fread(inner, 1, fake_len, f), fake_len);
	fclose(f);
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, 0, &err), 0); /* start over */
	unsigned char doc[3000];
	memset(doc, 'x', sizeof doc);
	memcpy(doc + 1000, inner, fake_len);
	uint64_t outer = kura_segment_writer_tell(w);
	write_record(w, KURA_RECORD_BLOB, doc, sizeof doc, 500);
	write_record(w, KURA_RECORD_OBJECT, (const unsigned char *)"real", 4, 4);
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);
	flip_byte(dir, outer + KURA_RECORD_HEADER + 10); /* damage the outer body */
	struct seen s = {0};
	uint64_t valid_end;
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_int_eq(s.n, 1); /* only the real record after it */
	ck_assert_mem_eq(s.bodies[0], "real", 4);
	free_seen(&s);
	/* its header damaged instead: its length is unknown, and the copy inside is not read */
	flip_byte(dir, outer + KURA_RECORD_HEADER + 10);
	flip_byte(dir, outer + 9);
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_int_eq(s.n, 0);
	free_seen(&s);
	s.known = outer + KURA_RECORD_OVERHEAD + sizeof doc; /* where the index knows the real one */
	ck_assert_int_eq(kura_segment_scan(be, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_mem_eq(s.bodies[0], "real", 4);
	free_seen(&s);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(scan_of_memory)
{
	/* the reader recovery, reindex and scrub use reads through a backend: bytes
	 * put into a segment by other means are read as any others */
	char *dir = kura_test_tmpdir();
	kura_backend *be = kura_test_file_backend(dir);
	kura_segment_writer *w;
	kura_error err;
	unsigned char *a = pattern(700, 6), seg[4096];
	ck_assert_int_eq(kura_segment_writer_open(&w, be, 1, 0, &err), 0);
	for (int i = 0; i < 3; i++)
		write_record(w, KURA_RECORD_OBJECT, a, 700, 100);
	ck_assert_int_eq(kura_segment_writer_sync(w, &err), 0);
	kura_segment_writer_close(w);
	char path[4096];
	segment_path(path, sizeof path, dir, 1);
	FILE *f = fopen(path, "rb");
	size_t n = fread(seg, 1, sizeof seg, f);
	fclose(f);
	seg[KURA_SEGMENT_FILE_HEADER + KURA_RECORD_OVERHEAD + 700 + 9] ^= 1; /* the second record's length */
	char *other = kura_test_tmpdir();
	kura_backend *copy = kura_test_file_backend(other);
	segment_path(path, sizeof path, other, 1);
	f = fopen(path, "wb");
	ck_assert_uint_eq(fwrite(seg, 1, n, f), n);
	fclose(f);
	struct seen s = {0};
	uint64_t valid_end;
	ck_assert_int_eq(kura_segment_scan(copy, 1, 0, 0, &recovery, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 1);
	free_seen(&s);
	ck_assert_int_eq(kura_segment_scan(copy, 1, 0, 0, &scrubbing, &s, &valid_end, &err), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.damage, 1);
	ck_assert_uint_eq(s.damage_end[0], n);
	free_seen(&s);
	kura_backend_free(copy);
	kura_test_rmdir(other);
	free(a);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("segment");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, records_round_trip);
	tcase_add_test(tc, torn_tail_is_not_data);
	tcase_add_test(tc, damage_is_reported_and_skipped);
	tcase_add_test(tc, bad_file_header_and_truncate);
	tcase_add_test(tc, records_inside_a_damaged_record_are_not_read);
	tcase_add_test(tc, scan_of_memory);
	tcase_add_test(tc, whole_records_are_appends);
	tcase_add_test(tc, record_crc_is_zlibs);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
