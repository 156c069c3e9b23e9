/* The operations of the preservation service (docs/SERVICE.md), named after
 * ETSI TS 119 512 where they are its: each reads the call's body and ID, calls
 * the same library functions as the kura command, and answers with JSON or
 * bytes. The account, its role and the audit record are the core's
 * (service.c); here an account limited to collections sees only their objects:
 * any other object is "not found", as if it were not there. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kura/escape.h"
#include "kura/evidence.h"
#include "kura/ingest.h"
#include "kura/policy.h"
#include "kura/records.h"
#include "kura/search.h"
#include "kura/verify.h"
#include "proof/signed.h"
#include "proof/tsa_setup.h"
#include "server/service.h"

#define META_MAX KURA_API_META_MAX
#define PRESERVE_MAX 1000 /* documents in one PreservePO */

void kura_api_json(kura_api_call *call, unsigned status, json_t *j)
{
	free(call->out);
	call->out = j ? json_dumps(j, JSON_COMPACT) : NULL;
	call->out_len = call->out ? strlen(call->out) : 0;
	call->type = "application/json";
	call->status = call->out ? status : MHD_HTTP_INTERNAL_SERVER_ERROR;
	json_decref(j);
}

void kura_api_bytes(kura_api_call *call, unsigned status, void *bytes, size_t len, const char *type)
{
	free(call->out);
	call->out = bytes;
	call->out_len = len;
	call->status = status;
	call->type = type;
}

void kura_api_error(kura_api_call *call, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* a message quoting the client's bytes (a metadata key, a path) may not be UTF-8,
	 * or be cut inside a character: escaped, it is JSON all the same (else a bare 500) */
	json_t *e = json_string(msg);
	char *text = e ? NULL : kura_escape(msg, strlen(msg));
	if (!e)
		e = json_string(text ? text : "out of memory");
	free(text);
	kura_api_json(call, status, json_pack("{s:o}", "error", e));
}

unsigned kura_api_status(int code)
{
	switch (code) {
	case KURA_EINPUT: return MHD_HTTP_BAD_REQUEST;
	case KURA_ENOTFOUND: return MHD_HTTP_NOT_FOUND;
	case KURA_EEXIST: return MHD_HTTP_CONFLICT;
	case KURA_EDENIED: return MHD_HTTP_FORBIDDEN;
	case KURA_ELOCKED: case KURA_ETSA: case KURA_EIO: return MHD_HTTP_SERVICE_UNAVAILABLE;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

void kura_api_fail(kura_api_call *call, const kura_error *err)
{
	kura_api_error(call, kura_api_status(err->code), "%s", err->message);
}

int kura_api_sees(const kura_user *u, json_t *object)
{
	const char *c = json_string_value(json_object_get(json_object_get(object, "meta"), "collection"));
	for (size_t i = 0; u->ncollections && c && i < u->ncollections; i++)
		if (strcmp(u->collections[i], c) == 0)
			return 1;
	return u->ncollections == 0;
}

json_t *kura_api_visible(kura_api_call *call)
{
	json_t *o = NULL;
	kura_error err = {0};
	snprintf(call->object, sizeof call->object, "%s", call->id);
	if (kura_store_object(&o, call->st, call->id, &err) == 0 && kura_api_sees(call->user, o))
		return o;
	json_decref(o);
	if (o || err.code == KURA_ENOTFOUND || err.code == 0)
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "no object %s", call->id);
	else
		kura_api_fail(call, &err);
	return NULL;
}

int kura_api_sees_record(kura_api_call *call, const char *id)
{
	kura_version_info v;
	json_t *o = NULL;
	if (!id || kura_records_version(&v, call->st, id, NULL) != 0)
		return 0;
	int seen = kura_api_sees(call->user, v.object);
	if (seen && kura_store_object(&o, call->st, v.current, NULL) == 0) /* none: disposed of */
		seen = kura_api_sees(call->user, o);
	json_decref(o);
	kura_version_info_clear(&v);
	return seen;
}

extern const char kura_openapi[]; /* server/openapi.json, built in (kura_embed in CMakeLists.txt) */

void kura_api_openapi(kura_api_call *call)
{
	char *text = strdup(kura_openapi);
	if (text)
		kura_api_bytes(call, MHD_HTTP_OK, text, strlen(text), "application/json");
	else
		kura_api_error(call, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
}

/* The store's typed fields (docs/SEARCH.md): [{"name", "type"}], for a search form. */
static json_t *fields_of(kura_store *st, kura_error *err)
{
	kura_fields fs = {0};
	json_t *a = kura_fields_load(&fs, st, err) == 0 ? json_array() : NULL;
	for (size_t i = 0; a && i < fs.n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", fs.v[i].name, "type",
						   kura_field_type_name(fs.v[i].type)));
	kura_fields_clear(&fs);
	return a;
}

void kura_api_retrieve_info(kura_api_call *call)
{
	kura_error err = {0};
	json_t *fields = fields_of(call->st, &err);
	if (!fields) {
		kura_api_fail(call, &err);
		return;
	}
	kura_api_json(call, MHD_HTTP_OK,
		      json_pack("{s:s, s:[s,s,s,s,s,s,s,s], s:s, s:s, s:s, s:s, s:o}", "service", "kura preservation service",
				"operations", "RetrieveInfo", "PreservePO", "RetrievePO", "UpdatePOC", "DeletePO", "RetrieveTrace",
				"Search", "ValidateEvidence", "hashAlgorithm", kura_store_hash(call->st), "evidence",
				"RFC 4998 Evidence Record (DER)", "timeStamp", "RFC 3161", "account", call->user->name,
				"fields", fields));
}

/* ---------------------------------------------------------------- PreservePO */

struct submission {
	const char *name;
	kura_meta meta[META_MAX];
	size_t nmeta;
	const unsigned char *bytes;
	size_t len;
	const unsigned char *sig; /* its detached signature ("signature"; NULL: none) */
	size_t siglen;
	const char *sig_name;
	kura_signed checked; /* the signature as checked, and its members (nmembers 0: none) */
};

static int check_collection(kura_api_call *call, const struct submission *d, kura_error *err)
{
	json_t *o = json_object(), *m = json_object();
	for (size_t i = 0; i < d->nmeta; i++)
		json_object_set_new(m, d->meta[i].key, json_string(d->meta[i].value));
	json_object_set_new(o, "meta", m);
	int sees = kura_api_sees(call->user, o);
	json_decref(o);
	return sees ? 0 : kura_error_set(err, KURA_EDENIED, "this account may submit only into its collections: give "
							    "the metadata collection=ONE_OF_THEM");
}

/* kura_api_ingest_bytes, with the members of its signature when sg is not NULL. */
static int ingest_bytes(kura_ingest *in, const unsigned char *bytes, size_t len, const char *name,
			const kura_meta *meta, size_t nmeta, const kura_signed *sg, kura_error *err)
{
	int fd = memfd_create("kura-po", MFD_CLOEXEC), rc = 0;
	if (fd < 0 || (len && write(fd, bytes, len) != (ssize_t)len) || lseek(fd, 0, SEEK_SET))
		rc = kura_error_sys(err, KURA_EIO, "keeping the submitted document");
	if (rc == 0 && sg)
		rc = kura_ingest_add_group(in, fd, name, name, meta, nmeta, sg->members, sg->nmembers, sg->report, err);
	else if (rc == 0)
		rc = kura_ingest_add(in, fd, name, name, meta, nmeta, err);
	if (fd >= 0)
		close(fd);
	return rc;
}

int kura_api_ingest_bytes(kura_ingest *in, const unsigned char *bytes, size_t len, const char *name,
			  const kura_meta *meta, size_t nmeta, kura_error *err)
{
	return ingest_bytes(in, bytes, len, name, meta, nmeta, NULL, err);
}

/* Adds d to the ingest. */
static int add_one(kura_ingest *in, kura_api_call *call, const struct submission *d, kura_error *err)
{
	int rc = check_collection(call, d, err);
	return rc ? rc : ingest_bytes(in, d->bytes, d->len, d->name, d->meta, d->nmeta,
				      d->checked.nmembers ? &d->checked : NULL, err);
}

/* The detached signature of po entry e, if any ("signature": BASE64 DER of a
 * CMS SignedData, "signatureName": NAME): decoded into *keep (the caller frees it). */
static int signature_of(struct submission *d, unsigned char **keep, json_t *e, size_t i, kura_error *err)
{
	json_t *sig = json_object_get(e, "signature"), *name = json_object_get(e, "signatureName");
	if (!sig)
		return 0;
	char field[64];
	snprintf(field, sizeof field, "po[%zu].signature", i);
	if (!json_is_string(sig) || (name && !json_is_string(name)))
		return kura_error_set(err, KURA_EINPUT, "po[%zu]: signature is the detached CMS signature of binaryValue "
							"in base64 (and signatureName its file name)", i);
	int rc = kura_api_base64(keep, &d->siglen, sig, field, err);
	if (rc != 0)
		return rc;
	d->sig = *keep;
	d->sig_name = name ? json_string_value(name) : "signature.p7s";
	return 0;
}

/* The submissions of a JSON body: {"po": [{"binaryValue": BASE64, "name": NAME,
 * "meta": {KEY: VALUE}, "signature": BASE64, "signatureName": NAME}...]};
 * decoded bytes in *keep (the caller frees each: a document's at 2i, its
 * signature's at 2i + 1). */
static int from_json(struct submission *d, size_t *n, size_t max, unsigned char **keep, json_t *body, kura_error *err)
{
	json_t *po = json_object_get(body, "po"), *e;
	size_t i;
	if (!json_is_array(po) || json_array_size(po) == 0 || json_array_size(po) > max)
		return kura_error_set(err, KURA_EINPUT, "the body is {\"po\": [{\"binaryValue\": BASE64, \"name\": NAME, "
							"\"meta\": {...}}, ...]} with 1 to %zu documents", max);
	json_array_foreach(po, i, e) {
		json_t *b64 = json_object_get(e, "binaryValue"), *meta = json_object_get(e, "meta"), *v;
		const char *k;
		char field[64];
		d[i] = (struct submission){.name = json_string_value(json_object_get(e, "name"))};
		if (!json_is_string(b64) || !d[i].name || !d[i].name[0] || (meta && !json_is_object(meta)) ||
		    json_object_size(meta) > META_MAX)
			return kura_error_set(err, KURA_EINPUT, "po[%zu]: binaryValue (base64) and name (not empty) are needed; "
								"meta is an object of at most %d strings", i, META_MAX);
		snprintf(field, sizeof field, "po[%zu].binaryValue", i);
		int rc = kura_api_base64(&keep[2 * i], &d[i].len, b64, field, err);
		if (rc != 0)
			return rc;
		d[i].bytes = keep[2 * i];
		rc = signature_of(&d[i], &keep[2 * i + 1], e, i, err);
		if (rc != 0)
			return rc;
		json_object_foreach(meta, k, v) {
			if (!json_is_string(v))
				return kura_error_set(err, KURA_EINPUT, "po[%zu]: meta %s is not a string", i, k);
			d[i].meta[d[i].nmeta++] = (kura_meta){k, json_string_value(v)};
		}
		*n = i + 1;
	}
	return 0;
}

/* What records management gives the new records: ?class=CLASS&event=NAME=DATE&reason=TEXT,
 * or "class", "events": {NAME: DATE} and "reason" beside "po" in a JSON body. */
#define EVENTS_MAX 16

struct retention_args {
	kura_records_ingest r;
	kura_event ev[EVENTS_MAX];
	char names[EVENTS_MAX][129];
	int bad;
};

/* One event=NAME=DATE of the query (value_size: its decoded length, NULs counted). */
static enum MHD_Result event_arg(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
				 const char *value, size_t value_size)
{
	(void)kind;
	struct retention_args *a = cls;
	const char *eq = value ? memchr(value, '=', value_size) : NULL;
	if (key_size != 5 || memcmp(key, "event", 5) != 0)
		return MHD_YES;
	if (!eq || memchr(value, '\0', value_size) || a->r.nevents == EVENTS_MAX ||
	    eq - value >= (ptrdiff_t)sizeof a->names[0]) {
		a->bad = 1;
		return MHD_YES;
	}
	snprintf(a->names[a->r.nevents], sizeof a->names[0], "%.*s", (int)(eq - value), value);
	a->ev[a->r.nevents] = (kura_event){a->names[a->r.nevents], eq + 1};
	a->r.nevents++;
	return MHD_YES;
}

/* The fields of the new records (*fields: NULL when the request gives none). */
static int retention_fields(json_t **fields, kura_api_call *call, json_t *body, kura_error *err)
{
	struct retention_args a = {.r.events = NULL};
	json_t *events = json_object_get(body, "events"), *v;
	const char *name;
	*fields = NULL;
	if (body) {
		a.r.class_name = json_string_value(json_object_get(body, "class"));
		a.r.reason = json_string_value(json_object_get(body, "reason"));
	} else {
		int bad = kura_api_query_arg(&a.r.class_name, call, "class", 1, err);
		if (bad == 0)
			bad = kura_api_query_arg(&a.r.reason, call, "reason", 0, err);
		if (bad != 0)
			return bad;
		MHD_get_connection_values_n(call->c, MHD_GET_ARGUMENT_KIND, event_arg, &a);
	}
	a.bad |= events && (!json_is_object(events) || json_object_size(events) > EVENTS_MAX);
	json_object_foreach(events, name, v) {
		if (a.bad || !json_is_string(v)) {
			a.bad = 1;
			break;
		}
		a.ev[a.r.nevents++] = (kura_event){name, json_string_value(v)};
	}
	if (a.bad)
		return kura_error_set(err, KURA_EINPUT, "events are NAME=DATE (YYYY-MM-DD), at most %d: ?event=NAME=DATE, or "
							"\"events\": {NAME: DATE}", EVENTS_MAX);
	a.r.events = a.ev;
	if (!a.r.class_name && !a.r.nevents && !a.r.reason)
		return 0;
	return kura_records_new_fields(fields, call->st, &a.r, err);
}

/* Says in ok whether the new objects are sealed: "sealed", and "sealError" when not. */
static void sealed_or_why(json_t *ok, int rc, const kura_error *err)
{
	json_object_set_new(ok, "sealed", json_boolean(rc == 0));
	if (rc != 0)
		json_object_set_new(ok, "sealError", json_string(err->message));
}

void kura_api_created(kura_api_call *call, json_t *ids)
{
	json_t *ok = json_pack("{s:s, s:O}", "result", "ok", "poId", ids);
	const char *wait = MHD_lookup_connection_value(call->c, MHD_GET_ARGUMENT_KIND, "wait");
	kura_error serr = {0};
	/* stored either way; say whether it is sealed. A route that writes holds the
	 * writer's lock: it is let go while the TSA is asked */
	pthread_mutex_t *lock = call->st == call->writer ? call->wlock : NULL;
	if (ok && wait && strcmp(wait, "sealed") == 0)
		sealed_or_why(ok, kura_scheduler_seal(call->st, lock, NULL, &serr), &serr);
	snprintf(call->object, sizeof call->object, "%s", json_string_value(json_array_get(ids, 0)));
	kura_api_json(call, MHD_HTTP_CREATED, ok);
}

/* A PreservePO between its parsing and its answer: its documents go in the
 * service's group commit (service.c, commit.c). */
struct preserve {
	struct submission *d;
	unsigned char **keep; /* 2 * room: each document's bytes and signature, decoded */
	size_t n, room; /* documents; room for them in d */
	json_t *body;
	json_t *fields; /* records management's (class, events, reason); NULL: none */
	kura_api_meta query; /* the metadata of the query (a document as the body) */
	int wait_sealed;
};

static void preserve_free(struct preserve *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->keep && i < 2 * p->room; i++)
		free(p->keep[i]);
	for (size_t i = 0; p->d && i < p->room; i++)
		kura_signed_clear(&p->d[i].checked);
	kura_api_meta_clear(&p->query);
	free(p->keep);
	free(p->d);
	json_decref(p->body);
	json_decref(p->fields);
	free(p);
}

/* The CRLs of the body ("crls": [BASE64 of a DER CRL]) into crls: kura ingest --crl. */
static int crls_of(STACK_OF(X509_CRL) *crls, json_t *body, kura_error *err)
{
	json_t *list = json_object_get(body, "crls"), *c;
	size_t i;
	if (list && !json_is_array(list))
		return kura_error_set(err, KURA_EINPUT, "crls is a list of CRLs (each the base64 of its DER)");
	json_array_foreach(list, i, c) {
		unsigned char *der = NULL;
		size_t len = 0;
		const unsigned char *q;
		X509_CRL *crl = NULL;
		if (kura_api_base64(&der, &len, c, "crls[]", err) == 0 && (q = der) &&
		    (crl = d2i_X509_CRL(NULL, &q, (long)len)) && !sk_X509_CRL_push(crls, crl)) {
			X509_CRL_free(crl);
			crl = NULL;
		}
		free(der);
		if (!crl)
			return kura_error_set(err, KURA_EINPUT, "crls[%zu] is not a CRL (give the base64 of its DER)", i);
	}
	return 0;
}

/* The detached signatures given, checked as kura ingest --signature checks
 * them, before the commit (collecting revocation data may take a while):
 * with the body's "crls", "allowNoRevocation" and "acceptInvalid" as its
 * --crl, --allow-no-revocation and --accept-invalid. */
static int check_signatures(kura_api_call *call, struct preserve *p, kura_error *err)
{
	kura_signed_options so = {.crls = sk_X509_CRL_new_null(),
				  .allow_no_revocation = json_is_true(json_object_get(p->body, "allowNoRevocation")),
				  .accept_invalid = json_is_true(json_object_get(p->body, "acceptInvalid"))};
	int rc = so.crls ? crls_of(so.crls, p->body, err) : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		struct submission *d = &p->d[i];
		if (d->sig && (rc = kura_signed_prepare_bytes(&d->checked, call->st, d->name, d->bytes, d->len, d->sig,
							      d->siglen, d->sig_name, &so, err)) != 0)
			kura_error_wrap(err, "po[%zu]", i);
	}
	sk_X509_CRL_pop_free(so.crls, X509_CRL_free);
	return rc;
}

/* call->add: the documents into the commit's ingest, all or none. */
static int preserve_add(kura_api_call *call, kura_ingest *in, kura_error *err)
{
	struct preserve *p = call->pending;
	int rc = 0;
	kura_ingest_set_fields(in, p->fields);
	for (size_t i = 0; rc == 0 && i < p->n; i++)
		rc = add_one(in, call, &p->d[i], err);
	kura_ingest_set_fields(in, NULL); /* the commit's other requests have their own */
	return rc;
}

/* call->finish: the IDs, once durable. */
static void preserve_finish(kura_api_call *call, int rc, const kura_error *err, json_t *ids)
{
	struct preserve *p = call->pending;
	json_t *ok = rc == 0 ? json_pack("{s:s, s:O}", "result", "ok", "poId", ids) : NULL;
	kura_error serr = {0};
	if (ok && p->wait_sealed) { /* stored either way; say whether it is sealed */
		pthread_mutex_lock(call->wlock);
		int sealed = kura_scheduler_seal(call->writer, call->wlock, NULL, &serr);
		pthread_mutex_unlock(call->wlock);
		sealed_or_why(ok, sealed, &serr);
	}
	if (rc == 0)
		kura_api_json(call, MHD_HTTP_CREATED, ok);
	else
		kura_api_fail(call, err);
	preserve_free(p);
	call->pending = NULL;
}

/* The document of the body, named by the query (as the JSON form, refused rather than cut). */
static int from_query(kura_api_call *call, struct preserve *p, kura_error *err)
{
	struct submission *d = &p->d[0];
	*d = (struct submission){.bytes = call->body, .len = call->n};
	p->n = 1;
	int rc = kura_api_query_arg(&d->name, call, "name", 1, err);
	if (rc == 0 && !d->name)
		rc = kura_error_set(err, KURA_EINPUT, "name the document: ?name=NAME (or send application/json)");
	if (rc == 0)
		rc = kura_api_query_meta(&p->query, call, err);
	memcpy(d->meta, p->query.v, p->query.n * sizeof d->meta[0]);
	d->nmeta = p->query.n;
	return rc;
}

void kura_api_preserve(kura_api_call *call)
{
	const char *type = MHD_lookup_connection_value(call->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *wait = MHD_lookup_connection_value(call->c, MHD_GET_ARGUMENT_KIND, "wait");
	int json = type && strncmp(type, "application/json", 16) == 0;
	struct preserve *p = calloc(1, sizeof *p);
	json_t *body = json && p ? json_loadb((const char *)call->body, call->n, JSON_REJECT_DUPLICATES, NULL) : NULL;
	size_t room = json_array_size(json_object_get(body, "po")); /* from_json refuses more than PRESERVE_MAX */
	room = room < 1 ? 1 : room > PRESERVE_MAX ? PRESERVE_MAX : room;
	struct submission *d = p ? (p->d = calloc(room, sizeof *d)) : NULL;
	unsigned char **keep = p ? (p->keep = calloc(2 * room, sizeof *keep)) : NULL;
	kura_error err = {0};
	int rc = d && keep ? 0 : kura_error_set(&err, KURA_EINTERNAL, "out of memory");
	if (p)
		p->room = room;
	if (rc == 0 && json) {
		if (!(p->body = body))
			rc = kura_error_set(&err, KURA_EINPUT, "the body is not JSON");
		else
			rc = from_json(d, &p->n, PRESERVE_MAX, keep, p->body, &err); /* room: all of them */
		body = NULL;
	} else if (rc == 0) { /* the document itself, named by ?name=, metadata ?meta=KEY=VALUE */
		rc = from_query(call, p, &err);
	}
	if (rc == 0)
		rc = retention_fields(&p->fields, call, p->body, &err);
	if (rc == 0 && p->body)
		rc = check_signatures(call, p, &err);
	json_decref(body);
	if (rc == KURA_EVERIFY) { /* a signature that is not valid: refused as bad input */
		kura_api_error(call, MHD_HTTP_BAD_REQUEST, "%s", err.message);
		preserve_free(p);
		return;
	}
	if (rc != 0) {
		kura_api_fail(call, &err);
		preserve_free(p);
		return;
	}
	p->wait_sealed = wait && strcmp(wait, "sealed") == 0;
	call->status = MHD_HTTP_CREATED; /* if the commit goes well */
	call->pending = p;
	call->add = preserve_add;
	call->finish = preserve_finish;
}

/* ---------------------------------------------------------------- RetrievePO */

struct buffer {
	unsigned char *p;
	size_t n, cap;
};

static int append(void *ud, const unsigned char *p, size_t n, kura_error *err)
{
	struct buffer *b = ud;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		while (cap < b->n + n)
			cap *= 2;
		unsigned char *q = realloc(b->p, cap);
		if (!q)
			return kura_error_set(err, KURA_EINTERNAL, "out of memory");
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return 0;
}

int kura_api_read(unsigned char **out, size_t *len, kura_api_call *call, const char *id, kura_error *err)
{
	struct buffer b = {0};
	*out = NULL;
	*len = 0;
	if (kura_store_read(call->st, id, append, &b, err) != 0) {
		free(b.p);
		return err->code ? err->code : KURA_EIO;
	}
	if (!(*out = b.p ? b.p : malloc(1)))
		return kura_error_set(err, KURA_EINTERNAL, "out of memory");
	*len = b.n;
	return 0;
}

void kura_api_retrieve(kura_api_call *call)
{
	json_t *o = kura_api_visible(call);
	unsigned char *bytes = NULL;
	size_t len = 0;
	kura_error err = {0};
	if (!o)
		return;
	if (kura_api_read(&bytes, &len, call, call->id, &err) != 0) {
		kura_api_fail(call, &err); /* damaged bytes are never handed out */
	} else {
		kura_api_bytes(call, MHD_HTTP_OK, bytes, len, "application/octet-stream");
	}
	json_decref(o);
}

void kura_api_retrieve_evidence(kura_api_call *call)
{
	json_t *o = kura_api_visible(call);
	unsigned char *der = NULL;
	size_t len = 0;
	kura_evidence_cache *cache = NULL;
	kura_error err = {0};
	if (!o)
		return;
	int rc = kura_evidence_cache_new(&cache, &err);
	if (rc == 0)
		rc = kura_object_evidence(&der, &len, call->st, call->id, cache, &err);
	kura_evidence_cache_free(cache);
	if (rc == KURA_ENOTFOUND)
		kura_api_error(call, MHD_HTTP_NOT_FOUND, "object %s is not sealed yet: its evidence record comes with "
							 "its time-stamp", call->id);
	else if (rc != 0)
		kura_api_fail(call, &err);
	else {
		kura_api_bytes(call, MHD_HTTP_OK, der, len, "application/octet-stream");
	}
	json_decref(o);
}

void kura_api_describe(kura_api_call *call)
{
	json_t *o = kura_api_visible(call);
	if (o)
		kura_api_json(call, MHD_HTTP_OK, o);
}

/* ---------------------------------------------------------------- Search */

int kura_api_where(json_t **out, kura_api_call *call, json_t *where, kura_error *err)
{
	json_t *hits = json_array(), *w;
	size_t i, n = json_array_size(where), nids = 0;
	kura_where *conds = calloc(n + 1, sizeof *conds);
	char *ids = NULL;
	int rc = conds && hits ? 0 : kura_error_set(err, KURA_EINTERNAL, "out of memory");
	*out = NULL;
	if (rc == 0 && (!json_is_array(where) || n == 0))
		rc = kura_error_set(err, KURA_EINPUT, "\"where\" is [\"FIELD OP VALUE\", ...] (ANDed)");
	json_array_foreach(where, i, w)
		if (rc == 0)
			rc = json_is_string(w) ? kura_where_parse(&conds[i], json_string_value(w), err)
					       : kura_error_set(err, KURA_EINPUT, "where[%zu] is not a string", i);
	kura_query q = {.where = conds, .n = n};
	if (rc == 0)
		rc = kura_search_ids(&ids, &nids, call->st, &q, err);
	for (size_t k = 0; rc == 0 && k < nids; k++) {
		char id[KURA_ID_LEN + 1];
		json_t *o = NULL;
		memcpy(id, ids + k * KURA_ID_LEN, KURA_ID_LEN);
		id[KURA_ID_LEN] = '\0';
		if (kura_store_object(&o, call->st, id, NULL) == 0 && kura_api_sees(call->user, o))
			json_array_append_new(hits, json_string(id));
		json_decref(o);
	}
	for (size_t k = 0; conds && k < n; k++)
		kura_where_clear(&conds[k]);
	free(conds);
	free(ids);
	if (rc == 0)
		*out = hits;
	else
		json_decref(hits);
	return rc;
}

void kura_api_search(kura_api_call *call)
{
	json_t *body = json_loadb((const char *)call->body, call->n, JSON_REJECT_DUPLICATES, NULL), *hits = NULL;
	kura_error err = {0};
	int rc = json_is_object(body) ? kura_api_where(&hits, call, json_object_get(body, "where"), &err)
				      : kura_error_set(&err, KURA_EINPUT, "the body is {\"where\": [\"FIELD OP VALUE\", ...]} (ANDed)");
	if (rc == 0)
		kura_api_json(call, MHD_HTTP_OK, json_pack("{s:o}", "poId", hits));
	else
		kura_api_fail(call, &err);
	json_decref(body);
}

/* ---------------------------------------------------------------- RetrieveTrace */

#define UNSEEN "(not shown: another collection)"

/* 1 if v names an object the account does not see: an ID string, or a
 * description whose "id" is one. */
static int unseen(kura_api_call *call, json_t *v)
{
	json_t *o = NULL;
	const char *id = json_string_value(json_is_object(v) ? json_object_get(v, "id") : v);
	int hidden = id && strlen(id) == KURA_ID_LEN && kura_store_object(&o, call->st, id, NULL) == 0 &&
		     !kura_api_sees(call->user, o);
	json_decref(o);
	return hidden;
}

/* What stands for an object the account does not see: the string UNSEEN, or
 * for a description {"id": UNSEEN}. */
static json_t *unseen_mark(json_t *v)
{
	return json_is_object(v) ? json_pack("{s:s}", "id", UNSEEN) : json_string(UNSEEN);
}

void kura_api_redact(kura_api_call *call, json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;
	if (!call->user->ncollections)
		return;
	json_array_foreach(json_is_array(j) ? j : NULL, i, v)
		if (unseen(call, v))
			json_array_set_new(j, i, unseen_mark(v));
		else
			kura_api_redact(call, v);
	json_object_foreach(json_is_object(j) ? j : NULL, k, v)
		if (unseen(call, v))
			json_object_set_new(j, k, unseen_mark(v));
		else
			kura_api_redact(call, v);
}

void kura_api_retrieve_trace(kura_api_call *call)
{
	json_t *o = kura_api_visible(call), *h = NULL;
	kura_error err = {0};
	if (!o)
		return;
	if (kura_records_history(&h, call->st, call->id, &err) == 0)
		kura_api_redact(call, h);
	if (h)
		kura_api_json(call, MHD_HTTP_OK, h);
	else
		kura_api_fail(call, &err);
	json_decref(o);
}

/* ---------------------------------------------------------------- ValidateEvidence */

/* A memory file holding the bytes of v, strict base64; -1 (err set) if it is not that. */
static int decoded_file(json_t *v, const char *what, kura_error *err)
{
	unsigned char *bytes = NULL;
	size_t len = 0;
	int fd = -1;
	if (kura_api_base64(&bytes, &len, v, what, err) != 0)
		return -1;
	if ((fd = memfd_create(what, MFD_CLOEXEC)) < 0 || (len && write(fd, bytes, len) != (ssize_t)len)) {
		kura_error_sys(err, KURA_EIO, "keeping %s", what);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(bytes);
	return fd;
}

void kura_api_validate(kura_api_call *call)
{
	json_t *body = json_loadb((const char *)call->body, call->n, JSON_REJECT_DUPLICATES, NULL), *report = NULL;
	const char *at = json_string_value(json_object_get(body, "at"));
	kura_error err = {0};
	STACK_OF(X509) *anchors = NULL;
	kura_policy *policy = NULL;
	char data[64], er[64];
	int fd_data = -1, fd_er = -1, rc = 0;
	if (!json_is_object(body))
		rc = kura_error_set(&err, KURA_EINPUT, "the body is {\"data\": BASE64, \"evidenceRecord\": BASE64 (DER), "
							"\"at\": RFC 3339 (optional)}");
	else if ((fd_data = decoded_file(json_object_get(body, "data"), "data", &err)) < 0 ||
		 (fd_er = decoded_file(json_object_get(body, "evidenceRecord"), "evidenceRecord", &err)) < 0)
		rc = err.code;
	if (rc == 0)
		rc = kura_tsa_setup_anchors(&anchors, call->st, &err);
	if (rc == 0)
		rc = kura_store_policy_load(&policy, call->st, &err);
	snprintf(data, sizeof data, "/proc/self/fd/%d", fd_data);
	snprintf(er, sizeof er, "/proc/self/fd/%d", fd_er);
	kura_er_files f = {.data = data, .er = er, .anchors = anchors, .policy = policy, .at = at};
	if (rc == 0)
		rc = kura_er_verify_files(&report, &f, &err);
	if (rc == 0)
		kura_api_json(call, MHD_HTTP_OK, report);
	else
		kura_api_fail(call, &err);
	if (fd_data >= 0)
		close(fd_data);
	if (fd_er >= 0)
		close(fd_er);
	sk_X509_pop_free(anchors, X509_free);
	kura_policy_free(policy);
	json_decref(body);
}
