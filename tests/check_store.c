/* The store through the library: ingest and dedup, durability order of done(),
 * the index round trip and reindex, crash recovery (roll forward and torn tail),
 * a failed document leaving nothing behind, and a large stream in bounded memory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>


#include "archive/blob.h"
#include "archive/store_impl.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/hex.h"
#include "kura/ingest.h"
#include "testutil.h"

static char *dir;
static char store_path[2048];

static void setup(void)
{
	dir = kura_test_tmpdir();
	snprintf(store_path, sizeof store_path, "%s/store", dir);
	kura_error err;
	ck_assert_int_eq(kura_store_init(store_path, NULL, &err), 0);
}

static void teardown(void)
{
	kura_test_rmdir(dir);
}

static int memfd_with(const char *text)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/in-XXXXXX", dir);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	lseek(fd, 0, SEEK_SET);
	return fd;
}

struct done_log {
	int n;
	char ids[8][KURA_ID_LEN + 1];
	char sha[8][65];
};

static void on_done(void *ud, const char *id, const char *sha, const char *path)
{
	(void)path;
	struct done_log *l = ud;
	snprintf(l->ids[l->n], sizeof l->ids[0], "%s", id);
	snprintf(l->sha[l->n], sizeof l->sha[0], "%s", sha);
	l->n++;
}

static void add_text(kura_ingest *in, const char *text, const char *name)
{
	kura_error err;
	int fd = memfd_with(text);
	kura_meta m = {"source", name};
	ck_assert_msg(kura_ingest_add(in, fd, name, name, &m, 1, &err) == 0, "%s", err.message);
	close(fd);
}

static int count_blob(void *ud, const unsigned char sha[32], const kura_index_blob *b, kura_error *err)
{
	(void)sha;
	(void)b;
	(void)err;
	(*(int *)ud)++;
	return 0;
}

static int collect_json(void *ud, json_t *o, kura_error *err)
{
	(void)err;
	json_array_append(ud, o);
	return 0;
}

static json_t *all_objects(void)
{
	kura_store *st;
	kura_error err;
	json_t *arr = json_array();
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_store_each_object(st, collect_json, arr, &err), 0);
	kura_store_close(st);
	return arr;
}

START_TEST(ingest_dedup_and_done_after_commit)
{
	kura_store *st;
	kura_ingest *in;
	kura_error err;
	struct done_log log = {0};
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_ingest_new(&in, st, on_done, &log, &err), 0);
	add_text(in, "the same ledger\n", "a.csv");
	add_text(in, "the same ledger\n", "b.csv");
	add_text(in, "another ledger\n", "c.csv");
	ck_assert_int_eq(log.n, 0); /* nothing is reported before it is durable */
	ck_assert_int_eq(kura_ingest_commit(in, &err), 0);
	ck_assert_int_eq(log.n, 3);
	ck_assert_str_ne(log.ids[0], log.ids[1]);
	ck_assert_str_eq(log.sha[0], log.sha[1]);
	int blobs = 0;
	ck_assert_int_eq(kura_index_each_blob(kura_store_index(st), count_blob, &blobs, &err), 0);
	ck_assert_int_eq(blobs, 2);
	/* the same content in a later batch is not stored again either */
	add_text(in, "another ledger\n", "d.csv");
	ck_assert_int_eq(kura_ingest_commit(in, &err), 0);
	blobs = 0;
	ck_assert_int_eq(kura_index_each_blob(kura_store_index(st), count_blob, &blobs, &err), 0);
	ck_assert_int_eq(blobs, 2);
	kura_ingest_free(in);
	kura_store_close(st);

	json_t *objs = all_objects();
	ck_assert_int_eq(json_array_size(objs), 4);
	json_t *b = json_array_get(objs, 1);
	ck_assert_str_eq(json_string_value(json_object_get(b, "name")), "b.csv");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(b, "meta"), "source")), "b.csv");
	json_decref(objs);
}
END_TEST

static int read_to_buf(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	(void)err;
	strncat(ud, (const char *)p, n);
	return 0;
}

START_TEST(reindex_rebuilds_the_same_index)
{
	kura_store *st;
	kura_ingest *in;
	kura_error err;
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_ingest_new(&in, st, NULL, NULL, &err), 0);
	add_text(in, "one", "1.txt");
	add_text(in, "two", "2.txt");
	add_text(in, "one", "3.txt");
	ck_assert_int_eq(kura_ingest_commit(in, &err), 0);
	kura_ingest_free(in);
	kura_store_close(st);

	json_t *before = all_objects();
	char idx[4096];
	snprintf(idx, sizeof idx, "%s/index", store_path);
	ck_assert_int_eq(kura_fs_remove_tree(idx), 0);
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_READ, &err), KURA_EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "reindex"));
	uint64_t objects, damaged;
	ck_assert_int_eq(kura_store_reindex(store_path, &objects, &damaged, &err), 0);
	ck_assert_uint_eq(objects, 3);
	ck_assert_uint_eq(damaged, 0);
	json_t *after = all_objects();
	ck_assert_msg(json_equal(before, after), "reindex changed the index");

	char got[64] = "";
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_READ, &err), 0);
	const char *id = json_string_value(json_object_get(json_array_get(after, 2), "id"));
	ck_assert_int_eq(kura_store_read(st, id, read_to_buf, got, &err), 0);
	ck_assert_str_eq(got, "one");
	kura_store_close(st);
	json_decref(before);
	json_decref(after);
}
END_TEST

static uint64_t seg_size(uint32_t segno)
{
	char path[4096];
	struct stat sb;
	snprintf(path, sizeof path, "%s/segments/%08u.seg", store_path, segno);
	ck_assert_int_eq(stat(path, &sb), 0);
	return (uint64_t)sb.st_size;
}

/* A child adds documents and dies without committing, after syncing the segment
 * (complete = 1) or in the middle of a record (complete = 0). */
static void crash_child(int complete)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		kura_store *st;
		kura_ingest *in;
		kura_error err;
		if (kura_store_open(&st, store_path, KURA_STORE_WRITE, &err) || kura_ingest_new(&in, st, NULL, NULL, &err))
			_exit(10);
		int fd = memfd_with("written but never committed");
		if (kura_ingest_add(in, fd, "x", "x", NULL, 0, &err))
			_exit(11);
		kura_segment_writer *w = kura_store_writer(st);
		if (!complete) {
			kura_record_writer r;
			kura_record_begin(w, &r, KURA_RECORD_BLOB, &err);
			kura_record_append(w, &r, "partial", 7, &err);
		}
		kura_segment_writer_sync(w, &err);
		_exit(0); /* no commit, no close: as if killed */
	}
	int status;
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(crash_recovery_rolls_forward_and_cuts_torn_tail)
{
	kura_error err;
	kura_store *st;
	uint32_t segno;
	uint64_t committed, end_after;
	crash_child(1);
	json_t *objs = all_objects(); /* a reader does not repair */
	ck_assert_int_eq(json_array_size(objs), 0);
	json_decref(objs);
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_index_get_state(kura_store_index(st), &segno, &committed, &err), 0);
	kura_store_close(st);
	objs = all_objects(); /* complete records are rolled forward: index == segments */
	ck_assert_int_eq(json_array_size(objs), 1);
	json_decref(objs);
	ck_assert_uint_eq(seg_size(1), committed);

	crash_child(0);
	ck_assert_uint_gt(seg_size(1), committed);
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_index_get_state(kura_store_index(st), &segno, &end_after, &err), 0);
	kura_store_close(st);
	objs = all_objects();
	ck_assert_int_eq(json_array_size(objs), 2); /* the complete document before the torn record */
	json_decref(objs);
	ck_assert_uint_eq(seg_size(1), end_after); /* the torn record is gone */
	uint64_t damaged;
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_store_scrub(st, NULL, NULL, &damaged, &err), 0);
	ck_assert_uint_eq(damaged, 0);
	kura_store_close(st);
}
END_TEST

START_TEST(failed_document_leaves_nothing)
{
	kura_store *st;
	kura_ingest *in;
	kura_error err;
	struct done_log log = {0};
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_ingest_new(&in, st, on_done, &log, &err), 0);
	add_text(in, "good one", "good.txt");
	uint64_t before = kura_segment_writer_tell(kura_store_writer(st));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY); /* read() fails with EISDIR */
	ck_assert_int_eq(kura_ingest_add(in, dfd, "bad", "bad", NULL, 0, &err), KURA_EIO);
	close(dfd);
	ck_assert_uint_eq(kura_segment_writer_tell(kura_store_writer(st)), before);
	kura_meta bad = {"has space", "v"};
	int fd = memfd_with("x");
	ck_assert_int_eq(kura_ingest_add(in, fd, "m", "m", &bad, 1, &err), KURA_EINPUT);
	close(fd);
	ck_assert_int_eq(kura_ingest_commit(in, &err), 0);
	ck_assert_int_eq(log.n, 1);
	kura_ingest_free(in);
	kura_store_close(st);
	json_t *objs = all_objects();
	ck_assert_int_eq(json_array_size(objs), 1);
	json_decref(objs);
}
END_TEST

START_TEST(segments_roll_at_the_limit)
{
	kura_error err;
	kura_init_options o = {.segment_size = 8192};
	snprintf(store_path, sizeof store_path, "%s/small", dir);
	ck_assert_int_eq(kura_store_init(store_path, &o, &err), 0);
	kura_store *st;
	kura_ingest *in;
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_ingest_new(&in, st, NULL, NULL, &err), 0);
	char text[6000];
	unsigned seed = 7;
	for (int i = 0; i < 6; i++) {
		for (size_t k = 0; k + 1 < sizeof text; k++) { /* incompressible, no NUL */
			seed = seed * 1103515245u + 12345u;
			text[k] = (char)((seed >> 16) % 255 + 1);
		}
		text[sizeof text - 1] = '\0';
		add_text(in, text, "t");
		ck_assert_int_eq(kura_ingest_commit(in, &err), 0);
	}
	ck_assert_uint_ge(kura_segment_writer_segno(kura_store_writer(st)), 3);
	kura_ingest_free(in);
	kura_store_close(st);
	uint64_t objects, damaged;
	ck_assert_int_eq(kura_store_reindex(store_path, &objects, &damaged, &err), 0);
	ck_assert_uint_eq(objects, 6);
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_store_scrub(st, NULL, NULL, &damaged, &err), 0);
	ck_assert_uint_eq(damaged, 0);
	kura_store_close(st);
}
END_TEST

/* xorshift bytes: incompressible, reproducible, made on the fly */
static void fill(unsigned char *p, size_t n, uint64_t *state)
{
	for (size_t i = 0; i < n; i += 8) {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		memcpy(p + i, state, n - i < 8 ? n - i : 8);
	}
}

START_TEST(large_stream_in_bounded_memory)
{
	const char *bin = getenv("KURA_BIN");
	ck_assert_ptr_nonnull(bin);
	int sanitized = getenv("KURA_SANITIZED") && strcmp(getenv("KURA_SANITIZED"), "1") == 0;
	uint64_t total = sanitized ? (64ull << 20) : (1ull << 30); /* 1 GiB */
	int in_pipe[2], out_pipe[2];
	ck_assert_int_eq(pipe(in_pipe), 0);
	ck_assert_int_eq(pipe(out_pipe), 0);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		close(in_pipe[1]);
		close(out_pipe[0]);
		execl(bin, bin, "ingest", "--no-seal", store_path, "-", (char *)NULL);
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	kura_hasher *sha;
	kura_error err;
	unsigned char extra[KURA_HASH_MAX];
	size_t extra_len;
	ck_assert_int_eq(kura_hasher_new(&sha, NULL, &err), 0);
	static unsigned char buf[1 << 20];
	uint64_t state = 88172645463325252ull;
	for (uint64_t sent = 0; sent < total; sent += sizeof buf) {
		fill(buf, sizeof buf, &state);
		kura_hasher_update(sha, buf, sizeof buf, &err);
		ck_assert_int_eq(write(in_pipe[1], buf, sizeof buf), (ssize_t)sizeof buf);
	}
	close(in_pipe[1]);
	char line[256] = "";
	ssize_t got = read(out_pipe[0], line, sizeof line - 1);
	ck_assert_int_gt(got, 0);
	line[got] = '\0';
	close(out_pipe[0]);
	int status;
	struct rusage ru;
	ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unsigned char md[32];
	char hex[65];
	kura_hasher_final(sha, md, extra, &extra_len, &err);
	kura_hex_encode(hex, md, 32);
	ck_assert_ptr_nonnull(strstr(line, hex));
	if (!sanitized)
		ck_assert_msg(ru.ru_maxrss < 96 * 1024, "ingest of %llu MiB used %ld KiB", (unsigned long long)(total >> 20),
			      ru.ru_maxrss);

	/* and back out, verified, in bounded memory too */
	char id[KURA_ID_LEN + 1];
	memcpy(id, line, KURA_ID_LEN);
	id[KURA_ID_LEN] = '\0';
	ck_assert_int_eq(pipe(out_pipe), 0);
	pid = fork();
	if (pid == 0) {
		dup2(out_pipe[1], 1);
		close(out_pipe[0]);
		execl(bin, bin, "get", store_path, id, (char *)NULL);
		_exit(127);
	}
	close(out_pipe[1]);
	kura_hasher_reset(sha, &err);
	uint64_t back = 0;
	while ((got = read(out_pipe[0], buf, sizeof buf)) > 0) {
		kura_hasher_update(sha, buf, (size_t)got, &err);
		back += (uint64_t)got;
	}
	close(out_pipe[0]);
	ck_assert_int_eq(wait4(pid, &status, 0, &ru), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(back, total);
	kura_hasher_final(sha, md, extra, &extra_len, &err);
	char hex2[65];
	kura_hex_encode(hex2, md, 32);
	ck_assert_str_eq(hex, hex2);
	kura_hasher_free(sha);
	if (!sanitized)
		ck_assert_msg(ru.ru_maxrss < 96 * 1024, "get used %ld KiB", ru.ru_maxrss);
}
END_TEST

/* Writes n bytes (text when text, else pseudo-random) to dir/name. */
static void write_file(const char *name, size_t n, int text, uint64_t seed)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		fputc(text ? 'a' + (int)(seed >> 60) : (int)(seed >> 56), f);
	}
	fclose(f);
}

struct path_log {
	int n;
	char paths[16][64];
	char sha[16][65];
};

static void on_done_path(void *ud, const char *id, const char *sha, const char *path)
{
	(void)id;
	struct path_log *l = ud;
	snprintf(l->paths[l->n], sizeof l->paths[0], "%s", strrchr(path, '/') + 1);
	snprintf(l->sha[l->n], sizeof l->sha[0], "%s", sha);
	l->n++;
}

static int sum_stored(void *ud, const unsigned char sha[32], const kura_index_blob *b, kura_error *err)
{
	(void)sha;
	(void)err;
	*(uint64_t *)ud += b->stored;
	return 0;
}

/* Ingests dir's files names[0..n) into the store at path, through the
 * prefetcher or one by one with kura_ingest_add; a NULL name is skipped (by the
 * prefetcher). Returns the status of the first failure (0 if none); *stored
 * gets the bytes of all blob records. */
static int ingest_files(const char *path, const char *const *names, size_t n, int prefetched, struct path_log *log,
			uint64_t *stored)
{
	kura_store *st;
	kura_ingest *in;
	kura_prefetch *pf = NULL;
	kura_error err;
	char full[16][4096];
	const char *paths[16] = {0};
	for (size_t i = 0; i < n; i++)
		if (names[i]) {
			snprintf(full[i], sizeof full[i], "%s/%s", dir, names[i]);
			paths[i] = full[i];
		}
	ck_assert_int_eq(kura_store_open(&st, path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_ingest_new(&in, st, on_done_path, log, &err), 0);
	if (prefetched)
		ck_assert_int_eq(kura_prefetch_new(&pf, st, paths, n, &err), 0);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!paths[i]) {
			if (pf)
				kura_prefetch_skip(pf, i);
		} else if (pf) {
			rc = kura_ingest_add_prefetched(in, pf, i, names[i], NULL, 0, &err);
		} else {
			int fd = open(paths[i], O_RDONLY);
			rc = fd < 0 ? KURA_EINPUT : kura_ingest_add(in, fd, paths[i], names[i], NULL, 0, &err);
			if (fd >= 0)
				close(fd);
		}
	}
	kura_prefetch_free(pf);
	ck_assert_int_eq(kura_ingest_commit(in, &err), 0);
	*stored = 0;
	ck_assert_int_eq(kura_index_each_blob(kura_store_index(st), sum_stored, stored, &err), 0);
	kura_ingest_free(in);
	kura_store_close(st);
	return rc;
}

START_TEST(prefetched_ingest_stores_what_plain_ingest_stores)
{
	/* small text, a document too large to hold (streamed), the same small
	 * content again (stored once), an empty one, and one the caller skips */
	write_file("a.txt", 5000, 1, 1);
	write_file("big.bin", (1u << 20) + 17, 0, 2);
	write_file("a-again.txt", 5000, 1, 1);
	write_file("empty", 0, 1, 3);
	write_file("z.txt", 70000, 1, 4);
	const char *names[] = {"a.txt", "big.bin", NULL, "a-again.txt", "empty", "z.txt"};
	size_t n = sizeof names / sizeof names[0];
	char other[2048];
	kura_error err;
	snprintf(other, sizeof other, "%s/plain", dir);
	ck_assert_int_eq(kura_store_init(other, NULL, &err), 0);
	struct path_log pre = {0}, plain = {0};
	uint64_t pre_stored, plain_stored;
	ck_assert_int_eq(ingest_files(store_path, names, n, 1, &pre, &pre_stored), 0);
	ck_assert_int_eq(ingest_files(other, names, n, 0, &plain, &plain_stored), 0);
	/* in order, with the same digests, and blob records of the same size
	 * (packed bodies are the frames streaming writes) */
	ck_assert_int_eq(pre.n, 5);
	ck_assert_int_eq(plain.n, 5);
	for (int i = 0; i < pre.n; i++) {
		ck_assert_str_eq(pre.paths[i], plain.paths[i]);
		ck_assert_str_eq(pre.sha[i], plain.sha[i]);
	}
	ck_assert_str_eq(pre.paths[1], "big.bin");
	ck_assert_str_eq(pre.sha[0], pre.sha[2]);
	ck_assert_uint_eq(pre_stored, plain_stored);
	/* and every object reads back, verified */
	kura_store *st;
	ck_assert_int_eq(kura_store_open(&st, store_path, KURA_STORE_READ, &err), 0);
	json_t *objs = all_objects();
	ck_assert_int_eq(json_array_size(objs), 5);
	for (size_t i = 0; i < json_array_size(objs); i++)
		ck_assert_msg(kura_store_read(st, json_string_value(json_object_get(json_array_get(objs, i), "id")), NULL, NULL,
					      &err) == 0,
			      "%s", err.message);
	json_decref(objs);
	kura_store_close(st);
}
END_TEST

START_TEST(prefetched_ingest_stops_at_an_unreadable_file)
{
	write_file("one", 100, 1, 5);
	write_file("three", 100, 1, 6);
	const char *names[] = {"one", "missing", "three"};
	struct path_log log = {0};
	uint64_t stored;
	/* what came before the failure is committed and reported, nothing after it */
	ck_assert_int_eq(ingest_files(store_path, names, 3, 1, &log, &stored), KURA_EINPUT);
	ck_assert_int_eq(log.n, 1);
	ck_assert_str_eq(log.paths[0], "one");
	json_t *objs = all_objects();
	ck_assert_int_eq(json_array_size(objs), 1);
	json_decref(objs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, ingest_dedup_and_done_after_commit);
	tcase_add_test(tc, reindex_rebuilds_the_same_index);
	tcase_add_test(tc, crash_recovery_rolls_forward_and_cuts_torn_tail);
	tcase_add_test(tc, failed_document_leaves_nothing);
	tcase_add_test(tc, segments_roll_at_the_limit);
	tcase_add_test(tc, large_stream_in_bounded_memory);
	tcase_add_test(tc, prefetched_ingest_stores_what_plain_ingest_stores);
	tcase_add_test(tc, prefetched_ingest_stops_at_an_unreadable_file);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
