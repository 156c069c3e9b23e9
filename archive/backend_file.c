/* The local-file backend (archive/backend.h): segment segno is the file
 * STORE/segments/NNNNNNNN.seg (eight digits), the writer lock is an flock on
 * STORE/lock, held until unlock or the end of the process.
 *
 * INVARIANTS
 * - A segment opened for writing, or made, is never opened through a symbolic
 *   link (O_NOFOLLOW; opening a store refuses links among its entries,
 *   archive/store_files.c); nor is the lock file.
 * - sync is fdatasync; the first sync of a segment made by create also syncs the
 *   segments folder, so that its name survives a crash with its bytes.
 * - stat does not follow a link: a segment that is not a regular file is not one
 *   (ELOOP for a link, EINVAL for anything else).
 * - The replacement of segment segno is STORE/segments/NNNNNNNN.seg.new (list()
 *   does not see it); replace renames it over the segment and syncs the folder:
 *   rename is atomic, so after a crash the name holds the old file or the new.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/backend.h"
#include "common/fsutil.h"
#include "common/safefs.h"

typedef struct file_backend {
	kura_backend be;
	char *segdir; /* STORE/segments */
	char *lockpath; /* STORE/lock */
	int lockfd;
} file_backend;

typedef struct file_seg {
	kura_seg s;
	int fd;
	int made; /* by create, and the folder not synced since */
} file_seg;

/* STORE/segments/NNNNNNNN.seg, with suffix (".new": a staged replacement) */
static int named(const file_backend *fb, uint32_t segno, const char *suffix, char *buf, size_t n)
{
	int len = snprintf(buf, n, "%s/%08u.seg%s", fb->segdir, segno, suffix);
	if (len < 0 || (size_t)len >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int path_of(const file_backend *fb, uint32_t segno, char *buf, size_t n)
{
	return named(fb, segno, "", buf, n);
}

static int staged_path(const file_backend *fb, uint32_t segno, char *buf, size_t n)
{
	return named(fb, segno, ".new", buf, n);
}

static void file_name(kura_backend *be, uint32_t segno, char *buf, size_t n)
{
	const file_backend *fb = (const file_backend *)be;
	if (segno == 0)
		snprintf(buf, n, "%s", fb->segdir);
	else
		snprintf(buf, n, "%s/%08u.seg", fb->segdir, segno);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int file_list(kura_backend *be, uint32_t **out, size_t *count)
{
	DIR *d = opendir(((file_backend *)be)->segdir);
	if (!d)
		return -1;
	uint32_t *list = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned segno;
		char tail[8];
		if (sscanf(e->d_name, "%8u.se%1s", &segno, tail) != 2 || strlen(e->d_name) != 12 ||
		    strcmp(e->d_name + 8, ".seg") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint32_t *grown = realloc(list, cap * sizeof *list);
			if (!grown) {
				free(list);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			list = grown;
		}
		list[n++] = segno;
	}
	closedir(d);
	if (n > 0)
		qsort(list, n, sizeof *list, cmp_u32);
	*out = list;
	*count = n;
	return 0;
}

static int file_stat(kura_backend *be, uint32_t segno, uint64_t *size)
{
	char path[4096];
	struct stat sb;
	if (path_of((file_backend *)be, segno, path, sizeof path) != 0 || lstat(path, &sb) != 0)
		return -1;
	if (!S_ISREG(sb.st_mode)) {
		errno = S_ISLNK(sb.st_mode) ? ELOOP : EINVAL;
		return -1;
	}
	*size = (uint64_t)sb.st_size;
	return 0;
}

static int seg_new(kura_backend *be, kura_seg **out, uint32_t segno, int flags, int staged)
{
	char path[4096];
	if ((staged ? staged_path : path_of)((file_backend *)be, segno, path, sizeof path) != 0)
		return -1;
	file_seg *fs = malloc(sizeof *fs);
	if (!fs) {
		errno = ENOMEM;
		return -1;
	}
	if ((fs->fd = open(path, flags, 0644)) < 0) {
		int saved = errno;
		free(fs);
		errno = saved;
		return -1;
	}
	fs->s.be = be;
	fs->s.segno = segno;
	fs->made = (flags & O_CREAT) != 0;
	*out = &fs->s;
	return 0;
}

static int file_create(kura_backend *be, kura_seg **out, uint32_t segno)
{
	return seg_new(be, out, segno, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0);
}

static int file_stage(kura_backend *be, kura_seg **out, uint32_t segno)
{
	return seg_new(be, out, segno, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 1);
}

static int file_replace(kura_backend *be, uint32_t segno)
{
	file_backend *fb = (file_backend *)be;
	char from[4096], to[4096];
	if (staged_path(fb, segno, from, sizeof from) != 0 || path_of(fb, segno, to, sizeof to) != 0 ||
	    rename(from, to) != 0)
		return -1;
	return kura_fs_sync_dir(fb->segdir);
}

static int file_staged(kura_backend *be, uint32_t segno)
{
	char path[4096];
	struct stat sb;
	if (staged_path((file_backend *)be, segno, path, sizeof path) != 0 || lstat(path, &sb) != 0)
		return -1;
	return 0;
}

static int file_discard(kura_backend *be, uint32_t segno)
{
	char path[4096];
	if (staged_path((file_backend *)be, segno, path, sizeof path) != 0)
		return -1;
	if (unlink(path) != 0)
		return errno == ENOENT ? 0 : -1;
	return kura_fs_sync_dir(((file_backend *)be)->segdir);
}

static int file_open(kura_backend *be, kura_seg **out, uint32_t segno, int writable)
{
	return seg_new(be, out, segno, writable ? O_RDWR | O_NOFOLLOW | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0);
}

static int file_remove(kura_backend *be, uint32_t segno)
{
	char path[4096];
	if (path_of((file_backend *)be, segno, path, sizeof path) != 0 || unlink(path) != 0)
		return -1;
	return kura_fs_sync_dir(((file_backend *)be)->segdir);
}

static int file_read(kura_seg *s, uint64_t off, void *buf, size_t n, size_t *got)
{
	return kura_fs_pread_full(((file_seg *)s)->fd, buf, n, off, got);
}

static int file_write(kura_seg *s, uint64_t off, const void *p, size_t n)
{
	return kura_fs_pwrite_all(((file_seg *)s)->fd, p, n, off);
}

static void file_writeback(kura_seg *s, uint64_t off, uint64_t n)
{
	sync_file_range(((file_seg *)s)->fd, (off64_t)off, (off64_t)n, SYNC_FILE_RANGE_WRITE);
}

static int file_sync(kura_seg *s)
{
	file_seg *fs = (file_seg *)s;
	if (fdatasync(fs->fd) != 0)
		return -1;
	if (fs->made && kura_fs_sync_dir(((file_backend *)s->be)->segdir) != 0)
		return -1;
	fs->made = 0;
	return 0;
}

static int file_size(kura_seg *s, uint64_t *size)
{
	struct stat sb;
	if (fstat(((file_seg *)s)->fd, &sb) != 0)
		return -1;
	*size = (uint64_t)sb.st_size;
	return 0;
}

static int file_truncate(kura_seg *s, uint64_t size)
{
	return ftruncate(((file_seg *)s)->fd, (off_t)size);
}

static void file_close(kura_seg *s)
{
	if (!s)
		return;
	close(((file_seg *)s)->fd);
	free(s);
}

static int file_lock(kura_backend *be, int wait, kura_error *err)
{
	file_backend *fb = (file_backend *)be;
	const char *p = fb->lockpath;
	if (fb->lockfd < 0) {
		fb->lockfd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fb->lockfd < 0 && errno == ELOOP)
			return kura_error_set(err, KURA_EIO, "%s is a symbolic link: %s", p, KURA_SAFEFS_LINK_ADVICE);
		if (fb->lockfd < 0)
			return kura_error_sys(err, KURA_EIO, "opening %s", p);
	}
	if (!wait) {
		if (flock(fb->lockfd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		return errno == EWOULDBLOCK ? 1 : kura_error_sys(err, KURA_EIO, "locking %s", p);
	}
	while (flock(fb->lockfd, LOCK_EX) != 0)
		if (errno != EINTR)
			return kura_error_sys(err, KURA_EIO, "locking %s", p);
	return 0;
}

static void file_unlock(kura_backend *be)
{
	file_backend *fb = (file_backend *)be;
	if (fb->lockfd >= 0)
		close(fb->lockfd); /* releases the flock */
	fb->lockfd = -1;
}

static void file_free(kura_backend *be)
{
	file_backend *fb = (file_backend *)be;
	file_unlock(be);
	free(fb->segdir);
	free(fb->lockpath);
	free(fb);
}

int kura_backend_file_open(kura_backend **out, const char *store, kura_error *err)
{
	file_backend *fb = calloc(1, sizeof *fb);
	size_t n = strlen(store);
	if (!fb || !(fb->segdir = malloc(n + sizeof "/segments")) || !(fb->lockpath = malloc(n + sizeof "/lock"))) {
		if (fb)
			free(fb->segdir);
		free(fb);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	sprintf(fb->segdir, "%s/segments", store);
	sprintf(fb->lockpath, "%s/lock", store);
	fb->lockfd = -1;
	fb->be = (kura_backend){
		.max_segment_size = 0,
		.name = file_name,
		.list = file_list,
		.stat = file_stat,
		.create = file_create,
		.open = file_open,
		.remove = file_remove,
		.stage = file_stage,
		.replace = file_replace,
		.staged = file_staged,
		.discard = file_discard,
		.read = file_read,
		.write = file_write,
		.writeback = file_writeback,
		.sync = file_sync,
		.size = file_size,
		.truncate = file_truncate,
		.close = file_close,
		.lock = file_lock,
		.renew = NULL,
		.unlock = file_unlock,
		.free = file_free,
	};
	*out = &fb->be;
	return 0;
}
