/* Records put together from what a cache keeps of each chain (proof/chains.c)
 * are byte for byte the records built with nothing kept: for the many objects of
 * one seal, for a store with time-stamp and hash-tree renewals and imported
 * records, in any order of objects, and after a renewal written while the cache
 * was in use. The store is made with the kura command (KURA_BIN), its clock set
 * by KURA_NOW for each step. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/id.h"
#include "proof/chains.h"
#include "renewal/renew.h"
#include "proof/tsa_setup.h"
#include "testutil.h"

static char *dir;

/* Runs the kura command at time now; fails the test unless it exits 0. */
static void kura_at(const char *now, const char *fmt, ...)
{
	char args[8192], cmd[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof args, fmt, ap);
	va_end(ap);
	/* output to a log, unless args send it elsewhere (a later redirection wins) */
	snprintf(cmd, sizeof cmd, "cd '%s' && KURA_NOW=%s '%s' >>log 2>&1 %s", dir, now, getenv("KURA_BIN"), args);
	ck_assert_msg(system(cmd) == 0, "failed: kura %s (see %s/log)", args, dir);
}

/* A folder of n small documents. */
static void documents(const char *name, int n)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s/doc-%03d.txt", dir, name, i);
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%s document %d\n", name, i);
		fclose(f);
	}
}

static void write_file(const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

struct ids {
	char *v;
	size_t n;
};

static int keep_id(void *ud, json_t *o, kura_error *err)
{
	(void)err;
	struct ids *l = ud;
	l->v = realloc(l->v, (l->n + 1) * KURA_ID_LEN);
	memcpy(l->v + l->n++ * KURA_ID_LEN, json_string_value(json_object_get(o, "id")), KURA_ID_LEN);
	return 0;
}

static void id_at(char out[KURA_ID_LEN + 1], const struct ids *l, size_t i)
{
	memcpy(out, l->v + i * KURA_ID_LEN, KURA_ID_LEN);
	out[KURA_ID_LEN] = '\0';
}

struct record {
	unsigned char *der;
	size_t len;
};

/* Every object's record with a cache of its own (nothing kept from other objects). */
static struct record *alone(kura_store *st, const struct ids *l)
{
	struct record *r = calloc(l->n, sizeof *r);
	kura_error err;
	for (size_t i = 0; i < l->n; i++) {
		char id[KURA_ID_LEN + 1];
		kura_evidence_cache *c;
		id_at(id, l, i);
		ck_assert_int_eq(kura_evidence_cache_new(&c, &err), 0);
		ck_assert_msg(kura_object_evidence(&r[i].der, &r[i].len, st, id, c, &err) == 0, "%s: %s", id, err.message);
		kura_evidence_cache_free(c);
	}
	return r;
}

/* Each object's record from the shared cache, objects taken in the order
 * i = (start + k * step) mod n, equals want[i]. */
static void shared_equals(kura_store *st, kura_evidence_cache *c, const struct ids *l, const struct record *want,
			  size_t step)
{
	kura_error err;
	for (size_t k = 0; k < l->n; k++) {
		size_t i = (k * step + 3) % l->n;
		char id[KURA_ID_LEN + 1];
		unsigned char *der;
		size_t len;
		id_at(id, l, i);
		ck_assert_msg(kura_object_evidence(&der, &len, st, id, c, &err) == 0, "%s: %s", id, err.message);
		ck_assert_msg(len == want[i].len && memcmp(der, want[i].der, len) == 0,
			      "the record of %s (object %zu, step %zu) differs from the one built alone", id, i, step);
		free(der);
	}
}

static void records_free(struct record *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].der);
	free(r);
}

START_TEST(shared_chains_give_the_same_records)
{
	ck_assert_ptr_nonnull(getenv("KURA_BIN"));
	dir = kura_test_tmpdir();
	write_file("policy.yaml", "kura-policy: 1\nname: chains-test\ntitle: chains test\n"
				  "margins: {certificate-days: 30, algorithm-days: 30}\nalgorithms:\n"
				  "  sha256:  {until: null, source: test}\n  sha512:  {until: null, source: test}\n"
				  "  ec-p256: {until: null, source: test}\n");
	documents("a", 300); /* one seal of many objects */
	documents("b", 1);
	documents("c", 9);
	documents("d", 5);
	documents("e", 4);
	documents("o", 2);
	const char *d0 = "2026-01-01T00:00:00Z";
	kura_at(d0, "init S --policy policy.yaml --tsa-days 365");
	kura_at(d0, "ingest S a");
	kura_at("2026-01-02T00:00:00Z", "ingest S b");
	/* imported records: from another store's package */
	kura_at(d0, "init O --policy policy.yaml --tsa-days 365");
	kura_at(d0, "ingest O o");
	kura_at(d0, "export O -o o.tar");
	kura_at(d0, "tsa ca O >o-root.pem");
	kura_at(d0, "trust add S --tsa o-root.pem");
	kura_at("2026-01-02T00:00:00Z", "import S o.tar");
	kura_at("2026-01-03T00:00:00Z", "ingest S c");
	kura_at("2026-12-15T00:00:00Z", "renew S");   /* time-stamp renewal of every chain */
	kura_at("2026-12-16T00:00:00Z", "ingest S d");
	kura_at("2026-12-16T00:00:00Z", "policy sunset S sha256 2027-03-01");
	kura_at("2027-02-01T00:00:00Z", "renew S");   /* hash-tree renewal of every object */
	kura_at("2027-02-02T00:00:00Z", "ingest S e"); /* sha512 chains from the start */

	setenv("KURA_NOW", "2027-11-20T00:00:00Z", 1);
	char path[4096];
	snprintf(path, sizeof path, "%s/S", dir);
	kura_error err;
	kura_store *st;
	kura_evidence_cache *c;
	struct ids l = {0};
	ck_assert_int_eq(kura_store_open(&st, path, KURA_STORE_WRITE, &err), 0);
	ck_assert_int_eq(kura_store_each_object(st, keep_id, &l, &err), 0);
	ck_assert_uint_eq(l.n, 321);
	struct record *want = alone(st, &l);
	ck_assert_int_eq(kura_evidence_cache_new(&c, &err), 0);
	shared_equals(st, c, &l, want, 1);   /* in ID order, as export goes */
	shared_equals(st, c, &l, want, 160); /* hopping between chains */

	/* a time-stamp renewal of every live chain, written while c holds their states */
	char *starts = malloc(l.n * KURA_ID_LEN);
	size_t nstarts = 0;
	for (size_t i = 0; i < l.n; i++) {
		char id[KURA_ID_LEN + 1], *s;
		uint32_t *pos;
		size_t n;
		id_at(id, &l, i);
		ck_assert_int_eq(kura_object_chain_starts(&s, &pos, &n, st, id, &err), 0);
		int seen = 0;
		for (size_t k = 0; k < nstarts; k++)
			seen |= memcmp(starts + k * KURA_ID_LEN, s + (n - 1) * KURA_ID_LEN, KURA_ID_LEN) == 0;
		if (!seen)
			memcpy(starts + nstarts++ * KURA_ID_LEN, s + (n - 1) * KURA_ID_LEN, KURA_ID_LEN);
		free(s);
		free(pos);
	}
	kura_tsa_setup tsa;
	STACK_OF(X509) *anchors;
	kura_renew_result res;
	ck_assert_int_eq(kura_tsa_setup_open(&tsa, st, &err), 0);
	ck_assert_int_eq(kura_tsa_setup_anchors(&anchors, st, &err), 0);
	ck_assert_msg(kura_renew_timestamps(&res, st, starts, nstarts, &tsa.opts, anchors, &err) == 0, "%s", err.message);
	ck_assert_uint_eq(res.renewed, nstarts);
	kura_tsa_setup_close(&tsa);
	sk_X509_pop_free(anchors, X509_free);

	struct record *renewed = alone(st, &l);
	for (size_t i = 0; i < l.n; i++) /* every record has one ATS more */
		ck_assert_uint_gt(renewed[i].len, want[i].len);
	shared_equals(st, c, &l, renewed, 1);
	shared_equals(st, c, &l, renewed, 7);

	kura_evidence_cache_free(c);
	records_free(want, l.n);
	records_free(renewed, l.n);
	free(starts);
	free(l.v);
	kura_store_close(st);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chains");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, shared_chains_give_the_same_records);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
