/* Strict base64 (RFC 4648, section 4): the one decoder of the base64 a client sends. */
#ifndef KURA_BASE64_H
#define KURA_BASE64_H

#include <stddef.h>

/* Decodes the n characters of text into *out (malloc'd, the caller's; NULL on
 * failure) and *len. Only canonical base64 is taken: the standard alphabet
 * (A-Z a-z 0-9 + /), n a multiple of 4, '=' only as the last one or two
 * characters, no whitespace or line breaks, the unused bits of the last
 * character zero. 0; -1 when text is not that; -2 when out of memory. */
int kura_base64_decode(unsigned char **out, size_t *len, const char *text, size_t n);

#endif
