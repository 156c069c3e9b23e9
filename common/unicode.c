/* Unicode text over utf8proc (see unicode.h). utf8proc's idea of well-formed
 * UTF-8 is the same as jansson's, so text this module accepts is text JSON
 * output can carry. */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "common/unicode.h"

size_t kura_unicode_next(const char *s, size_t n, int *cp)
{
	utf8proc_int32_t c;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &c);
	if (k <= 0 || c < 0)
		return 0;
	*cp = (int)c;
	return (size_t)k;
}

int kura_unicode_valid(const char *s, size_t n)
{
	int cp;
	for (size_t i = 0; i < n;) {
		size_t k = kura_unicode_next(s + i, n - i, &cp);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

int kura_unicode_check(const char *what, const char *s, kura_error *err)
{
	if (!s || kura_unicode_valid(s, strlen(s)))
		return 0;
	/* the text as given: every message is escaped where it is printed */
	return kura_error_set(err, KURA_EINPUT, "%s is not valid UTF-8: '%.100s%s'; give it in UTF-8 (nothing was changed)",
			      what, s, strlen(s) > 100 ? "..." : "");
}

int kura_unicode_nfc(char **out, const char *s, size_t n, kura_error *err)
{
	utf8proc_uint8_t *r = NULL;
	*out = NULL;
	if (!kura_unicode_valid(s, n))
		return kura_error_set(err, KURA_EINPUT, "text is not valid UTF-8");
	utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &r,
					  UTF8PROC_STABLE | UTF8PROC_COMPOSE);
	if (k < 0)
		return kura_error_set(err, k == UTF8PROC_ERROR_NOMEM ? KURA_EINTERNAL : KURA_EINPUT, "normalising text: %s",
				      utf8proc_errmsg(k));
	*out = (char *)r;
	return 0;
}

/* Whether cp shows as nothing or as blank space. */
static int blank(int cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
	case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
		return 1;
	default: /* the Braille blank and the Hangul fillers are letters or symbols drawn empty */
		return cp == 0x2800 || cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0;
	}
}

void kura_unicode_drop_blanks(char *s)
{
	size_t n = strlen(s), in = 0, out = 0, k;
	int cp;
	while (in < n) {
		k = kura_unicode_next(s + in, n - in, &cp);
		if (k == 0) { /* not UTF-8: kept byte for byte */
			s[out++] = s[in++];
			continue;
		}
		if (!blank(cp)) {
			memmove(s + out, s + in, k);
			out += k;
		}
		in += k;
	}
	s[out] = '\0';
}

int kura_unicode_is_alnum(int cp)
{
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
	case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
	case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return 1;
	default:
		return 0;
	}
}

int kura_unicode_same_nfc(const char *a, const char *b)
{
	if (strcmp(a, b) == 0)
		return 1;
	char *na = NULL, *nb = NULL;
	kura_error ignored = {0};
	int same = kura_unicode_nfc(&na, a, strlen(a), &ignored) == 0 &&
		   kura_unicode_nfc(&nb, b, strlen(b), &ignored) == 0 && strcmp(na, nb) == 0;
	free(na);
	free(nb);
	return same;
}

/* ASCII without control characters is its own NFKC; folded, its own lower case. */
static char *ascii_nfkc(const char *s, size_t n, int casefold)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return NULL;
	char *r = malloc(n + 1);
	for (size_t i = 0; r && i < n; i++)
		r[i] = (char)(casefold && s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	if (r)
		r[n] = '\0';
	return r;
}

int kura_unicode_nfkc(char **out, const char *s, size_t n, int casefold, kura_error *err)
{
	utf8proc_uint8_t *r = NULL;
	if ((*out = ascii_nfkc(s, n, casefold)))
		return 0;
	if (!kura_unicode_valid(s, n))
		return kura_error_set(err, KURA_EINPUT, "text is not valid UTF-8");
	utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &r,
					  UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_IGNORE |
						  (casefold ? UTF8PROC_CASEFOLD : 0));
	if (k < 0)
		return kura_error_set(err, k == UTF8PROC_ERROR_NOMEM ? KURA_EINTERNAL : KURA_EINPUT, "normalising text: %s",
				      utf8proc_errmsg(k));
	*out = (char *)r;
	return 0;
}
