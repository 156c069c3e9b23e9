/* The geometry of an object's evidence timeline (report/render.h), computed
 * once so that the SVG of the HTML page and the cairo drawing of the PDF show
 * the same picture: a time axis in years; row 0 the object (ingested, next
 * renewal due, report made); one row per chain of its evidence record, a bar
 * from the chain's first time-stamp to the next chain (or to the next renewal),
 * a mark at every time-stamp with its date. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kura/clock.h"
#include "report/render.h"

enum { WIDTH = 510, LEFT = 100, RIGHT_PAD = 30, TOP = 16, ROW = 36, LABEL_GAP = 58 };
static const int64_t DAY = 86400000;

const char *kura_timeline_kind_name(int kind)
{
	static const char *names[] = {"ingested", "first time-stamp", "time-stamp renewal", "hash-tree renewal",
				      "next renewal due", "report made"};
	return kind >= 0 && kind < KURA_MARK_KINDS ? names[kind] : "";
}

const char *kura_timeline_colour(int kind)
{
	static const char *colours[] = {"#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#c62828", "#757575"};
	return kind >= 0 && kind < KURA_MARK_KINDS ? colours[kind] : "#000000";
}

/* The times of the marks, before they get places. */
struct when {
	int64_t t;
	int kind, row;
};

struct plan {
	struct when w[KURA_TIMELINE_MAX_MARKS];
	size_t n;
	int64_t chain_start[KURA_TIMELINE_MAX_ROWS];
	int64_t lo, hi;
};

static void add(struct plan *p, const char *time, int64_t ms, int kind, int row)
{
	if (time && kura_time_parse(&ms, time, NULL) != 0)
		return;
	if ((!time && ms == 0) || p->n == KURA_TIMELINE_MAX_MARKS)
		return;
	p->w[p->n++] = (struct when){ms, kind, row};
	if (p->n == 1 || ms < p->lo)
		p->lo = ms;
	if (p->n == 1 || ms > p->hi)
		p->hi = ms;
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Gathers the marks and names the rows. */
static void gather(struct plan *p, struct kura_timeline *t, const json_t *o, int64_t made)
{
	size_t i, j;
	const json_t *chain, *ats;
	snprintf(t->row_label[0], sizeof t->row_label[0], "object");
	t->rows = 1;
	add(p, str(json_object_get(o, "object"), "ingested"), 0, KURA_MARK_INGEST, 0);
	json_array_foreach(json_object_get(o, "chains"), i, chain) {
		if (t->rows == KURA_TIMELINE_MAX_ROWS)
			break;
		int row = (int)t->rows++;
		snprintf(t->row_label[row], sizeof t->row_label[row], "chain %zu %.12s", i + 1, str(chain, "hash") ?: "");
		p->chain_start[row] = INT64_MIN;
		json_array_foreach(json_object_get(chain, "ats"), j, ats) {
			int kind = j > 0 ? KURA_MARK_TS_RENEWAL : i > 0 ? KURA_MARK_HASH_RENEWAL : KURA_MARK_STAMP;
			size_t before = p->n;
			add(p, str(ats, "genTime"), 0, kind, row);
			if (j == 0 && p->n > before)
				p->chain_start[row] = p->w[before].t;
		}
	}
	add(p, str(json_object_get(o, "next_renewal"), "due"), 0, KURA_MARK_DUE, 0);
	add(p, NULL, made, KURA_MARK_MADE, 0);
}

static double place(const struct plan *p, const struct kura_timeline *t, int64_t ms)
{
	return t->left + (double)(ms - p->lo) / (double)(p->hi - p->lo) * (t->right - t->left);
}

/* The years along the axis: at most KURA_TIMELINE_MAX_TICKS, every step-th. */
static void ticks(struct kura_timeline *t, const struct plan *p)
{
	time_t lo = (time_t)(p->lo / 1000), hi = (time_t)(p->hi / 1000);
	struct tm a, b;
	gmtime_r(&lo, &a);
	gmtime_r(&hi, &b);
	int years = b.tm_year - a.tm_year + 1, step = years / (KURA_TIMELINE_MAX_TICKS - 2) + 1;
	for (int y = a.tm_year + 1; y <= b.tm_year && t->nticks < KURA_TIMELINE_MAX_TICKS; y++) {
		struct tm jan = {.tm_year = y, .tm_mday = 1};
		if ((y + 1900) % step != 0)
			continue;
		t->tick_x[t->nticks] = place(p, t, (int64_t)timegm(&jan) * 1000);
		snprintf(t->tick_label[t->nticks++], sizeof t->tick_label[0], "%d", y + 1900);
	}
}

/* Each mark its place; a date too close to the one before it in its row goes above the mark. */
static void marks(struct kura_timeline *t, const struct plan *p)
{
	double last_x[KURA_TIMELINE_MAX_ROWS];
	int above[KURA_TIMELINE_MAX_ROWS] = {0};
	for (size_t r = 0; r < KURA_TIMELINE_MAX_ROWS; r++)
		last_x[r] = -1e9;
	for (size_t i = 0; i < p->n; i++) {
		struct kura_timeline_mark *m = &t->mark[t->nmarks++];
		char text[KURA_TIME_BUFSZ];
		m->kind = p->w[i].kind;
		m->row = p->w[i].row;
		m->x = place(p, t, p->w[i].t);
		m->y = t->row_y[m->row];
		above[m->row] = m->x - last_x[m->row] < LABEL_GAP ? !above[m->row] : 0; /* in time order: x grows */
		last_x[m->row] = m->x;
		m->label_y = above[m->row] ? m->y - 8 : m->y + 15;
		kura_time_format(text, p->w[i].t);
		snprintf(m->date, sizeof m->date, "%.10s", text);
	}
}

/* Sorts the marks by time (a few dozen: insertion sort), so dates stagger in order. */
static void by_time(struct plan *p)
{
	for (size_t i = 1; i < p->n; i++)
		for (size_t j = i; j > 0 && p->w[j - 1].t > p->w[j].t; j--) {
			struct when w = p->w[j];
			p->w[j] = p->w[j - 1];
			p->w[j - 1] = w;
		}
}

void kura_timeline_make(struct kura_timeline *t, const json_t *o, int64_t made)
{
	struct plan p = {0};
	memset(t, 0, sizeof *t);
	gather(&p, t, o, made);
	if (p.n == 0)
		p.lo = p.hi = made;
	if (p.hi - p.lo < 30 * DAY) { /* a few days would fill the width: show a month at least */
		p.lo -= 15 * DAY;
		p.hi += 15 * DAY;
	}
	int64_t pad = (p.hi - p.lo) / 25;
	p.lo -= pad;
	p.hi += pad;
	t->width = WIDTH;
	t->left = LEFT;
	t->right = WIDTH - RIGHT_PAD;
	for (size_t r = 0; r < t->rows; r++)
		t->row_y[r] = TOP + 10 + (double)r * ROW;
	t->axis_y = TOP + (double)t->rows * ROW + 2;
	t->legend_y = t->axis_y + 32;
	t->height = t->legend_y + 10;
	/* a chain lasts from its first time-stamp until the next chain starts, the last one to the end */
	for (size_t r = 1; r < t->rows; r++) {
		int64_t end = p.hi - pad;
		for (size_t q = r + 1; q < t->rows; q++)
			if (p.chain_start[q] != INT64_MIN) {
				end = p.chain_start[q];
				break;
			}
		t->bar_x0[r] = p.chain_start[r] == INT64_MIN ? t->left : place(&p, t, p.chain_start[r]);
		t->bar_x1[r] = place(&p, t, end);
	}
	by_time(&p);
	marks(t, &p);
	ticks(t, &p);
}
