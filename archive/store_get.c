/* An object's bytes written out, verified while they stream (what `kura get`
 * does): the document or a member of its group, named by its role.
 *
 * To a file, the bytes go to FILE.kura-partial, which becomes FILE only once
 * the SHA-256 matched and the bytes are synced: a damaged object never leaves a
 * file that looks complete. To a descriptor, or a FILE that is a device or FIFO
 * (/dev/null is never replaced), the bytes stream; damage is then reported after
 * they were written (KURA_EVERIFY). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "kura/store.h"

static int to_fd(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	if (kura_fs_write_all(*(int *)ud, p, n) != 0)
		return kura_error_sys(err, KURA_EIO, "writing the object out");
	return 0;
}

/* Which member of the object's group has this role (0: the document). */
static int member_index(size_t *k, json_t *object, const char *role, kura_error *err)
{
	json_t *members = json_object_get(object, "members");
	*k = 0;
	for (size_t i = 0; role && i < json_array_size(members); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(members, i), "role")) ?: "", role) == 0)
			*k = i + 1;
	if (role && *k == 0)
		return kura_error_set(err, KURA_ENOTFOUND, "object %s has no member '%s' (only signed documents have "
							   "signature and validation-data)",
				      json_string_value(json_object_get(object, "id")), role);
	return 0;
}

int kura_store_get(kura_store *st, const char *id, const char *role, const char *out, int fd, kura_error *err)
{
	char tmp[4096];
	int rc = 0;
	struct stat sb;
	if (out) /* -1 until the temporary file exists */
		fd = -1;
	if (out && stat(out, &sb) == 0 && S_ISDIR(sb.st_mode))
		rc = kura_error_set(err, KURA_EINPUT, "%s is a folder; give -o the path of a file", out);
	size_t k = 0;
	json_t *probe = NULL; /* fail on an unknown ID or member before creating any file */
	if (rc == 0)
		rc = kura_store_object(&probe, st, id, err);
	if (rc == 0)
		rc = member_index(&k, probe, role, err);
	json_decref(probe);
	int direct = -1; /* out is a device or FIFO: written as it is */
	if (rc == 0 && out && (direct = kura_fs_open_stream_output(out)) < 0 && errno != 0)
		rc = kura_error_sys(err, KURA_EINPUT, "cannot write %s", out);
	if (direct >= 0) {
		fd = direct;
		out = NULL;
	}
	if (rc == 0 && out) {
		if (rc == 0 && snprintf(tmp, sizeof tmp, "%s.kura-partial", out) >= (int)sizeof tmp)
			rc = kura_error_set(err, KURA_EINPUT, "output path too long");
		if (rc == 0) /* a leftover goes; a link planted in its place is removed, not followed */
			unlink(tmp);
		if (rc == 0 && (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
			rc = kura_error_sys(err, errno == EIO || errno == ENOSPC ? KURA_EIO : KURA_EINPUT, "cannot write %s", tmp);
	}
	if (rc == 0)
		rc = kura_store_read_member(st, id, k, to_fd, &fd, err);
	if (direct >= 0 && close(direct) != 0 && rc == 0)
		rc = kura_error_sys(err, KURA_EIO, "writing the object out");
	if (out && fd >= 0) {
		int synced = rc == 0 && fsync(fd) == 0;
		if (close(fd) != 0)
			synced = 0;
		if (rc == 0 && (!synced || rename(tmp, out) != 0))
			rc = kura_error_sys(err, KURA_EIO, "writing %s", out);
		if (rc != 0)
			unlink(tmp);
	}
	return rc;
}
