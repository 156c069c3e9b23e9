/* The metadata of ingest (kura/ingest.h): which keys and values are allowed, and
 * a key's one spelling (NFC). Checked before anything is written. */
#include <stdlib.h>
#include <string.h>

#include "archive/store_impl.h"
#include "common/unicode.h"
#include "kura/ingest.h"

#define MAX_META_KEY 128
#define MAX_META_VALUE 65536

static int key_char(int cp)
{
	return kura_unicode_is_alnum(cp) || cp == '_' || cp == '-' || cp == '.' || cp == ':';
}

/* The metadata key in NFC (*nfc, the caller frees it), or why it is not allowed:
 * 1 to MAX_META_KEY letters, combining marks, digits (of any script) or "_-.:". */
int kura_ingest_meta_key_nfc(char **nfc, const char *key, kura_error *err)
{
	size_t chars = 0, i = 0, k = 0, n = 0;
	int cp = 0;
	kura_error ignored = {0};
	if (kura_unicode_nfc(nfc, key, strlen(key), &ignored) == 0) {
		n = strlen(*nfc);
		for (; i < n && (k = kura_unicode_next(*nfc + i, n - i, &cp)) > 0 && key_char(cp); i += k)
			chars++;
		if (n > 0 && i == n && chars <= MAX_META_KEY)
			return 0;
	}
	free(*nfc);
	*nfc = NULL;
	/* the key as it is: whoever prints the message escapes it (common/escape.h), once */
	kura_error_set(err, KURA_EINPUT,
		       "metadata key '%s' is not allowed: use 1 to %d letters or digits (of any script), '_', '-', '.' or "
		       "':' (no spaces, control characters or '=')", key, MAX_META_KEY);
	return KURA_EINPUT;
}

int kura_ingest_check_meta(const kura_meta *m, kura_error *err)
{
	char *nfc = NULL;
	int rc = kura_ingest_meta_key_nfc(&nfc, m->key, err);
	if (rc != 0)
		return rc;
	if (strlen(m->value) > MAX_META_VALUE)
		rc = kura_error_set(err, KURA_EINPUT, "metadata value of '%s' is longer than %d bytes", nfc, MAX_META_VALUE);
	else if (!kura_unicode_valid(m->value, strlen(m->value)))
		rc = kura_error_set(err, KURA_EINPUT, "metadata value of '%s' is not valid UTF-8; give it as UTF-8 text", nfc);
	free(nfc);
	return rc;
}
