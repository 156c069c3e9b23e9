/* An ingest of files, folders or standard input into a store, as `kura ingest`
 * does it: the paths resolved first (archive/ingest_walk.h: a missing path
 * leaves the store untouched), plain files read, hashed and compressed ahead on
 * worker threads, each document added and made durable in batches (kura/ingest.h),
 * then everything pending sealed (proof/seal.h). A document with a detached
 * signature, and every file named *.p7m (attached CMS), is stored with its
 * signature and validation data as one data object group (proof/signed.h). */
#ifndef KURA_INGEST_FILES_H
#define KURA_INGEST_FILES_H

#include <signal.h>
#include <stdint.h>

#include "archive/ingest_walk.h"
#include "kura/ingest.h"
#include "proof/seal.h"
#include "proof/signed.h"

typedef struct kura_ingest_options {
	const kura_meta *meta;       /* given to every document */
	size_t nmeta;
	const char *signature;       /* a detached signature of the one document given; NULL: none */
	kura_signed_options signed_opts;
	int no_seal;                 /* leave the objects pending */
	int sizes;                   /* note every file's size first, for progress */
	volatile sig_atomic_t *stop; /* set (by a signal handler): finish the document in hand, commit, stop */
} kura_ingest_options;

/* What the ingest tells its caller as it goes (every member may be NULL). */
typedef struct kura_ingest_events {
	kura_ingest_done_fn done;                  /* an object, once durable */
	void (*warn)(void *ud, const char *message); /* a path skipped, a signature stored though not valid,
						      * a seal that failed after the ingest failed */
	/* the first document is next: total_bytes of all (when sizes are noted);
	 * o->stop is looked at from here on */
	void (*start)(void *ud, uint64_t total_bytes);
	void (*progress)(void *ud, uint64_t done_bytes, uint64_t done_items); /* after each document */
	void (*end)(void *ud);                     /* the last document was added */
	/* the last commit was made (failed: something went wrong before or in it);
	 * objects: how many were reported done */
	void (*committed)(void *ud, uint64_t objects, int failed);
	const kura_seal_events *seal;              /* what the seal after the ingest says */
	void *ud;
} kura_ingest_events;

/* Ingests paths[0..n) (files, folders, "-": standard input) into the store at
 * store, opened for writing for the call. What was added before a failure is
 * still made durable, reported and sealed. Everything is borrowed for the call. */
int kura_ingest_paths(const char *store, const char *const *paths, size_t n, const kura_ingest_options *o,
		      const kura_ingest_events *ev, kura_error *err);

#endif
