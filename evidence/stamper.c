/* Time-stamp acquisition with failover (see stamper.h); HTTP with libcurl. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "evidence/stamper.h"
#include "evidence/tsp.h"

#define MAX_RESPONSE (4u << 20)

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

int kura_tsa_http_post(unsigned char **resp, size_t *rlen, const char *url, const unsigned char *req, size_t len,
		       long timeout_s, kura_error *err)
{
	static int initialised;
	if (!initialised) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		initialised = 1;
	}
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/timestamp-query");
	struct body b = {0};
	int rc = 0;
	if (!c || !hdr) {
		rc = kura_error_set(err, KURA_EINTERNAL, "cannot set up HTTP");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout_s < 10 ? timeout_s : 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	CURLcode cc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK)
		rc = kura_error_set(err, KURA_EIO, "%s", b.too_big ? "answer larger than 4 MiB" : curl_easy_strerror(cc));
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

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int kura_stamp(unsigned char **token, size_t *len, const char **from, const kura_stamper_options *o,
	       const EVP_MD *md, const unsigned char *imprint, kura_error *err)
{
	kura_tsp_request req;
	int rc = kura_tsp_request_init(&req, md, imprint, err);
	if (rc != 0)
		return rc;
	unsigned char *resp = NULL;
	size_t rlen = 0;
	if (o->nurls == 0) {
		if (!o->embedded) {
			rc = kura_error_set(err, KURA_EINTERNAL, "no TSA configured");
		} else if ((rc = kura_tsa_respond(o->embedded, req.der, req.len, &resp, &rlen, err)) == 0) {
			rc = kura_tsp_check(token, len, &req, resp, rlen, kura_tsa_anchors(o->embedded), err);
			*from = "embedded TSA";
		}
		free(resp);
		kura_tsp_request_clear(&req);
		return rc;
	}
	long timeout = o->timeout_s ? o->timeout_s : 30;
	int attempts = o->attempts ? o->attempts : 2;
	char failures[1024] = "";
	for (size_t u = 0; u < o->nurls; u++) {
		for (int a = 0; a < attempts; a++) {
			kura_error e = {0};
			if (a > 0)
				pause_ms(500L << a);
			int r = kura_tsa_http_post(&resp, &rlen, o->urls[u], req.der, req.len, timeout, &e);
			if (r == 0) {
				r = kura_tsp_check(token, len, &req, resp, rlen, o->anchors, &e);
				free(resp);
				resp = NULL;
			}
			if (r == 0) {
				*from = o->urls[u];
				kura_tsp_request_clear(&req);
				return 0;
			}
			fprintf(stderr, "kura: TSA %s failed (attempt %d of %d): %s\n", o->urls[u], a + 1, attempts, e.message);
			snprintf(failures + strlen(failures), sizeof failures - strlen(failures), "%s%s: %s",
				 failures[0] ? "; " : "", o->urls[u], e.message);
			if (r == KURA_EVERIFY)
				break; /* a wrong answer will not get better by asking again */
		}
	}
	kura_tsp_request_clear(&req);
	return kura_error_set(err, KURA_EIO, "no TSA gave a usable time-stamp (%s); the evidence stays pending, "
					     "try again when a TSA is reachable", failures);
}
