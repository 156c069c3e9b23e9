/* The embedded TSA: a small RFC 3161 time-stamping authority that lives in a
 * folder (STORE/tsa for a store, any folder for `kura tsa serve --dir`), the
 * TSAs a store time-stamps with, and the TSA served over HTTP (RFC 3161 over
 * HTTP: POST application/timestamp-query, answer application/timestamp-reply).
 * The embedded TSA proves time only as far as this machine's clock is trusted;
 * its clock is kura's (KURA_NOW sets genTime). */
#ifndef KURA_PUBLIC_TSA_H
#define KURA_PUBLIC_TSA_H

#include <netinet/in.h>
#include <stddef.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "kura/error.h"

typedef struct kura_store kura_store;

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

/* The TSA in dir; *out is the caller's (kura_tsa_close). */
int kura_tsa_open(kura_tsa **out, const char *dir, kura_error *err);
void kura_tsa_close(kura_tsa *t);

/* Answers a DER TimeStampReq with a DER TimeStampResp (malloc'd, the caller's).
 * A request it cannot grant gets a rejection response, not an error. */
int kura_tsa_respond(kura_tsa *t, const unsigned char *req, size_t len, unsigned char **resp, size_t *rlen,
		     kura_error *err);

/* ---- the TSAs of a store ---- */

/* The embedded TSA's trust anchors (every root it ever had; a new stack, the
 * caller's: sk_X509_pop_free). KURA_ENOTFOUND when the store has no embedded
 * TSA. Needs only read access to the store: the keys are not read. */
int kura_tsa_setup_roots(STACK_OF(X509) **out, kura_store *st, kura_error *err);

/* The store time-stamps with urls[0..n) (borrowed) from now on, or with its
 * embedded TSA when n is 0 (created if the store has none yet); logged in the
 * audit trail. st open for writing. */
int kura_tsa_setup_use(kura_store *st, const char *const *urls, size_t n, kura_error *err);

/* ---- certified TSAs (proof/tsa_certified.c) ----
 * 電子帳簿保存法 counts only time-stamps from a TSA certified by the Minister for
 * Internal Affairs and Communications (総務大臣認定), made within the period of
 * its certification. A store keeps the certifications it was told of in
 * STORE/tsa-certified.json (each change an audit record), each bound to the
 * TSA's signing certificate, not to its URL. Every token kura obtains (seals,
 * renewals) is judged when obtained -- its signer certified at its genTime? --
 * and the answer is stored with its evidence record: the list may change later,
 * what was certified when the seal was made may not. The embedded TSA is never
 * certified. */
typedef struct kura_tsa_certification {
	const char *url;    /* the TSA; "embedded" (refused) is the store's own */
	const char *cert;   /* a PEM file with its signing certificate; NULL: ask the TSA for a token and take
			       the certificate it carries */
	const char *from;   /* the period: RFC 3339 or a date (midnight UTC) */
	const char *until;  /* NULL: open; a bare date means through that day (UTC) */
	const char *reason; /* may be NULL */
} kura_tsa_certification;

/* Marks the TSA of c certified for its period (a certification of the same URL
 * and certificate is replaced), logged in the audit trail as "tsa-certify". *out
 * (may be NULL) gets the entry stored (the caller's, json_decref). KURA_EINPUT
 * for the embedded TSA (by name, or served over HTTP: a signer issued by the
 * store's own TSA roots), a bad period or certificate; KURA_EIO/KURA_ETSA when
 * the TSA does not answer. st open for writing. */
int kura_tsa_certify(json_t **out, kura_store *st, const kura_tsa_certification *c, kura_error *err);
/* Removes every certification of url ("tsa-uncertify", reason may be NULL);
 * *removed counts them. KURA_ENOTFOUND when url has none. Tokens judged before
 * keep their judgement. */
int kura_tsa_uncertify(size_t *removed, kura_store *st, const char *url, const char *reason, kura_error *err);
/* The certifications as stored: an array of {url, certificate_sha256, subject,
 * issuer, from, until (null: open), reason, by, at}; *out the caller's. */
int kura_tsa_certified_list(json_t **out, kura_store *st, kura_error *err);

/* Whether the FIRST time-stamp of object id (its seal) came from a TSA certified
 * at that time, as recorded when it was obtained: *certified 1 yes, 0 no, -1
 * unknown (sealed before kura recorded it, an imported record, not sealed yet,
 * or no such object). For reports such as timeliness: two index lookups. */
int kura_tsa_first_certified(int *certified, kura_store *st, const char *id, kura_error *err);
/* Adds to report (a JSON object, e.g. show's) "tsa_certified" (the first
 * time-stamp's: true, false or null) and "time_stamps": one entry per token of
 * the object's chains in order (each chain's start record, then its renewals):
 * {record, kind, gentime, tsa, tsa_certificate_sha256, tsa_certified}. A
 * damaged evidence record is not an error here (verification reports it):
 * "tsa_certified" is then null and "tsa_certified_unknown" says why. */
int kura_tsa_certified_report(json_t *report, kura_store *st, const char *id, kura_error *err);

/* ---- the TSA served over HTTP (server/tsa_server.c) ----
 * A rollover by a renewal replaces the TSA's key and certificate on disk; the
 * server notices and loads the successor, so a retired key never signs again. */
typedef struct kura_tsa_server kura_tsa_server;

/* Called with what went wrong when a request could not be answered (the client
 * got "500 internal error"); message is borrowed for the call. From the
 * server's thread. */
typedef void (*kura_tsa_server_error_fn)(void *ud, const char *message);

/* Loads the TSA to serve: the embedded TSA of the store at store, or the TSA in
 * the folder dir (created there if it holds none); exactly one of them is given.
 * Nothing listens yet. *out is the caller's: kura_tsa_server_free. */
int kura_tsa_server_new(kura_tsa_server **out, const char *store, const char *dir, kura_tsa_server_error_fn on_error,
			void *ud, kura_error *err);

/* Starts answering on addr (port 0: any free port), on a thread of the
 * server's own; listen names the address in messages. *bound_port receives the
 * port it listens on. Signals the caller blocks before this call stay blocked
 * on that thread. */
int kura_tsa_server_listen(kura_tsa_server *s, const struct sockaddr_in *addr, const char *listen,
			   unsigned *bound_port, kura_error *err);

/* Stops listening (if it was) and frees the server. */
void kura_tsa_server_free(kura_tsa_server *s);

#endif
