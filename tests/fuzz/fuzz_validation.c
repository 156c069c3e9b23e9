/* Harness: validation data — the KuraValidationData stored with a signed
 * document (evidence/vdata.c), revocation decided from it (evidence/revocation.c:
 * OCSP responses and CRLs), and the revocation data a time-stamp token carries
 * (evidence/tst_revinfo.c).
 *
 * Input: a mode byte, then (mode % 3)
 *   0: validation data (DER): parsed, encoded again and parsed back; every
 *      certificate in it gets its status at a fixed time, with each certificate
 *      in it that issued it;
 *   1: a token (ContentInfo) and validation data (fuzz_split: token, data): the
 *      token's revocation data are read, and the data are added to it;
 *   2: a CRL file (PEM or DER), read as `kura ingest --crl` reads one. */
#include <stdlib.h>

#include <openssl/cms.h>
#include <openssl/x509v3.h>

#include "evidence/revocation.h"
#include "evidence/tst_revinfo.h"
#include "evidence/vdata.h"
#include "tests/fuzz/fuzz_common.h"

static void statuses(const kura_vdata *v)
{
	STACK_OF(X509) *certs = kura_vdata_certs(v);
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *cert = sk_X509_value(certs, i);
		kura_revocation_has_sources(cert);
		for (int j = 0; j < sk_X509_num(certs); j++) {
			X509 *issuer = sk_X509_value(certs, j);
			if (X509_check_issued(issuer, cert) != X509_V_OK)
				continue;
			json_t *entry = NULL;
			int64_t at = 0;
			int reason = -1;
			kura_revocation_known(v, cert, issuer);
			kura_revocation_status(&entry, v, cert, issuer, FUZZ_NOW_MS, &at, &reason);
			json_decref(entry);
		}
	}
}

static void vdata(const uint8_t *data, size_t size)
{
	kura_vdata *v = NULL, *again = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	if (kura_vdata_parse(&v, data, size, NULL) != 0)
		return;
	statuses(v);
	for (int i = 0; i < kura_vdata_ocsp_count(v); i++)
		kura_vdata_ocsp(v, i);
	if (kura_vdata_encode(&der, &len, v, NULL) == 0 && kura_vdata_parse(&again, der, len, NULL) != 0)
		abort(); /* what kura wrote, kura must read */
	kura_vdata_free(again);
	free(der);
	kura_vdata_free(v);
}

static void token(const uint8_t *data, size_t size)
{
	const uint8_t *part[2], *p;
	size_t len[2];
	fuzz_split(data, size, 2, part, len);
	p = part[0];
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len[0]);
	kura_vdata *carried = NULL, *v = NULL;
	if (cms && kura_tst_revinfo(&carried, cms, NULL) == 0)
		statuses(carried);
	if (kura_vdata_parse(&v, part[1], len[1], NULL) == 0 || kura_vdata_new(&v, FUZZ_NOW_MS, NULL) == 0) {
		unsigned char *out = NULL;
		size_t olen = 0;
		if (kura_tst_add_revinfo(&out, &olen, part[0], len[0], v, NULL) == 0)
			free(out);
	}
	kura_vdata_free(v);
	kura_vdata_free(carried);
	CMS_ContentInfo_free(cms);
}

static void crl_file(const uint8_t *data, size_t size)
{
	char path[4096];
	fuzz_write(path, sizeof path, "crl", data, size);
	STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
	if (crls)
		kura_revocation_load_crls(crls, path, NULL);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
}

int fuzz_one(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 3 == 0)
		vdata(data + 1, size - 1);
	else if (data[0] % 3 == 1)
		token(data + 1, size - 1);
	else
		crl_file(data + 1, size - 1);
	return 0;
}
