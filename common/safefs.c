/* Writes that no planted link can redirect, and temporary files that the next
 * writer can tell apart from live ones (see safefs.h for the invariants). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/safefs.h"

static void close_keep_errno(int fd)
{
	int saved = errno;
	close(fd);
	errno = saved;
}

/* One component below at, never through a link. */
static int open_component(int at, const char *name, int create)
{
	struct stat sb;
	for (int tries = 0; tries < 2; tries++) {
		int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if ((errno == ENOTDIR || errno == ELOOP) && fstatat(at, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode)) {
			errno = ELOOP;
			return -1;
		}
		if (errno != ENOENT || !create || (mkdirat(at, name, 0777) != 0 && errno != EEXIST))
			return -1;
	}
	return -1;
}

int kura_safefs_open_dir(int at, const char *rel, int create)
{
	char part[256];
	int fd = openat(at, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *p = rel;
	while (fd >= 0 && *p) {
		size_t n = strcspn(p, "/");
		if (n >= sizeof part) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		p += n + (p[n] == '/');
		if (n == 0 || strcmp(part, ".") == 0)
			continue;
		int next = open_component(fd, part, create);
		close_keep_errno(fd);
		fd = next;
	}
	return fd;
}

int kura_safefs_open_parent(const char *path, const char **name)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	if (!**name) {
		errno = EISDIR;
		return -1;
	}
	if (!slash)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n = (size_t)(slash - path);
	if (n >= sizeof dir) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return open(n ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* ELOOP when dir/name is a link. */
static int refuse_link(int dir, const char *name)
{
	struct stat sb;
	if (fstatat(dir, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode)) {
		errno = ELOOP;
		return -1;
	}
	return 0;
}

int kura_safefs_create(int dir, const char *name, mode_t mode)
{
	if (refuse_link(dir, name) != 0)
		return -1;
	if (unlinkat(dir, name, 0) != 0 && errno != ENOENT)
		return -1;
	return openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}

int kura_safefs_open_read(int dir, const char *name)
{
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && refuse_link(dir, name) != 0)
		return -1;
	return fd;
}

int kura_safefs_write(int dir, const char *name, const void *buf, size_t n, mode_t mode)
{
	char tmp[512];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", name) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (refuse_link(dir, name) != 0)
		return -1;
	int fd = kura_safefs_create(dir, tmp, mode);
	if (fd < 0)
		return -1;
	int ok = kura_fs_write_all(fd, buf, n) == 0 && fsync(fd) == 0, saved = errno;
	if (close(fd) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok && renameat(dir, tmp, dir, name) != 0) {
		ok = 0;
		saved = errno;
	}
	if (!ok) {
		unlinkat(dir, tmp, 0);
		errno = saved;
		return -1;
	}
	return fsync(dir);
}

#define SWITCH_HEAD "kura switch 1\n"

static int known_name(const char *const *known, const char *s)
{
	for (size_t i = 0; known[i]; i++)
		if (strcmp(s, known[i]) == 0)
			return 1;
	return 0;
}

/* The journal's text (malloc'd), or NULL with errno (ENOENT: no switch under way). */
static char *read_journal(int dir, const char *journal)
{
	int fd = kura_safefs_open_read(dir, journal);
	char *buf = fd >= 0 ? calloc(1, 4097) : NULL;
	size_t got = 0;
	if (buf && kura_fs_read_full(fd, buf, 4096, &got) != 0) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close_keep_errno(fd);
	return buf;
}

static int undo(int dir, const char *journal, const char *const *known)
{
	char nx[512];
	int changed = 0;
	for (size_t i = 0; known[i]; i++) {
		snprintf(nx, sizeof nx, "%s.next", known[i]);
		if (unlinkat(dir, nx, 0) == 0)
			changed = 1;
		else if (errno != ENOENT)
			return -1;
	}
	snprintf(nx, sizeof nx, "%s.tmp", journal);
	unlinkat(dir, nx, 0);
	return changed && fsync(dir) != 0 ? -1 : changed;
}

int kura_safefs_finish(int dir, const char *journal, const char *const *known)
{
	char nx[512], *text = read_journal(dir, journal);
	if (!text)
		return errno == ENOENT ? undo(dir, journal, known) : -1;
	int bad = strncmp(text, SWITCH_HEAD, strlen(SWITCH_HEAD)) != 0, rc = 0;
	for (char *line = text + strlen(SWITCH_HEAD), *end; !bad && rc == 0 && (end = strchr(line, '\n')); line = end + 1) {
		*end = '\0';
		snprintf(nx, sizeof nx, "%s.next", line);
		if (!known_name(known, line))
			bad = 1;
		else if (renameat(dir, nx, dir, line) != 0 && errno != ENOENT)
			rc = -1;
	}
	free(text);
	if (bad)
		errno = EBADMSG;
	if (bad || rc != 0 || fsync(dir) != 0 || unlinkat(dir, journal, 0) != 0 || fsync(dir) != 0)
		return -1;
	return 1;
}

int kura_safefs_switch(int dir, const char *journal, const char *const *names, size_t n)
{
	char text[4096];
	size_t len = (size_t)snprintf(text, sizeof text, "%s", SWITCH_HEAD);
	for (size_t i = 0; i < n && len < sizeof text; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", names[i]);
	if (len >= sizeof text) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* every NAME.next is durable before the journal that makes it current */
	const char *known[65] = {0};
	for (size_t i = 0; i < n && i < 64; i++)
		known[i] = names[i];
	if (n > 64 || fsync(dir) != 0 || kura_safefs_write(dir, journal, text, len, 0600) != 0)
		return -1;
	return kura_safefs_finish(dir, journal, known) < 0 ? -1 : 0;
}

int kura_safefs_temp_beside(const char *out, char **tmp)
{
	int fd = -1;
	if (asprintf(tmp, "%s.tmp.%ld.XXXXXX", out, (long)getpid()) < 0) {
		*tmp = NULL;
		errno = ENOMEM;
		return -1;
	}
	if ((fd = mkstemp(*tmp)) < 0 || flock(fd, LOCK_EX) != 0) {
		int saved = errno;
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
		errno = saved;
		return -1;
	}
	return fd;
}

/* The PID in "PID.XXXXXX", or 0 when name is not of that form. */
static long temp_pid(const char *name)
{
	char *end;
	long pid = strtol(name, &end, 10);
	return name[0] >= '1' && name[0] <= '9' && *end == '.' && strlen(end + 1) == 6 ? pid : 0;
}

/* Removes dir/name when no process holds it: its writer died. */
static int remove_if_dead(int dir, const char *name, long pid)
{
	struct stat sb;
	if (kill((pid_t)pid, 0) == 0 || errno == EPERM) /* runs (perhaps between mkstemp and flock) */
		return 0;
	if (fstatat(dir, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int removed = flock(fd, LOCK_EX | LOCK_NB) == 0 && unlinkat(dir, name, 0) == 0;
	close(fd);
	return removed;
}

int kura_safefs_remove_stale_temps(const char *out)
{
	const char *base;
	char prefix[512];
	int dir = kura_safefs_open_parent(out, &base);
	if (dir < 0)
		return -1;
	int dup_fd = dup(dir);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d || snprintf(prefix, sizeof prefix, "%s.tmp.", base) >= (int)sizeof prefix) {
		if (d)
			closedir(d);
		else if (dup_fd >= 0)
			close(dup_fd);
		close(dir);
		return -1;
	}
	size_t plen = strlen(prefix);
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, plen) == 0 && temp_pid(e->d_name + plen) > 0)
			removed += remove_if_dead(dir, e->d_name, temp_pid(e->d_name + plen));
	closedir(d);
	if (removed)
		fsync(dir);
	close(dir);
	return removed;
}
