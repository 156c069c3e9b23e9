/* kura get STORE ID [--member ROLE] [-o FILE]: the object's bytes (or those of a
 * member of its group: signature, validation-data), verified while they stream.
 * With -o the bytes go to a temporary file that becomes FILE only once the
 * SHA-256 matched: a damaged object never leaves a file that looks complete.
 * To stdout the bytes stream; damage then ends the run with exit status 1. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/fsutil.h"
#include "kura/store.h"

static const char usage[] = "kura get STORE ID [--member signature|validation-data] [-o FILE]";

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

int kura_cmd_get(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"member", required_argument, NULL, 'm'}, {0}};
	const char *out = NULL, *role = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'm')
			role = optarg;
		else
			return kura_cli_usage(usage, "unknown or incomplete option '%s'", argv[optind - 1]);
	}
	if (argc - optind != 2)
		return kura_cli_usage(usage, "get takes a STORE and one ID");
	kura_error err = {0};
	kura_store *st = NULL;
	char tmp[4096];
	int fd = out ? -1 : STDOUT_FILENO; /* -1 until the temporary file exists */
	int rc = kura_store_open(&st, argv[optind], KURA_STORE_READ, &err);
	struct stat sb;
	if (rc == 0 && out && stat(out, &sb) == 0 && S_ISDIR(sb.st_mode))
		rc = kura_error_set(&err, KURA_EINPUT, "%s is a folder; give -o the path of a file", out);
	size_t k = 0;
	json_t *probe = NULL; /* fail on an unknown ID or member before creating any file */
	if (rc == 0)
		rc = kura_store_object(&probe, st, argv[optind + 1], &err);
	if (rc == 0)
		rc = member_index(&k, probe, role, &err);
	json_decref(probe);
	if (rc == 0 && out) {
		if (rc == 0 && snprintf(tmp, sizeof tmp, "%s.kura-partial", out) >= (int)sizeof tmp)
			rc = kura_error_set(&err, KURA_EINPUT, "output path too long");
		if (rc == 0) /* a leftover goes; a link planted in its place is removed, not followed */
			unlink(tmp);
		if (rc == 0 && (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
			rc = kura_error_sys(&err, errno == EIO || errno == ENOSPC ? KURA_EIO : KURA_EINPUT, "cannot write %s", tmp);
	}
	if (rc == 0)
		rc = kura_store_read_member(st, argv[optind + 1], k, to_fd, &fd, &err);
	if (out && fd >= 0) {
		int synced = rc == 0 && fsync(fd) == 0;
		if (close(fd) != 0)
			synced = 0;
		if (rc == 0 && (!synced || rename(tmp, out) != 0))
			rc = kura_error_sys(&err, KURA_EIO, "writing %s", out);
		if (rc != 0)
			unlink(tmp);
	}
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
