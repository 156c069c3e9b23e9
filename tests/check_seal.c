/* Sealing through the library: a backlog larger than one seal is sealed in
 * several, oldest first, and each object's evidence is found through its seal's
 * one index entry (the range of its subjects' IDs) at the right position. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evidence/tsa.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "kura/ingest.h"
#include "kura/tsa.h"
#include "proof/chains.h"
#include "proof/seal.h"
#include "testutil.h"

#define OBJECTS 10

struct ids {
	int n;
	char id[OBJECTS][KURA_ID_LEN + 1];
};

static void on_done(void *ud, const char *id, const char *sha, const char *path)
{
	(void)sha;
	(void)path;
	struct ids *l = ud;
	snprintf(l->id[l->n++], sizeof l->id[0], "%s", id);
}

struct data {
	const char *text;
};

/* The digest verify-er needs: the object's text, hashed as asked. */
static int give_digest(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	(void)err;
	const struct data *d = ud;
	EVP_Digest(d->text, strlen(d->text), out, NULL, md, NULL);
	*count = 1;
	return 0;
}

/* Ingests pages from..to-1 ("ledger page N"), their texts in texts[N]. */
static void ingest_pages(kura_store *st, struct ids *ids, char texts[][32], int from, int to)
{
	kura_error err;
	kura_ingest *in;
	ck_assert_int_eq(kura_ingest_new(&in, st, on_done, ids, &err), 0);
	for (int i = from; i < to; i++) {
		char name[32];
		FILE *f = tmpfile();
		snprintf(texts[i], 32, "ledger page %d\n", i);
		snprintf(name, sizeof name, "page%d.txt", i);
		fputs(texts[i], f);
		fflush(f);
		rewind(f);
		ck_assert_msg(kura_ingest_add(in, fileno(f), name, name, NULL, 0, &err) == 0, "%s", err.message);
		fclose(f);
	}
	ck_assert_int_eq(kura_ingest_commit(in, &err), 0);
	kura_ingest_free(in);
}

START_TEST(a_backlog_is_sealed_in_several_seals)
{
	char *dir = kura_test_tmpdir(), path[4096], tsadir[4096], texts[OBJECTS][32];
	snprintf(path, sizeof path, "%s/store", dir);
	snprintf(tsadir, sizeof tsadir, "%s/tsa", dir);
	kura_error err;
	kura_store *st;
	kura_tsa *tsa;
	struct ids ids = {0};
	ck_assert_int_eq(kura_store_init(path, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_create(tsadir, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_open(&tsa, tsadir, &err), 0);
	ck_assert_int_eq(kura_store_open(&st, path, KURA_STORE_WRITE, &err), 0);
	ingest_pages(st, &ids, texts, 0, OBJECTS);
	ck_assert_int_eq(ids.n, OBJECTS);

	kura_stamper_options so = {.embedded = tsa};
	kura_seal_result res;
	char seals[4][KURA_ID_LEN + 1];
	size_t expect[] = {3, 3, 3, 1};
	for (int s = 0; s < 4; s++) {
		ck_assert_msg(kura_seal(&res, st, &so, 3, &err) == 0, "%s", err.message);
		ck_assert_uint_eq(res.objects, expect[s]);
		ck_assert_int_eq(res.more, s < 3);
		memcpy(seals[s], res.id, sizeof seals[s]);
	}
	ck_assert_int_eq(kura_seal(&res, st, &so, 3, &err), 0);
	ck_assert_uint_eq(res.objects, 0); /* nothing left pending */

	kura_evidence_cache *cache;
	ck_assert_int_eq(kura_evidence_cache_new(&cache, &err), 0);
	for (int i = OBJECTS - 1; i >= 0; i--) { /* backwards: the store's kept subject list changes */
		char *starts;
		uint32_t *pos;
		size_t n;
		ck_assert_int_eq(kura_object_chain_starts(&starts, &pos, &n, st, ids.id[i], &err), 0);
		ck_assert_uint_eq(n, 1);
		ck_assert_msg(memcmp(starts, seals[i / 3], KURA_ID_LEN) == 0, "object %d is in the wrong seal", i);
		ck_assert_uint_eq(pos[0], (uint32_t)(i % 3));
		free(starts);
		free(pos);

		unsigned char *der;
		size_t len;
		json_t *r = NULL;
		struct data d = {texts[i]};
		kura_er_verify_opts o = {.anchors = kura_tsa_anchors(tsa), .digest = give_digest, .digest_ud = &d};
		ck_assert_int_eq(kura_object_evidence(&der, &len, st, ids.id[i], cache, &err), 0);
		ck_assert_int_eq(kura_clock_now(&o.at_ms, &err), 0);
		ck_assert_int_eq(kura_er_verify(&r, der, len, &o, &err), 0);
		ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "valid");
		json_decref(r);
		/* another object's data does not fit this record */
		d.text = texts[(i + 1) % OBJECTS];
		ck_assert_int_eq(kura_er_verify(&r, der, len, &o, &err), 0);
		ck_assert_str_eq(json_string_value(json_object_get(r, "verdict")), "invalid");
		json_decref(r);
		free(der);
	}
	kura_evidence_cache_free(cache);
	kura_store_close(st);
	kura_tsa_close(tsa);
	kura_test_rmdir(dir);
}
END_TEST

/* kura_tsa_first_certified, what timeliness reports use: unknown before the
 * seal, then what was judged when the token came (kura/tsa.h): a TSA certified
 * by its certificate (--cert: not asked) from some date; earlier seals keep "no". */
START_TEST(first_time_stamp_certified_as_judged_then)
{
	char *dir = kura_test_tmpdir(), path[4096], tsadir[4096], pem[4096], texts[OBJECTS][32];
	snprintf(path, sizeof path, "%s/store", dir);
	snprintf(tsadir, sizeof tsadir, "%s/tsa", dir);
	snprintf(pem, sizeof pem, "%s/tsa/tsa.pem", dir);
	kura_error err;
	kura_store *st;
	kura_tsa *tsa;
	kura_seal_result res;
	struct ids ids = {0};
	int yes;
	ck_assert_int_eq(kura_store_init(path, NULL, &err), 0);
	ck_assert_int_eq(kura_tsa_create(tsadir, NULL, &err), 0); /* a TSA of its own, not the store's */
	ck_assert_int_eq(kura_tsa_open(&tsa, tsadir, &err), 0);
	ck_assert_int_eq(kura_store_open(&st, path, KURA_STORE_WRITE, &err), 0);
	kura_stamper_options so = {.embedded = tsa};

	ingest_pages(st, &ids, texts, 0, 2);
	ck_assert_int_eq(kura_tsa_first_certified(&yes, st, ids.id[0], &err), 0);
	ck_assert_int_eq(yes, -1); /* not sealed yet */
	ck_assert_msg(kura_seal(&res, st, &so, 0, &err) == 0, "%s", err.message);
	ck_assert_int_eq(kura_tsa_first_certified(&yes, st, ids.id[0], &err), 0);
	ck_assert_int_eq(yes, 0);

	kura_tsa_certification c = {.url = "http://127.0.0.1:9/", .cert = pem, .from = "2000-01-01"};
	json_t *entry = NULL;
	ck_assert_msg(kura_tsa_certify(&entry, st, &c, &err) == 0, "%s", err.message);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(entry, "certificate_sha256")));
	json_decref(entry);
	ingest_pages(st, &ids, texts, 2, 3);
	ck_assert_msg(kura_seal(&res, st, &so, 0, &err) == 0, "%s", err.message);
	ck_assert_int_eq(kura_tsa_first_certified(&yes, st, ids.id[2], &err), 0);
	ck_assert_int_eq(yes, 1);
	ck_assert_int_eq(kura_tsa_first_certified(&yes, st, ids.id[1], &err), 0);
	ck_assert_int_eq(yes, 0); /* judged when it was sealed */

	c.cert = NULL;
	c.url = "embedded";
	ck_assert_int_eq(kura_tsa_certify(NULL, st, &c, &err), KURA_EINPUT);
	kura_store_close(st);
	kura_tsa_close(tsa);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seal");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, a_backlog_is_sealed_in_several_seals);
	tcase_add_test(tc, first_time_stamp_certified_as_judged_then);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
