/* The store's folder as files: no links in it, and private modes.
 *
 * INVARIANTS
 * - kura never follows a symbolic link inside a store. Opening a store refuses one
 *   found among its own entries (the top folder, segments/, index/, tsa/, tsa/old/,
 *   trust/): a planted link is a hostile or damaged store, and an administrator
 *   running kura as root must not be made to overwrite a file elsewhere. Writes go
 *   through common/safefs.h (O_NOFOLLOW, exclusive temporary files), so a link
 *   planted after that check makes a write fail, never land elsewhere.
 * - A store's files are its owner's alone: folders 0700, files 0600; with a group
 *   (`kura init --group NAME`, "group" in config.json) folders 02750 (setgid, so
 *   new files get the group) and files 0640 (keys stay 0600). A process that opens
 *   a store for writing sets its umask to 077 (027 with a group) until the store is
 *   closed, so every file made meanwhile, RocksDB's too, gets these modes. A store
 *   found looser (made by an older kura) is tightened when it is opened for writing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/store_impl.h"
#include "common/fsutil.h"
#include "common/safefs.h"

/* The top-level files a change may switch together (the journal "switch"). */
static const char *const together[] = {"policy.yaml", "config.json", "sunsets.json", NULL};

/* What kura init makes before FORMAT. */
static const char *const made[] = {"segments", "index", "config.json", "config.json.tmp", "lock", "lock.tmp",
				   "policy.yaml", "policy.yaml.tmp", "tsa", "FORMAT.tmp", NULL};

static int link_error(kura_error *err, const char *store, const char *sub, const char *name)
{
	return kura_error_set(err, KURA_EIO, "%s/%s%s%s is a symbolic link: %s", store, sub, *sub ? "/" : "", name,
			      KURA_SAFEFS_LINK_ADVICE);
}

/* Refuses a link among the entries of folder sub (opened below root). */
static int check_folder(int root, const char *store, const char *sub, kura_error *err)
{
	int fd = kura_safefs_open_dir(root, sub, 0);
	if (fd < 0 && errno == ELOOP) {
		const char *slash = strrchr(sub, '/');
		char parent[64] = "";
		if (slash)
			snprintf(parent, sizeof parent, "%.*s", (int)(slash - sub), sub);
		return link_error(err, store, parent, slash ? slash + 1 : sub);
	}
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : kura_error_sys(err, KURA_EIO, "opening %s/%s", store, sub);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return kura_error_sys(err, KURA_EIO, "reading %s/%s", store, sub);
	}
	struct dirent *e;
	struct stat sb;
	int rc = 0;
	while (rc == 0 && (e = readdir(d)))
		if (e->d_type == DT_LNK || (e->d_type == DT_UNKNOWN && fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
					    S_ISLNK(sb.st_mode)))
			rc = link_error(err, store, strcmp(sub, ".") == 0 ? "" : sub, e->d_name);
	closedir(d);
	return rc;
}

int kura_store_files_check(const char *store, kura_error *err)
{
	static const char *const folders[] = {".", "segments", "index", "tsa", "tsa/old", "trust", NULL};
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	if (root < 0)
		return kura_error_sys(err, KURA_EIO, "opening %s", store);
	for (int i = 0; rc == 0 && folders[i]; i++)
		rc = check_folder(root, store, folders[i], err);
	close(root);
	return rc;
}

int kura_store_files_group(gid_t *gid, const char *name, kura_error *err)
{
	struct group *g = getgrnam(name);
	if (!g)
		return kura_error_set(err, KURA_EINPUT, "there is no group '%s' on this machine (see /etc/group)", name);
	*gid = g->gr_gid;
	return 0;
}

/* The walk's settings (nftw passes no user data). */
static struct {
	int grouped;
	gid_t gid;
	int failed;
} tighten;

static int tighten_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	mode_t mode;
	if (flag == FTW_SL || flag == FTW_SLN)
		return 0;
	if (S_ISDIR(sb->st_mode))
		mode = tighten.grouped ? 02750 : 0700;
	else
		mode = sb->st_mode & (tighten.grouped ? 0640 : 0600);
	if ((tighten.grouped && sb->st_gid != tighten.gid && lchown(path, (uid_t)-1, tighten.gid) != 0) ||
	    ((sb->st_mode & 07777) != mode && chmod(path, mode) != 0))
		tighten.failed = 1;
	return 0;
}

int kura_store_files_private(mode_t *old_umask, const char *store, const char *group, kura_error *err)
{
	struct stat sb;
	gid_t gid = 0;
	*old_umask = umask(group ? 027 : 077);
	int rc = group ? kura_store_files_group(&gid, group, err) : 0;
	if (rc != 0)
		return kura_error_set(err, KURA_EIO, "the group '%s' of store %s (config.json) does not exist here; "
				      "create it, or remove \"group\" from %s/config.json", group, store, store);
	if (stat(store, &sb) != 0)
		return kura_error_sys(err, KURA_EIO, "reading %s", store);
	if ((sb.st_mode & 07777) == (group ? 02750 : 0700) && (!group || sb.st_gid == gid))
		return 0;
	tighten.grouped = group != NULL;
	tighten.gid = gid;
	tighten.failed = 0;
	char *real = realpath(store, NULL); /* the store's own path may be a link its owner made */
	rc = real && nftw(real, tighten_one, 16, FTW_PHYS) == 0 && !tighten.failed ? 0 : -1;
	free(real);
	if (rc != 0)
		return kura_error_sys(err, KURA_EIO, "making the files of %s private to their owner%s", store,
				      group ? " and group" : "");
	return 0;
}

int kura_store_files_finish(const char *store, kura_error *err)
{
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = root >= 0 ? kura_safefs_finish(root, "switch", together) : -1, saved = errno;
	if (root >= 0)
		close(root);
	if (rc >= 0)
		return rc;
	if (saved == EBADMSG)
		return kura_error_set(err, KURA_EIO, "%s/switch (a change of several files) is damaged; put policy.yaml and "
				      "config.json back from a copy and remove it", store);
	errno = saved;
	return kura_error_sys(err, KURA_EIO, "finishing the change of several files that %s/switch names", store);
}

int kura_store_files_write_together(const char *store, const char *const *names, const char *const *texts, size_t n,
				    kura_error *err)
{
	char nx[64];
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = root >= 0 ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		snprintf(nx, sizeof nx, "%s.next", names[i]);
		int fd = kura_safefs_create(root, nx, 0644);
		rc = fd >= 0 && kura_fs_write_all(fd, texts[i], strlen(texts[i])) == 0 && fsync(fd) == 0 ? 0 : -1;
		if (fd >= 0 && close(fd) != 0)
			rc = -1;
	}
	if (rc == 0)
		rc = kura_safefs_switch(root, "switch", names, n);
	int saved = errno;
	if (root >= 0) {
		if (rc != 0)
			kura_safefs_finish(root, "switch", together); /* finished if committed, else undone */
		close(root);
	}
	if (rc == 0)
		return 0;
	errno = saved;
	return kura_error_sys(err, KURA_EIO, "writing %s/%s and the files changed with it%s", store, names[0],
			      saved == ELOOP ? " (a symbolic link is in the way: " KURA_SAFEFS_LINK_ADVICE ")" : "");
}

int kura_store_files_write(const char *store, const char *rel, const void *buf, size_t n, kura_error *err)
{
	char folder[256];
	const char *slash = strrchr(rel, '/'), *name = slash ? slash + 1 : rel;
	snprintf(folder, sizeof folder, "%.*s", slash ? (int)(slash - rel) : 0, rel);
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int d = root >= 0 ? kura_safefs_open_dir(root, folder, 1) : -1;
	int rc = d >= 0 && kura_safefs_write(d, name, buf, n, 0644) == 0 ? 0 : -1, saved = errno;
	if (d >= 0)
		close(d);
	if (root >= 0)
		close(root);
	if (rc == 0)
		return 0;
	if (saved == ELOOP)
		return kura_error_set(err, KURA_EIO, "%s/%s (or its folder) is a symbolic link: %s", store, rel,
				      KURA_SAFEFS_LINK_ADVICE);
	errno = saved;
	return kura_error_sys(err, KURA_EIO, "writing %s/%s", store, rel);
}

/* 1 if the folder holds only what a kura init killed before FORMAT leaves: names
 * init makes, none a link, and no segment past its header. No command takes such
 * a folder for a store, so nothing was ever kept in it, and init may start again. */
int kura_store_files_init_leftovers(const char *path)
{
	char p[4096];
	struct stat sb;
	DIR *d = opendir(path);
	struct dirent *e;
	int ok = d != NULL, n = 0;
	while (ok && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int known = 0;
		for (int i = 0; made[i]; i++)
			known |= strcmp(e->d_name, made[i]) == 0;
		snprintf(p, sizeof p, "%s/%s", path, e->d_name);
		ok = known && lstat(p, &sb) == 0 && !S_ISLNK(sb.st_mode);
		n++;
	}
	if (d)
		closedir(d);
	kura_backend *be = NULL;
	uint64_t size;
	if (!ok || n == 0 || kura_backend_file_open(&be, path, NULL) != 0)
		return 0;
	/* no segment 2, and segment 1 absent or a file no longer than its header */
	ok = be->stat(be, 2, &size) != 0 && (errno == ENOENT || errno == ENOTDIR);
	ok = ok && (be->stat(be, 1, &size) != 0 ? errno == ENOENT || errno == ENOTDIR : size <= KURA_SEGMENT_FILE_HEADER);
	kura_backend_free(be);
	return ok;
}

int kura_store_files_clear_leftovers(const char *path)
{
	char p[4096];
	for (int i = 0; made[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", path, made[i]);
		if (kura_fs_remove_tree(p) != 0)
			return -1;
	}
	return 0;
}
