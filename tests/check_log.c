/* The library never prints (include/kura/log.h): what it has to say while it
 * works reaches the handler the program installed, and with none installed it is
 * silent. Standard error (fd 2) is captured in a file to prove that nothing is
 * written there. The example: an export that leaves out an object not sealed yet,
 * with progress reports for the object it writes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kura/log.h"
#include "package/package.h"
#include "testutil.h"

static const char *const texts[2] = {"invoice 1001\n", "draft\n"};
static const char *const names[2] = {"invoice-1001.txt", "draft.txt"};
static char *dir;
static char store[4096], tar[4096];
static char ids[2 * KURA_ID_LEN];

/* What the handler heard. */
static char heard[4096];
static int messages, progress_reports, progress_done;

static void on_message(void *ud, int level, const char *text)
{
	ck_assert_ptr_eq(ud, heard);
	messages++;
	snprintf(heard + strlen(heard), sizeof heard - strlen(heard), "%d %s\n", level, text);
}

static void on_progress(void *ud, const char *label, uint64_t done_bytes, uint64_t total_bytes, uint64_t items)
{
	(void)done_bytes, (void)total_bytes, (void)items;
	ck_assert_ptr_eq(ud, heard);
	if (!label) {
		progress_done++;
		return;
	}
	ck_assert_str_eq(label, "export");
	progress_reports++;
}

/* A store with one sealed object and one that is not sealed yet. */
static void setup(void)
{
	kura_store *st;
	kura_error err;
	kura_test_now("2026-01-01T00:00:00Z");
	dir = kura_test_tmpdir();
	snprintf(store, sizeof store, "%s/s", dir);
	snprintf(tar, sizeof tar, "%s/out.tar", dir);
	kura_test_store_init(store, NULL, NULL);
	ck_assert_int_eq(kura_store_open(&st, store, KURA_STORE_WRITE, &err), 0);
	kura_test_ingest(st, texts, names, 1, ids);
	kura_test_seal(st, NULL);
	kura_test_ingest(st, texts + 1, names + 1, 1, ids + KURA_ID_LEN);
	kura_store_close(st);
	heard[0] = '\0';
	messages = progress_reports = progress_done = 0;
}

static void teardown(void)
{
	kura_log_set(NULL);
	kura_test_rmdir(dir);
	kura_test_now(NULL);
}

/* Exports the store with fd 2 sent to a file; what was written there (malloc'd). */
static char *export_capturing_stderr(void)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/stderr", dir);
	FILE *f = fopen(path, "w+");
	ck_assert_ptr_nonnull(f);
	fflush(stderr);
	int saved = dup(2);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(dup2(fileno(f), 2), 2);

	kura_store *st;
	kura_export_result res;
	kura_error err = {0};
	int open_rc = kura_store_open(&st, store, KURA_STORE_READ, &err);
	int rc = open_rc == 0 ? kura_export(&res, st, tar, NULL, 0, &err) : open_rc;
	if (open_rc == 0)
		kura_store_close(st);

	fflush(stderr);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	ck_assert_msg(rc == 0, "%s", err.message);
	ck_assert_uint_eq(res.objects, 1);
	ck_assert_uint_eq(res.unsealed, 1);

	char *text = calloc(1, 65536);
	ck_assert_ptr_nonnull(text);
	rewind(f);
	size_t n = fread(text, 1, 65535, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

START_TEST(a_warning_reaches_the_handler_not_stderr)
{
	kura_log_set(&(kura_log){on_message, on_progress, heard});
	char *printed = export_capturing_stderr();
	char want[512];
	snprintf(want, sizeof want, "%d %.*s is not sealed yet: left out of the package (run kura seal first)\n",
		 KURA_LOG_ERROR, KURA_ID_LEN, ids + KURA_ID_LEN);
	ck_assert_str_eq(heard, want);
	ck_assert_int_eq(messages, 1);
	ck_assert_int_ge(progress_reports, 1); /* the object written */
	ck_assert_int_eq(progress_done, 1);
	ck_assert_msg(printed[0] == '\0', "the library printed: %s", printed);
	free(printed);
}
END_TEST

START_TEST(without_a_handler_the_library_is_silent)
{
	kura_log_set(NULL);
	char *printed = export_capturing_stderr();
	ck_assert_msg(printed[0] == '\0', "the library printed: %s", printed);
	free(printed);
	/* a handler without a progress function: messages only, no progress measured */
	kura_log_set(&(kura_log){on_message, NULL, heard});
	printed = export_capturing_stderr();
	ck_assert_int_eq(messages, 1);
	ck_assert_int_eq(progress_reports + progress_done, 0);
	ck_assert_msg(printed[0] == '\0', "the library printed: %s", printed);
	free(printed);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_warning_reaches_the_handler_not_stderr);
	tcase_add_test(tc, without_a_handler_the_library_is_silent);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
