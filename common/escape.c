/* The one escaping of names and values for output (see escape.h for the rules). */
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/hex.h"
#include "common/unicode.h"

/* Does the character cp (k bytes of UTF-8) have to be escaped? */
static int must_escape(int cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069); /* bidi overrides and isolates */
}

int kura_escape_needs_control(const char *s, size_t n)
{
	int cp = 0;
	for (size_t i = 0, k; i < n; i += k)
		if ((k = kura_unicode_next(s + i, n - i, &cp)) == 0 || must_escape(cp))
			return 1;
	return 0;
}

char *kura_escape(const char *s, size_t n)
{
	char *out = malloc(4 * n + 1), *o = out; /* "\xNN" is the longest form of one byte */
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		int cp = 0;
		size_t k = kura_unicode_next(s + i, n - i, &cp);
		if (k > 0 && !must_escape(cp)) {
			if (cp == '\\')
				*o++ = '\\';
			memcpy(o, s + i, k);
			o += k;
			i += k;
			continue;
		}
		if (k == 0)
			k = 1; /* a byte that starts no well-formed character: that byte alone */
		for (size_t j = 0; j < k; j++, i++) {
			unsigned char c = (unsigned char)s[i];
			const char *named = c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : NULL;
			if (named) {
				memcpy(o, named, 2);
				o += 2;
			} else {
				o += sprintf(o, "\\x%02X", c);
			}
		}
	}
	*o = '\0';
	return out;
}

int kura_escape_print(FILE *f, const char *s)
{
	char *e = kura_escape(s, strlen(s));
	int rc = e && fputs(e, f) >= 0 ? 0 : -1;
	free(e);
	return rc;
}

json_t *kura_json_text(const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (kura_unicode_valid(s, n))
		return json_stringn(s, n);
	char *e = kura_escape(s, n);
	json_t *j = e ? json_string(e) : NULL;
	free(e);
	return j;
}

int kura_json_set_name(json_t *o, const char *key, const char *s)
{
	size_t n = strlen(s);
	char hkey[256];
	snprintf(hkey, sizeof hkey, "%s_hex", key);
	if (json_object_set_new(o, key, kura_json_text(s)) != 0)
		return -1;
	if (kura_unicode_valid(s, n)) {
		json_object_del(o, hkey);
		return 0;
	}
	char *hex = malloc(2 * n + 1);
	if (!hex)
		return -1;
	kura_hex_encode(hex, (const unsigned char *)s, n);
	int rc = json_object_set_new(o, hkey, json_string(hex));
	free(hex);
	return rc;
}

char *kura_json_get_name(const json_t *o, const char *key)
{
	char hkey[256];
	snprintf(hkey, sizeof hkey, "%s_hex", key);
	const char *hex = json_string_value(json_object_get(o, hkey));
	if (!hex) {
		const char *s = json_string_value(json_object_get(o, key));
		return s ? strdup(s) : NULL;
	}
	size_t n = strlen(hex) / 2;
	char *out = strlen(hex) % 2 == 0 ? malloc(n + 1) : NULL;
	if (out && (kura_hex_decode((unsigned char *)out, n, hex) != 0 || memchr(out, '\0', n))) {
		free(out);
		return NULL;
	}
	if (out)
		out[n] = '\0';
	return out;
}
