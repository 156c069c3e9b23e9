/* Client certificates in the preservation service (kura serve --client-ca,
 * docs/SERVICE.md): which account a TLS client's certificate signs in as. */
#ifndef KURA_SERVER_CLIENT_CERT_H
#define KURA_SERVER_CLIENT_CERT_H

#include <microhttpd.h>

#include "kura/access.h"

/* The account of connection c's client certificate, checked against the
 * trusted CA the daemon was given (MHD_OPTION_HTTPS_MEM_TRUST): it must chain
 * to it, be within its validity and may be used for TLS clients. token, if not
 * NULL, is the request's bearer token: it must then be the same account's.
 * 0 (*u filled: kura_user_clear); KURA_ENOTFOUND if the client sent no
 * certificate (nothing else is done); KURA_EDENIED saying why it is refused;
 * another error if the accounts cannot be read. sha256 gets the SHA-256 of the
 * certificate sent ("" none), refused or not, for the audit record. */
int kura_client_cert_account(const char *store, struct MHD_Connection *c, const char *token, char sha256[65],
			     kura_user *u, kura_error *err);

/* 0 if pem (read from path) holds one or more X.509 certificates, for
 * MHD_OPTION_HTTPS_MEM_TRUST; KURA_EINPUT naming path otherwise. */
int kura_client_cert_check_ca(const char *pem, const char *path, kura_error *err);

#endif
