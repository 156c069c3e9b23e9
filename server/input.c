/* What a request gives, taken as strictly by every route that takes it: the
 * metadata and names of a query string (PreservePO and UpdatePOC with the
 * document as the body) under the rules of the JSON form, and base64 (RFC
 * 4648, common/base64.c) in a JSON body. Nothing a client sends is cut,
 * dropped or changed on the way in: it is stored as given or refused (400). */
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "server/service.h"

struct meta_walk {
	kura_api_meta *m;
	kura_error *err;
	int rc;
};

/* One meta=KEY=VALUE of the query (value_size: its decoded length, NULs counted). */
static enum MHD_Result meta_pair(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
				 const char *value, size_t value_size)
{
	(void)kind;
	struct meta_walk *w = cls;
	kura_api_meta *m = w->m;
	if (w->rc != 0 || key_size != 4 || memcmp(key, "meta", 4) != 0)
		return MHD_YES;
	const char *eq = value ? memchr(value, '=', value_size) : NULL;
	if (m->n == KURA_API_META_MAX)
		w->rc = kura_error_set(w->err, KURA_EINPUT, "more than %d meta=KEY=VALUE pairs: a document has at most %d "
							    "metadata (as in the JSON form); nothing was stored",
				       KURA_API_META_MAX, KURA_API_META_MAX);
	else if (!eq)
		w->rc = kura_error_set(w->err, KURA_EINPUT, "meta=%.60s has no '=': give meta=KEY=VALUE (meta=KEY= for an "
							    "empty value); nothing was stored", value ? value : "");
	else if (memchr(value, '\0', value_size))
		w->rc = kura_error_set(w->err, KURA_EINPUT, "metadata %.60s holds a NUL byte (%%00) in its key or value: "
							    "remove it; nothing was stored", value);
	else if (!(m->text[m->n] = malloc(value_size + 1)))
		w->rc = kura_error_set(w->err, KURA_EINTERNAL, "out of memory");
	if (w->rc != 0)
		return MHD_NO;
	char *t = m->text[m->n];
	memcpy(t, value, value_size);
	t[value_size] = '\0';
	t[eq - value] = '\0';
	m->v[m->n++] = (kura_meta){t, t + (eq - value) + 1};
	return MHD_YES;
}

int kura_api_query_meta(kura_api_meta *m, kura_api_call *call, kura_error *err)
{
	struct meta_walk w = {.m = m, .err = err};
	memset(m, 0, sizeof *m);
	MHD_get_connection_values_n(call->c, MHD_GET_ARGUMENT_KIND, meta_pair, &w);
	return w.rc;
}

void kura_api_meta_clear(kura_api_meta *m)
{
	for (size_t i = 0; m && i < m->n; i++)
		free(m->text[i]);
	if (m)
		m->n = 0;
}

struct key_count {
	const char *key;
	int n;
};

static enum MHD_Result count_key(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
				 const char *value, size_t value_size)
{
	(void)kind, (void)value, (void)value_size;
	struct key_count *k = cls;
	k->n += key_size == strlen(k->key) && memcmp(key, k->key, key_size) == 0;
	return MHD_YES;
}

int kura_api_query_arg(const char **value, kura_api_call *call, const char *key, int nonempty, kura_error *err)
{
	size_t len = 0;
	struct key_count k = {key, 0};
	*value = NULL;
	MHD_get_connection_values_n(call->c, MHD_GET_ARGUMENT_KIND, count_key, &k);
	if (k.n > 1) /* which one counts would be a guess */
		return kura_error_set(err, KURA_EINPUT, "%s= is given %d times: give it once; nothing was stored", key, k.n);
	if (MHD_lookup_connection_value_n(call->c, MHD_GET_ARGUMENT_KIND, key, strlen(key), value, &len) != MHD_YES ||
	    !*value)
		return 0;
	if (memchr(*value, '\0', len))
		return kura_error_set(err, KURA_EINPUT, "%s=%.60s... holds a NUL byte (%%00): remove it; nothing was stored",
				      key, *value);
	if (nonempty && len == 0)
		return kura_error_set(err, KURA_EINPUT, "%s= is empty: give %s=NAME; nothing was stored", key, key);
	return 0;
}

int kura_api_base64(unsigned char **out, size_t *len, json_t *v, const char *field, kura_error *err)
{
	*out = NULL;
	*len = 0;
	int rc = json_is_string(v) ? kura_base64_decode(out, len, json_string_value(v), json_string_length(v)) : -1;
	if (rc == -2)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc != 0)
		return kura_error_set(err, KURA_EINPUT, "%s is not base64: give RFC 4648 base64 (A-Z a-z 0-9 + /, its length "
							"a multiple of 4, '=' only as the last one or two characters, no "
							"spaces or line breaks); nothing was stored", field);
	return 0;
}
