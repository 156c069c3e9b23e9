/* Client certificates (client_cert.h): a TLS client's certificate, verified
 * by GnuTLS (libmicrohttpd's TLS) against the service's --client-ca, and the
 * account bound to it in users.json (access/users.c).
 *
 * INVARIANTS
 * - libmicrohttpd only asks for a certificate (GNUTLS_CERT_REQUEST) and does
 *   not judge it: every request with one is verified here (chain to the CA,
 *   validity period, a key purpose allowing TLS clients) before its account is
 *   looked up. A refused certificate is a refused request (401, audited), not
 *   a refused handshake, so that it is recorded.
 * - An account is found by the SHA-256 of the certificate's DER, never by its
 *   names: a certificate with the same subject from the same CA is another one. */
#include <string.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <openssl/sha.h>

#include "common/hex.h"
#include "server/client_cert.h"

/* 0 if the peer's certificate verifies; KURA_EDENIED saying why otherwise. */
static int verify(gnutls_session_t ss, kura_error *err)
{
	gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID, .data = (void *)GNUTLS_KP_TLS_WWW_CLIENT};
	unsigned status = 0;
	int g = gnutls_certificate_verify_peers(ss, &purpose, 1, &status);
	if (g < 0)
		return kura_error_set(err, KURA_EDENIED, "the client certificate could not be checked (%s)",
				      gnutls_strerror(g));
	if (status == 0)
		return 0;
	gnutls_datum_t why = {0};
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0) < 0)
		why.data = NULL;
	kura_error_set(err, KURA_EDENIED, "the client certificate is refused: %s (it must be issued by the "
					  "service's --client-ca and valid now)", why.data ? (char *)why.data : "not trusted");
	gnutls_free(why.data);
	return KURA_EDENIED;
}

int kura_client_cert_check_ca(const char *pem, const char *path, kura_error *err)
{
	gnutls_x509_crt_t *certs = NULL;
	unsigned n = 0;
	gnutls_datum_t in = {(unsigned char *)pem, (unsigned)strlen(pem)};
	int g = gnutls_x509_crt_list_import2(&certs, &n, &in, GNUTLS_X509_FMT_PEM, 0);
	for (unsigned i = 0; g >= 0 && i < n; i++)
		gnutls_x509_crt_deinit(certs[i]);
	gnutls_free(certs);
	if (g < 0 || n == 0)
		return kura_error_set(err, KURA_EINPUT, "the client CA %s holds no PEM certificate (BEGIN CERTIFICATE): "
				      "give --client-ca the certificate of the CA that issues the clients' certificates", path);
	return 0;
}

int kura_client_cert_account(const char *store, struct MHD_Connection *c, const char *token, char sha256[65],
			     kura_user *u, kura_error *err)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t ss = ci ? (gnutls_session_t)ci->tls_session : NULL;
	unsigned n = 0;
	const gnutls_datum_t *peers = ss ? gnutls_certificate_get_peers(ss, &n) : NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	sha256[0] = '\0';
	memset(u, 0, sizeof *u);
	if (!peers || n == 0)
		return KURA_ENOTFOUND;
	SHA256(peers[0].data, peers[0].size, md);
	kura_hex_encode(sha256, md, sizeof md);
	int rc = verify(ss, err);
	if (rc == 0 && (rc = kura_user_authenticate_cert(store, sha256, u, err)) == KURA_EDENIED)
		kura_error_set(err, KURA_EDENIED, "the client certificate (SHA-256 %s) is no account's (an admin binds it: "
						  "kura user cert)", sha256);
	if (rc == 0 && token) {
		kura_user t = {0};
		int same = kura_user_authenticate(store, token, &t, &(kura_error){0}) == 0 && strcmp(t.name, u->name) == 0;
		kura_user_clear(&t);
		if (!same) {
			kura_user_clear(u);
			rc = kura_error_set(err, KURA_EDENIED, "the bearer token is not the account of the client "
							       "certificate; send one of them, or both of one account");
		}
	}
	return rc;
}
