/* The TSAs and TSA roots of a store (see tsa_setup.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "archive/state.h"
#include "common/log.h"
#include "evidence/tsa.h"
#include "evidence/tst.h"
#include "kura/clock.h"
#include "proof/tsa_setup.h"

int kura_tsa_setup_embedded(void *ud, const char *store_path, kura_error *err)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/tsa", store_path);
	kura_tsa_options defaults = {.name = "kura"};
	return kura_tsa_create(dir, ud ? ud : &defaults, err);
}

int kura_store_certs(STACK_OF(X509) **out, kura_store *st, const char *const *files, kura_error *err)
{
	char p[4096];
	struct stat sb;
	STACK_OF(X509) *a = sk_X509_new_null();
	int rc = a ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && files[i]; i++) {
		snprintf(p, sizeof p, "%s/%s", kura_store_path(st), files[i]);
		if (stat(p, &sb) == 0)
			rc = kura_load_certs(a, p, err);
	}
	if (rc != 0) {
		sk_X509_pop_free(a, X509_free);
		return rc;
	}
	*out = a;
	return 0;
}

int kura_tsa_setup_anchors(STACK_OF(X509) **out, kura_store *st, kura_error *err)
{
	static const char *const files[] = {"tsa/anchors.pem", "trust/tsa.pem", NULL};
	return kura_store_certs(out, st, files, err);
}

/* The self-signed certificate among a token's (its root, when the TSA sends
 * it): subject and SHA-256 fingerprint, what a person checks before trusting it. */
static void root_fields(json_t *f, STACK_OF(X509) *certs)
{
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		unsigned char md[32];
		unsigned int n = 0;
		char name[300], hex[2 * sizeof md + 1];
		if (X509_check_issued(c, c) != X509_V_OK || !X509_digest(c, EVP_sha256(), md, &n))
			continue;
		for (unsigned j = 0; j < n && j < sizeof md; j++)
			snprintf(hex + 2 * j, 3, "%02x", md[j]);
		kura_name_text(X509_get_subject_name(c), name, sizeof name);
		json_object_set_new(f, "root_subject", json_string(name));
		json_object_set_new(f, "root_sha256", json_string(hex));
		return;
	}
}

/* What a success tells of the TSA: its certificate's subject and end, and the
 * token itself (base64), so that status can check its root against the roots
 * trusted then. */
static void token_fields(json_t *f, const unsigned char *token, size_t len)
{
	kura_tst *t = NULL;
	int64_t end;
	char name[300];
	if (kura_tst_parse(&t, token, len, NULL) == 0) {
		X509 *signer = kura_tst_signer(t);
		if (signer && kura_asn1_time_ms(&end, X509_get0_notAfter(signer)) == 0)
			kura_time_put_json(f, "cert_end", end);
		kura_tst_tsa_name(t, name, sizeof name);
		json_object_set_new(f, "signer", json_string(name));
		root_fields(f, kura_tst_certs(t));
		kura_tst_free(t);
	}
	char *b64 = len < (1u << 20) ? malloc(4 * ((len + 2) / 3) + 1) : NULL;
	if (b64) {
		EVP_EncodeBlock((unsigned char *)b64, token, (int)len);
		json_object_set_new(f, "token", json_string(b64));
	}
	free(b64);
}

/* Notes a TSA's outcome in the state file; a failure to note it is logged, not fatal. */
static void note_outcome(void *ud, const char *tsa, const unsigned char *token, size_t len, const char *failure)
{
	kura_tsa_setup *s = ud;
	int64_t now;
	json_t *f = json_object();
	if (!f || kura_clock_now(&now, NULL) != 0) {
		json_decref(f);
		return;
	}
	kura_time_put_json(f, token ? "last_success" : "last_failure", now);
	if (token)
		token_fields(f, token, len);
	else
		json_object_set_new(f, "failure", json_string(failure ? failure : "?"));
	kura_error err = {0};
	if (kura_state_merge(s->store, "tsa", tsa, f, &err) != 0)
		kura_log_message(KURA_LOG_WARNING, "the outcome of TSA %s was not noted for kura status: %s", tsa, err.message);
	json_decref(f);
}

int kura_tsa_setup_open(kura_tsa_setup *s, kura_store *st, kura_error *err)
{
	memset(s, 0, sizeof *s);
	snprintf(s->store, sizeof s->store, "%s", kura_store_path(st));
	s->opts.outcome = note_outcome;
	s->opts.outcome_ud = s;
	s->opts.nurls = kura_store_tsa_urls(st, &s->opts.urls);
	snprintf(s->trust_hint, sizeof s->trust_hint, "kura trust add %s --tsa ROOT.pem", kura_store_path(st));
	s->opts.trust_hint = s->trust_hint;
	const char *timeout = getenv("KURA_TSA_TIMEOUT"); /* seconds per HTTP attempt */
	if (timeout && atol(timeout) > 0)
		s->opts.timeout_s = atol(timeout);
	int rc = kura_tsa_setup_anchors(&s->anchors, st, err);
	if (rc == 0 && s->opts.nurls == 0) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/tsa", kura_store_path(st));
		if (!kura_tsa_exists(dir))
			rc = kura_error_set(err, KURA_EIO, "%s has neither TSA URLs nor an embedded TSA", kura_store_path(st));
		else
			rc = kura_tsa_open(&s->embedded, dir, err);
		s->opts.embedded = s->embedded;
	}
	/* remote tokens are path-checked only against roots someone chose to trust */
	s->opts.anchors = sk_X509_num(s->anchors) > 0 ? s->anchors : NULL;
	if (rc != 0)
		kura_tsa_setup_close(s);
	return rc;
}

void kura_tsa_setup_close(kura_tsa_setup *s)
{
	kura_tsa_close(s->embedded);
	sk_X509_pop_free(s->anchors, X509_free);
	memset(s, 0, sizeof *s);
}

int kura_tsa_setup_roots(STACK_OF(X509) **out, kura_store *st, kura_error *err)
{
	char dir[4096];
	static const char *const files[] = {"tsa/anchors.pem", NULL};
	/* the anchors alone: a reader of the store (its group) may not read the keys */
	snprintf(dir, sizeof dir, "%s/tsa", kura_store_path(st));
	if (!kura_tsa_exists(dir))
		return kura_error_set(err, KURA_ENOTFOUND, "%s has no embedded TSA (it uses remote TSAs)", kura_store_path(st));
	return kura_store_certs(out, st, files, err);
}

int kura_tsa_setup_use(kura_store *st, const char *const *urls, size_t n, kura_error *err)
{
	char dir[4096];
	int rc = 0;
	snprintf(dir, sizeof dir, "%s/tsa", kura_store_path(st));
	if (n == 0 && !kura_tsa_exists(dir))
		rc = kura_tsa_setup_embedded(NULL, kura_store_path(st), err);
	if (rc == 0)
		rc = kura_store_set_tsa_urls(st, urls, n, err);
	return rc;
}
