/* The folder walk of ingest (archive/ingest_walk.c, kura/ingest.h): every file
 * under a folder in byte order of the names, links to files followed, and links
 * to folders, links to nothing, what is not a regular file and the store's own
 * folder skipped, each with a message; a path that does not exist fails the
 * whole list before anything is read. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kura/ingest.h"
#include "testutil.h"

struct skips {
	int n;
	char msg[8][4300];
};

static void on_skip(void *ud, const char *message)
{
	struct skips *s = ud;
	ck_assert_int_lt(s->n, 8);
	snprintf(s->msg[s->n++], sizeof s->msg[0], "%s", message);
}

static void path_of(char *out, size_t n, const char *dir, const char *name)
{
	ck_assert_int_lt(snprintf(out, n, "%s/%s", dir, name), (int)n);
}

START_TEST(a_folder_is_walked_in_name_order_and_planted_links_are_skipped)
{
	char *dir = kura_test_tmpdir(), tree[4096], outside[4096], p[4096], q[4096], store[4096];
	path_of(tree, sizeof tree, dir, "tree");
	path_of(outside, sizeof outside, dir, "outside");
	ck_assert_int_eq(mkdir(tree, 0700), 0);
	ck_assert_int_eq(mkdir(outside, 0700), 0);
	kura_test_write(outside, "secret", "not to be taken\n");
	kura_test_write(tree, "b", "b\n");
	kura_test_write(tree, "a", "a\n");
	kura_test_write(tree, "B", "upper case sorts first\n");
	path_of(p, sizeof p, tree, "c");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	kura_test_write(p, "d", "d\n");
	path_of(p, sizeof p, tree, "link-to-folder"); /* planted: must not lead outside */
	ck_assert_int_eq(symlink(outside, p), 0);
	path_of(p, sizeof p, tree, "link-to-nothing");
	ck_assert_int_eq(symlink("/nonexistent/kura-test", p), 0);
	path_of(p, sizeof p, tree, "link-to-file");
	path_of(q, sizeof q, tree, "a");
	ck_assert_int_eq(symlink(q, p), 0);
	path_of(p, sizeof p, tree, "pipe");
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	path_of(store, sizeof store, tree, "store"); /* the store inside the folder ingested */
	ck_assert_int_eq(mkdir(store, 0700), 0);
	kura_test_write(store, "FORMAT", "kura store\n");

	for (int sizes = 0; sizes <= 1; sizes++) {
		struct skips skips = {0};
		kura_ingest_list *l = NULL;
		kura_error err = {0};
		const char *paths[] = {tree};
		ck_assert_msg(kura_ingest_list_new(&l, store, paths, 1, sizes, on_skip, &skips, &err) == 0, "%s",
			      err.message);
		static const char *const want[] = {"B", "a", "b", "c/d", "link-to-file"};
		ck_assert_uint_eq(kura_ingest_list_count(l), 5);
		for (size_t i = 0; i < 5; i++) {
			path_of(p, sizeof p, tree, want[i]);
			ck_assert_str_eq(kura_ingest_list_path(l, i), p);
			/* without sizes a folder's plain files are not stat'ed; a link is */
			size_t size = sizes || i == 4 ? strlen(i == 0 ? "upper case sorts first\n" : "a\n") : 0;
			ck_assert_uint_eq(kura_ingest_list_size(l, i), size);
		}
		uint64_t bytes = sizes ? 23 + 2 * 4 : 2;
		ck_assert_uint_eq(kura_ingest_list_bytes(l), bytes);
		/* the skipped ones, in name order, each saying why */
		ck_assert_int_eq(skips.n, 4);
		static const char *const why[][2] = {{"link-to-folder", "a link to a folder (not followed)"},
						     {"link-to-nothing", "a link to nothing"},
						     {"pipe", "not a regular file"},
						     {"store", "it is the store itself"}};
		for (int i = 0; i < 4; i++) {
			path_of(p, sizeof p, tree, why[i][0]);
			snprintf(q, sizeof q, "skipping %s: %s", p, why[i][1]);
			ck_assert_str_eq(skips.msg[i], q);
		}
		kura_ingest_list_free(l);
	}
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(a_missing_path_or_stdin_twice_fails_the_whole_list)
{
	char *dir = kura_test_tmpdir(), missing[4096];
	kura_test_write(dir, "a", "a\n");
	path_of(missing, sizeof missing, dir, "missing");
	kura_ingest_list *l = (kura_ingest_list *)1;
	kura_error err = {0};
	const char *paths[] = {dir, missing};
	ck_assert_int_eq(kura_ingest_list_new(&l, "/nonexistent-store", paths, 2, 0, NULL, NULL, &err), KURA_EINPUT);
	ck_assert_ptr_null(l);
	ck_assert_msg(strstr(err.message, "cannot ingest") && strstr(err.message, missing), "%s", err.message);
	const char *twice[] = {"-", dir, "-"};
	ck_assert_int_eq(kura_ingest_list_new(&l, "/nonexistent-store", twice, 3, 0, NULL, NULL, &err), KURA_EINPUT);
	ck_assert_ptr_null(l);
	const char *once[] = {"-", dir};
	ck_assert_int_eq(kura_ingest_list_new(&l, "/nonexistent-store", once, 2, 0, NULL, NULL, &err), 0);
	ck_assert_uint_eq(kura_ingest_list_count(l), 2);
	ck_assert_str_eq(kura_ingest_list_path(l, 0), "-");
	kura_ingest_list_free(l);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ingest_walk");
	TCase *tc = tcase_create("walk");
	tcase_add_test(tc, a_folder_is_walked_in_name_order_and_planted_links_are_skipped);
	tcase_add_test(tc, a_missing_path_or_stdin_twice_fails_the_whole_list);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
