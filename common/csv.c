/* CSV text (RFC 4180): read row by row (common/csv.h), and written a cell at a time
 * for ls --csv, log --csv and export packages' INDEX.csv (kura/escape.h).
 *
 * INVARIANTS
 * - Every byte of the text is either part of a cell or one of the ASCII bytes
 *   that separate them (comma, quote, CR, LF): so checking each cell for UTF-8
 *   checks the whole text, and a message can name the cell.
 * - Memory is bounded by the longest row: the cells of one row are kept back
 *   to back in one buffer, handed to the caller and then forgotten. */
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "common/unicode.h"
#include "kura/escape.h"

struct reader {
	const char *text, *name;
	size_t len, pos, line; /* line: of text[pos] */
	char *buf;             /* the row's cells, each ending in NUL */
	size_t blen, bcap;
	size_t starts[KURA_CSV_MAX_CELLS];
	size_t ncells;
};

/* What ends a cell outside quotes (a NUL does not: it is refused in a cell). */
static int ends_cell(char c)
{
	return c == ',' || c == '\r' || c == '\n';
}

static int put(struct reader *r, char c, kura_error *err)
{
	if (r->blen == r->bcap) {
		size_t cap = r->bcap ? 2 * r->bcap : 256;
		char *b = realloc(r->buf, cap);
		if (!b)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		r->buf = b;
		r->bcap = cap;
	}
	r->buf[r->blen++] = c;
	return 0;
}

/* Steps over a line break at pos (CRLF, LF or CR), if there is one. */
static int line_break(struct reader *r)
{
	if (r->pos < r->len && r->text[r->pos] == '\r') {
		r->pos++;
		if (r->pos < r->len && r->text[r->pos] == '\n')
			r->pos++;
	} else if (r->pos < r->len && r->text[r->pos] == '\n') {
		r->pos++;
	} else {
		return 0;
	}
	r->line++;
	return 1;
}

/* A quoted cell, from its opening quote to just past its closing one. */
static int quoted(struct reader *r, kura_error *err)
{
	size_t opened = r->line;
	r->pos++;
	for (;;) {
		if (r->pos == r->len) {
			kura_error_set(err, KURA_EINPUT, "%s line %zu, column %zu: the quoted cell that starts here is never "
				       "closed (a '\"' is missing)", r->name, opened, r->ncells + 1);
			return KURA_EINPUT;
		}
		char c = r->text[r->pos];
		if (c == '"' && r->pos + 1 < r->len && r->text[r->pos + 1] == '"') {
			r->pos += 2;
		} else if (c == '"') {
			r->pos++;
			break;
		} else if (c == '\r' || c == '\n') { /* kept as written */
			size_t from = r->pos;
			line_break(r);
			for (; from < r->pos; from++)
				if (put(r, r->text[from], err) != 0)
					return KURA_EINTERNAL;
			continue;
		} else {
			r->pos++;
		}
		if (put(r, c, err) != 0)
			return KURA_EINTERNAL;
	}
	if (r->pos < r->len && !ends_cell(r->text[r->pos])) {
		kura_error_set(err, KURA_EINPUT, "%s line %zu, column %zu: a quoted cell goes on after its closing quote "
			       "(a quote inside a quoted cell is written twice: \"\")", r->name, r->line, r->ncells + 1);
		return KURA_EINPUT;
	}
	return 0;
}

static int plain(struct reader *r, kura_error *err)
{
	for (; r->pos < r->len && !ends_cell(r->text[r->pos]); r->pos++) {
		if (r->text[r->pos] == '"') {
			kura_error_set(err, KURA_EINPUT, "%s line %zu, column %zu: a quote inside a cell that does not start "
				       "with one (put the whole cell in quotes and write the quote twice: \"\")", r->name,
				       r->line, r->ncells + 1);
			return KURA_EINPUT;
		}
		if (put(r, r->text[r->pos], err) != 0)
			return KURA_EINTERNAL;
	}
	return 0;
}

/* One cell, checked, appended to the row. */
static int cell(struct reader *r, kura_error *err)
{
	size_t line = r->line;
	if (r->ncells == KURA_CSV_MAX_CELLS) {
		kura_error_set(err, KURA_EINPUT, "%s line %zu: more than %d cells in a row", r->name, line,
			       KURA_CSV_MAX_CELLS);
		return KURA_EINPUT;
	}
	size_t start = r->blen;
	int rc = r->pos < r->len && r->text[r->pos] == '"' ? quoted(r, err) : plain(r, err);
	if (rc != 0)
		return rc;
	const char *s = r->buf ? r->buf + start : "";
	size_t n = r->blen - start;
	if (!kura_unicode_valid(s, n)) {
		kura_error_set(err, KURA_EINPUT, "%s line %zu, column %zu: not UTF-8 text (Shift_JIS from an older Excel?): "
			       "save the sheet as \"CSV UTF-8 (Comma delimited)\" and try again", r->name, line,
			       r->ncells + 1);
		return KURA_EINPUT;
	}
	if (memchr(s, '\0', n)) {
		kura_error_set(err, KURA_EINPUT, "%s line %zu, column %zu: a NUL byte: this is not CSV text (save the sheet "
			       "as \"CSV UTF-8\")", r->name, line, r->ncells + 1);
		return KURA_EINPUT;
	}
	if (put(r, '\0', err) != 0)
		return KURA_EINTERNAL;
	r->starts[r->ncells++] = start;
	return 0;
}

/* One row: its cells, then the line break that ends it (or the end of the text). */
static int row(struct reader *r, kura_csv_row_fn fn, void *ud, kura_error *err)
{
	size_t line = r->line;
	int rc;
	r->blen = 0;
	r->ncells = 0;
	for (;;) {
		if ((rc = cell(r, err)) != 0)
			return rc;
		if (r->pos < r->len && r->text[r->pos] == ',')
			r->pos++;
		else
			break;
	}
	line_break(r);
	char **cells = malloc(r->ncells * sizeof *cells);
	if (!cells)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < r->ncells; i++)
		cells[i] = r->buf + r->starts[i];
	rc = fn(ud, cells, r->ncells, line, err);
	free(cells);
	return rc;
}

int kura_csv_read(const char *text, size_t len, const char *name, kura_csv_row_fn fn, void *ud, kura_error *err)
{
	struct reader *r = calloc(1, sizeof *r);
	if (!r)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	r->text = text;
	r->len = len;
	r->name = name;
	r->line = 1;
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
	int rc = 0;
	while (rc == 0 && r->pos < r->len)
		rc = row(r, fn, ud, err);
	free(r->buf);
	free(r);
	return rc;
}

/* ---------------------------------------------------------------- writing */

static int number(const char *s)
{
	s += *s == '-' || *s == '+';
	size_t n = strspn(s, "0123456789");
	if (n && s[n] == '.')
		n += 1 + strspn(s + n + 1, "0123456789");
	return n && !s[n];
}

void kura_csv_cell(FILE *f, const char *s, int last)
{
	int quoted = strpbrk(s, ",\"\r\n") != NULL;
	if (quoted)
		putc('"', f);
	if (strchr("=+-@\t\r", *s) && *s && !number(s))
		putc('\'', f); /* inside the quotes: one cell */
	for (; *s; s++) {
		if (quoted && *s == '"')
			putc('"', f);
		putc(*s, f);
	}
	if (quoted)
		putc('"', f);
	fputs(last ? "\r\n" : ",", f);
}
