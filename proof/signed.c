/* Signed documents: ingest-time members and later verdicts (see signed.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "evidence/signature.h"
#include "kura/clock.h"
#include "proof/signed.h"
#include "proof/tsa_setup.h"

#define MAX_ATTACHED (256u << 20)
#define MAX_MEMBER (64u << 20)

int kura_signed_anchors(STACK_OF(X509) **out, kura_store *st, kura_error *err)
{
	static const char *const files[] = {"trust/signers.pem", NULL};
	return kura_store_certs(out, st, files, err);
}

/* The document whose signature is checked: a file, or bytes in memory. */
struct doc {
	const char *path; /* or its name, for bytes */
	const unsigned char *bytes;
	size_t len;
};

/* The digest of a document file, streamed, or of its bytes. */
static int digest_doc(void *ud, const EVP_MD *md, unsigned char *out, kura_error *err)
{
	const struct doc *d = ud;
	const char *path = d->path;
	if (d->bytes)
		return EVP_Digest(d->bytes, d->len, out, NULL, md, NULL) == 1
			       ? 0 : kura_error_set(err, KURA_EINTERNAL, "hashing %s failed", path);
	FILE *f = fopen(path, "rb");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536];
	size_t n;
	int rc = f ? 0 : kura_error_sys(err, KURA_EINPUT, "cannot read %s", path);
	if (rc == 0 && (!ctx || EVP_DigestInit_ex(ctx, md, NULL) != 1))
		rc = kura_error_set(err, KURA_EINTERNAL, "digest init failed");
	while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	if (rc == 0 && ferror(f))
		rc = kura_error_sys(err, KURA_EIO, "reading %s", path);
	if (rc == 0)
		EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	if (f)
		fclose(f);
	return rc;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

void kura_signed_clear(kura_signed *s)
{
	json_decref(s->report);
	free(s->sig);
	free(s->vdata);
	memset(s, 0, sizeof *s);
}

/* The signers' revocation data, fetched now into *v: *fetch_rc is KURA_EIO if
 * a responder could not be reached, which stops the ingest unless the caller
 * allows storing without it. */
static int collect_revocation(kura_vdata **v, int *fetch_rc, const kura_sig *s, STACK_OF(X509) *anchors,
			      const kura_signed_options *o, int64_t now, kura_error *err)
{
	kura_error fetch_err = {0};
	int rc = 0;
	*fetch_rc = kura_sig_collect(v, s, anchors, o->crls, 1, o->timeout_s ? o->timeout_s : 30, now, &fetch_err);
	if (*fetch_rc != 0 && *fetch_rc != KURA_EIO)
		rc = *fetch_rc, *err = fetch_err;
	else if (*fetch_rc == KURA_EIO && !o->allow_no_revocation)
		rc = kura_error_set(err, KURA_EIO, "%s; nothing was stored. Try again when the responder is reachable, "
						    "give the CRLs with --crl FILE, or store without revocation data "
						    "with --allow-no-revocation (the signature is then reported indeterminate)",
				    fetch_err.message);
	else if (*fetch_rc == KURA_EIO)
		kura_log_message(KURA_LOG_WARNING, "%s; storing without it (--allow-no-revocation)", fetch_err.message);
	return rc;
}

/* A signature that is not valid is refused (nothing is stored) unless the
 * caller accepts it, or its revocation data could not be had (fetch_rc). */
static int judge_signature(json_t *report, const char *path, int fetch_rc, const kura_signed_options *o,
			   kura_error *err)
{
	const char *verdict = json_string_value(json_object_get(report, "signature"));
	const char *why = json_string_value(json_object_get(report, "reason"));
	int unknown_revocation = fetch_rc == KURA_EIO && strcmp(verdict, "indeterminate") == 0;
	if (strcmp(verdict, "valid") != 0 && !o->accept_invalid && !unknown_revocation)
		return kura_error_set(err, strstr(why ? why : "", "document does not match") ? KURA_EINPUT : KURA_EVERIFY,
				      "the signature of %s is %s: %s; nothing was stored (--accept-invalid stores it, "
				      "reported %s forever)", path, verdict, why ? why : "no reason given", verdict);
	return 0;
}

static int prepare(kura_signed *out, kura_store *st, const struct doc *doc, const unsigned char *sig, size_t siglen,
		   const char *sig_name, const kura_signed_options *o, kura_error *err)
{
	const char *path = doc->path;
	memset(out, 0, sizeof *out);
	char *attached = NULL;
	size_t alen = 0;
	kura_sig *s = NULL;
	kura_vdata *v = NULL;
	STACK_OF(X509) *anchors = NULL, *tsa_anchors = NULL;
	int64_t now;
	int rc = kura_clock_now(&now, err);
	if (rc == 0 && !sig) {
		if (kura_fs_read_file(path, MAX_ATTACHED, &attached, &alen) != 0)
			rc = errno == EFBIG ? kura_error_set(err, KURA_EINPUT, "%s: an attached signature larger than 256 MiB; "
								       "sign the document detached", path)
					    : kura_error_sys(err, KURA_EINPUT, "cannot read %s", path);
		sig = (const unsigned char *)attached;
		siglen = alen;
	}
	if (rc == 0 && (rc = kura_sig_parse(&s, sig, siglen, err)) != 0)
		kura_error_wrap(err, "%s", attached ? path : sig_name);
	if (rc == 0 && !attached && kura_sig_attached(s))
		rc = kura_error_set(err, KURA_EINPUT, "%s is an attached signature (it holds its document): ingest it alone, "
						      "without --signature", sig_name);
	if (rc == 0 && attached && !kura_sig_attached(s))
		rc = kura_error_set(err, KURA_EINPUT, "%s is a detached signature: give its document too "
						      "(kura ingest STORE --signature %s DOCUMENT)", path, path);
	if (rc == 0)
		rc = kura_signed_anchors(&anchors, st, err);
	if (rc == 0)
		rc = kura_tsa_setup_anchors(&tsa_anchors, st, err);
	int fetch_rc = 0;
	if (rc == 0)
		rc = collect_revocation(&v, &fetch_rc, s, anchors, o, now, err);
	if (rc == 0)
		rc = kura_sig_check(&out->report, s, digest_doc, (void *)doc, v, anchors, tsa_anchors, now, err);
	if (rc == 0)
		rc = judge_signature(out->report, path, fetch_rc, o, err);
	size_t vlen = 0;
	if (rc == 0)
		rc = kura_vdata_encode(&out->vdata, &vlen, v, err);
	if (rc == 0 && !attached) {
		if (!(out->sig = malloc(siglen ? siglen : 1)))
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
		else
			memcpy(out->sig, sig, siglen);
	}
	if (rc == 0) {
		size_t n = 0;
		if (!attached) {
			snprintf(out->sig_name, sizeof out->sig_name, "%s", base_name(sig_name));
			out->members[n++] = (kura_member){"signature", out->sig_name, out->sig, siglen};
		}
		snprintf(out->vdata_name, sizeof out->vdata_name, "%s.validation.der", base_name(path));
		out->members[n++] = (kura_member){"validation-data", out->vdata_name, out->vdata, vlen};
		out->nmembers = n;
	}
	if (rc != 0)
		kura_signed_clear(out);
	free(attached);
	kura_sig_free(s);
	kura_vdata_free(v);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(tsa_anchors, X509_free);
	return rc;
}

int kura_signed_prepare(kura_signed *out, kura_store *st, const char *path, const unsigned char *sig, size_t siglen,
			const char *sig_name, const kura_signed_options *o, kura_error *err)
{
	return prepare(out, st, &(struct doc){path, NULL, 0}, sig, siglen, sig_name, o, err);
}

int kura_signed_prepare_bytes(kura_signed *out, kura_store *st, const char *name, const unsigned char *bytes,
			      size_t len, const unsigned char *sig, size_t siglen, const char *sig_name,
			      const kura_signed_options *o, kura_error *err)
{
	memset(out, 0, sizeof *out);
	if (!sig)
		return kura_error_set(err, KURA_EINPUT, "%s: a signature is needed", name);
	return prepare(out, st, &(struct doc){name, bytes ? bytes : (const unsigned char *)"", len}, sig, siglen,
		       sig_name, o, err);
}

/* ---------------------------------------------------------------- later */

struct member_bytes {
	unsigned char *p;
	size_t n;
};

static int gather(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	struct member_bytes *b = ud;
	if (b->n + n > MAX_MEMBER + (size_t)MAX_ATTACHED)
		return kura_error_set(err, KURA_EVERIFY, "a signature member is larger than kura ever stores");
	unsigned char *g = realloc(b->p, b->n + n + 1);
	if (!g)
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	memcpy(g + b->n, p, n);
	b->p = g;
	b->n += n;
	return 0;
}

struct stored_doc {
	kura_store *st;
	const char *id;
};

static int digest_stored(void *ud, const EVP_MD *md, unsigned char *out, kura_error *err)
{
	struct stored_doc *d = ud;
	return kura_store_digest_member(out, d->st, d->id, 0, md, err);
}

int kura_signed_verify(json_t **report, kura_store *st, const char *id, STACK_OF(X509) *anchors,
		       STACK_OF(X509) *tsa_anchors, int64_t proven_ms, kura_error *err)
{
	*report = NULL;
	json_t *o = NULL;
	int rc = kura_store_object(&o, st, id, err);
	if (rc != 0)
		return rc;
	json_t *members = json_object_get(o, "members");
	size_t sig_k = 0, vdata_k = 0;
	for (size_t k = 1; k <= json_array_size(members); k++) {
		const char *role = json_string_value(json_object_get(json_array_get(members, k - 1), "role"));
		if (role && strcmp(role, "signature") == 0)
			sig_k = k;
		else if (role && strcmp(role, "validation-data") == 0)
			vdata_k = k;
	}
	if (!json_object_get(o, "signature") || !vdata_k) {
		json_decref(o);
		return 0;
	}
	struct member_bytes sig = {0}, vd = {0};
	kura_sig *s = NULL;
	kura_vdata *v = NULL;
	kura_error why = {0};
	rc = kura_store_read_member(st, id, sig_k, gather, &sig, err); /* sig_k 0: the document is the signature */
	if (rc == 0)
		rc = kura_store_read_member(st, id, vdata_k, gather, &vd, err);
	if (rc == 0 && (kura_sig_parse(&s, sig.p, sig.n, &why) != 0 || kura_vdata_parse(&v, vd.p, vd.n, &why) != 0))
		*report = json_pack("{s:s, s:s}", "signature", "invalid", "reason", why.message);
	else if (rc == 0)
		rc = kura_sig_check(report, s, digest_stored, &(struct stored_doc){st, id}, v, anchors, tsa_anchors, proven_ms,
				    err);
	kura_sig_free(s);
	kura_vdata_free(v);
	free(sig.p);
	free(vd.p);
	json_decref(o);
	return rc;
}

static int digest_document(void *ud, const EVP_MD *md, unsigned char *out, kura_error *err)
{
	size_t one;
	return kura_er_digest_file(ud, md, out, &one, err);
}

int kura_signed_check_group(json_t *report, kura_er_group *g, int detached, STACK_OF(X509) *signers,
			    STACK_OF(X509) *tsa_anchors, kura_error *err)
{
	char *sig = NULL, *vd = NULL;
	size_t slen = 0, vlen = 0;
	const char *sig_path = g->member[detached ? 1 : 0].path, *vd_path = g->member[g->n - 1].path;
	kura_sig *s = NULL;
	kura_vdata *v = NULL;
	json_t *sj = NULL;
	int64_t proven;
	int rc = 0;
	if (kura_fs_read_file(sig_path, MAX_ATTACHED, &sig, &slen) != 0 || kura_fs_read_file(vd_path, MAX_MEMBER, &vd, &vlen) != 0)
		rc = kura_error_sys(err, KURA_EINPUT, "cannot read %s", sig ? vd_path : sig_path);
	kura_error why = {0};
	if (rc == 0 && kura_er_report_proven(&proven, report) != 0)
		sj = json_pack("{s:s, s:s}", "signature", "indeterminate", "reason", "the record proves no time");
	else if (rc == 0 && (kura_sig_parse(&s, (unsigned char *)sig, slen, &why) != 0 ||
			     kura_vdata_parse(&v, (unsigned char *)vd, vlen, &why) != 0))
		sj = json_pack("{s:s, s:s}", "signature", "invalid", "reason", why.message);
	else if (rc == 0 && detached == kura_sig_attached(s))
		sj = json_pack("{s:s, s:s}", "signature", "invalid", "reason",
			       detached ? "the signature given is an attached one" : "the document is a detached signature's: give the signature");
	else if (rc == 0)
		rc = kura_sig_check(&sj, s, digest_document, &g->member[0], v, signers, tsa_anchors, proven, err);
	if (sj)
		kura_er_report_signature(report, sj);
	kura_sig_free(s);
	kura_vdata_free(v);
	free(sig);
	free(vd);
	return rc;
}
