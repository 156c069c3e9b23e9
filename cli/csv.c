/* One CSV cell as the CSV outputs (`ls --csv`, `log --csv`) write it: RFC 4180
 * (quoted when it holds a comma, a quote or a line end; quotes doubled), and
 * safe to open in a spreadsheet: a cell that starts with = + - @ or a tab and
 * is not a number gets a leading ' so that it is shown as text, never run as a
 * formula (a file name "=HYPERLINK(...)" is a name, not a formula). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int number(const char *s)
{
	s += *s == '-' || *s == '+';
	size_t n = strspn(s, "0123456789");
	if (n && s[n] == '.')
		n += 1 + strspn(s + n + 1, "0123456789");
	return n && !s[n];
}

void kura_cli_csv_cell(const char *s, int last)
{
	int quoted = strpbrk(s, ",\"\r\n") != NULL;
	if (quoted)
		putchar('"');
	if (strchr("=+-@\t\r", *s) && *s && !number(s))
		putchar('\''); /* inside the quotes: one cell */
	for (; *s; s++) {
		if (quoted && *s == '"')
			putchar('"');
		putchar(*s);
	}
	if (quoted)
		putchar('"');
	fputs(last ? "\r\n" : ",", stdout);
}
