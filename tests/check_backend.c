/* Storage backends (archive/backend.h): the local-file backend and the RADOS
 * backend (on a throwaway cluster, tests/cli/ceph.sh) keep the contract (appends,
 * sync, ranged reads, listing, removal, replacement, the writer lock), and
 * the fault backend, wrapped around it, shows what the real store does when the
 * storage under it fails: an ingest whose sync or append fails reports nothing
 * done, and the store stays usable and consistent. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/backend.h"
#include "archive/store_impl.h"
#include "kura/ingest.h"
#include "testutil.h"

/* A new folder with segments/, and its local-file backend. */
static kura_backend *file_backend(char **dir)
{
	*dir = kura_test_tmpdir();
	return kura_test_file_backend(*dir);
}

/* The CONTRACT of archive/backend.h, first half: appends, a patch of unsynced
 * bytes, sync, size, ranged reads. Leaves segment 3 with 16 bytes. */
static void keeps_the_contract_writing(kura_backend *be)
{
	kura_seg *s;
	unsigned char buf[64];
	size_t got;
	uint64_t size;
	ck_assert_int_eq(be->create(be, &s, 3), 0);
	ck_assert_int_eq(be->write(s, 0, "0123456789", 10), 0);
	ck_assert_int_eq(be->write(s, 10, "abcdef", 6), 0); /* an append */
	ck_assert_int_eq(be->write(s, 2, "XY", 2), 0);      /* a patch of unsynced bytes */
	ck_assert_int_eq(be->sync(s), 0);
	ck_assert_int_eq(be->size(s, &size), 0);
	ck_assert_uint_eq(size, 16);
	be->close(s);

	/* ranged reads, through a reading handle */
	ck_assert_int_eq(be->open(be, &s, 3, 0), 0);
	ck_assert_int_eq(be->read(s, 0, buf, 16, &got), 0);
	ck_assert_uint_eq(got, 16);
	ck_assert_mem_eq(buf, "01XY456789abcdef", 16);
	ck_assert_int_eq(be->read(s, 9, buf, 3, &got), 0);
	ck_assert_uint_eq(got, 3);
	ck_assert_mem_eq(buf, "9ab", 3);
	ck_assert_int_eq(be->read(s, 12, buf, 10, &got), 0); /* runs past the end: cut short */
	ck_assert_uint_eq(got, 4);
	ck_assert_mem_eq(buf, "cdef", 4);
	ck_assert_int_eq(be->read(s, 100, buf, 10, &got), 0); /* wholly past the end: nothing */
	ck_assert_uint_eq(got, 0);
	be->close(s);
}

/* Second half: truncation, stat, listing in order, removal, a missing segment.
 * Leaves segment 1, empty. */
static void keeps_the_contract_listing(kura_backend *be)
{
	kura_seg *s;
	uint64_t size;
	ck_assert_int_eq(be->open(be, &s, 3, 1), 0);
	ck_assert_int_eq(be->truncate(s, 5), 0);
	ck_assert_int_eq(be->sync(s), 0);
	be->close(s);
	ck_assert_int_eq(be->stat(be, 3, &size), 0);
	ck_assert_uint_eq(size, 5);
	ck_assert_int_eq(be->create(be, &s, 1), 0);
	be->close(s);
	uint32_t *segs;
	size_t n;
	ck_assert_int_eq(be->list(be, &segs, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(segs[0], 1);
	ck_assert_uint_eq(segs[1], 3);
	free(segs);
	ck_assert_int_eq(be->remove(be, 3), 0);
	ck_assert_int_eq(be->list(be, &segs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(segs[0], 1);
	free(segs);

	/* a missing segment */
	errno = 0;
	ck_assert_int_eq(be->open(be, &s, 3, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(be->stat(be, 7, &size), -1);
	ck_assert_int_eq(errno, ENOENT);
}

/* Replacing a segment: the replacement is not the segment until replace, which
 * puts it in place whole; discard removes one. */
static void keeps_the_contract_replacing(kura_backend *be)
{
	kura_seg *s;
	unsigned char buf[16];
	size_t got;
	uint64_t size;
	ck_assert_int_eq(be->create(be, &s, 4), 0);
	ck_assert_int_eq(be->write(s, 0, "old segment", 11), 0);
	ck_assert_int_eq(be->sync(s), 0);
	be->close(s);
	ck_assert_int_eq(be->staged(be, 4), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(be->replace(be, 4), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(be->stage(be, &s, 4), 0);
	ck_assert_int_eq(be->write(s, 0, "new", 3), 0);
	ck_assert_int_eq(be->sync(s), 0);
	be->close(s);
	ck_assert_int_eq(be->staged(be, 4), 0);
	ck_assert_int_eq(be->stat(be, 4, &size), 0); /* still the old one */
	ck_assert_uint_eq(size, 11);
	ck_assert_int_eq(be->replace(be, 4), 0);
	ck_assert_int_eq(be->staged(be, 4), -1);
	ck_assert_int_eq(be->open(be, &s, 4, 0), 0);
	ck_assert_int_eq(be->read(s, 0, buf, sizeof buf, &got), 0);
	ck_assert_uint_eq(got, 3);
	ck_assert_mem_eq(buf, "new", 3);
	be->close(s);
	/* a second replacement, discarded: the segment stays */
	ck_assert_int_eq(be->stage(be, &s, 4), 0);
	ck_assert_int_eq(be->write(s, 0, "newer", 5), 0);
	be->close(s);
	ck_assert_int_eq(be->discard(be, 4), 0);
	ck_assert_int_eq(be->staged(be, 4), -1);
	ck_assert_int_eq(be->discard(be, 4), 0);
	ck_assert_int_eq(be->stat(be, 4, &size), 0);
	ck_assert_uint_eq(size, 3);
	ck_assert_int_eq(be->remove(be, 4), 0);
}

/* The writer lock: a and b are two handles on one store. Frees b. */
static void lock_is_exclusive(kura_backend *a, kura_backend *b)
{
	kura_error err;
	ck_assert_int_eq(a->lock(a, 0, &err), 0);
	ck_assert_int_eq(b->lock(b, 0, &err), 1); /* held by another */
	a->unlock(a);
	ck_assert_int_eq(b->lock(b, 0, &err), 0);
	ck_assert_int_eq(a->lock(a, 0, &err), 1);
	kura_backend_free(b); /* freeing lets it go too */
	ck_assert_int_eq(a->lock(a, 1, &err), 0);
}

START_TEST(file_backend_keeps_the_contract)
{
	char *dir, name[4096];
	kura_backend *be = file_backend(&dir);
	kura_seg *s;
	uint64_t size;
	keeps_the_contract_writing(be);

	/* the file, as today: STORE/segments/00000003.seg */
	be->name(be, 3, name, sizeof name);
	ck_assert_ptr_nonnull(strstr(name, "/segments/00000003.seg"));
	struct stat sb;
	ck_assert_int_eq(stat(name, &sb), 0);
	ck_assert_int_eq(sb.st_size, 16);

	keeps_the_contract_listing(be);
	keeps_the_contract_replacing(be);

	/* a link where a segment should be is never written through */
	char target[4096];
	snprintf(target, sizeof target, "%s/elsewhere", dir);
	be->name(be, 2, name, sizeof name);
	ck_assert_int_eq(symlink(target, name), 0);
	ck_assert_int_eq(be->open(be, &s, 2, 1), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(be->create(be, &s, 2), -1);
	ck_assert_int_eq(be->stat(be, 2, &size), -1);
	ck_assert_int_eq(access(target, F_OK), -1);
	kura_backend_free(be);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(file_backend_lock_is_exclusive)
{
	char *dir;
	kura_backend *a = file_backend(&dir), *b = NULL;
	ck_assert_int_eq(kura_backend_file_open(&b, dir, NULL), 0);
	lock_is_exclusive(a, b);
	kura_backend_free(a);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(fault_backend_fails_the_nth_call)
{
	char *dir;
	kura_backend *inner = file_backend(&dir), *be;
	kura_fault_config cfg = {.op = KURA_FAULT_WRITE, .kind = KURA_FAULT_SHORT, .nth = 2};
	ck_assert_int_eq(kura_backend_fault_new(&be, inner, &cfg, NULL), 0);
	kura_seg *s;
	uint64_t size;
	ck_assert_int_eq(be->create(be, &s, 1), 0);
	ck_assert_int_eq(be->write(s, 0, "abcd", 4), 0);
	ck_assert_int_eq(be->write(s, 4, "efghij", 6), -1); /* half of it is written */
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(be->size(s, &size), 0);
	ck_assert_uint_eq(size, 7);
	ck_assert_int_eq(be->write(s, 4, "efghij", 6), 0); /* only the nth */
	ck_assert_int_eq(be->sync(s), 0);
	be->close(s);
	ck_assert_uint_eq(kura_backend_fault_count(be, KURA_FAULT_WRITE), 3);
	ck_assert_uint_eq(kura_backend_fault_count(be, KURA_FAULT_SYNC), 1);
	be->free(be);

	cfg = (kura_fault_config){.op = KURA_FAULT_READ, .kind = KURA_FAULT_EIO, .nth = 1, .sticky = 1};
	ck_assert_int_eq(kura_backend_fault_new(&be, inner, &cfg, NULL), 0);
	unsigned char buf[4];
	size_t got;
	ck_assert_int_eq(be->open(be, &s, 1, 0), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(be->read(s, 0, buf, 4, &got), -1);
		ck_assert_int_eq(errno, EIO);
	}
	be->close(s);
	be->free(be);
	kura_backend_free(inner);
	kura_test_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- the real store over a failing backend */

static void count_done(void *ud, const char *id, const char *sha, const char *path)
{
	(void)id;
	(void)sha;
	(void)path;
	(*(int *)ud)++;
}

/* Ingests text through st; the status of the commit (or of the add). */
static int ingest(kura_store *st, const char *text, int *done, kura_error *err)
{
	kura_ingest *in;
	ck_assert_int_eq(kura_ingest_new(&in, st, count_done, done, err), 0);
	FILE *f = tmpfile();
	fputs(text, f);
	fflush(f);
	rewind(f);
	int rc = kura_ingest_add(in, fileno(f), "doc.txt", "doc.txt", NULL, 0, err);
	if (rc == 0)
		rc = kura_ingest_commit(in, err);
	fclose(f);
	kura_ingest_free(in);
	return rc;
}

static int count_id(void *ud, const char *id, const char *json, size_t len, kura_error *err)
{
	(void)id;
	(void)json;
	(void)len;
	(void)err;
	(*(int *)ud)++;
	return 0;
}

/* The store at path, opened anew on its own files: how many objects it holds,
 * and that scrub finds nothing wrong. */
static int objects_after_reopen(const char *path)
{
	kura_store *st;
	kura_error err;
	uint64_t damaged = 1;
	int n = 0;
	ck_assert_msg(kura_store_open(&st, path, KURA_STORE_WRITE, &err) == 0, "%s", err.message);
	ck_assert_int_eq(kura_store_each_description(st, count_id, &n, &err), 0);
	ck_assert_msg(kura_store_scrub(st, NULL, NULL, &damaged, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(damaged, 0);
	kura_store_close(st);
	return n;
}

/* One ingest through a store whose backend fails as cfg says: it must fail with
 * KURA_EIO and report nothing done; the same handle then ingests again, and the
 * store reopened holds exactly the objects that were reported. */
static void ingest_under_fault(const kura_fault_config *cfg, const char *what)
{
	char *dir = kura_test_tmpdir(), path[4096];
	snprintf(path, sizeof path, "%s/s", dir);
	kura_test_store_init(path, NULL, NULL);
	kura_backend *inner, *be;
	kura_store *st;
	kura_error err;
	int done = 0;
	ck_assert_int_eq(kura_backend_file_open(&inner, path, NULL), 0);
	ck_assert_int_eq(kura_backend_fault_new(&be, inner, cfg, NULL), 0);
	ck_assert_msg(kura_store_open_with_backend(&st, path, KURA_STORE_WRITE, be, &err) == 0, "%s", err.message);
	ck_assert_int_eq(ingest(st, "before the fault", &done, &err), 0);
	ck_assert_int_eq(done, 1);

	ck_assert_int_eq(ingest(st, "struck by the fault", &done, &err), KURA_EIO);
	ck_assert_int_eq(done, 1); /* no ID for it */
	ck_assert_msg(strstr(err.message, what) != NULL, "message: %s", err.message);

	ck_assert_msg(ingest(st, "after the fault", &done, &err) == 0, "%s", err.message);
	ck_assert_int_eq(done, 2);
	kura_store_close(st);
	be->free(be);
	kura_backend_free(inner);
	ck_assert_int_eq(objects_after_reopen(path), 2);
	kura_test_rmdir(dir);
}

START_TEST(ingest_fails_when_the_sync_fails)
{
	/* the first sync after the store is open is the first ingest's commit */
	kura_fault_config cfg = {.op = KURA_FAULT_SYNC, .kind = KURA_FAULT_EIO, .nth = 2};
	ingest_under_fault(&cfg, "syncing segment 00000001: Input/output error");
}
END_TEST

START_TEST(ingest_fails_when_the_disk_is_full)
{
	kura_fault_config cfg = {.op = KURA_FAULT_WRITE, .kind = KURA_FAULT_ENOSPC, .nth = 2};
	ingest_under_fault(&cfg, "No space left on device");
}
END_TEST

START_TEST(ingest_fails_when_a_write_is_cut_short)
{
	kura_fault_config cfg = {.op = KURA_FAULT_WRITE, .kind = KURA_FAULT_SHORT, .nth = 2};
	ingest_under_fault(&cfg, "writing segment 00000001");
}
END_TEST

static int sink(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	(void)ud;
	(void)p;
	(void)n;
	(void)err;
	return 0;
}

START_TEST(a_read_error_is_not_damage)
{
	char *dir = kura_test_tmpdir(), path[4096];
	snprintf(path, sizeof path, "%s/s", dir);
	kura_test_store_init(path, NULL, NULL);
	kura_store *st;
	kura_error err;
	char id[KURA_ID_LEN + 1] = {0};
	const char *text = "read me back", *name = "r.txt";
	ck_assert_int_eq(kura_store_open(&st, path, KURA_STORE_WRITE, &err), 0);
	kura_test_ingest(st, &text, &name, 1, id);
	kura_store_close(st);

	kura_backend *inner, *be;
	kura_fault_config cfg = {.op = KURA_FAULT_READ, .kind = KURA_FAULT_EIO, .nth = 1, .sticky = 1};
	ck_assert_int_eq(kura_backend_file_open(&inner, path, NULL), 0);
	ck_assert_int_eq(kura_backend_fault_new(&be, inner, &cfg, NULL), 0);
	ck_assert_int_eq(kura_store_open_with_backend(&st, path, KURA_STORE_READ, be, &err), 0);
	ck_assert_int_eq(kura_store_read(st, id, sink, NULL, &err), KURA_EIO); /* exit 3, not "damaged" */
	kura_store_close(st);
	be->free(be);
	kura_backend_free(inner);
	kura_test_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------- RADOS */

/* The throwaway cluster of the rados test case (made once, before its tests fork). */
static char ceph_dir[64];
static int ceph_up;

static void ceph_start(void)
{
	char cmd[4096];
	snprintf(ceph_dir, sizeof ceph_dir, "/tmp/kura-check-ceph.XXXXXX");
	if (!mkdtemp(ceph_dir))
		return;
	snprintf(cmd, sizeof cmd, "bash %s/tests/cli/ceph.sh start %s/c >&2", KURA_SOURCE_DIR, ceph_dir);
	ceph_up = system(cmd) == 0;
}

static void ceph_stop(void)
{
	char cmd[4096];
	if (!ceph_dir[0])
		return;
	snprintf(cmd, sizeof cmd, "bash %s/tests/cli/ceph.sh stop %s/c; rm -rf %s", KURA_SOURCE_DIR, ceph_dir, ceph_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "stopping the test cluster in %s failed\n", ceph_dir);
}

/* A RADOS backend on namespace ns of the test cluster's pool. */
static kura_backend *rados_backend(const char *ns)
{
	char conf[128];
	kura_error err = {0};
	kura_backend *be = NULL;
	ck_assert_msg(ceph_up, "the test Ceph cluster did not start (its log tails are above)");
	snprintf(conf, sizeof conf, "%s/c/ceph.conf", ceph_dir);
	kura_rados_options o = {.ceph_conf = conf, .pool = "kura", .ns = ns, .lease_seconds = 5};
	ck_assert_msg(kura_backend_rados_open(&be, &o, &err) == 0, "%s", err.message);
	return be;
}

START_TEST(rados_backend_keeps_the_contract)
{
	kura_backend *be = rados_backend("contract");
	char name[256];
	keeps_the_contract_writing(be);
	be->name(be, 3, name, sizeof name);
	ck_assert_str_eq(name, "rados:kura/contract/kura.seg.00000003");
	keeps_the_contract_listing(be);
	keeps_the_contract_replacing(be);
	ck_assert_uint_ge(be->max_segment_size, 1u << 20);

	/* writes and reads larger than one RADOS operation */
	size_t n = 9u << 20, got;
	unsigned char *in = malloc(n), *out = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (unsigned char)(i * 7 + i / 4099);
	kura_seg *s;
	ck_assert_int_eq(be->create(be, &s, 9), 0);
	ck_assert_int_eq(be->write(s, 0, in, n), 0);
	ck_assert_int_eq(be->sync(s), 0);
	be->close(s);
	ck_assert_int_eq(be->open(be, &s, 9, 0), 0);
	ck_assert_int_eq(be->read(s, 0, out, n, &got), 0);
	ck_assert_uint_eq(got, n);
	ck_assert_int_eq(memcmp(in, out, n), 0);
	be->close(s);
	free(in);
	free(out);
	kura_backend_free(be);
}
END_TEST

START_TEST(rados_backend_lock_is_exclusive)
{
	kura_backend *a = rados_backend("lock"), *b = rados_backend("lock");
	lock_is_exclusive(a, b);
	kura_error err = {0};
	ck_assert_int_eq(a->renew(a, &err), 0);
	kura_backend_free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("backend");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, file_backend_keeps_the_contract);
	tcase_add_test(tc, file_backend_lock_is_exclusive);
	tcase_add_test(tc, fault_backend_fails_the_nth_call);
	tcase_add_test(tc, ingest_fails_when_the_sync_fails);
	tcase_add_test(tc, ingest_fails_when_the_disk_is_full);
	tcase_add_test(tc, ingest_fails_when_a_write_is_cut_short);
	tcase_add_test(tc, a_read_error_is_not_damage);
	suite_add_tcase(s, tc);
	TCase *rados = tcase_create("rados");
	tcase_set_timeout(rados, 120);
	tcase_add_unchecked_fixture(rados, ceph_start, ceph_stop);
	tcase_add_test(rados, rados_backend_keeps_the_contract);
	tcase_add_test(rados, rados_backend_lock_is_exclusive);
	suite_add_tcase(s, rados);
	return kura_test_run(s);
}
