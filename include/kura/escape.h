/* Names and other outside text made safe to print and to keep as JSON.
 *
 * THE ESCAPING (the only one kura uses: every line-oriented output escapes each
 * name, value and reason it prints with it, and a name that is not valid UTF-8
 * becomes JSON text through it):
 *   \\          a backslash
 *   \t \n \r    a tab, line feed, carriage return
 *   \xNN        every other control character (U+0000-U+001F, U+007F and
 *               U+0080-U+009F: each byte of its UTF-8), the line and paragraph
 *               separators U+2028 and U+2029, the bidirectional embeddings,
 *               overrides and isolates U+202A-U+202E and U+2066-U+2069 (which
 *               would make a line read other than it is stored), and every byte
 *               that is not part of well-formed UTF-8 (NN: two upper-case hex digits)
 * Everything else (letters of any script, in NFC or NFD, emoji, spaces) is kept as
 * it is. The result is well-formed UTF-8 with no control character in it, so one
 * printed line is always one line; the original bytes can be read back from it.
 *
 * In JSON (object records, object.json, reports) a text that is valid UTF-8 is
 * kept as it is (JSON escapes control characters itself); a name that is not
 * gets its escaped form as the string and its exact bytes in hex under
 * "<key>_hex" (kura_json_set_name), so nothing of it is lost. */
#ifndef KURA_ESCAPE_H
#define KURA_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* s[0..n) escaped, NUL-terminated, owned by the caller (free()); NULL when out of memory. */
char *kura_escape(const char *s, size_t n);

/* 1 when s[0..n) holds a character printed as \xNN, \t, \n or \r (a control
 * character, U+2028, U+2029 or a byte that is not UTF-8), else 0: for text kura
 * refuses outright rather than keeps (a policy's name, title and sources). */
int kura_escape_needs_control(const char *s, size_t n);

/* Writes the NUL-terminated s escaped to f; -1 when out of memory or on a write error. */
int kura_escape_print(FILE *f, const char *s);

/* A new JSON string holding s: as it is when it is valid UTF-8, else escaped.
 * NULL only when out of memory or s is NULL. */
json_t *kura_json_text(const char *s);

/* Sets o[key] to kura_json_text(s) and, when s is not valid UTF-8,
 * o[key "_hex"] to its bytes in hex. 0, or -1 when out of memory. */
int kura_json_set_name(json_t *o, const char *key, const char *s);

/* The exact bytes of the name o[key] (from "<key>_hex" when there is one), NUL
 * terminated, owned by the caller (free()); NULL when there is none, or it holds
 * a NUL byte or bad hex. */
char *kura_json_get_name(const json_t *o, const char *key);

/* Writes s to f as one CSV cell (RFC 4180: quoted when it holds a comma, a quote
 * or a line end; quotes doubled), safe to open in a spreadsheet: a cell that
 * starts with = + - @ a tab or a CR and is not a number gets a leading ' so that
 * it is shown as text, never run as a formula. Then "," or, for the last cell
 * of a row, "\r\n" (common/csv.c). */
void kura_csv_cell(FILE *f, const char *s, int last);

#endif
