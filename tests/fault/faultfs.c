/* faultfs: an LD_PRELOAD library that makes file-system calls fail on demand, for the
 * fault-injection and crash-point sweeps (tests/fault/sweep.sh), as SQLite tests its pager
 * with an I/O layer that fails when told. It sits between libc and both kura and RocksDB.
 *
 * It counts the calls of the chosen kinds on paths that contain a filter, and acts on the
 * Nth of them. Environment (read once, at the first call):
 *   KURA_FAULT_MODE   count | fail | crash      (unset: the library does nothing)
 *   KURA_FAULT_KINDS  comma list of: open write sync rename truncate   (default: all)
 *                     open = open/openat/creat/mkstemp/fopen; write = write/pwrite/writev/
 *                     pwritev; sync = fsync/fdatasync/sync_file_range; rename = rename/
 *                     renameat/renameat2/link/linkat; truncate = ftruncate/fallocate/
 *                     posix_fallocate
 *   KURA_FAULT_PATH   a substring the file's path must contain (default: every path); the
 *                     path of a descriptor is remembered from its open, so writes and syncs
 *                     are matched through the descriptor
 *   KURA_FAULT_N      fail: the Nth matching call fails (only that one: a transient error);
 *                     crash: the process kills itself with SIGKILL before the Nth call
 *   KURA_FAULT_STICKY 1: fail the Nth matching call and every one after it (a full disk, a
 *                     disk gone), for the rest of the process
 *   KURA_FAULT_ERROR  EIO (default) | ENOSPC | short (a write writes half and returns that
 *                     count; other kinds fail with EIO)
 *   KURA_FAULT_LOG    a file to which one line is appended at exit (count mode: "count N"
 *                     and the count of each kind) or when the fault strikes ("hit KIND PATH")
 * Writes made by stdio (fwrite, fprintf) inside libc cannot be reached from here; their
 * opens and the fsync of their descriptor can.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum kind { K_OPEN, K_WRITE, K_SYNC, K_RENAME, K_TRUNCATE, K_COUNT };
static const char *const kind_names[K_COUNT] = {"open", "write", "sync", "rename", "truncate"};
enum mode { M_OFF, M_COUNT, M_FAIL, M_CRASH };

#define MAX_FD 4096

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static enum mode mode;
static int kinds[K_COUNT];
static char *filter;
static long target;
static int sticky;
static int error_kind; /* an errno, or -1 for a short write */
static char *log_path;
static long seen, per_kind[K_COUNT];
static char *fd_path[MAX_FD]; /* the path each open descriptor was opened with */

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_mkstemp)(char *);
static int (*real_mkostemp)(char *, int);
static FILE *(*real_fopen)(const char *, const char *);
static int (*real_close)(int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_sync_file_range)(int, off_t, off_t, unsigned int);
static int (*real_rename)(const char *, const char *);
static int (*real_renameat)(int, const char *, int, const char *);
static int (*real_renameat2)(int, const char *, int, const char *, unsigned int);
static int (*real_link)(const char *, const char *);
static int (*real_linkat)(int, const char *, int, const char *, int);
static int (*real_ftruncate)(int, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_posix_fallocate)(int, off_t, off_t);

static void append_log(const char *line)
{
	if (!log_path)
		return;
	int fd = real_open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, line, strlen(line)) < 0) { /* nothing to do about it */
	}
	real_close(fd);
}

static void report_count(void)
{
	char line[512];
	int n = snprintf(line, sizeof line, "count %ld", seen);
	for (int k = 0; k < K_COUNT && n > 0 && (size_t)n < sizeof line; k++)
		n += snprintf(line + n, sizeof line - (size_t)n, " %s %ld", kind_names[k], per_kind[k]);
	if (n > 0 && (size_t)n < sizeof line - 1)
		strcat(line, "\n");
	append_log(line);
}

#define RESOLVE(name) (real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name))

static void setup(void)
{
	RESOLVE(open), RESOLVE(openat), RESOLVE(mkstemp), RESOLVE(mkostemp), RESOLVE(fopen), RESOLVE(close);
	RESOLVE(write), RESOLVE(pwrite), RESOLVE(writev), RESOLVE(pwritev);
	RESOLVE(fsync), RESOLVE(fdatasync), RESOLVE(sync_file_range);
	RESOLVE(rename), RESOLVE(renameat), RESOLVE(renameat2), RESOLVE(link), RESOLVE(linkat);
	RESOLVE(ftruncate), RESOLVE(fallocate), RESOLVE(posix_fallocate);
	const char *m = getenv("KURA_FAULT_MODE");
	mode = !m ? M_OFF : !strcmp(m, "count") ? M_COUNT : !strcmp(m, "fail") ? M_FAIL : !strcmp(m, "crash") ? M_CRASH : M_OFF;
	const char *ks = getenv("KURA_FAULT_KINDS");
	for (int k = 0; k < K_COUNT; k++)
		kinds[k] = !ks || !*ks || strstr(ks, kind_names[k]) != NULL;
	const char *f = getenv("KURA_FAULT_PATH");
	filter = f && *f ? strdup(f) : NULL;
	const char *n = getenv("KURA_FAULT_N");
	target = n ? atol(n) : 0;
	const char *st = getenv("KURA_FAULT_STICKY");
	sticky = st && !strcmp(st, "1");
	const char *e = getenv("KURA_FAULT_ERROR");
	error_kind = !e || !strcmp(e, "EIO") ? EIO : !strcmp(e, "ENOSPC") ? ENOSPC : !strcmp(e, "short") ? -1 : EIO;
	const char *l = getenv("KURA_FAULT_LOG");
	log_path = l && *l ? strdup(l) : NULL;
	if (mode == M_COUNT)
		atexit(report_count);
}

static void init(void) { pthread_once(&once, setup); }

/* An absolute form of path (relative to dirfd), in buf. */
static const char *absolute(char *buf, size_t n, int dirfd, const char *path)
{
	if (!path || path[0] == '/')
		return path;
	const char *base = NULL;
	char cwd[4096];
	if (dirfd == AT_FDCWD)
		base = getcwd(cwd, sizeof cwd);
	else if (dirfd >= 0 && dirfd < MAX_FD)
		base = fd_path[dirfd];
	snprintf(buf, n, "%s/%s", base ? base : "?", path);
	return buf;
}

static int path_matches(const char *path) { return path && (!filter || strstr(path, filter)); }

static void remember(int fd, const char *path)
{
	if (fd < 0 || fd >= MAX_FD)
		return;
	char *copy = path ? strdup(path) : NULL;
	pthread_mutex_lock(&lock);
	free(fd_path[fd]);
	fd_path[fd] = copy;
	pthread_mutex_unlock(&lock);
}

/* Decides about one call of kind k on path: 0 go on, 1 fail it (errno is set by the
 * caller from error_kind). A crash never returns. */
static int decide(enum kind k, const char *path)
{
	init();
	if (mode == M_OFF || !kinds[k] || !path_matches(path))
		return 0;
	pthread_mutex_lock(&lock);
	long n = ++seen;
	per_kind[k]++;
	pthread_mutex_unlock(&lock);
	if (mode == M_COUNT || n < target || (n > target && !(sticky && mode == M_FAIL)))
		return 0;
	if (n > target)
		return 1;
	char line[4200];
	snprintf(line, sizeof line, "hit %s %s\n", kind_names[k], path);
	append_log(line);
	if (mode == M_CRASH)
		kill(getpid(), SIGKILL);
	return 1;
}

/* decide() for a call on descriptor fd */
static int decide_fd(enum kind k, int fd)
{
	init();
	if (mode == M_OFF || fd < 0 || fd >= MAX_FD)
		return 0;
	char path[4096];
	pthread_mutex_lock(&lock);
	int known = fd_path[fd] != NULL;
	if (known)
		snprintf(path, sizeof path, "%s", fd_path[fd]);
	pthread_mutex_unlock(&lock);
	return known ? decide(k, path) : 0;
}

static int fail_errno(void) { return error_kind > 0 ? error_kind : EIO; }

#define FAIL(value) do { errno = fail_errno(); return (value); } while (0)

static int open_common(int dirfd, const char *path, int flags, mode_t m)
{
	char buf[4096];
	const char *abs = absolute(buf, sizeof buf, dirfd, path);
	if (decide(K_OPEN, abs))
		FAIL(-1);
	int fd = dirfd == AT_FDCWD ? real_open(path, flags, m) : real_openat(dirfd, path, flags, m);
	if (fd >= 0)
		remember(fd, abs);
	return fd;
}

int open(const char *path, int flags, ...)
{
	mode_t m = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		m = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	return open_common(AT_FDCWD, path, flags, m);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t m = 0;
	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		m = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	init();
	return open_common(path[0] == '/' ? AT_FDCWD : dirfd, path, flags, m);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char *path, int flags, ...) __attribute__((alias("openat")));

int creat(const char *path, mode_t m) { return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, m); }

static int mkstemp_common(char *tmpl, int flags)
{
	char buf[4096];
	if (decide(K_OPEN, absolute(buf, sizeof buf, AT_FDCWD, tmpl)))
		FAIL(-1);
	int fd = flags ? real_mkostemp(tmpl, flags) : real_mkstemp(tmpl);
	if (fd >= 0)
		remember(fd, absolute(buf, sizeof buf, AT_FDCWD, tmpl));
	return fd;
}

int mkstemp(char *tmpl) { return mkstemp_common(tmpl, 0); }
int mkostemp(char *tmpl, int flags) { return mkstemp_common(tmpl, flags); }

FILE *fopen(const char *path, const char *how)
{
	char buf[4096];
	const char *abs = absolute(buf, sizeof buf, AT_FDCWD, path);
	if (decide(K_OPEN, abs))
		FAIL(NULL);
	init();
	FILE *f = real_fopen(path, how);
	if (f)
		remember(fileno(f), abs);
	return f;
}
FILE *fopen64(const char *path, const char *how) __attribute__((alias("fopen")));

int close(int fd)
{
	init();
	remember(fd, NULL);
	return real_close(fd);
}

/* A write cut short: half of n (at least 1) when short writes were asked for. */
static size_t short_of(size_t n) { return n > 1 ? n / 2 : n; }

ssize_t write(int fd, const void *p, size_t n)
{
	if (decide_fd(K_WRITE, fd)) {
		if (error_kind < 0)
			return real_write(fd, p, short_of(n));
		FAIL(-1);
	}
	return real_write(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (decide_fd(K_WRITE, fd)) {
		if (error_kind < 0)
			return real_pwrite(fd, p, short_of(n), off);
		FAIL(-1);
	}
	return real_pwrite(fd, p, n, off);
}
ssize_t pwrite64(int fd, const void *p, size_t n, off_t off) __attribute__((alias("pwrite")));

ssize_t writev(int fd, const struct iovec *v, int cnt)
{
	if (decide_fd(K_WRITE, fd)) {
		if (error_kind < 0 && cnt > 0)
			return real_write(fd, v[0].iov_base, short_of(v[0].iov_len));
		FAIL(-1);
	}
	return real_writev(fd, v, cnt);
}

ssize_t pwritev(int fd, const struct iovec *v, int cnt, off_t off)
{
	if (decide_fd(K_WRITE, fd)) {
		if (error_kind < 0 && cnt > 0)
			return real_pwrite(fd, v[0].iov_base, short_of(v[0].iov_len), off);
		FAIL(-1);
	}
	return real_pwritev(fd, v, cnt, off);
}

int fsync(int fd)
{
	if (decide_fd(K_SYNC, fd))
		FAIL(-1);
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	if (decide_fd(K_SYNC, fd))
		FAIL(-1);
	return real_fdatasync(fd);
}

int sync_file_range(int fd, off_t off, off_t n, unsigned int flags)
{
	/* flags 0 does nothing: RocksDB calls it so to probe for support and asserts on EIO */
	if (flags != 0 && decide_fd(K_SYNC, fd))
		FAIL(-1);
	return real_sync_file_range(fd, off, n, flags);
}

/* A rename or link counts once, on whichever of its paths matches. */
static int decide_pair(int d1, const char *a, int d2, const char *b)
{
	char x[4096], y[4096];
	const char *pa = absolute(x, sizeof x, d1, a), *pb = absolute(y, sizeof y, d2, b);
	return decide(K_RENAME, path_matches(pa) ? pa : pb);
}

int rename(const char *a, const char *b)
{
	if (decide_pair(AT_FDCWD, a, AT_FDCWD, b))
		FAIL(-1);
	return real_rename(a, b);
}

int renameat(int d1, const char *a, int d2, const char *b)
{
	if (decide_pair(d1, a, d2, b))
		FAIL(-1);
	return real_renameat(d1, a, d2, b);
}

int renameat2(int d1, const char *a, int d2, const char *b, unsigned int flags)
{
	if (decide_pair(d1, a, d2, b))
		FAIL(-1);
	return real_renameat2(d1, a, d2, b, flags);
}

int link(const char *a, const char *b)
{
	if (decide_pair(AT_FDCWD, a, AT_FDCWD, b))
		FAIL(-1);
	return real_link(a, b);
}

int linkat(int d1, const char *a, int d2, const char *b, int flags)
{
	if (decide_pair(d1, a, d2, b))
		FAIL(-1);
	return real_linkat(d1, a, d2, b, flags);
}

int ftruncate(int fd, off_t n)
{
	if (decide_fd(K_TRUNCATE, fd))
		FAIL(-1);
	return real_ftruncate(fd, n);
}
int ftruncate64(int fd, off_t n) __attribute__((alias("ftruncate")));

int fallocate(int fd, int how, off_t off, off_t n)
{
	if (decide_fd(K_TRUNCATE, fd))
		FAIL(-1);
	return real_fallocate(fd, how, off, n);
}
int fallocate64(int fd, int how, off_t off, off_t n) __attribute__((alias("fallocate")));

int posix_fallocate(int fd, off_t off, off_t n)
{
	if (decide_fd(K_TRUNCATE, fd))
		return fail_errno(); /* returns the error, errno untouched */
	return real_posix_fallocate(fd, off, n);
}
int posix_fallocate64(int fd, off_t off, off_t n) __attribute__((alias("posix_fallocate")));
