/* The PDF renderer (kura/report.h): A4 pages drawn with cairo, text laid out
 * by pango in Noto Sans CJK JP (fonts-noto-cjk) with the language set to
 * Japanese, so Japanese names and metadata print with Japanese glyphs.
 *
 * The report is laid out twice: once onto a PDF surface that discards what it
 * is given, to count the pages, then for real, so every page says "page N of
 * M". Text is always set as plain text (pango_layout_set_text), never as
 * markup: a name cannot change how the page is drawn. A very long text is
 * cut short, and says so (clipped, below). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cairo-pdf.h>
#include <pango/pangocairo.h>

#include "kura/report.h"
#include "report/render.h"

#define PAGE_W 595.276
#define PAGE_H 841.890
#define MARGIN 42.0
#define BOTTOM (PAGE_H - 56.0)
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define PAD 3.0
#define FONT "Noto Sans CJK JP"

struct pdf {
	cairo_t *cr;
	PangoContext *pc;
	PangoFontDescription *font[5]; /* by style, below */
	double y;
	int page, pages; /* pages: 0 while counting */
};

enum { BODY, BOLD, SMALL, H1, H2 };

/* The most of one text the PDF shows: what is left out is said in its place.
 * Pango 1.50 lays a long run with no space out in time growing with the
 * square of its length (perf: nearly all under pango_layout_get_size in row(),
 * in pango_shape_item shaping the rest of the run again for each line; two
 * 64 KiB metadata values took 30 s). Break opportunities (U+200B every few
 * characters) would make it fast, but not make the value fit: a cell is never
 * split across pages, so a row taller than a page ran off its foot and most of
 * the value was silently missing (about 5,700 of 65,536 characters). Cut
 * short, a cell stays well within a page even in a half-page column of
 * Japanese text (about 27 characters and 13 points a line), the layout costs
 * little, and the reader is told plainly that there is more and where to see
 * it. Outside text comes escaped (report/walk.c): no newlines to count. */
#define CLIP_CHARS 800

/* NULL if the PDF shows text whole; else its first CLIP_CHARS characters and a
 * note of how many more there are (the caller g_frees it), the note starting
 * at byte *note. */
static char *clipped(const char *text, size_t *note)
{
	const char *end = text;
	for (int chars = 0; *end && chars < CLIP_CHARS; chars++)
		do /* to the next character, never past the end */
			end++;
		while ((*end & 0xC0) == 0x80);
	if (!*end)
		return NULL;
	*note = (size_t)(end - text);
	return g_strdup_printf("%.*s\n[\xE2\x80\xA6 %ld more characters not shown here; the HTML report and "
			       "kura show give the whole text]",
			       (int)*note, text, g_utf8_strlen(end, -1));
}

static PangoLayout *layout(struct pdf *p, int style, const char *text, double width)
{
	PangoLayout *l = pango_layout_new(p->pc);
	size_t note;
	char *cut = clipped(text, &note);
	pango_layout_set_font_description(l, p->font[style]);
	if (width > 0) {
		pango_layout_set_width(l, (int)(width * PANGO_SCALE));
		pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	}
	pango_layout_set_text(l, cut ? cut : text, -1);
	if (cut) { /* the note in grey, not to be taken for the text */
		PangoAttrList *a = pango_attr_list_new();
		PangoAttribute *grey = pango_attr_foreground_new(0x6666, 0x6666, 0x6666);
		grey->start_index = (guint)note;
		pango_attr_list_insert(a, grey);
		pango_layout_set_attributes(l, a);
		pango_attr_list_unref(a);
		g_free(cut);
	}
	return l;
}

static double height_of(PangoLayout *l)
{
	int w, h;
	pango_layout_get_size(l, &w, &h);
	return (double)h / PANGO_SCALE;
}

static double width_of(PangoLayout *l)
{
	int w, h;
	pango_layout_get_size(l, &w, &h);
	return (double)w / PANGO_SCALE;
}

static void colour(cairo_t *cr, const char *hex)
{
	unsigned v = (unsigned)strtoul(hex + 1, NULL, 16);
	cairo_set_source_rgb(cr, ((v >> 16) & 255) / 255.0, ((v >> 8) & 255) / 255.0, (v & 255) / 255.0);
}

/* Draws text with its top left at x, y; returns its height. */
static double draw(struct pdf *p, int style, const char *text, double x, double y, double width)
{
	PangoLayout *l = layout(p, style, text, width);
	cairo_move_to(p->cr, x, y);
	pango_cairo_show_layout(p->cr, l);
	double h = height_of(l);
	g_object_unref(l);
	return h;
}

static void footer(struct pdf *p)
{
	char text[64];
	if (p->pages)
		snprintf(text, sizeof text, "page %d of %d", p->page, p->pages);
	else
		snprintf(text, sizeof text, "page %d", p->page);
	PangoLayout *l = layout(p, SMALL, text, 0);
	cairo_set_source_rgb(p->cr, 0.4, 0.4, 0.4);
	cairo_move_to(p->cr, (PAGE_W - width_of(l)) / 2, PAGE_H - 36);
	pango_cairo_show_layout(p->cr, l);
	g_object_unref(l);
	cairo_set_source_rgb(p->cr, 0, 0, 0);
}

static void new_page(struct pdf *p)
{
	footer(p);
	cairo_show_page(p->cr);
	p->page++;
	p->y = MARGIN;
}

/* Starts a new page unless h points fit on this one. */
static void room(struct pdf *p, double h)
{
	if (p->y + h > BOTTOM && p->y > MARGIN)
		new_page(p);
}

static int title(void *ud, const char *text, const char *subtitle, kura_error *err)
{
	struct pdf *p = ud;
	(void)err;
	p->y += draw(p, H1, text, MARGIN, p->y, CONTENT_W);
	cairo_set_source_rgb(p->cr, 0.33, 0.33, 0.33);
	p->y += draw(p, BODY, subtitle, MARGIN, p->y, CONTENT_W) + 6;
	cairo_set_source_rgb(p->cr, 0, 0, 0);
	return 0;
}

static const char *verdict_colour(const char *verdict)
{
	static const char *v[][2] = {
		{"valid", "#2e7d32"}, {"invalid", "#c62828"}, {"indeterminate", "#ef6c00"}, {"disposed", "#546e7a"}};
	for (size_t i = 0; verdict && i < sizeof v / sizeof v[0]; i++)
		if (strcmp(verdict, v[i][0]) == 0)
			return v[i][1];
	return "#777777";
}

/* An object's heading: its name, and its verdict on a coloured badge at the right. */
static int heading(void *ud, int level, const char *text, const char *verdict, kura_error *err)
{
	struct pdf *p = ud;
	(void)err;
	room(p, level == 1 ? 80 : 220); /* keep a heading with what follows it */
	p->y += level == 1 ? 8 : 16;
	if (level == 1) {
		p->y += draw(p, H2, text, MARGIN, p->y, CONTENT_W) + 2;
		return 0;
	}
	PangoLayout *badge = layout(p, BOLD, verdict ? verdict : "no verdict", 0);
	double bw = width_of(badge) + 10, bh = height_of(badge);
	double h = draw(p, H2, text, MARGIN, p->y, CONTENT_W - bw - 8);
	colour(p->cr, verdict_colour(verdict));
	cairo_new_path(p->cr);
	cairo_rectangle(p->cr, MARGIN + CONTENT_W - bw, p->y + 2, bw, bh + 2);
	cairo_fill(p->cr);
	cairo_set_source_rgb(p->cr, 1, 1, 1);
	cairo_move_to(p->cr, MARGIN + CONTENT_W - bw + 5, p->y + 3);
	pango_cairo_show_layout(p->cr, badge);
	g_object_unref(badge);
	p->y += (h > bh + 4 ? h : bh + 4) + 2;
	cairo_set_source_rgb(p->cr, 0.7, 0.7, 0.7);
	cairo_new_path(p->cr);
	cairo_rectangle(p->cr, MARGIN, p->y, CONTENT_W, 1.2);
	cairo_fill(p->cr);
	cairo_set_source_rgb(p->cr, 0, 0, 0);
	p->y += 6;
	return 0;
}

/* The widest a cell's text wants (natural) and the least it can take (its
 * longest word, as browsers do). */
static void cell_widths(struct pdf *p, int style, const char *text, double *natural, double *least)
{
	PangoLayout *l = layout(p, style, text, 0);
	double n = width_of(l) + 2 * PAD + 1;
	*natural = n > *natural ? n : *natural;
	char *shown = g_strdup(pango_layout_get_text(l)); /* as cut short, if it is */
	pango_layout_set_attributes(l, NULL);
	for (const char *w = shown; *w;) { /* each word on its own */
		size_t len = strcspn(w, " ");
		pango_layout_set_text(l, w, (int)len);
		double m = width_of(l) + 2 * PAD + 1;
		*least = m > *least ? m : *least;
		w += len + (w[len] == ' ');
	}
	g_free(shown);
	g_object_unref(l);
}

/* When even the longest words do not fit side by side: the columns whose word
 * fits in an even share of what is left keep it whole (a key beside a long hash
 * is not cut); the others share the rest in proportion to their words. */
static void squeeze(double *w, const double *least, size_t cols)
{
	int kept[16] = {0};
	double left = CONTENT_W, wide = 0;
	size_t nfree = cols, c;
	for (int again = 1; again && nfree > 0;) {
		again = 0;
		for (c = 0; c < cols; c++)
			if (!kept[c] && least[c] <= left / (double)nfree) {
				kept[c] = again = 1;
				left -= least[c];
				nfree--;
			}
	}
	for (c = 0; c < cols; c++)
		wide += kept[c] ? 0 : least[c];
	for (c = 0; c < cols; c++)
		w[c] = kept[c] ? least[c] : least[c] * left / wide;
}

/* Column widths: each column its longest word at least; what is left of the
 * page goes to the columns in proportion to how much more they want. */
static void widths(struct pdf *p, double *w, const char *const *cells, size_t cols, size_t rows, int header)
{
	double natural[16] = {0}, least[16] = {0}, want = 0, sum = 0;
	size_t c, r;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++)
			cell_widths(p, (header && r == 0) || (!header && c == 0) ? BOLD : BODY, cells[r * cols + c],
				    &natural[c], &least[c]);
	for (c = 0; c < cols; c++) {
		least[c] = least[c] > CONTENT_W ? CONTENT_W : least[c];
		sum += least[c];
		want += natural[c] > least[c] ? natural[c] - least[c] : 0;
	}
	if (sum >= CONTENT_W) {
		squeeze(w, least, cols);
		return;
	}
	for (c = 0; c < cols; c++) {
		double more = natural[c] > least[c] ? natural[c] - least[c] : 0;
		w[c] = least[c] + (want > 0 ? more / want : 1.0 / (double)cols) * (CONTENT_W - sum);
	}
}

/* Draws row r; returns its height. With measure, only measures it. */
static double row(struct pdf *p, const char *const *cells, const double *w, size_t cols, int bold, int fill, int measure)
{
	double h = 0, x = MARGIN;
	PangoLayout *l[16];
	for (size_t c = 0; c < cols; c++) {
		l[c] = layout(p, bold || (fill && c == 0) ? BOLD : BODY, cells[c], w[c] - 2 * PAD);
		double ch = height_of(l[c]) + 2 * PAD;
		h = ch > h ? ch : h;
	}
	for (size_t c = 0; c < cols; c++) {
		if (!measure) {
			cairo_set_source_rgb(p->cr, 0.95, 0.95, 0.95);
			cairo_new_path(p->cr);
			cairo_rectangle(p->cr, x, p->y, w[c], h);
			if (bold || (fill && c == 0))
				cairo_fill_preserve(p->cr);
			cairo_set_source_rgb(p->cr, 0.8, 0.8, 0.8);
			cairo_set_line_width(p->cr, 0.5);
			cairo_stroke(p->cr);
			cairo_set_source_rgb(p->cr, 0, 0, 0);
			cairo_move_to(p->cr, x + PAD, p->y + PAD);
			pango_cairo_show_layout(p->cr, l[c]);
		}
		x += w[c];
		g_object_unref(l[c]);
	}
	return h;
}

static int table(void *ud, const char *caption, const char *const *cells, size_t cols, size_t rows, int header,
		 kura_error *err)
{
	struct pdf *p = ud;
	double w[16];
	if (cols > 16)
		return kura_error_set(err, KURA_EINTERNAL, "a report table has more than 16 columns");
	widths(p, w, cells, cols, rows, header);
	PangoLayout *cl = caption ? layout(p, BOLD, caption, CONTENT_W) : NULL;
	double ch = cl ? height_of(cl) + 2 : 0;
	room(p, ch + row(p, cells, w, cols, header, !header, 1) + (header && rows > 1 ? row(p, cells + cols, w, cols, 0, 0, 1) : 0));
	if (cl) {
		cairo_move_to(p->cr, MARGIN, p->y);
		pango_cairo_show_layout(p->cr, cl);
		g_object_unref(cl);
		p->y += ch;
	}
	for (size_t r = 0; r < rows; r++) {
		const char *const *line = cells + r * cols;
		double h = row(p, line, w, cols, header && r == 0, !header, 1);
		if (p->y + h > BOTTOM && r > 0) {
			new_page(p);
			if (header) /* the column names again on the new page */
				p->y += row(p, cells, w, cols, 1, 0, 0);
		}
		p->y += row(p, line, w, cols, header && r == 0, !header, 0);
	}
	p->y += 6;
	return 0;
}

static int text(void *ud, const char *s, kura_error *err)
{
	struct pdf *p = ud;
	(void)err;
	PangoLayout *l = layout(p, BODY, s, CONTENT_W);
	room(p, height_of(l));
	cairo_move_to(p->cr, MARGIN, p->y);
	pango_cairo_show_layout(p->cr, l);
	p->y += height_of(l) + 4;
	g_object_unref(l);
	return 0;
}

/* Small text starting (or centred) at x with its baseline at y; returns its width. */
static double label(struct pdf *p, const char *s, double x, double y, int centred)
{
	PangoLayout *l = layout(p, SMALL, s, 0);
	double w = width_of(l);
	cairo_move_to(p->cr, centred ? x - w / 2 : x, y - (double)pango_layout_get_baseline(l) / PANGO_SCALE);
	pango_cairo_show_layout(p->cr, l);
	g_object_unref(l);
	return w;
}

static void line(cairo_t *cr, double x0, double y0, double x1, double y1, const char *hex, int dashed)
{
	static const double dash[] = {3, 2};
	colour(cr, hex);
	cairo_set_dash(cr, dash, dashed ? 2 : 0, 0);
	cairo_set_line_width(cr, 0.7);
	cairo_move_to(cr, x0, y0);
	cairo_line_to(cr, x1, y1);
	cairo_stroke(cr);
	cairo_set_dash(cr, dash, 0, 0);
}

static void marks(struct pdf *p, const struct kura_timeline *t)
{
	for (size_t i = 0; i < t->nmarks; i++) {
		const struct kura_timeline_mark *m = &t->mark[i];
		if (m->kind == KURA_MARK_DUE || m->kind == KURA_MARK_MADE)
			line(p->cr, m->x, m->y - 9, m->x, t->axis_y, kura_timeline_colour(m->kind), 1);
		colour(p->cr, kura_timeline_colour(m->kind));
		cairo_new_path(p->cr); /* no line from where the last text ended */
		cairo_arc(p->cr, m->x, m->y, 4.5, 0, 6.2832);
		cairo_fill(p->cr);
		cairo_set_source_rgb(p->cr, 0, 0, 0);
		label(p, m->date, m->x, m->label_y, 1);
	}
	double x = 8;
	for (int k = 0; k < KURA_MARK_KINDS; k++) {
		colour(p->cr, kura_timeline_colour(k));
		cairo_new_path(p->cr);
		cairo_arc(p->cr, x + 4, t->legend_y - 3, 4, 0, 6.2832);
		cairo_fill(p->cr);
		cairo_set_source_rgb(p->cr, 0, 0, 0);
		x += 11 + label(p, kura_timeline_kind_name(k), x + 11, t->legend_y, 0) + 10;
	}
}

static int timeline(void *ud, const struct kura_timeline *t, kura_error *err)
{
	struct pdf *p = ud;
	(void)err;
	room(p, t->height);
	cairo_save(p->cr);
	cairo_translate(p->cr, MARGIN, p->y);
	for (size_t r = 0; r < t->rows; r++) {
		cairo_set_source_rgb(p->cr, 0, 0, 0);
		label(p, t->row_label[r], 4, t->row_y[r] + 3, 0);
		line(p->cr, t->left, t->row_y[r], t->right, t->row_y[r], "#dddddd", 0);
		if (r > 0) {
			colour(p->cr, "#a5d6a7");
			cairo_new_path(p->cr);
			cairo_rectangle(p->cr, t->bar_x0[r], t->row_y[r] - 3, t->bar_x1[r] - t->bar_x0[r], 6);
			cairo_fill(p->cr);
		}
	}
	line(p->cr, t->left, t->axis_y, t->right, t->axis_y, "#444444", 0);
	for (size_t i = 0; i < t->nticks; i++) {
		line(p->cr, t->tick_x[i], t->axis_y, t->tick_x[i], t->axis_y + 4, "#444444", 0);
		cairo_set_source_rgb(p->cr, 0, 0, 0);
		label(p, t->tick_label[i], t->tick_x[i], t->axis_y + 13, 1);
	}
	marks(p, t);
	cairo_restore(p->cr);
	p->y += t->height + 6;
	return 0;
}

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int length)
{
	return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

/* Lays the report out on a surface writing to f (NULL: nowhere); *pages gets the page count. */
static int render(int *pages, FILE *f, const json_t *report, int total, kura_error *err)
{
	static const char *fonts[] = {FONT " 9", FONT " Bold 9", FONT " 7.5", FONT " Bold 20", FONT " Bold 14"};
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(f ? write_out : NULL, f, PAGE_W, PAGE_H);
	struct pdf p = {.cr = cairo_create(s), .y = MARGIN, .page = 1, .pages = total};
	p.pc = pango_cairo_create_context(p.cr);
	pango_cairo_context_set_resolution(p.pc, 72); /* a font's size in points is its size on the page */
	cairo_font_options_t *fo = cairo_font_options_create();
	cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF); /* the same widths at every size */
	pango_cairo_context_set_font_options(p.pc, fo);
	cairo_font_options_destroy(fo);
	pango_context_set_language(p.pc, pango_language_from_string("ja"));
	for (int i = 0; i < 5; i++)
		p.font[i] = pango_font_description_from_string(fonts[i]);
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, "Evidence report");
	cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "kura");
	struct kura_report_sink sink = {&p, title, heading, table, text, timeline};
	int rc = kura_report_walk(report, &sink, err);
	if (rc == 0)
		footer(&p);
	*pages = p.page;
	for (int i = 0; i < 5; i++)
		pango_font_description_free(p.font[i]);
	g_object_unref(p.pc);
	cairo_destroy(p.cr);
	cairo_surface_finish(s);
	cairo_status_t st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	if (rc == 0 && st == CAIRO_STATUS_WRITE_ERROR)
		rc = kura_error_sys(err, KURA_EIO, "cannot write the PDF report");
	else if (rc == 0 && st != CAIRO_STATUS_SUCCESS)
		rc = kura_error_set(err, KURA_EINTERNAL, "cairo cannot draw the PDF report: %s", cairo_status_to_string(st));
	return rc;
}

int kura_report_pdf(FILE *f, const json_t *report, kura_error *err)
{
	int pages = 0;
	int rc = render(&pages, NULL, report, 0, err);
	if (rc == 0)
		rc = render(&pages, f, report, pages, err);
	if (rc == 0 && (fflush(f) != 0 || ferror(f)))
		rc = kura_error_sys(err, KURA_EIO, "cannot write the PDF report");
	return rc;
}
