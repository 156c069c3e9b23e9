/* Harness: object.json, what a kura package says of each object (its name,
 * metadata and the members of a signed document's data object group), as
 * `kura verify-export` (package/verify_export.c) and `kura import`
 * (package/import.c) read it.
 *
 * Input (fuzz_split): object.json, the document, its record, and two further
 * files "sig" and "vd" (a detached signature and validation data, for members
 * to name). They are laid out as a BagIt bag folder with a correct manifest, so
 * that both commands reach object.json, then verified and imported (into a
 * store that trusts no TSA: nothing is ever imported). When object.json holds
 * "file" (the layout since documents keep their original paths), the document
 * goes to data/files/a/doc, else beside its record as in earlier packages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "package/package.h"
#include "tests/fuzz/fuzz_common.h"

#define OBJECT "data/01JBZQ3V7M4K8T2N6P9R5W1X0Y"
#define MOVED "data/files/a/doc" /* the document when object.json has a "file" */

static const char *const names[] = {"object.json", "doc", "doc.ers", "sig", "vd"};

/* Lays out the bag: the same folders for every input (made at the first; removing
 * and making them again cost more than most inputs), every file written again,
 * sig and vd removed when the input has none. Neither command writes in a bag. */
static void bag(const char *root, const uint8_t **part, const size_t *len)
{
	char path[4096], folder[4096], files[4096], a[4096];
	snprintf(folder, sizeof folder, "%s/%s", root, OBJECT);
	snprintf(path, sizeof path, "%s/data", root);
	snprintf(files, sizeof files, "%s/data/files", root);
	snprintf(a, sizeof a, "%s/data/files/a", root);
	if ((mkdir(root, 0700) != 0 && errno != EEXIST) || (mkdir(path, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(folder, 0700) != 0 && errno != EEXIST) || (mkdir(files, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(a, 0700) != 0 && errno != EEXIST))
		abort();
	int moved = len[0] >= 6 && memmem(part[0], len[0], "\"file\"", 6) != NULL;
	snprintf(path, sizeof path, "%s/%s", moved ? folder : root, moved ? "doc" : MOVED); /* the other place */
	if (unlink(path) != 0 && errno != ENOENT)
		abort();
	snprintf(path, sizeof path, "%s/manifest-sha256.txt", root);
	FILE *manifest = fopen(path, "w");
	for (size_t i = 0; manifest && i < 5; i++) {
		unsigned char md[32];
		if (i == 1 && moved)
			snprintf(path, sizeof path, "%s/%s", root, MOVED);
		else
			snprintf(path, sizeof path, "%s/%s", folder, names[i]);
		if (i > 2 && !len[i]) {
			if (unlink(path) != 0 && errno != ENOENT)
				abort();
			continue;
		}
		FILE *f = fopen(path, "wb");
		if (!f || (len[i] && fwrite(part[i], 1, len[i], f) != len[i]) || fclose(f) != 0 ||
		    !EVP_Digest(part[i], len[i], md, NULL, EVP_sha256(), NULL))
			abort();
		for (int k = 0; k < 32; k++)
			fprintf(manifest, "%02x", md[k]);
		if (i == 1 && moved)
			fprintf(manifest, "  %s\n", MOVED);
		else
			fprintf(manifest, "  %s/%s\n", OBJECT, names[i]);
	}
	snprintf(path, sizeof path, "%s/bagit.txt", root);
	FILE *b = fopen(path, "w");
	if (!manifest || fclose(manifest) != 0 || !b || fputs("BagIt-Version: 1.0\n", b) < 0 || fclose(b) != 0)
		abort();
}

int fuzz_one(const uint8_t *data, size_t size)
{
	const uint8_t *part[5];
	size_t len[5];
	fuzz_split(data, size, 5, part, len);
	char root[4096];
	snprintf(root, sizeof root, "%s/bag", fuzz_dir());
	bag(root, part, len);

	json_t *report = NULL;
	kura_error err = {0};
	if (kura_export_verify(&report, root, NULL, FUZZ_NOW_MS, &err) == 0 && getenv("KURA_FUZZ_DEBUG")) {
		char *text = json_dumps(report, 0); /* to see what a seed reaches */
		fprintf(stderr, "%s\n", text);
		free(text);
	}
	json_decref(report);
	kura_import_options o = {0};
	kura_import_result res;
	int rc = kura_import(&res, fuzz_store(), root, &o, &err);
	if (res.imported)
		abort(); /* nothing verifies against a store that trusts no TSA */
	if (getenv("KURA_FUZZ_DEBUG"))
		fprintf(stderr, "import: %d refused %zu: %s\n", rc, res.refused, err.message);
	return 0;
}
