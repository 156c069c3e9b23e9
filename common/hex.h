/* Lower-case hexadecimal text for digests. */
#ifndef KURA_HEX_H
#define KURA_HEX_H

#include <stddef.h>

/* Writes 2*n hex digits and a NUL into out (which holds 2*n+1 bytes). */
void kura_hex_encode(char *out, const unsigned char *in, size_t n);
/* Decodes exactly 2*n hex digits (either case); -1 on anything else. */
int kura_hex_decode(unsigned char *out, size_t n, const char *in);

#endif
