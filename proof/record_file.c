/* One object's evidence record written to a file (what `kura evidence` does):
 * the DER Evidence Record of chains.c, written whole or not at all (a device
 * or FIFO is written as it is, never replaced). */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "proof/chains.h"

int kura_object_evidence_save(kura_store *st, const char *id, const char *path, kura_error *err)
{
	kura_evidence_cache *cache = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = kura_evidence_cache_new(&cache, err);
	if (rc == 0)
		rc = kura_object_evidence(&der, &len, st, id, cache, err);
	int direct = rc == 0 ? kura_fs_open_stream_output(path) : -1; /* a device or FIFO */
	if (rc == 0 && direct < 0 && (errno != 0 || kura_fs_write_file_atomic(path, der, len, 0644) != 0))
		rc = kura_error_sys(err, KURA_EINPUT, "cannot write %s", path);
	if (direct >= 0) {
		int failed = kura_fs_write_all(direct, der, len) != 0;
		if (close(direct) != 0)
			failed = 1;
		if (failed)
			rc = kura_error_sys(err, KURA_EIO, "cannot write %s", path);
	}
	free(der);
	kura_evidence_cache_free(cache);
	return rc;
}
