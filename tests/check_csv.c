/* The CSV reader (common/csv.c): RFC 4180 as spreadsheets write it (quoted
 * cells with commas, line breaks and doubled quotes; CRLF, LF or CR; Excel's
 * UTF-8 byte order mark; a last line without its line break), and every
 * malformed text refused naming its line and column. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "common/csv.h"
#include "testutil.h"

/* The rows seen, as "LINE:cell|cell\n" each (cells' line breaks as \n, \r). */
struct seen {
	char text[4096];
	size_t len;
};

static int on_row(void *ud, char *const *cells, size_t n, size_t line, kura_error *err)
{
	(void)err;
	struct seen *s = ud;
	s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len, "%zu:", line);
	for (size_t i = 0; i < n; i++) {
		for (const char *c = cells[i]; *c; c++)
			s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len, "%s",
						   *c == '\n' ? "\\n" : *c == '\r' ? "\\r" : (char[]){*c, 0});
		s->len += (size_t)snprintf(s->text + s->len, sizeof s->text - s->len, "%s", i + 1 < n ? "|" : "\n");
	}
	return 0;
}

static const char *read_ok(struct seen *s, const char *text, size_t len)
{
	kura_error err = {0};
	memset(s, 0, sizeof *s);
	ck_assert_msg(kura_csv_read(text, len, "t.csv", on_row, s, &err) == 0, "%s", err.message);
	return s->text;
}

static void read_bad(const char *text, size_t len, const char *where, const char *what)
{
	struct seen s = {0};
	kura_error err = {0};
	ck_assert_int_eq(kura_csv_read(text, len, "t.csv", on_row, &s, &err), KURA_EINPUT);
	ck_assert_msg(strstr(err.message, where) && strstr(err.message, what), "%s", err.message);
}

#define OK(text, want) ck_assert_str_eq(read_ok(&s, text, sizeof text - 1), want)
#define BAD(text, where, what) read_bad(text, sizeof text - 1, where, what)

START_TEST(cells_as_spreadsheets_write_them)
{
	struct seen s;
	OK("path,k\na,1\n", "1:path|k\n2:a|1\n");
	OK("path,k\r\na,1\r\n", "1:path|k\n2:a|1\n");                /* CRLF */
	OK("path,k\ra,1", "1:path|k\n2:a|1\n");                      /* CR, no final line break */
	OK("\xEF\xBB\xBFpath,k\na,1", "1:path|k\n2:a|1\n");          /* Excel's BOM */
	OK("a,\"b,c\",\"d\"\"e\"\n", "1:a|b,c|d\"e\n");               /* comma, doubled quote */
	OK("a,\"two\r\nlines\"\nb,c\n", "1:a|two\\r\\nlines\n3:b|c\n"); /* a line break kept, lines counted */
	OK("a,,\n\n,\n", "1:a||\n2:\n3:|\n");                         /* empty cells, an empty line */
	OK("a,\"\"\n", "1:a|\n");                                     /* a quoted empty cell */
	OK("取引先,工事番号\n山田商事,K-1\n", "1:取引先|工事番号\n2:山田商事|K-1\n");
	OK("", "");
	OK("\xEF\xBB\xBF", "");
}
END_TEST

START_TEST(malformed_text_is_refused_naming_line_and_column)
{
	BAD("path,k\na,\x8e\x52\x93\x63\n", "t.csv line 2, column 2", "CSV UTF-8");      /* Shift_JIS */
	BAD("path,k\n\"a\n\nb,c\n", "line 2, column 1", "never closed");                   /* where it opened */
	BAD("path,k\na,b\"c\n", "line 2, column 2", "quote inside a cell");
	BAD("path,k\na,\"b\"c\n", "line 2, column 2", "after its closing quote");
	BAD("path,k\na,\"x\ny\"z\n", "line 3, column 2", "after its closing quote");
	BAD("path,k\na,b\0c\n", "line 2, column 2", "NUL byte");
	BAD("\xFF\xFEp\0a\0t\0h\0", "line 1, column 1", "not UTF-8"); /* UTF-16, as "Unicode Text" */
	char wide[2 * KURA_CSV_MAX_CELLS + 2];
	memset(wide, ',', sizeof wide - 1);
	wide[sizeof wide - 1] = '\0';
	read_bad(wide, strlen(wide), "line 1", "more than");
}
END_TEST

static int stop_at_two(void *ud, char *const *cells, size_t n, size_t line, kura_error *err)
{
	(void)cells;
	(void)n;
	(*(int *)ud)++;
	return line == 2 ? kura_error_set(err, KURA_EINPUT, "stop") : 0;
}

START_TEST(the_caller_stops_the_reading)
{
	int rows = 0;
	kura_error err = {0};
	ck_assert_int_eq(kura_csv_read("a\nb\nc\n", 6, "t.csv", stop_at_two, &rows, &err), KURA_EINPUT);
	ck_assert_int_eq(rows, 2);
	ck_assert_str_eq(err.message, "stop");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("read");
	tcase_add_test(tc, cells_as_spreadsheets_write_them);
	tcase_add_test(tc, malformed_text_is_refused_naming_line_and_column);
	tcase_add_test(tc, the_caller_stops_the_reading);
	suite_add_tcase(s, tc);
	return kura_test_run(s);
}
