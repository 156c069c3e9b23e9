/* One HTTP exchange with libcurl: a POST (a time-stamp or OCSP request) or a GET
 * (a CRL from a distribution point). Answers are capped at 16 MiB; no redirects
 * are followed (RFC 3161, RFC 6960 and RFC 5280 fetches never need them). */
#ifndef KURA_HTTP_H
#define KURA_HTTP_H

#include <stddef.h>

#include "kura/error.h"

/* POSTs body (of content_type) to url, or GETs url when body is NULL. *resp is
 * malloc'd, the caller's. KURA_EIO with curl's reason or the HTTP status when
 * there is no 200 answer with a body. timeout_s bounds the whole exchange. */
int kura_http_fetch(unsigned char **resp, size_t *rlen, const char *url, const char *content_type,
		    const unsigned char *body, size_t len, long timeout_s, kura_error *err);

#endif
