/* kura_bench: the measuring half of `make bench` (bench/run.sh drives it and prints
 * the table). Each mode does one thing, in a fresh process so that its peak RSS
 * (getrusage) is its own, and prints one line: seconds, peak RSS in KiB, count
 * [, bytes]. Timings are wall-clock (CLOCK_MONOTONIC) around the measured work only.
 *
 *   time RESULT CMD [ARG...]   runs CMD, writes "secs kib cpu 0" (the child's peak RSS and
 *                              CPU seconds, user + system) to RESULT
 *   fill STORE N PER_SEAL      N tiny unique documents through the library (durable
 *                              batches); sealed every PER_SEAL objects (0: left pending)
 *   seal STORE                 kura_seal() of everything pending, then every object's
 *                              reduced tree (its path in the stored seal's tree)
 *   export STORE LIMIT [T]     kura_object_evidence() (DER record) for the first LIMIT objects,
 *                              on T threads (default 1), each with a store handle and an
 *                              evidence cache of its own over a contiguous share of the objects
 *   verify-er STORE LIMIT      kura_er_verify() of the first LIMIT objects' records, as
 *                              verify-er does (data digest, tree, token against the store's
 *                              TSA roots), each record on its own: no token cache
 *   records STORE              how many evidence records of each kind the store holds
 *   compact STORE EVERY        marks every EVERY-th object disposed of (index key 'D', as
 *                              the records layer will), then times kura_store_compact();
 *                              count: blobs removed, bytes: the rewritten segments' bytes
 *                              before (what compaction reads; it writes them less the removed)
 *   search-fill STORE N        defines three fields and fills N tiny documents with values
 *                              for them (bench/kura_bench_search.c says which)
 *   search STORE RUNS [SCAN]   the typed query through kura_search_ids RUNS times, and a full
 *                              scan with the same predicate (SCAN 0: none); prints
 *                              "median kib hits scan first cpu"
 *   ingest-fields STORE DIR W  the files of DIR, each with five values of its own, into a store
 *                              with five fields (W 1) or none (W 0): the ingest `kura ingest`
 *                              makes (bench/kura_bench_search.c) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "archive/store_impl.h"
#include "bench/kura_bench.h"
#include "evidence/verify.h"
#include "kura/clock.h"
#include "kura/ingest.h"
#include "proof/chains.h"
#include "proof/seal.h"
#include "proof/tsa_setup.h"

double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

long peak_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int die(const kura_error *err, const char *what)
{
	fprintf(stderr, "kura_bench: %s: %s\n", what, err->message);
	return 1;
}

int report(double secs, size_t count, unsigned long long bytes)
{
	printf("%.6f %ld %zu %llu\n", secs, peak_kib(), count, bytes);
	return 0;
}

static int mode_time(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		execvp(argv[3], argv + 3);
		perror(argv[3]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
		return 3;
	double secs = now_s() - t0;
	FILE *f = fopen(argv[2], "w");
	if (!f)
		return 3;
	fprintf(f, "%.6f %ld %.6f 0\n", secs, ru.ru_maxrss,
		(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

static int seal_now(kura_store *st, kura_error *err)
{
	kura_tsa_setup tsa;
	kura_seal_result res;
	int rc = kura_tsa_setup_open(&tsa, st, err);
	if (rc == 0) {
		rc = kura_seal(&res, st, &tsa.opts, 0, err);
		kura_tsa_setup_close(&tsa);
	}
	return rc;
}

static int mode_fill(const char *path, size_t n, size_t per_seal)
{
	kura_error err = {0};
	kura_store *st = NULL;
	kura_ingest *in = NULL;
	int fd = memfd_create("kura-bench", 0);
	if (fd < 0)
		return 3;
	double t0 = now_s();
	int rc = kura_store_open(&st, path, KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_ingest_new(&in, st, NULL, NULL, &err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char doc[64], name[32];
		int len = snprintf(doc, sizeof doc, "kura bench document %zu\n", i);
		snprintf(name, sizeof name, "doc%zu.txt", i);
		if (ftruncate(fd, 0) != 0 || pwrite(fd, doc, (size_t)len, 0) != len || lseek(fd, 0, SEEK_SET) != 0)
			return 3;
		rc = kura_ingest_add(in, fd, name, name, NULL, 0, &err);
		if (rc == 0 && per_seal && (i + 1) % per_seal == 0 && (rc = kura_ingest_commit(in, &err)) == 0)
			rc = seal_now(st, &err);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, &err);
	double secs = now_s() - t0;
	kura_ingest_free(in);
	kura_store_close(st);
	close(fd);
	return rc ? die(&err, "fill") : report(secs, n, 0);
}

/* The IDs of the first limit objects (n * KURA_ID_LEN characters). */
struct ids {
	char *v;
	size_t n, limit;
};

static int keep_id(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)o;
	struct ids *l = ud;
	if (l->n == l->limit)
		return 1; /* enough: stops the walk */
	if (!(l->n & (l->n + 1)) || !l->v) {
		char *g = realloc(l->v, (2 * l->n + 2) * KURA_ID_LEN);
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		l->v = g;
	}
	memcpy(l->v + l->n++ * KURA_ID_LEN, id, KURA_ID_LEN);
	return 0;
}

static int object_ids(struct ids *l, kura_store *st, size_t limit, kura_error *err)
{
	l->v = NULL;
	l->n = 0;
	l->limit = limit ? limit : (size_t)-1;
	int rc = kura_index_each_object(kura_store_index(st), keep_id, l, err);
	return rc == 1 ? 0 : rc;
}

static void id_at(char out[KURA_ID_LEN + 1], const struct ids *l, size_t i)
{
	memcpy(out, l->v + i * KURA_ID_LEN, KURA_ID_LEN);
	out[KURA_ID_LEN] = '\0';
}

static int mode_seal(const char *path)
{
	kura_error err = {0};
	kura_store *st = NULL;
	kura_evidence_cache *cache = NULL;
	const kura_chain_record *r = NULL;
	kura_seal_result res = {0};
	unsigned long long siblings = 0;
	int rc = kura_store_open(&st, path, KURA_STORE_WRITE, &err);
	double t0 = now_s();
	kura_tsa_setup tsa;
	if (rc == 0 && (rc = kura_tsa_setup_open(&tsa, st, &err)) == 0) {
		rc = kura_seal(&res, st, &tsa.opts, 0, &err);
		kura_tsa_setup_close(&tsa);
	}
	if (rc == 0)
		rc = kura_evidence_cache_new(&cache, &err);
	if (rc == 0)
		rc = kura_chain_record_get_tree(&r, cache, st, res.id, &err);
	unsigned char path_buf[64 * EVP_MAX_MD_SIZE];
	for (size_t i = 0; rc == 0 && i < res.objects; i++) {
		size_t k;
		kura_hashtree_path(r->tree, i, path_buf, &k);
		siblings += k;
	}
	double secs = now_s() - t0;
	kura_evidence_cache_free(cache);
	kura_store_close(st);
	return rc ? die(&err, "seal") : report(secs, res.objects, siblings);
}

/* One thread's share of an export: its own store handle and evidence cache (a
 * handle and a cache serve one thread), objects [from, to) of the list. */
struct export_share {
	const char *path;
	const struct ids *l;
	size_t from, to;
	unsigned long long bytes;
	int rc;
	kura_error err;
};

static void *export_share_run(void *ud)
{
	struct export_share *x = ud;
	kura_store *st = NULL;
	kura_evidence_cache *cache = NULL;
	x->rc = kura_store_open(&st, x->path, KURA_STORE_READ, &x->err);
	if (x->rc == 0)
		x->rc = kura_evidence_cache_new(&cache, &x->err);
	for (size_t i = x->from; x->rc == 0 && i < x->to; i++) {
		char id[KURA_ID_LEN + 1];
		unsigned char *der = NULL;
		size_t len;
		id_at(id, x->l, i);
		if ((x->rc = kura_object_evidence(&der, &len, st, id, cache, &x->err)) == 0)
			x->bytes += len;
		free(der);
	}
	kura_evidence_cache_free(cache);
	kura_store_close(st);
	return NULL;
}

static int mode_export(const char *path, size_t limit, size_t threads)
{
	kura_error err = {0};
	kura_store *st = NULL;
	struct ids l = {0};
	struct export_share share[16];
	pthread_t tid[16];
	unsigned long long bytes = 0;
	int rc = threads >= 1 && threads <= 16 ? kura_store_open(&st, path, KURA_STORE_READ, &err)
					       : kura_error_set(&err, KURA_EINPUT, "1 to 16 threads");
	if (rc == 0)
		rc = object_ids(&l, st, limit, &err);
	kura_store_close(st);
	/* contiguous shares: each thread's cache follows its chains */
	double t0 = now_s();
	size_t started = 0;
	for (size_t t = 0; rc == 0 && t < threads; t++) {
		share[t] = (struct export_share){.path = path, .l = &l, .from = l.n * t / threads, .to = l.n * (t + 1) / threads};
		if (t > 0 && pthread_create(&tid[t], NULL, export_share_run, &share[t]) != 0)
			rc = kura_error_set(&err, KURA_EINTERNAL, "cannot start a thread");
		else
			started++;
	}
	if (started > 0) /* the first share on this thread */
		export_share_run(&share[0]);
	for (size_t t = 0; t < started; t++) {
		if (t > 0)
			pthread_join(tid[t], NULL);
		if (rc == 0 && share[t].rc != 0) {
			rc = share[t].rc;
			err = share[t].err;
		}
		bytes += share[t].bytes;
	}
	double secs = now_s() - t0;
	free(l.v);
	return rc ? die(&err, "export") : report(secs, l.n, bytes);
}

/* What verify-er has in hand for one object: its record and its bytes. */
struct record {
	unsigned char *der, *data;
	size_t len, dlen;
};

static int collect(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	struct record *r = ud;
	unsigned char *g = realloc(r->data, r->dlen + n);
	if (!g)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(g + r->dlen, p, n);
	r->data = g;
	r->dlen += n;
	return 0;
}

static int digest_data(void *ud, const EVP_MD *md, unsigned char *out, size_t *count, kura_error *err)
{
	const struct record *r = ud;
	*count = 1;
	return EVP_Digest(r->data, r->dlen, out, NULL, md, NULL) == 1 ? 0
								       : kura_error_set(err, KURA_EINTERNAL, "digest failed");
}

static int mode_verify_er(const char *path, size_t limit)
{
	kura_error err = {0};
	kura_store *st = NULL;
	kura_evidence_cache *cache = NULL;
	STACK_OF(X509) *anchors = NULL;
	struct ids l = {0};
	struct record *recs = NULL;
	size_t valid = 0;
	int rc = kura_store_open(&st, path, KURA_STORE_READ, &err);
	if (rc == 0)
		rc = object_ids(&l, st, limit, &err);
	if (rc == 0)
		rc = kura_evidence_cache_new(&cache, &err);
	if (rc == 0)
		rc = kura_tsa_setup_anchors(&anchors, st, &err);
	if (rc == 0 && !(recs = calloc(l.n ? l.n : 1, sizeof *recs)))
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		char id[KURA_ID_LEN + 1];
		id_at(id, &l, i);
		if ((rc = kura_object_evidence(&recs[i].der, &recs[i].len, st, id, cache, &err)) == 0)
			rc = kura_store_read(st, id, collect, &recs[i], &err);
	}
	kura_er_verify_opts o = {.anchors = anchors, .digest = digest_data};
	if (rc == 0)
		rc = kura_clock_now(&o.at_ms, &err);
	double t0 = now_s();
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		json_t *rep = NULL;
		o.digest_ud = &recs[i];
		if ((rc = kura_er_verify(&rep, recs[i].der, recs[i].len, &o, &err)) == 0)
			valid += strcmp(json_string_value(json_object_get(rep, "verdict")), "valid") == 0;
		json_decref(rep);
	}
	double secs = now_s() - t0;
	for (size_t i = 0; recs && i < l.n; i++) {
		free(recs[i].der);
		free(recs[i].data);
	}
	free(recs);
	free(l.v);
	sk_X509_pop_free(anchors, X509_free);
	kura_evidence_cache_free(cache);
	kura_store_close(st);
	if (rc == 0 && valid != l.n)
		fprintf(stderr, "kura_bench: only %zu of %zu records verified valid\n", valid, l.n);
	return rc ? die(&err, "verify-er") : valid != l.n ? 1 : report(secs, l.n, 0);
}

/* Every link's record (kind and ID), to count the distinct records. */
struct links {
	char *v; /* n * (1 + KURA_ID_LEN) */
	size_t n, cap;
};

static int keep_record(void *ud, const char *subject, const char *record_id, char kind, uint32_t position,
		       kura_error *err)
{
	(void)subject;
	(void)position;
	struct links *l = ud;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4096;
		char *g = realloc(l->v, cap * (1 + KURA_ID_LEN));
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		l->v = g;
		l->cap = cap;
	}
	l->v[l->n * (1 + KURA_ID_LEN)] = kind;
	memcpy(l->v + l->n++ * (1 + KURA_ID_LEN) + 1, record_id, KURA_ID_LEN);
	return 0;
}

static int cmp_link(const void *a, const void *b) { return memcmp(a, b, 1 + KURA_ID_LEN); }

static int mode_records(const char *path)
{
	kura_error err = {0};
	kura_store *st = NULL;
	struct links l = {0};
	size_t s = 0, h = 0, t = 0;
	int rc = kura_store_open(&st, path, KURA_STORE_READ, &err);
	if (rc == 0)
		rc = kura_store_each_link(st, keep_record, &l, &err);
	kura_store_close(st);
	if (rc)
		return die(&err, "records");
	if (l.n)
		qsort(l.v, l.n, 1 + KURA_ID_LEN, cmp_link);
	for (size_t i = 0; i < l.n; i++) {
		const char *r = l.v + i * (1 + KURA_ID_LEN);
		if (i > 0 && memcmp(r, r - 1 - KURA_ID_LEN, 1 + KURA_ID_LEN) == 0)
			continue;
		*(r[0] == 'S' ? &s : r[0] == 'H' ? &h : &t) += 1;
	}
	free(l.v);
	printf("S %zu H %zu T %zu\n", s, h, t);
	return 0;
}

/* k new versions (metadata changes: same content) spread evenly over the
 * store's objects, in one ingest: what `ls` has to leave out. */
static int mode_versions(const char *path, size_t k)
{
	kura_error err = {0};
	kura_store *st = NULL;
	kura_ingest *in = NULL;
	struct ids l = {0};
	int rc = kura_store_open(&st, path, KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = object_ids(&l, st, 0, &err);
	if (rc == 0)
		rc = kura_ingest_new(&in, st, NULL, NULL, &err);
	size_t step = k && l.n >= k ? l.n / k : 1;
	for (size_t i = 0; rc == 0 && i < l.n && i / step < k; i += step) {
		char of[KURA_ID_LEN + 1], id[KURA_ID_LEN + 1];
		id_at(of, &l, i);
		json_t *f = json_pack("{s:s, s:s, s:s}", "record", of, "supersedes", of, "reason", "bench");
		kura_meta m = {"bench", "v2"};
		kura_ingest_set_fields(in, f);
		rc = kura_ingest_add_version(in, of, &m, 1, id, &err);
		json_decref(f);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, &err);
	kura_ingest_free(in);
	kura_store_close(st);
	free(l.v);
	return rc ? die(&err, "versions") : 0;
}

struct marking {
	kura_index_batch *b;
	size_t n, every;
};

static int mark_step(void *ud, const char *id, const kura_index_object *o, kura_error *err)
{
	(void)o, (void)err;
	struct marking *m = ud;
	if (m->n++ % m->every == 0)
		kura_index_batch_put_disposed(m->b, id, "01JZZZZZZZZZZZZZZZZZZZZZZZ");
	return 0;
}

static int mode_compact(const char *path, size_t every)
{
	kura_error err = {0};
	kura_store *st = NULL;
	kura_compact_result res;
	struct marking m = {NULL, 0, every ? every : 1};
	int rc = kura_store_open(&st, path, KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_index_batch_new(&m.b, &err);
	if (rc == 0)
		rc = kura_index_each_object(kura_store_index(st), mark_step, &m, &err);
	if (rc == 0)
		rc = kura_index_write(kura_store_index(st), m.b, 1, &err);
	kura_index_batch_free(m.b);
	double t0 = now_s();
	if (rc == 0)
		rc = kura_store_compact(st, &res, &err);
	double secs = now_s() - t0;
	kura_store_close(st);
	if (rc != 0)
		return die(&err, "compact");
	return report(secs, (size_t)res.blobs, (unsigned long long)res.bytes_before);
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (strcmp(m, "time") == 0)
		return mode_time(argc, argv);
	if (strcmp(m, "fill") == 0 && argc == 5)
		return mode_fill(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
	if (strcmp(m, "seal") == 0 && argc == 3)
		return mode_seal(argv[2]);
	if (strcmp(m, "export") == 0 && (argc == 4 || argc == 5))
		return mode_export(argv[2], strtoull(argv[3], NULL, 10), argc == 5 ? strtoull(argv[4], NULL, 10) : 1);
	if (strcmp(m, "verify-er") == 0 && argc == 4)
		return mode_verify_er(argv[2], strtoull(argv[3], NULL, 10));
	if (strcmp(m, "records") == 0 && argc == 3)
		return mode_records(argv[2]);
	if (strcmp(m, "versions") == 0 && argc == 4)
		return mode_versions(argv[2], strtoull(argv[3], NULL, 10));
	if (strcmp(m, "compact") == 0 && argc == 4)
		return mode_compact(argv[2], strtoull(argv[3], NULL, 10));
	if (strcmp(m, "search-fill") == 0 && argc == 4)
		return mode_search_fill(argv[2], strtoull(argv[3], NULL, 10));
	if (strcmp(m, "search") == 0 && (argc == 4 || argc == 5))
		return mode_search(argv[2], strtoull(argv[3], NULL, 10), argc == 4 || strcmp(argv[4], "0") != 0);
	if (strcmp(m, "ingest-fields") == 0 && argc == 5)
		return mode_ingest_fields(argv[2], argv[3], strcmp(argv[4], "0") != 0);
	fprintf(stderr, "usage: kura_bench time RESULT CMD [ARG...] | fill STORE N PER_SEAL | seal STORE |\n"
			"       export STORE LIMIT [THREADS] | verify-er STORE LIMIT | records STORE | versions STORE K |\n"
			"       compact STORE EVERY | search-fill STORE N | search STORE RUNS [SCAN] |\n"
			"       ingest-fields STORE DIR WITH\n");
	return 2;
}
