/* Writing the trust folder of a store (see kura/trust.h): the new anchors are
 * appended to the PEM file of their kind, which is rewritten whole and durably
 * (kura_store_write_file), never through a symbolic link. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/fsutil.h"
#include "evidence/tsa.h"
#include "kura/store.h"
#include "kura/trust.h"

const char *kura_trust_kind_name(kura_trust_kind kind)
{
	return kind == KURA_TRUST_SIGNERS ? "signers" : "tsa";
}

int kura_trust_add(int *added, kura_store *st, kura_trust_kind which, const char *file, kura_error *err)
{
	const char *kind = kura_trust_kind_name(which);
	STACK_OF(X509) *certs = sk_X509_new_null();
	int rc = certs ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	*added = 0;
	if (rc == 0)
		rc = kura_load_certs(certs, file, err);
	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++)
		if (X509_check_ca(sk_X509_value(certs, i)) == 0)
			rc = kura_error_set(err, KURA_EINPUT, "%s holds a certificate that is not a CA; add the root (or intermediate) CA", file);
	char rel[32], path[4096];
	snprintf(rel, sizeof rel, "trust/%s.pem", kind);
	snprintf(path, sizeof path, "%s/%s", kura_store_path(st), rel);
	char *old = NULL;
	size_t oldlen = 0;
	if (rc == 0 && kura_fs_read_file(path, 64u << 20, &old, &oldlen) != 0 && errno != ENOENT)
		rc = kura_error_sys(err, KURA_EIO, "reading %s", path);
	BIO *b = BIO_new(BIO_s_mem());
	if (rc == 0 && old)
		BIO_write(b, old, (int)oldlen);
	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++)
		PEM_write_bio_X509(b, sk_X509_value(certs, i));
	char *data;
	long n = BIO_get_mem_data(b, &data);
	if (rc == 0)
		rc = kura_store_write_file(st, rel, data, (size_t)n, err);
	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++) {
		char subject[512];
		X509_NAME_oneline(X509_get_subject_name(sk_X509_value(certs, i)), subject, sizeof subject);
		json_t *detail = json_pack("{s:s, s:s}", "kind", kind, "subject", subject);
		rc = kura_store_audit(st, "trust-add", detail, err);
		json_decref(detail);
	}
	if (rc == 0)
		*added = sk_X509_num(certs);
	BIO_free(b);
	free(old);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}
