/* Accounts of the preservation service (access/users.c, access/roles.c): a
 * token signs in until its account is removed, is kept only hashed, and
 * users.json damaged or replaced by a link is refused; what each role may do. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "kura/access.h"
#include "testutil.h"

static char *store_in(char *dir)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/s", dir);
	kura_test_store_init(path, NULL, NULL);
	return path;
}

START_TEST(a_token_signs_in_until_its_account_is_removed)
{
	char *dir = kura_test_tmpdir(), *st = store_in(dir), tok[KURA_TOKEN_LEN + 1], tok2[KURA_TOKEN_LEN + 1];
	const char *cols[] = {"trial-A", "山田商事"};
	kura_error err = {0};
	ck_assert_int_eq(kura_user_add(st, "alice", KURA_ROLE_AUDITOR, cols, 2, "admin1", tok, &err), 0);
	ck_assert_int_eq(kura_user_add(st, "bob", KURA_ROLE_ARCHIVIST, NULL, 0, NULL, tok2, &err), 0);
	ck_assert_uint_eq(strlen(tok), KURA_TOKEN_LEN);
	ck_assert_str_ne(tok, tok2);
	ck_assert_int_eq(kura_user_add(st, "alice", KURA_ROLE_ADMIN, NULL, 0, NULL, tok2, &err), KURA_EEXIST);

	kura_user u;
	ck_assert_int_eq(kura_user_authenticate(st, tok, &u, &err), 0);
	ck_assert_str_eq(u.name, "alice");
	ck_assert_int_eq(u.role, KURA_ROLE_AUDITOR);
	ck_assert_uint_eq(u.ncollections, 2);
	ck_assert_str_eq(u.collections[1], "山田商事");
	kura_user_clear(&u);

	char wrong[KURA_TOKEN_LEN + 1];
	memcpy(wrong, tok, sizeof wrong);
	wrong[KURA_TOKEN_LEN - 1] ^= 1;
	ck_assert_int_eq(kura_user_authenticate(st, wrong, &u, &err), KURA_EDENIED);
	ck_assert_int_eq(kura_user_authenticate(st, "", &u, &err), KURA_EDENIED);
	ck_assert_int_eq(kura_user_authenticate(st, NULL, &u, &err), KURA_EDENIED);

	/* the file keeps a hash, never the token */
	char path[4200], *text = NULL;
	snprintf(path, sizeof path, "%s/users.json", st);
	ck_assert_int_eq(kura_fs_read_file(path, 1 << 20, &text, NULL), 0);
	ck_assert_ptr_null(strstr(text, tok + 5));
	ck_assert_ptr_nonnull(strstr(text, "token_sha256"));
	free(text);

	ck_assert_int_eq(kura_user_remove(st, "alice", NULL, &err), 0);
	ck_assert_int_eq(kura_user_authenticate(st, tok, &u, &err), KURA_EDENIED);
	ck_assert_int_eq(kura_user_authenticate(st, tok2, &u, &err), 0);
	kura_user_clear(&u);
	ck_assert_int_eq(kura_user_remove(st, "alice", NULL, &err), KURA_ENOTFOUND);

	kura_user *all;
	size_t n;
	ck_assert_int_eq(kura_user_list(st, &all, &n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(all[0].name, "bob");
	ck_assert_uint_eq(all[0].ncollections, 0);
	kura_users_free(all, n);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(names_with_control_characters_are_refused)
{
	char *dir = kura_test_tmpdir(), *st = store_in(dir), tok[KURA_TOKEN_LEN + 1];
	const char *bad[] = {"a\tb"};
	kura_error err = {0};
	ck_assert_int_eq(kura_user_add(st, "eve\n", KURA_ROLE_ADMIN, NULL, 0, NULL, tok, &err), KURA_EINPUT);
	ck_assert_int_eq(kura_user_add(st, "", KURA_ROLE_ADMIN, NULL, 0, NULL, tok, &err), KURA_EINPUT);
	ck_assert_int_eq(kura_user_add(st, "eve", KURA_ROLE_ADMIN, bad, 1, NULL, tok, &err), KURA_EINPUT);
	kura_user *all;
	size_t n;
	ck_assert_int_eq(kura_user_list(st, &all, &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	kura_users_free(all, n);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(a_damaged_or_linked_users_file_is_refused)
{
	char *dir = kura_test_tmpdir(), *st = store_in(dir), tok[KURA_TOKEN_LEN + 1];
	kura_error err = {0};
	kura_user u, *all;
	size_t n;
	ck_assert_int_eq(kura_user_add(st, "alice", KURA_ROLE_ADMIN, NULL, 0, NULL, tok, &err), 0);
	char sub[4200];
	snprintf(sub, sizeof sub, "%s/s", dir);
	kura_test_write(sub, "users.json", "{\"kura-users\": 1, \"users\": [{\"name\": 7}]}");
	ck_assert_int_eq(kura_user_list(st, &all, &n, &err), KURA_EIO);
	ck_assert_ptr_nonnull(strstr(err.message, "damaged"));
	kura_test_write(sub, "users.json", "{\"kura-users\": 1, \"users\": [");
	ck_assert_int_eq(kura_user_authenticate(st, tok, &u, &err), KURA_EIO);

	/* a link planted in its place is not followed, neither read nor written through */
	char path[4300], target[4300];
	snprintf(path, sizeof path, "%s/users.json", st);
	snprintf(target, sizeof target, "%s/elsewhere.json", dir);
	kura_test_write(dir, "elsewhere.json", "{\"kura-users\": 1, \"users\": []}");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_ne(kura_user_authenticate(st, tok, &u, &err), 0);
	ck_assert_int_ne(kura_user_add(st, "bob", KURA_ROLE_ADMIN, NULL, 0, NULL, tok, &err), 0);
	char *text = NULL;
	ck_assert_int_eq(kura_fs_read_file(target, 1 << 20, &text, NULL), 0);
	ck_assert_str_eq(text, "{\"kura-users\": 1, \"users\": []}");
	free(text);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(each_role_does_its_own_work_only)
{
	kura_role r;
	ck_assert_int_eq(kura_role_parse(&r, "approver", NULL), 0);
	ck_assert_int_eq(r, KURA_ROLE_APPROVER);
	ck_assert_int_eq(kura_role_parse(&r, "root", NULL), KURA_EINPUT);
	ck_assert_str_eq(kura_role_name(KURA_ROLE_AUDITOR), "auditor");
	/* four eyes: who asks for a disposal does not approve it */
	ck_assert(kura_role_allows(KURA_ROLE_ARCHIVIST, KURA_DO_DISPOSE_REQUEST));
	ck_assert(!kura_role_allows(KURA_ROLE_ARCHIVIST, KURA_DO_DISPOSE_APPROVE));
	ck_assert(kura_role_allows(KURA_ROLE_APPROVER, KURA_DO_DISPOSE_APPROVE));
	ck_assert(!kura_role_allows(KURA_ROLE_APPROVER, KURA_DO_SUBMIT));
	/* an auditor reads and takes away, changes nothing */
	ck_assert(kura_role_allows(KURA_ROLE_AUDITOR, KURA_DO_EXPORT));
	ck_assert(kura_role_allows(KURA_ROLE_AUDITOR, KURA_DO_SEARCH));
	ck_assert(!kura_role_allows(KURA_ROLE_AUDITOR, KURA_DO_SUBMIT));
	ck_assert(!kura_role_allows(KURA_ROLE_AUDITOR, KURA_DO_RECORDS));
	/* only an admin manages accounts, and an admin does not handle records */
	for (int k = KURA_ROLE_ADMIN; k <= KURA_ROLE_AUDITOR; k++)
		ck_assert_int_eq(kura_role_allows((kura_role)k, KURA_DO_ADMIN), k == KURA_ROLE_ADMIN);
	ck_assert(!kura_role_allows(KURA_ROLE_ADMIN, KURA_DO_SUBMIT));
	ck_assert(!kura_role_allows(KURA_ROLE_ADMIN, KURA_DO_EXPORT));
	ck_assert(!kura_role_allows((kura_role)9, KURA_DO_READ));
	/* the whole store's status and metrics: who runs it and who audits it */
	for (int k = KURA_ROLE_ADMIN; k <= KURA_ROLE_AUDITOR; k++)
		ck_assert_int_eq(kura_role_allows((kura_role)k, KURA_DO_STATUS),
				 k == KURA_ROLE_ADMIN || k == KURA_ROLE_AUDITOR);
	ck_assert(!kura_role_allows(KURA_ROLE_AUDITOR, (kura_action)(KURA_DO_STATUS + 1)));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("access");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_token_signs_in_until_its_account_is_removed);
	tcase_add_test(tc, names_with_control_characters_are_refused);
	tcase_add_test(tc, a_damaged_or_linked_users_file_is_refused);
	tcase_add_test(tc, each_role_does_its_own_work_only);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
