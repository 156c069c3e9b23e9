/* Errors say what happened (include/kura/error.h): the sites that report a kind
 * more precise than "bad input" or "I/O" do so, with the kura command's exit
 * status unchanged (the mapping itself is asserted in check_common.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "evidence/revocation.h"
#include "index/index.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	dir = kura_test_tmpdir();
}

static void teardown(void)
{
	kura_test_rmdir(dir);
}

START_TEST(a_store_that_exists_already)
{
	char path[4096];
	kura_error err;
	snprintf(path, sizeof path, "%s/s", dir);
	kura_test_store_init(path, NULL, NULL);
	ck_assert_int_eq(kura_store_init(path, NULL, &err), KURA_EEXIST);
	ck_assert_msg(strstr(err.message, "is a kura store already"), "%s", err.message);
}
END_TEST

START_TEST(a_store_format_this_kura_does_not_read)
{
	char path[4096];
	kura_store *st = NULL;
	kura_error err;
	snprintf(path, sizeof path, "%s/s", dir);
	kura_test_store_init(path, NULL, NULL);
	kura_test_write(path, "FORMAT", "kura store\nformat 2\n");
	ck_assert_int_eq(kura_store_open(&st, path, KURA_STORE_READ, &err), KURA_EUNSUPPORTED);
	ck_assert_msg(strstr(err.message, "store format this kura does not read"), "%s", err.message);
}
END_TEST

/* An index another process has open for writing: locked, not an I/O failure. */
START_TEST(an_index_another_process_writes_is_locked)
{
	char path[4096];
	kura_index *ix = NULL;
	kura_error err;
	snprintf(path, sizeof path, "%s/index", dir);
	ck_assert_int_eq(kura_index_open(&ix, path, KURA_INDEX_CREATE, &err), 0);
	kura_index_close(ix);
	int ready[2], done[2];
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(done), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) { /* the other writer: holds the index until told */
		char c = kura_index_open(&ix, path, 0, &err) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) < 0)
			_exit(1);
		kura_index_close(ix);
		_exit(0);
	}
	char c = 0;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	int rc = kura_index_open(&ix, path, 0, &err);
	ck_assert_int_eq(write(done[1], "x", 1), 1);
	int status;
	waitpid(pid, &status, 0);
	ck_assert_msg(rc == KURA_ELOCKED, "rc %d: %s", rc, err.message);
	ck_assert_int_eq(kura_index_open(&ix, path, KURA_INDEX_READONLY, &err), 0); /* readers take no lock */
	kura_index_close(ix);
}
END_TEST

START_TEST(permission_denied_on_a_named_file)
{
	kura_error err;
	errno = EACCES;
	ck_assert_int_eq(kura_error_sys(&err, KURA_EINPUT, "cannot read %s", "x"), KURA_EDENIED);
	ck_assert_int_eq(err.code, KURA_EDENIED);
	errno = EPERM;
	ck_assert_int_eq(kura_error_sys(NULL, KURA_EINPUT, "cannot read x"), KURA_EDENIED);
	errno = ENOENT;
	ck_assert_int_eq(kura_error_sys(&err, KURA_EINPUT, "cannot read x"), KURA_EINPUT);
	errno = EACCES; /* a store's own file: stays an I/O failure (exit 3, as before) */
	ck_assert_int_eq(kura_error_sys(&err, KURA_EIO, "reading x"), KURA_EIO);

	/* a real one: a CRL file this process may not read (in a child: root reads
	 * anything, so the child becomes nobody, and the parent can still tidy up) */
	kura_test_write(dir, "crl.pem", "");
	char path[4096];
	snprintf(path, sizeof path, "%s/crl.pem", dir);
	ck_assert_int_eq(chmod(path, 0), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(2);
		STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
		int rc = kura_revocation_load_crls(crls, path, &err);
		sk_X509_CRL_free(crls);
		_exit(rc == KURA_EDENIED && strstr(err.message, "Permission denied") ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a CRL file it may not read: not KURA_EDENIED");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("error");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_store_that_exists_already);
	tcase_add_test(tc, a_store_format_this_kura_does_not_read);
	tcase_add_test(tc, an_index_another_process_writes_is_locked);
	tcase_add_test(tc, permission_denied_on_a_named_file);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
