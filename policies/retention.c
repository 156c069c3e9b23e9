/* Retention classes from YAML and the arithmetic of their ends (retention.h
 * says the format and THE ARITHMETIC, which is enforced here and only here).
 * A file with any error is refused whole, naming the line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/civil.h"
#include "common/unicode.h"
#include "policies/retention.h"
#include "policies/yaml_doc.h"

extern const char kura_shipped_retention[];

static const char *const event_names[] = {"fiscal-year-end", "handover", "trial-end", "approval", "discontinued", NULL};

/* ---------------------------------------------------------------- dates */

int kura_date_parse(int32_t *day, const char *s)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1000 || m < 1 || m > 12 || d < 1 || d > kura_civil_days_in_month(y, m))
		return -1;
	*day = kura_civil_days(y, m, d);
	return 0;
}

void kura_date_format(char buf[KURA_DATE_BUFSZ], int32_t day)
{
	int y, m, d;
	kura_civil_date(day, &y, &m, &d);
	snprintf(buf, KURA_DATE_BUFSZ, "%04d-%02d-%02d", y, m, d);
}

void kura_date_civil(int32_t day, int *year, int *month, int *mday)
{
	kura_civil_date(day, year, month, mday);
}

int32_t kura_date_add(int32_t day, int years, int months)
{
	int y, m, d;
	kura_civil_date(day, &y, &m, &d);
	int total = y * 12 + (m - 1) + years * 12 + months;
	y = total / 12;
	m = total % 12 + 1;
	if (d > kura_civil_days_in_month(y, m)) /* no such day: the first of the next month */
		return kura_civil_days(y, m, kura_civil_days_in_month(y, m)) + 1;
	return kura_civil_days(y, m, d);
}

int32_t kura_date_period_end(int32_t day, int years, int months)
{
	if (years == 0 && months == 0)
		return day;
	return kura_date_add(day + 1, years, months) - 1;
}

int kura_retention_event_known(const char *name)
{
	for (int i = 0; name && event_names[i]; i++)
		if (strcmp(name, event_names[i]) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- a record's end */

static int32_t rule_end(const kura_retention_rule *r, int32_t event)
{
	return kura_date_period_end(kura_date_period_end(event, 0, r->months), r->years, 0);
}

/* The day of the last event named name, or -1 (none). */
static int find_event(int32_t *day, const kura_retention_event *ev, size_t n, const char *name)
{
	int found = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(ev[i].name, name) == 0)
			*day = ev[i].day, found = 1;
	return found ? 0 : -1;
}

void kura_retention_compute(kura_retention_end *out, const kura_retention_class *c, const kura_retention_event *ev,
			    size_t n)
{
	memset(out, 0, sizeof *out);
	out->known = c->nterms > 0;
	for (size_t t = 0; t < c->nterms && out->known; t++) {
		kura_retention_end best = {0};
		for (size_t a = 0; a < c->term[t].nalts; a++) {
			const kura_retention_rule *r = &c->term[t].alt[a];
			int32_t day, end;
			if (find_event(&day, ev, n, r->event) != 0)
				continue;
			end = rule_end(r, day);
			if (!best.known || end > best.end)
				best = (kura_retention_end){1, end, r->event, day, NULL};
		}
		if (!best.known) {
			out->known = 0;
			out->missing = c->term[t].alt[0].event;
		} else if (t == 0 || best.end > out->end)
			*out = best;
	}
}

int kura_retention_over(const kura_retention_end *e, int32_t today)
{
	return e->known && today > e->end; /* kept to the end of its last day */
}

/* ---------------------------------------------------------------- reading */

/* Refuses a key of map that is not in keys (a typo would otherwise be ignored). */
static int only_keys(struct kura_yaml *y, yaml_node_t *map, const char *const *keys, const char *what)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		const char *name = kura_yaml_scalar(k);
		size_t i = 0;
		while (name && keys[i] && strcmp(keys[i], name) != 0)
			i++;
		if (!name || !keys[i])
			return kura_yaml_bad(y, k, what, name ? name : "?");
	}
	return 0;
}

static int number(int *out, struct kura_yaml *y, yaml_node_t *map, const char *key, int max)
{
	const char *s;
	yaml_node_t *n;
	int rc = kura_yaml_lookup_scalar(&s, &n, y, map, key);
	*out = 0;
	if (rc != 0 || !s)
		return rc;
	size_t len = strlen(s);
	if (len == 0 || len > 4 || strspn(s, "0123456789") != len || atoi(s) > max)
		return kura_yaml_bad(y, n, "%s must be a whole number (0 to a few hundred years)", key);
	*out = atoi(s);
	return 0;
}

/* {from: EVENT, months: M, years: Y} */
static int read_rule(kura_retention_rule *r, struct kura_yaml *y, yaml_node_t *n)
{
	static const char *const keys[] = {"from", "months", "years", NULL};
	const char *from;
	yaml_node_t *fn;
	if (!n || n->type != YAML_MAPPING_NODE)
		return kura_yaml_bad(y, n, "a rule is {from: EVENT, months: M, years: Y}%s", "");
	int rc = only_keys(y, n, keys, "'%s' is not part of a rule (from, months, years)");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&from, &fn, y, n, "from");
	if (rc == 0 && (!from || (strcmp(from, "ingest") != 0 && !kura_retention_event_known(from))))
		rc = kura_yaml_bad(y, fn ? fn : n, "from must name an event (ingest, " KURA_RETENTION_EVENTS "), not '%s'",
				   from ? from : "nothing");
	if (rc == 0)
		rc = number(&r->months, y, n, "months", 1200);
	if (rc == 0)
		rc = number(&r->years, y, n, "years", 200);
	if (rc == 0)
		snprintf(r->event, sizeof r->event, "%s", from);
	return rc;
}

/* One term of keep: a rule, or {any: [rules]}. */
static int read_term(kura_retention_class *c, struct kura_yaml *y, yaml_node_t *n)
{
	yaml_node_t *any = NULL;
	int rc = n && n->type == YAML_MAPPING_NODE ? kura_yaml_lookup(&any, y, n, "any") : 0;
	if (rc != 0)
		return rc;
	size_t t = c->nterms++;
	if (!any) {
		c->term[t].nalts = 1;
		return read_rule(&c->term[t].alt[0], y, n);
	}
	static const char *const keys[] = {"any", NULL};
	if ((rc = only_keys(y, n, keys, "'%s': a term is a rule or {any: [rules]}")) != 0)
		return rc;
	if (any->type != YAML_SEQUENCE_NODE || any->data.sequence.items.top == any->data.sequence.items.start ||
	    any->data.sequence.items.top - any->data.sequence.items.start > KURA_RETENTION_MAX_ALTS)
		return kura_yaml_bad(y, any, "any must be a list of 1 to 4 rules%s", "");
	for (yaml_node_item_t *it = any->data.sequence.items.start; rc == 0 && it < any->data.sequence.items.top; it++)
		rc = read_rule(&c->term[t].alt[c->term[t].nalts++], y, yaml_document_get_node(&y->doc, *it));
	return rc;
}

static const char *const field_types[] = {"date", "datetime", "amount", "integer", "text", "keyword", NULL};

/* A metadata key: 1 to 63 bytes of Unicode letters and digits, '_', '-', '.', ':' (as ingest's keys). */
static int field_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0, at = 0;
	if (n == 0 || n >= 64 || !kura_unicode_valid(s, n))
		return 0;
	while (at < n) {
		int cp;
		size_t len = kura_unicode_next(s + at, n - at, &cp);
		if (len == 0 || (!kura_unicode_is_alnum(cp) && (cp >= 128 || !strchr("_-.:", cp))))
			return 0;
		at += len;
	}
	return 1;
}

/* {name: KEY, type: TYPE, required: true|false} */
static int read_field(kura_retention_field *f, struct kura_yaml *y, yaml_node_t *n)
{
	static const char *const keys[] = {"name", "type", "required", NULL};
	const char *name, *type, *req;
	yaml_node_t *nn, *tn, *rn;
	if (!n || n->type != YAML_MAPPING_NODE)
		return kura_yaml_bad(y, n, "a field is {name: KEY, type: TYPE, required: true}%s", "");
	int rc = only_keys(y, n, keys, "'%s' is not part of a field (name, type, required)");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&name, &nn, y, n, "name");
	if (rc == 0 && !field_name_ok(name))
		rc = kura_yaml_bad(y, nn ? nn : n, "'%s' is no field name (1 to 63 bytes of letters, digits, '_', '-', '.', ':')",
				   name ? name : "nothing");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&type, &tn, y, n, "type");
	size_t i = 0;
	while (rc == 0 && type && field_types[i] && strcmp(type, field_types[i]) != 0)
		i++;
	if (rc == 0 && (!type || !field_types[i]))
		rc = kura_yaml_bad(y, tn ? tn : n, "a field's type is one of " KURA_RETENTION_FIELD_TYPES ", not '%s'",
				   type ? type : "nothing");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&req, &rn, y, n, "required");
	if (rc == 0 && req && strcmp(req, "true") != 0 && strcmp(req, "false") != 0)
		rc = kura_yaml_bad(y, rn, "required is true or false, not '%s'", req);
	if (rc != 0)
		return rc;
	snprintf(f->name, sizeof f->name, "%s", name);
	snprintf(f->type, sizeof f->type, "%s", type);
	f->required = req && strcmp(req, "true") == 0;
	return 0;
}

static int read_fields(kura_retention_class *c, struct kura_yaml *y, yaml_node_t *v)
{
	yaml_node_t *fields;
	int rc = kura_yaml_lookup(&fields, y, v, "fields");
	if (rc != 0 || !fields)
		return rc;
	if (fields->type != YAML_SEQUENCE_NODE ||
	    fields->data.sequence.items.top - fields->data.sequence.items.start > KURA_RETENTION_MAX_FIELDS)
		return kura_yaml_bad(y, fields, "fields must be a list of at most 16 fields ({name, type, required})%s", "");
	for (yaml_node_item_t *it = fields->data.sequence.items.start; rc == 0 && it < fields->data.sequence.items.top; it++) {
		kura_retention_field *f = &c->field[c->nfields];
		yaml_node_t *n = yaml_document_get_node(&y->doc, *it);
		if ((rc = read_field(f, y, n)) != 0)
			break;
		for (size_t j = 0; j < c->nfields; j++)
			if (strcmp(c->field[j].name, f->name) == 0)
				return kura_yaml_bad(y, n, "field '%s' is given twice", f->name);
		c->nfields++;
	}
	return rc;
}

static int class_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n > 0 && n < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == n;
}

static int read_class(kura_retention_class *c, struct kura_yaml *y, yaml_node_t *k, yaml_node_t *v)
{
	static const char *const keys[] = {"title", "keep", "source", "note", "fields", NULL};
	const char *name = kura_yaml_scalar(k), *title, *source, *note;
	yaml_node_t *keep;
	if (!class_name_ok(name))
		return kura_yaml_bad(y, k, "'%s' is no class name (1 to 63 of a-z, 0-9, '-', '_', '.')", name ? name : "?");
	if (!v || v->type != YAML_MAPPING_NODE)
		return kura_yaml_bad(y, k, "class %s is a mapping with title, keep and source", name);
	int rc = only_keys(y, v, keys, "'%s' is not part of a class (title, keep, source, note, fields)");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&title, NULL, y, v, "title");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&source, NULL, y, v, "source");
	if (rc == 0)
		rc = kura_yaml_lookup_scalar(&note, NULL, y, v, "note");
	if (rc == 0 && (!source || !*source))
		rc = kura_yaml_bad(y, k, "class %s needs a source: the law and article its rule comes from", name);
	if (rc == 0)
		rc = kura_yaml_lookup(&keep, y, v, "keep");
	if (rc == 0 && (!keep || keep->type != YAML_SEQUENCE_NODE || keep->data.sequence.items.top == keep->data.sequence.items.start ||
			keep->data.sequence.items.top - keep->data.sequence.items.start > KURA_RETENTION_MAX_TERMS))
		rc = kura_yaml_bad(y, keep ? keep : k, "keep must be a list of 1 to 4 terms (rules or {any: [rules]})%s", "");
	if (rc != 0)
		return rc;
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->title, sizeof c->title, "%s", title ? title : name);
	snprintf(c->source, sizeof c->source, "%s", source);
	snprintf(c->note, sizeof c->note, "%s", note ? note : "");
	for (yaml_node_item_t *it = keep->data.sequence.items.start; rc == 0 && it < keep->data.sequence.items.top; it++)
		rc = read_term(c, y, yaml_document_get_node(&y->doc, *it));
	return rc == 0 ? read_fields(c, y, v) : rc;
}

static int read_file(kura_retention *r, struct kura_yaml *y)
{
	yaml_node_t *root = yaml_document_get_root_node(&y->doc), *n, *classes;
	const char *version;
	if (!root || root->type != YAML_MAPPING_NODE)
		return kura_yaml_bad(y, NULL, "a retention file is a YAML mapping with kura-retention: 1 and classes%s", "");
	int rc = kura_yaml_lookup_scalar(&version, &n, y, root, "kura-retention");
	if (rc == 0 && (!version || strcmp(version, "1") != 0))
		rc = kura_yaml_bad(y, n, "kura-retention: 1 is missing (this kura reads retention format 1)%s", "");
	if (rc == 0)
		rc = kura_yaml_lookup(&classes, y, root, "classes");
	if (rc == 0 && (!classes || classes->type != YAML_MAPPING_NODE))
		rc = kura_yaml_bad(y, classes, "classes must be a mapping of class names to classes%s", "");
	if (rc != 0)
		return rc;
	size_t max = (size_t)(classes->data.mapping.pairs.top - classes->data.mapping.pairs.start);
	if (max > 1000)
		return kura_yaml_bad(y, classes, "more than 1000 classes%s", "");
	if (max && !(r->c = calloc(max, sizeof *r->c)))
		return kura_error_set(y->err, KURA_EINTERNAL, "out of memory");
	for (yaml_node_pair_t *p = classes->data.mapping.pairs.start; rc == 0 && p < classes->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		if (kura_retention_find(r, kura_yaml_scalar(k)))
			return kura_yaml_bad(y, k, "class '%s' is given twice", kura_yaml_scalar(k));
		rc = read_class(&r->c[r->n++], y, k, yaml_document_get_node(&y->doc, p->value));
	}
	return rc;
}

int kura_retention_parse(kura_retention *out, const char *text, size_t len, const char *origin, kura_error *err)
{
	struct kura_yaml y;
	memset(out, 0, sizeof *out);
	int rc = kura_yaml_load(&y, text, len, origin, err);
	if (rc == 0)
		rc = read_file(out, &y);
	kura_yaml_free(&y);
	if (rc != 0)
		kura_retention_free(out);
	return rc;
}

int kura_retention_shipped(kura_retention *out, kura_error *err)
{
	int rc = kura_retention_parse(out, kura_shipped_retention, strlen(kura_shipped_retention), "policies/retention.yaml", err);
	for (size_t i = 0; rc == 0 && i < out->n; i++)
		out->c[i].shipped = 1;
	return rc;
}

int kura_retention_merge(kura_retention *into, const kura_retention *add, kura_error *err)
{
	for (size_t i = 0; i < add->n; i++)
		if (kura_retention_find(into, add->c[i].name))
			return kura_error_set(err, KURA_EINPUT, "class %s is defined twice (a shipped class cannot be redefined: "
								"give yours another name)", add->c[i].name);
	kura_retention_class *c = realloc(into->c, (into->n + add->n + 1) * sizeof *c);
	if (!c)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (add->n)
		memcpy(c + into->n, add->c, add->n * sizeof *c);
	into->c = c;
	into->n += add->n;
	return 0;
}

void kura_retention_free(kura_retention *r)
{
	free(r->c);
	r->c = NULL;
	r->n = 0;
}

const kura_retention_class *kura_retention_find(const kura_retention *r, const char *name)
{
	for (size_t i = 0; name && i < r->n; i++)
		if (strcmp(r->c[i].name, name) == 0)
			return &r->c[i];
	return NULL;
}

/* ---------------------------------------------------------------- saying it */

static size_t rule_text(char *buf, size_t n, const kura_retention_rule *r)
{
	size_t at = (size_t)snprintf(buf, n, "%s", r->event);
	if (r->months && at < n)
		at += (size_t)snprintf(buf + at, n - at, " + %d month%s", r->months, r->months == 1 ? "" : "s");
	if (r->years && at < n)
		at += (size_t)snprintf(buf + at, n - at, " + %d year%s", r->years, r->years == 1 ? "" : "s");
	return at < n ? at : n;
}

void kura_retention_rule_text(char *buf, size_t n, const kura_retention_class *c)
{
	size_t at = c->nterms > 1 ? (size_t)snprintf(buf, n, "the later of ") : 0;
	if (n)
		buf[at] = '\0';
	for (size_t t = 0; t < c->nterms && at < n; t++) {
		if (t)
			at += (size_t)snprintf(buf + at, n - at, " and ");
		for (size_t a = 0; a < c->term[t].nalts && at < n; a++) {
			if (a)
				at += (size_t)snprintf(buf + at, n - at, " or ");
			if (at < n)
				at += rule_text(buf + at, n - at, &c->term[t].alt[a]);
		}
	}
}

json_t *kura_retention_json(const kura_retention *r)
{
	json_t *list = json_array();
	for (size_t i = 0; list && i < r->n; i++) {
		const kura_retention_class *c = &r->c[i];
		json_t *keep = json_array();
		for (size_t t = 0; keep && t < c->nterms; t++) {
			json_t *alts = json_array();
			for (size_t a = 0; alts && a < c->term[t].nalts; a++)
				json_array_append_new(alts, json_pack("{s:s, s:i, s:i}", "from", c->term[t].alt[a].event, "years",
								      c->term[t].alt[a].years, "months", c->term[t].alt[a].months));
			json_array_append_new(keep, alts);
		}
		json_t *fields = json_array();
		for (size_t f = 0; fields && f < c->nfields; f++)
			json_array_append_new(fields, json_pack("{s:s, s:s, s:b}", "name", c->field[f].name, "type",
								c->field[f].type, "required", c->field[f].required));
		char text[512];
		kura_retention_rule_text(text, sizeof text, c);
		json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:b, s:o}", "name", c->name, "title",
						      c->title, "keep", keep ? keep : json_null(), "rule", text, "source",
						      c->source, "note", c->note, "shipped", c->shipped, "fields",
						      fields ? fields : json_null()));
	}
	return list;
}
