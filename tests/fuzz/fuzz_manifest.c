/* Harness: ingest manifests (archive/manifest.c over the CSV reader common/csv.c),
 * CSV text parsed from a buffer as `kura ingest --manifest` reads a file, with one
 * key given to every file as --meta would. A manifest that parses must hold what
 * ingest relies on (checked here, abort() otherwise): at least one file, every
 * path in the manifest's folder or absolute, every key and value one that
 * kura_ingest_check_meta accepts, no value empty, no key twice in a file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/unicode.h"
#include "kura/ingest.h"
#include "tests/fuzz/fuzz_common.h"

static void check_file(const kura_manifest *m, size_t i)
{
	const char *path = kura_manifest_paths(m)[i];
	if (strncmp(path, "dir/", 4) != 0 && path[0] != '/')
		abort();
	size_t n;
	const kura_meta *meta = kura_manifest_meta(m, i, &n);
	for (size_t k = 0; k < n; k++) {
		if (!meta[k].value[0] || kura_ingest_check_meta(&meta[k], NULL) != 0)
			abort();
		for (size_t j = 0; j < k; j++)
			if (kura_unicode_same_nfc(meta[j].key, meta[k].key))
				abort();
	}
	if (getenv("KURA_FUZZ_DEBUG"))
		fprintf(stderr, "line %zu: %s, %zu keys\n", kura_manifest_line(m, i), path, n);
}

int fuzz_one(const uint8_t *data, size_t size)
{
	static const kura_meta common[] = {{"kind", "invoice"}};
	kura_manifest *m = NULL;
	kura_error err = {0};
	if (kura_manifest_parse(&m, (const char *)data, size, "fuzz.csv", "dir/", common, 1, &err) != 0) {
		if (err.code != KURA_EINPUT || !err.message[0])
			abort(); /* a bad manifest is bad input, said in words */
		if (getenv("KURA_FUZZ_DEBUG"))
			fprintf(stderr, "%s\n", err.message);
		return 0;
	}
	if (kura_manifest_count(m) == 0)
		abort();
	for (size_t i = 0; i < kura_manifest_count(m); i++)
		check_file(m, i);
	kura_manifest_free(m);
	return 0;
}
