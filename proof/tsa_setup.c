/* The TSAs and TSA roots of a store (see tsa_setup.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "evidence/tsa.h"
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

int kura_tsa_setup_open(kura_tsa_setup *s, kura_store *st, kura_error *err)
{
	memset(s, 0, sizeof *s);
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
