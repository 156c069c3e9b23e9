/* The embedded TSA served over HTTP (server/tsa_server.c, kura/tsa.h): a real
 * RFC 3161 request POSTed with libcurl gets a time-stamp reply that verifies
 * (signature against the TSA's root, imprint, nonce); another method gets 405;
 * and after a rollover the server signs with the successor's key. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include "evidence/tsa.h"
#include "kura/trust.h"
#include "kura/tsa.h"
#include "testutil.h"

struct body {
	unsigned char *p;
	size_t n;
};

static size_t keep(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	unsigned char *g = realloc(b->p, b->n + size * nmemb);
	ck_assert_ptr_nonnull(g);
	memcpy(g + b->n, data, size * nmemb);
	b->p = g;
	b->n += size * nmemb;
	return size * nmemb;
}

/* POSTs (or GETs, when req is NULL) to url; the HTTP status. */
static long http(const char *url, const unsigned char *req, size_t len, struct body *reply, char *type, size_t typelen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/timestamp-query");
	long status = 0;
	char *ct = NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (req) {
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	snprintf(type, typelen, "%s", ct ? ct : "");
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

/* A TimeStampReq over SHA-256(text) with a nonce, asking for the certificate. */
static TS_REQ *make_request(const char *text)
{
	unsigned char digest[32], nonce[8];
	EVP_Digest(text, strlen(text), digest, NULL, EVP_sha256(), NULL);
	RAND_bytes(nonce, sizeof nonce);
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	X509_ALGOR_set_md(alg, EVP_sha256());
	TS_MSG_IMPRINT_set_algo(mi, alg);
	TS_MSG_IMPRINT_set_msg(mi, digest, sizeof digest);
	TS_REQ_set_version(req, 1);
	TS_REQ_set_msg_imprint(req, mi);
	ASN1_INTEGER *n = ASN1_INTEGER_new();
	BIGNUM *bn = BN_bin2bn(nonce, sizeof nonce, NULL);
	BN_to_ASN1_INTEGER(bn, n);
	TS_REQ_set_nonce(req, n);
	TS_REQ_set_cert_req(req, 1);
	BN_free(bn);
	ASN1_INTEGER_free(n);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	return req;
}

/* Asks the server at url for a token over text and checks the reply against
 * the roots in anchors; returns the signer's certificate (the caller's). */
static X509 *stamp_and_verify(const char *url, const char *text, const char *anchors)
{
	TS_REQ *req = make_request(text);
	unsigned char *der = NULL;
	int len = i2d_TS_REQ(req, &der);
	ck_assert_int_gt(len, 0);
	struct body reply = {0};
	char type[128];
	ck_assert_int_eq(http(url, der, (size_t)len, &reply, type, sizeof type), 200);
	ck_assert_str_eq(type, "application/timestamp-reply");
	const unsigned char *p = reply.p;
	TS_RESP *resp = d2i_TS_RESP(NULL, &p, (long)reply.n);
	ck_assert_ptr_nonnull(resp);

	STACK_OF(X509) *roots = sk_X509_new_null();
	kura_error err;
	ck_assert_msg(kura_load_certs(roots, anchors, &err) == 0, "%s", err.message);
	X509_STORE *store = X509_STORE_new();
	for (int i = 0; i < sk_X509_num(roots); i++)
		X509_STORE_add_cert(store, sk_X509_value(roots, i));
	TS_VERIFY_CTX *ctx = TS_REQ_to_TS_VERIFY_CTX(req, NULL); /* imprint, nonce, version, policy */
	TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
	TS_VERIFY_CTX_set_store(ctx, store); /* the context owns the store now */
	ck_assert_msg(TS_RESP_verify_response(ctx, resp) == 1, "the reply does not verify");

	PKCS7 *token = TS_RESP_get_token(resp);
	STACK_OF(X509) *certs = token->d.sign->cert;
	ck_assert_int_ge(sk_X509_num(certs), 1);
	X509 *signer = X509_dup(sk_X509_value(certs, 0));
	TS_VERIFY_CTX_free(ctx);
	sk_X509_pop_free(roots, X509_free);
	TS_RESP_free(resp);
	free(reply.p);
	OPENSSL_free(der);
	TS_REQ_free(req);
	return signer;
}

static int errors;

static void on_error(void *ud, const char *message)
{
	(void)ud;
	(void)message;
	errors++;
}

START_TEST(the_server_answers_rfc3161_over_http_and_follows_a_rollover)
{
	char *dir = kura_test_tmpdir(), tsadir[4096], anchors[4096], url[128];
	snprintf(tsadir, sizeof tsadir, "%s/tsa", dir);
	snprintf(anchors, sizeof anchors, "%s/anchors.pem", tsadir);
	kura_tsa_server *s = NULL;
	kura_error err;
	ck_assert_msg(kura_tsa_server_new(&s, NULL, tsadir, on_error, NULL, &err) == 0, "%s", err.message);
	ck_assert(kura_tsa_exists(tsadir)); /* --dir makes a TSA where there is none */
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	unsigned port = 0;
	ck_assert_msg(kura_tsa_server_listen(s, &sa, "127.0.0.1:0", &port, &err) == 0, "%s", err.message);
	ck_assert_uint_gt(port, 0);
	snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);

	X509 *first = stamp_and_verify(url, "document one", anchors);
	struct body reply = {0};
	char type[128];
	ck_assert_int_eq(http(url, NULL, 0, &reply, type, sizeof type), 405);
	free(reply.p);

	/* a rollover (as `kura renew` does) while serving: the successor signs */
	ck_assert_msg(kura_tsa_rollover(tsadir, "ec-p384", &err) == 0, "%s", err.message);
	X509 *second = stamp_and_verify(url, "document two", anchors);
	ck_assert_int_ne(X509_cmp(first, second), 0);
	ck_assert_int_eq(errors, 0);

	X509_free(first);
	X509_free(second);
	kura_tsa_server_free(s);
	kura_test_rmdir(dir);
}
END_TEST

START_TEST(a_store_without_an_embedded_tsa_is_refused)
{
	char *dir = kura_test_tmpdir(), store[4096];
	snprintf(store, sizeof store, "%s/store", dir);
	const char *urls[] = {"http://127.0.0.1:9/"};
	kura_init_options o = {.tsa_urls = urls, .ntsa_urls = 1};
	kura_error err;
	ck_assert_msg(kura_store_create(store, &o, NULL, NULL, &err) == 0, "%s", err.message);
	kura_tsa_server *s = (kura_tsa_server *)1;
	ck_assert_int_eq(kura_tsa_server_new(&s, store, NULL, on_error, NULL, &err), KURA_ENOTFOUND);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err.message, "has no embedded TSA to serve"), "%s", err.message);
	kura_test_rmdir(dir);
}
END_TEST

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	Suite *s = suite_create("tsa_server");
	TCase *tc = tcase_create("serve");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, the_server_answers_rfc3161_over_http_and_follows_a_rollover);
	tcase_add_test(tc, a_store_without_an_embedded_tsa_is_refused);
	suite_add_tcase(s, tc);
	int rc = kura_test_run(s);
	curl_global_cleanup();
	return rc;
}
