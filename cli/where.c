/* --where on the commands that act on a chosen set of objects (export, verify,
 * timeliness): the conditions as the options come, and the IDs of the hits,
 * each record's current version (kura/search.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kura/search.h"

int kura_cli_where_add(struct kura_cli_where *w, const char *text, kura_error *err)
{
	kura_where *v = realloc(w->v, (w->n + 1) * sizeof *v);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	w->v = v;
	int rc = kura_where_parse(&w->v[w->n], text, err);
	w->n += rc == 0;
	return rc;
}

void kura_cli_where_clear(struct kura_cli_where *w)
{
	for (size_t i = 0; i < w->n; i++)
		kura_where_clear(&w->v[i]);
	free(w->v);
	memset(w, 0, sizeof *w);
}

int kura_cli_id_list(char ***ids, const char *flat, size_t n, kura_error *err)
{
	/* one block: the pointers, then the IDs as strings */
	char **v = malloc(n * (sizeof *v + KURA_ID_LEN + 1) + 1);
	if (!v)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		v[i] = (char *)(v + n) + i * (KURA_ID_LEN + 1);
		memcpy(v[i], flat + i * KURA_ID_LEN, KURA_ID_LEN);
		v[i][KURA_ID_LEN] = '\0';
	}
	*ids = v;
	return 0;
}

int kura_cli_where_ids(char ***ids, size_t *n, const char *store, const struct kura_cli_where *w, kura_error *err)
{
	kura_store *st = NULL;
	kura_query q = {.where = w->v, .n = w->n};
	char *flat = NULL;
	*ids = NULL;
	*n = 0;
	int rc = kura_store_open(&st, store, KURA_STORE_READ, err);
	if (rc == 0)
		rc = kura_search_ids(&flat, n, st, &q, err);
	kura_store_close(st);
	char **v = NULL;
	if (rc == 0)
		rc = kura_cli_id_list(&v, flat, *n, err);
	if (rc == 0 && *n == 0)
		rc = kura_error_set(err, KURA_ENOTFOUND, "no object matches the --where conditions");
	free(flat);
	if (rc != 0) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*ids = v;
	return rc;
}
