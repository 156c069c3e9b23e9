/* BagIt bags (RFC 8493) in tar files and folders: what `kura export` writes and
 * what `kura verify-export` and `kura import` read. This layer knows files,
 * manifests and tar entries only; what the files mean is the caller's.
 *
 * A bag written here is one folder NAME/ in a tar (.tar, or .tar.zst by the
 * output's suffix) holding bagit.txt, bag-info.txt, manifest-sha256.txt (every
 * file under data/), tagmanifest-sha256.txt (every other file) and the files the
 * caller added. Entries are regular files only, mode 0644, owner 0:0, one mtime. */
#ifndef KURA_BAG_H
#define KURA_BAG_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>

#include "kura/error.h"

typedef struct kura_bag_writer kura_bag_writer;

/* Starts a bag that kura_bag_writer_finish will rename to out (a temporary file
 * beside it until then). name: the bag's folder in the tar. mtime: seconds since
 * 1970 for every entry. The writer is the caller's: kura_bag_writer_free (which
 * removes the temporary file unless finish succeeded). */
int kura_bag_writer_new(kura_bag_writer **out, const char *path, const char *name, int64_t mtime, kura_error *err);
void kura_bag_writer_free(kura_bag_writer *w);

/* Adds a file at path inside the bag ("data/..." is payload, anything else a tag
 * file), size bytes long; then exactly size bytes follow in kura_bag_write calls. */
int kura_bag_begin(kura_bag_writer *w, const char *path, uint64_t size, kura_error *err);
int kura_bag_write(kura_bag_writer *w, const void *p, size_t n, kura_error *err);
int kura_bag_end(kura_bag_writer *w, kura_error *err);
/* begin + write + end for a file held in memory. */
int kura_bag_add(kura_bag_writer *w, const char *path, const void *p, size_t n, kura_error *err);

/* 1 if a write of the package failed for want of space (its message says where). */
int kura_bag_writer_no_space(const kura_bag_writer *w);

/* Writes bagit.txt, bag-info.txt (info: further "Label: value" lines, may be
 * NULL) and the manifests, makes the file durable and renames it into place. */
int kura_bag_writer_finish(kura_bag_writer *w, const char *info, kura_error *err);

/* ---- reading ----
 * A package is a tar file (.tar or compressed) or a folder. A tar is unpacked into
 * a fresh temporary folder, refusing the whole package when any entry is unsafe:
 * an absolute path, a ".." component, a link, a device, fifo or socket, a sparse
 * file, a name seen twice, or a file over max_entry bytes. A folder is read in place and must
 * hold regular files and folders only. */
typedef struct kura_package kura_package;

int kura_package_open(kura_package **out, const char *path, uint64_t max_entry, kura_error *err);
/* Removes the temporary folder, if any. */
void kura_package_close(kura_package *p);
/* The folder holding the content: the bag's folder (the one with bagit.txt, at
 * the top or the only folder there), or the top folder when it is no bag. */
const char *kura_package_root(const kura_package *p);
/* 1 if the package is a BagIt bag. */
int kura_package_is_bag(const kura_package *p);

/* Checks a bag's manifests against its files. fn hears of every problem: a file
 * whose SHA-256 differs from its manifest's, a listed file that is missing, a
 * file under data/ that no manifest lists, a malformed manifest line (path is
 * relative to the bag's folder), a file outside data/ that the tag manifest (if
 * there is one) does not list. *problems counts them. Returns non-zero only
 * when the check itself could not run. */
typedef void (*kura_bag_problem_fn)(void *ud, const char *path, const char *problem);
int kura_bag_check(const kura_package *p, kura_bag_problem_fn fn, void *ud, size_t *problems, kura_error *err);

/* Calls fn for every (FILE, FILE.ers) pair under folder sub of the package
 * (relative paths, in byte order); FILE.erp (a record in parts, package.h)
 * stands for FILE.ers, and is taken when both are there. */
typedef int (*kura_package_pair_fn)(void *ud, const char *file, const char *record, kura_error *err);
int kura_package_each_pair(const kura_package *p, const char *sub, kura_package_pair_fn fn, void *ud, kura_error *err);

/* Calls fn for every regular file under folder sub of the package (paths
 * relative to the bag's folder, in byte order). */
typedef int (*kura_package_file_fn)(void *ud, const char *file, kura_error *err);
int kura_package_each_file(const kura_package *p, const char *sub, kura_package_file_fn fn, void *ud, kura_error *err);

/* A file root/rel that is not there by its bytes may be there in another
 * Unicode normalisation (a folder copied through macOS holds NFD names): rel
 * is then renamed to the one file of its folder with the same NFC form. 0
 * when found. */
int kura_bag_find_normalised(char *rel, size_t cap, const char *root);

/* Switch this thread to the C.UTF-8 locale around libarchive calls that convert
 * names (bag.c says why) and back; enter returns (locale_t)0 when the C library
 * has no C.UTF-8 (the caller fails), and leave takes what enter gave. */
locale_t kura_bag_utf8_enter(locale_t *saved);
void kura_bag_utf8_leave(locale_t utf8, locale_t saved);

#endif
