/* BagIt bags in tar files: writing (see bag.h; reading is bag_read.c).
 *
 * INVARIANTS
 * - The tar is written to a temporary file beside the output and renamed
 *   only after the last manifest is in and the file is fsync'd: a failed export
 *   leaves no package and no partial file. A killed one leaves OUT.tmp.PID.XXXXXX,
 *   which the next export to OUT removes (common/safefs.h says how it knows).
 *   Memory stays constant: payload lines of the manifest go to an unnamed
 *   temporary file and are streamed in at the end.
 * - Names: entry names are written as UTF-8 (pax "path" records; libarchive
 *   composes them to NFC) and read back in NFC when the tar holds UTF-8, as
 *   their bytes when it does not. libarchive converts names through the C library's
 *   locale, which a library must not set (and "C" cannot carry UTF-8: libarchive
 *   3.6 crashes on it); so every call that converts a name, writing or reading,
 *   runs in this thread under C.UTF-8 (kura_bag_utf8_enter/leave), whatever the
 *   program's locale.
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
#define MAX_TAGS 64

struct tag {
	char *path;
	char hex[65];
};

struct kura_bag_writer {
	struct archive *a;
	int fd;
	char *tmp, *out, *name;
	int64_t mtime;
	FILE *manifest; /* payload lines, streamed into manifest-sha256.txt at the end */
	struct tag tags[MAX_TAGS];
	size_t ntags;
	EVP_MD_CTX *ctx;
	char *cur; /* the entry being written */
	uint64_t cur_size, cur_done;
	uint64_t payload_bytes, payload_files;
	int done;
	int no_space; /* a write failed for want of space */
};

locale_t kura_bag_utf8_enter(locale_t *saved)
{
	locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	*saved = utf8 ? uselocale(utf8) : (locale_t)0;
	return utf8;
}

void kura_bag_utf8_leave(locale_t utf8, locale_t saved)
{
	if (utf8) {
		uselocale(saved);
		freelocale(utf8);
	}
}

static int archive_fail(kura_error *err, struct archive *a, const char *what)
{
	return kura_error_set(err, KURA_EIO, "%s: %s", what, archive_error_string(a) ? archive_error_string(a) : "failed");
}

/* A failed write of the package: a full file system is said as such, with the
 * entry being written and how much is written and free. */
static int write_fail(kura_bag_writer *w, kura_error *err)
{
	int e = archive_errno(w->a);
	struct stat sb;
	struct statvfs fs;
	if (e != ENOSPC && e != EDQUOT)
		return archive_fail(err, w->a, w->out);
	w->no_space = 1;
	unsigned long long written = fstat(w->fd, &sb) == 0 ? (unsigned long long)sb.st_size : 0;
	unsigned long long avail = fstatvfs(w->fd, &fs) == 0 ? (unsigned long long)fs.f_bavail * fs.f_frsize : 0;
	return kura_error_set(err, KURA_EIO, "%s: %s on its file system while writing %s (%llu bytes of the package "
			      "written, %llu free)", w->out, e == EDQUOT ? "quota exceeded" : "no space left",
			      w->cur ? w->cur : "the package", written, avail);
}

int kura_bag_writer_no_space(const kura_bag_writer *w)
{
	return w && w->no_space;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

int kura_bag_writer_new(kura_bag_writer **out, const char *path, const char *name, int64_t mtime, kura_error *err)
{
	int zst = has_suffix(path, ".tar.zst");
	if (!zst && !has_suffix(path, ".tar"))
		return kura_error_set(err, KURA_EINPUT, "%s: the package must end in .tar or .tar.zst", path);
	kura_bag_writer *w = calloc(1, sizeof *w);
	if (!w)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	w->fd = -1;
	w->mtime = mtime;
	int rc = 0;
	if (!(w->out = strdup(path)) || !(w->name = strdup(name)) || !(w->ctx = EVP_MD_CTX_new()))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	/* the temporary files of killed exports to the same path go first */
	if (rc == 0 && (kura_safefs_remove_stale_temps(path) < 0 || (w->fd = kura_safefs_temp_beside(path, &w->tmp)) < 0))
		rc = kura_error_sys(err, KURA_EINPUT, "cannot create a file beside %s", path);
	if (rc == 0) { /* a package is for others to read: the mode a new file gets, not mkstemp's 0600 */
		mode_t mask = umask(0);
		umask(mask);
		if (fchmod(w->fd, 0666 & ~mask) != 0)
			rc = kura_error_sys(err, KURA_EIO, "chmod %s", w->tmp);
	}
	if (rc == 0 && !(w->manifest = tmpfile()))
		rc = kura_error_sys(err, KURA_EIO, "cannot create a temporary file");
	if (rc == 0 && !(w->a = archive_write_new()))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0 && (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
			(zst && archive_write_add_filter_zstd(w->a) != ARCHIVE_OK) ||
			archive_write_open_fd(w->a, w->fd) != ARCHIVE_OK))
		rc = archive_fail(err, w->a, path);
	if (rc != 0) {
		kura_bag_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void kura_bag_writer_free(kura_bag_writer *w)
{
	if (!w)
		return;
	if (w->a)
		archive_write_free(w->a);
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp && !w->done)
		unlink(w->tmp);
	if (w->manifest)
		fclose(w->manifest);
	for (size_t i = 0; i < w->ntags; i++)
		free(w->tags[i].path);
	EVP_MD_CTX_free(w->ctx);
	free(w->cur);
	free(w->tmp);
	free(w->out);
	free(w->name);
	free(w);
}

int kura_bag_begin(kura_bag_writer *w, const char *path, uint64_t size, kura_error *err)
{
	if (w->cur)
		return kura_error_set(err, KURA_EINTERNAL, "bag entry %s is not finished", w->cur);
	if (strncmp(path, "data/", 5) != 0 && w->ntags == MAX_TAGS)
		return kura_error_set(err, KURA_EINTERNAL, "too many tag files");
	char *full = NULL;
	if (asprintf(&full, "%s/%s", w->name, path) < 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (!(w->cur = strdup(path))) {
		free(full);
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	struct archive_entry *e = archive_entry_new();
	int rc = e ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		archive_entry_set_pathname_utf8(e, full);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)size);
		archive_entry_set_mtime(e, (time_t)w->mtime, 0);
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		locale_t saved, utf8 = kura_bag_utf8_enter(&saved);
		if (!utf8)
			rc = kura_error_sys(err, KURA_EINTERNAL, "the C.UTF-8 locale is missing (needed for file names)");
		else if (archive_write_header(w->a, e) < ARCHIVE_WARN)
			rc = write_fail(w, err);
		kura_bag_utf8_leave(utf8, saved);
	}
	archive_entry_free(e);
	free(full);
	if (rc == 0 && EVP_DigestInit_ex(w->ctx, EVP_sha256(), NULL) != 1)
		rc = kura_error_set(err, KURA_EINTERNAL, "SHA-256 is not available");
	w->cur_size = size;
	w->cur_done = 0;
	return rc;
}

int kura_bag_write(kura_bag_writer *w, const void *p, size_t n, kura_error *err)
{
	if (!w->cur || w->cur_done + n > w->cur_size)
		return kura_error_set(err, KURA_EINTERNAL, "bag entry %s: more bytes than announced", w->cur ? w->cur : "?");
	const unsigned char *q = p;
	EVP_DigestUpdate(w->ctx, p, n);
	while (n > 0) {
		la_ssize_t k = archive_write_data(w->a, q, n);
		if (k <= 0)
			return write_fail(w, err);
		q += k;
		n -= (size_t)k;
		w->cur_done += (uint64_t)k;
	}
	return 0;
}

int kura_bag_end(kura_bag_writer *w, kura_error *err)
{
	if (!w->cur || w->cur_done != w->cur_size)
		return kura_error_set(err, KURA_EINTERNAL, "bag entry %s: fewer bytes than announced", w->cur ? w->cur : "?");
	unsigned char md[32];
	char hex[65];
	EVP_DigestFinal_ex(w->ctx, md, NULL);
	kura_hex_encode(hex, md, 32);
	int rc = 0;
	if (strncmp(w->cur, "data/", 5) == 0) {
		if (fprintf(w->manifest, "%s  %s\n", hex, w->cur) < 0)
			rc = kura_error_sys(err, KURA_EIO, "writing a temporary file");
		w->payload_bytes += w->cur_size;
		w->payload_files++;
		free(w->cur);
	} else {
		w->tags[w->ntags].path = w->cur;
		memcpy(w->tags[w->ntags++].hex, hex, sizeof hex);
	}
	w->cur = NULL;
	return rc;
}

int kura_bag_add(kura_bag_writer *w, const char *path, const void *p, size_t n, kura_error *err)
{
	int rc = kura_bag_begin(w, path, n, err);
	if (rc == 0 && n > 0)
		rc = kura_bag_write(w, p, n, err);
	return rc ? rc : kura_bag_end(w, err);
}

static int add_text(kura_bag_writer *w, const char *path, const char *text, kura_error *err)
{
	return kura_bag_add(w, path, text, strlen(text), err);
}

int kura_bag_writer_finish(kura_bag_writer *w, const char *info, kura_error *err)
{
	char day[16], *bag_info = NULL;
	time_t t = (time_t)w->mtime;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	int rc = add_text(w, "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", err);
	if (rc == 0 && asprintf(&bag_info, "Bagging-Date: %s\nBag-Software-Agent: kura\nPayload-Oxum: %llu.%llu\n%s", day,
				(unsigned long long)w->payload_bytes, (unsigned long long)w->payload_files,
				info ? info : "") < 0) {
		bag_info = NULL;
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (rc == 0)
		rc = add_text(w, "bag-info.txt", bag_info, err);
	free(bag_info);
	long mlen = rc == 0 ? ftell(w->manifest) : -1;
	if (rc == 0 && (mlen < 0 || fflush(w->manifest) != 0 || fseek(w->manifest, 0, SEEK_SET) != 0))
		rc = kura_error_sys(err, KURA_EIO, "reading a temporary file");
	if (rc == 0)
		rc = kura_bag_begin(w, "manifest-sha256.txt", (uint64_t)mlen, err);
	char buf[CHUNK];
	size_t got;
	while (rc == 0 && (got = fread(buf, 1, sizeof buf, w->manifest)) > 0)
		rc = kura_bag_write(w, buf, got, err);
	if (rc == 0)
		rc = kura_bag_end(w, err);
	/* the tag manifest lists every tag file written so far, itself excepted */
	size_t cap = w->ntags * (64 + 2 + 256) + 1, used = 0;
	char *tm_text = rc == 0 ? malloc(cap) : NULL;
	if (rc == 0 && !tm_text)
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < w->ntags; i++) {
		int n = snprintf(tm_text + used, cap - used, "%s  %s\n", w->tags[i].hex, w->tags[i].path);
		if (n < 0 || (size_t)n >= cap - used)
			rc = kura_error_set(err, KURA_EINTERNAL, "tag file name too long");
		else
			used += (size_t)n;
	}
	if (rc == 0)
		rc = kura_bag_add(w, "tagmanifest-sha256.txt", tm_text, used, err);
	free(tm_text);
	if (rc == 0 && archive_write_close(w->a) != ARCHIVE_OK)
		rc = write_fail(w, err);
	if (rc == 0 && fsync(w->fd) != 0) {
		w->no_space = errno == ENOSPC || errno == EDQUOT;
		rc = kura_error_sys(err, KURA_EIO, "fsync %s", w->tmp);
	}
	if (rc == 0 && rename(w->tmp, w->out) != 0)
		rc = kura_error_sys(err, KURA_EIO, "renaming %s to %s", w->tmp, w->out);
	if (rc == 0) {
		w->done = 1;
		const char *base;
		int dir = kura_safefs_open_parent(w->out, &base);
		if (dir >= 0) { /* the new name is durable too */
			fsync(dir);
			close(dir);
		}
	}
	return rc;
}
