/* What a report says, and in which order (report/render.h): the summary of the
 * chosen objects (where, when, by which kura, counts by verdict, the period),
 * a table of them, then each object: its identity, metadata, versions,
 * evidence (every time-stamp of every chain) and the next renewal, and its
 * timeline. Both renderers draw exactly this. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kura/clock.h"
#include "kura/escape.h"
#include "report/render.h"

/* The cells of one table, each the table's own copy. */
struct cells {
	char **v;
	size_t n, cap;
	int failed; /* out of memory: the table is not drawn */
};

static void cells_take(struct cells *c, char *s)
{
	if (!s || c->failed) {
		c->failed = 1;
		free(s);
		return;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 32;
		char **v = realloc(c->v, cap * sizeof *v);
		if (!v) {
			c->failed = 1;
			free(s);
			return;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = s;
}

/* Adds outside text, made printable. */
static void cells_add(struct cells *c, const char *s)
{
	cells_take(c, kura_escape(s ? s : "", s ? strlen(s) : 0));
}

/* Adds text kura wrote itself. */
static void cells_addf(struct cells *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cells_addf(struct cells *c, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	cells_take(c, s);
}

static void cells_clear(struct cells *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* Draws the cells as a table of cols columns and clears them. */
static int cells_table(struct cells *c, const struct kura_report_sink *s, const char *caption, size_t cols, int header,
		       kura_error *err)
{
	int rc = c->failed ? kura_error_set(err, KURA_EINTERNAL, "out of memory")
		 : c->n == 0 ? 0
			     : s->table(s->ud, caption, (const char *const *)c->v, cols, c->n / cols, header, err);
	cells_clear(c);
	return rc;
}

char *kura_report_text(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return strdup("");
	return kura_escape(json_string_value(v), json_string_length(v));
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A row of a two-column table, left out when the value is missing. */
static void pair(struct cells *c, const char *label, const char *value)
{
	if (!value)
		return;
	cells_addf(c, "%s", label);
	cells_add(c, value);
}

/* ---- the summary ---- */

static const char *const verdicts[] = {"valid", "invalid", "indeterminate", "disposed"};
static const char *const verdict_label[] = {"Valid", "Invalid", "Indeterminate", "Disposed of"};

struct period {
	char ingested_from[KURA_TIME_BUFSZ], ingested_to[KURA_TIME_BUFSZ];
	char stamped_from[KURA_TIME_BUFSZ], stamped_to[KURA_TIME_BUFSZ];
	size_t count[sizeof verdicts / sizeof verdicts[0] + 1]; /* the last: any other verdict */
};

/* RFC 3339 times of one form compare as text; the span of those seen. */
static void widen(char *from, char *to, const char *t)
{
	if (!t || strlen(t) >= KURA_TIME_BUFSZ)
		return;
	if (!from[0] || strcmp(t, from) < 0)
		strcpy(from, t);
	if (!to[0] || strcmp(t, to) > 0)
		strcpy(to, t);
}

static void count(struct period *p, const json_t *objects)
{
	size_t i, k, j;
	const json_t *o, *chain, *ats;
	memset(p, 0, sizeof *p);
	json_array_foreach(objects, i, o) {
		const char *v = str(o, "verdict");
		for (k = 0; k < sizeof verdicts / sizeof verdicts[0] && !(v && strcmp(v, verdicts[k]) == 0); k++)
			;
		p->count[k]++;
		widen(p->ingested_from, p->ingested_to, str(json_object_get(o, "object"), "ingested"));
		json_array_foreach(json_object_get(o, "chains"), k, chain)
			json_array_foreach(json_object_get(chain, "ats"), j, ats)
				widen(p->stamped_from, p->stamped_to, str(ats, "genTime"));
	}
}

static void span(struct cells *c, const char *label, const char *from, const char *to)
{
	if (from[0]) {
		cells_addf(c, "%s", label);
		cells_addf(c, "%s to %s", from, to);
	}
}

static int summary(const json_t *report, const struct kura_report_sink *s, kura_error *err)
{
	struct cells c = {0};
	struct period p;
	const json_t *objects = json_object_get(report, "objects");
	count(&p, objects);
	char *kura = kura_report_text(report, "kura"), *store = kura_report_text(report, "store");
	int rc = !kura || !store ? kura_error_set(err, KURA_EINTERNAL, "out of memory")
				 : s->title(s->ud, "Evidence report", store, err);
	free(store);
	if (rc == 0)
		rc = s->heading(s->ud, 1, "Summary", NULL, err);
	pair(&c, "Store", str(report, "store"));
	pair(&c, "Selection", str(report, "selection"));
	pair(&c, "Made", str(report, "made"));
	if (kura && kura[0]) {
		cells_addf(&c, "By");
		cells_addf(&c, "kura %s", kura);
	}
	free(kura);
	pair(&c, "Policy", str(report, "policy"));
	cells_addf(&c, "Objects");
	cells_addf(&c, "%zu", json_array_size(objects));
	for (size_t k = 0; k < sizeof p.count / sizeof p.count[0]; k++)
		if (p.count[k] || k == 0)
			cells_addf(&c, "%s", k < sizeof verdicts / sizeof verdicts[0] ? verdict_label[k] : "Other verdicts"),
				cells_addf(&c, "%zu", p.count[k]);
	span(&c, "Ingested", p.ingested_from, p.ingested_to);
	span(&c, "Time-stamped", p.stamped_from, p.stamped_to);
	if (rc == 0)
		rc = cells_table(&c, s, NULL, 2, 0, err);
	cells_clear(&c);
	return rc;
}

/* The first time-stamp of an object: its first chain's first ATS. */
static const char *first_stamp(const json_t *o)
{
	return str(json_array_get(json_object_get(json_array_get(json_object_get(o, "chains"), 0), "ats"), 0),
		   "genTime");
}

static int overview(const json_t *objects, const struct kura_report_sink *s, kura_error *err)
{
	struct cells c = {0};
	size_t i;
	const json_t *o;
	static const char *head[] = {"ID", "Name", "Verdict", "First time-stamp", "Next renewal due"};
	for (size_t k = 0; k < 5; k++)
		cells_addf(&c, "%s", head[k]);
	json_array_foreach(objects, i, o) {
		const json_t *next = json_object_get(o, "next_renewal");
		cells_add(&c, str(o, "id"));
		cells_add(&c, str(json_object_get(o, "object"), "name"));
		cells_add(&c, str(o, "verdict"));
		cells_add(&c, first_stamp(o) ? first_stamp(o) : "not time-stamped");
		cells_add(&c, str(next, "due") ? str(next, "due") : json_is_object(next) ? "none foreseen" : "");
	}
	int rc = s->heading(s->ud, 1, "Objects", NULL, err);
	return rc == 0 ? cells_table(&c, s, NULL, 5, 1, err) : (cells_clear(&c), rc);
}

/* ---- one object ---- */

static void identity(struct cells *c, const json_t *o)
{
	const json_t *d = json_object_get(o, "object");
	const char *sig = str(o, "signature");
	pair(c, "ID", str(o, "id"));
	pair(c, "Name", str(d, "name"));
	if (str(d, "path") && str(d, "name") && strcmp(str(d, "path"), str(d, "name")) != 0)
		pair(c, "Path", str(d, "path"));
	if (json_is_integer(json_object_get(d, "size"))) {
		cells_addf(c, "Size");
		cells_addf(c, "%lld bytes", (long long)json_integer_value(json_object_get(d, "size")));
	}
	pair(c, "SHA-256", str(d, "sha256"));
	pair(c, "Ingested", str(d, "ingested"));
	pair(c, "Ingested by", str(d, "actor"));
	pair(c, "Verdict", str(o, "verdict"));
	pair(c, "Integrity", str(o, "integrity"));
	pair(c, "Trust", str(o, "trust"));
	pair(c, "Reason", str(o, "reason"));
	cells_addf(c, "Signature");
	cells_add(c, sig ? sig : "not a signed document");
	if (sig)
		pair(c, "Signature proven at", str(o, "signature_at") ? str(o, "signature_at") : "not proven");
}

static int metadata(const json_t *o, const struct kura_report_sink *s, kura_error *err)
{
	struct cells c = {0};
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)json_object_get(json_object_get(o, "object"), "meta"), k, v) {
		cells_add(&c, k);
		cells_add(&c, json_is_string(v) ? json_string_value(v) : "");
	}
	if (c.n == 0)
		return s->text(s->ud, "Metadata: none.", err);
	return cells_table(&c, s, "Metadata", 2, 0, err);
}

static int versions(const json_t *o, const struct kura_report_sink *s, kura_error *err)
{
	struct cells c = {0};
	size_t i;
	const json_t *v, *list = json_object_get(o, "versions");
	if (!json_is_array(list))
		return 0;
	static const char *head[] = {"Version", "ID", "Ingested", "Name", "Superseded by"};
	for (size_t k = 0; k < 5; k++)
		cells_addf(&c, "%s", head[k]);
	json_array_foreach(list, i, v) {
		int self = str(v, "id") && str(o, "id") && strcmp(str(v, "id"), str(o, "id")) == 0;
		cells_addf(&c, "%zu%s", i + 1, self ? " (this one)" : "");
		cells_add(&c, str(v, "id"));
		cells_add(&c, str(v, "ingested"));
		cells_add(&c, str(v, "name"));
		cells_add(&c, str(v, "superseded_by") ? str(v, "superseded_by") : "current");
	}
	return cells_table(&c, s, "Versions", 5, 1, err);
}

/* Which renewal an ATS was, from where RFC 4998 puts it. */
static const char *stamp_kind(size_t chain, size_t position)
{
	return position > 0 ? "time-stamp renewal" : chain > 0 ? "hash-tree renewal" : "first time-stamp";
}

static void stamp_row(struct cells *c, const json_t *chain, const json_t *ats, size_t ci, size_t ai)
{
	cells_addf(c, "%zu", ci + 1);
	cells_add(c, str(chain, "hash"));
	cells_addf(c, "%s", stamp_kind(ci, ai));
	cells_add(c, str(ats, "genTime"));
	cells_add(c, str(ats, "tsa"));
	cells_add(c, str(ats, "signature_algorithm"));
	cells_add(c, str(ats, "key"));
	char *trust = kura_report_text(ats, "trust"), *why = kura_report_text(ats, "reason");
	if (trust && why)
		cells_addf(c, "%s%s%s", trust, trust[0] && why[0] ? ": " : "", why);
	else
		cells_take(c, NULL);
	free(trust);
	free(why);
}

static int evidence(const json_t *o, const struct kura_report_sink *s, kura_error *err)
{
	struct cells c = {0};
	size_t i, j;
	const json_t *chain, *ats;
	static const char *head[] = {"Chain", "Hash", "Kind", "Time", "TSA", "Signature algorithm", "Key", "Result"};
	for (size_t k = 0; k < 8; k++)
		cells_addf(&c, "%s", head[k]);
	json_array_foreach(json_object_get(o, "chains"), i, chain)
		json_array_foreach(json_object_get(chain, "ats"), j, ats)
			stamp_row(&c, chain, ats, i, j);
	if (c.n == 8) {
		cells_clear(&c);
		const char *v = str(o, "verdict");
		return s->text(s->ud,
			       v && strcmp(v, "disposed") == 0 ? "Evidence: not checked, the content was disposed of (see Reason)."
								 : "Evidence: not time-stamped yet.",
			       err);
	}
	return cells_table(&c, s, "Evidence", 8, 1, err);
}

static int renewal(const json_t *o, const struct kura_report_sink *s, kura_error *err)
{
	const json_t *next = json_object_get(o, "next_renewal");
	char *line = NULL, *reason = kura_report_text(next, "reason");
	int n;
	if (json_array_size(json_object_get(o, "chains")) == 0)
		return 0; /* nothing to renew: the evidence line says why */
	if (!json_is_object(next))
		n = asprintf(&line, "Next renewal: %s.", json_is_null(next) ? "none foreseen" : "not known");
	else
		n = asprintf(&line, "Next renewal: %s due %s%s (%s).", str(next, "action") ?: "renewal",
			     str(next, "due") ?: "never", json_is_true(json_object_get(next, "due_now")) ? ", due now" : "",
			     reason ? reason : "");
	free(reason);
	if (n < 0)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	int rc = s->text(s->ud, line, err);
	free(line);
	return rc;
}

static int object(const json_t *o, int64_t made, const struct kura_report_sink *s, kura_error *err)
{
	struct cells c = {0};
	struct kura_timeline t;
	char *name = kura_report_text(json_object_get(o, "object"), "name");
	char *id = kura_report_text(o, "id");
	int rc = !name || !id ? kura_error_set(err, KURA_EINTERNAL, "out of memory")
				: s->heading(s->ud, 2, name[0] ? name : id, str(o, "verdict"), err);
	free(name);
	free(id);
	identity(&c, o);
	rc = rc == 0 ? cells_table(&c, s, "Identity", 2, 0, err) : (cells_clear(&c), rc);
	if (rc == 0)
		rc = metadata(o, s, err);
	if (rc == 0)
		rc = versions(o, s, err);
	if (rc == 0)
		rc = evidence(o, s, err);
	if (rc == 0)
		rc = renewal(o, s, err);
	if (rc == 0) {
		kura_timeline_make(&t, o, made);
		rc = s->timeline(s->ud, &t, err);
	}
	return rc;
}

int kura_report_walk(const json_t *report, const struct kura_report_sink *s, kura_error *err)
{
	const json_t *objects = json_object_get(report, "objects"), *o;
	int64_t made = 0;
	size_t i;
	if (!json_is_array(objects))
		return kura_error_set(err, KURA_EINPUT, "a report needs \"objects\": an array of verify reports");
	if (str(report, "made") && kura_time_parse(&made, str(report, "made"), NULL) != 0)
		made = 0;
	int rc = summary(report, s, err);
	if (rc == 0)
		rc = overview(objects, s, err);
	json_array_foreach(objects, i, o) {
		if (rc != 0)
			break;
		rc = object(o, made, s, err);
	}
	return rc;
}
