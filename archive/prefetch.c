/* Prefetch: worker threads read, hash and compress the next documents of an
 * ingest while the ingest thread appends, indexes and commits the ones before.
 *
 * Compressing a small document (zstd level 3: about 30 µs for 4 KiB here) and
 * opening and reading it cost more than everything else an ingest does for it;
 * on one thread they cap a folder of small files far below what the disk takes.
 * So each worker takes the next document in order, reads it whole, hashes it
 * and packs its blob body (archive/blob.c) and takes the body's CRC while it is
 * still in the worker's cache; the ingest thread takes the results
 * in order (kura_ingest_add_prefetched) and decides, as for any document,
 * whether the content is new.
 *
 * INVARIANTS
 * - Workers only read the documents: they never touch the store, so what is
 *   durable when, and what is reported when, is decided by ingest.c alone.
 * - Documents are handed over in the order of paths, whatever order the
 *   workers finish them in.
 * - Memory is bounded: at most AHEAD_DOCS documents are ahead of the ingest,
 *   and workers take no new one while AHEAD_BYTES of packed bodies wait.
 *   A document larger than SMALL_MAX is not held: the ingest streams it.
 * - Workers block SIGINT and SIGTERM, so the CLI's handler runs on the ingest
 *   thread and a worker's read is never cut short by them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/blob.h"
#include "archive/prefetch.h"
#include "archive/store_impl.h"
#include "common/fsutil.h"

#define AHEAD_DOCS 2048 /* more than a commit's batch: workers go on while it syncs */
#define AHEAD_BYTES (32u << 20)
/* Documents up to one zstd job (archive/blob.c's JOB_SIZE): the streaming path's zstd
 * workers cannot split them, so there the ingest thread only waited for one worker per
 * document; here they are compressed side by side, ahead of the ingest. */
#define SMALL_MAX (2u << 20)
#define MAX_WORKERS 4
#define KEEP_BUFFER (8u << 10) /* a slot keeps a body buffer this small for its next document */

struct slot {
	int ready;
	kura_prefetched doc;
	unsigned char *buf; /* doc.body points here */
	size_t cap;
};

struct kura_prefetch {
	const char *const *paths;
	size_t n;
	char *hash;
	int level;
	pthread_mutex_t mu;
	pthread_cond_t ready; /* a slot became ready */
	pthread_cond_t room;  /* a slot was released */
	size_t next;          /* the next document a worker takes */
	size_t taken;         /* documents before this one were released */
	uint64_t held;        /* bytes of packed bodies not released yet */
	int stop;
	struct slot *ring;
	pthread_t threads[MAX_WORKERS];
	int nthreads;
};

/* One worker's tools, made once. */
struct worker {
	kura_blob_writer *bw;
	kura_hasher *hasher;
	unsigned char *buf; /* SMALL_MAX + 1: one byte more tells a large document */
};

/* Prepares the document at path into slot s (which the worker alone holds now). */
static void prepare(struct worker *wk, const char *path, struct slot *s)
{
	kura_prefetched *d = &s->doc;
	memset(d, 0, sizeof *d);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		kura_error_sys(&d->err, errno == EIO ? KURA_EIO : KURA_EINPUT, "cannot read %s", path);
		d->state = KURA_PREFETCHED_FAILED;
		return;
	}
	size_t got;
	int rc = kura_fs_read_full(fd, wk->buf, SMALL_MAX + 1, &got) != 0
			 ? kura_error_sys(&d->err, KURA_EIO, "reading %s", path)
			 : 0;
	close(fd);
	if (rc == 0 && got > SMALL_MAX) {
		d->state = KURA_PREFETCHED_LARGE;
		return;
	}
	if (rc == 0)
		rc = kura_hasher_reset(wk->hasher, &d->err);
	if (rc == 0)
		rc = kura_hasher_update(wk->hasher, wk->buf, got, &d->err);
	if (rc == 0)
		rc = kura_hasher_final(wk->hasher, d->sha256, d->extra, &d->extra_len, &d->err);
	size_t need = kura_blob_pack_bound(got);
	if (rc == 0 && s->cap < need) {
		unsigned char *b = realloc(s->buf, need);
		if (b) {
			s->buf = b;
			s->cap = need;
		} else {
			rc = kura_error_set(&d->err, KURA_EINTERNAL, "out of memory");
		}
	}
	if (rc == 0)
		rc = kura_blob_pack(wk->bw, s->buf, s->cap, &d->len, wk->buf, got, d->sha256, &d->err);
	if (rc == 0)
		d->crc = kura_record_crc(s->buf, d->len);
	d->body = rc == 0 ? s->buf : NULL;
	d->size = got;
	d->state = rc == 0 ? KURA_PREFETCHED_PACKED : KURA_PREFETCHED_FAILED;
}

static void *work(void *arg)
{
	kura_prefetch *pf = arg;
	struct worker wk = {0};
	kura_error setup = {0};
	int rc = kura_blob_writer_new(&wk.bw, pf->level, &setup);
	if (rc == 0)
		rc = kura_hasher_new(&wk.hasher, pf->hash, &setup);
	if (rc == 0 && !(wk.buf = malloc(SMALL_MAX + 1)))
		rc = kura_error_set(&setup, KURA_EINTERNAL, "out of memory");
	pthread_mutex_lock(&pf->mu);
	for (;;) {
		while (!pf->stop && pf->next < pf->n &&
		       (pf->next - pf->taken >= AHEAD_DOCS || pf->held >= AHEAD_BYTES))
			pthread_cond_wait(&pf->room, &pf->mu);
		if (pf->stop || pf->next >= pf->n)
			break;
		size_t i = pf->next++;
		struct slot *s = &pf->ring[i % AHEAD_DOCS]; /* released: no one else looks at it until ready */
		pthread_mutex_unlock(&pf->mu);
		if (rc != 0) { /* every document this worker takes fails the way its setup did */
			s->doc.state = KURA_PREFETCHED_FAILED;
			s->doc.err = setup;
		} else if (pf->paths[i]) {
			prepare(&wk, pf->paths[i], s);
		}
		pthread_mutex_lock(&pf->mu);
		s->ready = 1;
		pf->held += s->doc.len;
		pthread_cond_broadcast(&pf->ready);
	}
	pthread_mutex_unlock(&pf->mu);
	kura_blob_writer_free(wk.bw);
	kura_hasher_free(wk.hasher);
	free(wk.buf);
	return NULL;
}

static void stop_workers(kura_prefetch *pf)
{
	pthread_mutex_lock(&pf->mu);
	pf->stop = 1;
	pthread_cond_broadcast(&pf->room);
	pthread_mutex_unlock(&pf->mu);
	for (int i = 0; i < pf->nthreads; i++)
		pthread_join(pf->threads[i], NULL);
	pf->nthreads = 0;
}

int kura_prefetch_new(kura_prefetch **out, kura_store *st, const char *const *paths, size_t n, kura_error *err)
{
	kura_prefetch *pf = calloc(1, sizeof *pf);
	if (!pf)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	pf->paths = paths;
	pf->n = n;
	pf->level = kura_store_zstd_level(st);
	pf->hash = strdup(kura_store_hash(st));
	pf->ring = calloc(AHEAD_DOCS, sizeof *pf->ring);
	pthread_mutex_init(&pf->mu, NULL);
	pthread_cond_init(&pf->ready, NULL);
	pthread_cond_init(&pf->room, NULL);
	if (!pf->hash || !pf->ring) {
		kura_prefetch_free(pf);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	/* one worker per core: the ingest thread's share is the smaller one, and
	 * it waits for the disk at every commit */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cores < 1 ? 1 : cores > MAX_WORKERS ? MAX_WORKERS : (int)cores;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old); /* the workers inherit this mask */
	int rc = 0;
	for (int i = 0; i < want && rc == 0; i++) {
		if ((rc = pthread_create(&pf->threads[i], NULL, work, pf)) == 0)
			pf->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pf->nthreads == 0) {
		kura_prefetch_free(pf);
		return kura_error_set(err, KURA_EINTERNAL, "cannot start a thread: %s", strerror(rc));
	}
	*out = pf;
	return 0;
}

void kura_prefetch_free(kura_prefetch *pf)
{
	if (!pf)
		return;
	stop_workers(pf);
	for (size_t i = 0; pf->ring && i < AHEAD_DOCS; i++)
		free(pf->ring[i].buf);
	free(pf->ring);
	free(pf->hash);
	pthread_mutex_destroy(&pf->mu);
	pthread_cond_destroy(&pf->ready);
	pthread_cond_destroy(&pf->room);
	free(pf);
}

const kura_prefetched *kura_prefetch_take(kura_prefetch *pf, size_t i)
{
	struct slot *s = &pf->ring[i % AHEAD_DOCS];
	pthread_mutex_lock(&pf->mu);
	while (!s->ready)
		pthread_cond_wait(&pf->ready, &pf->mu);
	pthread_mutex_unlock(&pf->mu);
	return &s->doc;
}

void kura_prefetch_release(kura_prefetch *pf, size_t i)
{
	struct slot *s = &pf->ring[i % AHEAD_DOCS];
	pthread_mutex_lock(&pf->mu);
	pf->held -= s->doc.len;
	memset(&s->doc, 0, sizeof s->doc);
	s->ready = 0;
	if (s->cap > KEEP_BUFFER) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
	pf->taken = i + 1;
	pthread_cond_broadcast(&pf->room);
	pthread_mutex_unlock(&pf->mu);
}

void kura_prefetch_skip(kura_prefetch *pf, size_t i)
{
	kura_prefetch_take(pf, i); /* a worker may still be writing the slot */
	kura_prefetch_release(pf, i);
}

const char *kura_prefetch_path(const kura_prefetch *pf, size_t i) { return pf->paths[i]; }
