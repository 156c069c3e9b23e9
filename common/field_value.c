/* Typed values of search fields (kura/search.h): what each type accepts, and
 * its ORDER-PRESERVING ENCODING, the bytes the field's secondary index keeps.
 *
 * INVARIANT: for two values a, b of one type (and one currency), a < b exactly
 * when encode(a) sorts before encode(b) (memcmp, a proper prefix first), and
 * a = b exactly when the encodings are equal. The query code (search/query.c)
 * relies on nothing else: it turns every condition into a range of encodings.
 *
 *   date      "YYYY-MM-DD" (a real day, years 0000-9999) -> the 10 characters
 *   datetime  "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" then "Z" or "+HH:MM"/"-HH:MM"
 *             -> microseconds since 1970 UTC, 8 bytes big-endian, sign bit flipped
 *   integer   [+-]digits, 64-bit -> 8 bytes big-endian, sign bit flipped
 *   amount    [currency][-]digits[,ddd...][.up to 6 digits][currency] where a
 *             currency is an ISO 4217 code (3 capital letters), "¥" or "円"
 *             (JPY; the default) -> the code's 3 letters, then the amount in
 *             millionths as 16 bytes big-endian, sign bit flipped: exact, never
 *             floating point; |amount| < 10^30
 *   text      NFKC, case folded, spaces at both ends dropped, then a 0 byte
 *   keyword   the bytes as given, then a 0 byte
 * Text values, amounts and integers are read after NFKC, so full-width digits
 * and signs (１２０，０００円) are what their half-width forms are. */
#include <stdlib.h>
#include <string.h>

#include "common/civil.h"
#include "common/unicode.h"
#include "kura/search.h"

#define MAX_TEXT 4096 /* bytes of a text or keyword value, as folded */

static const char *const names[] = {"date", "datetime", "amount", "integer", "text", "keyword"};

int kura_field_type_parse(kura_field_type *t, const char *name, kura_error *err)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(name, names[i]) == 0) {
			*t = (kura_field_type)i;
			return 0;
		}
	return kura_error_set(err, KURA_EINPUT, "unknown field type '%s': date, datetime, amount, integer, text or keyword",
			      name);
}

const char *kura_field_type_name(kura_field_type t)
{
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static void put_be(unsigned char *out, unsigned __int128 v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		out[i] = (unsigned char)v;
}

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* 0 when s starts with a real day YYYY-MM-DD; *days: since 1970-01-01. */
static int parse_day(const char *s, int64_t *days)
{
	if (strnlen(s, 10) < 10 || s[4] != '-' || s[7] != '-')
		return -1;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > kura_civil_days_in_month(y, m))
		return -1;
	*days = kura_civil_days(y, m, d);
	return 0;
}

static int encode_datetime(unsigned char *out, const char *s)
{
	int64_t days;
	if (parse_day(s, &days) != 0 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	const char *p = s + 11; /* HH:MM, then what follows: each read only past characters seen */
	if (strnlen(p, 5) < 5 || p[2] != ':')
		return -1;
	int h = digits(p, 2), mi = digits(p + 3, 2), sec = 0;
	p += 5;
	int64_t micro = 0;
	if (*p == ':') {
		if (strnlen(p, 3) < 3 || (sec = digits(p + 1, 2)) < 0 || sec > 60)
			return -1;
		p += 3;
		if (*p == '.' || *p == ',') {
			int n = 0;
			for (p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 6)
					micro = micro * 10 + (*p - '0');
				else
					return -1; /* finer than a microsecond would not be kept exactly */
			if (n == 0)
				return -1;
			for (; n < 6; n++)
				micro *= 10;
		}
	}
	if (h < 0 || h > 23 || mi < 0 || mi > 59)
		return -1;
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z')
		p++;
	else if ((*p == '+' || *p == '-') && strnlen(p, 6) == 6 && p[3] == ':') {
		int oh = digits(p + 1, 2), om = digits(p + 4, 2);
		if (oh < 0 || oh > 23 || om < 0 || om > 59)
			return -1;
		off = (*p == '-' ? -1 : 1) * (oh * 3600 + om * 60);
		p += 6;
	} else
		return -1;
	if (*p)
		return -1;
	int64_t t = ((days * 86400 + h * 3600 + mi * 60 + sec - off) * 1000000) + micro;
	put_be(out, (uint64_t)t ^ (1ull << 63), 8);
	return 8;
}

static int encode_integer(unsigned char *out, const char *s)
{
	int neg = *s == '-';
	s += *s == '-' || *s == '+';
	if (!*s)
		return -1;
	uint64_t v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > (uint64_t)INT64_MAX + neg)
		return -1;
	put_be(out, (neg ? 0 - v : v) ^ (1ull << 63), 8);
	return 8;
}

/* A currency at s: 3 capital letters, "¥" or "円" (JPY); its length, 0 if none. */
static size_t currency(const char *s, char code[3])
{
	if (strncmp(s, "\xc2\xa5", 2) == 0 || strncmp(s, "\xe5\x86\x86", 3) == 0) {
		memcpy(code, "JPY", 3);
		return (unsigned char)*s == 0xc2 ? 2 : 3;
	}
	if (s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] >= 'A' && s[2] <= 'Z' &&
	    !(s[3] >= 'A' && s[3] <= 'Z')) {
		memcpy(code, s, 3);
		return 3;
	}
	return 0;
}

static int encode_amount(unsigned char *out, const char *s)
{
	char code[3] = {'J', 'P', 'Y'}, c2[3];
	size_t k = currency(s, code);
	s += k;
	while (*s == ' ')
		s++;
	int neg = *s == '-';
	s += neg;
	unsigned __int128 v = 0, limit = 1;
	for (int i = 0; i < 36; i++)
		limit *= 10;
	int n = 0, frac = -1, group = -1;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if ((v = v * 10 + (unsigned)(*s - '0')) >= limit || frac >= 6)
				return -1;
			n++;
			frac += frac >= 0;
			group += group >= 0;
		} else if (*s == ',' && n > 0 && frac < 0 && (group < 0 || group == 3))
			group = 0; /* a thousands separator: three digits follow each */
		else if (*s == '.' && n > 0 && frac < 0 && (group < 0 || group == 3))
			frac = group = 0;
		else
			break;
	}
	if (n == 0 || frac == 0 || (group >= 0 && frac < 0 && group != 3))
		return -1;
	for (frac = frac < 0 ? 0 : frac; frac < 6; frac++)
		v *= 10;
	if (v >= limit)
		return -1;
	while (*s == ' ')
		s++;
	if (*s) {
		if (k || (k = currency(s, c2)) == 0 || s[k])
			return -1;
		memcpy(code, c2, 3);
	}
	memcpy(out, code, 3);
	put_be(out + 3, (neg ? 0 - v : v) ^ ((unsigned __int128)1 << 127), 16);
	return 19;
}

/* s without the white space at both ends (a copy, the caller's). */
static char *trimmed(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	char *t = malloc(n + 1);
	if (t) {
		memcpy(t, s, n);
		t[n] = 0;
	}
	return t;
}

static int encode_bytes(unsigned char *out, size_t *len, const char *s, size_t n, int prefix)
{
	if (n > MAX_TEXT)
		return -1;
	memcpy(out, s, n);
	if (!prefix)
		out[n++] = 0;
	*len = n;
	return 0;
}

static const char *const looks[] = {
	"a day, YYYY-MM-DD (2026-04-01)",
	"a date and time with its offset, YYYY-MM-DDTHH:MM:SS+09:00 or ...Z",
	"an amount: digits, optional thousands commas, at most 6 decimals, a currency (JPY if none): 120000, ¥120,000, 1234.50 USD",
	"a whole number (-12, 345)",
	"text of at most 4096 bytes",
	"a keyword of at most 4096 bytes",
};

int kura_field_encode(unsigned char *out, size_t *len, kura_field_type t, const char *value, int prefix,
		      kura_error *err)
{
	size_t n = strlen(value);
	char *norm = NULL, *s = NULL;
	int k = -1;
	if ((unsigned)t >= sizeof names / sizeof names[0])
		return kura_error_set(err, KURA_EINTERNAL, "unknown field type %d", (int)t);
	if (t == KURA_FIELD_KEYWORD)
		k = kura_unicode_valid(value, n) ? encode_bytes(out, len, value, n, prefix) : -1;
	else if (kura_unicode_nfkc(&norm, value, n, t == KURA_FIELD_TEXT, NULL) == 0 && (s = trimmed(norm, strlen(norm)))) {
		if (t == KURA_FIELD_TEXT)
			k = encode_bytes(out, len, s, strlen(s), prefix);
		else if (!prefix) {
			k = t == KURA_FIELD_DATE ? (parse_day(s, &(int64_t){0}) == 0 && !s[10] ? 10 : -1)
			    : t == KURA_FIELD_DATETIME ? encode_datetime(out, s)
			    : t == KURA_FIELD_INTEGER  ? encode_integer(out, s)
						       : encode_amount(out, s);
			if (t == KURA_FIELD_DATE && k > 0)
				memcpy(out, s, 10);
			if (k > 0)
				*len = (size_t)k;
		}
	}
	free(norm);
	free(s);
	if (k < 0)
		return kura_error_set(err, KURA_EINPUT, "'%s' is not %s", value, looks[t]);
	return 0;
}
