/* The store's status over the preservation service (docs/SERVICE.md): GET
 * /api/v1/status answers what `kura status --json` prints, GET /metrics what
 * `kura status --prometheus` prints (for a Prometheus scrape with a bearer
 * token). Both are about the whole store, so an account limited to
 * collections may not have them (403): it sees nothing of the others. */
#include <stdio.h>
#include <stdlib.h>

#include "kura/status.h"
#include "server/service.h"

/* The status of the store, or NULL with the call answered. */
static json_t *status_of(kura_api_call *call)
{
	json_t *s = NULL;
	kura_error err = {0};
	if (call->user->ncollections) {
		kura_api_error(call, MHD_HTTP_FORBIDDEN, "the store's status is about every collection: an account "
							 "limited to collections may not see it");
		return NULL;
	}
	if (kura_status(&s, call->st, &err) != 0)
		kura_api_fail(call, &err);
	return s;
}

void kura_api_store_status(kura_api_call *call)
{
	json_t *s = status_of(call);
	if (s)
		kura_api_json(call, MHD_HTTP_OK, s);
}

void kura_api_metrics(kura_api_call *call)
{
	json_t *s = status_of(call);
	kura_error err = {0};
	char *text = NULL;
	size_t len = 0;
	FILE *f = s ? open_memstream(&text, &len) : NULL;
	if (!s)
		return;
	int rc = f ? kura_status_prometheus(f, s, &err) : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (f && fclose(f) != 0 && rc == 0)
		rc = kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		kura_api_bytes(call, MHD_HTTP_OK, text, len, "text/plain; version=0.0.4; charset=utf-8");
	} else {
		free(text);
		kura_api_fail(call, &err);
	}
	json_decref(s);
}
