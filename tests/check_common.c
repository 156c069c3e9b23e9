/* The clock (KURA_NOW, RFC 3339), object IDs, hex, strict base64, error codes, the escaping of names, NFC and actors. */
#include <check.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/actor.h"
#include "common/base64.h"
#include "common/escape.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/id.h"
#include "common/unicode.h"
#include "kura/clock.h"
#include "testutil.h"

START_TEST(rfc3339_parse_and_format)
{
	int64_t ms;
	kura_error err;
	char buf[KURA_TIME_BUFSZ];
	ck_assert_int_eq(kura_time_parse(&ms, "2031-05-01T00:00:00Z", &err), 0);
	ck_assert_int_eq(ms, 1935360000000LL);
	kura_time_format(buf, ms);
	ck_assert_str_eq(buf, "2031-05-01T00:00:00Z");
	ck_assert_int_eq(kura_time_parse(&ms, "2031-05-01T09:00:00.250+09:00", &err), 0);
	ck_assert_int_eq(ms, 1935360000250LL);
	kura_time_format(buf, ms);
	ck_assert_str_eq(buf, "2031-05-01T00:00:00.250Z");
	ck_assert_int_eq(kura_time_parse(&ms, "2076-12-31", &err), 0);
	kura_time_format(buf, ms);
	ck_assert_str_eq(buf, "2076-12-31T00:00:00Z");
	const char *bad[] = {"", "2031-05-01T00:00:00", "2031-13-01T00:00:00Z", "2031-02-30T00:00:00Z",
			     "2031-05-01T24:00:00Z", "yesterday", "2031-05-01T00:00:00Zjunk", "2031-05-01T00:00:00.Z"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(kura_time_parse(&ms, bad[i], &err) == KURA_EINPUT, "accepted '%s'", bad[i]);
	ck_assert_ptr_nonnull(strstr(err.message, "RFC 3339"));
}
END_TEST

START_TEST(kura_now_sets_the_clock)
{
	int64_t ms;
	kura_error err;
	setenv("KURA_NOW", "2050-01-01T12:00:00Z", 1);
	ck_assert_int_eq(kura_clock_now(&ms, &err), 0);
	ck_assert_int_eq(ms, 2524651200000LL);
	setenv("KURA_NOW", "soon", 1);
	ck_assert_int_eq(kura_clock_now(&ms, &err), KURA_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.message, "KURA_NOW"));
	unsetenv("KURA_NOW");
	ck_assert_int_eq(kura_clock_now(&ms, &err), 0);
	ck_assert_int_gt(ms, 1735689600000LL); /* after 2025 */
	ck_assert_int_eq(kura_cli_exit_status(KURA_EINPUT), 2);
	ck_assert_int_eq(kura_cli_exit_status(KURA_ENOTFOUND), 1);
	ck_assert_int_eq(kura_cli_exit_status(KURA_EVERIFY), 1);
	ck_assert_int_eq(kura_cli_exit_status(KURA_EIO), 3);
	/* the kinds of issue 13, each with the status its sites gave before */
	ck_assert_int_eq(kura_cli_exit_status(KURA_OK), 0);
	ck_assert_int_eq(kura_cli_exit_status(KURA_EDAMAGED), 1);
	ck_assert_int_eq(kura_cli_exit_status(KURA_EEXIST), 2);
	ck_assert_int_eq(kura_cli_exit_status(KURA_EDENIED), 2);
	ck_assert_int_eq(kura_cli_exit_status(KURA_EUNSUPPORTED), 2);
	ck_assert_int_eq(kura_cli_exit_status(KURA_ELOCKED), 3);
	ck_assert_int_eq(kura_cli_exit_status(KURA_ETSA), 3);
	ck_assert_int_eq(kura_cli_exit_status(KURA_EINTERNAL), 3);
}
END_TEST

START_TEST(ids_are_unique_ordered_and_parse)
{
	char prev[KURA_ID_LEN + 1] = "", id[KURA_ID_LEN + 1], canon[KURA_ID_LEN + 1];
	kura_error err;
	for (int i = 0; i < 10000; i++) {
		/* a fixed clock (KURA_NOW) must still give distinct, increasing IDs */
		ck_assert_int_eq(kura_id_new(id, 1935360000000LL, &err), 0);
		ck_assert_int_eq((int)strlen(id), KURA_ID_LEN);
		ck_assert_int_gt(strcmp(id, prev), 0);
		memcpy(prev, id, sizeof id);
	}
	ck_assert_int_eq(kura_id_new(id, 1935360000001LL, &err), 0);
	ck_assert_int_gt(strcmp(id, prev), 0);
	char lower[KURA_ID_LEN + 1];
	for (int i = 0; i <= KURA_ID_LEN; i++)
		lower[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
	ck_assert_int_eq(kura_id_parse(canon, lower, &err), 0);
	ck_assert_str_eq(canon, id);
	ck_assert_int_eq(kura_id_parse(canon, "01HZZZ", &err), KURA_EINPUT);
	ck_assert_int_eq(kura_id_parse(canon, "01M80WD8N8BCVWCB9R48T0VR0U", &err), KURA_EINPUT); /* U not base32 */
	ck_assert_int_eq(kura_id_parse(canon, "81M80WD8N8BCVWCB9R48T0VR0G", &err), KURA_EINPUT); /* > 128 bits */
}
END_TEST

START_TEST(id_floor_keeps_order_across_processes)
{
	char a[KURA_ID_LEN + 1], b[KURA_ID_LEN + 1];
	kura_error err;
	/* an ID from "another process" far ahead in the same millisecond, then later */
	const char *newest = "01Q3DCBD00ZZZZZZZZZZZZZZZZ";
	kura_id_floor(newest);
	ck_assert_int_eq(kura_id_new(a, 1893456000000LL - 5000, &err), 0); /* the clock stepped back */
	ck_assert_int_gt(strcmp(a, newest), 0);
	ck_assert_int_eq(kura_id_new(b, 1893456000000LL - 5000, &err), 0);
	ck_assert_int_gt(strcmp(b, a), 0);
	kura_id_floor("00000000000000000000000000"); /* a lower floor changes nothing */
	ck_assert_int_eq(kura_id_new(a, 0, &err), 0);
	ck_assert_int_gt(strcmp(a, b), 0);
}
END_TEST

START_TEST(hex_round_trip)
{
	unsigned char in[4] = {0x00, 0xab, 0x7f, 0xff}, out[4];
	char hex[9];
	kura_hex_encode(hex, in, 4);
	ck_assert_str_eq(hex, "00ab7fff");
	ck_assert_int_eq(kura_hex_decode(out, 4, "00AB7fff"), 0);
	ck_assert_mem_eq(in, out, 4);
	ck_assert_int_eq(kura_hex_decode(out, 4, "00ab7ff"), -1);
	ck_assert_int_eq(kura_hex_decode(out, 4, "00ab7ffg"), -1);
}
END_TEST

/* kura_base64_decode n bytes of text: the length decoded, or -1 if refused */
static long b64(const char *text, size_t n, unsigned char **out)
{
	size_t len = 0;
	int rc = kura_base64_decode(out, &len, text, n);
	if (rc != 0)
		ck_assert_ptr_null(*out);
	return rc == 0 ? (long)len : rc;
}

START_TEST(base64_is_strict)
{
	unsigned char *out = NULL;
	ck_assert_int_eq(b64("", 0, &out), 0); /* the empty document */
	free(out);
	ck_assert_int_eq(b64("aGk=", 4, &out), 2);
	ck_assert_mem_eq(out, "hi", 2);
	free(out);
	ck_assert_int_eq(b64("YQ==", 4, &out), 1);
	ck_assert_mem_eq(out, "a", 1);
	free(out);
	ck_assert_int_eq(b64("+/+/", 4, &out), 3);
	ck_assert_mem_eq(out, "\xfb\xff\xbf", 3);
	free(out);
	/* what EVP_DecodeBlock took (whitespace trimmed, '=' mid-string as zero bits), and worse */
	const char *bad[] = {"=", "==", "====", "a===", "YQ=", "YQ", "YQ==YQ==", "aGk=aGk=", "aGk=    ", " aGk=", "aG k=",
			     "aGk=\n", "aGk\t", "YQ=A", "YQ-_", "YQ.=", "\xc3\xa9QQ=", "YR==", "aGl=", "Y===", "A"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(b64(bad[i], strlen(bad[i]), &out) == -1, "took '%s'", bad[i]);
	ck_assert_int_eq(b64("YQ==\0\0\0\0", 8, &out), -1); /* a NUL inside the text (JSON's \u0000) */
	/* long input, every byte value, against OpenSSL's encoder */
	size_t n = 300000;
	unsigned char *in = malloc(n), *text = malloc(4 * (n / 3 + 1) + 1);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(text);
	for (size_t i = 0; i < n; i++)
		in[i] = (unsigned char)(i * 7 + i / 256);
	for (size_t cut = n - 2; cut <= n; cut++) { /* each padding: 2, 1, 0 '=' */
		int tl = EVP_EncodeBlock(text, in, (int)cut);
		ck_assert_int_eq(b64((const char *)text, (size_t)tl, &out), (long)cut);
		ck_assert_mem_eq(out, in, cut);
		free(out);
	}
	free(in);
	free(text);
}
END_TEST

START_TEST(escape_names)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"台帳.csv", "台帳.csv"},                    /* any script as it is */
		{"e\xcc\x81 \xf0\x9f\x98\x80", "e\xcc\x81 \xf0\x9f\x98\x80"}, /* NFD, a space, an emoji */
		{"a\tb\nc\rd", "a\\tb\\nc\\rd"},           /* one line, one field */
		{"x\\y", "x\\\\y"},                         /* a backslash is doubled: reversible */
		{"\x01\x7f\xc2\x85", "\\x01\\x7F\\xC2\\x85"}, /* C0, DEL, C1 (NEL) */
		{"\xe2\x80\xa8", "\\xE2\\x80\\xA8"},          /* U+2028 LINE SEPARATOR */
		{"a\xe2\x80\xae" "b", "a\\xE2\\x80\\xAEb"},       /* U+202E RIGHT-TO-LEFT OVERRIDE */
		{"\xe2\x81\xa6x", "\\xE2\\x81\\xA6x"},         /* U+2066 LEFT-TO-RIGHT ISOLATE */
		{"\xd7\x90\xe2\x80\x8f", "\xd7\x90\xe2\x80\x8f"}, /* Hebrew and U+200F RLM: kept */
		{"\xff\xfe.bin", "\\xFF\\xFE.bin"},            /* not UTF-8 */
		{"\xe5\x8f", "\\xE5\\x8F"},                  /* a character cut short */
		{"\xc0\xaf", "\\xC0\\xAF"},                  /* an overlong '/' */
		{"\xed\xa0\x80", "\\xED\\xA0\\x80"},          /* a surrogate */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *e = kura_escape(cases[i].in, strlen(cases[i].in));
		ck_assert_str_eq(e, cases[i].out);
		ck_assert(kura_unicode_valid(e, strlen(e)));
		free(e);
	}
	/* JSON: a name that is not UTF-8 is its escaped form plus its bytes */
	json_t *o = json_object();
	ck_assert_int_eq(kura_json_set_name(o, "name", "\xff\tx"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(o, "name")), "\\xFF\\tx");
	ck_assert_str_eq(json_string_value(json_object_get(o, "name_hex")), "ff0978");
	char *back = kura_json_get_name(o, "name");
	ck_assert_str_eq(back, "\xff\tx");
	free(back);
	ck_assert_int_eq(kura_json_set_name(o, "name", "ok\tname"), 0);
	ck_assert_ptr_null(json_object_get(o, "name_hex"));
	back = kura_json_get_name(o, "name");
	ck_assert_str_eq(back, "ok\tname");
	free(back);
	json_decref(o);
}
END_TEST

START_TEST(nfc)
{
	char *out = NULL;
	kura_error err;
	ck_assert_int_eq(kura_unicode_nfc(&out, "e\xcc\x81", 3, &err), 0);
	ck_assert_str_eq(out, "\xc3\xa9");
	free(out);
	ck_assert_int_eq(kura_unicode_nfc(&out, "\xe3\x83\x88\xe3\x82\x99", 6, &err), 0); /* ト + voicing mark: ド */
	ck_assert_str_eq(out, "\xe3\x83\x89");
	free(out);
	ck_assert_int_eq(kura_unicode_nfc(&out, "\xff", 1, &err), KURA_EINPUT);
	ck_assert_ptr_null(out);
	ck_assert(kura_unicode_is_alnum(0x5de5)); /* 工 */
	ck_assert(kura_unicode_is_alnum(0x0301)); /* a combining mark */
	ck_assert(!kura_unicode_is_alnum(' '));
	ck_assert(!kura_unicode_is_alnum('='));
	ck_assert(!kura_unicode_is_alnum(0x3000)); /* the ideographic space */
}
END_TEST

/* Every hash evidence records use is computed (FIPS 180-4, FIPS 202 and ISO/IEC
 * 10118-3 answers for "abc"); kura makes evidence with the first six only. */
START_TEST(every_evidence_hash_is_computed)
{
	static const struct {
		const char *name, *abc;
		int makes;
	} known[] = {
		{"sha1", "a9993e364706816aba3e25717850c26c9cd0d89d", 0},
		{"sha224", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7", 0},
		{"sha256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 1},
		{"sha512-224", "4634270f707b6a54daae7530460842e20e37ed265ceee9a43e8924aa", 0},
		{"sha512-256", "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23", 0},
		{"sha3-224", "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf", 0},
		{"sha3-256", "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532", 1},
		{"ripemd160", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc", 0},
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		const EVP_MD *md = kura_hash_by_name(known[i].name);
		ck_assert_msg(md != NULL, "%s cannot be computed", known[i].name);
		unsigned char out[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		ck_assert(EVP_Digest("abc", 3, out, &n, kura_hash_impl(md), NULL) == 1);
		kura_hex_encode(hex, out, n);
		ck_assert_str_eq(hex, known[i].abc);
		ck_assert_str_eq(kura_hash_name_by_nid(EVP_MD_get_type(md)), known[i].name);
		ck_assert_ptr_eq(kura_hash_by_nid(EVP_MD_get_type(md)), md);
		ck_assert_int_eq(kura_hash_makes(known[i].name), known[i].makes);
	}
	ck_assert_ptr_null(kura_hash_by_name("md5"));
	ck_assert_ptr_null(kura_hash_by_nid(NID_md5));
}
END_TEST

/* Four eyes: what a person cannot see does not make another person. */
START_TEST(actors_told_apart_only_by_what_shows)
{
	const char *same[] = {"JOSÉ", "Jose\xcc\x81", "\xef\xbd\x8aos\xc3\xa9 ", "Jo\xe2\x80\x8bs\xc3\xa9",
			      "Jo\xe1\x9a\x80s\xc3\xa9", "Jo\xe2\xa0\x80s\xc3\xa9", "Jo\xe3\x85\xa4s\xc3\xa9", "Jo s\xc3\xa9"};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		ck_assert_msg(kura_actor_same("Jos\xc3\xa9", same[i]), "'%s' was taken for another person", same[i]);
	ck_assert(!kura_actor_same("Jos\xc3\xa9", "Jose"));
	ck_assert(!kura_actor_same("alice", "bob"));
	char s[] = "a\xe3\x80\x80" "b\xe2\xa0\x80" "c\xff\xe2\xa0\x81";
	kura_unicode_drop_blanks(s); /* the ideographic space and the Braille blank go; bytes that are not UTF-8 stay */
	ck_assert_str_eq(s, "abc\xff\xe2\xa0\x81");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, rfc3339_parse_and_format);
	tcase_add_test(tc, kura_now_sets_the_clock);
	tcase_add_test(tc, ids_are_unique_ordered_and_parse);
	tcase_add_test(tc, id_floor_keeps_order_across_processes);
	tcase_add_test(tc, hex_round_trip);
	tcase_add_test(tc, base64_is_strict);
	tcase_add_test(tc, escape_names);
	tcase_add_test(tc, nfc);
	tcase_add_test(tc, actors_told_apart_only_by_what_shows);
	tcase_add_test(tc, every_evidence_hash_is_computed);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
