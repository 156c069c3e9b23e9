/* The accounts of the preservation service (kura/access.h), kept in
 * STORE/users.json (private like every store file, written whole and
 * atomically, never through a link):
 *   {"kura-users": 1, "users": [{"name", "role", "collections": [...],
 *    "created", "token_sha256", "cert_sha256", "cert_subject"}, ...]}
 * (the last two only for an account bound to a client certificate).
 *
 * INVARIANTS
 * - A token is 256 random bits, shown once by kura_user_add and kept only as
 *   the SHA-256 of its text: users.json (and any copy of it) cannot sign in.
 * - An account exists only after its audit record ("user-add": name, role,
 *   collections; never the token or its hash) is durable: the audit record is
 *   written first, under the store's writer lock, then users.json. A crash in
 *   between leaves a record of an account that `user ls` does not show (and
 *   whose token was never printed); never an account without its record.
 *   Removal is the same ("user-remove", then users.json without it). The
 *   service makes these changes on its own writer, under its lock, through
 *   the *_in functions (server/user_ops.c): the same order, the same records.
 * - Authentication compares every account's hash in constant time and says
 *   only "denied", whichever part was wrong.
 * - A client certificate is kept as the SHA-256 of its DER (and its subject,
 *   for people to read), bound to one account at most; binding one is a
 *   "user-cert" audit record first, then users.json, like an account. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "archive/store_impl.h"
#include "common/actor.h"
#include "common/hex.h"
#include "common/safefs.h"
#include "kura/access.h"
#include "kura/clock.h"

#define USERS_FILE "users.json"
#define USERS_MAX (16u << 20)
#define CERT_GIVEN "the request's \"certificate\"" /* a certificate in memory (the service's), in messages */

void kura_user_clear(kura_user *u)
{
	for (size_t i = 0; u && i < u->ncollections; i++)
		free(u->collections[i]);
	if (u) {
		free(u->collections);
		free(u->name);
		free(u->created);
		free(u->cert_sha256);
		free(u->cert_subject);
		memset(u, 0, sizeof *u);
	}
}

void kura_users_free(kura_user *users, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kura_user_clear(&users[i]);
	free(users);
}

/* STORE/users.json as JSON (an empty list when there is none). */
static int load(json_t **out, const char *store, kura_error *err)
{
	int root = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = root >= 0 ? kura_safefs_open_read(root, USERS_FILE) : -1, saved = errno;
	if (root >= 0)
		close(root);
	if (fd < 0 && saved == ENOENT && root >= 0) {
		*out = json_pack("{s:i, s:[]}", "kura-users", 1, "users");
		return *out ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (fd < 0) {
		errno = saved;
		return kura_error_sys(err, KURA_EIO, "reading %s/%s", store, USERS_FILE);
	}
	json_error_t jerr;
	FILE *f = fdopen(fd, "r"); /* buffered: json_loadfd reads a byte per system call, and every request reads this */
	*out = f ? json_loadf(f, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (f)
		fclose(f);
	else
		close(fd);
	json_t *users = json_object_get(*out, "users");
	if (!*out || json_integer_value(json_object_get(*out, "kura-users")) != 1 || !json_is_array(users)) {
		json_decref(*out);
		*out = NULL;
		return kura_error_set(err, KURA_EIO, "%s/%s is damaged; put it back from a copy (the store's documents are "
				      "not affected)", store, USERS_FILE);
	}
	return 0;
}

static int save(const char *store, json_t *doc, kura_error *err)
{
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_ENSURE_ASCII);
	int rc = text ? kura_store_files_write(store, USERS_FILE, text, strlen(text), err)
		      : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	free(text);
	return rc;
}

/* The entry of users named name, or -1. */
static ssize_t find(json_t *users, const char *name)
{
	for (size_t i = 0; i < json_array_size(users); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(users, i), "name")) ?: "", name) == 0)
			return (ssize_t)i;
	return -1;
}

static int from_json(kura_user *u, json_t *e, kura_error *err)
{
	json_t *cols = json_object_get(e, "collections");
	memset(u, 0, sizeof *u);
	if (!json_is_string(json_object_get(e, "name")) || !json_is_array(cols) ||
	    kura_role_parse(&u->role, json_string_value(json_object_get(e, "role")), NULL) != 0)
		return kura_error_set(err, KURA_EIO, "an account in users.json is damaged; put the file back from a copy");
	u->name = strdup(json_string_value(json_object_get(e, "name")));
	u->created = strdup(json_string_value(json_object_get(e, "created")) ?: "");
	u->collections = calloc(json_array_size(cols) + 1, sizeof *u->collections);
	const char *cert = json_string_value(json_object_get(e, "cert_sha256"));
	u->cert_sha256 = cert ? strdup(cert) : NULL;
	u->cert_subject = cert ? strdup(json_string_value(json_object_get(e, "cert_subject")) ?: "") : NULL;
	if (!u->name || !u->created || !u->collections || (cert && (!u->cert_sha256 || !u->cert_subject)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; i < json_array_size(cols); i++)
		if (json_is_string(json_array_get(cols, i)) &&
		    !(u->collections[u->ncollections++] = strdup(json_string_value(json_array_get(cols, i)))))
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	return 0;
}

static void token_hash(char hex[65], const char *token)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, strlen(token), md);
	kura_hex_encode(hex, md, sizeof md);
}

/* Opens store for writing as actor (NULL: the default actor). */
static int begin(kura_store **st, const char *store, const char *actor, kura_error *err)
{
	int rc = kura_store_open(st, store, KURA_STORE_WRITE, err);
	if (rc == 0 && actor)
		rc = kura_store_set_actor(*st, actor, err);
	return rc;
}

static int new_token(char token[KURA_TOKEN_LEN + 1], char hash[65], kura_error *err)
{
	unsigned char r[32];
	if (RAND_bytes(r, sizeof r) != 1)
		return kura_error_set(err, KURA_EINTERNAL, "no random bytes for a token (OpenSSL's RAND_bytes failed)");
	memcpy(token, "kura_", 5);
	kura_hex_encode(token + 5, r, sizeof r);
	OPENSSL_cleanse(r, sizeof r);
	token_hash(hash, token);
	return 0;
}

/* An account's name and its collections: 1 to 128 bytes of UTF-8 without control characters each. */
static int check_names(const char *name, const char *const *collections, size_t n, kura_error *err)
{
	int rc = kura_actor_check(name, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = kura_actor_check(collections[i], err);
	return rc;
}

int kura_user_add_in(kura_store *st, const char *name, kura_role r, const char *const *collections, size_t n,
		     char token[KURA_TOKEN_LEN + 1], kura_error *err)
{
	const char *store = kura_store_path(st);
	json_t *doc = NULL, *cols = json_array(), *rec = NULL;
	char hash[65], when[KURA_TIME_BUFSZ];
	int64_t now;
	int rc = check_names(name, collections, n, err), made = 0;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (json_array_append_new(cols, json_string(collections[i])) != 0)
			rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0 && (rc = load(&doc, store, err)) == 0 && find(json_object_get(doc, "users"), name) >= 0)
		rc = kura_error_set(err, KURA_EEXIST, "account '%s' exists; remove it first (kura user remove %s %s) to "
				    "give it a new token", name, store, name);
	if (rc == 0)
		rc = kura_clock_now(&now, err);
	if (rc == 0)
		rc = new_token(token, hash, err);
	made = rc == 0;
	if (rc == 0) {
		kura_time_format(when, now);
		rec = json_pack("{s:s, s:s, s:O}", "name", name, "role", kura_role_name(r), "collections", cols);
		rc = rec ? kura_store_audit_record(st, "user-add", rec, NULL, err)
			 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (rc == 0)
		rc = json_array_append_new(json_object_get(doc, "users"),
					   json_pack("{s:s, s:s, s:O, s:s, s:s}", "name", name, "role", kura_role_name(r),
						     "collections", cols, "created", when, "token_sha256", hash))
			     ? kura_error_set(err, KURA_EINTERNAL, "out of memory")
			     : save(store, doc, err);
	if (rc != 0 && made) /* a token that signs in nowhere is not handed out */
		OPENSSL_cleanse(token, KURA_TOKEN_LEN + 1);
	json_decref(rec);
	json_decref(cols);
	json_decref(doc);
	return rc;
}

int kura_user_add(const char *store, const char *name, kura_role r, const char *const *collections, size_t n,
		  const char *actor, char token[KURA_TOKEN_LEN + 1], kura_error *err)
{
	kura_store *st = NULL;
	int rc = check_names(name, collections, n, err); /* bad input before the store is looked at */
	if (rc == 0 && (rc = begin(&st, store, actor, err)) == 0)
		rc = kura_user_add_in(st, name, r, collections, n, token, err);
	kura_store_close(st);
	return rc;
}

int kura_user_remove_in(kura_store *st, const char *name, kura_error *err)
{
	const char *store = kura_store_path(st);
	json_t *doc = NULL;
	int rc = load(&doc, store, err);
	ssize_t at = rc == 0 ? find(json_object_get(doc, "users"), name) : -1;
	if (rc == 0 && at < 0)
		rc = kura_error_set(err, KURA_ENOTFOUND, "no account '%s' (kura user ls %s lists them)", name, store);
	json_t *rec = rc == 0 ? json_pack("{s:s}", "name", name) : NULL;
	if (rc == 0)
		rc = rec ? kura_store_audit_record(st, "user-remove", rec, NULL, err)
			 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		json_array_remove(json_object_get(doc, "users"), (size_t)at);
		rc = save(store, doc, err);
	}
	json_decref(rec);
	json_decref(doc);
	return rc;
}

int kura_user_remove(const char *store, const char *name, const char *actor, kura_error *err)
{
	kura_store *st = NULL;
	int rc = begin(&st, store, actor, err);
	if (rc == 0)
		rc = kura_user_remove_in(st, name, err);
	kura_store_close(st);
	return rc;
}

int kura_user_list(const char *store, kura_user **users, size_t *n, kura_error *err)
{
	json_t *doc = NULL;
	*users = NULL;
	*n = 0;
	int rc = kura_store_files_check(store, err);
	if (rc == 0)
		rc = load(&doc, store, err);
	json_t *list = json_object_get(doc, "users");
	if (rc == 0 && !(*users = calloc(json_array_size(list) + 1, sizeof **users)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
		rc = from_json(&(*users)[i], json_array_get(list, i), err);
		++*n; /* freed below with the others if only partly filled */
	}
	if (rc != 0) {
		kura_users_free(*users, *n);
		*users = NULL;
		*n = 0;
	}
	json_decref(doc);
	return rc;
}

/* The account whose field (a 64-hex-digit hash) is hash, compared with every
 * account's in constant time: 0, or KURA_EDENIED saying why. */
static int lookup(const char *store, const char *field, const char *hash, const char *why, kura_user *out,
		  kura_error *err)
{
	json_t *doc = NULL;
	memset(out, 0, sizeof *out);
	int rc = load(&doc, store, err);
	if (rc != 0)
		return rc;
	json_t *list = json_object_get(doc, "users"), *match = NULL;
	for (size_t i = 0; strlen(hash) == 64 && i < json_array_size(list); i++) { /* no early exit: the time says nothing */
		const char *h = json_string_value(json_object_get(json_array_get(list, i), field));
		if (h && strlen(h) == 64 && CRYPTO_memcmp(h, hash, 64) == 0)
			match = json_array_get(list, i);
	}
	rc = match ? from_json(out, match, err) : kura_error_set(err, KURA_EDENIED, "%s", why);
	if (rc != 0 && match)
		kura_user_clear(out);
	json_decref(doc);
	return rc;
}

int kura_user_authenticate(const char *store, const char *token, kura_user *out, kura_error *err)
{
	char hash[65];
	token_hash(hash, token ? token : "");
	return lookup(store, "token_sha256", hash, "no account has this token", out, err);
}

int kura_user_authenticate_cert(const char *store, const char *sha256, kura_user *out, kura_error *err)
{
	return lookup(store, "cert_sha256", sha256, "no account is bound to this certificate", out, err);
}

/* The certificate in PEM read from in (NULL: it could not be opened), named
 * path in messages: the SHA-256 of its DER and its subject (RFC 2253, UTF-8;
 * *subject: free it). Frees in. */
static int read_cert(BIO *in, const char *path, char sha256[65], char **subject, kura_error *err)
{
	BIO *text = BIO_new(BIO_s_mem());
	X509 *x = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	int n = x ? i2d_X509(x, &der) : -1, rc = 0;
	char *p = NULL;
	long len = 0;
	*subject = NULL;
	if (!in)
		rc = kura_error_set(err, KURA_EINPUT, "cannot read the certificate %s", path);
	else if (n <= 0)
		rc = kura_error_set(err, KURA_EINPUT, "%s holds no PEM certificate (BEGIN CERTIFICATE)", path);
	else if (!text || X509_NAME_print_ex(text, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0 ||
		 (len = BIO_get_mem_data(text, &p)) < 0 || !(*subject = strndup(p ? p : "", (size_t)len)))
		rc = kura_error_set(err, KURA_EINTERNAL, "out of memory");
	if (rc == 0) {
		SHA256(der, (size_t)n, md);
		kura_hex_encode(sha256, md, sizeof md);
	}
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(text);
	BIO_free(in);
	return rc;
}

/* Binds the certificate (its SHA-256 and subject; named cert_pem in messages)
 * to account name in st's users.json, after its audit record. */
static int bind_cert(kura_store *st, const char *name, const char *cert_pem, const char sha256[65], const char *subject,
		     kura_error *err)
{
	const char *store = kura_store_path(st);
	json_t *doc = NULL, *rec = NULL, *users;
	ssize_t at = -1;
	int rc = load(&doc, store, err);
	users = json_object_get(doc, "users");
	if (rc == 0 && (at = find(users, name)) < 0)
		rc = kura_error_set(err, KURA_ENOTFOUND, "no account '%s' (kura user ls %s lists them)", name, store);
	for (size_t i = 0; rc == 0 && i < json_array_size(users); i++) {
		json_t *e = json_array_get(users, i);
		if (i != (size_t)at && strcmp(json_string_value(json_object_get(e, "cert_sha256")) ?: "", sha256) == 0)
			rc = kura_error_set(err, KURA_EEXIST, "%s is bound to account '%s'; a certificate "
					    "signs in as one account only", cert_pem, json_string_value(json_object_get(e, "name")));
	}
	if (rc == 0) {
		rec = json_pack("{s:s, s:s, s:s}", "name", name, "cert_sha256", sha256, "cert_subject", subject);
		rc = rec ? kura_store_audit_record(st, "user-cert", rec, NULL, err)
			 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	}
	if (rc == 0) {
		json_t *e = json_array_get(users, (size_t)at);
		rc = json_object_set_new(e, "cert_sha256", json_string(sha256)) ||
				     json_object_set_new(e, "cert_subject", json_string(subject))
			     ? kura_error_set(err, KURA_EINTERNAL, "out of memory")
			     : save(store, doc, err);
	}
	json_decref(rec);
	json_decref(doc);
	return rc;
}

int kura_user_cert(const char *store, const char *name, const char *cert_pem, const char *actor, char sha256[65],
		   kura_error *err)
{
	kura_store *st = NULL;
	char *subject = NULL;
	int rc = read_cert(BIO_new_file(cert_pem, "r"), cert_pem, sha256, &subject, err);
	if (rc == 0 && (rc = begin(&st, store, actor, err)) == 0)
		rc = bind_cert(st, name, cert_pem, sha256, subject, err);
	free(subject);
	kura_store_close(st);
	return rc;
}

int kura_user_cert_in(kura_store *st, const char *name, const char *pem, size_t len, char sha256[65], kura_error *err)
{
	char *subject = NULL;
	int rc = len > INT_MAX ? kura_error_set(err, KURA_EINPUT, "the certificate is too large")
			       : read_cert(BIO_new_mem_buf(pem, (int)len), CERT_GIVEN, sha256, &subject, err);
	if (rc == 0)
		rc = bind_cert(st, name, CERT_GIVEN, sha256, subject, err);
	free(subject);
	return rc;
}

json_t *kura_user_json(const kura_user *u)
{
	json_t *cols = json_array();
	for (size_t j = 0; cols && j < u->ncollections; j++)
		json_array_append_new(cols, json_string(u->collections[j]));
	json_t *j = json_pack("{s:s, s:s, s:o, s:s}", "name", u->name, "role", kura_role_name(u->role), "collections",
			      cols, "created", u->created);
	if (j && u->cert_sha256 &&
	    json_object_set_new(j, "certificate", json_pack("{s:s, s:s}", "sha256", u->cert_sha256, "subject",
							    u->cert_subject)) != 0) {
		json_decref(j);
		j = NULL;
	}
	return j;
}
