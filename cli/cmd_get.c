/* kura get STORE ID [-o FILE]: the object's bytes, verified while they stream.
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

static const char usage[] = "kura get STORE ID [-o FILE]";

static int to_fd(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	if (kura_fs_write_all(*(int *)ud, p, n) != 0)
		return kura_error_sys(err, KURA_EIO, "writing the object out");
	return 0;
}

int kura_cmd_get(int argc, char **argv)
{
	const char *out;
	int bad = kura_cli_output_option(argc, argv, usage, &out);
	if (bad)
		return bad;
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
	if (rc == 0 && out) {
		json_t *probe = NULL; /* fail on an unknown ID before creating any file */
		rc = kura_store_object(&probe, st, argv[optind + 1], &err);
		json_decref(probe);
		if (rc == 0 && snprintf(tmp, sizeof tmp, "%s.kura-partial", out) >= (int)sizeof tmp)
			rc = kura_error_set(&err, KURA_EINPUT, "output path too long");
		if (rc == 0 && (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
			rc = kura_error_sys(&err, errno == EIO || errno == ENOSPC ? KURA_EIO : KURA_EINPUT, "cannot write %s", tmp);
	}
	if (rc == 0)
		rc = kura_store_read(st, argv[optind + 1], to_fd, &fd, &err);
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
