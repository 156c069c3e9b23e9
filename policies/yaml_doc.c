/* Reading kura's YAML files (renewal policies, retention classes) with libyaml:
 * what every reader shares, so that each refuses hostile text the same way and
 * every message names the file and line (see yaml_doc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "policies/yaml_doc.h"

#define MAX_NESTING 32 /* a policy nests 3 deep, retention classes 6; libyaml takes time quadratic in the depth of flow nesting */

int kura_yaml_bad(struct kura_yaml *y, yaml_node_t *n, const char *fmt, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, what ? what : "");
	if (n)
		return kura_error_set(y->err, KURA_EINPUT, "%s line %lu: %s; nothing was changed", y->origin,
				      (unsigned long)n->start_mark.line + 1, msg);
	return kura_error_set(y->err, KURA_EINPUT, "%s: %s; nothing was changed", y->origin, msg);
}

const char *kura_yaml_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* YAML's null written out: a plain (unquoted) null or ~. Nothing at all is no
 * null here: "until:" left empty is a slip, not "no end". */
int kura_yaml_is_null(yaml_node_t *n)
{
	const char *s = kura_yaml_scalar(n);
	return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
}

/* *out: the value of key in mapping map (NULL when absent). A key given twice
 * is an error: which of the two was meant cannot be told. */
int kura_yaml_lookup(yaml_node_t **out, struct kura_yaml *y, yaml_node_t *map, const char *key)
{
	*out = NULL;
	if (!map || map->type != YAML_MAPPING_NODE)
		return 0;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&y->doc, p->key);
		const char *name = kura_yaml_scalar(k);
		if (!name || strcmp(name, key) != 0)
			continue;
		if (*out)
			return kura_yaml_bad(y, k, "'%s' is given twice", key);
		*out = yaml_document_get_node(&y->doc, p->value);
	}
	return 0;
}

/* The value of key as a scalar (NULL when absent); anything else is an error. */
int kura_yaml_lookup_scalar(const char **out, yaml_node_t **node, struct kura_yaml *y, yaml_node_t *map, const char *key)
{
	yaml_node_t *n;
	int rc = kura_yaml_lookup(&n, y, map, key);
	*out = rc == 0 ? kura_yaml_scalar(n) : NULL;
	if (node)
		*node = n;
	if (rc == 0 && n && !*out)
		rc = kura_yaml_bad(y, n, "%s must be a single value, not a list or a mapping", key);
	if (rc == 0 && *out && kura_escape_needs_control(*out, strlen(*out)))
		rc = kura_yaml_bad(y, n, "%s holds a control character (a tab, a line break...): write it on one line", key);
	return rc;
}

/* Refuses YAML nested deeper than MAX_NESTING, holding anchors or aliases
 * (libyaml registers and finds them in time quadratic in their number), or
 * holding more than one document (libyaml would load the first and drop the
 * rest), before it is loaded: libyaml's
 * scanner looks at every open flow level for each token, so 500,000 '[' in a
 * 1 MiB file would take hours. Events are read one by one and the reading stops
 * at the first level too deep, so this costs time linear in the text. Syntax
 * errors are left for the load, which says them with their line. */
static int check_nesting(const char *text, size_t len, const char *origin, kura_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, rc = 0, done = 0, documents = 0;
	if (!yaml_parser_initialize(&parser))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && rc == 0 && yaml_parser_parse(&parser, &ev)) {
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT)
			depth--;
		done = ev.type == YAML_STREAM_END_EVENT;
		const yaml_char_t *anchor = ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor
					    : ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
					    : ev.type == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor : NULL;
		if (ev.type == YAML_ALIAS_EVENT || anchor)
			rc = kura_error_set(err, KURA_EINPUT, "%s line %lu: an anchor or alias ('&' or '*'): kura's files write "
							      "each value out (libyaml takes time quadratic in their number); "
							      "nothing was changed", origin, (unsigned long)ev.start_mark.line + 1);
		else if (ev.type == YAML_DOCUMENT_START_EVENT && ++documents > 1)
			rc = kura_error_set(err, KURA_EINPUT, "%s line %lu: a second YAML document ('---'): kura's files are one "
							      "document (the second would be ignored); nothing was changed", origin,
					    (unsigned long)ev.start_mark.line + 1);
		else if (depth > MAX_NESTING)
			rc = kura_error_set(err, KURA_EINPUT, "%s line %lu: lists and mappings nested more than %d deep (kura's "
							      "files need 6); nothing was changed", origin,
					    (unsigned long)ev.start_mark.line + 1, MAX_NESTING);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

int kura_yaml_load(struct kura_yaml *y, const char *text, size_t len, const char *origin, kura_error *err)
{
	memset(y, 0, sizeof *y);
	y->origin = origin;
	y->err = err;
	int rc = check_nesting(text, len, origin, err);
	if (rc != 0)
		return rc;
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &y->doc)) {
		unsigned long line = (unsigned long)(parser.problem_mark.line + 1);
		size_t at = parser.problem_mark.index;
		int tab = at < len && text[at] == '\t';
		rc = kura_error_set(err, KURA_EINPUT, "%s line %lu: not valid YAML: %s%s; nothing was changed", origin, line,
				    parser.problem ? parser.problem : "unreadable", tab ? " (a tab: YAML indents with spaces)" : "");
	} else
		y->loaded = 1;
	yaml_parser_delete(&parser);
	return rc;
}

void kura_yaml_free(struct kura_yaml *y)
{
	if (y->loaded)
		yaml_document_delete(&y->doc);
	y->loaded = 0;
}
