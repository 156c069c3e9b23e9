/* Harness: packages from outside — tar entries and BagIt manifests
 * (package/bag_read.c), then every (FILE, FILE.ers) pair in them with
 * its object.json as `kura verify-export` and `kura import` check them
 * (package/verify_export.c, import.c).
 *
 * Input: a mode byte, then a tar (plain or compressed: libarchive decides).
 * Even: verify-export against the package's own anchors. Odd: import into a
 * store made in the harness's folder at the first input; the store trusts no
 * TSA, so every record is indeterminate and refused: the store never changes. */
#include <stdio.h>
#include <stdlib.h>

#include "package/package.h"
#include "tests/fuzz/fuzz_common.h"

static void verify_export(const char *path)
{
	json_t *report = NULL;
	kura_error err = {0}; /* the library writes what went wrong here, as for the CLI */
	if (kura_export_verify(&report, path, NULL, FUZZ_NOW_MS, &err) == 0 && getenv("KURA_FUZZ_DEBUG")) {
		char *text = json_dumps(report, 0); /* to see what a seed reaches */
		fprintf(stderr, "%s\n", text);
		free(text);
	}
	json_decref(report);
}

static void import(const char *path)
{
	kura_import_options o = {.max_entry = 1u << 20};
	kura_import_result res;
	kura_error err = {0};
	int rc = kura_import(&res, fuzz_store(), path, &o, &err);
	if (res.imported)
		abort(); /* nothing verifies against a store that trusts no TSA */
	if (getenv("KURA_FUZZ_DEBUG"))
		fprintf(stderr, "import: %d refused %zu: %s\n", rc, res.refused, err.message);
}

int fuzz_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char path[4096];
	fuzz_write(path, sizeof path, "package.tar", data + 1, size - 1);
	if (data[0] & 1)
		import(path);
	else
		verify_export(path);
	return 0;
}
