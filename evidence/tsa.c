/* The embedded TSA (see tsa.h): key and certificate creation with OpenSSL's X509
 * API, and responses with its TS_RESP_CTX. Everything time-related comes from
 * kura's clock, so a test can issue tokens "in 2040". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "common/fsutil.h"
#include "common/hash.h"
#include "evidence/tsa.h"
#include "evidence/tsa_files.h"
#include "evidence/tsp.h"
#include "evidence/tst.h"
#include "kura/clock.h"

struct kura_tsa {
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;   /* the certificates a token carries besides the signer */
	STACK_OF(X509) *anchors; /* every root ever used */
};

static int path_in(char *buf, size_t n, const char *dir, const char *name)
{
	return snprintf(buf, n, "%s/%s", dir, name) >= (int)n ? -1 : 0;
}

int kura_tsa_exists(const char *dir)
{
	char p[4096];
	struct stat st;
	return path_in(p, sizeof p, dir, "tsa.pem") == 0 && stat(p, &st) == 0;
}

#define MAX_CERT_FILE (16 << 20)
#define MAX_CERTS 1000

int kura_load_certs_from(STACK_OF(X509) *out, FILE *f, const char *what, kura_error *err)
{
	/* a package's anchors are outside input: a gzip bomb of one certificate
	 * repeated would fill memory; trust anchors are a few KiB each */
	struct stat sb;
	if (fstat(fileno(f), &sb) != 0 || sb.st_size > MAX_CERT_FILE)
		return kura_error_set(err, KURA_EINPUT, "certificate file %s is larger than 16 MiB: not a list of trust anchors",
				      what);
	int n = 0;
	X509 *c;
	while (n <= MAX_CERTS && (c = PEM_read_X509(f, NULL, NULL, NULL))) {
		sk_X509_push(out, c);
		n++;
	}
	if (n > MAX_CERTS) {
		while (n-- > 0) /* nothing of it is used */
			X509_free(sk_X509_pop(out));
		return kura_error_set(err, KURA_EINPUT, "certificate file %s holds more than %d certificates: not a list of "
				      "trust anchors", what, MAX_CERTS);
	}
	if (n == 0) {
		rewind(f);
		if ((c = d2i_X509_fp(f, NULL))) {
			sk_X509_push(out, c);
			n++;
		}
	}
	ERR_clear_error();
	if (n == 0)
		return kura_error_set(err, KURA_EINPUT, "%s holds no certificate (PEM or DER)", what);
	return 0;
}

int kura_load_certs(STACK_OF(X509) *out, const char *path, kura_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return kura_error_sys(err, errno == EIO ? KURA_EIO : KURA_EINPUT, "cannot read certificate file %s", path);
	int rc = kura_load_certs_from(out, f, path, err);
	fclose(f);
	return rc;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = ext && X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A certificate for key, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *org, X509 *issuer, EVP_PKEY *issuer_key,
		       int64_t now_ms, int days, int is_ca)
{
	X509 *c = X509_new();
	unsigned char serial[16];
	if (!c || RAND_bytes(serial, sizeof serial) != 1)
		goto bad;
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
	int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
	BN_free(bn);
	X509_NAME *name = X509_NAME_new();
	if (!ok || !name || !X509_set_version(c, X509_VERSION_3) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(c, name) || !X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name)) {
		X509_NAME_free(name);
		goto bad;
	}
	X509_NAME_free(name);
	time_t from = (time_t)(now_ms / 1000) - 60; /* a minute of slack for clocks */
	if (!ASN1_TIME_set(X509_getm_notBefore(c), from) ||
	    !ASN1_TIME_set(X509_getm_notAfter(c), from + 60 + (time_t)days * 86400) || !X509_set_pubkey(c, key))
		goto bad;
	X509 *iss = issuer ? issuer : c;
	if (add_ext(c, iss, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(c, iss, NID_authority_key_identifier, "keyid:always") != 0)
		goto bad;
	if (is_ca) {
		if (add_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
		    add_ext(c, iss, NID_key_usage, "critical,keyCertSign,cRLSign") != 0)
			goto bad;
	} else if (add_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
		   add_ext(c, iss, NID_key_usage, "critical,digitalSignature,nonRepudiation") != 0 ||
		   add_ext(c, iss, NID_ext_key_usage, "critical,timeStamping") != 0) {
		goto bad;
	}
	if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha384())) /* the root is P-384 */
		goto bad;
	return c;
bad:
	X509_free(c);
	return NULL;
}

/* The kinds of key the embedded TSA signs with: new_key makes each of them. */
static const char *const key_kinds[] = {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", NULL};

int kura_tsa_key_kind_known(const char *kind)
{
	for (int i = 0; key_kinds[i]; i++)
		if (strcmp(kind, key_kinds[i]) == 0)
			return 1;
	return 0;
}

/* A new key of one of kura's kinds. */
static EVP_PKEY *new_key(const char *kind)
{
	if (strcmp(kind, "ec-p256") == 0)
		return EVP_EC_gen("P-256");
	if (strcmp(kind, "ec-p384") == 0)
		return EVP_EC_gen("P-384");
	if (strcmp(kind, "rsa-2048") == 0)
		return EVP_RSA_gen(2048);
	if (strcmp(kind, "rsa-3072") == 0)
		return EVP_RSA_gen(3072);
	if (strcmp(kind, "rsa-4096") == 0)
		return EVP_RSA_gen(4096);
	return NULL;
}

void kura_tsa_key_alg(kura_tsa *t, char *buf, size_t n)
{
	kura_key_alg_name(X509_get0_pubkey(t->cert), buf, n);
}

/* tsa.json: how the TSA was made, so a rollover makes its successor alike. */
static int write_params(int d, const char *name, int root_days, int tsa_days, const char *label, const char *key)
{
	char text[512];
	int n = snprintf(text, sizeof text, "{\"root_days\": %d, \"tsa_days\": %d, \"root_key\": \"ec-p384\", "
					  "\"tsa_key\": \"%s\", \"name\": \"%s\"}\n", root_days, tsa_days, key, label);
	return kura_tsa_files_write(d, name, text, (size_t)n);
}

int kura_tsa_create(const char *dir, const kura_tsa_options *o, kura_error *err)
{
	int root_days = o && o->root_days ? o->root_days : 7305;
	int tsa_days = o && o->tsa_days ? o->tsa_days : 1826;
	const char *label = o && o->name ? o->name : "kura";
	const char *kind = o && o->key ? o->key : "ec-p256";
	if (tsa_days > root_days)
		return kura_error_set(err, KURA_EINPUT, "the TSA certificate cannot outlive its root (%d > %d days)",
				      tsa_days, root_days);
	int d = kura_tsa_files_open(dir, 1, err);
	if (d < 0)
		return d;
	struct stat sb;
	if (fstatat(d, "tsa.pem", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		close(d);
		return kura_error_set(err, KURA_EINPUT, "%s holds a TSA already", dir);
	}
	int64_t now;
	int rc = kura_clock_now(&now, err);
	if (rc != 0) {
		close(d);
		return rc;
	}
	char cn[256], tag[7];
	unsigned char r[3] = {0};
	RAND_bytes(r, sizeof r); /* tells two kura TSAs apart in reports */
	snprintf(tag, sizeof tag, "%02x%02x%02x", r[0], r[1], r[2]);
	EVP_PKEY *tsa_key = new_key(kind);
	if (!tsa_key) {
		close(d);
		return kura_error_set(err, KURA_EINPUT, "unknown TSA key kind '%s' (ec-p256, ec-p384, rsa-2048, rsa-3072, rsa-4096)", kind);
	}
	EVP_PKEY *root_key = EVP_EC_gen("P-384");
	X509 *root = NULL, *tsa = NULL;
	snprintf(cn, sizeof cn, "%s embedded TSA root %s", label, tag);
	if (root_key)
		root = make_cert(root_key, cn, "kura embedded time-stamping", NULL, NULL, now, root_days, 1);
	snprintf(cn, sizeof cn, "%s embedded TSA %s", label, tag);
	if (root && tsa_key)
		tsa = make_cert(tsa_key, cn, "kura embedded time-stamping", root, root_key, now, tsa_days, 0);
	if (!tsa) {
		rc = kura_error_set(err, KURA_EINTERNAL, "creating the embedded TSA's keys and certificates failed");
		goto out;
	}
	/* tsa.pem last: it is what makes the folder hold a TSA (kura_tsa_exists) */
	if (kura_tsa_files_write_key(d, "root.key", root_key) || kura_tsa_files_write_key(d, "tsa.key", tsa_key) ||
	    kura_tsa_files_write_certs(d, "root.pem", NULL, 0, &root, 1) ||
	    kura_tsa_files_write_certs(d, "anchors.pem", NULL, 0, &root, 1) ||
	    write_params(d, "tsa.json", root_days, tsa_days, label, kind) ||
	    kura_tsa_files_write_certs(d, "tsa.pem", NULL, 0, &tsa, 1) || fsync(d) != 0)
		rc = kura_error_sys(err, KURA_EIO, "writing the embedded TSA into %s", dir);
out:
	ERR_clear_error();
	close(d);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(tsa_key);
	X509_free(root);
	X509_free(tsa);
	return rc;
}

int kura_tsa_open(kura_tsa **out, const char *dir, kura_error *err)
{
	kura_tsa *t = calloc(1, sizeof *t);
	if (!t)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	t->chain = sk_X509_new_null();
	t->anchors = sk_X509_new_null();
	STACK_OF(X509) *mine = sk_X509_new_null();
	int d = kura_tsa_files_open(dir, 0, err), rc = d < 0 ? d : 0;
	if (rc == 0 && (rc = kura_tsa_files_read_certs(mine, d, "tsa.pem", err)) == 0)
		t->cert = sk_X509_shift(mine);
	if (rc == 0 && ((rc = kura_tsa_files_read_certs(t->chain, d, "root.pem", err)) != 0 ||
			(rc = kura_tsa_files_read_certs(t->anchors, d, "anchors.pem", err)) != 0))
		goto out;
	errno = 0;
	if (rc == 0 && !(t->key = kura_tsa_files_read_key(d, "tsa.key")) && errno == EIO) /* the disk, not the key */
		rc = kura_error_sys(err, KURA_EIO, "reading the embedded TSA's key in %s", dir);
	else if (rc == 0 && (!t->key || X509_check_private_key(t->cert, t->key) != 1))
		rc = kura_error_set(err, KURA_EIO, "the embedded TSA's key in %s is missing, unreadable or not its certificate's", dir);
out:
	ERR_clear_error();
	if (d >= 0)
		close(d);
	sk_X509_pop_free(mine, X509_free);
	if (rc != 0) {
		kura_error_wrap(err, "opening the embedded TSA");
		kura_tsa_close(t);
		return rc;
	}
	*out = t;
	return 0;
}

void kura_tsa_close(kura_tsa *t)
{
	if (!t)
		return;
	X509_free(t->cert);
	EVP_PKEY_free(t->key);
	sk_X509_pop_free(t->chain, X509_free);
	sk_X509_pop_free(t->anchors, X509_free);
	free(t);
}

STACK_OF(X509) *kura_tsa_anchors(kura_tsa *t) { return t->anchors; }

static int clock_cb(TS_RESP_CTX *ctx, void *data, long *sec, long *usec)
{
	(void)data;
	int64_t now;
	if (kura_clock_now(&now, NULL) != 0) {
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "the TSA's clock is not set");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_TIME_NOT_AVAILABLE);
		return 0;
	}
	*sec = (long)(now / 1000);
	*usec = (long)(now % 1000) * 1000;
	return 1;
}

static ASN1_INTEGER *serial_cb(TS_RESP_CTX *ctx, void *data)
{
	(void)data;
	unsigned char r[16];
	ASN1_INTEGER *serial = NULL;
	if (RAND_bytes(r, sizeof r) == 1) {
		r[0] &= 0x7f;
		BIGNUM *bn = BN_bin2bn(r, sizeof r, NULL);
		serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
		BN_free(bn);
	}
	if (!serial) {
		TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "no serial number");
		TS_RESP_CTX_add_failure_info(ctx, TS_INFO_ADD_INFO_NOT_AVAILABLE);
	}
	return serial;
}

/* Signs a TSTInfo as a token with the CMS API, so that every signed attribute is
 * ours: OpenSSL's TS signer stamps signingTime from the system clock, which
 * would contradict genTime whenever KURA_NOW is set (Bouncy Castle checks the
 * signer's certificate at signingTime). */
static int sign_token(unsigned char **out, size_t *len, kura_tsa *t, TS_TST_INFO *tst, int with_certs, kura_error *err)
{
	unsigned char *content = NULL, *ess = NULL, *der = NULL;
	int clen = i2d_TS_TST_INFO(tst, &content), elen = -1, n = -1;
	int64_t gen;
	BIO *in = clen > 0 ? BIO_new_mem_buf(content, clen) : NULL;
	/* sign with the hash the requester chose for the imprint: a request moved to
	 * SHA-512 because SHA-256 ends must not get a SHA-256 signature */
	const ASN1_OBJECT *alg;
	kura_hash_pair_ecdsa_sha3(); /* an imprint in SHA-3 is signed ecdsa-with-SHA3 by an EC key */
	X509_ALGOR_get0(&alg, NULL, NULL, TS_MSG_IMPRINT_get_algo(TS_TST_INFO_get_msg_imprint(tst)));
	const EVP_MD *md = EVP_get_digestbyobj(alg);
	if (!md)
		md = EVP_sha256();
	ESS_SIGNING_CERT_V2 *sc = OSSL_ESS_signing_cert_v2_new_init(md, t->cert, NULL, 0);
	ASN1_TIME *when = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si = NULL;
	const unsigned flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP | CMS_NOCERTS;
	if (sc)
		elen = i2d_ESS_SIGNING_CERT_V2(sc, &ess);
	if (in && elen > 0 && kura_asn1_time_ms(&gen, TS_TST_INFO_get_time(tst)) == 0 &&
	    (when = ASN1_TIME_set(NULL, (time_t)(gen / 1000))) &&
	    (cms = CMS_sign(NULL, NULL, NULL, NULL, flags)) &&
	    CMS_set1_eContentType(cms, OBJ_nid2obj(NID_id_smime_ct_TSTInfo)) &&
	    (si = CMS_add1_signer(cms, t->cert, t->key, md, flags)) &&
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_signingTime, ASN1_STRING_type(when), when, -1) &&
	    CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, V_ASN1_SEQUENCE, ess, elen)) {
		int ok = 1;
		if (with_certs) {
			ok = CMS_add1_cert(cms, t->cert);
			for (int i = 0; ok && i < sk_X509_num(t->chain); i++)
				ok = CMS_add1_cert(cms, sk_X509_value(t->chain, i));
		}
		if (ok && CMS_final(cms, in, NULL, CMS_BINARY))
			n = i2d_CMS_ContentInfo(cms, &der);
	}
	int rc = 0;
	if (n <= 0 || !(*out = malloc((size_t)n))) {
		char key[32];
		kura_key_alg_name(t->key, key, sizeof key);
		rc = kura_error_set(err, KURA_EINTERNAL, "the embedded TSA could not sign its token (%s imprint, %s key)",
				    OBJ_nid2ln(EVP_MD_get_type(md)), key);
	} else {
		memcpy(*out, der, (size_t)n);
		*len = (size_t)n;
	}
	ERR_clear_error();
	OPENSSL_free(der);
	OPENSSL_free(content);
	OPENSSL_free(ess);
	ESS_SIGNING_CERT_V2_free(sc);
	ASN1_TIME_free(when);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return rc;
}

int kura_tsa_respond(kura_tsa *t, const unsigned char *req, size_t len, unsigned char **resp, size_t *rlen,
		     kura_error *err)
{
	TS_RESP_CTX *ctx = TS_RESP_CTX_new();
	ASN1_OBJECT *policy = OBJ_txt2obj(KURA_TSA_POLICY, 1);
	BIO *in = BIO_new_mem_buf(req, (int)len);
	TS_RESP *r = NULL;
	unsigned char *status = NULL, *token = NULL;
	size_t tlen = 0;
	int rc = 0;
	if (!ctx || !policy || !in || !TS_RESP_CTX_set_signer_cert(ctx, t->cert) ||
	    !TS_RESP_CTX_set_signer_key(ctx, t->key) || !TS_RESP_CTX_set_certs(ctx, t->chain) ||
	    !TS_RESP_CTX_set_def_policy(ctx, policy) || !TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) ||
	    !TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()) || !TS_RESP_CTX_set_clock_precision_digits(ctx, 3)) {
		rc = kura_error_set(err, KURA_EINTERNAL, "setting up the embedded TSA failed");
		goto out;
	}
	const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512(), EVP_sha3_256(), EVP_sha3_384(), EVP_sha3_512()};
	for (size_t i = 0; i < sizeof mds / sizeof mds[0]; i++)
		TS_RESP_CTX_add_md(ctx, mds[i]);
	TS_RESP_CTX_set_time_cb(ctx, clock_cb, NULL);
	TS_RESP_CTX_set_serial_cb(ctx, serial_cb, NULL);
	/* OpenSSL checks the request and makes the TSTInfo (or the refusal); the token
	 * is then signed again by sign_token, with our own signed attributes */
	r = TS_RESP_create_response(ctx, in);
	int slen = r ? i2d_TS_STATUS_INFO(TS_RESP_get_status_info(r), &status) : -1;
	if (slen <= 0) {
		rc = kura_error_set(err, KURA_EINTERNAL, "the embedded TSA could not answer");
		goto out;
	}
	TS_TST_INFO *tst = TS_RESP_get_tst_info(r);
	PKCS7 *p7 = TS_RESP_get_token(r);
	if (tst && (rc = sign_token(&token, &tlen, t, tst, p7 && sk_X509_num(p7->d.sign->cert) > 0, err)) != 0)
		goto out;
	rc = kura_tsp_response(resp, rlen, status, (size_t)slen, token, tlen, err);
out:
	ERR_clear_error();
	OPENSSL_free(status);
	free(token);
	TS_RESP_free(r);
	BIO_free(in);
	ASN1_OBJECT_free(policy);
	TS_RESP_CTX_free(ctx);
	return rc;
}

X509 *kura_tsa_cert(kura_tsa *t) { return t->cert; }

/* Reads tsa.json's settings over the defaults the caller set. */
static void read_params(int d, int *root_days, int *tsa_days, char *kind, int keep_kind, char *label)
{
	char *params = kura_tsa_files_read_text(d, "tsa.json");
	if (!params)
		return;
	const char *r = strstr(params, "\"root_days\":"), *t = strstr(params, "\"tsa_days\":");
	const char *k = strstr(params, "\"tsa_key\": \""), *nm = strstr(params, "\"name\": \"");
	if (r)
		*root_days = atoi(r + 12);
	if (t)
		*tsa_days = atoi(t + 11);
	if (k && !keep_kind)
		sscanf(k + 12, "%31[^\"]", kind);
	if (nm)
		sscanf(nm + 9, "%63[^\"]", label);
	free(params);
}

/* The common name of the first certificate of file, or def. */
static void cert_cn(char *out, size_t n, int d, const char *file, const char *def)
{
	STACK_OF(X509) *c = sk_X509_new_null();
	snprintf(out, n, "%s", def);
	if (c && kura_tsa_files_read_certs(c, d, file, NULL) == 0)
		X509_NAME_get_text_by_NID(X509_get_subject_name(sk_X509_value(c, 0)), NID_commonName, out, (int)n);
	sk_X509_pop_free(c, X509_free);
}

/* Writes the successors as NAME.next and switches to them (tsa_files.c). */
static int write_successor(int d, const char *stamp, EVP_PKEY *tsa_key, X509 *tsa, EVP_PKEY *root_key, X509 *root,
			   int new_root, int root_days, int tsa_days, const char *label, const char *kind, kura_error *err)
{
	static const char *const names[] = {"tsa.key", "tsa.pem", "tsa.json", "root.key", "root.pem", "anchors.pem"};
	char *anchors = new_root ? kura_tsa_files_read_text(d, "anchors.pem") : NULL;
	int rc = 0;
	if (new_root && !anchors)
		rc = kura_error_sys(err, KURA_EIO, "reading the embedded TSA's anchors.pem");
	if (rc == 0 && (kura_tsa_files_write_key(d, "tsa.key.next", tsa_key) ||
			kura_tsa_files_write_certs(d, "tsa.pem.next", NULL, 0, &tsa, 1) ||
			write_params(d, "tsa.json.next", root_days, tsa_days, label, kind) ||
			(new_root && (kura_tsa_files_write_key(d, "root.key.next", root_key) ||
				      kura_tsa_files_write_certs(d, "root.pem.next", NULL, 0, &root, 1) ||
				      kura_tsa_files_write_certs(d, "anchors.pem.next", anchors, strlen(anchors), &root, 1))) ||
			kura_tsa_files_keep_old(d, "tsa.pem", stamp) || (new_root && kura_tsa_files_keep_old(d, "root.pem", stamp))))
		rc = kura_error_sys(err, KURA_EIO, "writing the embedded TSA's new key and certificate");
	free(anchors);
	return rc == 0 ? kura_tsa_files_switch(d, names, new_root ? 6 : 3, err) : rc;
}

int kura_tsa_rollover(const char *dir, const char *key, kura_error *err)
{
	char stamp[KURA_TIME_BUFSZ], kind[32] = "ec-p256", label[64] = "kura";
	char root_cn[256], tsa_cn[256];
	int root_days = 7305, tsa_days = 1826, rc = 0;
	if (key)
		snprintf(kind, sizeof kind, "%s", key);
	int64_t now;
	if ((rc = kura_clock_now(&now, err)) != 0)
		return rc;
	kura_time_format(stamp, now);
	int d = kura_tsa_files_open(dir, 0, err);
	if (d < 0)
		return d;
	read_params(d, &root_days, &tsa_days, kind, key != NULL, label);
	STACK_OF(X509) *roots = sk_X509_new_null();
	errno = 0;
	EVP_PKEY *root_key = kura_tsa_files_read_key(d, "root.key"), *tsa_key = NULL;
	X509 *root = NULL, *tsa = NULL;
	if (!root_key && errno == EIO) { /* the disk, not the key */
		rc = kura_error_sys(err, KURA_EIO, "reading the embedded TSA's root key in %s", dir);
		goto out;
	}
	tsa_key = new_key(kind);
	if (roots && (rc = kura_tsa_files_read_certs(roots, d, "root.pem", err)) == KURA_EIO)
		goto out;
	if (!roots || rc != 0 || !root_key || !tsa_key) {
		rc = kura_error_set(err, KURA_EIO, "the embedded TSA in %s cannot be rolled over: its root key or certificate is missing", dir);
		goto out;
	}
	root = sk_X509_shift(roots);
	/* the successors keep the names of the TSA and its root */
	cert_cn(root_cn, sizeof root_cn, d, "root.pem", "kura embedded TSA root");
	cert_cn(tsa_cn, sizeof tsa_cn, d, "tsa.pem", "kura embedded TSA");
	int64_t root_end;
	kura_asn1_time_ms(&root_end, X509_get0_notAfter(root));
	int new_root = root_end < now + (int64_t)tsa_days * 86400000 + 86400000;
	if (new_root) { /* the root would end before its new TSA certificate: a new root too */
		X509_free(root);
		EVP_PKEY_free(root_key);
		root = NULL;
		if ((root_key = EVP_EC_gen("P-384")))
			root = make_cert(root_key, root_cn, "kura embedded time-stamping", NULL, NULL, now, root_days, 1);
	}
	if (root)
		tsa = make_cert(tsa_key, tsa_cn, "kura embedded time-stamping", root, root_key, now, tsa_days, 0);
	if (!tsa) {
		rc = kura_error_set(err, KURA_EINTERNAL, "making the embedded TSA's new certificate failed");
		goto out;
	}
	rc = write_successor(d, stamp, tsa_key, tsa, root_key, root, new_root, root_days, tsa_days, label, kind, err);
	if (rc != 0)
		kura_error_wrap(err, "rolling over the embedded TSA in %s", dir);
out:
	ERR_clear_error();
	close(d);
	sk_X509_pop_free(roots, X509_free);
	EVP_PKEY_free(root_key);
	EVP_PKEY_free(tsa_key);
	X509_free(root);
	X509_free(tsa);
	return rc;
}
