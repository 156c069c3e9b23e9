/* The HTML renderer (kura/report.h): one self-contained page, UTF-8, with its
 * CSS and the timelines' SVG inline, no script, and a Content-Security-Policy
 * that forbids fetching or running anything.
 *
 * INVARIANT: every text of the report reaches the page through esc(), which
 * escapes & < > " and ' — names and metadata are hostile input and are never
 * markup. Only the literal strings of this file are markup. */
#include <stdio.h>
#include <string.h>

#include "kura/report.h"
#include "report/render.h"

struct html {
	FILE *f;
	int in_object; /* a <section> of an object is open */
};

static const char style[] =
	"body{font-family:\"Noto Sans CJK JP\",\"Noto Sans\",sans-serif;margin:2em auto;max-width:60em;color:#222;"
	"line-height:1.4}\n"
	"h1{font-size:1.6em;margin-bottom:0}p.sub{color:#555;margin-top:.2em}\n"
	"h2{font-size:1.2em;border-bottom:2px solid #bbb;padding-bottom:.2em;margin-top:2em}\n"
	"table{border-collapse:collapse;margin:.6em 0;width:100%}caption{text-align:left;font-weight:bold;"
	"padding:.3em 0}\n"
	"th,td{border:1px solid #ccc;padding:.2em .4em;text-align:left;vertical-align:top;overflow-wrap:anywhere}\n"
	"th{background:#f2f2f2}.nw{white-space:nowrap}table.pairs th{width:12em}\n"
	".verdict{font-size:.8em;padding:.1em .5em;border-radius:.3em;color:#fff;background:#777;margin-left:.5em}\n"
	".v-valid .verdict{background:#2e7d32}.v-invalid .verdict{background:#c62828}"
	".v-indeterminate .verdict{background:#ef6c00}.v-disposed .verdict{background:#546e7a}\n"
	"svg.timeline{width:100%;max-width:51em;height:auto;display:block;margin:.5em 0}\n"
	"@media print{section.object{break-before:page}}\n";

/* Writes text with & < > " ' escaped. */
static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Does s hold Japanese script (kana, CJK ideographs, full-width forms)? Such
 * text is marked lang="ja" so that browsers draw its Han in Japanese forms. */
static int japanese(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	for (; *p; p++)
		if (p[0] == 0xe3 || (p[0] >= 0xe4 && p[0] <= 0xe9) || (p[0] == 0xef && p[1] >= 0xbc && p[1] <= 0xbf))
			return 1; /* U+3000-U+9FFF, U+FF00-U+FFFF */
	return 0;
}

/* <tag lang="ja">text</tag>, the lang only when the text is Japanese; a
 * short word (an ID, a time, an algorithm) is kept on one line. */
static void element(FILE *f, const char *tag, const char *attrs, const char *text)
{
	int word = tag[0] == 't' && strlen(text) <= 30 && !strchr(text, ' '); /* td, th */
	fprintf(f, "<%s%s%s%s>", tag, attrs, japanese(text) ? " lang=\"ja\"" : "", word ? " class=\"nw\"" : "");
	esc(f, text);
	fprintf(f, "</%s>", tag);
}

static void close_object(struct html *h)
{
	if (h->in_object)
		fputs("</section>\n", h->f);
	h->in_object = 0;
}

static int title(void *ud, const char *text, const char *subtitle, kura_error *err)
{
	struct html *h = ud;
	(void)err;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      h->f);
	esc(h->f, text);
	fputs(" \xe2\x80\x94 ", h->f);
	esc(h->f, subtitle);
	fprintf(h->f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
	element(h->f, "h1", "", text);
	fputc('\n', h->f);
	element(h->f, "p", " class=\"sub\"", subtitle);
	fputc('\n', h->f);
	return 0;
}

static int heading(void *ud, int level, const char *text, const char *verdict, kura_error *err)
{
	struct html *h = ud;
	(void)err;
	close_object(h);
	if (level == 1) {
		element(h->f, "h2", "", text);
		fputc('\n', h->f);
		return 0;
	}
	h->in_object = 1;
	fputs("<section class=\"object\">\n<h2 class=\"v-", h->f);
	esc(h->f, verdict ? verdict : "unknown");
	fprintf(h->f, "\"%s>", japanese(text) ? " lang=\"ja\"" : "");
	esc(h->f, text);
	fputs(" <span class=\"verdict\" lang=\"en\">", h->f);
	esc(h->f, verdict ? verdict : "no verdict");
	fputs("</span></h2>\n", h->f);
	return 0;
}

static int table(void *ud, const char *caption, const char *const *cells, size_t cols, size_t rows, int header,
		 kura_error *err)
{
	struct html *h = ud;
	(void)err;
	fputs(header ? "<table>\n" : "<table class=\"pairs\">\n", h->f);
	if (caption)
		element(h->f, "caption", "", caption);
	for (size_t r = 0; r < rows; r++) {
		fputs("<tr>", h->f);
		for (size_t c = 0; c < cols; c++) {
			int th = header ? r == 0 : c == 0;
			element(h->f, th ? "th" : "td", th ? (header ? " scope=\"col\"" : " scope=\"row\"") : "",
				cells[r * cols + c]);
		}
		fputs("</tr>\n", h->f);
	}
	fputs("</table>\n", h->f);
	return 0;
}

static int text(void *ud, const char *s, kura_error *err)
{
	struct html *h = ud;
	(void)err;
	element(h->f, "p", "", s);
	fputc('\n', h->f);
	return 0;
}

static void svg_marks(FILE *f, const struct kura_timeline *t)
{
	for (size_t i = 0; i < t->nmarks; i++) {
		const struct kura_timeline_mark *m = &t->mark[i];
		if (m->kind == KURA_MARK_DUE || m->kind == KURA_MARK_MADE)
			fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"3 2\"/>\n",
				m->x, m->y - 9, m->x, t->axis_y, kura_timeline_colour(m->kind));
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" stroke=\"#fff\"/>\n", m->x, m->y,
			kura_timeline_colour(m->kind));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"8\">", m->x, m->label_y);
		esc(f, m->date);
		fputs("</text>\n", f);
	}
}

static void svg_legend(FILE *f, const struct kura_timeline *t)
{
	double x = 8;
	for (int k = 0; k < KURA_MARK_KINDS; k++) {
		fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", x + 4, t->legend_y - 3, kura_timeline_colour(k));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"8\">%s</text>\n", x + 11, t->legend_y,
			kura_timeline_kind_name(k));
		x += 11 + 4.4 * (double)strlen(kura_timeline_kind_name(k)) + 10;
	}
}

static int timeline(void *ud, const struct kura_timeline *t, kura_error *err)
{
	FILE *f = ((struct html *)ud)->f;
	(void)err;
	fprintf(f, "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
		   "aria-label=\"evidence timeline\" font-family=\"Noto Sans CJK JP, Noto Sans, sans-serif\">\n",
		t->width, t->height);
	for (size_t r = 0; r < t->rows; r++) {
		fprintf(f, "<text x=\"4\" y=\"%.1f\" font-size=\"9\">", t->row_y[r] + 3);
		esc(f, t->row_label[r]);
		fprintf(f, "</text><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", t->left,
			t->row_y[r], t->right, t->row_y[r]);
		if (r > 0)
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"6\" fill=\"#a5d6a7\"/>\n", t->bar_x0[r],
				t->row_y[r] - 3, t->bar_x1[r] - t->bar_x0[r]);
	}
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>\n", t->left, t->axis_y,
		t->right, t->axis_y);
	for (size_t i = 0; i < t->nticks; i++)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>"
			   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"8\">%s</text>\n",
			t->tick_x[i], t->axis_y, t->tick_x[i], t->axis_y + 4, t->tick_x[i], t->axis_y + 13, t->tick_label[i]);
	svg_marks(f, t);
	svg_legend(f, t);
	fputs("</svg>\n", f);
	return 0;
}

int kura_report_html(FILE *f, const json_t *report, kura_error *err)
{
	struct html h = {.f = f};
	struct kura_report_sink s = {&h, title, heading, table, text, timeline};
	int rc = kura_report_walk(report, &s, err);
	if (rc != 0)
		return rc;
	close_object(&h);
	fputs("</body>\n</html>\n", f);
	if (fflush(f) != 0 || ferror(f))
		return kura_error_sys(err, KURA_EIO, "cannot write the HTML report");
	return 0;
}
