/* Validation data added to renewed tokens (see augment.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/sha.h>

#include "common/log.h"
#include "evidence/revocation.h"
#include "evidence/tst_revinfo.h"
#include "renewal/augment.h"

struct fetched { /* one certificate's revocation data, fetched this run */
	X509 *cert;
	kura_vdata *v;
};

struct done_token { /* one token's outcome */
	unsigned char digest[32];
	unsigned char *aug; /* NULL: nothing was missing */
	size_t len;
	int failed;         /* the augmented token failed verification */
	char why[300];
};

struct kura_augmenter {
	STACK_OF(X509) *anchors;
	long timeout_s;
	int64_t now;
	/* the signer and certificates of the last token that lacked nothing: a token
	 * with the same ones lacks nothing either (when no revocation data is fetched) */
	X509 *complete_signer;
	STACK_OF(X509) *complete_certs;
	struct fetched *fetched;
	size_t nfetched;
	struct done_token *tokens;
	size_t ntokens;
};

int kura_augmenter_new(kura_augmenter **out, STACK_OF(X509) *anchors, long timeout_s, int64_t now, kura_error *err)
{
	kura_augmenter *a = calloc(1, sizeof *a);
	if (!a)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	a->anchors = anchors;
	a->timeout_s = timeout_s;
	a->now = now;
	*out = a;
	return 0;
}

void kura_augmenter_free(kura_augmenter *a)
{
	if (!a)
		return;
	X509_free(a->complete_signer);
	sk_X509_pop_free(a->complete_certs, X509_free);
	for (size_t i = 0; i < a->nfetched; i++) {
		X509_free(a->fetched[i].cert);
		kura_vdata_free(a->fetched[i].v);
	}
	free(a->fetched);
	for (size_t i = 0; i < a->ntokens; i++)
		free(a->tokens[i].aug);
	free(a->tokens);
	free(a);
}

static int is_complete(const kura_augmenter *a, const kura_tst *t)
{
	STACK_OF(X509) *certs = kura_tst_certs(t);
	X509 *signer = kura_tst_signer(t);
	if (!a->complete_signer || !signer || X509_cmp(a->complete_signer, signer) != 0 ||
	    sk_X509_num(a->complete_certs) != sk_X509_num(certs))
		return 0;
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (X509_cmp(sk_X509_value(a->complete_certs, i), sk_X509_value(certs, i)) != 0)
			return 0;
	return 1;
}

static void remember_complete(kura_augmenter *a, const kura_tst *t)
{
	X509_free(a->complete_signer);
	sk_X509_pop_free(a->complete_certs, X509_free);
	a->complete_signer = kura_tst_signer(t) && X509_up_ref(kura_tst_signer(t)) ? kura_tst_signer(t) : NULL;
	a->complete_certs = X509_chain_up_ref(kura_tst_certs(t));
}

/* The revocation data of cert (issued by issuer), fetched once per run and merged into v. */
static void add_revocation(kura_augmenter *a, kura_vdata *v, X509 *cert, X509 *issuer)
{
	struct fetched *f = NULL;
	for (size_t i = 0; i < a->nfetched && !f; i++)
		if (X509_cmp(a->fetched[i].cert, cert) == 0)
			f = &a->fetched[i];
	if (!f) {
		struct fetched *g = realloc(a->fetched, (a->nfetched + 1) * sizeof *g);
		kura_error e = {0};
		if (!g)
			return;
		a->fetched = g;
		f = &g[a->nfetched++];
		X509_up_ref(cert);
		f->cert = cert;
		f->v = NULL;
		if (kura_vdata_new(&f->v, a->now, NULL) == 0 &&
		    kura_revocation_fetch(f->v, cert, issuer, a->timeout_s, &e) != 0)
			kura_log_message(KURA_LOG_WARNING, "the renewed time-stamp's validation data lacks revocation data: %s",
				e.message);
	}
	for (int i = 0; f->v && i < sk_X509_num(kura_vdata_certs(f->v)); i++)
		kura_vdata_add_cert(v, sk_X509_value(kura_vdata_certs(f->v), i), NULL);
	for (int i = 0; f->v && i < sk_X509_CRL_num(kura_vdata_crls(f->v)); i++)
		kura_vdata_add_crl(v, sk_X509_CRL_value(kura_vdata_crls(f->v), i), NULL);
	for (int i = 0; f->v && i < kura_vdata_ocsp_count(f->v); i++)
		kura_vdata_add_ocsp(v, kura_vdata_ocsp(f->v, i), NULL);
}

/* The token with its path's missing certificates and its revocation data added,
 * re-encoded; NULL when nothing was missing. */
static unsigned char *augment(size_t *outlen, kura_augmenter *a, const unsigned char *tok, size_t len,
			      const kura_tst *t)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	unsigned char *out = NULL;
	kura_vdata *v = NULL;
	X509 *signer = kura_tst_signer(t);
	if (!signer || !store || !ctx || kura_vdata_new(&v, 0, NULL) != 0)
		goto out;
	for (int i = 0; a->anchors && i < sk_X509_num(a->anchors); i++)
		X509_STORE_add_cert(store, sk_X509_value(a->anchors, i));
	X509_VERIFY_PARAM_set_flags(X509_STORE_get0_param(store), X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN);
	if (!X509_STORE_CTX_init(ctx, store, signer, kura_tst_certs(t)) || X509_verify_cert(ctx) != 1)
		goto out;
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		kura_vdata_add_cert(v, c, NULL);
		if (i + 1 < sk_X509_num(chain) && kura_revocation_has_sources(c))
			add_revocation(a, v, c, sk_X509_value(chain, i + 1));
	}
	if (kura_tst_add_revinfo(&out, outlen, tok, len, v, NULL) != 0)
		out = NULL;
out:
	ERR_clear_error();
	kura_vdata_free(v);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return out;
}

int kura_augment(unsigned char **aug, size_t *auglen, kura_augmenter *a, const unsigned char *tok, size_t len,
		 const kura_tst *last, kura_error *err)
{
	unsigned char d[32];
	SHA256(tok, len, d);
	struct done_token *hit = NULL;
	for (size_t i = 0; i < a->ntokens && !hit; i++)
		if (memcmp(a->tokens[i].digest, d, 32) == 0)
			hit = &a->tokens[i];
	if (!hit) {
		struct done_token *g = realloc(a->tokens, (a->ntokens + 1) * sizeof *g);
		if (!g)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		a->tokens = g;
		hit = &g[a->ntokens++];
		memset(hit, 0, sizeof *hit);
		memcpy(hit->digest, d, 32);
		if (!is_complete(a, last) && !(hit->aug = augment(&hit->len, a, tok, len, last)))
			remember_complete(a, last);
		if (hit->aug) { /* what was added must not make it fail: a revoked TSA, say */
			kura_tst *t = NULL;
			kura_error e = {0};
			if (kura_tst_parse(&t, hit->aug, hit->len, &e) != 0 || kura_tst_verify(t, a->anchors, NULL, a->now, &e) != 0) {
				hit->failed = 1;
				snprintf(hit->why, sizeof hit->why, "%s", e.message);
			}
			kura_tst_free(t);
		}
	}
	*aug = NULL;
	*auglen = 0;
	if (hit->failed)
		return kura_error_set(err, KURA_EVERIFY, "%s", hit->why);
	if (hit->aug && !(*aug = malloc(hit->len)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (hit->aug) {
		memcpy(*aug, hit->aug, hit->len);
		*auglen = hit->len;
	}
	return 0;
}
