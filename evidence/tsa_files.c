/* The files of an embedded TSA's folder (see tsa_files.h).
 *
 * INVARIANTS (the rollover protocol)
 * - A rollover changes up to six files: tsa.key, tsa.pem, tsa.json, and with a new
 *   root also root.key, root.pem, anchors.pem. Each successor is first written as
 *   NAME.next (exclusively, fsync'd). The switch is committed by ONE rename: the
 *   journal "rollover" (common/safefs.h: "kura switch 1", then one NAME a line)
 *   appears. Then every NAME.next is renamed over NAME and the journal is removed.
 * - Whoever opens the folder (kura_tsa_files_open, under flock) first finishes a
 *   committed rollover (journal present: each NAME.next still there is renamed) or
 *   undoes an uncommitted one (no journal: each NAME.next is removed). So a reader
 *   always sees one whole TSA, the old or the new, never a new key beside an old
 *   certificate; and a kill at any point leaves a folder that the next open repairs.
 * - A folder left by kura before this journal (NAME.new files renamed one by one,
 *   killed between two renames) is repaired the same way: its .new files are taken
 *   when the key and certificate they make belong together (that kura wrote all of
 *   them before its first rename), else removed.
 * - Nothing here follows a link (common/safefs.h). Keys are mode 0600; certificates,
 *   tsa.json and the folders get what the umask leaves of 0644 and 0777 (a store
 *   sets it: 0600/0700, or 0640/0750 so that its group can verify).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/fsutil.h"
#include "common/safefs.h"
#include "evidence/tsa.h"
#include "evidence/tsa_files.h"

#define JOURNAL "rollover"

static const char *const switched[] = {"root.key", "root.pem", "tsa.key", "tsa.pem", "anchors.pem", "tsa.json", NULL};

static int present(int d, const char *name)
{
	struct stat sb;
	return fstatat(d, name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
}

static FILE *open_read(int d, const char *name)
{
	int fd = kura_safefs_open_read(d, name);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f && fd >= 0)
		close(fd);
	return f;
}

char *kura_tsa_files_read_text(int d, const char *name)
{
	int fd = kura_safefs_open_read(d, name);
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) == 0 && sb.st_size < (1 << 20) && (buf = malloc((size_t)sb.st_size + 1)) &&
	    kura_fs_read_full(fd, buf, (size_t)sb.st_size, &got) == 0)
		buf[got] = '\0';
	else {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

EVP_PKEY *kura_tsa_files_read_key(int d, const char *name)
{
	FILE *f = open_read(d, name);
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	ERR_clear_error();
	return k;
}

int kura_tsa_files_read_certs(STACK_OF(X509) *out, int d, const char *name, kura_error *err)
{
	FILE *f = open_read(d, name);
	if (!f)
		return kura_error_sys(err, KURA_EIO, "cannot read the embedded TSA's %s", name);
	int rc = kura_load_certs_from(out, f, name, err);
	fclose(f);
	return rc;
}

static FILE *create(int d, const char *name, mode_t mode)
{
	int fd = kura_safefs_create(d, name, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f && fd >= 0)
		close(fd);
	return f;
}

static int finish_file(FILE *f, int ok)
{
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ERR_clear_error();
	return fclose(f) == 0 && ok ? 0 : -1;
}

int kura_tsa_files_write_key(int d, const char *name, EVP_PKEY *key)
{
	FILE *f = create(d, name, 0600);
	return f ? finish_file(f, PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) : -1;
}

int kura_tsa_files_write_certs(int d, const char *name, const char *prefix, size_t plen, X509 *const *certs, int n)
{
	FILE *f = create(d, name, 0644);
	if (!f)
		return -1;
	int ok = plen == 0 || fwrite(prefix, 1, plen, f) == plen;
	for (int i = 0; i < n; i++)
		ok = ok && PEM_write_X509(f, certs[i]);
	return finish_file(f, ok);
}

int kura_tsa_files_write(int d, const char *name, const void *buf, size_t n)
{
	FILE *f = create(d, name, 0644);
	return f ? finish_file(f, fwrite(buf, 1, n, f) == n) : -1;
}

int kura_tsa_files_keep_old(int d, const char *name, const char *stamp)
{
	char to[256];
	if (mkdirat(d, "old", 0777) != 0 && errno != EEXIST)
		return -1;
	int od = kura_safefs_open_dir(d, "old", 0);
	if (od < 0)
		return -1;
	snprintf(to, sizeof to, "%s-%s", stamp, name);
	int rc = (linkat(d, name, od, to, 0) == 0 || errno == EEXIST) && fsync(od) == 0 ? 0 : -1;
	close(od);
	return rc;
}

/* Before the journal: kura renamed root.key.new, root.pem.new, tsa.key.new and
 * tsa.pem.new one after the other. */
static int repair_unjournaled(int d)
{
	static const char *const names[] = {"root.key", "root.pem", "tsa.key", "tsa.pem", NULL};
	char nx[64];
	int any = 0;
	for (int i = 0; names[i]; i++) {
		snprintf(nx, sizeof nx, "%s.new", names[i]);
		any |= present(d, nx);
	}
	if (!any)
		return 0;
	EVP_PKEY *key = kura_tsa_files_read_key(d, present(d, "tsa.key.new") ? "tsa.key.new" : "tsa.key");
	STACK_OF(X509) *cert = sk_X509_new_null(), *root = sk_X509_new_null();
	int take = key && cert && root &&
		   kura_tsa_files_read_certs(cert, d, present(d, "tsa.pem.new") ? "tsa.pem.new" : "tsa.pem", NULL) == 0 &&
		   kura_tsa_files_read_certs(root, d, present(d, "root.pem.new") ? "root.pem.new" : "root.pem", NULL) == 0 &&
		   X509_check_private_key(sk_X509_value(cert, 0), key) == 1 &&
		   X509_check_issued(sk_X509_value(root, 0), sk_X509_value(cert, 0)) == X509_V_OK;
	ERR_clear_error();
	EVP_PKEY_free(key);
	sk_X509_pop_free(cert, X509_free);
	sk_X509_pop_free(root, X509_free);
	int rc = 0;
	for (int i = 0; names[i]; i++) {
		snprintf(nx, sizeof nx, "%s.new", names[i]);
		if (present(d, nx) && (take ? renameat(d, nx, d, names[i]) : unlinkat(d, nx, 0)) != 0)
			rc = -1;
	}
	return rc == 0 ? fsync(d) : -1;
}

/* Finishes a committed switch or undoes an uncommitted one (safefs.h), then
 * repairs what kura before the journal left. */
static int finish(int d, const char *dir, kura_error *err)
{
	if (kura_safefs_finish(d, JOURNAL, switched) < 0)
		return errno == EBADMSG ? kura_error_set(err, KURA_EIO, "the rollover journal %s/" JOURNAL " of the embedded TSA "
							 "is damaged; restore the folder %s from a copy", dir, dir)
					: kura_error_sys(err, KURA_EIO, "finishing the embedded TSA's rollover in %s", dir);
	if (repair_unjournaled(d) != 0)
		return kura_error_sys(err, KURA_EIO, "repairing the rollover kura left unfinished in %s", dir);
	return 0;
}

int kura_tsa_files_switch(int d, const char *const *names, size_t n, kura_error *err)
{
	if (kura_safefs_switch(d, JOURNAL, names, n) != 0)
		return kura_error_sys(err, KURA_EIO, "switching the embedded TSA to its new key and certificate");
	return 0;
}

int kura_tsa_files_open(const char *dir, int create, kura_error *err)
{
	char path[4096];
	size_t n = (size_t)snprintf(path, sizeof path, "%s", dir);
	while (n > 1 && n < sizeof path && path[n - 1] == '/')
		path[--n] = '\0';
	const char *name;
	int parent = n < sizeof path ? kura_safefs_open_parent(path, &name) : -1;
	if (parent < 0)
		return kura_error_sys(err, KURA_EIO, "opening %s", dir);
	if (create && mkdirat(parent, name, 0777) != 0 && errno != EEXIST) {
		int rc = kura_error_sys(err, KURA_EIO, "creating %s", dir);
		close(parent);
		return rc;
	}
	int d = kura_safefs_open_dir(parent, name, 0), saved = errno;
	close(parent);
	if (d < 0 && saved == ELOOP)
		return kura_error_set(err, KURA_EIO, "%s is a symbolic link: %s", dir, KURA_SAFEFS_LINK_ADVICE);
	if (d < 0) {
		errno = saved;
		return kura_error_sys(err, KURA_EIO, "opening %s", dir);
	}
	int rc = flock(d, LOCK_EX) == 0 ? finish(d, dir, err) : kura_error_sys(err, KURA_EIO, "locking %s", dir);
	if (rc != 0) {
		close(d);
		return rc;
	}
	return d;
}
