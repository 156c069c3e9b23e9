/* Packages at the library level (package/export.c, verify_export.c, import.c,
 * package_read.c): an export of sealed objects verifies and imports into
 * another store that trusts the first one's TSA, and not into one that does
 * not; a byte changed in a package makes its object invalid and keeps it out of
 * an import while the others come in; object.json is read strictly (good and
 * bad inputs from memory); where export puts each document (its original path,
 * made safe, never two in one place). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "common/fsutil.h"
#include "kura/clock.h"
#include "proof/chains.h"
#include "package/export_paths.h"
#include "package/package.h"
#include "proof/seal.h"
#include "proof/tsa_setup.h"
#include "testutil.h"

#define N 3

static const char *const texts[N + 1] = {"invoice 1001\n", "invoice 1002\n", "delivery note 7\n", "draft\n"};
static const char *const names[N + 1] = {"invoice-1001.txt", "invoice-1002.txt", "note-7.txt", "draft.txt"};
static char *dir;
static char store_a[4096], store_b[4096], tar[4096];
static char ids[(N + 1) * KURA_ID_LEN];

/* Store a: N sealed objects and one unsealed; its export in tar; store b (a TSA of its own). */
static void setup(void)
{
	kura_store *st;
	kura_export_result res;
	kura_error err;
	kura_test_now("2026-01-01T00:00:00Z");
	dir = kura_test_tmpdir();
	snprintf(store_a, sizeof store_a, "%s/a", dir);
	snprintf(store_b, sizeof store_b, "%s/b", dir);
	snprintf(tar, sizeof tar, "%s/out.tar", dir);
	kura_test_store_init(store_a, NULL, NULL);
	kura_test_store_init(store_b, NULL, NULL);
	ck_assert_int_eq(kura_store_open(&st, store_a, KURA_STORE_WRITE, &err), 0);
	kura_test_ingest(st, texts, names, N, ids);
	kura_test_seal(st, NULL);
	kura_test_ingest(st, texts + N, names + N, 1, ids + N * KURA_ID_LEN);
	ck_assert_msg(kura_export(&res, st, tar, NULL, 0, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.objects, N);
	ck_assert_uint_eq(res.unsealed, 1);
	ck_assert_uint_eq(res.bytes, strlen(texts[0]) + strlen(texts[1]) + strlen(texts[2]));
	kura_store_close(st);
}

static void teardown(void)
{
	kura_test_rmdir(dir);
	kura_test_now(NULL);
}

static json_t *verify_package(const char *at)
{
	json_t *report = NULL;
	int64_t ms;
	kura_error err;
	ck_assert_int_eq(kura_time_parse(&ms, at, &err), 0);
	ck_assert_msg(kura_export_verify(&report, tar, NULL, ms, &err) == 0, "%s", err.message);
	return report;
}

/* What an import reported: "document verdict new-id|why" lines. */
struct heard {
	char lines[8][1400];
	size_t n;
};

static void hear(void *ud, const char *document, const char *new_id, const char *verdict, const char *why)
{
	struct heard *h = ud;
	ck_assert_uint_lt(h->n, 8);
	snprintf(h->lines[h->n++], sizeof h->lines[0], "%s %s %s", document, verdict, new_id ? new_id : why);
}

static int import_into_b(kura_import_result *res, struct heard *h, kura_error *err)
{
	kura_store *st;
	kura_import_options o = {.report = hear, .ud = h};
	ck_assert_int_eq(kura_store_open(&st, store_b, KURA_STORE_WRITE, err), 0);
	int rc = kura_import(res, st, tar, &o, err);
	kura_store_close(st);
	return rc;
}

/* Store b trusts store a's TSA (as `kura trust add b --tsa a/tsa/anchors.pem` does). */
static void trust_a_in_b(void)
{
	char from[4096], to[4096], *pem;
	size_t len;
	snprintf(from, sizeof from, "%s/tsa/anchors.pem", store_a);
	snprintf(to, sizeof to, "%s/trust", store_b);
	mkdir(to, 0755);
	ck_assert_int_eq(kura_fs_read_file(from, 1u << 20, &pem, &len), 0);
	kura_test_write(to, "tsa.pem", pem);
	free(pem);
}

static int read_all(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	(void)err;
	strncat(ud, (const char *)p, n);
	return 0;
}

START_TEST(an_export_verifies_and_imports_where_its_tsa_is_trusted)
{
	json_t *r = verify_package("2026-06-01T00:00:00Z");
	ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "valid");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "manifest"), "verdict")), "valid");
	json_t *objects = json_object_get(r, "objects");
	ck_assert_uint_eq(json_array_size(objects), N);
	for (size_t i = 0; i < N; i++)
		ck_assert_str_eq(kura_test_verdict(json_array_get(objects, i)), "valid");
	json_decref(r);

	kura_import_result res;
	struct heard h = {0};
	kura_error err;
	/* b trusts only its own TSA: nothing is imported */
	ck_assert_msg(import_into_b(&res, &h, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.imported, 0);
	ck_assert_uint_eq(res.refused, N);
	ck_assert_msg(strstr(h.lines[0], "does not verify"), "%s", h.lines[0]);

	trust_a_in_b();
	h.n = 0;
	ck_assert_msg(import_into_b(&res, &h, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.imported, N);
	ck_assert_uint_eq(res.refused, 0);

	kura_store *st;
	STACK_OF(X509) *anchors;
	kura_evidence_cache *cache;
	ck_assert_int_eq(kura_store_open(&st, store_b, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_tsa_setup_anchors(&anchors, st, &err), 0);
	ck_assert_int_eq(kura_evidence_cache_new(&cache, &err), 0);
	for (size_t i = 0; i < h.n; i++) {
		char *sp = strrchr(h.lines[i], ' ') + 1, id[KURA_ID_LEN + 1], got[256] = "";
		size_t k = 0;
		snprintf(id, sizeof id, "%s", sp);
		while (k < N && !strstr(h.lines[i], names[k]))
			k++;
		ck_assert_msg(k < N, "%s: which document?", h.lines[i]);
		ck_assert_int_eq(kura_store_read(st, id, read_all, got, &err), 0);
		ck_assert_str_eq(got, texts[k]); /* the document came in unchanged */
		unsigned char *der;
		size_t len;
		ck_assert_int_eq(kura_object_evidence(&der, &len, st, id, cache, &err), 0);
		r = kura_test_verify_text(der, len, texts[k], anchors, "2026-06-01T00:00:00Z");
		ck_assert_str_eq(kura_test_verdict(r), "valid"); /* its record came along */
		json_decref(r);
		free(der);
	}
	kura_evidence_cache_free(cache);
	sk_X509_pop_free(anchors, X509_free);
	kura_store_close(st);
}
END_TEST

START_TEST(a_changed_byte_keeps_its_object_out)
{
	char *bytes;
	size_t len;
	ck_assert_int_eq(kura_fs_read_file(tar, 64u << 20, &bytes, &len), 0);
	char *at = memmem(bytes, len, texts[1], strlen(texts[1]));
	ck_assert_ptr_nonnull(at);
	at[8] ^= 0x01; /* "invoice 1002" becomes "invoice 0002" */
	ck_assert_int_eq(kura_fs_write_file_atomic(tar, bytes, len, 0644), 0);
	free(bytes);

	json_t *r = verify_package("2026-06-01T00:00:00Z");
	ck_assert_str_eq(kura_test_verdict(r), "invalid");
	json_t *manifest = json_object_get(r, "manifest");
	ck_assert_str_eq(json_string_value(json_object_get(manifest, "verdict")), "invalid");
	const char *problem_file = json_string_value(json_object_get(json_array_get(json_object_get(manifest, "problems"), 0), "file"));
	ck_assert_msg(problem_file && strstr(problem_file, names[1]), "%s", problem_file ? problem_file : "(none)");
	size_t valid = 0;
	json_t *o;
	size_t i;
	json_array_foreach(json_object_get(r, "objects"), i, o)
		valid += strcmp(kura_test_verdict(o), "valid") == 0;
	ck_assert_uint_eq(valid, N - 1);
	json_decref(r);

	kura_import_result res;
	struct heard h = {0};
	kura_error err;
	trust_a_in_b();
	ck_assert_msg(import_into_b(&res, &h, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.imported, N - 1);
	ck_assert_uint_eq(res.refused, 1);
	int named = 0;
	for (i = 0; i < h.n; i++)
		named += strstr(h.lines[i], names[1]) && strstr(h.lines[i], "invalid");
	ck_assert_int_eq(named, 1);
}
END_TEST

START_TEST(an_export_of_some_objects)
{
	kura_store *st;
	kura_export_result res;
	kura_error err;
	char one[KURA_ID_LEN + 1], unsealed[KURA_ID_LEN + 1];
	memcpy(one, ids + KURA_ID_LEN, KURA_ID_LEN);
	one[KURA_ID_LEN] = '\0';
	memcpy(unsealed, ids + N * KURA_ID_LEN, KURA_ID_LEN);
	unsealed[KURA_ID_LEN] = '\0';
	const char *const want[] = {one, unsealed};
	ck_assert_int_eq(kura_store_open(&st, store_a, KURA_STORE_READ, &err), 0);
	ck_assert_int_eq(kura_export(&res, st, tar, want, 2, &err), 0);
	ck_assert_uint_eq(res.objects, 1);
	ck_assert_uint_eq(res.unsealed, 1);
	kura_store_close(st);
	json_t *r = verify_package("2026-06-01T00:00:00Z");
	ck_assert_str_eq(kura_test_verdict(r), "valid");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "objects")), 1);
	json_decref(r);
}
END_TEST

/* ------------------------------------------------------------ object.json */

#define FILE_IN_PACKAGE "data/01ARZ3NDEKTSV4RRFFQ69G5FAV/doc.txt"

static int parse(kura_package_group *g, const char *text, kura_error *err)
{
	return kura_package_group_parse(g, "/pkg", FILE_IN_PACKAGE, NULL, text, strlen(text), err);
}

START_TEST(object_json_is_read_with_its_members)
{
	kura_package_group g;
	kura_error err;
	ck_assert_msg(parse(&g, "{\"id\": \"01ARZ3NDEKTSV4RRFFQ69G5FAV\", \"name\": \"doc.txt\", \"meta\": {\"amount\": \"1200\"},"
				" \"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"}]}",
			    &err) == 0,
		      "%s", err.message);
	ck_assert_str_eq(g.id, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	ck_assert_str_eq(g.name, "doc.txt");
	ck_assert_str_eq(json_string_value(json_object_get(g.meta, "amount")), "1200");
	ck_assert_uint_eq(g.files.n, 1);
	ck_assert_str_eq(g.files.member[0].path, "/pkg/" FILE_IN_PACKAGE);
	ck_assert_int_eq(g.signed_doc, 0);
	kura_package_group_clear(&g);

	ck_assert_msg(parse(&g, "{\"signature\": {\"kind\": \"cms\"}, \"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"},"
				" {\"role\": \"validation-data\", \"file\": \"doc.txt.vd\"}, {\"role\": \"signature\", \"file\": \"doc.txt.p7s\"}]}",
			    &err) == 0,
		      "%s", err.message);
	ck_assert_uint_eq(g.files.n, 3); /* document, signature, validation data: in that order */
	ck_assert_str_eq(g.files.member[1].path, "/pkg/data/01ARZ3NDEKTSV4RRFFQ69G5FAV/doc.txt.p7s");
	ck_assert_str_eq(g.files.member[2].path, "/pkg/data/01ARZ3NDEKTSV4RRFFQ69G5FAV/doc.txt.vd");
	ck_assert_int_eq(g.detached, 1);
	ck_assert_int_eq(g.signed_doc, 1);
	ck_assert_ptr_null(g.id);
	kura_package_group_clear(&g);

	/* not NUL-terminated: only len bytes are read */
	const char text[] = "{\"id\": \"01ARZ3NDEKTSV4RRFFQ69G5FAV\"}{\"id\": 5}";
	ck_assert_int_eq(kura_package_group_parse(&g, "/pkg", FILE_IN_PACKAGE, NULL, text, 36, &err), 0);
	ck_assert_str_eq(g.id, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
	kura_package_group_clear(&g);
}
END_TEST

static const struct {
	const char *text, *says;
} bad_objects[] = {
	{"{\"id\": \"X\"", "cannot be read as JSON"},
	{"{\"id\": \"X\", \"id\": \"Y\"}", "duplicate"},
	{"[1, 2]", "not a JSON object"},
	{"{\"id\": 7}", "not a string"},
	{"{\"name\": [\"doc.txt\"]}", "not a string"},
	{"{\"meta\": \"amount=3\"}", "\"meta\" is not an object"},
	{"{\"meta\": {\"amount\": 3}}", "metadata 'amount'"},
	{"{\"signature\": true}", "\"signature\" is not an object"},
	{"{\"members\": {}}", "one to three"},
	{"{\"members\": []}", "one to three"},
	{"{\"members\": [{\"role\": \"signature\", \"file\": \"doc.txt\"}]}", "first member"},
	{"{\"members\": [{\"role\": \"document\", \"file\": \"other.txt\"}]}", "first member"},
	{"{\"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"}, {\"role\": \"signature\", \"file\": \"../x.p7s\"}]}",
	 "beside the document"},
	{"{\"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"}, {\"role\": \"signature\", \"file\": \"doc.txt\"}]}",
	 "beside the document"},
	{"{\"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"}, {\"role\": \"stamp\", \"file\": \"s\"}]}", "unknown"},
	{"{\"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"}, {\"role\": \"signature\", \"file\": \"a\"},"
	 " {\"role\": \"signature\", \"file\": \"b\"}]}",
	 "repeated"},
	{"{\"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"}, {\"role\": \"signature\", \"file\": 3}]}",
	 "\"role\" and a \"file\""},
	{"{\"members\": [{\"role\": \"document\", \"file\": \"doc.txt\"}, {\"role\": \"validation-data\", \"file\": \"v\"}]}",
	 "needs both"},
	{"{\"signature\": {}}", "needs both"},
};

START_TEST(bad_object_json_is_refused_naming_the_file)
{
	kura_package_group g;
	kura_error err;
	int rc = parse(&g, bad_objects[_i].text, &err);
	ck_assert_msg(rc == KURA_EINPUT, "%s was accepted", bad_objects[_i].text);
	ck_assert_msg(strstr(err.message, "data/01ARZ3NDEKTSV4RRFFQ69G5FAV/object.json"), "%s", err.message);
	ck_assert_msg(strstr(err.message, bad_objects[_i].says), "%s: '%s' lacks '%s'", bad_objects[_i].text, err.message,
		      bad_objects[_i].says);
	kura_package_group_clear(&g);
}
END_TEST


/* ---- records in parts (package/record_parts.c): a synthetic "record" with two
 * "tokens" (rebuilding never parses the DER: it only puts bytes back) */

static const char rec[] = "HEAD[token one]MIDDLE[token two]TAIL";

static void parts_setup(char **dir, char *erp, size_t cap, size_t *len, const char *edit_from, const char *edit_to)
{
	*dir = kura_test_tmpdir();
	char tokens[4096];
	snprintf(tokens, sizeof tokens, "%s/data", *dir);
	ck_assert_int_eq(mkdir(tokens, 0700), 0);
	snprintf(tokens, sizeof tokens, "%s/data/tokens", *dir);
	ck_assert_int_eq(mkdir(tokens, 0700), 0);
	const char *toks[2] = {"[token one]", "[token two]"};
	size_t offsets[2] = {4, 21};
	char names[2][65], file[100];
	for (int i = 0; i < 2; i++) {
		unsigned char md[32];
		EVP_Digest(toks[i], strlen(toks[i]), md, NULL, EVP_sha256(), NULL);
		for (int k = 0; k < 32; k++)
			snprintf(names[i] + 2 * k, 3, "%02x", md[k]);
		snprintf(file, sizeof file, "%s.tsr", names[i]);
		kura_test_write(tokens, file, toks[i]);
	}
	char *head = NULL;
	size_t hlen = 0;
	kura_error err = {0};
	ck_assert_int_eq(kura_parts_header(&head, &hlen, (const unsigned char *)rec, strlen(rec), offsets,
					   (const char(*)[65])names, 2, &err), 0);
	char *at = edit_from ? strstr(head, edit_from) : NULL;
	if (edit_from)
		ck_assert_msg(at != NULL, "no %s in %s", edit_from, head);
	*len = (size_t)snprintf(erp, cap, "%.*s%s%s%s", at ? (int)(at - head) : (int)hlen, head, at ? edit_to : "",
				at ? at + strlen(edit_from) : "", "HEADMIDDLETAIL");
	free(head);
}

START_TEST(a_record_in_parts_is_rebuilt_byte_for_byte)
{
	char *dir, erp[1024];
	size_t len;
	parts_setup(&dir, erp, sizeof erp, &len, NULL, NULL);
	unsigned char *out = NULL;
	size_t olen = 0;
	kura_error err = {0};
	ck_assert_msg(kura_parts_rebuild(&out, &olen, dir, "data/x/doc.erp", erp, len, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(olen, strlen(rec));
	ck_assert(memcmp(out, rec, olen) == 0);
	free(out);
	kura_test_rmdir(dir);
}
END_TEST

static const struct {
	const char *from, *to, *says;
} bad_parts[] = {
	{" 4 ", " 40 ", "offset out of range"},
	{" 21 ", " 3 ", "offset out of range"},
	{"kura-ers-parts 1", "kura-ers-parts 2", "is not an evidence record in parts"},
	{" 36 ", " 35 ", "longer than the record"},
	{" 36 ", " 37 ", "do not add up"},
	{" 36 ", " 360000000000 ", "does not give the record's size"},
	{" 4 ", " 04 ", "malformed token reference"},
	{" 4 ", " ../../etc/passwd 4 ", "malformed token reference"},
	{"\n", " 40 ", "is not an evidence record in parts"},
};

START_TEST(a_bad_record_in_parts_is_refused)
{
	char *dir, erp[1024];
	size_t len;
	parts_setup(&dir, erp, sizeof erp, &len, bad_parts[_i].from, bad_parts[_i].to);
	unsigned char *out = NULL;
	size_t olen = 0;
	kura_error err = {0};
	int rc = kura_parts_rebuild(&out, &olen, dir, "data/x/doc.erp", erp, len, &err);
	ck_assert_msg(rc == KURA_EINPUT, "edit %d was accepted: %s", _i, erp);
	ck_assert_msg(strstr(err.message, bad_parts[_i].says) && strstr(err.message, "data/x/doc.erp"), "edit %d: %s", _i,
		      err.message);
	ck_assert_ptr_null(out);
	kura_test_rmdir(dir);
}
END_TEST

/* Where documents go, in the order placed (ID order): path as ingest was given it. */
static const struct {
	const char *id, *path, *name, *want;
} placed[] = {
	{"01A", "/srv/scan/工事/2026/台帳.csv", "台帳.csv", "files/srv/scan/工事/2026/台帳.csv"},
	{"01B", "/srv/scan/工事/2026/台帳.csv", "台帳.csv", "files/srv/scan/工事/2026/台帳~01B.csv"}, /* a version */
	{"01C", "/SRV/Scan/工事/2026/台帳.CSV", "台帳.CSV", "files/SRV/Scan/工事/2026/台帳~01C.CSV"}, /* case */
	{"01D", "a/../b/./c//d.txt", "d.txt", "files/b/c/d.txt"},
	{"01E", "../../x.txt", "x.txt", "files/x.txt"},
	{"01F", "w/CON.txt", "CON.txt", "files/w/_CON.txt"},
	{"01G", "w/a:b?<>|\"*.txt", "n", "files/w/a_b______.txt"},
	{"01H", "w/end. ", "end. ", "files/w/end._"},
	{"01I", "w/tab\there\\x%41", "n", "files/w/tab_here_x_41"},
	{"01J", "e\xcc\x81.txt", "n", "files/\xc3\xa9.txt"}, /* NFD made NFC */
	{"01K", "b/c/d.txt/e.txt", "e.txt", "files/01K/e.txt"}, /* its folder is a document */
	{"01L", NULL, "標準.txt", "files/01L/標準.txt"},          /* stdin, the API */
	{"01M", "-", "std/in", "files/01M/std_in"},
	{"01N", "/..", "", "files/01N/_"},
	{"01O", "01L/標準.txt", "x", "files/01L/標準~01O.txt"},
	{"01P", "b/c", "c", "files/b/c~01P"}, /* a folder of a document */
};

START_TEST(documents_go_under_their_original_paths)
{
	kura_export_paths *p = NULL;
	kura_error err = {0};
	char out[KURA_EXPORT_FILE_MAX];
	ck_assert_int_eq(kura_export_paths_new(&p, &err), 0);
	for (size_t i = 0; i < sizeof placed / sizeof placed[0]; i++) {
		ck_assert_int_eq(kura_export_paths_place(p, out, placed[i].id, placed[i].path, placed[i].name, &err), 0);
		ck_assert_msg(strcmp(out, placed[i].want) == 0, "%s: %s, not %s", placed[i].id, out, placed[i].want);
	}
	/* bounded: a component of 300 characters of 3 bytes, a path of 40 folders */
	char longname[1200] = "", deep[1200] = "";
	for (int i = 0; i < 300; i++)
		strcat(longname, "あ");
	ck_assert_int_eq(kura_export_paths_place(p, out, "01Q", longname, "n", &err), 0);
	ck_assert_uint_eq(strlen(out), strlen("files/") + 198); /* cut between characters */
	for (int i = 0; i < 40; i++)
		strcat(deep, "d/");
	strcat(deep, "f.txt");
	ck_assert_int_eq(kura_export_paths_place(p, out, "01R", deep, "f.txt", &err), 0);
	ck_assert_str_eq(out, "files/01R/f.txt");
	kura_export_paths_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("package");
	TCase *tc = tcase_create("stores");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, an_export_verifies_and_imports_where_its_tsa_is_trusted);
	tcase_add_test(tc, a_changed_byte_keeps_its_object_out);
	tcase_add_test(tc, an_export_of_some_objects);
	suite_add_tcase(s, tc);
	TCase *oj = tcase_create("object.json");
	tcase_add_test(oj, object_json_is_read_with_its_members);
	tcase_add_loop_test(oj, bad_object_json_is_refused_naming_the_file, 0, (int)(sizeof bad_objects / sizeof bad_objects[0]));
	suite_add_tcase(s, oj);
	TCase *parts = tcase_create("records in parts");
	tcase_add_test(parts, a_record_in_parts_is_rebuilt_byte_for_byte);
	tcase_add_loop_test(parts, a_bad_record_in_parts_is_refused, 0, (int)(sizeof bad_parts / sizeof bad_parts[0]));
	suite_add_tcase(s, parts);
	TCase *paths = tcase_create("paths");
	tcase_add_test(paths, documents_go_under_their_original_paths);
	suite_add_tcase(s, paths);
	return kura_test_run(s);
}
