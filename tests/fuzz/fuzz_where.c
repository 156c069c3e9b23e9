/* Harness: search conditions and typed values (search/where.c,
 * common/field_value.c), text that comes from `--where`, ingest's metadata and
 * imported packages. The input is split at its first newline: a condition to
 * parse, then a value read as every type. Checked besides "no crash": an
 * encoding fits its bound, encoding is deterministic, and a text or keyword
 * value's prefix encoding is a prefix of its full encoding (what ^= relies on). */
#include <stdlib.h>
#include <string.h>

#include "kura/search.h"
#include "tests/fuzz/fuzz_common.h"

int fuzz_one(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *nl = strchr(text, '\n'), *value = nl ? nl + 1 : text;
	if (nl)
		*nl = '\0';
	kura_where w;
	if (kura_where_parse(&w, text, NULL) == 0)
		kura_where_clear(&w);
	static unsigned char a[KURA_FIELD_VALUE_MAX], b[KURA_FIELD_VALUE_MAX];
	for (int t = KURA_FIELD_DATE; t <= KURA_FIELD_KEYWORD; t++) {
		size_t alen = 0, blen = 0;
		if (kura_field_encode(a, &alen, (kura_field_type)t, value, 0, NULL) != 0)
			continue;
		if (alen > KURA_FIELD_VALUE_MAX || kura_field_encode(b, &blen, (kura_field_type)t, value, 0, NULL) != 0 ||
		    blen != alen || memcmp(a, b, alen) != 0)
			abort();
		if ((t == KURA_FIELD_TEXT || t == KURA_FIELD_KEYWORD) &&
		    (kura_field_encode(b, &blen, (kura_field_type)t, value, 1, NULL) != 0 || blen + 1 != alen ||
		     memcmp(a, b, blen) != 0))
			abort();
	}
	free(text);
	return 0;
}
