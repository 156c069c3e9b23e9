/* POSIX helpers for complete reads/writes and durable directory entries. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/safefs.h"

/* Writes all n bytes: at off with pwrite if positioned, else at the file
 * position with write. */
static int write_loop(int fd, const void *buf, size_t n, int positioned, uint64_t off)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = positioned ? pwrite(fd, p, n, (off_t)off) : write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int kura_fs_write_all(int fd, const void *buf, size_t n)
{
	return write_loop(fd, buf, n, 0, 0);
}

int kura_fs_pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	return write_loop(fd, buf, n, 1, off);
}

/* Reads until n bytes, the end of the file or an error: at off with pread if
 * positioned, else from the file position with read. */
static int read_loop(int fd, void *buf, size_t n, int positioned, uint64_t off, size_t *got)
{
	char *p = buf;
	size_t total = 0;
	while (total < n) {
		ssize_t r = positioned ? pread(fd, p + total, n - total, (off_t)(off + total)) : read(fd, p + total, n - total);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		total += (size_t)r;
	}
	*got = total;
	return 0;
}

int kura_fs_pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *got)
{
	return read_loop(fd, buf, n, 1, off, got);
}

int kura_fs_read_full(int fd, void *buf, size_t n, size_t *got)
{
	return read_loop(fd, buf, n, 0, 0, got);
}

int kura_fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int kura_fs_write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode)
{
	const char *name;
	int dir = kura_safefs_open_parent(path, &name);
	if (dir < 0)
		return -1;
	int rc = kura_safefs_write(dir, name, buf, n, mode), saved = errno;
	close(dir);
	errno = saved;
	return rc;
}

int kura_fs_open_stream_output(const char *path)
{
	struct stat sb;
	if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) {
		errno = 0;
		return -1;
	}
	return open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

int kura_fs_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	if (!buf || kura_fs_read_full(fd, buf, (size_t)st.st_size, &got) != 0) {
		int saved = buf ? errno : ENOMEM;
		free(buf);
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int kura_fs_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
