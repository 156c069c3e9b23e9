/* The embedded TSA: a small RFC 3161 time-stamping authority that lives in a
 * folder (STORE/tsa for a store, any folder for `kura tsa serve --dir`).
 *
 * Layout: DIR/root.key DIR/root.pem (its own root CA), DIR/tsa.key DIR/tsa.pem
 * (the time-stamping certificate, critical EKU timeStamping), DIR/anchors.pem
 * (every root it ever used), DIR/tsa.json (validities and key types it was made
 * with). Keys are mode 0600 (the rest as the umask leaves it). Its clock is kura's clock, so
 * KURA_NOW sets genTime. It proves time only as far as this machine's clock is
 * trusted. */
#ifndef KURA_TSA_H
#define KURA_TSA_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/x509.h>

#include "kura/error.h"

/* The policy OID of tokens from the embedded TSA (under 2.25, a UUID arc). */
#define KURA_TSA_POLICY "2.25.61644037190343878657508900061936996637"

typedef struct kura_tsa_options {
	int root_days; /* 0: 7305 (20 years) */
	int tsa_days;  /* 0: 1826 (5 years) */
	const char *name; /* distinguishes this TSA in its certificates' names */
	const char *key;  /* the time-stamping key: ec-p256 (default), ec-p384, rsa-2048, rsa-3072, rsa-4096 */
} kura_tsa_options;

/* 1 if kind names a kind of key the embedded TSA can sign with (the list of
 * kura_tsa_options.key), else 0. */
int kura_tsa_key_kind_known(const char *kind);

/* Creates keys and certificates in dir (created if absent; must hold no TSA). */
int kura_tsa_create(const char *dir, const kura_tsa_options *o, kura_error *err);
/* 1 if dir holds a TSA. */
int kura_tsa_exists(const char *dir);

typedef struct kura_tsa kura_tsa;

int kura_tsa_open(kura_tsa **out, const char *dir, kura_error *err);
void kura_tsa_close(kura_tsa *t);

/* Answers a DER TimeStampReq with a DER TimeStampResp (malloc'd, the caller's).
 * A request it cannot grant gets a rejection response, not an error. */
int kura_tsa_respond(kura_tsa *t, const unsigned char *req, size_t len, unsigned char **resp, size_t *rlen,
		     kura_error *err);

/* The TSA's current certificate (owned by t). */
X509 *kura_tsa_cert(kura_tsa *t);

/* Rolls the TSA in dir over: a new key and certificate, and a new root as well
 * when the root would end first. Old certificates are kept in dir/old, old keys
 * are destroyed, and anchors.pem keeps every root, so old tokens stay verifiable.
 * The switch is one rename (a journal, tsa_files.c): a crash at any point leaves
 * the old TSA or the new one, whole, and the next open finishes or undoes it. */
int kura_tsa_rollover(const char *dir, const char *key, kura_error *err);
/* The kind of key the TSA signs with now ("ec-p256", "rsa-2048", ...). */
void kura_tsa_key_alg(kura_tsa *t, char *buf, size_t n);

/* Every root the TSA ever used (owned by t). */
STACK_OF(X509) *kura_tsa_anchors(kura_tsa *t);

/* Reads every certificate of a PEM file (or one DER certificate) into out: at most
 * 1000 in a file of at most 16 MiB (more is no list of trust anchors: an error). */
int kura_load_certs(STACK_OF(X509) *out, const char *path, kura_error *err);
/* The same from an open file; what names it in messages. */
int kura_load_certs_from(STACK_OF(X509) *out, FILE *f, const char *what, kura_error *err);

#endif
