/* Which files an ingest takes: the paths given (files, folders, "-" for
 * standard input) resolved into a list of files, in order. Folders are walked
 * recursively in byte order of the names; links to folders are not followed,
 * links to nothing and what is not a regular file are skipped (each said), and
 * the store's own folder is never taken into itself. Every path is checked
 * before anything is written: a missing one is an error (KURA_EINPUT). */
#ifndef KURA_INGEST_WALK_H
#define KURA_INGEST_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"

typedef struct kura_ingest_list kura_ingest_list;

/* Hears of each path skipped, as a message ("skipping PATH: a link to nothing"). */
typedef void (*kura_ingest_skip_fn)(void *ud, const char *message);

/* Resolves paths[0..n) for an ingest into the store at store (a path: only
 * compared with the folders walked). sizes: note every file's size (for a
 * progress line; else a folder's plain files need no stat). skip may be NULL.
 * *out is the caller's: kura_ingest_list_free. */
int kura_ingest_list_new(kura_ingest_list **out, const char *store, const char *const *paths, size_t n, int sizes,
			 kura_ingest_skip_fn skip, void *ud, kura_error *err);
void kura_ingest_list_free(kura_ingest_list *l);

/* How many files; the path of file i ("-": standard input; owned by the list);
 * its size as the walk saw it (0 when not noted); all sizes together. */
size_t kura_ingest_list_count(const kura_ingest_list *l);
const char *kura_ingest_list_path(const kura_ingest_list *l, size_t i);
uint64_t kura_ingest_list_size(const kura_ingest_list *l, size_t i);
uint64_t kura_ingest_list_bytes(const kura_ingest_list *l);

#endif
