/* Helpers shared by the Check unit tests: scratch folders, file contents, and
 * stores made and filled as the kura command does. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "archive/backend.h"
#include "common/hex.h"
#include "index/index.h"
#include "policies/retention.h"
#include "common/fsutil.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "kura/ingest.h"
#include "proof/seal.h"
#include "proof/tsa_setup.h"

char *kura_test_tmpdir(void)
{
	char tmpl[] = "/tmp/kura-test-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

kura_backend *kura_test_file_backend(const char *dir)
{
	char p[4096];
	kura_backend *be = NULL;
	snprintf(p, sizeof p, "%s/segments", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(kura_backend_file_open(&be, dir, NULL), 0);
	return be;
}

void kura_test_rmdir(char *dir)
{
	if (dir)
		kura_fs_remove_tree(dir);
	free(dir);
}

void kura_test_write(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

void kura_test_store_init(const char *path, const char *policy, const kura_tsa_options *tsa)
{
	kura_init_options o = {0};
	kura_error err;
	ck_assert_msg(kura_store_create(path, &o, policy, tsa, &err) == 0, "init %s: %s", path, err.message);
}

struct ids {
	char *ids;
	size_t n;
};

static void keep_id(void *ud, const char *id, const char *sha, const char *path)
{
	(void)sha;
	(void)path;
	struct ids *l = ud;
	memcpy(l->ids + l->n++ * KURA_ID_LEN, id, KURA_ID_LEN);
}

void kura_test_ingest(kura_store *st, const char *const *texts, const char *const *names, size_t n, char *ids)
{
	struct ids l = {ids, 0};
	kura_ingest *in;
	kura_error err;
	ck_assert_int_eq(kura_ingest_new(&in, st, keep_id, &l, &err), 0);
	for (size_t i = 0; i < n; i++) {
		FILE *f = tmpfile();
		ck_assert_ptr_nonnull(f);
		fputs(texts[i], f);
		fflush(f);
		rewind(f);
		ck_assert_msg(kura_ingest_add(in, fileno(f), names[i], names[i], NULL, 0, &err) == 0, "%s", err.message);
		fclose(f);
	}
	ck_assert_msg(kura_ingest_commit(in, &err) == 0, "%s", err.message);
	kura_ingest_free(in);
	ck_assert_uint_eq(l.n, n);
}

void kura_test_seal(kura_store *st, kura_seal_result *res)
{
	kura_tsa_setup ts;
	kura_seal_result r;
	kura_error err;
	ck_assert_msg(kura_tsa_setup_open(&ts, st, &err) == 0, "%s", err.message);
	ck_assert_msg(kura_seal(res ? res : &r, st, &ts.opts, 0, &err) == 0, "seal: %s", err.message);
	kura_tsa_setup_close(&ts);
}

/* The digest the verifier asks for: the text, hashed as asked (ud: the text). */
static int text_digest(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	(void)err;
	const char *text = ud;
	EVP_Digest(text, strlen(text), out, NULL, md, NULL);
	*count = 1;
	return 0;
}

json_t *kura_test_verify_text(const unsigned char *der, size_t len, const char *text, STACK_OF(X509) *anchors,
			      const char *at)
{
	kura_er_verify_opts o = {.anchors = anchors, .digest = text_digest, .digest_ud = (void *)text};
	json_t *r = NULL;
	kura_error err;
	ck_assert_int_eq(kura_time_parse(&o.at_ms, at, &err), 0);
	ck_assert_msg(kura_er_verify(&r, der, len, &o, &err) == 0, "%s", err.message);
	return r;
}

const char *kura_test_verdict(json_t *report)
{
	const char *v = json_string_value(json_object_get(report, "verdict"));
	return v ? v : "(none)";
}

void kura_test_now(const char *rfc3339)
{
	if (rfc3339)
		setenv("KURA_NOW", rfc3339, 1);
	else
		unsetenv("KURA_NOW");
}

int kura_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Every entry of the store's index, one "key=value" line each (hex); counts
 * the entries of each namespace (first key byte) in kinds. */
char *kura_test_dump_index(const char *store, unsigned kinds[256])
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
void kura_test_same_lines(const char *a, const char *b)
{
	size_t line = 1, i = 0;
	for (; a[i] && a[i] == b[i]; i++)
		line += a[i] == '\n';
	while (i > 0 && a[i - 1] != '\n')
		i--;
	ck_assert_msg(strcmp(a, b) == 0, "entry %zu differs: %.120s versus %.120s", line, a + i, b + i);
}

int32_t kura_test_day(const char *s)
{
	int32_t d = 0;
	ck_assert_msg(kura_date_parse(&d, s) == 0, "%s is a date", s);
	return d;
}

const char *kura_test_day_text(int32_t d)
{
	static char buf[4][KURA_DATE_BUFSZ];
	static int i;
	i = (i + 1) % 4;
	kura_date_format(buf[i], d);
	return buf[i];
}
