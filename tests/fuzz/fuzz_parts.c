/* Harness: an evidence record in parts (NAME.erp, package/record_parts.c), as
 * `kura verify-export` and `kura import` rebuild it from a package: its first
 * line (size, SHA-256, token references), the cut bytes, and the tokens of
 * data/tokens/.
 *
 * Input (fuzz_split): the .erp, then a token file, written to data/tokens/
 * under the SHA-256 of its bytes (so a reference can name it) and removed
 * after the input. A record rebuilt must be exactly the size and SHA-256 its
 * first line gives: anything else is a bug (abort). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/hex.h"
#include "package/package.h"
#include "tests/fuzz/fuzz_common.h"

static void sha256_hex(char out[65], const void *p, size_t n)
{
	unsigned char md[32];
	if (!EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL))
		abort();
	kura_hex_encode(out, md, 32);
}

int fuzz_one(const uint8_t *data, size_t size)
{
	const uint8_t *part[2];
	size_t len[2];
	fuzz_split(data, size, 2, part, len);
	char root[4096], dir[4200], tok[4400], hex[65];
	snprintf(root, sizeof root, "%s/parts", fuzz_dir());
	snprintf(dir, sizeof dir, "%s/data", root);
	if ((mkdir(root, 0700) != 0 && errno != EEXIST) || (mkdir(dir, 0700) != 0 && errno != EEXIST))
		abort();
	snprintf(dir, sizeof dir, "%s/data/tokens", root);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		abort();
	sha256_hex(hex, part[1], len[1]);
	snprintf(tok, sizeof tok, "%s/%s.tsr", dir, hex);
	FILE *f = fopen(tok, "wb");
	if (!f || (len[1] && fwrite(part[1], 1, len[1], f) != len[1]) || fclose(f) != 0)
		abort();
	unsigned char *out = NULL;
	size_t olen = 0;
	kura_error err = {0};
	if (kura_parts_rebuild(&out, &olen, root, "data/x/doc.erp", (const char *)part[0], len[0], &err) == 0) {
		/* the first line: "kura-ers-parts 1 SIZE SHA256 ..." */
		char got[65], want[65] = "", line[200];
		const uint8_t *nl = memchr(part[0], '\n', len[0]);
		size_t n = 0, hl = nl ? (size_t)(nl - part[0]) : 0;
		snprintf(line, sizeof line, "%.*s", (int)(hl < sizeof line ? hl : sizeof line - 1), (const char *)part[0]);
		sha256_hex(got, out, olen);
		if (!nl || sscanf(line, "kura-ers-parts 1 %zu %64s", &n, want) != 2 || n != olen ||
		    strcmp(got, want) != 0)
			abort();
	} else if (err.code != KURA_EINPUT) {
		abort(); /* outside bytes are bad input, never an internal error */
	}
	free(out);
	unlink(tok);
	return 0;
}
