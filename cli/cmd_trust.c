/* kura trust add STORE (--signers | --tsa) CA.pem
 * Adds trust anchors: roots of foreign TSAs (checked on every time-stamp from a
 * remote TSA and when verifying), or of document signers. Kept as PEM in
 * STORE/trust/tsa.pem and STORE/trust/signers.pem. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cli/cli.h"
#include "common/fsutil.h"
#include "evidence/tsa.h"
#include "kura/store.h"

static const char usage[] = "kura trust add STORE (--signers | --tsa) CA.pem";

int kura_cmd_trust(int argc, char **argv)
{
	static const struct option opts[] = {
		{"signers", no_argument, NULL, 's'},
		{"tsa", no_argument, NULL, 't'},
		{0},
	};
	const char *kind = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's' || c == 't') {
			if (kind)
				return kura_cli_usage(usage, "give either --signers or --tsa");
			kind = c == 's' ? "signers" : "tsa";
		} else {
			return kura_cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 3 || strcmp(argv[optind], "add") != 0 || !kind)
		return kura_cli_usage(usage, "trust add takes a STORE, --signers or --tsa, and a certificate file");
	const char *store = argv[optind + 1], *file = argv[optind + 2];
	kura_error err = {0};
	kura_store *st = NULL;
	STACK_OF(X509) *certs = sk_X509_new_null();
	int rc = kura_store_open(&st, store, KURA_STORE_WRITE, &err); /* the writer lock serialises changes */
	if (rc == 0)
		rc = kura_load_certs(certs, file, &err);
	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++)
		if (X509_check_ca(sk_X509_value(certs, i)) == 0)
			rc = kura_error_set(&err, KURA_EINPUT, "%s holds a certificate that is not a CA; add the root (or intermediate) CA", file);
	char rel[32], path[4096];
	snprintf(rel, sizeof rel, "trust/%s.pem", kind);
	snprintf(path, sizeof path, "%s/%s", store, rel);
	char *old = NULL;
	size_t oldlen = 0;
	if (rc == 0 && kura_fs_read_file(path, 64u << 20, &old, &oldlen) != 0 && errno != ENOENT)
		rc = kura_error_sys(&err, KURA_EIO, "reading %s", path);
	BIO *b = BIO_new(BIO_s_mem());
	if (rc == 0 && old)
		BIO_write(b, old, (int)oldlen);
	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++)
		PEM_write_bio_X509(b, sk_X509_value(certs, i));
	char *data;
	long n = BIO_get_mem_data(b, &data);
	if (rc == 0)
		rc = kura_store_write_file(st, rel, data, (size_t)n, &err);
	for (int i = 0; rc == 0 && i < sk_X509_num(certs); i++) {
		char subject[512];
		X509_NAME_oneline(X509_get_subject_name(sk_X509_value(certs, i)), subject, sizeof subject);
		json_t *detail = json_pack("{s:s, s:s}", "kind", kind, "subject", subject);
		rc = kura_store_audit(st, "trust-add", detail, &err);
		json_decref(detail);
	}
	if (rc == 0)
		fprintf(stderr, "kura: %d %s trust anchor(s) added to %s\n", sk_X509_num(certs), kind, store);
	BIO_free(b);
	free(old);
	sk_X509_pop_free(certs, X509_free);
	kura_store_close(st);
	return rc ? kura_cli_fail(&err) : 0;
}
