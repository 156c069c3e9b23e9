/* BagIt bags in tar files and folders: reading, unpacking and checking (see
 * bag.h; writing is bag.c).
 *
 * INVARIANTS
 * - Nothing from a tar reaches the file system unless its name is a plain
 *   relative path (no "/" at the start, no ".." anywhere) and it is a regular
 *   file (not sparse: a few KiB of tar could declare terabytes of holes) or a
 *   folder within the size limit and the free space of the temporary folder;
 *   files are created with O_EXCL|O_NOFOLLOW in a folder made for this package,
 *   so no entry can write outside it or over another. One unsafe entry refuses
 *   the whole package.
 * - Names are read under C.UTF-8 (bag.c says why).
 * - A tar is unpacked into $TMPDIR/kura-package.PID.XXXXXX (PID: the unpacking
 *   process), removed when the package is closed. One left by a killed process
 *   is removed by the next package opened by the same user: a folder is stale
 *   only when no process of its PID is alive, so one in use is never touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "package/bag.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/hex.h"
#include "common/unicode.h"
#include "common/safefs.h"

#define CHUNK (1u << 16)
#define MAX_DEPTH 64 /* folders in a package, so that walking them stays within the stack */

struct kura_package {
	char *tmp;  /* our unpacked copy, removed on close; NULL for a folder */
	char *top;  /* the folder read */
	char *root; /* the bag's folder, or top */
	int bag;
};

/* SHA-256 of a file, as 64 hex digits. */
static int file_sha256_hex(char hex[65], const char *path, kura_error *err)
{
	unsigned char md[32];
	int rc = kura_hash_file(md, EVP_sha256(), path, err);
	if (rc == 0)
		kura_hex_encode(hex, md, 32);
	return rc;
}

/* The entry's name as a clean relative path ("a/b"), or the reason it is unsafe. */
static const char *clean_name(char *out, size_t cap, const char *name)
{
	if (!name || !*name)
		return "it has no name";
	if (name[0] == '/')
		return "it is an absolute path";
	size_t used = 0, depth = 0;
	const char *p = name;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "it has a '..' component";
		if (++depth > MAX_DEPTH)
			return "it is nested too deep";
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (used + n + 2 > cap)
				return "its name is too long";
			if (used)
				out[used++] = '/';
			memcpy(out + used, p, n);
			used += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[used] = '\0';
	return NULL;
}

/* Creates the folders of rel (relative to base) up to its last component. */
static int make_parents(const char *base, const char *rel)
{
	char path[4096];
	int n = snprintf(path, sizeof path, "%s/%s", base, rel);
	if (n < 0 || (size_t)n >= sizeof path)
		return -1;
	for (char *s = path + strlen(base) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		int rc = mkdir(path, 0755);
		*s = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}

/* Why entry e (named name) may not be unpacked, or NULL; its clean relative
 * path goes into rel. */
static const char *refused_entry(char *rel, size_t cap, struct archive_entry *e, const char *name, uint64_t max_entry)
{
	const char *why = clean_name(rel, cap, name);
	mode_t type = archive_entry_filetype(e);
	la_int64_t size = archive_entry_size(e);
	if (!why && archive_entry_hardlink(e))
		why = "it is a hard link";
	else if (!why && type == AE_IFLNK)
		why = "it is a symbolic link";
	else if (!why && type != AE_IFREG && type != AE_IFDIR)
		why = "it is a device file, fifo or socket";
	else if (!why && archive_entry_sparse_count(e) > 0)
		why = "it is a sparse file (its holes would be written out in full; kura export writes none)";
	else if (!why && type == AE_IFREG && (size < 0 || (uint64_t)size > max_entry))
		why = "it is larger than the size limit";
	return why;
}

/* Writes the data of the entry a is at (size bytes declared) into full, a new
 * file below dir. */
static int write_entry(struct archive *a, const char *dir, const char *full, const char *tar, const char *name,
		       la_int64_t size, uint64_t max_entry, kura_error *err)
{
	unsigned char buf[CHUNK];
	struct statvfs vfs; /* a compressed tar can declare far more than it holds: never fill the disk */
	uint64_t room = statvfs(dir, &vfs) == 0 ? (uint64_t)vfs.f_bavail * vfs.f_frsize : UINT64_MAX;
	if ((uint64_t)size > room)
		return kura_error_set(err, KURA_EIO, "%s: entry '%s' needs %llu bytes but the temporary folder %s has %llu "
						     "free: set TMPDIR to a folder with room, or unpack the package "
						     "yourself and give the folder", tar, name, (unsigned long long)size, dir,
				      (unsigned long long)room);
	int fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return kura_error_sys(err, KURA_EINPUT, "%s: entry '%s' refused (does the name appear twice?)", tar, name);
	int rc = 0;
	uint64_t total = 0;
	la_ssize_t k;
	while (rc == 0 && (k = archive_read_data(a, buf, sizeof buf)) != 0) {
		if (k < 0)
			rc = kura_error_set(err, KURA_EINPUT, "%s: entry '%s': %s", tar, name, archive_error_string(a));
		else if ((total += (uint64_t)k) > max_entry)
			rc = kura_error_set(err, KURA_EINPUT, "%s: entry '%s' refused: it is larger than the size limit",
					    tar, name);
		else if (kura_fs_write_all(fd, buf, (size_t)k) != 0)
			rc = kura_error_sys(err, KURA_EIO, "writing %s", full);
	}
	close(fd);
	return rc;
}

static int unpack_entries(const char *dir, const char *tar, uint64_t max_entry, kura_error *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	int rc = 0;
	if (archive_read_open_filename(a, tar, CHUNK) != ARCHIVE_OK)
		rc = kura_error_set(err, KURA_EINPUT, "%s is not a readable tar: %s", tar, archive_error_string(a));
	struct archive_entry *e;
	while (rc == 0) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = kura_error_set(err, KURA_EINPUT, "%s is not a readable tar: %s", tar, archive_error_string(a));
			break;
		}
		const char *name = archive_entry_pathname_utf8(e);
		if (!name)
			name = archive_entry_pathname(e);
		char rel[4096], full[4200];
		const char *why = refused_entry(rel, sizeof rel, e, name, max_entry);
		if (why) {
			rc = kura_error_set(err, KURA_EINPUT, "%s: entry '%s' refused: %s; nothing was used from the package",
					    tar, name ? name : "", why);
			break;
		}
		if (!rel[0])
			continue;
		snprintf(full, sizeof full, "%s/%s", dir, rel);
		if (make_parents(dir, rel) != 0) {
			rc = kura_error_sys(err, KURA_EINPUT, "%s: entry '%s' refused: its folders cannot be made", tar, name);
			break;
		}
		if (archive_entry_filetype(e) == AE_IFDIR) {
			struct stat sb;
			if (mkdir(full, 0755) != 0 && (errno != EEXIST || lstat(full, &sb) != 0 || !S_ISDIR(sb.st_mode)))
				rc = kura_error_sys(err, KURA_EINPUT, "%s: entry '%s' refused", tar, name);
			continue;
		}
		rc = write_entry(a, dir, full, tar, name, archive_entry_size(e), max_entry, err);
	}
	archive_read_free(a);
	return rc;
}

static int unpack(const char *dir, const char *tar, uint64_t max_entry, kura_error *err)
{
	locale_t saved, utf8 = kura_bag_utf8_enter(&saved);
	if (!utf8)
		return kura_error_sys(err, KURA_EINTERNAL, "the C.UTF-8 locale is missing (needed for file names)");
	int rc = unpack_entries(dir, tar, max_entry, err);
	kura_bag_utf8_leave(utf8, saved);
	return rc;
}

/* Refuses a folder package holding anything but regular files and folders. */
static int check_folder(const char *dir, int depth, kura_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return kura_error_sys(err, KURA_EINPUT, "cannot read %s", dir);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char path[4096];
		struct stat sb;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (lstat(path, &sb) != 0)
			rc = kura_error_sys(err, KURA_EINPUT, "cannot read %s", path);
		else if (S_ISDIR(sb.st_mode))
			rc = depth > MAX_DEPTH ? kura_error_set(err, KURA_EINPUT, "%s: folders nested too deep", path)
					: check_folder(path, depth + 1, err);
		else if (!S_ISREG(sb.st_mode))
			rc = kura_error_set(err, KURA_EINPUT, "%s is refused: a package holds regular files only (no links, "
							      "devices, fifos or sockets)", path);
	}
	closedir(d);
	return rc;
}

static int is_file(const char *dir, const char *name)
{
	char path[4096];
	struct stat sb;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The bag's folder: top itself, or the only entry of top when it is a folder with bagit.txt. */
static int find_root(kura_package *p)
{
	if (is_file(p->top, "bagit.txt")) {
		p->bag = 1;
		return (p->root = strdup(p->top)) ? 0 : -1;
	}
	DIR *d = opendir(p->top);
	struct dirent *de;
	char only[4096] = "";
	int count = 0;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && count++ == 0)
			snprintf(only, sizeof only, "%s/%s", p->top, de->d_name);
	if (d)
		closedir(d);
	struct stat sb;
	if (count == 1 && lstat(only, &sb) == 0 && S_ISDIR(sb.st_mode) && is_file(only, "bagit.txt")) {
		p->bag = 1;
		return (p->root = strdup(only)) ? 0 : -1;
	}
	return (p->root = strdup(p->top)) ? 0 : -1;
}

/* Removes the folders of tmpdir that killed processes of this user left unpacked
 * (see the invariants above). Best effort: what cannot be removed stays. */
static void remove_stale_unpacked(const char *tmpdir)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		long pid;
		char rest[16], path[4096];
		struct stat sb;
		if (sscanf(e->d_name, "kura-package.%ld.%15s", &pid, rest) != 2 || strlen(rest) != 6 || pid <= 0 ||
		    (kill((pid_t)pid, 0) == 0 || errno != ESRCH) ||
		    snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name) >= (int)sizeof path ||
		    lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != getuid())
			continue;
		kura_fs_remove_tree(path);
	}
	if (d)
		closedir(d);
}

int kura_package_open(kura_package **out, const char *path, uint64_t max_entry, kura_error *err)
{
	struct stat sb;
	if (stat(path, &sb) != 0)
		return kura_error_sys(err, KURA_EINPUT, "cannot read %s", path);
	kura_package *p = calloc(1, sizeof *p);
	if (!p)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc = 0;
	if (S_ISDIR(sb.st_mode)) {
		if (!(p->top = strdup(path)))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		if (rc == 0)
			rc = check_folder(path, 0, err);
	} else if (S_ISREG(sb.st_mode)) {
		const char *tmpdir = getenv("TMPDIR");
		tmpdir = tmpdir && *tmpdir ? tmpdir : "/tmp";
		remove_stale_unpacked(tmpdir);
		if (asprintf(&p->tmp, "%s/kura-package.%ld.XXXXXX", tmpdir, (long)getpid()) < 0) {
			p->tmp = NULL;
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		} else if (!mkdtemp(p->tmp)) {
			free(p->tmp);
			p->tmp = NULL;
			rc = kura_error_sys(err, KURA_EIO, "cannot make a temporary folder");
		} else if (!(p->top = strdup(p->tmp))) {
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		} else {
			rc = unpack(p->tmp, path, max_entry, err);
		}
	} else {
		rc = kura_error_set(err, KURA_EINPUT, "%s is neither a tar file nor a folder", path);
	}
	if (rc == 0 && find_root(p) != 0)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0) {
		kura_package_close(p);
		return rc;
	}
	*out = p;
	return 0;
}

void kura_package_close(kura_package *p)
{
	if (!p)
		return;
	if (p->tmp)
		kura_fs_remove_tree(p->tmp);
	free(p->tmp);
	free(p->top);
	free(p->root);
	free(p);
}

const char *kura_package_root(const kura_package *p) { return p->root; }
int kura_package_is_bag(const kura_package *p) { return p->bag; }

/* ---------------------------------------------------------------- listing */

struct list {
	char **v;
	size_t n, cap;
};

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int list_push(struct list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	return (l->v[l->n] = strdup(s)) ? (int)(l->n++, 0) : -1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_has(const struct list *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof *l->v, cmp_str) != NULL;
}

/* Every regular file under root/rel (relative to root), recursively. */
static int collect(struct list *l, const char *root, const char *rel, kura_error *err)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%s", root, rel);
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : kura_error_sys(err, KURA_EINPUT, "cannot read %s", dir);
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char sub[4096], path[8200];
		struct stat sb;
		snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(path, sizeof path, "%s/%s", root, sub);
		if (lstat(path, &sb) != 0)
			rc = kura_error_sys(err, KURA_EINPUT, "cannot read %s", path);
		else if (S_ISDIR(sb.st_mode))
			rc = collect(l, root, sub, err);
		else if (S_ISREG(sb.st_mode) && list_push(l, sub) != 0)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	closedir(d);
	return rc;
}

int kura_package_each_pair(const kura_package *p, const char *sub, kura_package_pair_fn fn, void *ud, kura_error *err)
{
	struct list l = {0};
	int rc = collect(&l, p->root, sub, err);
	if (rc == 0 && l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_str);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		size_t n = strlen(l.v[i]);
		int parts = n > 4 && strcmp(l.v[i] + n - 4, ".erp") == 0;
		if (n <= 4 || (!parts && strcmp(l.v[i] + n - 4, ".ers") != 0))
			continue;
		char file[4096], other[4200];
		snprintf(file, sizeof file, "%.*s", (int)(n - 4), l.v[i]);
		snprintf(other, sizeof other, "%s.erp", file);
		if (list_has(&l, file) && (parts || !list_has(&l, other))) /* FILE.erp before FILE.ers */
			rc = fn(ud, file, l.v[i], err);
	}
	list_free(&l);
	return rc;
}

int kura_package_each_file(const kura_package *p, const char *sub, kura_package_file_fn fn, void *ud, kura_error *err)
{
	struct list l = {0};
	int rc = collect(&l, p->root, sub, err);
	if (rc == 0 && l.n)
		qsort(l.v, l.n, sizeof *l.v, cmp_str);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = fn(ud, l.v[i], err);
	list_free(&l);
	return rc;
}

/* ---------------------------------------------------------------- checking */

struct checker {
	const kura_package *p;
	kura_bag_problem_fn fn;
	void *ud;
	size_t problems;
};

static void problem(struct checker *c, const char *path, const char *what)
{
	c->problems++;
	if (c->fn)
		c->fn(c->ud, path, what);
}

/* Undoes the percent-encoding of manifest paths (%0A, %0D, %25). */
static void decode_path(char *s)
{
	char *o = s;
	for (char *i = s; *i; i++) {
		if (i[0] == '%' && (strncmp(i + 1, "0A", 2) == 0 || strncmp(i + 1, "0a", 2) == 0)) {
			*o++ = '\n';
			i += 2;
		} else if (i[0] == '%' && (strncmp(i + 1, "0D", 2) == 0 || strncmp(i + 1, "0d", 2) == 0)) {
			*o++ = '\r';
			i += 2;
		} else if (i[0] == '%' && strncmp(i + 1, "25", 2) == 0) {
			*o++ = '%';
			i += 2;
		} else {
			*o++ = *i;
		}
	}
	*o = '\0';
}

/* A listed file that is not there by its bytes may be there in another Unicode
 * normalisation (libarchive reads UTF-8 tar names in NFC; a folder copied
 * through macOS comes out in NFD): rel is then renamed to the one file of its
 * folder with the same NFC form. 0 when found. */
int kura_bag_find_normalised(char *rel, size_t cap, const char *root)
{
	char dir[8200];
	const char *slash = strrchr(rel, '/'), *base = slash ? slash + 1 : rel;
	snprintf(dir, sizeof dir, "%s/%.*s", root, slash ? (int)(slash - rel) : 0, rel);
	DIR *d = opendir(dir);
	struct dirent *de;
	char found[4096] = "";
	int matches = 0;
	while (d && (de = readdir(d)))
		if (kura_unicode_same_nfc(de->d_name, base) && matches++ == 0)
			snprintf(found, sizeof found, "%s", de->d_name);
	if (d)
		closedir(d);
	if (matches != 1 || (size_t)(base - rel) + strlen(found) + 1 > cap)
		return -1;
	strcpy(rel + (base - rel), found);
	return 0;
}

/* Checks every line of one manifest; payload: its paths must be under data/ (else must not). */
static int check_manifest(struct checker *c, const char *name, int payload, struct list *listed, kura_error *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", c->p->root, name);
	FILE *f = fopen(path, "r");
	if (!f) {
		problem(c, name, payload ? "missing: the bag has no SHA-256 manifest" : "missing");
		return 0;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		char *sp = line + strcspn(line, " \t"), *file = sp + strspn(sp, " \t"), rel[4096], hex[65];
		if (sp - line != 64 || !*file) {
			problem(c, name, "has a malformed line");
			continue;
		}
		*sp = '\0';
		if (*file == '*')
			file++;
		decode_path(file);
		if (clean_name(rel, sizeof rel, file) || strcmp(rel, file) != 0 || (strncmp(rel, "data/", 5) == 0) != payload) {
			problem(c, name, payload ? "lists a path outside data/ or an unsafe one" : "lists an unsafe path");
			continue;
		}
		char full[8200];
		kura_error e = {0};
		snprintf(full, sizeof full, "%s/%s", c->p->root, rel);
		int r = file_sha256_hex(hex, full, &e);
		if (r == KURA_ENOTFOUND && kura_bag_find_normalised(rel, sizeof rel, c->p->root) == 0) {
			snprintf(full, sizeof full, "%s/%s", c->p->root, rel);
			r = file_sha256_hex(hex, full, &e);
		}
		if (r == KURA_ENOTFOUND)
			problem(c, rel, "is listed in the manifest but missing");
		else if (r != 0)
			problem(c, rel, "cannot be read");
		else if (strcasecmp(hex, line) != 0)
			problem(c, rel, "does not match its SHA-256 in the manifest: it was changed after export");
		if (list_push(listed, rel) != 0)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	free(line);
	fclose(f);
	if (listed->n)
		qsort(listed->v, listed->n, sizeof *listed->v, cmp_str);
	for (size_t i = 1; i < listed->n; i++)
		if (strcmp(listed->v[i - 1], listed->v[i]) == 0)
			problem(c, listed->v[i], "is listed twice in the manifest");
	return rc;
}

int kura_bag_check(const kura_package *p, kura_bag_problem_fn fn, void *ud, size_t *problems, kura_error *err)
{
	struct checker c = {p, fn, ud, 0};
	struct list listed = {0}, tags = {0}, present = {0};
	int rc = 0;
	char path[4096], *text = NULL;
	size_t len;
	snprintf(path, sizeof path, "%s/bagit.txt", p->root);
	if (kura_fs_read_file(path, 4096, &text, &len) != 0 || !strstr(text, "BagIt-Version:"))
		problem(&c, "bagit.txt", "is missing or does not declare a BagIt version");
	free(text);
	rc = check_manifest(&c, "manifest-sha256.txt", 1, &listed, err);
	if (rc == 0 && is_file(p->root, "tagmanifest-sha256.txt"))
		rc = check_manifest(&c, "tagmanifest-sha256.txt", 0, &tags, err);
	if (rc == 0)
		rc = collect(&present, p->root, "", err);
	if (rc == 0 && present.n)
		qsort(present.v, present.n, sizeof *present.v, cmp_str);
	for (size_t i = 0; rc == 0 && i < present.n; i++) {
		const char *f = present.v[i];
		if (strncmp(f, "data/", 5) == 0 && !list_has(&listed, f))
			problem(&c, f, "is not listed in the manifest: it was added after export");
		else if (strncmp(f, "data/", 5) != 0 && tags.n && strcmp(f, "tagmanifest-sha256.txt") != 0 &&
			 !list_has(&tags, f)) /* without a tag manifest, any tag file may be there (RFC 8493) */
			problem(&c, f, "is in no manifest: it was added after export");
	}
	list_free(&listed);
	list_free(&tags);
	list_free(&present);
	*problems = c.problems;
	return rc;
}
