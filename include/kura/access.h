/* Who may use a store through the preservation service: accounts, their roles
 * and the collections they are limited to (docs/SERVICE.md). An account signs
 * in with a bearer token that kura prints once, when the account is made, and
 * keeps only as a SHA-256. Adding and removing an account are audit records. */
#ifndef KURA_ACCESS_H
#define KURA_ACCESS_H

#include <stddef.h>

#include <jansson.h>

#include "kura/error.h"
#include "kura/store.h"

/* "kura_" and 64 hex digits: 256 random bits. */
#define KURA_TOKEN_LEN 69

typedef enum {
	KURA_ROLE_ADMIN,     /* accounts, policy, trust */
	KURA_ROLE_ARCHIVIST, /* submit, new versions, events, holds, disposal requests */
	KURA_ROLE_APPROVER,  /* approve disposal */
	KURA_ROLE_AUDITOR,   /* read, search, verify, export, reports */
} kura_role;

/* What a request does, for kura_role_allows. */
typedef enum {
	KURA_DO_READ,            /* an object, its evidence, its history */
	KURA_DO_SEARCH,
	KURA_DO_VERIFY,
	KURA_DO_EXPORT,          /* packages and reports */
	KURA_DO_SUBMIT,          /* new objects and new versions */
	KURA_DO_RECORDS,         /* retention events and holds */
	KURA_DO_DISPOSE_REQUEST,
	KURA_DO_DISPOSE_APPROVE,
	KURA_DO_ADMIN,           /* accounts, policy, trust */
	KURA_DO_STATUS,          /* the store's status and metrics (the whole store's, so no account limited to collections) */
} kura_action;

/* "admin", "archivist", "approver", "auditor"; KURA_EINPUT naming them otherwise. */
int kura_role_parse(kura_role *out, const char *name, kura_error *err);
const char *kura_role_name(kura_role r);
/* 1 if role r may do a, else 0 (the table is in access/roles.c). */
int kura_role_allows(kura_role r, kura_action a);

typedef struct {
	char *name;
	kura_role role;
	char **collections; /* none: every collection */
	size_t ncollections;
	char *created; /* RFC 3339 */
	char *cert_sha256, *cert_subject; /* the client certificate bound to it (kura_user_cert); NULL: none */
} kura_user;

/* Makes account name with role r, limited to the n collections given (none:
 * all), as actor (NULL: the default actor). Its token goes to token, which
 * kura never shows again. KURA_EEXIST if the name is taken; KURA_EINPUT for a
 * name or collection that is not 1 to 128 bytes of UTF-8 without control
 * characters. */
int kura_user_add(const char *store, const char *name, kura_role r, const char *const *collections, size_t n,
		  const char *actor, char token[KURA_TOKEN_LEN + 1], kura_error *err);
/* Removes account name (its token stops working). KURA_ENOTFOUND if none. */
int kura_user_remove(const char *store, const char *name, const char *actor, kura_error *err);
/* kura_user_add, kura_user_remove and kura_user_cert in a store st already open
 * for writing (the service's writer), as st's actor; the caller holds st's
 * writer. The certificate is PEM text of len bytes. */
int kura_user_add_in(kura_store *st, const char *name, kura_role r, const char *const *collections, size_t n,
		     char token[KURA_TOKEN_LEN + 1], kura_error *err);
int kura_user_remove_in(kura_store *st, const char *name, kura_error *err);
int kura_user_cert_in(kura_store *st, const char *name, const char *pem, size_t len, char sha256[65], kura_error *err);
/* An account as `kura user ls --json` shows it: {"name", "role", "collections",
 * "created"[, "certificate": {"sha256", "subject"}]} (never its token's hash);
 * a new reference, NULL when out of memory. */
json_t *kura_user_json(const kura_user *u);
/* Every account of the store, in the order made (*users: free with kura_users_free). */
int kura_user_list(const char *store, kura_user **users, size_t *n, kura_error *err);
void kura_users_free(kura_user *users, size_t n);
/* The account whose token this is (out: clear with kura_user_clear);
 * KURA_EDENIED, saying nothing of which part was wrong, if there is none. */
int kura_user_authenticate(const char *store, const char *token, kura_user *out, kura_error *err);
void kura_user_clear(kura_user *u);
/* Binds the X.509 certificate in the PEM file cert_pem to account name, in
 * place of any it had, as actor: a TLS client presenting it (and chaining to
 * the service's --client-ca) signs in as that account. Its SHA-256 (of the DER)
 * goes to sha256. KURA_ENOTFOUND if there is no such account; KURA_EINPUT if
 * the file holds no certificate; KURA_EEXIST if another account has it. */
int kura_user_cert(const char *store, const char *name, const char *cert_pem, const char *actor, char sha256[65],
		   kura_error *err);
/* The account bound to the certificate whose DER has this SHA-256 (64 hex
 * digits); KURA_EDENIED if there is none. out: clear with kura_user_clear. */
int kura_user_authenticate_cert(const char *store, const char *sha256, kura_user *out, kura_error *err);

#endif
