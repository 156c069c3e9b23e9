/* What the HTML and the PDF renderer share: the report's content in reading
 * order, as blocks handed to a sink (report/walk.c), and the geometry of an
 * object's evidence timeline (report/timeline.c). A renderer only draws; what
 * a report says, and in which order, is decided once, in walk.c.
 *
 * Every text handed to a sink is outside text made printable (kura/escape.h:
 * control characters as \xNN), never markup: the sink must still escape it
 * for its format. */
#ifndef KURA_REPORT_RENDER_H
#define KURA_REPORT_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kura/error.h"

/* ---- the timeline: one row for the object, one per chain of its evidence ---- */

enum {
	KURA_MARK_INGEST,       /* the object was ingested (row 0) */
	KURA_MARK_STAMP,        /* its first time-stamp (the seal) */
	KURA_MARK_TS_RENEWAL,   /* a time-stamp renewal */
	KURA_MARK_HASH_RENEWAL, /* a hash-tree renewal: a new chain */
	KURA_MARK_DUE,          /* the next renewal falls due (row 0) */
	KURA_MARK_MADE,         /* the report was made (row 0) */
	KURA_MARK_KINDS
};

#define KURA_TIMELINE_MAX_ROWS 16
#define KURA_TIMELINE_MAX_MARKS 64
#define KURA_TIMELINE_MAX_TICKS 12

struct kura_timeline_mark {
	int kind;
	int row;
	double x, y;    /* the mark's centre */
	double label_y; /* the baseline of its date, centred on x */
	char date[11];  /* YYYY-MM-DD */
};

/* In units of 1/72 inch (PDF points; SVG user units): width by height. */
struct kura_timeline {
	double width, height;
	double left, right;      /* the time axis runs from x = left to x = right */
	size_t rows;             /* row 0: the object; rows 1..: its chains */
	double row_y[KURA_TIMELINE_MAX_ROWS];
	char row_label[KURA_TIMELINE_MAX_ROWS][32];
	double bar_x0[KURA_TIMELINE_MAX_ROWS], bar_x1[KURA_TIMELINE_MAX_ROWS]; /* a chain's span */
	size_t nmarks;
	struct kura_timeline_mark mark[KURA_TIMELINE_MAX_MARKS];
	size_t nticks;           /* the years along the axis */
	double tick_x[KURA_TIMELINE_MAX_TICKS];
	char tick_label[KURA_TIMELINE_MAX_TICKS][8];
	double axis_y, legend_y;
};

/* The timeline of one object entry of a report (made at made_ms; 0: unknown).
 * Chains and marks beyond the limits above are left out (the evidence table
 * lists them all). */
void kura_timeline_make(struct kura_timeline *t, const json_t *object, int64_t made_ms);

/* The legend's words for a mark kind. */
const char *kura_timeline_kind_name(int kind);
/* Its colour, "#rrggbb", the same in both renderers. */
const char *kura_timeline_colour(int kind);

/* ---- the blocks of a report ---- */

struct kura_report_sink {
	void *ud;
	/* the page's title, and the line under it */
	int (*title)(void *ud, const char *title, const char *subtitle, kura_error *err);
	/* a heading: level 1 a part of the report, level 2 one object, with its
	 * verdict (valid, invalid, ...) to colour it, or NULL; a new object may
	 * start a new page */
	int (*heading)(void *ud, int level, const char *text, const char *verdict, kura_error *err);
	/* a table of rows by cols cells, cells[r * cols + c]; with header, row 0
	 * names the columns, without it column 0 names each row */
	int (*table)(void *ud, const char *caption, const char *const *cells, size_t cols, size_t rows, int header,
		     kura_error *err);
	/* a paragraph */
	int (*text)(void *ud, const char *text, kura_error *err);
	int (*timeline)(void *ud, const struct kura_timeline *t, kura_error *err);
};

/* Hands report's content to s in reading order: the summary, then each object.
 * Stops at the first error a sink returns. */
int kura_report_walk(const json_t *report, const struct kura_report_sink *s, kura_error *err);

/* The string o[key] made printable (kura/escape.h), NUL-terminated, the
 * caller's (free()); "" when it is not a string; NULL only when out of memory. */
char *kura_report_text(const json_t *o, const char *key);

#endif
