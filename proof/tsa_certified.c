/* Certified TSAs: 電子帳簿保存法 counts only time-stamps from a TSA certified by
 * the Minister for Internal Affairs and Communications (総務大臣認定), made within
 * the period of its certification. The store is told which TSAs are certified
 * (`kura tsa certify`), judges every token it obtains against that, and keeps the
 * judgement with the evidence record (see tsa_certified.h, kura/tsa.h).
 *
 * STORE/tsa-certified.json: {"certified": [{"url", "certificate_sha256",
 * "subject", "issuer", "from", "until" (null: open), "reason", "by", "at"}]}.
 * Every change is also an audit record (tsa-certify, tsa-uncertify).
 *
 * INVARIANTS
 * - A certification belongs to the TSA's signing certificate (its SHA-256), not
 *   to the URL it was reached at: a URL that starts answering with another
 *   certificate does not inherit it.
 * - A token is judged when it is obtained and the judgement is stored in its
 *   evidence record's frame (the TSA mark): certified when its signer is a
 *   listed certificate and its genTime lies in that certification's period
 *   [from, until). It is never re-derived from today's list, which may have
 *   changed since: what was certified when the seal was made is a fact of that
 *   moment.
 * - The embedded TSA is never certified: certify refuses it (by name, or reached
 *   over HTTP: a signer issued by one of the store's own TSA roots), and a token
 *   it signed is judged uncertified even if the list were edited by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "common/hex.h"
#include "common/log.h"
#include "common/unicode.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "kura/trust.h"
#include "proof/chains.h"
#include "proof/store_policy.h"
#include "proof/tsa_certified.h"
#include "proof/tsa_setup.h"

#define LIST_FILE "tsa-certified.json"
#define DAY_MS 86400000LL

static json_t *list_load(kura_store *st, kura_error *err, int *rc)
{
	json_t *doc = kura_store_json_load(kura_store_path(st), LIST_FILE, "TSA certifications", err, rc);
	if (doc && !json_object_get(doc, "certified"))
		json_object_set_new(doc, "certified", json_array());
	if (doc && !json_is_array(json_object_get(doc, "certified"))) {
		json_decref(doc);
		*rc = kura_error_set(err, KURA_EIO, "%s/" LIST_FILE ": \"certified\" is not a list; the store's TSA "
						    "certifications are damaged", kura_store_path(st));
		return NULL;
	}
	return doc;
}

static int list_save(kura_store *st, json_t *doc, kura_error *err)
{
	char *text = json_dumps(doc, JSON_INDENT(2));
	int rc = text ? kura_store_write_file(st, LIST_FILE, text, strlen(text), err)
		      : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	free(text);
	return rc;
}

static void cert_sha256(char hex[65], X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	hex[0] = '\0';
	if (x && X509_digest(x, EVP_sha256(), md, &n) == 1 && n == 32)
		kura_hex_encode(hex, md, 32);
}

/* 1 if signer was issued by one of the store's own TSA roots: the embedded TSA. */
static int embedded_signer(kura_store *st, X509 *signer)
{
	STACK_OF(X509) *roots = NULL;
	int found = 0;
	if (kura_tsa_setup_roots(&roots, st, NULL) != 0)
		return 0; /* the store has no embedded TSA */
	for (int i = 0; !found && i < sk_X509_num(roots); i++) {
		X509 *r = sk_X509_value(roots, i);
		found = X509_cmp(r, signer) == 0 ||
			(X509_check_issued(r, signer) == X509_V_OK && X509_verify(signer, X509_get0_pubkey(r)) == 1);
	}
	sk_X509_pop_free(roots, X509_free);
	return found;
}

/* Is the certificate fp certified at ms by an entry of list? */
static int certified_at(json_t *list, const char *fp, int64_t ms)
{
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c) {
		int64_t from, until;
		const char *u = json_string_value(json_object_get(c, "until"));
		if (strcmp(json_string_value(json_object_get(c, "certificate_sha256")) ?: "", fp) != 0 ||
		    kura_time_parse(&from, json_string_value(json_object_get(c, "from")) ?: "", NULL) != 0 ||
		    (u && kura_time_parse(&until, u, NULL) != 0))
			continue;
		if (from <= ms && (!u || ms < until))
			return 1;
	}
	return 0;
}

char kura_tsa_judge(kura_store *st, const unsigned char *token, size_t tlen)
{
	kura_error e = {0};
	int rc;
	kura_tst *t = NULL;
	json_t *doc = list_load(st, &e, &rc);
	char mark = 0, fp[65];
	if (doc && kura_tst_parse(&t, token, tlen, &e) == 0) {
		X509 *signer = kura_tst_signer(t);
		cert_sha256(fp, signer);
		int yes = signer && fp[0] && certified_at(json_object_get(doc, "certified"), fp, kura_tst_gentime(t)) &&
			  !embedded_signer(st, signer);
		mark = yes ? KURA_EVIDENCE_TSA_CERTIFIED : KURA_EVIDENCE_TSA_UNCERTIFIED;
	}
	if (!mark) /* never a guess: the record says "unknown" */
		kura_log_message(KURA_LOG_WARNING, "whether the TSA was certified is not recorded for this time-stamp: %s",
				 e.message);
	kura_tst_free(t);
	json_decref(doc);
	return mark;
}

/* ---------------------------------------------------------------- certify */

/* The signing certificate of the TSA at url: from the PEM file cert, or from a
 * token the TSA is asked for now. *out is the caller's (X509_free). */
static int tsa_certificate(X509 **out, kura_store *st, const char *url, const char *cert, kura_error *err)
{
	if (cert) {
		STACK_OF(X509) *certs = sk_X509_new_null();
		int rc = certs ? kura_load_certs(certs, cert, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
		if (rc == 0 && sk_X509_num(certs) < 1)
			rc = kura_error_set(err, KURA_EINPUT, "%s holds no certificate", cert);
		if (rc == 0 && X509_check_purpose(sk_X509_value(certs, 0), X509_PURPOSE_TIMESTAMP_SIGN, 0) != 1)
			rc = kura_error_set(err, KURA_EINPUT, "%s: its first certificate is not a TSA's signing certificate "
							      "(no critical timeStamping extended key usage)", cert);
		if (rc == 0 && !(*out = X509_dup(sk_X509_value(certs, 0))))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		sk_X509_pop_free(certs, X509_free);
		return rc;
	}
	kura_tsa_setup s;
	unsigned char *token = NULL, imprint[32];
	size_t tlen = 0;
	const char *from = NULL;
	kura_tst *t = NULL;
	int rc = kura_tsa_setup_open(&s, st, err);
	if (rc != 0)
		return rc;
	s.opts.urls = &url;
	s.opts.nurls = 1;
	s.opts.embedded = NULL;
	s.opts.anchors = NULL; /* its certificate is what is learnt here: the token is checked, not its path */
	s.opts.outcome = NULL; /* a probe, not the store's use of the TSA: nothing for kura status */
	EVP_Digest(url, strlen(url), imprint, NULL, EVP_sha256(), NULL);
	rc = kura_stamp(&token, &tlen, &from, &s.opts, EVP_sha256(), imprint, err);
	if (rc == 0)
		rc = kura_tst_parse(&t, token, tlen, err);
	if (rc == 0 && !kura_tst_signer(t))
		rc = kura_error_set(err, KURA_EINPUT, "the TSA at %s sent a token without its certificate; give its "
						      "signing certificate with --cert FILE.pem", url);
	if (rc == 0 && !(*out = X509_dup(kura_tst_signer(t))))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	kura_tst_free(t);
	free(token);
	kura_tsa_setup_close(&s);
	return rc;
}

/* The period as stored: from and until in RFC 3339; a bare date for until
 * means through that day (UTC). */
static int period(json_t *entry, const kura_tsa_certification *c, kura_error *err)
{
	int64_t from, until = 0;
	char a[KURA_TIME_BUFSZ], b[KURA_TIME_BUFSZ];
	if (!c->from)
		return kura_error_set(err, KURA_EINPUT, "tsa certify needs --from DATE: when the certification began");
	if (kura_time_parse(&from, c->from, err) != 0 || (c->until && kura_time_parse(&until, c->until, err) != 0))
		return KURA_EINPUT;
	if (c->until && strlen(c->until) == 10)
		until += DAY_MS;
	if (c->until && until <= from)
		return kura_error_set(err, KURA_EINPUT, "--until %s is not after --from %s", c->until, c->from);
	kura_time_format(a, from);
	kura_time_format(b, until);
	json_object_set_new(entry, "from", json_string(a));
	json_object_set_new(entry, "until", c->until ? json_string(b) : json_null());
	return 0;
}

static int refuse_embedded(const char *url, kura_error *err)
{
	return kura_error_set(err, KURA_EINPUT, "%s is the store's embedded TSA, which can never be certified: it "
						"proves time only as far as this machine's clock is trusted; "
						"電子帳簿保存法 needs a TSA certified by the Minister (総務大臣認定): "
						"add one with kura tsa urls STORE --set URL", url);
}

/* The entry for c, its TSA's certificate learnt (and checked not to be ours). */
static int entry_new(json_t **out, kura_store *st, const kura_tsa_certification *c, kura_error *err)
{
	char fp[65], subject[512], issuer[512], now_text[KURA_TIME_BUFSZ];
	X509 *x = NULL;
	int64_t now;
	if (!c->url || strcmp(c->url, "embedded") == 0)
		return refuse_embedded("embedded", err);
	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0)
		return kura_error_set(err, KURA_EINPUT, "a TSA URL must be http:// or https://, not '%s'", c->url);
	if (kura_unicode_check("the TSA URL", c->url, err) != 0 || kura_unicode_check("--reason", c->reason, err) != 0)
		return KURA_EINPUT;
	json_t *e = json_object();
	int rc = e ? period(e, c, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = tsa_certificate(&x, st, c->url, c->cert, err);
	if (rc == 0 && embedded_signer(st, x))
		rc = refuse_embedded(c->url, err);
	if (rc == 0) {
		cert_sha256(fp, x);
		kura_name_text(X509_get_subject_name(x), subject, sizeof subject);
		kura_name_text(X509_get_issuer_name(x), issuer, sizeof issuer);
		kura_time_format(now_text, now);
		json_object_set_new(e, "url", json_string(c->url));
		json_object_set_new(e, "certificate_sha256", json_string(fp));
		json_object_set_new(e, "subject", json_string(subject));
		json_object_set_new(e, "issuer", json_string(issuer));
		json_object_set_new(e, "reason", c->reason ? json_string(c->reason) : json_null());
		json_object_set_new(e, "by", json_string(kura_store_actor(st)));
		json_object_set_new(e, "at", json_string(now_text));
	}
	X509_free(x);
	if (rc != 0)
		json_decref(e);
	else
		*out = e;
	return rc;
}

static int same(json_t *a, json_t *b, const char *key)
{
	return strcmp(json_string_value(json_object_get(a, key)) ?: "", json_string_value(json_object_get(b, key)) ?: "") == 0;
}

int kura_tsa_certify(json_t **out, kura_store *st, const kura_tsa_certification *c, kura_error *err)
{
	json_t *e = NULL, *doc = NULL;
	int rc = entry_new(&e, st, c, err);
	if (rc == 0)
		doc = list_load(st, err, &rc);
	if (rc == 0) {
		json_t *list = json_object_get(doc, "certified"), *old;
		size_t i, at = json_array_size(list);
		json_array_foreach(list, i, old)
			if (same(old, e, "url") && same(old, e, "certificate_sha256"))
				at = i; /* certified again: the new period replaces the old */
		if (at < json_array_size(list))
			json_array_set(list, at, e);
		else
			json_array_append(list, e);
		rc = list_save(st, doc, err);
	}
	if (rc == 0)
		rc = kura_store_audit(st, "tsa-certify", e, err);
	json_decref(doc);
	if (rc == 0 && out)
		*out = json_incref(e);
	json_decref(e);
	return rc;
}

int kura_tsa_uncertify(size_t *removed, kura_store *st, const char *url, const char *reason, kura_error *err)
{
	int rc = kura_unicode_check("--reason", reason, err);
	if (rc != 0)
		return rc;
	json_t *doc = list_load(st, err, &rc), *gone = json_array();
	json_t *list = doc ? json_object_get(doc, "certified") : NULL;
	for (size_t i = 0; i < json_array_size(list);) {
		json_t *c = json_array_get(list, i);
		if (strcmp(json_string_value(json_object_get(c, "url")) ?: "", url) != 0) {
			i++;
			continue;
		}
		json_array_append(gone, json_object_get(c, "certificate_sha256"));
		json_array_remove(list, i);
	}
	if (rc == 0 && json_array_size(gone) == 0)
		rc = kura_error_set(err, KURA_ENOTFOUND, "%s is not certified in this store (kura tsa certified STORE "
							 "lists the certifications)", url);
	if (rc == 0)
		rc = list_save(st, doc, err);
	json_t *detail = rc == 0 ? json_pack("{s:s, s:O, s:s?}", "url", url, "certificates", gone, "reason", reason) : NULL;
	if (rc == 0)
		rc = detail ? kura_store_audit(st, "tsa-uncertify", detail, err)
			    : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0 && removed)
		*removed = json_array_size(gone);
	json_decref(detail);
	json_decref(gone);
	json_decref(doc);
	return rc;
}

int kura_tsa_certified_list(json_t **out, kura_store *st, kura_error *err)
{
	int rc;
	json_t *doc = list_load(st, err, &rc);
	if (doc)
		*out = json_incref(json_object_get(doc, "certified"));
	json_decref(doc);
	return rc;
}

/* ---------------------------------------------------------------- what was recorded */

static json_t *mark_json(char mark)
{
	return mark == KURA_EVIDENCE_TSA_CERTIFIED	 ? json_true()
	       : mark == KURA_EVIDENCE_TSA_UNCERTIFIED ? json_false()
							 : json_null();
}

static int first_start(void *ud, const char *record_id, char kind, uint32_t position, kura_error *err)
{
	(void)position;
	(void)err;
	if (kind != KURA_EVIDENCE_SEAL && kind != KURA_EVIDENCE_IMPORTED)
		return 0;
	memcpy(ud, record_id, KURA_ID_LEN);
	return 1; /* found: the walk stops */
}

int kura_tsa_first_certified(int *certified, kura_store *st, const char *id, kura_error *err)
{
	char first[KURA_ID_LEN + 1] = "", mark = 0;
	int rc = kura_store_each_evidence_of(st, id, first_start, first, err);
	if (rc == 1)
		rc = kura_store_evidence_mark(&mark, st, first, err);
	*certified = mark == KURA_EVIDENCE_TSA_CERTIFIED ? 1 : mark == KURA_EVIDENCE_TSA_UNCERTIFIED ? 0 : -1;
	return rc;
}

struct stamps {
	kura_store *st;
	kura_evidence_cache *cache;
	json_t *list;
};

static const char *kind_name(char kind)
{
	return kind == 'S' ? "seal" : kind == 'H' ? "hash-tree renewal" : kind == 'T' ? "time-stamp renewal" : "imported";
}

/* One entry of "time_stamps": the record's new token, and what was recorded of its TSA. */
static int add_stamp(struct stamps *s, const char *rid, char kind, kura_error *err)
{
	char mark = 0, fp[65], name[512], when[KURA_TIME_BUFSZ];
	const kura_chain_record *r = NULL;
	kura_tst *t = NULL;
	int rc = kura_store_evidence_mark(&mark, s->st, rid, err);
	if (rc != 0)
		return rc;
	json_t *e = json_pack("{s:s, s:s}", "record", rid, "kind", kind_name(kind));
	/* a record that does not read is verify's to report: here it only lacks its details */
	if (kura_chain_record_get(&r, s->cache, s->st, rid, NULL) == 0 && kura_tst_parse(&t, r->token, r->tlen, NULL) == 0) {
		kura_time_format(when, kura_tst_gentime(t));
		kura_tst_tsa_name(t, name, sizeof name);
		json_object_set_new(e, "gentime", json_string(when));
		json_object_set_new(e, "tsa", json_string(name));
		if (kura_tst_signer(t)) {
			cert_sha256(fp, kura_tst_signer(t));
			json_object_set_new(e, "tsa_certificate_sha256", json_string(fp));
		}
	}
	kura_tst_free(t);
	json_object_set_new(e, "tsa_certified", mark_json(mark));
	json_array_append_new(s->list, e);
	return 0;
}

static int add_renewal(void *ud, const char *record_id, char kind, uint32_t position, kura_error *err)
{
	(void)position;
	return kind == KURA_EVIDENCE_TIMESTAMP ? add_stamp(ud, record_id, kind, err) : 0;
}

/* The object's chain start records (S, H, I) with their kinds, oldest first. */
struct starts {
	char *ids;
	char *kinds;
	size_t n, cap;
};

static int keep_start(void *ud, const char *record_id, char kind, uint32_t position, kura_error *err)
{
	struct starts *l = ud;
	(void)position;
	if (kind == KURA_EVIDENCE_TIMESTAMP)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		char *ids = realloc(l->ids, cap * KURA_ID_LEN), *kinds = ids ? realloc(l->kinds, cap) : NULL;
		if (ids)
			l->ids = ids;
		if (!ids || !kinds)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		l->kinds = kinds;
		l->cap = cap;
	}
	memcpy(l->ids + l->n * KURA_ID_LEN, record_id, KURA_ID_LEN);
	l->kinds[l->n++] = kind;
	return 0;
}

static int stamps_of(struct stamps *s, const char *id, kura_error *err)
{
	struct starts l = {0};
	char rid[KURA_ID_LEN + 1];
	int rc = kura_store_each_evidence_of(s->st, id, keep_start, &l, err);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		memcpy(rid, l.ids + i * KURA_ID_LEN, KURA_ID_LEN);
		rid[KURA_ID_LEN] = '\0';
		rc = add_stamp(s, rid, l.kinds[i], err);
		if (rc == 0) /* the renewals of the chain it starts */
			rc = kura_store_each_evidence_of(s->st, rid, add_renewal, s, err);
	}
	free(l.ids);
	free(l.kinds);
	return rc;
}

int kura_tsa_certified_report_with(json_t *report, kura_store *st, const char *id, kura_evidence_cache *cache,
				   kura_error *err)
{
	int first;
	kura_error e = {0};
	struct stamps s = {st, cache, json_array()};
	int rc = s.list ? kura_tsa_first_certified(&first, st, id, &e) : kura_error_set(&e, KURA_EINTERNAL, "out of memory");
	if (rc == 0)
		rc = stamps_of(&s, id, &e);
	if (rc == KURA_EVERIFY) { /* a damaged record: verification says so; nothing is known here */
		first = -1;
		json_array_clear(s.list);
		json_object_set_new(report, "tsa_certified_unknown", json_string(e.message));
		rc = 0;
	}
	if (rc == 0) {
		json_object_set_new(report, "tsa_certified", first < 0 ? json_null() : json_boolean(first));
		json_object_set_new(report, "time_stamps", s.list);
		s.list = NULL;
	} else {
		*err = e;
	}
	json_decref(s.list);
	return rc;
}

int kura_tsa_certified_report(json_t *report, kura_store *st, const char *id, kura_error *err)
{
	kura_evidence_cache *cache = NULL;
	int rc = kura_evidence_cache_new(&cache, err);
	if (rc == 0)
		rc = kura_tsa_certified_report_with(report, st, id, cache, err);
	kura_evidence_cache_free(cache);
	return rc;
}
