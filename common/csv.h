/* CSV text (RFC 4180) as spreadsheets write it, read row by row: what
 * `kura ingest --manifest` reads (archive/manifest.c). */
#ifndef KURA_CSV_H
#define KURA_CSV_H

#include <stddef.h>

#include "kura/error.h"

/* Most cells a row may have. */
#define KURA_CSV_MAX_CELLS 4096

/* Called with each row: its cells[0..n) (NUL-terminated UTF-8, borrowed for
 * the call) and the line it starts on (1-based). A non-zero return stops the
 * reading and is returned. */
typedef int (*kura_csv_row_fn)(void *ud, char *const *cells, size_t n, size_t line, kura_error *err);

/* Reads text[0..len), named name in messages: comma-separated cells, a cell in
 * double quotes may hold commas, line breaks and quotes written twice ("");
 * lines end in CRLF, LF or CR, the last one may end without; a UTF-8 byte order
 * mark at the start (Excel's "CSV UTF-8") is skipped. An empty line is a row of
 * one empty cell. Text that is not UTF-8 (Shift_JIS from an older Excel), a NUL
 * byte, a quote out of place or an unclosed one is KURA_EINPUT naming the line
 * and column (the cell's number, 1 for the first). */
int kura_csv_read(const char *text, size_t len, const char *name, kura_csv_row_fn fn, void *ud, kura_error *err);

#endif
