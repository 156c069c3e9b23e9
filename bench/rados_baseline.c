/* rados_baseline: the librados baseline of `make bench`'s RADOS rows (bench/run.sh).
 * It makes the writes a RADOS store's ingest makes (archive/backend_rados.c), with
 * none of kura's work around them, so that kura's rate can be compared with what
 * the cluster takes through librados on the same machine in the same run:
 *
 *   rados_baseline write CONF POOL NS DOC-BYTES COUNT
 *       COUNT documents of DOC-BYTES (random, made before the clock starts) appended
 *       back to back to objects rolled at the cluster's osd_max_object_size, each as
 *       one asynchronous write (a larger one in pieces of 4 MiB, kura's largest), at
 *       most 32 in flight per object (kura's), all of them waited for ("synced") after
 *       every 1024 documents or 64 MiB and at the end (kura's commit points). Prints
 *       "SECONDS COUNT BYTES".
 *   rados_baseline read CONF POOL NS
 *       reads every object of namespace NS whole, in reads of 4 MiB (kura's), 32 in
 *       flight: the floor of a store-wide verify. Prints "SECONDS OBJECTS BYTES".
 *
 * The objects it writes are named bench.NNNNNNNN and removed at the end. */
#include <errno.h>
#include <rados/librados.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK (4u << 20) /* kura's largest RADOS operation */
#define READ_PIECE CHUNK
#define IN_FLIGHT 32
#define COMMIT_DOCS 1024
#define COMMIT_BYTES (64ull << 20)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "rados_baseline: %s: %s\n", what, strerror(-rc));
	exit(1);
}

/* Writes (or reads) in flight, oldest first. */
struct flight {
	rados_completion_t c[IN_FLIGHT];
	size_t n;
};

static void wait_oldest(struct flight *f)
{
	rados_aio_wait_for_complete(f->c[0]);
	int rc = rados_aio_get_return_value(f->c[0]);
	rados_aio_release(f->c[0]);
	if (rc < 0)
		die("an asynchronous operation", rc);
	memmove(f->c, f->c + 1, --f->n * sizeof *f->c);
}

static void drain(struct flight *f)
{
	while (f->n > 0)
		wait_oldest(f);
}

static rados_completion_t slot(struct flight *f)
{
	if (f->n == IN_FLIGHT)
		wait_oldest(f);
	rados_completion_t c;
	int rc = rados_aio_create_completion2(NULL, NULL, &c);
	if (rc != 0)
		die("rados_aio_create_completion2", rc);
	return f->c[f->n++] = c;
}

static void connect_pool(rados_t *cluster, rados_ioctx_t *io, const char *conf, const char *pool, const char *ns)
{
	int rc = rados_create(cluster, "admin");
	if (rc == 0)
		rados_conf_set(*cluster, "log_to_stderr", "false");
	if (rc == 0)
		rc = rados_conf_read_file(*cluster, conf);
	if (rc == 0)
		rc = rados_connect(*cluster);
	if (rc == 0)
		rc = rados_ioctx_create(*cluster, pool, io);
	if (rc != 0)
		die("connecting to the cluster", rc);
	rados_ioctx_set_namespace(*io, ns);
}

static int bench_write(rados_ioctx_t io, rados_t cluster, size_t doc, size_t count)
{
	char buf[64];
	unsigned long long max = 128ull << 20;
	if (rados_conf_get(cluster, "osd_max_object_size", buf, sizeof buf) == 0 && strtoull(buf, NULL, 10) >= (1u << 20))
		max = strtoull(buf, NULL, 10);
	unsigned char *data = malloc(doc);
	if (!data)
		die("malloc", -ENOMEM);
	srand(7);
	for (size_t i = 0; i < doc; i++)
		data[i] = (unsigned char)rand();
	struct flight f = {0};
	char oid[32];
	unsigned objno = 0;
	unsigned long long off = 0, since_commit = 0, total = 0;
	size_t docs_since = 0;
	snprintf(oid, sizeof oid, "bench.%08u", objno);
	double t0 = now();
	for (size_t d = 0; d < count; d++) {
		if (off + doc > max) { /* roll, as kura rolls a full segment */
			drain(&f);
			objno++;
			snprintf(oid, sizeof oid, "bench.%08u", objno);
			off = 0;
		}
		for (size_t done = 0; done < doc; done += CHUNK) { /* one write per document, in 4 MiB pieces */
			size_t len = doc - done < CHUNK ? doc - done : CHUNK;
			int rc = rados_aio_write(io, oid, slot(&f), (const char *)data + done, len, off);
			if (rc != 0)
				die("rados_aio_write", rc);
			off += len;
		}
		since_commit += doc;
		total += doc;
		if (++docs_since == COMMIT_DOCS || since_commit >= COMMIT_BYTES || d + 1 == count) {
			drain(&f); /* the sync: every write applied on every replica */
			docs_since = 0;
			since_commit = 0;
		}
	}
	double secs = now() - t0;
	printf("%.6f %zu %llu\n", secs, count, total);
	for (unsigned i = 0; i <= objno; i++) {
		snprintf(oid, sizeof oid, "bench.%08u", i);
		rados_remove(io, oid);
	}
	free(data);
	return 0;
}

static int bench_read(rados_ioctx_t io)
{
	rados_list_ctx_t ctx;
	const char *entry;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = rados_nobjects_list_open(io, &ctx);
	if (rc != 0)
		die("listing the objects", rc);
	while (rados_nobjects_list_next(ctx, &entry, NULL, NULL) == 0) {
		if (n == cap && !(names = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names)))
			die("realloc", -ENOMEM);
		names[n++] = strdup(entry);
	}
	rados_nobjects_list_close(ctx);
	char *bufs = malloc((size_t)IN_FLIGHT * READ_PIECE);
	struct flight f = {0};
	unsigned long long bytes = 0;
	size_t next_buf = 0;
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		uint64_t size;
		time_t mtime;
		if ((rc = rados_stat(io, names[i], &size, &mtime)) != 0)
			die("rados_stat", rc);
		for (uint64_t off = 0; off < size; off += READ_PIECE) {
			size_t len = size - off < READ_PIECE ? (size_t)(size - off) : READ_PIECE;
			rados_completion_t c = slot(&f); /* a slot is free: its buffer too (oldest first) */
			if ((rc = rados_aio_read(io, names[i], c, bufs + next_buf * READ_PIECE, len, off)) != 0)
				die("rados_aio_read", rc);
			next_buf = (next_buf + 1) % IN_FLIGHT;
			bytes += len;
		}
	}
	drain(&f);
	printf("%.6f %zu %llu\n", now() - t0, n, bytes);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(bufs);
	return 0;
}

int main(int argc, char **argv)
{
	int w = argc == 7 && strcmp(argv[1], "write") == 0, r = argc == 5 && strcmp(argv[1], "read") == 0;
	if (!w && !r) {
		fprintf(stderr, "usage: rados_baseline write CONF POOL NS DOC-BYTES COUNT | read CONF POOL NS\n");
		return 2;
	}
	rados_t cluster;
	rados_ioctx_t io;
	connect_pool(&cluster, &io, argv[2], argv[3], argv[4]);
	int rc = w ? bench_write(io, cluster, strtoull(argv[5], NULL, 10), strtoull(argv[6], NULL, 10)) : bench_read(io);
	rados_ioctx_destroy(io);
	rados_shutdown(cluster);
	return rc;
}
