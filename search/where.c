/* The conditions of a search, as `--where` gives them: "FIELD OP VALUE" with
 * OP one of = != < <= > >= ^= (spaces around OP allowed), or "FIELD is empty".
 * The field name is put in NFC, as metadata keys are; the value is kept as
 * given (search/query.c reads it as the field's type). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/unicode.h"
#include "kura/search.h"

static const struct {
	const char *text;
	kura_where_op op;
} ops[] = {{">=", KURA_WHERE_GE}, {"<=", KURA_WHERE_LE}, {"!=", KURA_WHERE_NE}, {"^=", KURA_WHERE_PREFIX},
	   {"=", KURA_WHERE_EQ},  {"<", KURA_WHERE_LT},  {">", KURA_WHERE_GT}};

static const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int kura_where_parse(kura_where *out, const char *text, kura_error *err)
{
	memset(out, 0, sizeof *out);
	size_t n = strcspn(text, "=!<>^ \t");
	const char *rest = skip_spaces(text + n), *value = NULL;
	if (n == 0)
		return kura_error_set(err, KURA_EINPUT, "'%s' names no field: give FIELD OP VALUE, e.g. amount>=100000", text);
	if (strncasecmp(rest, "is empty", 8) == 0 && !*skip_spaces(rest + 8))
		out->op = KURA_WHERE_EMPTY;
	else {
		size_t i = 0;
		while (i < sizeof ops / sizeof ops[0] && strncmp(rest, ops[i].text, strlen(ops[i].text)) != 0)
			i++;
		if (i == sizeof ops / sizeof ops[0])
			return kura_error_set(err, KURA_EINPUT,
					      "'%s' has no operator: use = != < <= > >= ^= (prefix) or 'is empty'", text);
		out->op = ops[i].op;
		value = skip_spaces(rest + strlen(ops[i].text));
		if (!*value)
			return kura_error_set(err, KURA_EINPUT, "'%s' compares with nothing: for no value, write '%.*s is empty'",
					      text, (int)n, text);
	}
	int rc = kura_unicode_nfc(&out->field, text, n, err);
	if (rc == 0 && value && !(out->value = strdup(value)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0)
		kura_where_clear(out);
	return rc;
}

void kura_where_clear(kura_where *w)
{
	free(w->field);
	free(w->value);
	memset(w, 0, sizeof *w);
}
