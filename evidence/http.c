/* HTTP with libcurl for the TSA, OCSP and CRL clients (see http.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "evidence/http.h"

#define MAX_RESPONSE (16u << 20)

struct body {
	unsigned char *p;
	size_t n;
	int too_big;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t add = size * nmemb;
	if (b->n + add > MAX_RESPONSE) {
		b->too_big = 1;
		return 0;
	}
	unsigned char *g = realloc(b->p, b->n + add);
	if (!g)
		return 0;
	memcpy(g + b->n, data, add);
	b->p = g;
	b->n += add;
	return add;
}

int kura_http_fetch(unsigned char **resp, size_t *rlen, const char *url, const char *content_type,
		    const unsigned char *body, size_t len, long timeout_s, kura_error *err)
{
	static int initialised;
	if (!initialised) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		initialised = 1;
	}
	char header[128];
	snprintf(header, sizeof header, "Content-Type: %s", content_type ? content_type : "application/octet-stream");
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = body ? curl_slist_append(NULL, header) : NULL;
	struct body b = {0};
	int rc = 0;
	if (!c || (body && !hdr)) {
		rc = kura_error_set(err, KURA_EINTERNAL, "cannot set up HTTP");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s < 10 ? timeout_s : 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK)
		rc = kura_error_set(err, KURA_EIO, "%s", b.too_big ? "answer larger than 16 MiB" : curl_easy_strerror(cc));
	else if (status != 200)
		rc = kura_error_set(err, KURA_EIO, "HTTP status %ld", status);
	else if (b.n == 0)
		rc = kura_error_set(err, KURA_EIO, "empty answer");
out:
	if (rc == 0) {
		*resp = b.p;
		*rlen = b.n;
	} else {
		free(b.p);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return rc;
}
