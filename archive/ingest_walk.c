/* Which files an ingest takes (see kura/ingest.h), so that every caller of
 * ingest resolves paths alike. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kura/ingest.h"

struct kura_ingest_list {
	char **paths;
	uint64_t *sizes; /* as the walk saw them, for the progress line */
	size_t n, cap;
	uint64_t bytes;
	int sizes_shown; /* is there a progress line? (else a folder's plain files need no stat) */
	kura_ingest_skip_fn skip;
	void *ud;
	dev_t store_dev; /* the store's own folder is never ingested into itself */
	ino_t store_ino;
};

static void skipped(struct kura_ingest_list *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Tells the caller of a path not taken. */
static void skipped(struct kura_ingest_list *l, const char *fmt, ...)
{
	char msg[4200];
	va_list ap;
	if (!l->skip)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	l->skip(l->ud, msg);
}

static int add_path(struct kura_ingest_list *l, const char *path, uint64_t size)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **g = realloc(l->paths, cap * sizeof *g);
		if (g)
			l->paths = g;
		uint64_t *s = g ? realloc(l->sizes, cap * sizeof *s) : NULL;
		if (!s)
			return -1;
		l->sizes = s;
		l->cap = cap;
	}
	if (!(l->paths[l->n] = strdup(path)))
		return -1;
	l->sizes[l->n++] = size;
	l->bytes += size;
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* add_path for a file found in a folder */
static int add_walked(struct kura_ingest_list *l, const char *path, uint64_t size, kura_error *err)
{
	return add_path(l, path, size) ? kura_error_set(err, KURA_EINTERNAL, "out of memory") : 0;
}

static int walk(struct kura_ingest_list *l, const char *dir, kura_error *err)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0)
		return kura_error_sys(err, KURA_EINPUT, "cannot read folder %s", dir);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[4096];
		struct stat st, lst;
		if (rc != 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (snprintf(path, sizeof path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) >= (int)sizeof path) {
			rc = kura_error_set(err, KURA_EINPUT, "path too long under %s", dir);
		} else if (names[i]->d_type == DT_REG && !l->sizes_shown) {
			rc = add_walked(l, path, 0, err);
		} else if (lstat(path, &lst) != 0 || (S_ISLNK(lst.st_mode) ? stat(path, &st) : (st = lst, 0)) != 0) {
			if (S_ISLNK(lst.st_mode))
				skipped(l, "skipping %s: a link to nothing", path);
			else
				rc = kura_error_sys(err, KURA_EINPUT, "cannot read %s", path);
		} else if (S_ISDIR(st.st_mode)) {
			if (S_ISLNK(lst.st_mode))
				skipped(l, "skipping %s: a link to a folder (not followed)", path);
			else if (st.st_dev == l->store_dev && st.st_ino == l->store_ino)
				skipped(l, "skipping %s: it is the store itself", path);
			else
				rc = walk(l, path, err);
		} else if (S_ISREG(st.st_mode)) {
			rc = add_walked(l, path, (uint64_t)st.st_size, err);
		} else {
			skipped(l, "skipping %s: not a regular file", path);
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* Resolves the command line's PATHs into the files to ingest, in order. */
static int collect(struct kura_ingest_list *l, const char *const *paths, size_t n, kura_error *err)
{
	int stdin_seen = 0;
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (strcmp(paths[i], "-") == 0) {
			if (stdin_seen++)
				return kura_error_set(err, KURA_EINPUT, "'-' (standard input) can be given only once");
			if (add_path(l, "-", 0) != 0)
				return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		} else if (stat(paths[i], &st) != 0) {
			return kura_error_sys(err, KURA_EINPUT, "cannot ingest %s", paths[i]);
		} else if (S_ISDIR(st.st_mode)) {
			if (st.st_dev == l->store_dev && st.st_ino == l->store_ino)
				return kura_error_set(err, KURA_EINPUT, "%s is the store itself", paths[i]);
			int rc = walk(l, paths[i], err);
			if (rc != 0)
				return rc;
		} else if (S_ISREG(st.st_mode)) {
			if (access(paths[i], R_OK) != 0)
				return kura_error_sys(err, KURA_EINPUT, "cannot read %s", paths[i]);
			if (add_path(l, paths[i], (uint64_t)st.st_size) != 0)
				return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		} else {
			return kura_error_set(err, KURA_EINPUT, "%s is not a regular file or folder", paths[i]);
		}
	}
	return 0;
}

int kura_ingest_list_new(kura_ingest_list **out, const char *store, const char *const *paths, size_t n, int sizes,
			 kura_ingest_skip_fn skip, void *ud, kura_error *err)
{
	struct stat sb;
	struct kura_ingest_list *l = calloc(1, sizeof *l);
	*out = NULL;
	if (!l)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	l->sizes_shown = sizes;
	l->skip = skip;
	l->ud = ud;
	if (stat(store, &sb) == 0) {
		l->store_dev = sb.st_dev;
		l->store_ino = sb.st_ino;
	}
	int rc = collect(l, paths, n, err);
	if (rc != 0) {
		kura_ingest_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

void kura_ingest_list_free(kura_ingest_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	free(l->sizes);
	free(l);
}

size_t kura_ingest_list_count(const kura_ingest_list *l) { return l->n; }
const char *kura_ingest_list_path(const kura_ingest_list *l, size_t i) { return l->paths[i]; }
uint64_t kura_ingest_list_size(const kura_ingest_list *l, size_t i) { return l->sizes[i]; }
uint64_t kura_ingest_list_bytes(const kura_ingest_list *l) { return l->bytes; }
