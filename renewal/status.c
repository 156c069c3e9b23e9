/* A store's status as data (see kura/status.h): counts from the index, the
 * evidence's health from the renewal planner, history from the state file,
 * trust anchors, records management and free space. What needs a person is
 * collected as attention items (renewal/status_attention.c). */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <openssl/evp.h>

#include "archive/state.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "kura/records.h"
#include "kura/retention.h"
#include "kura/status.h"
#include "proof/store_policy.h"
#include "proof/tsa_setup.h"
#include "renewal/plan.h"
#include "renewal/status_impl.h"

#define DAY_MS 86400000LL
#define MAX_CHAINS_LISTED 100

struct counts {
	kura_records_counts rc;
	json_int_t pending;
};

static int count_pending(void *ud, const char *id, const unsigned char *digest, kura_error *err)
{
	(void)id;
	(void)digest;
	(void)err;
	((struct counts *)ud)->pending++;
	return 0;
}

static int put_objects(json_t *s, struct counts *c, kura_store *st, int64_t now, kura_error *err)
{
	int rc = kura_records_count(&c->rc, st, now - 30 * DAY_MS, err);
	if (rc == 0)
		rc = kura_store_each_pending(st, kura_store_hash(st), count_pending, c, err);
	if (rc == 0)
		json_object_set_new(s, "objects", json_pack("{s:I, s:I, s:I, s:I, s:I}", "records", (json_int_t)c->rc.records,
							    "versions", (json_int_t)c->rc.versions, "pending", c->pending,
							    "bytes", (json_int_t)c->rc.bytes, "ingested_30d",
							    (json_int_t)c->rc.bytes_since));
	return rc;
}

static json_t *time_or_null(int64_t ms)
{
	char buf[KURA_TIME_BUFSZ];
	if (ms == KURA_NEVER || ms == INT64_MIN)
		return json_null();
	kura_time_format(buf, ms);
	return json_string(buf);
}

static const char *chain_state(const kura_plan_item *it, int64_t now)
{
	if (it->breaks == INT64_MIN || it->due == INT64_MIN || (it->breaks != KURA_NEVER && it->breaks <= now))
		return "broken";
	if (it->due > now)
		return "valid";
	return now - it->due >= KURA_STATUS_OVERDUE_DAYS * DAY_MS ? "overdue" : "at_risk";
}

static int cmp_breaks(const void *a, const void *b)
{
	const kura_plan_item *x = *(const kura_plan_item *const *)a, *y = *(const kura_plan_item *const *)b;
	return x->breaks < y->breaks ? -1 : x->breaks > y->breaks;
}

/* Objects per state, the earliest break of each, the chains not valid and the next renewal. */
static void put_evidence(json_t *s, const kura_plan_item *items, size_t n, int64_t now)
{
	static const char *const names[] = {"valid", "at_risk", "overdue", "broken"};
	json_int_t count[4] = {0};
	int64_t first[4] = {KURA_NEVER, KURA_NEVER, KURA_NEVER, KURA_NEVER}, next = KURA_NEVER;
	const char *next_reason = NULL;
	const kura_plan_item **bad = calloc(n + 1, sizeof *bad);
	size_t nbad = 0;
	for (size_t i = 0; i < n; i++) {
		const char *state = chain_state(&items[i], now);
		int k = 0;
		while (strcmp(names[k], state) != 0)
			k++;
		count[k] += (json_int_t)(items[i].objects - items[i].checkpoints);
		if (items[i].breaks < first[k])
			first[k] = items[i].breaks;
		if (k > 0 && bad)
			bad[nbad++] = &items[i];
		if (items[i].due > now && items[i].due < next) {
			next = items[i].due;
			next_reason = items[i].reason;
		}
	}
	if (nbad > 1)
		qsort(bad, nbad, sizeof *bad, cmp_breaks);
	json_t *chains = json_array();
	for (size_t i = 0; i < nbad && i < MAX_CHAINS_LISTED; i++)
		json_array_append_new(chains, json_pack("{s:s, s:s, s:I, s:o, s:o, s:s, s:s}", "chain", bad[i]->chain, "state",
							chain_state(bad[i], now), "objects",
							(json_int_t)(bad[i]->objects - bad[i]->checkpoints), "due",
							time_or_null(bad[i]->due), "breaks", time_or_null(bad[i]->breaks),
							"reason", bad[i]->reason, "action",
							bad[i]->action == 'H' ? "hash-tree renewal" : "time-stamp renewal"));
	free(bad);
	json_object_set_new(s, "evidence", json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "valid", count[0], "at_risk",
						     count[1], "overdue", count[2], "broken", count[3], "at_risk_breaks",
						     time_or_null(first[1]), "overdue_breaks", time_or_null(first[2]),
						     "broken_since", time_or_null(first[3]), "chains", chains));
	json_object_set_new(s, "next_renewal", next == KURA_NEVER ? json_null()
								  : json_pack("{s:o, s:s}", "due", time_or_null(next),
									      "reason", next_reason));
}

static int put_plan(json_t *s, kura_store *st, const kura_policy *p, int64_t now, kura_error *err)
{
	kura_plan_item *items = NULL;
	size_t n = 0;
	int rc = kura_plan(&items, &n, st, p, now, err);
	if (rc == 0)
		put_evidence(s, items, n, now);
	kura_plan_free(items, n);
	return rc;
}

/* 1 if the token (base64 DER) verifies against anchors at its own time, 0 if
 * not, -1 if there is none to judge. */
static int token_trusted(const char *b64, STACK_OF(X509) *anchors)
{
	size_t len = b64 ? strlen(b64) : 0;
	if (len == 0 || len % 4 != 0)
		return -1;
	unsigned char *der = malloc(len / 4 * 3 + 1);
	int n = der ? EVP_DecodeBlock(der, (const unsigned char *)b64, (int)len) : -1;
	int trusted = -1;
	kura_tst *t = NULL;
	if (n > 0) {
		n -= (b64[len - 1] == '=') + (b64[len - 2] == '=');
		if (kura_tst_parse(&t, der, (size_t)n, NULL) == 0)
			trusted = kura_tst_verify(t, anchors, NULL, kura_tst_gentime(t), NULL) == 0;
	}
	kura_tst_free(t);
	free(der);
	return trusted;
}

static json_t *tsa_entry(const char *name, json_t *known, STACK_OF(X509) *anchors, int configured)
{
	const char *ok = json_string_value(json_object_get(known, "last_success"));
	const char *bad = json_string_value(json_object_get(known, "last_failure"));
	int trusted = token_trusted(json_string_value(json_object_get(known, "token")), anchors);
	int64_t okt = INT64_MIN, badt = INT64_MIN;
	if (ok)
		kura_time_parse(&okt, ok, NULL);
	if (bad)
		kura_time_parse(&badt, bad, NULL);
	int failing = bad && badt > okt; /* its last attempt failed */
	return json_pack("{s:s, s:b, s:O?, s:O?, s:O?, s:O?, s:O?, s:b, s:O?, s:O?, s:o}", "name", name, "configured",
			 configured, "root_subject", json_object_get(known, "root_subject"), "root_sha256",
			 json_object_get(known, "root_sha256"), "last_success",
			 json_object_get(known, "last_success"), "last_failure", json_object_get(known, "last_failure"),
			 "failure", failing ? json_object_get(known, "failure") : NULL, "failing", failing, "signer",
			 json_object_get(known, "signer"), "cert_end", json_object_get(known, "cert_end"), "root_trusted",
			 trusted < 0 ? json_null() : json_boolean(trusted));
}

/* The store's TSAs (its URLs, or its embedded TSA), then any other TSA the state knows of. */
static void put_tsas(json_t *s, json_t *state, kura_store *st, STACK_OF(X509) *anchors)
{
	json_t *known = json_object_get(state, "tsa"), *arr = json_array(), *seen = json_object(), *v;
	const char *const *urls;
	size_t n = kura_store_tsa_urls(st, &urls);
	const char *name;
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, tsa_entry(urls[i], json_object_get(known, urls[i]), anchors, 1));
		json_object_set_new(seen, urls[i], json_true());
	}
	if (n == 0) {
		json_array_append_new(arr, tsa_entry("embedded TSA", json_object_get(known, "embedded TSA"), anchors, 1));
		json_object_set_new(seen, "embedded TSA", json_true());
	}
	json_object_foreach(known, name, v)
		if (!json_object_get(seen, name))
			json_array_append_new(arr, tsa_entry(name, v, anchors, 0));
	json_decref(seen);
	json_object_set_new(s, "tsas", arr);
}

/* The roots a person added (trust/tsa.pem, trust/signers.pem), each with its end. */
static int put_anchors(json_t *s, kura_store *st, const kura_policy *p, int64_t now, kura_error *err)
{
	static const char *const kinds[] = {"tsa", "signers"};
	json_t *arr = json_array();
	int rc = 0;
	for (int k = 0; rc == 0 && k < 2; k++) {
		char file[32];
		snprintf(file, sizeof file, "trust/%s.pem", kinds[k]);
		const char *const files[] = {file, NULL};
		STACK_OF(X509) *certs = NULL;
		if ((rc = kura_store_certs(&certs, st, files, err)) != 0)
			break;
		for (int i = 0; i < sk_X509_num(certs); i++) {
			X509 *c = sk_X509_value(certs, i);
			unsigned char md[32];
			unsigned int mdlen = 0;
			char subject[300], hex[65];
			int64_t end = KURA_NEVER;
			kura_asn1_time_ms(&end, X509_get0_notAfter(c));
			kura_name_text(X509_get_subject_name(c), subject, sizeof subject);
			X509_digest(c, EVP_sha256(), md, &mdlen);
			for (unsigned j = 0; j < mdlen && j < 32; j++)
				snprintf(hex + 2 * j, 3, "%02x", md[j]);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o, s:b}", "kind", kinds[k], "subject", subject,
							     "sha256", hex, "not_after", time_or_null(end), "ending",
							     end - kura_policy_margin_certificate(p) <= now));
		}
		sk_X509_pop_free(certs, X509_free);
	}
	json_object_set_new(s, "anchors", arr);
	return rc;
}

/* Free space against the growth of the last 30 days: low when less than 90
 * days of it remain, or less than 64 MiB. */
static void put_space(json_t *s, const char *path, json_int_t recent)
{
	struct statvfs v;
	if (statvfs(path, &v) != 0) {
		json_object_set_new(s, "space", json_null());
		return;
	}
	json_int_t free_b = (json_int_t)v.f_bavail * (json_int_t)v.f_frsize;
	json_int_t days = recent > 0 ? free_b / (recent / 30 > 0 ? recent / 30 : 1) : -1;
	int low = free_b < (64 << 20) || (days >= 0 && days < 90);
	json_object_set_new(s, "space", json_pack("{s:I, s:I, s:o, s:b}", "free", free_b, "ingested_30d", recent,
						  "days_left", days < 0 ? json_null() : json_integer(days), "low", low));
}

static int put_records(json_t *s, kura_store *st, kura_error *err)
{
	json_t *holds = NULL, *plan = NULL, *h;
	size_t i;
	json_int_t active = 0;
	int rc = kura_records_hold_list(&holds, st, err);
	if (rc == 0)
		rc = kura_records_dispose_plan(&plan, st, err);
	json_array_foreach(holds, i, h)
		active += strcmp(json_string_value(json_object_get(h, "state")) ?: "", "active") == 0;
	kura_error why = {0};
	int suspended = rc == 0 && kura_records_disposal_suspended(st, &why);
	if (rc == 0)
		json_object_set_new(s, "records", json_pack("{s:I, s:I, s:s?}", "holds_active", active, "disposal_due",
							    (json_int_t)json_array_size(plan), "disposal_suspended",
							    suspended ? why.message : NULL));
	json_decref(holds);
	json_decref(plan);
	return rc;
}

static int put_history(json_t *s, kura_store *st, const kura_policy *p, int64_t now, kura_error *err)
{
	json_t *state = NULL;
	STACK_OF(X509) *anchors = NULL;
	int rc = kura_state_read(&state, kura_store_path(st), err);
	if (rc == 0)
		rc = kura_tsa_setup_anchors(&anchors, st, err);
	if (rc == 0) {
		json_object_set(s, "daemon", json_object_get(state, "daemon") ?: json_null());
		json_object_set(s, "scrub", json_object_get(state, "scrub") ?: json_null());
		put_tsas(s, state, st, anchors);
		rc = put_anchors(s, st, p, now, err);
	}
	sk_X509_pop_free(anchors, X509_free);
	json_decref(state);
	return rc;
}

int kura_status(json_t **out, kura_store *st, kura_error *err)
{
	int64_t now;
	kura_policy *p = NULL;
	struct counts c = {0};
	json_t *s = json_object();
	int rc = s ? kura_clock_now(&now, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_store_policy_load(&p, st, err);
	if (rc == 0) {
		json_object_set_new(s, "store", json_string(kura_store_path(st)));
		json_object_set_new(s, "now", time_or_null(now));
		rc = put_objects(s, &c, st, now, err);
	}
	if (rc == 0)
		rc = put_plan(s, st, p, now, err);
	if (rc == 0)
		rc = put_history(s, st, p, now, err);
	if (rc == 0)
		rc = put_records(s, st, err);
	if (rc == 0) {
		put_space(s, kura_store_path(st), (json_int_t)c.rc.bytes_since);
		rc = kura_status_attention(s, now, err);
	}
	kura_policy_free(p);
	if (rc != 0) {
		json_decref(s);
		return rc;
	}
	*out = s;
	return 0;
}
