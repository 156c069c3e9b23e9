/* Strict base64 decoding (RFC 4648, section 4): one byte string has one text,
 * so what is stored is exactly what the client encoded (common/base64.h). */
#include <stdint.h>
#include <stdlib.h>

#include "common/base64.h"

static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* The last quantum's bytes (2 or 3 characters before its padding) into p; -1
 * if its unused bits are not zero (non-canonical). */
static int tail(unsigned char *p, uint32_t acc, size_t pad)
{
	if (pad == 1 && (acc & 3) == 0) { /* 18 bits: 2 bytes and 2 zero bits */
		p[0] = (unsigned char)(acc >> 10);
		p[1] = (unsigned char)(acc >> 2);
		return 0;
	}
	if (pad == 2 && (acc & 15) == 0) { /* 12 bits: 1 byte and 4 zero bits */
		p[0] = (unsigned char)(acc >> 4);
		return 0;
	}
	return pad == 0 ? 0 : -1;
}

int kura_base64_decode(unsigned char **out, size_t *len, const char *text, size_t n)
{
	const unsigned char *t = (const unsigned char *)text;
	size_t pad = n && t[n - 1] == '=' ? 1 + (n > 1 && t[n - 2] == '=') : 0, k = 0;
	uint32_t acc = 0;
	*out = NULL;
	*len = 0;
	if (n % 4 != 0)
		return -1;
	unsigned char *p = malloc(n / 4 * 3 + 1);
	if (!p)
		return -2;
	for (size_t i = 0; i < n - pad; i++) {
		int v = sextet(t[i]);
		if (v < 0) {
			free(p);
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		if (i % 4 == 3) {
			p[k++] = (unsigned char)(acc >> 16);
			p[k++] = (unsigned char)(acc >> 8);
			p[k++] = (unsigned char)acc;
			acc = 0;
		}
	}
	if (tail(p + k, acc, pad) != 0) {
		free(p);
		return -1;
	}
	*out = p;
	*len = k + (pad ? 3 - pad : 0);
	return 0;
}
