/* Time-stamp acquisition with failover (see stamper.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "evidence/http.h"
#include "evidence/stamper.h"
#include "evidence/tsp.h"
#include "evidence/tst.h"

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
		if (o->outcome)
			o->outcome(o->outcome_ud, "embedded TSA", rc == 0 ? *token : NULL, rc == 0 ? *len : 0,
				   rc == 0 ? NULL : err ? err->message : "failed");
		free(resp);
		kura_tsp_request_clear(&req);
		return rc;
	}
	long timeout = o->timeout_s ? o->timeout_s : 30;
	int attempts = o->attempts ? o->attempts : 2;
	char failures[2048] = "", untrusted[1024] = ""; /* untrusted: the first root to trust, said first */
	for (size_t u = 0; u < o->nurls; u++) {
		for (int a = 0; a < attempts; a++) {
			kura_error e = {0};
			if (a > 0)
				pause_ms(500L << a);
			int r = kura_http_fetch(&resp, &rlen, o->urls[u], "application/timestamp-query", req.der, req.len,
						 timeout, &e);
			if (r == 0) {
				r = kura_tsp_check(token, len, &req, resp, rlen, o->anchors, &e);
				free(resp);
				resp = NULL;
			}
			if (r == 0) {
				if (o->outcome)
					o->outcome(o->outcome_ud, o->urls[u], *token, *len, NULL);
				*from = o->urls[u];
				kura_tsp_request_clear(&req);
				return 0;
			}
			if (r == KURA_EVERIFY && o->trust_hint && strstr(e.message, KURA_TST_UNTRUSTED_ROOT)) {
				size_t len = strlen(e.message);
				snprintf(e.message + len, sizeof e.message - len, "; once its fingerprint is confirmed by the "
					 "TSA's operator, trust it with: %s", o->trust_hint);
				if (!untrusted[0])
					snprintf(untrusted, sizeof untrusted, " (%s: %s)", o->urls[u], e.message);
			}
			kura_log_message(KURA_LOG_ERROR, "TSA %s failed (attempt %d of %d): %s", o->urls[u], a + 1, attempts, e.message);
			snprintf(failures + strlen(failures), sizeof failures - strlen(failures), "%s%s: %s",
				 failures[0] ? "; " : "", o->urls[u], e.message);
			if (o->outcome && (r == KURA_EVERIFY || a + 1 == attempts))
				o->outcome(o->outcome_ud, o->urls[u], NULL, 0, e.message);
			if (r == KURA_EVERIFY)
				break; /* a wrong answer will not get better by asking again */
		}
	}
	kura_tsp_request_clear(&req);
	if (untrusted[0])
		return kura_error_set(err, KURA_EIO, "no TSA gave a usable time-stamp%s; the evidence stays pending "
						     "(%zu TSA(s) failed, each reported above)", untrusted, o->nurls);
	return kura_error_set(err, KURA_EIO, "no TSA gave a usable time-stamp (%s); the evidence stays pending, "
					     "try again when a TSA is reachable", failures);
}
