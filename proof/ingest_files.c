/* An ingest of files, folders or standard input (see kura/ingest.h): what
 * `kura ingest` does, for any caller.
 * An object is reported done only once it is durable (kura/ingest.h); the
 * seal after the ingest runs also after a failure: what was reported is stored.
 * A manifest's documents are one commit: after a failure none is stored. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "common/fsutil.h"
#include "kura/ingest.h"
#include "proof/seal.h"
#include "proof/signed.h"

static void skipped(void *ud, const char *message)
{
	const kura_ingest_events *ev = ud;
	if (ev->warn)
		ev->warn(ev->ud, message);
}

/* Counts the objects reported done, and passes them on. */
struct counter {
	const kura_ingest_events *ev;
	uint64_t count;
};

static void count_done(void *ud, const char *id, const char *sha256_hex, const char *path)
{
	struct counter *c = ud;
	c->count++;
	if (c->ev->done)
		c->ev->done(c->ev->ud, id, sha256_hex, path);
}

static int is_p7m(const char *path)
{
	size_t n = strlen(path);
	return n > 4 && strcasecmp(path + n - 4, ".p7m") == 0;
}

/* One document with its signature: the signature checked and its validation
 * data collected before anything is written. */
static int add_signed(kura_ingest *in, kura_store *st, int fd, const char *path, const char *name, const kura_meta *meta,
		      size_t nmeta, const char *sig_path, const kura_signed_options *so, const kura_ingest_events *ev,
		      kura_error *err)
{
	char *sig = NULL;
	size_t siglen = 0;
	kura_signed prepared;
	int rc = 0;
	if (sig_path && kura_fs_read_file(sig_path, 64u << 20, &sig, &siglen) != 0)
		rc = kura_error_sys(err, KURA_EINPUT, "cannot read signature %s", sig_path);
	if (rc == 0)
		rc = kura_signed_prepare(&prepared, st, path, (unsigned char *)sig, siglen, sig_path, so, err);
	if (rc == 0) {
		rc = kura_ingest_add_group(in, fd, path, name, meta, nmeta, prepared.members, prepared.nmembers,
					   prepared.report, err);
		const char *verdict = json_string_value(json_object_get(prepared.report, "signature"));
		if (rc == 0 && strcmp(verdict, "valid") != 0 && ev->warn) {
			char msg[8192];
			snprintf(msg, sizeof msg, "%s: signature %s: %s (stored as asked)", path, verdict,
				 json_string_value(json_object_get(prepared.report, "reason")));
			ev->warn(ev->ud, msg);
		}
		kura_signed_clear(&prepared);
	}
	free(sig);
	return rc;
}


/* The documents of files, one by one: plain files read ahead by worker
 * threads; standard input and signed documents read here. */
static int add_all(kura_ingest *in, kura_store *st, const kura_ingest_list *files, const kura_ingest_options *o,
		   const kura_ingest_events *ev, kura_error *err)
{
	size_t n = kura_ingest_list_count(files);
	const char *sig_path = o->signature;
	kura_prefetch *pf = NULL;
	const char **ahead = calloc(n + 1, sizeof *ahead);
	int rc = ahead ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!sig_path && strcmp(kura_ingest_list_path(files, i), "-") != 0 && !is_p7m(kura_ingest_list_path(files, i)))
			ahead[i] = kura_ingest_list_path(files, i);
	if (rc == 0)
		rc = kura_prefetch_new(&pf, st, ahead, n, err);
	if (rc == 0 && ev->start)
		ev->start(ev->ud, kura_ingest_list_bytes(files));
	uint64_t done_bytes = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (o->stop && *o->stop) {
			rc = o->manifest ? kura_error_set(err, KURA_EIO, "interrupted")
					 : kura_error_set(err, KURA_EIO, "interrupted: the objects printed above are stored, "
									  "%zu of %zu paths were not ingested", n - i, n);
			break;
		}
		size_t nmeta = o->nmeta;
		const kura_meta *meta = o->manifest ? kura_manifest_meta(o->manifest, i, &nmeta) : o->meta;
		const char *path = kura_ingest_list_path(files, i);
		int skip = 0;
		if (o->each && (rc = o->each(o->each_ud, st, in, path, &skip, err)) != 0) {
			kura_error_wrap(err, "ingesting %s", path);
			break;
		}
		if (skip) {
			kura_prefetch_skip(pf, i);
			continue;
		}
		int is_stdin = strcmp(path, "-") == 0;
		const char *slash = strrchr(path, '/');
		const char *name = is_stdin ? (o->stdin_name ? o->stdin_name : "stdin") : slash ? slash + 1 : path;
		if (ahead[i]) {
			rc = kura_ingest_add_prefetched(in, pf, i, name, meta, nmeta, err);
		} else {
			kura_prefetch_skip(pf, i);
			int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				rc = kura_error_sys(err, errno == EIO ? KURA_EIO : KURA_EINPUT, "cannot read %s", path);
				break;
			}
			if (sig_path || !is_stdin)
				rc = add_signed(in, st, fd, path, name, meta, nmeta, sig_path, &o->signed_opts, ev, err);
			else
				rc = kura_ingest_add(in, fd, path, name, meta, nmeta, err);
			if (!is_stdin)
				close(fd);
		}
		if (rc != 0)
			kura_error_wrap(err, "ingesting %s", path);
		done_bytes += kura_ingest_list_size(files, i);
		if (ev->progress)
			ev->progress(ev->ud, done_bytes, i + 1);
	}
	kura_prefetch_free(pf);
	free(ahead);
	if (ev->end)
		ev->end(ev->ud);
	return rc;
}

/* The list walked from a manifest's paths is its files, one by one (they were
 * regular files when it was loaded). */
static int same_files(const kura_ingest_list *files, const kura_manifest *m, kura_error *err)
{
	size_t n = kura_manifest_count(m);
	int same = kura_ingest_list_count(files) == n;
	for (size_t i = 0; same && i < n; i++)
		same = strcmp(kura_ingest_list_path(files, i), kura_manifest_paths(m)[i]) == 0;
	return same ? 0 : kura_error_set(err, KURA_EINPUT, "the manifest's files changed while it was read: try again");
}

static void append(kura_error *err, const char *text)
{
	if (err) {
		size_t n = strlen(err->message);
		snprintf(err->message + n, sizeof err->message - n, "%s", text);
	}
}

int kura_ingest_paths(const char *store, const char *const *paths, size_t n, const kura_ingest_options *o,
		      const kura_ingest_events *events, kura_error *err)
{
	static const kura_ingest_events none;
	const kura_ingest_events *ev = events ? events : &none;
	kura_ingest_list *files = NULL;
	kura_store *st = NULL;
	kura_ingest *in = NULL;
	struct counter counter = {.ev = ev};
	int rc = kura_ingest_list_new(&files, store, paths, n, o->sizes, skipped, (void *)ev, err);
	if (rc == 0)
		rc = kura_store_open(&st, store, KURA_STORE_WRITE, err);
	if (rc == 0 && o->actor)
		rc = kura_store_set_actor(st, o->actor, err);
	if (rc == 0 && o->manifest)
		rc = same_files(files, o->manifest, err);
	if (rc == 0)
		rc = kura_ingest_new(&in, st, count_done, &counter, err);
	if (rc == 0 && o->manifest)
		kura_ingest_hold(in);
	if (rc == 0)
		rc = add_all(in, st, files, o, ev, err);
	/* what was added before a failure is still made durable and reported, but
	 * for a manifest's documents: one commit of all or none */
	kura_error cerr = {0};
	if (rc != 0 && o->manifest && in) {
		kura_ingest_free(in); /* drops what was added */
		in = NULL;
		append(err, "; nothing of the manifest was stored");
	}
	if (in && kura_ingest_commit(in, &cerr) != 0 && rc == 0) {
		rc = cerr.code;
		if (err)
			*err = cerr;
	}
	if (ev->committed)
		ev->committed(ev->ud, counter.count, rc != 0);
	/* seal what is pending, also after a failure: what was printed is stored */
	if (in && !o->no_seal && (rc == 0 || counter.count > 0)) {
		kura_error serr = {0};
		if (kura_seal_all(NULL, st, ev->seal, &serr) != 0) {
			kura_error_wrap(&serr, "the objects are stored but not time-stamped; run kura seal %s later", store);
			if (rc == 0) {
				rc = serr.code;
				if (err)
					*err = serr;
			} else if (ev->warn) {
				ev->warn(ev->ud, serr.message);
			}
		}
	}
	kura_ingest_free(in);
	kura_store_close(st);
	kura_ingest_list_free(files);
	return rc;
}
