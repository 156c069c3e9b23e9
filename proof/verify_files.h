/* An Evidence Record verified against files, without any store (what
 * `kura verify-er` does): the full RFC 4998 walk over the document and, for a
 * signed document (a data object group: document, detached signature if any,
 * validation data), every member's hash covered and the signature decided at
 * the time the record proves. */
#ifndef KURA_VERIFY_FILES_H
#define KURA_VERIFY_FILES_H

#include <openssl/x509.h>

#include <jansson.h>

#include "kura/error.h"
#include "policies/policy.h"

typedef struct kura_er_files {
	const char *data;            /* the document */
	const char *er;              /* its DER Evidence Record */
	const char *signature;       /* a detached signature of it, or NULL */
	const char *validation_data; /* the group's validation data (needed with signature), or NULL: unsigned */
	STACK_OF(X509) *anchors;     /* trusted TSA roots (borrowed) */
	STACK_OF(X509) *signers;     /* trusted roots of document signers (borrowed) */
	kura_policy *policy;         /* every algorithm must have sufficed when relied on; NULL: not judged */
	const char *at;              /* verify as of this time (RFC 3339); NULL: now */
} kura_er_files;

/* *report (the caller's, json_decref) holds the verdict and its reasons, as
 * kura_er_verify gives it. A record that cannot be parsed is a verdict; errors
 * are unreadable files and bad times (KURA_EINPUT) and failures to compute. */
int kura_er_verify_files(json_t **report, const kura_er_files *f, kura_error *err);

#endif
