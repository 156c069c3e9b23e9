/* Unicode text: UTF-8 validity, normalisation and character classes, over
 * utf8proc (Debian's libutf8proc), for every module that compares or checks text
 * (metadata keys, typed search fields). */
#ifndef KURA_UNICODE_H
#define KURA_UNICODE_H

#include <stddef.h>

#include "kura/error.h"

/* 1 when s[0..n) is well-formed UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF), else 0. */
int kura_unicode_valid(const char *s, size_t n);

/* Text a person typed that goes into JSON (a reason, an actor): 0 when s is
 * NULL or valid UTF-8, else KURA_EINPUT: "<what> is not valid UTF-8: '...'". */
int kura_unicode_check(const char *what, const char *s, kura_error *err);

/* The length in bytes of the well-formed UTF-8 character at s (n bytes left),
 * with its code point in *cp; 0 when s does not start with one. */
size_t kura_unicode_next(const char *s, size_t n, int *cp);

/* *out: s[0..n) in Normalisation Form C, NUL-terminated, owned by the caller
 * (free()). KURA_EINPUT when s is not valid UTF-8. */
int kura_unicode_nfc(char **out, const char *s, size_t n, kura_error *err);

/* *out: s[0..n) in NFKC (default-ignorable characters dropped), with case
 * folded when casefold: text as search compares it (full-width and half-width
 * forms alike; upper and lower case alike). Owned by the caller (free()).
 * KURA_EINPUT when s is not valid UTF-8. */
int kura_unicode_nfkc(char **out, const char *s, size_t n, int casefold, kura_error *err);

/* Removes from s, in place, every character that shows as blank space or as
 * nothing: separators (Unicode categories Z*), controls, format characters,
 * U+2800 BRAILLE PATTERN BLANK and the Hangul fillers. */
void kura_unicode_drop_blanks(char *s);

/* 1 when cp is a letter, a combining mark or a number (Unicode categories L*,
 * M*, N*), else 0. */
int kura_unicode_is_alnum(int cp);

/* 1 when a and b (NUL-terminated) are the same text: byte for byte, or the same
 * after NFC (file names that went through a file system that stores NFD). */
int kura_unicode_same_nfc(const char *a, const char *b);

#endif
