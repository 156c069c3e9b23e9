/* kura_bench's typed-search modes (issue 15's bench row; docs/BENCH.md).
 *
 * search-fill STORE N: defines the fields txn_date (date), amount (amount) and
 * counterparty (text), then ingests N tiny unique documents through the library
 * (durable batches, nothing sealed), each with values drawn from a fixed seed:
 *   txn_date      uniform over the 3,652 days of fiscal years 2017-2026
 *                 (2017-04-01 .. 2027-03-31)
 *   amount        log-uniform yen from 1,000 to 9,999,999 (floor(10^(3+4u)))
 *   counterparty  1,000 names by Zipf's law (the k-th most frequent has a share
 *                 proportional to 1/k): "山田商事株式会社" second (6.7%), the
 *                 others 取引先0001 .. 取引先1000
 * search STORE RUNS [SCAN]: the query of the row, the "invoices from 山田商事
 * between April and October over ¥100,000" (and under a million),
 *   txn_date>=2025-04-01 txn_date<=2025-10-31 amount>=100000 amount<=999999
 *   counterparty=山田商事株式会社
 * selects 214/3652 (5.9%) x 1/4 x 6.7% of the objects: about 980 of 1,000,000;
 * each condition alone selects 59k, 250k and 67k of them. It
 * runs RUNS times through kura_search_ids on one store handle (the first run
 * right after the open), then a full scan as a user piping `ls --json` into
 * a filter would: every current object's description (kura_records_each, the
 * walk `ls` makes) with the same predicate on its metadata, strings compared as
 * stored (the cheapest fair test: these values are canonical). The two answers
 * must be the same IDs, or the mode fails. SCAN 0: no scan (for profiles). Prints "median-secs peak-KiB hits
 * scan-secs first-secs median-CPU-secs". */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/kura_bench.h"
#include "common/civil.h"
#include "kura/ingest.h"
#include "kura/records.h"
#include "kura/search.h"

#define FIRST_DAY 17257 /* 2017-04-01, days since 1970-01-01 */
#define DAYS 3652
#define PARTNERS 1000
#define YAMADA "山田商事株式会社"

static uint64_t next(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double unit(uint64_t *s) { return (double)(next(s) >> 11) / 9007199254740992.0; }

/* The rank (1 .. PARTNERS) of u in the cumulative weights c. */
static unsigned zipf_rank(const double *c, double u)
{
	unsigned lo = 0, hi = PARTNERS - 1;
	u *= c[PARTNERS - 1];
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (c[mid] > u)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo + 1;
}

/* YYYY-MM-DD of days since 1970-01-01. */
static void day_text(char out[11], int64_t z)
{
	int y, m, d;
	kura_civil_date((int32_t)z, &y, &m, &d);
	snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

int mode_search_fill(const char *path, size_t n)
{
	static const struct {
		const char *name;
		kura_field_type type;
	} fields[] = {{"txn_date", KURA_FIELD_DATE}, {"amount", KURA_FIELD_AMOUNT}, {"counterparty", KURA_FIELD_TEXT}};
	kura_error err = {0};
	kura_store *st = NULL;
	kura_ingest *in = NULL;
	uint64_t seed = 15;
	double zipf[PARTNERS];
	int fd = memfd_create("kura-bench", 0);
	if (fd < 0)
		return 3;
	for (unsigned k = 0; k < PARTNERS; k++)
		zipf[k] = (k ? zipf[k - 1] : 0) + 1.0 / (k + 1);
	double t0 = now_s();
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof fields / sizeof fields[0]; i++)
		rc = kura_field_add(path, fields[i].name, fields[i].type, NULL, 0, NULL, &err);
	if (rc == 0)
		rc = kura_store_open(&st, path, KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_ingest_new(&in, st, NULL, NULL, &err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char doc[64], name[32], date[11], amount[16], partner[32];
		int len = snprintf(doc, sizeof doc, "kura bench invoice %zu\n", i);
		snprintf(name, sizeof name, "inv%zu.txt", i);
		day_text(date, FIRST_DAY + (int64_t)(next(&seed) % DAYS));
		snprintf(amount, sizeof amount, "%.0f", floor(pow(10, 3 + 4 * unit(&seed))));
		unsigned p = zipf_rank(zipf, unit(&seed));
		if (p == 2)
			snprintf(partner, sizeof partner, "%s", YAMADA);
		else
			snprintf(partner, sizeof partner, "取引先%04u", p);
		kura_meta meta[] = {{"txn_date", date}, {"amount", amount}, {"counterparty", partner}};
		if (ftruncate(fd, 0) != 0 || pwrite(fd, doc, (size_t)len, 0) != len || lseek(fd, 0, SEEK_SET) != 0)
			return 3;
		rc = kura_ingest_add(in, fd, name, name, meta, 3, &err);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, &err);
	double secs = now_s() - t0;
	kura_ingest_free(in);
	kura_store_close(st);
	close(fd);
	return rc ? die(&err, "search-fill") : report(secs, n, 0);
}

/* ---------------------------------------------------------------- the query and the scan */

static const char *const query_text[] = {"txn_date>=2025-04-01", "txn_date<=2025-10-31", "amount>=100000",
					 "amount<=999999", "counterparty=" YAMADA};
#define NWHERE (sizeof query_text / sizeof query_text[0])

struct scan {
	char *ids; /* KURA_ID_LEN each */
	size_t n, cap;
};

static int scan_step(void *ud, json_t *object, kura_error *err)
{
	struct scan *s = ud;
	json_t *meta = json_object_get(object, "meta");
	const char *date = json_string_value(json_object_get(meta, "txn_date"));
	const char *amount = json_string_value(json_object_get(meta, "amount"));
	const char *partner = json_string_value(json_object_get(meta, "counterparty"));
	if (!date || !amount || !partner || strcmp(date, "2025-04-01") < 0 || strcmp(date, "2025-10-31") > 0 ||
	    strcmp(partner, YAMADA) != 0)
		return 0;
	long long a = strtoll(amount, NULL, 10);
	if (a < 100000 || a > 999999)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		char *v = realloc(s->ids, cap * KURA_ID_LEN);
		if (!v)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		s->ids = v;
		s->cap = cap;
	}
	memcpy(s->ids + s->n++ * KURA_ID_LEN, json_string_value(json_object_get(object, "id")), KURA_ID_LEN);
	return 0;
}

/* CPU seconds (user + system) of this process so far */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int cmp_secs(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int mode_search(const char *path, size_t runs, int scan_too)
{
	kura_error err = {0};
	kura_store *st = NULL;
	kura_where w[NWHERE] = {0};
	kura_query q = {.where = w, .n = NWHERE};
	struct scan s = {0};
	char *ids = NULL;
	size_t n = 0;
	double secs[64], cpu[64];
	if (runs < 1 || runs > 64)
		return 2;
	int rc = kura_store_open(&st, path, KURA_STORE_READ, &err);
	for (size_t i = 0; rc == 0 && i < NWHERE; i++)
		rc = kura_where_parse(&w[i], query_text[i], &err);
	for (size_t r = 0; rc == 0 && r < runs; r++) {
		free(ids);
		ids = NULL;
		double t0 = now_s(), c0 = cpu_s();
		rc = kura_search_ids(&ids, &n, st, &q, &err);
		secs[r] = now_s() - t0;
		cpu[r] = cpu_s() - c0;
	}
	double t0 = now_s();
	if (rc == 0 && scan_too)
		rc = kura_records_each(st, 0, scan_step, &s, &err);
	double scan = now_s() - t0;
	/* both in ID order (ls's walk and the query's default order) */
	if (rc == 0 && scan_too && (s.n != n || (n && memcmp(s.ids, ids, n * KURA_ID_LEN) != 0)))
		rc = kura_error_set(&err, KURA_EINTERNAL, "the query found %zu objects, the scan %zu (or other ones)", n, s.n);
	for (size_t i = 0; i < NWHERE; i++)
		kura_where_clear(&w[i]);
	free(ids);
	free(s.ids);
	kura_store_close(st);
	if (rc)
		return die(&err, "search");
	double first = secs[0];
	qsort(secs, runs, sizeof secs[0], cmp_secs);
	qsort(cpu, runs, sizeof cpu[0], cmp_secs);
	printf("%.6f %ld %zu %.6f %.6f %.6f\n", secs[runs / 2], peak_kib(), n, scan, first, cpu[runs / 2]);
	return 0;
}

/* ---------------------------------------------------------------- ingest with fields */

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The plain files of dir, sorted (*paths, *n: the caller's). */
static int list_dir(char ***paths, size_t *n, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;
	*paths = NULL;
	*n = 0;
	if (!d)
		return 3;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			char **v = realloc(*paths, (cap = cap ? 2 * cap : 1024) * sizeof *v);
			if (!v)
				break;
			*paths = v;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		if (!((*paths)[*n] = malloc(len)))
			break;
		snprintf((*paths)[(*n)++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*paths, *n, sizeof **paths, by_name);
	return 0;
}

/* ingest-fields STORE DIR WITH: the files of DIR through the ingest `kura ingest`
 * makes (read ahead on worker threads, durable batches, the store closed at the
 * end), each with its own five values (what a manifest gives): txn_date,
 * amount and counterparty as search-fill draws them, received_at 0-9 days
 * after txn_date, invoice_no INV-0000001... WITH 1: the store has the five
 * fields (defined before the timing: date, amount, text, datetime, keyword);
 * 0: it has none, the same metadata stored untyped. */
int mode_ingest_fields(const char *path, const char *dir, int with)
{
	static const struct {
		const char *name;
		kura_field_type type;
	} fields[] = {{"txn_date", KURA_FIELD_DATE}, {"amount", KURA_FIELD_AMOUNT}, {"counterparty", KURA_FIELD_TEXT},
		      {"received_at", KURA_FIELD_DATETIME}, {"invoice_no", KURA_FIELD_KEYWORD}};
	kura_error err = {0};
	kura_store *st = NULL;
	kura_ingest *in = NULL;
	kura_prefetch *pf = NULL;
	char **paths = NULL;
	size_t n = 0;
	uint64_t seed = 4;
	double zipf[PARTNERS];
	for (unsigned k = 0; k < PARTNERS; k++)
		zipf[k] = (k ? zipf[k - 1] : 0) + 1.0 / (k + 1);
	int rc = list_dir(&paths, &n, dir) ? kura_error_set(&err, KURA_EINPUT, "cannot list %s", dir) : 0;
	for (size_t i = 0; rc == 0 && with && i < sizeof fields / sizeof fields[0]; i++)
		rc = kura_field_add(path, fields[i].name, fields[i].type, NULL, 0, NULL, &err);
	double t0 = now_s();
	if (rc == 0)
		rc = kura_store_open(&st, path, KURA_STORE_WRITE, &err);
	if (rc == 0)
		rc = kura_ingest_new(&in, st, NULL, NULL, &err);
	if (rc == 0)
		rc = kura_prefetch_new(&pf, st, (const char *const *)paths, n, &err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char date[11], amount[16], partner[32], received[32], invoice[16];
		int64_t day = FIRST_DAY + (int64_t)(next(&seed) % DAYS);
		day_text(date, day);
		snprintf(amount, sizeof amount, "%.0f", floor(pow(10, 3 + 4 * unit(&seed))));
		unsigned p = zipf_rank(zipf, unit(&seed));
		snprintf(partner, sizeof partner, "%s", p == 2 ? YAMADA : "");
		if (p != 2)
			snprintf(partner, sizeof partner, "取引先%04u", p);
		day_text(received, day + (int64_t)(next(&seed) % 10));
		snprintf(received + 10, sizeof received - 10, "T%02u:%02u:00+09:00", (unsigned)(next(&seed) % 24),
			 (unsigned)(next(&seed) % 60));
		snprintf(invoice, sizeof invoice, "INV-%07zu", i + 1);
		kura_meta meta[] = {{"txn_date", date}, {"amount", amount}, {"counterparty", partner},
				    {"received_at", received}, {"invoice_no", invoice}};
		rc = kura_ingest_add_prefetched(in, pf, i, strrchr(paths[i], '/') + 1, meta, 5, &err);
	}
	if (rc == 0)
		rc = kura_ingest_commit(in, &err);
	kura_prefetch_free(pf);
	kura_ingest_free(in);
	kura_store_close(st);
	double secs = now_s() - t0;
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return rc ? die(&err, "ingest-fields") : report(secs, n, 0);
}
