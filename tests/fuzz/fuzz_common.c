/* Helpers shared by the harnesses (see fuzz_common.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <openssl/err.h>

#include "common/endian.h"
#include "common/fsutil.h"
#include "evidence/tsa.h"
#include "kura/store.h"
#include "tests/fuzz/fuzz_common.h"

static char dir[4096];
static STACK_OF(X509) *anchors;

static void remove_dir(void)
{
	if (dir[0])
		kura_fs_remove_tree(dir);
}

const char *fuzz_dir(void)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/kura-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("kura fuzz: mkdtemp");
			abort();
		}
		atexit(remove_dir);
	}
	return dir;
}

void fuzz_write(char *path, size_t cap, const char *name, const uint8_t *data, size_t size)
{
	snprintf(path, cap, "%s/%s", fuzz_dir(), name);
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		perror(path);
		abort();
	}
}

static void load_folder(const char *folder)
{
	DIR *d = opendir(folder);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || (strcmp(e->d_name + n - 4, ".der") != 0 && strcmp(e->d_name + n - 4, ".pem") != 0))
			continue;
		char path[8192];
		snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
		kura_load_certs(anchors, path, NULL);
	}
	if (d)
		closedir(d);
}

/* Before the first input: kura's temporary folders (unpacked packages) go into
 * the harness's own, and kura's clock is fixed. No input may make kura write a
 * file over 256 MiB (libFuzzer reports SIGXFSZ as a crash): the inputs are at
 * most a few hundred KiB, so that would be a bomb (as sparse tar entries were). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	struct rlimit fsize = {256u << 20, 256u << 20};
	setrlimit(RLIMIT_FSIZE, &fsize);
	setenv("TMPDIR", fuzz_dir(), 1);
	setenv("KURA_NOW", FUZZ_NOW_TEXT, 1);
	return 0;
}

/* One input through the harness's fuzz_one. OpenSSL's error queue is emptied
 * after it: what a failed parse left there is not state the next input sees, and
 * it would make libFuzzer take every such input for a possible leak. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int rc = fuzz_one(data, size);
	ERR_clear_error();
	return rc;
}

STACK_OF(X509) *fuzz_anchors(void)
{
	if (!anchors) {
		anchors = sk_X509_new_null();
		load_folder(FUZZ_SOURCE "/tests/fuzz/anchors");
		load_folder(FUZZ_SOURCE "/../shared/vectors/bc-java/certs");
		load_folder(FUZZ_SOURCE "/../shared/vectors/bsi-erverifytool/certs");
	}
	return anchors;
}

void fuzz_split(const uint8_t *data, size_t size, size_t n, const uint8_t **part, size_t *len)
{
	for (size_t i = 0; i < n; i++) {
		size_t want = size;
		if (i + 1 < n) {
			want = size >= 2 ? kura_le16_get(data) : 0;
			size_t skip = size >= 2 ? 2 : size;
			data += skip, size -= skip;
			if (want > size)
				want = size;
		}
		part[i] = data;
		len[i] = want;
		data += want, size -= want;
	}
}

kura_store *fuzz_store(void)
{
	static kura_store *st;
	if (!st) {
		char path[4096];
		snprintf(path, sizeof path, "%s/store", fuzz_dir());
		kura_error err = {0};
		if (kura_store_init(path, NULL, &err) != 0 || kura_store_open(&st, path, KURA_STORE_WRITE, &err) != 0) {
			fprintf(stderr, "kura fuzz: %s\n", err.message);
			abort();
		}
	}
	return st;
}
