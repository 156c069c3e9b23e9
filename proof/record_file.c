/* One object's evidence record written to a file (what `kura evidence` does):
 * the DER Evidence Record of chains.c, written whole or not at all. */
#include <stdlib.h>

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
	if (rc == 0 && kura_fs_write_file_atomic(path, der, len, 0644) != 0)
		rc = kura_error_sys(err, KURA_EINPUT, "cannot write %s", path);
	free(der);
	kura_evidence_cache_free(cache);
	return rc;
}
